//! Storage nodes: the list and one node with its stake and shards over
//! epochs (charts), commission, rewards and governance votes.

use std::collections::HashMap;

use axum::extract::{Path, Query as AxumQuery, State};
use maud::html;
use serde_json::Value;

use super::{
    Page, PageError, PageResult, Query, int, layout, node_link, or_dash, pager, rows, text,
};
use crate::AppState;
use crate::format;
use crate::svg::{self, Series};

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
    let answer = s.indexer.get("/v1/nodes", "/v1/nodes", &params).await?;
    let nodes = rows(&answer.data);
    let keep = vec![("limit", limit.to_string())];
    let body = html! {
        h1 { "Storage nodes" }
        @if nodes.is_empty() {
            p.muted { "No storage nodes indexed yet." }
        } @else {
            table.rows {
                thead { tr { th { "Node" } th { "Address" } th { "Stake" } th { "Commission" } } }
                tbody {
                    @for n in nodes {
                        tr {
                            td data-label="Node" { (node_link(text(n, "node_id").unwrap_or(""), text(n, "name"))) }
                            td data-label="Address" { code { (text(n, "network_address").unwrap_or("—")) } }
                            td data-label="Stake" { (or_dash(int(n, "stake").map(format::wal))) }
                            td data-label="Commission" { (or_dash(int(n, "commission_rate").map(format::basis_points))) }
                        }
                    }
                }
            }
        }
        (pager("/nodes", &keep, "cursor", cursor.as_deref(), answer.next_cursor.as_deref()))
    };
    Ok(Page(layout("Storage nodes", answer.checkpoint, body)))
}

/// `(epoch, value)` points of `list`, oldest first (the API lists newest
/// first).
fn by_epoch(list: &Value, value: impl Fn(&Value) -> Option<f64>) -> (Vec<i64>, Vec<f64>) {
    let mut points: Vec<(i64, f64)> = rows(list)
        .iter()
        .filter_map(|r| Some((int(r, "epoch")?, value(r)?)))
        .collect();
    points.sort_by_key(|p| p.0);
    points.into_iter().unzip()
}

pub async fn node(State(s): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let id: floe_core::move_types::ObjectId = raw
        .parse()
        .map_err(|e| PageError::bad(format!("not a node id: {e}")))?;
    let id = id.to_string();
    let path = format!("/v1/nodes/{id}");
    let answer = s.indexer.get("/v1/nodes/{node_id}", &path, &[]).await?;
    let n = &answer.data;
    let (stake_epochs, stake) =
        by_epoch(&n["stake_history"], |r| int(r, "stake").map(|v| v as f64));
    let (shard_epochs, shards) = by_epoch(&n["committees"], |r| {
        r["shards"].as_array().map(|s| s.len() as f64)
    });
    let rewards = rows(&n["rewards"]);
    let votes = rows(&n["votes"]);
    let title =
        text(n, "name").map_or_else(|| format!("Node {}", format::short(&id)), str::to_owned);
    let body = html! {
        h1 { (title) }
        dl {
            dt { "Node id" } dd.id { (id) }
            dt { "Network address" } dd { (text(n, "network_address").unwrap_or("—")) }
            dt { "Public key" } dd.id { (text(n, "public_key").unwrap_or("—")) }
            dt { "Stake" } dd { (or_dash(int(n, "stake").map(format::wal))) }
            dt { "Commission" } dd {
                (or_dash(int(n, "commission_rate").map(format::basis_points)))
                @if int(n, "commission_rate").is_some() { " (current; the index keeps no history of it)" }
            }
        }
        h2 { "Stake over epochs" }
        @if stake.is_empty() {
            p.muted { "No stake history indexed for this node yet." }
        } @else {
            (svg::line("Stake per epoch", &stake_epochs, Series { name: "stake", values: &stake, fmt: |v| format::wal(v as i64) }))
        }
        h2 { "Shards over epochs" }
        @if shards.is_empty() {
            p.muted { "This node was in no committee the index recorded." }
        } @else {
            (svg::line("Shards held per epoch", &shard_epochs, Series { name: "shards", values: &shards, fmt: |v| format::count(v as i64) }))
        }
        h2 { "Rewards" }
        @if rewards.is_empty() {
            p.muted { "No rewards or commissions recorded for this node." }
        } @else {
            table.rows {
                thead { tr { th { "Epoch" } th { "Kind" } th { "Amount" } th { "Transaction" } } }
                tbody {
                    @for r in rewards {
                        tr {
                            td data-label="Epoch" { (or_dash(int(r, "epoch").map(|e| e.to_string()))) }
                            td data-label="Kind" { (text(r, "kind").unwrap_or("?")) }
                            td data-label="Amount" { (or_dash(int(r, "amount").map(format::wal))) }
                            td.id data-label="Transaction" { (format::short(text(r, "tx_digest").unwrap_or(""))) }
                        }
                    }
                }
            }
        }
        h2 { "Governance votes" }
        @if votes.is_empty() {
            p.muted { "No votes recorded for this node." }
        } @else {
            ul { @for v in votes { li { code { (text(v, "proposal_id").unwrap_or("?")) } " with weight " (or_dash(int(v, "weight").map(format::count))) } } }
        }
    };
    Ok(Page(layout(&title, answer.checkpoint, body)))
}
