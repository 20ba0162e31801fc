//! `floe ledger run`: the embedded development chain as a process.
//!
//! Settings come from an optional TOML config file, overridden by flags:
//!
//! ```toml
//! data_dir = "/var/lib/floe/ledger"
//! genesis = "genesis.toml"
//! listen = "127.0.0.1:9000"
//! checkpoint_interval_ms = 60000   # idle heartbeat (a transaction seals at once)
//! clock_resolution_ms = 1000       # a read of the Clock sees it at most this old
//! compact_log_bytes = 67108864     # snapshot + new log past this log size...
//! compact_log_records = 20000      # ...or this many records
//! recent_checkpoints = 64          # checkpoints kept in memory (the rest on disk)
//! # retain_checkpoints = 100000    # prune older checkpoints (default: keep all)
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
use floe_ledger::{Genesis, Ledger, LedgerConfig, LedgerOptions};
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
    /// TOML config file (data_dir, genesis, listen, checkpoint_interval_ms
    /// and the storage settings in the module docs).
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
    /// Milliseconds between checkpoints when idle, a heartbeat (a
    /// transaction is checkpointed within ~20 ms of its execution, and a
    /// read of the Clock advances a stale one first).
    #[arg(long, alias = "heartbeat-ms")]
    checkpoint_interval_ms: Option<u64>,
    /// A transaction or a read of the Clock finds it at most this old.
    #[arg(long)]
    clock_resolution_ms: Option<u64>,
    /// Compact the log into a snapshot once it holds this many records.
    #[arg(long)]
    compact_log_records: Option<u64>,
    /// Keep only this many latest checkpoints on disk (default: all).
    #[arg(long)]
    retain_checkpoints: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    genesis: Option<PathBuf>,
    listen: Option<SocketAddr>,
    checkpoint_interval_ms: Option<u64>,
    clock_resolution_ms: Option<u64>,
    compact_log_bytes: Option<u64>,
    compact_log_records: Option<u64>,
    recent_checkpoints: Option<usize>,
    retain_checkpoints: Option<u64>,
}

const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
/// The idle heartbeat: long, since whoever needs the time refreshes the
/// Clock and every transaction is sealed at once.
const DEFAULT_INTERVAL_MS: u64 = 60_000;

/// Storage and clock options from flags over the file over the defaults,
/// each bounded.
fn storage_options(args: &RunArgs, file: &FileConfig) -> Result<LedgerOptions> {
    let mut o = LedgerOptions::default();
    if let Some(ms) = args.clock_resolution_ms.or(file.clock_resolution_ms) {
        if !(10..=3_600_000).contains(&ms) {
            bail!("clock_resolution_ms must be between 10 ms and one hour");
        }
        o.clock_resolution = Duration::from_millis(ms);
    }
    if let Some(bytes) = file.compact_log_bytes {
        if bytes < 4096 {
            bail!("compact_log_bytes must be at least 4096");
        }
        o.compact_log_bytes = bytes;
    }
    if let Some(n) = args.compact_log_records.or(file.compact_log_records) {
        if n == 0 {
            bail!("compact_log_records must be at least 1");
        }
        o.compact_log_records = n;
    }
    if let Some(n) = file.recent_checkpoints {
        if !(1..=100_000).contains(&n) {
            bail!("recent_checkpoints must be between 1 and 100000");
        }
        o.recent_checkpoints = n;
    }
    if let Some(n) = args.retain_checkpoints.or(file.retain_checkpoints) {
        if n == 0 {
            bail!("retain_checkpoints must be at least 1");
        }
        o.retain_checkpoints = Some(n);
    }
    Ok(o)
}

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
    let options = storage_options(&args, &file)?;
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
        let ledger = Ledger::open_with(
            LedgerConfig {
                data_dir: data_dir.clone(),
                genesis,
                natives: floe_contracts::natives(floe_genesis),
            },
            options,
        )
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
        // Followers pin this key (`[chain] validator_keys`) to verify
        // every checkpoint against it.
        let validator_key = ledger
            .validator()
            .committee(0)
            .members
            .first()
            .map(|m| m.public_key.to_string())
            .unwrap_or_default();
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "event": "listening",
                    "address": local.to_string(),
                    "chain_id": chain_id,
                    "checkpoint": height,
                    "faucet": format!("http://{local}/v2/gas"),
                    "validator_key": validator_key,
                })
            );
        } else {
            println!(
                "floe ledger listening on {local} (chain {chain_id}, checkpoint {height}); \
                 faucet: POST http://{local}/v2/gas"
            );
            println!("validator key (followers' [chain] validator_keys): {validator_key}");
        }
        tracing::info!(address = %local, %chain_id, checkpoint = height, %validator_key, "ledger started");
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
