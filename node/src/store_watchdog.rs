//! What the node does when its store stops taking writes.
//!
//! A failed commit (a full disk, an I/O error) poisons the fjall keyspace:
//! it refuses every later write, and its background flushes stop, until it
//! is opened again. Reads keep working. So a node whose disk fills must
//! neither acknowledge what it cannot make durable (uploads answer 503,
//! `api::error`), nor go down while it can still serve the slivers it has,
//! nor stay read-only once space is back.
//!
//! The watchdog checks the store once a second: it exports
//! `floe_node_store_write_errors_total` and `floe_node_store_refusing_writes`,
//! and once the store refuses writes it watches the free space of the data
//! directory. When at least [`WatchdogConfig::reopen_free_bytes`] are free
//! again it asks the server to stop ([`Served::ReopenStore`]); the binary
//! (`floe node run`) then starts itself again in the same process image
//! (same pid, same arguments), which reopens the store by replaying its
//! journal: everything committed before the failure is there, the follower
//! resumes from its durable cursor and the recovery worker fetches the
//! slivers of blobs registered meanwhile.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::context::NodeContext;

/// How often the store is checked.
const TICK: Duration = Duration::from_secs(1);

/// Free bytes at which `floe node run` reopens a store that refused
/// writes: room for a journal and a few flushes of sliver data.
pub const REOPEN_FREE_BYTES: u64 = 64 << 20;

/// Free space at which a store that refused writes is reopened.
#[derive(Debug, Clone)]
pub struct WatchdogConfig {
    /// The store's directory (its file system is the one that filled).
    pub data_dir: PathBuf,
    /// Bytes that must be free before reopening: enough for the journal
    /// and a flush, so the reopened store does not fail again at once.
    pub reopen_free_bytes: u64,
}

/// How serving ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// The shutdown signal arrived.
    Stopped,
    /// The store refused writes and the disk has room again: reopen it
    /// (start the node again).
    ReopenStore,
}

/// Free bytes for an unprivileged writer on the file system of `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let stat = nix::sys::statvfs::statvfs(dir).map_err(std::io::Error::from)?;
    #[allow(clippy::unnecessary_cast)] // the field types differ by platform
    Ok(stat.blocks_available() as u64 * stat.fragment_size() as u64)
}

/// Runs until the store refused writes and the disk has room again.
pub async fn watch(ctx: NodeContext, config: WatchdogConfig) {
    let metrics = ctx.metrics().clone();
    let mut exported = 0u64;
    let mut reported = false;
    loop {
        tokio::time::sleep(TICK).await;
        let store = ctx.store();
        let errors = store.write_errors();
        metrics
            .store_write_errors
            .inc_by(errors.saturating_sub(exported));
        exported = exported.max(errors);
        let Some(reason) = store.write_failure() else {
            continue;
        };
        metrics.store_refusing_writes.set(1);
        let free = match free_bytes(&config.data_dir) {
            Ok(free) => free,
            Err(e) => {
                tracing::warn!(error = %e, dir = %config.data_dir.display(), "cannot read the data directory's free space");
                continue;
            }
        };
        if !reported {
            reported = true;
            tracing::error!(
                %reason,
                free_bytes = free,
                reopen_at = config.reopen_free_bytes,
                "the store refuses writes: uploads are answered 503 and reads continue; the node reopens its store once the data directory has room"
            );
        }
        if free >= config.reopen_free_bytes {
            tracing::warn!(
                free_bytes = free,
                "the data directory has room again: reopening the store"
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_of_a_real_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
        assert!(free_bytes(&dir.path().join("missing")).is_err());
    }
}
