//! floe-indexer: follows the chain, mirrors every floe event and the life
//! of every floe object into Postgres exactly once, and serves it over
//! HTTP.
//!
//! Shaped like Mysten's indexer framework: a pipeline is a pure
//! [`processor`] (checkpoint to rows, unit-testable) and a [`committer`]
//! (one Postgres transaction writes a batch's rows and the watermark).
//! The schema lives in the workspace's `migrations/` (sqlx, applied at
//! start-up); [`postgres`] picks the database (a URL, or a cluster it
//! manages in its data directory); [`api`] is the explorer API.

pub mod api;
pub mod committer;
pub mod config;
pub mod decode;
pub mod governance;
mod governance_commit;
pub mod money;
mod money_commit;
pub mod objects;
pub mod pipeline;
pub mod postgres;
pub mod processor;
#[cfg(feature = "test-support")]
pub mod sample;
pub mod snapshot;

use std::net::SocketAddr;
use std::sync::Arc;

use floe_chain::ChainError;
use floe_chain::floe::FloeError;
use sqlx::PgPool;

pub use config::{ApiLimits, IndexerConfig, PipelineConfig};
pub use pipeline::{Metrics, Pipeline, PipelineError};
pub use postgres::{ManagedPostgres, PostgresError};
pub use processor::{Batch, Processor, ProcessorConfig};
/// Re-exported so tests and tools query the index with the same driver.
pub use sqlx;

/// The schema, embedded at build time from the workspace's `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Errors starting or running the indexer.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    #[error("applying the schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    #[error("floe on chain: {0}")]
    Floe(#[from] FloeError),
    #[error("chain: {0}")]
    Connect(#[from] floe_chain::ConnectError),
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("serving the API on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// Applies the migrations (idempotent).
pub async fn migrate(pool: &PgPool) -> Result<(), IndexerError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// A started indexer: database ready, chain reached, API bound.
pub struct Indexer {
    pub pool: PgPool,
    pub api_addr: SocketAddr,
    pub chain_id: String,
    pipeline: Pipeline,
    listener: tokio::net::TcpListener,
    api: api::ApiState,
    api_limits: ApiLimits,
    /// Kept alive (and stopped on drop) when the indexer manages Postgres.
    managed: Option<ManagedPostgres>,
}

impl Indexer {
    /// Connects to the database (applying the schema) and the chain, and
    /// binds the API.
    pub async fn start(config: &IndexerConfig) -> Result<Self, IndexerError> {
        let (pool, managed) =
            postgres::connect(config.database_url.as_deref(), &config.data_dir, 8).await?;
        migrate(&pool).await?;
        let floe = floe_chain::connect(&config.chain).await?;
        let client = floe.client.clone();
        let (wal_package, floe_package) = (config.chain.wal_package, config.chain.floe_package);
        let info = client.service_info().await?;
        let chain_id = info
            .chain_id
            .ok_or_else(|| IndexerError::Config("the chain does not report a chain id".into()))?;
        let n_shards = floe.committee().await.ok().map(|c| c.n_shards());
        let registry = Arc::new(prometheus::Registry::new());
        let metrics = Metrics::new(&registry);
        let processor = Processor::new(ProcessorConfig {
            floe_package,
            wal_package,
            n_shards,
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| IndexerError::Listen {
                addr: config.listen,
                source,
            })?;
        let api_addr = listener
            .local_addr()
            .map_err(|source| IndexerError::Listen {
                addr: config.listen,
                source,
            })?;
        // The API reads through a pool of its own, so a burst of readers
        // cannot take the connections the committer writes with.
        let api_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(config.api.max_connections.max(1))
            .acquire_timeout(std::time::Duration::from_millis(
                config.api.request_timeout_ms.max(1),
            ))
            .connect_lazy_with((*pool.connect_options()).clone());
        let api = api::ApiState {
            pool: api_pool,
            registry,
            metrics: metrics.clone(),
        };
        let pipeline = Pipeline {
            pool: pool.clone(),
            client,
            floe,
            processor,
            config: config.pipeline.clone(),
            chain_id: chain_id.clone(),
            metrics,
        };
        Ok(Self {
            pool,
            api_addr,
            chain_id,
            pipeline,
            listener,
            api,
            api_limits: config.api,
            managed,
        })
    }

    /// Serves the API and runs the pipeline until `shutdown` resolves (or
    /// the pipeline fails); then stops a managed Postgres.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), IndexerError> {
        let Indexer {
            pool,
            pipeline,
            listener,
            api,
            api_limits,
            mut managed,
            ..
        } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut api_stop = stop_rx.clone();
        let server = tokio::spawn(async move {
            let api_pool = api.pool.clone();
            let app = api::router_with(api, &api_limits);
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = api_stop.wait_for(|s| *s).await;
                })
                .await;
            api_pool.close().await;
            served
        });
        let result = pipeline.run(shutdown).await;
        let _ = stop_tx.send(true);
        let _ = server.await;
        pool.close().await;
        if let Some(pg) = managed.as_mut()
            && let Err(e) = pg.stop()
        {
            tracing::warn!(error = %e, "stopping the managed Postgres");
        }
        result.map_err(Into::into)
    }
}
