//! The pieces of the Sui framework (`0x2`) the devnet needs, natively:
//! `coin`, `balance`, `transfer`, `object`, `clock`, `tx_context`, plus the
//! type declarations of `sui::SUI`, `dynamic_field::Field`,
//! `dynamic_object_field::Wrapper` and the table handles (dynamic fields
//! take `&mut UID`, which no transaction can pass, so they are reached
//! through [`Runtime`](crate::Runtime)'s `df_*` and `dof_*` methods and
//! [`ObjectTable`](crate::ObjectTable)).
//!
//! Object layouts are exactly Sui's: `Coin<T> { id: UID, balance:
//! Balance<T> { value: u64 } }` is 40 bytes, `Clock { id: UID,
//! timestamp_ms: u64 }`. Abort codes are the Move modules' own.

use serde::{Deserialize, Serialize};
use sui_sdk_types::{Address, Identifier, StructTag, TypeTag};

use crate::{
    Abilities, AbortConst, Call, NativeError, NativePackage, PackageBuilder, Param, Ty, Value,
};

/// The shared Clock's fixed id.
pub const CLOCK_ID: Address = Address::from_static("0x6");

/// `0x2::balance::ENonZero`: also what `coin::destroy_zero` reports, as it
/// calls `balance::destroy_zero`.
pub const BALANCE_ENON_ZERO: AbortConst = AbortConst::sui("balance", "ENonZero", 0);
/// `0x2::balance::EOverflow` (`join`, `increase_supply`).
pub const BALANCE_EOVERFLOW: AbortConst = AbortConst::sui("balance", "EOverflow", 1);
/// `0x2::balance::ENotEnough` (`split`, so `coin::split` and `coin::take`).
pub const BALANCE_ENOT_ENOUGH: AbortConst = AbortConst::sui("balance", "ENotEnough", 2);

/// `Coin<T>`'s contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoinData {
    pub id: Address,
    pub value: u64,
}

/// `Clock`'s contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockData {
    pub id: Address,
    pub timestamp_ms: u64,
}

/// `0x2::coin::Coin<coin_type>`.
pub fn coin_tag(coin_type: TypeTag) -> StructTag {
    StructTag::coin(coin_type)
}

/// `0x2::balance::Balance<coin_type>`.
pub fn balance_tag(coin_type: TypeTag) -> StructTag {
    StructTag::new(
        Address::TWO,
        Identifier::from_static("balance"),
        Identifier::from_static("Balance"),
        vec![coin_type],
    )
}

/// `0x2::clock::Clock`.
pub fn clock_tag() -> StructTag {
    StructTag::new(
        Address::TWO,
        Identifier::from_static("clock"),
        Identifier::from_static("Clock"),
        vec![],
    )
}

/// A `Coin<coin_type>` value.
pub fn coin_value(coin_type: &TypeTag, coin: CoinData) -> Value {
    Value::new(coin_tag(coin_type.clone()).into(), &coin)
}

fn balance_value(coin_type: &TypeTag, amount: u64) -> Value {
    Value::new(balance_tag(coin_type.clone()).into(), &amount)
}

fn coin_t() -> Ty {
    Ty::st("0x2::coin::Coin", vec![Ty::Param(0)])
}

fn balance_t() -> Ty {
    Ty::st("0x2::balance::Balance", vec![Ty::Param(0)])
}

fn add(a: u64, b: u64) -> Result<u64, NativeError> {
    a.checked_add(b).ok_or(BALANCE_EOVERFLOW.err())
}

fn sub(a: u64, b: u64) -> Result<u64, NativeError> {
    a.checked_sub(b).ok_or(BALANCE_ENOT_ENOUGH.err())
}

/// The Move standard library at `0x1`: no functions yet, but its data
/// types' abilities, so values like `Option<String>` returned by natives
/// can be dropped, copied and stored as in Move.
pub struct MoveStdlib;

impl NativePackage for MoveStdlib {
    fn address(&self) -> Address {
        Address::from_static("0x1")
    }

    fn register(&self, b: &mut PackageBuilder) {
        b.datatype("string", "String", Abilities::DATA)
            .datatype("ascii", "String", Abilities::DATA)
            .datatype("ascii", "Char", Abilities::DATA)
            .datatype("option", "Option", Abilities::DATA)
            .datatype("type_name", "TypeName", Abilities::DATA)
            .datatype("fixed_point32", "FixedPoint32", Abilities::DATA)
            .datatype("bit_vector", "BitVector", Abilities::DATA);
    }
}

/// The Sui framework package at `0x2`.
pub struct SuiFramework;

impl NativePackage for SuiFramework {
    fn address(&self) -> Address {
        Address::TWO
    }

