//! Twin of `floe::messages`: the 7-byte header and the message bodies
//! storage nodes sign, parsed in the contract's order (version, app,
//! epoch; the body parser checks the intent type and ignores trailing
//! bytes).

use floe_core::move_types::Ability::{Copy, Drop};
use floe_core::move_types::{
    MoveField, MovePackage, MoveRole, MoveTypeInfo, MoveTypeKind, MoveVariant, ObjectId, U256Le,
};
use floe_runtime::{NativeError, Value};
use serde::{Deserialize, Serialize};
use sui_sdk_types::TypeTag;

use crate::registry::{AbortCode, FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::ensure;

pub const PROOF_OF_POSSESSION_MSG_TYPE: u8 = 0;
pub const BLOB_CERT_MSG_TYPE: u8 = 1;
pub const INVALID_BLOB_ID_MSG_TYPE: u8 = 2;
pub const INTENT_VERSION: u8 = 0;
pub const APP_ID: u8 = 3;

/// `sui::bcs::EOutOfRange`: a `peel_*` past the end of the bytes.
const BCS_EOUT_OF_RANGE: AbortCode = AbortCode::sui("bcs", "EOutOfRange", 0);

abort_codes! {
    module: "messages",
    EIncorrectAppId = 0,
    EIncorrectEpoch = 1,
    EInvalidMsgType = 2,
    EIncorrectIntentVersion = 3,
    EInvalidBlobPersistenceType = 4,
    ENotDeletable = 5,
    EInvalidKeyLength = 6,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "new_proof_of_possession_msg",
        Vis::Public,
        &[],
        &[
            ("epoch", "u32"),
            ("sui_address", "address"),
            ("bls_key", "vector<u8>"),
        ],
        &["ProofOfPossessionMessage"],
    ),
    FnSig::new(
        "to_bcs",
        Vis::Public,
        &[],
        &[("self", "&ProofOfPossessionMessage")],
        &["vector<u8>"],
    ),
    FnSig::new(
        "verify_proof_of_possession",
        Vis::Public,
        &[],
        &[
            ("self", "&ProofOfPossessionMessage"),
            ("signature", "vector<u8>"),
        ],
        &["bool"],
    ),
    FnSig::new(
        "certify_blob_message",
        Vis::Public,
        &[],
        &[("message", "CertifiedMessage")],
        &["CertifiedBlobMessage"],
    ),
    FnSig::new(
        "invalid_blob_id_message",
        Vis::Public,
        &[],
        &[("message", "CertifiedMessage")],
        &["CertifiedInvalidBlobId"],
    ),
    FnSig::new(
        "deny_list_update_message",
        Vis::Public,
        &[],
        &[("message", "CertifiedMessage")],
        &["DenyListUpdateMessage"],
    ),
    FnSig::new(
        "deny_list_blob_deleted_message",
        Vis::Public,
        &[],
        &[("message", "CertifiedMessage")],
        &["DenyListBlobDeleted"],
    ),
    FnSig::new(
        "protocol_version_message",
        Vis::Public,
        &[],
        &[("message", "CertifiedMessage")],
        &["ProtocolVersionMessage"],
    ),
    FnSig::new(
        "intent_type",
        Vis::Public,
        &[],
        &[("self", "&CertifiedMessage")],
        &["u8"],
    ),
    FnSig::new(
        "intent_version",
        Vis::Public,
        &[],
        &[("self", "&CertifiedMessage")],
        &["u8"],
    ),
    FnSig::new(
        "cert_epoch",
        Vis::Public,
        &[],
        &[("self", "&CertifiedMessage")],
        &["u32"],
    ),
    FnSig::new(
        "stake_support",
        Vis::Public,
        &[],
        &[("self", "&CertifiedMessage")],
        &["u16"],
    ),
    FnSig::new(
        "message",
        Vis::Public,
        &[],
        &[("self", "&CertifiedMessage")],
        &["&vector<u8>"],
    ),
    FnSig::new(
        "certified_blob_epoch",
        Vis::Public,
        &[],
        &[("self", "&CertifiedBlobMessage")],
        &["u32"],
    ),
    FnSig::new(
        "certified_blob_id",
        Vis::Public,
        &[],
        &[("self", "&CertifiedBlobMessage")],
        &["u256"],
    ),
    FnSig::new(
        "blob_persistence_type",
        Vis::Public,
        &[],
        &[("self", "&CertifiedBlobMessage")],
        &["BlobPersistenceType"],
    ),
    FnSig::new(
        "is_deletable",
        Vis::Public,
        &[],
        &[("self", "&BlobPersistenceType")],
        &["bool"],
    ),
    FnSig::new(
        "object_id",
        Vis::Public,
        &[],
        &[("self", "&BlobPersistenceType")],
        &["ID"],
    ),
    FnSig::new(
        "invalid_blob_id",
        Vis::Public,
        &[],
        &[("self", "&CertifiedInvalidBlobId")],
        &["u256"],
    ),
    FnSig::new(
        "invalid_blob_id_epoch",
        Vis::Public,
        &[],
        &[("self", "&CertifiedInvalidBlobId")],
        &["u32"],
    ),
    FnSig::new(
        "storage_node_id",
        Vis::Public,
        &[],
        &[("self", "&DenyListUpdateMessage")],
        &["ID"],
    ),
    FnSig::new(
        "sequence_number",
        Vis::Public,
        &[],
        &[("self", "&DenyListUpdateMessage")],
        &["u64"],
    ),
    FnSig::new(
        "size",
        Vis::Public,
        &[],
        &[("self", "&DenyListUpdateMessage")],
        &["u64"],
    ),
    FnSig::new(
        "root",
        Vis::Public,
        &[],
        &[("self", "&DenyListUpdateMessage")],
        &["u256"],
    ),
    FnSig::new(
        "deny_list_update_epoch",
        Vis::Public,
        &[],
        &[("self", "&DenyListUpdateMessage")],
        &["u32"],
    ),
    FnSig::new(
        "deny_listed_blob_id",
        Vis::Public,
        &[],
        &[("self", "&DenyListBlobDeleted")],
        &["u256"],
    ),
    FnSig::new(
        "deny_listed_blob_epoch",
        Vis::Public,
        &[],
        &[("self", "&DenyListBlobDeleted")],
        &["u32"],
    ),
    FnSig::new(
        "start_epoch",
        Vis::Public,
        &[],
        &[("self", "&ProtocolVersionMessage")],
        &["u32"],
    ),
    FnSig::new(
        "protocol_version",
        Vis::Public,
        &[],
        &[("self", "&ProtocolVersionMessage")],
        &["u64"],
    ),
    FnSig::new(
        "protocol_version_epoch",
        Vis::Public,
        &[],
        &[("self", "&ProtocolVersionMessage")],
        &["u32"],
    ),
];

