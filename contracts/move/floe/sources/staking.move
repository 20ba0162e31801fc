// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The shared `Staking` object and the public staking API: node
/// registration and parameters, commission, price votes, stake and
/// withdraw, and the three calls that move epochs on (`voting_end`,
/// `initiate_epoch_change`, `epoch_sync_done`), all permissionless except
/// `epoch_sync_done`, which takes the node's `StorageNodeCap`.
///
/// Like `System`, `Staking` is a versioned shell: the state is
/// `StakingInnerV1` in a dynamic field keyed by the version, and every
/// access checks the version (`EWrongVersion`).
///
/// `initiate_epoch_change` has Walrus's `initiate_epoch_change_v2`
/// semantics (the 3% burn goes through the WAL treasury); floe never had a
/// v1, so it keeps the plain name. Parameter governance (see `governance`)
/// keeps its state in a dynamic field of `Staking` and is applied here at
/// each epoch change. Upgrades, slashing and subsidies are their own
/// modules and shared objects (`upgrade`, `slashing`, `subsidies`). Not
/// here yet: migration.
module floe::staking;

use floe::auth::{Self, Authenticated, Authorized};
use floe::events;
use floe::governance::{Self, Governance, ParameterChange};
use floe::node_metadata::NodeMetadata;
use floe::staked_wal::StakedWal;
use floe::staking_inner::StakingInnerV1;
use floe::storage_node::{Self, StorageNodeCap};
use floe::system::System;
use std::string::String;
use sui::clock::Clock;
use sui::coin::{Self, Coin};
use sui::dynamic_field as df;
use wal::wal::{ProtectedTreasury, WAL};

/// The version of the package's code and of `Staking`.
const VERSION: u64 = 1;

/// `Staking` is not at this package's version.
const EWrongVersion: u64 = 1;

/// The dynamic-field key of the `Governance` state.
const GOVERNANCE_KEY: vector<u8> = b"governance";

/// The shared staking object.
public struct Staking has key {
    id: UID,
    /// Version of the inner state (dynamic field key).
    version: u64,
    /// The package that may use this object.
    package_id: ID,
    /// The package of an authorized upgrade, until migration.
    new_package_id: Option<ID>,
}

/// Wraps `inner` in a new `Staking` for `package_id`.
public(package) fun create(inner: StakingInnerV1, package_id: ID, ctx: &mut TxContext): Staking {
    let mut staking = Staking {
        id: object::new(ctx),
        version: VERSION,
        package_id,
        new_package_id: option::none(),
    };
    df::add(&mut staking.id, VERSION, inner);
    staking
}

/// Shares `staking`.
public(package) fun share(staking: Staking) {
    transfer::share_object(staking);
}

// === Storage nodes ===

/// Registers a storage node candidate and returns its capability. The
/// node id is the id of its new staking pool. `public_key` is a compressed
/// BLS12-381 G1 key (48 bytes) and `proof_of_possession` its signature
/// over the proof-of-possession message for the current epoch and the
/// sender; `network_public_key` has 33 bytes; `name` at most 100 bytes,
/// `network_address` (`host:port`) at most 259; `commission_rate` in basis
/// points, at most 10_000. The prices and capacity are the node's first
/// votes. The cap receives the commission; the sender governs.
public fun register_candidate(
    staking: &mut Staking,
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
): StorageNodeCap {
    let inner = staking.inner_mut();
    let node_id = inner.create_pool(
        name,
        network_address,
        metadata,
        public_key,
        network_public_key,
        proof_of_possession,
        commission_rate,
        storage_price,
        write_price,
        node_capacity,
        ctx,
    );
    let cap = storage_node::new_cap(node_id, 0, ctx);
    let receiver = auth::authorized_object(object::id(&cap));
    inner.set_commission_receiver(node_id, auth::authenticate_sender(ctx), receiver);
    cap
}

/// Sets the commission rate (basis points, at most 10_000) of `cap`'s pool
/// from two epochs ahead on, so stakers can react.
public fun set_next_commission(staking: &mut Staking, cap: &StorageNodeCap, commission_rate: u16) {
    staking.inner_mut().set_next_commission(cap, commission_rate);
}

/// Collects `node_id`'s commission, all but what the last epoch change
/// added (collectable from the next `voting_end`); `auth` must be the
/// pool's commission receiver.
public fun collect_commission(
    staking: &mut Staking,
    node_id: ID,
    auth: Authenticated,
    ctx: &mut TxContext,
): Coin<WAL> {
    coin::from_balance(staking.inner_mut().collect_commission(node_id, auth), ctx)
}

/// Hands `node_id`'s commission to `receiver`; `auth` must be the current
/// receiver.
public fun set_commission_receiver(
    staking: &mut Staking,
    node_id: ID,
    auth: Authenticated,
    receiver: Authorized,
) {
    staking.inner_mut().set_commission_receiver(node_id, auth, receiver);
}

