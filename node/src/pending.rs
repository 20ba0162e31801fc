//! Metadata and slivers received with `?pending=true` before the blob's
//! registration event reached this node (a client registers on chain and
//! uploads at once; the node's follower may lag).
//!
//! Bounded in entries and bytes, and **never evicting to make room**: what
//! was acknowledged with 202 stays until the registration arrives (and it
//! is stored) or until it is older than the time to live, by which time the
//! client that uploaded it has given up waiting for confirmations. A full
//! cache refuses new entries (`CACHE_SATURATED`, which clients retry); so
//! unauthenticated uploads can fill it for at most one time to live, but
//! cannot push out anything already acknowledged. Everything was verified
//! before entering.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use floe_core::{BlobId, VerifiedBlobMetadataWithId};

/// Bounds of one cache.
#[derive(Debug, Clone, Copy)]
pub struct PendingBounds {
    /// Most entries (blobs).
    pub max_entries: usize,
    /// Most bytes.
    pub max_bytes: usize,
    /// How long an entry waits for its registration.
    pub ttl: Duration,
}

/// Insertion-ordered entries with sizes and ages; the oldest first, so
/// expiry pops from the front.
#[derive(Debug)]
struct Aged<T> {
    entries: HashMap<BlobId, (T, usize, Instant)>,
    order: VecDeque<BlobId>,
    bytes: usize,
}

impl<T> Default for Aged<T> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
        }
    }
}

impl<T> Aged<T> {
    /// Drops entries older than `ttl` (their registration never came).
    fn expire(&mut self, ttl: Duration, now: Instant) {
        while let Some(id) = self.order.front() {
            match self.entries.get(id) {
                Some((_, _, at)) if now.duration_since(*at) < ttl => break,
                Some(_) => {
                    if let Some((_, size, _)) = self.entries.remove(id) {
                        self.bytes -= size;
                    }
                    self.order.pop_front();
                }
                // Taken already; its order slot is stale.
                None => {
                    self.order.pop_front();
                }
            }
        }
    }

