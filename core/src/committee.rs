//! The BLS signing committee of an epoch and certificate verification,
//! exactly as the contract's `bls_aggregate.move` does it (Walrus's
//! `contracts/walrus/sources/system/bls_aggregate.move`).
//!
//! Members are ordered by node id ascending as Move's `u256` of the address,
//! which reads the 32 id bytes big-endian, i.e. plain byte-wise order of the
//! raw ids. Each member weighs its shard count; `n_shards` is the sum.
//!
//! A certificate names its signers by a bitmap over that order: bit `i` of
//! byte `k` (least significant first) is member `8k + i`. The bitmap may be
//! shorter than `ceil(members / 8)` bytes (missing members do not sign) but
//! not longer, and bits past the last member must be zero so each signer
//! set has exactly one bitmap. Verification computes the non-signers'
//! weight and key, checks the threshold first (cheap) and only then the
//! pairing against `total key - non-signer keys`.

use blst::min_pk::AggregatePublicKey;

use crate::bls::{BlsError, BlsPublicKey, BlsSignature};
use crate::messages::{MessageBody, MessageError, ProtocolMessage, ProtocolMessageCertificate};
use crate::move_types::{BlsCommittee, ObjectId};

/// Whether `weight` shards out of `n_shards` form a quorum: `3w >= 2n + 1`
/// (more than two thirds; for n = 1000 that is 667).
// Written as in `bls_aggregate.move` so the two can be compared at a glance.
#[allow(clippy::int_plus_one)]
pub const fn is_quorum(weight: u32, n_shards: u32) -> bool {
    3 * (weight as u64) >= 2 * (n_shards as u64) + 1
}

/// Whether `weight` shards out of `n_shards` include at least one correct
/// node (validity): `3w >= n + 1` (for n = 1000 that is 334).
#[allow(clippy::int_plus_one)]
pub const fn is_validity(weight: u32, n_shards: u32) -> bool {
    3 * (weight as u64) >= (n_shards as u64) + 1
}

/// The threshold a certificate must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequiredWeight {
    /// `3w >= 2n + 1` (blob certification, deny-list updates, versions).
    Quorum,
    /// `3w >= n + 1` (invalid blob ids, deny-listed blob deletion).
    Validity,
}

impl RequiredWeight {
    /// Whether `weight` out of `n_shards` meets the threshold.
    pub const fn is_met(self, weight: u32, n_shards: u32) -> bool {
        match self {
            RequiredWeight::Quorum => is_quorum(weight, n_shards),
            RequiredWeight::Validity => is_validity(weight, n_shards),
        }
    }
}

/// One committee member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitteeMember {
    /// Storage node id (= staking pool id).
    pub node_id: ObjectId,
    /// Its BLS key for this epoch.
    pub public_key: BlsPublicKey,
    /// Number of shards it holds (> 0).
    pub weight: u16,
}

/// Why a committee could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitteeError {
    /// A member has no shards (Move `EIncorrectCommittee`).
    #[error("committee member {0} has zero weight")]
    ZeroWeight(ObjectId),
    /// The same node appears twice.
    #[error("node {0} appears twice in the committee")]
    DuplicateMember(ObjectId),
    /// Shard counts sum past `u16::MAX`.
    #[error("committee weights sum to {0}, more than a u16 shard count")]
    TooManyShards(u32),
    /// Signer indices are `u16`.
    #[error("{0} committee members, more than u16 signer indices can address")]
    TooManyMembers(usize),
    /// On-chain members not sorted by node id.
    #[error("on-chain committee members are not sorted by node id at index {0}")]
    NotSorted(usize),
    /// On-chain `n_shards` disagrees with the weights.
    #[error("on-chain n_shards {stated} differs from the weight sum {computed}")]
    ShardCountMismatch {
        /// Stored value.
        stated: u16,
        /// Sum of weights.
        computed: u32,
    },
    /// On-chain `total_aggregated_key` is not the sum of the member keys.
    #[error("on-chain total_aggregated_key is not the sum of the member keys")]
    TotalKeyMismatch,
    /// A member key does not parse.
    #[error("member {node_id} has an invalid key: {source}")]
    InvalidKey {
        /// The member.
        node_id: ObjectId,
        /// Why.
        source: BlsError,
    },
}

