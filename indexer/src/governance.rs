//! Governance and subsidy events to rows (migration 0005), with no I/O.
//!
//! Works on the typed events of the one decoding (`floe_chain::events`);
//! texts (node ids, digests, parameter values) are written as the event
//! JSON of the `events` table writes them. Proposal ids and statuses are
//! the spec's:
//!
//! | kind | id | statuses |
//! |---|---|---|
//! | parameter | `parameter-<id>` | open, passed, applied, expired |
//! | upgrade | `upgrade-<epoch>-<digest hex>` | open, quorum, authorized, upgraded, expired |
//! | slashing | `slashing-<epoch>-<candidate 0x hex>` | open, quorum, executed, expired |
//!
//! A governance or subsidy event that does not decode (an error of the
//! decoding, before this module), or carries a number its column cannot
//! hold, stops the pipeline rather than index a vote or a payment wrongly.

use std::collections::BTreeMap;

use floe_chain::FloeEvent;
use floe_core::move_types::{
    ContractUpgradeProposed, ContractUpgradeQuorumReached, NodeSlashed, ParameterChange,
    SlashingQuorumReached,
};
use serde_json::{Value, json};

use crate::decode::json_u64;

/// One proposal's changes in a batch; `None` fields are left as they are.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProposalPatch {
    pub kind: &'static str,
    /// The proposal's own epoch (not the epoch an outcome happened in).
    pub epoch: Option<i32>,
    /// What is proposed, as JSON text (parameter and value, digest,
    /// candidate).
    pub payload: Option<String>,
    pub proposer: Option<String>,
    pub status: Option<&'static str>,
    pub votes_for: Option<i32>,
    pub votes_against: Option<i32>,
    /// How it ended, as a JSON object merged into the row's.
    pub outcome: Option<Value>,
    pub outcome_ms: Option<i64>,
    /// Position and time of the first fact about it in this batch.
    pub created_pos: i64,
    pub created_ms: Option<i64>,
    /// Position of the last fact folded in.
    pub pos: i64,
}

impl ProposalPatch {
    fn fold(&mut self, later: ProposalPatch) {
        self.epoch = self.epoch.or(later.epoch);
        self.payload = later.payload.or(self.payload.take());
        self.proposer = self.proposer.take().or(later.proposer);
        self.status = later.status.or(self.status);
        self.votes_for = later.votes_for.or(self.votes_for);
        self.votes_against = later.votes_against.or(self.votes_against);
        self.outcome = match (self.outcome.take(), later.outcome) {
            (Some(Value::Object(mut a)), Some(Value::Object(b))) => {
                a.extend(b);
                Some(Value::Object(a))
            }
            (a, b) => b.or(a),
        };
        self.outcome_ms = later.outcome_ms.or(self.outcome_ms);
        self.pos = later.pos;
    }
}

/// One vote (a fact: the first is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct VoteRow {
    pub weight: i32,
    pub in_favor: bool,
    pub pos: i64,
    pub tx_digest: String,
    pub timestamp_ms: Option<i64>,
}

/// A `ContractUpgraded`: marks the authorized upgrade proposal of the
/// same version `upgraded` (matched in the database, since the
/// authorization may be in an earlier batch).
#[derive(Debug, Clone, PartialEq)]
pub struct UpgradedRow {
    pub epoch: i32,
    pub package_id: String,
    pub version: i64,
    pub pos: i64,
    pub timestamp_ms: Option<i64>,
}

/// One subsidy pool event (a fact keyed by position).
#[derive(Debug, Clone, PartialEq)]
pub struct SubsidyRow {
    pub pos: i64,
    pub kind: &'static str,
    pub epoch: Option<i32>,
    pub node_id: Option<String>,
    pub amount: i64,
    pub future_subsidies: Option<i64>,
    pub pool_balance: Option<i64>,
    pub tx_digest: String,
    pub timestamp_ms: Option<i64>,
}

/// The governance rows of a batch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GovernanceBatch {
    pub proposals: BTreeMap<String, ProposalPatch>,
    pub votes: BTreeMap<(String, String), VoteRow>,
    pub upgraded: Vec<UpgradedRow>,
    /// (epoch, position) of each `EpochChangeStart`: upgrade and slashing
    /// proposals of earlier epochs still open or at quorum expire there.
    pub epoch_starts: Vec<(i32, i64)>,
    pub subsidies: Vec<SubsidyRow>,
}