    fn take(&mut self, blob_id: &BlobId) -> Option<T> {
        let (value, size, _) = self.entries.remove(blob_id)?;
        self.bytes -= size;
        // The order slot is skipped when it reaches the front.
        Some(value)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The caches hold no invariant a panicking holder could break half-way
    // that matters more than serving; keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The bounded metadata cache.
#[derive(Debug)]
pub struct PendingMetadata {
    inner: Mutex<Aged<VerifiedBlobMetadataWithId>>,
    bounds: PendingBounds,
}

impl PendingMetadata {
    /// A cache within `bounds`.
    pub fn new(bounds: PendingBounds) -> Self {
        Self {
            inner: Mutex::new(Aged::default()),
            bounds,
        }
    }

    /// Buffers `metadata`; `false` (nothing changed) if the cache is full.
    /// Metadata already buffered are accepted again.
    pub fn insert(&self, metadata: VerifiedBlobMetadataWithId) -> bool {
        let size = 32 + metadata.metadata().hashes().len() * 64 + 16;
        let id = *metadata.blob_id();
        let mut inner = lock(&self.inner);
        inner.expire(self.bounds.ttl, Instant::now());
        if inner.entries.contains_key(&id) {
            return true;
        }
        if inner.entries.len() >= self.bounds.max_entries
            || inner.bytes + size > self.bounds.max_bytes
        {
            return false;
        }
        inner.entries.insert(id, (metadata, size, Instant::now()));
        inner.order.push_back(id);
        inner.bytes += size;
        true
    }

    /// Removes and returns the metadata for `blob_id`.
    pub fn take(&self, blob_id: &BlobId) -> Option<VerifiedBlobMetadataWithId> {
        lock(&self.inner).take(blob_id)
    }

    /// A copy of the buffered metadata for `blob_id`, left in place.
    pub fn get(&self, blob_id: &BlobId) -> Option<VerifiedBlobMetadataWithId> {
        lock(&self.inner)
            .entries
            .get(blob_id)
            .map(|(m, _, _)| m.clone())
    }

    /// Whether metadata for `blob_id` are buffered.
    pub fn contains(&self, blob_id: &BlobId) -> bool {
        lock(&self.inner).entries.contains_key(blob_id)
    }

    /// Number of buffered entries.
    pub fn len(&self) -> usize {
        lock(&self.inner).entries.len()
    }

    /// The buffered blob ids (at most the entry bound).
    pub fn ids(&self) -> Vec<BlobId> {
        lock(&self.inner).entries.keys().copied().collect()
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

/// Slivers received with `?pending=true` before registration, per blob,
/// with the same never-evict rule as the metadata.
#[derive(Debug)]
pub struct PendingSlivers {
    inner: Mutex<Aged<Vec<PendingSliver>>>,
    bounds: PendingBounds,
}

impl PendingSlivers {
    /// A cache within `bounds` (entries count blobs).
    pub fn new(bounds: PendingBounds) -> Self {
        Self {
            inner: Mutex::new(Aged::default()),
            bounds,
        }
    }

    /// Buffers a sliver; `false` (nothing changed) if it does not fit.
    pub fn insert(&self, blob_id: BlobId, sliver: PendingSliver) -> bool {
        let size = sliver.bcs.len();
        let mut inner = lock(&self.inner);
        inner.expire(self.bounds.ttl, Instant::now());
        let (existing, replaced) = match inner.entries.get(&blob_id) {
            Some((slivers, _, _)) => (
                true,
                slivers
                    .iter()
                    .filter(|s| s.shard == sliver.shard && s.axis == sliver.axis)
                    .map(|s| s.bcs.len())
                    .sum::<usize>(),
            ),
            None => (false, 0),
        };
        if (!existing && inner.entries.len() >= self.bounds.max_entries)
            || inner.bytes - replaced + size > self.bounds.max_bytes
        {
            return false;
        }
        if !existing {
            inner.order.push_back(blob_id);
        }
        let entry = inner
            .entries
            .entry(blob_id)
            .or_insert_with(|| (Vec::new(), 0, Instant::now()));
        // A repeated PUT replaces the earlier copy (same bytes once verified).
        entry
            .0
            .retain(|s| !(s.shard == sliver.shard && s.axis == sliver.axis));
        entry.0.push(sliver);
        entry.1 = entry.1 - replaced + size;
        inner.bytes = inner.bytes - replaced + size;
        true
    }

    /// Whether `blob_id`'s `axis` sliver for `shard` is buffered.
    pub fn contains(&self, blob_id: &BlobId, shard: u16, axis: floe_core::Axis) -> bool {
        lock(&self.inner)
            .entries
            .get(blob_id)
            .is_some_and(|(slivers, _, _)| {
                slivers.iter().any(|s| s.shard == shard && s.axis == axis)
            })
    }

    /// Removes and returns the slivers buffered for `blob_id`.
    pub fn take(&self, blob_id: &BlobId) -> Vec<PendingSliver> {
        lock(&self.inner).take(blob_id).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_core::{EncodingConfig, encode_blob};

    fn metadata(seed: u8) -> VerifiedBlobMetadataWithId {
        let config = EncodingConfig::new(4).unwrap();
        encode_blob(&config, &[seed; 100]).unwrap().metadata
    }

    fn bounds(max_entries: usize, max_bytes: usize, ttl: Duration) -> PendingBounds {
        PendingBounds {
            max_entries,
            max_bytes,
            ttl,
        }
    }

    /// A full cache refuses the newcomer and keeps every acknowledged
    /// entry (it used to evict the oldest).
    #[test]
    fn a_full_metadata_cache_refuses_instead_of_evicting() {
        let cache = PendingMetadata::new(bounds(2, 1 << 20, Duration::from_secs(600)));
        let (a, b, c) = (metadata(1), metadata(2), metadata(3));
        assert!(cache.insert(a.clone()));
        assert!(cache.insert(b.clone()));
        assert!(!cache.insert(c.clone()), "full: refused");
        assert!(cache.contains(a.blob_id()) && cache.contains(b.blob_id()));
        assert!(!cache.contains(c.blob_id()));
        assert!(
            cache.insert(a.clone()),
            "a buffered entry is accepted again"
        );
        // Taking one makes room.
        assert!(cache.take(a.blob_id()).is_some());
        assert!(cache.insert(c.clone()));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_full_sliver_cache_refuses_instead_of_evicting() {
        let cache = PendingSlivers::new(bounds(10, 250, Duration::from_secs(600)));
        let sliver = |shard: u16, len: usize| PendingSliver {
            shard,
            axis: floe_core::Axis::Primary,
            bcs: vec![7; len],
        };
        let (x, y) = (BlobId([1; 32]), BlobId([2; 32]));
        assert!(cache.insert(x, sliver(0, 100)));
        assert!(cache.insert(x, sliver(1, 100)));
        assert!(
            !cache.insert(y, sliver(0, 100)),
            "would pass the byte bound"
        );
        assert!(cache.contains(&x, 0, floe_core::Axis::Primary));
        assert!(cache.contains(&x, 1, floe_core::Axis::Primary));
        // Replacing a sliver with its own bytes fits.
        assert!(cache.insert(x, sliver(1, 100)));
        assert_eq!(cache.take(&x).len(), 2);
        assert!(cache.insert(y, sliver(0, 100)));
    }

    #[test]
    fn entries_older_than_the_ttl_expire() {
        let cache = PendingMetadata::new(bounds(1, 1 << 20, Duration::ZERO));
        let (a, b) = (metadata(1), metadata(2));
        assert!(cache.insert(a.clone()));
        // With a zero time to live, `a` has expired by the next insert.
        assert!(cache.insert(b.clone()));
        assert!(!cache.contains(a.blob_id()));
    }
}
