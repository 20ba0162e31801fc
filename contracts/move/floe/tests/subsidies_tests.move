// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

#[test_only]
module floe::subsidies_tests;

use floe::gov_test_helpers::{Self as h, setup, finish, change_epoch, propose, vote_for};
use floe::governance;
use floe::staking::Staking;
use floe::subsidies::{Self, Subsidies, SubsidiesFunded, SubsidiesPaid, NodeSubsidized};
use floe::system::System;
use floe::test_helpers::{Self, mint_wal};
use sui::clock::Clock;
use sui::event;
use sui::test_scenario::{Self, Scenario};

const BASE: u64 = 1_000;
const RATE: u32 = 5_000;

/// Passes a base subsidy of `BASE` and a system rate of `RATE` (nodes 4
/// and 3: 7 of 10 shards) and changes the epoch so they apply.
fun set_rates(scenario: &mut Scenario, nodes: &vector<ID>, clock: &mut Clock) {
    let a = propose(scenario, nodes, 3, governance::base_subsidy_change(BASE));
    vote_for(scenario, nodes, 2, a);
    let b = propose(scenario, nodes, 3, governance::system_subsidy_rate_change(RATE));
    vote_for(scenario, nodes, 2, b);
    change_epoch(scenario, clock);
}

fun fund(scenario: &mut Scenario, amount: u64) {
    let mut pool = scenario.take_shared<Subsidies>();
    pool.add_coin(mint_wal(amount, scenario.ctx()));
    assert!(event::events_by_type<SubsidiesFunded>().length() == 1);
    test_scenario::return_shared(pool);
    scenario.next_tx(h::user());
}

fun buy_storage(scenario: &mut Scenario) {
    let mut system = scenario.take_shared<System>();
    let mut payment = mint_wal(1_000 * h::frost_per_wal(), scenario.ctx());
    let storage = system.reserve_space(10 * 1_048_576, 3, &mut payment, scenario.ctx());
    transfer::public_transfer(storage, h::user());
    transfer::public_transfer(payment, h::user());
    test_scenario::return_shared(system);
    scenario.next_tx(h::user());
}

/// (pool balance, sum of the nodes' commission, rewards per ring offset).
fun snapshot(scenario: &mut Scenario, nodes: &vector<ID>): (u64, u64, vector<u64>) {
    let pool = scenario.take_shared<Subsidies>();
    let staking = scenario.take_shared<Staking>();
    let system = scenario.take_shared<System>();
    let mut commission = 0;
    nodes.do_ref!(|n| {
        commission = commission + staking.inner().pool_for_testing(*n).commission_for_testing();
    });
    let mut rewards = vector[];
    let mut i = 0;
    while (i < test_helpers::max_epochs_ahead()) {
        rewards.push_back(system.inner().rewards_at_offset(i));
        i = i + 1;
    };
    let balance = pool.pool_balance();
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(pool);
    scenario.next_tx(h::user());
    (balance, commission, rewards)
}

fun process(scenario: &mut Scenario, clock: &Clock): (u64, u64) {
    let mut pool = scenario.take_shared<Subsidies>();
    let mut staking = scenario.take_shared<Staking>();
    let mut system = scenario.take_shared<System>();
    pool.process_subsidies(&mut staking, &mut system, clock);
    let counts = (
        event::events_by_type<NodeSubsidized>().length(),
        event::events_by_type<SubsidiesPaid>().length(),
    );
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(pool);
    scenario.next_tx(h::user());
    counts
}

#[test]
fun subsidies_paid_equal_the_pool_decrease() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    set_rates(&mut scenario, &nodes, &mut clock);
    buy_storage(&mut scenario);
    fund(&mut scenario, 1_000_000 * h::frost_per_wal());
    let (pool_before, commission_before, rewards_before) = snapshot(&mut scenario, &nodes);
    let (node_events, paid_events) = process(&mut scenario, &clock);
    let (pool_after, commission_after, rewards_after) = snapshot(&mut scenario, &nodes);
    // Each committee node got the base subsidy (no per-shard subsidy).
    assert!(node_events == 4 && paid_events == 1);
    assert!(commission_after - commission_before == 4 * BASE);
    // Each epoch's new rewards got RATE basis points on top.
    let mut future = 0;
    let mut i = 0;
    while (i < rewards_before.length()) {
        let expected = rewards_before[i] * (RATE as u64) / 10_000;
        assert!(rewards_after[i] - rewards_before[i] == expected);
        future = future + expected;
        i = i + 1;
    };
    assert!(future > 0);
    assert!(pool_before - pool_after == 4 * BASE + future);
    // A second call in the same epoch has nothing left to pay.
    let (node_events, paid_events) = process(&mut scenario, &clock);
    assert!(node_events == 0 && paid_events == 0);
    let (pool_again, _, _) = snapshot(&mut scenario, &nodes);
    assert!(pool_again == pool_after);
    finish(scenario, clock, stakes);
}

#[test]
fun nothing_is_due_at_genesis_rates() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    buy_storage(&mut scenario);
    let (pool_before, _, rewards_before) = snapshot(&mut scenario, &nodes);
    let (node_events, paid_events) = process(&mut scenario, &clock);
    assert!(node_events == 0 && paid_events == 0);
    let (pool_after, _, rewards_after) = snapshot(&mut scenario, &nodes);
    assert!(pool_before == 0 && pool_after == 0 && rewards_before == rewards_after);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = subsidies::EInsufficientFundsInPool)]
fun an_empty_pool_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    set_rates(&mut scenario, &nodes, &mut clock);
    process(&mut scenario, &clock);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = subsidies::EInsufficientFundsInPool)]
fun a_short_pool_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    set_rates(&mut scenario, &nodes, &mut clock);
    fund(&mut scenario, 4 * BASE - 1);
    process(&mut scenario, &clock);
    finish(scenario, clock, stakes);
}
