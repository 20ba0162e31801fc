//! Shard sync: fills the shards gained at an epoch change, then reports
//! `epoch_sync_done` (as Walrus's `node/shard_sync.rs` and
//! `node/epoch_change*.rs` do).
//!
//! Work comes from the store: shards in `ActiveSync` that the current view
//! owns, and the epoch record (which epoch, whether sync done is owed). So
//! a restarted node resumes, and the follower only has to wake this task.
//!
//! A pass walks every certified, unexpired blob the store knows at the
//! current epoch, in blob-id pages, at most `max_concurrent_blobs` at once
//! (each holds one sliver in memory at a time). For each sliver of a
//! gained shard it lacks, it asks the shard's previous holder (from the
//! previous staking committee), then the other peers, for that sliver and
//! stores the first copy that verifies against the blob's metadata. A
//! sliver no peer serves (holder down or wiped) hands the blob to the
//! recovery worker, which rebuilds it from the committee's recovery
//! symbols (lost shards keep serving symbols, see `api`); the next pass
//! finds it stored. A pass that found every sliver marks the shards
//! `Active`.
//!
//! Gained shards count as synced only once the follower has applied the
//! checkpoints up to the epoch change (the record's `caught_up_at`), so a
//! lagging node cannot report before it knows every blob. Blobs certified
//! after the change reach the gained shards through uploads and the
//! recovery queue, as on any shard.
//!
//! Then, once per epoch, `epoch_sync_done` (see [`crate::operator`]); the
//! outcome is recorded so it is not sent again after a restart.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use floe_chain::floe::Floe;
use floe_core::encoding::{EncodingAxis, Primary, Secondary, SliverData};
use floe_core::{Axis, BlobId, EncodingConfig, VerifiedBlobMetadataWithId, shard_to_pair};
use futures::StreamExt;
use tokio::sync::Notify;

use crate::chain_view::CommitteeView;
use crate::config::RecoveryConfig;
use crate::context::NodeContext;
use crate::operator::{Operator, SyncDoneOutcome, backoff};
use crate::peers::{Peer, PeerError, Peers};
use crate::store::{StoreError, is_syncing};

/// Blob ids read per page of a pass.
const PAGE: usize = 256;
/// Idle re-check period (missed wake-ups, retries).
const RESCAN: Duration = Duration::from_secs(5);
/// Re-check period while waiting for the follower.
const WAITING: Duration = Duration::from_millis(500);

/// Why syncing one blob failed (the pass is repeated).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The holder did not serve the sliver.
    #[error(transparent)]
    Peer(#[from] PeerError),
    /// No peer served the sliver.
    #[error("shard {0}: no peer serves it")]
    NoHolder(u16),
    /// What a peer served does not verify.
    #[error("{axis} sliver of pair {pair}: {reason}")]
    Invalid {
        /// Axis.
        axis: Axis,
        /// Pair.
        pair: u16,
        /// Why.
        reason: String,
    },
    /// No peer served verifiable metadata.
    #[error("no metadata for {0}")]
    NoMetadata(BlobId),
    /// A blocking worker died.
    #[error("worker failed: {0}")]
    Join(String),
}

/// What one step of the worker found.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Nothing to do.
    Idle,
    /// Waiting for the follower (catch-up, or a switch in progress).
    Waiting,
    /// A pass left slivers missing; retried after a backoff.
    Incomplete,
}

/// The shard-sync worker.
pub struct ShardSync {
    ctx: NodeContext,
    floe: Floe,
    peers: Arc<Peers>,
    operator: Option<Operator>,
    config: RecoveryConfig,
    wake: Arc<Notify>,
    recovery: Arc<Notify>,
    /// The epoch for which the missing `[operator]` was logged.
    warned: AtomicU32,
}

impl ShardSync {
    /// A worker over `ctx`'s store; `recovery` wakes the recovery worker.
    pub fn new(
        ctx: NodeContext,
        floe: Floe,
        peers: Peers,
        operator: Option<Operator>,
        config: RecoveryConfig,
        recovery: Arc<Notify>,
    ) -> Self {
        Self {
            ctx,
            floe,
            peers: Arc::new(peers),
            operator,
            config,
            wake: Arc::new(Notify::new()),
            recovery,
            warned: AtomicU32::new(u32::MAX),
        }
    }

