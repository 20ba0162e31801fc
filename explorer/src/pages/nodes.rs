//! Storage nodes: the list and one node with its stake, shards and
//! commission rate over epochs (charts from `/v1/nodes/{id}/history`), the
//! rewards it earned per epoch, commission collected and governance votes.

use std::collections::HashMap;

use axum::extract::{Path, Query as AxumQuery, State};
use maud::html;
use serde_json::Value;

use super::{
    Page, PageError, PageResult, Query, account_link, int, layout, node_link, or_dash, pager, rows,
    text,
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

/// Epochs of a node's history a page charts (the newest).
const HISTORY_EPOCHS: i64 = 200;

pub async fn node(State(s): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let id: floe_core::move_types::ObjectId = raw
        .parse()
        .map_err(|e| PageError::bad(format!("not a node id: {e}")))?;
    let id = id.to_string();
    let path = format!("/v1/nodes/{id}");
    let history_path = format!("/v1/nodes/{id}/history");
    let collections_path = format!("/v1/nodes/{id}/collections");
    let limit = vec![("limit", HISTORY_EPOCHS.to_string())];
    let few = vec![("limit", "20".to_owned())];
    let (answer, history, collections) = tokio::join!(
        s.indexer.get("/v1/nodes/{node_id}", &path, &[]),
        s.indexer
            .get("/v1/nodes/{node_id}/history", &history_path, &limit),
        s.indexer
            .get("/v1/nodes/{node_id}/collections", &collections_path, &few),
    );
    let answer = answer?;
    let history = history?;
    let collections = collections?;
    let n = &answer.data;
    // The pool at each epoch's start (stake, shards, commission rate) and
    // what the node earned in it.
    let (mut stake_epochs, mut stake) =
        by_epoch(&history.data, |r| int(r, "stake").map(|v| v as f64));
    let (mut shard_epochs, mut shards) = by_epoch(&history.data, |r| {
        r["shards"].as_array().map(|s| s.len() as f64)
    });
    // An index that saw no pool change for this node yet (or an older
    // indexer) still has the committees it snapshotted and the stake
    // history of the node answer.
    if stake.is_empty() {
        (stake_epochs, stake) =
            by_epoch(&n["stake_history"], |r| int(r, "stake").map(|v| v as f64));
    }
    if shards.is_empty() {
        (shard_epochs, shards) = by_epoch(&n["committees"], |r| {
            r["shards"].as_array().map(|s| s.len() as f64)
        });
    }
    let (rate_epochs, rates) = by_epoch(&history.data, |r| {
        int(r, "commission_rate").map(|v| v as f64)
    });
    let mut earned: Vec<&Value> = rows(&history.data)
        .iter()
        .filter(|r| int(r, "reward").is_some())
        .collect();
    earned.sort_by_key(|r| int(r, "epoch"));
    let earned_labels: Vec<String> = earned
        .iter()
        .map(|r| int(r, "epoch").unwrap_or(0).to_string())
        .collect();
    let rewards: Vec<f64> = earned
        .iter()
        .map(|r| int(r, "reward").unwrap_or(0) as f64)
        .collect();
    let commissions: Vec<f64> = earned
        .iter()
        .map(|r| int(r, "commission").unwrap_or(0) as f64)
        .collect();
    let collected = rows(&collections.data);
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
            dt { "Pending stake" } dd { (or_dash(int(n, "pending_stake").map(format::wal))) }
            dt { "Commission rate" } dd { (or_dash(int(n, "commission_rate").map(format::basis_points))) }
            dt { "Uncollected commission" } dd { (or_dash(int(n, "commission_balance").map(format::wal))) }
            dt { "Stakers' rewards pool" } dd { (or_dash(int(n, "rewards_pool").map(format::wal))) }
            dt { "Pool" } dd {
                (text(n, "pool_state").unwrap_or("—"))
                @if let Some(e) = int(n, "activation_epoch") { ", active from epoch " (e) }
            }
        }
        h2 { "Stake over epochs" }
        @if stake.is_empty() {
            p.muted { "No stake history indexed for this node yet." }
        } @else {
            (svg::line("Stake at the start of each epoch", &stake_epochs, Series { name: "stake", values: &stake, fmt: |v| format::wal(v as i64) }))
        }
        h2 { "Shards over epochs" }
        @if shards.is_empty() {
            p.muted { "This node was in no committee the index recorded." }
        } @else {
            (svg::line("Shards held per epoch", &shard_epochs, Series { name: "shards", values: &shards, fmt: |v| format::count(v as i64) }))
        }
        h2 { "Commission rate over epochs" }
        @if rates.is_empty() {
            p.muted { "No commission history indexed for this node yet." }
        } @else {
            (svg::line("Commission rate per epoch", &rate_epochs, Series { name: "commission rate", values: &rates, fmt: |v| format::basis_points(v as i64) }))
        }
        h2 { "Rewards" }
        @if earned.is_empty() {
            p.muted { "No rewards recorded for this node: it earns at the end of each epoch it is in the committee." }
        } @else {
            (svg::bars_and_line("Rewards earned per epoch, and the commission taken", &earned_labels,
                Series { name: "reward", values: &rewards, fmt: |v| format::wal(v as i64) },
                Series { name: "commission", values: &commissions, fmt: |v| format::wal(v as i64) }))
            table.rows {
                thead { tr { th { "Epoch" } th { "Weight" } th { "Reward" } th { "Commission" } th { "Stakers" } } }
                tbody {
                    @for r in earned.iter().rev() {
                        tr {
                            td data-label="Epoch" { a href={ "/epochs/" (int(r, "epoch").unwrap_or(0)) } { (int(r, "epoch").unwrap_or(0)) } }
                            td data-label="Weight" { (or_dash(int(r, "weight").map(format::count))) }
                            td data-label="Reward" { (or_dash(int(r, "reward").map(format::wal))) }
                            td data-label="Commission" { (or_dash(int(r, "commission").map(format::wal))) }
                            td data-label="Stakers" { (or_dash(int(r, "stakers").map(format::wal))) }
                        }
                    }
                }
            }
        }
        h2 { "Commission collected" }
        @if collected.is_empty() {
            p.muted { "No commission collected from this pool." }
        } @else {
            table.rows {
                thead { tr { th { "Epoch" } th { "Amount" } th { "By" } th { "Transaction" } } }
                tbody {
                    @for c in collected {
                        tr {
                            td data-label="Epoch" { (or_dash(int(c, "epoch").map(|e| e.to_string()))) }
                            td data-label="Amount" { (or_dash(int(c, "amount").map(format::wal))) }
                            td data-label="By" { (account_link(text(c, "collector").unwrap_or(""))) }
                            td.id data-label="Transaction" { (format::short(text(c, "tx_digest").unwrap_or(""))) }
                        }
                    }
                }
            }
        }
        h2 { "Governance votes" }
        @if votes.is_empty() {
            p.muted { "No votes recorded for this node." }
        } @else {
            ul { @for v in votes {
                @let id = text(v, "proposal_id").unwrap_or("?");
                li {
                    a href={ "/governance/" (super::encode(id)) } { code { (id) } }
                    @if v["in_favor"].as_bool() == Some(false) { " against" } @else { " for" }
                    ", weight " (or_dash(int(v, "weight").map(format::count)))
                }
            } }
        }
    };
    Ok(Page(layout(&title, answer.checkpoint, body)))
}
