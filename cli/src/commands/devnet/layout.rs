//! The devnet's data directory: what `floe devnet` creates once and reuses
//! on every later start.
//!
//! ```text
//! DIR/devnet.json            every endpoint, object id, key and config path (the manifest)
//! DIR/client.yaml            client config for `floe store/read/...` and the daemon
//! DIR/genesis.json           ledger genesis with the `floe` table (read once)
//! DIR/wallet/sui.keystore    the funded wallet (Sui CLI format)
//! DIR/ledger/                the ledger's data directory
//! DIR/nodes/node-I/          node I: node.toml, node.bls, operator.keystore, data/
//! DIR/coordinator/           the coordinator's config and its gas key
//! DIR/indexer/               the indexer's config and data (managed Postgres)
//! DIR/logs/NAME.log          each process's stdout and stderr
//! ```
//!
//! Ports are chosen when the directory is created and kept, so endpoints
//! written into configs and scripts stay valid across restarts.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use floe_chain::Keystore;
use floe_contracts::genesis::{FloeGenesis, GenesisNodeSpec, GenesisNodeStaking};
use floe_core::bls::BlsSecretKey;
use serde::{Deserialize, Serialize};

/// Where the WAL and floe packages are installed at genesis (the twin's
/// fixed addresses).
pub const WAL_PACKAGE: &str = "0x3a1";
pub const FLOE_PACKAGE: &str = "0xf10e";

/// SUI (in MIST) given to the wallet at genesis, split into a few coins so
/// transactions can run back to back.
const WALLET_MIST: u64 = 1_000_000_000_000_000;
const WALLET_COINS: u64 = 8;
/// SUI given to each node operator and to the coordinator for the gas of
/// their epoch-change calls (a million calls' worth on the devnet).
const SERVICE_MIST: u64 = 1_000_000_000_000;

/// WAL (FROST) the wallet stakes per shard with each genesis node at the
/// first start, so the committee chosen for epoch 1 is the genesis one.
pub const STAKE_PER_SHARD: u64 = 1_000_000 * 1_000_000_000;

/// Manifest format version; bumped when the layout changes incompatibly
/// (2: staking, node operators and the coordinator).
pub const MANIFEST_VERSION: u32 = 2;

/// `DIR/devnet.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub data_dir: PathBuf,
    /// gRPC (and gRPC-Web) endpoint of the ledger.
    pub ledger_url: String,
    /// The ledger's faucet (Sui's `POST /v2/gas`).
    pub faucet_url: String,
    pub wal_package: String,
    pub floe_package: String,
    /// Filled after the ledger's first start (found in the genesis
    /// checkpoint).
    #[serde(default)]
    pub system_object: Option<String>,
    #[serde(default)]
    pub treasury_object: Option<String>,
    #[serde(default)]
    pub staking_object: Option<String>,
    pub n_shards: u16,
    pub nodes: Vec<NodeEntry>,
    /// Nodes taken out with `floe devnet remove-node` (directories kept).
    #[serde(default)]
    pub removed_nodes: Vec<NodeEntry>,
    /// The publisher/aggregator daemon, when this build has one.
    #[serde(default)]
    pub daemon_url: Option<String>,
    /// The indexer's explorer API, when this build has one.
    #[serde(default)]
    pub indexer_url: Option<String>,
    /// The web explorer (runs when the indexer does).
    #[serde(default)]
    pub explorer_url: Option<String>,
    /// The coordinator's status endpoint.
    pub coordinator_url: String,
    /// Its gas key.
    pub coordinator_keystore: PathBuf,
    /// Epoch length (ms) fixed at creation.
    pub epoch_duration_ms: u64,
    /// Whether the wallet's initial stake with every node was made (at
    /// the first start, before epoch 0 ends).
    #[serde(default)]
    pub initial_stake_done: bool,
    pub wallet_address: String,
    pub wallet_keystore: PathBuf,
    pub client_config: PathBuf,
    pub genesis: PathBuf,
    pub logs_dir: PathBuf,
    /// Process ids of the running devnet (`floe devnet` itself first);
    /// empty when stopped. Tests use them to kill single nodes.
    #[serde(default)]
    pub pids: Vec<ProcessEntry>,
}

