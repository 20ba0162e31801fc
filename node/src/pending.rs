//! Metadata and slivers received with `?pending=true` before the blob's
//! registration event reached this node (a client registers on chain and
//! uploads at once; the node's follower may lag). Bounded in entries and
//! bytes, oldest evicted first, so a client cannot make the node hold
//! unbounded unregistered data; everything was verified before entering.

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

    /// A copy of the buffered metadata for `blob_id`, left in place.
    pub fn get(&self, blob_id: &BlobId) -> Option<VerifiedBlobMetadataWithId> {
        self.lock().entries.get(blob_id).map(|(m, _)| m.clone())
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

/// A sliver verified against pending metadata, waiting for registration.
#[derive(Debug, Clone)]
pub struct PendingSliver {
    /// The owned shard it goes to.
    pub shard: u16,
    /// Its axis.
    pub axis: floe_core::Axis,
    /// Canonical BCS bytes.
    pub bcs: Vec<u8>,
}

/// Slivers received with `?pending=true` before registration, bounded in
/// total bytes; whole blobs are evicted oldest first.
#[derive(Debug)]
pub struct PendingSlivers {
    inner: Mutex<SliverInner>,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct SliverInner {
    blobs: HashMap<BlobId, Vec<PendingSliver>>,
    order: VecDeque<BlobId>,
    bytes: usize,
}

impl PendingSlivers {
    /// A cache of at most `max_bytes` sliver bytes.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(SliverInner::default()),
            max_bytes,
        }
    }

    /// Buffers a sliver; `false` if it alone exceeds the bound.
    pub fn insert(&self, blob_id: BlobId, sliver: PendingSliver) -> bool {
        let size = sliver.bcs.len();
        if size > self.max_bytes {
            return false;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while inner.bytes + size > self.max_bytes {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(slivers) = inner.blobs.remove(&old) {
                inner.bytes -= slivers.iter().map(|s| s.bcs.len()).sum::<usize>();
            }
        }
        if !inner.blobs.contains_key(&blob_id) {
            inner.order.push_back(blob_id);
        }
        let entry = inner.blobs.entry(blob_id).or_default();
        // A repeated PUT replaces the earlier copy (same bytes once verified).
        let replaced: usize = entry
            .iter()
            .filter(|s| s.shard == sliver.shard && s.axis == sliver.axis)
            .map(|s| s.bcs.len())
            .sum();
        entry.retain(|s| !(s.shard == sliver.shard && s.axis == sliver.axis));
        entry.push(sliver);
        inner.bytes = inner.bytes - replaced + size;
        true
    }

    /// Removes and returns the slivers buffered for `blob_id`.
    pub fn take(&self, blob_id: &BlobId) -> Vec<PendingSliver> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let slivers = inner.blobs.remove(blob_id).unwrap_or_default();
        inner.bytes -= slivers.iter().map(|s| s.bcs.len()).sum::<usize>();
        inner.order.retain(|id| id != blob_id);
        slivers
    }
}