/// Why a certificate was rejected. Variants follow `bls_aggregate.move`'s
/// abort codes where one exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Bitmap longer than `ceil(members / 8)` (Move `EInvalidBitmap`).
    #[error("signer bitmap of {len} bytes is longer than the {max} bytes {n_members} members need")]
    BitmapTooLong {
        /// Bitmap length.
        len: usize,
        /// Maximum length.
        max: usize,
        /// Committee size.
        n_members: usize,
    },
    /// A bit set for a non-existent member (Move `EInvalidBitmap`).
    #[error("signer bitmap sets bit {index} but the committee has {n_members} members")]
    BitPastMembers {
        /// The bit index.
        index: usize,
        /// Committee size.
        n_members: usize,
    },
    /// A signer index outside the committee.
    #[error("signer index {index} is out of range for {n_members} members")]
    SignerOutOfRange {
        /// The index.
        index: u16,
        /// Committee size.
        n_members: usize,
    },
    /// The same signer listed twice.
    #[error("signer index {0} is listed twice")]
    DuplicateSigner(u16),
    /// Signers below the threshold (Move `ENotEnoughStake`).
    #[error("signers hold {weight} of {n_shards} shards, below the {required:?} threshold")]
    NotEnoughWeight {
        /// Signer weight.
        weight: u32,
        /// Committee weight.
        n_shards: u32,
        /// Threshold asked for.
        required: RequiredWeight,
    },
    /// Signature invalid or not verifying (Move `ESigVerification`).
    #[error("certificate signature: {0}")]
    Signature(#[from] BlsError),
    /// The certified bytes are not the expected message (header checks,
    /// including the committee epoch).
    #[error("certified message: {0}")]
    Message(#[from] MessageError),
}

/// A verified certificate's message and its stake support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedMessage<T> {
    /// The decoded message (epoch equals the committee's).
    pub message: ProtocolMessage<T>,
    /// Shards held by the signers.
    pub stake_support: u16,
}

/// Builds the signer bitmap for `signers` (indices into a committee of
/// `n_members`), `ceil(n_members / 8)` bytes long as Walrus's transaction
/// builder makes it. Rejects out-of-range and repeated indices.
pub fn signers_to_bitmap(signers: &[u16], n_members: usize) -> Result<Vec<u8>, CertificateError> {
    let mut bitmap = vec![0u8; n_members.div_ceil(8)];
    for &signer in signers {
        let index = usize::from(signer);
        if index >= n_members {
            return Err(CertificateError::SignerOutOfRange {
                index: signer,
                n_members,
            });
        }
        let (byte, bit) = (index / 8, index % 8);
        if bitmap[byte] & (1 << bit) != 0 {
            return Err(CertificateError::DuplicateSigner(signer));
        }
        bitmap[byte] |= 1 << bit;
    }
    Ok(bitmap)
}

/// Reads a signer bitmap back into ascending member indices, with the
/// contract's checks (length, no bits past the members).
pub fn bitmap_to_signers(bitmap: &[u8], n_members: usize) -> Result<Vec<u16>, CertificateError> {
    check_bitmap(bitmap, n_members)?;
    let mut signers = Vec::new();
    for (byte_index, &byte) in bitmap.iter().enumerate() {
        for bit in 0..8 {
            if byte >> bit & 1 == 1 {
                // Below n_members (checked), which fits u16 for any
                // committee that can be built; saturate defensively.
                let index = byte_index * 8 + bit;
                signers.push(u16::try_from(index).unwrap_or(u16::MAX));
            }
        }
    }
    Ok(signers)
}

fn check_bitmap(bitmap: &[u8], n_members: usize) -> Result<(), CertificateError> {
    let max = n_members.div_ceil(8);
    if bitmap.len() > max {
        return Err(CertificateError::BitmapTooLong {
            len: bitmap.len(),
            max,
            n_members,
        });
    }
    for (byte_index, &byte) in bitmap.iter().enumerate() {
        for bit in 0..8 {
            let index = byte_index * 8 + bit;
            if index >= n_members && byte >> bit & 1 == 1 {
                return Err(CertificateError::BitPastMembers { index, n_members });
            }
        }
    }
    Ok(())
}

/// The signing committee of one epoch.
#[derive(Clone)]
pub struct Committee {
    epoch: u32,
    members: Vec<CommitteeMember>,
    n_shards: u16,
    /// Sum of all member keys (Move's `total_aggregated_key`); `None` for
    /// an empty committee.
    total_key: Option<AggregatePublicKey>,
}

