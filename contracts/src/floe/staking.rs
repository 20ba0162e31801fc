//! Twin of `floe::staking`: the shared `Staking` shell (version, package
//! id) and the public staking API: candidate registration, node parameters
//! (with the node's `StorageNodeCap`), commission and governance records
//! (with an `Authenticated`), price votes and `update_prices`, stake, and
//! the epoch change. The state is `StakingInnerV1` in a dynamic field keyed
//! by the version; every access checks the version.

use floe_core::move_types::{
    Authorized, Governance, MoveType, MoveTypeInfo, NodeMetadata, ObjectId, ParameterChange,
    PricesUpdated, StakedWal, Staking, StakingInnerV1, StakingPool, StorageNodeCap, System,
    VotingParams,
};
use floe_runtime::framework::{ClockData, CoinData};
use floe_runtime::{Call, NativeError, Runtime, Value};
use sui_sdk_types::TypeTag;

use serde::de::DeserializeOwned;

use crate::floe::auth::Authenticated;
use crate::floe::staking_inner as inner;
use crate::floe::{events, governance, staked_wal, staking_pool, storage_node, system};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure, floe_tag, new_id, set, to_address, to_object_id, wal_coin};
use crate::wal::wal::ProtectedTreasury;

/// The version of the package's code and of `Staking`.
pub const VERSION: u64 = 1;

abort_codes! {
    module: "staking",
    EWrongVersion = 1,
}