/// Hands `node_id`'s governance rights to `authorized`; `auth` must be
/// the current authority.
public fun set_governance_authorized(
    staking: &mut Staking,
    node_id: ID,
    auth: Authenticated,
    authorized: Authorized,
) {
    staking.inner_mut().set_governance_authorized(node_id, auth, authorized);
}

/// Votes for the storage price (FROST per MiB unit per epoch).
public fun set_storage_price_vote(staking: &mut Staking, cap: &StorageNodeCap, storage_price: u64) {
    staking.inner_mut().set_storage_price_vote(cap, storage_price);
}

/// Votes for the write price (FROST per MiB unit).
public fun set_write_price_vote(staking: &mut Staking, cap: &StorageNodeCap, write_price: u64) {
    staking.inner_mut().set_write_price_vote(cap, write_price);
}

/// Votes for the capacity (encoded bytes the node stores), counted at the
/// next `voting_end`.
public fun set_node_capacity_vote(staking: &mut Staking, cap: &StorageNodeCap, node_capacity: u64) {
    staking.inner_mut().set_node_capacity_vote(cap, node_capacity);
}

/// Applies the current committee's price votes to `system` right away
/// (permissionless; voters call it after voting) and emits `PricesUpdated`.
public fun update_prices(staking: &mut Staking, system: &mut System) {
    let (storage_price, write_price) = staking.inner().recalculate_prices();
    system.set_storage_price(storage_price);
    system.set_write_price(write_price);
    events::emit_prices_updated(staking.inner().epoch(), storage_price, write_price);
}

/// Sets the BLS key `cap`'s node signs with from its pool's next epoch
/// advance on; `proof_of_possession` as for `register_candidate`.
public fun set_next_public_key(
    staking: &mut Staking,
    cap: &StorageNodeCap,
    public_key: vector<u8>,
    proof_of_possession: vector<u8>,
    ctx: &mut TxContext,
) {
    staking.inner_mut().set_next_public_key(cap, public_key, proof_of_possession, ctx);
}

/// Renames `cap`'s node (at most 100 bytes).
public fun set_name(staking: &mut Staking, cap: &StorageNodeCap, name: String) {
    staking.inner_mut().set_name(cap, name);
}

/// Moves `cap`'s node to `network_address` (`host:port`, at most 259 bytes).
public fun set_network_address(staking: &mut Staking, cap: &StorageNodeCap, network_address: String) {
    staking.inner_mut().set_network_address(cap, network_address);
}

/// Replaces `cap`'s node's network public key (33 bytes).
public fun set_network_public_key(
    staking: &mut Staking,
    cap: &StorageNodeCap,
    network_public_key: vector<u8>,
) {
    staking.inner_mut().set_network_public_key(cap, network_public_key);
}

/// Replaces `cap`'s node's metadata.
public fun set_node_metadata(staking: &mut Staking, cap: &StorageNodeCap, metadata: NodeMetadata) {
    staking.inner_mut().set_node_metadata(cap, metadata);
}

/// Puts `cap`'s node in the active set with its projected stake, e.g.
/// after another node's stake fell below it (stake changes do this too).
public fun try_join_active_set(staking: &mut Staking, cap: &StorageNodeCap) {
    staking.inner_mut().try_join_active_set(cap);
}

// === Parameter governance ===

/// Proposes `change` (made with a `governance::*_change` constructor) for
/// `node_id`, a member of the current committee whose governance
/// authority `auth` is; counts the node's vote for and returns the
/// proposal id. Aborts: `governance::ENotAuthorized`, `ENotInCommittee`,
/// `EOutOfRange`, `EProposalExists` (one open proposal per parameter).
public fun propose_parameter_change(
    staking: &mut Staking,
    system: &System,
    node_id: ID,
    auth: Authenticated,
    change: ParameterChange,
    ctx: &mut TxContext,
): u64 {
    let _ = ctx;
    let inner = staking.inner();
    let weight = governance::voter_weight(inner, node_id, &auth);
    governance::check_bounds(&change, inner, system);
    let (epoch, n_shards) = (inner.epoch(), inner.n_shards());
    staking.governance_mut().propose(node_id, weight, n_shards, epoch, change)
}

/// Votes for or against `proposal_id` with `node_id`'s shards. Aborts:
/// `governance::ENotAuthorized`, `ENotInCommittee`, `ENoProposal`,
/// `EDuplicateVote`, `EAlreadyPassed`.
public fun vote_on_parameter_change(
    staking: &mut Staking,
    node_id: ID,
    auth: Authenticated,
    proposal_id: u64,
    in_favor: bool,
) {
    let inner = staking.inner();
    let weight = governance::voter_weight(inner, node_id, &auth);
    let n_shards = inner.n_shards();
    staking.governance_mut().vote(node_id, weight, n_shards, proposal_id, in_favor);
}

