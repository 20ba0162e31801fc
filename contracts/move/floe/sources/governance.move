// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Parameter governance (floe's own; Walrus fixes these at deployment):
/// a committee node proposes a typed change to one protocol parameter,
/// committee nodes vote for or against with their shard counts, and a
/// proposal whose votes for reach a quorum (`3w >= 2n + 1`) passes and is
/// applied at the next epoch change, inside `staking::initiate_epoch_change`
/// (no extra transaction, so a passed change cannot be forgotten). A
/// proposal still open at that epoch change expires; at most one proposal
/// per parameter is open at a time.
///
/// Votes count in the epoch of the proposal only: every proposal is closed
/// (applied or expired) by the epoch change that ends it, so the weight of
/// a vote is always the voter's shards in the current committee.
///
/// The state is a `Governance` kept as a dynamic field of `Staking` (key
/// `b"governance"`), created by the first proposal; the public calls are in
/// `staking` (`propose_parameter_change`, `vote_on_parameter_change`),
/// because applying changes is part of the epoch change and Move forbids
/// the cycle `staking` -> `governance` -> `staking`.
///
/// Bounds (checked when proposing; a change is applied as proposed):
/// epoch duration 10 s ..= 30 days; maximum epochs ahead only grows (up to
/// 1000), since shrinking it would strand storage already sold; active-set
/// size 1 ..= min(1000, n_shards); system subsidy rate at most 1_000_000
/// basis points (as Walrus's); base subsidy at most 100_000 WAL and
/// per-shard subsidy at most 1_000 WAL per epoch.
module floe::governance;

use floe::auth::Authenticated;
use floe::staking_inner::StakingInnerV1;
use floe::system::System;
use sui::event;

/// Shortest epoch a proposal may set (ms).
const MIN_EPOCH_DURATION_MS: u64 = 10_000;
/// Longest epoch a proposal may set (ms): 30 days.
const MAX_EPOCH_DURATION_MS: u64 = 2_592_000_000;
/// Upper bound of `max_epochs_ahead` (as `system_state_inner`'s).
const MAX_MAX_EPOCHS_AHEAD: u32 = 1000;
/// Largest active set a proposal may set.
const MAX_ACTIVE_SET_SIZE: u16 = 1000;
/// Largest system subsidy rate (basis points).
const MAX_SYSTEM_SUBSIDY_RATE: u32 = 1_000_000;
/// Largest base subsidy per node and epoch (FROST): 100_000 WAL.
const MAX_BASE_SUBSIDY: u64 = 100_000_000_000_000;
/// Largest subsidy per shard and epoch (FROST): 1_000 WAL.
const MAX_SUBSIDY_PER_SHARD: u64 = 1_000_000_000_000;

/// The caller is not the node's governance authority.
const ENotAuthorized: u64 = 0;
/// The node is not in the current committee.
const ENotInCommittee: u64 = 1;
/// The node already voted on the proposal.
const EDuplicateVote: u64 = 2;
/// A proposal for the same parameter is open.
const EProposalExists: u64 = 3;
/// No open proposal with this id.
const ENoProposal: u64 = 4;
/// The proposal already passed; it is applied at the next epoch change.
const EAlreadyPassed: u64 = 5;
/// The proposed value is outside the parameter's safe range.
const EOutOfRange: u64 = 6;

/// A change to one parameter, with its new value.
public enum ParameterChange has copy, drop, store {
    /// Epoch length (ms), from the epoch after the change on.
    EpochDuration(u64),
    /// How many epochs ahead storage is sold.
    MaxEpochsAhead(u32),
    /// Most nodes in the active set.
    ActiveSetSize(u16),
    /// Subsidy added to future rewards, basis points of new rewards.
    SystemSubsidyRate(u32),
    /// Subsidy per committee node and epoch (FROST).
    BaseSubsidy(u64),
    /// Subsidy per shard and epoch (FROST).
    SubsidyPerShard(u64),
}

/// An open or passed proposal.
public struct ParameterProposal has copy, drop, store {
    id: u64,
    /// The epoch the proposal was made in; votes count in it only.
    epoch: u32,
    change: ParameterChange,
    proposer: ID,
    /// Shards that voted for.
    votes_for: u16,
    /// Shards that voted against.
    votes_against: u16,
    voters: vector<ID>,
    passed: bool,
}

/// The governance state: proposals (at most one per parameter) and the
/// governed subsidy rates.
public struct Governance has store {
    next_proposal_id: u64,
    proposals: vector<ParameterProposal>,
    system_subsidy_rate: u32,
    base_subsidy: u64,
    subsidy_per_shard: u64,
}

