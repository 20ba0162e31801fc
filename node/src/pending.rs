//! Metadata received with `?pending=true` before the blob's registration
//! event reached this node. Bounded in entries and bytes, oldest evicted
//! first, so a client cannot make the node hold unbounded unregistered data;
//! the metadata were verified before entering.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use floe_core::{BlobId, VerifiedBlobMetadataWithId};

/// The bounded cache.
#[derive(Debug)]
pub struct PendingMetadata {
    inner: Mutex<Inner>,
    max_entries: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<BlobId, (VerifiedBlobMetadataWithId, usize)>,
    order: VecDeque<BlobId>,
    bytes: usize,
}

impl PendingMetadata {
    /// A cache holding at most `max_entries` entries and `max_bytes` bytes.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_entries,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The cache holds no invariant a panicking holder could break
        // half-way that matters more than serving; keep going.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Buffers `metadata`; returns `false` if it alone exceeds the bounds.
    pub fn insert(&self, metadata: VerifiedBlobMetadataWithId) -> bool {
        let size = 32 + metadata.metadata().hashes().len() * 64 + 16;
        if size > self.max_bytes || self.max_entries == 0 {
            return false;
        }
        let id = *metadata.blob_id();
        let mut inner = self.lock();
        if inner.entries.contains_key(&id) {
            return true;
        }
        while inner.entries.len() >= self.max_entries || inner.bytes + size > self.max_bytes {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, s)) = inner.entries.remove(&old) {
                inner.bytes -= s;
            }
        }
        inner.entries.insert(id, (metadata, size));
        inner.order.push_back(id);
        inner.bytes += size;
        true
    }

    /// Removes and returns the metadata for `blob_id`.
    pub fn take(&self, blob_id: &BlobId) -> Option<VerifiedBlobMetadataWithId> {
        let mut inner = self.lock();
        let (metadata, size) = inner.entries.remove(blob_id)?;
        inner.bytes -= size;
        inner.order.retain(|id| id != blob_id);
        Some(metadata)
    }

    /// Whether metadata for `blob_id` are buffered.
    pub fn contains(&self, blob_id: &BlobId) -> bool {
        self.lock().entries.contains_key(blob_id)
    }

    /// Number of buffered entries.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
