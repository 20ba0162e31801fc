//! floe-client: the client SDK and the publisher/aggregator daemon.
//!
//! - [`config`]: the `client.yaml` file (chain, wallet, node endpoints).

pub mod config;

pub use config::{ClientConfig, ClientLimits, NodeEndpoint};