    fn register(&self, b: &mut PackageBuilder) {
        b.datatype("coin", "Coin", Abilities::KEY_STORE)
            .datatype("coin", "TreasuryCap", Abilities::KEY_STORE)
            .datatype("balance", "Balance", Abilities::STORE)
            .datatype("balance", "Supply", Abilities::STORE)
            .datatype("sui", "SUI", Abilities::DROP)
            .datatype("clock", "Clock", Abilities::KEY)
            .datatype("object", "ID", Abilities::DATA)
            .datatype("object", "UID", Abilities::STORE)
            .datatype("dynamic_field", "Field", Abilities::KEY)
            .datatype("dynamic_object_field", "Wrapper", Abilities::DATA)
            .datatype("object_table", "ObjectTable", Abilities::KEY_STORE)
            .datatype("table", "Table", Abilities::KEY_STORE)
            .datatype("bag", "Bag", Abilities::KEY_STORE)
            .datatype("package", "UpgradeCap", Abilities::KEY_STORE)
            // On Sui a ticket has no abilities: the Upgrade command must
            // consume it. This ledger cannot run that command, so it lets
            // the ticket be dropped: an authorization (`floe::upgrade`)
            // is a transaction of its own whose effects stay recorded.
            .datatype("package", "UpgradeTicket", Abilities::DROP)
            .datatype("package", "UpgradeReceipt", Abilities::default());
        register_coin(b);
        register_balance(b);
        register_misc(b);
    }
}

fn register_coin(b: &mut PackageBuilder) {
    use Param::{Mut, Ref, TxContext, Val};
    b.function(
        "coin",
        "value",
        1,
        vec![Ref(coin_t())],
        vec![Ty::U64],
        |c| {
            let coin: CoinData = c.arg(0)?;
            Ok(vec![Value::u64(coin.value)])
        },
    );
    b.function(
        "coin",
        "split",
        1,
        vec![Mut(coin_t()), Val(Ty::U64), TxContext],
        vec![coin_t()],
        |c| {
            let mut coin: CoinData = c.arg(0)?;
            let amount: u64 = c.arg(1)?;
            coin.value = sub(coin.value, amount)?;
            c.set_arg(0, &coin)?;
            let id = c.rt.new_uid()?;
            let t = c.type_arg(0)?.clone();
            Ok(vec![coin_value(&t, CoinData { id, value: amount })])
        },
    );
    b.function(
        "coin",
        "join",
        1,
        vec![Mut(coin_t()), Val(coin_t())],
        vec![],
        |c| {
            let mut coin: CoinData = c.arg(0)?;
            let other: CoinData = c.arg(1)?;
            coin.value = add(coin.value, other.value)?;
            c.rt.delete_uid(other.id)?;
            c.set_arg(0, &coin)?;
            Ok(vec![])
        },
    );
    b.function("coin", "zero", 1, vec![TxContext], vec![coin_t()], |c| {
        let id = c.rt.new_uid()?;
        let t = c.type_arg(0)?.clone();
        Ok(vec![coin_value(&t, CoinData { id, value: 0 })])
    });
    b.function(
        "coin",
        "destroy_zero",
        1,
        vec![Val(coin_t())],
        vec![],
        |c| {
            let coin: CoinData = c.arg(0)?;
            if coin.value != 0 {
                return Err(BALANCE_ENON_ZERO.err());
            }
            c.rt.delete_uid(coin.id)?;
            Ok(vec![])
        },
    );
    b.function(
        "coin",
        "into_balance",
        1,
        vec![Val(coin_t())],
        vec![balance_t()],
        |c| {
            let coin: CoinData = c.arg(0)?;
            c.rt.delete_uid(coin.id)?;
            Ok(vec![balance_value(c.type_arg(0)?, coin.value)])
        },
    );
    b.function(
        "coin",
        "from_balance",
        1,
        vec![Val(balance_t()), TxContext],
        vec![coin_t()],
        |c| {
            let value: u64 = c.arg(0)?;
            let id = c.rt.new_uid()?;
            let t = c.type_arg(0)?.clone();
            Ok(vec![coin_value(&t, CoinData { id, value })])
        },
    );
    b.function(
        "coin",
        "put",
        1,
        vec![Mut(balance_t()), Val(coin_t())],
        vec![],
        |c| {
            let balance: u64 = c.arg(0)?;
            let coin: CoinData = c.arg(1)?;
            c.rt.delete_uid(coin.id)?;
            c.set_arg(0, &add(balance, coin.value)?)?;
            Ok(vec![])
        },
    );
    b.function(
        "coin",
        "take",
        1,
        vec![Mut(balance_t()), Val(Ty::U64), TxContext],
        vec![coin_t()],
        |c| {
            let balance: u64 = c.arg(0)?;
            let amount: u64 = c.arg(1)?;
            c.set_arg(0, &sub(balance, amount)?)?;
            let id = c.rt.new_uid()?;
            let t = c.type_arg(0)?.clone();
            Ok(vec![coin_value(&t, CoinData { id, value: amount })])
        },
    );
}

