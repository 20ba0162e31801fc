//! Blobs: the list, a blob id with every object registered under it, and
//! one blob object with its full event history as a timeline.

use std::collections::HashMap;

use axum::extract::{Path, Query as AxumQuery, State};
use floe_core::BlobId;
use floe_core::move_types::ObjectId;
use maud::{Markup, html};
use serde_json::Value;

use super::{
    Page, PageError, PageResult, Query, account_link, int, layout, or_dash, pager, rows,
    status_badge, text,
};
use crate::AppState;
use crate::format;

/// Objects of one blob id whose history the blob page shows inline (the
/// object page shows the rest, paged).
const TIMELINES_INLINE: usize = 5;
/// Events per timeline page.
const EVENTS_PER_PAGE: i64 = 50;
const STATUSES: [&str; 5] = ["registered", "certified", "expired", "deleted", "invalid"];

pub fn parse_blob_id(raw: &str) -> Result<BlobId, PageError> {
    raw.parse()
        .map_err(|e| PageError::bad(format!("not a blob id: {e}")))
}

pub fn parse_object_id(raw: &str) -> Result<ObjectId, PageError> {
    raw.parse()
        .map_err(|e| PageError::bad(format!("not an object id: {e}")))
}

/// A table of blob objects (shared with the account page).
pub fn table(blobs: &[Value]) -> Markup {
    if blobs.is_empty() {
        return html! { p.muted { "No blobs." } };
    }
    html! {
        table.rows.blobs {
            thead { tr { th { "Blob id" } th { "Status" } th { "Size" } th { "Epochs" } th { "Object" } } }
            tbody {
                @for b in blobs {
                    tr {
                        td.id data-label="Blob id" {
                            @if let Some(id) = text(b, "blob_id") { a.blob-link href={ "/blobs/" (id) } { (id) } }
                        }
                        td data-label="Status" { (status_badge(text(b, "status").unwrap_or("?"))) }
                        td data-label="Size" { (or_dash(int(b, "size").map(format::bytes))) }
                        td data-label="Epochs" { (epochs(b)) }
                        td.id data-label="Object" {
                            @if let Some(id) = text(b, "object_id") { a href={ "/objects/" (id) } title=(id) { (format::short(id)) } }
                        }
                    }
                }
            }
        }
    }
}

/// `2 → 7`: certified (or registered) epoch to end epoch.
fn epochs(b: &Value) -> String {
    let start = int(b, "certified_epoch").or_else(|| int(b, "registered_epoch"));
    format!(
        "{} → {}",
        or_dash(start.map(|e| e.to_string())),
        or_dash(int(b, "end_epoch").map(|e| e.to_string()))
    )
}

pub async fn list(
    State(s): State<AppState>,
    AxumQuery(q): AxumQuery<HashMap<String, String>>,
) -> PageResult {
    let q = Query::new(q, &["status", "cursor", "limit"])?;
    let limit = q.limit()?;
    let cursor = q.cursor("cursor")?;
    let status = q.text("status");
    if let Some(st) = status
        && !STATUSES.contains(&st)
    {
        return Err(PageError::bad(format!(
            "status must be one of {}, got {st:?}",
            STATUSES.join(", ")
        )));
    }
    let mut keep = vec![("limit", limit.to_string())];
    if let Some(st) = status {
        keep.push(("status", st.to_owned()));
    }
    let mut params = keep.clone();
    if let Some(c) = &cursor {
        params.push(("cursor", c.clone()));
    }
    let answer = s.indexer.get("/v1/blobs", "/v1/blobs", &params).await?;
    let body = html! {
        h1 { "Blobs" }
        p {
            "Show: " a href="/blobs" { "all" }
            @for st in STATUSES { " · " a href={ "/blobs?status=" (st) } { (st) } }
        }
        (table(rows(&answer.data)))
        (pager("/blobs", &keep, "cursor", cursor.as_deref(), answer.next_cursor.as_deref()))
    };
    Ok(Page(layout("Blobs", answer.checkpoint, body)))
}

