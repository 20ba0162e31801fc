//! Epoch changes on the node (as in Walrus's `node/epoch_change*.rs`): reading the committee with
//! its shard ids from the chain, and switching the node to a new one.
//!
//! The committee is two reads: the signing committee in `System` and the
//! staking committee (shard ids per node id) in `Staking`, which
//! `initiate_epoch_change` updates in one transaction; a read that
//! straddles that transaction sees two epochs and is repeated.
//!
//! The switch ([`switch`]): the shard statuses in the store say which
//! shards the node held; against the new committee's shards that gives
//! gained shards (`ActiveSync`: filled by `shard_sync`, which then reports
//! `epoch_sync_done`), lost ones (`LockedToMove`: no more uploads, since
//! the view no longer owns them, but readable so their new owner can fetch
//! them; deleted [`LOST_SHARD_RETENTION`] epochs later) and kept ones, all
//! in one store batch with the new epoch, so a restart resumes. Diffing
//! against the store, not against the previous view, means a node that was
//! down across one or several epoch changes catches up in one step.

use std::collections::{BTreeMap, BTreeSet};

use floe_chain::floe::{Floe, FloeError};
use floe_core::bls::BlsPublicKey;
use floe_core::move_types::ObjectId;

use crate::chain_view::{ChainViewError, CommitteeView, Holder};
use crate::context::NodeContext;
use crate::store::{LOST_SHARD_RETENTION, NodeStore, ShardDiff, ShardStatus, StoreError};

/// Slivers deleted per batch when a lost shard is dropped.
const DROP_BATCH: usize = 1000;

/// Why the committee could not be read or applied.
#[derive(Debug, thiserror::Error)]
pub enum EpochError {
    /// The chain could not be read.
    #[error("chain: {0}")]
    Chain(#[from] FloeError),
    /// The committee is unusable.
    #[error(transparent)]
    View(#[from] ChainViewError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A blocking worker died.
    #[error("worker failed: {0}")]
    Join(String),
}

/// The current committee as node `me` sees it, with who held each shard
/// in the previous committee. Keys of previous holders are taken from the
/// current committee, then from `known` (the view being replaced), then
/// from the holder's staking pool.
pub async fn read_view(
    floe: &Floe,
    me: &BlsPublicKey,
    known: Option<&CommitteeView>,
) -> Result<CommitteeView, EpochError> {
    let (committee, state, shards) = floe.committee_and_staking().await?;
    let mut keys: BTreeMap<ObjectId, BlsPublicKey> = BTreeMap::new();
    if let Some(known) = known {
        let holders = known.previous_holders().values();
        keys.extend(holders.filter_map(|h| h.public_key.map(|k| (h.node_id, k))));
        if let Some(old) = known.committee() {
            keys.extend(old.members().iter().map(|m| (m.node_id, m.public_key)));
        }
    }
    keys.extend(
        committee
            .members()
            .iter()
            .map(|m| (m.node_id, m.public_key)),
    );
    let mut previous = BTreeMap::new();
    for entry in &state.previous_committee.pos0.contents {
        let node_id = entry.key;
        let public_key = match keys.get(&node_id) {
            Some(k) => Some(*k),
            None => pool_key(floe, node_id).await,
        };
        for &shard in &entry.value {
            previous.insert(
                shard,
                Holder {
                    node_id,
                    public_key,
                },
            );
        }
    }
    Ok(CommitteeView::from_chain(committee, shards, me)?.with_previous(previous))
}

/// A staking pool's current protocol key, if it can be read and parsed.
async fn pool_key(floe: &Floe, node_id: ObjectId) -> Option<BlsPublicKey> {
    let pool = match floe.pool(node_id).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(%node_id, error = %e, "reading a previous holder's pool");
            return None;
        }
    };
    let bytes = &pool.node_info.public_key.bytes;
    let key = if bytes.len() == floe_core::bls::PUBLIC_KEY_LENGTH {
        BlsPublicKey::from_bytes(bytes)
    } else {
        BlsPublicKey::from_uncompressed(bytes)
    };
    key.map_err(|e| tracing::warn!(%node_id, error = %e, "a pool's public key"))
        .ok()
}

