//! Parameter governance (floe's own): typed calls to
//! `staking::propose_parameter_change` and `vote_on_parameter_change`, and
//! reads of the `Governance` state (a dynamic field of `Staking` keyed by
//! `b"governance"`, absent until the first proposal).
//!
//! Who may call: a node of the current committee, acting as its pool's
//! governance authority ([`AuthWith`]: the registering address, or the
//! object it handed governance to). A vote weighs the node's shards; a
//! proposal passes once its votes for reach `3w >= 2n + 1` and takes effect
//! at the next epoch change, which also expires every proposal that did
//! not pass. Aborts are named in the transaction's status
//! (`governance::ENotAuthorized`, `ENotInCommittee`, `EDuplicateVote`,
//! `EProposalExists`, `ENoProposal`, `EAlreadyPassed`, `EOutOfRange`).

use floe_core::move_types::{
    DynamicField, Governance, ObjectId, ParameterChange, ParameterProposal, ProposalCreated,
};
use serde::Serialize;
use sui_sdk_types::{Address, Identifier, TypeTag};
use sui_transaction_builder::{Argument, Function, TransactionBuilder};

use super::membership::AuthWith;
use super::{Floe, FloeError, to_address};
use crate::error::ChainError;
use crate::keystore::KeyPair;
use crate::types::ExecutedTx;

/// The dynamic-field key of the state under `Staking`.
pub const GOVERNANCE_KEY: &[u8] = b"governance";

/// `3 * weight >= 2 * n_shards + 1`.
pub fn is_quorum(weight: u16, n_shards: u16) -> bool {
    floe_core::committee::is_quorum(u32::from(weight), u32::from(n_shards))
}

/// The least weight that is a quorum of `n_shards`.
pub fn quorum_weight(n_shards: u16) -> u16 {
    u16::try_from((2 * u64::from(n_shards)) / 3 + 1).unwrap_or(u16::MAX)
}

/// A proposal with what a reader needs beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposalStatus {
    pub id: u64,
    pub epoch: u32,
    /// `epoch-duration`, `max-epochs-ahead`, ...
    pub parameter: &'static str,
    pub value: u64,
    pub proposer: Address,
    pub votes_for: u16,
    pub votes_against: u16,
    pub voters: Vec<Address>,
    /// `open` or `passed` (applied at the next epoch change).
    pub status: &'static str,
    /// Shards of the committee.
    pub n_shards: u16,
    /// Votes for needed to pass.
    pub quorum: u16,
    /// Whether the votes against leave too few shards to reach a quorum.
    pub cannot_pass: bool,
    /// When the epoch is expected to end (ms): the proposal expires then
    /// unless it passed, and is applied then if it did.
    pub deadline_ms: Option<u64>,
}

impl ProposalStatus {
    /// `p` in a committee of `n_shards`, deciding at `deadline_ms`.
    pub fn new(p: &ParameterProposal, n_shards: u16, deadline_ms: Option<u64>) -> Self {
        let quorum = quorum_weight(n_shards);
        let cannot_pass = !p.passed
            && u32::from(n_shards).saturating_sub(u32::from(p.votes_against)) < u32::from(quorum);
        Self {
            id: p.id,
            epoch: p.epoch,
            parameter: p.change.parameter(),
            value: p.change.value(),
            proposer: to_address(p.proposer),
            votes_for: p.votes_for,
            votes_against: p.votes_against,
            voters: p.voters.iter().map(|v| to_address(*v)).collect(),
            status: if p.passed { "passed" } else { "open" },
            n_shards,
            quorum,
            cannot_pass,
            deadline_ms,
        }
    }
}

impl Floe {
    fn governance_key_id(&self) -> Result<Address, FloeError> {
        let key = bcs::to_bytes(&GOVERNANCE_KEY.to_vec())
            .map_err(|e| FloeError::Committee(e.to_string()))?;
        let key_type = TypeTag::Vector(Box::new(TypeTag::U8));
        Ok(self.ids.staking.derive_dynamic_child_id(&key_type, &key))
    }

