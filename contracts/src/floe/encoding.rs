//! Twin of `floe::encoding`: encoding types accepted on chain (RS2 = 1).

use floe_core::move_types::MoveTypeInfo;
use floe_runtime::{NativeError, Value};
use sui_sdk_types::TypeTag;

use crate::floe::redstuff;
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure};

/// RedStuff over Reed-Solomon, the only accepted encoding type.
pub const RS2: u8 = 1;

abort_codes! {
    module: "encoding",
    EInvalidEncodingType = 0,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "encoded_blob_length",
        Vis::Public,
        &[],
        &[
            ("unencoded_length", "u64"),
            ("encoding_type", "u8"),
            ("n_shards", "u16"),
        ],
        &["u64"],
    ),
    FnSig::new("rs2", Vis::Public, &[], &[], &["u8"]),
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "encoding",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: &[] as &[MoveTypeInfo],
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "encoded_blob_length" => |c| {
            let length = encoded_blob_length(arg(c, 0)?, arg(c, 1)?, arg(c, 2)?)?;
            Ok(vec![Value::u64(length)])
        },
        "rs2" => |_| Ok(vec![Value::new(TypeTag::U8, &RS2)]),
        _ => return None,
    };
    Some(f)
}

/// `encoded_blob_length`: aborts `EInvalidEncodingType` unless RS2.
pub fn encoded_blob_length(
    unencoded_length: u64,
    encoding_type: u8,
    n_shards: u16,
) -> Result<u64, NativeError> {
    ensure(encoding_type == RS2, EInvalidEncodingType)?;
    redstuff::encoded_blob_length(unencoded_length, n_shards)
}
