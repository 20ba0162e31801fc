//! Governance and subsidy events to rows (migration 0005), with no I/O.
//!
//! Works on the JSON the registry decodes (`crate::decode`), by the field
//! names of the events spec, so this module needs no Rust mirror of an
//! event: a new event only has to be registered to be decoded. Proposal
//! ids and statuses are the spec's:
//!
//! | kind | id | statuses |
//! |---|---|---|
//! | parameter | `parameter-<id>` | open, passed, applied, expired |
//! | upgrade | `upgrade-<epoch>-<digest hex>` | open, quorum, authorized, upgraded, expired |
//! | slashing | `slashing-<epoch>-<candidate 0x hex>` | open, quorum, executed, expired |
//!
//! Unlike the blob events (where a missing field leaves a column alone),
//! a governance or subsidy event that does not decode, or lacks a field
//! the spec promises, is an error: the pipeline stops rather than index a
//! vote or a payment wrongly.

use std::collections::BTreeMap;

use serde_json::{Value, json};

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

/// Whether `module::name` is an event this module indexes (so that one
/// without a decoded layout is an error, not a silent skip).
pub fn is_governance_event(module: &str, name: &str) -> bool {
    matches!(
        (module, name),
        (
            "governance",
            "ProposalCreated"
                | "ProposalVoted"
                | "ProposalPassed"
                | "ProposalApplied"
                | "ProposalExpired"
        ) | (
            "events",
            "ContractUpgradeProposed" | "ContractUpgradeQuorumReached" | "ContractUpgraded"
        ) | ("upgrade", "UpgradeVoted" | "UpgradeAuthorized")
            | (
                "slashing",
                "SlashingVoted" | "SlashingQuorumReached" | "NodeSlashed"
            )
            | (
                "subsidies",
                "SubsidiesFunded" | "NodeSubsidized" | "SubsidiesPaid"
            )
    )
}

/// The fields of one decoded event, read strictly.
struct Fields<'a>(&'a Value);

impl Fields<'_> {
    fn get(&self, k: &str) -> Result<&Value, String> {
        self.0
            .get(k)
            .filter(|v| !v.is_null())
            .ok_or_else(|| format!("field {k} is missing"))
    }

    /// An unsigned integer (a JSON number, or a string above 2^53) that
    /// fits a BIGINT.
    fn long(&self, k: &str) -> Result<i64, String> {
        let v = self.get(k)?;
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse::<u64>().ok(),
            _ => None,
        };
        n.and_then(|n| i64::try_from(n).ok())
            .ok_or_else(|| format!("field {k} is not an integer below 2^63: {v}"))
    }

    fn int(&self, k: &str) -> Result<i32, String> {
        let n = self.long(k)?;
        i32::try_from(n).map_err(|_| format!("field {k} does not fit 32 bits: {n}"))
    }

    fn text(&self, k: &str) -> Result<String, String> {
        self.get(k)?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("field {k} is not text"))
    }

    fn boolean(&self, k: &str) -> Result<bool, String> {
        self.get(k)?
            .as_bool()
            .ok_or_else(|| format!("field {k} is not a bool"))
    }
}

/// `ParameterChange` as the registry decodes it (`{"variant", "fields":
/// {"pos0"}}`) to the CLI's parameter name and value.
fn parameter_change(change: &Value) -> Result<Value, String> {
    let variant = change
        .get("variant")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("change is not a ParameterChange: {change}"))?;
    let parameter = match variant {
        "EpochDuration" => "epoch-duration",
        "MaxEpochsAhead" => "max-epochs-ahead",
        "ActiveSetSize" => "active-set-size",
        "SystemSubsidyRate" => "system-subsidy-rate",
        "BaseSubsidy" => "base-subsidy",
        "SubsidyPerShard" => "subsidy-per-shard",
        other => return Err(format!("unknown ParameterChange variant {other}")),
    };
    let value = change
        .get("fields")
        .and_then(|f| f.get("pos0"))
        .filter(|v| v.is_number() || v.is_string())
        .ok_or_else(|| format!("change has no value: {change}"))?;
    Ok(json!({ "parameter": parameter, "value": value }))
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

