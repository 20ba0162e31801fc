//! Twin of `floe::auth`: who may act for a staking pool. Pools store an
//! `Authorized` (an address or an object id) for the commission receiver
//! and for governance; a call proves who it acts as with an
//! `Authenticated` witness, built only here: from the transaction's sender
//! or from an object the caller passes by reference.

use floe_core::move_types::Ability::Drop;
use floe_core::move_types::{
    Authorized, MoveField, MovePackage, MoveRole, MoveType, MoveTypeInfo, MoveTypeKind,
    MoveVariant, ObjectId,
};
use floe_runtime::{NativeError, Value};
use serde::{Deserialize, Serialize};

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis};
use crate::util::{arg, floe_value, to_object_id};

/// No abort codes.
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "authenticate_sender",
        Vis::Public,
        &[],
        &[("ctx", "&TxContext")],
        &["Authenticated"],
    ),
    FnSig::new(
        "authenticate_with_object",
        Vis::Public,
        &["T: key"],
        &[("obj", "&T")],
        &["Authenticated"],
    ),
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

/// `auth::Authenticated`: who acts in this transaction (drop only, so it
/// can be neither stored nor copied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Authenticated {
    Sender(ObjectId),
    Object(ObjectId),
}

impl MoveType for Authenticated {
    const INFO: MoveTypeInfo = MoveTypeInfo {
        package: MovePackage::Walrus,
        module: "auth",
        name: "Authenticated",
        type_params: &[],
        abilities: &[Drop],
        role: MoveRole::Value,
        kind: MoveTypeKind::Enum(&[
            MoveVariant {
                name: "Sender",
                fields: &[MoveField {
                    name: "pos0",
                    ty: "address",
                }],
            },
            MoveVariant {
                name: "Object",
                fields: &[MoveField {
                    name: "pos0",
                    ty: "ID",
                }],
            },
        ]),
    };
}

const STRUCTS: &[MoveTypeInfo] = &[Authenticated::INFO, Authorized::INFO];

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
        "authenticate_sender" => |c| {
            let sender = to_object_id(c.rt.sender());
            Ok(vec![authenticated_value(&Authenticated::Sender(sender))])
        },
        "authenticate_with_object" => |c| {
            // A `key` struct starts with its `UID`: the first 32 bytes.
            let bytes = &c.value(0)?.bytes;
            let id: [u8; 32] =
                bytes
                    .get(..32)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| NativeError::InvalidArgument {
                        index: 0,
                        reason: "not an object".into(),
                    })?;
            Ok(vec![authenticated_value(&Authenticated::Object(ObjectId(
                id,
            )))])
        },
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

/// `matches`: whether `authenticated` is what `authorized` allows.
pub fn matches(authenticated: &Authenticated, authorized: &Authorized) -> bool {
    match (authenticated, authorized) {
        (Authenticated::Sender(sender), Authorized::Address(addr)) => sender == addr,
        (Authenticated::Object(id), Authorized::ObjectID(object)) => id == object,
        _ => false,
    }
}

/// An `Authorized` value.
pub fn authorized_value(a: &Authorized) -> Value {
    floe_value("auth", "Authorized", a)
}

/// An `Authenticated` value.
pub fn authenticated_value(a: &Authenticated) -> Value {
    floe_value("auth", "Authenticated", a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_kind_and_value_match() {
        let a = ObjectId([1; 32]);
        let b = ObjectId([2; 32]);
        assert!(matches(&Authenticated::Sender(a), &Authorized::Address(a)));
        assert!(!matches(&Authenticated::Sender(a), &Authorized::Address(b)));
        assert!(!matches(
            &Authenticated::Sender(a),
            &Authorized::ObjectID(a)
        ));
        assert!(matches(&Authenticated::Object(a), &Authorized::ObjectID(a)));
        assert!(!matches(&Authenticated::Object(a), &Authorized::Address(a)));
        assert!(!matches(
            &Authenticated::Object(b),
            &Authorized::ObjectID(a)
        ));
    }
}
