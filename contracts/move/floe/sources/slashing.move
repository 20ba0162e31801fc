// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Slashing by committee vote, as Walrus has it: committee nodes vote to
/// slash a node with their shards in the current epoch; once the votes
/// reach a quorum (`3w >= 2n + 1`) anyone may `execute_slashing`, which
/// burns the candidate pool's whole commission (collectable or not)
/// through the WAL treasury. Votes count in their epoch only: a vote on a
/// proposal of an earlier epoch starts it afresh, and an executed proposal
/// is removed. Proposals are kept in a vector: every vote first drops the
/// stale ones, so it never holds more than the current epoch's proposals.
module floe::slashing;

use floe::auth::Authenticated;
use floe::staking::Staking;
use sui::event;
use wal::wal::ProtectedTreasury;

/// The caller is not the voter's governance authority.
const ENotAuthorized: u64 = 0;
/// The voter already voted to slash this candidate in this epoch.
const EDuplicateVote: u64 = 1;
/// No proposal to slash this candidate.
const ENoProposalForNode: u64 = 2;
/// The proposal is from an earlier epoch.
const EWrongEpoch: u64 = 3;
/// The proposal has no quorum.
const ENotEnoughVotes: u64 = 4;
/// The voter is not in the current committee.
const ENotInCommittee: u64 = 5;
/// The candidate has no staking pool.
const EUnknownCandidate: u64 = 6;

/// Votes to slash `node_id` in `epoch`.
public struct SlashingProposal has copy, drop, store {
    epoch: u32,
    node_id: ID,
    voting_weight: u16,
    voters: vector<ID>,
}

/// The shared slashing manager.
public struct SlashingManager has key {
    id: UID,
    slashing_candidates: vector<SlashingProposal>,
}

/// `node_id` voted to slash `candidate` (floe's own event).
public struct SlashingVoted has copy, drop {
    epoch: u32,
    candidate: ID,
    node_id: ID,
    weight: u16,
    voting_weight: u16,
}

/// The votes to slash `candidate` reached a quorum.
public struct SlashingQuorumReached has copy, drop {
    epoch: u32,
    candidate: ID,
}

/// `candidate`'s commission, `amount` FROST, was burnt.
public struct NodeSlashed has copy, drop {
    epoch: u32,
    candidate: ID,
    amount: u64,
}

/// Shares an empty manager (genesis).
public(package) fun new(ctx: &mut TxContext) {
    transfer::share_object(SlashingManager { id: object::new(ctx), slashing_candidates: vector[] });
}

/// Votes to slash `candidate` with `voter_node_id`'s shards; `auth` must
/// be the voter's governance authority. Aborts: `ENotAuthorized`,
/// `ENotInCommittee`, `EUnknownCandidate`, `EDuplicateVote`.
public fun vote_for_slashing(
    self: &mut SlashingManager,
    staking: &Staking,
    auth: Authenticated,
    voter_node_id: ID,
    candidate: ID,
) {
    let weight = voter_weight(staking, voter_node_id, &auth);
    assert!(staking.inner().has_pool(candidate), EUnknownCandidate);
    let epoch = staking.epoch();
    let n_shards = staking.inner().n_shards();
    self.slashing_candidates = self.slashing_candidates.filter!(|p| p.epoch == epoch);
    let found = self.slashing_candidates.find_index!(|p| p.node_id == candidate);
    let index = if (found.is_some()) {
        found.destroy_some()
    } else {
        self
            .slashing_candidates
            .push_back(SlashingProposal {
                epoch,
                node_id: candidate,
                voting_weight: 0,
                voters: vector[],
            });
        self.slashing_candidates.length() - 1
    };
    let proposal = &mut self.slashing_candidates[index];
    assert!(!proposal.voters.contains(&voter_node_id), EDuplicateVote);
    let before = proposal.voting_weight;
    proposal.voters.push_back(voter_node_id);
    proposal.voting_weight = before + weight;
    event::emit(SlashingVoted {
        epoch,
        candidate,
        node_id: voter_node_id,
        weight,
        voting_weight: proposal.voting_weight,
    });
    if (!is_quorum(before, n_shards) && is_quorum(proposal.voting_weight, n_shards)) {
        event::emit(SlashingQuorumReached { epoch, candidate });
    }
}

/// Burns `candidate`'s whole commission, voted by a quorum in the current
/// epoch, and removes the proposal. Aborts: `ENoProposalForNode`,
/// `EWrongEpoch`, `ENotEnoughVotes`.
public fun execute_slashing(
    self: &mut SlashingManager,
    staking: &mut Staking,
    candidate: ID,
    treasury: &mut ProtectedTreasury,
) {
    let found = self.slashing_candidates.find_index!(|p| p.node_id == candidate);
    assert!(found.is_some(), ENoProposalForNode);
    let proposal = self.slashing_candidates.remove(found.destroy_some());
    let epoch = staking.epoch();
    assert!(proposal.epoch == epoch, EWrongEpoch);
    assert!(is_quorum(proposal.voting_weight, staking.inner().n_shards()), ENotEnoughVotes);
    let commission = staking.inner_mut().take_commission(candidate);
    let amount = commission.value();
    treasury.burn_balance(commission);
    event::emit(NodeSlashed { epoch, candidate, amount });
}

/// Removes the proposals of earlier epochs (permissionless).
public fun cleanup_slashing_proposals(self: &mut SlashingManager, staking: &Staking) {
    let epoch = staking.epoch();
    self.slashing_candidates = self.slashing_candidates.filter!(|p| p.epoch == epoch);
}

// === Internal ===

/// `node_id`'s shards in the current committee, if `auth` governs it.
fun voter_weight(staking: &Staking, node_id: ID, auth: &Authenticated): u16 {
    let inner = staking.inner();
    assert!(inner.has_pool(node_id), ENotInCommittee);
    assert!(auth.matches(&inner.governance_authorized(node_id)), ENotAuthorized);
    let committee = inner.committee();
    assert!(committee.contains(&node_id), ENotInCommittee);
    (committee.shards(&node_id).length() as u16)
}

/// `3 * weight >= 2 * n_shards + 1`.
fun is_quorum(weight: u16, n_shards: u16): bool {
    3 * (weight as u64) >= 2 * (n_shards as u64) + 1
}

// === Test helpers ===

#[test_only]
public fun n_proposals_for_testing(self: &SlashingManager): u64 { self.slashing_candidates.length() }
