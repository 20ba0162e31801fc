#[test_only]
module floe::staking_tests;

use floe::staked_wal::{Self, StakedWal};
use floe::staking::Staking;
use floe::staking_inner;
use floe::staking_pool;
use floe::storage_node::StorageNodeCap;
use floe::system::System;
use floe::test_helpers::{Self, mint_wal};
use floe::test_vectors;
use sui::clock::{Self, Clock};
use sui::test_scenario::{Self, Scenario};
use wal::wal::{Self, ProtectedTreasury};

const GENESIS: address = @0x6e;
const USER: address = @0xa11ce;
const FROST_PER_WAL: u64 = 1_000_000_000;

/// WAL (treasury shared), System and Staking with the test nodes (shards
/// 1, 2, 3, 4, operators `@0xa1..@0xa4`); returns the clock at genesis and
/// the node ids genesis gave them (each its pool's id), in that order. The
/// next transaction is the user's.
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
    let nodes = test_helpers::genesis_node_ids(scenario, USER);
    (clock, nodes)
}

/// Ends the current transaction with the same sender: a shared object given
/// back with `return_shared` can be taken again only in a later transaction.
fun end_tx(scenario: &mut Scenario) {
    let sender = scenario.sender();
    scenario.next_tx(sender);
}

fun stake(scenario: &mut Scenario, amount: u64, node_id: ID): StakedWal {
    let mut staking = scenario.take_shared<Staking>();
    let coin = mint_wal(amount, scenario.ctx());
    let staked = staking.stake_with_pool(coin, node_id, scenario.ctx());
    test_scenario::return_shared(staking);
    end_tx(scenario);
    staked
}

fun voting_end(scenario: &mut Scenario, clock: &Clock) {
    let mut staking = scenario.take_shared<Staking>();
    staking.voting_end(clock);
    test_scenario::return_shared(staking);
    end_tx(scenario);
}

/// `initiate_epoch_change`; returns the WAL burnt.
fun initiate(scenario: &mut Scenario, clock: &Clock): u64 {
    let mut staking = scenario.take_shared<Staking>();
    let mut system = scenario.take_shared<System>();
    let mut treasury = scenario.take_shared<ProtectedTreasury>();
    let supply = treasury.total_supply();
    staking.initiate_epoch_change(&mut system, &mut treasury, clock);
    let burnt = supply - treasury.total_supply();
    test_scenario::return_shared(treasury);
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    end_tx(scenario);
    burnt
}

/// `epoch_sync_done` by `operator`.
fun sync_done(scenario: &mut Scenario, operator: address, epoch: u32, clock: &Clock) {
    scenario.next_tx(operator);
    let mut cap = scenario.take_from_sender<StorageNodeCap>();
    let mut staking = scenario.take_shared<Staking>();
    staking.epoch_sync_done(&mut cap, epoch, clock);
    test_scenario::return_shared(staking);
    scenario.return_to_sender(cap);
    scenario.next_tx(USER);
}

fun withdraw(scenario: &mut Scenario, staked: StakedWal): u64 {
    let mut staking = scenario.take_shared<Staking>();
    let coin = staking.withdraw_stake(staked, scenario.ctx());
    let value = coin.value();
    transfer::public_transfer(coin, USER);
    test_scenario::return_shared(staking);
    end_tx(scenario);
    value
}

fun request_withdraw(scenario: &mut Scenario, staked: &mut StakedWal) {
    let mut staking = scenario.take_shared<Staking>();
    staking.request_withdraw_stake(staked, scenario.ctx());
    test_scenario::return_shared(staking);
    end_tx(scenario);
}

/// Buys `units` MiB for epochs 0 and 1 (rewards for both).
fun buy_storage(scenario: &mut Scenario, units: u64) {
    let mut system = scenario.take_shared<System>();
    let mut payment = mint_wal(1_000_000_000, scenario.ctx());
    let storage = system.reserve_space(units * 1_048_576, 2, &mut payment, scenario.ctx());
    transfer::public_transfer(storage, USER);
    transfer::public_transfer(payment, USER);
    test_scenario::return_shared(system);
    end_tx(scenario);
}