/// One storage node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeEntry {
    pub name: String,
    pub url: String,
    /// Compressed BLS public key, hex.
    pub public_key: String,
    pub shards: u16,
    pub config: PathBuf,
    pub data_dir: PathBuf,
    /// The operator's Sui address (owns the node's `StorageNodeCap` and
    /// pays its gas) and keystore.
    pub operator: String,
    pub operator_keystore: PathBuf,
}

/// A running process of the devnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessEntry {
    pub name: String,
    pub pid: u32,
}

/// What the user asked for when creating.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    pub nodes: u16,
    pub shards: u16,
    /// Pick free ephemeral ports instead of the defaults.
    pub auto_ports: bool,
    pub with_daemon: bool,
    pub with_indexer: bool,
    /// Epoch length.
    pub epoch_duration: std::time::Duration,
}

/// Default ports: the ledger as a Sui full node's 9000, nodes from 9185 as
/// Walrus's, the daemon at Walrus's publisher default 31415.
const LEDGER_PORT: u16 = 9000;
const FIRST_NODE_PORT: u16 = 9185;
const DAEMON_PORT: u16 = 31415;
const INDEXER_PORT: u16 = 9400;
const COORDINATOR_PORT: u16 = 9500;
const EXPLORER_PORT: u16 = 9600;

/// Hands out ports: the preferred one when free, else a fresh one
/// ([`fresh_port`]).
struct Ports {
    auto: bool,
    taken: Vec<u16>,
}

impl Ports {
    fn pick(&mut self, preferred: u16) -> Result<u16> {
        let port = if !self.auto && !self.taken.contains(&preferred) && port_is_free(preferred) {
            preferred
        } else {
            fresh_port(&self.taken)?
        };
        self.taken.push(port);
        Ok(port)
    }
}

/// Whether nothing listens on `127.0.0.1:port` (checked by binding it).
pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Lowest port [`fresh_port`] hands out: above the well-known services.
const FRESH_PORT_LOW: u16 = 20_000;

/// A free port on 127.0.0.1, not in `taken`, chosen at random *below* the
/// kernel's ephemeral range.
///
/// Why not `bind(0)`: a port taken that way is released until the service
/// binds it, seconds later for the daemon that starts last, and meanwhile
/// any outgoing connection on the machine may be given it as its local
/// port (seen in the test suite: the daemon failed to start). Ports below
/// the ephemeral range are never handed to outgoing connections, and a
/// random choice makes two devnets created at once unlikely to collide
/// (a collision that still happens is repaired at start-up, see
/// `devnet::start_service`). Falls back to `bind(0)` when the range leaves
/// no room below it.
pub fn fresh_port(taken: &[u16]) -> Result<u16> {
    use rand::Rng;
    let ephemeral_low = ephemeral_port_low();
    let mut rng = rand::rng();
    if ephemeral_low > FRESH_PORT_LOW + 1_000 {
        for _ in 0..1_000 {
            let port = rng.random_range(FRESH_PORT_LOW..ephemeral_low);
            if !taken.contains(&port) && port_is_free(port) {
                return Ok(port);
            }
        }
    }
    loop {
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).context("no free TCP port on 127.0.0.1")?;
        let port = listener.local_addr()?.port();
        if !taken.contains(&port) {
            return Ok(port);
        }
    }
}

/// The first port of the kernel's ephemeral range (Linux's default when
/// it cannot be read).
fn ephemeral_port_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// Shards per node: as even as possible, the first nodes take the rest.
pub fn split_shards(shards: u16, nodes: u16) -> Vec<u16> {
    (0..nodes)
        .map(|i| shards / nodes + u16::from(i < shards % nodes))
        .collect()
}

