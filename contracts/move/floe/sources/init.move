// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Publication and genesis of floe.
///
/// Publishing the package sends an `InitCap` (holding the package's
/// `Publisher`) to the publisher. The devnet genesis then calls
/// `initialize_floe` once with the genesis nodes: it consumes the
/// `InitCap`, returns its `Publisher` (for the caller to keep, e.g. for
/// Display objects later), creates one active staking pool per node (no
/// stake; the pool's fresh object id is the node id, as on Walrus), and
/// creates and shares `System` (the genesis committee in `epoch`, capacity,
/// prices and a ring of `max_epochs_ahead` future epochs) and `Staking`
/// (the pools, the same committee with sequential shard ranges in node-id
/// order, the epoch change done now), and sends each node's
/// `StorageNodeCap` to its operator. It also shares the governance objects
/// (`UpgradeManager` holding the package's `UpgradeCap`, `SlashingManager`,
/// an empty `Subsidies` pool) and sends the `EmergencyUpgradeCap` to the
/// caller.
module floe::init;

use floe::bls_aggregate;
use floe::committee;
use floe::slashing;
use floe::staking;
use floe::staking_inner;
use floe::storage_node;
use floe::subsidies;
use floe::system::{Self, System};
use floe::system_state_inner;
use floe::upgrade;
use std::string::String;
use std::type_name;
use sui::bls12381;
use sui::clock::Clock;
use sui::package::{Self, Publisher, UpgradeCap};
use sui::vec_map;

/// The upgrade cap is not this package's.
const EInvalidUpgradeCap: u64 = 1;
/// The committee vectors have different lengths.
const EInvalidCommitteeInput: u64 = 3;
/// `n_shards` is not the sum of the shard counts.
const EShardCountMismatch: u64 = 5;

/// The one-time witness of the package.
public struct INIT has drop {}

/// The right to initialize the system, once.
public struct InitCap has key, store {
    id: UID,
    publisher: Publisher,
}

fun init(otw: INIT, ctx: &mut TxContext) {
    let publisher = package::claim(otw, ctx);
    let init_cap = InitCap { id: object::new(ctx), publisher };
    transfer::transfer(init_cap, ctx.sender());
}

/// Creates and shares `System` and `Staking` with the genesis nodes: node
/// `i` has compressed BLS public key `public_keys[i]` (48 bytes),
/// `shard_counts[i]` shards, name `names[i]`, network address
/// `network_addresses[i]` (`host:port`), capacity vote
/// `node_capacities[i]`, commission rate `commission_rates[i]` (basis
/// points) and operator `operators[i]` (receives the `StorageNodeCap` and
/// is the pool's commission receiver and governance authority). Each
/// node's id is its new pool's id; both committees list the nodes in
/// node-id order, with contiguous shard ranges in that order. `n_shards`
/// must equal the sum of the shard counts. Epochs last `epoch_duration`
/// ms; epoch 0 may end from `first_epoch_start` (ms). `upgrade_cap` (the
/// package's, `EInvalidUpgradeCap` otherwise) goes to the new
/// `UpgradeManager`. Returns the package's `Publisher`.
public fun initialize_floe(
    init_cap: InitCap,
    upgrade_cap: UpgradeCap,
    epoch: u32,
    public_keys: vector<vector<u8>>,
    shard_counts: vector<u16>,
    n_shards: u16,
    max_epochs_ahead: u32,
    total_capacity_size: u64,
    storage_price_per_unit_size: u64,
    write_price_per_unit_size: u64,
    epoch_duration: u64,
    first_epoch_start: u64,
    names: vector<String>,
    network_addresses: vector<String>,
    node_capacities: vector<u64>,
    commission_rates: vector<u16>,
    operators: vector<address>,
    clock: &Clock,
    ctx: &mut TxContext,
): Publisher {
    let InitCap { id, publisher } = init_cap;
    id.delete();

    let n_members = public_keys.length();
    assert!(shard_counts.length() == n_members, EInvalidCommitteeInput);
    assert!(
        names.length() == n_members && network_addresses.length() == n_members
            && node_capacities.length() == n_members && commission_rates.length() == n_members
            && operators.length() == n_members,
        EInvalidCommitteeInput,
    );

    // The pools first: their ids are the node ids.
    let mut staking_state = staking_inner::new(
        epoch,
        n_shards,
        epoch_duration,
        first_epoch_start,
        clock.timestamp_ms(),
        ctx,
    );
    let mut assignments = vec_map::empty();
    let mut keys = vec_map::empty();
    let mut i = 0;
    while (i < n_members) {
        let node_id = staking_state.create_genesis_pool(
            names[i],
            network_addresses[i],
            public_keys[i],
            commission_rates[i],
            storage_price_per_unit_size,
            write_price_per_unit_size,
            node_capacities[i],
            operators[i],
            ctx,
        );
        storage_node::new_cap(node_id, epoch, ctx).transfer_cap(operators[i]);
        assignments.insert(node_id, shard_counts[i]);
        keys.insert(node_id, public_keys[i]);
        i = i + 1;
    };
    let committee = committee::initialize(assignments);

    // The signing committee in the staking committee's (node-id) order.
    let mut members = vector[];
    let mut j = 0;
    while (j < committee.size()) {
        let (node_id, shards) = committee.inner().get_entry_by_idx(j);
        let key = bls12381::g1_from_bytes(keys.get(node_id));
        members.push_back(
            bls_aggregate::new_bls_committee_member(
                bls12381::g1_to_uncompressed_g1(&key),
                (shards.length() as u16),
                *node_id,
            ),
        );
        j = j + 1;
    };
    let bls_committee = bls_aggregate::new_bls_committee(epoch, members);
    assert!(bls_committee.n_shards() == n_shards, EShardCountMismatch);

    let inner = system_state_inner::create(
        bls_committee,
        max_epochs_ahead,
        total_capacity_size,
        storage_price_per_unit_size,
        write_price_per_unit_size,
        ctx,
    );
    let package_id = object::id_from_address(type_name::original_id<System>());
    system::share(system::create(inner, package_id, ctx));

    staking_state.set_committee(committee);
    staking::share(staking::create(staking_state, package_id, ctx));

    assert!(upgrade_cap.upgrade_package() == package_id, EInvalidUpgradeCap);
    let emergency_upgrade_cap = upgrade::new(upgrade_cap, ctx);
    transfer::public_transfer(emergency_upgrade_cap, ctx.sender());
    slashing::new(ctx);
    subsidies::new(ctx);
    publisher
}

#[test_only]
/// An `InitCap` as publication would create it.
public fun new_init_cap_for_testing(ctx: &mut TxContext): InitCap {
    InitCap { id: object::new(ctx), publisher: package::test_claim(INIT {}, ctx) }
}
