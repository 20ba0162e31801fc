//! The store's chain-facing part: applying one checkpoint's floe events
//! with the cursor in one atomic batch, the durable recovery queue, kept
//! inconsistency proofs, and garbage collection.
//!
//! Exactly-once across kill -9: the follower reads the records it changes,
//! computes their new values in memory and writes them together with the
//! next checkpoint number in one fsync'd batch. After a crash either the
//! whole checkpoint is applied and the cursor is past it, or nothing is and
//! the checkpoint is delivered again.

use std::collections::BTreeMap;

use floe_core::move_types::ObjectId;
use floe_core::{Axis, BlobId};

use crate::events::EventId;

use super::{BlobObjectInfo, EVENT_CURSOR, NodeStore, StoreError, corrupt, object_key, sliver_key};

/// Everything one checkpoint changes, written atomically.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChainBatch {
    /// New values of blob object records.
    pub objects: BTreeMap<(BlobId, ObjectId), BlobObjectInfo>,
    /// Blob ids proven invalid, with the epoch.
    pub invalid: BTreeMap<BlobId, u32>,
    /// The event behind each object's record in `objects`.
    pub object_events: BTreeMap<(BlobId, ObjectId), EventId>,
    /// The `InvalidBlobID` event of each blob id in `invalid`.
    pub invalid_events: BTreeMap<BlobId, EventId>,
    /// Certified blob ids to check for missing slivers.
    pub recover: Vec<BlobId>,
    /// The next checkpoint to apply after this one.
    pub next_checkpoint: u64,
}

/// What a garbage collection removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GcStats {
    /// Blob ids whose data (metadata and slivers) were removed.
    pub blobs: u64,
    /// Sliver records removed.
    pub slivers: u64,
    /// Dead blob-object records removed.
    pub objects: u64,
}

impl NodeStore {
    /// Writes `batch` and the cursor in one durable commit.
    pub fn apply_chain_batch(&self, batch: &ChainBatch) -> Result<(), StoreError> {
        let mut b = self.batch();
        for ((blob_id, object), info) in &batch.objects {
            let bytes = bcs::to_bytes(info).map_err(|e| corrupt("blob object", e))?;
            b.insert(
                &self.blob_objects,
                object_key(blob_id, object).as_slice(),
                bytes,
            );
        }
        for (blob_id, epoch) in &batch.invalid {
            b.insert(
                &self.invalid_blobs,
                blob_id.as_bytes().as_slice(),
                epoch.to_be_bytes(),
            );
        }
        for ((blob_id, object), event) in &batch.object_events {
            b.insert(
                &self.status_events,
                object_key(blob_id, object).as_slice(),
                event.to_bytes(),
            );
        }
        for (blob_id, event) in &batch.invalid_events {
            b.insert(
                &self.status_events,
                blob_id.as_bytes().as_slice(),
                event.to_bytes(),
            );
        }
        for blob_id in &batch.recover {
            b.insert(&self.recovery_queue, blob_id.as_bytes().as_slice(), []);
        }
        b.insert(
            &self.node_state,
            EVENT_CURSOR,
            batch.next_checkpoint.to_be_bytes(),
        );
        self.commit_durable(b)
    }