const fn info(name: &'static str, fields: &'static [MoveField]) -> MoveTypeInfo {
    MoveTypeInfo {
        package: MovePackage::Walrus,
        module: "messages",
        name,
        type_params: &[],
        abilities: &[Drop],
        role: MoveRole::Value,
        kind: MoveTypeKind::Struct(fields),
    }
}

const fn f(name: &'static str, ty: &'static str) -> MoveField {
    MoveField { name, ty }
}

const STRUCTS: &[MoveTypeInfo] = &[
    info(
        "CertifiedMessage",
        &[
            f("intent_type", "u8"),
            f("intent_version", "u8"),
            f("cert_epoch", "u32"),
            f("stake_support", "u16"),
            f("message", "vector<u8>"),
        ],
    ),
    MoveTypeInfo {
        package: MovePackage::Walrus,
        module: "messages",
        name: "BlobPersistenceType",
        type_params: &[],
        abilities: &[Copy, Drop],
        role: MoveRole::Value,
        kind: MoveTypeKind::Enum(&[
            MoveVariant {
                name: "Permanent",
                fields: &[],
            },
            MoveVariant {
                name: "Deletable",
                fields: &[f("object_id", "ID")],
            },
        ]),
    },
    info(
        "CertifiedBlobMessage",
        &[
            f("epoch", "u32"),
            f("blob_id", "u256"),
            f("blob_persistence_type", "BlobPersistenceType"),
        ],
    ),
    info(
        "CertifiedInvalidBlobId",
        &[f("epoch", "u32"), f("blob_id", "u256")],
    ),
    info(
        "DenyListUpdateMessage",
        &[
            f("epoch", "u32"),
            f("storage_node_id", "ID"),
            f("sequence_number", "u64"),
            f("size", "u64"),
            f("root", "u256"),
        ],
    ),
    info(
        "DenyListBlobDeleted",
        &[f("epoch", "u32"), f("blob_id", "u256")],
    ),
    info(
        "ProtocolVersionMessage",
        &[
            f("epoch", "u32"),
            f("start_epoch", "u32"),
            f("protocol_version", "u64"),
        ],
    ),
    info(
        "ProofOfPossessionMessage",
        &[
            f("intent_type", "u8"),
            f("intent_version", "u8"),
            f("intent_app", "u8"),
            f("epoch", "u32"),
            f("sui_address", "address"),
            f("bls_key", "vector<u8>"),
        ],
    ),
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "messages",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// Proofs of possession are plain values a transaction can build. The
/// certified-message types only come out of `bls_aggregate` with a
/// committee reference, which no transaction can hold, so their parsers and
/// accessors are used by the system directly, not from transactions.
fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "new_proof_of_possession_msg" => |c| {
            let msg = new_proof_of_possession_msg(c.arg(0)?, c.arg(1)?, c.arg(2)?)?;
            Ok(vec![crate::util::floe_value(
                "messages",
                "ProofOfPossessionMessage",
                &msg,
            )])
        },
        "to_bcs" => |c| {
            let msg: ProofOfPossessionMessage = c.arg(0)?;
            Ok(vec![Value::new(
                TypeTag::Vector(Box::new(TypeTag::U8)),
                &msg.to_bcs(),
            )])
        },
        "verify_proof_of_possession" => |c| {
            let msg: ProofOfPossessionMessage = c.arg(0)?;
            let signature: Vec<u8> = c.arg(1)?;
            Ok(vec![Value::bool(msg.verify(&signature))])
        },
        _ => return None,
    };
    Some(f)
}

