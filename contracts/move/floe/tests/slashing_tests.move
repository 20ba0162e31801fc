// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

#[test_only]
module floe::slashing_tests;

use floe::auth;
use floe::gov_test_helpers::{Self as h, setup, finish, change_epoch};
use floe::slashing::{Self, SlashingManager, NodeSlashed, SlashingQuorumReached};
use floe::staking::Staking;
use floe::test_helpers::mint_wal;
use sui::event;
use sui::test_scenario::{Self, Scenario};
use wal::wal::{Self, ProtectedTreasury};

/// Operator `i` votes with node `i` to slash `candidate`.
fun vote(scenario: &mut Scenario, nodes: &vector<ID>, i: u64, candidate: ID) {
    scenario.next_tx(h::operator(i));
    let mut manager = scenario.take_shared<SlashingManager>();
    let staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    manager.vote_for_slashing(&staking, auth, nodes[i], candidate);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    scenario.next_tx(h::user());
}

/// Gives `node` `amount` FROST of commission.
fun add_commission(scenario: &mut Scenario, node: ID, amount: u64) {
    let mut staking = scenario.take_shared<Staking>();
    let coin = mint_wal(amount, scenario.ctx());
    staking.inner_mut().add_subsidy_commission(node, coin.into_balance());
    test_scenario::return_shared(staking);
    scenario.next_tx(h::user());
}

fun commission(scenario: &mut Scenario, node: ID): u64 {
    let staking = scenario.take_shared<Staking>();
    let value = staking.inner().pool_for_testing(node).commission_for_testing();
    test_scenario::return_shared(staking);
    scenario.next_tx(h::user());
    value
}

fun execute(scenario: &mut Scenario, candidate: ID) {
    let mut manager = scenario.take_shared<SlashingManager>();
    let mut staking = scenario.take_shared<Staking>();
    let mut treasury = scenario.take_shared<ProtectedTreasury>();
    manager.execute_slashing(&mut staking, candidate, &mut treasury);
    test_scenario::return_shared(treasury);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    scenario.next_tx(h::user());
}

#[test]
fun a_quorum_burns_exactly_the_commission() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    let candidate = nodes[0];
    add_commission(&mut scenario, candidate, 12_345);
    vote(&mut scenario, &nodes, 3, candidate);
    scenario.next_tx(h::operator(2));
    {
        let mut manager = scenario.take_shared<SlashingManager>();
        let staking = scenario.take_shared<Staking>();
        let auth = auth::authenticate_sender(scenario.ctx());
        manager.vote_for_slashing(&staking, auth, nodes[2], candidate);
        assert!(event::events_by_type<SlashingQuorumReached>().length() == 1);
        test_scenario::return_shared(staking);
        test_scenario::return_shared(manager);
    };
    scenario.next_tx(h::user());
    let treasury = scenario.take_shared<ProtectedTreasury>();
    let supply = wal::total_supply(&treasury);
    test_scenario::return_shared(treasury);
    scenario.next_tx(h::user());
    {
        let mut manager = scenario.take_shared<SlashingManager>();
        let mut staking = scenario.take_shared<Staking>();
        let mut treasury = scenario.take_shared<ProtectedTreasury>();
        manager.execute_slashing(&mut staking, candidate, &mut treasury);
        assert!(event::events_by_type<NodeSlashed>().length() == 1);
        assert!(wal::total_supply(&treasury) == supply - 12_345);
        assert!(manager.n_proposals_for_testing() == 0);
        test_scenario::return_shared(treasury);
        test_scenario::return_shared(staking);
        test_scenario::return_shared(manager);
    };
    scenario.next_tx(h::user());
    assert!(commission(&mut scenario, candidate) == 0);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = slashing::ENotEnoughVotes)]
fun executing_without_quorum_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, nodes[0]);
    vote(&mut scenario, &nodes, 1, nodes[0]);
    execute(&mut scenario, nodes[0]);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = slashing::ENoProposalForNode)]
fun executing_twice_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, nodes[0]);
    vote(&mut scenario, &nodes, 2, nodes[0]);
    execute(&mut scenario, nodes[0]);
    execute(&mut scenario, nodes[0]);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = slashing::EWrongEpoch)]
fun a_quorum_of_an_earlier_epoch_cannot_execute() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, nodes[0]);
    vote(&mut scenario, &nodes, 2, nodes[0]);
    change_epoch(&mut scenario, &mut clock);
    execute(&mut scenario, nodes[0]);
    finish(scenario, clock, stakes);
}

#[test]
fun votes_are_reset_in_a_new_epoch_and_cleanup_drops_stale_ones() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, nodes[0]);
    vote(&mut scenario, &nodes, 2, nodes[1]);
    change_epoch(&mut scenario, &mut clock);
    let mut manager = scenario.take_shared<SlashingManager>();
    let staking = scenario.take_shared<Staking>();
    assert!(manager.n_proposals_for_testing() == 2);
    manager.cleanup_slashing_proposals(&staking);
    assert!(manager.n_proposals_for_testing() == 0);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    scenario.next_tx(h::user());
    // Node 4's vote of epoch 0 no longer counts: it may vote again.
    vote(&mut scenario, &nodes, 3, nodes[0]);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = slashing::EDuplicateVote)]
fun a_second_vote_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, nodes[0]);
    vote(&mut scenario, &nodes, 3, nodes[0]);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = slashing::ENotAuthorized)]
fun a_vote_by_someone_else_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    let mut manager = scenario.take_shared<SlashingManager>();
    let staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    manager.vote_for_slashing(&staking, auth, nodes[3], nodes[0]);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = slashing::ENotInCommittee)]
fun a_voter_without_pool_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    let mut manager = scenario.take_shared<SlashingManager>();
    let staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    manager.vote_for_slashing(&staking, auth, object::id_from_address(@0xbad), nodes[0]);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = slashing::EUnknownCandidate)]
fun an_unknown_candidate_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, object::id_from_address(@0xbad));
    finish(scenario, clock, stakes);
}
