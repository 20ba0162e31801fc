//! Twin of `floe::staking`: the shared `Staking` shell (version, package
//! id) and the public staking API. The state is `StakingInnerV1` in a
//! dynamic field keyed by the version; every access checks the version.

use floe_core::move_types::{
    MoveType, MoveTypeInfo, ObjectId, StakedWal, Staking, StakingInnerV1, StorageNodeCap, System,
};
use floe_ledger::native::framework::{ClockData, CoinData};
use floe_ledger::native::{Call, NativeError, Runtime, Value};
use sui_sdk_types::TypeTag;

use crate::floe::staked_wal;
use crate::floe::staking_inner as inner;
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure, floe_tag, new_id, set, to_address, wal_coin};
use crate::wal::wal::ProtectedTreasury;

/// The version of the package's code and of `Staking`.
pub const VERSION: u64 = 1;

abort_codes! {
    module: "staking",
    EWrongVersion = 1,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "stake_with_pool",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("to_stake", "Coin<WAL>"),
            ("node_id", "ID"),
            ("ctx", "&mut TxContext"),
        ],
        &["StakedWal"],
    ),
    FnSig::new(
        "request_withdraw_stake",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("staked_wal", "&mut StakedWal"),
            ("ctx", "&mut TxContext"),
        ],
        &[],
    ),
    FnSig::new(
        "withdraw_stake",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("staked_wal", "StakedWal"),
            ("ctx", "&mut TxContext"),
        ],
        &["Coin<WAL>"],
    ),
    FnSig::new(
        "voting_end",
        Vis::Public,
        &[],
        &[("staking", "&mut Staking"), ("clock", "&Clock")],
        &[],
    ),
    FnSig::new(
        "initiate_epoch_change",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("system", "&mut System"),
            ("treasury", "&mut ProtectedTreasury"),
            ("clock", "&Clock"),
        ],
        &[],
    ),
    FnSig::new(
        "epoch_sync_done",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("cap", "&mut StorageNodeCap"),
            ("epoch", "u32"),
            ("clock", "&Clock"),
        ],
        &[],
    ),
    FnSig::new(
        "epoch",
        Vis::Public,
        &[],
        &[("staking", "&Staking")],
        &["u32"],
    ),
    FnSig::new(
        "can_withdraw_staked_wal_early",
        Vis::Public,
        &[],
        &[("staking", "&Staking"), ("staked_wal", "&StakedWal")],
        &["bool"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[Staking::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "staking",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "stake_with_pool" => native_stake_with_pool,
        "request_withdraw_stake" => native_request_withdraw_stake,
        "withdraw_stake" => native_withdraw_stake,
        "voting_end" => native_voting_end,
        "initiate_epoch_change" => native_initiate_epoch_change,
        "epoch_sync_done" => native_epoch_sync_done,
        "epoch" => |c| {
            let staking: Staking = arg(c, 0)?;
            let state = load_inner(c.rt, &staking)?;
            Ok(vec![Value::new(TypeTag::U32, &state.epoch)])
        },
        "can_withdraw_staked_wal_early" => |c| {
            let staking: Staking = arg(c, 0)?;
            let sw: StakedWal = arg(c, 1)?;
            let state = load_inner(c.rt, &staking)?;
            let early = inner::can_withdraw_staked_wal_early(&state, &sw)?;
            Ok(vec![Value::bool(early)])
        },
        _ => return None,
    };
    Some(f)
}

/// The `Field<u64, StakingInnerV1>` key of the inner state.
fn inner_key() -> Value {
    Value::u64(VERSION)
}

fn inner_type() -> TypeTag {
    floe_tag("staking_inner", "StakingInnerV1", vec![]).into()
}

/// `inner`: the state; aborts with `EWrongVersion`.
pub fn load_inner(rt: &mut Runtime<'_>, staking: &Staking) -> Result<StakingInnerV1, NativeError> {
    ensure(staking.version == VERSION, EWrongVersion)?;
    rt.df_get(to_address(staking.id), &inner_key(), &inner_type())
}

/// Writes the state back (the end of an `inner_mut` borrow).
pub fn store_inner(
    rt: &mut Runtime<'_>,
    staking: &Staking,
    state: &StakingInnerV1,
) -> Result<(), NativeError> {
    rt.df_set(
        to_address(staking.id),
        &inner_key(),
        Value::new(inner_type(), state),
    )
}

/// `create`: a new `Staking` holding `state`, for `package_id`.
pub fn create(
    rt: &mut Runtime<'_>,
    state: &StakingInnerV1,
    package_id: ObjectId,
) -> Result<Staking, NativeError> {
    let staking = Staking {
        id: new_id(rt)?,
        version: VERSION,
        package_id,
        new_package_id: None,
    };
    rt.df_add(
        to_address(staking.id),
        inner_key(),
        Value::new(inner_type(), state),
    )?;
    Ok(staking)
}

/// A `Staking` value.
pub fn staking_value(s: &Staking) -> Value {
    crate::util::floe_value("staking", "Staking", s)
}

fn native_stake_with_pool(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let coin: CoinData = arg(c, 1)?;
    let node_id: ObjectId = arg(c, 2)?;
    let state = load_inner(c.rt, &staking)?;
    c.rt.delete_uid(coin.id)?;
    let sw = inner::stake_with_pool(c.rt, &state, coin.value, node_id)?;
    Ok(vec![staked_wal::staked_wal_value(&sw)])
}

fn native_request_withdraw_stake(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let mut sw: StakedWal = arg(c, 1)?;
    let state = load_inner(c.rt, &staking)?;
    inner::request_withdraw_stake(c.rt, &state, &mut sw)?;
    set(c, 1, &sw)?;
    Ok(vec![])
}

fn native_withdraw_stake(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let sw: StakedWal = arg(c, 1)?;
    let state = load_inner(c.rt, &staking)?;
    let value = inner::withdraw_stake(c.rt, &state, sw)?;
    let id = c.rt.new_uid()?;
    Ok(vec![wal_coin(CoinData { id, value })])
}

fn native_voting_end(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let clock: ClockData = arg(c, 1)?;
    let mut state = load_inner(c.rt, &staking)?;
    inner::voting_end(c.rt, &mut state, clock.timestamp_ms)?;
    store_inner(c.rt, &staking, &state)?;
    Ok(vec![])
}

fn native_initiate_epoch_change(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let system: System = arg(c, 1)?;
    let treasury: ProtectedTreasury = arg(c, 2)?;
    let clock: ClockData = arg(c, 3)?;
    let mut state = load_inner(c.rt, &staking)?;
    inner::initiate_epoch_change(c.rt, &mut state, &system, &treasury, clock.timestamp_ms)?;
    store_inner(c.rt, &staking, &state)?;
    Ok(vec![])
}

fn native_epoch_sync_done(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let mut cap: StorageNodeCap = arg(c, 1)?;
    let epoch: u32 = arg(c, 2)?;
    let clock: ClockData = arg(c, 3)?;
    let mut state = load_inner(c.rt, &staking)?;
    inner::epoch_sync_done(c.rt, &mut state, &mut cap, epoch, clock.timestamp_ms)?;
    store_inner(c.rt, &staking, &state)?;
    set(c, 1, &cap)?;
    Ok(vec![])
}
