//! Twin of `floe::staking_pool`: stake in shares, rewards, commission and
//! votes of one node (see the Move module for the accounting). The pool is
//! an object whose id is the node id; it lives in the pools
//! `ObjectTable`. Exchange rates live in the `exchange_rates` table:
//! dynamic fields of its id keyed by the epoch (`u32`), as `sui::table`
//! stores them. The commission blocked until the next `voting_end` is a
//! `u64` in the `extra_fields` bag under the empty struct
//! `NewEpochCommissionBlockedForCollection` (one `false` byte in BCS).

use floe_core::move_types::Ability::{Copy, Drop, Store};
use floe_core::move_types::{
    Authorized, Bag, Balance, MovePackage, MoveRole, MoveType, MoveTypeInfo, MoveTypeKind,
    NodeMetadata, ObjectId, PoolExchangeRate, PoolState, StakedWal, StakingPool, StorageNodeInfo,
    Table, VotingParams,
};
use floe_runtime::{NativeError, Runtime, Value};
use sui_sdk_types::TypeTag;

use crate::floe::auth::{self, Authenticated};
use crate::floe::pending_values as pending;
use crate::floe::pool_exchange_rate::{self as rate, to_shares, to_wal};
use crate::floe::{messages, staked_wal, storage_node};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{add_u32, add_u64, arithmetic, ensure, floe_tag, new_id, to_address};

/// Commission rates are in basis points of the rewards.
pub const N_BASIS_POINTS: u64 = 10_000;
/// Longest node name (characters).
pub const MAX_NODE_NAME_LENGTH: usize = 100;
/// Longest network address, `host:port`: a 253-character DNS name, the
/// colon and a 5-digit port (as Walrus bounds it).
pub const MAX_NETWORK_ADDRESS_LENGTH: usize = 259;

abort_codes! {
    module: "staking_pool",
    EPoolAlreadyUpdated = 0,
    EInvalidProofOfPossession = 4,
    EPoolIsNotActive = 6,
    EZeroStake = 7,
    ENotStaked = 8,
    EIncorrectPoolId = 9,
    ENotWithdrawing = 10,
    EWithdrawEpochNotReached = 11,
    EActivationEpochNotReached = 12,
    EWithdrawDirectly = 13,
    EIncorrectCommissionRate = 14,
    EAuthorizationFailure = 15,
    EInvalidNetworkAddressLength = 16,
    EInvalidNameLength = 17,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "node_info",
        Vis::Public,
        &[],
        &[("pool", "&StakingPool")],
        &["&StorageNodeInfo"],
    ),
    FnSig::new(
        "wal_balance",
        Vis::Public,
        &[],
        &[("pool", "&StakingPool")],
        &["u64"],
    ),
    FnSig::new(
        "commission_rate",
        Vis::Public,
        &[],
        &[("pool", "&StakingPool")],
        &["u16"],
    ),
];

/// `NewEpochCommissionBlockedForCollection {}`: the bag key of the
/// blocked commission.
const BLOCKED_COMMISSION_KEY: MoveTypeInfo = MoveTypeInfo {
    package: MovePackage::Walrus,
    module: "staking_pool",
    name: "NewEpochCommissionBlockedForCollection",
    type_params: &[],
    abilities: &[Copy, Drop, Store],
    role: MoveRole::Value,
    kind: MoveTypeKind::Struct(&[]),
};

