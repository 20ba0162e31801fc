// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

#[test_only]
module floe::upgrade_tests;

use floe::auth;
use floe::gov_test_helpers::{Self as h, setup, finish, change_epoch};
use floe::staking::Staking;
use floe::system::System;
use floe::upgrade::{Self, UpgradeManager, EmergencyUpgradeCap, UpgradeVoted, UpgradeAuthorized};
use sui::event;
use sui::package;
use sui::test_scenario::{Self, Scenario};

fun digest(): vector<u8> { digest_of(0) }

/// 32 bytes `seed, seed + 1, ...`.
fun digest_of(seed: u8): vector<u8> {
    let mut d = vector[];
    let mut i = 0;
    while (i < 32) {
        d.push_back(seed + i);
        i = i + 1;
    };
    d
}

/// Operator `i` votes for `d` with node `i`.
fun vote(scenario: &mut Scenario, nodes: &vector<ID>, i: u64, d: vector<u8>) {
    scenario.next_tx(h::operator(i));
    let mut manager = scenario.take_shared<UpgradeManager>();
    let staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    manager.vote_for_upgrade(&staking, auth, nodes[i], d);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    scenario.next_tx(h::user());
}

/// `(epoch, version, weight)` of the proposal for `d`.
fun proposal(scenario: &mut Scenario, d: vector<u8>): (u32, u64, u16) {
    let manager = scenario.take_shared<UpgradeManager>();
    let p = manager.proposal_for_testing(d);
    test_scenario::return_shared(manager);
    scenario.next_tx(h::user());
    p
}

/// Authorizes `d`, upgrades in the test framework and commits.
fun authorize_and_commit(scenario: &mut Scenario, d: vector<u8>) {
    let mut manager = scenario.take_shared<UpgradeManager>();
    let mut staking = scenario.take_shared<Staking>();
    let mut system = scenario.take_shared<System>();
    let ticket = manager.authorize_upgrade(&staking, d);
    assert!(event::events_by_type<UpgradeAuthorized>().length() == 1);
    let receipt = package::test_upgrade(ticket);
    let new_package = package::receipt_package(&receipt);
    manager.commit_upgrade(&mut staking, &mut system, receipt);
    assert!(manager.version() == 2);
    assert!(manager.package_id() == new_package);
    assert!(system.new_package_id() == option::some(new_package));
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    scenario.next_tx(h::user());
}

#[test]
fun a_quorum_authorizes_and_the_commit_records_the_package() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, digest());
    let (epoch, version, weight) = proposal(&mut scenario, digest());
    assert!(epoch == 0 && version == 2 && weight == 4);
    vote(&mut scenario, &nodes, 1, digest());
    // 6 of 10 shards: no quorum yet; node 3's 3 shards make it 9.
    let (_, _, weight) = proposal(&mut scenario, digest());
    assert!(weight == 6);
    scenario.next_tx(h::operator(2));
    {
        let mut manager = scenario.take_shared<UpgradeManager>();
        let staking = scenario.take_shared<Staking>();
        let auth = auth::authenticate_sender(scenario.ctx());
        manager.vote_for_upgrade(&staking, auth, nodes[2], digest());
        assert!(event::events_by_type<UpgradeVoted>().length() == 1);
        test_scenario::return_shared(staking);
        test_scenario::return_shared(manager);
    };
    scenario.next_tx(h::user());
    authorize_and_commit(&mut scenario, digest());
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = upgrade::ENotEnoughVotes)]
fun authorizing_without_quorum_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, digest());
    authorize_and_commit(&mut scenario, digest());
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = upgrade::ENoProposalForDigest)]
fun authorizing_an_unknown_digest_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, _nodes, stakes) = setup(&mut scenario);
    authorize_and_commit(&mut scenario, digest());
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = upgrade::EWrongEpoch)]
fun a_quorum_of_an_earlier_epoch_cannot_authorize() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, digest());
    vote(&mut scenario, &nodes, 2, digest());
    change_epoch(&mut scenario, &mut clock);
    authorize_and_commit(&mut scenario, digest());
    finish(scenario, clock, stakes);
}