/// `public fun name(staking: &mut Staking, cap: &StorageNodeCap, param: ty)`.
macro_rules! cap_setter {
    ($name:literal, $param:literal, $ty:literal) => {
        FnSig::new(
            $name,
            Vis::Public,
            &[],
            &[
                ("staking", "&mut Staking"),
                ("cap", "&StorageNodeCap"),
                ($param, $ty),
            ],
            &[],
        )
    };
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "register_candidate",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("name", "String"),
            ("network_address", "String"),
            ("metadata", "NodeMetadata"),
            ("public_key", "vector<u8>"),
            ("network_public_key", "vector<u8>"),
            ("proof_of_possession", "vector<u8>"),
            ("commission_rate", "u16"),
            ("storage_price", "u64"),
            ("write_price", "u64"),
            ("node_capacity", "u64"),
            ("ctx", "&mut TxContext"),
        ],
        &["StorageNodeCap"],
    ),
    cap_setter!("set_next_commission", "commission_rate", "u16"),
    FnSig::new(
        "collect_commission",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("node_id", "ID"),
            ("auth", "Authenticated"),
            ("ctx", "&mut TxContext"),
        ],
        &["Coin<WAL>"],
    ),
    FnSig::new(
        "set_commission_receiver",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("node_id", "ID"),
            ("auth", "Authenticated"),
            ("receiver", "Authorized"),
        ],
        &[],
    ),
    FnSig::new(
        "set_governance_authorized",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("node_id", "ID"),
            ("auth", "Authenticated"),
            ("authorized", "Authorized"),
        ],
        &[],
    ),
    cap_setter!("set_storage_price_vote", "storage_price", "u64"),
    cap_setter!("set_write_price_vote", "write_price", "u64"),
    cap_setter!("set_node_capacity_vote", "node_capacity", "u64"),
    FnSig::new(
        "update_prices",
        Vis::Public,
        &[],
        &[("staking", "&mut Staking"), ("system", "&mut System")],
        &[],
    ),
    FnSig::new(
        "set_next_public_key",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("cap", "&StorageNodeCap"),
            ("public_key", "vector<u8>"),
            ("proof_of_possession", "vector<u8>"),
            ("ctx", "&mut TxContext"),
        ],
        &[],
    ),
    cap_setter!("set_name", "name", "String"),
    cap_setter!("set_network_address", "network_address", "String"),
    cap_setter!("set_network_public_key", "network_public_key", "vector<u8>"),
    cap_setter!("set_node_metadata", "metadata", "NodeMetadata"),
    FnSig::new(
        "try_join_active_set",
        Vis::Public,
        &[],
        &[("staking", "&mut Staking"), ("cap", "&StorageNodeCap")],
        &[],
    ),
    FnSig::new(
        "propose_parameter_change",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("system", "&System"),
            ("node_id", "ID"),
            ("auth", "Authenticated"),
            ("change", "ParameterChange"),
            ("ctx", "&mut TxContext"),
        ],
        &["u64"],
    ),
    FnSig::new(
        "vote_on_parameter_change",
        Vis::Public,
        &[],
        &[
            ("staking", "&mut Staking"),
            ("node_id", "ID"),
            ("auth", "Authenticated"),
            ("proposal_id", "u64"),
            ("in_favor", "bool"),
        ],
        &[],
    ),
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
        "register_candidate" => native_register_candidate,
        "set_next_commission" => |c| {
            cap_set(c, |pool, rate: u16, epoch, _| {
                staking_pool::set_next_commission(pool, rate, epoch)
            })
        },
        "collect_commission" => native_collect_commission,
        "set_commission_receiver" => |c| {
            auth_set(c, |pool, auth, to| {
                staking_pool::set_commission_receiver(pool, auth, to)
            })
        },
        "set_governance_authorized" => |c| {
            auth_set(c, |pool, auth, to| {
                staking_pool::set_governance_authorized(pool, auth, to)
            })
        },
        "set_storage_price_vote" => |c| {
            cap_set(c, |pool, price: u64, _, _| {
                pool.voting_params.storage_price = price;
                Ok(())
            })
        },
        "set_write_price_vote" => |c| {
            cap_set(c, |pool, price: u64, _, _| {
                pool.voting_params.write_price = price;
                Ok(())
            })
        },
        "set_node_capacity_vote" => |c| {
            cap_set(c, |pool, capacity: u64, _, _| {
                pool.voting_params.node_capacity = capacity;
                Ok(())
            })
        },
        "update_prices" => |c| {
            let staking: Staking = arg(c, 0)?;
            let system: System = arg(c, 1)?;
            let state = load_inner(c.rt, &staking)?;
            update_prices(c.rt, &state, &system)?;
            Ok(vec![])
        },
        "set_next_public_key" => |c| {
            let pop: Vec<u8> = arg(c, 3)?;
            cap_set(c, move |pool, key: Vec<u8>, epoch, sender| {
                staking_pool::set_next_public_key(pool, &key, &pop, epoch, sender)
            })
        },
        "set_name" => |c| cap_set(c, |pool, name, _, _| staking_pool::set_name(pool, name)),
        "set_network_address" => |c| {
            cap_set(c, |pool, address, _, _| {
                staking_pool::set_network_address(pool, address)
            })
        },
        "set_network_public_key" => |c| {
            cap_set(c, |pool, key, _, _| {
                storage_node::set_network_public_key(&mut pool.node_info, key)
            })
        },
        "set_node_metadata" => |c| {
            let staking: Staking = arg(c, 0)?;
            let cap: StorageNodeCap = arg(c, 1)?;
            let metadata: NodeMetadata = arg(c, 2)?;
            let state = load_inner(c.rt, &staking)?;
            let pool = inner::load_pool(c.rt, &state, cap.node_id)?;
            storage_node::set_node_metadata(c.rt, &pool.node_info, &metadata)?;
            Ok(vec![])
        },
        "try_join_active_set" => |c| {
            let staking: Staking = arg(c, 0)?;
            let cap: StorageNodeCap = arg(c, 1)?;
            let state = load_inner(c.rt, &staking)?;
            inner::try_join_active_set(c.rt, &state, &cap)?;
            Ok(vec![])
        },
        "propose_parameter_change" => native_propose_parameter_change,
        "vote_on_parameter_change" => native_vote_on_parameter_change,
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

