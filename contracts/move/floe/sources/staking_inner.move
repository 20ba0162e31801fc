// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The staking state (version 1), a dynamic field of `Staking`: the epoch,
/// the committees, the staking pools and the epoch state machine.
///
/// An epoch runs `EpochChangeDone(t)` -> `voting_end` (from `t +
/// epoch_duration / 2`; in epoch 0 from `first_epoch_start`) selects the
/// next committee and parameters -> `NextParamsSelected(t)` ->
/// `initiate_epoch_change` (from `t + epoch_duration`; in epoch 0 from
/// `first_epoch_start`) pays the ended epoch's rewards, rotates the
/// committees and moves the system on -> `EpochChangeSync(weight)` ->
/// `epoch_sync_done` by nodes holding a quorum of shards ->
/// `EpochChangeDone(now)`, the next epoch's clock.
///
/// Committee selection: the active set's projected stakes are apportioned
/// (`apportionment`) into shard counts, and `committee::transition` keeps
/// each node's shards where it can. The next capacity is the
/// `quorum_above` of the next committee's capacity votes, each scaled to
/// the whole committee (`node_capacity * n_shards / shards`). Prices are
/// not part of the next epoch's parameters (their fields hold `u64::MAX`,
/// unused, as on Walrus): `recalculate_prices` takes the `quorum_below` of
/// the current committee's votes whenever `staking::update_prices` runs,
/// which `initiate_epoch_change` also does for the new committee.
///
/// Membership is open: anyone with a BLS key and its proof of possession
/// registers a candidate pool (`create_pool`); it enters the committee at
/// a `voting_end` once its projected stake wins shards. Node parameters
/// change through the node's `StorageNodeCap`; commission and governance
/// through an `Authenticated` matching the pool's records.
///
/// Left for later: governance (upgrades, slashing) and subsidies.
module floe::staking_inner;

use floe::active_set::{Self, ActiveSet};
use floe::apportionment;
use floe::auth::{Self, Authenticated, Authorized};
use floe::bls_aggregate::{Self, BlsCommittee};
use floe::committee::{Self, Committee};
use floe::epoch_parameters::{Self, EpochParams};
use floe::events;
use floe::extended_field::{Self, ExtendedField};
use floe::node_metadata::{Self, NodeMetadata};
use floe::staked_wal::StakedWal;
use floe::staking_pool::{Self, StakingPool};
use floe::storage_node::{Self, StorageNodeCap};
use floe::system::System;
use std::string::String;
use sui::balance::{Self, Balance};
use sui::bls12381::{Self, G1};
use sui::clock::Clock;
use sui::coin::{Self, Coin};
use sui::group_ops::Element;
use sui::object_table::{Self, ObjectTable};
use sui::vec_map::{Self, VecMap};
use wal::wal::{ProtectedTreasury, WAL};

/// Most nodes in the active set.
const MAX_ACTIVE_SET_SIZE: u16 = 150;
/// Least projected stake of an active-set node.
const MIN_STAKE: u64 = 0;

/// The call does not fit the epoch state (or comes too early).
const EWrongEpochState: u64 = 0;
/// `epoch_sync_done` for another epoch.
const EInvalidSyncEpoch: u64 = 1;
/// The node already reported sync done for the epoch.
const EDuplicateSyncDone: u64 = 2;
/// No stake in the active set at `voting_end`.
const ENoStake: u64 = 3;
/// The node is not in the current committee.
const ENotInCommittee: u64 = 4;
/// The next committee is already selected.
const ECommitteeSelected: u64 = 5;
/// No pool for the node id.
const EPoolNotFound: u64 = 8;
/// The next public keys are not in committee order.
const EIncorrectNodeOrder: u64 = 10;

/// Where the epoch change stands.
public enum EpochState has copy, drop, store {
    /// Changing epochs; the shard weight that reported sync done.
    EpochChangeSync(u16),
    /// The epoch change finished at this time (ms): the epoch's start.
    EpochChangeDone(u64),
    /// The next committee is selected; the epoch's start (ms).
    NextParamsSelected(u64),
}

