//! The archive: every sealed checkpoint with its transactions, and every
//! object version, on disk (fjall), so the in-memory state holds only live
//! objects and a small window of recent checkpoints.
//!
//! Why a key-value store: followers ask for old checkpoints by number
//! (a node or indexer catching up after downtime, a new node from genesis),
//! clients for transactions by digest and objects at a version. Indexes
//! for those in memory would grow with history; on disk they cost nothing
//! while idle.
//!
//! Durability: the log is the truth for everything since the snapshot. A
//! checkpoint is archived when it is applied (live or replayed), without
//! an fsync; compaction persists the archive (`SyncAll`) before it writes
//! the snapshot that lets the log be dropped. A replay re-archives the
//! log's checkpoints (puts are idempotent), and [`Archive::trim_after`]
//! removes checkpoints the archive got but the log lost (an unacknowledged
//! tail), so both always agree after opening.
//!
//! Partitions: `checkpoints` (seq BE -> BCS `CheckpointRecord`),
//! `checkpoint_digests` (digest -> seq BE), `transactions` (digest -> BCS
//! [`ArchivedTx`]), `versions` (object id ++ version BE -> digest of the
//! transaction that wrote it), `meta` (`latest`, `oldest`: seq BE).

use std::path::Path;
use std::sync::Arc;

use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};
use serde::{Deserialize, Serialize};
use sui_sdk_types::{Address, Digest, Object};

use super::{CheckpointRecord, TxRecord};
use crate::error::StoreError;

/// A transaction as archived: its record and the checkpoint holding it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchivedTx {
    pub checkpoint: u64,
    pub record: TxRecord,
}

/// The on-disk archive of sealed checkpoints.
#[derive(Clone)]
pub struct Archive {
    keyspace: Keyspace,
    checkpoints: PartitionHandle,
    digests: PartitionHandle,
    transactions: PartitionHandle,
    versions: PartitionHandle,
    meta: PartitionHandle,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive").finish_non_exhaustive()
    }
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Archive(e.to_string())
}

fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn read_seq(bytes: &[u8]) -> Result<u64, StoreError> {
    let b: [u8; 8] = bytes
        .try_into()
        .map_err(|_| err("a sequence number is not 8 bytes"))?;
    Ok(u64::from_be_bytes(b))
}

fn version_key(id: &Address, version: u64) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(id.as_bytes());
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

const LATEST: &[u8] = b"latest";
const OLDEST: &[u8] = b"oldest";

