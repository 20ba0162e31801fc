//! The REST API, on Walrus's paths (fact sheet section 3.1).
//!
//! Binary bodies are BCS (`application/octet-stream`); JSON answers are
//! wrapped as `{"success": {"code", "data"}}` and errors as
//! `{"error": {"code", "status", "message", "details": [{"reason", "domain"}]}}`
//! with an UPPER_SNAKE_CASE reason, as Walrus's node does.
//!
//! Bounds: the body limit answers 413 before a handler runs, every request
//! has a time budget (408), symbol requests share a semaphore (429), and
//! counts in queries are capped. CPU-heavy checks (sliver verification,
//! symbol expansion) and store calls run on the blocking pool.

mod blobs;
mod error;
mod openapi;
mod symbols;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use floe_core::BlobId;
use floe_core::bls::BlsSecretKey;
use prometheus::{Encoder, TextEncoder};
use serde::Serialize;
use tokio::sync::Semaphore;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::chain_view::ChainView;
use crate::config::Limits;
use crate::metrics::NodeMetrics;
use crate::pending::{PendingMetadata, PendingSlivers};
use crate::store::{NodeStore, StoreError};

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<NodeStore>,
    chain: ChainView,
    key: BlsSecretKey,
    limits: Limits,
    pending: PendingMetadata,
    pending_slivers: PendingSlivers,
    /// Serialises moving a blob's buffered uploads into the store with
    /// buffering more of them: without it a sliver buffered while another
    /// request flushes the buffer would be acknowledged (202) and then never
    /// stored, and a request racing the flush would see neither buffered
    /// nor stored metadata.
    pending_promotion: std::sync::Mutex<()>,
    symbol_permits: Semaphore,
    started: Instant,
    metrics: NodeMetrics,
    /// Checkpoints applied by the follower (next sequence number); waiters
    /// for a registration event watch it.
    applied: tokio::sync::watch::Sender<u64>,
    /// Whether the node follows the chain (false in static test mode).
    following: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// State over an open store, a chain view and the node's protocol key.
    pub fn new(store: Arc<NodeStore>, chain: ChainView, key: BlsSecretKey, limits: Limits) -> Self {
        let next = store.next_checkpoint().unwrap_or(0);
        Self {
            inner: Arc::new(Inner {
                pending: PendingMetadata::new(
                    limits.pending_metadata_entries,
                    limits.pending_metadata_bytes,
                ),
                pending_slivers: PendingSlivers::new(limits.pending_sliver_bytes),
                pending_promotion: std::sync::Mutex::new(()),
                symbol_permits: Semaphore::new(limits.max_concurrent_symbol_requests),
                store,
                chain,
                key,
                limits,
                started: Instant::now(),
                metrics: NodeMetrics::new(),
                applied: tokio::sync::watch::Sender::new(next),
                following: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// The durable store.
    pub fn store(&self) -> &Arc<NodeStore> {
        &self.inner.store
    }

    /// The committee view (replaced by the follower).
    pub fn chain(&self) -> &ChainView {
        &self.inner.chain
    }

    /// This node's protocol public key.
    pub fn public_key(&self) -> floe_core::bls::BlsPublicKey {
        self.inner.key.public_key()
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &NodeMetrics {
        &self.inner.metrics
    }

    /// Called by the follower after each applied checkpoint: wakes requests
    /// waiting for a registration event.
    pub fn checkpoint_applied(&self, next: u64) {
        self.inner
            .following
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.inner.applied.send_replace(next);
    }

    /// Persists metadata and slivers buffered with `?pending=true` for
    /// `blob_id` if the blob is now registered (blocking; the follower calls
    /// it when the registration event arrives).
    pub fn flush_pending(&self, blob_id: &BlobId) -> Result<(), StoreError> {
        let committee = self.inner.chain.committee();
        if !self.inner.pending.contains(blob_id) {
            return Ok(());
        }
        blobs::metadata_for(self, &committee, blob_id)
            .map(|_| ())
            .map_err(|e| StoreError::Corrupt {
                what: "pending upload",
                reason: e.to_string(),
            })
    }

    /// Holds the pending-promotion lock (see `Inner::pending_promotion`).
    fn promotion_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        // The lock guards no data, so a poisoned one is still usable.
        self.inner
            .pending_promotion
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a blocking store/CPU closure on the blocking pool.
    async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
    }
}

/// The router with all routes and layers.
pub fn router(state: AppState) -> Router {
    let limits = state.inner.limits.clone();
    let blob = "/v1/blobs/{blob_id}";
    Router::new()
        .route(
            &format!("{blob}/metadata"),
            get(blobs::get_metadata).put(blobs::put_metadata),
        )
        .route(
            &format!("{blob}/metadata/status"),
            get(blobs::metadata_status),
        )
        .route(
            &format!("{blob}/slivers/{{pair}}/{{sliver_type}}"),
            get(blobs::get_sliver).put(blobs::put_sliver),
        )
        .route(
            &format!("{blob}/slivers/{{pair}}/{{sliver_type}}/status"),
            get(blobs::sliver_status),
        )
        .route(
            &format!("{blob}/confirmation/permanent"),
            get(blobs::confirm_permanent),
        )
        .route(
            &format!("{blob}/confirmation/deletable/{{object_id}}"),
            get(blobs::confirm_deletable),
        )
        .route(
            &format!("{blob}/recoverySymbols"),
            get(symbols::recovery_symbols),
        )
        .route(
            &format!("{blob}/decodingSymbols"),
            get(symbols::decoding_symbols),
        )
        .route(
            &format!("{blob}/inconsistencyProof/{{sliver_type}}"),
            post(symbols::inconsistency_proof),
        )
        .route(&format!("{blob}/status"), get(blobs::blob_status))
        .route("/v1/health", get(health))
        .route("/v1/api", get(openapi::document))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::not_found("NOT_FOUND", "no such route") })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(limits.request_timeout_ms),
        ))
        .layer(middleware::from_fn(json_errors))
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
        .inner
        .metrics
        .requests
        .with_label_values(&[route.as_str(), response.status().as_str()])
        .inc();
    response
}

