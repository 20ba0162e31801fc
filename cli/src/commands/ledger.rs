//! `floe ledger run`: the embedded development chain as a process.
//!
//! Settings come from an optional TOML config file, overridden by flags:
//!
//! ```toml
//! data_dir = "/var/lib/floe/ledger"
//! genesis = "genesis.toml"
//! listen = "127.0.0.1:9000"
//! checkpoint_interval_ms = 1000
//! ```
//!
//! The genesis file may carry a `[floe]` table (genesis storage nodes,
//! capacity, prices) for the floe packages `0x3a1` (WAL) and `0xf10e`; see
//! `contracts/devnet-genesis.example.toml`.
//!
//! On start it prints one line with the bound address and chain id (JSON
//! with `--json`), so scripts and tests can use `--listen 127.0.0.1:0`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use floe_ledger::genesis::FaucetReserve;
use floe_ledger::{Genesis, Ledger, LedgerConfig};
use serde::Deserialize;

/// The ledger genesis entry that moves the contracts' WAL faucet share
/// ([`floe_contracts::genesis::wal_faucet_reserve_amount`]) from `holder`,
/// the WAL package's init sender, to the ledger's faucet account.
pub fn wal_faucet_reserve(holder: floe_chain::sui_sdk_types::Address) -> FaucetReserve {
    FaucetReserve {
        coin_type: floe_contracts::genesis::wal_coin_type(),
        from: holder,
        amount: floe_contracts::genesis::wal_faucet_reserve_amount(),
    }
}

/// `floe ledger ...`
#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Run the ledger: Sui gRPC v2 + gRPC-Web, faucet (POST /v2/gas) and
    /// /metrics on one port.
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// TOML config file (data_dir, genesis, listen, checkpoint_interval_ms).
    #[arg(long, env = "FLOE_LEDGER_CONFIG")]
    config: Option<PathBuf>,
    /// Directory holding the ledger log; created if missing.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Genesis file (TOML, or JSON by extension); used only when the data
    /// directory is new.
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// Address to serve on.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Milliseconds between checkpoints when idle (a transaction is
    /// checkpointed within ~20 ms of its execution).
    #[arg(long)]
    checkpoint_interval_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    genesis: Option<PathBuf>,
    listen: Option<SocketAddr>,
    checkpoint_interval_ms: Option<u64>,
}

const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
const DEFAULT_INTERVAL_MS: u64 = 1000;

/// Runs a `floe ledger` subcommand.
pub fn run(args: LedgerArgs, json: bool) -> Result<()> {
    match args.command {
        LedgerCommand::Run(run) => run_ledger(run, json),
    }
}

fn run_ledger(args: RunArgs, json: bool) -> Result<()> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config {}", path.display()))?;
            toml::from_str::<FileConfig>(&text)
                .with_context(|| format!("parsing config {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let Some(data_dir) = args.data_dir.or(file.data_dir) else {
        bail!("--data-dir (or data_dir in the config file) is required");
    };
    let listen = match args.listen.or(file.listen) {
        Some(a) => a,
        None => DEFAULT_LISTEN.parse()?,
    };
    let interval_ms = args
        .checkpoint_interval_ms
        .or(file.checkpoint_interval_ms)
        .unwrap_or(DEFAULT_INTERVAL_MS);
    if !(10..=3_600_000).contains(&interval_ms) {
        bail!("checkpoint interval must be between 10 ms and one hour");
    }
    // The `[floe]` table (genesis committee, capacity, prices) belongs to
    // the floe packages; the ledger gets the rest of the file.
    let (genesis, floe_genesis) = match args.genesis.or(file.genesis) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading genesis {}", path.display()))?;
            let json = path.extension().is_some_and(|e| e == "json");
            let (rest, floe) = floe_contracts::genesis::split_genesis(&text, json)
                .with_context(|| format!("genesis {}", path.display()))?;
            (Genesis::parse(&rest, json)?, floe.unwrap_or_default())
        }
        None => (Genesis::default(), Default::default()),
    };
    crate::service::init_logs(json);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let ledger = Ledger::open(LedgerConfig {
            data_dir: data_dir.clone(),
            genesis,
            natives: floe_contracts::natives(floe_genesis),
        })
        .with_context(|| format!("opening the ledger in {}", data_dir.display()))?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let local = listener.local_addr()?;
        let chain_id = ledger.chain_id();
        let height = ledger
            .state()
            .latest_checkpoint()
            .map(|c| c.summary.sequence_number)
            .unwrap_or(0);
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "event": "listening",
                    "address": local.to_string(),
                    "chain_id": chain_id,
                    "checkpoint": height,
                    "faucet": format!("http://{local}/v2/gas"),
                })
            );
        } else {
            println!(
                "floe ledger listening on {local} (chain {chain_id}, checkpoint {height}); \
                 faucet: POST http://{local}/v2/gas"
            );
        }
        tracing::info!(address = %local, %chain_id, checkpoint = height, "ledger started");
        floe_ledger::server::serve(
            ledger,
            listener,
            Duration::from_millis(interval_ms),
            crate::service::shutdown_signal(),
        )
        .await?;
        tracing::info!("ledger stopped");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contracts' example genesis, without its `[floe]` table, is a
    /// valid ledger genesis whose faucet reserve is the WAL share.
    #[test]
    fn contracts_example_genesis_is_a_ledger_genesis() {
        let example = include_str!("../../../contracts/devnet-genesis.example.toml");
        let (rest, floe) = floe_contracts::genesis::split_genesis(example, false).unwrap();
        assert!(floe.is_some());
        let ledger = Genesis::parse(&rest, false).unwrap();
        let holder = ledger.accounts[0].address;
        let mut expected = wal_faucet_reserve(holder);
        // The file writes the package address short.
        expected.coin_type = "0x3a1::wal::WAL".into();
        assert_eq!(ledger.faucet_reserves, vec![expected]);
    }
}
