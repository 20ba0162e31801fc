//! The router and its bounds, as tower layers around every route:
//!
//! - a request counter and latency histogram by route template and
//!   status, outermost, so shed and timed-out requests are counted too;
//! - a time budget per request (408 past it);
//! - a global concurrency limit with load shedding (503 with
//!   `Retry-After` instead of queueing without bound).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::AppState;
use crate::pages::{self, PageError};

/// The explorer's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Budget of one page (it may call the indexer several times).
    pub request_timeout_ms: u64,
    /// Budget of one call to the indexer.
    pub indexer_timeout_ms: u64,
    /// Pages built at once; more are answered 503 at once.
    pub max_concurrent_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout_ms: 15_000,
            indexer_timeout_ms: 5_000,
            max_concurrent_requests: 256,
        }
    }
}

/// The whole application.
pub fn router(state: AppState, limits: &Limits) -> Router {
    let metrics = RequestMetrics::new(&state.registry);
    let routes = Router::new()
        .route("/", get(pages::home::home))
        .route("/search", get(pages::search::search))
        .route("/blobs", get(pages::blob::list))
        .route("/blobs/{blob_id}", get(pages::blob::blob))
        .route("/objects/{object_id}", get(pages::blob::object))
        .route("/accounts/{address}", get(pages::account::account))
        .route(
            "/accounts/{address}/{section}",
            get(pages::account::section),
        )
        .route("/epochs", get(pages::epochs::list))
        .route("/epochs/{epoch}", get(pages::epochs::epoch))
        .route("/nodes", get(pages::nodes::list))
        .route("/nodes/{node_id}", get(pages::nodes::node))
        .route("/governance", get(pages::governance::governance))
        .route(
            "/governance/{proposal_id}",
            get(pages::governance::proposal),
        )
        .route("/subsidies", get(pages::governance::subsidies))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics_text))
        .fallback(|| async {
            PageError::not_found("there is no page at this address").into_response()
        })
        // Every page is GET (and HEAD): another method gets the error page
        // too, not axum's empty 405 (found by tests/explorer_page_fuzz.rs).
        .method_not_allowed_fallback(|| async {
            PageError {
                status: StatusCode::METHOD_NOT_ALLOWED,
                reason: "method not allowed: every page answers GET".into(),
            }
            .into_response()
        })
        .with_state(state);
    let permits = Arc::new(Semaphore::new(limits.max_concurrent_requests.max(1)));
    routes
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::with_semaphore(permits)),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(limits.request_timeout_ms.max(1)),
        ))
        .layer(middleware::map_response(html_errors))
        .layer(middleware::from_fn(move |request, next| {
            observe(metrics.clone(), request, next)
        }))
}

async fn overloaded(_: tower::BoxError) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        "the explorer is at its concurrency limit; retry in a moment\n",
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(1u32));
    response
}

/// Errors that left a handler or a layer without the HTML error page (an
/// extractor's plain-text rejection, such as a path segment or a query
/// that is not UTF-8, the timeout's empty 408, the load shedder's 503) get
/// it, with their text as the reason (found by tests/explorer_page_fuzz.rs).
/// `Retry-After` is kept.
async fn html_errors(response: Response) -> Response {
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_html || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    // Rejections are one short sentence; more is cut.
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let reason = match text.trim() {
        "" => status.canonical_reason().unwrap_or("error").to_owned(),
        t => t.to_owned(),
    };
    let mut page = PageError { status, reason }.into_response();
    if let Some(v) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, v);
    }
    page
}

/// Answers by route and status, and page build time by route.
#[derive(Clone)]
struct RequestMetrics {
    answers: IntCounterVec,
    seconds: HistogramVec,
}

impl RequestMetrics {
    fn new(registry: &Registry) -> Self {
        let answers = IntCounterVec::new(
            Opts::new(
                "floe_explorer_http_requests_total",
                "Explorer answers by route template and status code",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        let seconds = HistogramVec::new(
            HistogramOpts::new(
                "floe_explorer_request_seconds",
                "Time to answer a request (indexer calls and rendering) by route template",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        for metric in [
            Box::new(answers.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(seconds.clone()),
        ] {
            if let Err(e) = registry.register(metric) {
                tracing::warn!(error = %e, "an explorer metric is not registered");
            }
        }
        Self { answers, seconds }
    }
}

async fn observe(metrics: RequestMetrics, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics
        .answers
        .with_label_values(&[route.as_str(), response.status().as_str()])
        .inc();
    metrics
        .seconds
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn metrics_text(State(s): State<AppState>) -> Response {
    let mut out = String::new();
    if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&s.registry.gather(), &mut out) {
        out = format!("# encoding failed: {e}\n");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
