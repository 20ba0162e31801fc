//! Blob metadata: one pair of sliver hashes per sliver pair, bound together by
//! the blob id.
//!
//! Parse, don't validate: bytes from the network become
//! [`UnverifiedBlobMetadataWithId`]; only [`UnverifiedBlobMetadataWithId::verify`]
//! (which recomputes the blob id) or the encoder produce a
//! [`VerifiedBlobMetadataWithId`], and everything that trusts metadata takes
//! the verified type.

use serde::{Deserialize, Serialize};

use crate::blob_id::BlobId;
use crate::encoding::{Axis, EncodingConfig, EncodingError, EncodingType};
use crate::merkle::{Digest, EMPTY_NODE, Node, leaf_hashes, root_from_leaf_hashes};

/// The hashes of the two slivers of one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliverPairMetadata {
    /// Merkle root over the expanded primary sliver (row `i`).
    pub primary_hash: Node,
    /// Merkle root over the expanded secondary sliver of this pair (column `n - 1 - i`).
    pub secondary_hash: Node,
}

impl SliverPairMetadata {
    /// The hash of the sliver on `axis`.
    pub fn hash(&self, axis: Axis) -> &Node {
        match axis {
            Axis::Primary => &self.primary_hash,
            Axis::Secondary => &self.secondary_hash,
        }
    }

    fn leaf_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(self.primary_hash.bytes());
        out[32..].copy_from_slice(self.secondary_hash.bytes());
        out
    }
}

/// Version 1 of the metadata body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMetadataV1 {
    /// Always RS2 today.
    pub encoding_type: EncodingType,
    /// Length of the blob before encoding.
    pub unencoded_length: u64,
    /// One entry per sliver pair, in pair order.
    pub hashes: Vec<SliverPairMetadata>,
}

/// Blob metadata, versioned as on the wire (enum tag 0 = V1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlobMetadata {
    /// The only version.
    V1(BlobMetadataV1),
}

impl BlobMetadata {
    /// The V1 body.
    pub fn v1(&self) -> &BlobMetadataV1 {
        match self {
            BlobMetadata::V1(v1) => v1,
        }
    }

    /// Encoding type.
    pub fn encoding_type(&self) -> EncodingType {
        self.v1().encoding_type
    }

    /// Length of the blob before encoding.
    pub fn unencoded_length(&self) -> u64 {
        self.v1().unencoded_length
    }

    /// Pair hashes.
    pub fn hashes(&self) -> &[SliverPairMetadata] {
        &self.v1().hashes
    }

    /// Merkle root over the pair hashes (leaf i = primary_i || secondary_i).
    pub fn root_hash(&self) -> Node {
        let hashes = self.hashes();
        let leaves: Vec<[u8; 64]> = hashes.iter().map(SliverPairMetadata::leaf_bytes).collect();
        let mut level: Vec<Digest> = vec![EMPTY_NODE; leaves.len()];
        leaf_hashes(leaves.iter().map(|l| l.as_slice()), &mut level);
        root_from_leaf_hashes(&mut level)
    }

    /// The blob id these metadata commit to.
    pub fn compute_blob_id(&self) -> BlobId {
        BlobId::derive(
            self.encoding_type(),
            self.unencoded_length(),
            &self.root_hash(),
        )
    }

    /// The hash the metadata hold for sliver `sliver_index` on `axis`
    /// (secondary sliver `j` is in pair `n - 1 - j`).
    pub fn sliver_hash(&self, axis: Axis, sliver_index: u16) -> Option<&Node> {
        let n = self.hashes().len();
        let idx = usize::from(sliver_index);
        if idx >= n {
            return None;
        }
        let pair = match axis {
            Axis::Primary => idx,
            Axis::Secondary => n - 1 - idx,
        };
        Some(self.hashes()[pair].hash(axis))
    }
}

/// Metadata with its claimed blob id, as received (BCS `BlobMetadataWithId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnverifiedBlobMetadataWithId {
    /// The id the sender claims.
    pub blob_id: BlobId,
    /// The metadata.
    pub metadata: BlobMetadata,
}