/// What [`switch`] did.
#[derive(Debug, Default)]
pub struct Switched {
    /// The shard diff (empty when the store already followed the epoch).
    pub diff: ShardDiff,
    /// Whether the view's epoch is newer than the one the store followed.
    pub new_epoch: bool,
}

/// Switches `ctx` to `view`: applies the epoch change to the store when
/// `view` is newer than the store's record (`caught_up_at`: the checkpoint
/// the follower must reach before gained shards count as synced), then
/// installs the view with the shards kept readable. Blocking.
pub fn switch(
    ctx: &NodeContext,
    view: CommitteeView,
    caught_up_at: u64,
) -> Result<Switched, EpochError> {
    let store = ctx.store();
    let epoch = view.epoch();
    let record = store.epoch_record()?;
    let mut switched = Switched::default();
    match record {
        // A new store at genesis: nothing was stored anywhere yet.
        None if epoch == 0 => {
            store.init_epoch(epoch, view.owned_shards())?;
        }
        // A new (or wiped) store later on: every owned shard is gained and
        // synced like at an epoch change (and reported).
        None => {
            switched.diff = store.apply_epoch_change(epoch, view.owned_shards(), caught_up_at)?;
            switched.new_epoch = true;
        }
        Some(r) if r.epoch < epoch => {
            switched.diff = store.apply_epoch_change(epoch, view.owned_shards(), caught_up_at)?;
            switched.new_epoch = true;
        }
        Some(_) => {}
    }
    let locked = locked_shards(store)?;
    ctx.chain().set_committee(view.with_locked(locked));
    ctx.metrics().epoch.set(i64::from(epoch));
    Ok(switched)
}

/// Shards kept readable after being lost.
pub fn locked_shards(store: &NodeStore) -> Result<BTreeSet<u16>, StoreError> {
    Ok(store
        .shard_statuses()?
        .into_iter()
        .filter(|(_, s)| *s == ShardStatus::LockedToMove)
        .map(|(shard, _)| shard)
        .collect())
}

