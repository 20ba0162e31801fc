//! floe-node: the storage node.
//!
//! - [`store`]: the durable store (metadata, slivers per shard, shard status,
//!   blob objects, event cursor) on fjall, every write fsync'd before it
//!   returns.

#![warn(missing_docs)]

pub mod store;
