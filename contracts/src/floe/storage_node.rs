//! Twin of `floe::storage_node`: a node's public record (kept in its
//! pool) and the operator's `StorageNodeCap`.

use floe_core::bls::BlsPublicKey;
use floe_core::move_types::{
    Element, MoveType, MoveTypeInfo, NodeMetadata, ObjectId, StorageNodeCap, StorageNodeInfo,
    U256Le,
};
use floe_runtime::{NativeError, Runtime, Value};
use sui_sdk_types::TypeTag;

use crate::floe::{extended_field, node_metadata};
use crate::registry::{AbortCode, FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure, floe_value, new_id, to_address};

/// Length of a network public key (compressed secp256r1).
pub const NETWORK_PUBLIC_KEY_LENGTH: usize = 33;

abort_codes! {
    module: "storage_node",
    EInvalidNetworkPublicKey = 0,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "name",
        Vis::Public,
        &[],
        &[("self", "&StorageNodeInfo")],
        &["String"],
    ),
    FnSig::new(
        "id",
        Vis::Public,
        &[],
        &[("self", "&StorageNodeInfo")],
        &["ID"],
    ),
    FnSig::new(
        "network_address",
        Vis::Public,
        &[],
        &[("self", "&StorageNodeInfo")],
        &["String"],
    ),
    FnSig::new(
        "public_key",
        Vis::Public,
        &[],
        &[("self", "&StorageNodeInfo")],
        &["&Element<G1>"],
    ),
    FnSig::new(
        "next_epoch_public_key",
        Vis::Public,
        &[],
        &[("self", "&StorageNodeInfo")],
        &["&Element<G1>"],
    ),
    FnSig::new(
        "network_public_key",
        Vis::Public,
        &[],
        &[("self", "&StorageNodeInfo")],
        &["&vector<u8>"],
    ),
    FnSig::new(
        "node_id",
        Vis::Public,
        &[],
        &[("cap", "&StorageNodeCap")],
        &["ID"],
    ),
    FnSig::new(
        "last_epoch_sync_done",
        Vis::Public,
        &[],
        &[("cap", "&StorageNodeCap")],
        &["u32"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[StorageNodeInfo::INFO, StorageNodeCap::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "storage_node",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// The cap's readers are callable (a transaction holds the cap); the
/// record lives inside a pool, so its readers are not.
fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "node_id" => |c| {
            let cap: StorageNodeCap = arg(c, 0)?;
            Ok(vec![crate::util::id_value(cap.node_id)])
        },
        "last_epoch_sync_done" => |c| {
            let cap: StorageNodeCap = arg(c, 0)?;
            Ok(vec![Value::new(TypeTag::U32, &cap.last_epoch_sync_done)])
        },
        _ => return None,
    };
    Some(f)
}

/// `sui::group_ops::EInvalidInput`, raised by `g1_from_bytes`.
const BLS12381_EINVALID_INPUT: AbortCode = AbortCode::sui("group_ops", "EInvalidInput", 1);

/// `new`: a node record; the metadata goes into a fresh `ExtendedField`.
/// Aborts like `bls12381::g1_from_bytes` on a bad key.
pub fn new(
    rt: &mut Runtime<'_>,
    name: String,
    node_id: ObjectId,
    network_address: String,
    public_key: &[u8],
    network_public_key: Vec<u8>,
    metadata: &NodeMetadata,
) -> Result<StorageNodeInfo, NativeError> {
    let key = BlsPublicKey::from_bytes(public_key).map_err(|_| BLS12381_EINVALID_INPUT.err())?;
    let field = new_id(rt)?;
    rt.df_add(
        to_address(field),
        extended_field::key(),
        node_metadata::metadata_value(metadata),
    )?;
    Ok(StorageNodeInfo {
        name,
        node_id,
        network_address,
        public_key: Element {
            bytes: key.to_bytes().to_vec(),
        },
        next_epoch_public_key: None,
        network_public_key,
        metadata: floe_core::move_types::ExtendedField { id: field },
    })
}

/// `new_cap`.
pub fn new_cap(
    rt: &mut Runtime<'_>,
    node_id: ObjectId,
    last_epoch_sync_done: u32,
) -> Result<StorageNodeCap, NativeError> {
    Ok(StorageNodeCap {
        id: new_id(rt)?,
        node_id,
        last_epoch_sync_done,
        last_event_blob_attestation: None,
        deny_list_root: U256Le::default(),
        deny_list_sequence: 0,
        deny_list_size: 0,
    })
}

/// The `ExtendedField<NodeMetadata>` value type.
fn metadata_type() -> TypeTag {
    crate::util::floe_tag("node_metadata", "NodeMetadata", vec![]).into()
}

/// `check_network_public_key`: 33 bytes.
pub fn check_network_public_key(network_public_key: &[u8]) -> Result<(), NativeError> {
    ensure(
        network_public_key.len() == NETWORK_PUBLIC_KEY_LENGTH,
        EInvalidNetworkPublicKey,
    )
}

/// `metadata`.
pub fn metadata(rt: &mut Runtime<'_>, info: &StorageNodeInfo) -> Result<NodeMetadata, NativeError> {
    rt.df_get(
        to_address(info.metadata.id),
        &extended_field::key(),
        &metadata_type(),
    )
}

/// `set_next_public_key`: aborts like `g1_from_bytes` on a bad key.
pub fn set_next_public_key(
    info: &mut StorageNodeInfo,
    public_key: &[u8],
) -> Result<(), NativeError> {
    let key = BlsPublicKey::from_bytes(public_key).map_err(|_| BLS12381_EINVALID_INPUT.err())?;
    info.next_epoch_public_key = Some(Element {
        bytes: key.to_bytes().to_vec(),
    });
    Ok(())
}

/// `set_network_public_key`: 33 bytes.
pub fn set_network_public_key(
    info: &mut StorageNodeInfo,
    network_public_key: Vec<u8>,
) -> Result<(), NativeError> {
    check_network_public_key(&network_public_key)?;
    info.network_public_key = network_public_key;
    Ok(())
}

/// `set_node_metadata`: swaps the extended field's value.
pub fn set_node_metadata(
    rt: &mut Runtime<'_>,
    info: &StorageNodeInfo,
    metadata: &NodeMetadata,
) -> Result<(), NativeError> {
    rt.df_set(
        to_address(info.metadata.id),
        &extended_field::key(),
        node_metadata::metadata_value(metadata),
    )
}

/// `next_epoch_public_key`: the key from the next epoch on.
pub fn next_epoch_public_key(info: &StorageNodeInfo) -> &Element {
    info.next_epoch_public_key
        .as_ref()
        .unwrap_or(&info.public_key)
}

/// `rotate_public_key`.
pub fn rotate_public_key(info: &mut StorageNodeInfo) {
    if let Some(key) = info.next_epoch_public_key.take() {
        info.public_key = key;
    }
}

/// A `StorageNodeCap` value.
pub fn cap_value(cap: &StorageNodeCap) -> Value {
    floe_value("storage_node", "StorageNodeCap", cap)
}
