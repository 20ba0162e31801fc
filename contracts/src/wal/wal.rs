//! Twin of `wal::wal`: the WAL coin (9 decimals), the whole supply minted
//! once at init to the publisher, and the shared burn-only
//! `ProtectedTreasury`.
//!
//! As in Move, the `TreasuryCap<WAL>` is a dynamic *object* field of the
//! treasury under `TreasuryCapKey`: an object of its own, owned by the
//! field, readable by its id.

use floe_core::move_types::{
    Ability, MoveField, MovePackage, MoveRole, MoveTypeInfo, MoveTypeKind, ObjectId,
};
use floe_core::price::FROST_PER_WAL;
use floe_runtime::framework::CoinData;
use floe_runtime::{Call, NativeError, Runtime, Value};
use serde::{Deserialize, Serialize};
use sui_sdk_types::{Identifier, StructTag, TypeTag};

use crate::WAL_PACKAGE_ID;
use crate::registry::{AbortCode, FnSig, ModuleDecl, NativeBody, Package, Vis};
use crate::util::{arg, to_address, wal_coin, wal_type};

/// Whole WAL minted at publication.
pub const TOTAL_WAL_SUPPLY: u64 = 5_000_000_000;
/// Decimals of the coin.
pub const DECIMALS: u8 = 9;

/// No abort codes (`coin::burn` aborts pass through).
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "total_supply",
        Vis::Public,
        &[],
        &[("treasury", "&ProtectedTreasury")],
        &["u64"],
    ),
    FnSig::new(
        "burn",
        Vis::Public,
        &[],
        &[
            ("treasury", "&mut ProtectedTreasury"),
            ("coin", "Coin<WAL>"),
        ],
        &[],
    ),
    FnSig::new(
        "burn_balance",
        Vis::Public,
        &[],
        &[
            ("treasury", "&mut ProtectedTreasury"),
            ("balance", "Balance<WAL>"),
        ],
        &[],
    ),
    FnSig::new("initial_supply", Vis::Public, &[], &[], &["u64"]),
];

const fn info(
    name: &'static str,
    abilities: &'static [Ability],
    role: MoveRole,
    fields: &'static [MoveField],
) -> MoveTypeInfo {
    MoveTypeInfo {
        package: MovePackage::Wal,
        module: "wal",
        name,
        type_params: &[],
        abilities,
        role,
        kind: MoveTypeKind::Struct(fields),
    }
}

const STRUCTS: &[MoveTypeInfo] = &[
    info("WAL", &[Ability::Drop], MoveRole::Value, &[]),
    info(
        "ProtectedTreasury",
        &[Ability::Key],
        MoveRole::Object,
        &[MoveField {
            name: "id",
            ty: "UID",
        }],
    ),
    info(
        "TreasuryCapKey",
        &[Ability::Copy, Ability::Drop, Ability::Store],
        MoveRole::Value,
        &[],
    ),
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Wal,
    name: "wal",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// `ProtectedTreasury`'s contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedTreasury {
    pub id: ObjectId,
}

/// `TreasuryCap<WAL>`'s contents (`Supply` is a `u64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreasuryCap {
    pub id: ObjectId,
    pub total_supply: u64,
}

fn wal_tag(name: &'static str) -> StructTag {
    StructTag::new(
        WAL_PACKAGE_ID,
        Identifier::from_static("wal"),
        Identifier::from_static(name),
        vec![],
    )
}

fn cap_key() -> Value {
    // An empty Move struct carries one `dummy_field: bool`.
    Value::new(wal_tag("TreasuryCapKey").into(), &false)
}

fn cap_type() -> TypeTag {
    StructTag::new(
        sui_sdk_types::Address::TWO,
        Identifier::from_static("coin"),
        Identifier::from_static("TreasuryCap"),
        vec![wal_type()],
    )
    .into()
}

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "total_supply" => |c| {
            let treasury: ProtectedTreasury = arg(c, 0)?;
            let cap: TreasuryCap =
                c.rt.dof_get(to_address(treasury.id), &cap_key(), &cap_type())?;
            Ok(vec![Value::u64(cap.total_supply)])
        },
        "burn" => native_burn,
        "burn_balance" => |c| {
            let treasury: ProtectedTreasury = arg(c, 0)?;
            let balance: u64 = arg(c, 1)?;
            burn_amount(c.rt, &treasury, balance)?;
            Ok(vec![])
        },
        "initial_supply" => |_| Ok(vec![Value::u64(initial_supply())]),
        _ => return None,
    };
    Some(f)
}

/// The initial supply in FROST.
pub const fn initial_supply() -> u64 {
    TOTAL_WAL_SUPPLY * FROST_PER_WAL
}

/// `burn`: destroys the coin and lowers the supply (`coin::burn`).
fn native_burn(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let treasury: ProtectedTreasury = arg(c, 0)?;
    let coin: CoinData = arg(c, 1)?;
    c.rt.delete_uid(coin.id)?;
    burn_amount(c.rt, &treasury, coin.value)?;
    Ok(vec![])
}

/// `burn_balance`: lowers the supply by `amount` FROST taken out of
/// circulation by the caller (`balance::decrease_supply`).
pub fn burn_amount(
    rt: &mut Runtime<'_>,
    treasury: &ProtectedTreasury,
    amount: u64,
) -> Result<(), NativeError> {
    let parent = to_address(treasury.id);
    let mut cap: TreasuryCap = rt.dof_get(parent, &cap_key(), &cap_type())?;
    cap.total_supply = cap
        .total_supply
        .checked_sub(amount)
        .ok_or(BALANCE_EOVERFLOW.err())?;
    rt.dof_set(parent, &cap_key(), Value::new(cap_type(), &cap))
}

/// `sui::balance::EOverflow` (a supply decrease below zero).
const BALANCE_EOVERFLOW: AbortCode = floe_runtime::framework::BALANCE_EOVERFLOW;

/// `init`: mints the whole supply to the publisher (the init sender) and
/// shares the treasury holding the cap.
pub fn init(rt: &mut Runtime<'_>) -> Result<(), NativeError> {
    let cap_id = rt.new_uid()?;
    let supply = CoinData {
        id: rt.new_uid()?,
        value: initial_supply(),
    };
    let sender = rt.sender();
    rt.transfer(wal_coin(supply), sender)?;
    let treasury = ProtectedTreasury {
        id: crate::util::to_object_id(rt.new_uid()?),
    };
    let cap = TreasuryCap {
        id: crate::util::to_object_id(cap_id),
        total_supply: initial_supply(),
    };
    rt.dof_add(
        to_address(treasury.id),
        cap_key(),
        Value::new(cap_type(), &cap),
    )?;
    rt.share(Value::new(wal_tag("ProtectedTreasury").into(), &treasury))
}