impl Manifest {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("devnet.json")
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let path = Self::path(dir);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let manifest: Manifest = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a floe devnet manifest; start over with --fresh",
                path.display()
            )
        })?;
        if manifest.version != MANIFEST_VERSION {
            bail!(
                "{} was written by another floe version (layout {}, this build {}); start over with --fresh",
                path.display(),
                manifest.version,
                MANIFEST_VERSION
            );
        }
        Ok(manifest)
    }

    /// Writes atomically (temp file + rename) so readers never see half a
    /// manifest.
    pub fn save(&self) -> Result<()> {
        let path = Self::path(&self.data_dir);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    pub fn ledger_dir(&self) -> PathBuf {
        self.data_dir.join("ledger")
    }

    pub fn ledger_listen(&self) -> Result<SocketAddr> {
        listen_of(&self.ledger_url)
    }

    /// Every port this devnet's endpoints name.
    pub fn ports(&self) -> Vec<u16> {
        let urls = [&self.ledger_url, &self.coordinator_url]
            .into_iter()
            .chain(self.nodes.iter().chain(&self.removed_nodes).map(|n| &n.url))
            .chain(self.daemon_url.iter())
            .chain(self.indexer_url.iter())
            .chain(self.explorer_url.iter());
        urls.filter_map(|url| listen_of(url).ok())
            .map(|addr| addr.port())
            .collect()
    }
}

/// `127.0.0.1:PORT` of an `http://127.0.0.1:PORT` URL.
pub fn listen_of(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url} is not an http:// URL"))?;
    rest.trim_end_matches('/')
        .parse()
        .with_context(|| format!("{url} does not name host:port"))
}

