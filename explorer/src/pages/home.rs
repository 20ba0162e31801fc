//! The overview: the epoch (phase, time left), blobs and bytes stored,
//! capacity, stake, prices, and a chart of certified bytes and blobs per
//! epoch.

use axum::extract::State;
use maud::{Markup, html};
use serde_json::Value;

use super::{Page, PageResult, int, layout, or_dash, rows, text};
use crate::AppState;
use crate::format;
use crate::indexer::FetchError;
use crate::svg::{self, Series};

/// Epochs shown in the chart.
const CHART_EPOCHS: i64 = 30;

pub async fn home(State(s): State<AppState>) -> PageResult {
    let stats = s.indexer.get("/v1/stats", "/v1/stats", &[]).await?;
    let system = &stats.data["system"];
    let epoch = int(system, "epoch");
    let from = epoch.map_or(0, |e| (e - CHART_EPOCHS + 1).max(0));
    let history_params = [("from", from.to_string())];
    let epochs_params = [("limit", "5".to_owned())];
    let (history, epochs) = tokio::join!(
        s.indexer
            .get("/v1/stats/epochs", "/v1/stats/epochs", &history_params),
        s.indexer.get("/v1/epochs", "/v1/epochs", &epochs_params)
    );
    // The chart needs the history endpoint; an older indexer without it
    // still gets the rest of the page.
    let history = match history {
        Ok(h) => Some(h.data),
        Err(FetchError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let epochs = epochs?;
    let blobs = &stats.data["blobs"];
    let card = |label: &str, value: String, note: Option<String>| {
        html! {
            div.card { small { (label) } b { (value) } @if let Some(n) = note { small { (n) } } }
        }
    };
    let body = html! {
        h1 { "Network at a glance" }
        (epoch_card(system))
        div.cards {
            (card("Blobs certified", or_dash(int(blobs, "certified").map(format::count)),
                Some(format!("{} registered, {} expired, {} deleted",
                    or_dash(int(blobs, "registered").map(format::count)),
                    or_dash(int(blobs, "expired").map(format::count)),
                    or_dash(int(blobs, "deleted").map(format::count))))))
            (card("Bytes stored", or_dash(int(blobs, "stored_bytes").map(format::bytes)),
                int(blobs, "stored_encoded_bytes").map(|b| format!("{} encoded", format::bytes(b)))))
            (card("Capacity used", or_dash(int(system, "used_capacity").map(format::bytes)),
                int(system, "total_capacity").map(|b| format!("of {}", format::bytes(b)))))
            (card("Total stake", or_dash(int(&stats.data, "total_stake").map(format::wal)), None))
            (card("Storage price", or_dash(int(system, "storage_price").map(format::wal)),
                Some("per MiB of encoded size per epoch".into())))
            (card("Write price", or_dash(int(system, "write_price").map(format::wal)),
                Some("per MiB of encoded size, once".into())))
            (card("Shards", or_dash(int(system, "n_shards").map(format::count)), None))
            (card("Blobs ever indexed", or_dash(int(blobs, "total").map(format::count)),
                int(blobs, "invalid").map(|n| format!("{} invalid", format::count(n)))))
        }
        h2 { "Stored per epoch" }
        @match &history {
            Some(h) => (history_chart(h)),
            None => p.muted { "This indexer does not serve per-epoch history (/v1/stats/epochs)." },
        }
        h2 { "Latest epochs" }
        (super::epochs::table(rows(&epochs.data)))
        p { a href="/epochs" { "All epochs »" } }
    };
    Ok(Page(layout("Overview", stats.checkpoint, body)))
}

/// The epoch, its phase and the time left, from the indexer's copy of
/// the staking state.
fn epoch_card(system: &Value) -> Markup {
    let Some(epoch) = int(system, "epoch") else {
        return html! { p.muted { "The indexer has not read the system state yet." } };
    };
    let state = text(system, "epoch_state");
    let phase = match state {
        Some("change_done") => {
            "in progress: stake changes count for the next committee until half-time"
        }
        Some("params_selected") => "next committee selected: the epoch changes at its end",
        Some("change_sync") => "changing: storage nodes are moving shards to the new committee",
        _ => "phase unknown (this indexer does not report it)",
    };
    let duration = int(system, "epoch_duration_ms");
    let end = if epoch == 0 {
        int(system, "first_epoch_start_ms")
    } else {
        int(system, "epoch_start_ms")
            .zip(duration)
            .map(|(s, d)| s + d)
    };
    let left = match (state, end) {
        (Some("change_sync"), _) => "until the nodes finish syncing".to_owned(),
        (_, Some(end)) => {
            let left = end - format::now_ms();
            if left > 0 {
                format!(
                    "{} left (ends {})",
                    format::duration(left),
                    format::date(end)
                )
            } else {
                format!(
                    "due since {} (waiting for the epoch change)",
                    format::date(end)
                )
            }
        }
        _ => "time left unknown".to_owned(),
    };
    html! {
        div.card.epoch-card {
            small { "Current epoch" }
            b { a href={ "/epochs/" (epoch) } { "Epoch " (epoch) } }
            span.phase { (phase) } br;
            small.time-left { (left) }
            @if let Some(d) = duration { br; small { "Epochs last " (format::duration(d)) "." } }
        }
    }
}

fn history_chart(data: &Value) -> Markup {
    let rows = rows(data);
    if rows.is_empty() {
        return html! { p.muted { "No epochs indexed yet." } };
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|r| int(r, "epoch").map_or_else(|| "?".into(), |e| e.to_string()))
        .collect();
    let bytes: Vec<f64> = rows
        .iter()
        .map(|r| int(r, "bytes").unwrap_or(0) as f64)
        .collect();
    let blobs: Vec<f64> = rows
        .iter()
        .map(|r| int(r, "blobs").unwrap_or(0) as f64)
        .collect();
    html! {
        (svg::bars_and_line(
            "Certified bytes and blobs stored per epoch",
            &labels,
            Series { name: "bytes stored", values: &bytes, fmt: |v| format::bytes(v as i64) },
            Series { name: "blobs", values: &blobs, fmt: |v| format::count(v as i64) },
        ))
        p.muted {
            "Blobs certified now or in the past, counted in every epoch from their certification to their end; "
            "deleted blobs are not counted (the index keeps no deletion epoch)."
        }
    }
}
