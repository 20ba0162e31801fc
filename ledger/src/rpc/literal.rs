//! Unresolved inputs of a partially built transaction: JSON literals become
//! BCS of the type their first use expects, and shared objects given
//! without mutability become mutable only if some use needs `&mut` or a
//! value. This is what Sui's TypeScript SDK relies on when it leaves
//! resolution to SimulateTransaction.

use std::collections::HashMap;

use floe_runtime::{Param, Registry};
use prost_types::value::Kind;
use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{Address, Argument, Command, TypeTag};
use tonic::Status;

/// How an input is first used: the expected type (if known) and whether
/// the use may mutate or move it.
#[derive(Debug, Clone)]
pub(crate) struct Use {
    pub ty: Option<TypeTag>,
    pub mutates: bool,
}

/// Collects, per input index, how the commands use it.
pub(crate) fn uses(registry: &Registry, commands: &[pb::Command]) -> HashMap<u16, Use> {
    let mut out: HashMap<u16, Use> = HashMap::new();
    let mut note = |arg: &Argument, ty: Option<TypeTag>, mutates: bool| {
        if let Argument::Input(i) = arg {
            let e = out.entry(*i).or_insert(Use {
                ty: None,
                mutates: false,
            });
            if e.ty.is_none() {
                e.ty = ty;
            }
            e.mutates |= mutates;
        }
    };
    for c in commands {
        let Ok(c) = Command::try_from(c) else {
            continue;
        };
        match &c {
            Command::SplitCoins(s) => {
                note(&s.coin, None, true);
                s.amounts
                    .iter()
                    .for_each(|a| note(a, Some(TypeTag::U64), false));
            }
            Command::MergeCoins(m) => {
                note(&m.coin, None, true);
                m.coins_to_merge.iter().for_each(|a| note(a, None, true));
            }
            Command::TransferObjects(t) => {
                note(&t.address, Some(TypeTag::Address), false);
                t.objects.iter().for_each(|a| note(a, None, true));
            }
            Command::MakeMoveVector(v) => {
                v.elements
                    .iter()
                    .for_each(|a| note(a, v.type_.clone(), true));
            }
            Command::MoveCall(m) => {
                let Some(f) = registry.function(&m.package, m.module.as_str(), m.function.as_str())
                else {
                    m.arguments.iter().for_each(|a| note(a, None, true));
                    continue;
                };
                let params = f.params.iter().filter(|p| **p != Param::TxContext);
                for (p, a) in params.zip(&m.arguments) {
                    let (ty, mutates) = match p {
                        Param::Val(t) => (t, true),
                        Param::Mut(t) => (t, true),
                        Param::Ref(t) => (t, false),
                        Param::TxContext => continue,
                    };
                    note(a, ty.instantiate(&m.type_arguments), mutates);
                }
            }
            _ => {}
        }
    }
    out
}

fn uleb(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn int(v: &Kind) -> Option<u128> {
    match v {
        Kind::NumberValue(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= 9.0e15 => Some(*n as u128),
        Kind::StringValue(s) => s.parse().ok(),
        _ => None,
    }
}

const MAX_DEPTH: usize = 16;

/// Encodes a JSON literal as BCS of `ty`.
pub(crate) fn encode(ty: &TypeTag, v: &Kind, depth: usize, out: &mut Vec<u8>) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    match ty {
        TypeTag::Bool => out.push(u8::from(*match v {
            Kind::BoolValue(b) => b,
            _ => return None,
        })),
        TypeTag::U8 => out.extend(u8::try_from(int(v)?).ok()?.to_le_bytes()),
        TypeTag::U16 => out.extend(u16::try_from(int(v)?).ok()?.to_le_bytes()),
        TypeTag::U32 => out.extend(u32::try_from(int(v)?).ok()?.to_le_bytes()),
        TypeTag::U64 => out.extend(u64::try_from(int(v)?).ok()?.to_le_bytes()),
        TypeTag::U128 => out.extend(int(v)?.to_le_bytes()),
        TypeTag::U256 => {
            out.extend(int(v)?.to_le_bytes());
            out.extend([0u8; 16]);
        }
        TypeTag::Address => match v {
            Kind::StringValue(s) => out.extend(s.parse::<Address>().ok()?.into_inner()),
            _ => return None,
        },
        TypeTag::Vector(inner) => match v {
            Kind::ListValue(l) => {
                uleb(l.values.len(), out);
                for e in &l.values {
                    encode(inner, e.kind.as_ref()?, depth + 1, out)?;
                }
            }
            Kind::StringValue(s) if **inner == TypeTag::U8 => {
                uleb(s.len(), out);
                out.extend(s.as_bytes());
            }
            _ => return None,
        },
        TypeTag::Struct(tag) => {
            let path = (
                tag.address().to_string(),
                tag.module().as_str(),
                tag.name().as_str(),
            );
            let one = Address::from_static("0x1").to_string();
            let two = Address::TWO.to_string();
            match (path.0.as_str(), path.1, path.2, v) {
                (a, "string" | "ascii", "String", Kind::StringValue(s)) if a == one => {
                    uleb(s.len(), out);
                    out.extend(s.as_bytes());
                }
                (a, "object", "ID", Kind::StringValue(s)) if a == two => {
                    out.extend(s.parse::<Address>().ok()?.into_inner());
                }
                (a, "option", "Option", Kind::NullValue(_)) if a == one => out.push(0),
                (a, "option", "Option", v) if a == one => {
                    out.push(1);
                    encode(tag.type_params().first()?, v, depth + 1, out)?;
                }
                _ => return None,
            }
        }
        TypeTag::Signer => return None,
    }
    Some(())
}

/// Resolves input `i`'s literal to pure bytes using its first use.
pub(crate) fn resolve_literal(
    i: usize,
    input: &mut pb::Input,
    use_: Option<&Use>,
) -> Result<(), Status> {
    let Some(literal) = input.literal.take() else {
        return Ok(());
    };
    let ty = use_.and_then(|u| u.ty.clone()).ok_or_else(|| {
        Status::invalid_argument(format!(
            "input {i}: cannot infer the type of a literal; send BCS pure bytes"
        ))
    })?;
    let kind = literal
        .kind
        .ok_or_else(|| Status::invalid_argument(format!("input {i}: empty literal")))?;
    let mut bytes = Vec::new();
    encode(&ty, &kind, 0, &mut bytes).ok_or_else(|| {
        Status::invalid_argument(format!("input {i}: literal is not a valid {ty}"))
    })?;
    input.pure = Some(bytes.into());
    input.kind = Some(pb::input::InputKind::Pure as i32);
    Ok(())
}
