#[test_only]
module floe::membership_tests;

use floe::auth;
use floe::node_metadata;
use floe::staking::Staking;
use floe::staking_inner;
use floe::staking_pool;
use floe::storage_node::{Self, StorageNodeCap};
use floe::system::System;
use floe::test_helpers;
use floe::test_vectors;
use std::string;
use sui::clock::{Self, Clock};
use sui::test_scenario::{Self, Scenario};
use wal::wal;

const GENESIS: address = @0x6e;
/// The candidate the test vectors' proofs of possession are signed for
/// (epoch 0).
const CANDIDATE: address = @0xca;
const NETWORK_KEY: vector<u8> = x"020102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

/// Genesis (nodes with shards 1, 2, 3, 4, operators `@0xa1..@0xa4`); the
/// next transaction is the candidate's.
fun setup(scenario: &mut Scenario): (Clock, vector<ID>) {
    wal::init_for_testing(scenario.ctx());
    let mut clock = clock::create_for_testing(scenario.ctx());
    clock.set_for_testing(test_helpers::genesis_ms());
    let publisher = test_helpers::initialize_floe(
        test_vectors::weights(),
        10,
        &clock,
        scenario.ctx(),
    );
    transfer::public_transfer(publisher, GENESIS);
    let nodes = test_helpers::genesis_node_ids(scenario, CANDIDATE);
    (clock, nodes)
}

/// `register_candidate` by the candidate with its key and `pop`; the cap
/// goes to the candidate. Returns the node id.
fun register(
    scenario: &mut Scenario,
    name: vector<u8>,
    network_key: vector<u8>,
    pop: vector<u8>,
    commission_rate: u16,
): ID {
    scenario.next_tx(CANDIDATE);
    let mut staking = scenario.take_shared<Staking>();
    let cap = staking.register_candidate(
        string::utf8(name),
        string::utf8(b"node.example.com:9185"),
        node_metadata::new(
            string::utf8(b"https://example.com/logo.png"),
            string::utf8(b"https://example.com"),
            string::utf8(b"a candidate"),
        ),
        test_vectors::candidate_pk(),
        network_key,
        pop,
        commission_rate,
        7,
        3,
        1_000_000,
        scenario.ctx(),
    );
    let node_id = cap.node_id();
    transfer::public_transfer(cap, CANDIDATE);
    test_scenario::return_shared(staking);
    scenario.next_tx(CANDIDATE);
    node_id
}

#[test]
fun registration_creates_the_pool_and_the_cap_receives_commission() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes) = setup(&mut scenario);
    let node_id = register(&mut scenario, b"candidate", NETWORK_KEY, test_vectors::candidate_pop(), 500);
    let cap = scenario.take_from_sender<StorageNodeCap>();
    assert!(cap.node_id() == node_id);
    assert!(cap.last_epoch_sync_done() == 0);
    let mut staking = scenario.take_shared<Staking>();
    {
        let pool = staking.inner().pool_for_testing(node_id);
        assert!(object::id(pool) == node_id);
        assert!(pool.commission_rate() == 500);
        assert!(pool.wal_balance() == 0);
        let info = pool.node_info();
        assert!(info.name() == string::utf8(b"candidate"));
        assert!(info.network_address() == string::utf8(b"node.example.com:9185"));
        assert!(*info.network_public_key() == NETWORK_KEY);
        assert!(info.id() == node_id);
    };
    // Not in any committee until it has stake and is selected.
    assert!(!staking.inner().committee().contains(&node_id));
    assert!(staking.inner().committee().contains(&nodes[0]));
    // The cap, not the sender, collects the commission (none yet).
    let coin = staking.collect_commission(node_id, auth::authenticate_with_object(&cap), scenario.ctx());
    assert!(coin.value() == 0);
    transfer::public_transfer(coin, CANDIDATE);
    test_scenario::return_shared(staking);
    scenario.return_to_sender(cap);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_pool::EAuthorizationFailure)]
fun the_sender_no_longer_collects_after_registration() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (_clock, _nodes) = setup(&mut scenario);
    let node_id = register(&mut scenario, b"candidate", NETWORK_KEY, test_vectors::candidate_pop(), 0);
    let mut staking = scenario.take_shared<Staking>();
    let coin = staking.collect_commission(node_id, auth::authenticate_sender(scenario.ctx()), scenario.ctx());
    abort coin.value()
}

#[test, expected_failure(abort_code = staking_pool::EInvalidProofOfPossession)]
fun registration_with_a_wrong_proof_of_possession_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (_clock, _nodes) = setup(&mut scenario);
    // The rotated key's proof is valid, but for another key.
    register(&mut scenario, b"candidate", NETWORK_KEY, test_vectors::rotated_pop(), 0);
    abort 99
}

#[test, expected_failure(abort_code = staking_pool::EIncorrectCommissionRate)]
fun registration_with_commission_over_100_percent_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (_clock, _nodes) = setup(&mut scenario);
    register(&mut scenario, b"candidate", NETWORK_KEY, test_vectors::candidate_pop(), 10_001);
    abort 99
}

#[test, expected_failure(abort_code = staking_pool::EInvalidNameLength)]
fun registration_with_a_long_name_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (_clock, _nodes) = setup(&mut scenario);
    let mut name = vector[];
    while (name.length() < 101) name.push_back(0x61);
    register(&mut scenario, name, NETWORK_KEY, test_vectors::candidate_pop(), 0);
    abort 99
}

