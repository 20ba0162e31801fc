//! Move types as native signatures name them, and BCS values.

use serde::Serialize;
use sui_sdk_types::{Address, Identifier, StructTag, TypeTag};

/// A Move value: its type and its BCS bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub ty: TypeTag,
    pub bytes: Vec<u8>,
}

impl Value {
    /// Encodes `value` as BCS of type `ty`.
    pub fn new<T: Serialize>(ty: TypeTag, value: &T) -> Self {
        // BCS encoding of in-memory Rust values of the shapes natives use
        // (integers, addresses, vectors, derived structs) cannot fail.
        let bytes = bcs::to_bytes(value).unwrap_or_default();
        Self { ty, bytes }
    }

    /// A `u64` value.
    pub fn u64(v: u64) -> Self {
        Self::new(TypeTag::U64, &v)
    }

    /// An `address` value.
    pub fn address(v: Address) -> Self {
        Self::new(TypeTag::Address, &v)
    }

    /// A `bool` value.
    pub fn bool(v: bool) -> Self {
        Self::new(TypeTag::Bool, &v)
    }

    /// The object id a value of a `key` type starts with.
    pub fn object_id(&self) -> Option<Address> {
        self.bytes
            .get(..Address::LENGTH)
            .and_then(|b| Address::from_bytes(b).ok())
    }

    /// The struct tag, if this is a struct value.
    pub fn struct_tag(&self) -> Option<&StructTag> {
        match &self.ty {
            TypeTag::Struct(tag) => Some(tag),
            _ => None,
        }
    }
}

/// Move abilities of a struct.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Abilities {
    pub copy: bool,
    pub drop: bool,
    pub store: bool,
    pub key: bool,
}

impl Abilities {
    /// `has key, store`: an object anyone may transfer.
    pub const KEY_STORE: Self = Self {
        copy: false,
        drop: false,
        store: true,
        key: true,
    };
    /// `has key`: an object only its module may transfer.
    pub const KEY: Self = Self {
        copy: false,
        drop: false,
        store: false,
        key: true,
    };
    /// `has store`.
    pub const STORE: Self = Self {
        copy: false,
        drop: false,
        store: true,
        key: false,
    };
    /// `has copy, drop, store`: plain data.
    pub const DATA: Self = Self {
        copy: true,
        drop: true,
        store: true,
        key: false,
    };
    /// `has drop`: a witness.
    pub const DROP: Self = Self {
        copy: false,
        drop: true,
        store: false,
        key: false,
    };
}

/// A type in a native signature; `Param(i)` is the `i`th type parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Bool,
    U8,
    U16,
    U32,
    U64,
    U128,
    U256,
    Address,
    Vector(Box<Ty>),
    Struct {
        address: Address,
        module: Identifier,
        name: Identifier,
        args: Vec<Ty>,
    },
    Param(u16),
}

impl Ty {
    /// `address::module::name<args>`; `path` is like `"0x2::coin::Coin"`.
    ///
    /// # Panics
    /// On a malformed literal path (registration-time programming error).
    pub fn st(path: &str, args: Vec<Ty>) -> Self {
        let mut parts = path.split("::");
        let (Some(a), Some(m), Some(n), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("struct path must be address::module::name, got {path}");
        };
        Ty::Struct {
            address: a.parse().expect("valid address literal"),
            module: Identifier::new(m).expect("valid module literal"),
            name: Identifier::new(n).expect("valid struct literal"),
            args,
        }
    }

    /// `vector<inner>`.
    pub fn vector(inner: Ty) -> Self {
        Ty::Vector(Box::new(inner))
    }

    /// Substitutes type arguments; `None` if a parameter is out of range.
    pub fn instantiate(&self, type_args: &[TypeTag]) -> Option<TypeTag> {
        Some(match self {
            Ty::Bool => TypeTag::Bool,
            Ty::U8 => TypeTag::U8,
            Ty::U16 => TypeTag::U16,
            Ty::U32 => TypeTag::U32,
            Ty::U64 => TypeTag::U64,
            Ty::U128 => TypeTag::U128,
            Ty::U256 => TypeTag::U256,
            Ty::Address => TypeTag::Address,
            Ty::Vector(inner) => TypeTag::Vector(Box::new(inner.instantiate(type_args)?)),
            Ty::Struct {
                address,
                module,
                name,
                args,
            } => {
                let args = args
                    .iter()
                    .map(|a| a.instantiate(type_args))
                    .collect::<Option<Vec<_>>>()?;
                TypeTag::Struct(Box::new(StructTag::new(
                    *address,
                    module.clone(),
                    name.clone(),
                    args,
                )))
            }
            Ty::Param(i) => type_args.get(*i as usize)?.clone(),
        })
    }
}

/// How a function takes a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// By value (moved in).
    Val(Ty),
    /// `&T`.
    Ref(Ty),
    /// `&mut T`; changes are written back to the caller.
    Mut(Ty),
    /// `&TxContext` / `&mut TxContext`, supplied by the runtime, never by
    /// the transaction (it must be last, as in Move).
    TxContext,
}