/// Turns the plain-text errors of extractors and tower layers (bad path or
/// query syntax, 405, 408 timeout, 413 body limit) into the same JSON error
/// shape with a reason, so clients parse one error format.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let reason = match status.as_u16() {
        400 => "INVALID_REQUEST",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        413 => "PAYLOAD_TOO_LARGE",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        _ => "HTTP_ERROR",
    };
    // These bodies are short messages written by axum/tower; cap the read
    // anyway so a surprise body cannot grow the error path.
    let message = match axum::body::to_bytes(response.into_body(), 4096).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).into_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    ApiError::new(status, reason, message).into_response()
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
pub(crate) fn bcs_response(bytes: Vec<u8>) -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/octet-stream")],
        bytes,
    )
        .into_response()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    uptime_secs: u64,
    epoch: u32,
    public_key: String,
    /// `Active`; `RecoveryInProgress` while certified blobs wait for
    /// recovery; `Standby` when this node's key is not in the committee.
    node_status: &'static str,
    /// Event progress: the next checkpoint the follower applies (`null` in
    /// static mode, where nothing is followed).
    event_progress: Option<EventProgress>,
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventProgress {
    /// Checkpoints applied (= next checkpoint sequence number).
    next_checkpoint: u64,
}

async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    let committee = state.inner.chain.committee();
    let view = committee.clone();
    let (next, queue, syncing) = state
        .blocking(move |s| {
            let syncing: Vec<u16> = s
                .inner
                .store
                .shard_statuses()?
                .into_iter()
                .filter(|(shard, st)| {
                    crate::store::is_syncing(*st) && view.owned_shards().contains(shard)
                })
                .map(|(shard, _)| shard)
                .collect();
            Ok((
                s.inner.store.next_checkpoint()?,
                s.inner.store.recovery_queue_len()?,
                syncing,
            ))
        })
        .await?;
    let following = state
        .inner
        .following
        .load(std::sync::atomic::Ordering::Relaxed);
    let node_status = if !committee.is_member() {
        "Standby"
    } else if queue > 0 {
        "RecoveryInProgress"
    } else {
        "Active"
    };
    Ok(success(
        http::StatusCode::OK,
        Health {
            uptime_secs: state.inner.started.elapsed().as_secs(),
            epoch: committee.epoch(),
            public_key: state.inner.key.public_key().to_string(),
            node_status,
            event_progress: following.then_some(EventProgress {
                next_checkpoint: next,
            }),
            n_shards: committee.n_shards(),
            owned_shards: committee.owned_shards().iter().copied().collect(),
            syncing_shards: syncing,
            locked_shards: committee.locked_shards().iter().copied().collect(),
            pending_metadata: state.inner.pending.len(),
            recovery_queue: queue,
        },
    ))
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&state.inner.metrics.registry.gather(), &mut out)
        .map_err(|e| ApiError::internal(format!("metrics: {e}")))?;
    Ok((
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
        .into_response())
}