impl GovernanceBatch {
    pub fn rows(&self) -> usize {
        self.proposals.len()
            + self.votes.len()
            + self.upgraded.len()
            + self.epoch_starts.len()
            + self.subsidies.len()
    }

    fn proposal(&mut self, id: String, patch: ProposalPatch) {
        match self.proposals.get_mut(&id) {
            Some(existing) => existing.fold(patch),
            None => {
                self.proposals.insert(id, patch);
            }
        }
    }

    fn vote(&mut self, proposal: &str, node: String, row: VoteRow) {
        self.votes.entry((proposal.to_owned(), node)).or_insert(row);
    }
}

/// Where an event sits on the chain.
#[derive(Debug, Clone, Copy)]
pub struct EventAt<'a> {
    pub pos: i64,
    pub tx_digest: &'a str,
    pub timestamp_ms: Option<i64>,
}

/// A number the event carries that its column cannot hold: the row would
/// be wrong, so the pipeline stops.
fn long(field: &str, n: u64) -> Result<i64, String> {
    i64::try_from(n).map_err(|_| format!("field {field} is not an integer below 2^63: {n}"))
}

/// `ParameterChange` to the CLI's parameter name and value (numbers above
/// 2^53 as strings, as the event JSON writes them).
fn parameter_change(change: &ParameterChange) -> Value {
    let (parameter, value) = match *change {
        ParameterChange::EpochDuration(v) => ("epoch-duration", json_u64(v)),
        ParameterChange::MaxEpochsAhead(v) => ("max-epochs-ahead", Value::from(v)),
        ParameterChange::ActiveSetSize(v) => ("active-set-size", Value::from(v)),
        ParameterChange::SystemSubsidyRate(v) => ("system-subsidy-rate", Value::from(v)),
        ParameterChange::BaseSubsidy(v) => ("base-subsidy", json_u64(v)),
        ParameterChange::SubsidyPerShard(v) => ("subsidy-per-shard", json_u64(v)),
    };
    json!({ "parameter": parameter, "value": value })
}

/// `0x` + hex, as the event JSON writes a `vector<u8>`.
fn digest_text(digest: &[u8]) -> String {
    format!("0x{}", hex::encode(digest))
}

/// `upgrade-<epoch>-<digest hex>` (the decoder writes `vector<u8>` as
/// `0x` + hex).
pub fn upgrade_id(epoch: i32, digest: &str) -> String {
    format!(
        "upgrade-{epoch}-{}",
        digest.strip_prefix("0x").unwrap_or(digest)
    )
}

pub fn slashing_id(epoch: i32, candidate: &str) -> String {
    format!("slashing-{epoch}-{candidate}")
}

pub fn parameter_id(id: i64) -> String {
    format!("parameter-{id}")
}

