// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Shared setup of the upgrade, slashing and subsidies tests: genesis with
/// nodes of 1, 2, 3, 4 of 10 shards (operators `@0xa1..@0xa4` govern
/// them), each staked so epochs can change.
#[test_only]
module floe::gov_test_helpers;

use floe::governance::ParameterChange;
use floe::staked_wal::StakedWal;
use floe::staking::Staking;
use floe::system::System;
use floe::test_helpers::{Self, mint_wal};
use floe::test_vectors;
use sui::clock::{Self, Clock};
use sui::test_scenario::{Self, Scenario};
use wal::wal::{Self, ProtectedTreasury};

const GENESIS: address = @0x6e;
const USER: address = @0xa11ce;
const FROST_PER_WAL: u64 = 1_000_000_000;

public fun genesis(): address { GENESIS }

public fun user(): address { USER }

public fun frost_per_wal(): u64 { FROST_PER_WAL }

/// Genesis (its sender `GENESIS` keeps the emergency upgrade cap); returns
/// the clock, the node ids and the stakes. The next transaction is the
/// user's.
public fun setup(scenario: &mut Scenario): (Clock, vector<ID>, vector<StakedWal>) {
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
    let mut stakes = vector[];
    nodes.do_ref!(|node| {
        let mut staking = scenario.take_shared<Staking>();
        let coin = mint_wal(10 * FROST_PER_WAL, scenario.ctx());
        stakes.push_back(staking.stake_with_pool(coin, *node, scenario.ctx()));
        test_scenario::return_shared(staking);
        scenario.next_tx(USER);
    });
    (clock, nodes, stakes)
}

/// The operator (governance authority) of node `i`.
public fun operator(i: u64): address {
    let operators = test_helpers::operators();
    operators[i]
}

/// Operator `i` proposes `change` for node `i`; returns the proposal id.
public fun propose(scenario: &mut Scenario, nodes: &vector<ID>, i: u64, change: ParameterChange): u64 {
    scenario.next_tx(operator(i));
    let mut staking = scenario.take_shared<Staking>();
    let system = scenario.take_shared<System>();
    let auth = floe::auth::authenticate_sender(scenario.ctx());
    let id = staking.propose_parameter_change(&system, nodes[i], auth, change, scenario.ctx());
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
    id
}

/// Operator `i` votes for `id` with node `i`.
public fun vote_for(scenario: &mut Scenario, nodes: &vector<ID>, i: u64, id: u64) {
    scenario.next_tx(operator(i));
    let mut staking = scenario.take_shared<Staking>();
    let auth = floe::auth::authenticate_sender(scenario.ctx());
    staking.vote_on_parameter_change(nodes[i], auth, id, true);
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
}

/// `voting_end` and `initiate_epoch_change` at the next epoch start.
public fun change_epoch(scenario: &mut Scenario, clock: &mut Clock) {
    let now = clock.timestamp_ms();
    let start = test_helpers::first_epoch_start();
    let next = if (now < start) start else now + test_helpers::epoch_duration();
    clock.set_for_testing(next);
    let mut staking = scenario.take_shared<Staking>();
    staking.voting_end(clock);
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
    let mut staking = scenario.take_shared<Staking>();
    let mut system = scenario.take_shared<System>();
    let mut treasury = scenario.take_shared<ProtectedTreasury>();
    staking.initiate_epoch_change(&mut system, &mut treasury, clock);
    test_scenario::return_shared(treasury);
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
}

public fun finish(scenario: Scenario, clock: Clock, stakes: vector<StakedWal>) {
    std::unit_test::destroy(stakes);
    clock.destroy_for_testing();
    scenario.end();
}
