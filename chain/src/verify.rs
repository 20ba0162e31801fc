//! Checking a served checkpoint against the validator committee, so a
//! follower does not have to trust the RPC endpoint it reads from.
//!
//! A checkpoint is accepted only when every part a follower acts on is
//! bound to the committee's signature:
//! - the summary carries a quorum certificate of the committee
//!   (BLS12-381 min-sig aggregate over Sui's intent message);
//! - the served digest is the summary's;
//! - the contents hash to the summary's `content_digest`, and list exactly
//!   the served transactions, in order, each with the digest of its data
//!   and of its effects;
//! - each transaction's events hash to its effects' `events_digest`;
//! - each object carried with the checkpoint is a version some effects
//!   name (written, read as a consensus object, or an input), by digest.
//!
//! A summary that ends an epoch names the next committee; the verifier
//! moves to it, as a Sui light client does.

use std::collections::HashSet;

use sui_crypto::bls12381::ValidatorCommitteeSignatureVerifier;
use sui_sdk_types::{
    Address, Digest, ObjectIn, ObjectOut, TransactionEffects, TransactionEvents,
    UnchangedConsensusKind, ValidatorCommittee,
};

use crate::types::Checkpoint;

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("checkpoint {sequence_number} is not certified by the committee: {reason}")]
pub struct VerifyError {
    /// The checkpoint.
    pub sequence_number: u64,
    /// What did not match.
    pub reason: String,
}

/// Verifies checkpoints in order against the committee of their epoch.
#[derive(Debug)]
pub struct CheckpointVerifier {
    verifier: ValidatorCommitteeSignatureVerifier,
}

impl CheckpointVerifier {
    /// A verifier trusting `committee` (the genesis committee, or one the
    /// operator pinned).
    pub fn new(committee: ValidatorCommittee) -> Result<Self, String> {
        ValidatorCommitteeSignatureVerifier::new(committee)
            .map(|verifier| Self { verifier })
            .map_err(|e| format!("unusable validator committee: {e}"))
    }

    /// The committee checkpoints are verified against now.
    pub fn committee(&self) -> &ValidatorCommittee {
        self.verifier.committee()
    }

    /// Checks `checkpoint`; on success, an epoch-ending one moves the
    /// verifier to the next committee.
    pub fn verify(&mut self, checkpoint: &Checkpoint) -> Result<(), VerifyError> {
        let fail = |reason: String| VerifyError {
            sequence_number: checkpoint.sequence_number,
            reason,
        };
        let summary = checkpoint
            .summary
            .as_ref()
            .ok_or_else(|| fail("no summary was served".into()))?;
        let signature = checkpoint
            .signature
            .as_ref()
            .ok_or_else(|| fail("no signature was served".into()))?;
        self.verifier
            .verify_checkpoint_summary(summary, signature)
            .map_err(|e| fail(format!("bad signature: {e}")))?;
        if let Some(digest) = checkpoint.digest
            && digest != summary.digest()
        {
            return Err(fail(format!(
                "digest {digest} is not the summary's {}",
                summary.digest()
            )));
        }
        let contents = checkpoint
            .contents
            .as_ref()
            .ok_or_else(|| fail("no contents were served".into()))?;
        if contents.digest() != summary.content_digest {
            return Err(fail("contents do not match the summary".into()));
        }
        let listed = contents.transactions();
        if listed.len() != checkpoint.transactions.len() {
            return Err(fail(format!(
                "{} transactions served, {} certified",
                checkpoint.transactions.len(),
                listed.len()
            )));
        }
        let mut versions: HashSet<(Address, u64, Digest)> = HashSet::new();
        for (i, (tx, info)) in checkpoint.transactions.iter().zip(listed).enumerate() {
            if tx.digest != *info.transaction() {
                return Err(fail(format!("transaction {i} is not the certified one")));
            }
            if let Some(data) = &tx.transaction
                && data.digest() != tx.digest
            {
                return Err(fail(format!(
                    "transaction {i}'s data do not match its digest"
                )));
            }
            if tx.effects.digest() != *info.effects() {
                return Err(fail(format!(
                    "transaction {i}'s effects are not the certified ones"
                )));
            }
            let events_digest = tx.effects.events_digest().copied();
            let served =
                (!tx.events.is_empty()).then(|| TransactionEvents(tx.events.clone()).digest());
            if served != events_digest {
                return Err(fail(format!(
                    "transaction {i}'s events are not the certified ones"
                )));
            }
            collect_versions(&tx.effects, &mut versions);
        }
        for object in &checkpoint.objects {
            let key = (object.object_id(), object.version(), object.digest());
            if !versions.contains(&key) {
                return Err(fail(format!(
                    "object {} version {} is not named by the certified effects",
                    key.0, key.1
                )));
            }
        }
        if let Some(end) = &summary.end_of_epoch_data {
            let next = ValidatorCommittee {
                epoch: summary.epoch + 1,
                members: end.next_epoch_committee.clone(),
            };
            self.verifier = ValidatorCommitteeSignatureVerifier::new(next)
                .map_err(|e| fail(format!("unusable next committee: {e}")))?;
        }
        Ok(())
    }
}

/// Every (object, version, digest) the effects vouch for: inputs, outputs
/// (at the lamport version) and consensus objects read.
fn collect_versions(effects: &TransactionEffects, out: &mut HashSet<(Address, u64, Digest)>) {
    let TransactionEffects::V2(v2) = effects else {
        return;
    };
    for changed in &v2.changed_objects {
        if let ObjectIn::Exist {
            version, digest, ..
        } = &changed.input_state
        {
            out.insert((changed.object_id, *version, *digest));
        }
        match &changed.output_state {
            ObjectOut::ObjectWrite { digest, .. } => {
                out.insert((changed.object_id, v2.lamport_version, *digest));
            }
            ObjectOut::PackageWrite { version, digest } => {
                out.insert((changed.object_id, *version, *digest));
            }
            _ => {}
        }
    }
    for unchanged in &v2.unchanged_consensus_objects {
        if let UnchangedConsensusKind::ReadOnlyRoot { version, digest } = &unchanged.kind {
            out.insert((unchanged.object_id, *version, *digest));
        }
    }
}
