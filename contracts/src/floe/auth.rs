//! Twin of `floe::auth`: who may act for a staking pool (an address or an
//! object), recorded, not yet checked (commission collection and
//! governance come later).

use floe_core::move_types::{Authorized, MoveType, MoveTypeInfo, ObjectId};
use floe_ledger::native::Value;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis};
use crate::util::{arg, floe_value};

/// No abort codes.
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "authorized_address",
        Vis::Public,
        &[],
        &[("addr", "address")],
        &["Authorized"],
    ),
    FnSig::new(
        "authorized_object",
        Vis::Public,
        &[],
        &[("id", "ID")],
        &["Authorized"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[Authorized::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "auth",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "authorized_address" => |c| {
            let addr: ObjectId = arg(c, 0)?;
            Ok(vec![authorized_value(&Authorized::Address(addr))])
        },
        "authorized_object" => |c| {
            let id: ObjectId = arg(c, 0)?;
            Ok(vec![authorized_value(&Authorized::ObjectID(id))])
        },
        _ => return None,
    };
    Some(f)
}

/// An `Authorized` value.
pub fn authorized_value(a: &Authorized) -> Value {
    floe_value("auth", "Authorized", a)
}
