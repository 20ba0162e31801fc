//! floe-node: the storage node.
//!
//! - [`store`]: the durable store (metadata, slivers per shard, shard status,
//!   blob objects, event cursor, recovery queue) on fjall, every write
//!   fsync'd before it returns.
//! - [`chain_view`]: the committee as the node sees it (`System`'s signing
//!   committee with `Staking`'s shard ids, and the previous holders).
//! - [`follower`]: checkpoints -> floe [`events`] -> store, exactly once;
//!   committee refresh and [`epoch`] changes; garbage collection.
//! - [`shard_sync`]: fills shards gained at an epoch change, then reports
//!   `epoch_sync_done` with the [`operator`]'s key.
//! - [`recovery`]: self-healing from [`peers`]' recovery symbols.
//! - [`context`]: the node context every part above shares (store, chain
//!   view, key, uploads buffered before registration, metrics, the
//!   follower's progress) and the operations on it.
//! - [`api`]: the Walrus-path REST API, a thin HTTP layer over the context
//!   with its validation and bounds.
//! - [`server`]: open, bind, serve.
//!
//! Not written yet: attesting an inconsistent blob on chain (the proof is
//! kept), and Walrus's `/v1/migrate/sync_shard` bulk transfer (shard sync
//! fetches sliver by sliver over the public API).

#![warn(missing_docs)]

pub mod api;
pub mod chain_view;
pub mod config;
pub mod context;
pub mod epoch;
pub mod events;
pub mod follower;
pub mod metrics;
pub mod operator;
pub mod peers;
pub mod pending;
pub mod recovery;
pub mod server;
pub mod shard_sync;
pub mod store;
pub mod store_watchdog;
