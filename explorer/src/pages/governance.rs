//! Governance: the proposals (filtered by status and kind, paged with the
//! indexer's cursor) and one proposal with its tally as a picture, every
//! vote, the deadline and the outcome said in words.
//!
//! Kinds and statuses are the indexer's (`/v1/governance`): parameter
//! changes (floe's own), package upgrades and slashing (Walrus's). Votes
//! weigh the voter's shards; a quorum is more than two thirds of them.

use std::collections::HashMap;

use axum::extract::{Path, Query as AxumQuery, State};
use maud::{Markup, html};
use serde_json::Value;

use super::{
    Page, PageError, PageResult, Query, encode, int, layout, node_link, or_dash, pager, rows,
    status_badge, text,
};
use crate::AppState;
use crate::format;
use crate::svg;

const KINDS: &[&str] = &["parameter", "upgrade", "slashing"];
const STATUSES: &[&str] = &[
    "open",
    "passed",
    "quorum",
    "authorized",
    "applied",
    "upgraded",
    "executed",
    "expired",
];

/// A number that may be a JSON string (u64 above 2^53).
fn big(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// The proposed parameter value as people read it.
fn parameter_value(parameter: &str, value: &Value) -> String {
    let Some(v) = big(value) else {
        return value.to_string();
    };
    match parameter {
        "epoch-duration" => format!("{} ({v} ms)", format::duration(v)),
        "base-subsidy" | "subsidy-per-shard" => format::wal(v),
        "system-subsidy-rate" => format::basis_points(v),
        _ => format::count(v),
    }
}

/// What a proposal proposes, in words.
pub fn subject(p: &Value) -> Markup {
    let payload = &p["payload"];
    match text(p, "kind") {
        Some("parameter") => {
            let parameter = text(payload, "parameter").unwrap_or("?");
            html! { "Set " strong { (parameter) } " to " (parameter_value(parameter, &payload["value"])) }
        }
        Some("upgrade") => html! {
            "Upgrade the package to digest "
            code title=(text(payload, "package_digest").unwrap_or("")) {
                (format::short(text(payload, "package_digest").unwrap_or("?")))
            }
        },
        Some("slashing") => html! {
            "Slash node " (node_link(text(payload, "candidate").unwrap_or(""), None))
            " (burn its commission)"
        },
        _ => html! { code { (payload.to_string()) } },
    }
}

/// The deadline: the end of the proposal's epoch.
fn deadline(p: &Value) -> String {
    let epoch = or_dash(int(p, "epoch").map(|e| e.to_string()));
    let ended = p["epoch_ended"].as_bool().unwrap_or(false);
    match int(p, "deadline_ms") {
        Some(ms) if ended => format!("end of epoch {epoch}, {} (passed)", format::date(ms)),
        Some(ms) => {
            let left = ms - format::now_ms();
            if left > 0 {
                format!(
                    "end of epoch {epoch}, {} (in {})",
                    format::date(ms),
                    format::duration(left)
                )
            } else {
                format!("end of epoch {epoch}, {} (due now)", format::date(ms))
            }
        }
        None if ended => format!("end of epoch {epoch} (passed)"),
        None => format!("end of epoch {epoch}"),
    }
}

/// The status and outcome in a sentence.
pub fn outcome(p: &Value) -> String {
    let epoch = int(p, "epoch").unwrap_or(0);
    let o = &p["outcome"];
    let when = int(p, "outcome_ms").map_or(String::new(), |ms| format!(" ({})", format::date(ms)));
    match (text(p, "kind"), text(p, "status")) {
        (Some("parameter"), Some("open")) => format!(
            "Open: votes count until the end of epoch {epoch}; without a quorum by then it expires."
        ),
        (Some("parameter"), Some("passed")) => format!(
            "Passed: a quorum voted for; it takes effect when epoch {} starts.",
            epoch + 1
        ),
        (Some("parameter"), Some("applied")) => format!(
            "Applied: in effect since the start of epoch {}{when}.",
            o.get("applied_epoch")
                .and_then(big)
                .map_or_else(|| "?".into(), |e| e.to_string())
        ),
        (Some("parameter"), Some("expired")) => {
            format!("Expired: no quorum by the end of epoch {epoch}{when}; nothing changed.")
        }
        (Some("upgrade"), Some("open")) => format!(
            "Open: nodes vote until the end of epoch {epoch}; a quorum lets the package be authorized."
        ),
        (Some("upgrade"), Some("quorum")) => {
            format!("Quorum reached: the upgrade can be authorized until the end of epoch {epoch}.")
        }
        (Some("upgrade"), Some("authorized")) => format!(
            "Authorized{}: the package may now be upgraded to version {}{when}.",
            if o["emergency"].as_bool() == Some(true) {
                " by the emergency cap"
            } else {
                ""
            },
            o.get("version")
                .and_then(big)
                .map_or_else(|| "?".into(), |v| v.to_string())
        ),
        (Some("upgrade"), Some("upgraded")) => format!(
            "Upgraded: version {} is package {} since epoch {}{when}.",
            o.get("version")
                .and_then(big)
                .map_or_else(|| "?".into(), |v| v.to_string()),
            text(o, "package_id").map_or_else(|| "?".into(), format::short),
            o.get("upgraded_epoch")
                .and_then(big)
                .map_or_else(|| "?".into(), |e| e.to_string()),
        ),
        (Some("slashing"), Some("open")) => format!(
            "Open: nodes vote until the end of epoch {epoch}; a quorum lets anyone execute it."
        ),
        (Some("slashing"), Some("quorum")) => {
            format!("Quorum reached: the slashing can be executed until the end of epoch {epoch}.")
        }
        (Some("slashing"), Some("executed")) => format!(
            "Executed: {} of the node's commission burnt{when}.",
            o.get("burnt")
                .and_then(big)
                .map_or_else(|| "?".into(), format::wal)
        ),
        (Some(_), Some("expired")) => {
            format!("Expired: epoch {epoch} ended before it was carried out; nothing happened.")
        }
        (_, status) => format!("Status: {}.", status.unwrap_or("unknown")),
    }
}

fn tally_text(p: &Value) -> String {
    let f = int(p, "votes_for").unwrap_or(0);
    let a = int(p, "votes_against").unwrap_or(0);
    match (int(p, "quorum"), int(p, "n_shards")) {
        (Some(q), Some(n)) => format!("{f} for, {a} against, of {n} shards (quorum {q})"),
        _ => format!("{f} for, {a} against"),
    }
}

fn check_choice(name: &str, value: Option<&str>, allowed: &[&str]) -> Result<(), PageError> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(PageError::bad(format!(
            "{name} must be one of {}, got {v:?}",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

fn filter_form(kind: Option<&str>, status: Option<&str>, limit: i64) -> Markup {
    html! {
        form.filters action="/governance" method="get" {
            label { "Kind "
                select name="kind" {
                    option value="" selected[kind.is_none()] { "any" }
                    @for k in KINDS { option value=(k) selected[kind == Some(*k)] { (k) } }
                }
            }
            " "
            label { "Status "
                select name="status" {
                    option value="" selected[status.is_none()] { "any" }
                    @for s in STATUSES { option value=(s) selected[status == Some(*s)] { (s) } }
                }
            }
            input type="hidden" name="limit" value=(limit);
            " "
            button type="submit" { "Filter" }
        }
    }
}

pub async fn governance(
    State(s): State<AppState>,
    AxumQuery(q): AxumQuery<HashMap<String, String>>,
) -> PageResult {
    let q = Query::new(q, &["kind", "status", "cursor", "limit"])?;
    let limit = q.limit()?;
    let cursor = q.cursor("cursor")?;
    let (kind, status) = (q.text("kind"), q.text("status"));
    check_choice("kind", kind, KINDS)?;
    check_choice("status", status, STATUSES)?;
    let mut keep = vec![("limit", limit.to_string())];
    if let Some(k) = kind {
        keep.push(("kind", k.to_owned()));
    }
    if let Some(st) = status {
        keep.push(("status", st.to_owned()));
    }
    let mut params = keep.clone();
    if let Some(c) = &cursor {
        params.push(("cursor", c.clone()));
    }
    let answer = s
        .indexer
        .get("/v1/governance", "/v1/governance", &params)
        .await?;
    let list = rows(&answer.data);
    let body = html! {
        h1 { "Governance" }
        p.muted {
            "Storage nodes vote with their shards: parameter changes (floe's own), package upgrades and slashing. "
            "A proposal passes with more than two thirds of the shards, within its epoch."
        }
        (filter_form(kind, status, limit))
        @if list.is_empty() {
            p.none-yet { "No proposals" @if kind.is_some() || status.is_some() { " match these filters" } "." }
        } @else {
            table.rows.proposals {
                thead { tr { th { "Proposal" } th { "Kind" } th { "What" } th { "Epoch" } th { "Status" } th { "Tally (shards)" } th { "Votes" } } }
                tbody {
                    @for p in list {
                        @let id = text(p, "proposal_id").unwrap_or("");
                        tr {
                            td data-label="Proposal" { a.proposal href={ "/governance/" (encode(id)) } title=(id) { (format::short(id)) } }
                            td data-label="Kind" { (text(p, "kind").unwrap_or("?")) }
                            td data-label="What" { (subject(p)) }
                            td data-label="Epoch" { (or_dash(int(p, "epoch").map(|e| e.to_string()))) }
                            td data-label="Status" { (status_badge(text(p, "status").unwrap_or("?"))) }
                            td data-label="Tally (shards)" { (tally_text(p)) }
                            td data-label="Votes" { (or_dash(int(p, "vote_count").map(format::count))) }
                        }
                    }
                }
            }
        }
        (pager("/governance", &keep, "cursor", cursor.as_deref(), answer.next_cursor.as_deref()))
    };
    Ok(Page(layout("Governance", answer.checkpoint, body)))
}

pub async fn proposal(State(s): State<AppState>, Path(id): Path<String>) -> PageResult {
    if id.is_empty()
        || id.len() > 200
        || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(PageError::bad(format!(
            "a proposal id looks like parameter-3, upgrade-<epoch>-<digest> or slashing-<epoch>-<node id>, got {id:?}"
        )));
    }
    let path = format!("/v1/governance/{id}");
    let answer = s
        .indexer
        .get("/v1/governance/{proposal_id}", &path, &[])
        .await?;
    let p = &answer.data;
    let votes = rows(&p["votes"]);
    let title = format!("Proposal {id}");
    let body = html! {
        h1 { (title) }
        dl.proposal-summary {
            dt { "What" } dd { (subject(p)) }
            dt { "Kind" } dd { (text(p, "kind").unwrap_or("?")) }
            dt { "Status" } dd { (status_badge(text(p, "status").unwrap_or("?"))) }
            dt { "Outcome" } dd.outcome { (outcome(p)) }
            dt { "Epoch" } dd { (or_dash(int(p, "epoch").map(|e| e.to_string()))) }
            dt { "Deadline" } dd.deadline { (deadline(p)) }
            @if let Some(proposer) = text(p, "proposer") {
                dt { "Proposed by" } dd { (node_link(proposer, text(p, "proposer_name"))) }
            }
            dt { "Proposed" } dd {
                (or_dash(int(p, "created_ms").map(format::date)))
                " (checkpoint " (or_dash(int(p, "created_checkpoint").map(format::count))) ")"
            }
            dt { "Tally" } dd { (tally_text(p)) }
        }
        h2 { "Tally" }
        (svg::tally(
            int(p, "votes_for").unwrap_or(0),
            int(p, "votes_against").unwrap_or(0),
            int(p, "quorum").unwrap_or(0),
            int(p, "n_shards").unwrap_or(0),
        ))
        h2 { "Votes (" (votes.len()) ")" }
        @if votes.is_empty() {
            p.muted { "No votes recorded." }
        } @else {
            table.rows.votes {
                thead { tr { th { "#" } th { "Node" } th { "Vote" } th { "Weight (shards)" } th { "Time" } th { "Checkpoint" } } }
                tbody {
                    @for (i, v) in votes.iter().enumerate() {
                        tr {
                            td data-label="#" { (i + 1) }
                            td data-label="Node" { (node_link(text(v, "node_id").unwrap_or(""), text(v, "node_name"))) }
                            td data-label="Vote" {
                                @if v["in_favor"].as_bool() == Some(false) { span.status.st-deleted { "against" } }
                                @else { span.status.st-certified { "for" } }
                            }
                            td data-label="Weight (shards)" { (or_dash(int(v, "weight").map(format::count))) }
                            td data-label="Time" { (or_dash(int(v, "timestamp_ms").map(format::date))) }
                            td data-label="Checkpoint" { (or_dash(int(v, "checkpoint").map(format::count))) }
                        }
                    }
                }
            }
        }
        p { a href="/governance" { "« All proposals" } }
    };
    Ok(Page(layout(&title, answer.checkpoint, body)))
}

/// The subsidy pool's latest payments (shown on the epochs page) and the
/// full, paged list.
pub fn subsidy_table(payments: &[Value]) -> Markup {
    if payments.is_empty() {
        return html! { p.muted { "No subsidies paid or funded yet." } };
    }
    html! {
        table.rows.subsidies {
            thead { tr { th { "What" } th { "Epoch" } th { "Node" } th { "Amount" } th { "To future epochs" } th { "Pool after" } th { "Time" } } }
            tbody {
                @for r in payments {
                    tr {
                        td data-label="What" { (match text(r, "kind") {
                            Some("funded") => "pool funded",
                            Some("node") => "node subsidy",
                            Some("paid") => "epoch's subsidies paid",
                            _ => "?",
                        }) }
                        td data-label="Epoch" { (or_dash(int(r, "epoch").map(|e| e.to_string()))) }
                        td data-label="Node" {
                            @if let Some(n) = text(r, "node_id") { (node_link(n, text(r, "node_name"))) } @else { "—" }
                        }
                        td data-label="Amount" { (or_dash(big(&r["amount"]).map(format::wal))) }
                        td data-label="To future epochs" { (or_dash(big(&r["future_subsidies"]).map(format::wal))) }
                        td data-label="Pool after" { (or_dash(big(&r["pool_balance"]).map(format::wal))) }
                        td data-label="Time" { (or_dash(int(r, "timestamp_ms").map(format::date))) }
                    }
                }
            }
        }
    }
}

pub async fn subsidies(
    State(s): State<AppState>,
    AxumQuery(q): AxumQuery<HashMap<String, String>>,
) -> PageResult {
    let q = Query::new(q, &["cursor", "limit"])?;
    let limit = q.limit()?;
    let cursor = q.cursor("cursor")?;
    let keep = vec![("limit", limit.to_string())];
    let mut params = keep.clone();
    if let Some(c) = &cursor {
        params.push(("cursor", c.clone()));
    }
    let answer = s
        .indexer
        .get("/v1/subsidies", "/v1/subsidies", &params)
        .await?;
    let body = html! {
        h1 { "Subsidies" }
        p.muted { "The subsidy pool: who funded it, what each committee node was paid per epoch, and what went to future epochs' rewards." }
        (subsidy_table(rows(&answer.data)))
        (pager("/subsidies", &keep, "cursor", cursor.as_deref(), answer.next_cursor.as_deref()))
    };
    Ok(Page(layout("Subsidies", answer.checkpoint, body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_and_subjects_read_as_sentences() {
        let applied = json!({"kind": "parameter", "status": "applied", "epoch": 2,
            "outcome": {"applied_epoch": 3}, "payload": {"parameter": "epoch-duration", "value": 15000}});
        assert_eq!(
            outcome(&applied),
            "Applied: in effect since the start of epoch 3."
        );
        let s = subject(&applied).into_string();
        assert!(s.contains("epoch-duration") && s.contains("15s"), "{s}");
        let slashed = json!({"kind": "slashing", "status": "executed", "epoch": 4,
            "outcome": {"burnt": 1_500_000_000}});
        assert!(
            outcome(&slashed).contains("1.5 WAL"),
            "{}",
            outcome(&slashed)
        );
        let stale = json!({"kind": "upgrade", "status": "expired", "epoch": 4});
        assert!(outcome(&stale).contains("epoch 4 ended"));
        let upgraded = json!({"kind": "upgrade", "status": "upgraded", "epoch": 4,
            "outcome": {"version": 2, "package_id": "0x01", "upgraded_epoch": 5}});
        assert!(
            outcome(&upgraded).contains("version 2"),
            "{}",
            outcome(&upgraded)
        );
        assert_eq!(
            parameter_value("base-subsidy", &json!("2000000000")),
            "2 WAL"
        );
        assert_eq!(parameter_value("system-subsidy-rate", &json!(250)), "2.50%");
    }

    #[test]
    fn filters_are_checked() {
        assert!(check_choice("kind", Some("upgrade"), KINDS).is_ok());
        assert!(check_choice("kind", None, KINDS).is_ok());
        let e = check_choice("status", Some("won"), STATUSES).unwrap_err();
        assert!(e.reason.contains("status"));
    }
}
