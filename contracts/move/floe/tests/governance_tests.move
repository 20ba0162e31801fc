#[test_only]
module floe::governance_tests;

use floe::auth;
use floe::governance::{Self, ParameterChange};
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

/// Genesis nodes with shards 1, 2, 3, 4 (operators `@0xa1..@0xa4` govern
/// them), each staked with 10 WAL so the epoch can change; returns the
/// clock, the node ids and the stakes. The next transaction is the user's.
fun setup(scenario: &mut Scenario): (Clock, vector<ID>, vector<StakedWal>) {
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

fun operator(i: u64): address {
    let operators = test_helpers::operators();
    operators[i]
}

/// Operator `i` proposes `change` for node `i`; returns the proposal id.
fun propose(scenario: &mut Scenario, nodes: &vector<ID>, i: u64, change: ParameterChange): u64 {
    scenario.next_tx(operator(i));
    let mut staking = scenario.take_shared<Staking>();
    let system = scenario.take_shared<System>();
    let auth = auth::authenticate_sender(scenario.ctx());
    let id = staking.propose_parameter_change(&system, nodes[i], auth, change, scenario.ctx());
    test_scenario::return_shared(system);
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
    id
}

/// Operator `i` votes with node `i`.
fun vote(scenario: &mut Scenario, nodes: &vector<ID>, i: u64, id: u64, in_favor: bool) {
    scenario.next_tx(operator(i));
    let mut staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    staking.vote_on_parameter_change(nodes[i], auth, id, in_favor);
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
}

/// `voting_end` and `initiate_epoch_change` at the first epoch start.
fun change_epoch(scenario: &mut Scenario, clock: &mut Clock) {
    clock.set_for_testing(test_helpers::first_epoch_start());
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

/// `(id, votes for, votes against, passed)` of each proposal.
fun tallies(scenario: &mut Scenario): vector<u64> {
    let mut staking = scenario.take_shared<Staking>();
    let proposals = staking.governance_for_testing().proposals_for_testing();
    let mut out = vector[];
    proposals.do_ref!(|p| {
        let (id, votes_for, votes_against, passed) = p.tally_for_testing();
        out.push_back(id);
        out.push_back(votes_for as u64);
        out.push_back(votes_against as u64);
        out.push_back(if (passed) 1 else 0);
    });
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
    out
}

fun epoch_duration(scenario: &mut Scenario): u64 {
    let staking = scenario.take_shared<Staking>();
    let duration = staking.inner().epoch_duration_for_testing();
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
    duration
}

fun finish(scenario: Scenario, clock: Clock, stakes: vector<StakedWal>) {
    std::unit_test::destroy(stakes);
    clock.destroy_for_testing();
    scenario.end();
}

#[test]
fun a_quorum_passes_and_the_epoch_change_applies() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    // Node 4 (4 of 10 shards) proposes: no quorum yet.
    let id = propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(20_000));
    assert!(tallies(&mut scenario) == vector[id, 4, 0, 0]);
    // Node 1 against, node 3 for: 7 of 10 shards for is a quorum.
    vote(&mut scenario, &nodes, 0, id, false);
    assert!(tallies(&mut scenario) == vector[id, 4, 1, 0]);
    vote(&mut scenario, &nodes, 2, id, true);
    assert!(tallies(&mut scenario) == vector[id, 7, 1, 1]);
    assert!(epoch_duration(&mut scenario) == test_helpers::epoch_duration());
    change_epoch(&mut scenario, &mut clock);
    assert!(epoch_duration(&mut scenario) == 20_000);
    assert!(tallies(&mut scenario) == vector[]);
    finish(scenario, clock, stakes);
}

#[test]
fun a_proposal_without_quorum_expires_and_changes_nothing() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    let id = propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(20_000));
    vote(&mut scenario, &nodes, 1, id, true);
    assert!(tallies(&mut scenario) == vector[id, 6, 0, 0]);
    change_epoch(&mut scenario, &mut clock);
    assert!(epoch_duration(&mut scenario) == test_helpers::epoch_duration());
    assert!(tallies(&mut scenario) == vector[]);
    // The parameter is free for a new proposal, with a new id.
    let next = propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(20_000));
    assert!(next == id + 1);
    finish(scenario, clock, stakes);
}

