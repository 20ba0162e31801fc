//! `floe subsidies`: the subsidies pool.
//!
//! - `fund AMOUNT` adds WAL of the client wallet to the pool (anyone may);
//!   the coordinator pays it out with `process_subsidies` after each epoch
//!   change once a subsidy rate is set by governance.
//! - `info` shows the pool balance and the governed rates.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use super::client::ConfigArg;
use super::client::wal;

#[derive(Debug, Args)]
pub struct SubsidiesArgs {
    #[command(subcommand)]
    command: SubsidiesCommand,
}

#[derive(Debug, Subcommand)]
enum SubsidiesCommand {
    /// Add WAL from the wallet to the subsidies pool.
    Fund {
        #[command(flatten)]
        config: ConfigArg,
        /// The amount: WAL (`2.5`) or FROST with a unit (`1000 FROST`), as
        /// `floe stake` reads it.
        amount: String,
    },
    /// The pool balance and the subsidy rates.
    Info {
        #[command(flatten)]
        config: ConfigArg,
    },
}

pub fn run(args: SubsidiesArgs, json: bool) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        match args.command {
            SubsidiesCommand::Fund { config, amount } => {
                let amount = floe_core::price::parse_wal(&amount)?;
                let client = config.connect().await?;
                let tx = client.fund_subsidies(amount).await?;
                let gov = client.floe().governance_ids().await?;
                let info = client.floe().subsidies_info(&gov).await?;
                if json {
                    println!(
                        "{}",
                        json!({"funded": amount, "digest": tx.digest.to_string(), "pool_balance": info.pool_balance})
                    );
                } else {
                    println!(
                        "added {} to the subsidies pool, which holds {} (transaction {})",
                        wal(amount),
                        wal(info.pool_balance),
                        tx.digest
                    );
                }
                Ok(())
            }
            SubsidiesCommand::Info { config } => {
                let client = config.connect().await?;
                let gov = client.floe().governance_ids().await?;
                let info = client.floe().subsidies_info(&gov).await?;
                if json {
                    println!("{}", serde_json::to_string(&info)?);
                } else {
                    println!("subsidies pool {}: {}", info.id, wal(info.pool_balance));
                    println!(
                        "  per epoch: {} per committee node + {} per shard; {} bps ({:.2}%) \
                         of new storage rewards",
                        wal(info.base_subsidy),
                        wal(info.subsidy_per_shard),
                        info.system_subsidy_rate,
                        f64::from(info.system_subsidy_rate) / 100.0
                    );
                    match info.last_paid_epoch {
                        Some(e) => println!("  last paid the committee of epoch {e}"),
                        None => println!("  has not paid a committee yet"),
                    }
                }
                Ok(())
            }
        }
    })
}