impl Archive {
    /// Opens (or creates) the archive in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let keyspace = Config::new(dir).open().map_err(err)?;
        let open = |name: &str| {
            keyspace
                .open_partition(name, PartitionCreateOptions::default())
                .map_err(err)
        };
        Ok(Self {
            checkpoints: open("checkpoints")?,
            digests: open("checkpoint_digests")?,
            transactions: open("transactions")?,
            versions: open("versions")?,
            meta: open("meta")?,
            keyspace,
        })
    }

    /// Archives a sealed checkpoint and its transactions (in contents
    /// order) in one atomic batch.
    pub fn put(
        &self,
        record: &CheckpointRecord,
        digest: &Digest,
        transactions: &[Arc<crate::state::TxEntry>],
    ) -> Result<(), StoreError> {
        let seq = record.summary.sequence_number;
        let mut batch = self.keyspace.batch();
        batch.insert(
            &self.checkpoints,
            seq_key(seq),
            bcs::to_bytes(record).map_err(StoreError::Encode)?,
        );
        batch.insert(&self.digests, digest.as_bytes(), seq_key(seq));
        for tx in transactions {
            let archived = ArchivedTx {
                checkpoint: seq,
                record: tx.record.clone(),
            };
            batch.insert(
                &self.transactions,
                tx.digest.as_bytes(),
                bcs::to_bytes(&archived).map_err(StoreError::Encode)?,
            );
            for o in &tx.record.output_objects {
                batch.insert(
                    &self.versions,
                    version_key(&o.object_id(), o.version()),
                    tx.digest.as_bytes(),
                );
            }
        }
        batch.insert(&self.meta, LATEST, seq_key(seq));
        batch.commit().map_err(err)
    }

    /// Makes everything archived so far durable.
    pub fn persist(&self) -> Result<(), StoreError> {
        self.keyspace.persist(PersistMode::SyncAll).map_err(err)
    }

    /// The latest archived checkpoint.
    pub fn latest(&self) -> Result<Option<u64>, StoreError> {
        self.meta
            .get(LATEST)
            .map_err(err)?
            .map(|v| read_seq(&v))
            .transpose()
    }

    /// The oldest checkpoint still archived (earlier ones were pruned).
    pub fn oldest(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get(OLDEST)
            .map_err(err)?
            .map(|v| read_seq(&v))
            .transpose()?
            .unwrap_or(0))
    }

    /// A checkpoint by sequence number.
    pub fn checkpoint(&self, seq: u64) -> Result<Option<CheckpointRecord>, StoreError> {
        self.checkpoints
            .get(seq_key(seq))
            .map_err(err)?
            .map(|v| bcs::from_bytes(&v).map_err(err))
            .transpose()
    }

    /// The sequence number of the checkpoint with `digest`.
    pub fn seq_by_digest(&self, digest: &Digest) -> Result<Option<u64>, StoreError> {
        self.digests
            .get(digest.as_bytes())
            .map_err(err)?
            .map(|v| read_seq(&v))
            .transpose()
    }

    /// An archived transaction by digest.
    pub fn transaction(&self, digest: &Digest) -> Result<Option<ArchivedTx>, StoreError> {
        self.transactions
            .get(digest.as_bytes())
            .map_err(err)?
            .map(|v| bcs::from_bytes(&v).map_err(err))
            .transpose()
    }

    /// An object at a version written by an archived transaction.
    pub fn object_at(&self, id: &Address, version: u64) -> Result<Option<Object>, StoreError> {
        let Some(digest) = self.versions.get(version_key(id, version)).map_err(err)? else {
            return Ok(None);
        };
        let digest = Digest::from_bytes(&*digest).map_err(err)?;
        Ok(self.transaction(&digest)?.and_then(|t| {
            t.record
                .output_objects
                .into_iter()
                .find(|o| o.object_id() == *id && o.version() == version)
        }))
    }

    /// Removes checkpoints after `latest` up to `top` (the archive's latest
    /// before the log was replayed): archived before a crash whose log
    /// lost them, so never acknowledged. Afterwards the archive matches
    /// the log.
    pub fn trim_after(&self, latest: u64, top: Option<u64>) -> Result<u64, StoreError> {
        let Some(top) = top.filter(|t| *t > latest) else {
            return Ok(0);
        };
        let mut removed = 0;
        let mut batch = self.keyspace.batch();
        for seq in (latest + 1)..=top {
            removed += self.remove_into(&mut batch, seq)?;
        }
        batch.insert(&self.meta, LATEST, seq_key(latest));
        batch.commit().map_err(err)?;
        Ok(removed)
    }

    /// Prunes checkpoints below `keep_from` (at most `max` of them in one
    /// atomic batch) with their transactions and object versions; returns
    /// the new oldest available checkpoint.
    pub fn prune_below(&self, keep_from: u64, max: u64) -> Result<u64, StoreError> {
        let oldest = self.oldest()?;
        if keep_from <= oldest {
            return Ok(oldest);
        }
        let end = keep_from.min(oldest.saturating_add(max));
        let mut batch = self.keyspace.batch();
        for seq in oldest..end {
            self.remove_into(&mut batch, seq)?;
        }
        batch.insert(&self.meta, OLDEST, seq_key(end));
        batch.commit().map_err(err)?;
        Ok(end)
    }

    fn remove_into(&self, batch: &mut fjall::Batch, seq: u64) -> Result<u64, StoreError> {
        let Some(record) = self.checkpoint(seq)? else {
            return Ok(0);
        };
        for info in record.contents.transactions() {
            let digest = info.transaction();
            if let Some(tx) = self.transaction(digest)?
                && tx.checkpoint == seq
            {
                for o in &tx.record.output_objects {
                    let key = version_key(&o.object_id(), o.version());
                    // Only the writer's own entry (a lost tail may share a
                    // version with its replacement).
                    if self
                        .versions
                        .get(key)
                        .map_err(err)?
                        .is_some_and(|d| &*d == digest.as_bytes())
                    {
                        batch.remove(&self.versions, key);
                    }
                }
                batch.remove(&self.transactions, digest.as_bytes());
            }
        }
        batch.remove(&self.digests, record.summary.digest().as_bytes());
        batch.remove(&self.checkpoints, seq_key(seq));
        Ok(1)
    }

    /// Bytes the archive takes on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.keyspace.disk_space()
    }
}
