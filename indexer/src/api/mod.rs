//! The explorer API (axum; OpenAPI document at `/openapi.json`).
//!
//! Every answer is `{"checkpoint": N, "data": ..., "next_cursor": ...}`:
//! each request reads inside one REPEATABLE READ transaction that also
//! reads the watermark, so `checkpoint` is exactly the chain state the rows
//! reflect. Lists are keyset-paginated: `cursor` is the `next_cursor` of
//! the previous page (an object id, or a position), so a row is returned
//! once even while the indexer keeps writing. Bad parameters get 400 with
//! the reason, as JSON. Requests are bounded ([`layers`]): a time budget,
//! a concurrency limit with load shedding, and a database pool of their
//! own, so readers cannot starve the committer.

mod governance;
mod history;
pub mod layers;
mod money;
pub mod params;
mod routes;

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::Registry;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use utoipa::OpenApi;

use crate::config::ApiLimits;
use crate::pipeline::{Metrics, PIPELINE};
use params::ApiError;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct ApiState {
    pub pool: PgPool,
    pub registry: Arc<Registry>,
    pub metrics: Metrics,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "floe explorer API",
        description = "Blobs, accounts, epochs, nodes, governance, subsidies and stats indexed from the chain. Every response carries the checkpoint it reflects."
    ),
    paths(
        routes::status,
        routes::blobs,
        routes::blob,
        routes::blob_events,
        routes::blob_id,
        routes::account_blobs,
        routes::account_storage,
        money::account_stakes,
        money::account_rewards,
        routes::account_payments,
        routes::epochs,
        routes::epoch,
        routes::nodes,
        routes::node,
        money::node_history,
        money::node_collections,
        money::epoch_rewards,
        money::rewards,
        money::shared_blobs,
        money::shared_blob_renewals,
        routes::stats,
        history::epoch_history,
        governance::governance,
        governance::proposal,
        governance::subsidies
    )
)]
pub struct ApiDoc;

/// The router with the default [`ApiLimits`].
pub fn router(state: ApiState) -> Router {
    router_with(state, &ApiLimits::default())
}

/// The router, bounded by `limits` (answers are counted in the state's
/// registry as `floe_indexer_http_requests_total`).
pub fn router_with(state: ApiState, limits: &ApiLimits) -> Router {
    let counter = layers::request_counter(&state.registry);
    let routes = Router::new()
        .route("/v1/status", get(routes::status))
        .route("/v1/blobs", get(routes::blobs))
        .route("/v1/blobs/{object_id}", get(routes::blob))
        .route("/v1/blobs/{object_id}/events", get(routes::blob_events))
        .route("/v1/blob-ids/{blob_id}", get(routes::blob_id))
        .route("/v1/accounts/{address}/blobs", get(routes::account_blobs))
        .route(
            "/v1/accounts/{address}/storage",
            get(routes::account_storage),
        )
        .route("/v1/accounts/{address}/stakes", get(money::account_stakes))
        .route(
            "/v1/accounts/{address}/rewards",
            get(money::account_rewards),
        )
        .route(
            "/v1/accounts/{address}/payments",
            get(routes::account_payments),
        )
        .route("/v1/epochs", get(routes::epochs))
        .route("/v1/epochs/{epoch}", get(routes::epoch))
        .route("/v1/nodes", get(routes::nodes))
        .route("/v1/nodes/{node_id}", get(routes::node))
        .route("/v1/nodes/{node_id}/history", get(money::node_history))
        .route(
            "/v1/nodes/{node_id}/collections",
            get(money::node_collections),
        )
        .route("/v1/epochs/{epoch}/rewards", get(money::epoch_rewards))
        .route("/v1/rewards", get(money::rewards))
        .route("/v1/shared-blobs", get(money::shared_blobs))
        .route(
            "/v1/shared-blobs/{object_id}/renewals",
            get(money::shared_blob_renewals),
        )
        .route("/v1/stats", get(routes::stats))
        .route("/v1/stats/epochs", get(history::epoch_history))
        .route("/v1/governance", get(governance::governance))
        .route("/v1/governance/{proposal_id}", get(governance::proposal))
        .route("/v1/subsidies", get(governance::subsidies))
        .route(
            "/openapi.json",
            get(|| async { axum::Json(ApiDoc::openapi()) }),
        )
        .route("/metrics", get(routes::metrics))
        .fallback(|| async { ApiError::not_found("no such endpoint; see /openapi.json") })
        // Every endpoint is GET: another method gets 405 in the error
        // shape too, not an empty body (found by tests/explorer_api_fuzz.rs).
        .method_not_allowed_fallback(|| async {
            ApiError {
                status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
                reason: "method not allowed: every endpoint answers GET".into(),
            }
        })
        .with_state(state);
    layers::bound(routes, limits, counter).layer(axum::middleware::map_response(json_errors))
}

/// Answers that left a handler or a layer without the API's error shape
/// (an extractor's plain-text rejection, such as a path segment that is
/// not UTF-8, or the timeout's empty 408) get it (found by
/// tests/explorer_api_fuzz.rs).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Rejections are one short sentence; more is cut.
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let mut reason = String::from_utf8_lossy(&body).into_owned();
    if reason.is_empty() {
        reason = status.canonical_reason().unwrap_or("error").to_owned();
    }
    ApiError { status, reason }.into_response()
}

/// A read-only snapshot and the checkpoint it reflects.
pub(crate) struct Snapshot {
    pub tx: Transaction<'static, Postgres>,
    pub checkpoint: Option<i64>,
}

impl Snapshot {
    pub async fn begin(pool: &PgPool) -> Result<Self, ApiError> {
        let mut tx = pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let checkpoint: Option<(i64,)> =
            sqlx::query_as("SELECT checkpoint FROM watermarks WHERE pipeline = $1")
                .bind(PIPELINE)
                .fetch_optional(&mut *tx)
                .await?;
        Ok(Self {
            tx,
            checkpoint: checkpoint.map(|c| c.0),
        })
    }

    /// The current epoch as the index knows it (0 before the first read).
    pub async fn epoch(&mut self) -> Result<i32, ApiError> {
        let e: Option<(i32,)> = sqlx::query_as("SELECT epoch FROM system_state WHERE id = 1")
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(e.map_or(0, |e| e.0))
    }

    /// The answer envelope around rows that are JSON text already (built
    /// by Postgres, so valid JSON).
    pub fn page_answer(&self, rows: &[String], next_cursor: Option<String>) -> Response {
        let len = rows.iter().map(|r| r.len() + 1).sum::<usize>() + 96;
        let mut body = String::with_capacity(len);
        body.push_str("{\"checkpoint\":");
        body.push_str(&Value::from(self.checkpoint).to_string());
        body.push_str(",\"data\":[");
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(r);
        }
        body.push_str("],\"next_cursor\":");
        body.push_str(&Value::from(next_cursor).to_string());
        body.push('}');
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    }

    /// The answer envelope.
    pub fn answer(&self, data: Value, next_cursor: Option<String>) -> axum::Json<Value> {
        axum::Json(json!({
            "checkpoint": self.checkpoint,
            "data": data,
            "next_cursor": next_cursor,
        }))
    }
}
