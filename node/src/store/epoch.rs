//! The store's epoch-change part: which epoch the shard statuses follow,
//! what a change gained and lost (one atomic batch, so a restart resumes
//! the sync where it stood), whether `epoch_sync_done` was sent, the epoch
//! each lost shard was lost in, dropping a lost shard's slivers, and the
//! certified blobs a gained shard must be filled with.

use std::collections::BTreeSet;

use floe_core::BlobId;
use serde::{Deserialize, Serialize};

use super::{BlobObjectInfo, NodeStore, ShardStatus, StoreError, corrupt};

const EPOCH_RECORD: &[u8] = b"epoch_record";

/// Epochs a lost shard stays readable before its slivers are deleted.
pub const LOST_SHARD_RETENTION: u32 = 2;

/// Where the node stands in the epoch-change protocol (one record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The latest epoch whose committee the shard statuses follow.
    pub epoch: u32,
    /// Gained shards count as synced only after the follower applied every
    /// checkpoint below this one (blobs certified before the change must be
    /// known before the node can say it holds them all).
    pub caught_up_at: u64,
    /// The node reached `epoch` by an epoch change as a member of the new
    /// committee, so it reports `epoch_sync_done` for it.
    pub report: bool,
    /// The last epoch whose `epoch_sync_done` was sent, found already done,
    /// or given up because the chain moved on.
    pub sync_done_epoch: Option<u32>,
}

impl EpochRecord {
    /// Whether `epoch_sync_done` for [`EpochRecord::epoch`] is still owed.
    pub fn owes_sync_done(&self) -> bool {
        self.report && self.sync_done_epoch.is_none_or(|e| e < self.epoch)
    }
}

/// What one epoch change did to this node's shards.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShardDiff {
    /// Newly owned: to be synced (`ActiveSync`).
    pub gained: BTreeSet<u16>,
    /// No longer owned: read-only until deleted (`LockedToMove`).
    pub lost: BTreeSet<u16>,
    /// Owned before and after.
    pub kept: BTreeSet<u16>,
}

/// The diff between the shards the node held (`held`: statuses `Active`,
/// `ActiveSync` or `ActiveRecover`) and those it owns now.
pub fn shard_diff(held: &BTreeSet<u16>, owned: &BTreeSet<u16>) -> ShardDiff {
    ShardDiff {
        gained: owned.difference(held).copied().collect(),
        lost: held.difference(owned).copied().collect(),
        kept: held.intersection(owned).copied().collect(),
    }
}

/// Whether a status means the node owns the shard (as opposed to keeping
/// a lost one readable).
pub fn is_held(status: ShardStatus) -> bool {
    !matches!(status, ShardStatus::LockedToMove)
}

/// Whether a status means the shard is still being filled.
pub fn is_syncing(status: ShardStatus) -> bool {
    matches!(status, ShardStatus::ActiveSync | ShardStatus::ActiveRecover)
}

impl NodeStore {
    /// The epoch record, `None` on a store that never recorded one.
    pub fn epoch_record(&self) -> Result<Option<EpochRecord>, StoreError> {
        self.node_state
            .get(EPOCH_RECORD)?
            .map(|v| bcs::from_bytes(&v).map_err(|e| corrupt("epoch record", e)))
            .transpose()
    }

    fn put_record(
        &self,
        batch: &mut super::WriteBatch,
        record: &EpochRecord,
    ) -> Result<(), StoreError> {
        let bytes = bcs::to_bytes(record).map_err(|e| corrupt("epoch record", e))?;
        batch.insert(&self.node_state, EPOCH_RECORD, bytes);
        Ok(())
    }

    /// First start of a store (no record): the node's shards at `epoch`
    /// are marked `Active` without a sync (a fresh node heals blob by blob
    /// through the recovery queue as it replays the chain), and the record
    /// starts at `epoch`. Does nothing if a record exists.
    pub fn init_epoch(&self, epoch: u32, owned: &BTreeSet<u16>) -> Result<bool, StoreError> {
        if self.epoch_record()?.is_some() {
            return Ok(false);
        }
        let mut batch = self.batch();
        for &shard in owned {
            if self.shard_status(shard)?.is_none() {
                batch.insert(
                    &self.shard_status,
                    shard.to_be_bytes(),
                    [ShardStatus::Active.to_u8()],
                );
            }
        }
        let record = EpochRecord {
            epoch,
            caught_up_at: 0,
            report: false,
            sync_done_epoch: None,
        };
        self.put_record(&mut batch, &record)?;
        self.commit_durable(batch)?;
        Ok(true)
    }

