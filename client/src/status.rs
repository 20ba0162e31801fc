//! Blob status as nodes report it (Walrus's `BlobStatus` JSON) and how the
//! client turns many, possibly lying, reports into one answer: a status
//! reported by nodes holding at least `f + 1` shards (validity: at least
//! one of them is honest) is accepted.

use serde::{Deserialize, Serialize};

/// Counts of deletable blob objects for a blob id. Walrus writes these two
/// fields in snake_case (unlike the rest of `BlobStatus`); the camelCase
/// spelling older floe nodes used is accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct DeletableCounts {
    /// Live deletable `Blob` objects.
    #[serde(default, alias = "countDeletableTotal")]
    pub count_deletable_total: u32,
    /// Of those, certified.
    #[serde(default, alias = "countDeletableCertified")]
    pub count_deletable_certified: u32,
}

/// One node's view of a blob id (`GET /v1/blobs/{id}/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeBlobStatus {
    /// No live registration.
    Nonexistent,
    /// Marked invalid by an f + 1 attestation.
    Invalid {},
    /// At least one permanent `Blob` is registered.
    #[serde(rename_all = "camelCase")]
    Permanent {
        end_epoch: u32,
        is_certified: bool,
        #[serde(default)]
        deletable_counts: DeletableCounts,
        #[serde(default)]
        initial_certified_epoch: Option<u32>,
    },
    /// Only deletable `Blob`s are registered.
    #[serde(rename_all = "camelCase")]
    Deletable {
        #[serde(default)]
        initial_certified_epoch: Option<u32>,
        #[serde(default)]
        deletable_counts: DeletableCounts,
    },
}

impl NodeBlobStatus {
    /// Whether a certified copy exists that lives past `epoch` (permanent
    /// until its end epoch, or any certified deletable object).
    pub fn is_certified(&self) -> bool {
        match self {
            NodeBlobStatus::Permanent { is_certified, .. } => *is_certified,
            NodeBlobStatus::Deletable {
                deletable_counts, ..
            } => deletable_counts.count_deletable_certified > 0,
            _ => false,
        }
    }

    /// End epoch of the permanent registration, if any.
    pub fn end_epoch(&self) -> Option<u32> {
        match self {
            NodeBlobStatus::Permanent { end_epoch, .. } => Some(*end_epoch),
            _ => None,
        }
    }
}

/// Collects `(weight, status)` answers and decides once one status has
/// validity weight (`3w >= n + 1`).
#[derive(Debug)]
pub struct StatusTally {
    n_shards: u16,
    answers: Vec<(NodeBlobStatus, u32)>,
    answered_weight: u32,
}

impl StatusTally {
    /// A tally for a committee of `n_shards`.
    pub fn new(n_shards: u16) -> Self {
        Self {
            n_shards,
            answers: Vec::new(),
            answered_weight: 0,
        }
    }

    /// Adds one node's answer; returns the status once it is agreed by
    /// validity weight.
    pub fn add(&mut self, weight: u16, status: NodeBlobStatus) -> Option<NodeBlobStatus> {
        let weight = u32::from(weight);
        self.answered_weight += weight;
        let entry = match self.answers.iter_mut().find(|(s, _)| *s == status) {
            Some(entry) => {
                entry.1 += weight;
                entry
            }
            None => {
                self.answers.push((status, weight));
                self.answers.last_mut().expect("just pushed")
            }
        };
        floe_core::committee::is_validity(entry.1, u32::from(self.n_shards)).then_some(entry.0)
    }

    /// When no single status reached validity (nodes disagree, e.g. while
    /// they catch up with the chain): the most certified answer that some
    /// honest node must share is unknown, so report the most common one.
    pub fn best_effort(&self) -> Option<NodeBlobStatus> {
        self.answers.iter().max_by_key(|(_, w)| *w).map(|(s, _)| *s)
    }

    /// Weight that answered at all.
    pub fn answered_weight(&self) -> u32 {
        self.answered_weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_node_json() {
        let s: NodeBlobStatus = serde_json::from_str(r#""nonexistent""#).unwrap();
        assert_eq!(s, NodeBlobStatus::Nonexistent);
        let s: NodeBlobStatus = serde_json::from_str(r#"{"invalid":{"event":null}}"#).unwrap();
        assert_eq!(s, NodeBlobStatus::Invalid {});
        let s: NodeBlobStatus = serde_json::from_str(
            r#"{"permanent":{"endEpoch":5,"isCertified":true,"statusEvent":null,
                "deletableCounts":{"countDeletableTotal":1,"countDeletableCertified":0},
                "initialCertifiedEpoch":2}}"#,
        )
        .unwrap();
        assert_eq!(s.end_epoch(), Some(5));
        assert!(s.is_certified());
        let s: NodeBlobStatus = serde_json::from_str(
            r#"{"deletable":{"initialCertifiedEpoch":null,
                "deletableCounts":{"count_deletable_total":2,"count_deletable_certified":1}}}"#,
        )
        .unwrap();
        assert!(s.is_certified());
        assert_eq!(s.end_epoch(), None);
    }

    #[test]
    fn a_lying_minority_cannot_decide() {
        // n = 10, f = 3: validity is 4 shards.
        let mut tally = StatusTally::new(10);
        let truth = NodeBlobStatus::Permanent {
            end_epoch: 3,
            is_certified: true,
            deletable_counts: DeletableCounts::default(),
            initial_certified_epoch: Some(0),
        };
        let lie = NodeBlobStatus::Nonexistent;
        assert_eq!(tally.add(3, lie), None, "3 shards are below validity");
        assert_eq!(tally.add(1, truth), None);
        assert_eq!(tally.add(2, truth), None);
        assert_eq!(tally.add(1, truth), Some(truth), "4 shards agree");
        assert_eq!(tally.answered_weight(), 7);
        assert_eq!(tally.best_effort(), Some(truth));
    }
}
