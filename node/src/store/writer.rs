//! The store's one writer thread, with group commit.
//!
//! Every write of the node (an uploaded sliver, a chain batch with its
//! cursor, an epoch change) is a [`WriteBatch`] handed to this thread. It
//! takes every batch waiting (up to [`MAX_GROUP_BATCHES`] /
//! [`MAX_GROUP_BYTES`]), commits them as one fjall batch with
//! `PersistMode::SyncAll` and answers each caller with the outcome.
//!
//! Why one thread:
//! - **Visibility after durability.** A fjall batch with a durability mode
//!   writes the journal, fsyncs it, and only then inserts into the
//!   memtables; if the fsync fails the keyspace is poisoned and nothing of
//!   the batch becomes readable. (Committing first and fsyncing after, as
//!   the store did before, made a sliver whose fsync failed readable.)
//! - **No pile-up in fjall's write stalls.** When fjall halts writes (its
//!   write buffer or journal is full until a flush finishes) only this
//!   thread waits in the halt loop; callers wait on a bounded queue and
//!   their answers, and the async side bounds how many callers there are,
//!   so the tokio blocking pool never fills with threads spinning in fjall.
//! - **Group commit** stays: concurrent writers share one fsync.
//!
//! - **Journals cannot pile up.** fjall deletes a journal only once every
//!   partition with data in it has flushed past it. The small partitions
//!   (event cursor, recovery queue, shard status) take a few bytes per
//!   write and rarely reach their memtable size, so they pin old journals
//!   while sliver data keep adding new ones, until fjall halts all writes
//!   (this is what stalled a restarted node in the soak of issue 21, its
//!   replayed journals counting against the limits). After a commit, when
//!   more than [`MAX_JOURNALS`] journals exist, the writer seals every
//!   non-empty memtable (at most once per [`ROTATE_EVERY`]) so they flush
//!   and the journals can go.
//!
//! Each caller's batch stays atomic (the group is one fjall batch). Within
//! a group, a later write of a key replaces an earlier one, as if the
//! batches were committed one after the other in submission order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fjall::{AbstractTree, Keyspace, PartitionHandle, PersistMode};

use crate::store::StoreError;
use crate::store::sliver_log::{INLINE_MAX_BYTES, IndexEntry, SliverLog};

/// Batches waiting for the writer; more callers block on submission.
const QUEUE: usize = 256;
/// Most batches committed as one group.
pub(crate) const MAX_GROUP_BATCHES: usize = 512;
/// Most bytes (keys and values) committed as one group, so one fsync does
/// not wait for an unbounded journal write.
pub(crate) const MAX_GROUP_BYTES: usize = 64 << 20;
/// Journals kept before the writer seals the memtables that pin them.
const MAX_JOURNALS: usize = 4;
/// Least time between two such seals.
const ROTATE_EVERY: Duration = Duration::from_secs(1);

enum Op {
    Insert(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
    /// A sliver's bytes: appended to the sliver log, then indexed under
    /// the key in the op's (index) partition.
    PutSliver(Vec<u8>, Vec<u8>),
    /// Removes a sliver's index entry (its bytes become dead space).
    RemoveSliver(Vec<u8>),
}

impl Op {
    fn key(&self) -> &[u8] {
        match self {
            Op::Insert(key, _)
            | Op::Remove(key)
            | Op::PutSliver(key, _)
            | Op::RemoveSliver(key) => key,
        }
    }
}

/// Writes to apply atomically (the store's replacement for `fjall::Batch`,
/// which applies to the memtables at commit, before any fsync).
#[derive(Default)]
pub struct WriteBatch {
    ops: Vec<(PartitionHandle, Op)>,
    bytes: usize,
}

impl WriteBatch {
    /// Inserts (or replaces) `key` in `partition`.
    /// The value is taken by value: a sliver handed over as its own buffer
    /// is not copied again on its way to the engine.
    pub fn insert(
        &mut self,
        partition: &PartitionHandle,
        key: impl AsRef<[u8]>,
        value: impl Into<Vec<u8>>,
    ) {
        let (key, value) = (key.as_ref().to_vec(), value.into());
        self.bytes += key.len() + value.len();
        self.ops.push((partition.clone(), Op::Insert(key, value)));
    }

