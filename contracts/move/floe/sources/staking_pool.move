// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// A storage node's staking pool: stake in shares, rewards, commission and
/// the node's votes. The pool is an object whose id is the node id (as on
/// Walrus): `StakingInnerV1.pools` is an `ObjectTable<ID, StakingPool>`
/// keyed by that id, so each pool is readable with one object read of the
/// node id.
///
/// Accounting: `wal_balance` is the FROST the pool's `num_shares` are worth
/// (active stake plus rewards); the principal itself stays in each
/// `StakedWal` and rewards sit in `rewards_pool`. At each epoch change the
/// pool is advanced: its commission is taken from the rewards, the rest is
/// added to `rewards_pool` and `wal_balance`, the exchange rate of the new
/// epoch is recorded (before pending stake is added), then pending stake
/// joins and due share withdrawals leave at that rate. A stake withdrawn in
/// epoch `w` receives `rate(w).to_wal(rate(activation).to_shares(principal))`.
///
/// Commission: at each advance `rewards * commission_rate / 10_000` (u128)
/// of the rewards goes to `commission`, blocked for collection until the
/// next `voting_end` (the amount sits in `extra_fields` under
/// `NewEpochCommissionBlockedForCollection`); the commission receiver
/// collects the rest. A new rate set in epoch `e` applies from the pool's
/// first advance at or after `e + 2`, after that advance's commission.
///
/// Pool withdrawal comes later; `state` is always `Active` for now.
module floe::staking_pool;

use floe::auth::{Authenticated, Authorized};
use floe::messages;
use floe::node_metadata::NodeMetadata;
use floe::pending_values::{Self, PendingValues};
use floe::pool_exchange_rate::{Self, PoolExchangeRate};
use floe::staked_wal::{Self, StakedWal};
use floe::storage_node::{Self, StorageNodeInfo};
use std::string::String;
use sui::bag::{Self, Bag};
use sui::balance::{Self, Balance};
use sui::table::{Self, Table};
use wal::wal::WAL;

/// Commission rates are in basis points of the rewards.
const N_BASIS_POINTS: u64 = 10_000;
/// Longest node name (characters).
const MAX_NODE_NAME_LENGTH: u64 = 100;
/// Longest network address, `host:port`: a 253-character DNS name, the
/// colon and a 5-digit port.
const MAX_NETWORK_ADDRESS_LENGTH: u64 = 259;

/// The pool was already advanced to this epoch.
const EPoolAlreadyUpdated: u64 = 0;
/// The proof of possession of the BLS key does not verify.
const EInvalidProofOfPossession: u64 = 4;
/// The pool does not accept stake.
const EPoolIsNotActive: u64 = 6;
/// Staking zero.
const EZeroStake: u64 = 7;
/// The stake is not in the `Staked` state.
const ENotStaked: u64 = 8;
/// The stake belongs to another pool.
const EIncorrectPoolId: u64 = 9;
/// The stake must be requested for withdrawal first.
const ENotWithdrawing: u64 = 10;
/// The stake's withdraw epoch has not come yet.
const EWithdrawEpochNotReached: u64 = 11;
/// The stake is not active yet.
const EActivationEpochNotReached: u64 = 12;
/// The stake can (only) be withdrawn directly with `withdraw_stake`.
const EWithdrawDirectly: u64 = 13;
/// A commission rate above 100%.
const EIncorrectCommissionRate: u64 = 14;
/// The caller is not the commission receiver or governance authority.
const EAuthorizationFailure: u64 = 15;
/// The network address is longer than `MAX_NETWORK_ADDRESS_LENGTH`.
const EInvalidNetworkAddressLength: u64 = 16;
/// The name is longer than `MAX_NODE_NAME_LENGTH`.
const EInvalidNameLength: u64 = 17;

/// Key (in `extra_fields`) of the commission added at the last epoch
/// change, which cannot be collected before the next `voting_end`.
public struct NewEpochCommissionBlockedForCollection has copy, drop, store {}

/// The pool's lifecycle.
public enum PoolState has copy, drop, store {
    Active,
    Withdrawing(u32),
    Withdrawn,
}

/// The node's votes for the next epochs.
public struct VotingParams has copy, drop, store {
    storage_price: u64,
    write_price: u64,
    node_capacity: u64,
}

