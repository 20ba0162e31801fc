//! The REST API, on Walrus's paths (Walrus's `node/server/routes.rs`): a
//! thin HTTP layer over the [`NodeContext`]. Handlers parse and validate
//! requests (ids, indices, shard ownership, body sizes and encodings,
//! sliver verification), call the context, and render its answers in
//! Walrus's formats; what is stored, buffered, promoted or signed is the
//! context's business. Reads only read.
//!
//! Binary bodies are BCS (`application/octet-stream`); JSON answers are
//! wrapped as `{"success": {"code", "data"}}` and errors are Walrus's status
//! objects (`error.rs`): the same HTTP codes, status names, reasons and
//! domain as Walrus's node for each case, so Walrus's own clients (the
//! TypeScript SDK retries only `400 NOT_REGISTERED`) behave as against
//! Walrus.
//!
//! Bounds: the body limit answers 413 before a handler runs (uploads also
//! have per-route bounds: metadata by `n`, slivers by what the blob's
//! metadata imply, checked before the body is read); every request has a
//! time budget (504 `DEADLINE_EXCEEDED`); uploads, reads and symbol
//! requests each have a concurrency limit with load shedding (tower's
//! `GlobalConcurrencyLimit` + `LoadShed` per route class: beyond the limit
//! a request is answered 503 `UNAVAILABLE` at once, as Walrus's node does
//! when a limiter trips, instead of queueing on the store); health, metrics and the API document
//! are never shed. Counts in queries are capped. CPU-heavy checks (sliver
//! verification, symbol expansion) and store calls run on the blocking
//! pool, which the limits keep from filling.

mod blobs;
mod error;
mod openapi;
mod symbols;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use prometheus::{Encoder, TextEncoder};
use serde::Serialize;
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::config::Limits;
use crate::context::NodeContext;

/// What a handler needs: the node context it calls and the HTTP limits it
/// enforces; cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    ctx: NodeContext,
    limits: Arc<Limits>,
}

impl AppState {
    /// Runs a blocking store/CPU closure on the blocking pool, charged to
    /// the route's work limit ([`run_blocking`]).
    async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&NodeContext) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let ctx = self.ctx.clone();
        run_blocking(move || f(&ctx)).await
    }

    /// Runs CPU-bound work (sliver verification) on the CPU pool, one
    /// thread per core ([`floe_core::cpu_pool`]), charged to the route's
    /// work limit like [`Self::blocking`]. Store work, which waits for
    /// disk, stays on the blocking pool.
    async fn cpu<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = work_permit()?;
        floe_core::cpu_pool::on_cpu_pool(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
    }
}

/// A permit of the running route's work limit (see [`run_blocking`]);
/// `None` outside a limited route (tests, health), 503 when it is spent.
fn work_permit() -> Result<Option<tokio::sync::OwnedSemaphorePermit>, ApiError> {
    match WORK.try_with(|work| work.clone().try_acquire_owned()) {
        Err(_) => Ok(None),
        Ok(Ok(permit)) => Ok(Some(permit)),
        Ok(Err(_)) => Err(ApiError::unavailable(
            "the node is still working on earlier requests of this kind; retry later",
        )),
    }
}

tokio::task_local! {
    /// The work limit of the route whose handler is running.
    static WORK: Arc<Semaphore>;
}

/// Runs `f` on the blocking pool holding a permit of the running route's
/// work limit until `f` returns, not only until the request ends.
///
/// Why: a request past its time budget is answered 504 and its handler
/// dropped, which frees its concurrency slot, but blocking work cannot be
/// cancelled and goes on. Without a permit that lives as long as the work,
/// a client sending requests that time out could pile up blocking threads
/// without bound while the concurrency limit reported room. When the
/// route's work limit is spent (by requests that are gone but whose work is
/// not), the request is shed with 503 like any over the limit.
async fn run_blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let permit = work_permit()?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
}

/// One kind of request (uploads, reads, symbol requests): how many run at
/// once, and how much of their blocking work may be under way, counting
/// work that outlived its request (see [`run_blocking`]).
struct RouteClass {
    /// The class's concurrency limit: one tower layer whose clones (one
    /// per route of the class) share its permits.
    running: GlobalConcurrencyLimitLayer,
    /// Blocking work of the class's requests. Not a request limit (the
    /// layer above is): it bounds work on the blocking pool, which outlives
    /// a request that timed out, and no tower layer can hold a permit past
    /// the end of its request (see [`run_blocking`]).
    work: Arc<Semaphore>,
    what: &'static str,
}

impl RouteClass {
    fn new(limit: usize, what: &'static str) -> Self {
        Self {
            running: GlobalConcurrencyLimitLayer::new(limit),
            work: Arc::new(Semaphore::new(limit.max(1))),
            what,
        }
    }
}