    /// Applies the change to `epoch`, where the node owns `owned`, in one
    /// batch: gained shards become `ActiveSync`, lost ones `LockedToMove`
    /// (remembering `epoch` as when), shards still syncing stay so, and the
    /// record moves to `epoch` (`report` when the node owns shards).
    /// Returns the diff; a no-op (empty diff, record unchanged) when the
    /// record is already at `epoch` or later.
    pub fn apply_epoch_change(
        &self,
        epoch: u32,
        owned: &BTreeSet<u16>,
        caught_up_at: u64,
    ) -> Result<ShardDiff, StoreError> {
        let previous = self.epoch_record()?;
        if previous.as_ref().is_some_and(|r| r.epoch >= epoch) {
            return Ok(ShardDiff::default());
        }
        let statuses = self.shard_statuses()?;
        let held: BTreeSet<u16> = statuses
            .iter()
            .filter(|(_, s)| is_held(*s))
            .map(|(shard, _)| *shard)
            .collect();
        let diff = shard_diff(&held, owned);
        let mut batch = self.batch();
        for &shard in &diff.gained {
            batch.insert(
                &self.shard_status,
                shard.to_be_bytes(),
                [ShardStatus::ActiveSync.to_u8()],
            );
            batch.remove(&self.lost_shards, shard.to_be_bytes());
        }
        for &shard in &diff.lost {
            batch.insert(
                &self.shard_status,
                shard.to_be_bytes(),
                [ShardStatus::LockedToMove.to_u8()],
            );
            batch.insert(&self.lost_shards, shard.to_be_bytes(), epoch.to_be_bytes());
        }
        let record = EpochRecord {
            epoch,
            caught_up_at,
            report: !owned.is_empty(),
            sync_done_epoch: previous.and_then(|r| r.sync_done_epoch),
        };
        self.put_record(&mut batch, &record)?;
        self.commit_durable(batch)?;
        Ok(diff)
    }

    /// Records that `epoch_sync_done` for `epoch` needs no more calls.
    pub fn set_sync_done(&self, epoch: u32) -> Result<(), StoreError> {
        let Some(mut record) = self.epoch_record()? else {
            return Err(corrupt("epoch record", "sync done before any epoch"));
        };
        record.sync_done_epoch = Some(record.sync_done_epoch.map_or(epoch, |e| e.max(epoch)));
        let mut batch = self.batch();
        self.put_record(&mut batch, &record)?;
        self.commit_durable(batch)
    }

    /// Marks synced shards `Active` in one batch (a shard no longer in a
    /// syncing status is left alone: an epoch change took it meanwhile).
    pub fn finish_shard_sync(&self, shards: &BTreeSet<u16>) -> Result<(), StoreError> {
        let mut batch = self.batch();
        for &shard in shards {
            if self.shard_status(shard)?.is_some_and(is_syncing) {
                batch.insert(
                    &self.shard_status,
                    shard.to_be_bytes(),
                    [ShardStatus::Active.to_u8()],
                );
            }
        }
        self.commit_durable(batch)
    }

    /// The epoch in which a `LockedToMove` shard was lost.
    pub fn lost_epoch(&self, shard: u16) -> Result<Option<u32>, StoreError> {
        self.lost_shards
            .get(shard.to_be_bytes())?
            .map(|v| {
                <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| corrupt("lost shard", "epoch is not a u32"))
            })
            .transpose()
    }

    /// Lost shards due for deletion at `epoch` (lost at least
    /// [`LOST_SHARD_RETENTION`] epochs before).
    pub fn expired_lost_shards(&self, epoch: u32) -> Result<Vec<u16>, StoreError> {
        let mut out = Vec::new();
        for (shard, status) in self.shard_statuses()? {
            if status != ShardStatus::LockedToMove {
                continue;
            }
            // A locked shard without a lost epoch predates this record:
            // it is old enough.
            let lost = self.lost_epoch(shard)?.unwrap_or(0);
            if lost.saturating_add(LOST_SHARD_RETENTION) <= epoch {
                out.push(shard);
            }
        }
        Ok(out)
    }

    /// Deletes up to `limit` slivers of `shard`; when none are left, also
    /// its status and lost epoch. Returns the slivers deleted (call until
    /// it returns 0 so no batch grows without bound).
    pub fn drop_shard(&self, shard: u16, limit: usize) -> Result<usize, StoreError> {
        let mut batch = self.batch();
        let mut n = 0;
        for row in self.sliver_index.prefix(shard.to_be_bytes()).take(limit) {
            let key = row?;
            batch.remove_sliver(&self.sliver_index, key.0);
            n += 1;
        }
        for row in self.slivers.prefix(shard.to_be_bytes()).take(limit - n) {
            let key = row?;
            batch.remove(&self.slivers, key.0);
            n += 1;
        }
        if n == 0 {
            batch.remove(&self.shard_status, shard.to_be_bytes());
            batch.remove(&self.lost_shards, shard.to_be_bytes());
        }
        self.commit_durable(batch)?;
        Ok(n)
    }

    /// Up to `limit` blob ids after `after` (exclusive; from the start when
    /// `None`), in id order, that some live object keeps certified at
    /// `epoch` and that are not invalid: what a gained shard must hold.
    pub fn certified_blobs(
        &self,
        epoch: u32,
        after: Option<&BlobId>,
        limit: usize,
    ) -> Result<Vec<BlobId>, StoreError> {
        let mut out: Vec<BlobId> = Vec::new();
        let start: Vec<u8> = match after {
            // Every key of a later blob id sorts after `id || 0xff..`.
            Some(id) => {
                let mut k = id.as_bytes().to_vec();
                k.extend_from_slice(&[0xff; 33]);
                k
            }
            None => Vec::new(),
        };
        for row in self.blob_objects.range(start..) {
            let (k, v) = row?;
            let Some(Ok(bytes)) = k.get(..32).map(<[u8; 32]>::try_from) else {
                return Err(corrupt("blob object", "key shorter than a blob id"));
            };
            let id = BlobId(bytes);
            if out.last() == Some(&id) {
                continue;
            }
            let object: BlobObjectInfo =
                bcs::from_bytes(&v).map_err(|e| corrupt("blob object", e))?;
            if object.deleted || object.end_epoch <= epoch || object.certified_epoch.is_none() {
                continue;
            }
            if self.invalid_blobs.contains_key(id.as_bytes())? {
                continue;
            }
            out.push(id);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }
}

