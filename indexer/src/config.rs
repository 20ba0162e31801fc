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
//! # system = "0x..."                  # optional; found in the genesis checkpoint otherwise
//! # treasury = "0x..."
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

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexerConfig {
    #[serde(default)]
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    pub chain: ChainSection,
    #[serde(default)]
    pub pipeline: PipelineConfig,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8090))
}

/// Where the chain and floe are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSection {
    pub endpoints: Vec<String>,
    pub wal_package: String,
    pub floe_package: String,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub treasury: Option<String>,
    #[serde(default)]
    pub staking: Option<String>,
}

/// Batching and backpressure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    pub batch_checkpoints: usize,
    pub batch_rows: usize,
    pub batch_timeout_ms: u64,
    pub buffer: usize,
    pub start_checkpoint: u64,
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
        if self.chain.endpoints.is_empty() {
            return Err("chain.endpoints must name at least one endpoint".into());
        }
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
        let bad = "data_dir = \"/x\"\n[chain]\nendpoints = [\"a\"]\nwal_package = \"0x1\"\nfloe_package = \"0x2\"\n[pipeline]\nbuffer = 0\n";
        assert!(
            IndexerConfig::from_toml(bad)
                .unwrap_err()
                .contains("buffer")
        );
        assert!(IndexerConfig::from_toml("data_dir = 1").is_err());
    }
}