/// The body of `fun f(staking: &mut Staking, cap: &StorageNodeCap, value)`:
/// `set` changes the cap's pool given the value, the epoch and the sender.
fn cap_set<T, F>(c: &mut Call<'_, '_>, set: F) -> Result<Vec<Value>, NativeError>
where
    T: DeserializeOwned,
    F: FnOnce(&mut StakingPool, T, u32, ObjectId) -> Result<(), NativeError>,
{
    let staking: Staking = arg(c, 0)?;
    let cap: StorageNodeCap = arg(c, 1)?;
    let value: T = arg(c, 2)?;
    let sender = to_object_id(c.rt.sender());
    let state = load_inner(c.rt, &staking)?;
    let epoch = state.epoch;
    inner::update_pool(c.rt, &state, cap.node_id, |pool| {
        set(pool, value, epoch, sender)
    })?;
    Ok(vec![])
}

/// The body of `fun f(staking: &mut Staking, node_id: ID, auth:
/// Authenticated, to: Authorized)`.
fn auth_set(
    c: &mut Call<'_, '_>,
    set: fn(&mut StakingPool, &Authenticated, Authorized) -> Result<(), NativeError>,
) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let node_id: ObjectId = arg(c, 1)?;
    let auth: Authenticated = arg(c, 2)?;
    let to: Authorized = arg(c, 3)?;
    let state = load_inner(c.rt, &staking)?;
    inner::update_pool(c.rt, &state, node_id, |pool| set(pool, &auth, to))?;
    Ok(vec![])
}

/// `update_prices`: the current committee's quorum prices, applied to
/// `system` now, with a `PricesUpdated` event.
fn update_prices(
    rt: &mut Runtime<'_>,
    state: &StakingInnerV1,
    system: &System,
) -> Result<(), NativeError> {
    let (storage_price, write_price) = inner::recalculate_prices(rt, state)?;
    system::set_prices(rt, system, storage_price, write_price)?;
    events::emit(
        rt,
        &PricesUpdated {
            epoch: state.epoch,
            storage_price,
            write_price,
        },
    )
}

fn native_register_candidate(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let candidate = inner::Candidate {
        name: arg(c, 1)?,
        network_address: arg(c, 2)?,
        metadata: arg(c, 3)?,
        public_key: arg(c, 4)?,
        network_public_key: arg(c, 5)?,
        proof_of_possession: arg(c, 6)?,
        commission_rate: arg(c, 7)?,
        votes: VotingParams {
            storage_price: arg(c, 8)?,
            write_price: arg(c, 9)?,
            node_capacity: arg(c, 10)?,
        },
    };
    let sender = to_object_id(c.rt.sender());
    let mut state = load_inner(c.rt, &staking)?;
    let node_id = inner::create_pool(c.rt, &mut state, candidate, sender)?;
    store_inner(c.rt, &staking, &state)?;
    // The cap, not the sender, receives the commission.
    let cap = storage_node::new_cap(c.rt, node_id, 0)?;
    inner::update_pool(c.rt, &state, node_id, |pool| {
        staking_pool::set_commission_receiver(
            pool,
            &Authenticated::Sender(sender),
            Authorized::ObjectID(cap.id),
        )
    })?;
    Ok(vec![storage_node::cap_value(&cap)])
}

