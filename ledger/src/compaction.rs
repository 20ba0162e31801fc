//! Log compaction: a snapshot of the live state replaces the log.
//!
//! Steps, under the writer lock (no transaction or checkpoint meanwhile):
//!
//! 1. fsync the log, so the in-memory state is all durable;
//! 2. persist the archive (`SyncAll`): every sealed checkpoint, its
//!    transactions and object versions are on disk outside the log;
//! 3. write the snapshot of generation `g + 1` atomically (temporary file,
//!    fsync, rename, directory fsync);
//! 4. replace the log by an empty one of generation `g + 1` (same way);
//! 5. prune the archive below the retention window, if one is set.
//!
//! A crash between any two steps is safe: before 3 the old snapshot and
//! the whole log are there; between 3 and 4 the snapshot's generation is
//! newer than the log's, and opening drops the log (it is in the snapshot);
//! after 4 the new log continues the snapshot. Nothing acknowledged is in
//! a file that is removed before its replacement is durable.

use crate::error::{StoreError, TxError};
use crate::ledger::{Ledger, MAX_PRUNE, lock_err};
use crate::store::snapshot;

/// A point to stop a compaction at, as a crash would (for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactionStep {
    /// The log is fsynced and the archive persisted; no snapshot yet.
    ArchivePersisted,
    /// The new snapshot is written; the old log is still in place.
    SnapshotWritten,
    /// The new, empty log replaced the old one; nothing pruned yet.
    LogReset,
}

impl Ledger {
    /// Whether the log passed a compaction threshold.
    pub fn needs_compaction(&self) -> bool {
        let Ok(wal) = self.inner.wal.lock() else {
            return false;
        };
        let o = &self.inner.options;
        wal.len() >= o.compact_log_bytes || wal.frames() >= o.compact_log_records
    }

    /// Compacts now: snapshot of the live state, a new empty log, pruning.
    pub fn compact(&self) -> Result<(), TxError> {
        self.compact_until(None)
    }

    /// Runs a compaction up to and including `step`, then stops as a crash
    /// would: the ledger refuses further writes and must be reopened. For
    /// crash tests; production code calls [`Ledger::compact`].
    pub fn compact_and_stop_after(&self, step: CompactionStep) -> Result<(), TxError> {
        self.compact_until(Some(step))?;
        self.inner
            .failed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    fn compact_until(&self, stop: Option<CompactionStep>) -> Result<(), TxError> {
        self.check_healthy()?;
        let mut wal = self.inner.wal.lock().map_err(lock_err)?;
        let store = |e: StoreError| TxError::Storage(e.to_string());
        let end = wal.len();
        wal.syncer().sync_to(end).map_err(|e| self.fail(e))?;
        let (snapshot, archive) = {
            let state = self.state();
            let archive = state
                .archive()
                .cloned()
                .ok_or_else(|| TxError::Storage("the ledger has no archive".into()))?;
            let snapshot = state
                .snapshot(wal.generation() + 1)
                .ok_or_else(|| TxError::Storage("nothing to snapshot before genesis".into()))?;
            (snapshot, archive)
        };
        archive.persist().map_err(store)?;
        if stop == Some(CompactionStep::ArchivePersisted) {
            return Ok(());
        }
        let generation = snapshot.generation;
        let latest = snapshot.latest_checkpoint;
        let objects = snapshot.objects.len();
        let bytes = snapshot::write(&self.inner.data_dir, &snapshot).map_err(store)?;
        drop(snapshot);
        if stop == Some(CompactionStep::SnapshotWritten) {
            return Ok(());
        }
        let dropped = wal.len();
        // A failure here leaves the log handle in doubt: refuse writes
        // until a restart, which finishes the compaction from the files.
        wal.reset(generation).map_err(|e| self.fail(e))?;
        if stop == Some(CompactionStep::LogReset) {
            return Ok(());
        }
        let oldest = match self.inner.options.retain_checkpoints {
            Some(keep) => {
                let keep_from = latest.saturating_add(1).saturating_sub(keep.max(1));
                archive.prune_below(keep_from, MAX_PRUNE).map_err(store)?
            }
            None => archive.oldest().map_err(store)?,
        };
        crate::metrics::compacted(bytes, archive.disk_bytes(), oldest);
        crate::metrics::storage(&self.state(), wal.len());
        tracing::info!(
            generation,
            snapshot_bytes = bytes,
            log_bytes_dropped = dropped,
            live_objects = objects,
            latest_checkpoint = latest,
            oldest_checkpoint = oldest,
            "compacted the ledger log into a snapshot"
        );
        Ok(())
    }
}