#[test]
fun genesis_committee_is_sequential_in_node_id_order() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes) = setup(&mut scenario);
    let staking = scenario.take_shared<Staking>();
    assert!(staking.epoch() == 0);
    let committee = staking.inner().committee();
    assert!(committee.size() == 4);
    // Each node holds its weight in shards...
    let weights = test_vectors::weights();
    let mut i = 0;
    while (i < nodes.length()) {
        assert!(committee.shards(&nodes[i]).length() == (weights[i] as u64));
        i = i + 1;
    };
    // ...handed out sequentially in node-id order.
    let mut next: u16 = 0;
    let mut previous: u256 = 0;
    let mut j = 0;
    while (j < committee.size()) {
        let (node_id, shards) = committee.inner().get_entry_by_idx(j);
        let id = sui::address::to_u256(object::id_to_address(node_id));
        assert!(j == 0 || id > previous);
        previous = id;
        let mut k = 0;
        while (k < shards.length()) {
            assert!(shards[k] == next);
            next = next + 1;
            k = k + 1;
        };
        j = j + 1;
    };
    assert!(next == 10);
    assert!(staking.inner().is_epoch_change_done_for_testing());
    // The pool of a node is the object whose id is the node id.
    let pool = staking.inner().pool_for_testing(nodes[3]);
    assert!(pool.wal_balance() == 0);
    assert!(pool.node_info().id() == nodes[3]);
    assert!(object::id(pool) == nodes[3]);
    test_scenario::return_shared(staking);
    end_tx(&mut scenario);
    clock.destroy_for_testing();
    scenario.end();
}

#[test]
fun stake_activates_next_epoch_and_withdraws_early() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes) = setup(&mut scenario);
    let staked = stake(&mut scenario, 10 * FROST_PER_WAL, nodes[0]);
    assert!(staked.activation_epoch() == 1);
    assert!(staked.value() == 10 * FROST_PER_WAL);
    assert!(staked.node_id() == nodes[0]);
    let staking = scenario.take_shared<Staking>();
    assert!(staking.can_withdraw_staked_wal_early(&staked));
    let set = staking.inner().active_set_for_testing();
    assert!(set.total_stake() == 10 * FROST_PER_WAL);
    test_scenario::return_shared(staking);
    end_tx(&mut scenario);
    assert!(withdraw(&mut scenario, staked) == 10 * FROST_PER_WAL);
    let staking = scenario.take_shared<Staking>();
    let set = staking.inner().active_set_for_testing();
    assert!(set.total_stake() == 0);
    test_scenario::return_shared(staking);
    end_tx(&mut scenario);
    clock.destroy_for_testing();
    scenario.end();
}

#[test]
fun epochs_select_by_stake_pay_rewards_and_withdraw() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (mut clock, nodes) = setup(&mut scenario);
    buy_storage(&mut scenario, 100);
    let s1 = stake(&mut scenario, 10 * FROST_PER_WAL, nodes[0]);
    let s3 = stake(&mut scenario, 30 * FROST_PER_WAL, nodes[2]);
    let mut s4 = stake(&mut scenario, 60 * FROST_PER_WAL, nodes[3]);

    // voting_end at the first epoch start: D'Hondt gives 1, 3, 6; node 2
    // leaves and its two shards go to node 4, the rest stay.
    clock.set_for_testing(test_helpers::first_epoch_start());
    voting_end(&mut scenario, &clock);
    let staking = scenario.take_shared<Staking>();
    let genesis = staking.inner().committee();
    let next = staking.inner().next_committee_for_testing();
    assert!(next.size() == 3);
    assert!(next.shards(&nodes[0]) == genesis.shards(&nodes[0]));
    assert!(!next.contains(&nodes[1]));
    assert!(next.shards(&nodes[2]) == genesis.shards(&nodes[2]));
    let mut grown = *genesis.shards(&nodes[3]);
    grown.append(*genesis.shards(&nodes[1]));
    assert!(next.shards(&nodes[3]) == &grown);
    // Stake now activates in epoch 2.
    test_scenario::return_shared(staking);
    end_tx(&mut scenario);
    let late = stake(&mut scenario, 2 * FROST_PER_WAL, nodes[2]);
    assert!(late.activation_epoch() == 2);
    assert!(withdraw(&mut scenario, late) == 2 * FROST_PER_WAL);

    // The epoch change: 3% of epoch 0's 500 FROST burnt, the System moves
    // to the new committee.
    let burnt = initiate(&mut scenario, &clock);
    assert!(burnt == 15);
    let system = scenario.take_shared<System>();
    assert!(system.epoch() == 1);
    assert!(system.committee().n_members() == 3);
    assert!(system.committee().get_member_weight(&nodes[3]) == 6);
    test_scenario::return_shared(system);
    end_tx(&mut scenario);
    let staking = scenario.take_shared<Staking>();
    assert!(staking.epoch() == 1);
    assert!(staking.inner().sync_weight_for_testing() == 0);
    // 485 FROST by shards of the old committee: node 4 had 4 of 10.
    let pool = staking.inner().pool_for_testing(nodes[3]);
    assert!(pool.rewards_for_testing() == 194);
    assert!(pool.wal_balance() == 60 * FROST_PER_WAL + 194);
    test_scenario::return_shared(staking);
    end_tx(&mut scenario);

    // Sync done: 6 shards are no quorum of 10, 6 + 3 are.
    sync_done(&mut scenario, @0xa4, 1, &clock);
    let staking = scenario.take_shared<Staking>();
    assert!(staking.inner().sync_weight_for_testing() == 6);
    test_scenario::return_shared(staking);
    end_tx(&mut scenario);
    sync_done(&mut scenario, @0xa3, 1, &clock);
    let staking = scenario.take_shared<Staking>();
    assert!(staking.inner().is_epoch_change_done_for_testing());
    test_scenario::return_shared(staking);
    end_tx(&mut scenario);

    // Withdraw node 4's stake: requested in epoch 1, due in epoch 2.
    request_withdraw(&mut scenario, &mut s4);
    assert!(s4.withdraw_epoch() == 2);
    clock.increment_for_testing(test_helpers::epoch_duration() / 2);
    voting_end(&mut scenario, &clock);
    clock.increment_for_testing(test_helpers::epoch_duration() / 2);
    initiate(&mut scenario, &clock);
    let staking = scenario.take_shared<Staking>();
    assert!(staking.epoch() == 2);
    let rewards = staking.inner().pool_for_testing(nodes[3]).rewards_for_testing();
    test_scenario::return_shared(staking);
    end_tx(&mut scenario);
    assert!(rewards > 194);
    assert!(withdraw(&mut scenario, s4) == 60 * FROST_PER_WAL + rewards);

    std::unit_test::destroy(s1);
    std::unit_test::destroy(s3);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_inner::EWrongEpochState)]
