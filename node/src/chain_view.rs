//! The node's view of the chain: the current committee's epoch, its size and
//! the shards this node owns in it.
//!
//! Filled from `System` on chain (`Floe::committee`) at start and replaced by
//! the chain follower when the committee changes; in static test mode, from
//! the config's `[committee]`. Which shard ids a member holds follows floe's
//! interim rule (`Committee::interim_shards_of`: contiguous ranges in
//! committee order) until the staking contracts carry shard ids. Blob
//! registration and certification do not live here but in the durable store
//! (`NodeStore::blob_info`), which the follower writes per blob object.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use floe_core::bls::BlsPublicKey;
use floe_core::committee::Committee;
use floe_core::{BlobId, EncodingConfig, EncodingError, pair_to_shard};

/// The current committee as this node needs it.
#[derive(Debug, Clone)]
pub struct CommitteeView {
    epoch: u32,
    encoding: EncodingConfig,
    owned_shards: BTreeSet<u16>,
    /// The on-chain committee, when the view came from the chain.
    committee: Option<Arc<Committee>>,
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
}

impl CommitteeView {
    /// A view of committee `epoch` with `n_shards` shards, of which this node
    /// owns `owned_shards`.
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
            committee: None,
        })
    }

    /// The view of an on-chain committee for the node whose protocol key is
    /// `me`: it owns the interim shards of its member index, or nothing if
    /// it is not a member (it then serves reads of what it stores but
    /// accepts no uploads).
    pub fn from_committee(committee: Committee, me: &BlsPublicKey) -> Result<Self, ChainViewError> {
        let owned: Vec<u16> = committee
            .member_by_public_key(me)
            .and_then(|i| committee.interim_shards_of(i))
            .map(|r| r.collect())
            .unwrap_or_default();
        let mut view = Self::new(committee.epoch(), committee.n_shards(), owned)?;
        view.committee = Some(Arc::new(committee));
        Ok(view)
    }

    /// The on-chain committee (members, keys, weights), if known.
    pub fn committee(&self) -> Option<&Arc<Committee>> {
        self.committee.as_ref()
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
