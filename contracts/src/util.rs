//! Glue between Move values (BCS in [`Value`]s) and the core mirrors.

use floe_core::move_types::{Ability, MoveTypeInfo, ObjectId, U256Le};
use floe_runtime::framework::{BALANCE_ENOT_ENOUGH, CoinData};
use floe_runtime::object_field::id_type;
use floe_runtime::{Abilities, Call, NativeError, Runtime, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sui_sdk_types::{Address, Identifier, StructTag, TypeTag};

use crate::registry::AbortCode;
use crate::{FLOE_PACKAGE_ID, WAL_PACKAGE_ID};

/// Ledger abilities of a registry entry.
pub(crate) fn abilities(info: &MoveTypeInfo) -> Abilities {
    Abilities {
        copy: info.has(Ability::Copy),
        drop: info.has(Ability::Drop),
        store: info.has(Ability::Store),
        key: info.has(Ability::Key),
    }
}

/// Move's `assert!(cond, code)`: the abort is located in the module that
/// declares `code`, as on Sui.
pub(crate) fn ensure(cond: bool, code: AbortCode) -> Result<(), NativeError> {
    code.ensure(cond)
}

/// Move's arithmetic error (overflow/underflow) has no abort code; the
/// ledger has no dedicated status for it, so it surfaces as an invariant
/// violation that still aborts the transaction.
pub(crate) fn arithmetic() -> NativeError {
    NativeError::Invariant("arithmetic error (overflow or underflow)".into())
}

pub(crate) fn add_u64(a: u64, b: u64) -> Result<u64, NativeError> {
    a.checked_add(b).ok_or_else(arithmetic)
}

pub(crate) fn add_u32(a: u32, b: u32) -> Result<u32, NativeError> {
    a.checked_add(b).ok_or_else(arithmetic)
}

pub(crate) fn sub_u32(a: u32, b: u32) -> Result<u32, NativeError> {
    a.checked_sub(b).ok_or_else(arithmetic)
}

pub(crate) fn mul_u64(a: u64, b: u64) -> Result<u64, NativeError> {
    a.checked_mul(b).ok_or_else(arithmetic)
}

/// A struct tag in the floe package.
pub(crate) fn floe_tag(module: &'static str, name: &'static str, args: Vec<TypeTag>) -> StructTag {
    StructTag::new(
        FLOE_PACKAGE_ID,
        Identifier::from_static(module),
        Identifier::from_static(name),
        args,
    )
}

/// `wal::wal::WAL`.
pub(crate) fn wal_type() -> TypeTag {
    StructTag::new(
        WAL_PACKAGE_ID,
        Identifier::from_static("wal"),
        Identifier::from_static("WAL"),
        vec![],
    )
    .into()
}

/// `Coin<WAL>` value.
pub(crate) fn wal_coin(coin: CoinData) -> Value {
    floe_runtime::framework::coin_value(&wal_type(), coin)
}

/// A value of a floe struct.
pub(crate) fn floe_value<T: Serialize>(module: &'static str, name: &'static str, v: &T) -> Value {
    Value::new(floe_tag(module, name, vec![]).into(), v)
}

pub(crate) fn u256(v: U256Le) -> Value {
    Value::new(TypeTag::U256, &v)
}

pub(crate) fn id_value(id: ObjectId) -> Value {
    Value::new(id_type(), &id)
}

pub(crate) fn string_tag() -> TypeTag {
    StructTag::new(
        Address::from_static("0x1"),
        Identifier::from_static("string"),
        Identifier::from_static("String"),
        vec![],
    )
    .into()
}

pub(crate) fn option_tag(inner: TypeTag) -> TypeTag {
    StructTag::new(
        Address::from_static("0x1"),
        Identifier::from_static("option"),
        Identifier::from_static("Option"),
        vec![inner],
    )
    .into()
}

pub(crate) fn to_address(id: ObjectId) -> Address {
    Address::new(id.0)
}

pub(crate) fn to_object_id(a: Address) -> ObjectId {
    ObjectId(a.into_inner())
}

/// A fresh object id (`object::new`).
pub(crate) fn new_id(rt: &mut Runtime<'_>) -> Result<ObjectId, NativeError> {
    Ok(to_object_id(rt.new_uid()?))
}

/// Decodes argument `i`.
pub(crate) fn arg<T: DeserializeOwned>(c: &Call<'_, '_>, i: usize) -> Result<T, NativeError> {
    c.arg(i)
}

/// Writes `&mut` argument `i` back.
pub(crate) fn set<T: Serialize>(c: &mut Call<'_, '_>, i: usize, v: &T) -> Result<(), NativeError> {
    c.set_arg(i, v)
}

/// Splits `amount` off a coin's balance (`balance::split`, which aborts
/// with `0x2::balance::ENotEnough` when short).
pub(crate) fn split_coin(coin: &mut CoinData, amount: u64) -> Result<u64, NativeError> {
    coin.value = coin
        .value
        .checked_sub(amount)
        .ok_or(BALANCE_ENOT_ENOUGH.err())?;
    Ok(amount)
}
