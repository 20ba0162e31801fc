//! floe-node: the storage node.
//!
//! - [`store`]: the durable store (metadata, slivers per shard, shard status,
//!   blob objects, event cursor) on fjall, every write fsync'd before it
//!   returns.
//! - [`chain_view`]: the committee as the node sees it; fed from the config
//!   file until the chain follower exists.
//! - [`api`]: the Walrus-path REST API with its validation and bounds.
//! - [`server`]: open, bind, serve.
//!
//! Not written yet (issue 6): the chain follower (events -> store, committee
//! changes), self-healing recovery, shard sync at epoch change, garbage
//! collection, pending-sliver buffering.

#![warn(missing_docs)]

pub mod api;
pub mod chain_view;
pub mod config;
pub mod pending;
pub mod server;
pub mod store;