/// A staking pool.
public struct StakingPool has key, store {
    id: UID,
    state: PoolState,
    voting_params: VotingParams,
    node_info: StorageNodeInfo,
    activation_epoch: u32,
    latest_epoch: u32,
    wal_balance: u64,
    num_shares: u64,
    pending_shares_withdraw: PendingValues,
    pre_active_withdrawals: PendingValues,
    pending_commission_rate: PendingValues,
    commission_rate: u16,
    exchange_rates: Table<u32, PoolExchangeRate>,
    pending_stake: PendingValues,
    rewards_pool: Balance<WAL>,
    commission: Balance<WAL>,
    commission_receiver: Authorized,
    governance_authorized: Authorized,
    extra_fields: Bag,
}

/// An active pool for a new node, created in `epoch`; its activation epoch
/// is `epoch`, or `epoch + 1` once the next committee is selected (as on
/// Walrus). The pool's fresh id is the node id.
/// `network_address` is `host:port` (the reader picks the URL scheme);
/// `public_key` is a compressed BLS12-381 G1 key. Registration checks the
/// proof of possession and the network key first (`verify_proof_of_possession`,
/// `storage_node::check_network_public_key`); genesis nodes have neither.
public(package) fun new(
    name: String,
    network_address: String,
    metadata: NodeMetadata,
    public_key: vector<u8>,
    network_public_key: vector<u8>,
    commission_rate: u16,
    storage_price: u64,
    write_price: u64,
    node_capacity: u64,
    epoch: u32,
    committee_selected: bool,
    commission_receiver: Authorized,
    governance_authorized: Authorized,
    ctx: &mut TxContext,
): StakingPool {
    let id = object::new(ctx);
    let node_id = object::uid_to_inner(&id);
    assert!(name.length() <= MAX_NODE_NAME_LENGTH, EInvalidNameLength);
    assert!(network_address.length() <= MAX_NETWORK_ADDRESS_LENGTH, EInvalidNetworkAddressLength);
    assert!((commission_rate as u64) <= N_BASIS_POINTS, EIncorrectCommissionRate);
    let activation_epoch = if (committee_selected) { epoch + 1 } else { epoch };
    let node_info = storage_node::new(
        name,
        node_id,
        network_address,
        public_key,
        network_public_key,
        metadata,
        ctx,
    );
    StakingPool {
        id,
        state: PoolState::Active,
        voting_params: VotingParams { storage_price, write_price, node_capacity },
        node_info,
        activation_epoch,
        latest_epoch: epoch,
        wal_balance: 0,
        num_shares: 0,
        pending_shares_withdraw: pending_values::empty(),
        pre_active_withdrawals: pending_values::empty(),
        pending_commission_rate: pending_values::empty(),
        commission_rate,
        exchange_rates: table::new(ctx),
        pending_stake: pending_values::empty(),
        rewards_pool: balance::zero(),
        commission: balance::zero(),
        commission_receiver,
        governance_authorized,
        extra_fields: bag::new(ctx),
    }
}

/// Checks that `proof_of_possession` signs the proof-of-possession message
/// of `public_key` for `epoch` and the transaction's sender (aborts
/// `messages::EInvalidKeyLength` unless the key has 48 bytes).
public(package) fun verify_proof_of_possession(
    public_key: vector<u8>,
    proof_of_possession: vector<u8>,
    epoch: u32,
    ctx: &TxContext,
) {
    let message = messages::new_proof_of_possession_msg(epoch, ctx.sender(), public_key);
    assert!(message.verify_proof_of_possession(proof_of_possession), EInvalidProofOfPossession);
}

// === Stake ===

/// Stakes `to_stake` from `activation_epoch` on.
public(package) fun stake(
    pool: &mut StakingPool,
    to_stake: Balance<WAL>,
    activation_epoch: u32,
    ctx: &mut TxContext,
): StakedWal {
    assert!(pool.is_active(), EPoolIsNotActive);
    let amount = to_stake.value();
    assert!(amount > 0, EZeroStake);
    pool.pending_stake.insert_or_add(activation_epoch, amount);
    staked_wal::mint(pool.node_info.id(), to_stake, activation_epoch, ctx)
}

/// Whether `sw` can be withdrawn right away, principal only: it is staked
/// and not counted in any committee yet (activation in `epoch + 2`, or in
/// `epoch + 1` without a selected next committee holding the node).
public(package) fun is_early_withdrawable(
    sw: &StakedWal,
    epoch: u32,
    in_next_committee: bool,
) : bool {
    if (!sw.is_staked()) return false;
    let activation = sw.activation_epoch();
    activation == epoch + 2 || (activation == epoch + 1 && !in_next_committee)
}

