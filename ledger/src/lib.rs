//! floe-ledger: the embedded single-validator development chain.
//!
//! It knows nothing about floe: Move packages plug in as native Rust
//! implementations through [`floe_runtime::NativePackage`], and every client talks
//! to it through Sui's gRPC v2 API ([`rpc`]), with real Sui transactions,
//! signatures, effects, events and checkpoints.
//!
//! Layout: [`store`] (write-ahead log, snapshot, archive), [`state`] (in-memory indexes),
//! [`exec`] (checks, interpreter, gas, effects; it runs packages written
//! against `floe-runtime`), [`ledger`] (durable execution and checkpoints),
//! [`genesis`], [`rpc`] (gRPC services), [`server`] (one port for gRPC,
//! gRPC-Web, faucet and metrics).

pub mod compaction;
pub mod error;
pub mod exec;
pub mod genesis;
pub mod ledger;
pub mod metrics;
pub mod rpc;
pub mod server;
pub mod state;
pub mod store;
pub mod validator;

pub use compaction::CompactionStep;
pub use error::{LedgerError, StoreError, TxError};
pub use genesis::Genesis;
pub use ledger::{Ledger, LedgerConfig, LedgerOptions};