const MAX_DEPTH: usize = 32;

/// Checks that `bytes` is exactly one BCS value of `ty`, for the types a
/// pure argument may have (primitives, vectors, `String`, `ID`, `Option`).
/// Returns false for anything else, including other structs.
pub fn validate_bcs(ty: &TypeTag, bytes: &[u8]) -> bool {
    let mut at = 0;
    walk(ty, bytes, &mut at, 0) && at == bytes.len()
}

/// Length of the BCS value of `ty` at the start of `bytes`, for the types
/// [`validate_bcs`] understands; `None` otherwise.
pub fn bcs_prefix_len(ty: &TypeTag, bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    walk(ty, bytes, &mut at, 0).then_some(at)
}

fn take(bytes: &[u8], at: &mut usize, n: usize) -> Option<()> {
    let end = at.checked_add(n)?;
    if end > bytes.len() {
        return None;
    }
    *at = end;
    Some(())
}

fn uleb(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7).take(5) {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return usize::try_from(value)
                .ok()
                .filter(|v| *v <= u32::MAX as usize);
        }
    }
    None
}

fn walk(ty: &TypeTag, bytes: &[u8], at: &mut usize, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let fixed = |n: usize, at: &mut usize| take(bytes, at, n).is_some();
    match ty {
        TypeTag::Bool => matches!(bytes.get(*at), Some(0 | 1)) && fixed(1, at),
        TypeTag::U8 => fixed(1, at),
        TypeTag::U16 => fixed(2, at),
        TypeTag::U32 => fixed(4, at),
        TypeTag::U64 => fixed(8, at),
        TypeTag::U128 => fixed(16, at),
        TypeTag::U256 | TypeTag::Address => fixed(32, at),
        TypeTag::Signer => false,
        TypeTag::Vector(inner) => {
            let Some(len) = uleb(bytes, at) else {
                return false;
            };
            if matches!(**inner, TypeTag::U8) {
                return fixed(len, at);
            }
            (0..len).all(|_| walk(inner, bytes, at, depth + 1))
        }
        TypeTag::Struct(tag) => {
            let path = (*tag.address(), tag.module().as_str(), tag.name().as_str());
            let one = Address::from_static("0x1");
            let two = Address::TWO;
            match path {
                (a, "string", "String") if a == one => {
                    let Some(len) = uleb(bytes, at) else {
                        return false;
                    };
                    let s = *at;
                    fixed(len, at) && std::str::from_utf8(&bytes[s..*at]).is_ok()
                }
                (a, "ascii", "String") if a == one => {
                    let Some(len) = uleb(bytes, at) else {
                        return false;
                    };
                    let s = *at;
                    fixed(len, at) && bytes[s..*at].iter().all(u8::is_ascii)
                }
                (a, "option", "Option") if a == one => {
                    let Some(inner) = tag.type_params().first() else {
                        return false;
                    };
                    match uleb(bytes, at) {
                        Some(0) => true,
                        Some(1) => walk(inner, bytes, at, depth + 1),
                        _ => false,
                    }
                }
                (a, "object", "ID") if a == two => fixed(32, at),
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_validation() {
        assert!(validate_bcs(&TypeTag::U64, &7u64.to_le_bytes()));
        assert!(!validate_bcs(&TypeTag::U64, &[1, 2, 3]));
        assert!(!validate_bcs(&TypeTag::Bool, &[2]));
        let v = bcs::to_bytes(&vec![1u64, 2]).unwrap();
        assert!(validate_bcs(&TypeTag::Vector(Box::new(TypeTag::U64)), &v));
        let s: TypeTag = "0x1::string::String".parse().unwrap();
        assert!(validate_bcs(&s, &bcs::to_bytes("héllo").unwrap()));
        assert!(!validate_bcs(&s, &[2, 0xff, 0xfe]));
        let o: TypeTag = "0x1::option::Option<u8>".parse().unwrap();
        assert!(validate_bcs(&o, &[1, 5]));
        assert!(validate_bcs(&o, &[0]));
        assert!(!validate_bcs(&o, &[2]));
    }

    #[test]
    fn std_types_drop_like_move() {
        let r = crate::Registry::with_framework();
        let t: TypeTag = "0x1::option::Option<0x1::string::String>".parse().unwrap();
        assert!(r.has_drop(&t));
        let c: TypeTag = "0x1::option::Option<0x2::coin::Coin<0x2::sui::SUI>>"
            .parse()
            .unwrap();
        assert!(!r.has_drop(&c));
    }

    #[test]
    fn instantiate() {
        let coin = Ty::st("0x2::coin::Coin", vec![Ty::Param(0)]);
        let sui: TypeTag = "0x2::sui::SUI".parse().unwrap();
        let t = coin.instantiate(&[sui]).unwrap();
        assert_eq!(
            t.to_string(),
            format!("{}::coin::Coin<{}::sui::SUI>", Address::TWO, Address::TWO)
        );
        assert!(coin.instantiate(&[]).is_none());
    }
}
