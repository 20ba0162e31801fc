//! The node's durable store: metadata, slivers per shard, shard status, blob
//! objects and the event cursor, in one `fjall` keyspace (an LSM tree with
//! key-value separation: large values go to blob files, keys stay small).
//!
//! Why fjall (measured by `examples/sliver_store_bench.rs`, 1 GiB of slivers
//! of 4 KiB..2 MiB, recorded in BENCHMARKS.md): with one fsync'd commit per
//! sliver it wrote 1.4x-3x faster than redb (runs on a shared, noisy disk),
//! used 1.0x the data size on disk against redb's 2.3x (copy-on-write pages,
//! deterministic), and read back 1.2x-2.4x faster.
//! Plain files were as fast for single writes but give no atomic update of
//! several records (a blob object and the event cursor that caused it) and
//! cost an inode per sliver. fjall batches are atomic across partitions.
//!
//! Durability: every write method hands one atomic batch to the store's
//! writer thread (`store/writer.rs`), which journals it, fsyncs
//! (`PersistMode::SyncAll`, one fsync shared by every batch waiting: group
//! commit) and only then makes it readable; the method returns after that,
//! so a caller that answers a request afterwards has made the write survive
//! kill -9, and a write whose fsync failed is never served. On open, fjall
//! replays the journal.
//!
//! Engine settings (`StoreConfig`) are chosen for slivers of up to a few
//! MiB arriving from many clients at once; see `StoreConfig` for why.
//!
//! Epoch changes (`store/epoch.rs`): the shard statuses, the epoch they
//! follow and whether `epoch_sync_done` was sent change in one batch.
//!
//! Blob status is *computed* from the blob's object records (one row per Sui
//! `Blob` object, keyed by blob id then object id) rather than kept as running
//! counters: replaying an event (after a crash between handling an event and
//! persisting the cursor) then cannot double-count, and expiry needs no
//! separate bookkeeping because it is decided against the epoch asked about.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle};
use floe_core::encoding::{Primary, Secondary, SliverData};
use floe_core::move_types::ObjectId;
use floe_core::{Axis, BlobId, EncodingConfig, UnverifiedBlobMetadataWithId};
use floe_core::{MetadataError, VerifiedBlobMetadataWithId};
use serde::{Deserialize, Serialize};

use crate::events::EventId;

const EVENT_CURSOR: &[u8] = b"event_cursor";

/// Why a store operation failed. Storage errors are fatal for the request
/// (the write did not happen); `Corrupt` means bytes on disk no longer parse
/// or verify, which the node reports instead of serving them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine failed (I/O, journal, recovery); the write did not happen.
    #[error("store error: {0}")]
    Engine(#[from] fjall::Error),
    /// Could not create the data directory.
    #[error("cannot create the store directory: {0}")]
    Io(#[from] std::io::Error),
    /// A commit failed (fsync or journal error; the store refuses writes
    /// from then on) or the writer thread is gone.
    #[error("store commit failed: {reason}")]
    Commit {
        /// What the engine said.
        reason: String,
    },
    /// Stored bytes no longer decode or verify.
    #[error("corrupt {what} in the store: {reason}")]
    Corrupt {
        /// Which record.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}

/// The state of one shard on this node (Walrus's `ShardStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ShardStatus {
    /// Owned and serving.
    Active,
    /// Gained at an epoch change; syncing from the previous owner.
    ActiveSync,
    /// Gained, and being rebuilt from recovery symbols.
    ActiveRecover,
    /// Lost at an epoch change: kept read-only so the new owner can sync.
    LockedToMove,
}

impl ShardStatus {
    fn to_u8(self) -> u8 {
        match self {
            Self::Active => 0,
            Self::ActiveSync => 1,
            Self::ActiveRecover => 2,
            Self::LockedToMove => 3,
        }
    }

    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Active,
            1 => Self::ActiveSync,
            2 => Self::ActiveRecover,
            3 => Self::LockedToMove,
            _ => return None,
        })
    }
}