/// A proposal was made (the proposer's vote for is counted).
public struct ProposalCreated has copy, drop {
    epoch: u32,
    proposal_id: u64,
    node_id: ID,
    change: ParameterChange,
}

/// A node voted.
public struct ProposalVoted has copy, drop {
    epoch: u32,
    proposal_id: u64,
    node_id: ID,
    in_favor: bool,
    weight: u16,
    votes_for: u16,
    votes_against: u16,
}

/// The votes for reached a quorum.
public struct ProposalPassed has copy, drop {
    epoch: u32,
    proposal_id: u64,
    change: ParameterChange,
}

/// A passed proposal took effect at the start of `epoch`.
public struct ProposalApplied has copy, drop {
    epoch: u32,
    proposal_id: u64,
    change: ParameterChange,
}

/// A proposal of `epoch` ended without a quorum.
public struct ProposalExpired has copy, drop {
    epoch: u32,
    proposal_id: u64,
    change: ParameterChange,
    votes_for: u16,
    votes_against: u16,
}

// === Changes ===

public fun epoch_duration_change(epoch_duration_ms: u64): ParameterChange {
    ParameterChange::EpochDuration(epoch_duration_ms)
}

public fun max_epochs_ahead_change(max_epochs_ahead: u32): ParameterChange {
    ParameterChange::MaxEpochsAhead(max_epochs_ahead)
}

public fun active_set_size_change(active_set_size: u16): ParameterChange {
    ParameterChange::ActiveSetSize(active_set_size)
}

public fun system_subsidy_rate_change(rate: u32): ParameterChange {
    ParameterChange::SystemSubsidyRate(rate)
}

public fun base_subsidy_change(base_subsidy: u64): ParameterChange {
    ParameterChange::BaseSubsidy(base_subsidy)
}

public fun subsidy_per_shard_change(subsidy_per_shard: u64): ParameterChange {
    ParameterChange::SubsidyPerShard(subsidy_per_shard)
}

// === State ===

/// An empty state with no subsidies.
public(package) fun new(): Governance {
    Governance {
        next_proposal_id: 0,
        proposals: vector[],
        system_subsidy_rate: 0,
        base_subsidy: 0,
        subsidy_per_shard: 0,
    }
}

/// The shards `node_id` votes with: aborts unless `auth` is the pool's
/// governance authority (`ENotAuthorized`) and the node is in the current
/// committee (`ENotInCommittee`).
public(package) fun voter_weight(inner: &StakingInnerV1, node_id: ID, auth: &Authenticated): u16 {
    assert!(inner.has_pool(node_id), ENotInCommittee);
    let authorized = inner.governance_authorized(node_id);
    assert!(auth.matches(&authorized), ENotAuthorized);
    let committee = inner.committee();
    assert!(committee.contains(&node_id), ENotInCommittee);
    (committee.shards(&node_id).length() as u16)
}

/// Checks `change` against its safe range (`EOutOfRange`).
public(package) fun check_bounds(
    change: &ParameterChange,
    inner: &StakingInnerV1,
    system: &System,
) {
    let ok = match (change) {
        ParameterChange::EpochDuration(ms) => {
            *ms >= MIN_EPOCH_DURATION_MS && *ms <= MAX_EPOCH_DURATION_MS
        },
        ParameterChange::MaxEpochsAhead(n) => {
            *n > system.max_epochs_ahead() && *n <= MAX_MAX_EPOCHS_AHEAD
        },
        ParameterChange::ActiveSetSize(n) => {
            *n >= 1 && *n <= MAX_ACTIVE_SET_SIZE && *n <= inner.n_shards()
        },
        ParameterChange::SystemSubsidyRate(rate) => *rate <= MAX_SYSTEM_SUBSIDY_RATE,
        ParameterChange::BaseSubsidy(value) => *value <= MAX_BASE_SUBSIDY,
        ParameterChange::SubsidyPerShard(value) => *value <= MAX_SUBSIDY_PER_SHARD,
    };
    assert!(ok, EOutOfRange);
}

/// Records a proposal by `node_id` (weight `weight`) in `epoch` with its
/// vote for; returns its id. `EProposalExists` if the parameter has one.
public(package) fun propose(
    self: &mut Governance,
    node_id: ID,
    weight: u16,
    n_shards: u16,
    epoch: u32,
    change: ParameterChange,
): u64 {
    let kind = change.kind();
    assert!(!self.proposals.any!(|p| p.change.kind() == kind), EProposalExists);
    let id = self.next_proposal_id;
    self.next_proposal_id = id + 1;
    self.proposals.push_back(ParameterProposal {
        id,
        epoch,
        change,
        proposer: node_id,
        votes_for: 0,
        votes_against: 0,
        voters: vector[],
        passed: false,
    });
    event::emit(ProposalCreated { epoch, proposal_id: id, node_id, change });
    self.vote(node_id, weight, n_shards, id, true);
    id
}

