//! Epochs: the list (newest first) and one epoch with its committee, a
//! picture of the shard map, and the rewards and burns paid for it.

use std::collections::HashMap;

use axum::extract::{Path, Query as AxumQuery, State};
use maud::{Markup, html};
use serde_json::Value;

use super::{
    Page, PageError, PageResult, Query, int, layout, node_link, or_dash, pager, rows, text,
};
use crate::AppState;
use crate::format;
use crate::indexer::FetchError;
use crate::svg::{self, Series};

/// Latest subsidy payments on the epochs page.
const SUBSIDIES_SHOWN: i64 = 5;

/// A table of epoch rows (shared with the overview).
pub fn table(epochs: &[Value]) -> Markup {
    if epochs.is_empty() {
        return html! { p.muted { "No epochs indexed yet." } };
    }
    html! {
        table.rows {
            thead { tr { th { "Epoch" } th { "Started" } th { "Change done" } th { "Storage price" } th { "Capacity" } th { "Shards" } } }
            tbody {
                @for e in epochs {
                    tr {
                        td data-label="Epoch" {
                            @if let Some(n) = int(e, "epoch") { a href={ "/epochs/" (n) } { (n) } }
                        }
                        td data-label="Started" { (or_dash(int(e, "start_ms").map(format::date))) }
                        td data-label="Change done" { (or_dash(int(e, "done_ms").map(format::date))) }
                        td data-label="Storage price" { (or_dash(int(e, "storage_price").map(format::wal))) }
                        td data-label="Capacity" { (or_dash(int(e, "total_capacity").map(format::bytes))) }
                        td data-label="Shards" { (or_dash(int(e, "n_shards").map(format::count))) }
                    }
                }
            }
        }
    }
}

pub async fn list(
    State(s): State<AppState>,
    AxumQuery(q): AxumQuery<HashMap<String, String>>,
) -> PageResult {
    let q = Query::new(q, &["cursor", "limit"])?;
    let limit = q.limit()?;
    let cursor = q.cursor("cursor")?;
    let mut params = vec![("limit", limit.to_string())];
    if let Some(c) = &cursor {
        params.push(("cursor", c.clone()));
    }
    let subsidy_params = [("limit", SUBSIDIES_SHOWN.to_string())];
    let (answer, subsidies) = tokio::join!(
        s.indexer.get("/v1/epochs", "/v1/epochs", &params),
        s.indexer
            .get("/v1/subsidies", "/v1/subsidies", &subsidy_params)
    );
    let answer = answer?;
    let keep = vec![("limit", limit.to_string())];
    let body = html! {
        h1 { "Epochs" }
        (table(rows(&answer.data)))
        (pager("/epochs", &keep, "cursor", cursor.as_deref(), answer.next_cursor.as_deref()))
        h2 { "Subsidies" }
        // The epochs list stays up when only the subsidies call fails.
        @match &subsidies {
            Ok(sub) => {
                (super::governance::subsidy_table(rows(&sub.data)))
                @if sub.next_cursor.is_some() { p { a href="/subsidies" { "All subsidy payments »" } } }
            }
            Err(_) => { p.muted { "Subsidy payments are unavailable right now." } }
        }
    };
    Ok(Page(layout("Epochs", answer.checkpoint, body)))
}

