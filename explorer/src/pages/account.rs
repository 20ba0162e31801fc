//! An account: its blobs, storage resources, stakes (with their value and
//! rewards, and a chart of rewards over epochs) and payments. The overview
//! shows the first rows of each; each section has its own paged page.

use std::collections::HashMap;

use axum::extract::{Path, Query as AxumQuery, State};
use maud::{Markup, html};
use serde_json::Value;

use super::blob::parse_object_id;
use super::{
    Page, PageError, PageResult, Query, int, layout, node_link, or_dash, pager, rows, text,
};
use crate::AppState;
use crate::format;
use crate::indexer::Answer;
use crate::svg::{self, Series};

/// Rows of each section on the overview.
const OVERVIEW_ROWS: i64 = 10;

/// The sections: path segment, title, indexer endpoint template.
const SECTIONS: [(&str, &str, &str); 4] = [
    ("blobs", "Blobs", "/v1/accounts/{address}/blobs"),
    (
        "storage",
        "Storage resources",
        "/v1/accounts/{address}/storage",
    ),
    ("stakes", "Stakes", "/v1/accounts/{address}/stakes"),
    ("payments", "Payments", "/v1/accounts/{address}/payments"),
];

fn render(section: &str, data: &Value) -> Markup {
    let list = rows(data);
    if section == "blobs" {
        return super::blob::table(list);
    }
    if list.is_empty() {
        return html! { p.muted { "None." } };
    }
    match section {
        "storage" => html! {
            table.rows {
                thead { tr { th { "Resource" } th { "Size" } th { "Epochs" } th { "State" } } }
                tbody { @for r in list { tr {
                    td.id data-label="Resource" { (format::short(text(r, "object_id").unwrap_or(""))) }
                    td data-label="Size" { (or_dash(int(r, "storage_size").map(format::bytes))) }
                    td data-label="Epochs" {
                        (or_dash(int(r, "start_epoch").map(|e| e.to_string()))) " → "
                        (or_dash(int(r, "end_epoch").map(|e| e.to_string())))
                    }
                    td data-label="State" { (text(r, "state").unwrap_or("—")) }
                } } }
            }
        },
        "stakes" => html! {
            table.rows {
                thead { tr { th { "Staked WAL" } th { "Node" } th { "Principal" } th { "Active from" } th { "Withdraw at" } th { "Status" } th { "Value" } th { "Rewards" } } }
                tbody { @for r in list { tr {
                    td.id data-label="Staked WAL" { (format::short(text(r, "object_id").unwrap_or(""))) }
                    td data-label="Node" { (node_link(text(r, "node_id").unwrap_or(""), text(r, "node_name"))) }
                    td data-label="Principal" { (or_dash(int(r, "amount").map(format::wal))) }
                    td data-label="Active from" { (or_dash(int(r, "activation_epoch").map(|e| format!("epoch {e}")))) }
                    td data-label="Withdraw at" { (or_dash(int(r, "withdraw_epoch").map(|e| format!("epoch {e}")))) }
                    td data-label="Status" {
                        (text(r, "status").or_else(|| text(r, "state")).unwrap_or("—"))
                        @if let Some(e) = int(r, "withdrawn_epoch") { " in epoch " (e) }
                    }
                    td data-label="Value" { (or_dash(int(r, "value").or_else(|| int(r, "withdrawn_amount")).map(format::wal))) }
                    td data-label="Rewards" { (or_dash(int(r, "rewards").map(format::wal))) }
                } } }
            }
        },
        _ => html! {
            table.rows {
                thead { tr { th { "Kind" } th { "Amount" } th { "Epoch" } th { "Transaction" } } }
                tbody { @for r in list { tr {
                    td data-label="Kind" { (text(r, "kind").unwrap_or("?")) }
                    td data-label="Amount" { (or_dash(int(r, "amount").map(format::wal))) }
                    td data-label="Epoch" { (or_dash(int(r, "epoch").map(|e| e.to_string()))) }
                    td.id data-label="Transaction" { (format::short(text(r, "tx_digest").unwrap_or(""))) }
                } } }
            }
        },
    }
}