/// What the node knows about one Sui `Blob` object, from chain events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobObjectInfo {
    /// Deletable blobs can be removed by their owner before `end_epoch`.
    pub deletable: bool,
    /// Epoch of registration.
    pub registered_epoch: u32,
    /// First epoch in which the blob is no longer stored.
    pub end_epoch: u32,
    /// Epoch of certification, once certified.
    pub certified_epoch: Option<u32>,
    /// The owner deleted the object.
    pub deleted: bool,
}

/// Counts over a blob id's live objects of one persistence kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Registered (certified or not), unexpired, undeleted objects.
    pub total: u32,
    /// Of those, certified.
    pub certified: u32,
    /// Largest end epoch among the counted objects (0 if none).
    pub end_epoch: u32,
}

/// A blob id's status at one epoch, aggregated over all its blob objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    /// Epoch in which the blob was proven inconsistent, if it was.
    pub invalid_epoch: Option<u32>,
    /// Permanent objects.
    pub permanent: Counts,
    /// Deletable objects.
    pub deletable: Counts,
    /// Earliest certification among the live objects.
    pub initial_certified_epoch: Option<u32>,
    /// The event behind the permanent status: that of the live permanent
    /// object with the latest end epoch, certified ones first (the follower
    /// writes each object record and its event in one batch).
    #[serde(skip)]
    pub status_event: Option<EventId>,
    /// The `InvalidBlobID` event, when the blob is invalid.
    #[serde(skip)]
    pub invalid_event: Option<EventId>,
}

impl BlobInfo {
    /// Some live object is registered and the blob is not invalid.
    pub fn is_registered(&self) -> bool {
        self.invalid_epoch.is_none() && (self.permanent.total + self.deletable.total) > 0
    }

    /// Some live object is certified and the blob is not invalid.
    pub fn is_certified(&self) -> bool {
        self.invalid_epoch.is_none() && (self.permanent.certified + self.deletable.certified) > 0
    }
}

fn sliver_key(shard: u16, axis: Axis, blob_id: &BlobId) -> [u8; 35] {
    let mut key = [0u8; 35];
    key[..2].copy_from_slice(&shard.to_be_bytes());
    key[2] = match axis {
        Axis::Primary => 0,
        Axis::Secondary => 1,
    };
    key[3..].copy_from_slice(blob_id.as_bytes());
    key
}

fn object_key(blob_id: &BlobId, object: &ObjectId) -> [u8; 64] {
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(blob_id.as_bytes());
    key[32..].copy_from_slice(&object.0);
    key
}

fn corrupt(what: &'static str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: reason.to_string(),
    }
}

/// The durable store. Share it behind an `Arc`; all methods take `&self`
/// and block (run them on the blocking pool from async code).
pub struct NodeStore {
    keyspace: Keyspace,
    /// Blob id -> BCS `BlobMetadataWithId` (stored only after verification).
    metadata: PartitionHandle,
    /// `shard u16 BE || axis u8 || blob id` -> where the sliver's BCS
    /// `SliverData` is in the sliver log (`store/sliver_log.rs`).
    sliver_index: PartitionHandle,
    /// The sliver log's segment files.
    sliver_log: Arc<SliverLog>,
    /// Stores written before the sliver log: same key -> the BCS bytes
    /// themselves (in fjall's blob files). Read, counted and removed
    /// still; never written.
    slivers: PartitionHandle,
    /// Shard index (u16 BE) -> [`ShardStatus`] as one byte.
    shard_status: PartitionHandle,
    /// `blob id || object id` -> BCS [`BlobObjectInfo`].
    blob_objects: PartitionHandle,
    /// Blob id -> epoch (u32 BE) in which the blob was marked invalid.
    invalid_blobs: PartitionHandle,
    /// The chain events behind statuses ([`EventId::to_bytes`]): `blob id
    /// || object id` -> the object's last registration or certification
    /// event; `blob id` alone -> its `InvalidBlobID` event.
    status_events: PartitionHandle,
    /// Named singletons (`event_cursor`: the next checkpoint, u64 BE).
    node_state: PartitionHandle,
    /// Blob ids certified on chain whose slivers this node may lack
    /// (durable, so recovery resumes after a restart).
    recovery_queue: PartitionHandle,
    /// `blob id || axis u8` -> BCS inconsistency proof found in recovery.
    inconsistency_proofs: PartitionHandle,
    /// Shard (u16 BE) -> epoch (u32 BE) in which it was lost
    /// (`LockedToMove`), for deleting it two epochs later.
    lost_shards: PartitionHandle,
    /// The one writer thread (group commit, visibility after fsync);
    /// `None` only while opening.
    writer: Option<Writer>,
}