/// Requests the withdrawal of `sw`: from `epoch + 2` if the node is in the
/// selected next committee, else from `epoch + 1` if it is in the current
/// one. Stake that is not counted anywhere is withdrawn directly.
/// `in_next_committee` is false while the next committee is not selected.
public(package) fun request_withdraw_stake(
    pool: &mut StakingPool,
    sw: &mut StakedWal,
    in_current_committee: bool,
    in_next_committee: bool,
    epoch: u32,
) {
    assert!(sw.node_id() == pool.node_info.id(), EIncorrectPoolId);
    assert!(sw.is_staked(), ENotStaked);
    assert!(!is_early_withdrawable(sw, epoch, in_next_committee), EWithdrawDirectly);
    let activation = sw.activation_epoch();
    let principal = sw.value();
    if (activation == epoch + 1) {
        // Pre-active: converted to shares when it activates, leaves after.
        pool.pre_active_withdrawals.insert_or_add(activation, principal);
        sw.set_withdrawing(epoch + 2);
        return
    };
    assert!(activation <= epoch, EActivationEpochNotReached);
    let withdraw_epoch = if (in_next_committee) {
        epoch + 2
    } else if (in_current_committee) {
        epoch + 1
    } else {
        abort EWithdrawDirectly
    };
    let rate = pool.exchange_rate_at_epoch(activation);
    let shares = rate.convert_to_share_amount(principal);
    pool.pending_shares_withdraw.insert_or_add(withdraw_epoch, shares);
    sw.set_withdrawing(withdraw_epoch);
}

/// Withdraws `sw`: principal only if early withdrawable; principal and
/// rewards if its withdraw epoch has come, or (one step) if it is staked
/// with a node in no committee.
public(package) fun withdraw_stake(
    pool: &mut StakingPool,
    sw: StakedWal,
    in_current_committee: bool,
    in_next_committee: bool,
    epoch: u32,
): Balance<WAL> {
    assert!(sw.node_id() == pool.node_info.id(), EIncorrectPoolId);
    let activation = sw.activation_epoch();
    let principal = sw.value();
    if (sw.is_staked()) {
        if (is_early_withdrawable(&sw, epoch, in_next_committee)) {
            pool.pending_stake.reduce(activation, principal);
            return sw.into_balance()
        };
        assert!(!in_current_committee && !in_next_committee, ENotWithdrawing);
        assert!(activation <= epoch, EActivationEpochNotReached);
        if (activation > pool.latest_epoch) {
            // Never activated: the pool has not been advanced since.
            pool.pending_stake.reduce(activation, principal);
            return sw.into_balance()
        };
        let rate = pool.exchange_rate_at_epoch(activation);
        let shares = rate.convert_to_share_amount(principal).min(pool.num_shares);
        let now = pool_exchange_rate::new(pool.wal_balance, pool.num_shares);
        let value = now.convert_to_wal_amount(shares).min(pool.wal_balance);
        pool.wal_balance = pool.wal_balance - value;
        pool.num_shares = pool.num_shares - shares;
        let mut out = sw.into_balance();
        out.join(pool.take_rewards(value, principal));
        return out
    };
    let withdraw_epoch = sw.withdraw_epoch();
    assert!(withdraw_epoch <= epoch, EWithdrawEpochNotReached);
    let activation_rate = pool.exchange_rate_at_epoch(activation);
    let withdraw_rate = pool.exchange_rate_at_epoch(withdraw_epoch);
    let shares = activation_rate.convert_to_share_amount(principal);
    let value = withdraw_rate.convert_to_wal_amount(shares);
    let mut out = sw.into_balance();
    out.join(pool.take_rewards(value, principal));
    out
}

/// Rewards of a stake of `principal` now worth `value`, at most what the
/// rewards pool holds (rounding).
fun take_rewards(pool: &mut StakingPool, value: u64, principal: u64): Balance<WAL> {
    let rewards = if (value > principal) { value - principal } else { 0 };
    let rewards = rewards.min(pool.rewards_pool.value());
    pool.rewards_pool.split(rewards)
}

// === Epoch change ===

/// Advances the pool to `epoch` with the rewards of the ended epoch: the
/// commission at the current rate (blocked until the next `voting_end`),
/// then the latest pending rate due by `epoch`, then the rest to the
/// stakers.
public(package) fun advance_epoch(pool: &mut StakingPool, rewards: Balance<WAL>, epoch: u32) {
    assert!(epoch > pool.latest_epoch, EPoolAlreadyUpdated);
    let mut rewards = rewards;
    let commission = (rewards.value() as u128) * (pool.commission_rate as u128);
    let commission = ((commission / (N_BASIS_POINTS as u128)) as u64);
    pool.add_commission(rewards.split(commission), true);
    let next_rate = pool.pending_commission_rate.latest_value_at(epoch);
    if (next_rate.is_some()) pool.commission_rate = (next_rate.destroy_some() as u16);
    let _ = pool.pending_commission_rate.flush(epoch);
    pool.wal_balance = pool.wal_balance + rewards.value();
    pool.rewards_pool.join(rewards);
    pool.node_info.rotate_public_key();
    pool.process_pending_stake(epoch);
    pool.latest_epoch = epoch;
}

