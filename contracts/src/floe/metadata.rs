//! Twin of `floe::metadata`: blob attributes (`VecMap<String, String>`).

use floe_core::move_types::{Metadata, MoveType, MoveTypeInfo, VecMap, VecMapEntry};
use floe_runtime::{Call, NativeError, Value};

use crate::registry::{AbortCode, FnSig, ModuleDecl, NativeBody, Package, Vis};
use crate::util::{arg, floe_value, option_tag, set, string_tag};

/// `sui::vec_map::EKeyDoesNotExist`.
pub const VEC_MAP_EKEY_DOES_NOT_EXIST: AbortCode = AbortCode::sui("vec_map", "EKeyDoesNotExist", 1);
/// Bound on attributes per blob, so one blob cannot grow without limit
/// through a loop of inserts in one transaction.
pub const MAX_ENTRIES: usize = 1024;

/// No abort codes of its own (`VecMap` aborts pass through).
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new("new", Vis::Public, &[], &[], &["Metadata"]),
    FnSig::new(
        "insert_or_update",
        Vis::Public,
        &[],
        &[
            ("self", "&mut Metadata"),
            ("key", "String"),
            ("value", "String"),
        ],
        &[],
    ),
    FnSig::new(
        "remove",
        Vis::Public,
        &[],
        &[("self", "&mut Metadata"), ("key", "&String")],
        &["String", "String"],
    ),
    FnSig::new(
        "remove_if_exists",
        Vis::Public,
        &[],
        &[("self", "&mut Metadata"), ("key", "&String")],
        &["Option<String>"],
    ),
    FnSig::new(
        "metadata",
        Vis::Public,
        &[],
        &[("self", "&Metadata")],
        &["&VecMap<String, String>"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[Metadata::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "metadata",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "new" => |_| Ok(vec![metadata_value(&new())]),
        "insert_or_update" => |c| {
            let mut m: Metadata = arg(c, 0)?;
            insert_or_update(&mut m, arg(c, 1)?, arg(c, 2)?)?;
            set(c, 0, &m)?;
            Ok(vec![])
        },
        "remove" => |c| {
            let mut m: Metadata = arg(c, 0)?;
            let (k, v) = remove(&mut m, &arg::<String>(c, 1)?)?;
            set(c, 0, &m)?;
            Ok(vec![string(&k), string(&v)])
        },
        "remove_if_exists" => native_remove_if_exists,
        _ => return None,
    };
    Some(f)
}

fn native_remove_if_exists(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let mut m: Metadata = arg(c, 0)?;
    let v = remove_if_exists(&mut m, &arg::<String>(c, 1)?);
    set(c, 0, &m)?;
    Ok(vec![Value::new(option_tag(string_tag()), &v)])
}

pub(crate) fn string(s: &String) -> Value {
    Value::new(string_tag(), s)
}

/// A `Metadata` value.
pub fn metadata_value(m: &Metadata) -> Value {
    floe_value("metadata", "Metadata", m)
}

/// `new`.
pub fn new() -> Metadata {
    Metadata {
        metadata: VecMap::default(),
    }
}

/// `insert_or_update`.
pub fn insert_or_update(m: &mut Metadata, key: String, value: String) -> Result<(), NativeError> {
    let _ = remove_if_exists(m, &key);
    if m.metadata.contents.len() >= MAX_ENTRIES {
        return Err(NativeError::Invariant(format!(
            "a blob holds at most {MAX_ENTRIES} attributes"
        )));
    }
    m.metadata.contents.push(VecMapEntry { key, value });
    Ok(())
}

/// `remove`: aborts (in `VecMap`) if `key` is absent.
pub fn remove(m: &mut Metadata, key: &String) -> Result<(String, String), NativeError> {
    let i = m
        .metadata
        .contents
        .iter()
        .position(|e| &e.key == key)
        .ok_or(VEC_MAP_EKEY_DOES_NOT_EXIST.err())?;
    let e = m.metadata.contents.remove(i);
    Ok((e.key, e.value))
}

/// `remove_if_exists`.
pub fn remove_if_exists(m: &mut Metadata, key: &String) -> Option<String> {
    remove(m, key).ok().map(|(_, v)| v)
}
