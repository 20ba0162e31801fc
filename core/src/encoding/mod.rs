//! RS2 RedStuff: the two-dimensional Reed-Solomon encoding of blobs.
//!
//! One small module per concept: parameters ([`config`]), the batched
//! Reed-Solomon coder, slivers, the blob encoder, decoding, recovery symbols
//! and the pair-to-shard mapping.

pub mod blob_encoder;
pub mod config;
pub mod decoder;
pub mod pair_encoder;
pub(crate) mod reed_solomon;
pub mod slivers;
pub mod symbols;

pub use blob_encoder::{EncodedBlob, RepairRowSink, SliverPair, compute_metadata, encode_blob};
pub use config::{Axis, EncodingConfig, EncodingType, MAX_SYMBOL_SIZE, MIN_SHARDS};
pub use decoder::{ConsistencyCheck, DecodeError, decode_primary, decode_secondary};
pub use pair_encoder::{PairEncoder, PairWork};
pub use slivers::{
    EncodingAxis, Primary, PrimarySliver, PrimarySliverView, Secondary, SecondarySliver, Sliver,
    SliverData, SliverVerificationError, SliverView, Symbols, canonical_uleb128,
};

/// Errors of encoding arithmetic and of the Reed-Solomon coder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    /// n below the minimum.
    #[error("RS2 needs at least {min} shards, got {n_shards}")]
    TooFewShards {
        /// Given n.
        n_shards: u16,
        /// Minimum n.
        min: u16,
    },
    /// Blob above the maximum size for n.
    #[error("blob of {len} bytes is too large for {n_shards} shards: the maximum is {max} bytes")]
    BlobTooLarge {
        /// Blob length.
        len: u64,
        /// Maximum length.
        max: u64,
        /// n.
        n_shards: u16,
    },
    /// Encoding byte other than RS2.
    #[error("unsupported encoding type {0}; only RS2 (1) is supported")]
    UnsupportedEncodingType(u8),
    /// Axis name not primary/secondary.
    #[error("unknown sliver type {0:?}; expected \"primary\" or \"secondary\"")]
    UnknownAxis(String),
    /// Index not below n.
    #[error("index {index} is out of range for {n_shards} shards")]
    IndexOutOfRange {
        /// Index.
        index: u16,
        /// n.
        n_shards: u16,
    },
    /// Data not a whole number of symbols.
    #[error("{len} bytes are not a whole number of {symbol_size}-byte symbols")]
    BadSymbolLayout {
        /// Byte length.
        len: usize,
        /// Symbol size.
        symbol_size: u16,
    },
    /// The Reed-Solomon crate cannot build this code.
    #[error("no Reed-Solomon code with {k} source symbols out of {n}")]
    UnsupportedCode {
        /// k.
        k: usize,
        /// n.
        n: usize,
    },
    /// Too few symbols to decode.
    #[error("decoding needs {needed} distinct symbols, got {got}")]
    NotEnoughSymbols {
        /// k.
        needed: usize,
        /// Supplied.
        got: usize,
    },
    /// Duplicate or out-of-range symbol positions.
    #[error("symbol positions must be distinct and below n")]
    InvalidSymbolSet,
    /// The coder failed.
    #[error("Reed-Solomon coder: {0}")]
    ReedSolomon(String),
}
