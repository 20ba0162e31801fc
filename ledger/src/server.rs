//! One port for everything: Sui gRPC v2 (HTTP/2), gRPC-Web (HTTP/1.1,
//! with CORS, for browser dApps on Sui's TypeScript SDK), the faucet
//! (`POST /v2/gas`, Sui's faucet request format), Prometheus `/metrics`
//! and `/health`.

use std::future::Future;
use std::time::Duration;

use axum::Json;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::routing::{get, post};
use http::{HeaderName, Method};
use serde::Deserialize;
use serde_json::json;
use sui_sdk_types::Address;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::Ledger;
use crate::rpc::Services;

/// Why the server stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Deserialize)]
struct FixedAmountRequest {
    recipient: String,
    /// floe extension: the coin type to send (default `0x2::sui::SUI`), so
    /// the faucet can hand out other devnet coins such as WAL.
    #[serde(default)]
    coin_type: Option<String>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct FaucetRequest {
    FixedAmountRequest: FixedAmountRequest,
}

fn faucet_failure(code: StatusCode, msg: String) -> (StatusCode, Json<serde_json::Value>) {
    (
        code,
        Json(json!({ "status": { "Failure": { "Internal": msg } }, "coins_sent": null })),
    )
}

async fn faucet(
    AxState(ledger): AxState<Ledger>,
    body: axum::body::Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    let request: FaucetRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return faucet_failure(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"FixedAmountRequest\":{{\"recipient\":\"0x…\"}}}}: {e}"),
            );
        }
    };
    let recipient: Address = match request.FixedAmountRequest.recipient.parse() {
        Ok(a) => a,
        Err(e) => return faucet_failure(StatusCode::BAD_REQUEST, format!("bad recipient: {e}")),
    };
    let coin_type = match request
        .FixedAmountRequest
        .coin_type
        .as_deref()
        .map(str::parse)
    {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            return faucet_failure(StatusCode::BAD_REQUEST, format!("bad coin_type: {e}"));
        }
    };
    let l = ledger.clone();
    match tokio::task::spawn_blocking(move || l.faucet(recipient, coin_type, None)).await {
        Ok(Ok((id, amount, digest))) => {
            tracing::info!(%recipient, amount, %digest, "faucet");
            (
                StatusCode::CREATED,
                Json(json!({
                    "status": "Success",
                    "coins_sent": [{ "amount": amount, "id": id.to_string(), "transferTxDigest": digest.to_string() }],
                })),
            )
        }
        Ok(Err(e @ crate::error::TxError::Invalid(_))) => {
            faucet_failure(StatusCode::BAD_REQUEST, e.to_string())
        }
        Ok(Err(e)) => faucet_failure(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => faucet_failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
        ])
        .max_age(Duration::from_secs(3600))
}

/// Serves the ledger on `listener`, sealing checkpoints as transactions
/// arrive and every `checkpoint_interval` when idle (a heartbeat), until
/// `shutdown` completes; then stops accepting, ends open subscriptions,
/// compacts the log and returns.
pub async fn serve(
    ledger: Ledger,
    listener: TcpListener,
    checkpoint_interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let checkpointer = tokio::spawn(
        ledger
            .clone()
            .run_checkpointer(checkpoint_interval, stop_rx.clone()),
    );
    let services = Services {
        ledger: ledger.clone(),
        shutdown: stop_rx,
    };
    // gRPC-Web translation applies to gRPC only: tonic-web answers 400 to
    // any other HTTP/1.1 request, so the faucet and metrics sit in front.
    let grpc = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebLayer::new())
        .service(services.routes());
    let app = axum::Router::new()
        .route("/v2/gas", post(faucet))
        .route("/gas", post(faucet))
        .route("/metrics", get(|| async { crate::metrics::render() }))
        .route("/health", get(|| async { "ok" }))
        .with_state(ledger.clone())
        .fallback_service(grpc)
        .layer(cors());
    let stop = stop_tx.clone();
    // Without TCP_NODELAY small HTTP/2 frames wait on delayed ACKs (~40 ms
    // per request).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // End subscription streams so the server can drain.
            let _ = stop.send(true);
        })
        .await;
    let _ = stop_tx.send(true);
    let _ = checkpointer.await;
    // A clean stop leaves a snapshot and an empty log, so the next start
    // replays nothing.
    let l = ledger.clone();
    match tokio::task::spawn_blocking(move || l.compact()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "compaction at shutdown failed"),
        Err(e) => tracing::warn!(error = %e, "compaction at shutdown panicked"),
    }
    result.map_err(ServerError::from)
}