/// Deletes the slivers of shards lost [`LOST_SHARD_RETENTION`] or more
/// epochs before `epoch`, in bounded batches; returns the shards dropped.
/// Blocking.
pub fn drop_expired_shards(ctx: &NodeContext, epoch: u32) -> Result<Vec<u16>, StoreError> {
    let store = ctx.store();
    let shards = store.expired_lost_shards(epoch)?;
    for &shard in &shards {
        let mut slivers = 0;
        loop {
            let n = store.drop_shard(shard, DROP_BATCH)?;
            if n == 0 {
                break;
            }
            slivers += n;
        }
        tracing::info!(
            shard,
            slivers,
            retention = LOST_SHARD_RETENTION,
            "dropped a shard lost epochs ago"
        );
    }
    if !shards.is_empty() {
        let view = ctx.chain().committee();
        let locked = locked_shards(store)?;
        ctx.chain()
            .set_committee(view.as_ref().clone().with_locked(locked));
    }
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use floe_core::bls::BlsSecretKey;
    use floe_core::committee::{Committee, CommitteeMember};
    use floe_core::shard_assignment::ShardAssignment;

    use super::*;
    use crate::chain_view::ChainView;
    use crate::config::Limits;

    fn keys() -> Vec<BlsSecretKey> {
        (0..3u8)
            .map(|i| BlsSecretKey::from_seed(&[i + 1; 32]))
            .collect()
    }

    /// Epoch `epoch` where node `i` (seed `i + 1`, node id `[i + 1; 32]`)
    /// holds `shards[i]`.
    fn view(epoch: u32, shards: &[&[u16]], me: &BlsSecretKey) -> CommitteeView {
        let members: Vec<CommitteeMember> = keys()
            .iter()
            .zip(shards)
            .enumerate()
            .map(|(i, (k, s))| CommitteeMember {
                node_id: ObjectId([i as u8 + 1; 32]),
                public_key: k.public_key(),
                weight: s.len() as u16,
            })
            .collect();
        let pairs: Vec<(ObjectId, Vec<u16>)> = members
            .iter()
            .zip(shards)
            .map(|(m, s)| (m.node_id, s.to_vec()))
            .collect();
        let committee = Committee::new(epoch, members).unwrap();
        let assignment = ShardAssignment::new(&committee, &pairs).unwrap();
        CommitteeView::from_chain(committee, assignment, &me.public_key()).unwrap()
    }

    fn context(dir: &std::path::Path, view: CommitteeView, key: BlsSecretKey) -> NodeContext {
        let store = Arc::new(NodeStore::open(dir).unwrap());
        NodeContext::new(store, ChainView::new(view), key, &Limits::default())
    }

    fn owned(ctx: &NodeContext) -> Vec<u16> {
        ctx.chain()
            .committee()
            .owned_shards()
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn switch_diffs_against_the_store_and_resumes_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        let me = keys().remove(0);
        let genesis = view(0, &[&[0, 1], &[2, 3], &[4, 5, 6]], &me);
        {
            let ctx = context(dir.path(), genesis.clone(), me.clone());
            let s = switch(&ctx, genesis.clone(), 0).unwrap();
            assert!(!s.new_epoch, "genesis is no epoch change");
            assert_eq!(owned(&ctx), vec![0, 1]);
            assert_eq!(
                ctx.store().shard_status(0).unwrap(),
                Some(ShardStatus::Active)
            );
            // Epoch 1: shard 1 moves away, shards 4 and 6 come in.
            let next = view(1, &[&[0, 4, 6], &[1, 2, 3], &[5]], &me);
            let s = switch(&ctx, next, 12).unwrap();
            assert!(s.new_epoch);
            assert_eq!(
                s.diff.gained.iter().copied().collect::<Vec<_>>(),
                vec![4, 6]
            );
            assert_eq!(s.diff.lost.iter().copied().collect::<Vec<_>>(), vec![1]);
            let current = ctx.chain().committee();
            assert_eq!(current.epoch(), 1);
            assert_eq!(owned(&ctx), vec![0, 4, 6]);
            assert_eq!(
                current.locked_shards().iter().copied().collect::<Vec<_>>(),
                vec![1]
            );
        }
        // Restarted (the view is read again at epoch 1): nothing is
        // re-applied, the gained shards are still syncing and reported.
        let again = view(1, &[&[0, 4, 6], &[1, 2, 3], &[5]], &me);
        let ctx = context(dir.path(), genesis, me.clone());
        let s = switch(&ctx, again, 99).unwrap();
        assert!(!s.new_epoch);
        let store = ctx.store();
        assert_eq!(
            store.shard_status(4).unwrap(),
            Some(ShardStatus::ActiveSync)
        );
        assert_eq!(
            store.shard_status(1).unwrap(),
            Some(ShardStatus::LockedToMove)
        );
        let record = store.epoch_record().unwrap().unwrap();
        assert_eq!((record.epoch, record.caught_up_at), (1, 12));
        assert!(record.owes_sync_done());
        // Down across epochs 2 and 3 and out of the committee at 3: one
        // step, nothing owed; shard 1 (lost at 1) is dropped at 3.
        let stranger = BlsSecretKey::from_seed(&[42; 32]);
        let out_for_me = view(3, &[&[1, 2, 3], &[0, 4, 6], &[5]], &stranger);
        let s = switch(&ctx, out_for_me, 100).unwrap();
        assert!(s.new_epoch);
        assert!(owned(&ctx).is_empty());
        assert!(!store.epoch_record().unwrap().unwrap().owes_sync_done());
        assert_eq!(drop_expired_shards(&ctx, 3).unwrap(), vec![1]);
        assert_eq!(
            ctx.chain()
                .committee()
                .locked_shards()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            vec![0, 4, 6]
        );
    }
}
