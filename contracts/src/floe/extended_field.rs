//! Twin of `floe::extended_field`: a value kept in a dynamic field (key
//! `Key {}`) of its own object.

use floe_core::move_types::{
    Ability, ExtendedField, MoveField, MovePackage, MoveRole, MoveType, MoveTypeInfo, MoveTypeKind,
};

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis};

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

/// Generic over the stored type and only used inside `System`; nothing is
/// callable from a transaction.
fn native(_name: &str) -> Option<NativeBody> {
    None
}