/// The staking state, version 1.
public struct StakingInnerV1 has store {
    n_shards: u16,
    /// Epoch length (ms).
    epoch_duration: u64,
    /// When epoch 0 may end (ms).
    first_epoch_start: u64,
    /// Pools by node id.
    pools: ObjectTable<ID, StakingPool>,
    epoch: u32,
    active_set: ExtendedField<ActiveSet>,
    next_committee: Option<Committee>,
    committee: Committee,
    previous_committee: Committee,
    next_epoch_params: Option<EpochParams>,
    epoch_state: EpochState,
    next_epoch_public_keys: ExtendedField<VecMap<ID, Element<G1>>>,
}

/// A state in `epoch` whose change finished at `now`, with no pools and an
/// empty committee (genesis adds them).
public(package) fun new(
    epoch: u32,
    n_shards: u16,
    epoch_duration: u64,
    first_epoch_start: u64,
    now: u64,
    ctx: &mut TxContext,
): StakingInnerV1 {
    StakingInnerV1 {
        n_shards,
        epoch_duration,
        first_epoch_start,
        pools: object_table::new(ctx),
        epoch,
        active_set: extended_field::new(active_set::new(MAX_ACTIVE_SET_SIZE, MIN_STAKE), ctx),
        next_committee: option::none(),
        committee: committee::empty(),
        previous_committee: committee::empty(),
        next_epoch_params: option::none(),
        epoch_state: EpochState::EpochChangeDone(now),
        next_epoch_public_keys: extended_field::new(vec_map::empty(), ctx),
    }
}

/// Registers a candidate: checks the proof of possession of `public_key`
/// (signed for the current epoch and the sender) and the network key, then
/// creates its pool (`add_new_pool`). The sender is the commission
/// receiver and governance authority until changed. Returns the node id.
public(package) fun create_pool(
    self: &mut StakingInnerV1,
    name: String,
    network_address: String,
    metadata: NodeMetadata,
    public_key: vector<u8>,
    network_public_key: vector<u8>,
    proof_of_possession: vector<u8>,
    commission_rate: u16,
    storage_price: u64,
    write_price: u64,
    node_capacity: u64,
    ctx: &mut TxContext,
): ID {
    staking_pool::verify_proof_of_possession(public_key, proof_of_possession, self.epoch, ctx);
    storage_node::check_network_public_key(&network_public_key);
    let sender = auth::authorized_address(ctx.sender());
    self.add_new_pool(
        name,
        network_address,
        metadata,
        public_key,
        network_public_key,
        commission_rate,
        storage_price,
        write_price,
        node_capacity,
        sender,
        sender,
        ctx,
    )
}

/// A genesis node's pool: the same path as a registration without the
/// proof of possession (the genesis sender is not the operator) or a
/// network key; `operator` receives commission and governs. Returns the
/// node id.
public(package) fun create_genesis_pool(
    self: &mut StakingInnerV1,
    name: String,
    network_address: String,
    public_key: vector<u8>,
    commission_rate: u16,
    storage_price: u64,
    write_price: u64,
    node_capacity: u64,
    operator: address,
    ctx: &mut TxContext,
): ID {
    let operator = auth::authorized_address(operator);
    self.add_new_pool(
        name,
        network_address,
        node_metadata::default(),
        public_key,
        vector[],
        commission_rate,
        storage_price,
        write_price,
        node_capacity,
        operator,
        operator,
        ctx,
    )
}

/// Creates a pool in the current epoch and adds it under its id.
fun add_new_pool(
    self: &mut StakingInnerV1,
    name: String,
    network_address: String,
    metadata: NodeMetadata,
    public_key: vector<u8>,
    network_public_key: vector<u8>,
    commission_rate: u16,
    storage_price: u64,
    write_price: u64,
    node_capacity: u64,
    commission_receiver: Authorized,
    governance_authorized: Authorized,
    ctx: &mut TxContext,
): ID {
    let pool = staking_pool::new(
        name,
        network_address,
        metadata,
        public_key,
        network_public_key,
        commission_rate,
        storage_price,
        write_price,
        node_capacity,
        self.epoch,
        self.next_committee.is_some(),
        commission_receiver,
        governance_authorized,
        ctx,
    );
    let node_id = pool.node_info().id();
    self.pools.add(node_id, pool);
    node_id
}