/// Creates a new devnet directory: wallet, node keys, genesis, node and
/// client configs. Processes are started by the caller.
pub fn create(dir: &Path, options: &CreateOptions) -> Result<Manifest> {
    if options.nodes == 0 || options.nodes > 64 {
        bail!("--nodes must be between 1 and 64");
    }
    let epoch_duration_ms = u64::try_from(options.epoch_duration.as_millis()).unwrap_or(u64::MAX);
    if !(1_000..=MAX_EPOCH_DURATION_MS).contains(&epoch_duration_ms) {
        bail!("--epoch-duration must be between 1s and 365days");
    }
    if options.shards < options.nodes.max(4) || options.shards > 1000 {
        bail!(
            "--shards must be between max(4, --nodes) and 1000 (got {} for {} nodes)",
            options.shards,
            options.nodes
        );
    }
    for sub in ["wallet", "ledger", "nodes", "logs", "coordinator"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("creating {}", dir.join(sub).display()))?;
    }
    let data_dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;

    // The wallet: one fresh ed25519 key that receives SUI and all WAL.
    let keystore_path = data_dir.join("wallet").join("sui.keystore");
    let mut keystore = Keystore::open(&keystore_path)?;
    let wallet = keystore.generate(Some("devnet"))?;
    keystore.save()?;

    let mut ports = Ports {
        auto: options.auto_ports,
        taken: Vec::new(),
    };
    let ledger_port = ports.pick(LEDGER_PORT)?;
    let ledger_url = format!("http://127.0.0.1:{ledger_port}");

    let mut nodes = Vec::new();
    let mut genesis_nodes = Vec::new();
    let mut node_staking = Vec::new();
    let mut accounts = vec![serde_json::json!({
        "address": wallet.to_string(), "balance": WALLET_MIST, "coins": WALLET_COINS,
    })];
    for (i, shards) in split_shards(options.shards, options.nodes)
        .into_iter()
        .enumerate()
    {
        let name = format!("node-{i}");
        let node_dir = data_dir.join("nodes").join(&name);
        std::fs::create_dir_all(node_dir.join("data"))?;
        let key = BlsSecretKey::generate().context("generating a BLS key")?;
        let key_path = node_dir.join("node.bls");
        crate::keyfile::write_new_key_file(&key_path, key.to_key_file_string().as_bytes())?;
        let public_key = hex::encode(key.public_key().to_bytes());
        let port = ports.pick(FIRST_NODE_PORT + i as u16)?;
        // On chain as Walrus stores it (`host:port`); the devnet's nodes
        // speak plain HTTP, so its readers use the `http` scheme.
        let network_address = format!("127.0.0.1:{port}");
        let url = format!("http://{network_address}");
        let operator_keystore = node_dir.join("operator.keystore");
        let operator = service_key(&operator_keystore, &name)?;
        accounts
            .push(serde_json::json!({ "address": operator.to_string(), "balance": SERVICE_MIST }));
        genesis_nodes.push(GenesisNodeSpec {
            public_key: public_key.clone(),
            shards,
        });
        node_staking.push(GenesisNodeStaking {
            name: Some(name.clone()),
            network_address,
            operator: Some(operator.to_string()),
            ..GenesisNodeStaking::default()
        });
        nodes.push(NodeEntry {
            name,
            url,
            public_key,
            shards,
            config: node_dir.join("node.toml"),
            data_dir: node_dir.join("data"),
            operator: operator.to_string(),
            operator_keystore,
        });
    }
    let daemon_url = if options.with_daemon {
        Some(format!("http://127.0.0.1:{}", ports.pick(DAEMON_PORT)?))
    } else {
        None
    };
    let indexer_url = if options.with_indexer {
        Some(format!("http://127.0.0.1:{}", ports.pick(INDEXER_PORT)?))
    } else {
        None
    };
    let explorer_url = if options.with_indexer {
        Some(format!("http://127.0.0.1:{}", ports.pick(EXPLORER_PORT)?))
    } else {
        None
    };

    let coordinator_url = format!("http://127.0.0.1:{}", ports.pick(COORDINATOR_PORT)?);
    let coordinator_keystore = data_dir.join("coordinator").join("sui.keystore");
    let coordinator = service_key(&coordinator_keystore, "coordinator")?;
    accounts
        .push(serde_json::json!({ "address": coordinator.to_string(), "balance": SERVICE_MIST }));

    let genesis_path = data_dir.join("genesis.json");
    let genesis = serde_json::json!({
        "chain_name": "floe-devnet",
        "accounts": accounts,
        "packages": [
            { "address": WAL_PACKAGE, "init_sender": wallet.to_string() },
            { "address": FLOE_PACKAGE },
        ],
        // The faucet's WAL comes out of the supply, never minted.
        "faucet_reserves": [crate::commands::ledger::wal_faucet_reserve(wallet)],
        "floe": FloeGenesis {
            nodes: genesis_nodes,
            node_staking,
            epoch_duration_ms,
            ..FloeGenesis::default()
        },
    });
    std::fs::write(&genesis_path, serde_json::to_string_pretty(&genesis)?)
        .with_context(|| format!("writing {}", genesis_path.display()))?;

    let manifest = Manifest {
        version: MANIFEST_VERSION,
        faucet_url: format!("{ledger_url}/v2/gas"),
        ledger_url,
        wal_package: WAL_PACKAGE.into(),
        floe_package: FLOE_PACKAGE.into(),
        system_object: None,
        treasury_object: None,
        staking_object: None,
        n_shards: options.shards,
        nodes,
        removed_nodes: Vec::new(),
        daemon_url,
        indexer_url,
        explorer_url,
        coordinator_url,
        coordinator_keystore,
        epoch_duration_ms,
        initial_stake_done: false,
        wallet_address: wallet.to_string(),
        wallet_keystore: keystore_path,
        client_config: data_dir.join("client.yaml"),
        genesis: genesis_path,
        logs_dir: data_dir.join("logs"),
        data_dir,
        pids: Vec::new(),
    };
    write_node_configs(&manifest)?;
    manifest.save()?;
    Ok(manifest)
}

