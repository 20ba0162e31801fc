//! Twin of `floe::epoch_parameters`: what `voting_end` selects for the
//! next epoch (only the capacity is applied; prices are `u64::MAX` until
//! price votes land).

use floe_core::move_types::{EpochParams, MoveType, MoveTypeInfo};

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis};

/// No abort codes.
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "capacity",
        Vis::Public,
        &[],
        &[("self", "&EpochParams")],
        &["u64"],
    ),
    FnSig::new(
        "storage_price",
        Vis::Public,
        &[],
        &[("self", "&EpochParams")],
        &["u64"],
    ),
    FnSig::new(
        "write_price",
        Vis::Public,
        &[],
        &[("self", "&EpochParams")],
        &["u64"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[EpochParams::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "epoch_parameters",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// The readers take a reference only Move code can hold.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `new`.
pub fn new(
    total_capacity_size: u64,
    storage_price_per_unit_size: u64,
    write_price_per_unit_size: u64,
) -> EpochParams {
    EpochParams {
        total_capacity_size,
        storage_price_per_unit_size,
        write_price_per_unit_size,
    }
}
