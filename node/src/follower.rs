//! The chain follower: every checkpoint from the stored cursor on, through
//! `floe-chain`'s gap-free `CheckpointStream`, applied to the store.
//!
//! Per checkpoint: floe's events (registered, certified/extended, deleted,
//! invalid) update per-blob-object records (the blob id's status is
//! aggregated from them on read, see `store`), certified blobs join the
//! durable recovery queue, and the next checkpoint number is written in the
//! same atomic batch, so a restarted (or killed) node resumes exactly where
//! its last batch ended. Afterwards: uploads buffered before the
//! registration of a newly registered blob are stored (the node context's
//! promotion; the periodic tick retries what a failed write left), deleted and invalid blobs are garbage-collected,
//! waiters for a registration are woken and the recovery worker is
//! notified.
//!
//! The committee: an `EpochChangeStart{epoch}` event makes the follower
//! wait until the chain reports that epoch and switch to its committee
//! ([`crate::epoch`]: shard diff, statuses, view); as a fallback the
//! committee is also re-read at start and every `committee_refresh_ms`,
//! so an epoch change missed while the node was down is applied too. After
//! a change, expired blobs (end epoch <= the new epoch) are
//! garbage-collected, shards lost two epochs ago are dropped, and the
//! shard sync is woken.

use std::sync::Arc;
use std::time::Duration;

use floe_chain::floe::Floe;
use floe_chain::{Checkpoint, StreamConfig};
use floe_core::BlobId;
use tokio::sync::Notify;

use crate::config::NodeChainConfig;
use crate::context::NodeContext;
use crate::epoch::{drop_expired_shards, read_view, switch};
use crate::events::{ChainEvent, NodeEvent, floe_events};
use crate::store::{BlobObjectInfo, ChainBatch, NodeStore, StoreError};

/// Pause before re-opening the stream after it ended with an error.
const RESTART_BACKOFF: Duration = Duration::from_secs(2);
/// How long an `EpochChangeStart` waits for the chain to report its epoch.
const EPOCH_WAIT: Duration = Duration::from_secs(30);