    /// The governance state; `None` before the first proposal.
    pub async fn governance(&self) -> Result<Option<Governance>, FloeError> {
        let id = self.governance_key_id()?;
        match self
            .client
            .get_object_as::<DynamicField<Vec<u8>, Governance>>(id)
            .await
        {
            Ok((_, field)) => Ok(Some(field.value)),
            Err(ChainError::ObjectNotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The open and passed proposals with tallies, quorum and deadline.
    pub async fn proposals(&self) -> Result<Vec<ProposalStatus>, FloeError> {
        let Some(g) = self.governance().await? else {
            return Ok(Vec::new());
        };
        let status = self.epoch_status().await?;
        let state = self.staking_state().await?;
        let deadline = status.expected_end_ms();
        Ok(g.proposals
            .iter()
            .map(|p| ProposalStatus::new(p, state.n_shards, deadline))
            .collect())
    }

    /// A `governance::*_change` value built in the transaction.
    fn change_arg(&self, b: &mut TransactionBuilder, change: &ParameterChange) -> Argument {
        let (function, value) = match *change {
            ParameterChange::EpochDuration(v) => ("epoch_duration_change", b.pure(&v)),
            ParameterChange::MaxEpochsAhead(v) => ("max_epochs_ahead_change", b.pure(&v)),
            ParameterChange::ActiveSetSize(v) => ("active_set_size_change", b.pure(&v)),
            ParameterChange::SystemSubsidyRate(v) => ("system_subsidy_rate_change", b.pure(&v)),
            ParameterChange::BaseSubsidy(v) => ("base_subsidy_change", b.pure(&v)),
            ParameterChange::SubsidyPerShard(v) => ("subsidy_per_shard_change", b.pure(&v)),
        };
        self.floe(b, "governance", function, vec![value])
    }

    fn staking_call(&self, name: &'static str) -> Function {
        Function::new(
            self.ids.floe_package,
            Identifier::from_static("staking"),
            Identifier::from_static(name),
        )
    }

    /// `staking::propose_parameter_change` for `node_id` (the signer acts
    /// as its governance authority through `auth`); the proposer's vote for
    /// is counted. The proposal id is in the `ProposalCreated` event
    /// ([`created_proposal`]).
    pub async fn propose_parameter_change(
        &self,
        key: &KeyPair,
        node_id: ObjectId,
        auth: AuthWith,
        change: &ParameterChange,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let input = self.client.object_input(self.ids.staking, true).await?;
        let staking = b.object(input);
        let system = self.system_arg(&mut b, false).await?;
        let node = b.pure(&to_address(node_id));
        let auth = self.auth_arg(&mut b, auth).await?;
        let change = self.change_arg(&mut b, change);
        b.move_call(
            self.staking_call("propose_parameter_change"),
            vec![staking, system, node, auth, change],
        );
        self.run(key, b).await
    }

    /// `staking::vote_on_parameter_change`: `node_id`'s shards for or
    /// against `proposal_id`.
    pub async fn vote_on_parameter_change(
        &self,
        key: &KeyPair,
        node_id: ObjectId,
        auth: AuthWith,
        proposal_id: u64,
        in_favor: bool,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let input = self.client.object_input(self.ids.staking, true).await?;
        let staking = b.object(input);
        let node = b.pure(&to_address(node_id));
        let auth = self.auth_arg(&mut b, auth).await?;
        let id = b.pure(&proposal_id);
        let in_favor = b.pure(&in_favor);
        b.move_call(
            self.staking_call("vote_on_parameter_change"),
            vec![staking, node, auth, id, in_favor],
        );
        self.run(key, b).await
    }
}

/// The id of the proposal `tx` created, from its `ProposalCreated` event.
pub fn created_proposal(floe: &Floe, tx: &ExecutedTx) -> Option<u64> {
    let tag = floe.ids.floe_tag("governance", "ProposalCreated");
    tx.events
        .iter()
        .find(|e| e.type_ == tag)
        .and_then(|e| bcs::from_bytes::<ProposalCreated>(&e.contents).ok())
        .map(|e| e.proposal_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_weight_is_the_least_quorum() {
        for n in 1..=1000u16 {
            let q = quorum_weight(n);
            assert!(is_quorum(q, n), "{q} of {n}");
            assert!(!is_quorum(q - 1, n), "{} of {n}", q - 1);
        }
        assert_eq!(quorum_weight(10), 7);
        assert_eq!(quorum_weight(12), 9);
    }
}