#[test, expected_failure(abort_code = storage_node::EInvalidNetworkPublicKey)]
fun registration_with_a_short_network_key_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (_clock, _nodes) = setup(&mut scenario);
    register(&mut scenario, b"candidate", x"0201", test_vectors::candidate_pop(), 0);
    abort 99
}

#[test, expected_failure(abort_code = staking_pool::EAuthorizationFailure)]
fun another_nodes_cap_cannot_move_its_commission() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (_clock, nodes) = setup(&mut scenario);
    register(&mut scenario, b"candidate", NETWORK_KEY, test_vectors::candidate_pop(), 0);
    let cap = scenario.take_from_sender<StorageNodeCap>();
    let mut staking = scenario.take_shared<Staking>();
    // Genesis node 0's commission goes to its operator, not this cap.
    staking.set_commission_receiver(
        nodes[0],
        auth::authenticate_with_object(&cap),
        auth::authorized_object(object::id(&cap)),
    );
    abort 99
}

#[test]
fun setters_change_the_record_and_schedule_the_commission() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, _nodes) = setup(&mut scenario);
    let node_id = register(&mut scenario, b"candidate", NETWORK_KEY, test_vectors::candidate_pop(), 0);
    let cap = scenario.take_from_sender<StorageNodeCap>();
    let mut staking = scenario.take_shared<Staking>();
    staking.set_name(&cap, string::utf8(b"renamed"));
    staking.set_network_address(&cap, string::utf8(b"10.0.0.1:9000"));
    staking.set_network_public_key(&cap, x"030303030303030303030303030303030303030303030303030303030303030303");
    staking.set_node_metadata(&cap, node_metadata::default());
    staking.set_next_commission(&cap, 2_500);
    staking.set_node_capacity_vote(&cap, 42);
    staking.set_next_public_key(&cap, test_vectors::rotated_pk(), test_vectors::rotated_pop(), scenario.ctx());
    staking.set_governance_authorized(
        node_id,
        auth::authenticate_sender(scenario.ctx()),
        auth::authorized_object(object::id(&cap)),
    );
    {
        let pool = staking.inner().pool_for_testing(node_id);
        assert!(pool.node_info().name() == string::utf8(b"renamed"));
        assert!(pool.node_info().network_address() == string::utf8(b"10.0.0.1:9000"));
        let network_key = *pool.node_info().network_public_key();
        assert!(network_key[0] == 3);
        // The rate applies from epoch 0 + 2; the current one stays.
        assert!(pool.commission_rate() == 0);
        assert!(pool.pending_commission_rate_for_testing(2) == 2_500);
        // The new key is the next epoch's; the current one is unchanged.
        assert!(pool.node_info().next_epoch_public_key() != pool.node_info().public_key());
    };
    test_scenario::return_shared(staking);
    scenario.return_to_sender(cap);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_pool::EIncorrectCommissionRate)]
fun a_next_commission_over_100_percent_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (_clock, _nodes) = setup(&mut scenario);
    register(&mut scenario, b"candidate", NETWORK_KEY, test_vectors::candidate_pop(), 0);
    let cap = scenario.take_from_sender<StorageNodeCap>();
    let mut staking = scenario.take_shared<Staking>();
    staking.set_next_commission(&cap, 10_001);
    abort 99
}

/// `operator` votes for the prices and updates them.
fun vote(scenario: &mut Scenario, operator: address, storage: u64, write: u64) {
    scenario.next_tx(operator);
    let cap = scenario.take_from_sender<StorageNodeCap>();
    let mut staking = scenario.take_shared<Staking>();
    let mut system = scenario.take_shared<System>();
    staking.set_storage_price_vote(&cap, storage);
    staking.set_write_price_vote(&cap, write);
    staking.update_prices(&mut system);
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    scenario.return_to_sender(cap);
    scenario.next_tx(operator);
}

/// Genesis votes are the genesis prices; the 3- and 4-shard nodes (7 of
/// 10, a quorum) voting lower moves the price, one alone does not.
#[test]
fun price_votes_apply_at_update_prices() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, _nodes) = setup(&mut scenario);
    let operators = test_helpers::operators();
    vote(&mut scenario, operators[3], 1, 1);
    let system = scenario.take_shared<System>();
    assert!(system.storage_price_per_unit_size() == test_helpers::storage_price());
    assert!(system.write_price_per_unit_size() == test_helpers::write_price());
    test_scenario::return_shared(system);
    vote(&mut scenario, operators[2], 2, 3);
    let system = scenario.take_shared<System>();
    assert!(system.storage_price_per_unit_size() == 2);
    assert!(system.write_price_per_unit_size() == 3);
    test_scenario::return_shared(system);
    clock.destroy_for_testing();
    scenario.end();
}

#[test]
fun quorum_below_is_the_least_value_a_quorum_accepts() {
    // n = 10, quorum 7: 4 vote 10, 3 vote 50, 3 vote 100.
    assert!(staking_inner::quorum_below(vector[50, 10, 100], vector[3, 4, 3], 10) == 50);
    assert!(staking_inner::quorum_below(vector[10, 50], vector[7, 3], 10) == 10);
    assert!(staking_inner::quorum_below(vector[100], vector[6], 10) == std::u64::max_value!());
}