/// `node.toml` of every node: its key, data directory, port, the chain
/// and its operator. No peer list: nodes find each other on chain (each
/// pool's `network_address`, which genesis sets to the node's port).
pub fn write_node_configs(manifest: &Manifest) -> Result<()> {
    for node in &manifest.nodes {
        write_node_config(manifest, node)?;
    }
    Ok(())
}

/// `node.toml` of one node (also of one added with `floe devnet add-node`).
pub fn write_node_config(manifest: &Manifest, node: &NodeEntry) -> Result<()> {
    use floe_node::config::{NodeChainConfig, NodeConfig, OperatorConfig};
    let config = NodeConfig {
        data_dir: node.data_dir.clone(),
        listen: listen_of(&node.url)?,
        bls_key_file: "node.bls".into(),
        chain: Some(NodeChainConfig::new(chain_config(manifest)?)),
        discovery: Default::default(),
        peer_overrides: Vec::new(),
        removed_peers: None,
        committee: None,
        recovery: Default::default(),
        limits: Default::default(),
        operator: Some(OperatorConfig {
            keystore: node.operator_keystore.clone(),
            address: node.operator.clone(),
            cap: None,
        }),
    };
    save_node_config(node, &config)
}

fn save_node_config(node: &NodeEntry, config: &floe_node::config::NodeConfig) -> Result<()> {
    let text = format!(
        "# floe devnet storage node {} (written by `floe devnet`).\n{}",
        node.name,
        toml::to_string_pretty(config)?
    );
    std::fs::write(&node.config, text).with_context(|| format!("writing {}", node.config.display()))
}

/// Brings node configs written by earlier versions up to date, so an
/// existing devnet keeps starting: drops `[[peers]]` (nodes refuse it:
/// peers are found on chain) and pins the ledger's validator key in
/// `[chain]` when no key is pinned. Other content is kept; comments are
/// lost.
pub fn upgrade_node_configs(manifest: &Manifest) -> Result<()> {
    let keys = validator_keys(manifest)?;
    for node in &manifest.nodes {
        let text = std::fs::read_to_string(&node.config)
            .with_context(|| format!("reading {}", node.config.display()))?;
        let mut config: floe_node::config::NodeConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", node.config.display()))?;
        let dropped_peers = config.removed_peers.take().is_some();
        let pin = config
            .chain
            .as_mut()
            .filter(|c| c.chain.validator_keys.is_empty());
        let pinned = pin.is_some();
        if let Some(chain) = pin {
            chain.chain.validator_keys = keys.clone();
        }
        if !dropped_peers && !pinned {
            continue;
        }
        tracing::info!(
            config = %node.config.display(),
            dropped_peers,
            pinned,
            "upgrading the node config (peers are found on chain; checkpoints are verified \
             against the ledger's validator key)"
        );
        save_node_config(node, &config)?;
    }
    Ok(())
}

/// The ledger's validator key(s): the one-member committee that certifies
/// every checkpoint. Created in the ledger's data directory if the ledger
/// has not run yet (the ledger then loads it), so every config the devnet
/// writes pins the key the ledger will sign with.
pub fn validator_keys(
    manifest: &Manifest,
) -> Result<Vec<floe_chain::sui_sdk_types::Bls12381PublicKey>> {
    let dir = manifest.ledger_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let validator = floe_ledger::validator::Validator::load_or_create(&dir)
        .with_context(|| format!("the ledger's validator key in {}", dir.display()))?;
    Ok(validator
        .committee(0)
        .members
        .into_iter()
        .map(|m| m.public_key)
        .collect())
}

