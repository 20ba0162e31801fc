//! The node's view of the chain: the current committee's epoch, its size,
//! the shards this node owns in it, and who held each shard in the
//! previous committee.
//!
//! Filled from the chain at start and replaced by the chain follower at
//! every epoch change; in static test mode, from the config's
//! `[committee]`. Shard ids come from the staking committee
//! (`Staking.committee`, explicit shard ids per node id) joined with the
//! signing committee in `System` ([`ShardAssignment`]); the previous
//! staking committee (`Staking.previous_committee`) says who held a shard
//! this node gained, which is where shard sync fetches it first. Blob
//! registration and certification do not live here but in the durable
//! store (`NodeStore::blob_info`), which the follower writes per blob
//! object.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use floe_core::bls::BlsPublicKey;
use floe_core::committee::Committee;
use floe_core::move_types::ObjectId;
use floe_core::shard_assignment::ShardAssignment;
use floe_core::{BlobId, EncodingConfig, EncodingError, pair_to_shard};

/// The node that held a shard in the previous committee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its node id (staking pool id).
    pub node_id: ObjectId,
    /// Its protocol key, when known.
    pub public_key: Option<BlsPublicKey>,
}

/// The current committee as this node needs it.
#[derive(Debug, Clone)]
pub struct CommitteeView {
    epoch: u32,
    encoding: EncodingConfig,
    owned_shards: BTreeSet<u16>,
    /// Shards lost at an epoch change whose slivers are kept readable
    /// (`LockedToMove`) so their new owner can fetch them.
    locked_shards: BTreeSet<u16>,
    /// The on-chain committee, when the view came from the chain.
    committee: Option<Arc<Committee>>,
    /// Where every shard is in that committee.
    assignment: Option<Arc<ShardAssignment>>,
    /// This node's id, when it is a member.
    node_id: Option<ObjectId>,
    /// Who held each shard in the previous committee (empty when unknown,
    /// e.g. at epoch 0).
    previous: Arc<BTreeMap<u16, Holder>>,
}

/// Why a committee view was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ChainViewError {
    /// The shard count does not give a valid encoding.
    #[error("invalid committee size: {0}")]
    Encoding(#[from] EncodingError),
    /// An owned shard is not below `n_shards`.
    #[error("shard {shard} is out of range for {n_shards} shards")]
    ShardOutOfRange {
        /// The shard.
        shard: u16,
        /// Committee size.
        n_shards: u16,
    },
    /// The shard assignment does not cover the committee's shards.
    #[error("the shard assignment has {assigned} shards, the committee {n_shards}")]
    AssignmentSize {
        /// Shards in the assignment.
        assigned: usize,
        /// Committee size.
        n_shards: u16,
    },
}

impl CommitteeView {
    /// A view of committee `epoch` with `n_shards` shards, of which this node
    /// owns `owned_shards` (static test mode).
    pub fn new(
        epoch: u32,
        n_shards: u16,
        owned_shards: impl IntoIterator<Item = u16>,
    ) -> Result<Self, ChainViewError> {
        let encoding = EncodingConfig::new(n_shards)?;
        let owned_shards: BTreeSet<u16> = owned_shards.into_iter().collect();
        if let Some(&shard) = owned_shards.iter().find(|&&s| s >= n_shards) {
            return Err(ChainViewError::ShardOutOfRange { shard, n_shards });
        }
        Ok(Self {
            epoch,
            encoding,
            owned_shards,
            locked_shards: BTreeSet::new(),
            committee: None,
            assignment: None,
            node_id: None,
            previous: Arc::default(),
        })
    }

    /// The view of an on-chain committee with its shard assignment for the
    /// node whose protocol key is `me`: it owns the shards the assignment
    /// gives its member index, or nothing if it is not a member (it then
    /// serves reads of what it stores but accepts no uploads).
    pub fn from_chain(
        committee: Committee,
        assignment: ShardAssignment,
        me: &BlsPublicKey,
    ) -> Result<Self, ChainViewError> {
        if assignment.n_shards() != usize::from(committee.n_shards()) {
            return Err(ChainViewError::AssignmentSize {
                assigned: assignment.n_shards(),
                n_shards: committee.n_shards(),
            });
        }
        let index = committee.member_by_public_key(me);
        let owned: Vec<u16> = index
            .map(|i| assignment.shards_of(i).to_vec())
            .unwrap_or_default();
        let mut view = Self::new(committee.epoch(), committee.n_shards(), owned)?;
        view.node_id = index.map(|i| committee.members()[i].node_id);
        view.committee = Some(Arc::new(committee));
        view.assignment = Some(Arc::new(assignment));
        Ok(view)
    }

    /// The same view with who held each shard in the previous committee.
    pub fn with_previous(mut self, previous: BTreeMap<u16, Holder>) -> Self {
        self.previous = Arc::new(previous);
        self
    }

    /// The same view with the shards kept read-only after being lost
    /// (owned shards are never locked).
    pub fn with_locked(mut self, locked: impl IntoIterator<Item = u16>) -> Self {
        self.locked_shards = locked
            .into_iter()
            .filter(|s| !self.owned_shards.contains(s))
            .collect();
        self
    }

