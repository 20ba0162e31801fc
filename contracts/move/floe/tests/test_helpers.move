// Shared helpers of floe's unit tests: values from `test_vectors` as Move
// types, the test committee and a system around it.
#[test_only]
module floe::test_helpers;

use floe::bls_aggregate::{Self, BlsCommittee};
use floe::init;
use floe::storage_node::StorageNodeCap;
use floe::system::{Self, System};
use floe::system_state_inner;
use floe::test_vectors;
use std::string::{Self, String};
use sui::bcs;
use sui::clock::Clock;
use sui::coin::{Self, Coin};
use sui::package::{Self, Publisher};
use sui::test_scenario::Scenario;
use wal::wal::WAL;

/// Capacity of the test system (encoded bytes).
const CAPACITY: u64 = 1_000_000_000;
/// FROST per MiB per epoch.
const STORAGE_PRICE: u64 = 5;
/// FROST per MiB, once.
const WRITE_PRICE: u64 = 7;
/// Ring length of the test system.
const MAX_EPOCHS_AHEAD: u32 = 10;

public fun capacity(): u64 { CAPACITY }

public fun storage_price(): u64 { STORAGE_PRICE }

public fun write_price(): u64 { WRITE_PRICE }

public fun max_epochs_ahead(): u32 { MAX_EPOCHS_AHEAD }

/// The clock at genesis (ms).
public fun genesis_ms(): u64 { 1_000_000 }

/// Epoch length of the test staking (ms).
public fun epoch_duration(): u64 { 10_000 }

/// When epoch 0 may end (ms).
public fun first_epoch_start(): u64 { 1_005_000 }

/// Names of the four test nodes.
public fun node_names(): vector<String> {
    vector[string::utf8(b"n1"), string::utf8(b"n2"), string::utf8(b"n3"), string::utf8(b"n4")]
}

/// Operators of the four test nodes (they receive the caps).
public fun operators(): vector<address> { vector[@0xa1, @0xa2, @0xa3, @0xa4] }

/// Reads 32 bytes as a little-endian u256 (as Move sees blob ids).
public fun u256_from_le(bytes: vector<u8>): u256 {
    let mut reader = bcs::new(bytes);
    reader.peel_u256()
}

public fun blob_id(): u256 { u256_from_le(test_vectors::blob_id_bytes()) }

public fun root_hash(): u256 { u256_from_le(test_vectors::root_hash_bytes()) }

public fun other_blob_id(): u256 { u256_from_le(test_vectors::other_blob_id_bytes()) }

/// Blob size of the vectors (1000 bytes, 10680 encoded over 10 shards).
public fun blob_size(): u64 { test_vectors::blob_size() }

public fun encoded_size(): u64 { test_vectors::encoded_length_1000_n10() }

/// Node ids for committees built directly (not through genesis, which
/// gives each node its pool's fresh id).
public fun node_ids(): vector<ID> {
    vector[
        object::id_from_address(@0x1),
        object::id_from_address(@0x2),
        object::id_from_address(@0x3),
        object::id_from_address(@0x4),
    ]
}

public fun public_keys(): vector<vector<u8>> {
    vector[test_vectors::pk_0(), test_vectors::pk_1(), test_vectors::pk_2(), test_vectors::pk_3()]
}

/// The test committee (weights 1, 2, 3, 4) in `epoch`.
public fun committee(epoch: u32): BlsCommittee {
    bls_aggregate::new_bls_committee_for_testing(
        epoch,
        public_keys(),
        test_vectors::weights(),
        node_ids(),
    )
}

/// A system in epoch 0 with the test committee.
public fun new_system(ctx: &mut TxContext): System {
    let inner = system_state_inner::create(
        committee(0),
        MAX_EPOCHS_AHEAD,
        CAPACITY,
        STORAGE_PRICE,
        WRITE_PRICE,
        ctx,
    );
    system::new_for_testing(inner, ctx)
}

/// `initialize_floe` with the test nodes' keys (`public_keys()`) and
/// staking settings (names `node_names()`, network addresses
/// `127.0.0.1:910<i>`, capacity votes `capacity()`, no commission,
/// operators `operators()`), epochs of `epoch_duration()`.
public fun initialize_floe(
    weights: vector<u16>,
    n_shards: u16,
    clock: &Clock,
    ctx: &mut TxContext,
): Publisher {
    let cap = init::new_init_cap_for_testing(ctx);
    let upgrade_cap = package::test_publish(object::id_from_address(@floe), ctx);
    init::initialize_floe(
        cap,
        upgrade_cap,
        0,
        public_keys(),
        weights,
        n_shards,
        MAX_EPOCHS_AHEAD,
        CAPACITY,
        STORAGE_PRICE,
        WRITE_PRICE,
        epoch_duration(),
        first_epoch_start(),
        node_names(),
        vector[
            string::utf8(b"127.0.0.1:9100"),
            string::utf8(b"127.0.0.1:9101"),
            string::utf8(b"127.0.0.1:9102"),
            string::utf8(b"127.0.0.1:9103"),
        ],
        vector[CAPACITY, CAPACITY, CAPACITY, CAPACITY],
        vector[0, 0, 0, 0],
        operators(),
        clock,
        ctx,
    )
}

/// The node ids genesis gave the test nodes (each its pool's id), in the
/// order of `operators()`, read from each operator's `StorageNodeCap`.
/// Ends the current transaction; the next one is `sender`'s.
public fun genesis_node_ids(scenario: &mut Scenario, sender: address): vector<ID> {
    let operators = operators();
    let mut ids = vector[];
    let mut i = 0;
    while (i < operators.length()) {
        scenario.next_tx(operators[i]);
        let cap = scenario.take_from_sender<StorageNodeCap>();
        ids.push_back(cap.node_id());
        scenario.return_to_sender(cap);
        i = i + 1;
    };
    scenario.next_tx(sender);
    ids
}

/// WAL for tests.
public fun mint_wal(amount: u64, ctx: &mut TxContext): Coin<WAL> {
    coin::mint_for_testing<WAL>(amount, ctx)
}