/// `[chain]` of every service and `chain:` of the client: the ledger,
/// every floe object id known so far, and the ledger's validator key, so
/// followers verify checkpoints against it rather than trusting the
/// endpoint.
pub fn chain_config(manifest: &Manifest) -> Result<floe_chain::ChainConfig> {
    let parse = |text: &Option<String>| -> Result<Option<floe_chain::sui_sdk_types::Address>> {
        text.as_deref()
            .map(|t| t.parse().with_context(|| format!("object id {t}")))
            .transpose()
    };
    let mut chain = floe_chain::ChainConfig::new(
        vec![manifest.ledger_url.clone()],
        manifest.wal_package.parse()?,
        manifest.floe_package.parse()?,
    );
    chain.system = parse(&manifest.system_object)?;
    chain.treasury = parse(&manifest.treasury_object)?;
    chain.staking = parse(&manifest.staking_object)?;
    chain.validator_keys = validator_keys(manifest)?;
    Ok(chain)
}

/// A floe object id recorded in the manifest.
pub fn object_id(
    value: &Option<String>,
    what: &'static str,
) -> Result<floe_chain::sui_sdk_types::Address> {
    value
        .as_deref()
        .with_context(|| format!("the manifest has no {what} object id yet"))?
        .parse()
        .with_context(|| format!("the manifest's {what} object id"))
}

/// Longest `--epoch-duration`.
pub const MAX_EPOCH_DURATION_MS: u64 = 365 * 24 * 3_600_000;

/// A keystore with one fresh ed25519 key for a service (node operator,
/// coordinator); returns its address.
pub fn service_key(path: &Path, alias: &str) -> Result<floe_chain::sui_sdk_types::Address> {
    let mut keystore = Keystore::open(path)?;
    let address = keystore.generate(Some(alias))?;
    keystore.save()?;
    Ok(address)
}