/// Sets the genesis committee.
public(package) fun set_committee(self: &mut StakingInnerV1, committee: Committee) {
    self.committee = committee;
}

// === Stake ===

/// Stakes with `node_id`'s pool from the next epoch (the one after, once
/// the next committee is selected).
public(package) fun stake_with_pool(
    self: &mut StakingInnerV1,
    to_stake: Coin<WAL>,
    node_id: ID,
    ctx: &mut TxContext,
): StakedWal {
    assert!(self.pools.contains(node_id), EPoolNotFound);
    let activation_epoch = self.projection_epoch();
    let staked = self.pools.borrow_mut(node_id).stake(to_stake.into_balance(), activation_epoch, ctx);
    self.update_active_set(node_id);
    staked
}

/// Requests the withdrawal of `staked_wal`.
public(package) fun request_withdraw_stake(self: &mut StakingInnerV1, staked_wal: &mut StakedWal) {
    let node_id = staked_wal.node_id();
    assert!(self.pools.contains(node_id), EPoolNotFound);
    let in_current = self.committee.contains(&node_id);
    let in_next = self.in_next_committee(node_id);
    let epoch = self.epoch;
    self.pools.borrow_mut(node_id).request_withdraw_stake(staked_wal, in_current, in_next, epoch);
    self.update_active_set(node_id);
}

/// Withdraws `staked_wal` (principal and any rewards).
public(package) fun withdraw_stake(
    self: &mut StakingInnerV1,
    staked_wal: StakedWal,
    ctx: &mut TxContext,
): Coin<WAL> {
    let node_id = staked_wal.node_id();
    assert!(self.pools.contains(node_id), EPoolNotFound);
    let in_current = self.committee.contains(&node_id);
    let in_next = self.in_next_committee(node_id);
    let epoch = self.epoch;
    let out = self.pools.borrow_mut(node_id).withdraw_stake(staked_wal, in_current, in_next, epoch);
    self.update_active_set(node_id);
    coin::from_balance(out, ctx)
}

/// Whether `staked_wal` can be withdrawn right away (principal only).
public(package) fun can_withdraw_staked_wal_early(
    self: &StakingInnerV1,
    staked_wal: &StakedWal,
): bool {
    let in_next = self.in_next_committee(staked_wal.node_id());
    staking_pool::is_early_withdrawable(staked_wal, self.epoch, in_next)
}

// === Epoch change ===

/// Selects the next committee and parameters.
public(package) fun voting_end(self: &mut StakingInnerV1, clock: &Clock) {
    let now = clock.timestamp_ms();
    let start = match (self.epoch_state) {
        EpochState::EpochChangeDone(start) => start,
        EpochState::NextParamsSelected(_) => abort ECommitteeSelected,
        EpochState::EpochChangeSync(_) => abort EWrongEpochState,
    };
    if (self.epoch == 0) {
        assert!(now >= self.first_epoch_start, EWrongEpochState);
    } else {
        assert!(now >= start + self.epoch_duration / 2, EWrongEpochState);
    };
    self.clear_previous_committee_blocked_commission();
    self.select_committee_and_calculate_votes();
    self.epoch_state = EpochState::NextParamsSelected(start);
    events::emit_epoch_parameters_selected(self.epoch + 1);
}

