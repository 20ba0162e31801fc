//! The coordinator's HTTP endpoint: `/health`, `/status` (the document of
//! [`crate::status`]) and `/metrics`, all GET (HEAD too).
//!
//! Every other path or method is an error with its reason, in the shape
//! the indexer's API uses (`{"error": "reason"}`), not axum's empty 404
//! and 405 (`tests/coordinator_http_fuzz.rs` checks every error has it):
//! an operator's script or a monitoring probe with a typo learns what went
//! wrong.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::driver::SharedStatus;
use crate::follow;
use crate::metrics::Metrics;
use crate::renewal::RenewalConfig;

/// What the endpoint reads: the driver's and the follower's shared state.
#[derive(Clone)]
pub struct HttpState {
    pub status: SharedStatus,
    pub metrics: Metrics,
    pub payments: follow::SharedPayments,
    pub renewal: RenewalConfig,
    pub sync_grace_ms: u64,
}

/// The routes, with errors in the JSON error shape.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/status", get(status))
        .route("/metrics", get(metrics_text))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such endpoint; the coordinator serves /health, /status and /metrics",
            )
        })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed: every endpoint answers GET",
            )
        })
        .with_state(state)
}

fn error(status: StatusCode, reason: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": reason }))).into_response()
}

async fn status(State(state): State<HttpState>) -> impl IntoResponse {
    let driver = match state.status.read() {
        Ok(g) => g.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let view = follow::with(&state.payments, |p| {
        crate::status::view(driver, p, &state.renewal, state.sync_grace_ms, now_ms)
    });
    axum::Json(view)
}

async fn metrics_text(State(state): State<HttpState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.encode(),
    )
}