/// `ProofOfPossessionMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofOfPossessionMessage {
    pub intent_type: u8,
    pub intent_version: u8,
    pub intent_app: u8,
    pub epoch: u32,
    pub sui_address: ObjectId,
    pub bls_key: Vec<u8>,
}

/// Length of a compressed BLS12-381 G1 public key.
pub const BLS_KEY_LEN: usize = 48;

/// `new_proof_of_possession_msg`: aborts `EInvalidKeyLength` unless the
/// key has 48 bytes.
pub fn new_proof_of_possession_msg(
    epoch: u32,
    sui_address: ObjectId,
    bls_key: Vec<u8>,
) -> Result<ProofOfPossessionMessage, NativeError> {
    ensure(bls_key.len() == BLS_KEY_LEN, EInvalidKeyLength)?;
    Ok(ProofOfPossessionMessage {
        intent_type: PROOF_OF_POSSESSION_MSG_TYPE,
        intent_version: INTENT_VERSION,
        intent_app: APP_ID,
        epoch,
        sui_address,
        bls_key,
    })
}

impl ProofOfPossessionMessage {
    /// `to_bcs`: header, epoch (LE), address, key without length prefix.
    pub fn to_bcs(&self) -> Vec<u8> {
        let mut bytes = vec![self.intent_type, self.intent_version, self.intent_app];
        bytes.extend_from_slice(&self.epoch.to_le_bytes());
        bytes.extend_from_slice(&self.sui_address.0);
        bytes.extend_from_slice(&self.bls_key);
        bytes
    }

    /// `verify_proof_of_possession`: the signature over [`Self::to_bcs`]
    /// by the message's own key; false for any malformed key or signature.
    pub fn verify(&self, signature: &[u8]) -> bool {
        let (Ok(key), Ok(signature)) = (
            floe_core::bls::BlsPublicKey::from_bytes(&self.bls_key),
            floe_core::bls::BlsSignature::from_bytes(signature),
        ) else {
            return false;
        };
        key.verify(&self.to_bcs(), &signature).is_ok()
    }
}

