//! Twin of `floe::bls_aggregate`: the committee and certificate checks.
//! Verification is `floe_core::committee::Committee::verify_bitmap`, which
//! mirrors the Move code step by step (bitmap, non-signers, threshold
//! before pairing); its errors map to this module's abort codes.

use floe_core::bls::{BlsPublicKey, BlsSignature};
use floe_core::committee::{CertificateError, Committee, CommitteeMember, RequiredWeight};
use floe_core::move_types::{
    BlsCommittee, BlsCommitteeMember, Element, MoveType, MoveTypeInfo, ObjectId,
};
use floe_runtime::NativeError;

use crate::floe::messages::{self, CertifiedMessage};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::ensure;

abort_codes! {
    module: "bls_aggregate",
    EInvalidBitmap = 0,
    ESigVerification = 1,
    ENotEnoughStake = 2,
    EIncorrectCommittee = 3,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "epoch",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee")],
        &["u32"],
    ),
    FnSig::new(
        "n_shards",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee")],
        &["u16"],
    ),
    FnSig::new(
        "n_members",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee")],
        &["u64"],
    ),
    FnSig::new(
        "members",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee")],
        &["&vector<BlsCommitteeMember>"],
    ),
    FnSig::new(
        "total_aggregated_key",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee")],
        &["&Element<G1>"],
    ),
    FnSig::new(
        "member_public_key",
        Vis::Public,
        &[],
        &[("member", "&BlsCommitteeMember")],
        &["&Element<UncompressedG1>"],
    ),
    FnSig::new(
        "member_weight",
        Vis::Public,
        &[],
        &[("member", "&BlsCommitteeMember")],
        &["u16"],
    ),
    FnSig::new(
        "member_node_id",
        Vis::Public,
        &[],
        &[("member", "&BlsCommitteeMember")],
        &["ID"],
    ),
    FnSig::new(
        "find_index",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee"), ("node_id", "&ID")],
        &["Option<u64>"],
    ),
    FnSig::new(
        "contains",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee"), ("node_id", "&ID")],
        &["bool"],
    ),
    FnSig::new(
        "get_member_weight",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee"), ("node_id", "&ID")],
        &["u16"],
    ),
    FnSig::new(
        "to_vec_map",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee")],
        &["VecMap<ID, u16>"],
    ),
    FnSig::new(
        "is_quorum",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee"), ("weight", "u16")],
        &["bool"],
    ),
    FnSig::new(
        "includes_one_correct_node",
        Vis::Public,
        &[],
        &[("self", "&BlsCommittee"), ("weight", "u16")],
        &["bool"],
    ),
    FnSig::new(
        "verify_quorum_in_epoch",
        Vis::Public,
        &[],
        &[
            ("self", "&BlsCommittee"),
            ("signature", "vector<u8>"),
            ("signers_bitmap", "vector<u8>"),
            ("message", "vector<u8>"),
        ],
        &["CertifiedMessage"],
    ),
    FnSig::new(
        "verify_one_correct_node_in_epoch",
        Vis::Public,
        &[],
        &[
            ("self", "&BlsCommittee"),
            ("signature", "vector<u8>"),
            ("signers_bitmap", "vector<u8>"),
            ("message", "vector<u8>"),
        ],
        &["CertifiedMessage"],
    ),
    FnSig::new(
        "verify_certificate_and_weight",
        Vis::Public,
        &[],
        &[
            ("self", "&BlsCommittee"),
            ("signature", "&vector<u8>"),
            ("signers_bitmap", "&vector<u8>"),
            ("message", "&vector<u8>"),
            ("require_quorum", "bool"),
        ],
        &["u16"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[BlsCommitteeMember::INFO, BlsCommittee::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "bls_aggregate",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// A committee is only reachable by reference through `System`, so nothing
/// here is callable from a transaction.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `new_bls_committee` from compressed keys: members keep the given order
/// (ascending node ids, checked by the caller), keys are stored
/// uncompressed (96 bytes) and the total key compressed (48 bytes), as
/// Move's `Element<UncompressedG1>` / `Element<G1>` hold them.
pub fn new_bls_committee(
    epoch: u32,
    members: &[(ObjectId, BlsPublicKey, u16)],
) -> Result<BlsCommittee, NativeError> {
    let mut out = Vec::with_capacity(members.len());
    let mut n_shards: u16 = 0;
    for (node_id, key, weight) in members {
        ensure(*weight > 0, EIncorrectCommittee)?;
        n_shards = n_shards
            .checked_add(*weight)
            .ok_or_else(crate::util::arithmetic)?;
        out.push(BlsCommitteeMember {
            public_key: Element {
                bytes: key.to_uncompressed().to_vec(),
            },
            weight: *weight,
            node_id: *node_id,
        });
    }
    let total = if members.is_empty() {
        // `bls12381::g1_identity()`, compressed.
        let mut identity = vec![0u8; 48];
        identity[0] = 0xc0;
        identity
    } else {
        let committee = Committee::new(
            epoch,
            members
                .iter()
                .map(|(node_id, public_key, weight)| CommitteeMember {
                    node_id: *node_id,
                    public_key: *public_key,
                    weight: *weight,
                })
                .collect(),
        )
        .map_err(|e| NativeError::Invariant(format!("committee: {e}")))?;
        committee
            .total_aggregated_key()
            .map(|k| k.to_bytes().to_vec())
            .ok_or_else(|| NativeError::Invariant("committee without total key".into()))?
    };
    Ok(BlsCommittee {
        members: out,
        n_shards,
        epoch,
        total_aggregated_key: Element { bytes: total },
    })
}

/// `verify_certificate_and_weight`: returns the signers' weight.
pub fn verify_certificate_and_weight(
    committee: &BlsCommittee,
    signature: &[u8],
    signers_bitmap: &[u8],
    message: &[u8],
    require_quorum: bool,
) -> Result<u16, NativeError> {
    let verifier = Committee::from_move(committee)
        .map_err(|e| NativeError::Invariant(format!("stored committee: {e}")))?;
    let required = if require_quorum {
        RequiredWeight::Quorum
    } else {
        RequiredWeight::Validity
    };
    // A malformed signature is one that does not verify, as in Move.
    let signature = BlsSignature::from_bytes(signature);
    let dummy = BlsSignature([0u8; floe_core::bls::SIGNATURE_LENGTH]);
    let result = verifier.verify_bitmap(
        signature.as_ref().unwrap_or(&dummy),
        signers_bitmap,
        message,
        required,
    );
    match result {
        Ok(weight) if signature.is_ok() => Ok(weight),
        Ok(_) => Err(ESigVerification.err()),
        Err(CertificateError::BitmapTooLong { .. } | CertificateError::BitPastMembers { .. }) => {
            Err(EInvalidBitmap.err())
        }
        Err(CertificateError::NotEnoughWeight { .. }) => Err(ENotEnoughStake.err()),
        Err(_) => Err(ESigVerification.err()),
    }
}

/// `verify_quorum_in_epoch`.
pub fn verify_quorum_in_epoch(
    committee: &BlsCommittee,
    signature: &[u8],
    signers_bitmap: &[u8],
    message: &[u8],
) -> Result<CertifiedMessage, NativeError> {
    let stake = verify_certificate_and_weight(committee, signature, signers_bitmap, message, true)?;
    messages::new_certified_message(message, committee.epoch, stake)
}

/// `verify_one_correct_node_in_epoch`.
pub fn verify_one_correct_node_in_epoch(
    committee: &BlsCommittee,
    signature: &[u8],
    signers_bitmap: &[u8],
    message: &[u8],
) -> Result<CertifiedMessage, NativeError> {
    let stake =
        verify_certificate_and_weight(committee, signature, signers_bitmap, message, false)?;
    messages::new_certified_message(message, committee.epoch, stake)
}