impl NodeStore {
    /// Puts `blob_id` on the durable recovery queue (shard sync hands over
    /// blobs whose slivers the previous holder could not serve).
    pub fn queue_recovery(&self, blob_id: &BlobId) -> Result<(), StoreError> {
        let mut batch = self.batch();
        batch.insert(&self.recovery_queue, blob_id.as_bytes().as_slice(), []);
        self.commit_durable(batch)
    }
}

#[cfg(test)]
mod tests {
    use floe_core::move_types::ObjectId;

    use super::*;
    use crate::store::ChainBatch;

    fn set(shards: &[u16]) -> BTreeSet<u16> {
        shards.iter().copied().collect()
    }

    #[test]
    fn diff_splits_gained_lost_and_kept() {
        let d = shard_diff(&set(&[0, 1, 2, 5]), &set(&[1, 2, 3, 4]));
        assert_eq!(d.gained, set(&[3, 4]));
        assert_eq!(d.lost, set(&[0, 5]));
        assert_eq!(d.kept, set(&[1, 2]));
        let none = shard_diff(&set(&[1]), &set(&[1]));
        assert!(none.gained.is_empty() && none.lost.is_empty());
        // Leaving the committee loses everything.
        assert_eq!(shard_diff(&set(&[7, 8]), &set(&[])).lost, set(&[7, 8]));
    }

    #[test]
    fn epoch_change_is_persisted_and_resumes_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = NodeStore::open(dir.path()).unwrap();
            assert!(store.epoch_record().unwrap().is_none());
            assert!(store.init_epoch(0, &set(&[0, 1, 2])).unwrap());
            assert!(!store.init_epoch(0, &set(&[9])).unwrap(), "only once");
            let r = store.epoch_record().unwrap().unwrap();
            assert_eq!((r.epoch, r.report), (0, false));
            assert!(!r.owes_sync_done(), "genesis owes no sync done");
            assert_eq!(store.shard_status(9).unwrap(), None);