impl std::fmt::Debug for Committee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committee")
            .field("epoch", &self.epoch)
            .field("n_shards", &self.n_shards)
            .field("members", &self.members)
            .finish()
    }
}

impl Committee {
    /// Builds the committee, sorting members by node id (Move's order).
    pub fn new(epoch: u32, mut members: Vec<CommitteeMember>) -> Result<Self, CommitteeError> {
        members.sort_by_key(|m| m.node_id);
        if let Some(pair) = members.windows(2).find(|w| w[0].node_id == w[1].node_id) {
            return Err(CommitteeError::DuplicateMember(pair[0].node_id));
        }
        Self::from_sorted(epoch, members)
    }

    /// Builds the committee from the on-chain `BlsCommittee` mirror, keeping
    /// its member order (which the bitmaps refer to) after checking it is
    /// sorted, and checking `n_shards`. Keys may be 96-byte uncompressed
    /// (current contracts) or 48-byte compressed.
    pub fn from_move(committee: &BlsCommittee) -> Result<Self, CommitteeError> {
        let mut members = Vec::with_capacity(committee.members.len());
        for member in &committee.members {
            let bytes = &member.public_key.bytes;
            let public_key = if bytes.len() == crate::bls::PUBLIC_KEY_LENGTH {
                BlsPublicKey::from_bytes(bytes)
            } else {
                BlsPublicKey::from_uncompressed(bytes)
            }
            .map_err(|source| CommitteeError::InvalidKey {
                node_id: member.node_id,
                source,
            })?;
            members.push(CommitteeMember {
                node_id: member.node_id,
                public_key,
                weight: member.weight,
            });
        }
        if let Some(i) = members
            .windows(2)
            .position(|w| w[0].node_id >= w[1].node_id)
        {
            return Err(CommitteeError::NotSorted(i + 1));
        }
        let built = Self::from_sorted(committee.epoch, members)?;
        if built.n_shards != committee.n_shards {
            return Err(CommitteeError::ShardCountMismatch {
                stated: committee.n_shards,
                computed: u32::from(built.n_shards),
            });
        }
        // The contract verifies against its stored total; a mismatch would
        // make floe and the chain disagree on every certificate.
        if let Some(total) = built.total_aggregated_key()
            && total.as_bytes().as_slice() != committee.total_aggregated_key.bytes.as_slice()
        {
            return Err(CommitteeError::TotalKeyMismatch);
        }
        Ok(built)
    }

    fn from_sorted(epoch: u32, members: Vec<CommitteeMember>) -> Result<Self, CommitteeError> {
        if members.len() > usize::from(u16::MAX) + 1 {
            return Err(CommitteeError::TooManyMembers(members.len()));
        }
        let mut total: u32 = 0;
        for member in &members {
            if member.weight == 0 {
                return Err(CommitteeError::ZeroWeight(member.node_id));
            }
            total += u32::from(member.weight);
        }
        let n_shards = u16::try_from(total).map_err(|_| CommitteeError::TooManyShards(total))?;
        let total_key = members.split_first().map(|(first, rest)| {
            let mut agg = AggregatePublicKey::from_public_key(first.public_key.point());
            for member in rest {
                // Keys were validated when parsed; skip re-validation.
                let _ = agg.add_public_key(member.public_key.point(), false);
            }
            agg
        });
        Ok(Committee {
            epoch,
            members,
            n_shards,
            total_key,
        })
    }

    /// The epoch this committee signs for.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Members in bitmap order.
    pub fn members(&self) -> &[CommitteeMember] {
        &self.members
    }

    /// Number of members.
    pub fn n_members(&self) -> usize {
        self.members.len()
    }

    /// Total shards.
    pub fn n_shards(&self) -> u16 {
        self.n_shards
    }

    /// Index of a node in the member list.
    pub fn member_index(&self, node_id: &ObjectId) -> Option<usize> {
        self.members
            .binary_search_by(|m| m.node_id.cmp(node_id))
            .ok()
    }

