//! `floe node ...`: the storage node as a process.
//!
//! - `floe node keygen --out FILE` writes a new BLS protocol key in Walrus's
//!   key-file format.
//! - `floe node info --config FILE` shows what the chain says about the
//!   node (`node_operator.rs`).
//! - `floe node run --config FILE` serves the REST API from the config
//!   described in `floe_node::config` (relative paths are resolved against
//!   the config file's directory). On start it prints one line with the bound
//!   address (JSON with `--json`), so scripts and tests can use port 0.
//!
//! The node reads its committee from the chain (`[chain]`), follows the
//! checkpoint stream, heals missing slivers from its peers (found on
//! chain) and collects garbage; a config with `[committee]` instead runs the API alone (static
//! test mode, see `floe_node::config`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use floe_core::bls::BlsSecretKey;
use floe_node::config::NodeConfig;
use floe_node::server::Node;

/// `floe node ...`
#[derive(Debug, Args)]
pub struct NodeArgs {
    #[command(subcommand)]
    command: NodeCommand,
}

#[derive(Debug, Subcommand)]
enum NodeCommand {
    /// Run a storage node from a TOML config file.
    Run {
        /// The node's config file.
        #[arg(long, env = "FLOE_NODE_CONFIG")]
        config: PathBuf,
    },
    /// Write a fresh BLS protocol key (Walrus key-file format).
    Keygen {
        /// Where to write the key; refuses to overwrite.
        #[arg(long)]
        out: PathBuf,
    },
    /// What the chain says about this node: pool, stake, shards now and
    /// next epoch, votes, commission earned, the operator's cap.
    Info {
        /// The node's config file (its BLS key identifies the node).
        #[arg(long, env = "FLOE_NODE_CONFIG")]
        config: PathBuf,
    },
    /// Register the node on chain (staking::register_candidate): proof of
    /// possession signed with its BLS key, paid by the [operator] key, which
    /// receives the StorageNodeCap.
    Register {
        #[arg(long, env = "FLOE_NODE_CONFIG")]
        config: PathBuf,
        #[command(flatten)]
        args: super::node_operator::RegisterArgs,
    },
    /// Change the node's name, address, commission or votes (needs the cap).
    Update {
        #[arg(long, env = "FLOE_NODE_CONFIG")]
        config: PathBuf,
        #[command(flatten)]
        args: super::node_operator::UpdateArgs,
    },
    /// Collect the node's collectable commission to the operator.
    CollectCommission {
        #[arg(long, env = "FLOE_NODE_CONFIG")]
        config: PathBuf,
    },
}

/// Runs a `floe node` subcommand.
pub fn run(args: NodeArgs, json: bool) -> Result<()> {
    match args.command {
        NodeCommand::Run { config } => run_node(&config, json),
        NodeCommand::Keygen { out } => keygen(&out, json),
        NodeCommand::Info { config } => on_runtime(super::node_operator::info(&config, json)),
        NodeCommand::Register { config, args } => {
            on_runtime(super::node_operator::register(&config, args, json))
        }
        NodeCommand::Update { config, args } => {
            on_runtime(super::node_operator::update(&config, args, json))
        }
        NodeCommand::CollectCommission { config } => {
            on_runtime(super::node_operator::collect_commission(&config, json))
        }
    }
}

/// Runs one async operator command on a fresh runtime.
fn on_runtime(task: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(task)
}

fn keygen(out: &Path, json: bool) -> Result<()> {
    let key = BlsSecretKey::generate().context("generating a BLS key")?;
    // Exclusive, 0600, atomic and fsynced; refuses an existing file.
    crate::keyfile::write_new_key_file(out, key.to_key_file_string().as_bytes())?;
    let public = key.public_key().to_string();
    if json {
        println!(
            "{}",
            serde_json::json!({"key_file": out, "public_key": public})
        );
    } else {
        println!("wrote {}; public key {public}", out.display());
    }
    Ok(())
}

fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// Reads and checks a node config, resolves its paths against the file's
/// directory and loads its BLS key.
pub fn load_config(path: &Path) -> Result<(NodeConfig, BlsSecretKey)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config {}", path.display()))?;
    let mut config: NodeConfig =
        toml::from_str(&text).with_context(|| format!("parsing config {}", path.display()))?;
    config
        .validate()
        .with_context(|| format!("checking config {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    config.data_dir = resolve(base, &config.data_dir);
    config.bls_key_file = resolve(base, &config.bls_key_file);
    let key_text = std::fs::read_to_string(&config.bls_key_file)
        .with_context(|| format!("reading BLS key {}", config.bls_key_file.display()))?;
    let key = BlsSecretKey::from_key_file_string(key_text.trim())
        .with_context(|| format!("parsing BLS key {}", config.bls_key_file.display()))?;
    Ok((config, key))
}

fn run_node(path: &Path, json: bool) -> Result<()> {
    let (config, key) = load_config(path)?;
    crate::service::init_logs(json);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(async move {
        let public = key.public_key().to_string();
        let node = Node::bind(&config, key)
            .await
            .with_context(|| format!("starting the node in {}", config.data_dir.display()))?;
        let local = node.local_addr()?;
        let epoch = node.epoch();
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "event": "listening",
                    "address": local.to_string(),
                    "epoch": epoch,
                    "public_key": public,
                })
            );
        } else {
            println!("floe node listening on http://{local} (epoch {epoch}, key {public})");
        }
        tracing::info!(address = %local, "node started");
        Ok::<_, anyhow::Error>(node.serve(crate::service::shutdown_signal()).await?)
    })?;
    if served == floe_node::server::Served::ReopenStore {
        // The store refused writes (a full disk) and there is room again:
        // start again in this process (same pid, same arguments), which
        // reopens the store from its journal (`floe_node::store_watchdog`).
        runtime.shutdown_timeout(std::time::Duration::from_secs(10));
        let exe = std::env::current_exe().context("finding the floe binary to restart")?;
        tracing::warn!(exe = %exe.display(), "restarting the node to reopen its store");
        let mut again = std::process::Command::new(exe);
        again.args(std::env::args_os().skip(1));
        let err = std::os::unix::process::CommandExt::exec(&mut again);
        return Err(err).context("restarting the node to reopen its store");
    }
    Ok(())
}