fn native_collect_commission(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let node_id: ObjectId = arg(c, 1)?;
    let auth: Authenticated = arg(c, 2)?;
    let state = load_inner(c.rt, &staking)?;
    let value = inner::collect_commission(c.rt, &state, node_id, &auth)?;
    let id = c.rt.new_uid()?;
    Ok(vec![wal_coin(CoinData { id, value })])
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
    apply_governance(c.rt, &staking, &mut state, &system)?;
    store_inner(c.rt, &staking, &state)?;
    update_prices(c.rt, &state, &system)?;
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

// === Parameter governance ===

/// The dynamic-field key of the `Governance` state: `b"governance"`.
fn governance_key() -> Value {
    Value::new(
        TypeTag::Vector(Box::new(TypeTag::U8)),
        &GOVERNANCE_KEY.to_vec(),
    )
}

/// `GOVERNANCE_KEY` of the Move module.
pub const GOVERNANCE_KEY: &[u8] = b"governance";

fn governance_type() -> TypeTag {
    floe_tag("governance", "Governance", vec![]).into()
}

/// The governance state, or a new empty one (`governance_mut` creates it
/// on first use; the caller stores it with [`store_governance`]).
fn load_governance(rt: &mut Runtime<'_>, staking: &Staking) -> Result<Governance, NativeError> {
    ensure(staking.version == VERSION, EWrongVersion)?;
    let parent = to_address(staking.id);
    if rt.df_exists(parent, &governance_key()) {
        rt.df_get(parent, &governance_key(), &governance_type())
    } else {
        Ok(governance::new())
    }
}

fn store_governance(
    rt: &mut Runtime<'_>,
    staking: &Staking,
    g: &Governance,
) -> Result<(), NativeError> {
    let parent = to_address(staking.id);
    let value = Value::new(governance_type(), g);
    if rt.df_exists(parent, &governance_key()) {
        rt.df_set(parent, &governance_key(), value)
    } else {
        rt.df_add(parent, governance_key(), value)
    }
}

/// `subsidy_rates`: (system subsidy rate, base subsidy, subsidy per
/// shard) of the governance state, all 0 before the first proposal.
pub fn subsidy_rates(
    rt: &mut Runtime<'_>,
    staking: &Staking,
) -> Result<(u32, u64, u64), NativeError> {
    ensure(staking.version == VERSION, EWrongVersion)?;
    if !rt.df_exists(to_address(staking.id), &governance_key()) {
        return Ok((0, 0, 0));
    }
    let g = load_governance(rt, staking)?;
    Ok((g.system_subsidy_rate, g.base_subsidy, g.subsidy_per_shard))
}

/// `apply_governance`: closes the ended epoch's proposals and applies the
/// passed ones to `state` (the caller stores it) and `system`.
fn apply_governance(
    rt: &mut Runtime<'_>,
    staking: &Staking,
    state: &mut StakingInnerV1,
    system: &System,
) -> Result<(), NativeError> {
    if !rt.df_exists(to_address(staking.id), &governance_key()) {
        return Ok(());
    }
    let mut g = load_governance(rt, staking)?;
    let changes = governance::close_epoch(rt, &mut g, state.epoch)?;
    store_governance(rt, staking, &g)?;
    for change in &changes {
        governance::apply(rt, change, state, system)?;
    }
    Ok(())
}

fn native_propose_parameter_change(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let system: System = arg(c, 1)?;
    let node_id: ObjectId = arg(c, 2)?;
    let auth: Authenticated = arg(c, 3)?;
    let change: ParameterChange = arg(c, 4)?;
    let state = load_inner(c.rt, &staking)?;
    let weight = governance::voter_weight(c.rt, &state, node_id, &auth)?;
    let max_epochs_ahead =
        crate::floe::system_state_inner::max_epochs_ahead(&system::load_inner(c.rt, &system)?);
    governance::check_bounds(&change, state.n_shards, max_epochs_ahead)?;
    let mut g = load_governance(c.rt, &staking)?;
    let id = governance::propose(
        c.rt,
        &mut g,
        node_id,
        weight,
        state.n_shards,
        state.epoch,
        change,
    )?;
    store_governance(c.rt, &staking, &g)?;
    Ok(vec![Value::u64(id)])
}

fn native_vote_on_parameter_change(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let staking: Staking = arg(c, 0)?;
    let node_id: ObjectId = arg(c, 1)?;
    let auth: Authenticated = arg(c, 2)?;
    let proposal_id: u64 = arg(c, 3)?;
    let in_favor: bool = arg(c, 4)?;
    let state = load_inner(c.rt, &staking)?;
    let weight = governance::voter_weight(c.rt, &state, node_id, &auth)?;
    let mut g = load_governance(c.rt, &staking)?;
    governance::vote(
        c.rt,
        &mut g,
        node_id,
        weight,
        state.n_shards,
        proposal_id,
        in_favor,
    )?;
    store_governance(c.rt, &staking, &g)?;
    Ok(vec![])
}