pub async fn epoch(State(s): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let epoch: u32 = raw.parse().map_err(|_| {
        PageError::bad(format!(
            "an epoch is a whole number from 0 to {}, got {raw:?}",
            u32::MAX
        ))
    })?;
    let path = format!("/v1/epochs/{epoch}");
    let answer = s.indexer.get("/v1/epochs/{epoch}", &path, &[]).await?;
    let e = &answer.data;
    let committee = rows(&e["committee"]);
    let n_shards = int(e, "n_shards")
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or_else(|| {
            committee
                .iter()
                .filter_map(|m| m["shards"].as_array().map(Vec::len))
                .sum()
        })
        // The indexer's shard ids are u16; bound the picture anyway.
        .min(usize::from(u16::MAX));
    let names: Vec<String> = committee
        .iter()
        .map(|m| format::short(text(m, "node_id").unwrap_or("?")))
        .collect();
    let mut owners: Vec<Option<usize>> = vec![None; n_shards];
    for (i, m) in committee.iter().enumerate() {
        for shard in m["shards"].as_array().map_or(&[][..], Vec::as_slice) {
            if let Some(slot) = shard
                .as_u64()
                .and_then(|s| usize::try_from(s).ok())
                .and_then(|s| owners.get_mut(s))
            {
                *slot = Some(i);
            }
        }
    }
    let payments = rows(&e["payments"]);
    // What the end of the epoch paid, per node (404 until it ended).
    let rewards_path = format!("/v1/epochs/{epoch}/rewards");
    let paid = match s
        .indexer
        .get(
            "/v1/epochs/{epoch}/rewards",
            &rewards_path,
            &[("limit", "1000".to_owned())],
        )
        .await
    {
        Ok(a) => Some(a.data),
        Err(FetchError::NotFound(_)) => None,
        Err(other) => return Err(other.into()),
    };
    let paid_nodes: &[Value] = paid.as_ref().map_or(&[][..], |p| rows(&p["nodes"]));
    let node_labels: Vec<String> = paid_nodes
        .iter()
        .map(|r| {
            text(r, "name")
                .map(str::to_owned)
                .unwrap_or_else(|| format::short(text(r, "node_id").unwrap_or("?")))
        })
        .collect();
    let node_rewards: Vec<f64> = paid_nodes
        .iter()
        .map(|r| int(r, "reward").unwrap_or(0) as f64)
        .collect();
    let node_commissions: Vec<f64> = paid_nodes
        .iter()
        .map(|r| int(r, "commission").unwrap_or(0) as f64)
        .collect();
    let body = html! {
        h1 { "Epoch " (epoch) }
        dl {
            dt { "Started" } dd { (or_dash(int(e, "start_ms").map(format::date))) }
            dt { "Change done" } dd { (or_dash(int(e, "done_ms").map(format::date))) }
            dt { "Next committee selected" } dd { (or_dash(int(e, "params_selected_ms").map(format::date))) }
            dt { "Storage price" } dd { (or_dash(int(e, "storage_price").map(|p| format!("{} per MiB per epoch", format::wal(p))))) }
            dt { "Write price" } dd { (or_dash(int(e, "write_price").map(|p| format!("{} per MiB", format::wal(p))))) }
            dt { "Capacity" } dd { (or_dash(int(e, "total_capacity").map(format::bytes))) }
            dt { "Shards" } dd { (n_shards) }
        }
        nav.pager {
            @if epoch > 0 { a href={ "/epochs/" (epoch - 1) } { "« Epoch " (epoch - 1) } }
            a href={ "/epochs/" (epoch.saturating_add(1)) } { "Epoch " (epoch.saturating_add(1)) " »" }
        }
        h2 { "Committee" }
        @if committee.is_empty() {
            p.muted { "The indexer has no committee for this epoch (it records the committee it sees while following the chain)." }
        } @else {
            table.rows {
                thead { tr { th { "Node" } th { "Shards" } th { "Weight" } } }
                tbody {
                    @for (i, m) in committee.iter().enumerate() {
                        tr {
                            td data-label="Node" {
                                span.key style={ "background:" (svg::member_colour(i)) } {}
                                (node_link(text(m, "node_id").unwrap_or(""), None))
                            }
                            td data-label="Shards" { (m["shards"].as_array().map_or(0, Vec::len)) }
                            td data-label="Weight" { (or_dash(int(m, "weight").map(format::count))) }
                        }
                    }
                }
            }
            h2 { "Shard map" }
            (svg::shard_map(&format!("Shards of epoch {epoch} by holder"), &owners, &names))
        }
        h2 { "Rewards and burns" }
        @match &paid {
            None => {
                p.muted { "This epoch has not ended in the index yet: its rewards are paid at its end." }
            }
            Some(summary) => {
                dl {
                    dt { "Prepaid for the epoch" } dd { (or_dash(int(summary, "bucket").map(format::wal))) }
                    dt { "Burnt (3%)" } dd { (or_dash(int(summary, "burnt").map(format::wal))) }
                    dt { "Paid to nodes" } dd { (or_dash(int(summary, "distributed").map(format::wal))) }
                    dt { "Carried to the next epoch" } dd { (or_dash(int(summary, "carried_over").map(format::wal))) }
                    dt { "Balanced" } dd {
                        @if summary["balanced"] == true { "yes: prepaid = burnt + paid + carried, to the FROST" }
                        @else { strong { "no: the index's numbers do not add up" } }
                    }
                }
                @if !paid_nodes.is_empty() {
                    (svg::bars_and_line(&format!("Rewards of epoch {epoch} per node, and the commission taken"), &node_labels,
                        Series { name: "reward", values: &node_rewards, fmt: |v| format::wal(v as i64) },
                        Series { name: "commission", values: &node_commissions, fmt: |v| format::wal(v as i64) }))
                    table.rows {
                        thead { tr { th { "Node" } th { "Weight" } th { "Reward" } th { "Commission" } th { "Stakers" } } }
                        tbody {
                            @for r in paid_nodes {
                                tr {
                                    td data-label="Node" { (node_link(text(r, "node_id").unwrap_or(""), text(r, "name"))) }
                                    td data-label="Weight" { (or_dash(int(r, "weight").map(format::count))) }
                                    td data-label="Reward" { (or_dash(int(r, "reward").map(format::wal))) }
                                    td data-label="Commission" { (or_dash(int(r, "commission").map(format::wal))) }
                                    td data-label="Stakers" { (or_dash(int(r, "stakers").map(format::wal))) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !payments.is_empty() {
            h2 { "Subsidies and other payments" }
            table.rows {
                thead { tr { th { "Kind" } th { "Amount" } th { "Payments" } } }
                tbody {
                    @for p in payments {
                        tr {
                            td data-label="Kind" { (text(p, "kind").unwrap_or("?")) }
                            td data-label="Amount" { (or_dash(int(p, "amount").map(format::wal))) }
                            td data-label="Payments" { (or_dash(int(p, "payments").map(format::count))) }
                        }
                    }
                }
            }
        }
    };
    Ok(Page(layout(
        &format!("Epoch {epoch}"),
        answer.checkpoint,
        body,
    )))
}
