//! The SDK's error type: each variant says which step failed and why, so a
//! CLI or the daemon can map it to a message or an HTTP status.

use floe_chain::ChainError;
use floe_chain::floe::FloeError;
use floe_core::BlobId;

use crate::config::ConfigError;

impl From<floe_chain::ConnectError> for ClientError {
    fn from(e: floe_chain::ConnectError) -> Self {
        match e {
            // Kept as `Floe` so `is_transient` and status mapping see it.
            floe_chain::ConnectError::Floe(e) => Self::Floe(e),
            other => Self::Connect(other),
        }
    }
}

/// Errors of the client SDK.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Floe(#[from] FloeError),
    /// `chain:` is unusable, or the chain is not certified by its pinned
    /// `validator_keys` (chain failures are [`ClientError::Floe`]).
    #[error(transparent)]
    Connect(floe_chain::ConnectError),
    #[error("wallet: {0}")]
    Wallet(String),
    #[error("encoding: {0}")]
    Encoding(#[from] floe_core::EncodingError),
    #[error("price: {0}")]
    Price(#[from] floe_core::price::PriceError),
    /// The blob is larger than the committee can encode.
    #[error("the blob is {len} bytes, above the maximum of {max} bytes for {n_shards} shards")]
    TooLarge { len: u64, max: u64, n_shards: u16 },
    /// Nothing on the network knows this blob (a quorum answered "not
    /// found", or no node had verifiable metadata).
    #[error("blob {0} was not found")]
    BlobNotFound(BlobId),
    /// Too few nodes answered usefully to finish; retrying later may work.
    #[error("not enough storage nodes answered: {0}")]
    NotEnoughNodes(String),
    /// The chain rejected a transaction (abort, insufficient funds, ...).
    #[error("transaction {digest} failed: {reason}")]
    TxFailed { digest: String, reason: String },
    /// The wallet has not enough WAL for an operation.
    #[error("not enough WAL: need {needed} FROST, the wallet has {available} FROST")]
    InsufficientWal { needed: u64, available: u64 },
    /// The caller asked for something the chain state does not allow.
    #[error("{0}")]
    Invalid(String),
    /// A faucet or other HTTP helper failed.
    #[error("HTTP: {0}")]
    Http(String),
    /// A byte range reaches past the blob's end (or is reversed).
    #[error(transparent)]
    RangeNotSatisfiable(#[from] crate::byte_range::OutOfRange),
    /// Decoded bytes did not match the blob id (should not happen with
    /// verified slivers; reported instead of returning wrong data).
    #[error("blob {0} is inconsistent: {1}")]
    Inconsistent(BlobId, String),
}

impl ClientError {
    /// True when another attempt later may succeed (nodes unreachable or
    /// too few answering), as opposed to a definite answer.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::NotEnoughNodes(_) => true,
            ClientError::Chain(e) => e.is_transient(),
            ClientError::Floe(FloeError::Chain(e)) => e.is_transient(),
            _ => false,
        }
    }
}

/// Result alias of the SDK.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
