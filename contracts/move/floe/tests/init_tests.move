#[test_only]
module floe::init_tests;

use floe::blob::Blob;
use floe::init;
use floe::system::System;
use floe::test_helpers::{Self, blob_id, root_hash, blob_size, encoded_size, mint_wal};
use floe::test_vectors;
use floe::staking::Staking;
use floe::storage_node::StorageNodeCap;
use sui::clock;
use sui::package::Publisher;
use sui::test_scenario;

const GENESIS: address = @0x6e;
const USER: address = @0xa11ce;

/// `initialize_floe` through `test_helpers`, the clock at genesis.
fun call_initialize(
    weights: vector<u16>,
    n_shards: u16,
    scenario: &mut test_scenario::Scenario,
): Publisher {
    let mut clock = clock::create_for_testing(scenario.ctx());
    clock.set_for_testing(test_helpers::genesis_ms());
    let publisher = test_helpers::initialize_floe(weights, n_shards, &clock, scenario.ctx());
    clock.destroy_for_testing();
    publisher
}

fun initialize(scenario: &mut test_scenario::Scenario) {
    let publisher = call_initialize(test_vectors::weights(), 10, scenario);
    transfer::public_transfer(publisher, GENESIS);
}

#[test]
fun initialize_floe_shares_the_system() {
    let mut scenario = test_scenario::begin(GENESIS);
    initialize(&mut scenario);
    scenario.next_tx(GENESIS);

    // Every operator got its node's cap, synced up to the genesis epoch;
    // the node ids are the pools' fresh ids.
    let ids = test_helpers::genesis_node_ids(&mut scenario, GENESIS);
    let operators = test_helpers::operators();
    let mut i = 0;
    while (i < operators.length()) {
        scenario.next_tx(operators[i]);
        let cap = scenario.take_from_sender<StorageNodeCap>();
        assert!(cap.node_id() == ids[i]);
        assert!(cap.last_epoch_sync_done() == 0);
        scenario.return_to_sender(cap);
        i = i + 1;
    };
    scenario.next_tx(GENESIS);

    let system = scenario.take_shared<System>();
    assert!(system.epoch() == 0);
    assert!(system.n_shards() == 10);
    assert!(system.version() == 1);
    assert!(system.max_epochs_ahead() == test_helpers::max_epochs_ahead());
    assert!(system.total_capacity_size() == test_helpers::capacity());
    assert!(system.storage_price_per_unit_size() == test_helpers::storage_price());
    assert!(system.write_price_per_unit_size() == test_helpers::write_price());
    // The signing committee: every node with its weight, in node-id order.
    let committee = system.committee();
    assert!(committee.n_members() == 4);
    let weights = test_vectors::weights();
    let mut i = 0;
    while (i < ids.length()) {
        assert!(committee.get_member_weight(&ids[i]) == weights[i]);
        i = i + 1;
    };
    let members = committee.members();
    let mut j = 1;
    while (j < members.length()) {
        let previous = sui::address::to_u256(object::id_to_address(&members[j - 1].member_node_id()));
        let current = sui::address::to_u256(object::id_to_address(&members[j].member_node_id()));
        assert!(previous < current);
        j = j + 1;
    };
    let new_package_id = system.new_package_id();
    assert!(new_package_id.is_none());
    test_scenario::return_shared(system);

    // Staking shares the same committee, one pool per node (the object
    // whose id is the node id), epoch 0 done.
    let staking = scenario.take_shared<Staking>();
    assert!(staking.epoch() == 0);
    let names = test_helpers::node_names();
    let mut i = 0;
    while (i < ids.length()) {
        let pool = staking.inner().pool_for_testing(ids[i]);
        assert!(object::id(pool) == ids[i]);
        assert!(pool.node_info().name() == names[i]);
        i = i + 1;
    };
    test_scenario::return_shared(staking);

    // The publisher was kept by the caller.
    let publisher = scenario.take_from_sender<Publisher>();
    scenario.return_to_sender(publisher);
    scenario.end();
}

#[test]
fun store_through_the_shared_system() {
    let mut scenario = test_scenario::begin(GENESIS);
    initialize(&mut scenario);

    // A user buys storage and registers a blob.
    scenario.next_tx(USER);
    let mut system = scenario.take_shared<System>();
    let mut payment = mint_wal(1_000_000, scenario.ctx());
    let storage = system.reserve_space(encoded_size(), 2, &mut payment, scenario.ctx());
    let blob = system.register_blob(
        storage,
        blob_id(),
        root_hash(),
        blob_size(),
        1,
        false,
        &mut payment,
        scenario.ctx(),
    );
    transfer::public_transfer(blob, USER);
    transfer::public_transfer(payment, USER);
    test_scenario::return_shared(system);

    // Anyone can certify it with the committee's certificate.
    scenario.next_tx(USER);
    // Every member signs: the certificate does not depend on the
    // committee's order, which follows the node ids genesis made.
    let system = scenario.take_shared<System>();
    let mut blob = scenario.take_from_sender<Blob>();
    system.certify_blob(
        &mut blob,
        test_vectors::cert_sig_all(),
        test_vectors::bitmap_all(),
        test_vectors::cert_msg(),
    );
    assert!(blob.certified_epoch().is_some());
    scenario.return_to_sender(blob);
    test_scenario::return_shared(system);
    scenario.end();
}

#[test, expected_failure(abort_code = init::EInvalidCommitteeInput)]
fun mismatched_committee_vectors_abort() {
    let mut scenario = test_scenario::begin(GENESIS);
    let publisher = call_initialize(vector[1, 2, 3], 6, &mut scenario);
    transfer::public_transfer(publisher, GENESIS);
    scenario.end();
}

#[test, expected_failure(abort_code = init::EShardCountMismatch)]
fun wrong_shard_count_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let publisher = call_initialize(test_vectors::weights(), 11, &mut scenario);
    transfer::public_transfer(publisher, GENESIS);
    scenario.end();
}