/// The status a blob id has overall: invalid if its id was invalidated,
/// else the most alive status among its objects.
fn overall_status(aggregate: &Value, objects: &[Value]) -> &'static str {
    if aggregate["invalid"].as_bool() == Some(true) {
        return "invalid";
    }
    ["certified", "registered", "expired", "deleted", "invalid"]
        .into_iter()
        .find(|st| objects.iter().any(|o| text(o, "status") == Some(st)))
        .unwrap_or("unknown")
}

pub async fn blob(State(s): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let blob_id = parse_blob_id(&raw)?.to_string();
    let path = format!("/v1/blob-ids/{blob_id}");
    let answer = s.indexer.get("/v1/blob-ids/{blob_id}", &path, &[]).await?;
    let agg = &answer.data;
    let objects = rows(&agg["objects"]);
    let timelines = futures::future::join_all(objects.iter().take(TIMELINES_INLINE).map(|o| {
        let id = text(o, "object_id").unwrap_or_default().to_owned();
        let indexer = s.indexer.clone();
        async move {
            let path = format!("/v1/blobs/{id}/events");
            let events = indexer
                .get(
                    "/v1/blobs/{object_id}/events",
                    &path,
                    &[("limit", EVENTS_PER_PAGE.to_string())],
                )
                .await;
            (id, events)
        }
    }))
    .await;
    let status = overall_status(agg, objects);
    let live = objects
        .iter()
        .any(|o| text(o, "status") == Some("certified"));
    let size = int(agg, "size");
    let encoded = objects.iter().find_map(|o| int(o, "encoded_size"));
    let body = html! {
        h1 { "Blob " span.id { (blob_id) } }
        dl.blob-summary {
            dt { "Status" } dd { (status_badge(status)) }
            dt { "Size" } dd { (or_dash(size.map(|b| format!("{} ({} bytes)", format::bytes(b), format::count(b))))) }
            dt { "Encoded size" } dd { (or_dash(encoded.map(format::bytes))) " (what storage is bought for)" }
            dt { "First certified" } dd { (or_dash(int(agg, "first_certified_epoch").map(|e| format!("epoch {e}")))) }
            dt { "Certified until" } dd { (or_dash(int(agg, "certified_until").map(|e| format!("end of epoch {}", e - 1)))) }
            dt { "Objects" } dd {
                // The answer's `objects` is the list (it replaces the count).
                (objects.len()) " ("
                (or_dash(int(agg, "certified_objects").map(format::count))) " certified, "
                (or_dash(int(agg, "permanent_certified").map(format::count))) " permanent)"
            }
            dt { "Download" } dd {
                @match (&s.aggregator, live) {
                    (Some(aggregator), true) => a.download href={ (aggregator) "/v1/blobs/" (blob_id) } download { "Download through the aggregator" },
                    (Some(_), false) => span.muted { "not available: no certified object" },
                    (None, _) => span.muted { "no aggregator configured (start the explorer with --aggregator URL)" },
                }
            }
        }
        h2 { "Objects" }
        @for o in objects { (object_summary(o)) }
        h2 { "History" }
        @for (id, events) in &timelines {
            h3 { "Object " a href={ "/objects/" (id) } title=(id) { (format::short(id)) } }
            @match events {
                Ok(events) => {
                    (timeline(rows(&events.data)))
                    @if events.next_cursor.is_some() { p { a href={ "/objects/" (id) } { "Full history »" } } }
                }
                Err(e) => p.muted { "History unavailable: " (e) },
            }
        }
        @if objects.len() > TIMELINES_INLINE {
            p.muted { "History of the other objects: open each object above." }
        }
    };
    Ok(Page(layout(
        &format!("Blob {blob_id}"),
        answer.checkpoint,
        body,
    )))
}