/// Why applying a checkpoint failed (the follower stops advancing and
/// retries; nothing after the failure is applied).
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// A floe event did not decode.
    #[error(transparent)]
    Event(#[from] floe_chain::EventDecodeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stream delivered an unexpected sequence number.
    #[error("expected checkpoint {expected}, got {got}")]
    Sequence {
        /// Wanted.
        expected: u64,
        /// Delivered.
        got: u64,
    },
    /// A blocking worker died.
    #[error("worker failed: {0}")]
    Join(String),
    /// Switching to a new committee failed.
    #[error(transparent)]
    Epoch(#[from] crate::epoch::EpochError),
}

/// What applying one checkpoint leaves for after the commit.
#[derive(Debug, Default)]
struct Applied {
    registered: Vec<BlobId>,
    gone: Vec<BlobId>,
    certified: bool,
    epoch_event: bool,
    /// The epoch of the last `EpochChangeStart` in the checkpoint.
    epoch_start: Option<u32>,
}

/// The follower task.
pub struct Follower {
    ctx: NodeContext,
    floe: Floe,
    config: NodeChainConfig,
    recovery: Arc<Notify>,
    sync: Arc<Notify>,
    /// Chain timestamp (ms) of the last applied checkpoint, 0 before one.
    last_applied_ms: std::sync::atomic::AtomicU64,
}

/// Milliseconds since the Unix epoch by this machine's clock.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Follower {
    /// A follower writing to `ctx`'s store; it wakes the recovery worker
    /// after certifications and the shard sync after epoch changes.
    pub fn new(
        ctx: NodeContext,
        floe: Floe,
        config: NodeChainConfig,
        recovery: Arc<Notify>,
        sync: Arc<Notify>,
    ) -> Self {
        Self {
            ctx,
            floe,
            config,
            recovery,
            sync,
            last_applied_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Sets `floe_node_follower_lag_ms`: how far behind the chain's head the
    /// applied state is. Caught up with the head, the lag is 0 however old
    /// the head is (an idle ledger seals a checkpoint only now and then);
    /// behind it, or unable to apply, it is the age of the last applied
    /// checkpoint, so a stuck follower's lag grows.
    fn set_lag(&self, at_head: bool) {
        let last = self
            .last_applied_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        let lag = if at_head || last == 0 {
            0
        } else {
            now_ms().saturating_sub(last)
        };
        self.ctx
            .metrics()
            .follower_lag_ms
            .set(i64::try_from(lag).unwrap_or(i64::MAX));
    }

    /// On the refresh tick: compares the cursor with the chain's head.
    async fn check_lag(&self, next: u64) {
        match self.floe.client.latest_checkpoint_number().await {
            Ok(head) => self.set_lag(next > head),
            Err(e) => tracing::debug!(error = %e, "reading the chain's head for the lag"),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&NodeStore) -> Result<T, FollowError> + Send + 'static,
    ) -> Result<T, FollowError> {
        let store = self.ctx.store().clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| FollowError::Join(e.to_string()))?
    }

    /// Follows the chain until the task is dropped. First catches up with
    /// an epoch change that happened while the node was down.
    pub async fn run(self) {
        self.refresh_committee(None).await;
        self.collect_all().await;
        let refresh = Duration::from_millis(self.config.committee_refresh_ms.max(100));
        loop {
            let next = match self.blocking(|s| Ok(s.next_checkpoint()?)).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "reading the event cursor");
                    tokio::time::sleep(RESTART_BACKOFF).await;
                    continue;
                }
            };
            self.ctx.checkpoint_applied(next);
            self.ctx
                .metrics()
                .checkpoint_cursor
                .set(i64::try_from(next).unwrap_or(i64::MAX));
            tracing::info!(next, "following checkpoints");
            let mut stream = self
                .floe
                .client
                .checkpoint_stream(next, StreamConfig::default());
            let mut ticker = tokio::time::interval(refresh);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut expected = next;
            loop {
                tokio::select! {
                    item = stream.next() => match item {
                        Some(Ok(checkpoint)) => {
                            if let Err(e) = self.apply(expected, checkpoint).await {
                                tracing::error!(error = %e, checkpoint = expected, "applying a checkpoint failed");
                                self.set_lag(false);
                                break;
                            }
                            expected += 1;
                        }
                        Some(Err(e)) => {
                            tracing::error!(error = %e, "checkpoint stream ended");
                            self.set_lag(false);
                            break;
                        }
                        None => break,
                    },
                    _ = ticker.tick() => {
                        self.refresh_committee(None).await;
                        self.check_lag(expected).await;
                        self.promote_left_behind().await;
                    }
                }
            }
            tokio::time::sleep(RESTART_BACKOFF).await;
        }
    }

    async fn apply(&self, expected: u64, checkpoint: Checkpoint) -> Result<(), FollowError> {
        if checkpoint.sequence_number != expected {
            return Err(FollowError::Sequence {
                expected,
                got: checkpoint.sequence_number,
            });
        }
        let events = floe_events(&checkpoint, &self.floe.ids.packages())?;
        let member = self.ctx.chain().committee().is_member();
        let metrics = self.ctx.metrics().clone();
        let applied = self
            .blocking(move |store| {
                let (batch, applied) = build_batch(store, &events, expected + 1, member)?;
                store.apply_chain_batch(&batch)?;
                for e in &events {
                    metrics
                        .events
                        .with_label_values(&[event_kind(&e.event)])
                        .inc();
                }
                Ok(applied)
            })
            .await?;
        let ctx = self.ctx.clone();
        let committee = ctx.chain().committee();
        let shards: Vec<u16> = committee.owned_shards().iter().copied().collect();
        let epoch = committee.epoch();
        let Applied {
            registered, gone, ..
        } = &applied;
        let (registered, gone) = (registered.clone(), gone.clone());
        let worker = ctx.clone();
        self.blocking(move |store| {
            // Uploads buffered before the registration go into the store
            // now, before waiters for the registration are woken.
            for blob_id in &registered {
                worker.promote_pending(blob_id)?;
            }
            let shards = shard_list(store, &shards)?;
            for blob_id in &gone {
                let s = store.collect_blob(blob_id, epoch, &shards)?;
                if s.blobs > 0 {
                    worker.metrics().gc_blobs.inc_by(s.blobs);
                    tracing::info!(%blob_id, slivers = s.slivers, "garbage-collected");
                }
            }
            Ok(())
        })
        .await?;
        let next = expected + 1;
        ctx.checkpoint_applied(next);
        let metrics = ctx.metrics();
        metrics
            .checkpoint_cursor
            .set(i64::try_from(next).unwrap_or(i64::MAX));
        if let Some(ts) = checkpoint.timestamp_ms {
            self.last_applied_ms
                .store(ts, std::sync::atomic::Ordering::Relaxed);
            self.set_lag(false);
        }
        if applied.certified {
            self.recovery.notify_one();
        }
        if applied.epoch_event || applied.epoch_start.is_some() {
            self.refresh_committee(applied.epoch_start).await;
        }
        Ok(())
    }

    /// Re-reads the committee and switches the node to it (see
    /// [`crate::epoch`]). `wanted`: the epoch an `EpochChangeStart` event
    /// announced; the read is repeated (bounded) until the chain reports
    /// it, and the periodic refresh covers a chain that is slower still.
    async fn refresh_committee(&self, wanted: Option<u32>) {
        // The tip before the committee read: every blob certified before
        // the change is in a checkpoint up to it.
        let tip = self.floe.client.latest_checkpoint_number().await.ok();
        let me = self.ctx.public_key();
        let old = self.ctx.chain().committee();
        let deadline = tokio::time::Instant::now() + EPOCH_WAIT;
        let view = loop {
            match read_view(&self.floe, &me, Some(&old)).await {
                Ok(view) if wanted.is_none_or(|e| view.epoch() >= e) => break view,
                Ok(view) => tracing::debug!(
                    epoch = view.epoch(),
                    wanted = ?wanted,
                    "the chain does not report the new epoch yet"
                ),
                Err(e) => tracing::warn!(error = %e, "reading the committee"),
            }
            if wanted.is_none() {
                // A periodic read: the next tick tries again.
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(wanted = ?wanted, "gave up waiting for the epoch; the periodic refresh retries");
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        if view.epoch() < old.epoch() {
            tracing::warn!(
                epoch = view.epoch(),
                current = old.epoch(),
                "ignoring a committee older than the current one (lagging endpoint?)"
            );
            return;
        }
        let ctx = self.ctx.clone();
        let result = self
            .blocking(move |store| {
                let caught_up_at = match tip {
                    Some(tip) => tip + 1,
                    None => store.next_checkpoint()?,
                };
                switch(&ctx, view, caught_up_at).map_err(FollowError::Epoch)
            })
            .await;
        let switched = match result {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "switching to the new committee");
                return;
            }
        };
        if !switched.new_epoch {
            return;
        }
        let view = self.ctx.chain().committee();
        let diff = &switched.diff;
        tracing::info!(
            old_epoch = old.epoch(),
            epoch = view.epoch(),
            owned = ?view.owned_shards(),
            gained = ?diff.gained,
            lost = ?diff.lost,
            "epoch change"
        );
        self.ctx.metrics().committee_changes.inc();
        self.collect_all().await;
        let ctx = self.ctx.clone();
        let epoch = view.epoch();
        if let Err(e) = self
            .blocking(move |_| Ok(drop_expired_shards(&ctx, epoch)?))
            .await
        {
            tracing::error!(error = %e, "dropping lost shards");
        }
        self.sync.notify_one();
    }

    /// Stores buffered uploads of registered blobs that a failed store
    /// write left in the buffers after their registration was applied.
    async fn promote_left_behind(&self) {
        let ctx = self.ctx.clone();
        match self
            .blocking(move |_| Ok(ctx.promote_registered_pending()?))
            .await
        {
            Ok(0) => {}
            Ok(promoted) => tracing::info!(promoted, "stored buffered uploads left behind"),
            Err(e) => tracing::warn!(error = %e, "storing buffered uploads"),
        }
    }

    /// Garbage-collects every blob with no live object at the current epoch.
    async fn collect_all(&self) {
        let committee = self.ctx.chain().committee();
        let epoch = committee.epoch();
        let owned: Vec<u16> = committee.owned_shards().iter().copied().collect();
        let metrics = self.ctx.metrics().clone();
        let result = self
            .blocking(move |store| {
                let shards = shard_list(store, &owned)?;
                let stats = store.collect_garbage(epoch, &shards)?;
                metrics.gc_blobs.inc_by(stats.blobs);
                Ok(stats)
            })
            .await;
        match result {
            Ok(stats) if stats.blobs > 0 || stats.objects > 0 => {
                tracing::info!(
                    epoch,
                    blobs = stats.blobs,
                    slivers = stats.slivers,
                    objects = stats.objects,
                    "garbage collection"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "garbage collection failed"),
        }
    }
}

