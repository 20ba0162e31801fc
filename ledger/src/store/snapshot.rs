//! The snapshot: the live state at the start of a log generation.
//!
//! Compaction writes the live objects, the executed but not yet
//! checkpointed transactions and the chain's running totals here, then
//! starts an empty log of the same generation; start-up loads the snapshot
//! and replays the log on top. Sealed checkpoints and old object versions
//! are not in it: they live in the archive (`store::archive`).
//!
//! # Format
//!
//! `snapshot.bcs` = magic `FLOESNP1` | payload length u64 LE | crc32 u32 LE |
//! payload (BCS of [`Snapshot`]). It is written to `snapshot.tmp`, fsynced,
//! renamed over `snapshot.bcs` and the directory fsynced, so the file is
//! always a complete snapshot (the old one or the new one); a snapshot that
//! fails its checksum is corruption, never a crash artifact.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sui_sdk_types::{Digest, Object};

use super::TxRecord;
use super::write_ahead_log::{crc32, sync_dir};
use crate::error::StoreError;

const MAGIC: &[u8; 8] = b"FLOESNP1";
/// The snapshot's file name in the data directory.
pub const SNAPSHOT_FILE: &str = "snapshot.bcs";
const TMP_FILE: &str = "snapshot.tmp";

/// The live state at the start of log generation `generation`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// The log generation that continues this snapshot.
    pub generation: u64,
    /// Every live object, in id order.
    pub objects: Vec<Object>,
    /// Executed transactions no checkpoint holds yet, in execution order.
    pub pending: Vec<TxRecord>,
    /// The latest sealed checkpoint (its contents are in the archive).
    pub latest_checkpoint: u64,
    /// Its digest, so the archive's copy can be checked on load.
    pub latest_digest: Digest,
    /// The genesis checkpoint's digest (the chain id).
    pub chain_id: Digest,
    /// The epoch's rolling gas totals (computation, storage, rebate,
    /// non-refundable), carried into the next checkpoint summary.
    pub rolling_gas: (u64, u64, u64, u64),
    pub epoch_start_ms: u64,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(SNAPSHOT_FILE)
}

/// Writes `snapshot` atomically; returns its size in bytes.
pub fn write(dir: &Path, snapshot: &Snapshot) -> Result<u64, StoreError> {
    let payload = bcs::to_bytes(snapshot).map_err(StoreError::Encode)?;
    let tmp = dir.join(TMP_FILE);
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| StoreError::io(&tmp, e))?;
        let mut head = Vec::with_capacity(20);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        head.extend_from_slice(&crc32(&payload).to_le_bytes());
        f.write_all(&head)
            .and_then(|_| f.write_all(&payload))
            .and_then(|_| f.sync_all())
            .map_err(|e| StoreError::io(&tmp, e))?;
    }
    let target = path(dir);
    std::fs::rename(&tmp, &target).map_err(|e| StoreError::io(&target, e))?;
    sync_dir(dir)?;
    Ok(20 + payload.len() as u64)
}

/// Reads the snapshot in `dir`, if there is one; also returns its size.
/// A leftover `snapshot.tmp` (a crash before the rename) is removed: the
/// log it would have replaced is still there.
pub fn read(dir: &Path) -> Result<Option<(Snapshot, u64)>, StoreError> {
    let tmp = dir.join(TMP_FILE);
    if tmp.exists() {
        std::fs::remove_file(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    }
    let target = path(dir);
    let bytes = match std::fs::read(&target) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(&target, e)),
    };
    let corrupt = |reason: &str| StoreError::Corrupt {
        path: target.clone(),
        offset: 0,
        reason: reason.into(),
    };
    if bytes.len() < 20 || &bytes[..8] != MAGIC {
        return Err(corrupt("missing FLOESNP1 header"));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[8..16]);
    let len = u64::from_le_bytes(len);
    let mut sum = [0u8; 4];
    sum.copy_from_slice(&bytes[16..20]);
    let payload = &bytes[20..];
    if payload.len() as u64 != len || crc32(payload) != u32::from_le_bytes(sum) {
        return Err(corrupt("length or checksum mismatch"));
    }
    let snapshot: Snapshot =
        bcs::from_bytes(payload).map_err(|e| corrupt(&format!("undecodable: {e}")))?;
    Ok(Some((snapshot, bytes.len() as u64)))
}

/// The snapshot's size on disk (0 when there is none).
pub fn size(dir: &Path) -> u64 {
    File::open(path(dir))
        .and_then(|f| f.metadata())
        .map(|m| m.len())
        .unwrap_or(0)
}
