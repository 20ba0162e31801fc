//! `floe coordinator run --config FILE`: the epoch keeper.
//!
//! The config file is documented in `floe_coordinator::config` (keys:
//! `listen`, `poll_ms`, `[chain]` `endpoints`, `wal_package`,
//! `floe_package`, optional `system`/`treasury`/`staking`, `[wallet]`
//! `keystore`, optional `address`). On start it prints one line with the
//! HTTP address and the signer (JSON with `--json`), so scripts and tests
//! can use `listen = "127.0.0.1:0"`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use floe_coordinator::{Coordinator, CoordinatorConfig};

/// `floe coordinator ...`
#[derive(Debug, Args)]
pub struct CoordinatorArgs {
    #[command(subcommand)]
    command: CoordinatorCommand,
}

#[derive(Debug, Subcommand)]
enum CoordinatorCommand {
    /// Call `voting_end` and `initiate_epoch_change` when they are due
    /// (/health, /status, /metrics).
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// TOML config file.
    #[arg(long, env = "FLOE_COORDINATOR_CONFIG")]
    config: PathBuf,
}

/// Runs a `floe coordinator` subcommand.
pub fn run(args: CoordinatorArgs, json: bool) -> Result<()> {
    match args.command {
        CoordinatorCommand::Run(run) => run_coordinator(run, json),
    }
}

fn run_coordinator(args: RunArgs, json: bool) -> Result<()> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading config {}", args.config.display()))?;
    let config = CoordinatorConfig::from_toml(&text)
        .with_context(|| format!("parsing config {}", args.config.display()))?;
    crate::service::init_logs(json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let coordinator = Coordinator::start(&config).await?;
        let (address, signer) = (coordinator.addr, coordinator.signer());
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "event": "listening",
                    "address": address.to_string(),
                    "signer": signer.to_string(),
                })
            );
        } else {
            println!("floe coordinator serving http://{address}/status (signer {signer})");
        }
        coordinator.run(crate::service::shutdown_signal()).await?;
        tracing::info!("coordinator stopped");
        Ok(())
    })
}