            let diff = store.apply_epoch_change(1, &set(&[1, 2, 3]), 40).unwrap();
            assert_eq!((diff.gained, diff.lost), (set(&[3]), set(&[0])));
            // The same epoch again (event after a refresh): a no-op.
            let again = store.apply_epoch_change(1, &set(&[1, 2, 3]), 99).unwrap();
            assert_eq!(again, ShardDiff::default());
        }
        // Killed mid-sync: the statuses and the record are there on reopen.
        let store = NodeStore::open(dir.path()).unwrap();
        let r = store.epoch_record().unwrap().unwrap();
        assert_eq!((r.epoch, r.caught_up_at, r.report), (1, 40, true));
        assert!(r.owes_sync_done());
        assert_eq!(
            store.shard_statuses().unwrap(),
            vec![
                (0, ShardStatus::LockedToMove),
                (1, ShardStatus::Active),
                (2, ShardStatus::Active),
                (3, ShardStatus::ActiveSync),
            ]
        );
        assert_eq!(store.lost_epoch(0).unwrap(), Some(1));
        store.finish_shard_sync(&set(&[3])).unwrap();
        assert_eq!(store.shard_status(3).unwrap(), Some(ShardStatus::Active));
        // Sync done recorded once; a duplicate (after a crash between the
        // call and the record) changes nothing.
        store.set_sync_done(1).unwrap();
        store.set_sync_done(1).unwrap();
        let r = store.epoch_record().unwrap().unwrap();
        assert_eq!(r.sync_done_epoch, Some(1));
        assert!(!r.owes_sync_done());

        // Epoch 2: shard 3 moves on while another is still syncing; the
        // record owes a new sync done and keeps the old one.
        let diff = store.apply_epoch_change(2, &set(&[1, 2, 4]), 50).unwrap();
        assert_eq!((diff.gained, diff.lost), (set(&[4]), set(&[3])));
        let r = store.epoch_record().unwrap().unwrap();
        assert!(r.owes_sync_done());
        assert_eq!(r.sync_done_epoch, Some(1));
        // Shard 4 still syncing when epoch 3 arrives and keeps it: it stays
        // `ActiveSync`; shard 0 (lost in 1) is due for deletion at 3.
        store.apply_epoch_change(3, &set(&[1, 2, 4]), 60).unwrap();
        assert_eq!(
            store.shard_status(4).unwrap(),
            Some(ShardStatus::ActiveSync)
        );
        assert_eq!(store.expired_lost_shards(2).unwrap(), Vec::<u16>::new());
        assert_eq!(store.expired_lost_shards(3).unwrap(), vec![0]);
    }

    #[test]
    fn leaving_the_committee_owes_nothing_and_lost_shards_drop() {
        let (dir, store) = {
            let dir = tempfile::tempdir().unwrap();
            let store = NodeStore::open(dir.path()).unwrap();
            (dir, store)
        };
        let _keep = dir;
        store.init_epoch(0, &set(&[5])).unwrap();
        store
            .put_sliver_bytes(5, floe_core::Axis::Primary, &BlobId([1; 32]), b"x")
            .unwrap();
        store
            .put_sliver_bytes(5, floe_core::Axis::Secondary, &BlobId([2; 32]), b"y")
            .unwrap();
        store
            .put_sliver_bytes(6, floe_core::Axis::Primary, &BlobId([1; 32]), b"z")
            .unwrap();
        let diff = store.apply_epoch_change(1, &set(&[]), 0).unwrap();
        assert_eq!(diff.lost, set(&[5]));
        assert!(!store.epoch_record().unwrap().unwrap().owes_sync_done());
        // Still readable until two epochs later.
        assert!(
            store
                .has_sliver(5, floe_core::Axis::Primary, &BlobId([1; 32]))
                .unwrap()
        );
        assert_eq!(store.expired_lost_shards(3).unwrap(), vec![5]);
        assert_eq!(store.drop_shard(5, 1).unwrap(), 1);
        assert_eq!(store.drop_shard(5, 10).unwrap(), 1);
        assert_eq!(store.drop_shard(5, 10).unwrap(), 0);
        assert_eq!(store.shard_status(5).unwrap(), None);
        assert_eq!(store.lost_epoch(5).unwrap(), None);
        assert!(
            store
                .has_sliver(6, floe_core::Axis::Primary, &BlobId([1; 32]))
                .unwrap(),
            "another shard is untouched"
        );
    }

    #[test]
    fn certified_blobs_page_through_live_certified_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = NodeStore::open(dir.path()).unwrap();
        let info = |end_epoch, certified: bool, deleted| BlobObjectInfo {
            deletable: false,
            registered_epoch: 0,
            end_epoch,
            certified_epoch: certified.then_some(0),
            deleted,
        };
        let mut batch = ChainBatch {
            next_checkpoint: 1,
            ..ChainBatch::default()
        };
        let mut put = |b: u8, o: u8, i: BlobObjectInfo| {
            batch
                .objects
                .insert((BlobId([b; 32]), ObjectId([o; 32])), i);
        };
        put(1, 1, info(5, true, false));
        put(2, 1, info(5, false, false)); // registered only
        put(3, 1, info(2, true, false)); // expires at 2
        put(4, 1, info(5, false, false));
        put(4, 2, info(5, true, false)); // second object certified
        put(5, 1, info(5, true, true)); // deleted
        put(6, 1, info(5, true, false));
        put(7, 1, info(5, true, false)); // invalid below
        batch.invalid.insert(BlobId([7; 32]), 0);
        store.apply_chain_batch(&batch).unwrap();
        let ids = |v: Vec<BlobId>| v.iter().map(|b| b.0[0]).collect::<Vec<u8>>();
        assert_eq!(
            ids(store.certified_blobs(2, None, 10).unwrap()),
            vec![1, 4, 6]
        );
        assert_eq!(
            ids(store.certified_blobs(1, None, 10).unwrap()),
            vec![1, 3, 4, 6]
        );
        let first = store.certified_blobs(2, None, 2).unwrap();
        assert_eq!(ids(first.clone()), vec![1, 4]);
        let rest = store.certified_blobs(2, first.last(), 2).unwrap();
        assert_eq!(ids(rest), vec![6]);
    }
}
