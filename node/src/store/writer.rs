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
    pub fn insert(
        &mut self,
        partition: &PartitionHandle,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) {
        let (key, value) = (key.as_ref().to_vec(), value.as_ref().to_vec());
        self.bytes += key.len() + value.len();
        self.ops.push((partition.clone(), Op::Insert(key, value)));
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
    ) -> Result<Self, StoreError> {
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let failures = Arc::new(Failures::default());
        let seen = failures.clone();
        let thread = std::thread::Builder::new()
            .name("floe-store-writer".into())
            .spawn(move || run(&keyspace, &partitions, &queue, &seen))?;
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
        let result = commit_group(keyspace, &group).map_err(|e| e.to_string());
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

/// One fjall batch for the whole group, later writes of a key winning.
fn commit_group(keyspace: &Keyspace, group: &[Job]) -> Result<(), fjall::Error> {
    let ops = group.iter().flat_map(|job| job.batch.ops.iter());
    let mut last: HashMap<(&str, &[u8]), usize> = HashMap::new();
    for (i, (partition, op)) in ops.clone().enumerate() {
        let key = match op {
            Op::Insert(key, _) | Op::Remove(key) => key.as_slice(),
        };
        last.insert((&*partition.name, key), i);
    }
    let mut batch = keyspace.batch().durability(Some(PersistMode::SyncAll));
    for (i, (partition, op)) in ops.enumerate() {
        let key = match op {
            Op::Insert(key, _) | Op::Remove(key) => key.as_slice(),
        };
        if last.get(&(&*partition.name, key)) != Some(&i) {
            continue;
        }
        match op {
            Op::Insert(key, value) => batch.insert(partition, key.as_slice(), value.as_slice()),
            Op::Remove(key) => batch.remove(partition, key.as_slice()),
        }
    }
    batch.commit()
}