    /// What the follower notifies after an epoch change.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        let this = Arc::new(self);
        let mut failures = 0u32;
        loop {
            let pause = match this.step().await {
                Ok(Step::Idle) => {
                    failures = 0;
                    RESCAN
                }
                Ok(Step::Waiting) => WAITING,
                Ok(Step::Incomplete) => {
                    failures += 1;
                    this.config.backoff(failures)
                }
                Err(e) => {
                    tracing::error!(error = %e, "shard sync");
                    failures += 1;
                    this.config.backoff(failures)
                }
            };
            tokio::select! {
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&NodeContext) -> Result<T, SyncError> + Send + 'static,
    ) -> Result<T, SyncError> {
        let ctx = self.ctx.clone();
        tokio::task::spawn_blocking(move || f(&ctx))
            .await
            .map_err(|e| SyncError::Join(e.to_string()))?
    }

    async fn step(self: &Arc<Self>) -> Result<Step, SyncError> {
        let committee = self.ctx.chain().committee();
        let (record, statuses, cursor) = self
            .blocking(|s| {
                let store = s.store();
                Ok((
                    store.epoch_record()?,
                    store.shard_statuses()?,
                    store.next_checkpoint()?,
                ))
            })
            .await?;
        let Some(record) = record else {
            return Ok(Step::Idle);
        };
        if record.epoch != committee.epoch() {
            return Ok(Step::Waiting);
        }
        let syncing: BTreeSet<u16> = statuses
            .iter()
            .filter(|(shard, status)| {
                is_syncing(*status) && committee.owned_shards().contains(shard)
            })
            .map(|(shard, _)| *shard)
            .collect();
        let metrics = self.ctx.metrics();
        metrics
            .shards_syncing
            .set(i64::try_from(syncing.len()).unwrap_or(i64::MAX));
        if !syncing.is_empty() {
            if cursor < record.caught_up_at {
                tracing::debug!(
                    cursor,
                    target = record.caught_up_at,
                    "shard sync waits for the follower"
                );
                return Ok(Step::Waiting);
            }
            tracing::info!(epoch = record.epoch, shards = ?syncing, "syncing gained shards");
            if !self.pass(&committee, &syncing).await? {
                return Ok(Step::Incomplete);
            }
            if self.ctx.chain().committee().epoch() != record.epoch {
                return Ok(Step::Waiting);
            }
            let done = syncing.clone();
            self.blocking(move |s| Ok(s.store().finish_shard_sync(&done)?))
                .await?;
            metrics.shards_syncing.set(0);
            tracing::info!(epoch = record.epoch, shards = ?syncing, "gained shards synced");
        }
        if record.owes_sync_done() {
            self.report(&committee, record.epoch).await?;
        }
        Ok(Step::Idle)
    }

    /// One pass over every certified blob; `true` if nothing is missing.
    async fn pass(
        self: &Arc<Self>,
        committee: &Arc<CommitteeView>,
        shards: &BTreeSet<u16>,
    ) -> Result<bool, SyncError> {
        let epoch = committee.epoch();
        let mut after: Option<BlobId> = None;
        let mut complete = true;
        loop {
            let page = self
                .blocking(move |s| Ok(s.store().certified_blobs(epoch, after.as_ref(), PAGE)?))
                .await?;
            let Some(last) = page.last().copied() else {
                return Ok(complete);
            };
            after = Some(last);
            let results: Vec<(BlobId, Result<bool, SyncError>)> = futures::stream::iter(page)
                .map(|blob_id| {
                    let this = self.clone();
                    let committee = committee.clone();
                    let shards = shards.clone();
                    async move { (blob_id, this.sync_blob(committee, blob_id, shards).await) }
                })
                .buffer_unordered(self.config.max_concurrent_blobs.max(1))
                .collect()
                .await;
            for (blob_id, result) in results {
                match result {
                    Ok(true) => {}
                    Ok(false) => complete = false,
                    Err(e) => {
                        tracing::warn!(%blob_id, error = %e, "shard sync of a blob");
                        complete = false;
                    }
                }
            }
            if self.ctx.chain().committee().epoch() != epoch {
                return Ok(false);
            }
        }
    }

