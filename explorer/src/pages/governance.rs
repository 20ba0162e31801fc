//! Governance proposals with their vote tallies (shard weight for, out of
//! the committee's shards), or a page that says there are none yet.

use std::collections::HashMap;

use axum::extract::{Query as AxumQuery, State};
use maud::html;

use super::{Page, PageResult, Query, int, layout, node_link, or_dash, rows, text};
use crate::AppState;
use crate::format;

pub async fn governance(
    State(s): State<AppState>,
    AxumQuery(q): AxumQuery<HashMap<String, String>>,
) -> PageResult {
    let q = Query::new(q, &["limit"])?;
    let limit = q.limit()?;
    let params = [("limit", limit.to_string())];
    let (proposals, stats) = tokio::join!(
        s.indexer.get("/v1/governance", "/v1/governance", &params),
        s.indexer.get("/v1/stats", "/v1/stats", &[])
    );
    let proposals = proposals?;
    let shards = stats.ok().and_then(|s| int(&s.data["system"], "n_shards"));
    let list = rows(&proposals.data);
    let body = html! {
        h1 { "Governance" }
        @if list.is_empty() {
            p.none-yet { "No governance proposals yet." }
            p.muted { "Proposals (contract upgrades, parameter votes) appear here with their tallies once storage nodes make them." }
        }
        @for p in list {
            @let votes = rows(&p["votes"]);
            @let tally: i64 = votes.iter().filter_map(|v| int(v, "weight")).sum();
            section.card.proposal {
                h2 { (text(p, "kind").unwrap_or("proposal")) " " code { (format::short(text(p, "proposal_id").unwrap_or("?"))) } }
                dl {
                    dt { "Status" } dd { (super::status_badge(text(p, "status").unwrap_or("?"))) }
                    dt { "Epoch" } dd { (or_dash(int(p, "epoch").map(|e| e.to_string()))) }
                    dt { "Tally" } dd {
                        (format::count(tally)) " shards"
                        @if let Some(total) = shards.filter(|t| *t > 0) {
                            " of " (format::count(total)) " (" (format!("{:.1}", tally as f64 * 100.0 / total as f64)) "%; a quorum needs more than two thirds)"
                        }
                    }
                    dt { "Payload" } dd { code { (p["payload"].to_string()) } }
                }
                @if !votes.is_empty() {
                    ul { @for v in votes { li { (node_link(text(v, "node_id").unwrap_or(""), None)) ": " (or_dash(int(v, "weight").map(format::count))) " shards" } } }
                }
            }
        }
    };
    Ok(Page(layout("Governance", proposals.checkpoint, body)))
}
