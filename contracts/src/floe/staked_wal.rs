//! Twin of `floe::staked_wal`: stake delegated to one node, its principal
//! inside; split and join keep the metadata.

use floe_core::move_types::{Balance, MoveType, MoveTypeInfo, ObjectId, StakedWal, StakedWalState};
use floe_runtime::{Call, NativeError, Runtime, Value};
use sui_sdk_types::TypeTag;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{add_u64, arg, ensure, floe_value, id_value, new_id, set, to_address};

/// The smallest stake: 1 WAL.
pub const MIN_STAKING_THRESHOLD: u64 = 1_000_000_000;

abort_codes! {
    module: "staked_wal",
    ENotWithdrawing = 0,
    EMetadataMismatch = 1,
    EInvalidAmount = 2,
    EAlreadyWithdrawing = 6,
    EStakeBelowThreshold = 7,
}

const fn view(name: &'static str, ret: &'static [&'static str]) -> FnSig {
    FnSig::new(name, Vis::Public, &[], &[("sw", "&StakedWal")], ret)
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    view("value", &["u64"]),
    view("node_id", &["ID"]),
    view("activation_epoch", &["u32"]),
    view("is_staked", &["bool"]),
    view("is_withdrawing", &["bool"]),
    view("withdraw_epoch", &["u32"]),
    FnSig::new(
        "split",
        Vis::Public,
        &[],
        &[
            ("sw", "&mut StakedWal"),
            ("amount", "u64"),
            ("ctx", "&mut TxContext"),
        ],
        &["StakedWal"],
    ),
    FnSig::new(
        "join",
        Vis::Public,
        &[],
        &[("sw", "&mut StakedWal"), ("other", "StakedWal")],
        &[],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[StakedWalState::INFO, StakedWal::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "staked_wal",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "value" => |c| Ok(vec![Value::u64(arg::<StakedWal>(c, 0)?.principal.value)]),
        "node_id" => |c| Ok(vec![id_value(arg::<StakedWal>(c, 0)?.node_id)]),
        "activation_epoch" => |c| {
            let sw: StakedWal = arg(c, 0)?;
            Ok(vec![Value::new(TypeTag::U32, &sw.activation_epoch)])
        },
        "is_staked" => |c| Ok(vec![Value::bool(is_staked(&arg(c, 0)?))]),
        "is_withdrawing" => |c| Ok(vec![Value::bool(!is_staked(&arg(c, 0)?))]),
        "withdraw_epoch" => |c| {
            let epoch = withdraw_epoch(&arg(c, 0)?)?;
            Ok(vec![Value::new(TypeTag::U32, &epoch)])
        },
        "split" => native_split,
        "join" => native_join,
        _ => return None,
    };
    Some(f)
}

/// `mint`: a new stake of at least `MIN_STAKING_THRESHOLD`.
pub fn mint(
    rt: &mut Runtime<'_>,
    node_id: ObjectId,
    principal: u64,
    activation_epoch: u32,
) -> Result<StakedWal, NativeError> {
    ensure(principal >= MIN_STAKING_THRESHOLD, EStakeBelowThreshold)?;
    Ok(StakedWal {
        id: new_id(rt)?,
        state: StakedWalState::Staked,
        node_id,
        principal: Balance { value: principal },
        activation_epoch,
    })
}

/// `into_balance`: deletes the object, returns the principal.
pub fn into_balance(rt: &mut Runtime<'_>, sw: StakedWal) -> Result<u64, NativeError> {
    rt.delete_uid(to_address(sw.id))?;
    Ok(sw.principal.value)
}

/// `set_withdrawing`.
pub fn set_withdrawing(sw: &mut StakedWal, withdraw_epoch: u32) -> Result<(), NativeError> {
    ensure(is_staked(sw), EAlreadyWithdrawing)?;
    sw.state = StakedWalState::Withdrawing { withdraw_epoch };
    Ok(())
}

pub fn is_staked(sw: &StakedWal) -> bool {
    sw.state == StakedWalState::Staked
}

/// `withdraw_epoch`: aborts with `ENotWithdrawing` while staked.
pub fn withdraw_epoch(sw: &StakedWal) -> Result<u32, NativeError> {
    match sw.state {
        StakedWalState::Withdrawing { withdraw_epoch } => Ok(withdraw_epoch),
        StakedWalState::Staked => Err(ENotWithdrawing.err()),
    }
}

/// `split`: both parts keep at least `MIN_STAKING_THRESHOLD`.
pub fn split(
    rt: &mut Runtime<'_>,
    sw: &mut StakedWal,
    amount: u64,
) -> Result<StakedWal, NativeError> {
    let value = sw.principal.value;
    ensure(amount > 0 && amount < value, EInvalidAmount)?;
    ensure(amount >= MIN_STAKING_THRESHOLD, EStakeBelowThreshold)?;
    ensure(
        value - amount >= MIN_STAKING_THRESHOLD,
        EStakeBelowThreshold,
    )?;
    sw.principal.value = value - amount;
    Ok(StakedWal {
        id: new_id(rt)?,
        state: sw.state,
        node_id: sw.node_id,
        principal: Balance { value: amount },
        activation_epoch: sw.activation_epoch,
    })
}

/// `join`: same node, state and activation epoch.
pub fn join(rt: &mut Runtime<'_>, sw: &mut StakedWal, other: StakedWal) -> Result<(), NativeError> {
    ensure(sw.node_id == other.node_id, EMetadataMismatch)?;
    ensure(sw.state == other.state, EMetadataMismatch)?;
    ensure(
        sw.activation_epoch == other.activation_epoch,
        EMetadataMismatch,
    )?;
    let principal = into_balance(rt, other)?;
    sw.principal.value = add_u64(sw.principal.value, principal)?;
    Ok(())
}

/// A `StakedWal` value.
pub fn staked_wal_value(sw: &StakedWal) -> Value {
    floe_value("staked_wal", "StakedWal", sw)
}

fn native_split(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let mut sw: StakedWal = arg(c, 0)?;
    let amount: u64 = arg(c, 1)?;
    let new = split(c.rt, &mut sw, amount)?;
    set(c, 0, &sw)?;
    Ok(vec![staked_wal_value(&new)])
}

fn native_join(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let mut sw: StakedWal = arg(c, 0)?;
    let other: StakedWal = arg(c, 1)?;
    join(c.rt, &mut sw, other)?;
    set(c, 0, &sw)?;
    Ok(vec![])
}
