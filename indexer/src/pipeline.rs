//! The pipeline: checkpoints from the last watermark, folded into batches
//! by the processor, each batch committed with its watermark in one
//! transaction.
//!
//! Backpressure: the checkpoint stream buffers a bounded number of
//! checkpoints ahead; while a batch is being committed nothing more is
//! read, so a slow database slows the fetching instead of growing memory.
//! A batch is bounded by checkpoints, rows and time.
//!
//! A database error that a retry can fix (Postgres restarting, a dropped
//! connection) retries the same batch with backoff; the batch stays in
//! memory, and a partially applied transaction does not exist, so nothing
//! is lost or doubled.

use std::time::{Duration, Instant};

use floe_chain::floe::Floe;
use floe_chain::{ChainClient, ChainError, StreamConfig};
use prometheus::{IntCounter, IntGauge, Registry};
use sqlx::PgPool;

use crate::committer::{CommitError, Committed, commit, watermark};
use crate::config::PipelineConfig;
use crate::processor::{Batch, ProcessError, Processor};
use crate::snapshot;

/// The name of the one pipeline (the watermark row's key).
pub const PIPELINE: &str = "floe";

/// Errors that stop the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Commit(#[from] CommitError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("checkpoint stream: {0}")]
    Chain(#[from] ChainError),
    #[error("checkpoint stream ended")]
    StreamEnded,
}

/// Prometheus metrics of the pipeline.
#[derive(Clone)]
pub struct Metrics {
    pub watermark: IntGauge,
    pub chain_tip: IntGauge,
    pub lag: IntGauge,
    pub rows: IntCounter,
    pub checkpoints: IntCounter,
    pub batches: IntCounter,
    pub commit_retries: IntCounter,
}

impl Metrics {
    pub fn new(registry: &Registry) -> Self {
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric name");
            let _ = registry.register(Box::new(g.clone()));
            g
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric name");
            let _ = registry.register(Box::new(c.clone()));
            c
        };
        Self {
            watermark: gauge("floe_indexer_watermark", "Last checkpoint committed"),
            chain_tip: gauge(
                "floe_indexer_chain_tip",
                "Latest checkpoint seen on the chain",
            ),
            lag: gauge("floe_indexer_checkpoint_lag", "Chain tip minus watermark"),
            rows: counter("floe_indexer_rows_total", "Rows written (rate = rows/s)"),
            checkpoints: counter("floe_indexer_checkpoints_total", "Checkpoints committed"),
            batches: counter("floe_indexer_batches_total", "Batches committed"),
            commit_retries: counter(
                "floe_indexer_commit_retries_total",
                "Batch commits retried after a transient database error",
            ),
        }
    }
}

/// Everything the pipeline needs.
pub struct Pipeline {
    pub pool: PgPool,
    pub client: ChainClient,
    pub floe: Floe,
    pub processor: Processor,
    pub config: PipelineConfig,
    pub chain_id: String,
    pub metrics: Metrics,
}

impl Pipeline {
    /// Runs until `shutdown` resolves or an error that retrying cannot fix.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), PipelineError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let start = loop {
            match watermark(&self.pool, PIPELINE).await {
                Ok(Some(w)) if w.chain_id != self.chain_id => {
                    return Err(CommitError::WrongChain {
                        indexed: w.chain_id,
                        connected: self.chain_id.clone(),
                    }
                    .into());
                }
                Ok(Some(w)) => break w.checkpoint + 1,
                Ok(None) => break self.config.start_checkpoint,
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, "reading the watermark; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = &mut shutdown => return Ok(()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        };
        tracing::info!(start, chain_id = %self.chain_id, "indexing");
        self.metrics.watermark.set(start as i64 - 1);
        let mut stream = self.client.checkpoint_stream(
            start,
            StreamConfig {
                buffer: self.config.buffer,
                ..StreamConfig::default()
            },
        );
        let tip_task = tokio::spawn(track_tip(self.client.clone(), self.metrics.clone()));
        let _abort_tip = AbortOnDrop(tip_task);
        let mut refresh = true;
        loop {
            let mut batch = Batch::default();
            let first = tokio::select! {
                next = stream.next() => next,
                _ = &mut shutdown => return Ok(()),
            };
            self.push(first, &mut batch)?;
            let deadline = Instant::now() + Duration::from_millis(self.config.batch_timeout_ms);
            while batch.checkpoints.len() < self.config.batch_checkpoints
                && batch.rows() < self.config.batch_rows
            {
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, stream.next()).await {
                    Ok(next) => self.push(next, &mut batch)?,
                    Err(_) => break,
                }
            }
            refresh |= !batch.epochs.is_empty();
            if !self.commit_with_retry(&batch, &mut shutdown).await? {
                return Ok(());
            }
            if refresh {
                // The committee and capacity are read from the chain's
                // current state; failures only delay them to the next batch.
                match snapshot::refresh(&self.pool, &self.floe).await {
                    Ok(()) => refresh = false,
                    Err(e) => tracing::warn!(error = %e, "refreshing committee and system state"),
                }
            }
        }
    }

    fn push(
        &self,
        next: Option<Result<floe_chain::Checkpoint, ChainError>>,
        batch: &mut Batch,
    ) -> Result<(), PipelineError> {
        let checkpoint = next.ok_or(PipelineError::StreamEnded)??;
        self.processor.process(&checkpoint, batch)?;
        Ok(())
    }

    /// Commits with retries; `false` when shut down before it succeeded.
    async fn commit_with_retry(
        &self,
        batch: &Batch,
        shutdown: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    ) -> Result<bool, PipelineError> {
        let mut attempt: u32 = 0;
        loop {
            match commit(&self.pool, PIPELINE, &self.chain_id, batch).await {
                Ok(outcome) => {
                    let last = batch.last.unwrap_or(0);
                    if outcome == Committed::Written {
                        self.metrics.rows.inc_by(batch.rows() as u64);
                        self.metrics
                            .checkpoints
                            .inc_by(batch.checkpoints.len() as u64);
                        self.metrics.batches.inc();
                    }
                    self.metrics.watermark.set(last as i64);
                    self.metrics
                        .lag
                        .set((self.metrics.chain_tip.get() - last as i64).max(0));
                    tracing::debug!(
                        first = batch.first,
                        last,
                        rows = batch.rows(),
                        ?outcome,
                        "batch committed"
                    );
                    return Ok(true);
                }
                Err(e) if e.is_transient() => {
                    attempt = attempt.saturating_add(1);
                    self.metrics.commit_retries.inc();
                    let wait = Duration::from_millis(100u64 << attempt.min(6));
                    tracing::warn!(error = %e, attempt, ?wait, "commit failed; retrying the batch");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.as_mut() => return Ok(false),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Polls the chain tip for the lag metric.
async fn track_tip(client: ChainClient, metrics: Metrics) {
    loop {
        if let Ok(tip) = client.latest_checkpoint_number().await {
            metrics.chain_tip.set(tip as i64);
            metrics
                .lag
                .set((tip as i64 - metrics.watermark.get()).max(0));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
