//! `floe devnet`: a whole local network in one command.
//!
//! The first start creates the data directory (see [`layout`]): a funded
//! wallet, BLS keys for N storage nodes, a genesis placing them in the
//! committee (each with an operator key that owns its `StorageNodeCap`),
//! node, coordinator and client configs. Every start then runs the ledger,
//! the nodes, the coordinator, the daemon, the indexer and the explorer as separate
//! `floe` processes on 127.0.0.1, waits until each answers, writes
//! `DIR/devnet.json` and prints a ready line. At the first start the
//! wallet stakes WAL with every node in proportion to its shards, so the
//! committee chosen for epoch 1 is the genesis one; epochs then change
//! every `--epoch-duration`. Ctrl-C (or SIGTERM) stops them in order; the
//! next start resumes from the same directory.

mod layout;
mod members;
mod supervisor;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use floe_chain::ChainClient;
use floe_chain::floe::FloeIds;
use fs2::FileExt;

use layout::{CreateOptions, Manifest, ProcessEntry};
use supervisor::Process;

/// `floe devnet`
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Change a running devnet instead of starting one.
    #[command(subcommand)]
    command: Option<DevnetCommand>,
    /// Directory holding the whole devnet; reused on the next start.
    /// Default: the user's data directory (`~/.local/share/floe/devnet` on
    /// Linux).
    #[arg(long, env = "FLOE_DEVNET_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Storage nodes (only when creating).
    #[arg(long, default_value_t = 4)]
    nodes: u16,
    /// Shards of the committee (only when creating). 100 keeps encoding
    /// fast on a laptop and allows blobs up to ~149 MiB; Walrus mainnet
    /// uses 1000.
    #[arg(long, default_value_t = 100)]
    shards: u16,
    /// Delete the data directory and start a new network.
    #[arg(long)]
    fresh: bool,
    /// Use free ports chosen at random (below the kernel's ephemeral
    /// range) instead of the defaults (ledger 9000, nodes from 9185); for
    /// tests and for running several devnets.
    #[arg(long)]
    auto_ports: bool,
    /// Length of an epoch (only when creating), e.g. `30s`, `10m`, `1h`.
    /// Storage is bought in epochs, so short epochs let you watch blobs
    /// expire; each change rotates the committee and pays rewards.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    epoch_duration: Duration,
    /// Do not run the indexer (only when creating). By default it runs
    /// when PostgreSQL is installed (or `DATABASE_URL` is set).
    #[arg(long)]
    no_indexer: bool,
}

/// `floe devnet add-node | remove-node`: grow or shrink a running devnet
/// (see [`members`]).
#[derive(Debug, Subcommand)]
enum DevnetCommand {
    /// Create a node, register it on chain, stake with it from the wallet
    /// and start it; it joins the committee at an epoch change.
    AddNode(members::AddNodeArgs),
    /// Withdraw the wallet's stake with a node, wait until it has left the
    /// committee and handed its shards over, then stop it.
    RemoveNode(members::RemoveNodeArgs),
}

/// The default data directory.
fn default_dir() -> Result<PathBuf> {
    let base =
        dirs::data_dir().context("no user data directory is known here; pass --data-dir DIR")?;
    Ok(base.join("floe").join("devnet"))
}

/// Whether this machine can run the indexer: a Postgres URL is given, or
/// PostgreSQL's server binaries are installed for a managed cluster.
fn indexer_possible() -> bool {
    let possible = std::env::var_os("DATABASE_URL").is_some()
        || floe_indexer::postgres::find_bindir().is_some();
    if !possible {
        tracing::warn!(
            "PostgreSQL is not installed (no initdb found), so the devnet runs without the \
             indexer; install it (Debian/Ubuntu: apt-get install postgresql) and start with --fresh"
        );
    }
    possible
}