    /// Index of the member whose protocol key is `key`.
    pub fn member_by_public_key(&self, key: &BlsPublicKey) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.public_key.as_bytes() == key.as_bytes())
    }

    /// The contiguous assignment: members hold contiguous ranges in bitmap
    /// (node id) order, member 0 from shard 0, each as many shards as it
    /// weighs. This is what genesis writes into the staking committee (as
    /// Walrus's first committee does); after that, shard ids come from
    /// `Staking` (see [`crate::shard_assignment::ShardAssignment`]), and
    /// shards move only when stake does.
    pub fn interim_shards_of(&self, index: usize) -> Option<std::ops::Range<u16>> {
        let member = self.members.get(index)?;
        let start: u32 = self.members[..index]
            .iter()
            .map(|m| u32::from(m.weight))
            .sum();
        // `from_sorted` checked the total fits a u16.
        let start = u16::try_from(start).ok()?;
        Some(start..start + member.weight)
    }

    /// Which member holds `shard` under [`Committee::interim_shards_of`].
    pub fn interim_owner_of_shard(&self, shard: u16) -> Option<usize> {
        let mut end: u32 = 0;
        for (i, member) in self.members.iter().enumerate() {
            end += u32::from(member.weight);
            if u32::from(shard) < end {
                return Some(i);
            }
        }
        None
    }

    /// The sum of all member keys, `None` for an empty committee.
    pub fn total_aggregated_key(&self) -> Option<BlsPublicKey> {
        self.total_key
            .as_ref()
            .and_then(|agg| BlsPublicKey::from_aggregate(agg).ok())
    }

    /// Whether `weight` is a quorum of this committee.
    pub fn is_quorum(&self, weight: u32) -> bool {
        is_quorum(weight, u32::from(self.n_shards))
    }

    /// Whether `weight` includes at least one correct node.
    pub fn is_validity(&self, weight: u32) -> bool {
        is_validity(weight, u32::from(self.n_shards))
    }

    /// Verifies `signature` over `message` by the members in `bitmap`,
    /// exactly as `bls_aggregate::verify_certificate_and_weight`: bitmap
    /// checks, non-signer weight and keys, threshold, then pairing. Returns
    /// the signers' weight. Does not look inside `message`.
    pub fn verify_bitmap(
        &self,
        signature: &BlsSignature,
        bitmap: &[u8],
        message: &[u8],
        required: RequiredWeight,
    ) -> Result<u16, CertificateError> {
        let n_members = self.members.len();
        check_bitmap(bitmap, n_members)?;

        let mut non_signer_weight: u32 = 0;
        let mut non_signer_key: Option<AggregatePublicKey> = None;
        for (index, member) in self.members.iter().enumerate() {
            let byte = bitmap.get(index / 8).copied().unwrap_or(0);
            if byte >> (index % 8) & 1 == 1 {
                continue;
            }
            non_signer_weight += u32::from(member.weight);
            match non_signer_key.as_mut() {
                None => {
                    non_signer_key = Some(AggregatePublicKey::from_public_key(
                        member.public_key.point(),
                    ))
                }
                Some(agg) => {
                    let _ = agg.add_public_key(member.public_key.point(), false);
                }
            }
        }
        let n_shards = u32::from(self.n_shards);
        // Non-signers are a subset of the members, so this cannot underflow.
        let weight = n_shards.saturating_sub(non_signer_weight);
        if !required.is_met(weight, n_shards) {
            return Err(CertificateError::NotEnoughWeight {
                weight,
                n_shards,
                required,
            });
        }

        // A threshold was met, so some member signed and the total exists.
        let mut aggregate = self.total_key.ok_or(CertificateError::NotEnoughWeight {
            weight,
            n_shards,
            required,
        })?;
        if let Some(non_signers) = non_signer_key {
            aggregate.sub_aggregate(&non_signers);
        }
        let key = BlsPublicKey::from_aggregate(&aggregate)?;
        key.verify(message, signature)?;
        Ok(u16::try_from(weight).unwrap_or(u16::MAX))
    }

    /// Verifies a certificate: signer list to bitmap, [`verify_bitmap`]
    /// (Self::verify_bitmap), then decodes the message requiring this
    /// committee's epoch and the body's intent type (as the contract does
    /// after the signature).
    pub fn verify_certificate<T: MessageBody>(
        &self,
        certificate: &ProtocolMessageCertificate<T>,
        required: RequiredWeight,
    ) -> Result<CertifiedMessage<T>, CertificateError> {
        let bitmap = signers_to_bitmap(&certificate.signers, self.members.len())?;
        let stake_support = self.verify_bitmap(
            &certificate.signature,
            &bitmap,
            &certificate.serialized_message,
            required,
        )?;
        let message =
            ProtocolMessage::<T>::from_bytes_in_epoch(&certificate.serialized_message, self.epoch)?;
        Ok(CertifiedMessage {
            message,
            stake_support,
        })
    }
}