/// Wraps `route` in its class's shared concurrency limit that sheds: when
/// all of its permits are taken, the request is answered 503 `UNAVAILABLE`
/// at once (before its body is read) rather than waiting. Inside, the
/// handler's blocking work is charged to the class's work limit.
fn shed<S: Clone + Send + Sync + 'static>(
    route: MethodRouter<S>,
    class: &RouteClass,
) -> MethodRouter<S> {
    let work = class.work.clone();
    let what = class.what;
    route
        .route_layer(middleware::from_fn(move |req: Request, next: Next| {
            let work = work.clone();
            async move { WORK.scope(work, next.run(req)).await }
        }))
        .route_layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(
                    move |_: tower::BoxError| async move {
                        ApiError::unavailable(format!("too many concurrent {what}; retry later"))
                    },
                ))
                .layer(LoadShedLayer::new())
                .layer(class.running.clone()),
        )
}

/// The router with all routes and layers, answering from `ctx` within
/// `limits`.
pub fn router(ctx: NodeContext, limits: Limits) -> Router {
    let state = AppState {
        ctx,
        limits: Arc::new(limits.clone()),
    };
    let uploads = RouteClass::new(limits.max_concurrent_uploads, "uploads");
    let reads = RouteClass::new(limits.max_concurrent_reads, "reads");
    let symbols = RouteClass::new(limits.max_concurrent_symbol_requests, "symbol requests");
    let blob = "/v1/blobs/{blob_id}";
    Router::new()
        .route(
            &format!("{blob}/metadata"),
            shed(get(blobs::get_metadata), &reads).merge(shed(put(blobs::put_metadata), &uploads)),
        )
        .route(
            &format!("{blob}/metadata/status"),
            shed(get(blobs::metadata_status), &reads),
        )
        .route(
            &format!("{blob}/slivers/{{pair}}/{{sliver_type}}"),
            shed(get(blobs::get_sliver), &reads).merge(shed(put(blobs::put_sliver), &uploads)),
        )
        .route(
            &format!("{blob}/slivers/{{pair}}/{{sliver_type}}/status"),
            shed(get(blobs::sliver_status), &reads),
        )
        .route(
            &format!("{blob}/confirmation/permanent"),
            shed(get(blobs::confirm_permanent), &reads),
        )
        .route(
            &format!("{blob}/confirmation/deletable/{{object_id}}"),
            shed(get(blobs::confirm_deletable), &reads),
        )
        .route(
            &format!("{blob}/recoverySymbols"),
            shed(get(symbols::recovery_symbols), &symbols),
        )
        .route(
            &format!("{blob}/decodingSymbols"),
            shed(get(symbols::decoding_symbols), &symbols),
        )
        .route(
            &format!("{blob}/inconsistencyProof/{{sliver_type}}"),
            shed(post(symbols::inconsistency_proof), &symbols),
        )
        .route(
            &format!("{blob}/status"),
            shed(get(blobs::blob_status), &reads),
        )
        .route("/v1/health", get(health))
        .route("/v1/api", get(openapi::document))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::not_found("NOT_FOUND", "no such route") })
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::GATEWAY_TIMEOUT,
            Duration::from_millis(limits.request_timeout_ms),
        ))
        .layer(middleware::from_fn(json_errors))
        // Outside the limits and the time budget, so their answers (413,
        // 504, 503) are counted like any other.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    state
        .ctx
        .metrics()
        .requests
        .with_label_values(&[route.as_str(), response.status().as_str()])
        .inc();
    response
}

/// Turns the plain-text errors of extractors and tower layers (bad path or
/// query syntax, 405, the 504 timeout, 413 body limit) into the same JSON
/// error shape with a reason, so clients parse one error format. Walrus
/// leaves these to its HTTP stack; the codes stay, the body gets the shape.
async fn json_errors(req: Request, next: Next) -> Response {
    use error::Class;
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (class, reason) = match status.as_u16() {
        400 => (Class::InvalidArgument, "INVALID_REQUEST"),
        404 => (Class::NotFound, "NOT_FOUND"),
        408 | 504 => (Class::DeadlineExceeded, "DEADLINE_EXCEEDED"),
        415 => (Class::InvalidArgument, "INVALID_CONTENT_TYPE"),
        413 => (Class::Transport(status), "PAYLOAD_TOO_LARGE"),
        405 => (Class::Transport(status), "METHOD_NOT_ALLOWED"),
        503 => return ApiError::unavailable("the node is overloaded; retry later").into_response(),
        _ => (Class::Transport(status), "HTTP_ERROR"),
    };
    // These bodies are short messages written by axum/tower; cap the read
    // anyway so a surprise body cannot grow the error path.
    let message = match axum::body::to_bytes(response.into_body(), 4096).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).into_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    ApiError::new(class, reason, message).into_response()
}

/// `{"success": {"code": 200, "data": ...}}`.
pub(crate) fn success<T: Serialize>(code: http::StatusCode, data: T) -> Response {
    (
        code,
        axum::Json(serde_json::json!({"success": {"code": code.as_u16(), "data": data}})),
    )
        .into_response()
}

/// BCS body with 200.
pub(crate) fn bcs_response(bytes: impl Into<Body>) -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/octet-stream")],
        bytes.into(),
    )
        .into_response()
}