/// Folds one decoded floe event into `batch`. Events this module does not
/// index (blobs, staking, `EpochChangeDone`...) are ignored; a value that
/// does not fit its column is an error.
pub fn apply(
    event: &FloeEvent,
    at: EventAt<'_>,
    batch: &mut GovernanceBatch,
) -> Result<(), String> {
    let patch = |kind: &'static str| ProposalPatch {
        kind,
        created_pos: at.pos,
        created_ms: at.timestamp_ms,
        pos: at.pos,
        ..ProposalPatch::default()
    };
    let vote = |weight: u16, in_favor: bool| VoteRow {
        weight: i32::from(weight),
        in_favor,
        pos: at.pos,
        tx_digest: at.tx_digest.to_owned(),
        timestamp_ms: at.timestamp_ms,
    };
    let int = |field: &str, n: u32| {
        i32::try_from(n).map_err(|_| format!("field {field} does not fit 32 bits: {n}"))
    };
    let subsidy = SubsidyRow {
        pos: at.pos,
        kind: "funded",
        epoch: None,
        node_id: None,
        amount: 0,
        future_subsidies: None,
        pool_balance: None,
        tx_digest: at.tx_digest.to_owned(),
        timestamp_ms: at.timestamp_ms,
    };
    match event {
        FloeEvent::EpochChangeStart(e) => {
            batch.epoch_starts.push((int("epoch", e.epoch)?, at.pos));
        }
        FloeEvent::ProposalCreated(e) => batch.proposal(
            parameter_id(long("proposal_id", e.proposal_id)?),
            ProposalPatch {
                epoch: Some(int("epoch", e.epoch)?),
                payload: Some(parameter_change(&e.change).to_string()),
                proposer: Some(e.node_id.to_string()),
                status: Some("open"),
                ..patch("parameter")
            },
        ),
        FloeEvent::ProposalVoted(e) => {
            let id = parameter_id(long("proposal_id", e.proposal_id)?);
            let tally = ProposalPatch {
                epoch: Some(int("epoch", e.epoch)?),
                votes_for: Some(i32::from(e.votes_for)),
                votes_against: Some(i32::from(e.votes_against)),
                ..patch("parameter")
            };
            batch.vote(&id, e.node_id.to_string(), vote(e.weight, e.in_favor));
            batch.proposal(id, tally);
        }
        FloeEvent::ProposalPassed(e) => batch.proposal(
            parameter_id(long("proposal_id", e.proposal_id)?),
            ProposalPatch {
                epoch: Some(int("epoch", e.epoch)?),
                payload: Some(parameter_change(&e.change).to_string()),
                status: Some("passed"),
                ..patch("parameter")
            },
        ),
        // `epoch` is the epoch it took effect in, not the proposal's.
        FloeEvent::ProposalApplied(e) => batch.proposal(
            parameter_id(long("proposal_id", e.proposal_id)?),
            ProposalPatch {
                status: Some("applied"),
                outcome: Some(json!({ "applied_epoch": int("epoch", e.epoch)? })),
                outcome_ms: at.timestamp_ms,
                ..patch("parameter")
            },
        ),
        FloeEvent::ProposalExpired(e) => batch.proposal(
            parameter_id(long("proposal_id", e.proposal_id)?),
            ProposalPatch {
                epoch: Some(int("epoch", e.epoch)?),
                status: Some("expired"),
                votes_for: Some(i32::from(e.votes_for)),
                votes_against: Some(i32::from(e.votes_against)),
                outcome_ms: at.timestamp_ms,
                ..patch("parameter")
            },
        ),
        FloeEvent::ContractUpgradeProposed(ContractUpgradeProposed {
            epoch,
            package_digest,
        })
        | FloeEvent::ContractUpgradeQuorumReached(ContractUpgradeQuorumReached {
            epoch,
            package_digest,
        }) => {
            let epoch = int("epoch", *epoch)?;
            let digest = digest_text(package_digest);
            let proposed = matches!(event, FloeEvent::ContractUpgradeProposed(_));
            batch.proposal(
                upgrade_id(epoch, &digest),
                ProposalPatch {
                    epoch: Some(epoch),
                    payload: Some(json!({ "package_digest": digest }).to_string()),
                    status: Some(if proposed { "open" } else { "quorum" }),
                    ..patch("upgrade")
                },
            );
        }
        FloeEvent::UpgradeVoted(e) => {
            let epoch = int("epoch", e.epoch)?;
            let digest = digest_text(&e.package_digest);
            let id = upgrade_id(epoch, &digest);
            let tally = ProposalPatch {
                epoch: Some(epoch),
                payload: Some(json!({ "package_digest": digest }).to_string()),
                votes_for: Some(i32::from(e.voting_weight)),
                ..patch("upgrade")
            };
            batch.vote(&id, e.node_id.to_string(), vote(e.weight, true));
            batch.proposal(id, tally);
        }
        FloeEvent::UpgradeAuthorized(e) => {
            let epoch = int("epoch", e.epoch)?;
            let digest = digest_text(&e.package_digest);
            batch.proposal(
                upgrade_id(epoch, &digest),
                ProposalPatch {
                    epoch: Some(epoch),
                    payload: Some(json!({ "package_digest": digest }).to_string()),
                    status: Some("authorized"),
                    outcome: Some(json!({
                        "version": long("version", e.version)?,
                        "emergency": e.emergency,
                    })),
                    outcome_ms: at.timestamp_ms,
                    ..patch("upgrade")
                },
            );
        }
        FloeEvent::ContractUpgraded(e) => batch.upgraded.push(UpgradedRow {
            epoch: int("epoch", e.epoch)?,
            package_id: e.package_id.to_string(),
            version: long("version", e.version)?,
            pos: at.pos,
            timestamp_ms: at.timestamp_ms,
        }),
        FloeEvent::SlashingVoted(e) => {
            let epoch = int("epoch", e.epoch)?;
            let candidate = e.candidate.to_string();
            let id = slashing_id(epoch, &candidate);
            let tally = ProposalPatch {
                epoch: Some(epoch),
                payload: Some(json!({ "candidate": candidate }).to_string()),
                votes_for: Some(i32::from(e.voting_weight)),
                ..patch("slashing")
            };
            batch.vote(&id, e.node_id.to_string(), vote(e.weight, true));
            batch.proposal(id, tally);
        }
        FloeEvent::SlashingQuorumReached(SlashingQuorumReached { epoch, candidate })
        | FloeEvent::NodeSlashed(NodeSlashed {
            epoch, candidate, ..
        }) => {
            let epoch = int("epoch", *epoch)?;
            let candidate = candidate.to_string();
            let burnt = match event {
                FloeEvent::NodeSlashed(e) => Some(long("amount", e.amount)?),
                _ => None,
            };
            batch.proposal(
                slashing_id(epoch, &candidate),
                ProposalPatch {
                    epoch: Some(epoch),
                    payload: Some(json!({ "candidate": candidate }).to_string()),
                    status: Some(if burnt.is_some() {
                        "executed"
                    } else {
                        "quorum"
                    }),
                    outcome: burnt.map(|burnt| json!({ "burnt": burnt })),
                    outcome_ms: burnt.and(at.timestamp_ms),
                    ..patch("slashing")
                },
            );
        }
        FloeEvent::SubsidiesFunded(e) => batch.subsidies.push(SubsidyRow {
            amount: long("amount", e.amount)?,
            pool_balance: Some(long("pool_balance", e.pool_balance)?),
            ..subsidy
        }),
        FloeEvent::NodeSubsidized(e) => batch.subsidies.push(SubsidyRow {
            kind: "node",
            epoch: Some(int("epoch", e.epoch)?),
            node_id: Some(e.node_id.to_string()),
            amount: long("amount", e.amount)?,
            ..subsidy
        }),
        FloeEvent::SubsidiesPaid(e) => batch.subsidies.push(SubsidyRow {
            kind: "paid",
            epoch: Some(int("epoch", e.epoch)?),
            amount: long("node_subsidies", e.node_subsidies)?,
            future_subsidies: Some(long("future_subsidies", e.future_subsidies)?),
            pool_balance: Some(long("pool_balance", e.pool_balance)?),
            ..subsidy
        }),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use floe_core::move_types::*;

    use super::*;

    const NODE_A: &str = "0x00000000000000000000000000000000000000000000000000000000000000aa";
    const NODE_B: &str = "0x00000000000000000000000000000000000000000000000000000000000000bb";

    fn id(text: &str) -> ObjectId {
        text.parse().unwrap()
    }

    fn at(pos: i64) -> EventAt<'static> {
        EventAt {
            pos,
            tx_digest: "D1",
            timestamp_ms: Some(pos * 10),
        }
    }

    fn feed(batch: &mut GovernanceBatch, events: &[FloeEvent]) {
        for (i, event) in events.iter().enumerate() {
            apply(event, at(i as i64 + 1), batch)
                .unwrap_or_else(|e| panic!("{}: {e}", event.name()));
        }
    }

    #[test]
    fn parameter_proposal_life() {
        let change = ParameterChange::EpochDuration(15000);
        let mut b = GovernanceBatch::default();
        feed(
            &mut b,
            &[
                FloeEvent::ProposalCreated(ProposalCreated {
                    epoch: 2,
                    proposal_id: 0,
                    node_id: id(NODE_A),
                    change,
                }),
                FloeEvent::ProposalVoted(ProposalVoted {
                    epoch: 2,
                    proposal_id: 0,
                    node_id: id(NODE_A),
                    in_favor: true,
                    weight: 3,
                    votes_for: 3,
                    votes_against: 0,
                }),
                FloeEvent::ProposalVoted(ProposalVoted {
                    epoch: 2,
                    proposal_id: 0,
                    node_id: id(NODE_B),
                    in_favor: false,
                    weight: 2,
                    votes_for: 3,
                    votes_against: 2,
                }),
                FloeEvent::ProposalPassed(ProposalPassed {
                    epoch: 2,
                    proposal_id: 0,
                    change,
                }),
                FloeEvent::ProposalApplied(ProposalApplied {
                    epoch: 3,
                    proposal_id: 0,
                    change,
                }),
            ],
        );
        let p = &b.proposals["parameter-0"];
        assert_eq!(p.kind, "parameter");
        assert_eq!(p.epoch, Some(2), "Applied's epoch is not the proposal's");
        assert_eq!(p.status, Some("applied"));
        assert_eq!((p.votes_for, p.votes_against), (Some(3), Some(2)));
        assert_eq!(p.proposer.as_deref(), Some(NODE_A));
        assert_eq!(
            p.payload.as_deref(),
            Some(r#"{"parameter":"epoch-duration","value":15000}"#)
        );
        assert_eq!(p.outcome, Some(json!({"applied_epoch": 3})));
        assert_eq!((p.created_pos, p.pos), (1, 5));
        assert_eq!(b.votes.len(), 2);
        let against = &b.votes[&("parameter-0".to_owned(), NODE_B.to_owned())];
        assert!(!against.in_favor);
        assert_eq!((against.weight, against.pos), (2, 3));
    }

    #[test]
    fn parameter_values_are_written_as_the_event_json_writes_them() {
        let big = ParameterChange::BaseSubsidy((1 << 53) + 1);
        assert_eq!(
            parameter_change(&big).to_string(),
            r#"{"parameter":"base-subsidy","value":"9007199254740993"}"#
        );
        assert_eq!(
            parameter_change(&ParameterChange::ActiveSetSize(7)).to_string(),
            r#"{"parameter":"active-set-size","value":7}"#
        );
    }

    #[test]
    fn upgrade_votes_quorum_authorization_and_commit() {
        let mut b = GovernanceBatch::default();
        let digest = vec![0xab, 0xcd];
        feed(
            &mut b,
            &[
                FloeEvent::ContractUpgradeProposed(ContractUpgradeProposed {
                    epoch: 4,
                    package_digest: digest.clone(),
                }),
                FloeEvent::UpgradeVoted(UpgradeVoted {
                    epoch: 4,
                    package_digest: digest.clone(),
                    node_id: id(NODE_A),
                    weight: 5,
                    voting_weight: 5,
                }),
                FloeEvent::UpgradeVoted(UpgradeVoted {
                    epoch: 4,
                    package_digest: digest.clone(),
                    node_id: id(NODE_B),
                    weight: 3,
                    voting_weight: 8,
                }),
                FloeEvent::ContractUpgradeQuorumReached(ContractUpgradeQuorumReached {
                    epoch: 4,
                    package_digest: digest.clone(),
                }),
                FloeEvent::UpgradeAuthorized(UpgradeAuthorized {
                    epoch: 4,
                    package_digest: digest.clone(),
                    version: 2,
                    emergency: false,
                }),
                FloeEvent::ContractUpgraded(ContractUpgraded {
                    epoch: 4,
                    package_id: id(NODE_B),
                    version: 2,
                }),
            ],
        );
        let p = &b.proposals["upgrade-4-abcd"];
        assert_eq!(p.kind, "upgrade");
        assert_eq!(p.status, Some("authorized"));
        assert_eq!(p.votes_for, Some(8));
        assert_eq!(p.payload.as_deref(), Some(r#"{"package_digest":"0xabcd"}"#));
        assert_eq!(p.outcome, Some(json!({"version": 2, "emergency": false})));
        assert_eq!(b.votes.len(), 2);
        assert!(b.votes.values().all(|v| v.in_favor));
        assert_eq!(
            b.upgraded,
            vec![UpgradedRow {
                epoch: 4,
                package_id: NODE_B.into(),
                version: 2,
                pos: 6,
                timestamp_ms: Some(60)
            }]
        );
    }

    #[test]
    fn slashing_votes_and_execution() {
        let mut b = GovernanceBatch::default();
        let c = "0x00000000000000000000000000000000000000000000000000000000000000cc";
        feed(
            &mut b,
            &[
                FloeEvent::SlashingVoted(SlashingVoted {
                    epoch: 7,
                    candidate: id(c),
                    node_id: id(NODE_A),
                    weight: 6,
                    voting_weight: 6,
                }),
                FloeEvent::SlashingVoted(SlashingVoted {
                    epoch: 7,
                    candidate: id(c),
                    node_id: id(NODE_B),
                    weight: 2,
                    voting_weight: 8,
                }),
                FloeEvent::SlashingQuorumReached(SlashingQuorumReached {
                    epoch: 7,
                    candidate: id(c),
                }),
                FloeEvent::NodeSlashed(NodeSlashed {
                    epoch: 7,
                    candidate: id(c),
                    amount: 9_007_199_254_740_993,
                }),
                FloeEvent::EpochChangeStart(EpochChangeStart { epoch: 8 }),
            ],
        );
        let p = &b.proposals[&format!("slashing-7-{c}")];
        assert_eq!(p.status, Some("executed"));
        assert_eq!(p.votes_for, Some(8));
        assert_eq!(p.created_pos, 1);
        assert_eq!(p.outcome, Some(json!({"burnt": 9_007_199_254_740_993i64})));
        assert_eq!(p.outcome_ms, Some(40));
        assert_eq!(b.epoch_starts, vec![(8, 5)]);
    }

    #[test]
    fn subsidy_payments() {
        let mut b = GovernanceBatch::default();
        feed(
            &mut b,
            &[
                FloeEvent::SubsidiesFunded(SubsidiesFunded {
                    amount: 1000,
                    pool_balance: 1000,
                }),
                FloeEvent::NodeSubsidized(NodeSubsidized {
                    epoch: 3,
                    node_id: id(NODE_A),
                    amount: 40,
                }),
                FloeEvent::NodeSubsidized(NodeSubsidized {
                    epoch: 3,
                    node_id: id(NODE_B),
                    amount: 60,
                }),
                FloeEvent::SubsidiesPaid(SubsidiesPaid {
                    epoch: 3,
                    node_subsidies: 100,
                    future_subsidies: 25,
                    pool_balance: 875,
                }),
            ],
        );
        let kinds: Vec<_> = b.subsidies.iter().map(|r| (r.kind, r.amount)).collect();
        assert_eq!(
            kinds,
            vec![("funded", 1000), ("node", 40), ("node", 60), ("paid", 100)]
        );
        let paid = &b.subsidies[3];
        assert_eq!(
            (paid.epoch, paid.future_subsidies, paid.pool_balance),
            (Some(3), Some(25), Some(875))
        );
        assert_eq!(b.subsidies[1].node_id.as_deref(), Some(NODE_A));
        assert_eq!(b.subsidies[0].pool_balance, Some(1000));
    }

    #[test]
    fn values_beyond_their_columns_are_errors() {
        let mut b = GovernanceBatch::default();
        let e = apply(
            &FloeEvent::SubsidiesFunded(SubsidiesFunded {
                amount: u64::MAX,
                pool_balance: 1,
            }),
            at(1),
            &mut b,
        )
        .unwrap_err();
        assert!(e.contains("amount"), "{e}");
        let e = apply(
            &FloeEvent::NodeSubsidized(NodeSubsidized {
                epoch: u32::MAX,
                node_id: id(NODE_A),
                amount: 1,
            }),
            at(1),
            &mut b,
        )
        .unwrap_err();
        assert!(e.contains("epoch"), "{e}");
        assert_eq!(b.rows(), 0, "nothing half-applied");
        // Events of other kinds are not this module's concern.
        apply(
            &FloeEvent::PricesUpdated(PricesUpdated {
                epoch: 1,
                storage_price: 1,
                write_price: 1,
            }),
            at(1),
            &mut b,
        )
        .unwrap();
        assert_eq!(b.rows(), 0);
    }
}
