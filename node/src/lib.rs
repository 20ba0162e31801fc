//! floe-node: the storage node.
//!
//! - [`store`]: the durable store (metadata, slivers per shard, shard status,
//!   blob objects, event cursor, recovery queue) on fjall, every write
//!   fsync'd before it returns.
//! - [`chain_view`]: the committee as the node sees it (read from `System`).
//! - [`follower`]: checkpoints -> floe [`events`] -> store, exactly once;
//!   committee refresh; garbage collection.
//! - [`recovery`]: self-healing from [`peers`]' recovery symbols.
//! - [`api`]: the Walrus-path REST API with its validation and bounds.
//! - [`server`]: open, bind, serve.
//!
//! Not written yet: shard sync at epoch change (gained shards are marked
//! `Active` but not filled; it comes with the coordinator and staking
//! work), and attesting an inconsistent blob on chain (the proof is kept).

#![warn(missing_docs)]

pub mod api;
pub mod chain_view;
pub mod config;
pub mod events;
pub mod follower;
pub mod metrics;
pub mod peers;
pub mod pending;
pub mod recovery;
pub mod server;
pub mod store;
