//! Self-healing: a certified blob whose slivers this node lacks on its
//! owned shards is rebuilt from other nodes' recovery symbols.
//!
//! Work comes from the store's durable recovery queue (the follower adds
//! every certified blob id in the same batch as the certification), so a
//! node that was down, or restarted mid-recovery, resumes; an entry leaves
//! the queue only when every owned sliver is stored, the blob no longer
//! needs data (expired, deleted, invalid), or an inconsistency proof was
//! kept.
//!
//! Order matters when a node holds many shards: a primary sliver needs
//! `n - f` symbols (one per secondary sliver) and a secondary one `n - 2f`
//! (one per primary sliver). A node owning more than `f` shards cannot get
//! `n - f` secondary slivers' worth of symbols from the others alone, so
//! secondaries are recovered first (from the peers' primaries) and then
//! primaries from the peers' secondaries *plus* symbols cut from this
//! node's own, just recovered, secondaries.
//!
//! Bounds: at most `max_concurrent_blobs` blobs at once; per blob, targets
//! one after another, each asking all peers concurrently; failed attempts
//! back off exponentially up to `max_attempts`, after which the blob stays
//! queued until the next restart or epoch change.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use floe_core::encoding::symbols::{
    DecodingSymbol, EitherDecodingSymbol, GeneralRecoverySymbol, IntoGeneral, RecoverySymbol,
};
use floe_core::encoding::{EncodingAxis, Primary, Secondary};
use floe_core::inconsistency::{Recovered, recover_verified};
use floe_core::{Axis, BlobId, EncodingConfig, VerifiedBlobMetadataWithId, shard_to_pair};
use tokio::sync::{Notify, Semaphore};

use crate::chain_view::CommitteeView;
use crate::config::RecoveryConfig;
use crate::context::NodeContext;
use crate::peers::{Peer, Peers};
use crate::store::StoreError;

/// Queue entries read per scan.
const SCAN_BATCH: usize = 1000;
/// Rescan period when nothing wakes the worker (retries of given-up blobs
/// are not rescheduled; this only picks up missed wake-ups).
const RESCAN: Duration = Duration::from_secs(5);

/// Why one recovery attempt failed (it is retried).
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no peer served verifiable metadata (last error: {0})")]
    NoMetadata(String),
    #[error("{axis} sliver {target}: {reason}")]
    Sliver {
        axis: Axis,
        target: u16,
        reason: String,
    },
    #[error("worker failed: {0}")]
    Join(String),
}

/// How an attempt ended.
enum Outcome {
    /// Nothing (more) to do: the entry leaves the queue.
    Done { recovered: usize },
    /// The blob is inconsistent; the proof is kept.
    Inconsistent,
}

