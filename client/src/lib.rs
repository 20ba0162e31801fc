//! floe-client: the client SDK and the publisher/aggregator daemon.
//!
//! - [`config`]: the `client.yaml` file (chain, wallet, discovery settings;
//!   node endpoints come from the chain).
//! - [`Client`]: store ([`Client::plan_store`] + [`Client::execute_store`]),
//!   read (whole, or byte ranges from the rows that hold them:
//!   [`blob_reader`]), blob status, delete, extend, share/fund, attributes, listing,
//!   system info, wallet, staking ([`staking`]).
//! - [`node_api`]: one storage node's REST API.
//! - [`quorum`], [`status`]: turning many node answers (some possibly
//!   lying) into a certificate or an agreed status.

pub mod blob_reader;
pub mod blob_stream;
pub mod byte_range;
pub mod client;
pub mod config;
pub mod daemon;
mod direct_get;
pub mod error;
mod hedge;
pub mod node_api;
pub mod ops;
pub mod quorum;
pub mod read;
pub mod sliver_body;
mod sliver_feed;
mod spill;
pub mod staking;
pub mod status;
pub mod store;
pub mod subsidies;
pub mod types;
mod upload;

pub use blob_reader::BlobReader;
pub use byte_range::{BlobRange, OutOfRange};
pub use client::{Client, NodeSet};
pub use config::{ClientConfig, ClientLimits, NodeOverride};
pub use error::{ClientError, Result};
pub use read::StatusReport;
pub use status::NodeBlobStatus;
pub use store::{Epochs, PlannedAction, StoreOptions, StorePlan};
pub use types::{BlobObject, Cost, Progress, ProgressFn, ResourceOperation, StoreResult};
