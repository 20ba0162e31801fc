//! `floe devnet add-node` and `floe devnet remove-node`: a running devnet
//! grows and shrinks through the same chain calls an outside operator
//! makes (`register_candidate` with proof of possession, `stake_with_pool`,
//! `request_withdraw_stake`).
//!
//! The commands are separate processes from the running `floe devnet`,
//! which owns the node processes. They reach it through request files:
//! `DIR/control/NAME.request.json` asks the supervisor to start (or stop)
//! a node, and the supervisor answers in `DIR/control/NAME.reply.json`
//! once the node answers its health endpoint (or has exited). The
//! supervisor is the only writer of `devnet.json` while it runs, so the
//! commands never race it on the manifest; an added node is in
//! `devnet.json`'s `nodes` from then on and is started again with the
//! devnet, a removed one moves to `removed_nodes` (its directory is kept).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use floe_chain::floe::{Floe, FloeIds};
use floe_contracts::floe::staked_wal::MIN_STAKING_THRESHOLD;
use floe_core::bls::BlsSecretKey;
use floe_core::move_types::{EpochState, ObjectId, StakedWalState, StakingPool};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::layout::{self, Manifest, NodeEntry};
use super::supervisor::{self, Process};
use crate::commands::client::wal;

/// SUI (MIST) the wallet gives a new node's operator for its gas.
const OPERATOR_MIST: u64 = 1_000_000_000_000;
/// How long the supervisor may take to answer a request (a node start
/// waits up to the supervisor's own ready timeout).
const REPLY_TIMEOUT: Duration = Duration::from_secs(180);
/// Longest accepted `--name`.
const MAX_NAME: usize = 64;

/// `floe devnet add-node`
#[derive(Debug, Args)]
pub struct AddNodeArgs {
    /// The node's name (directory `nodes/NAME`, name on chain); default
    /// `node-N` with the next free N.
    #[arg(long)]
    name: Option<String>,
    /// Port it listens on (default: a free one).
    #[arg(long)]
    port: Option<u16>,
    /// WAL (in FROST) the devnet wallet stakes with it; default the
    /// average stake (active and pending) of the current committee's
    /// nodes, at least the contract's 1 WAL minimum, so it gets about an
    /// equal share of shards.
    #[arg(long)]
    stake: Option<u64>,
    /// Commission on its rewards, basis points (0..=10000).
    #[arg(long, default_value_t = 0)]
    commission_bps: u16,
    /// Storage price vote (FROST per MiB per epoch); default the current
    /// price.
    #[arg(long)]
    storage_price: Option<u64>,
    /// Write price vote (FROST per MiB); default the current price.
    #[arg(long)]
    write_price: Option<u64>,
    /// Capacity vote, bytes; default that of the first committee node.
    #[arg(long)]
    capacity: Option<u64>,
}

/// `floe devnet remove-node NAME`
#[derive(Debug, Args)]
pub struct RemoveNodeArgs {
    /// The node to remove (its name in `devnet.json`).
    name: String,
    /// Longest wait for it to leave the committee and hand its shards
    /// over, e.g. `5m`; default three epochs and a minute.
    #[arg(long, value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
}

/// What the commands ask the running supervisor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Request {
    /// Start this new node and add it to the manifest.
    Start { node: NodeEntry },
    /// Stop the node and move it to `removed_nodes`.
    Stop { name: String },
}

/// The supervisor's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub error: Option<String>,
}

fn control_dir(dir: &Path) -> PathBuf {
    dir.join("control")
}

fn request_path(dir: &Path, name: &str) -> PathBuf {
    control_dir(dir).join(format!("{name}.request.json"))
}

fn reply_path(dir: &Path, name: &str) -> PathBuf {
    control_dir(dir).join(format!("{name}.reply.json"))
}