fun voting_end_before_the_first_epoch_start_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes) = setup(&mut scenario);
    let staked = stake(&mut scenario, 10 * FROST_PER_WAL, nodes[0]);
    voting_end(&mut scenario, &clock);
    std::unit_test::destroy(staked);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_inner::ENoStake)]
fun voting_end_without_stake_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (mut clock, _nodes) = setup(&mut scenario);
    clock.set_for_testing(test_helpers::first_epoch_start());
    voting_end(&mut scenario, &clock);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_inner::ECommitteeSelected)]
fun voting_end_twice_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (mut clock, nodes) = setup(&mut scenario);
    let staked = stake(&mut scenario, 10 * FROST_PER_WAL, nodes[0]);
    clock.set_for_testing(test_helpers::first_epoch_start());
    voting_end(&mut scenario, &clock);
    voting_end(&mut scenario, &clock);
    std::unit_test::destroy(staked);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_inner::EWrongEpochState)]
fun initiate_before_voting_end_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (mut clock, _nodes) = setup(&mut scenario);
    clock.set_for_testing(test_helpers::first_epoch_start());
    initiate(&mut scenario, &clock);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_inner::EDuplicateSyncDone)]
fun sync_done_for_the_genesis_epoch_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, _nodes) = setup(&mut scenario);
    sync_done(&mut scenario, @0xa1, 0, &clock);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_inner::EInvalidSyncEpoch)]
fun sync_done_for_another_epoch_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, _nodes) = setup(&mut scenario);
    sync_done(&mut scenario, @0xa1, 1, &clock);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staking_pool::EWithdrawDirectly)]
fun request_for_stake_that_counts_nowhere_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes) = setup(&mut scenario);
    let mut staked = stake(&mut scenario, 10 * FROST_PER_WAL, nodes[0]);
    request_withdraw(&mut scenario, &mut staked);
    std::unit_test::destroy(staked);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staked_wal::EStakeBelowThreshold)]
fun stake_below_one_wal_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes) = setup(&mut scenario);
    let staked = stake(&mut scenario, FROST_PER_WAL - 1, nodes[0]);
    std::unit_test::destroy(staked);
    clock.destroy_for_testing();
    scenario.end();
}

#[test]
fun split_and_join_keep_the_metadata() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes) = setup(&mut scenario);
    let mut a = stake(&mut scenario, 10 * FROST_PER_WAL, nodes[0]);
    let b = a.split(4 * FROST_PER_WAL, scenario.ctx());
    assert!(a.value() == 6 * FROST_PER_WAL && b.value() == 4 * FROST_PER_WAL);
    assert!(b.node_id() == nodes[0] && b.activation_epoch() == 1 && b.is_staked());
    a.join(b);
    assert!(a.value() == 10 * FROST_PER_WAL);
    std::unit_test::destroy(a);
    clock.destroy_for_testing();
    scenario.end();
}

#[test, expected_failure(abort_code = staked_wal::EMetadataMismatch)]
fun join_of_other_nodes_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes) = setup(&mut scenario);
    let mut a = stake(&mut scenario, 10 * FROST_PER_WAL, nodes[0]);
    let b = stake(&mut scenario, 10 * FROST_PER_WAL, nodes[1]);
    a.join(b);
    std::unit_test::destroy(a);
    clock.destroy_for_testing();
    scenario.end();
}
