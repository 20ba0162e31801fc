//! The explorer API's bounds, as tower layers around every route:
//!
//! - a request counter by route template and status code, outermost, so
//!   the answers of the layers below (408 timeouts, 503 load shedding,
//!   404 fallbacks, extractor rejections) are counted too;
//! - a time budget (408 past it; dropping the handler rolls its
//!   read-only transaction back and returns the connection);
//! - a global concurrency limit with load shedding: beyond
//!   `max_concurrent_requests` a request is answered 503 with
//!   `Retry-After` at once instead of queueing on the database pool.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use prometheus::{IntCounterVec, Opts, Registry};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::ApiLimits;

/// Seconds a shed client is told to wait.
const RETRY_AFTER_SECS: u32 = 1;

/// `floe_indexer_http_requests_total{route, status}`, registered in
/// `registry`.
pub fn request_counter(registry: &Registry) -> IntCounterVec {
    let counter = IntCounterVec::new(
        Opts::new(
            "floe_indexer_http_requests_total",
            "Explorer API answers by route template and status code",
        ),
        &["route", "status"],
    )
    .expect("valid metric");
    if let Err(e) = registry.register(Box::new(counter.clone())) {
        // Only a second router on one registry gets here.
        tracing::warn!(error = %e, "the API request counter is not registered");
    }
    counter
}

async fn overloaded(_: tower::BoxError) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({
            "error": "the explorer API is at its concurrency limit; retry later"
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

async fn count(counter: IntCounterVec, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    counter
        .with_label_values(&[route.as_str(), response.status().as_str()])
        .inc();
    response
}

/// Wraps every route of `router` (including its fallback) in the bounds.
pub fn bound(router: Router, limits: &ApiLimits, counter: IntCounterVec) -> Router {
    let permits = Arc::new(Semaphore::new(limits.max_concurrent_requests.max(1)));
    router
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
        .layer(middleware::from_fn(move |request, next| {
            count(counter.clone(), request, next)
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    /// A router whose `/slow` announces itself on `entered` and waits for
    /// `release`, and whose `/hang` never answers, wrapped in the bounds.
    async fn serve(
        limits: ApiLimits,
        entered: tokio::sync::mpsc::UnboundedSender<()>,
        release: Arc<Semaphore>,
    ) -> (String, Registry) {
        let registry = Registry::new();
        let routes = Router::new()
            .route(
                "/slow",
                get(move || {
                    let (entered, release) = (entered.clone(), release.clone());
                    async move {
                        let _ = entered.send(());
                        release.acquire().await.unwrap().forget();
                        "done"
                    }
                }),
            )
            .route("/hang", get(std::future::pending::<&'static str>))
            .fallback(|| async { StatusCode::NOT_FOUND });
        let app = bound(routes, &limits, request_counter(&registry));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (base, registry)
    }

    fn counted(registry: &Registry, route: &str, status: &str) -> u64 {
        registry
            .gather()
            .iter()
            .filter(|f| f.name() == "floe_indexer_http_requests_total")
            .flat_map(|f| f.get_metric().iter())
            .filter(|m| {
                let labels: Vec<_> = m
                    .get_label()
                    .iter()
                    .map(|l| (l.name(), l.value()))
                    .collect();
                labels.contains(&("route", route)) && labels.contains(&("status", status))
            })
            .map(|m| m.get_counter().get_value() as u64)
            .sum()
    }

    #[tokio::test]
    async fn a_request_past_its_budget_is_408_and_counted() {
        let limits = ApiLimits {
            request_timeout_ms: 50,
            ..ApiLimits::default()
        };
        let (entered, _) = tokio::sync::mpsc::unbounded_channel();
        let (base, registry) = serve(limits, entered, Arc::new(Semaphore::new(0))).await;
        let r = reqwest::get(format!("{base}/hang")).await.unwrap();
        assert_eq!(r.status(), 408);
        let r = reqwest::get(format!("{base}/nope")).await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(counted(&registry, "/hang", "408"), 1);
        assert_eq!(counted(&registry, "unmatched", "404"), 1);
    }

    #[tokio::test]
    async fn requests_past_the_concurrency_limit_are_shed_with_503() {
        let limits = ApiLimits {
            max_concurrent_requests: 1,
            ..ApiLimits::default()
        };
        let (entered_tx, mut entered) = tokio::sync::mpsc::unbounded_channel();
        let release = Arc::new(Semaphore::new(0));
        let (base, registry) = serve(limits, entered_tx, release.clone()).await;
        let first = tokio::spawn({
            let base = base.clone();
            async move { reqwest::get(format!("{base}/slow")).await.unwrap() }
        });
        // Once the first request runs it holds the only slot.
        entered.recv().await.unwrap();
        let shed = reqwest::get(format!("{base}/slow")).await.unwrap();
        assert_eq!(shed.status(), 503);
        assert_eq!(shed.headers()["retry-after"], "1");
        release.add_permits(1);
        assert_eq!(first.await.unwrap().status(), 200);
        assert_eq!(counted(&registry, "/slow", "503"), 1);
        assert_eq!(counted(&registry, "/slow", "200"), 1);
    }
}