/// The storage engine's settings, sized for slivers of up to a few MiB
/// arriving from many clients at once (fjall's defaults suit small values:
/// a 64 MiB write buffer is thirty 2 MiB slivers, and one flush and one
/// compaction thread on a 2-core machine).
#[derive(Debug, Clone, Copy)]
pub struct StoreConfig {
    /// All memtables together; writes stall beyond it until flushes catch
    /// up.
    pub write_buffer_bytes: u64,
    /// All journals together; writes halt beyond it.
    pub journal_bytes: u64,
    /// The sliver partition's memtable (sealed and flushed beyond it).
    pub sliver_memtable_bytes: u32,
    /// Flush threads.
    pub flush_workers: usize,
    /// Compaction threads.
    pub compaction_workers: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            write_buffer_bytes: 512 << 20,
            journal_bytes: 2 << 30,
            sliver_memtable_bytes: 64 << 20,
            flush_workers: 2,
            compaction_workers: 2,
        }
    }
}

impl StoreConfig {
    fn keyspace(&self, dir: &Path) -> Config {
        Config::new(dir)
            .max_write_buffer_size(self.write_buffer_bytes)
            .max_journaling_size(self.journal_bytes)
            .flush_workers(self.flush_workers)
            .compaction_workers(self.compaction_workers)
    }
}

impl std::fmt::Debug for NodeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeStore").finish_non_exhaustive()
    }
}

