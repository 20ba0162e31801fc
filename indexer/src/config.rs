//! The indexer's configuration file (TOML).
//!
//! ```toml
//! # Optional: without it (and without DATABASE_URL) the indexer runs its own
//! # Postgres cluster in data_dir/postgres.
//! database_url = "postgres://user@localhost/floe"
//! data_dir = "/var/lib/floe/indexer"
//! listen = "127.0.0.1:8090"          # explorer API and /metrics
//!
//! [chain]
//! endpoints = ["http://127.0.0.1:9000"]
//! wal_package = "0x3a1"
//! floe_package = "0xf10e"
//! # system = "0x..."                  # optional, each on its own; found in the
//! # treasury = "0x..."                # genesis checkpoint otherwise
//! # staking = "0x..."
//! validator_keys = ["kZ..."]          # genesis validator key(s): checkpoints
//! #                                   # are verified against them
//! # [chain] is floe_chain::ChainConfig, shared with node, coordinator and client.
//!
//! [api]                               # the explorer API's own bounds
//! max_connections = 8                 # its database pool, apart from the committer's
//! request_timeout_ms = 10000          # longer requests answer 408
//! max_concurrent_requests = 64        # more at once answer 503 (load shedding)
//!
//! [pipeline]
//! batch_checkpoints = 200             # most checkpoints in one database transaction
//! batch_rows = 50000                  # most rows in one database transaction
//! batch_timeout_ms = 200              # longest wait to fill a batch
//! buffer = 64                         # checkpoints fetched ahead (backpressure beyond)
//! start_checkpoint = 0                # where a new index starts
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use floe_chain::ChainConfig;
use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    pub chain: ChainConfig,
    #[serde(default, skip_serializing_if = "PipelineConfig::is_default")]
    pub pipeline: PipelineConfig,
    #[serde(default, skip_serializing_if = "ApiLimits::is_default")]
    pub api: ApiLimits,
}

/// Bounds of the explorer API, so readers can neither starve the
/// committer of connections nor pile up without limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiLimits {
    /// Connections of the API's own pool (the committer has its own).
    pub max_connections: u32,
    /// Budget of one request; past it the answer is 408 and its database
    /// work is dropped (the transaction rolls back).
    pub request_timeout_ms: u64,
    /// Requests served at once; more are answered 503 at once.
    pub max_concurrent_requests: usize,
}

impl ApiLimits {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            max_connections: 8,
            request_timeout_ms: 10_000,
            max_concurrent_requests: 64,
        }
    }
}

/// Upper bounds of the `[api]` values.
pub const MAX_API_CONNECTIONS: u32 = 1_000;
pub const MAX_API_CONCURRENCY: usize = 100_000;

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8090))
}

/// Batching and backpressure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    pub batch_checkpoints: usize,
    pub batch_rows: usize,
    pub batch_timeout_ms: u64,
    pub buffer: usize,
    pub start_checkpoint: u64,
}

impl PipelineConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            batch_checkpoints: 200,
            batch_rows: 50_000,
            batch_timeout_ms: 200,
            buffer: 64,
            start_checkpoint: 0,
        }
    }
}

/// Upper bounds on values read from the file, so a typo cannot ask for
/// unbounded memory.
pub const MAX_BATCH_CHECKPOINTS: usize = 10_000;
pub const MAX_BATCH_ROWS: usize = 1_000_000;
pub const MAX_BUFFER: usize = 10_000;

impl IndexerConfig {
    /// Parses and checks a TOML document.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let p = &self.pipeline;
        if !(1..=MAX_BATCH_CHECKPOINTS).contains(&p.batch_checkpoints) {
            return Err(format!(
                "pipeline.batch_checkpoints must be 1..={MAX_BATCH_CHECKPOINTS}"
            ));
        }
        if !(1..=MAX_BATCH_ROWS).contains(&p.batch_rows) {
            return Err(format!("pipeline.batch_rows must be 1..={MAX_BATCH_ROWS}"));
        }
        if !(1..=MAX_BUFFER).contains(&p.buffer) {
            return Err(format!("pipeline.buffer must be 1..={MAX_BUFFER}"));
        }
        if p.batch_timeout_ms > 60_000 {
            return Err("pipeline.batch_timeout_ms must be at most 60000".into());
        }
        let a = &self.api;
        if !(1..=MAX_API_CONNECTIONS).contains(&a.max_connections) {
            return Err(format!(
                "api.max_connections must be 1..={MAX_API_CONNECTIONS}"
            ));
        }
        if !(1..=MAX_API_CONCURRENCY).contains(&a.max_concurrent_requests) {
            return Err(format!(
                "api.max_concurrent_requests must be 1..={MAX_API_CONCURRENCY}"
            ));
        }
        if !(1..=3_600_000).contains(&a.request_timeout_ms) {
            return Err("api.request_timeout_ms must be 1..=3600000".into());
        }
        self.chain.validate().map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_and_bounded() {
        let c = IndexerConfig::from_toml(
            "data_dir = \"/tmp/x\"\n[chain]\nendpoints = [\"http://a\"]\nwal_package = \"0x1\"\nfloe_package = \"0x2\"\n",
        )
        .unwrap();
        assert_eq!(c.pipeline.batch_checkpoints, 200);
        assert!(c.database_url.is_none());
        let bad = "data_dir = \"/x\"\n[chain]\nendpoints = [\"http://a:1\"]\nwal_package = \"0x1\"\nfloe_package = \"0x2\"\n[pipeline]\nbuffer = 0\n";
        assert!(
            IndexerConfig::from_toml(bad)
                .unwrap_err()
                .contains("buffer")
        );
        assert!(IndexerConfig::from_toml("data_dir = 1").is_err());
        let typo = bad
            .replace("[pipeline]\nbuffer = 0\n", "")
            .replace("[chain]\n", "[chain]\nsystm = \"0x1\"\n");
        assert!(
            IndexerConfig::from_toml(&typo)
                .unwrap_err()
                .contains("unknown field `systm`")
        );
        let not_url = bad
            .replace("http://a:1", "a")
            .replace("[pipeline]\nbuffer = 0\n", "");
        assert!(
            IndexerConfig::from_toml(&not_url)
                .unwrap_err()
                .contains("[chain] endpoints")
        );
        assert_eq!(c.api, ApiLimits::default());
        let api = "data_dir = \"/x\"\n[chain]\nendpoints = [\"http://a:1\"]\nwal_package = \"0x1\"\nfloe_package = \"0x2\"\n[api]\nmax_connections = 3\n";
        assert_eq!(
            IndexerConfig::from_toml(api).unwrap().api.max_connections,
            3
        );
        let zero = api.replace("max_connections = 3", "max_concurrent_requests = 0");
        assert!(
            IndexerConfig::from_toml(&zero)
                .unwrap_err()
                .contains("max_concurrent_requests")
        );
    }
}
