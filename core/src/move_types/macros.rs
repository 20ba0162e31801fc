//! The declaration macro behind every Move mirror.
//!
//! `move_struct!` turns one declaration into (a) a serde struct whose field
//! order is the BCS layout and (b) its [`MoveType`](super::MoveType) registry
//! entry with the Move field types, so Rust layout and registry agree by
//! construction.

/// Declares a Move struct mirror and its registry entry.
///
/// ```text
/// move_struct! {
///     /// Docs.
///     Walrus "blob" Blob: Object [Key, Store] {
///         id: ObjectId => "UID",
///         ...
///     }
/// }
/// ```
macro_rules! move_struct {
    (
        $(#[$meta:meta])*
        $pkg:ident $module:literal $name:ident $(<$($tp:literal),*>)? : $role:ident [$($ab:ident),*] {
            $( $field:ident : $ty:ty => $mty:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $(
                #[doc = concat!("Move field `", stringify!($field), ": ", $mty, "`.")]
                pub $field: $ty,
            )*
        }

        impl $crate::move_types::MoveType for $name {
            const INFO: $crate::move_types::MoveTypeInfo = $crate::move_types::MoveTypeInfo {
                package: $crate::move_types::MovePackage::$pkg,
                module: $module,
                name: stringify!($name),
                type_params: &[$($($tp),*)?],
                abilities: &[$($crate::move_types::Ability::$ab),*],
                role: $crate::move_types::MoveRole::$role,
                kind: $crate::move_types::MoveTypeKind::Struct(&[
                    $($crate::move_types::MoveField { name: stringify!($field), ty: $mty }),*
                ]),
            };
        }
    };
}
