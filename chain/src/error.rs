//! The error type of every chain call: each variant says which endpoint and
//! which operation failed, so a log line is enough to act on.

use crate::keystore::KeystoreError;

/// Errors from talking to the chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("no chain endpoints configured")]
    NoEndpoints,
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint { endpoint: String, reason: String },
    /// A call failed with a status that retrying will not fix.
    #[error("{op} on {endpoint} failed: {code:?}: {message}")]
    Rpc {
        endpoint: String,
        op: &'static str,
        code: tonic::Code,
        message: String,
    },
    /// Every attempt failed with a transient error (unavailable, timeout,
    /// connection refused); the last one is reported.
    #[error("{op} failed after {attempts} attempts; last on {endpoint}: {code:?}: {message}")]
    Exhausted {
        op: &'static str,
        attempts: u32,
        endpoint: String,
        code: tonic::Code,
        message: String,
    },
    /// The server answered, but with something we cannot use.
    #[error("{op} on {endpoint}: malformed response: {reason}")]
    Malformed {
        endpoint: String,
        op: &'static str,
        reason: String,
    },
    #[error("object {0} not found")]
    ObjectNotFound(String),
    #[error("transaction {0} not found")]
    TransactionNotFound(String),
    #[error("decoding {type_name} from BCS: {reason}")]
    Bcs {
        type_name: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    #[error("building transaction: {0}")]
    Build(String),
    #[error(
        "not enough gas for {address}: need {needed} MIST in SUI coins, found {available} in {coins} usable coins"
    )]
    InsufficientGas {
        address: String,
        needed: u64,
        available: u64,
        coins: usize,
    },
    /// The transaction was executed (gas was charged) but failed.
    #[error("transaction {digest} failed: {status}")]
    ExecutionFailed {
        digest: String,
        status: Box<crate::types::TxStatus>,
    },
    /// A wait for the chain to reach some state ran out of time.
    #[error("{op} on {endpoint}: {what} not reached within {waited:?}")]
    Timeout {
        op: &'static str,
        endpoint: String,
        what: String,
        waited: std::time::Duration,
    },
    /// A listing is longer than the caller's bound.
    #[error("{what}: more than {limit} entries")]
    TooMany { what: String, limit: usize },
    #[error("checkpoint stream: {0}")]
    Stream(String),
    /// A served checkpoint is not certified by the trusted validator
    /// committee (the pinned one, or the one named at the stream's
    /// start): the stream stops instead of delivering it.
    #[error("{endpoint} served an untrusted checkpoint, refused: {source}")]
    Uncertified {
        endpoint: String,
        source: crate::verify::VerifyError,
    },
}

impl ChainError {
    /// True for failures that another attempt might not hit: the server is
    /// unreachable or slow rather than saying no.
    pub fn is_transient(&self) -> bool {
        matches!(self, ChainError::Exhausted { .. })
            || matches!(self, ChainError::Rpc { code, .. } if is_transient_code(*code))
    }

    /// True when the ledger refused a transaction, before executing it,
    /// because an owned object it names (a gas coin, a capability) has moved
    /// on to a newer version: another transaction of the same owner, often
    /// another process with the same key, spent it first. Nothing was
    /// charged, and the same intent with current versions may succeed.
    pub fn is_stale_object(&self) -> bool {
        match self {
            ChainError::Rpc {
                code: tonic::Code::FailedPrecondition,
                message,
                ..
            } => {
                // floe's ledger: "object X is at version N, the transaction
                // names version M" / "object X digest mismatch"; Sui's full
                // node: "... is not available for consumption ...".
                message.contains("is at version")
                    || message.contains("digest mismatch")
                    || message.contains("not available for consumption")
            }
            _ => false,
        }
    }
}

/// gRPC codes worth retrying, possibly on another endpoint. tonic reports a
/// refused or reset connection as `Unavailable`; sui-rpc's client reports its
/// local timeouts as `DeadlineExceeded` (and tonic sometimes as
/// `Cancelled`).
pub fn is_transient_code(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
    )
}