/// Records the rate of `epoch`, adds pending stake, removes due share
/// withdrawals, and turns stake withdrawn before it activated into shares
/// that leave in the next epoch.
fun process_pending_stake(pool: &mut StakingPool, epoch: u32) {
    let rate = pool_exchange_rate::new(pool.wal_balance, pool.num_shares);
    pool.exchange_rates.add(epoch, rate);
    let stake_in = pool.pending_stake.flush(epoch);
    let shares_out = pool.pending_shares_withdraw.flush(epoch).min(pool.num_shares);
    let wal_out = rate.convert_to_wal_amount(shares_out).min(pool.wal_balance);
    pool.wal_balance = pool.wal_balance - wal_out + stake_in;
    pool.num_shares = pool.num_shares - shares_out + rate.convert_to_share_amount(stake_in);
    let pre_active = pool.pre_active_withdrawals.flush(epoch);
    if (pre_active > 0) {
        let shares = rate.convert_to_share_amount(pre_active);
        pool.pending_shares_withdraw.insert_or_add(epoch + 1, shares);
    };
}

/// The rate recorded at `epoch`, or the last one before it (flat before
/// any).
public(package) fun exchange_rate_at_epoch(pool: &StakingPool, epoch: u32): PoolExchangeRate {
    let mut e = if (epoch > pool.latest_epoch) { pool.latest_epoch } else { epoch };
    loop {
        if (pool.exchange_rates.contains(e)) return *pool.exchange_rates.borrow(e);
        if (e <= pool.activation_epoch) return pool_exchange_rate::flat();
        e = e - 1;
    }
}

/// The stake the pool will have in `epoch`: the current balance, plus
/// stake activating by then, minus withdrawals due by then.
public(package) fun wal_balance_at_epoch(pool: &StakingPool, epoch: u32): u64 {
    let mut pending_in = 0;
    let mut i = pool.latest_epoch + 1;
    while (i <= epoch) {
        pending_in = pending_in + pool.pending_stake.value_at(i);
        if (i < epoch) pending_in = pending_in - pool.pre_active_withdrawals.value_at(i).min(pending_in);
        i = i + 1;
    };
    let mut shares_out = 0;
    let mut i = pool.latest_epoch + 1;
    while (i <= epoch) {
        shares_out = shares_out + pool.pending_shares_withdraw.value_at(i);
        i = i + 1;
    };
    let now = pool_exchange_rate::new(pool.wal_balance, pool.num_shares);
    let out = now.convert_to_wal_amount(shares_out.min(pool.num_shares));
    pool.wal_balance + pending_in - out.min(pool.wal_balance + pending_in)
}

// === Node parameters ===

/// Schedules `commission_rate` (basis points) from `epoch + 2` on.
public(package) fun set_next_commission(pool: &mut StakingPool, commission_rate: u16, epoch: u32) {
    assert!((commission_rate as u64) <= N_BASIS_POINTS, EIncorrectCommissionRate);
    pool.pending_commission_rate.insert_or_replace(epoch + 2, (commission_rate as u64));
}

public(package) fun set_next_storage_price(pool: &mut StakingPool, storage_price: u64) {
    pool.voting_params.storage_price = storage_price;
}

public(package) fun set_next_write_price(pool: &mut StakingPool, write_price: u64) {
    pool.voting_params.write_price = write_price;
}

public(package) fun set_next_node_capacity(pool: &mut StakingPool, node_capacity: u64) {
    pool.voting_params.node_capacity = node_capacity;
}

/// Rotates to `public_key` at the pool's next advance, after checking its
/// proof of possession for `epoch` and the sender.
public(package) fun set_next_public_key(
    pool: &mut StakingPool,
    public_key: vector<u8>,
    proof_of_possession: vector<u8>,
    epoch: u32,
    ctx: &TxContext,
) {
    verify_proof_of_possession(public_key, proof_of_possession, epoch, ctx);
    pool.node_info.set_next_public_key(public_key);
}

public(package) fun set_name(pool: &mut StakingPool, name: String) {
    assert!(name.length() <= MAX_NODE_NAME_LENGTH, EInvalidNameLength);
    pool.node_info.set_name(name);
}

public(package) fun set_network_address(pool: &mut StakingPool, network_address: String) {
    assert!(network_address.length() <= MAX_NETWORK_ADDRESS_LENGTH, EInvalidNetworkAddressLength);
    pool.node_info.set_network_address(network_address);
}

