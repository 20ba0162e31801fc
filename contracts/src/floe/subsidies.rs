//! Twin of `floe::subsidies`: the shared pool anyone funds and the
//! permissionless `process_subsidies` that pays the current committee's
//! base and per-shard subsidies once per epoch (into the pools'
//! commission) and subsidizes new rewards of the current and future
//! epochs by the system subsidy rate, all or nothing.

use floe_core::move_types::{
    MoveType, MoveTypeInfo, NodeSubsidized, ObjectId, Staking, Subsidies, SubsidiesFunded,
    SubsidiesPaid, System,
};
use floe_runtime::framework::{ClockData, CoinData};
use floe_runtime::{NativeError, Runtime, Value};
use serde::Serialize;

use crate::floe::storage_accounting as accounting;
use crate::floe::{staking, staking_inner, staking_pool, system, system_state_inner};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{add_u64, arg, ensure, floe_tag, floe_value, new_id, set};

abort_codes! {
    module: "subsidies",
    EInsufficientFundsInPool = 0,
}

/// Basis points in 100%.
const N_BASIS_POINTS: u128 = 10_000;

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "add_coin",
        Vis::Public,
        &[],
        &[("self", "&mut Subsidies"), ("coin", "Coin<WAL>")],
        &[],
    ),
    FnSig::new(
        "process_subsidies",
        Vis::Public,
        &[],
        &[
            ("self", "&mut Subsidies"),
            ("staking", "&mut Staking"),
            ("system", "&mut System"),
            ("clock", "&Clock"),
        ],
        &[],
    ),
    FnSig::new(
        "pool_balance",
        Vis::Public,
        &[],
        &[("self", "&Subsidies")],
        &["u64"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[
    Subsidies::INFO,
    SubsidiesFunded::INFO,
    NodeSubsidized::INFO,
    SubsidiesPaid::INFO,
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "subsidies",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "add_coin" => |c| {
            let mut pool: Subsidies = arg(c, 0)?;
            let coin: CoinData = arg(c, 1)?;
            c.rt.delete_uid(coin.id)?;
            pool.subsidy_pool.value = add_u64(pool.subsidy_pool.value, coin.value)?;
            emit(
                c.rt,
                &SubsidiesFunded {
                    amount: coin.value,
                    pool_balance: pool.subsidy_pool.value,
                },
            )?;
            set(c, 0, &pool)?;
            Ok(vec![])
        },
        "process_subsidies" => |c| {
            let mut pool: Subsidies = arg(c, 0)?;
            let staking: Staking = arg(c, 1)?;
            let sys: System = arg(c, 2)?;
            let _clock: ClockData = arg(c, 3)?;
            process_subsidies(c.rt, &mut pool, &staking, &sys)?;
            set(c, 0, &pool)?;
            Ok(vec![])
        },
        "pool_balance" => |c| {
            let pool: Subsidies = arg(c, 0)?;
            Ok(vec![Value::u64(pool.subsidy_pool.value)])
        },
        _ => return None,
    };
    Some(f)
}

fn emit<T: MoveType + Serialize>(rt: &mut Runtime<'_>, event: &T) -> Result<(), NativeError> {
    rt.emit(floe_tag("subsidies", T::INFO.name, vec![]), event)
}

/// `new`: shares an empty pool.
pub fn new(rt: &mut Runtime<'_>) -> Result<(), NativeError> {
    let pool = Subsidies {
        id: new_id(rt)?,
        subsidy_pool: floe_core::move_types::Balance { value: 0 },
        last_paid_epoch: None,
        already_subsidized_start: 0,
        already_subsidized: Vec::new(),
    };
    rt.share(floe_value("subsidies", "Subsidies", &pool))
}

/// `already_subsidized_at`: epoch `epoch`'s rewards when it was last
/// subsidized (0 if never).
fn already_subsidized_at(pool: &Subsidies, epoch: u32) -> u64 {
    let Some(offset) = epoch.checked_sub(pool.already_subsidized_start) else {
        return 0;
    };
    pool.already_subsidized
        .get(offset as usize)
        .copied()
        .unwrap_or(0)
}

/// `floor((rewards - before) * rate / 10_000)` if rewards grew, else 0.
pub fn system_subsidy(rewards: u64, before: u64, rate: u32) -> Result<u64, NativeError> {
    if rewards <= before {
        return Ok(0);
    }
    let v = u128::from(rewards - before) * u128::from(rate) / N_BASIS_POINTS;
    u64::try_from(v).map_err(|_| crate::util::arithmetic())
}

/// `process_subsidies`: what is due now, paid all at once or not at all.
pub fn process_subsidies(
    rt: &mut Runtime<'_>,
    pool: &mut Subsidies,
    staking_obj: &Staking,
    sys: &System,
) -> Result<(), NativeError> {
    let state = staking::load_inner(rt, staking_obj)?;
    let epoch = state.epoch;
    let (rate, base, per_shard) = staking::subsidy_rates(rt, staking_obj)?;

    // (a) The committee's subsidies, once per epoch.
    let mut nodes: Vec<(ObjectId, u64)> = Vec::new();
    let mut node_total = 0u64;
    if pool.last_paid_epoch != Some(epoch) {
        for entry in &state.committee.pos0.contents {
            let shards = entry.value.len() as u64;
            let amount = add_u64(base, crate::util::mul_u64(shards, per_shard)?)?;
            nodes.push((entry.key, amount));
            node_total = add_u64(node_total, amount)?;
        }
        pool.last_paid_epoch = Some(epoch);
    }

    // (b) New rewards of the current and future epochs.
    let mut sys_state = system::load_inner(rt, sys)?;
    let system_epoch = system_state_inner::epoch(&sys_state);
    let ring = system_state_inner::future_accounting(&sys_state);
    let mut already = Vec::new();
    let mut future = Vec::new();
    let mut future_total = 0u64;
    for i in 0..ring.length {
        let rewards = accounting::ring_lookup(ring, i)?
            .rewards_to_distribute
            .value;
        let before = already_subsidized_at(pool, crate::util::add_u32(system_epoch, i)?);
        let subsidy = system_subsidy(rewards, before, rate)?;
        already.push(add_u64(rewards, subsidy)?);
        future.push(subsidy);
        future_total = add_u64(future_total, subsidy)?;
    }
    pool.already_subsidized_start = system_epoch;
    pool.already_subsidized = already;

    ensure(
        pool.subsidy_pool.value >= add_u64(node_total, future_total)?,
        EInsufficientFundsInPool,
    )?;
    for (node_id, amount) in nodes {
        if amount == 0 {
            continue;
        }
        pool.subsidy_pool.value -= amount;
        let mut p = staking_inner::load_pool(rt, &state, node_id)?;
        staking_pool::add_commission(rt, &mut p, amount, false)?;
        staking_inner::store_pool(rt, &state, &p)?;
        emit(
            rt,
            &NodeSubsidized {
                epoch,
                node_id,
                amount,
            },
        )?;
    }
    if future_total > 0 {
        pool.subsidy_pool.value -= future_total;
        system_state_inner::add_per_epoch_subsidies(&mut sys_state, &future)?;
        system::store_inner(rt, sys, &sys_state)?;
    }
    let total = add_u64(node_total, future_total)?;
    if total > 0 {
        emit(
            rt,
            &SubsidiesPaid {
                epoch,
                node_subsidies: node_total,
                future_subsidies: future_total,
                pool_balance: pool.subsidy_pool.value,
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_subsidy_is_the_floored_share_of_new_rewards() {
        assert_eq!(system_subsidy(1_000, 0, 500).unwrap(), 50);
        assert_eq!(system_subsidy(1_000, 1_000, 500).unwrap(), 0);
        assert_eq!(system_subsidy(1_000, 2_000, 500).unwrap(), 0);
        assert_eq!(system_subsidy(1_999, 1_000, 1).unwrap(), 0);
        assert_eq!(system_subsidy(30_000, 20_000, 1).unwrap(), 1);
        assert_eq!(system_subsidy(u64::MAX, 0, 10_000).unwrap(), u64::MAX);
        assert!(system_subsidy(u64::MAX, 0, 20_000).is_err());
    }
}
