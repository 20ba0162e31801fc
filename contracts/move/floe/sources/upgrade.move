// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Package upgrades by committee vote, as Walrus has them: the shared
/// `UpgradeManager` holds the package's `UpgradeCap`; committee nodes vote
/// for the digest of a new package with their shards in the current epoch,
/// and once the votes reach a quorum (`3w >= 2n + 1`) anyone may
/// `authorize_upgrade`, which returns the `UpgradeTicket` the transaction's
/// Upgrade command consumes; `commit_upgrade` then records the new package
/// id in `Staking` and `System` (their `migrate` switches to it). An
/// `EmergencyUpgradeCap`, given to the genesis sender, authorizes without
/// votes until it is burnt.
///
/// Votes count in one epoch and for one version: a vote for a proposal of
/// an earlier epoch or version starts it afresh. Proposals are kept in a
/// vector: every vote first drops the other stale ones, so it never holds
/// more than the current epoch's proposals.
///
/// On the floe devnet the ledger cannot run an Upgrade command: the ticket
/// ends with the transaction that authorized it (the devnet's framework
/// lets it be dropped), and the authorization stays visible as the
/// `UpgradeAuthorized` event and the cap marked as upgrading.
module floe::upgrade;

use floe::auth::Authenticated;
use floe::events;
use floe::staking::Staking;
use floe::system::System;
use sui::event;
use sui::package::{UpgradeCap, UpgradeTicket, UpgradeReceipt};

/// The emergency cap belongs to another manager.
const EInvalidUpgradeManager: u64 = 0;
/// The caller is not the node's governance authority.
const ENotAuthorized: u64 = 1;
/// The node already voted for this digest in this epoch.
const EDuplicateVote: u64 = 2;
/// A package digest has 32 bytes.
const EInvalidPackageDigest: u64 = 3;
/// No proposal for this digest.
const ENoProposalForDigest: u64 = 4;
/// The proposal is from an earlier epoch.
const EWrongEpoch: u64 = 5;
/// The proposal has no quorum.
const ENotEnoughVotes: u64 = 6;
/// The proposal is for another version than the next one.
const EWrongVersion: u64 = 7;
/// The node is not in the current committee.
const ENotInCommittee: u64 = 8;

/// Bytes of a package digest.
const DIGEST_LENGTH: u64 = 32;

/// Votes for one digest.
public struct UpgradeProposal has copy, drop, store {
    epoch: u32,
    digest: vector<u8>,
    /// The package version the upgrade creates (the cap's version + 1).
    version: u64,
    voting_weight: u16,
    voters: vector<ID>,
}

/// The shared upgrade manager.
public struct UpgradeManager has key {
    id: UID,
    cap: UpgradeCap,
    upgrade_proposals: vector<UpgradeProposal>,
}

/// Authorizes an upgrade of `upgrade_manager_id` without votes.
public struct EmergencyUpgradeCap has key, store {
    id: UID,
    upgrade_manager_id: ID,
}

/// A node voted for `package_digest` (floe's own event).
public struct UpgradeVoted has copy, drop {
    epoch: u32,
    package_digest: vector<u8>,
    node_id: ID,
    weight: u16,
    voting_weight: u16,
}

/// An upgrade to `version` was authorized (floe's own event).
public struct UpgradeAuthorized has copy, drop {
    epoch: u32,
    package_digest: vector<u8>,
    version: u64,
    emergency: bool,
}

/// Shares a manager of `cap` and returns its emergency cap (genesis).
public(package) fun new(cap: UpgradeCap, ctx: &mut TxContext): EmergencyUpgradeCap {
    let manager = UpgradeManager { id: object::new(ctx), cap, upgrade_proposals: vector[] };
    let emergency = EmergencyUpgradeCap {
        id: object::new(ctx),
        upgrade_manager_id: object::id(&manager),
    };
    transfer::share_object(manager);
    emergency
}

/// Votes for the package of `digest` with `node_id`'s shards; `auth` must
/// be the node's governance authority. Emits `ContractUpgradeProposed`
/// when the vote opens the proposal, `UpgradeVoted`, and
/// `ContractUpgradeQuorumReached` when it completes the quorum. Aborts:
/// `ENotAuthorized`, `ENotInCommittee`, `EInvalidPackageDigest`,
/// `EDuplicateVote`.
public fun vote_for_upgrade(
    self: &mut UpgradeManager,
    staking: &Staking,
    auth: Authenticated,
    node_id: ID,
    digest: vector<u8>,
) {
    assert!(digest.length() == DIGEST_LENGTH, EInvalidPackageDigest);
    let weight = voter_weight(staking, node_id, &auth);
    let epoch = staking.epoch();
    let n_shards = staking.inner().n_shards();
    let version = self.cap.version() + 1;
    self.upgrade_proposals =
        self.upgrade_proposals.filter!(|p| p.epoch == epoch && p.version == version);
    let found = self.upgrade_proposals.find_index!(|p| p.digest == digest);
    let index = if (found.is_some()) {
        found.destroy_some()
    } else {
        self
            .upgrade_proposals
            .push_back(UpgradeProposal {
                epoch,
                digest,
                version,
                voting_weight: 0,
                voters: vector[],
            });
        events::emit_contract_upgrade_proposed(epoch, digest);
        self.upgrade_proposals.length() - 1
    };
    let proposal = &mut self.upgrade_proposals[index];
    assert!(!proposal.voters.contains(&node_id), EDuplicateVote);
    let before = proposal.voting_weight;
    proposal.voters.push_back(node_id);
    proposal.voting_weight = before + weight;
    event::emit(UpgradeVoted {
        epoch,
        package_digest: digest,
        node_id,
        weight,
        voting_weight: proposal.voting_weight,
    });
    if (!is_quorum(before, n_shards) && is_quorum(proposal.voting_weight, n_shards)) {
        events::emit_contract_upgrade_quorum_reached(epoch, digest);
    }
}