    /// Fills the missing slivers of `blob_id` on `shards`; `false` if some
    /// are left to the recovery worker.
    async fn sync_blob(
        &self,
        committee: Arc<CommitteeView>,
        blob_id: BlobId,
        shards: BTreeSet<u16>,
    ) -> Result<bool, SyncError> {
        let missing = self
            .blocking(move |s| {
                let mut out = Vec::new();
                for &shard in &shards {
                    for axis in [Axis::Primary, Axis::Secondary] {
                        if !s.store().has_sliver(shard, axis, &blob_id)? {
                            out.push((shard, axis));
                        }
                    }
                }
                Ok(out)
            })
            .await?;
        if missing.is_empty() {
            return Ok(true);
        }
        let mut left = 0;
        let peers = self.peers.list(committee.epoch()).await;
        match self.metadata(&committee, &peers, blob_id).await {
            Ok(metadata) => {
                for (shard, axis) in missing {
                    match self
                        .fetch_from_holder(&committee, &peers, &metadata, shard, axis)
                        .await
                    {
                        Ok(()) => self
                            .ctx
                            .metrics()
                            .sync_slivers
                            .with_label_values(&["holder"])
                            .inc(),
                        Err(e) => {
                            tracing::debug!(%blob_id, shard, %axis, error = %e, "sliver from the previous holder");
                            left += 1;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::debug!(%blob_id, error = %e, "metadata for shard sync");
                left = missing.len();
            }
        }
        if left == 0 {
            return Ok(true);
        }
        self.blocking(move |s| Ok(s.store().queue_recovery(&blob_id)?))
            .await?;
        self.ctx
            .metrics()
            .sync_slivers
            .with_label_values(&["recovery"])
            .inc();
        self.recovery.notify_one();
        Ok(false)
    }

    /// Stored metadata, or the first peer's that verify (then stored).
    async fn metadata(
        &self,
        committee: &CommitteeView,
        peers: &[Peer],
        blob_id: BlobId,
    ) -> Result<VerifiedBlobMetadataWithId, SyncError> {
        let config: EncodingConfig = *committee.encoding();
        if let Some(m) = self
            .blocking(move |s| Ok(s.store().get_metadata(&blob_id, &config)?))
            .await?
        {
            return Ok(m);
        }
        for peer in peers {
            match self.peers.metadata(peer, &blob_id, &config).await {
                Ok(m) => {
                    let stored = m.clone();
                    self.blocking(move |s| Ok(s.store().put_metadata(&stored)?))
                        .await?;
                    return Ok(m);
                }
                Err(e) => tracing::debug!(%blob_id, error = %e, "metadata from peer"),
            }
        }
        Err(SyncError::NoMetadata(blob_id))
    }

    /// Fetches one sliver, verifies and stores it: from the shard's
    /// previous holder first, then from the other peers (a shard still
    /// syncing when the next epoch change came has this node as its
    /// "previous holder"; the node that held it before keeps it readable).
    async fn fetch_from_holder(
        &self,
        committee: &Arc<CommitteeView>,
        peers: &[Peer],
        metadata: &VerifiedBlobMetadataWithId,
        shard: u16,
        axis: Axis,
    ) -> Result<(), SyncError> {
        let holder = committee
            .previous_holder(shard)
            .and_then(|h| Peers::find(peers, &h.node_id));
        let others = peers
            .iter()
            .filter(|p| holder.is_none_or(|h| h.node_id != p.node_id));
        let blob_id = *metadata.blob_id();
        let pair = shard_to_pair(shard, &blob_id, committee.n_shards());
        let mut last = SyncError::NoHolder(shard);
        for peer in holder.into_iter().chain(others) {
            let bytes = match self.peers.sliver(peer, &blob_id, pair, axis).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    last = e.into();
                    continue;
                }
            };
            let config = *committee.encoding();
            let metadata = metadata.clone();
            let stored = self
                .blocking(move |s| match axis {
                    Axis::Primary => {
                        store_verified::<Primary>(s, &config, &metadata, shard, pair, &bytes)
                    }
                    Axis::Secondary => {
                        store_verified::<Secondary>(s, &config, &metadata, shard, pair, &bytes)
                    }
                })
                .await;
            match stored {
                Ok(()) => return Ok(()),
                Err(e @ SyncError::Invalid { .. }) => {
                    tracing::warn!(%blob_id, shard, url = %peer.url, error = %e, "a peer served a bad sliver");
                    last = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// `epoch_sync_done` for `epoch`, retried until it is final or the node
    /// moved to another epoch; the outcome is recorded.
    async fn report(&self, committee: &CommitteeView, epoch: u32) -> Result<(), SyncError> {
        let Some(node_id) = committee.node_id() else {
            return Ok(());
        };
        let Some(operator) = &self.operator else {
            if self.warned.swap(epoch, Ordering::Relaxed) != epoch {
                tracing::warn!(
                    epoch,
                    "shards synced, but no [operator] is configured: epoch_sync_done is not sent"
                );
            }
            return Ok(());
        };
        let metrics = self.ctx.metrics();
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            let outcome = operator.sync_done_once(&self.floe, node_id, epoch).await;
            metrics
                .sync_done_calls
                .with_label_values(&[outcome.label()])
                .inc();
            if outcome.is_final() {
                break outcome;
            }
            tracing::warn!(epoch, attempt, outcome = ?outcome, "epoch_sync_done failed; retrying");
            if self.ctx.chain().committee().epoch() != epoch {
                tracing::warn!(
                    epoch,
                    "the node moved to another epoch; not reporting this one"
                );
                return Ok(());
            }
            tokio::time::sleep(backoff(attempt)).await;
        };
        match &outcome {
            SyncDoneOutcome::Sent => tracing::info!(epoch, "reported epoch_sync_done"),
            SyncDoneOutcome::AlreadyDone => {
                tracing::info!(epoch, "epoch_sync_done was already reported")
            }
            other => tracing::warn!(epoch, outcome = ?other, "not reporting epoch_sync_done"),
        }
        self.blocking(move |s| Ok(s.store().set_sync_done(epoch)?))
            .await
    }
}

/// Parses, checks and stores a sliver a holder served for `shard`.
fn store_verified<A: EncodingAxis>(
    ctx: &NodeContext,
    config: &EncodingConfig,
    metadata: &VerifiedBlobMetadataWithId,
    shard: u16,
    pair: u16,
    bytes: &[u8],
) -> Result<(), SyncError> {
    let invalid = |reason: String| SyncError::Invalid {
        axis: A::AXIS,
        pair,
        reason,
    };
    let sliver = SliverData::<A>::from_bcs(bytes).map_err(|e| invalid(e.to_string()))?;
    let expected = match A::AXIS {
        Axis::Primary => pair,
        Axis::Secondary => config.n_shards() - 1 - pair,
    };
    if sliver.index() != expected {
        return Err(invalid(format!(
            "index {} instead of {expected}",
            sliver.index()
        )));
    }
    sliver
        .verify(config, metadata)
        .map_err(|e| invalid(e.to_string()))?;
    ctx.store()
        .put_sliver_bytes(shard, A::AXIS, metadata.blob_id(), sliver.to_bcs())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use floe_core::bls::BlsSecretKey;
    use floe_core::encode_blob;

    use super::*;
    use crate::chain_view::ChainView;
    use crate::config::Limits;
    use crate::store::NodeStore;

    #[test]
    fn a_served_sliver_is_stored_only_if_it_is_the_right_one_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(NodeStore::open(dir.path()).unwrap());
        let view = CommitteeView::new(1, 10, [3]).unwrap();
        let config = *view.encoding();
        let ctx = NodeContext::new(
            store,
            ChainView::new(view),
            BlsSecretKey::from_seed(&[1; 32]),
            &Limits::default(),
        );
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let encoded = encode_blob(&config, &data).unwrap();
        let id = *encoded.metadata.blob_id();
        let shard = 3;
        let pair = shard_to_pair(shard, &id, 10);
        let primary = encoded.primary[usize::from(pair)].to_bcs();
        let other = encoded.primary[usize::from((pair + 1) % 10)].to_bcs();
        let err = store_verified::<Primary>(&ctx, &config, &encoded.metadata, shard, pair, &other)
            .unwrap_err();
        assert!(matches!(err, SyncError::Invalid { .. }), "{err}");
        let mut corrupt = primary.clone();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 1;
        let err =
            store_verified::<Primary>(&ctx, &config, &encoded.metadata, shard, pair, &corrupt)
                .unwrap_err();
        assert!(matches!(err, SyncError::Invalid { .. }), "{err}");
        let err = store_verified::<Primary>(&ctx, &config, &encoded.metadata, shard, pair, b"x")
            .unwrap_err();
        assert!(matches!(err, SyncError::Invalid { .. }), "{err}");
        assert!(!ctx.store().has_sliver(shard, Axis::Primary, &id).unwrap());
        store_verified::<Primary>(&ctx, &config, &encoded.metadata, shard, pair, &primary).unwrap();
        let secondary = encoded.secondary[usize::from(10 - 1 - pair)].to_bcs();
        store_verified::<Secondary>(&ctx, &config, &encoded.metadata, shard, pair, &secondary)
            .unwrap();
        assert_eq!(
            ctx.store()
                .get_sliver_bytes(shard, Axis::Primary, &id)
                .unwrap()
                .as_deref(),
            Some(primary.as_slice())
        );
        assert!(ctx.store().has_sliver(shard, Axis::Secondary, &id).unwrap());
    }
}
