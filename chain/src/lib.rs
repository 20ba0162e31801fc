//! floe-chain: the client side of the chain, over Sui's gRPC v2 API, so the
//! same code talks to floe's embedded ledger and to a real Sui full node.
//!
//! - [`keystore`]: ed25519 keys in the Sui CLI keystore format.
//! - [`config`]: the `[chain]` section every service reads, and
//!   [`config::connect`], the one way they connect and find floe's objects.
//! - [`connection`]: endpoints, timeouts, retry with backoff and failover.
//! - [`reads`]: objects, owned listings, balances, dynamic fields,
//!   transactions, checkpoints.
//! - [`types`]: typed results (transaction status, checkpoints, objects) and
//!   BCS decoding into caller-provided serde types.
//! - [`tx`]: build, sign, execute and simulate programmable transactions.
//! - [`stream`]: a resumable, gap-free checkpoint stream.
//! - [`events`]: the one typed decoding of floe's Move events, which the
//!   node, the indexer and the coordinator share.

pub mod config;
pub mod connection;
pub mod error;
pub mod events;
pub mod floe;
pub mod keystore;
pub mod reads;
pub mod stream;
pub mod tx;
pub mod types;
pub mod verify;

pub use config::{ChainConfig, ChainConfigError, ConnectError, connect};
pub use connection::{ChainClient, ClientConfig, RetryPolicy};
pub use error::ChainError;
pub use events::{
    EventDecodeError, EventDecodeFailure, EventPosition, FloeEvent, FloeEventAt, FloePackages,
    checkpoint_events, decode_event,
};
pub use keystore::{KeyPair, Keystore, KeystoreError};
pub use stream::{CheckpointStream, StreamConfig, Trust};
pub use tx::{GasConfig, Simulation};
pub use types::{
    Balance, Checkpoint, DynamicFieldInfo, ExecutedTx, ObjectInfo, Page, PageToken, ServiceInfo,
    TxStatus, WrittenObject, decode_bcs,
};

/// Re-exported so callers build transactions with the same types we use.
pub use sui_sdk_types;
pub use sui_transaction_builder;