/// Ends the epoch: burns 3% of its rewards, moves `system` to the next
/// committee and capacity, pays every pool of the old committee its
/// rewards, advances the new committee's newcomers, and starts syncing.
public(package) fun initiate_epoch_change(
    self: &mut StakingInnerV1,
    system: &mut System,
    treasury: &mut ProtectedTreasury,
    clock: &Clock,
) {
    let now = clock.timestamp_ms();
    let start = match (self.epoch_state) {
        EpochState::NextParamsSelected(start) => start,
        _ => abort EWrongEpochState,
    };
    if (self.epoch == 0) {
        assert!(now >= self.first_epoch_start, EWrongEpochState);
    } else {
        assert!(now >= start + self.epoch_duration, EWrongEpochState);
    };
    treasury.burn_balance(system.extract_burn_balance());
    let next_committee = self.next_committee.extract();
    let params = self.next_epoch_params.extract();
    let bls_committee = self.next_bls_committee(&next_committee);
    let mut rewards = system.advance_epoch(bls_committee, params.capacity());

    self.epoch = self.epoch + 1;
    self.previous_committee = self.committee;
    self.committee = next_committee;
    self.epoch_state = EpochState::EpochChangeSync(0);
    let epoch = self.epoch;

    // The old committee's rewards, then the newcomers (last entry first).
    while (!rewards.is_empty()) {
        let (node_id, reward) = rewards.pop();
        self.advance_pool(node_id, reward, epoch);
    };
    rewards.destroy_empty();
    let ids = self.committee.inner().keys();
    let mut i = ids.length();
    while (i > 0) {
        i = i - 1;
        if (!self.previous_committee.contains(&ids[i])) {
            self.advance_pool(ids[i], balance::zero(), epoch);
        };
    };
    *self.next_epoch_public_keys.borrow_mut() = vec_map::empty();
    events::emit_epoch_change_start(epoch);
}

/// A node finished receiving its shards for `epoch`; at a quorum of shard
/// weight the epoch change is done.
public(package) fun epoch_sync_done(
    self: &mut StakingInnerV1,
    cap: &mut StorageNodeCap,
    epoch: u32,
    clock: &Clock,
) {
    assert!(epoch == self.epoch, EInvalidSyncEpoch);
    assert!(cap.last_epoch_sync_done() < epoch, EDuplicateSyncDone);
    let node_id = cap.node_id();
    assert!(self.committee.contains(&node_id), ENotInCommittee);
    cap.set_last_epoch_sync_done(epoch);
    let shards = *self.committee.shards(&node_id);
    let n_shards = (self.n_shards as u64);
    let done = match (&mut self.epoch_state) {
        EpochState::EpochChangeSync(weight) => {
            *weight = *weight + (shards.length() as u16);
            3 * (*weight as u64) >= 2 * n_shards + 1
        },
        _ => false,
    };
    events::emit_shards_received(epoch, shards);
    if (done) {
        self.epoch_state = EpochState::EpochChangeDone(clock.timestamp_ms());
        events::emit_epoch_change_done(epoch);
    };
}

/// Makes the commission the previous committee earned at the last epoch
/// change collectable.
fun clear_previous_committee_blocked_commission(self: &mut StakingInnerV1) {
    let ids = self.previous_committee.inner().keys();
    let mut i = 0;
    while (i < ids.length()) {
        if (self.pools.contains(ids[i])) self.pools.borrow_mut(ids[i]).clear_blocked_commission();
        i = i + 1;
    };
}

/// The active set's stakes apportioned into the next committee, its public
/// keys and the capacity it votes for.
fun select_committee_and_calculate_votes(self: &mut StakingInnerV1) {
    let set = self.active_set.borrow();
    assert!(set.total_stake() > 0, ENoStake);
    let ids = set.active_ids();
    let shards = apportionment::apportion(set.active_stakes(), self.n_shards);
    let mut assignments = vec_map::empty();
    let mut i = 0;
    while (i < ids.length()) {
        if (shards[i] > 0) assignments.insert(ids[i], shards[i]);
        i = i + 1;
    };
    let next = self.committee.transition(assignments);

    let mut keys = vec_map::empty();
    let mut votes = vector[];
    let mut weights = vector[];
    let nodes = next.inner();
    let mut i = 0;
    while (i < nodes.length()) {
        let (node_id, node_shards) = nodes.get_entry_by_idx(i);
        let pool = self.pools.borrow(*node_id);
        keys.insert(*node_id, *pool.node_info().next_epoch_public_key());
        let weight = node_shards.length();
        let vote = (pool.node_capacity() as u128) * (self.n_shards as u128) / (weight as u128);
        let vote = if (vote > (std::u64::max_value!() as u128)) {
            std::u64::max_value!()
        } else {
            (vote as u64)
        };
        votes.push_back(vote);
        weights.push_back((weight as u16));
        i = i + 1;
    };
    let capacity = quorum_above(votes, weights, self.n_shards);
    *self.next_epoch_public_keys.borrow_mut() = keys;
    // Prices are not selected here: `recalculate_prices` applies them when
    // votes change and at every epoch change, so these fields stay unused.
    self.next_epoch_params =
        option::some(
            epoch_parameters::new(capacity, std::u64::max_value!(), std::u64::max_value!()),
        );
    self.next_committee = option::some(next);
}

