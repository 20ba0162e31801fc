//! Durable records. The log holds exactly what is needed to rebuild the
//! in-memory state by replay on top of the latest snapshot, with no
//! re-execution: every transaction's resulting objects, and every sealed
//! checkpoint. The snapshot ([`snapshot`]) holds the live state at the
//! start of the log; the archive ([`archive`]) holds sealed checkpoints,
//! transactions and object versions on disk for serving.

pub mod archive;
pub mod snapshot;
mod write_ahead_log;

pub use archive::{Archive, ArchivedTx};
pub use snapshot::Snapshot;
pub use write_ahead_log::{MAX_FRAME, Syncer, WriteAheadLog};

use serde::{Deserialize, Serialize};
use sui_sdk_types::{
    Address, CheckpointContents, CheckpointSummary, Object, Transaction, TransactionEffects,
    TransactionEvents, UserSignature,
};

/// One entry of the write-ahead log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Record {
    /// An executed transaction (success or abort) and its object writes.
    Transaction(Box<TxRecord>),
    /// A sealed checkpoint; its transactions are earlier `Transaction`
    /// records, named by digest in `contents`.
    Checkpoint(Box<CheckpointRecord>),
    /// Test-only filler, kept last so the encoding of the others is stable.
    Marker(u64),
}

/// Everything a transaction did, in the form replay applies directly.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxRecord {
    pub transaction: Transaction,
    pub signatures: Vec<UserSignature>,
    pub effects: TransactionEffects,
    pub events: Option<TransactionEvents>,
    /// Human-readable reason for a failure (not part of Sui's effects, whose
    /// digest must not depend on wording).
    pub error_description: Option<String>,
    /// State of every changed object before the transaction.
    pub input_objects: Vec<Object>,
    /// State of every written object after the transaction.
    pub output_objects: Vec<Object>,
    /// Objects that no longer exist at top level (deleted or wrapped).
    pub removed: Vec<Address>,
    /// Wall-clock time of execution, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
}

/// A sealed checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointRecord {
    pub summary: CheckpointSummary,
    pub contents: CheckpointContents,
}