    /// The next checkpoint the follower must apply (0 on a new store).
    pub fn next_checkpoint(&self) -> Result<u64, StoreError> {
        match self.event_cursor()? {
            None => Ok(0),
            Some(bytes) => {
                let bytes: [u8; 8] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| corrupt("event cursor", "not a u64"))?;
                Ok(u64::from_be_bytes(bytes))
            }
        }
    }

    /// Up to `limit` blob ids waiting for recovery, in id order.
    pub fn recovery_queue(&self, limit: usize) -> Result<Vec<BlobId>, StoreError> {
        let mut out = Vec::new();
        for row in self.recovery_queue.keys().take(limit) {
            let key = row?;
            let bytes: [u8; 32] = key
                .as_ref()
                .try_into()
                .map_err(|_| corrupt("recovery queue", "key is not a blob id"))?;
            out.push(BlobId(bytes));
        }
        Ok(out)
    }

    /// Number of blob ids waiting for recovery (walks the queue; bounded
    /// by the number of certified blobs this node is missing data of).
    pub fn recovery_queue_len(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        for row in self.recovery_queue.keys() {
            row?;
            n += 1;
        }
        Ok(n)
    }

    /// Takes a blob id off the recovery queue (it is complete, or no longer
    /// needs its data).
    pub fn finish_recovery(&self, blob_id: &BlobId) -> Result<(), StoreError> {
        let mut b = self.batch();
        b.remove(&self.recovery_queue, blob_id.as_bytes().as_slice());
        self.commit_durable(b)
    }

    /// Keeps an inconsistency proof found while recovering (BCS of the
    /// proof for `axis`) and takes the blob off the recovery queue, in one
    /// batch: the proof is what the node needs to attest the blob invalid.
    pub fn put_inconsistency_proof(
        &self,
        blob_id: &BlobId,
        axis: Axis,
        proof_bcs: &[u8],
    ) -> Result<(), StoreError> {
        let mut key = blob_id.as_bytes().to_vec();
        key.push(match axis {
            Axis::Primary => 0,
            Axis::Secondary => 1,
        });
        let mut b = self.batch();
        b.insert(&self.inconsistency_proofs, key, proof_bcs);
        b.remove(&self.recovery_queue, blob_id.as_bytes().as_slice());
        self.commit_durable(b)
    }

    /// A kept inconsistency proof for `blob_id`, with its axis.
    pub fn inconsistency_proof(
        &self,
        blob_id: &BlobId,
    ) -> Result<Option<(Axis, Vec<u8>)>, StoreError> {
        let Some(row) = self.inconsistency_proofs.prefix(blob_id.as_bytes()).next() else {
            return Ok(None);
        };
        let (k, v) = row?;
        let axis = match k.get(32) {
            Some(0) => Axis::Primary,
            Some(1) => Axis::Secondary,
            _ => return Err(corrupt("inconsistency proof", "bad key")),
        };
        Ok(Some((axis, v.to_vec())))
    }

    /// Removes the data of `blob_id` if no live object keeps it at `epoch`
    /// (every object expired, `end_epoch <= epoch`, or deleted; or the blob
    /// is invalid): metadata, slivers on `shards`, and its object records.
    /// The invalid mark stays so that re-uploads are refused. Returns what
    /// was removed. Call it from the follower's task only, so that no
    /// object record for this blob id is written concurrently.
    pub fn collect_blob(
        &self,
        blob_id: &BlobId,
        epoch: u32,
        shards: &[u16],
    ) -> Result<GcStats, StoreError> {
        let info = self.blob_info(blob_id, epoch)?;
        if info.is_registered() {
            return Ok(GcStats::default());
        }
        let mut stats = GcStats::default();
        let mut b = self.batch();
        if self.metadata.contains_key(blob_id.as_bytes())? {
            b.remove(&self.metadata, blob_id.as_bytes().as_slice());
            stats.blobs = 1;
        }
        for &shard in shards {
            for axis in [Axis::Primary, Axis::Secondary] {
                let key = sliver_key(shard, axis, blob_id);
                if self.remove_sliver(&mut b, &key)? {
                    stats.slivers += 1;
                }
            }
        }
        for row in self.blob_objects.prefix(blob_id.as_bytes()) {
            let (k, _) = row?;
            b.remove(&self.status_events, k.clone());
            b.remove(&self.blob_objects, k);
            stats.objects += 1;
        }
        b.remove(&self.recovery_queue, blob_id.as_bytes().as_slice());
        if stats != GcStats::default() {
            self.commit_durable(b)?;
        }
        Ok(stats)
    }

    /// Garbage-collects every blob id the store holds anything for, at
    /// `epoch` (see [`NodeStore::collect_blob`]). Runs after an epoch change
    /// and at start; `shards` are the shards slivers may be kept under
    /// (every shard with a status).
    pub fn collect_garbage(&self, epoch: u32, shards: &[u16]) -> Result<GcStats, StoreError> {
        // Candidates: blob ids with metadata or object records. Both
        // listings are keyed by blob id first, so each id appears in order.
        let mut candidates: Vec<BlobId> = Vec::new();
        for row in self.metadata.keys() {
            let key = row?;
            if let Ok(bytes) = <[u8; 32]>::try_from(key.as_ref()) {
                candidates.push(BlobId(bytes));
            }
        }
        let mut last: Option<[u8; 32]> = None;
        for row in self.blob_objects.keys() {
            let key = row?;
            let Some(prefix) = key.get(..32) else {
                continue;
            };
            let Ok(bytes) = <[u8; 32]>::try_from(prefix) else {
                continue;
            };
            if last != Some(bytes) {
                candidates.push(BlobId(bytes));
                last = Some(bytes);
            }
        }
        candidates.sort_unstable_by_key(|b| b.0);
        candidates.dedup();
        let mut total = GcStats::default();
        for blob_id in candidates {
            let s = self.collect_blob(&blob_id, epoch, shards)?;
            total.blobs += s.blobs;
            total.slivers += s.slivers;
            total.objects += s.objects;
        }
        Ok(total)
    }
}