/// `coordinator/coordinator.toml`: the chain, its gas key and its port.
pub fn write_coordinator_config(manifest: &Manifest) -> Result<PathBuf> {
    use floe_coordinator::config::{CoordinatorConfig, WalletSection};
    let config = CoordinatorConfig {
        listen: listen_of(&manifest.coordinator_url)?,
        // Epoch steps are due at exact times; poll often on short epochs.
        poll_ms: (manifest.epoch_duration_ms / 20).clamp(100, 1_000),
        chain: chain_config(manifest)?,
        wallet: WalletSection {
            keystore: manifest.coordinator_keystore.clone(),
            address: None,
        },
        // The follower's cursor and reports survive restarts of the devnet.
        data_dir: Some(manifest.data_dir.join("coordinator").join("state")),
        sync_grace_ms: floe_coordinator::config::DEFAULT_SYNC_GRACE_MS,
        renewal: Default::default(),
    };
    config.validate()?;
    let path = manifest
        .data_dir
        .join("coordinator")
        .join("coordinator.toml");
    let text = format!(
        "# floe devnet coordinator (written by `floe devnet`).\n{}",
        toml::to_string_pretty(&config)?
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `indexer/indexer.toml`: the indexer follows the devnet's chain into its
/// own managed Postgres under `indexer/data` (or `DATABASE_URL` when the
/// environment gives one).
pub fn write_indexer_config(manifest: &Manifest) -> Result<Option<PathBuf>> {
    let Some(url) = &manifest.indexer_url else {
        return Ok(None);
    };
    let dir = manifest.data_dir.join("indexer");
    std::fs::create_dir_all(dir.join("data"))?;
    let config = floe_indexer::IndexerConfig {
        database_url: None,
        data_dir: dir.join("data"),
        listen: listen_of(url)?,
        chain: chain_config(manifest)?,
        pipeline: Default::default(),
        api: Default::default(),
    };
    let path = dir.join("indexer.toml");
    let text = format!(
        "# floe devnet indexer (written by `floe devnet`).\n{}",
        toml::to_string_pretty(&config)?
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(path))
}

/// `client.yaml`: chain, floe ids, faucet, daemon and wallet, in
/// `floe_client`'s schema (relative keystore path, so the directory can be
/// moved). No node list: clients read node endpoints from the chain.
pub fn write_client_config(manifest: &Manifest) -> Result<()> {
    use floe_client::config::{ClientConfig, ClientLimits, WalletSection};
    let config = ClientConfig {
        chain: chain_config(manifest)?,
        wallet: WalletSection {
            keystore: PathBuf::from("wallet").join("sui.keystore"),
            address: Some(manifest.wallet_address.parse()?),
        },
        discovery: Default::default(),
        node_overrides: Vec::new(),
        removed_nodes: None,
        faucet: Some(manifest.faucet_url.clone()),
        daemon: manifest.daemon_url.clone(),
        limits: ClientLimits::default(),
    };
    config.save(&manifest.client_config)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_evenly_with_the_rest_first() {
        assert_eq!(split_shards(100, 4), vec![25, 25, 25, 25]);
        assert_eq!(split_shards(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(split_shards(7, 7), vec![1; 7]);
        assert_eq!(split_shards(1000, 3).iter().sum::<u16>(), 1000);
    }

    #[test]
    fn listen_address_of_a_url() {
        assert_eq!(
            listen_of("http://127.0.0.1:9000").unwrap(),
            "127.0.0.1:9000".parse().unwrap()
        );
        assert!(listen_of("https://x:1").is_err());
        assert!(listen_of("http://nohost").is_err());
    }

    #[test]
    fn fresh_ports_are_free_and_avoid_those_taken() {
        let first = fresh_port(&[]).unwrap();
        let held = TcpListener::bind(("127.0.0.1", first)).unwrap();
        assert!(!port_is_free(first));
        for _ in 0..50 {
            let port = fresh_port(&[first]).unwrap();
            assert_ne!(port, first);
            assert!((FRESH_PORT_LOW..ephemeral_port_low()).contains(&port));
        }
        drop(held);
        assert!(port_is_free(first));
    }

    #[test]
    fn create_writes_a_consistent_layout() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = create(
            dir.path(),
            &CreateOptions {
                nodes: 3,
                shards: 10,
                auto_ports: true,
                with_daemon: true,
                with_indexer: false,
                epoch_duration: std::time::Duration::from_secs(60),
            },
        )
        .unwrap();
        assert_eq!(manifest.nodes.len(), 3);
        assert_eq!(manifest.nodes.iter().map(|n| n.shards).sum::<u16>(), 10);
        let reloaded = Manifest::load(dir.path()).unwrap();
        assert_eq!(reloaded.ledger_url, manifest.ledger_url);
        // Every endpoint got its own port.
        let mut urls: Vec<&str> = manifest.nodes.iter().map(|n| n.url.as_str()).collect();
        urls.push(&manifest.ledger_url);
        urls.extend(manifest.daemon_url.as_deref());
        urls.push(&manifest.coordinator_url);
        let count = urls.len();
        urls.sort();
        urls.dedup();
        assert_eq!(urls.len(), count);
        // ... below the ephemeral range, where outgoing connections never
        // take them, and all of them known to the manifest.
        let mut ports = manifest.ports();
        assert_eq!(ports.len(), count);
        ports.sort_unstable();
        assert!(ports[0] >= FRESH_PORT_LOW, "{ports:?}");
        assert!(ports[count - 1] < ephemeral_port_low(), "{ports:?}");
        // The genesis parses as the ledger and the floe packages read it.
        let text = std::fs::read_to_string(&manifest.genesis).unwrap();
        let (rest, floe) = floe_contracts::genesis::split_genesis(&text, true).unwrap();
        floe_ledger::Genesis::parse(&rest, true).unwrap();
        let floe = floe.unwrap();
        assert_eq!(floe.parsed_nodes().unwrap().len(), 3);
        assert_eq!(floe.epoch_duration_ms, 60_000);
        assert_eq!(
            floe.node_staking[1].operator.as_deref(),
            Some(manifest.nodes[1].operator.as_str())
        );
        // BLS key files are readable by their owner only.
        #[cfg(unix)]
        for node in &manifest.nodes {
            use std::os::unix::fs::PermissionsExt as _;
            let key = node.config.with_file_name("node.bls");
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
        // On chain each node's address is `host:port` (as Walrus stores
        // it); the devnet's readers put the `http` scheme in front.
        for (staking, node) in floe.node_staking.iter().zip(&manifest.nodes) {
            floe_contracts::genesis::check_network_address(&staking.network_address).unwrap();
            assert_eq!(node.url, format!("http://{}", staking.network_address));
        }
        // Each operator's keystore holds its key.
        let operator = Keystore::open(&manifest.nodes[1].operator_keystore).unwrap();
        assert_eq!(
            operator.addresses()[0].to_string(),
            manifest.nodes[1].operator
        );
        // The wallet in the keystore is the funded account.
        let keystore = Keystore::open(&manifest.wallet_keystore).unwrap();
        assert_eq!(keystore.addresses()[0].to_string(), manifest.wallet_address);
        // Node configs name the chain and no peers (those are on chain),
        // and parse as the node reads them.
        let text = std::fs::read_to_string(&manifest.nodes[1].config).unwrap();
        let node: toml::Value = toml::from_str(&text).unwrap();
        assert!(node.get("peers").is_none(), "{text}");
        let parsed: floe_node::config::NodeConfig = toml::from_str(&text).unwrap();
        parsed.validate().unwrap();
        // Every config pins the key the ledger will sign with (created
        // in its data directory before its first start).
        let keys = validator_keys(&manifest).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(manifest.ledger_dir().join("validator.key").exists());
        assert_eq!(parsed.chain.as_ref().unwrap().chain.validator_keys, keys);
        write_client_config(&manifest).unwrap();
        let client = floe_client::config::ClientConfig::load(&manifest.client_config).unwrap();
        assert_eq!(client.chain.validator_keys, keys);
        let coordinator = write_coordinator_config(&manifest).unwrap();
        let coordinator = floe_coordinator::CoordinatorConfig::from_toml(
            &std::fs::read_to_string(coordinator).unwrap(),
        )
        .unwrap();
        assert_eq!(coordinator.chain.validator_keys, keys);
        assert_eq!(
            coordinator.chain.endpoints,
            vec![manifest.ledger_url.clone()]
        );
        // A node config of an earlier version (a peer list, no pin) is
        // brought up to date at start.
        let mut unpinned = parsed.clone();
        unpinned
            .chain
            .as_mut()
            .unwrap()
            .chain
            .validator_keys
            .clear();
        let old = format!(
            "{}\n[[peers]]\npublic_key = \"{}\"\nurl = \"{}\"\n",
            toml::to_string(&unpinned).unwrap(),
            manifest.nodes[0].public_key,
            manifest.nodes[0].url
        );
        std::fs::write(&manifest.nodes[1].config, old).unwrap();
        upgrade_node_configs(&manifest).unwrap();
        let migrated = std::fs::read_to_string(&manifest.nodes[1].config).unwrap();
        let parsed: floe_node::config::NodeConfig = toml::from_str(&migrated).unwrap();
        parsed.validate().unwrap();
        assert!(parsed.removed_peers.is_none(), "{migrated}");
        assert_eq!(parsed.chain.as_ref().unwrap().chain.validator_keys, keys);
        assert_eq!(parsed.listen, listen_of(&manifest.nodes[1].url).unwrap());
        assert_eq!(
            node["operator"]["address"].as_str(),
            Some(manifest.nodes[1].operator.as_str())
        );
        assert_eq!(
            node["chain"]["endpoints"][0].as_str(),
            Some(manifest.ledger_url.as_str())
        );
    }
}