#[test]
fun max_epochs_ahead_and_active_set_size_apply() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (mut clock, nodes, stakes) = setup(&mut scenario);
    let max = test_helpers::max_epochs_ahead();
    let a = propose(&mut scenario, &nodes, 3, governance::max_epochs_ahead_change(max + 5));
    let b = propose(&mut scenario, &nodes, 3, governance::active_set_size_change(3));
    vote(&mut scenario, &nodes, 2, a, true);
    vote(&mut scenario, &nodes, 2, b, true);
    change_epoch(&mut scenario, &mut clock);
    let mut system = scenario.take_shared<System>();
    assert!(system.max_epochs_ahead() == max + 5);
    // The ring stays in epoch order after the rotation: offset i is epoch 1 + i.
    let mut i = 0;
    while (i < max + 5) {
        assert!(system.future_accounting().ring_lookup(i).epoch() == 1 + i);
        i = i + 1;
    };
    // Storage sells up to the new limit.
    let mut payment = mint_wal(1_000_000 * FROST_PER_WAL, scenario.ctx());
    let storage = system.reserve_space(1_048_576, max + 5, &mut payment, scenario.ctx());
    transfer::public_transfer(storage, USER);
    transfer::public_transfer(payment, USER);
    test_scenario::return_shared(system);
    scenario.next_tx(USER);
    let staking = scenario.take_shared<Staking>();
    let set = staking.inner().active_set_for_testing();
    assert!(set.max_size() == 3);
    assert!(set.active_ids().length() == 3);
    test_scenario::return_shared(staking);
    scenario.next_tx(USER);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = governance::EDuplicateVote)]
fun a_second_vote_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes, stakes) = setup(&mut scenario);
    let id = propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(20_000));
    vote(&mut scenario, &nodes, 3, id, false);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = governance::ENotAuthorized)]
fun a_vote_by_someone_else_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes, stakes) = setup(&mut scenario);
    let id = propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(20_000));
    // The user is not node 1's governance authority.
    let mut staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    staking.vote_on_parameter_change(nodes[0], auth, id, true);
    test_scenario::return_shared(staking);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = governance::ENotInCommittee)]
fun a_vote_by_a_non_member_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes, stakes) = setup(&mut scenario);
    let id = propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(20_000));
    let mut staking = scenario.take_shared<Staking>();
    let auth = auth::authenticate_sender(scenario.ctx());
    staking.vote_on_parameter_change(object::id_from_address(@0x1234), auth, id, true);
    test_scenario::return_shared(staking);
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = governance::EProposalExists)]
fun a_second_proposal_for_a_parameter_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes, stakes) = setup(&mut scenario);
    propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(20_000));
    propose(&mut scenario, &nodes, 2, governance::epoch_duration_change(30_000));
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = governance::EOutOfRange)]
fun an_epoch_below_ten_seconds_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes, stakes) = setup(&mut scenario);
    propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(9_999));
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = governance::EOutOfRange)]
fun shrinking_max_epochs_ahead_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes, stakes) = setup(&mut scenario);
    let max = test_helpers::max_epochs_ahead();
    propose(&mut scenario, &nodes, 3, governance::max_epochs_ahead_change(max - 1));
    finish(scenario, clock, stakes);
}

#[test, expected_failure(abort_code = governance::EAlreadyPassed)]
fun a_vote_on_a_passed_proposal_aborts() {
    let mut scenario = test_scenario::begin(GENESIS);
    let (clock, nodes, stakes) = setup(&mut scenario);
    let id = propose(&mut scenario, &nodes, 3, governance::epoch_duration_change(20_000));
    vote(&mut scenario, &nodes, 2, id, true);
    vote(&mut scenario, &nodes, 1, id, true);
    finish(scenario, clock, stakes);
}
