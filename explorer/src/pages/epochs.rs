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
use crate::svg;

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
    let answer = s.indexer.get("/v1/epochs", "/v1/epochs", &params).await?;
    let keep = vec![("limit", limit.to_string())];
    let body = html! {
        h1 { "Epochs" }
        (table(rows(&answer.data)))
        (pager("/epochs", &keep, "cursor", cursor.as_deref(), answer.next_cursor.as_deref()))
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
        @if payments.is_empty() {
            p.muted { "No rewards, commissions, burns or subsidies recorded for this epoch." }
        } @else {
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