public(package) fun set_network_public_key(pool: &mut StakingPool, network_public_key: vector<u8>) {
    pool.node_info.set_network_public_key(network_public_key);
}

public(package) fun set_node_metadata(pool: &mut StakingPool, metadata: NodeMetadata) {
    pool.node_info.set_node_metadata(metadata);
}

// === Authorization and commission ===

/// Hands the commission to `receiver`; `auth` must be the current receiver.
public(package) fun set_commission_receiver(
    pool: &mut StakingPool,
    auth: Authenticated,
    receiver: Authorized,
) {
    assert!(auth.matches(&pool.commission_receiver), EAuthorizationFailure);
    pool.commission_receiver = receiver;
}

/// Hands governance to `authorized`; `auth` must be the current authority.
public(package) fun set_governance_authorized(
    pool: &mut StakingPool,
    auth: Authenticated,
    authorized: Authorized,
) {
    assert!(auth.matches(&pool.governance_authorized), EAuthorizationFailure);
    pool.governance_authorized = authorized;
}

/// The collectable commission (all but the amount blocked until the next
/// `voting_end`); `auth` must be the commission receiver.
public(package) fun collect_commission(pool: &mut StakingPool, auth: Authenticated): Balance<WAL> {
    assert!(auth.matches(&pool.commission_receiver), EAuthorizationFailure);
    let blocked = pool.blocked_commission();
    let total = pool.commission.value();
    if (total <= blocked) return balance::zero();
    pool.commission.split(total - blocked)
}

/// Adds `commission`, blocked until the next `voting_end` if `block`.
public(package) fun add_commission(pool: &mut StakingPool, commission: Balance<WAL>, block: bool) {
    let amount = commission.value();
    pool.commission.join(commission);
    if (block && amount > 0) {
        let key = NewEpochCommissionBlockedForCollection {};
        if (pool.extra_fields.contains(key)) {
            let blocked = pool
                .extra_fields
                .borrow_mut<NewEpochCommissionBlockedForCollection, u64>(key);
            *blocked = *blocked + amount;
        } else {
            pool.extra_fields.add(key, amount);
        };
    };
}

/// Makes all commission collectable (`voting_end`).
public(package) fun clear_blocked_commission(pool: &mut StakingPool) {
    let key = NewEpochCommissionBlockedForCollection {};
    if (pool.extra_fields.contains(key)) {
        let _: u64 = pool.extra_fields.remove(key);
    };
}

/// The commission that cannot be collected yet.
public(package) fun blocked_commission(pool: &StakingPool): u64 {
    let key = NewEpochCommissionBlockedForCollection {};
    if (pool.extra_fields.contains(key)) {
        *pool.extra_fields.borrow<NewEpochCommissionBlockedForCollection, u64>(key)
    } else {
        0
    }
}

/// Takes the whole commission, blocked or not (slashing).
public(package) fun take_commission(pool: &mut StakingPool): Balance<WAL> {
    let key = NewEpochCommissionBlockedForCollection {};
    if (pool.extra_fields.contains(key)) {
        let _: u64 = pool.extra_fields.remove(key);
    };
    pool.commission.withdraw_all()
}

// === Views ===

public(package) fun is_active(pool: &StakingPool): bool {
    match (&pool.state) {
        PoolState::Active => true,
        _ => false,
    }
}

public fun node_info(pool: &StakingPool): &StorageNodeInfo { &pool.node_info }

public fun wal_balance(pool: &StakingPool): u64 { pool.wal_balance }

public fun commission_rate(pool: &StakingPool): u16 { pool.commission_rate }

/// Who governs the pool (votes on proposals, upgrades and slashing).
public(package) fun governance_authorized(pool: &StakingPool): Authorized {
    pool.governance_authorized
}

public(package) fun node_capacity(pool: &StakingPool): u64 { pool.voting_params.node_capacity }

public(package) fun storage_price(pool: &StakingPool): u64 { pool.voting_params.storage_price }

public(package) fun write_price(pool: &StakingPool): u64 { pool.voting_params.write_price }

public(package) fun commission_amount(pool: &StakingPool): u64 { pool.commission.value() }

#[test_only]
public fun rewards_for_testing(pool: &StakingPool): u64 { pool.rewards_pool.value() }

#[test_only]
public fun commission_for_testing(pool: &StakingPool): u64 { pool.commission.value() }

#[test_only]
public fun pending_commission_rate_for_testing(pool: &StakingPool, epoch: u32): u64 {
    pool.pending_commission_rate.value_at(epoch)
}