/// Metadata whose blob id was recomputed and matched, for a known committee size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedBlobMetadataWithId {
    blob_id: BlobId,
    metadata: BlobMetadata,
}

/// Why metadata were rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Wrong number of pair hashes for the committee.
    #[error("metadata carry {got} sliver pair hashes but the committee has {expected} shards")]
    WrongHashCount {
        /// Hashes found.
        got: usize,
        /// n_shards.
        expected: usize,
    },
    /// Length above what n shards can encode.
    #[error(
        "metadata claim {len} unencoded bytes, above the {max}-byte maximum for this committee"
    )]
    TooLarge {
        /// Claimed length.
        len: u64,
        /// Maximum.
        max: u64,
    },
    /// The blob id does not match the metadata.
    #[error("metadata hash to blob id {computed}, not the claimed {claimed}")]
    BlobIdMismatch {
        /// Claimed id.
        claimed: BlobId,
        /// Recomputed id.
        computed: BlobId,
    },
    /// The claimed id differs from the one the caller expected (e.g. from the URL).
    #[error("metadata are for blob {got}, expected {expected}")]
    UnexpectedBlobId {
        /// Expected id.
        expected: BlobId,
        /// Id in the metadata.
        got: BlobId,
    },
}

impl UnverifiedBlobMetadataWithId {
    /// Checks the hash count, the size bound and the blob id.
    pub fn verify(
        self,
        config: &EncodingConfig,
    ) -> Result<VerifiedBlobMetadataWithId, MetadataError> {
        let got = self.metadata.hashes().len();
        if got != config.n() {
            return Err(MetadataError::WrongHashCount {
                got,
                expected: config.n(),
            });
        }
        let len = self.metadata.unencoded_length();
        if len > config.max_blob_size() {
            return Err(MetadataError::TooLarge {
                len,
                max: config.max_blob_size(),
            });
        }
        let computed = self.metadata.compute_blob_id();
        if computed != self.blob_id {
            return Err(MetadataError::BlobIdMismatch {
                claimed: self.blob_id,
                computed,
            });
        }
        Ok(VerifiedBlobMetadataWithId {
            blob_id: self.blob_id,
            metadata: self.metadata,
        })
    }

    /// Like [`verify`](Self::verify), also requiring a particular blob id.
    pub fn verify_for(
        self,
        config: &EncodingConfig,
        expected: &BlobId,
    ) -> Result<VerifiedBlobMetadataWithId, MetadataError> {
        if self.blob_id != *expected {
            return Err(MetadataError::UnexpectedBlobId {
                expected: *expected,
                got: self.blob_id,
            });
        }
        self.verify(config)
    }
}

impl VerifiedBlobMetadataWithId {
    /// Built by the encoder, which computed the id itself.
    pub(crate) fn new_trusted(metadata: BlobMetadata) -> Self {
        Self {
            blob_id: metadata.compute_blob_id(),
            metadata,
        }
    }

    /// The blob id.
    pub fn blob_id(&self) -> &BlobId {
        &self.blob_id
    }

    /// The metadata.
    pub fn metadata(&self) -> &BlobMetadata {
        &self.metadata
    }

    /// Back to the wire form.
    pub fn into_unverified(self) -> UnverifiedBlobMetadataWithId {
        UnverifiedBlobMetadataWithId {
            blob_id: self.blob_id,
            metadata: self.metadata,
        }
    }

    /// The symbol size these metadata imply for `config`.
    pub fn symbol_size(&self, config: &EncodingConfig) -> Result<u16, EncodingError> {
        config.symbol_size_for(self.metadata.unencoded_length())
    }

    /// BCS bytes of `BlobMetadataWithId`.
    pub fn to_bcs(&self) -> Vec<u8> {
        bcs::to_bytes(self).expect("metadata always serialise")
    }
}

impl UnverifiedBlobMetadataWithId {
    /// Parses BCS `BlobMetadataWithId`.
    pub fn from_bcs(bytes: &[u8]) -> Result<Self, bcs::Error> {
        bcs::from_bytes(bytes)
    }
}