/// Walrus's `ServiceHealthInfo` (every field Walrus's client requires),
/// followed by floe's own fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    /// Walrus's `Duration` shape.
    uptime: std::time::Duration,
    uptime_secs: u64,
    epoch: u32,
    public_key: String,
    /// `Active`; `RecoveryInProgress` while certified blobs wait for
    /// recovery; `Standby` when this node's key is not in the committee.
    node_status: &'static str,
    event_progress: EventProgress,
    shard_summary: ShardSummary,
    /// The last checkpoint applied, when following the chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_checkpoint_sequence_number: Option<u64>,
    n_shards: u16,
    owned_shards: Vec<u16>,
    /// Owned shards gained at an epoch change and still being filled.
    syncing_shards: Vec<u16>,
    /// Shards lost at an epoch change, kept readable for their new owner.
    locked_shards: Vec<u16>,
    pending_metadata: usize,
    /// Blob ids waiting in the durable recovery queue.
    recovery_queue: usize,
}

/// Walrus counts events; floe applies whole checkpoints, so `persisted`
/// counts applied checkpoints and nothing is ever pending in memory.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventProgress {
    persisted: u64,
    pending: u64,
    highest_finished_event_index: Option<u64>,
    /// The next checkpoint the follower applies (absent in static mode,
    /// where nothing is followed).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_checkpoint: Option<u64>,
}

/// Walrus's `ShardStatusSummary`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ShardSummary {
    owned: usize,
    owned_shard_status: OwnedShardStatus,
    read_only: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OwnedShardStatus {
    unknown: usize,
    ready: usize,
    in_transfer: usize,
    in_recovery: usize,
}

/// Health reads only in-memory state and two small store reads that never
/// wait for the write path (fjall reads take no write lock), and it is
/// exempt from load shedding, so a node busy with writes still answers.
async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    let committee = state.ctx.chain().committee();
    let view = committee.clone();
    let (next, queue, syncing) = state
        .blocking(move |s| {
            let store = s.store();
            let syncing: Vec<u16> = store
                .shard_statuses()?
                .into_iter()
                .filter(|(shard, st)| {
                    crate::store::is_syncing(*st) && view.owned_shards().contains(shard)
                })
                .map(|(shard, _)| shard)
                .collect();
            Ok((
                store.next_checkpoint()?,
                store.recovery_queue_len()?,
                syncing,
            ))
        })
        .await?;
    let following = state.ctx.is_following();
    let node_status = if !committee.is_member() {
        "Standby"
    } else if queue > 0 {
        "RecoveryInProgress"
    } else {
        "Active"
    };
    let owned = committee.owned_shards().len();
    let uptime = state.ctx.uptime();
    Ok(success(
        http::StatusCode::OK,
        Health {
            uptime,
            uptime_secs: uptime.as_secs(),
            epoch: committee.epoch(),
            public_key: state.ctx.public_key().to_string(),
            node_status,
            event_progress: EventProgress {
                persisted: if following { next } else { 0 },
                pending: 0,
                highest_finished_event_index: None,
                next_checkpoint: following.then_some(next),
            },
            shard_summary: ShardSummary {
                owned,
                owned_shard_status: OwnedShardStatus {
                    unknown: 0,
                    ready: owned.saturating_sub(syncing.len()),
                    in_transfer: 0,
                    in_recovery: syncing.len(),
                },
                read_only: committee.locked_shards().len(),
            },
            latest_checkpoint_sequence_number: following.then(|| next.checked_sub(1)).flatten(),
            n_shards: committee.n_shards(),
            owned_shards: committee.owned_shards().iter().copied().collect(),
            syncing_shards: syncing,
            locked_shards: committee.locked_shards().iter().copied().collect(),
            pending_metadata: state.ctx.buffered_metadata_count(),
            recovery_queue: queue,
        },
    ))
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&state.ctx.metrics().registry.gather(), &mut out)
        .map_err(|e| ApiError::internal(format!("metrics: {e}")))?;
    Ok((
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocking work that outlives its request (dropped at its time
    /// budget) keeps its unit of the work limit until it ends, so requests
    /// behind it are shed instead of piling up blocking threads.
    #[tokio::test]
    async fn work_that_outlives_its_request_keeps_its_permit() {
        let work = Arc::new(Semaphore::new(1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let stuck = WORK.scope(
            work.clone(),
            run_blocking(move || {
                let _ = wait.recv();
                Ok(())
            }),
        );
        // The request gives up (its future is dropped); its work goes on.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), stuck)
                .await
                .is_err()
        );
        assert_eq!(work.available_permits(), 0);
        let shed = WORK.scope(work.clone(), run_blocking(|| Ok(1))).await;
        let err = shed.expect_err("the limit is spent by the stuck work");
        assert_eq!(
            err.into_response().status(),
            http::StatusCode::SERVICE_UNAVAILABLE
        );
        release.send(()).unwrap();
        while work.available_permits() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let ran = WORK.scope(work.clone(), run_blocking(|| Ok(2))).await;
        assert_eq!(ran.ok(), Some(2));
        // Outside any route there is nothing to charge.
        assert_eq!(run_blocking(|| Ok(3)).await.ok(), Some(3));
    }
}