/// Folds one floe event into `batch`. Events this module does not index
/// (blobs, staking, `EpochChangeDone`...) are ignored; the ones it does
/// index must come decoded (`fields`) and complete.
pub fn apply(
    module: &str,
    name: &str,
    fields: Option<&Value>,
    at: EventAt<'_>,
    batch: &mut GovernanceBatch,
) -> Result<(), String> {
    if module == "events" && name == "EpochChangeStart" {
        if let Some(f) = fields {
            batch.epoch_starts.push((Fields(f).int("epoch")?, at.pos));
        }
        return Ok(());
    }
    if !is_governance_event(module, name) {
        return Ok(());
    }
    let f = Fields(fields.ok_or_else(|| {
        format!("{module}::{name} has no registered layout, so it cannot be decoded")
    })?);
    let patch = |kind: &'static str| ProposalPatch {
        kind,
        created_pos: at.pos,
        created_ms: at.timestamp_ms,
        pos: at.pos,
        ..ProposalPatch::default()
    };
    let vote = |weight: i32, in_favor: bool| VoteRow {
        weight,
        in_favor,
        pos: at.pos,
        tx_digest: at.tx_digest.to_owned(),
        timestamp_ms: at.timestamp_ms,
    };
    match name {
        "ProposalCreated" => {
            let id = parameter_id(f.long("proposal_id")?);
            batch.proposal(
                id,
                ProposalPatch {
                    epoch: Some(f.int("epoch")?),
                    payload: Some(parameter_change(f.get("change")?)?.to_string()),
                    proposer: Some(f.text("node_id")?),
                    status: Some("open"),
                    ..patch("parameter")
                },
            );
        }
        "ProposalVoted" => {
            let id = parameter_id(f.long("proposal_id")?);
            let row = vote(f.int("weight")?, f.boolean("in_favor")?);
            let tally = ProposalPatch {
                epoch: Some(f.int("epoch")?),
                votes_for: Some(f.int("votes_for")?),
                votes_against: Some(f.int("votes_against")?),
                ..patch("parameter")
            };
            batch.vote(&id, f.text("node_id")?, row);
            batch.proposal(id, tally);
        }
        "ProposalPassed" => {
            let id = parameter_id(f.long("proposal_id")?);
            batch.proposal(
                id,
                ProposalPatch {
                    epoch: Some(f.int("epoch")?),
                    payload: Some(parameter_change(f.get("change")?)?.to_string()),
                    status: Some("passed"),
                    ..patch("parameter")
                },
            );
        }
        "ProposalApplied" => {
            // `epoch` is the epoch it took effect in, not the proposal's.
            let id = parameter_id(f.long("proposal_id")?);
            batch.proposal(
                id,
                ProposalPatch {
                    status: Some("applied"),
                    outcome: Some(json!({ "applied_epoch": f.int("epoch")? })),
                    outcome_ms: at.timestamp_ms,
                    ..patch("parameter")
                },
            );
        }
        "ProposalExpired" => {
            let id = parameter_id(f.long("proposal_id")?);
            batch.proposal(
                id,
                ProposalPatch {
                    epoch: Some(f.int("epoch")?),
                    status: Some("expired"),
                    votes_for: Some(f.int("votes_for")?),
                    votes_against: Some(f.int("votes_against")?),
                    outcome_ms: at.timestamp_ms,
                    ..patch("parameter")
                },
            );
        }
        "ContractUpgradeProposed" | "ContractUpgradeQuorumReached" => {
            let epoch = f.int("epoch")?;
            let digest = f.text("package_digest")?;
            let proposed = name == "ContractUpgradeProposed";
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
        "UpgradeVoted" => {
            let epoch = f.int("epoch")?;
            let digest = f.text("package_digest")?;
            let id = upgrade_id(epoch, &digest);
            let (node, row) = (f.text("node_id")?, vote(f.int("weight")?, true));
            let tally = ProposalPatch {
                epoch: Some(epoch),
                payload: Some(json!({ "package_digest": digest }).to_string()),
                votes_for: Some(f.int("voting_weight")?),
                ..patch("upgrade")
            };
            batch.vote(&id, node, row);
            batch.proposal(id, tally);
        }
        "UpgradeAuthorized" => {
            let epoch = f.int("epoch")?;
            let digest = f.text("package_digest")?;
            batch.proposal(
                upgrade_id(epoch, &digest),
                ProposalPatch {
                    epoch: Some(epoch),
                    payload: Some(json!({ "package_digest": digest }).to_string()),
                    status: Some("authorized"),
                    outcome: Some(json!({
                        "version": f.long("version")?,
                        "emergency": f.boolean("emergency")?,
                    })),
                    outcome_ms: at.timestamp_ms,
                    ..patch("upgrade")
                },
            );
        }
        "ContractUpgraded" => batch.upgraded.push(UpgradedRow {
            epoch: f.int("epoch")?,
            package_id: f.text("package_id")?,
            version: f.long("version")?,
            pos: at.pos,
            timestamp_ms: at.timestamp_ms,
        }),
        "SlashingVoted" => {
            let epoch = f.int("epoch")?;
            let candidate = f.text("candidate")?;
            let id = slashing_id(epoch, &candidate);
            let (node, row) = (f.text("node_id")?, vote(f.int("weight")?, true));
            let tally = ProposalPatch {
                epoch: Some(epoch),
                payload: Some(json!({ "candidate": candidate }).to_string()),
                votes_for: Some(f.int("voting_weight")?),
                ..patch("slashing")
            };
            batch.vote(&id, node, row);
            batch.proposal(id, tally);
        }
        "SlashingQuorumReached" | "NodeSlashed" => {
            let epoch = f.int("epoch")?;
            let candidate = f.text("candidate")?;
            let slashed = name == "NodeSlashed";
            batch.proposal(
                slashing_id(epoch, &candidate),
                ProposalPatch {
                    epoch: Some(epoch),
                    payload: Some(json!({ "candidate": candidate }).to_string()),
                    status: Some(if slashed { "executed" } else { "quorum" }),
                    outcome: if slashed {
                        Some(json!({ "burnt": f.long("amount")? }))
                    } else {
                        None
                    },
                    outcome_ms: if slashed { at.timestamp_ms } else { None },
                    ..patch("slashing")
                },
            );
        }
        "SubsidiesFunded" | "NodeSubsidized" | "SubsidiesPaid" => {
            let row = SubsidyRow {
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
            batch.subsidies.push(match name {
                "SubsidiesFunded" => SubsidyRow {
                    amount: f.long("amount")?,
                    pool_balance: Some(f.long("pool_balance")?),
                    ..row
                },
                "NodeSubsidized" => SubsidyRow {
                    kind: "node",
                    epoch: Some(f.int("epoch")?),
                    node_id: Some(f.text("node_id")?),
                    amount: f.long("amount")?,
                    ..row
                },
                _ => SubsidyRow {
                    kind: "paid",
                    epoch: Some(f.int("epoch")?),
                    amount: f.long("node_subsidies")?,
                    future_subsidies: Some(f.long("future_subsidies")?),
                    pool_balance: Some(f.long("pool_balance")?),
                    ..row
                },
            });
        }
        _ => return Err(format!("{module}::{name}: not handled")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE_A: &str = "0x00000000000000000000000000000000000000000000000000000000000000aa";
    const NODE_B: &str = "0x00000000000000000000000000000000000000000000000000000000000000bb";

    fn at(pos: i64) -> EventAt<'static> {
        EventAt {
            pos,
            tx_digest: "D1",
            timestamp_ms: Some(pos * 10),
        }
    }

    fn feed(batch: &mut GovernanceBatch, events: &[(&str, &str, Value)]) {
        for (i, (module, name, fields)) in events.iter().enumerate() {
            apply(module, name, Some(fields), at(i as i64 + 1), batch)
                .unwrap_or_else(|e| panic!("{module}::{name}: {e}"));
        }
    }

    #[test]
    fn parameter_proposal_life() {
        let change = json!({"variant": "EpochDuration", "fields": {"pos0": 15000}});
        let mut b = GovernanceBatch::default();
        feed(
            &mut b,
            &[
                (
                    "governance",
                    "ProposalCreated",
                    json!({"epoch": 2, "proposal_id": 0, "node_id": NODE_A, "change": change}),
                ),
                (
                    "governance",
                    "ProposalVoted",
                    json!({"epoch": 2, "proposal_id": 0, "node_id": NODE_A, "in_favor": true, "weight": 3, "votes_for": 3, "votes_against": 0}),
                ),
                (
                    "governance",
                    "ProposalVoted",
                    json!({"epoch": 2, "proposal_id": 0, "node_id": NODE_B, "in_favor": false, "weight": 2, "votes_for": 3, "votes_against": 2}),
                ),
                (
                    "governance",
                    "ProposalPassed",
                    json!({"epoch": 2, "proposal_id": 0, "change": change}),
                ),
                (
                    "governance",
                    "ProposalApplied",
                    json!({"epoch": 3, "proposal_id": 0, "change": change}),
                ),
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
    fn upgrade_votes_quorum_authorization_and_commit() {
        let mut b = GovernanceBatch::default();
        let digest = "0xabcd";
        feed(
            &mut b,
            &[
                (
                    "events",
                    "ContractUpgradeProposed",
                    json!({"epoch": 4, "package_digest": digest}),
                ),
                (
                    "upgrade",
                    "UpgradeVoted",
                    json!({"epoch": 4, "package_digest": digest, "node_id": NODE_A, "weight": 5, "voting_weight": 5}),
                ),
                (
                    "upgrade",
                    "UpgradeVoted",
                    json!({"epoch": 4, "package_digest": digest, "node_id": NODE_B, "weight": 3, "voting_weight": 8}),
                ),
                (
                    "events",
                    "ContractUpgradeQuorumReached",
                    json!({"epoch": 4, "package_digest": digest}),
                ),
                (
                    "upgrade",
                    "UpgradeAuthorized",
                    json!({"epoch": 4, "package_digest": digest, "version": 2, "emergency": false}),
                ),
                (
                    "events",
                    "ContractUpgraded",
                    json!({"epoch": 4, "package_id": NODE_B, "version": 2}),
                ),
            ],
        );
        let p = &b.proposals["upgrade-4-abcd"];
        assert_eq!(p.kind, "upgrade");
        assert_eq!(p.status, Some("authorized"));
        assert_eq!(p.votes_for, Some(8));
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
                (
                    "slashing",
                    "SlashingVoted",
                    json!({"epoch": 7, "candidate": c, "node_id": NODE_A, "weight": 6, "voting_weight": 6}),
                ),
                (
                    "slashing",
                    "SlashingVoted",
                    json!({"epoch": 7, "candidate": c, "node_id": NODE_B, "weight": 2, "voting_weight": 8}),
                ),
                (
                    "slashing",
                    "SlashingQuorumReached",
                    json!({"epoch": 7, "candidate": c}),
                ),
                (
                    "slashing",
                    "NodeSlashed",
                    json!({"epoch": 7, "candidate": c, "amount": "9007199254740993"}),
                ),
                ("events", "EpochChangeStart", json!({"epoch": 8})),
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
                (
                    "subsidies",
                    "SubsidiesFunded",
                    json!({"amount": 1000, "pool_balance": 1000}),
                ),
                (
                    "subsidies",
                    "NodeSubsidized",
                    json!({"epoch": 3, "node_id": NODE_A, "amount": 40}),
                ),
                (
                    "subsidies",
                    "NodeSubsidized",
                    json!({"epoch": 3, "node_id": NODE_B, "amount": 60}),
                ),
                (
                    "subsidies",
                    "SubsidiesPaid",
                    json!({"epoch": 3, "node_subsidies": 100, "future_subsidies": 25, "pool_balance": 875}),
                ),
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
    fn undecodable_or_incomplete_events_are_errors() {
        let mut b = GovernanceBatch::default();
        // No registered layout.
        let e = apply("upgrade", "UpgradeVoted", None, at(1), &mut b).unwrap_err();
        assert!(e.contains("no registered layout"), "{e}");
        // A field missing, of the wrong type, out of range.
        let e = apply(
            "subsidies",
            "SubsidiesPaid",
            Some(&json!({"epoch": 1})),
            at(1),
            &mut b,
        )
        .unwrap_err();
        assert!(e.contains("node_subsidies"), "{e}");
        let e = apply(
            "slashing",
            "SlashingVoted",
            Some(&json!({"epoch": 1, "candidate": 5, "node_id": NODE_A, "weight": 1, "voting_weight": 1})),
            at(1),
            &mut b,
        )
        .unwrap_err();
        assert!(e.contains("candidate"), "{e}");
        let e = apply(
            "subsidies",
            "SubsidiesFunded",
            Some(&json!({"amount": "18446744073709551615", "pool_balance": 1})),
            at(1),
            &mut b,
        )
        .unwrap_err();
        assert!(e.contains("amount"), "{e}");
        let e = apply(
            "governance",
            "ProposalCreated",
            Some(&json!({"epoch": 1, "proposal_id": 0, "node_id": NODE_A, "change": {"variant": "Nope", "fields": {"pos0": 1}}})),
            at(1),
            &mut b,
        )
        .unwrap_err();
        assert!(e.contains("Nope"), "{e}");
        assert_eq!(b.rows(), 0, "nothing half-applied");
        // Events of other modules pass through; a blob event without
        // fields is not this module's concern.
        apply("events", "BlobRegistered", None, at(1), &mut b).unwrap();
        apply("events", "EpochChangeStart", None, at(1), &mut b).unwrap();
        assert_eq!(b.rows(), 0);
    }
}