/// The governance state, created empty on first use.
public(package) fun governance_mut(staking: &mut Staking): &mut Governance {
    assert!(staking.version == VERSION, EWrongVersion);
    if (!df::exists_(&staking.id, GOVERNANCE_KEY)) {
        df::add(&mut staking.id, GOVERNANCE_KEY, governance::new());
    };
    df::borrow_mut(&mut staking.id, GOVERNANCE_KEY)
}

/// The governed subsidy rates: (system subsidy rate in basis points, base
/// subsidy, subsidy per shard), all 0 before the first proposal.
public(package) fun subsidy_rates(staking: &Staking): (u32, u64, u64) {
    assert!(staking.version == VERSION, EWrongVersion);
    if (!df::exists_(&staking.id, GOVERNANCE_KEY)) return (0, 0, 0);
    let g: &Governance = df::borrow(&staking.id, GOVERNANCE_KEY);
    (g.system_subsidy_rate(), g.base_subsidy(), g.subsidy_per_shard())
}

/// Records the package id of an authorized upgrade (`upgrade`).
public(package) fun set_new_package_id(staking: &mut Staking, new_package_id: ID) {
    staking.new_package_id = option::some(new_package_id);
}

/// Closes the ended epoch's proposals and applies the passed ones.
fun apply_governance(staking: &mut Staking, system: &mut System) {
    if (!df::exists_(&staking.id, GOVERNANCE_KEY)) return;
    let epoch = staking.inner().epoch();
    let changes = staking.governance_mut().close_epoch(epoch);
    changes.do_ref!(|change| governance::apply(change, staking.inner_mut(), system));
}

// === Stake ===

/// Stakes `to_stake` (at least 1 WAL) with `node_id`'s pool. It counts
/// from the next epoch, or the one after once the next committee is
/// selected (`voting_end`).
public fun stake_with_pool(
    staking: &mut Staking,
    to_stake: Coin<WAL>,
    node_id: ID,
    ctx: &mut TxContext,
): StakedWal {
    staking.inner_mut().stake_with_pool(to_stake, node_id, ctx)
}

/// Requests the withdrawal of `staked_wal`; `withdraw_stake` completes it
/// from the returned withdraw epoch on (see `staked_wal::withdraw_epoch`).
public fun request_withdraw_stake(
    staking: &mut Staking,
    staked_wal: &mut StakedWal,
    ctx: &mut TxContext,
) {
    let _ = ctx;
    staking.inner_mut().request_withdraw_stake(staked_wal);
}

/// Withdraws `staked_wal`: principal plus rewards, or the principal alone
/// if it never counted in a committee.
public fun withdraw_stake(
    staking: &mut Staking,
    staked_wal: StakedWal,
    ctx: &mut TxContext,
): Coin<WAL> {
    staking.inner_mut().withdraw_stake(staked_wal, ctx)
}

// === Epoch change ===

/// Selects the next committee and parameters (from mid-epoch on).
public fun voting_end(staking: &mut Staking, clock: &Clock) {
    staking.inner_mut().voting_end(clock);
}

/// Ends the epoch (from its end on, once `voting_end` ran): burns 3% of
/// its rewards, pays the pools, moves `system` to the next committee,
/// applies passed parameter proposals and expires the others (see
/// `governance`), and applies the new committee's price votes
/// (`update_prices`).
public fun initiate_epoch_change(
    staking: &mut Staking,
    system: &mut System,
    treasury: &mut ProtectedTreasury,
    clock: &Clock,
) {
    staking.inner_mut().initiate_epoch_change(system, treasury, clock);
    apply_governance(staking, system);
    update_prices(staking, system);
}

/// The node of `cap` holds all its shards of `epoch`.
public fun epoch_sync_done(
    staking: &mut Staking,
    cap: &mut StorageNodeCap,
    epoch: u32,
    clock: &Clock,
) {
    staking.inner_mut().epoch_sync_done(cap, epoch, clock);
}

// === Views ===

public fun epoch(staking: &Staking): u32 { staking.inner().epoch() }

/// Whether `staked_wal` can be withdrawn directly, principal only.
public fun can_withdraw_staked_wal_early(staking: &Staking, staked_wal: &StakedWal): bool {
    staking.inner().can_withdraw_staked_wal_early(staked_wal)
}

// === Internal ===

/// The inner state; aborts with `EWrongVersion`.
public(package) fun inner(staking: &Staking): &StakingInnerV1 {
    assert!(staking.version == VERSION, EWrongVersion);
    df::borrow(&staking.id, VERSION)
}

/// The inner state, mutably; aborts with `EWrongVersion`.
public(package) fun inner_mut(staking: &mut Staking): &mut StakingInnerV1 {
    assert!(staking.version == VERSION, EWrongVersion);
    df::borrow_mut(&mut staking.id, VERSION)
}

// === Test helpers ===

#[test_only]
public fun governance_for_testing(staking: &mut Staking): &Governance {
    staking.governance_mut()
}

#[test_only]
public fun share_for_testing(staking: Staking) {
    transfer::share_object(staking);
}