impl NodeStore {
    /// Opens (or creates) the store in `dir`, replaying the journal after a
    /// crash so that every committed batch is there.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        let keyspace = StoreConfig::default().keyspace(dir).open()?;
        let plain = PartitionCreateOptions::default;
        let open = |name: &str| keyspace.open_partition(name, plain());
        let slivers = keyspace.open_partition(
            "slivers",
            plain()
                .max_memtable_size(StoreConfig::default().sliver_memtable_bytes)
                .with_kv_separation(fjall::KvSeparationOptions::default()),
        )?;
        let sliver_index = open("sliver_index")?;
        let sliver_log = Arc::new(SliverLog::open(&dir.join("sliver-log"), &sliver_index)?);
        let store = Self {
            metadata: open("metadata")?,
            sliver_index,
            sliver_log,
            slivers,
            shard_status: open("shard_status")?,
            blob_objects: open("blob_objects")?,
            invalid_blobs: open("invalid_blobs")?,
            status_events: open("status_events")?,
            node_state: open("node_state")?,
            recovery_queue: open("recovery_queue")?,
            inconsistency_proofs: open("inconsistency_proofs")?,
            lost_shards: open("lost_shards")?,
            writer: None,
            keyspace,
        };
        let partitions = vec![
            store.metadata.clone(),
            store.sliver_index.clone(),
            store.slivers.clone(),
            store.shard_status.clone(),
            store.blob_objects.clone(),
            store.invalid_blobs.clone(),
            store.status_events.clone(),
            store.node_state.clone(),
            store.recovery_queue.clone(),
            store.inconsistency_proofs.clone(),
            store.lost_shards.clone(),
        ];
        Ok(Self {
            writer: Some(Writer::start(
                store.keyspace.clone(),
                partitions,
                store.sliver_log.clone(),
            )?),
            ..store
        })
    }

    /// A new, empty atomic batch of writes.
    fn batch(&self) -> WriteBatch {
        WriteBatch::default()
    }

    /// Commits `batch` through the writer thread and returns once it is
    /// fsync'd and readable (see `store/writer.rs`).
    fn commit_durable(&self, batch: WriteBatch) -> Result<(), StoreError> {
        match &self.writer {
            Some(writer) => writer.commit(batch),
            None => Err(StoreError::Commit {
                reason: "the store is not open".into(),
            }),
        }
    }

    /// Why the store refuses writes, if it does: a commit failed (a full
    /// disk, an I/O error) and the engine accepts none until the store is
    /// reopened. Reads keep working.
    pub fn write_failure(&self) -> Option<String> {
        self.writer.as_ref().and_then(|w| w.failures().first())
    }

    /// Group commits that failed since the store was opened.
    pub fn write_errors(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.failures().count())
    }

    /// Stores verified metadata; returns `false` if they were already stored.
    /// Two racing writers store the same bytes (both verified against the
    /// same id), so the check-then-write needs no lock.
    pub fn put_metadata(&self, metadata: &VerifiedBlobMetadataWithId) -> Result<bool, StoreError> {
        let key = metadata.blob_id().as_bytes();
        if self.metadata.contains_key(key)? {
            return Ok(false);
        }
        let mut batch = self.batch();
        batch.insert(&self.metadata, key.as_slice(), metadata.to_bcs());
        self.commit_durable(batch)?;
        Ok(true)
    }

    /// Whether metadata for `blob_id` are stored.
    pub fn has_metadata(&self, blob_id: &BlobId) -> Result<bool, StoreError> {
        Ok(self.metadata.contains_key(blob_id.as_bytes())?)
    }

    /// The stored metadata, re-verified against `config`. Re-verification
    /// costs one Merkle root over `n` pair hashes (microseconds) and means a
    /// flipped bit on disk is reported as corruption instead of being served.
    pub fn get_metadata(
        &self,
        blob_id: &BlobId,
        config: &EncodingConfig,
    ) -> Result<Option<VerifiedBlobMetadataWithId>, StoreError> {
        let Some(bytes) = self.metadata.get(blob_id.as_bytes())? else {
            return Ok(None);
        };
        let unverified =
            UnverifiedBlobMetadataWithId::from_bcs(&bytes).map_err(|e| corrupt("metadata", e))?;
        unverified
            .verify_for(config, blob_id)
            .map(Some)
            .map_err(|e: MetadataError| corrupt("metadata", e))
    }

    /// Stores a sliver's BCS bytes for `shard`, replacing any earlier copy
    /// (identical, since both verified against the same metadata).
    pub fn put_sliver_bytes(
        &self,
        shard: u16,
        axis: Axis,
        blob_id: &BlobId,
        bcs: impl Into<Vec<u8>>,
    ) -> Result<(), StoreError> {
        let mut batch = self.batch();
        batch.put_sliver(
            &self.sliver_index,
            sliver_key(shard, axis, blob_id).as_slice(),
            bcs.into(),
        );
        self.commit_durable(batch)?;
        Ok(())
    }

    /// Stores a primary sliver.
    pub fn put_primary(
        &self,
        shard: u16,
        blob_id: &BlobId,
        sliver: &SliverData<Primary>,
    ) -> Result<(), StoreError> {
        self.put_sliver_bytes(shard, Axis::Primary, blob_id, sliver.to_bcs())
    }

    /// Stores a secondary sliver.
    pub fn put_secondary(
        &self,
        shard: u16,
        blob_id: &BlobId,
        sliver: &SliverData<Secondary>,
    ) -> Result<(), StoreError> {
        self.put_sliver_bytes(shard, Axis::Secondary, blob_id, sliver.to_bcs())
    }

    /// The stored BCS bytes of a sliver, for serving without re-encoding:
    /// the engine's own buffer, not a copy of it.
    pub fn get_sliver_bytes(
        &self,
        shard: u16,
        axis: Axis,
        blob_id: &BlobId,
    ) -> Result<Option<Bytes>, StoreError> {
        let key = sliver_key(shard, axis, blob_id);
        // Twice at most: a segment found gone means its last sliver was
        // removed after the entry was read; the entry is gone too then,
        // unless the sliver was stored again meanwhile.
        for _ in 0..2 {
            let Some(stored) = self.sliver_index.get(key)? else {
                return Ok(self.slivers.get(key)?.map(Bytes::from_owner));
            };
            let location = match IndexEntry::decode(&stored)? {
                IndexEntry::Inline(_) => return Ok(Some(Bytes::from_owner(stored).slice(1..))),
                IndexEntry::Logged(location) => location,
            };
            if let Some(bytes) = self.sliver_log.read(&location)? {
                return Ok(Some(bytes));
            }
        }
        Err(corrupt(
            "sliver",
            "its index entry points into a deleted segment",
        ))
    }

    /// A stored primary sliver, parsed.
    pub fn get_primary(
        &self,
        shard: u16,
        blob_id: &BlobId,
    ) -> Result<Option<SliverData<Primary>>, StoreError> {
        self.get_sliver_bytes(shard, Axis::Primary, blob_id)?
            .map(|b| SliverData::from_bcs(&b).map_err(|e| corrupt("primary sliver", e)))
            .transpose()
    }

    /// A stored secondary sliver, parsed.
    pub fn get_secondary(
        &self,
        shard: u16,
        blob_id: &BlobId,
    ) -> Result<Option<SliverData<Secondary>>, StoreError> {
        self.get_sliver_bytes(shard, Axis::Secondary, blob_id)?
            .map(|b| SliverData::from_bcs(&b).map_err(|e| corrupt("secondary sliver", e)))
            .transpose()
    }

    /// Whether a sliver is stored.
    pub fn has_sliver(&self, shard: u16, axis: Axis, blob_id: &BlobId) -> Result<bool, StoreError> {
        let key = sliver_key(shard, axis, blob_id);
        Ok(self.sliver_index.contains_key(key)? || self.slivers.contains_key(key)?)
    }

    /// Adds the removal of the sliver under `key` (wherever it is kept) to
    /// `batch`; `true` if there was one.
    fn remove_sliver(&self, batch: &mut WriteBatch, key: &[u8]) -> Result<bool, StoreError> {
        let mut found = false;
        if self.sliver_index.contains_key(key)? {
            batch.remove_sliver(&self.sliver_index, key);
            found = true;
        }
        if self.slivers.contains_key(key)? {
            batch.remove(&self.slivers, key);
            found = true;
        }
        Ok(found)
    }

    /// Sliver segment files on disk.
    pub fn sliver_segments(&self) -> usize {
        self.sliver_log.segment_count()
    }

    /// Sets the status of a shard.
    pub fn set_shard_status(&self, shard: u16, status: ShardStatus) -> Result<(), StoreError> {
        let mut batch = self.batch();
        batch.insert(&self.shard_status, shard.to_be_bytes(), [status.to_u8()]);
        self.commit_durable(batch)?;
        Ok(())
    }

    /// The status of a shard, `None` if the node never held it.
    pub fn shard_status(&self, shard: u16) -> Result<Option<ShardStatus>, StoreError> {
        self.shard_status
            .get(shard.to_be_bytes())?
            .map(|v| parse_status(&v))
            .transpose()
    }

    /// Every shard with a status, in shard order.
    pub fn shard_statuses(&self) -> Result<Vec<(u16, ShardStatus)>, StoreError> {
        let mut out = Vec::new();
        for row in self.shard_status.iter() {
            let (k, v) = row?;
            let shard: [u8; 2] = k
                .as_ref()
                .try_into()
                .map_err(|_| corrupt("shard status", "key is not a u16"))?;
            out.push((u16::from_be_bytes(shard), parse_status(&v)?));
        }
        Ok(out)
    }

    /// Inserts or replaces what the node knows about one blob object, and
    /// optionally advances the event cursor in the same atomic batch, so an
    /// event is either applied with its cursor or not at all.
    pub fn put_blob_object(
        &self,
        blob_id: &BlobId,
        object: &ObjectId,
        info: &BlobObjectInfo,
        cursor: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let bytes = bcs::to_bytes(info).map_err(|e| corrupt("blob object", e))?;
        let mut batch = self.batch();
        batch.insert(
            &self.blob_objects,
            object_key(blob_id, object).as_slice(),
            bytes,
        );
        if let Some(cursor) = cursor {
            batch.insert(&self.node_state, EVENT_CURSOR, cursor);
        }
        self.commit_durable(batch)?;
        Ok(())
    }

    /// One blob object's record.
    pub fn blob_object(
        &self,
        blob_id: &BlobId,
        object: &ObjectId,
    ) -> Result<Option<BlobObjectInfo>, StoreError> {
        self.blob_objects
            .get(object_key(blob_id, object))?
            .map(|v| bcs::from_bytes(&v).map_err(|e| corrupt("blob object", e)))
            .transpose()
    }

    /// Marks a blob id invalid (an inconsistency proof was accepted on
    /// chain), with the event cursor in the same batch.
    pub fn mark_invalid(
        &self,
        blob_id: &BlobId,
        epoch: u32,
        cursor: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let mut batch = self.batch();
        batch.insert(
            &self.invalid_blobs,
            blob_id.as_bytes().as_slice(),
            epoch.to_be_bytes(),
        );
        if let Some(cursor) = cursor {
            batch.insert(&self.node_state, EVENT_CURSOR, cursor);
        }
        self.commit_durable(batch)?;
        Ok(())
    }

    /// The blob's status at `epoch`, aggregated over its objects: objects
    /// that are deleted or whose `end_epoch <= epoch` do not count.
    pub fn blob_info(&self, blob_id: &BlobId, epoch: u32) -> Result<BlobInfo, StoreError> {
        let invalid_epoch = match self.invalid_blobs.get(blob_id.as_bytes())? {
            None => None,
            Some(v) => {
                Some(u32::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                    corrupt("invalid blob", "epoch is not a u32")
                })?))
            }
        };
        let mut info = BlobInfo {
            invalid_epoch,
            ..BlobInfo::default()
        };
        // The permanent object whose event stands for the status: certified
        // before uncertified, then the latest end epoch.
        let mut status_object: Option<((bool, u32), Vec<u8>)> = None;
        for row in self.blob_objects.prefix(blob_id.as_bytes()) {
            let (key, v) = row?;
            let object: BlobObjectInfo =
                bcs::from_bytes(&v).map_err(|e| corrupt("blob object", e))?;
            if object.deleted || object.end_epoch <= epoch {
                continue;
            }
            let counts = if object.deletable {
                &mut info.deletable
            } else {
                let rank = (object.certified_epoch.is_some(), object.end_epoch);
                if status_object.as_ref().is_none_or(|(best, _)| rank > *best) {
                    status_object = Some((rank, key.to_vec()));
                }
                &mut info.permanent
            };
            counts.total += 1;
            counts.end_epoch = counts.end_epoch.max(object.end_epoch);
            if let Some(certified) = object.certified_epoch {
                counts.certified += 1;
                info.initial_certified_epoch = Some(
                    info.initial_certified_epoch
                        .map_or(certified, |e| e.min(certified)),
                );
            }
        }
        if let Some((_, key)) = status_object {
            info.status_event = self.status_event(&key)?;
        }
        if info.invalid_epoch.is_some() {
            info.invalid_event = self.status_event(blob_id.as_bytes())?;
        }
        Ok(info)
    }

    fn status_event(&self, key: &[u8]) -> Result<Option<EventId>, StoreError> {
        self.status_events
            .get(key)?
            .map(|v| EventId::from_bytes(&v).ok_or_else(|| corrupt("status event", "not 40 bytes")))
            .transpose()
    }

    /// Persists the chain follower's position (opaque bytes it defines).
    pub fn set_event_cursor(&self, cursor: &[u8]) -> Result<(), StoreError> {
        let mut batch = self.batch();
        batch.insert(&self.node_state, EVENT_CURSOR, cursor);
        self.commit_durable(batch)?;
        Ok(())
    }

    /// The persisted chain position, if any.
    pub fn event_cursor(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.node_state.get(EVENT_CURSOR)?.map(|v| v.to_vec()))
    }
}

fn parse_status(v: &[u8]) -> Result<ShardStatus, StoreError> {
    match v {
        [b] => ShardStatus::from_u8(*b)
            .ok_or_else(|| corrupt("shard status", format!("unknown value {b}"))),
        _ => Err(corrupt("shard status", "not one byte")),
    }
}

mod read_buffers;
pub(crate) mod sliver_log;
mod writer;
use sliver_log::{IndexEntry, SliverLog};
pub use writer::WriteBatch;
use writer::Writer;

mod chain;
pub use chain::{ChainBatch, GcStats};

mod epoch;
pub use epoch::{EpochRecord, LOST_SHARD_RETENTION, ShardDiff, is_held, is_syncing, shard_diff};

#[cfg(test)]
mod tests;