/// The recovery worker.
pub struct Recovery {
    ctx: NodeContext,
    peers: Arc<Peers>,
    config: RecoveryConfig,
    wake: Arc<Notify>,
    in_flight: Arc<Mutex<HashSet<BlobId>>>,
    given_up: Arc<Mutex<HashSet<BlobId>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Recovery {
    /// A worker over `ctx`'s store asking `peers`.
    pub fn new(ctx: NodeContext, peers: Peers, config: RecoveryConfig) -> Self {
        Self {
            ctx,
            peers: Arc::new(peers),
            config,
            wake: Arc::new(Notify::new()),
            in_flight: Arc::default(),
            given_up: Arc::default(),
        }
    }

    /// What the follower notifies after queueing blobs.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        // Bounds blobs recovered at once: background work, not requests
        // (each recovery holds a blob's symbols and runs decoding on the
        // blocking pool), so there is no request layer to express it.
        let permits = Arc::new(Semaphore::new(self.config.max_concurrent_blobs.max(1)));
        let this = Arc::new(self);
        let mut epoch = this.ctx.chain().committee().epoch();
        loop {
            // A new committee may serve what the old one could not: blobs
            // given up on get another round after an epoch change.
            let now = this.ctx.chain().committee().epoch();
            if now != epoch {
                epoch = now;
                lock(&this.given_up).clear();
            }
            let store = this.ctx.store().clone();
            let queue = tokio::task::spawn_blocking(move || {
                Ok::<_, StoreError>((
                    store.recovery_queue(SCAN_BATCH)?,
                    store.recovery_queue_len()?,
                ))
            })
            .await;
            match queue {
                Ok(Ok((queue, len))) => {
                    this.ctx
                        .metrics()
                        .recovery_queue
                        .set(i64::try_from(len).unwrap_or(i64::MAX));
                    for blob_id in queue {
                        if lock(&this.given_up).contains(&blob_id)
                            || !lock(&this.in_flight).insert(blob_id)
                        {
                            continue;
                        }
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            return;
                        };
                        let worker = this.clone();
                        tokio::spawn(async move {
                            worker.recover_with_retries(blob_id).await;
                            lock(&worker.in_flight).remove(&blob_id);
                            drop(permit);
                            worker.wake.notify_one();
                        });
                    }
                }
                Ok(Err(e)) => tracing::error!(error = %e, "reading the recovery queue"),
                Err(e) => tracing::error!(error = %e, "recovery queue reader failed"),
            }
            tokio::select! {
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(RESCAN) => {}
            }
        }
    }

    async fn recover_with_retries(&self, blob_id: BlobId) {
        let metrics = self.ctx.metrics();
        for attempt in 1..=self.config.max_attempts.max(1) {
            match self.attempt(blob_id).await {
                Ok(Outcome::Done { recovered }) => {
                    if recovered > 0 {
                        tracing::info!(%blob_id, recovered, "slivers recovered");
                    }
                    return;
                }
                Ok(Outcome::Inconsistent) => {
                    metrics
                        .recoveries
                        .with_label_values(&["inconsistent"])
                        .inc();
                    tracing::warn!(%blob_id, "blob is inconsistent; proof kept");
                    return;
                }
                Err(e) => {
                    metrics.recoveries.with_label_values(&["failed"]).inc();
                    tracing::warn!(%blob_id, attempt, error = %e, "recovery attempt failed");
                    tokio::time::sleep(self.config.backoff(attempt)).await;
                }
            }
        }
        tracing::error!(%blob_id, "recovery gave up; the blob stays queued until a restart or an epoch change");
        lock(&self.given_up).insert(blob_id);
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&NodeContext) -> Result<T, AttemptError> + Send + 'static,
    ) -> Result<T, AttemptError> {
        let ctx = self.ctx.clone();
        tokio::task::spawn_blocking(move || f(&ctx))
            .await
            .map_err(|e| AttemptError::Join(e.to_string()))?
    }

    async fn attempt(&self, blob_id: BlobId) -> Result<Outcome, AttemptError> {
        let committee = self.ctx.chain().committee();
        let epoch = committee.epoch();
        let view = committee.clone();
        let needed = self
            .blocking(move |s| {
                let info = s.store().blob_info(&blob_id, epoch)?;
                Ok(info.is_certified() && view.is_member())
            })
            .await?;
        if !needed {
            self.finish(blob_id).await?;
            return Ok(Outcome::Done { recovered: 0 });
        }
        // One read of the peers' endpoints per attempt (a retry after a
        // failed connection reads them again).
        let peers = self.peers.list(epoch).await;
        let metadata = self.metadata(&committee, &peers, blob_id).await?;
        let mut recovered = 0;
        // Secondaries first, then primaries (see the module doc).
        for axis in [Axis::Secondary, Axis::Primary] {
            let view = committee.clone();
            let missing = self
                .blocking(move |s| missing(s, &view, &blob_id, axis))
                .await?;
            for (shard, pair) in missing {
                let n = committee.n_shards();
                let target = match axis {
                    Axis::Primary => pair,
                    Axis::Secondary => n - 1 - pair,
                };
                let remote = self.gather(&peers, blob_id, target, axis).await;
                let view = committee.clone();
                let metadata = metadata.clone();
                let done = self
                    .blocking(move |s| match axis {
                        Axis::Primary => {
                            rebuild::<Primary>(s, &view, &metadata, shard, target, remote)
                        }
                        Axis::Secondary => {
                            rebuild::<Secondary>(s, &view, &metadata, shard, target, remote)
                        }
                    })
                    .await?;
                if !done {
                    return Ok(Outcome::Inconsistent);
                }
                recovered += 1;
                self.ctx
                    .metrics()
                    .recoveries
                    .with_label_values(&["recovered"])
                    .inc();
            }
        }
        self.finish(blob_id).await?;
        Ok(Outcome::Done { recovered })
    }

    async fn finish(&self, blob_id: BlobId) -> Result<(), AttemptError> {
        self.blocking(move |s| Ok(s.store().finish_recovery(&blob_id)?))
            .await
    }

    /// Stored metadata, or the first peer's that verify (then stored).
    async fn metadata(
        &self,
        committee: &CommitteeView,
        peers: &[Peer],
        blob_id: BlobId,
    ) -> Result<VerifiedBlobMetadataWithId, AttemptError> {
        let config: EncodingConfig = *committee.encoding();
        let local_config = config;
        if let Some(m) = self
            .blocking(move |s| Ok(s.store().get_metadata(&blob_id, &local_config)?))
            .await?
        {
            return Ok(m);
        }
        let mut last = String::from("no peer has a usable endpoint on chain");
        for peer in peers {
            match self.peers.metadata(peer, &blob_id, &config).await {
                Ok(m) => {
                    let stored = m.clone();
                    self.blocking(move |s| Ok(s.store().put_metadata(&stored)?))
                        .await?;
                    return Ok(m);
                }
                Err(e) => {
                    tracing::debug!(%blob_id, error = %e, "metadata from peer");
                    last = e.to_string();
                }
            }
        }
        Err(AttemptError::NoMetadata(last))
    }

    /// Every peer's recovery symbols for one target, asked concurrently.
    async fn gather(
        &self,
        peers: &[Peer],
        blob_id: BlobId,
        target: u16,
        axis: Axis,
    ) -> Vec<GeneralRecoverySymbol> {
        let requests = peers
            .iter()
            .map(|peer| self.peers.recovery_symbols(peer, &blob_id, target, axis));
        let mut out = Vec::new();
        for result in futures::future::join_all(requests).await {
            match result {
                Ok(symbols) => out.extend(symbols),
                Err(e) => tracing::debug!(%blob_id, error = %e, "recovery symbols from peer"),
            }
        }
        out
    }
}

