//! The twin's own description of the Move packages: per module, every
//! `public`/`entry` function signature (as Move source text), every abort
//! code and every struct layout.
//!
//! It exists twice over on purpose: the ledger registration of each native
//! function is *derived* from these signatures (so what a transaction can
//! call is what is declared here), and the parity test compares them with
//! the Move sources (so the declaration cannot drift from the contract).
//! Struct layouts reuse `floe_core::move_types` where core mirrors the type.

use floe_core::move_types::MoveTypeInfo;
use floe_runtime::{Call, NativeError, Param, Ty, Value};
use sui_sdk_types::Address;

/// A native function body.
pub type NativeBody = fn(&mut Call<'_, '_>) -> Result<Vec<Value>, NativeError>;

/// How a Move function is exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vis {
    /// `public fun`
    Public,
    /// `entry fun`
    Entry,
    /// `public entry fun`
    PublicEntry,
}

/// A function signature as written in the Move source: parameter names and
/// types (`&mut Coin<WAL>`), return types, type parameters with bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FnSig {
    pub name: &'static str,
    pub vis: Vis,
    pub type_params: &'static [&'static str],
    pub params: &'static [(&'static str, &'static str)],
    pub returns: &'static [&'static str],
}

impl FnSig {
    pub const fn new(
        name: &'static str,
        vis: Vis,
        type_params: &'static [&'static str],
        params: &'static [(&'static str, &'static str)],
        returns: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            vis,
            type_params,
            params,
            returns,
        }
    }
}

/// An abort-code constant (`const EName: u64 = value;`) with the module
/// that declares it, which is where an abort using it is reported.
pub use floe_runtime::AbortConst as AbortCode;

/// Which package a module belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    Wal,
    Floe,
}

/// One Move module of the twin.
#[derive(Clone, Copy)]
pub struct ModuleDecl {
    pub package: Package,
    pub name: &'static str,
    pub functions: &'static [FnSig],
    pub abort_codes: &'static [AbortCode],
    /// Struct and enum layouts, in source order.
    pub structs: &'static [MoveTypeInfo],
    /// The native body of a function, if it is callable from a transaction.
    pub native: fn(&str) -> Option<NativeBody>,
}

/// Declares a floe module's abort codes as constants with their Move names
/// and values, each carrying its module (`module: "blob"`), and the
/// `ABORT_CODES` table the parity test reads. A Move constant is private to
/// its module, so an abort using it happens in that module; the twin's
/// `ensure(cond, EName)` therefore reports the right location whatever file
/// calls it.
macro_rules! abort_codes {
    (module: $module:literal, $($name:ident = $value:literal),* $(,)?) => {
        $(
            #[allow(non_upper_case_globals)]
            #[doc = concat!("Move abort code `", $module, "::", stringify!($name), "`.")]
            pub const $name: $crate::registry::AbortCode = $crate::registry::AbortCode::new(
                $crate::FLOE_PACKAGE_ID,
                $module,
                stringify!($name),
                $value,
            );
        )*
        /// Every abort code of the module, in source order.
        pub const ABORT_CODES: &[$crate::registry::AbortCode] = &[$($name),*];
    };
}
pub(crate) use abort_codes;

/// Why a declared Move type cannot be turned into a ledger type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    #[error("unknown type name {0:?}")]
    UnknownType(String),
    #[error("malformed type {0:?}")]
    Malformed(String),
    #[error("a reference cannot be returned to a transaction ({0})")]
    ReferenceReturn(String),
}

/// Resolves Move names to ledger types: primitives, the framework types the
/// sources import, and the twin's own structs (current module first).
pub struct Resolver<'a> {
    pub wal: Address,
    pub floe: Address,
    pub modules: &'a [ModuleDecl],
}

const FRAMEWORK: &[(&str, &str)] = &[
    ("String", "0x1::string::String"),
    ("Option", "0x1::option::Option"),
    ("Coin", "0x2::coin::Coin"),
    ("TreasuryCap", "0x2::coin::TreasuryCap"),
    ("Balance", "0x2::balance::Balance"),
    ("ID", "0x2::object::ID"),
    ("UID", "0x2::object::UID"),
    ("VecMap", "0x2::vec_map::VecMap"),
    ("Element", "0x2::group_ops::Element"),
    ("G1", "0x2::bls12381::G1"),
    ("UncompressedG1", "0x2::bls12381::UncompressedG1"),
    ("Publisher", "0x2::package::Publisher"),
    ("UpgradeCap", "0x2::package::UpgradeCap"),
    ("UpgradeTicket", "0x2::package::UpgradeTicket"),
    ("UpgradeReceipt", "0x2::package::UpgradeReceipt"),
    ("Clock", "0x2::clock::Clock"),
];

