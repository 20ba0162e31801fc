// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Publication and genesis of floe.
///
/// Publishing the package sends an `InitCap` (holding the package's
/// `Publisher`) to the publisher. The devnet genesis then calls
/// `initialize_floe` once with the genesis committee: it consumes the
/// `InitCap`, returns its `Publisher` (for the caller to keep, e.g. for
/// Display objects later), and creates and shares
/// `System` with that committee in `epoch`, its capacity and prices, and a
/// ring of `max_epochs_ahead` future epochs. (Staking and committee
/// selection come later; until then the genesis committee stays.)
module floe::init;

use floe::bls_aggregate;
use floe::system::{Self, System};
use floe::system_state_inner;
use std::type_name;
use sui::address;
use sui::bls12381;
use sui::package::{Self, Publisher};

/// The committee vectors have different lengths.
const EInvalidCommitteeInput: u64 = 3;
/// The node ids are not strictly ascending (as u256).
const EUnsortedNodeIds: u64 = 4;
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

/// Creates and shares `System` with the genesis committee: member `i` has
/// node id `node_ids[i]`, compressed BLS public key `public_keys[i]` (48
/// bytes) and `shard_counts[i]` shards. Node ids must be strictly
/// ascending; `n_shards` must equal the sum of the shard counts. Returns
/// the package's `Publisher`.
public fun initialize_floe(
    init_cap: InitCap,
    epoch: u32,
    node_ids: vector<ID>,
    public_keys: vector<vector<u8>>,
    shard_counts: vector<u16>,
    n_shards: u16,
    max_epochs_ahead: u32,
    total_capacity_size: u64,
    storage_price_per_unit_size: u64,
    write_price_per_unit_size: u64,
    ctx: &mut TxContext,
): Publisher {
    let InitCap { id, publisher } = init_cap;
    id.delete();

    let n_members = node_ids.length();
    assert!(
        public_keys.length() == n_members && shard_counts.length() == n_members,
        EInvalidCommitteeInput,
    );
    let mut members = vector[];
    let mut i = 0;
    while (i < n_members) {
        if (i > 0) {
            let previous = address::to_u256(object::id_to_address(&node_ids[i - 1]));
            let current = address::to_u256(object::id_to_address(&node_ids[i]));
            assert!(previous < current, EUnsortedNodeIds);
        };
        let key = bls12381::g1_from_bytes(&public_keys[i]);
        members.push_back(
            bls_aggregate::new_bls_committee_member(
                bls12381::g1_to_uncompressed_g1(&key),
                shard_counts[i],
                node_ids[i],
            ),
        );
        i = i + 1;
    };
    let committee = bls_aggregate::new_bls_committee(epoch, members);
    assert!(committee.n_shards() == n_shards, EShardCountMismatch);

    let inner = system_state_inner::create(
        committee,
        max_epochs_ahead,
        total_capacity_size,
        storage_price_per_unit_size,
        write_price_per_unit_size,
        ctx,
    );
    let package_id = object::id_from_address(type_name::original_id<System>());
    system::share(system::create(inner, package_id, ctx));
    publisher
}

#[test_only]
/// An `InitCap` as publication would create it.
public fun new_init_cap_for_testing(ctx: &mut TxContext): InitCap {
    InitCap { id: object::new(ctx), publisher: package::test_claim(INIT {}, ctx) }
}
