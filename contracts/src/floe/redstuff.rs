//! Twin of `floe::redstuff`: the RS2 encoded length, computed by
//! `floe_core::encoding::EncodingConfig` (the encoder itself), so storage is
//! bought for exactly what the encoder produces.

use floe_core::encoding::EncodingConfig;
use floe_core::move_types::MoveTypeInfo;
use floe_runtime::{NativeError, Value};
use sui_sdk_types::TypeTag;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, arithmetic, ensure};

/// Bytes of one digest in the metadata.
pub const DIGEST_LEN: u64 = 32;
/// Bytes of a blob id.
pub const BLOB_ID_LEN: u64 = 32;
/// Largest symbol size RS2 supports.
pub const MAX_SYMBOL_SIZE: u64 = 65_534;

abort_codes! {
    module: "redstuff",
    EBlobTooLarge = 0,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "encoded_blob_length",
        Vis::Public,
        &[],
        &[("unencoded_length", "u64"), ("n_shards", "u16")],
        &["u64"],
    ),
    FnSig::new(
        "symbol_size",
        Vis::Public,
        &[],
        &[("unencoded_length", "u64"), ("n_shards", "u16")],
        &["u16"],
    ),
    FnSig::new(
        "metadata_size",
        Vis::Public,
        &[],
        &[("n_shards", "u16")],
        &["u64"],
    ),
    FnSig::new(
        "source_symbols",
        Vis::Public,
        &[],
        &[("n_shards", "u16")],
        &["u16", "u16"],
    ),
    FnSig::new(
        "max_byzantine",
        Vis::Public,
        &[],
        &[("n_shards", "u16")],
        &["u16"],
    ),
    FnSig::new(
        "max_blob_size",
        Vis::Public,
        &[],
        &[("n_shards", "u16")],
        &["u64"],
    ),
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "redstuff",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: &[] as &[MoveTypeInfo],
    native,
};

fn u16v(v: u16) -> Value {
    Value::new(TypeTag::U16, &v)
}

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "encoded_blob_length" => |c| {
            Ok(vec![Value::u64(encoded_blob_length(
                arg(c, 0)?,
                arg(c, 1)?,
            )?)])
        },
        "symbol_size" => |c| Ok(vec![u16v(symbol_size(arg(c, 0)?, arg(c, 1)?)?)]),
        "metadata_size" => |c| Ok(vec![Value::u64(metadata_size(arg(c, 0)?))]),
        "source_symbols" => |c| {
            let (p, s) = source_symbols(arg(c, 0)?)?;
            Ok(vec![u16v(p), u16v(s)])
        },
        "max_byzantine" => |c| Ok(vec![u16v(max_byzantine(arg(c, 0)?)?)]),
        "max_blob_size" => |c| {
            let (p, s) = source_symbols(arg(c, 0)?)?;
            Ok(vec![Value::u64(
                u64::from(p) * u64::from(s) * MAX_SYMBOL_SIZE,
            )])
        },
        _ => return None,
    };
    Some(f)
}

/// `max_byzantine`: `(n - 1) / 3`; Move underflows at `n = 0`.
pub fn max_byzantine(n_shards: u16) -> Result<u16, NativeError> {
    Ok(n_shards.checked_sub(1).ok_or_else(arithmetic)? / 3)
}

/// `source_symbols`: `(n - 2f, n - f)`.
pub fn source_symbols(n_shards: u16) -> Result<(u16, u16), NativeError> {
    let f = max_byzantine(n_shards)?;
    Ok((n_shards - 2 * f, n_shards - f))
}

/// `metadata_size`.
pub fn metadata_size(n_shards: u16) -> u64 {
    u64::from(n_shards) * DIGEST_LEN * 2 + BLOB_ID_LEN
}

/// `symbol_size`: aborts with `EBlobTooLarge` past the maximum.
pub fn symbol_size(unencoded_length: u64, n_shards: u16) -> Result<u16, NativeError> {
    let length = unencoded_length.max(1);
    let (p, s) = source_symbols(n_shards)?;
    let per_blob = u64::from(p) * u64::from(s);
    let mut size = (length - 1) / per_blob + 1;
    if size % 2 == 1 {
        size += 1;
    }
    ensure(size <= MAX_SYMBOL_SIZE, EBlobTooLarge)?;
    Ok(size as u16)
}

/// `encoded_blob_length`, from the encoder's own configuration
/// (`floe_core::encoding::EncodingConfig`); committee sizes the encoder
/// does not support fall back to the Move formula.
pub fn encoded_blob_length(unencoded_length: u64, n_shards: u16) -> Result<u64, NativeError> {
    // Same order of failures as Move: `n = 0` underflows, a too large
    // blob aborts `EBlobTooLarge`.
    let symbol = u64::from(symbol_size(unencoded_length, n_shards)?);
    if let Ok(config) = EncodingConfig::new(n_shards) {
        return config
            .encoded_blob_length(unencoded_length)
            .map_err(|_| EBlobTooLarge.err());
    }
    let (p, s) = source_symbols(n_shards)?;
    let slivers = (u64::from(p) + u64::from(s)) * symbol;
    Ok(u64::from(n_shards) * (slivers + metadata_size(n_shards)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Move formula and the encoder agree on every committee size the
    /// encoder supports and across symbol-size boundaries.
    #[test]
    fn move_formula_matches_the_encoder() {
        for n in [4u16, 7, 10, 13, 100, 301, 1000] {
            let config = EncodingConfig::new(n).unwrap();
            let (p, s) = source_symbols(n).unwrap();
            let per = u64::from(p) * u64::from(s);
            let max = u64::from(p) * u64::from(s) * MAX_SYMBOL_SIZE;
            for size in [0, 1, per - 1, per, per + 1, 2 * per + 1, 1 << 20, max] {
                if size > max {
                    continue;
                }
                let symbol = u64::from(symbol_size(size, n).unwrap());
                let formula =
                    u64::from(n) * ((u64::from(p) + u64::from(s)) * symbol + metadata_size(n));
                assert_eq!(
                    encoded_blob_length(size, n).unwrap(),
                    formula,
                    "n={n} size={size}"
                );
                assert_eq!(config.encoded_blob_length(size).unwrap(), formula);
            }
            assert_eq!(encoded_blob_length(max + 1, n), Err(EBlobTooLarge.err()));
        }
    }
}
