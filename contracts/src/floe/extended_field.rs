//! Twin of `floe::extended_field`: a value kept in a dynamic field (key
//! `Key {}`) of its own object.

use floe_core::move_types::{
    Ability, ExtendedField, MoveField, MovePackage, MoveRole, MoveType, MoveTypeInfo, MoveTypeKind,
};

use floe_core::move_types::ObjectId;
use floe_runtime::Value;
use sui_sdk_types::TypeTag;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis};
use crate::util::{floe_tag, to_address, to_object_id};

/// No abort codes.
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "new",
        Vis::Public,
        &["T: store"],
        &[("value", "T"), ("ctx", "&mut TxContext")],
        &["ExtendedField<T>"],
    ),
    FnSig::new(
        "borrow",
        Vis::Public,
        &["T: store"],
        &[("field", "&ExtendedField<T>")],
        &["&T"],
    ),
    FnSig::new(
        "borrow_mut",
        Vis::Public,
        &["T: store"],
        &[("field", "&mut ExtendedField<T>")],
        &["&mut T"],
    ),
    FnSig::new(
        "swap",
        Vis::Public,
        &["T: store"],
        &[("field", "&mut ExtendedField<T>"), ("value", "T")],
        &["T"],
    ),
    FnSig::new(
        "destroy",
        Vis::Public,
        &["T: store"],
        &[("field", "ExtendedField<T>")],
        &["T"],
    ),
];

/// `Key {}`: Move gives an empty struct one `dummy_field: bool`.
pub const KEY: MoveTypeInfo = MoveTypeInfo {
    package: MovePackage::Walrus,
    module: "extended_field",
    name: "Key",
    type_params: &[],
    abilities: &[Ability::Copy, Ability::Drop, Ability::Store],
    role: MoveRole::Value,
    kind: MoveTypeKind::Struct(&[] as &[MoveField]),
};

/// `ExtendedField<phantom T: store> has key, store { id: UID }`. The
/// layout is core's mirror; the abilities are the Move source's (core's
/// registry lists only `store`: reported, to be settled there).
pub const EXTENDED_FIELD: MoveTypeInfo = MoveTypeInfo {
    abilities: &[Ability::Key, Ability::Store],
    ..ExtendedField::INFO
};

const STRUCTS: &[MoveTypeInfo] = &[EXTENDED_FIELD, KEY];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "extended_field",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// `new`, `swap` and `destroy` take and return values a transaction can
/// hold; `borrow`/`borrow_mut` return references, which Sui does not let a
/// transaction call.
fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "new" => |c| {
            let t = c.type_arg(0)?.clone();
            let value = c.value(0)?.clone();
            let id = c.rt.new_uid()?;
            c.rt.df_add(id, key(), value)?;
            Ok(vec![field_value(t, to_object_id(id))])
        },
        "swap" => |c| {
            let t = c.type_arg(0)?.clone();
            let field: ExtendedField = c.arg(0)?;
            let new = c.value(1)?.clone();
            let parent = to_address(field.id);
            let old = c.rt.df_remove(parent, &key(), &t)?;
            c.rt.df_add(parent, key(), new)?;
            Ok(vec![old])
        },
        "destroy" => |c| {
            let t = c.type_arg(0)?.clone();
            let field: ExtendedField = c.arg(0)?;
            let parent = to_address(field.id);
            let value = c.rt.df_remove(parent, &key(), &t)?;
            c.rt.delete_uid(parent)?;
            Ok(vec![value])
        },
        _ => return None,
    };
    Some(f)
}

/// The `Key {}` name value (an empty struct is one `false` byte).
pub fn key() -> Value {
    Value::new(floe_tag("extended_field", "Key", vec![]).into(), &false)
}

fn field_value(t: TypeTag, id: ObjectId) -> Value {
    Value::new(
        floe_tag("extended_field", "ExtendedField", vec![t]).into(),
        &ExtendedField { id },
    )
}