const STRUCTS: &[MoveTypeInfo] = &[
    BLOCKED_COMMISSION_KEY,
    PoolState::INFO,
    VotingParams::INFO,
    StakingPool::INFO,
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "staking_pool",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// Pools live inside `Staking`; nothing is callable.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `new`: an active pool created in `epoch` for a new node whose id is
/// the pool's fresh id; it counts from `epoch` (`epoch + 1` once the next
/// committee is selected). Lengths are counted in bytes, as Move's
/// `String::length` counts them.
#[allow(clippy::too_many_arguments)]
pub fn new(
    rt: &mut Runtime<'_>,
    name: String,
    network_address: String,
    metadata: &NodeMetadata,
    public_key: &[u8],
    network_public_key: Vec<u8>,
    commission_rate: u16,
    votes: VotingParams,
    epoch: u32,
    committee_selected: bool,
    commission_receiver: Authorized,
    governance_authorized: Authorized,
) -> Result<StakingPool, NativeError> {
    let id = new_id(rt)?;
    ensure(name.len() <= MAX_NODE_NAME_LENGTH, EInvalidNameLength)?;
    ensure(
        network_address.len() <= MAX_NETWORK_ADDRESS_LENGTH,
        EInvalidNetworkAddressLength,
    )?;
    ensure(
        u64::from(commission_rate) <= N_BASIS_POINTS,
        EIncorrectCommissionRate,
    )?;
    let activation_epoch = if committee_selected {
        add_u32(epoch, 1)?
    } else {
        epoch
    };
    let node_info: StorageNodeInfo = storage_node::new(
        rt,
        name,
        id,
        network_address,
        public_key,
        network_public_key,
        metadata,
    )?;
    Ok(StakingPool {
        id,
        state: PoolState::Active,
        voting_params: votes,
        node_info,
        activation_epoch,
        latest_epoch: epoch,
        wal_balance: 0,
        num_shares: 0,
        pending_shares_withdraw: pending::empty(),
        pre_active_withdrawals: pending::empty(),
        pending_commission_rate: pending::empty(),
        commission_rate,
        exchange_rates: Table {
            id: new_id(rt)?,
            size: 0,
        },
        pending_stake: pending::empty(),
        rewards_pool: Balance { value: 0 },
        commission: Balance { value: 0 },
        commission_receiver,
        governance_authorized,
        extra_fields: Bag {
            id: new_id(rt)?,
            size: 0,
        },
    })
}

/// `verify_proof_of_possession`: the signature over the proof-of-possession
/// message of `public_key` for `epoch` and `sender` (the key must have 48
/// bytes: `messages::EInvalidKeyLength`).
pub fn verify_proof_of_possession(
    public_key: &[u8],
    proof_of_possession: &[u8],
    epoch: u32,
    sender: ObjectId,
) -> Result<(), NativeError> {
    let message = messages::new_proof_of_possession_msg(epoch, sender, public_key.to_vec())?;
    ensure(
        message.verify(proof_of_possession),
        EInvalidProofOfPossession,
    )
}

/// The pool's type tag (the object type of each pools-table entry).
pub fn pool_type() -> TypeTag {
    floe_tag("staking_pool", "StakingPool", vec![]).into()
}

fn rate_type() -> TypeTag {
    floe_tag("pool_exchange_rate", "PoolExchangeRate", vec![]).into()
}

fn epoch_key(epoch: u32) -> Value {
    Value::new(TypeTag::U32, &epoch)
}

/// `stake`: pending from `activation_epoch`.
pub fn stake(
    rt: &mut Runtime<'_>,
    pool: &mut StakingPool,
    amount: u64,
    activation_epoch: u32,
) -> Result<StakedWal, NativeError> {
    ensure(pool.state == PoolState::Active, EPoolIsNotActive)?;
    ensure(amount > 0, EZeroStake)?;
    pending::insert_or_add(&mut pool.pending_stake, activation_epoch, amount)?;
    staked_wal::mint(rt, pool.node_info.node_id, amount, activation_epoch)
}

/// `is_early_withdrawable`.
pub fn is_early_withdrawable(
    sw: &StakedWal,
    epoch: u32,
    in_next_committee: bool,
) -> Result<bool, NativeError> {
    if !staked_wal::is_staked(sw) {
        return Ok(false);
    }
    let a = sw.activation_epoch;
    Ok(a == add_u32(epoch, 2)? || (a == add_u32(epoch, 1)? && !in_next_committee))
}

/// `request_withdraw_stake`.
pub fn request_withdraw_stake(
    rt: &mut Runtime<'_>,
    pool: &mut StakingPool,
    sw: &mut StakedWal,
    in_current_committee: bool,
    in_next_committee: bool,
    epoch: u32,
) -> Result<(), NativeError> {
    ensure(sw.node_id == pool.node_info.node_id, EIncorrectPoolId)?;
    ensure(staked_wal::is_staked(sw), ENotStaked)?;
    ensure(
        !is_early_withdrawable(sw, epoch, in_next_committee)?,
        EWithdrawDirectly,
    )?;
    let activation = sw.activation_epoch;
    let principal = sw.principal.value;
    if activation == add_u32(epoch, 1)? {
        pending::insert_or_add(&mut pool.pre_active_withdrawals, activation, principal)?;
        return staked_wal::set_withdrawing(sw, add_u32(epoch, 2)?);
    }
    ensure(activation <= epoch, EActivationEpochNotReached)?;
    let withdraw_epoch = if in_next_committee {
        add_u32(epoch, 2)?
    } else if in_current_committee {
        add_u32(epoch, 1)?
    } else {
        return Err(EWithdrawDirectly.err());
    };
    let shares = to_shares(&exchange_rate_at_epoch(rt, pool, activation)?, principal)?;
    pending::insert_or_add(&mut pool.pending_shares_withdraw, withdraw_epoch, shares)?;
    staked_wal::set_withdrawing(sw, withdraw_epoch)
}

/// `withdraw_stake`: the FROST paid out (principal and rewards); deletes
/// the `StakedWal`.
pub fn withdraw_stake(
    rt: &mut Runtime<'_>,
    pool: &mut StakingPool,
    sw: StakedWal,
    in_current_committee: bool,
    in_next_committee: bool,
    epoch: u32,
) -> Result<u64, NativeError> {
    ensure(sw.node_id == pool.node_info.node_id, EIncorrectPoolId)?;
    let activation = sw.activation_epoch;
    let principal = sw.principal.value;
    if staked_wal::is_staked(&sw) {
        if is_early_withdrawable(&sw, epoch, in_next_committee)? {
            pending::reduce(&mut pool.pending_stake, activation, principal)?;
            return staked_wal::into_balance(rt, sw);
        }
        ensure(!in_current_committee && !in_next_committee, ENotWithdrawing)?;
        ensure(activation <= epoch, EActivationEpochNotReached)?;
        if activation > pool.latest_epoch {
            pending::reduce(&mut pool.pending_stake, activation, principal)?;
            return staked_wal::into_balance(rt, sw);
        }
        let shares = to_shares(&exchange_rate_at_epoch(rt, pool, activation)?, principal)?
            .min(pool.num_shares);
        let now = rate::new(pool.wal_balance, pool.num_shares)?;
        let value = to_wal(&now, shares)?.min(pool.wal_balance);
        pool.wal_balance -= value;
        pool.num_shares -= shares;
        let out = staked_wal::into_balance(rt, sw)?;
        return add_u64(out, take_rewards(pool, value, principal));
    }
    let withdraw_epoch = staked_wal::withdraw_epoch(&sw)?;
    ensure(withdraw_epoch <= epoch, EWithdrawEpochNotReached)?;
    let shares = to_shares(&exchange_rate_at_epoch(rt, pool, activation)?, principal)?;
    let value = to_wal(&exchange_rate_at_epoch(rt, pool, withdraw_epoch)?, shares)?;
    let out = staked_wal::into_balance(rt, sw)?;
    add_u64(out, take_rewards(pool, value, principal))
}

/// `take_rewards`: `value - principal` (at least 0), at most the rewards
/// pool.
fn take_rewards(pool: &mut StakingPool, value: u64, principal: u64) -> u64 {
    let rewards = value.saturating_sub(principal).min(pool.rewards_pool.value);
    pool.rewards_pool.value -= rewards;
    rewards
}

/// `advance_epoch`: the commission at the current rate (blocked until the
/// next `voting_end`), then the latest pending rate due by `epoch`, then
/// rewards, key rotation, pending stake.
pub fn advance_epoch(
    rt: &mut Runtime<'_>,
    pool: &mut StakingPool,
    rewards: u64,
    epoch: u32,
) -> Result<(), NativeError> {
    ensure(epoch > pool.latest_epoch, EPoolAlreadyUpdated)?;
    let commission = commission_of(rewards, pool.commission_rate);
    add_commission(rt, pool, commission, true)?;
    if let Some(rate) = pending::latest_value_at(&pool.pending_commission_rate, epoch) {
        pool.commission_rate = rate as u16;
    }
    pending::flush(&mut pool.pending_commission_rate, epoch)?;
    let rest = rewards - commission;
    pool.wal_balance = add_u64(pool.wal_balance, rest)?;
    pool.rewards_pool.value = add_u64(pool.rewards_pool.value, rest)?;
    storage_node::rotate_public_key(&mut pool.node_info);
    process_pending_stake(rt, pool, epoch)?;
    pool.latest_epoch = epoch;
    Ok(())
}

/// The commission of `rewards` at `rate` basis points (u128, floored; at
/// most `rewards` for a rate of at most 10_000).
pub fn commission_of(rewards: u64, rate: u16) -> u64 {
    (u128::from(rewards) * u128::from(rate) / u128::from(N_BASIS_POINTS)) as u64
}

/// `process_pending_stake`.
fn process_pending_stake(
    rt: &mut Runtime<'_>,
    pool: &mut StakingPool,
    epoch: u32,
) -> Result<(), NativeError> {
    let r = rate::new(pool.wal_balance, pool.num_shares)?;
    rt.df_add(
        to_address(pool.exchange_rates.id),
        epoch_key(epoch),
        Value::new(rate_type(), &r),
    )?;
    pool.exchange_rates.size += 1;
    let stake_in = pending::flush(&mut pool.pending_stake, epoch)?;
    let shares_out = pending::flush(&mut pool.pending_shares_withdraw, epoch)?.min(pool.num_shares);
    let wal_out = to_wal(&r, shares_out)?.min(pool.wal_balance);
    pool.wal_balance = add_u64(pool.wal_balance - wal_out, stake_in)?;
    pool.num_shares = add_u64(pool.num_shares - shares_out, to_shares(&r, stake_in)?)?;
    let pre_active = pending::flush(&mut pool.pre_active_withdrawals, epoch)?;
    if pre_active > 0 {
        let shares = to_shares(&r, pre_active)?;
        pending::insert_or_add(
            &mut pool.pending_shares_withdraw,
            add_u32(epoch, 1)?,
            shares,
        )?;
    }
    Ok(())
}

/// `exchange_rate_at_epoch`: the rate recorded at `epoch` or the last one
/// before (flat before any).
pub fn exchange_rate_at_epoch(
    rt: &mut Runtime<'_>,
    pool: &StakingPool,
    epoch: u32,
) -> Result<PoolExchangeRate, NativeError> {
    let table = to_address(pool.exchange_rates.id);
    let mut e = epoch.min(pool.latest_epoch);
    loop {
        let key = epoch_key(e);
        if rt.df_exists(table, &key) {
            return rt.df_get(table, &key, &rate_type());
        }
        if e <= pool.activation_epoch {
            return Ok(PoolExchangeRate::Flat);
        }
        e -= 1;
    }
}

/// `wal_balance_at_epoch`: the stake the pool will have in `epoch`.
pub fn wal_balance_at_epoch(pool: &StakingPool, epoch: u32) -> Result<u64, NativeError> {
    let first = add_u32(pool.latest_epoch, 1)?;
    let mut pending_in = 0u64;
    let mut shares_out = 0u64;
    for i in first..=epoch {
        pending_in = add_u64(pending_in, pending::value_at(&pool.pending_stake, i))?;
        if i < epoch {
            pending_in -= pending::value_at(&pool.pre_active_withdrawals, i).min(pending_in);
        }
        shares_out = add_u64(
            shares_out,
            pending::value_at(&pool.pending_shares_withdraw, i),
        )?;
    }
    let now = rate::new(pool.wal_balance, pool.num_shares)?;
    let out = to_wal(&now, shares_out.min(pool.num_shares))?;
    let gross = add_u64(pool.wal_balance, pending_in)?;
    gross.checked_sub(out.min(gross)).ok_or_else(arithmetic)
}

// === Node parameters ===

/// `set_next_commission`: `commission_rate` from `epoch + 2` on.
pub fn set_next_commission(
    pool: &mut StakingPool,
    commission_rate: u16,
    epoch: u32,
) -> Result<(), NativeError> {
    ensure(
        u64::from(commission_rate) <= N_BASIS_POINTS,
        EIncorrectCommissionRate,
    )?;
    pending::insert_or_replace(
        &mut pool.pending_commission_rate,
        add_u32(epoch, 2)?,
        u64::from(commission_rate),
    );
    Ok(())
}

/// `set_next_public_key`: checks the proof of possession, then rotates at
/// the next advance.
pub fn set_next_public_key(
    pool: &mut StakingPool,
    public_key: &[u8],
    proof_of_possession: &[u8],
    epoch: u32,
    sender: ObjectId,
) -> Result<(), NativeError> {
    verify_proof_of_possession(public_key, proof_of_possession, epoch, sender)?;
    storage_node::set_next_public_key(&mut pool.node_info, public_key)
}

/// `set_name`.
pub fn set_name(pool: &mut StakingPool, name: String) -> Result<(), NativeError> {
    ensure(name.len() <= MAX_NODE_NAME_LENGTH, EInvalidNameLength)?;
    pool.node_info.name = name;
    Ok(())
}

/// `set_network_address`.
pub fn set_network_address(
    pool: &mut StakingPool,
    network_address: String,
) -> Result<(), NativeError> {
    ensure(
        network_address.len() <= MAX_NETWORK_ADDRESS_LENGTH,
        EInvalidNetworkAddressLength,
    )?;
    pool.node_info.network_address = network_address;
    Ok(())
}

// === Authorization and commission ===

/// `set_commission_receiver`.
pub fn set_commission_receiver(
    pool: &mut StakingPool,
    authenticated: &Authenticated,
    receiver: Authorized,
) -> Result<(), NativeError> {
    ensure(
        auth::matches(authenticated, &pool.commission_receiver),
        EAuthorizationFailure,
    )?;
    pool.commission_receiver = receiver;
    Ok(())
}

/// `set_governance_authorized`.
pub fn set_governance_authorized(
    pool: &mut StakingPool,
    authenticated: &Authenticated,
    authorized: Authorized,
) -> Result<(), NativeError> {
    ensure(
        auth::matches(authenticated, &pool.governance_authorized),
        EAuthorizationFailure,
    )?;
    pool.governance_authorized = authorized;
    Ok(())
}

/// `collect_commission`: the FROST collected (all but the blocked amount).
pub fn collect_commission(
    rt: &mut Runtime<'_>,
    pool: &mut StakingPool,
    authenticated: &Authenticated,
) -> Result<u64, NativeError> {
    ensure(
        auth::matches(authenticated, &pool.commission_receiver),
        EAuthorizationFailure,
    )?;
    let blocked = blocked_commission(rt, pool)?;
    let total = pool.commission.value;
    if total <= blocked {
        return Ok(0);
    }
    pool.commission.value = blocked;
    Ok(total - blocked)
}

/// The bag key of the blocked commission (an empty struct: one `false`).
fn blocked_key() -> Value {
    Value::new(
        floe_tag(
            "staking_pool",
            "NewEpochCommissionBlockedForCollection",
            vec![],
        )
        .into(),
        &false,
    )
}

/// `add_commission`: adds `amount`, blocked until `voting_end` if `block`.
pub fn add_commission(
    rt: &mut Runtime<'_>,
    pool: &mut StakingPool,
    amount: u64,
    block: bool,
) -> Result<(), NativeError> {
    pool.commission.value = add_u64(pool.commission.value, amount)?;
    if block && amount > 0 {
        let bag = to_address(pool.extra_fields.id);
        let key = blocked_key();
        if rt.df_exists(bag, &key) {
            let blocked: u64 = rt.df_get(bag, &key, &TypeTag::U64)?;
            rt.df_set(bag, &key, Value::u64(add_u64(blocked, amount)?))?;
        } else {
            rt.df_add(bag, key, Value::u64(amount))?;
            pool.extra_fields.size += 1;
        }
    }
    Ok(())
}

/// `take_commission`: the whole commission, blocked or not (slashing);
/// returns the FROST taken.
pub fn take_commission(rt: &mut Runtime<'_>, pool: &mut StakingPool) -> Result<u64, NativeError> {
    clear_blocked_commission(rt, pool)?;
    Ok(std::mem::take(&mut pool.commission.value))
}

/// `clear_blocked_commission`.
pub fn clear_blocked_commission(
    rt: &mut Runtime<'_>,
    pool: &mut StakingPool,
) -> Result<(), NativeError> {
    let bag = to_address(pool.extra_fields.id);
    let key = blocked_key();
    if rt.df_exists(bag, &key) {
        rt.df_remove(bag, &key, &TypeTag::U64)?;
        pool.extra_fields.size -= 1;
    }
    Ok(())
}

/// `blocked_commission`: the commission that cannot be collected yet.
pub fn blocked_commission(rt: &mut Runtime<'_>, pool: &StakingPool) -> Result<u64, NativeError> {
    let bag = to_address(pool.extra_fields.id);
    let key = blocked_key();
    if rt.df_exists(bag, &key) {
        rt.df_get(bag, &key, &TypeTag::U64)
    } else {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The commission is `floor(rewards * rate / 10_000)`, never more
        /// than the rewards, and computed without overflow for any u64.
        #[test]
        fn commission_is_the_floored_share(rewards in any::<u64>(), rate in 0u16..=10_000) {
            let c = commission_of(rewards, rate);
            prop_assert!(c <= rewards);
            let exact = u128::from(rewards) * u128::from(rate);
            prop_assert!(u128::from(c) * 10_000 <= exact);
            prop_assert!(exact < (u128::from(c) + 1) * 10_000);
        }
    }

    #[test]
    fn commission_examples() {
        assert_eq!(commission_of(u64::MAX, 10_000), u64::MAX);
        assert_eq!(commission_of(999, 1_000), 99);
        assert_eq!(commission_of(1_000, 0), 0);
    }
}
