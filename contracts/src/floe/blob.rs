//! Twin of `floe::blob`: registration checks, certification, extension,
//! deletion, burning and attributes (dynamic field `b"metadata"`).

use floe_core::merkle::blake2b256;
use floe_core::move_types::{
    Blob, BlobCertified, BlobDeleted, BlobIdDerivation, BlobRegistered, Metadata, MoveType,
    MoveTypeInfo, Storage, U256Le,
};
use floe_runtime::{Call, NativeError, Runtime, Value};
use sui_sdk_types::TypeTag;

use crate::floe::messages::CertifiedBlobMessage;
use crate::floe::{encoding, events, metadata, storage_resource};
use crate::registry::{AbortCode, FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure, floe_tag, floe_value, id_value, option_tag, set, to_address, u256};

/// Name of the attributes dynamic field.
pub const METADATA_DF: &[u8] = b"metadata";

abort_codes! {
    module: "blob",
    ENotCertified = 0,
    EBlobNotDeletable = 1,
    EResourceBounds = 2,
    EResourceSize = 3,
    EAlreadyCertified = 5,
    EInvalidBlobId = 6,
    EDuplicateMetadata = 7,
    EMissingMetadata = 8,
    EInvalidBlobPersistenceType = 9,
    EInvalidBlobObject = 10,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new("object_id", Vis::Public, &[], &[("self", "&Blob")], &["ID"]),
    FnSig::new(
        "registered_epoch",
        Vis::Public,
        &[],
        &[("self", "&Blob")],
        &["u32"],
    ),
    FnSig::new("blob_id", Vis::Public, &[], &[("self", "&Blob")], &["u256"]),
    FnSig::new("size", Vis::Public, &[], &[("self", "&Blob")], &["u64"]),
    FnSig::new(
        "encoding_type",
        Vis::Public,
        &[],
        &[("self", "&Blob")],
        &["u8"],
    ),
    FnSig::new(
        "certified_epoch",
        Vis::Public,
        &[],
        &[("self", "&Blob")],
        &["&Option<u32>"],
    ),
    FnSig::new(
        "storage",
        Vis::Public,
        &[],
        &[("self", "&Blob")],
        &["&Storage"],
    ),
    FnSig::new(
        "is_deletable",
        Vis::Public,
        &[],
        &[("self", "&Blob")],
        &["bool"],
    ),
    FnSig::new(
        "end_epoch",
        Vis::Public,
        &[],
        &[("self", "&Blob")],
        &["u32"],
    ),
    FnSig::new(
        "encoded_size",
        Vis::Public,
        &[],
        &[("self", "&Blob"), ("n_shards", "u16")],
        &["u64"],
    ),
    FnSig::new(
        "derive_blob_id",
        Vis::Public,
        &[],
        &[
            ("root_hash", "u256"),
            ("encoding_type", "u8"),
            ("size", "u64"),
        ],
        &["u256"],
    ),
    FnSig::new("burn", Vis::Public, &[], &[("self", "Blob")], &[]),
    FnSig::new(
        "add_metadata",
        Vis::Public,
        &[],
        &[("self", "&mut Blob"), ("metadata", "Metadata")],
        &[],
    ),
    FnSig::new(
        "add_or_replace_metadata",
        Vis::Public,
        &[],
        &[("self", "&mut Blob"), ("metadata", "Metadata")],
        &["Option<Metadata>"],
    ),
    FnSig::new(
        "take_metadata",
        Vis::Public,
        &[],
        &[("self", "&mut Blob")],
        &["Metadata"],
    ),
    FnSig::new(
        "insert_or_update_metadata_pair",
        Vis::Public,
        &[],
        &[
            ("self", "&mut Blob"),
            ("key", "String"),
            ("value", "String"),
        ],
        &[],
    ),
    FnSig::new(
        "remove_metadata_pair",
        Vis::Public,
        &[],
        &[("self", "&mut Blob"), ("key", "&String")],
        &["String", "String"],
    ),
    FnSig::new(
        "remove_metadata_pair_if_exists",
        Vis::Public,
        &[],
        &[("self", "&mut Blob"), ("key", "&String")],
        &["Option<String>"],
    ),
    FnSig::new(
        "has_metadata",
        Vis::Public,
        &[],
        &[("self", "&Blob")],
        &["bool"],
    ),
    FnSig::new(
        "borrow_metadata",
        Vis::Public,
        &[],
        &[("self", "&Blob")],
        &["&Metadata"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[Blob::INFO, BlobIdDerivation::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "blob",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn u32v(v: u32) -> Value {
    Value::new(TypeTag::U32, &v)
}

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "object_id" => |c| Ok(vec![id_value(arg::<Blob>(c, 0)?.id)]),
        "registered_epoch" => |c| Ok(vec![u32v(arg::<Blob>(c, 0)?.registered_epoch)]),
        "blob_id" => |c| Ok(vec![u256(arg::<Blob>(c, 0)?.blob_id)]),
        "size" => |c| Ok(vec![Value::u64(arg::<Blob>(c, 0)?.size)]),
        "encoding_type" => |c| {
            Ok(vec![Value::new(
                TypeTag::U8,
                &arg::<Blob>(c, 0)?.encoding_type,
            )])
        },
        "is_deletable" => |c| Ok(vec![Value::bool(arg::<Blob>(c, 0)?.deletable)]),
        "end_epoch" => |c| Ok(vec![u32v(arg::<Blob>(c, 0)?.storage.end_epoch)]),
        "encoded_size" => |c| {
            let blob: Blob = arg(c, 0)?;
            let n: u16 = arg(c, 1)?;
            Ok(vec![Value::u64(encoding::encoded_blob_length(
                blob.size,
                blob.encoding_type,
                n,
            )?)])
        },
        "derive_blob_id" => |c| {
            Ok(vec![u256(derive_blob_id(
                arg(c, 0)?,
                arg(c, 1)?,
                arg(c, 2)?,
            ))])
        },
        "burn" => |c| {
            let blob: Blob = arg(c, 0)?;
            burn(c.rt, blob)?;
            Ok(vec![])
        },
        "add_metadata" => |c| {
            let blob: Blob = arg(c, 0)?;
            let m: Metadata = arg(c, 1)?;
            add_metadata(c.rt, &blob, m)?;
            Ok(vec![])
        },
        "add_or_replace_metadata" => |c| {
            let blob: Blob = arg(c, 0)?;
            let m: Metadata = arg(c, 1)?;
            let old = take_metadata_if_any(c.rt, &blob)?;
            add_metadata(c.rt, &blob, m)?;
            let ty = option_tag(floe_tag("metadata", "Metadata", vec![]).into());
            Ok(vec![Value::new(ty, &old)])
        },
        "take_metadata" => |c| {
            let blob: Blob = arg(c, 0)?;
            let m = take_metadata_if_any(c.rt, &blob)?.ok_or(EMissingMetadata.err())?;
            Ok(vec![metadata::metadata_value(&m)])
        },
        "insert_or_update_metadata_pair" => |c| {
            let blob: Blob = arg(c, 0)?;
            let (key, value): (String, String) = (arg(c, 1)?, arg(c, 2)?);
            let mut m = take_metadata_if_any(c.rt, &blob)?.unwrap_or_else(metadata::new);
            metadata::insert_or_update(&mut m, key, value)?;
            add_metadata(c.rt, &blob, m)?;
            Ok(vec![])
        },
        "remove_metadata_pair" => |c| {
            let blob: Blob = arg(c, 0)?;
            let key: String = arg(c, 1)?;
            let mut m = borrow_metadata(c.rt, &blob)?;
            let (k, v) = metadata::remove(&mut m, &key)?;
            set_metadata(c.rt, &blob, &m)?;
            Ok(vec![metadata::string(&k), metadata::string(&v)])
        },
        "remove_metadata_pair_if_exists" => |c| {
            let blob: Blob = arg(c, 0)?;
            let key: String = arg(c, 1)?;
            let value = if has_metadata(c.rt, &blob) {
                let mut m = borrow_metadata(c.rt, &blob)?;
                let v = metadata::remove_if_exists(&mut m, &key);
                set_metadata(c.rt, &blob, &m)?;
                v
            } else {
                None
            };
            Ok(vec![Value::new(
                option_tag(crate::util::string_tag()),
                &value,
            )])
        },
        "has_metadata" => |c| {
            let blob: Blob = arg(c, 0)?;
            Ok(vec![Value::bool(has_metadata(c.rt, &blob))])
        },
        _ => return None,
    };
    Some(f)
}

/// A `Blob` value.
pub fn blob_value(b: &Blob) -> Value {
    floe_value("blob", "Blob", b)
}

/// `derive_blob_id`: blake2b-256 of BCS `{encoding_type, size, root_hash}`,
/// read back as a little-endian u256 (i.e. the digest bytes).
pub fn derive_blob_id(root_hash: U256Le, encoding_type: u8, size: u64) -> U256Le {
    let derivation = BlobIdDerivation {
        encoding_type,
        size,
        root_hash,
    };
    // BCS of plain integers and bytes cannot fail.
    let bytes = bcs::to_bytes(&derivation).unwrap_or_default();
    U256Le(blake2b256(&bytes))
}

/// `new`: checks bounds, encoded size and blob id; emits `BlobRegistered`.
#[allow(clippy::too_many_arguments)]
pub fn new(
    rt: &mut Runtime<'_>,
    storage: Storage,
    blob_id: U256Le,
    root_hash: U256Le,
    size: u64,
    encoding_type: u8,
    deletable: bool,
    registered_epoch: u32,
    n_shards: u16,
) -> Result<Blob, NativeError> {
    let id = crate::util::new_id(rt)?;
    ensure(
        storage.start_epoch <= registered_epoch && registered_epoch < storage.end_epoch,
        EResourceBounds,
    )?;
    let encoded_size = encoding::encoded_blob_length(size, encoding_type, n_shards)?;
    ensure(encoded_size <= storage.storage_size, EResourceSize)?;
    ensure(
        derive_blob_id(root_hash, encoding_type, size) == blob_id,
        EInvalidBlobId,
    )?;
    events::emit(
        rt,
        &BlobRegistered {
            epoch: registered_epoch,
            blob_id,
            size,
            encoding_type,
            end_epoch: storage.end_epoch,
            deletable,
            object_id: id,
        },
    )?;
    Ok(Blob {
        id,
        registered_epoch,
        blob_id,
        size,
        encoding_type,
        certified_epoch: None,
        storage,
        deletable,
    })
}

/// `certify_with_certified_msg`.
pub fn certify_with_certified_msg(
    rt: &mut Runtime<'_>,
    blob: &mut Blob,
    current_epoch: u32,
    message: CertifiedBlobMessage,
) -> Result<(), NativeError> {
    ensure(message.blob_id == blob.blob_id, EInvalidBlobId)?;
    ensure(blob.certified_epoch.is_none(), EAlreadyCertified)?;
    ensure(current_epoch < blob.storage.end_epoch, EResourceBounds)?;
    let persistence = message.blob_persistence_type;
    if blob.deletable {
        ensure(persistence.is_deletable(), EInvalidBlobPersistenceType)?;
        ensure(persistence.object_id()? == blob.id, EInvalidBlobObject)?;
    } else {
        ensure(!persistence.is_deletable(), EInvalidBlobPersistenceType)?;
    }
    blob.certified_epoch = Some(current_epoch);
    emit_certified(rt, blob, false)
}

/// `assert_certified_not_expired`.
pub fn assert_certified_not_expired(blob: &Blob, current_epoch: u32) -> Result<(), NativeError> {
    ensure(blob.certified_epoch.is_some(), ENotCertified)?;
    ensure(current_epoch < blob.storage.end_epoch, EResourceBounds)
}

/// `extend_with_resource`.
pub fn extend_with_resource(
    rt: &mut Runtime<'_>,
    blob: &mut Blob,
    extension: Storage,
    current_epoch: u32,
) -> Result<(), NativeError> {
    assert_certified_not_expired(blob, current_epoch)?;
    ensure(
        extension.start_epoch == blob.storage.end_epoch,
        EResourceBounds,
    )?;
    storage_resource::fuse_periods(rt, &mut blob.storage, extension)?;
    emit_certified(rt, blob, true)
}

/// `extend_storage_end_epoch`.
pub fn extend_storage_end_epoch(
    rt: &mut Runtime<'_>,
    blob: &mut Blob,
    extended_epochs: u32,
    current_epoch: u32,
) -> Result<(), NativeError> {
    assert_certified_not_expired(blob, current_epoch)?;
    storage_resource::extend_end_epoch(&mut blob.storage, extended_epochs)?;
    emit_certified(rt, blob, true)
}

/// `delete`: emits `BlobDeleted` and returns the storage.
pub fn delete(rt: &mut Runtime<'_>, blob: Blob, epoch: u32) -> Result<Storage, NativeError> {
    drop_metadata(rt, &blob)?;
    ensure(blob.deletable, EBlobNotDeletable)?;
    let end_epoch = blob.storage.end_epoch;
    ensure(end_epoch > epoch, EResourceBounds)?;
    rt.delete_uid(to_address(blob.id))?;
    events::emit(
        rt,
        &BlobDeleted {
            epoch,
            blob_id: blob.blob_id,
            end_epoch,
            object_id: blob.id,
            was_certified: blob.certified_epoch.is_some(),
        },
    )?;
    Ok(blob.storage)
}

/// `burn`: destroys the blob and its storage, no event.
pub fn burn(rt: &mut Runtime<'_>, blob: Blob) -> Result<(), NativeError> {
    drop_metadata(rt, &blob)?;
    rt.delete_uid(to_address(blob.id))?;
    storage_resource::destroy(rt, blob.storage)
}

fn emit_certified(
    rt: &mut Runtime<'_>,
    blob: &Blob,
    is_extension: bool,
) -> Result<(), NativeError> {
    let epoch = blob.certified_epoch.ok_or(OPTION_ENONE.err())?;
    events::emit(
        rt,
        &BlobCertified {
            epoch,
            blob_id: blob.blob_id,
            end_epoch: blob.storage.end_epoch,
            deletable: blob.deletable,
            object_id: blob.id,
            is_extension,
        },
    )
}

/// `std::option::EOPTION_NOT_SET` (borrowing `none`).
const OPTION_ENONE: AbortCode = AbortCode::new(
    sui_sdk_types::Address::from_static("0x1"),
    "option",
    "EOPTION_NOT_SET",
    0x40001,
);

fn metadata_name() -> Value {
    Value::new(
        TypeTag::Vector(Box::new(TypeTag::U8)),
        &METADATA_DF.to_vec(),
    )
}

fn metadata_type() -> TypeTag {
    floe_tag("metadata", "Metadata", vec![]).into()
}

/// `has_metadata`.
pub fn has_metadata(rt: &mut Runtime<'_>, blob: &Blob) -> bool {
    rt.df_exists(to_address(blob.id), &metadata_name())
}

fn add_metadata(rt: &mut Runtime<'_>, blob: &Blob, m: Metadata) -> Result<(), NativeError> {
    ensure(!has_metadata(rt, blob), EDuplicateMetadata)?;
    rt.df_add(
        to_address(blob.id),
        metadata_name(),
        metadata::metadata_value(&m),
    )
}

fn borrow_metadata(rt: &mut Runtime<'_>, blob: &Blob) -> Result<Metadata, NativeError> {
    ensure(has_metadata(rt, blob), EMissingMetadata)?;
    rt.df_get(to_address(blob.id), &metadata_name(), &metadata_type())
}

fn set_metadata(rt: &mut Runtime<'_>, blob: &Blob, m: &Metadata) -> Result<(), NativeError> {
    rt.df_set(
        to_address(blob.id),
        &metadata_name(),
        metadata::metadata_value(m),
    )
}

fn take_metadata_if_any(
    rt: &mut Runtime<'_>,
    blob: &Blob,
) -> Result<Option<Metadata>, NativeError> {
    if !has_metadata(rt, blob) {
        return Ok(None);
    }
    let v = rt.df_remove(to_address(blob.id), &metadata_name(), &metadata_type())?;
    bcs::from_bytes(&v.bytes)
        .map(Some)
        .map_err(|e| NativeError::Invariant(format!("metadata decode: {e}")))
}

fn drop_metadata(rt: &mut Runtime<'_>, blob: &Blob) -> Result<(), NativeError> {
    take_metadata_if_any(rt, blob).map(|_| ())
}

/// Writes back a `&mut Blob` argument.
pub fn set_blob(c: &mut Call<'_, '_>, i: usize, blob: &Blob) -> Result<(), NativeError> {
    set(c, i, blob)
}