    /// Stores a sliver's bytes in the sliver log and indexes them under
    /// `key` in `index` (see `store/sliver_log.rs`).
    pub fn put_sliver(&mut self, index: &PartitionHandle, key: impl AsRef<[u8]>, value: Vec<u8>) {
        let key = key.as_ref().to_vec();
        self.bytes += key.len() + value.len();
        self.ops.push((index.clone(), Op::PutSliver(key, value)));
    }

    /// Removes the sliver indexed under `key` in `index`.
    pub fn remove_sliver(&mut self, index: &PartitionHandle, key: impl AsRef<[u8]>) {
        let key = key.as_ref().to_vec();
        self.bytes += key.len();
        self.ops.push((index.clone(), Op::RemoveSliver(key)));
    }

    /// Removes `key` from `partition`.
    pub fn remove(&mut self, partition: &PartitionHandle, key: impl AsRef<[u8]>) {
        let key = key.as_ref().to_vec();
        self.bytes += key.len();
        self.ops.push((partition.clone(), Op::Remove(key)));
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

struct Job {
    batch: WriteBatch,
    done: SyncSender<Result<(), String>>,
}

/// Handle to the writer thread; dropping it stops the thread and waits
/// for it, so the keyspace it holds is closed when the store is.
pub(crate) struct Writer {
    jobs: Option<SyncSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    failures: Arc<Failures>,
}

/// Failed group commits, shared by the writer thread and the store's
/// readers. A failed commit poisons the fjall keyspace (a failed journal
/// write or fsync, most often a full disk): no later write can succeed
/// until the store is reopened, so the first reason is kept for the
/// operator and the node's watchdog (`crate::store_watchdog`).
#[derive(Default)]
pub(crate) struct Failures {
    count: AtomicU64,
    first: Mutex<Option<String>>,
}

impl Failures {
    fn record(&self, reason: &str) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(reason.to_owned());
        }
    }

    /// Failed group commits so far.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Why the first commit failed, if one did.
    pub(crate) fn first(&self) -> Option<String> {
        self.first.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Writer {
    /// Starts the writer thread for `keyspace`.
    pub(crate) fn start(
        keyspace: Keyspace,
        partitions: Vec<PartitionHandle>,
        log: Arc<SliverLog>,
    ) -> Result<Self, StoreError> {
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let failures = Arc::new(Failures::default());
        let seen = failures.clone();
        let thread = std::thread::Builder::new()
            .name("floe-store-writer".into())
            .spawn(move || run(&keyspace, &partitions, &log, &queue, &seen))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
            failures,
        })
    }

    /// The writer's failed commits.
    pub(crate) fn failures(&self) -> &Failures {
        &self.failures
    }

    /// Commits `batch` durably; returns once it is fsync'd and readable.
    pub(crate) fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (done, answer) = sync_channel(1);
        let stopped = || StoreError::Commit {
            reason: "the store writer stopped".into(),
        };
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send(Job { batch, done }).map_err(|_| stopped())?;
        answer
            .recv()
            .map_err(|_| stopped())?
            .map_err(|reason| StoreError::Commit { reason })
    }
}