/// Counts `node_id`'s vote on `proposal_id`; a quorum for passes it.
public(package) fun vote(
    self: &mut Governance,
    node_id: ID,
    weight: u16,
    n_shards: u16,
    proposal_id: u64,
    in_favor: bool,
) {
    let index = self.proposals.find_index!(|p| p.id == proposal_id);
    assert!(index.is_some(), ENoProposal);
    let proposal = &mut self.proposals[index.destroy_some()];
    assert!(!proposal.passed, EAlreadyPassed);
    assert!(!proposal.voters.contains(&node_id), EDuplicateVote);
    proposal.voters.push_back(node_id);
    if (in_favor) {
        proposal.votes_for = proposal.votes_for + weight;
    } else {
        proposal.votes_against = proposal.votes_against + weight;
    };
    event::emit(ProposalVoted {
        epoch: proposal.epoch,
        proposal_id,
        node_id,
        in_favor,
        weight,
        votes_for: proposal.votes_for,
        votes_against: proposal.votes_against,
    });
    if (is_quorum(proposal.votes_for, n_shards)) {
        proposal.passed = true;
        event::emit(ProposalPassed {
            epoch: proposal.epoch,
            proposal_id,
            change: proposal.change,
        });
    }
}

/// At the change to `new_epoch`: removes every proposal; expired ones emit
/// `ProposalExpired`, passed ones `ProposalApplied` and are returned in
/// proposal order for the caller to apply (`apply`). Subsidy rates are
/// governance's own and are set here.
public(package) fun close_epoch(self: &mut Governance, new_epoch: u32): vector<ParameterChange> {
    let mut passed = vector[];
    let proposals = self.proposals;
    self.proposals = vector[];
    proposals.do!(|p| {
        if (p.passed) {
            event::emit(ProposalApplied { epoch: new_epoch, proposal_id: p.id, change: p.change });
            match (p.change) {
                ParameterChange::SystemSubsidyRate(rate) => { self.system_subsidy_rate = rate },
                ParameterChange::BaseSubsidy(value) => { self.base_subsidy = value },
                ParameterChange::SubsidyPerShard(value) => { self.subsidy_per_shard = value },
                _ => { passed.push_back(p.change) },
            }
        } else {
            event::emit(ProposalExpired {
                epoch: p.epoch,
                proposal_id: p.id,
                change: p.change,
                votes_for: p.votes_for,
                votes_against: p.votes_against,
            });
        }
    });
    passed
}

/// Applies a passed change to the staking state or the system; never
/// aborts (the bounds were checked when proposing).
public(package) fun apply(change: &ParameterChange, inner: &mut StakingInnerV1, system: &mut System) {
    match (change) {
        ParameterChange::EpochDuration(ms) => inner.set_epoch_duration(*ms),
        ParameterChange::MaxEpochsAhead(n) => system.extend_max_epochs_ahead(*n),
        ParameterChange::ActiveSetSize(n) => inner.set_active_set_size(*n),
        _ => {},
    }
}

/// `3 * weight >= 2 * n_shards + 1`.
public(package) fun is_quorum(weight: u16, n_shards: u16): bool {
    3 * (weight as u64) >= 2 * (n_shards as u64) + 1
}

/// Which parameter `change` sets (0 ..= 5, in declaration order).
fun kind(change: &ParameterChange): u8 {
    match (change) {
        ParameterChange::EpochDuration(_) => 0,
        ParameterChange::MaxEpochsAhead(_) => 1,
        ParameterChange::ActiveSetSize(_) => 2,
        ParameterChange::SystemSubsidyRate(_) => 3,
        ParameterChange::BaseSubsidy(_) => 4,
        ParameterChange::SubsidyPerShard(_) => 5,
    }
}

// === Governed values (read by subsidies) ===

public(package) fun system_subsidy_rate(self: &Governance): u32 { self.system_subsidy_rate }

public(package) fun base_subsidy(self: &Governance): u64 { self.base_subsidy }

public(package) fun subsidy_per_shard(self: &Governance): u64 { self.subsidy_per_shard }

// === Test helpers ===

#[test_only]
public fun proposals_for_testing(self: &Governance): vector<ParameterProposal> { self.proposals }

#[test_only]
public fun tally_for_testing(self: &ParameterProposal): (u64, u16, u16, bool) {
    (self.id, self.votes_for, self.votes_against, self.passed)
}
