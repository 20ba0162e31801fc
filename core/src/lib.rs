//! floe-core: the pure logic every floe component shares.
//!
//! No I/O lives here. Walrus compatibility is the point: blob ids, slivers,
//! metadata and proofs computed by this crate are byte-identical to those of
//! the official Walrus implementation for the same input.

#![warn(missing_docs)]

pub mod blob_id;
pub mod bls;
pub mod committee;
pub mod cpu_pool;
pub mod encoding;
pub mod epoch;
pub mod inconsistency;
pub mod merkle;
pub mod messages;
pub mod metadata;
pub mod move_types;
pub mod price;
pub mod shard_assignment;

pub use blob_id::{BlobId, BlobIdParseError, pair_to_shard, shard_to_pair};
pub use encoding::{
    Axis, EncodedBlob, EncodingConfig, EncodingError, EncodingType, compute_metadata, encode_blob,
};
pub use metadata::{
    BlobMetadata, BlobMetadataV1, MetadataError, SliverPairMetadata, UnverifiedBlobMetadataWithId,
    VerifiedBlobMetadataWithId,
};