/// Writes `path` atomically (temp file + rename), so the other side never
/// reads half a file.
fn write_atomic(path: &Path, value: &impl Serialize) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(value)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Sends `request` for node `name` to the running devnet and waits for its
/// reply.
async fn ask(dir: &Path, name: &str, request: &Request) -> Result<Reply> {
    std::fs::create_dir_all(control_dir(dir))?;
    let reply = reply_path(dir, name);
    let _ = std::fs::remove_file(&reply);
    write_atomic(&request_path(dir, name), request)?;
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&reply) {
            let _ = std::fs::remove_file(&reply);
            return serde_json::from_str(&text)
                .with_context(|| format!("the devnet's reply {} is not JSON", reply.display()));
        }
        if started.elapsed() > REPLY_TIMEOUT {
            let _ = std::fs::remove_file(request_path(dir, name));
            bail!(
                "the running devnet did not answer within {} s (is it still running? see {})",
                REPLY_TIMEOUT.as_secs(),
                dir.join("logs").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The manifest of the devnet running in `dir`, or an error saying it is
/// not running (the commands change a live network).
fn running_manifest(dir: &Path) -> Result<Manifest> {
    if !Manifest::path(dir).exists() {
        bail!(
            "{} holds no devnet (no devnet.json); start one with `floe devnet`",
            dir.display()
        );
    }
    let lock = std::fs::File::open(dir.join("devnet.lock"))
        .with_context(|| format!("{} has no devnet.lock", dir.display()))?;
    if lock.try_lock_shared().is_ok() {
        bail!(
            "the devnet in {} is not running: start it with `floe devnet --data-dir {}` first",
            dir.display(),
            dir.display()
        );
    }
    let manifest = Manifest::load(dir)?;
    if manifest.system_object.is_none() {
        bail!("the devnet in {} has not finished starting", dir.display());
    }
    Ok(manifest)
}

fn floe_of(manifest: &Manifest) -> Result<Floe> {
    let ids = FloeIds {
        wal_package: manifest.wal_package.parse()?,
        floe_package: manifest.floe_package.parse()?,
        system: layout::object_id(&manifest.system_object, "system")?,
        treasury: layout::object_id(&manifest.treasury_object, "treasury")?,
        staking: layout::object_id(&manifest.staking_object, "staking")?,
    };
    let chain = floe_chain::ChainClient::connect_single(&manifest.ledger_url)?;
    Ok(Floe::new(chain, ids))
}

fn wallet_key(manifest: &Manifest) -> Result<floe_chain::KeyPair> {
    let keystore = floe_chain::Keystore::open(&manifest.wallet_keystore)?;
    Ok(keystore
        .select(Some(&manifest.wallet_address))
        .context("the devnet wallet is not in its keystore")?
        .clone())
}

/// The pool whose node has the BLS key `public_key` (hex).
async fn pool_of(floe: &Floe, public_key: &str) -> Result<Option<StakingPool>> {
    let key = hex::decode(public_key).context("public key in devnet.json")?;
    Ok(floe
        .pools()
        .await?
        .into_iter()
        .find(|p| p.node_info.public_key.bytes == key))
}

/// The stake `add-node` gives a new node by default: the average of the
/// committee's stakes, each active plus pending for coming epochs (on a
/// fresh devnet, epoch 0, the genesis stake is still pending and active
/// stake alone averages 0), and never below the contract's minimum stake.
fn default_stake(stakes: impl Iterator<Item = u128>) -> u64 {
    let (total, count) = stakes.fold((0u128, 0u128), |(t, c), s| (t + s, c + 1));
    u64::try_from(total / count.max(1))
        .unwrap_or(u64::MAX)
        .max(MIN_STAKING_THRESHOLD)
}

/// The first epoch whose committee a stake or withdrawal made now
/// affects: the next one before its committee is selected, else the one
/// after.
fn affected_epoch(state: &floe_core::move_types::StakingInnerV1) -> u32 {
    match state.epoch_state {
        EpochState::EpochChangeDone(_) => state.epoch + 1,
        _ => state.epoch + 2,
    }
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        bail!("a node name is 1 to {MAX_NAME} letters, digits, '-' or '_', not {name:?}");
    }
    Ok(())
}

/// `floe devnet add-node`.
pub async fn add_node(dir: &Path, args: AddNodeArgs, json: bool) -> Result<()> {
    let manifest = running_manifest(dir)?;
    let dir = manifest.data_dir.clone();
    let known = |n: &str| {
        manifest
            .nodes
            .iter()
            .chain(&manifest.removed_nodes)
            .any(|e| e.name == n)
    };
    let name = match args.name {
        Some(name) => {
            check_name(&name)?;
            if known(&name) || dir.join("nodes").join(&name).exists() {
                bail!("a node called {name} exists already in this devnet");
            }
            name
        }
        None => (0..)
            .map(|i| format!("node-{i}"))
            .find(|n| !known(n) && !dir.join("nodes").join(n).exists())
            .context("no free node name")?,
    };
    if let Some(amount) = args.stake
        && amount == 0
    {
        bail!("--stake must be more than 0 FROST");
    }
    let floe = floe_of(&manifest)?;
    let wallet = wallet_key(&manifest)?;

    // Defaults from what the chain says now.
    let state = floe.staking_state().await?;
    let committee: Vec<ObjectId> = state
        .committee
        .pos0
        .contents
        .iter()
        .map(|e| e.key)
        .collect();
    let mut members = Vec::new();
    for id in &committee {
        members.push(floe.pool(*id).await?);
    }
    let prices = floe.prices().await?;
    let stake = match args.stake {
        Some(s) => s,
        None => default_stake(members.iter().map(|p| {
            let pending: u128 = p
                .pending_stake
                .pos0
                .contents
                .iter()
                .map(|e| u128::from(e.value))
                .sum();
            u128::from(p.wal_balance) + pending
        })),
    };
    let capacity = match args.capacity {
        Some(c) => c,
        None => members
            .first()
            .map(|p| p.voting_params.node_capacity)
            .context("the committee is empty: give --capacity")?,
    };

    // Files: key, operator keystore, config.
    let port = match args.port {
        Some(p) => p,
        None => layout::fresh_port(&manifest.ports())?,
    };
    let node_dir = dir.join("nodes").join(&name);
    std::fs::create_dir_all(node_dir.join("data"))
        .with_context(|| format!("creating {}", node_dir.display()))?;
    let key = BlsSecretKey::generate().context("generating a BLS key")?;
    crate::keyfile::write_new_key_file(
        &node_dir.join("node.bls"),
        key.to_key_file_string().as_bytes(),
    )?;
    let operator_keystore = node_dir.join("operator.keystore");
    let operator = layout::service_key(&operator_keystore, &name)?;
    let network_address = format!("127.0.0.1:{port}");
    let entry = NodeEntry {
        name: name.clone(),
        url: format!("http://{network_address}"),
        public_key: hex::encode(key.public_key().to_bytes()),
        shards: 0,
        config: node_dir.join("node.toml"),
        data_dir: node_dir.join("data"),
        operator: operator.to_string(),
        operator_keystore,
    };
    layout::write_node_config(&manifest, &entry)?;

    // Gas for the operator, then the registration it signs.
    floe.client
        .transfer_sui(&wallet, operator, OPERATOR_MIST)
        .await?
        .ensure_success()
        .context("funding the operator's gas")?;
    let ctx = crate::commands::node_operator::NodeChainContext::load(&entry.config).await?;
    let registered = crate::commands::node_operator::register_with(
        &ctx,
        crate::commands::node_operator::RegisterArgs {
            name: name.clone(),
            network_address: Some(network_address.clone()),
            commission_bps: args.commission_bps,
            storage_price: args
                .storage_price
                .unwrap_or(prices.storage_price_per_unit_size),
            write_price: args.write_price.unwrap_or(prices.write_price_per_unit_size),
            capacity,
            network_public_key: None,
            image_url: String::new(),
            project_url: String::new(),
            description: format!("floe devnet node {name}"),
        },
    )
    .await?;

    // Stake from the wallet.
    let coins = floe.wal_coins(wallet.address()).await?;
    let coin = coins
        .iter()
        .filter(|(_, value)| *value >= stake)
        .max_by_key(|(_, value)| *value)
        .with_context(|| format!("the wallet has no WAL coin of {stake} FROST to stake"))?;
    floe.stake_with_pool(&wallet, registered.node_id, stake, coin.0)
        .await?
        .ensure_success()
        .with_context(|| format!("staking with {name}"))?;
    let state = floe.staking_state().await?;
    let joins = affected_epoch(&state);

    // The running devnet starts and supervises it.
    let reply = ask(
        &dir,
        &name,
        &Request::Start {
            node: entry.clone(),
        },
    )
    .await?;
    if !reply.ok {
        bail!(
            "{name} is registered (node {}) and staked, but the devnet could not start it: {}",
            registered.node_id,
            reply.error.unwrap_or_default()
        );
    }
    if json {
        println!(
            "{}",
            json!({
                "name": name,
                "url": entry.url,
                "config": entry.config,
                "node_id": registered.node_id.to_string(),
                "cap": registered.cap.to_string(),
                "operator": entry.operator,
                "staked_frost": stake,
                "joins_epoch": joins,
                "pid": reply.pid,
            })
        );
    } else {
        println!(
            "added {name} at {} (node {}), staked {} from the wallet; it joins the committee \
             at epoch {joins} if the stake wins it shards",
            entry.url,
            registered.node_id,
            wal(stake)
        );
        println!("  config {}", entry.config.display());
    }
    Ok(())
}

/// `floe devnet remove-node NAME`.
pub async fn remove_node(dir: &Path, args: RemoveNodeArgs, json: bool) -> Result<()> {
    let manifest = running_manifest(dir)?;
    let dir = manifest.data_dir.clone();
    let Some(entry) = manifest.nodes.iter().find(|n| n.name == args.name).cloned() else {
        bail!("no running node called {} in this devnet", args.name);
    };
    if manifest.nodes.len() < 2 {
        bail!("{} is the devnet's last node", args.name);
    }
    let floe = floe_of(&manifest)?;
    let wallet = wallet_key(&manifest)?;
    let pool = pool_of(&floe, &entry.public_key)
        .await?
        .with_context(|| format!("{} has no staking pool on chain", entry.name))?;
    let node_id = pool.node_info.node_id;

    // Withdraw every stake the wallet has with it.
    let mut withdrawing = Vec::new();
    for (id, staked) in floe.owned_staked_wal(wallet.address()).await? {
        if staked.node_id != node_id {
            continue;
        }
        if matches!(staked.state, StakedWalState::Staked) {
            floe.request_withdraw_stake(&wallet, id)
                .await?
                .ensure_success()
                .with_context(|| format!("requesting the withdrawal of stake {id}"))?;
        }
        withdrawing.push(id);
    }
    let state = floe.staking_state().await?;
    let leaves = affected_epoch(&state);
    if !json {
        eprintln!(
            "withdrawing the wallet's stake with {} (node {node_id}); it leaves the committee \
             at epoch {leaves}, and is stopped once its shards have moved",
            entry.name
        );
    }

    // Wait until it is out of the committee and the epoch change that moved
    // its shards is done (the new owners have synced them).
    let epoch_ms = manifest.epoch_duration_ms;
    let timeout = args
        .timeout
        .unwrap_or(Duration::from_millis(epoch_ms.saturating_mul(3)) + Duration::from_secs(60));
    let started = Instant::now();
    let http = reqwest::Client::new();
    let left_at = loop {
        let state = floe.staking_state().await?;
        let member =
            |c: &floe_core::move_types::Committee| c.pos0.contents.iter().any(|e| e.key == node_id);
        let next_keeps = state.next_committee.as_ref().is_some_and(member);
        if !member(&state.committee)
            && !next_keeps
            && matches!(state.epoch_state, EpochState::EpochChangeDone(_))
            && handed_over(&floe, &state, &http).await
        {
            break state.epoch;
        }
        if started.elapsed() > timeout {
            let stake = floe.pool(node_id).await?.wal_balance;
            bail!(
                "{} is still in the committee of epoch {} after {} (its pool holds {} of stake \
                 from others?); it keeps running",
                entry.name,
                state.epoch,
                humantime::format_duration(timeout),
                wal(stake)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    // Take the WAL back when the withdrawal is due (it is once the node
    // has left); a stake not yet withdrawable is left for later.
    let before = floe.wal_balance(wallet.address()).await?;
    for id in &withdrawing {
        let staked = floe.staked_wal(*id).await?;
        if let StakedWalState::Withdrawing { withdraw_epoch } = staked.state
            && withdraw_epoch <= left_at
        {
            floe.withdraw_stake(&wallet, *id)
                .await?
                .ensure_success()
                .with_context(|| format!("withdrawing stake {id}"))?;
        }
    }
    let withdrawn = floe
        .wal_balance(wallet.address())
        .await?
        .saturating_sub(before);

    let reply = ask(
        &dir,
        &entry.name,
        &Request::Stop {
            name: entry.name.clone(),
        },
    )
    .await?;
    if !reply.ok {
        bail!(
            "{} left the committee but the devnet could not stop it: {}",
            entry.name,
            reply.error.unwrap_or_default()
        );
    }
    if json {
        println!(
            "{}",
            json!({
                "name": entry.name,
                "node_id": node_id.to_string(),
                "left_epoch": left_at,
                "withdrawn_frost": withdrawn,
            })
        );
    } else {
        println!(
            "removed {} (node {node_id}): out of the committee since epoch {left_at}, stopped; \
             {} returned to the wallet; its directory is kept",
            entry.name,
            wal(withdrawn)
        );
    }
    Ok(())
}

/// Whether every member of the current committee that answers has
/// finished filling the shards it gained (its health lists none syncing
/// and it follows this epoch). A member that does not answer cannot be
/// waited for: it recovers the shards from the others when it comes back.
async fn handed_over(
    floe: &Floe,
    state: &floe_core::move_types::StakingInnerV1,
    http: &reqwest::Client,
) -> bool {
    for entry in &state.committee.pos0.contents {
        let Ok(pool) = floe.pool(entry.key).await else {
            return false;
        };
        let url = format!("http://{}/v1/health", pool.node_info.network_address);
        let Ok(response) = http.get(&url).timeout(Duration::from_secs(2)).send().await else {
            continue;
        };
        let Ok(body) = response.json::<serde_json::Value>().await else {
            continue;
        };
        let data = &body["success"]["data"];
        let synced = data["syncingShards"]
            .as_array()
            .is_some_and(|s| s.is_empty());
        let current = data["epoch"].as_u64() >= Some(u64::from(state.epoch));
        if !(synced && current) {
            return false;
        }
    }
    true
}

/// The supervisor's side: answers the pending requests in `DIR/control`.
/// Called from the devnet's watch loop.
pub async fn serve_requests(
    manifest: &mut Manifest,
    processes: &mut Vec<Process>,
    http: &reqwest::Client,
) {
    let dir = manifest.data_dir.clone();
    let Ok(entries) = std::fs::read_dir(control_dir(&dir)) else {
        return;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".request.json")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    for name in names {
        let path = request_path(&dir, &name);
        let request = std::fs::read_to_string(&path)
            .map_err(anyhow::Error::from)
            .and_then(|t| Ok(serde_json::from_str::<Request>(&t)?));
        let _ = std::fs::remove_file(&path);
        let reply = match request {
            Ok(request) => match serve(manifest, processes, http, request).await {
                Ok(pid) => Reply {
                    ok: true,
                    pid,
                    error: None,
                },
                Err(err) => Reply {
                    ok: false,
                    pid: None,
                    error: Some(format!("{err:#}")),
                },
            },
            Err(err) => Reply {
                ok: false,
                pid: None,
                error: Some(format!("bad request: {err:#}")),
            },
        };
        if let Err(err) = write_atomic(&reply_path(&dir, &name), &reply) {
            tracing::warn!("answering {name}: {err:#}");
        }
    }
}

async fn serve(
    manifest: &mut Manifest,
    processes: &mut Vec<Process>,
    http: &reqwest::Client,
    request: Request,
) -> Result<Option<u32>> {
    match request {
        Request::Start { node } => {
            check_name(&node.name)?;
            if manifest.nodes.iter().any(|n| n.name == node.name) {
                bail!("{} is already part of the devnet", node.name);
            }
            let args = vec![
                "node".into(),
                "run".into(),
                "--config".into(),
                node.config.display().to_string(),
            ];
            let logs = manifest.logs_dir.clone();
            let mut process = supervisor::spawn(&node.name, &args, &logs, false)?;
            let health = format!("{}/v1/health", node.url);
            if let Err(err) =
                supervisor::wait_ready(&mut process, &logs, || supervisor::http_ok(http, &health))
                    .await
            {
                supervisor::stop_all(std::slice::from_mut(&mut process));
                return Err(err);
            }
            let pid = process.pid();
            tracing::info!(name = %node.name, pid, "added a node");
            manifest.pids.push(layout::ProcessEntry {
                name: node.name.clone(),
                pid,
            });
            manifest.nodes.push(node);
            processes.push(process);
            manifest.save()?;
            Ok(Some(pid))
        }
        Request::Stop { name } => {
            let index = manifest
                .nodes
                .iter()
                .position(|n| n.name == name)
                .with_context(|| format!("no node called {name}"))?;
            if let Some(at) = processes.iter().position(|p| p.name == name) {
                let mut process = processes.remove(at);
                supervisor::stop_all(std::slice::from_mut(&mut process));
            }
            let node = manifest.nodes.remove(index);
            manifest.removed_nodes.push(node);
            manifest.pids.retain(|p| p.name != name);
            manifest.save()?;
            tracing::info!(%name, "removed a node");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain() {
        check_name("node-4").unwrap();
        check_name("extra_1").unwrap();
        assert!(check_name("").is_err());
        assert!(check_name("../x").is_err());
        assert!(check_name(&"a".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn requests_round_trip_as_tagged_json() {
        let text = serde_json::to_string(&Request::Stop { name: "n".into() }).unwrap();
        assert_eq!(text, r#"{"action":"stop","name":"n"}"#);
        let back: Request = serde_json::from_str(&text).unwrap();
        assert!(matches!(back, Request::Stop { name } if name == "n"));
    }

    #[test]
    fn default_stake_counts_pending_stake_and_respects_the_minimum() {
        // Epoch 0: all stake still pending.
        assert_eq!(
            default_stake([40_000_000_000u128, 60_000_000_000].into_iter()),
            50_000_000_000
        );
        // Nothing staked anywhere (or an empty committee): the minimum.
        assert_eq!(default_stake([0u128, 0].into_iter()), MIN_STAKING_THRESHOLD);
        assert_eq!(default_stake(std::iter::empty()), MIN_STAKING_THRESHOLD);
    }
}