/// One blob object: status, epochs, owner, attributes.
fn object_summary(o: &Value) -> Markup {
    let attributes = o["attributes"].as_object().filter(|a| !a.is_empty());
    html! {
        dl.object {
            dt { "Object" } dd.id {
                @if let Some(id) = text(o, "object_id") { a href={ "/objects/" (id) } { (id) } }
            }
            dt { "Status" } dd { (status_badge(text(o, "status").unwrap_or("?"))) }
            dt { "Owner" } dd { @match text(o, "owner") { Some(a) => (account_link(a)), None => "— (deleted or wrapped)" } }
            dt { "Registered in" } dd { (or_dash(int(o, "registered_epoch").map(|e| format!("epoch {e}")))) }
            dt { "Certified in" } dd { (or_dash(int(o, "certified_epoch").map(|e| format!("epoch {e}")))) }
            dt { "End epoch" } dd { (or_dash(int(o, "end_epoch").map(|e| format!("epoch {e} (stored through epoch {})", e - 1)))) }
            dt { "Deletable" } dd { (match o["deletable"].as_bool() { Some(true) => "yes", Some(false) => "no (permanent)", None => "—" }) }
            dt { "Attributes" } dd {
                @match attributes {
                    Some(map) => {
                        @for (k, v) in map { code { (k) } " = " code { (v.as_str().map_or_else(|| v.to_string(), str::to_owned)) } br; }
                    }
                    None => span.muted { "none" },
                }
            }
        }
    }
}

/// Events as a timeline, oldest first.
fn timeline(events: &[Value]) -> Markup {
    if events.is_empty() {
        return html! { p.muted { "No events indexed for this object." } };
    }
    html! {
        ol.timeline {
            @for e in events {
                li.event {
                    b { (text(e, "name").unwrap_or("event")) }
                    " · " (or_dash(int(e, "timestamp_ms").map(format::date)))
                    " · checkpoint " (or_dash(int(e, "checkpoint").map(format::count)))
                    br;
                    small.muted { (event_fields(&e["fields"])) }
                    br;
                    small.id { "tx " (text(e, "tx_digest").unwrap_or("?")) }
                }
            }
        }
    }
}

/// The short fields of an event (epochs, flags), leaving out the ids the
/// page already shows.
fn event_fields(fields: &Value) -> String {
    let Some(map) = fields.as_object() else {
        return String::new();
    };
    map.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "blob_id" | "object_id" | "root_hash"))
        .filter(|(_, v)| {
            v.is_number() || v.is_boolean() || v.as_str().is_some_and(|s| s.len() <= 24)
        })
        .map(|(k, v)| match v.as_str() {
            Some(s) => format!("{k}: {s}"),
            None => format!("{k}: {v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn object(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    AxumQuery(q): AxumQuery<HashMap<String, String>>,
) -> PageResult {
    let id = parse_object_id(&raw)?.to_string();
    let q = Query::new(q, &["cursor", "limit"])?;
    let limit = q.limit()?;
    let cursor = q.cursor("cursor")?;
    let blob_path = format!("/v1/blobs/{id}");
    let events_path = format!("/v1/blobs/{id}/events");
    let mut params = vec![("limit", limit.to_string())];
    if let Some(c) = &cursor {
        params.push(("cursor", c.clone()));
    }
    let (blob, events) = tokio::join!(
        s.indexer.get("/v1/blobs/{object_id}", &blob_path, &[]),
        s.indexer
            .get("/v1/blobs/{object_id}/events", &events_path, &params)
    );
    let (blob, events) = (blob?, events?);
    let keep = vec![("limit", limit.to_string())];
    let body = html! {
        h1 { "Blob object " span.id { (id) } }
        @if let Some(blob_id) = text(&blob.data, "blob_id") {
            p { "Blob id " a.id href={ "/blobs/" (blob_id) } { (blob_id) } }
        }
        (object_summary(&blob.data))
        h2 { "History" }
        (timeline(rows(&events.data)))
        (pager(&format!("/objects/{id}"), &keep, "cursor", cursor.as_deref(), events.next_cursor.as_deref()))
    };
    Ok(Page(layout(
        &format!("Blob object {}", format::short(&id)),
        blob.checkpoint,
        body,
    )))
}