    /// The on-chain committee (members, keys, weights), if known.
    pub fn committee(&self) -> Option<&Arc<Committee>> {
        self.committee.as_ref()
    }

    /// Where every shard is in the committee, if known.
    pub fn assignment(&self) -> Option<&Arc<ShardAssignment>> {
        self.assignment.as_ref()
    }

    /// This node's id in the committee, if it is a member.
    pub fn node_id(&self) -> Option<ObjectId> {
        self.node_id
    }

    /// Whether this node is a member of the committee (owns shards).
    pub fn is_member(&self) -> bool {
        !self.owned_shards.is_empty()
    }

    /// The committee's epoch (what confirmations and attestations sign).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The encoding parameters for this committee size.
    pub fn encoding(&self) -> &EncodingConfig {
        &self.encoding
    }

    /// Number of shards.
    pub fn n_shards(&self) -> u16 {
        self.encoding.n_shards()
    }

    /// Shards this node owns, ascending.
    pub fn owned_shards(&self) -> &BTreeSet<u16> {
        &self.owned_shards
    }

    /// Shards lost at an epoch change and kept readable, ascending.
    pub fn locked_shards(&self) -> &BTreeSet<u16> {
        &self.locked_shards
    }

    /// Every shard whose slivers this node serves: owned and locked.
    pub fn readable_shards(&self) -> impl Iterator<Item = u16> + '_ {
        self.owned_shards
            .iter()
            .chain(self.locked_shards.iter())
            .copied()
    }

    /// Who held each shard in the previous committee (empty if unknown).
    pub fn previous_holders(&self) -> &BTreeMap<u16, Holder> {
        &self.previous
    }

    /// Who held `shard` in the previous committee, if known.
    pub fn previous_holder(&self, shard: u16) -> Option<&Holder> {
        self.previous.get(&shard)
    }

    /// The shard that stores sliver pair `pair` of `blob_id`, if this node
    /// owns it.
    pub fn owned_shard_for_pair(&self, pair: u16, blob_id: &BlobId) -> Option<u16> {
        let shard = pair_to_shard(pair, blob_id, self.n_shards());
        self.owned_shards.contains(&shard).then_some(shard)
    }
}

/// The shared, replaceable view. Cloning shares it; the follower calls
/// [`ChainView::set_committee`] at epoch changes.
#[derive(Debug, Clone)]
pub struct ChainView {
    committee: Arc<RwLock<Arc<CommitteeView>>>,
}

impl ChainView {
    /// Starts with `committee`.
    pub fn new(committee: CommitteeView) -> Self {
        Self {
            committee: Arc::new(RwLock::new(Arc::new(committee))),
        }
    }

    /// A snapshot of the current committee; a request uses one snapshot
    /// throughout so an epoch change mid-request cannot mix two committees.
    pub fn committee(&self) -> Arc<CommitteeView> {
        // A poisoned lock only means a writer panicked while swapping an
        // `Arc`; the value inside is still a whole `Arc`.
        match self.committee.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the committee.
    pub fn set_committee(&self, committee: CommitteeView) {
        let mut guard = match self.committee.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(committee);
    }
}

#[cfg(test)]
mod tests {
    use floe_core::bls::BlsSecretKey;
    use floe_core::committee::CommitteeMember;

    use super::*;

    fn committee(epoch: u32, weights: &[u16]) -> (Committee, Vec<BlsSecretKey>) {
        let keys: Vec<BlsSecretKey> = (0..weights.len())
            .map(|i| BlsSecretKey::from_seed(&[i as u8 + 1; 32]))
            .collect();
        let members = weights
            .iter()
            .zip(&keys)
            .enumerate()
            .map(|(i, (&weight, k))| CommitteeMember {
                node_id: ObjectId([i as u8 + 1; 32]),
                public_key: k.public_key(),
                weight,
            })
            .collect();
        (Committee::new(epoch, members).unwrap(), keys)
    }

    #[test]
    fn explicit_shards_not_the_interim_rule() {
        let (c, keys) = committee(2, &[2, 1, 1]);
        let assignment = ShardAssignment::new(
            &c,
            &[
                (ObjectId([1; 32]), vec![3, 0]),
                (ObjectId([2; 32]), vec![1]),
                (ObjectId([3; 32]), vec![2]),
            ],
        )
        .unwrap();
        let me = keys[0].public_key();
        let index = c.member_by_public_key(&me).unwrap();
        let view = CommitteeView::from_chain(c.clone(), assignment.clone(), &me).unwrap();
        assert_eq!(
            view.owned_shards().iter().copied().collect::<Vec<_>>(),
            assignment.shards_of(index)
        );
        assert_eq!(view.node_id(), Some(c.members()[index].node_id));
        assert_eq!(view.epoch(), 2);
        let stranger = BlsSecretKey::from_seed(&[9; 32]).public_key();
        let view = CommitteeView::from_chain(c, assignment, &stranger).unwrap();
        assert!(!view.is_member());
        assert_eq!(view.node_id(), None);
        let locked = view.with_locked([1, 2]);
        assert_eq!(locked.readable_shards().collect::<Vec<_>>(), vec![1, 2]);
    }
}