/// The `BlsCommittee` of the next epoch: `committee`'s nodes with their
/// next public keys, weights = shard counts.
fun next_bls_committee(self: &StakingInnerV1, committee: &Committee): BlsCommittee {
    let nodes = committee.inner();
    let keys = self.next_epoch_public_keys.borrow();
    let mut members = vector[];
    let mut i = 0;
    while (i < nodes.length()) {
        let (node_id, shards) = nodes.get_entry_by_idx(i);
        let (key_id, key) = keys.get_entry_by_idx(i);
        assert!(key_id == node_id, EIncorrectNodeOrder);
        members.push_back(
            bls_aggregate::new_bls_committee_member(
                bls12381::g1_to_uncompressed_g1(key),
                (shards.length() as u16),
                *node_id,
            ),
        );
        i = i + 1;
    };
    bls_aggregate::new_bls_committee(self.epoch + 1, members)
}

/// Advances `node_id`'s pool to `epoch` with `reward` and refreshes its
/// projected stake.
fun advance_pool(self: &mut StakingInnerV1, node_id: ID, reward: Balance<WAL>, epoch: u32) {
    self.pools.borrow_mut(node_id).advance_epoch(reward, epoch);
    self.update_active_set(node_id);
}

/// The epoch new stake activates in (and that projections are for).
fun projection_epoch(self: &StakingInnerV1): u32 {
    if (self.next_committee.is_some()) { self.epoch + 2 } else { self.epoch + 1 }
}

fun in_next_committee(self: &StakingInnerV1, node_id: ID): bool {
    self.next_committee.is_some() && self.next_committee.borrow().contains(&node_id)
}

/// Sets `node_id`'s active-set stake to its projected stake.
fun update_active_set(self: &mut StakingInnerV1, node_id: ID) {
    let epoch = self.projection_epoch();
    let stake = self.pools.borrow(node_id).wal_balance_at_epoch(epoch);
    self.active_set.borrow_mut().insert_or_update(node_id, stake);
}

// === Node parameters and commission ===

/// `node_id`'s pool, mutably; aborts with `EPoolNotFound`.
/// Whether `node_id` has a pool.
public(package) fun has_pool(self: &StakingInnerV1, node_id: ID): bool {
    self.pools.contains(node_id)
}

/// `node_id`'s governance authority; aborts with `EPoolNotFound`.
public(package) fun governance_authorized(self: &StakingInnerV1, node_id: ID): Authorized {
    assert!(self.pools.contains(node_id), EPoolNotFound);
    self.pools.borrow(node_id).governance_authorized()
}

/// Sets the epoch length (governance, at an epoch change: the new epoch
/// runs for `epoch_duration`).
public(package) fun set_epoch_duration(self: &mut StakingInnerV1, epoch_duration: u64) {
    self.epoch_duration = epoch_duration;
}

/// Sets the active set's size (governance); counted from the next
/// `voting_end` on.
public(package) fun set_active_set_size(self: &mut StakingInnerV1, max_size: u16) {
    self.active_set.borrow_mut().set_max_size(max_size);
}

fun pool_mut(self: &mut StakingInnerV1, node_id: ID): &mut StakingPool {
    assert!(self.pools.contains(node_id), EPoolNotFound);
    self.pools.borrow_mut(node_id)
}

/// Schedules the commission rate of `cap`'s pool for two epochs ahead.
public(package) fun set_next_commission(
    self: &mut StakingInnerV1,
    cap: &StorageNodeCap,
    commission_rate: u16,
) {
    let epoch = self.epoch;
    self.pool_mut(cap.node_id()).set_next_commission(commission_rate, epoch);
}

