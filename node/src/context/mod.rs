//! The node context: the storage node's state and operations, apart from
//! how they are asked for.
//!
//! One [`NodeContext`] is shared by the HTTP layer ([`crate::api`]) and the
//! background components (the [`crate::follower`], [`crate::recovery`],
//! [`crate::shard_sync`], [`crate::epoch`] changes and the
//! [`crate::store_watchdog`]). It holds the durable store, the committee
//! view, the node's protocol key, the uploads buffered before their
//! registration ([`uploads`]), the metrics and the follower's progress.
//! None of the background components knows the HTTP layer; the HTTP layer
//! parses and validates requests, calls the context and renders answers.
//!
//! Writes happen here, driven by uploads (PUTs) and by the follower; a read
//! never writes. In particular, buffered (`?pending=true`) uploads are moved
//! into the store when the follower applies their blob's registration
//! ([`NodeContext::promote_pending`]), not when someone asks for them.

mod uploads;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use floe_core::BlobId;
use floe_core::bls::{BlsPublicKey, BlsSecretKey};
use floe_core::messages::{BlobPersistenceType, MessageBody, ProtocolMessage, SignedMessage};
use tokio::sync::watch;

pub use uploads::{ConfirmError, MetadataUpload, SliverTarget, SliverUpload, UploadError};

use crate::chain_view::ChainView;
use crate::config::Limits;
use crate::metrics::NodeMetrics;
use crate::pending::{PendingBounds, PendingMetadata, PendingSlivers};
use crate::store::{NodeStore, StoreError};

/// The node's state and operations; cheap to clone (one shared value).
#[derive(Clone)]
pub struct NodeContext {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<NodeStore>,
    chain: ChainView,
    key: BlsSecretKey,
    uploads: uploads::PendingUploads,
    started: Instant,
    metrics: NodeMetrics,
    /// Checkpoints applied by the follower (next sequence number); waiters
    /// for a registration event watch it.
    applied: watch::Sender<u64>,
    /// Whether the node follows the chain (false in static test mode).
    following: AtomicBool,
}

impl NodeContext {
    /// A context over an open store, a chain view and the node's protocol
    /// key; `limits` bound the buffers of uploads waiting for their
    /// registration (the HTTP limits in it are the API's business).
    pub fn new(
        store: Arc<NodeStore>,
        chain: ChainView,
        key: BlsSecretKey,
        limits: &Limits,
    ) -> Self {
        let next = store.next_checkpoint().unwrap_or(0);
        let ttl = Duration::from_millis(limits.pending_ttl_ms);
        Self {
            inner: Arc::new(Inner {
                uploads: uploads::PendingUploads::new(
                    PendingMetadata::new(PendingBounds {
                        max_entries: limits.pending_metadata_entries,
                        max_bytes: limits.pending_metadata_bytes,
                        ttl,
                    }),
                    PendingSlivers::new(PendingBounds {
                        max_entries: limits.pending_sliver_blobs,
                        max_bytes: limits.pending_sliver_bytes,
                        ttl,
                    }),
                ),
                store,
                chain,
                key,
                started: Instant::now(),
                metrics: NodeMetrics::new(),
                applied: watch::Sender::new(next),
                following: AtomicBool::new(false),
            }),
        }
    }

    /// The durable store.
    pub fn store(&self) -> &Arc<NodeStore> {
        &self.inner.store
    }

    /// The committee view (replaced by the follower).
    pub fn chain(&self) -> &ChainView {
        &self.inner.chain
    }

    /// This node's protocol public key.
    pub fn public_key(&self) -> BlsPublicKey {
        self.inner.key.public_key()
    }

    /// Signs `message` with the node's protocol key (the key never leaves
    /// the context).
    pub fn sign<T: MessageBody>(&self, message: &ProtocolMessage<T>) -> SignedMessage<T> {
        SignedMessage::sign(&self.inner.key, message)
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &NodeMetrics {
        &self.inner.metrics
    }

    /// Time since the context was made (the node started).
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// Whether the follower has reported progress (false in static mode).
    pub fn is_following(&self) -> bool {
        self.inner.following.load(Ordering::Relaxed)
    }

    /// Called by the follower once a checkpoint is applied and the pending
    /// uploads of the blobs it registered are stored: wakes requests
    /// waiting for a registration.
    pub fn checkpoint_applied(&self, next: u64) {
        self.inner.following.store(true, Ordering::Relaxed);
        self.inner.applied.send_replace(next);
    }

    /// Watches [`Self::checkpoint_applied`].
    pub fn watch_applied(&self) -> watch::Receiver<u64> {
        self.inner.applied.subscribe()
    }

    /// Whether `blob_id` is currently registered as `blob_type` (a
    /// permanent blob, or that deletable object, unexpired and not
    /// deleted) and not invalid, as far as the follower has applied.
    pub fn is_registered_for(
        &self,
        blob_id: &BlobId,
        blob_type: BlobPersistenceType,
    ) -> Result<bool, StoreError> {
        let epoch = self.inner.chain.committee().epoch();
        let store = &self.inner.store;
        let info = store.blob_info(blob_id, epoch)?;
        if info.invalid_epoch.is_some() {
            return Ok(false);
        }
        Ok(match blob_type {
            BlobPersistenceType::Permanent => info.permanent.total > 0,
            BlobPersistenceType::Deletable { object_id } => store
                .blob_object(blob_id, &object_id)?
                .is_some_and(|o| o.deletable && !o.deleted && o.end_epoch > epoch),
        })
    }

    /// Whether the registration of `blob_id` as `blob_type` is applied and
    /// nothing of it waits in the upload buffers any more (the follower
    /// stores them right after applying the registration): what a
    /// confirmation request that asked to wait for the registration waits
    /// for.
    pub fn registration_settled(
        &self,
        blob_id: &BlobId,
        blob_type: BlobPersistenceType,
    ) -> Result<bool, StoreError> {
        Ok(self.is_registered_for(blob_id, blob_type)? && !self.metadata_buffered(blob_id))
    }
}
