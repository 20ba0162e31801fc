//! floe-explorer: a web explorer for people, server-rendered HTML over
//! the indexer's public HTTP API.
//!
//! It links none of the indexer's code and reads no database: like a
//! third-party explorer it calls `GET /v1/...` on an indexer URL and
//! turns the JSON into pages ([`pages`]), with charts as inline SVG
//! ([`svg`]) and numbers in human units ([`format`]). Downloads go
//! through an aggregator when one is configured.
//!
//! Service shape as the other floe services: `/health`, Prometheus
//! `/metrics`, bounds as tower layers ([`server`]), graceful shutdown.

pub mod format;
pub mod indexer;
pub mod pages;
pub mod server;
pub mod svg;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus::Registry;

pub use indexer::{FetchError, IndexerClient};
pub use server::Limits;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub indexer: IndexerClient,
    /// Aggregator root URL for download links (`GET {url}/v1/blobs/{id}`).
    pub aggregator: Option<String>,
    pub registry: Arc<Registry>,
}

/// How to run the explorer.
#[derive(Debug, Clone)]
pub struct ExplorerConfig {
    /// The indexer's root URL.
    pub indexer_url: String,
    /// An aggregator's root URL, for download links.
    pub aggregator_url: Option<String>,
    pub listen: SocketAddr,
    pub limits: Limits,
}

/// Errors starting the explorer.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    #[error("config: {0}")]
    Config(String),
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// A bound explorer, ready to serve.
pub struct Explorer {
    pub addr: SocketAddr,
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: Limits,
}

impl Explorer {
    /// Checks the config and binds the listener (the indexer may still be
    /// starting: pages say so until it answers).
    pub async fn bind(config: &ExplorerConfig) -> Result<Self, ExplorerError> {
        let registry = Arc::new(Registry::new());
        let indexer = IndexerClient::new(
            &config.indexer_url,
            Duration::from_millis(config.limits.indexer_timeout_ms.max(1)),
            &registry,
        )
        .map_err(ExplorerError::Config)?;
        let aggregator = match &config.aggregator_url {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.trim_end_matches('/').to_owned())
            }
            Some(url) => {
                return Err(ExplorerError::Config(format!(
                    "the aggregator URL must start with http:// or https://, got {url:?}"
                )));
            }
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| ExplorerError::Listen {
                addr: config.listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ExplorerError::Listen {
                addr: config.listen,
                source,
            })?;
        Ok(Self {
            addr,
            listener,
            state: AppState {
                indexer,
                aggregator,
                registry,
            },
            limits: config.limits,
        })
    }

    /// Serves until `shutdown` resolves, then finishes requests in flight.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ExplorerError> {
        let app = server::router(self.state, &self.limits);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ExplorerError::Serve)
    }
}