public(package) fun set_commission_receiver(
    self: &mut StakingInnerV1,
    node_id: ID,
    auth: Authenticated,
    receiver: Authorized,
) {
    self.pool_mut(node_id).set_commission_receiver(auth, receiver);
}

public(package) fun set_governance_authorized(
    self: &mut StakingInnerV1,
    node_id: ID,
    auth: Authenticated,
    authorized: Authorized,
) {
    self.pool_mut(node_id).set_governance_authorized(auth, authorized);
}

/// Takes `node_id`'s whole commission, blocked or not (slashing);
/// aborts with `EPoolNotFound`.
public(package) fun take_commission(self: &mut StakingInnerV1, node_id: ID): Balance<WAL> {
    self.pool_mut(node_id).take_commission()
}

/// Adds a subsidy to `node_id`'s commission, collectable at once;
/// aborts with `EPoolNotFound`.
public(package) fun add_subsidy_commission(
    self: &mut StakingInnerV1,
    node_id: ID,
    subsidy: Balance<WAL>,
) {
    self.pool_mut(node_id).add_commission(subsidy, false);
}

/// The collectable commission of `node_id`'s pool.
public(package) fun collect_commission(
    self: &mut StakingInnerV1,
    node_id: ID,
    auth: Authenticated,
): Balance<WAL> {
    self.pool_mut(node_id).collect_commission(auth)
}

public(package) fun set_storage_price_vote(
    self: &mut StakingInnerV1,
    cap: &StorageNodeCap,
    storage_price: u64,
) {
    self.pool_mut(cap.node_id()).set_next_storage_price(storage_price);
}

public(package) fun set_write_price_vote(
    self: &mut StakingInnerV1,
    cap: &StorageNodeCap,
    write_price: u64,
) {
    self.pool_mut(cap.node_id()).set_next_write_price(write_price);
}

public(package) fun set_node_capacity_vote(
    self: &mut StakingInnerV1,
    cap: &StorageNodeCap,
    node_capacity: u64,
) {
    self.pool_mut(cap.node_id()).set_next_node_capacity(node_capacity);
}

/// The key `cap`'s node signs with from its pool's next advance on.
public(package) fun set_next_public_key(
    self: &mut StakingInnerV1,
    cap: &StorageNodeCap,
    public_key: vector<u8>,
    proof_of_possession: vector<u8>,
    ctx: &TxContext,
) {
    let epoch = self.epoch;
    self.pool_mut(cap.node_id()).set_next_public_key(public_key, proof_of_possession, epoch, ctx);
}

public(package) fun set_name(self: &mut StakingInnerV1, cap: &StorageNodeCap, name: String) {
    self.pool_mut(cap.node_id()).set_name(name);
}

public(package) fun set_network_address(
    self: &mut StakingInnerV1,
    cap: &StorageNodeCap,
    network_address: String,
) {
    self.pool_mut(cap.node_id()).set_network_address(network_address);
}

public(package) fun set_network_public_key(
    self: &mut StakingInnerV1,
    cap: &StorageNodeCap,
    network_public_key: vector<u8>,
) {
    self.pool_mut(cap.node_id()).set_network_public_key(network_public_key);
}

public(package) fun set_node_metadata(
    self: &mut StakingInnerV1,
    cap: &StorageNodeCap,
    metadata: NodeMetadata,
) {
    self.pool_mut(cap.node_id()).set_node_metadata(metadata);
}

/// Refreshes `cap`'s node in the active set with its projected stake (it
/// may now outrank a node whose stake fell; with none it leaves the set).
public(package) fun try_join_active_set(self: &mut StakingInnerV1, cap: &StorageNodeCap) {
    let node_id = cap.node_id();
    assert!(self.pools.contains(node_id), EPoolNotFound);
    self.update_active_set(node_id);
}