/// A header-checked certified message (`CertifiedMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedMessage {
    pub intent_type: u8,
    pub intent_version: u8,
    pub cert_epoch: u32,
    pub stake_support: u16,
    pub message: Vec<u8>,
}

/// `BlobPersistenceType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobPersistenceType {
    Permanent,
    Deletable { object_id: ObjectId },
}

/// `CertifiedBlobMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertifiedBlobMessage {
    pub epoch: u32,
    pub blob_id: U256Le,
    pub blob_persistence_type: BlobPersistenceType,
}

/// A `sui::bcs` reader: every peel past the end aborts like Move's.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], NativeError> {
        let end = self.at.checked_add(n).ok_or(BCS_EOUT_OF_RANGE.err())?;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or(BCS_EOUT_OF_RANGE.err())?;
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, NativeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, NativeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bytes32(&mut self) -> Result<[u8; 32], NativeError> {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.take(32)?);
        Ok(out)
    }

    fn rest(&self) -> Vec<u8> {
        self.bytes.get(self.at..).unwrap_or_default().to_vec()
    }
}

/// `new_certified_message`: checks version, app and epoch, in that order.
pub fn new_certified_message(
    message_bytes: &[u8],
    committee_epoch: u32,
    stake_support: u16,
) -> Result<CertifiedMessage, NativeError> {
    let mut reader = Reader {
        bytes: message_bytes,
        at: 0,
    };
    let intent_type = reader.u8()?;
    let intent_version = reader.u8()?;
    ensure(intent_version == INTENT_VERSION, EIncorrectIntentVersion)?;
    let intent_app = reader.u8()?;
    ensure(intent_app == APP_ID, EIncorrectAppId)?;
    let cert_epoch = reader.u32()?;
    ensure(cert_epoch == committee_epoch, EIncorrectEpoch)?;
    Ok(CertifiedMessage {
        intent_type,
        intent_version,
        cert_epoch,
        stake_support,
        message: reader.rest(),
    })
}

/// `certify_blob_message`: a BLOB_CERT body.
pub fn certify_blob_message(
    message: CertifiedMessage,
) -> Result<CertifiedBlobMessage, NativeError> {
    ensure(message.intent_type == BLOB_CERT_MSG_TYPE, EInvalidMsgType)?;
    let mut reader = Reader {
        bytes: &message.message,
        at: 0,
    };
    let blob_id = U256Le(reader.bytes32()?);
    let tag = reader.u8()?;
    let blob_persistence_type = if tag == 0 {
        BlobPersistenceType::Permanent
    } else {
        ensure(tag == 1, EInvalidBlobPersistenceType)?;
        BlobPersistenceType::Deletable {
            object_id: ObjectId(reader.bytes32()?),
        }
    };
    Ok(CertifiedBlobMessage {
        epoch: message.cert_epoch,
        blob_id,
        blob_persistence_type,
    })
}

/// `invalid_blob_id_message`: an INVALID_BLOB_ID body; returns the blob id.
pub fn invalid_blob_id_message(message: CertifiedMessage) -> Result<U256Le, NativeError> {
    ensure(
        message.intent_type == INVALID_BLOB_ID_MSG_TYPE,
        EInvalidMsgType,
    )?;
    let mut reader = Reader {
        bytes: &message.message,
        at: 0,
    };
    Ok(U256Le(reader.bytes32()?))
}

impl BlobPersistenceType {
    /// `is_deletable`.
    pub fn is_deletable(&self) -> bool {
        matches!(self, BlobPersistenceType::Deletable { .. })
    }

    /// `object_id`; aborts with `ENotDeletable` for `Permanent`.
    pub fn object_id(&self) -> Result<ObjectId, NativeError> {
        match self {
            BlobPersistenceType::Permanent => Err(ENotDeletable.err()),
            BlobPersistenceType::Deletable { object_id } => Ok(*object_id),
        }
    }
}