/// Authorizes the upgrade to the package of `digest`, voted by a quorum in
/// the current epoch; the proposal is removed. Aborts:
/// `ENoProposalForDigest`, `EWrongEpoch`, `ENotEnoughVotes`,
/// `EWrongVersion`.
public fun authorize_upgrade(
    self: &mut UpgradeManager,
    staking: &Staking,
    digest: vector<u8>,
): UpgradeTicket {
    let found = self.upgrade_proposals.find_index!(|p| p.digest == digest);
    assert!(found.is_some(), ENoProposalForDigest);
    let proposal = self.upgrade_proposals.remove(found.destroy_some());
    let epoch = staking.epoch();
    assert!(proposal.epoch == epoch, EWrongEpoch);
    assert!(is_quorum(proposal.voting_weight, staking.inner().n_shards()), ENotEnoughVotes);
    assert!(proposal.version == self.cap.version() + 1, EWrongVersion);
    self.authorize(epoch, digest, false)
}

/// Authorizes the upgrade to the package of `digest` without votes.
/// Aborts: `EInvalidUpgradeManager`, `EInvalidPackageDigest`.
public fun authorize_emergency_upgrade(
    upgrade_manager: &mut UpgradeManager,
    emergency_upgrade_cap: &EmergencyUpgradeCap,
    digest: vector<u8>,
): UpgradeTicket {
    assert!(
        emergency_upgrade_cap.upgrade_manager_id == object::id(upgrade_manager),
        EInvalidUpgradeManager,
    );
    assert!(digest.length() == DIGEST_LENGTH, EInvalidPackageDigest);
    // The epoch is not at hand without `Staking`: 0 marks the emergency path.
    upgrade_manager.authorize(0, digest, true)
}

/// Renounces the emergency path for good.
public fun burn_emergency_upgrade_cap(emergency_upgrade_cap: EmergencyUpgradeCap) {
    let EmergencyUpgradeCap { id, upgrade_manager_id: _ } = emergency_upgrade_cap;
    id.delete();
}

/// Completes an upgrade with the Upgrade command's receipt: the new
/// package id goes to `Staking` and `System` (for their migration) and
/// `ContractUpgraded` is emitted.
public fun commit_upgrade(
    self: &mut UpgradeManager,
    staking: &mut Staking,
    system: &mut System,
    receipt: UpgradeReceipt,
) {
    let new_package_id = receipt.receipt_package();
    self.cap.commit_upgrade(receipt);
    staking.set_new_package_id(new_package_id);
    system.set_new_package_id(new_package_id);
    events::emit_contract_upgraded(staking.epoch(), new_package_id, self.cap.version());
}

/// Removes the proposals of earlier epochs or versions (permissionless).
public fun cleanup_upgrade_proposals(self: &mut UpgradeManager, staking: &Staking) {
    let epoch = staking.epoch();
    let version = self.cap.version() + 1;
    self.upgrade_proposals =
        self.upgrade_proposals.filter!(|p| p.epoch == epoch && p.version == version);
}

// === Views ===

public fun package_id(self: &UpgradeManager): ID { self.cap.upgrade_package() }

public fun version(self: &UpgradeManager): u64 { self.cap.version() }

// === Internal ===

/// `sui::package::authorize_upgrade` with the cap's policy, and the event.
fun authorize(
    self: &mut UpgradeManager,
    epoch: u32,
    digest: vector<u8>,
    emergency: bool,
): UpgradeTicket {
    let version = self.cap.version() + 1;
    let policy = self.cap.upgrade_policy();
    let ticket = self.cap.authorize_upgrade(policy, digest);
    event::emit(UpgradeAuthorized { epoch, package_digest: digest, version, emergency });
    ticket
}

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
public fun proposal_for_testing(self: &UpgradeManager, digest: vector<u8>): (u32, u64, u16) {
    let i = self.upgrade_proposals.find_index!(|p| p.digest == digest).destroy_some();
    let p = &self.upgrade_proposals[i];
    (p.epoch, p.version, p.voting_weight)
}

#[test_only]
public fun n_proposals_for_testing(self: &UpgradeManager): u64 { self.upgrade_proposals.length() }