/// The storage and write prices the current committee votes for: for each,
/// the `quorum_below` of the members' votes weighted by shards. Both are
/// `u64::MAX` while the committee is empty.
public(package) fun recalculate_prices(self: &StakingInnerV1): (u64, u64) {
    let nodes = self.committee.inner();
    if (nodes.length() == 0) return (std::u64::max_value!(), std::u64::max_value!());
    let mut storage_votes = vector[];
    let mut write_votes = vector[];
    let mut weights = vector[];
    let mut i = 0;
    while (i < nodes.length()) {
        let (node_id, shards) = nodes.get_entry_by_idx(i);
        let pool = self.pools.borrow(*node_id);
        storage_votes.push_back(pool.storage_price());
        write_votes.push_back(pool.write_price());
        weights.push_back((shards.length() as u16));
        i = i + 1;
    };
    (
        quorum_below(storage_votes, weights, self.n_shards),
        quorum_below(write_votes, weights, self.n_shards),
    )
}

/// The smallest value that votes holding a quorum (`3w >= 2n + 1`) of the
/// `n_shards` weight are at or below (`u64::MAX` if no quorum votes).
public(package) fun quorum_below(votes: vector<u64>, weights: vector<u16>, n_shards: u16): u64 {
    let n = votes.length();
    let mut order = vector::tabulate!(n, |i| i);
    // Insertion sort by vote, ascending (stable).
    let mut i = 1;
    while (i < n) {
        let mut j = i;
        while (j > 0 && votes[order[j - 1]] > votes[order[j]]) {
            order.swap(j - 1, j);
            j = j - 1;
        };
        i = i + 1;
    };
    let mut weight: u64 = 0;
    let mut i = 0;
    while (i < n) {
        weight = weight + (weights[order[i]] as u64);
        if (3 * weight >= 2 * (n_shards as u64) + 1) return votes[order[i]];
        i = i + 1;
    };
    std::u64::max_value!()
}

/// The largest value that votes holding a quorum (`3w >= 2n + 1`) of the
/// `n_shards` weight are at or above (0 if no quorum votes).
public(package) fun quorum_above(votes: vector<u64>, weights: vector<u16>, n_shards: u16): u64 {
    let n = votes.length();
    let mut order = vector::tabulate!(n, |i| i);
    // Insertion sort by vote, descending (stable).
    let mut i = 1;
    while (i < n) {
        let mut j = i;
        while (j > 0 && votes[order[j - 1]] < votes[order[j]]) {
            order.swap(j - 1, j);
            j = j - 1;
        };
        i = i + 1;
    };
    let mut weight: u64 = 0;
    let mut i = 0;
    while (i < n) {
        weight = weight + (weights[order[i]] as u64);
        if (3 * weight >= 2 * (n_shards as u64) + 1) return votes[order[i]];
        i = i + 1;
    };
    0
}

// === Views ===

public fun epoch(self: &StakingInnerV1): u32 { self.epoch }

public fun n_shards(self: &StakingInnerV1): u16 { self.n_shards }

public fun committee(self: &StakingInnerV1): &Committee { &self.committee }

public fun previous_committee(self: &StakingInnerV1): &Committee { &self.previous_committee }

public fun epoch_state(self: &StakingInnerV1): &EpochState { &self.epoch_state }

// === Test helpers ===

#[test_only]
public fun next_committee_for_testing(self: &StakingInnerV1): Committee {
    *self.next_committee.borrow()
}

#[test_only]
public fun is_epoch_change_done_for_testing(self: &StakingInnerV1): bool {
    match (&self.epoch_state) {
        EpochState::EpochChangeDone(_) => true,
        _ => false,
    }
}

#[test_only]
public fun sync_weight_for_testing(self: &StakingInnerV1): u16 {
    match (&self.epoch_state) {
        EpochState::EpochChangeSync(weight) => *weight,
        _ => abort EWrongEpochState,
    }
}

#[test_only]
public fun epoch_duration_for_testing(self: &StakingInnerV1): u64 { self.epoch_duration }

#[test_only]
public fun pool_for_testing(self: &StakingInnerV1, node_id: ID): &StakingPool {
    self.pools.borrow(node_id)
}

#[test_only]
public fun active_set_for_testing(self: &StakingInnerV1): ActiveSet {
    *self.active_set.borrow()
}