/// Shards slivers may be stored under: owned now or ever given a status.
fn shard_list(store: &NodeStore, owned: &[u16]) -> Result<Vec<u16>, StoreError> {
    let mut shards: Vec<u16> = store
        .shard_statuses()?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    shards.extend_from_slice(owned);
    shards.sort_unstable();
    shards.dedup();
    Ok(shards)
}

fn event_kind(e: &NodeEvent) -> &'static str {
    match e {
        NodeEvent::Registered { .. } => "registered",
        NodeEvent::Certified {
            is_extension: true, ..
        } => "extended",
        NodeEvent::Certified { .. } => "certified",
        NodeEvent::Deleted { .. } => "deleted",
        NodeEvent::Invalid { .. } => "invalid",
        NodeEvent::EpochChangeStart { .. } => "epoch_change_start",
        NodeEvent::Epoch => "epoch",
    }
}

/// The batch for one checkpoint's events, reading current records from
/// `store` (the follower is their only writer).
fn build_batch(
    store: &NodeStore,
    events: &[ChainEvent],
    next_checkpoint: u64,
    member: bool,
) -> Result<(ChainBatch, Applied), StoreError> {
    let mut batch = ChainBatch {
        next_checkpoint,
        ..ChainBatch::default()
    };
    let mut applied = Applied::default();
    for ChainEvent { id, event } in events {
        match *event {
            NodeEvent::Registered {
                blob_id,
                object,
                epoch,
                end_epoch,
                deletable,
            } => {
                batch.objects.insert(
                    (blob_id, object),
                    BlobObjectInfo {
                        deletable,
                        registered_epoch: epoch,
                        end_epoch,
                        certified_epoch: None,
                        deleted: false,
                    },
                );
                batch.object_events.insert((blob_id, object), *id);
                applied.registered.push(blob_id);
            }
            NodeEvent::Certified {
                blob_id,
                object,
                epoch,
                end_epoch,
                deletable,
                is_extension,
            } => {
                let current = match batch.objects.get(&(blob_id, object)) {
                    Some(info) => Some(info.clone()),
                    None => store.blob_object(&blob_id, &object)?,
                };
                // A certification of an object the node never saw registered
                // (cursor started later) still makes the blob available.
                let mut info = current.unwrap_or(BlobObjectInfo {
                    deletable,
                    registered_epoch: epoch,
                    end_epoch,
                    certified_epoch: None,
                    deleted: false,
                });
                info.certified_epoch.get_or_insert(epoch);
                info.end_epoch = end_epoch;
                batch.objects.insert((blob_id, object), info);
                batch.object_events.insert((blob_id, object), *id);
                if member && !is_extension {
                    batch.recover.push(blob_id);
                    applied.certified = true;
                }
            }
            NodeEvent::Deleted { blob_id, object } => {
                let current = match batch.objects.get(&(blob_id, object)) {
                    Some(info) => Some(info.clone()),
                    None => store.blob_object(&blob_id, &object)?,
                };
                if let Some(mut info) = current {
                    info.deleted = true;
                    batch.objects.insert((blob_id, object), info);
                }
                applied.gone.push(blob_id);
            }
            NodeEvent::Invalid { blob_id, epoch } => {
                batch.invalid.insert(blob_id, epoch);
                batch.invalid_events.insert(blob_id, *id);
                applied.gone.push(blob_id);
            }
            NodeEvent::EpochChangeStart { epoch } => {
                applied.epoch_start = Some(applied.epoch_start.map_or(epoch, |e| e.max(epoch)));
            }
            NodeEvent::Epoch => applied.epoch_event = true,
        }
    }
    Ok((batch, applied))
}

#[cfg(test)]
mod tests;