fn register_balance(b: &mut PackageBuilder) {
    use Param::{Mut, Ref, Val};
    b.function(
        "balance",
        "value",
        1,
        vec![Ref(balance_t())],
        vec![Ty::U64],
        |c| Ok(vec![Value::u64(c.arg(0)?)]),
    );
    b.function("balance", "zero", 1, vec![], vec![balance_t()], |c| {
        Ok(vec![balance_value(c.type_arg(0)?, 0)])
    });
    b.function(
        "balance",
        "join",
        1,
        vec![Mut(balance_t()), Val(balance_t())],
        vec![Ty::U64],
        |c| {
            let total = add(c.arg(0)?, c.arg(1)?)?;
            c.set_arg(0, &total)?;
            Ok(vec![Value::u64(total)])
        },
    );
    b.function(
        "balance",
        "split",
        1,
        vec![Mut(balance_t()), Val(Ty::U64)],
        vec![balance_t()],
        |c| {
            let amount: u64 = c.arg(1)?;
            let rest = sub(c.arg(0)?, amount)?;
            c.set_arg(0, &rest)?;
            Ok(vec![balance_value(c.type_arg(0)?, amount)])
        },
    );
    b.function(
        "balance",
        "withdraw_all",
        1,
        vec![Mut(balance_t())],
        vec![balance_t()],
        |c| {
            let all: u64 = c.arg(0)?;
            c.set_arg(0, &0u64)?;
            Ok(vec![balance_value(c.type_arg(0)?, all)])
        },
    );
    b.function(
        "balance",
        "destroy_zero",
        1,
        vec![Val(balance_t())],
        vec![],
        |c| {
            let v: u64 = c.arg(0)?;
            if v != 0 {
                return Err(BALANCE_ENON_ZERO.err());
            }
            Ok(vec![])
        },
    );
}

fn store_object(c: &Call<'_, '_>) -> Result<Value, NativeError> {
    let value = c.value(0)?.clone();
    let tag = value
        .struct_tag()
        .ok_or_else(|| NativeError::InvalidArgument {
            index: 0,
            reason: "not an object".into(),
        })?;
    let abilities = c.rt.registry().abilities(tag);
    if !(abilities.key && abilities.store) {
        return Err(NativeError::InvalidArgument {
            index: 0,
            reason: format!("{tag} lacks key and store"),
        });
    }
    Ok(value)
}

fn register_misc(b: &mut PackageBuilder) {
    use Param::{Ref, TxContext, Val};
    b.function(
        "transfer",
        "public_transfer",
        1,
        vec![Val(Ty::Param(0)), Val(Ty::Address)],
        vec![],
        |c| {
            let object = store_object(c)?;
            let to: Address = c.arg(1)?;
            c.rt.transfer(object, to)?;
            Ok(vec![])
        },
    );
    b.function(
        "transfer",
        "public_share_object",
        1,
        vec![Val(Ty::Param(0))],
        vec![],
        |c| {
            let object = store_object(c)?;
            c.rt.share(object)?;
            Ok(vec![])
        },
    );
    b.function(
        "transfer",
        "public_freeze_object",
        1,
        vec![Val(Ty::Param(0))],
        vec![],
        |c| {
            let object = store_object(c)?;
            c.rt.freeze(object)?;
            Ok(vec![])
        },
    );
    let id_t = || Ty::st("0x2::object::ID", vec![]);
    b.function(
        "object",
        "id_from_address",
        0,
        vec![Val(Ty::Address)],
        vec![id_t()],
        |c| {
            let a: Address = c.arg(0)?;
            Ok(vec![Value::new(
                "0x2::object::ID"
                    .parse()
                    .map_err(|_| NativeError::Invariant("ID tag".into()))?,
                &a,
            )])
        },
    );
    b.function(
        "object",
        "id_to_address",
        0,
        vec![Ref(id_t())],
        vec![Ty::Address],
        |c| {
            let a: Address = c.arg(0)?;
            Ok(vec![Value::address(a)])
        },
    );
    b.function(
        "clock",
        "timestamp_ms",
        0,
        vec![Ref(Ty::st("0x2::clock::Clock", vec![]))],
        vec![Ty::U64],
        |c| {
            let clock: ClockData = c.arg(0)?;
            Ok(vec![Value::u64(clock.timestamp_ms)])
        },
    );
    b.function(
        "tx_context",
        "sender",
        0,
        vec![TxContext],
        vec![Ty::Address],
        |c| Ok(vec![Value::address(c.rt.sender())]),
    );
    b.function(
        "tx_context",
        "epoch",
        0,
        vec![TxContext],
        vec![Ty::U64],
        |c| Ok(vec![Value::u64(c.rt.epoch())]),
    );
    b.function(
        "tx_context",
        "epoch_timestamp_ms",
        0,
        vec![TxContext],
        vec![Ty::U64],
        |c| Ok(vec![Value::u64(c.rt.epoch_timestamp_ms())]),
    );
}