impl Resolver<'_> {
    /// The ledger parameter for a Move parameter type.
    pub fn param(&self, module: &str, generics: &[&str], ty: &str) -> Result<Param, SigError> {
        let ty = ty.trim();
        if let Some(rest) = ty.strip_prefix("&mut ") {
            if rest.trim() == "TxContext" {
                return Ok(Param::TxContext);
            }
            return Ok(Param::Mut(self.ty(module, generics, rest)?));
        }
        if let Some(rest) = ty.strip_prefix('&') {
            if rest.trim() == "TxContext" {
                return Ok(Param::TxContext);
            }
            return Ok(Param::Ref(self.ty(module, generics, rest)?));
        }
        Ok(Param::Val(self.ty(module, generics, ty)?))
    }

    /// The ledger type of a value (non-reference) Move type.
    pub fn ret(&self, module: &str, generics: &[&str], ty: &str) -> Result<Ty, SigError> {
        if ty.trim_start().starts_with('&') {
            return Err(SigError::ReferenceReturn(ty.to_owned()));
        }
        self.ty(module, generics, ty)
    }

    /// Parses a Move type such as `Coin<WAL>` or `vector<vector<u8>>`.
    pub fn ty(&self, module: &str, generics: &[&str], text: &str) -> Result<Ty, SigError> {
        let text = text.trim();
        let (head, args) = match text.find('<') {
            Some(open) => {
                let inner = text
                    .strip_suffix('>')
                    .and_then(|t| t.get(open + 1..))
                    .ok_or_else(|| SigError::Malformed(text.to_owned()))?;
                (text[..open].trim(), split_args(inner)?)
            }
            None => (text, Vec::new()),
        };
        let prim = match head {
            "bool" => Some(Ty::Bool),
            "u8" => Some(Ty::U8),
            "u16" => Some(Ty::U16),
            "u32" => Some(Ty::U32),
            "u64" => Some(Ty::U64),
            "u128" => Some(Ty::U128),
            "u256" => Some(Ty::U256),
            "address" => Some(Ty::Address),
            _ => None,
        };
        if let Some(p) = prim {
            return if args.is_empty() {
                Ok(p)
            } else {
                Err(SigError::Malformed(text.to_owned()))
            };
        }
        if head == "vector" {
            let [inner] = args.as_slice() else {
                return Err(SigError::Malformed(text.to_owned()));
            };
            return Ok(Ty::vector(self.ty(module, generics, inner)?));
        }
        if let Some(i) = generics.iter().position(|g| generic_name(g) == head) {
            return Ok(Ty::Param(i as u16));
        }
        let args = args
            .iter()
            .map(|a| self.ty(module, generics, a))
            .collect::<Result<Vec<_>, _>>()?;
        let path = self.path(module, head)?;
        Ok(struct_ty(&path, args))
    }

    /// `address::module::Name` of a struct name seen from `module`.
    pub fn path(&self, module: &str, name: &str) -> Result<String, SigError> {
        if let Some((_, path)) = FRAMEWORK.iter().find(|(n, _)| *n == name) {
            return Ok((*path).to_owned());
        }
        let own = self
            .modules
            .iter()
            .filter(|m| m.name == module)
            .chain(self.modules.iter().filter(|m| m.name != module));
        for m in own {
            if m.structs.iter().any(|s| s.name == name) {
                let address = match m.package {
                    Package::Wal => self.wal,
                    Package::Floe => self.floe,
                };
                return Ok(format!("{address}::{}::{name}", m.name));
            }
        }
        Err(SigError::UnknownType(name.to_owned()))
    }
}

/// `T: store` -> `T`; `phantom T` -> `T`.
pub fn generic_name(g: &str) -> &str {
    let g = g.trim();
    let g = g.strip_prefix("phantom ").unwrap_or(g);
    g.split(':').next().unwrap_or(g).trim()
}

fn struct_ty(path: &str, args: Vec<Ty>) -> Ty {
    Ty::st(path, args)
}

fn split_args(inner: &str) -> Result<Vec<String>, SigError> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for ch in inner.chars() {
        match ch {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return Err(SigError::Malformed(inner.to_owned()));
        }
        if ch == ',' && depth == 0 {
            out.push(std::mem::take(&mut cur).trim().to_owned());
        } else {
            cur.push(ch);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    Ok(out)
}

/// Normal form of a Move type for comparisons: no whitespace, no module or
/// address qualifiers (`sui::coin::Coin<wal::wal::WAL>` -> `Coin<WAL>`).
pub fn normalize_type(ty: &str) -> String {
    let compact: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.replace("&mut", "&~");
    let mut out = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        let last = token.rsplit("::").next().unwrap_or("").to_owned();
        out.push_str(&last);
        token.clear();
    };
    for ch in compact.chars() {
        if matches!(ch, '<' | '>' | ',' | '&' | '(' | ')' | '~') {
            flush(&mut token, &mut out);
            out.push(ch);
        } else {
            token.push(ch);
        }
    }
    flush(&mut token, &mut out);
    out.replace("&~", "&mut ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize_type("& mut sui::coin::Coin < WAL >"),
            "&mut Coin<WAL>"
        );
        assert_eq!(normalize_type("&mut TxContext"), "&mut TxContext");
        assert_eq!(normalize_type("vector<vector<u8>>"), "vector<vector<u8>>");
        assert_eq!(normalize_type("&Option<u32>"), "&Option<u32>");
    }

    #[test]
    fn generic_names() {
        assert_eq!(generic_name("T: store"), "T");
        assert_eq!(generic_name("phantom T"), "T");
    }
}