fn run(
    keyspace: &Keyspace,
    partitions: &[PartitionHandle],
    log: &SliverLog,
    queue: &Receiver<Job>,
    failures: &Failures,
) {
    let mut last_rotation = Instant::now();
    while let Ok(first) = queue.recv() {
        let mut bytes = first.batch.bytes;
        let mut group = vec![first];
        while group.len() < MAX_GROUP_BATCHES && bytes < MAX_GROUP_BYTES {
            match queue.try_recv() {
                Ok(job) => {
                    bytes += job.batch.bytes;
                    group.push(job);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        // After a failure nothing is committed any more (a failed journal
        // write poisons fjall anyway; a failed sliver append is treated
        // alike), until the store is reopened (`crate::store_watchdog`).
        let result = match failures.first() {
            Some(first) => Err(format!(
                "the store refuses writes since an earlier commit failed: {first}"
            )),
            None => commit_group(keyspace, log, &group),
        };
        if let Err(e) = &result {
            if failures.count() == 0 {
                tracing::error!(error = %e, batches = group.len(), "store commit failed: the store refuses writes until it is reopened (is the disk full?)");
            } else {
                tracing::debug!(error = %e, batches = group.len(), "store commit failed");
            }
            failures.record(e);
        }
        for job in group {
            // A caller that gave up (its request was dropped) is fine.
            let _ = job.done.send(result.clone());
        }
        if result.is_ok()
            && keyspace.journal_count() > MAX_JOURNALS
            && last_rotation.elapsed() >= ROTATE_EVERY
        {
            last_rotation = Instant::now();
            for partition in partitions {
                if partition.tree.active_memtable_size() == 0 {
                    continue;
                }
                if let Err(e) = partition.rotate_memtable() {
                    tracing::error!(error = %e, partition = %partition.name, "memtable rotation failed");
                }
            }
        }
    }
}

/// One fjall batch for the whole group, later writes of a key winning;
/// the group's slivers are appended to the log and made durable first.
fn commit_group(keyspace: &Keyspace, log: &SliverLog, group: &[Job]) -> Result<(), String> {
    let ops = group.iter().flat_map(|job| job.batch.ops.iter());
    let mut last: HashMap<(&str, &[u8]), usize> = HashMap::new();
    for (i, (partition, op)) in ops.clone().enumerate() {
        last.insert((&*partition.name, op.key()), i);
    }
    let winning = || {
        ops.clone()
            .enumerate()
            .filter(|(i, (partition, op))| last.get(&(&*partition.name, op.key())) == Some(i))
            .map(|(_, op)| op)
    };
    // Slivers: where the replaced or removed ones were, and the new bytes.
    let mut replaced = Vec::new();
    let mut values = Vec::new();
    for (index, op) in winning() {
        if let Op::PutSliver(key, _) | Op::RemoveSliver(key) = op
            && let Some(old) = index.get(key).map_err(|e| e.to_string())?
            && let Some(segment) = IndexEntry::decode(&old)
                .map_err(|e| e.to_string())?
                .segment()
        {
            replaced.push(segment);
        }
        if let Op::PutSliver(_, value) = op
            && value.len() > INLINE_MAX_BYTES
        {
            values.push(value.as_slice());
        }
    }
    let locations = if values.is_empty() {
        Vec::new()
    } else {
        log.append(&values)
            .map_err(|e| format!("appending slivers to the sliver log: {e}"))?
    };
    let mut locations_left = locations.iter();
    let mut batch = keyspace.batch().durability(Some(PersistMode::SyncAll));
    for (partition, op) in winning() {
        match op {
            Op::Insert(key, value) => batch.insert(partition, key.as_slice(), value.as_slice()),
            Op::Remove(key) | Op::RemoveSliver(key) => batch.remove(partition, key.as_slice()),
            Op::PutSliver(key, value) if value.len() <= INLINE_MAX_BYTES => {
                batch.insert(
                    partition,
                    key.as_slice(),
                    IndexEntry::Inline(value).encode(),
                );
            }
            Op::PutSliver(key, _) => {
                let location = locations_left
                    .next()
                    .ok_or("the sliver log returned fewer locations than slivers")?;
                batch.insert(
                    partition,
                    key.as_slice(),
                    IndexEntry::Logged(*location).encode(),
                );
            }
        }
    }
    batch.commit().map_err(|e| e.to_string())?;
    let added: Vec<u32> = locations.iter().map(|l| l.segment).collect();
    log.committed(&added, &replaced);
    Ok(())
}
