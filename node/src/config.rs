//! The node's TOML config file (`floe node run --config FILE`).
//!
//! ```toml
//! data_dir = "/var/lib/floe/node"
//! listen = "127.0.0.1:9185"
//! bls_key_file = "node.bls"        # Walrus key-file format (base64)
//!
//! # Until the chain follower lands, the committee comes from here.
//! [committee]
//! epoch = 1
//! n_shards = 10
//! owned_shards = [0, 1, 2]
//!
//! [limits]                          # all optional
//! max_body_bytes = 67108864
//! request_timeout_ms = 30000
//! pending_metadata_entries = 1024
//! pending_metadata_bytes = 67108864
//! pending_sliver_bytes = 268435456
//! max_concurrent_symbol_requests = 64
//! max_symbol_targets = 1000
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// Default REST port, as Walrus's.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9185";

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Directory of the durable store.
    pub data_dir: PathBuf,
    /// Address of the REST API (`127.0.0.1:0` picks a free port).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The BLS protocol key in Walrus's key-file format; relative paths are
    /// resolved against the config file's directory by the binary.
    pub bls_key_file: PathBuf,
    /// The committee, until the chain follower provides it.
    pub committee: CommitteeConfig,
    /// Bounds on what clients can make the node do.
    #[serde(default)]
    pub limits: Limits,
}

fn default_listen() -> SocketAddr {
    // A constant that parses; `expect` cannot fire on it.
    DEFAULT_LISTEN
        .parse()
        .expect("default listen address parses")
}

/// `[committee]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeConfig {
    /// Current epoch.
    pub epoch: u32,
    /// Committee size in shards.
    pub n_shards: u16,
    /// Shards this node owns.
    pub owned_shards: Vec<u16>,
}

/// `[limits]`: every size, count and wait an outsider can influence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body; larger ones get 413. The default fits a
    /// sliver of the largest blob at n = 1000 with room to spare (32 MiB
    /// slivers come from ~13 GiB blobs).
    pub max_body_bytes: usize,
    /// Time budget of one request, after which it is answered 408.
    pub request_timeout_ms: u64,
    /// Metadata buffered with `?pending=true` before registration: entries.
    pub pending_metadata_entries: usize,
    /// ... and total bytes.
    pub pending_metadata_bytes: usize,
    /// Sliver bytes buffered with `?pending=true` before registration.
    pub pending_sliver_bytes: usize,
    /// Concurrent recovery/decoding-symbol requests (each expands slivers);
    /// more get 429.
    pub max_concurrent_symbol_requests: usize,
    /// Targets in one decoding-symbol request.
    pub max_symbol_targets: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 20,
            request_timeout_ms: 30_000,
            pending_metadata_entries: 1024,
            pending_metadata_bytes: 64 << 20,
            pending_sliver_bytes: 256 << 20,
            max_concurrent_symbol_requests: 64,
            max_symbol_targets: 1000,
        }
    }
}