/// Runs `floe devnet`.
pub fn run(args: DevnetArgs, json: bool) -> Result<()> {
    let dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => default_dir()?,
    };
    if let Some(command) = args.command {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        return runtime.block_on(async {
            match command {
                DevnetCommand::AddNode(a) => members::add_node(&dir, a, json).await,
                DevnetCommand::RemoveNode(a) => members::remove_node(&dir, a, json).await,
            }
        });
    }
    if args.fresh && dir.exists() {
        if !Manifest::path(&dir).exists() && std::fs::read_dir(&dir)?.next().is_some() {
            bail!(
                "refusing to delete {}: it is not empty and has no devnet.json",
                dir.display()
            );
        }
        std::fs::remove_dir_all(&dir).with_context(|| format!("deleting {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // One devnet per directory: the lock is held until this process exits.
    let lock_path = dir.join("devnet.lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("creating {}", lock_path.display()))?;
    if lock.try_lock_exclusive().is_err() {
        bail!(
            "a devnet is already running in {} (stop it with Ctrl-C, or use another --data-dir)",
            dir.display()
        );
    }
    crate::service::init_logs(json);

    let manifest = if Manifest::path(&dir).exists() {
        let m = Manifest::load(&dir)?;
        tracing::info!(dir = %m.data_dir.display(), "resuming the devnet");
        m
    } else {
        tracing::info!(dir = %dir.display(), nodes = args.nodes, shards = args.shards, "creating a devnet");
        layout::create(
            &dir,
            &CreateOptions {
                nodes: args.nodes,
                shards: args.shards,
                auto_ports: args.auto_ports,
                with_daemon: true,
                with_indexer: !args.no_indexer && indexer_possible(),
                epoch_duration: args.epoch_duration,
            },
        )?
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // `block_on` runs on this thread, so children are forked from a
    // thread that lives as long as the devnet (see `supervisor`).
    let result = runtime.block_on(run_network(manifest, json));
    drop(lock);
    result
}

async fn run_network(mut manifest: Manifest, json: bool) -> Result<()> {
    let mut processes: Vec<Process> = Vec::new();
    let started = start_all(&mut manifest, &mut processes).await;
    if let Err(err) = started {
        supervisor::stop_all(&mut processes);
        manifest.pids.clear();
        let _ = manifest.save();
        return Err(err);
    }
    manifest.pids = std::iter::once(ProcessEntry {
        name: "devnet".into(),
        pid: std::process::id(),
    })
    .chain(processes.iter().map(|p| ProcessEntry {
        name: p.name.clone(),
        pid: p.pid(),
    }))
    .collect();
    manifest.save()?;
    print_ready(&manifest, json);

    let outcome = watch(&mut processes, &mut manifest).await;
    tracing::info!("stopping the devnet");
    supervisor::stop_all(&mut processes);
    manifest.pids.clear();
    manifest.save()?;
    if !json {
        eprintln!("devnet stopped; start it again with the same --data-dir to resume");
    }
    outcome
}

/// Starts the ledger, finds the floe objects, then starts the nodes.
async fn start_all(manifest: &mut Manifest, processes: &mut Vec<Process>) -> Result<()> {
    let logs = manifest.logs_dir.clone();
    let ledger_args: Vec<String> = vec![
        "ledger".into(),
        "run".into(),
        "--data-dir".into(),
        path_arg(&manifest.ledger_dir()),
        "--genesis".into(),
        path_arg(&manifest.genesis),
        "--listen".into(),
        manifest.ledger_listen()?.to_string(),
    ];
    let mut ledger = supervisor::spawn("ledger", &ledger_args, &logs, true)?;
    let chain = ChainClient::connect_single(&manifest.ledger_url)?;
    let probe_chain = chain.clone();
    supervisor::wait_ready(&mut ledger, &logs, || {
        let chain = probe_chain.clone();
        async move { chain.get_checkpoint(0).await.is_ok() }
    })
    .await?;
    processes.push(ledger);

    if manifest.system_object.is_none() || manifest.staking_object.is_none() {
        let ids = FloeIds::discover(
            &chain,
            manifest.wal_package.parse()?,
            manifest.floe_package.parse()?,
        )
        .await
        .context("finding the floe System object in the genesis checkpoint")?;
        manifest.system_object = Some(ids.system.to_string());
        manifest.treasury_object = Some(ids.treasury.to_string());
        manifest.staking_object = Some(ids.staking.to_string());
        manifest.save()?;
    }
    layout::write_client_config(manifest)?;
    layout::upgrade_node_configs(manifest)?;
    if !manifest.initial_stake_done {
        stake_with_every_node(manifest, &chain).await?;
        manifest.initial_stake_done = true;
        manifest.save()?;
    }

    let http = reqwest::Client::new();
    let mut nodes = Vec::new();
    for node in &manifest.nodes {
        let args = vec![
            "node".into(),
            "run".into(),
            "--config".into(),
            path_arg(&node.config),
        ];
        nodes.push((
            supervisor::spawn(&node.name, &args, &logs, false)?,
            node.url.clone(),
        ));
    }
    for (mut process, url) in nodes {
        let health = format!("{url}/v1/health");
        let result =
            supervisor::wait_ready(&mut process, &logs, || supervisor::http_ok(&http, &health))
                .await;
        processes.push(process);
        result?;
    }

    // The coordinator drives epoch changes; without it the network still
    // serves but stays in its epoch, so it is not essential.
    {
        let (process, result) = start_service(manifest, Service::Coordinator, &http, |m| {
            let config = layout::write_coordinator_config(m)?;
            let args = vec![
                "coordinator".into(),
                "run".into(),
                "--config".into(),
                path_arg(&config),
            ];
            Ok(Some((args, format!("{}/health", m.coordinator_url))))
        })
        .await?;
        processes.extend(process);
        result?;
    }

    {
        let (process, result) = start_service(manifest, Service::Daemon, &http, |m| {
            let Some(url) = m.daemon_url.clone() else {
                return Ok(None);
            };
            // The client config names the daemon: rewritten in case it moved.
            layout::write_client_config(m)?;
            let args = vec![
                "daemon".into(),
                "--config".into(),
                path_arg(&m.client_config),
                "--listen".into(),
                layout::listen_of(&url)?.to_string(),
            ];
            Ok(Some((args, format!("{url}/status"))))
        })
        .await?;
        processes.extend(process);
        result?;
    }

    // The indexer is useful but not required: if it cannot start (say
    // Postgres is broken), the network still runs and the user is told.
    {
        let (process, result) = start_service(manifest, Service::Indexer, &http, |m| {
            let (Some(config), Some(url)) = (layout::write_indexer_config(m)?, &m.indexer_url)
            else {
                return Ok(None);
            };
            let args = vec![
                "indexer".into(),
                "run".into(),
                "--config".into(),
                path_arg(&config),
            ];
            Ok(Some((args, format!("{url}/v1/status"))))
        })
        .await?;
        match (process, result) {
            (Some(process), Ok(())) => processes.push(process),
            (Some(mut process), Err(err)) => {
                // Not listed as running: stop whatever is left of it.
                supervisor::stop_all(std::slice::from_mut(&mut process));
                tracing::warn!(
                    "the indexer did not start: {err:#}; the devnet runs without it \
                     (it is tried again on the next start)"
                );
            }
            (None, _) => {}
        }
    }

    // The explorer reads the indexer's API, so it runs only beside it.
    if processes.iter().any(|p| p.name == "indexer") {
        let (process, result) = start_service(manifest, Service::Explorer, &http, |m| {
            let (Some(url), Some(indexer)) = (&m.explorer_url, &m.indexer_url) else {
                return Ok(None);
            };
            let mut args = vec![
                "explorer".into(),
                "run".into(),
                "--indexer".into(),
                indexer.clone(),
                "--listen".into(),
                layout::listen_of(url)?.to_string(),
            ];
            if let Some(daemon) = &m.daemon_url {
                args.extend(["--aggregator".into(), daemon.clone()]);
            }
            Ok(Some((args, format!("{url}/health"))))
        })
        .await?;
        match (process, result) {
            (Some(process), Ok(())) => processes.push(process),
            (Some(mut process), Err(err)) => {
                supervisor::stop_all(std::slice::from_mut(&mut process));
                tracing::warn!("the explorer did not start: {err:#}; the devnet runs without it");
            }
            (None, _) => {}
        }
    }
    Ok(())
}

/// A service whose address only the devnet's own files name (not the
/// chain, unlike a node's), so it can move to another port.
#[derive(Clone, Copy, Debug)]
enum Service {
    Coordinator,
    Daemon,
    Indexer,
    Explorer,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Coordinator => "coordinator",
            Service::Daemon => "daemon",
            Service::Indexer => "indexer",
            Service::Explorer => "explorer",
        }
    }

    fn url(self, manifest: &mut Manifest) -> Option<&mut String> {
        match self {
            Service::Coordinator => Some(&mut manifest.coordinator_url),
            Service::Daemon => manifest.daemon_url.as_mut(),
            Service::Indexer => manifest.indexer_url.as_mut(),
            Service::Explorer => manifest.explorer_url.as_mut(),
        }
    }
}

/// Times a service is moved to a fresh port before its start-up failure
/// is reported.
const MAX_PORT_MOVES: usize = 3;

/// Starts `service` with the arguments and readiness URL `prepare` makes
/// from the manifest (`None`: the service is not part of this devnet), and
/// waits until it answers.
///
/// Why the loop: between the choice of a port and the service binding it
/// something else may take it (another devnet started at the same moment,
/// or any program on the machine). A service that exits during start-up
/// while its port is held by someone else is given a fresh port, the
/// manifest and the configs naming it are rewritten (by `prepare`), and it
/// is started again. Any other failure is returned with the process, so
/// the caller decides whether the devnet runs without it.
async fn start_service(
    manifest: &mut Manifest,
    service: Service,
    http: &reqwest::Client,
    prepare: impl Fn(&Manifest) -> Result<Option<(Vec<String>, String)>>,
) -> Result<(Option<Process>, Result<()>)> {
    let logs = manifest.logs_dir.clone();
    let mut moves = 0;
    loop {
        let Some((args, ready_url)) = prepare(manifest)? else {
            return Ok((None, Ok(())));
        };
        let mut process = supervisor::spawn(service.name(), &args, &logs, false)?;
        let result = supervisor::wait_ready(&mut process, &logs, || {
            supervisor::http_ok(http, &ready_url)
        })
        .await;
        let Err(err) = result else {
            return Ok((Some(process), Ok(())));
        };
        let port_taken = service
            .url(manifest)
            .and_then(|url| layout::listen_of(url).ok())
            .is_some_and(|addr| !layout::port_is_free(addr.port()));
        if process.exited.is_none() || !port_taken || moves == MAX_PORT_MOVES {
            return Ok((Some(process), Err(err)));
        }
        moves += 1;
        let port = layout::fresh_port(&manifest.ports())?;
        if let Some(url) = service.url(manifest) {
            tracing::warn!(
                "{} could not listen on {url}, which something else holds: moving it to port {port}",
                service.name()
            );
            *url = format!("http://127.0.0.1:{port}");
        }
        manifest.save()?;
    }
}

/// Stakes [`layout::STAKE_PER_SHARD`] WAL per shard from the wallet with
/// every genesis node. Epoch 0's committee is set by genesis; the one for
/// epoch 1 is chosen from stake, and stake proportional to the genesis
/// shards keeps it (and the shard placement) unchanged.
async fn stake_with_every_node(manifest: &Manifest, chain: &ChainClient) -> Result<()> {
    let ids = FloeIds {
        wal_package: manifest.wal_package.parse()?,
        floe_package: manifest.floe_package.parse()?,
        system: layout::object_id(&manifest.system_object, "system")?,
        treasury: layout::object_id(&manifest.treasury_object, "treasury")?,
        staking: layout::object_id(&manifest.staking_object, "staking")?,
    };
    let floe = floe_chain::floe::Floe::new(chain.clone(), ids);
    let keystore = floe_chain::Keystore::open(&manifest.wallet_keystore)?;
    let key = keystore
        .select(Some(&manifest.wallet_address))
        .context("the devnet wallet is not in its keystore")?;
    let committee = floe.committee().await?;
    for node in &manifest.nodes {
        let public_key = floe_core::bls::BlsPublicKey::from_bytes(&hex::decode(&node.public_key)?)
            .map_err(|e| anyhow::anyhow!("{}: public key: {e}", node.name))?;
        let member = committee
            .member_by_public_key(&public_key)
            .with_context(|| format!("{} is not in the genesis committee", node.name))?;
        let node_id = committee.members()[member].node_id;
        let amount = layout::STAKE_PER_SHARD * u64::from(node.shards);
        let coins = floe.wal_coins(key.address()).await?;
        let coin = coins
            .first()
            .filter(|(_, value)| *value >= amount)
            .with_context(|| format!("the wallet has no WAL coin of {amount} FROST to stake"))?;
        floe.stake_with_pool(key, node_id, amount, coin.0)
            .await?
            .ensure_success()
            .with_context(|| format!("staking with {}", node.name))?;
        tracing::info!(node = %node.name, amount, "staked");
    }
    Ok(())
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

/// Waits for Ctrl-C/SIGTERM, reporting components that exit meanwhile. A
/// node may die (that is what a devnet is for); the ledger may not.
/// Also answers `add-node`/`remove-node` requests (see [`members`]).
async fn watch(processes: &mut Vec<Process>, manifest: &mut Manifest) -> Result<()> {
    let shutdown = crate::service::shutdown_signal();
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let http = reqwest::Client::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = tick.tick() => {
                members::serve_requests(manifest, processes, &http).await;
                for process in processes.iter_mut() {
                    if let Some(status) = process.poll_exit() {
                        if process.essential {
                            bail!("{} exited ({status}); stopping the devnet", process.name);
                        }
                        tracing::warn!(name = %process.name, %status, "component exited; the devnet keeps running without it");
                    }
                }
            }
        }
    }
}

fn print_ready(manifest: &Manifest, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "event": "ready",
                "manifest": Manifest::path(&manifest.data_dir),
                "ledger": manifest.ledger_url,
                "nodes": manifest.nodes.iter().map(|n| &n.url).collect::<Vec<_>>(),
                "daemon": manifest.daemon_url,
                "indexer": manifest.indexer_url,
                "explorer": manifest.explorer_url,
                "coordinator": manifest.coordinator_url,
                "epoch_duration_ms": manifest.epoch_duration_ms,
                "client_config": manifest.client_config,
                "wallet": manifest.wallet_address,
            })
        );
        return;
    }
    let dir = manifest.data_dir.display();
    println!("floe devnet ready ({dir})");
    println!(
        "  ledger   {}  (faucet POST {})",
        manifest.ledger_url, manifest.faucet_url
    );
    for node in &manifest.nodes {
        println!("  {:<8} {}  ({} shards)", node.name, node.url, node.shards);
    }
    if let Some(url) = &manifest.daemon_url {
        println!("  daemon   {url}");
    }
    if let Some(url) = &manifest.indexer_url {
        println!("  indexer  {url}");
    }
    if let Some(url) = &manifest.explorer_url {
        println!("  explorer {url}  (open in a browser)");
    }
    println!(
        "  coordinator {}/status  (epochs of {})",
        manifest.coordinator_url,
        humantime::format_duration(Duration::from_millis(manifest.epoch_duration_ms))
    );
    println!("  wallet   {}", manifest.wallet_address);
    println!(
        "  manifest {}",
        Manifest::path(&manifest.data_dir).display()
    );
    // The client finds the default devnet's config by itself; any other
    // directory needs --config (or FLOE_CONFIG).
    let config = if default_dir().is_ok_and(|d| d == manifest.data_dir) {
        String::new()
    } else {
        format!(" --config {}", manifest.client_config.display())
    };
    println!("Try:");
    println!("  floe info{config}");
    println!("  floe store FILE --epochs 2{config}");
    println!("  floe read BLOB_ID --out FILE{config}");
    if let Some(url) = &manifest.daemon_url {
        println!("  curl -X PUT --data-binary @FILE '{url}/v1/blobs?epochs=2'");
        println!("  curl {url}/v1/blobs/BLOB_ID -o FILE");
    }
    println!("Press Ctrl-C to stop; run again to resume.");
}