#[test]
fun a_vote_in_a_new_epoch_starts_the_proposal_afresh() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, digest());
    change_epoch(&mut scenario, &mut clock);
    // Node 4 may vote again: its old vote was reset with the proposal.
    vote(&mut scenario, &nodes, 3, digest());
    let (epoch, version, weight) = proposal(&mut scenario, digest());
    assert!(epoch == 1 && version == 2);
    assert!(weight > 0 && weight <= 10);
    finish(scenario, clock, stakes);
}

#[test]
fun cleanup_removes_stale_proposals() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, digest());
    change_epoch(&mut scenario, &mut clock);
    let mut manager = scenario.take_shared<UpgradeManager>();
    let staking = scenario.take_shared<Staking>();
    assert!(manager.n_proposals_for_testing() == 1);
    manager.cleanup_upgrade_proposals(&staking);
    assert!(manager.n_proposals_for_testing() == 0);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = upgrade::EDuplicateVote)]
fun a_second_vote_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, digest());
    vote(&mut scenario, &nodes, 3, digest());
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = upgrade::ENotAuthorized)]
fun a_vote_by_someone_else_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    // The user is not node 4's governance authority.
    let mut manager = scenario.take_shared<UpgradeManager>();
    let staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    manager.vote_for_upgrade(&staking, auth, nodes[3], digest());
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = upgrade::EInvalidPackageDigest)]
fun a_short_digest_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    vote(&mut scenario, &nodes, 3, b"short");
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = upgrade::ENotInCommittee)]
fun a_vote_for_a_node_without_pool_aborts() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, _nodes, stakes) = setup(&mut scenario);
    let mut manager = scenario.take_shared<UpgradeManager>();
    let staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    manager.vote_for_upgrade(&staking, auth, object::id_from_address(@0xbad), digest());
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    finish(scenario, clock, stakes);
}

#[test]
fun the_emergency_cap_authorizes_without_votes_and_can_be_burnt() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, _nodes, stakes) = setup(&mut scenario);
    scenario.next_tx(h::genesis());
    let cap = scenario.take_from_sender<EmergencyUpgradeCap>();
    let mut manager = scenario.take_shared<UpgradeManager>();
    let mut staking = scenario.take_shared<Staking>();
    let mut system = scenario.take_shared<System>();
    let ticket = manager.authorize_emergency_upgrade(&cap, digest());
    let receipt = package::test_upgrade(ticket);
    manager.commit_upgrade(&mut staking, &mut system, receipt);
    assert!(manager.version() == 2);
    upgrade::burn_emergency_upgrade_cap(cap);
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    test_scenario::return_shared(manager);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = upgrade::EWrongVersion)]
fun a_proposal_for_the_old_version_cannot_authorize() {
    let mut scenario = test_scenario::begin(h::genesis());
    let (clock, nodes, stakes) = setup(&mut scenario);
    // A quorum for digest B (version 2), then an emergency upgrade to
    // version 2 makes B's proposal target a version that exists.
    let b = digest_of(100);
    vote(&mut scenario, &nodes, 3, b);
    vote(&mut scenario, &nodes, 2, b);
    scenario.next_tx(h::genesis());
    {
        let cap = scenario.take_from_sender<EmergencyUpgradeCap>();
        let mut manager = scenario.take_shared<UpgradeManager>();
        let mut staking = scenario.take_shared<Staking>();
        let mut system = scenario.take_shared<System>();
        let ticket = manager.authorize_emergency_upgrade(&cap, digest());
        manager.commit_upgrade(&mut staking, &mut system, package::test_upgrade(ticket));
        test_scenario::return_shared(system);
        test_scenario::return_shared(staking);
        test_scenario::return_shared(manager);
        scenario.return_to_sender(cap);
    };
    scenario.next_tx(h::user());
    authorize_and_commit(&mut scenario, b);
    finish(scenario, clock, stakes);
}
