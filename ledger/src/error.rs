//! Typed errors of the ledger's library surface.

use std::path::{Path, PathBuf};

/// Failures of the durable store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ledger log {path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("cannot encode a ledger record: {0}")]
    Encode(#[source] bcs::Error),
    #[error("a ledger record of {0} bytes exceeds the frame limit")]
    TooLarge(usize),
    #[error("replaying the ledger log failed: {0}")]
    Replay(String),
    #[error("ledger archive: {0}")]
    Archive(String),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Why a transaction was refused before execution. Nothing is charged and
/// nothing is recorded; the client gets the reason back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("invalid transaction: {0}")]
    Invalid(String),
    #[error("invalid signature: {0}")]
    Signature(String),
    #[error("object {id} not found")]
    ObjectNotFound { id: String },
    #[error("object {id} is at version {current}, the transaction names version {given}")]
    StaleVersion {
        id: String,
        given: u64,
        current: u64,
    },
    #[error("object {id} digest mismatch: the transaction names {given}, current is {current}")]
    DigestMismatch {
        id: String,
        given: String,
        current: String,
    },
    #[error("object {id} is owned by {owner}, not by the sender {sender}")]
    WrongOwner {
        id: String,
        owner: String,
        sender: String,
    },
    #[error("insufficient gas: {0}")]
    Gas(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("ledger storage failure: {0}")]
    Storage(String),
    /// The faucet's reserve of this coin type cannot pay a request (it
    /// hands out coins funded at genesis, it does not mint them).
    #[error("faucet reserve exhausted: {available} left of {coin_type}, a request is {requested}")]
    FaucetExhausted {
        coin_type: String,
        available: u64,
        requested: u64,
    },
}

/// Top-level ledger errors (opening, genesis, configuration).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("genesis: {0}")]
    Genesis(String),
}
