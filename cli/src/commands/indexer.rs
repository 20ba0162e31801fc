//! `floe indexer run --config FILE`: the Postgres indexer and explorer API.
//!
//! The config file is documented in `floe_indexer::config` (keys:
//! `database_url` (optional), `data_dir`, `listen`, `[chain]` `endpoints`,
//! `wal_package`, `floe_package`, optional `system`/`treasury`,
//! `[pipeline]` batch sizes). `--database-url` / `DATABASE_URL` override
//! the file; without any, a Postgres cluster is managed in
//! `data_dir/postgres` (needs PostgreSQL installed).
//!
//! On start it prints one line with the API address and chain id (JSON
//! with `--json`), so scripts and tests can use `listen = "127.0.0.1:0"`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use floe_indexer::{Indexer, IndexerConfig};

/// `floe indexer ...`
#[derive(Debug, Args)]
pub struct IndexerArgs {
    #[command(subcommand)]
    command: IndexerCommand,
}

#[derive(Debug, Subcommand)]
enum IndexerCommand {
    /// Follow the chain into Postgres and serve the explorer API
    /// (/v1/..., /openapi.json, /metrics).
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// TOML config file.
    #[arg(long, env = "FLOE_INDEXER_CONFIG")]
    config: PathBuf,
    /// Postgres URL; overrides `database_url` in the file.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

/// Runs a `floe indexer` subcommand.
pub fn run(args: IndexerArgs, json: bool) -> Result<()> {
    match args.command {
        IndexerCommand::Run(run) => run_indexer(run, json),
    }
}

fn run_indexer(args: RunArgs, json: bool) -> Result<()> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading config {}", args.config.display()))?;
    let mut config = IndexerConfig::from_toml(&text)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("parsing config {}", args.config.display()))?;
    if args.database_url.is_some() {
        config.database_url = args.database_url;
    }
    crate::service::init_logs(json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let indexer = Indexer::start(&config).await?;
        let address = indexer.api_addr;
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "event": "listening",
                    "address": address.to_string(),
                    "chain_id": indexer.chain_id,
                })
            );
        } else {
            println!(
                "floe indexer serving http://{address}/v1 (chain {})",
                indexer.chain_id
            );
        }
        indexer.run(crate::service::shutdown_signal()).await?;
        tracing::info!("indexer stopped");
        Ok(())
    })
}