/// Owned shards missing their `axis` sliver: `(shard, pair)`.
fn missing(
    ctx: &NodeContext,
    committee: &CommitteeView,
    blob_id: &BlobId,
    axis: Axis,
) -> Result<Vec<(u16, u16)>, AttemptError> {
    let mut out = Vec::new();
    for &shard in committee.owned_shards() {
        if !ctx.store().has_sliver(shard, axis, blob_id)? {
            out.push((shard, shard_to_pair(shard, blob_id, committee.n_shards())));
        }
    }
    Ok(out)
}

/// A general symbol as a typed one for target `target` on axis `T`, if it
/// is one.
fn typed<T: EncodingAxis>(g: GeneralRecoverySymbol, target: u16) -> Option<RecoverySymbol<T>> {
    let (axis, index, data) = match g.symbol {
        EitherDecodingSymbol::Primary(s) => (Axis::Primary, s.index, s.data),
        EitherDecodingSymbol::Secondary(s) => (Axis::Secondary, s.index, s.data),
    };
    (axis == T::AXIS && g.target_index == target).then(|| RecoverySymbol {
        symbol: DecodingSymbol::new(index, data),
        proof: g.proof,
    })
}

/// Symbols for `target` cut from this node's own stored slivers of the
/// other axis.
fn local_symbols(
    ctx: &NodeContext,
    committee: &CommitteeView,
    blob_id: &BlobId,
    target: u16,
    target_axis: Axis,
) -> Result<Vec<GeneralRecoverySymbol>, AttemptError> {
    let config = committee.encoding();
    let store = ctx.store();
    let mut out = Vec::new();
    let encoding = |e: floe_core::EncodingError| AttemptError::Sliver {
        axis: target_axis,
        target,
        reason: e.to_string(),
    };
    for &shard in committee.owned_shards() {
        match target_axis {
            Axis::Secondary => {
                if let Some(s) = store.get_primary(shard, blob_id)? {
                    let symbols = s.recovery_symbols(config, &[target]).map_err(encoding)?;
                    out.extend(symbols.into_iter().map(|x| x.into_general(target)));
                }
            }
            Axis::Primary => {
                if let Some(s) = store.get_secondary(shard, blob_id)? {
                    let symbols = s.recovery_symbols(config, &[target]).map_err(encoding)?;
                    out.extend(symbols.into_iter().map(|x| x.into_general(target)));
                }
            }
        }
    }
    Ok(out)
}

/// Decodes and stores sliver `target` of axis `T` for `shard`; `false` if
/// the verified symbols prove the blob inconsistent (the proof is kept).
fn rebuild<T: EncodingAxis>(
    ctx: &NodeContext,
    committee: &CommitteeView,
    metadata: &VerifiedBlobMetadataWithId,
    shard: u16,
    target: u16,
    remote: Vec<GeneralRecoverySymbol>,
) -> Result<bool, AttemptError> {
    let blob_id = *metadata.blob_id();
    let mut symbols: Vec<RecoverySymbol<T>> =
        local_symbols(ctx, committee, &blob_id, target, T::AXIS)?
            .into_iter()
            .chain(remote)
            .filter_map(|g| typed::<T>(g, target))
            .collect();
    symbols.dedup_by_key(|s| s.symbol.index);
    let config = committee.encoding();
    let recovered = recover_verified::<T>(config, metadata, target, symbols).map_err(|e| {
        AttemptError::Sliver {
            axis: T::AXIS,
            target,
            reason: e.to_string(),
        }
    })?;
    match recovered {
        Recovered::Sliver(sliver) => {
            ctx.store()
                .put_sliver_bytes(shard, T::AXIS, &blob_id, sliver.to_bcs())?;
            Ok(true)
        }
        Recovered::Inconsistent(proof) => {
            let bytes = bcs::to_bytes(&proof).map_err(|e| AttemptError::Sliver {
                axis: T::AXIS,
                target,
                reason: format!("encoding the proof: {e}"),
            })?;
            ctx.store()
                .put_inconsistency_proof(&blob_id, T::AXIS, &bytes)?;
            Ok(false)
        }
    }
}