async fn fetch(
    s: &AppState,
    address: &str,
    section: usize,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Answer, PageError> {
    let (name, _, endpoint) = SECTIONS[section];
    let mut params = vec![("limit", limit.to_string())];
    if let Some(c) = cursor {
        params.push(("cursor", c.to_owned()));
    }
    let path = format!("/v1/accounts/{address}/{name}");
    Ok(s.indexer.get(endpoint, &path, &params).await?)
}

pub async fn account(State(s): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let address = parse_object_id(&raw)?.to_string();
    let (blobs, storage, stakes, payments) = tokio::join!(
        fetch(&s, &address, 0, OVERVIEW_ROWS, None),
        fetch(&s, &address, 1, OVERVIEW_ROWS, None),
        fetch(&s, &address, 2, OVERVIEW_ROWS, None),
        fetch(&s, &address, 3, OVERVIEW_ROWS, None),
    );
    let answers = [blobs?, storage?, stakes?, payments?];
    let checkpoint = answers[0].checkpoint;
    // Rewards of the account's stakes over the last epochs (a chart only
    // when it has stakes).
    let rewards = if rows(&answers[2].data).is_empty() {
        None
    } else {
        let path = format!("/v1/accounts/{address}/rewards");
        Some(
            s.indexer
                .get("/v1/accounts/{address}/rewards", &path, &[])
                .await?,
        )
    };
    let (reward_epochs, reward_values): (Vec<i64>, Vec<f64>) =
        rewards.as_ref().map_or((vec![], vec![]), |r| {
            rows(&r.data)
                .iter()
                .filter_map(|row| Some((int(row, "epoch")?, int(row, "rewards")? as f64)))
                .unzip()
        });
    let body = html! {
        h1 { "Account " span.id { (address) } }
        @for (i, answer) in answers.iter().enumerate() {
            @let (name, title, _) = SECTIONS[i];
            h2 { (title) }
            (render(name, &answer.data))
            @if answer.next_cursor.is_some() {
                p { a href={ "/accounts/" (address) "/" (name) } { "All " (title.to_lowercase()) " »" } }
            }
            @if name == "stakes" && !reward_epochs.is_empty() {
                h3 { "Rewards over epochs" }
                (svg::line("Rewards accrued by the account's stakes at each epoch's start", &reward_epochs,
                    Series { name: "rewards", values: &reward_values, fmt: |v| format::wal(v as i64) }))
            }
        }
    };
    Ok(Page(layout(
        &format!("Account {}", format::short(&address)),
        checkpoint,
        body,
    )))
}

pub async fn section(
    State(s): State<AppState>,
    Path((raw, section)): Path<(String, String)>,
    AxumQuery(q): AxumQuery<HashMap<String, String>>,
) -> PageResult {
    let address = parse_object_id(&raw)?.to_string();
    let index = SECTIONS
        .iter()
        .position(|(name, _, _)| *name == section)
        .ok_or_else(|| {
            PageError::not_found(format!(
                "accounts have no section {section:?}; try blobs, storage, stakes or payments"
            ))
        })?;
    let q = Query::new(q, &["cursor", "limit"])?;
    let limit = q.limit()?;
    let cursor = q.cursor("cursor")?;
    let answer = fetch(&s, &address, index, limit, cursor.as_deref()).await?;
    let (name, title, _) = SECTIONS[index];
    let keep = vec![("limit", limit.to_string())];
    let body = html! {
        h1 { (title) " of " a.id href={ "/accounts/" (address) } { (format::short(&address)) } }
        (render(name, &answer.data))
        (pager(&format!("/accounts/{address}/{name}"), &keep, "cursor", cursor.as_deref(), answer.next_cursor.as_deref()))
    };
    Ok(Page(layout(
        &format!("{title} of {}", format::short(&address)),
        answer.checkpoint,
        body,
    )))
}
