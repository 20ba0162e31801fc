//! The client configuration file, `client.yaml`.
//!
//! `floe devnet` writes it; every client command (`floe store`, `read`, ...,
//! `floe daemon`) reads it. It says where the chain is, where floe lives on
//! it and which wallet pays. Where each storage node serves its REST API is
//! read from the chain (each node's `network_address` in its staking pool,
//! see `floe_chain::floe::endpoints`), not from this file.
//!
//! ```yaml
//! chain:
//!   endpoints: ["http://127.0.0.1:9000"]   # Sui gRPC v2; first is preferred, others fail over
//!   wal_package: "0x3a1"
//!   floe_package: "0xf10e"
//!   system: "0x…"      # optional: the shared floe::system::System
//!   treasury: "0x…"    # optional: the shared wal::wal::ProtectedTreasury
//!   staking: "0x…"     # optional: the shared floe::staking::Staking
//!   validator_keys: ["kZ…"]  # optional: the genesis validator key(s), base64
//! wallet:
//!   keystore: sui.keystore   # Sui CLI keystore; relative to this file's directory
//!   address: "0x…"           # optional: which key of the keystore (default: the first)
//! discovery:                               # optional, every field optional
//!   scheme: http                           # in front of each node's on-chain host:port
//!   refresh_ms: 30000                      # re-read node endpoints at least this often
//!   min_refresh_ms: 1000                   # (also at epoch changes and after a failed
//!                                          # connection, never more often than this)
//! node_overrides:                          # tests only: replace one node's on-chain endpoint
//!   - public_key: "95a2…253b"             # hex of the 48-byte compressed BLS key
//!     url: "http://127.0.0.1:9999"
//! faucet: "http://127.0.0.1:9000/v2/gas"   # optional: Sui faucet API (the ledger serves one)
//! daemon: "http://127.0.0.1:31415"         # optional: a publisher/aggregator for `--daemon` use
//! limits:                                  # optional, every field optional
//!   max_concurrent_requests: 64
//!   request_timeout_ms: 30000
//!   connect_timeout_ms: 5000
//!   max_sliver_bytes: 268435456
//!   max_metadata_bytes: 67108864
//!   read_hedge_ms: 1500                    # default: request_timeout_ms / 20, within 250..=2000
//!   store_buffer_bytes: 33554432           # slivers a store holds produced but not yet uploaded (default: derived)
//!   store_spill_dir: /var/tmp              # a large store's scratch file (default: the OS temp dir)
//!   http2: false                           # h2c prior knowledge to the nodes instead of HTTP/1.1
//! ```
//!
//! `chain:` is [`floe_chain::ChainConfig`], the `[chain]` section of the
//! services: `system`/`treasury`/`staking` that are absent are discovered
//! in the genesis checkpoint ([`floe_chain::floe::FloeIds::discover`]),
//! which works on the devnet; on another chain give them. With
//! `validator_keys`, connecting fails unless the endpoint's validator
//! committee is the pinned one. Unknown keys are rejected so a typo
//! does not silently fall back to a default; so is `nodes:`, the list of
//! node endpoints earlier versions read (ignoring it would silently send a
//! test's requests past its proxy).
//!
//! Where the file is looked for: `--config FILE`, else `$FLOE_CONFIG`, else
//! [`default_config_path`] (`<user data dir>/floe/devnet/client.yaml`, the
//! file `floe devnet` writes by default).

use std::path::{Path, PathBuf};

use floe_chain::floe::endpoints::{DiscoveryConfig, check_override_url};
use floe_chain::sui_sdk_types::Address;
use floe_core::bls::BlsPublicKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "FLOE_CONFIG";

/// Largest config file read (a committee of 1000 nodes is ~150 KiB).
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Why the configuration could not be found, read or used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause is in the message, not a `source`, so error chains
    // (`{:#}`) do not print it twice.
    #[error("cannot read the client config {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the client config {path} is {size} bytes, above the {max}-byte limit")]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error("the client config {path} is not valid: {error}")]
    Parse {
        path: PathBuf,
        error: serde_yaml_ng::Error,
    },
    #[error("the client config is not valid: {0}")]
    Invalid(String),
    #[error("cannot write the client config {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot serialise the client config: {0}")]
    Serialize(serde_yaml_ng::Error),
    #[error("no user data directory is known on this system; pass --config or set {CONFIG_ENV}")]
    NoDataDir,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The chain and floe's objects on it.
    pub chain: ChainSection,
    /// The paying wallet.
    pub wallet: WalletSection,
    /// How node endpoints are read from the chain.
    #[serde(default, skip_serializing_if = "DiscoveryConfig::is_default")]
    pub discovery: DiscoveryConfig,
    /// Tests only: endpoints that replace the chain's, by BLS key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_overrides: Vec<NodeOverride>,
    /// `nodes:` of earlier versions, present only to be refused.
    #[serde(default, rename = "nodes", skip_serializing)]
    pub removed_nodes: Option<RemovedField>,
    /// Sui faucet API (`POST` with `{"FixedAmountRequest": {...}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faucet: Option<String>,
    /// A publisher/aggregator daemon's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon: Option<String>,
    /// Bounds of the client's network use.
    #[serde(default, skip_serializing_if = "ClientLimits::is_default")]
    pub limits: ClientLimits,
}

/// `chain:`: the section every service reads (`[chain]` in their TOML).
pub use floe_chain::ChainConfig as ChainSection;

/// `wallet:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletSection {
    /// A Sui CLI `sui.keystore` (JSON array of base64 keys); relative paths
    /// are relative to the config file's directory.
    pub keystore: PathBuf,
    /// The active address; the keystore's first key when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A field that is no longer read: deserializes anything, so its presence
/// can be reported with a clear error instead of serde's "unknown field".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovedField;

impl<'de> Deserialize<'de> for RemovedField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| RemovedField)
    }
}

/// One storage node's endpoint replacing the chain's (tests: a proxy in
/// front of a node): its protocol key (as in the on-chain committee) and
/// where to send its requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeOverride {
    /// The node's BLS public key, hex of the 48-byte compressed form.
    #[serde(with = "hex_public_key")]
    pub public_key: BlsPublicKey,
    /// Base URL, e.g. `http://127.0.0.1:9185`.
    pub url: String,
}

/// `limits:`: every count and wait the client spends on the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientLimits {
    /// Node requests in flight at once (uploads and downloads alike); with
    /// the encoder's output held in memory this bounds buffered copies too.
    pub max_concurrent_requests: usize,
    /// Budget of one node request.
    pub request_timeout_ms: u64,
    /// Budget of connecting to a node.
    pub connect_timeout_ms: u64,
    /// Largest sliver body accepted from a node (a node could otherwise
    /// make the client buffer without bound).
    pub max_sliver_bytes: u64,
    /// Largest metadata body accepted from a node (n = 1000 metadata are
    /// ~64 KiB).
    pub max_metadata_bytes: u64,
    /// How long a sliver request of a read may take before another sliver
    /// is asked of another node beside it (hedging). Absent: derived from
    /// `request_timeout_ms` ([`ClientLimits::hedge_delay`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_hedge_ms: Option<u64>,
    /// Sliver bytes a store holds produced but not yet accepted by the
    /// nodes (at least one pair per node). A blob whose slivers fit is
    /// encoded once, whole; a larger one gets its metadata from a pass
    /// that keeps no sliver, then each node's pairs are produced in groups
    /// as the uploads take them (`client/src/sliver_feed.rs`), so the
    /// store's memory is about 1.5x the blob plus this buffer. Absent: 32
    /// MiB decide what is encoded whole, and the upload window is 32 MiB
    /// plus what the blob leaves of the largest blob's memory
    /// ([`ClientLimits::store_window`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_buffer_bytes: Option<u64>,
    /// Where a store larger than the buffer writes its repair primary
    /// slivers (about 1.9x the blob at 100 shards) as its metadata pass
    /// computes them, in an unlinked scratch file, so the upload copies
    /// them instead of computing them again. Absent: the OS temp dir
    /// (`TMPDIR`, else `/tmp`). A directory that cannot take the file costs
    /// CPU, not correctness: the store logs it and computes them again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_spill_dir: Option<PathBuf>,
    /// Speak HTTP/2 to the nodes without negotiation (h2c prior
    /// knowledge; floe's nodes serve it beside HTTP/1.1): one multiplexed
    /// connection per node instead of a pool of HTTP/1.1 keep-alive
    /// connections. Off by default: it has not been measured against
    /// HTTP/1.1 keep-alive yet, and a node behind a plain HTTP/1.1 proxy
    /// would refuse it.
    pub http2: bool,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            max_concurrent_requests: 64,
            request_timeout_ms: 30_000,
            connect_timeout_ms: 5_000,
            max_sliver_bytes: 256 << 20,
            max_metadata_bytes: 64 << 20,
            read_hedge_ms: None,
            store_buffer_bytes: None,
            store_spill_dir: None,
            http2: false,
        }
    }
}

/// Default of [`ClientLimits::store_buffer_bytes`].
/// 32 MiB: a blob up to about 7 MiB (slivers are 4.4x the blob at 100
/// shards) is encoded once, whole; a larger one takes the spilling path
/// (one encoding pass, the repair primary slivers in a scratch file), whose
/// memory is about 1.5x the blob plus this buffer: 2.14x for the devnet's
/// largest blob (BENCHMARKS.md; 2.34x with 64 MiB).
pub const DEFAULT_STORE_BUFFER_BYTES: u64 = 32 << 20;

/// Bounds of the derived hedge delay: long enough that a healthy node
/// serving a large sliver is rarely hedged, short enough that a hung node
/// costs seconds, not the request timeout.
const MIN_DERIVED_HEDGE_MS: u64 = 250;
const MAX_DERIVED_HEDGE_MS: u64 = 2_000;

impl ClientLimits {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Where a large store's scratch file goes: `store_spill_dir`, else
    /// the OS temp dir.
    pub fn store_spill_dir(&self) -> PathBuf {
        self.store_spill_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
    }

    /// The buffer that decides whether a blob's slivers are encoded whole:
    /// `store_buffer_bytes`, else [`DEFAULT_STORE_BUFFER_BYTES`].
    pub fn store_buffer(&self) -> u64 {
        self.store_buffer_bytes
            .unwrap_or(DEFAULT_STORE_BUFFER_BYTES)
    }

    /// The upload window of a store of `len` bytes where the largest blob
    /// is `max`: `store_buffer_bytes`, else [`DEFAULT_STORE_BUFFER_BYTES`]
    /// plus 1.5x what the blob is short of the largest.
    ///
    /// Why: a store that spills holds about 1.5x its blob (the blob and half
    /// a blob of row repair symbols) besides the window, so the largest
    /// blob with the default window sets the bound of a store's memory
    /// (2.0x that blob, BENCHMARKS.md). A smaller blob spends what it
    /// leaves of that bound on a deeper window, which keeps every node's
    /// verify-and-write pipeline fed: with each node holding two pairs at
    /// a time, a 100 MiB store left the CPU idle a fifth of its upload, and
    /// a 96 MiB window took about a tenth off the whole store.
    pub fn store_window(&self, len: u64, max: u64) -> u64 {
        self.store_buffer_bytes.unwrap_or_else(|| {
            DEFAULT_STORE_BUFFER_BYTES.saturating_add(max.saturating_sub(len).saturating_mul(3) / 2)
        })
    }

    /// The read hedge delay: `read_hedge_ms`, else a twentieth of the
    /// request timeout within 250 ms..=2 s (1.5 s for the default 30 s).
    pub fn hedge_delay(&self) -> std::time::Duration {
        let ms = self.read_hedge_ms.unwrap_or_else(|| {
            (self.request_timeout_ms / 20).clamp(MIN_DERIVED_HEDGE_MS, MAX_DERIVED_HEDGE_MS)
        });
        std::time::Duration::from_millis(ms)
    }
}

mod hex_public_key {
    use super::*;

    pub fn serialize<S: Serializer>(key: &BlsPublicKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(key.as_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BlsPublicKey, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text.trim_start_matches("0x"))
            .map_err(|e| serde::de::Error::custom(format!("public_key is not hex: {e}")))?;
        BlsPublicKey::from_bytes(&bytes)
            .map_err(|e| serde::de::Error::custom(format!("public_key is not a BLS key: {e}")))
    }
}

impl ClientConfig {
    /// Parses YAML text; relative paths stay as written (see
    /// [`ClientConfig::load`] for resolution against the file).
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(text)
    }

    /// The YAML text of this config.
    pub fn to_yaml(&self) -> Result<String, ConfigError> {
        serde_yaml_ng::to_string(self).map_err(ConfigError::Serialize)
    }

    /// Reads and checks a config file; the keystore path is made absolute
    /// relative to the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let read_err = |error| ConfigError::Read {
            path: path.to_owned(),
            error,
        };
        let size = std::fs::metadata(path).map_err(read_err)?.len();
        if size > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                path: path.to_owned(),
                size,
                max: MAX_CONFIG_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        let mut config = Self::from_yaml(&text).map_err(|error| ConfigError::Parse {
            path: path.to_owned(),
            error,
        })?;
        if config.wallet.keystore.is_relative()
            && let Some(dir) = path.parent()
        {
            config.wallet.keystore = dir.join(&config.wallet.keystore);
        }
        config.validate()?;
        Ok(config)
    }

    /// Writes the file (what `floe devnet` calls), creating parent
    /// directories.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let write_err = |error| ConfigError::Write {
            path: path.to_owned(),
            error,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        std::fs::write(path, self.to_yaml()?).map_err(write_err)
    }

    /// Checks what serde cannot: endpoints present, URLs parse, no node
    /// listed twice, limits non-zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if let Err(e) = self.chain.validate() {
            return invalid(e.to_string());
        }
        if self.removed_nodes.is_some() {
            return invalid(
                "`nodes:` is no longer read: node endpoints come from the chain (each node's \
                 network_address); delete the list (tests can point a node's key elsewhere \
                 with `node_overrides:`)"
                    .into(),
            );
        }
        if let Err(e) = self.discovery.validate() {
            return invalid(format!("discovery: {e}"));
        }
        for url in self
            .chain
            .endpoints
            .iter()
            .chain(self.faucet.iter())
            .chain(self.daemon.iter())
        {
            if let Err(e) = reqwest::Url::parse(url) {
                return invalid(format!("{url:?} is not a URL: {e}"));
            }
        }
        self.overrides()?;
        let l = &self.limits;
        if l.max_concurrent_requests == 0
            || l.request_timeout_ms == 0
            || l.connect_timeout_ms == 0
            || l.max_sliver_bytes == 0
            || l.max_metadata_bytes == 0
            || l.read_hedge_ms == Some(0)
            || l.store_buffer_bytes == Some(0)
        {
            return invalid("every value under limits must be above zero".into());
        }
        Ok(())
    }

    /// `node_overrides` by key, each URL checked (trailing slash dropped);
    /// a key given twice is an error.
    pub fn overrides(
        &self,
    ) -> Result<std::collections::HashMap<BlsPublicKey, String>, ConfigError> {
        let mut out = std::collections::HashMap::new();
        for node in &self.node_overrides {
            let url = check_override_url(&node.url)
                .map_err(|e| ConfigError::Invalid(format!("node_overrides: {e}")))?;
            if out.insert(node.public_key, url).is_some() {
                return Err(ConfigError::Invalid(format!(
                    "node_overrides: node {} is listed twice",
                    node.public_key
                )));
            }
        }
        Ok(out)
    }
}

/// `<user data dir>/floe/devnet/client.yaml` (on Linux
/// `~/.local/share/floe/devnet/client.yaml`).
pub fn default_config_path() -> Result<PathBuf, ConfigError> {
    dirs::data_dir()
        .map(|d| d.join("floe").join("devnet").join("client.yaml"))
        .ok_or(ConfigError::NoDataDir)
}

/// The config path to use: `explicit`, else `$FLOE_CONFIG`, else the
/// devnet default.
pub fn resolve_config_path(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    default_config_path()
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_core::bls::BlsSecretKey;

    fn key(seed: u8) -> BlsPublicKey {
        BlsSecretKey::from_seed(&[seed; 32]).public_key()
    }

    fn sample() -> ClientConfig {
        ClientConfig {
            chain: ChainSection::new(
                vec!["http://127.0.0.1:9000".into()],
                "0x3a1".parse().unwrap(),
                "0xf10e".parse().unwrap(),
            ),
            wallet: WalletSection {
                keystore: "sui.keystore".into(),
                address: None,
            },
            discovery: DiscoveryConfig::default(),
            node_overrides: vec![
                NodeOverride {
                    public_key: key(1),
                    url: "http://127.0.0.1:9185".into(),
                },
                NodeOverride {
                    public_key: key(2),
                    url: "http://127.0.0.1:9186/".into(),
                },
            ],
            removed_nodes: None,
            faucet: Some("http://127.0.0.1:9000/v2/gas".into()),
            daemon: None,
            limits: ClientLimits::default(),
        }
    }

    #[test]
    fn round_trips_through_yaml_and_a_file() {
        let config = sample();
        let yaml = config.to_yaml().unwrap();
        assert!(yaml.contains(&hex::encode(key(1).as_bytes())), "{yaml}");
        assert!(!yaml.contains("limits"), "defaults are not written: {yaml}");
        assert_eq!(ClientConfig::from_yaml(&yaml).unwrap(), config);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("client.yaml");
        config.save(&path).unwrap();
        let loaded = ClientConfig::load(&path).unwrap();
        assert_eq!(
            loaded.wallet.keystore,
            dir.path().join("sub").join("sui.keystore"),
            "relative keystore resolves against the file"
        );
        assert_eq!(loaded.node_overrides, config.node_overrides);
        let overrides = loaded.overrides().unwrap();
        assert_eq!(
            overrides.get(&key(2)).map(String::as_str),
            Some("http://127.0.0.1:9186")
        );
        assert_eq!(overrides.get(&key(3)), None);
    }

    #[test]
    fn parses_the_documented_example() {
        let yaml = format!(
            "chain:\n  endpoints: [\"http://127.0.0.1:9000\"]\n  wal_package: \"0x3a1\"\n  floe_package: \"0xf10e\"\n\
             wallet:\n  keystore: /tmp/sui.keystore\n\
             discovery:\n  scheme: https\n\
             node_overrides:\n  - public_key: \"{}\"\n    url: \"http://127.0.0.1:9185\"\n\
             limits:\n  max_concurrent_requests: 8\n",
            hex::encode(key(1).as_bytes())
        );
        let config = ClientConfig::from_yaml(&yaml).unwrap();
        config.validate().unwrap();
        assert_eq!(config.limits.max_concurrent_requests, 8);
        assert_eq!(config.limits.request_timeout_ms, 30_000);
        assert_eq!(config.wallet.address, None);
        assert_eq!(
            config.discovery.scheme,
            floe_chain::floe::endpoints::Scheme::Https
        );
        assert_eq!(
            config.limits.hedge_delay(),
            std::time::Duration::from_millis(1_500),
            "derived from the request timeout"
        );
    }

    #[test]
    fn rejects_typos_bad_keys_and_bad_values() {
        let good = sample().to_yaml().unwrap();
        let typo = good.replace("endpoints", "endpoint");
        assert!(ClientConfig::from_yaml(&typo).is_err());
        let bad_key = good.replace(&hex::encode(key(1).as_bytes()), "abcd");
        let err = ClientConfig::from_yaml(&bad_key).unwrap_err().to_string();
        assert!(err.contains("BLS"), "{err}");

        let mut twice = sample();
        twice.node_overrides[1].public_key = key(1);
        assert!(matches!(twice.validate(), Err(ConfigError::Invalid(m)) if m.contains("twice")));
        let mut bad_url = sample();
        bad_url.node_overrides[0].url = "not a url".into();
        assert!(bad_url.validate().is_err());
        let mut bad_discovery = sample();
        bad_discovery.discovery.refresh_ms = 0;
        assert!(bad_discovery.validate().is_err());
        let mut no_endpoint = sample();
        no_endpoint.chain.endpoints.clear();
        assert!(no_endpoint.validate().is_err());
        let mut zero = sample();
        zero.limits.max_concurrent_requests = 0;
        assert!(zero.validate().is_err());
        let mut zero_hedge = sample();
        zero_hedge.limits.read_hedge_ms = Some(0);
        assert!(zero_hedge.validate().is_err());
        let mut zero_buffer = sample();
        zero_buffer.limits.store_buffer_bytes = Some(0);
        assert!(zero_buffer.validate().is_err());
    }

    #[test]
    fn the_upload_window_spends_what_a_smaller_blob_leaves() {
        let max: u64 = 142 << 20;
        let derived = ClientLimits::default();
        assert_eq!(derived.store_buffer(), DEFAULT_STORE_BUFFER_BYTES);
        // The largest blob gets the default; a smaller one 1.5x what it is
        // short of the largest on top, so 1.5x the blob plus the window
        // stays what the largest blob takes.
        assert_eq!(derived.store_window(max, max), DEFAULT_STORE_BUFFER_BYTES);
        assert_eq!(
            derived.store_window(max + 1, max),
            DEFAULT_STORE_BUFFER_BYTES
        );
        for len in [0, 1 << 20, 100 << 20, max] {
            let window = derived.store_window(len, max);
            assert_eq!(
                len * 3 / 2 + window,
                max * 3 / 2 + DEFAULT_STORE_BUFFER_BYTES,
                "{len}"
            );
        }
        // A configured buffer is the window, whatever the blob.
        let set = ClientLimits {
            store_buffer_bytes: Some(1),
            ..ClientLimits::default()
        };
        assert_eq!(set.store_buffer(), 1);
        assert_eq!(set.store_window(1 << 20, max), 1);
        let yaml = sample().to_yaml().unwrap();
        assert!(!yaml.contains("store_buffer_bytes"), "absent stays absent");
    }

    #[test]
    fn the_old_node_list_is_refused_with_a_reason() {
        let yaml = format!(
            "chain:\n  endpoints: [\"http://127.0.0.1:9000\"]\n  wal_package: \"0x3a1\"\n  floe_package: \"0xf10e\"\n\
             wallet:\n  keystore: /tmp/sui.keystore\n\
             nodes:\n  - public_key: \"{}\"\n    url: \"http://127.0.0.1:9185\"\n",
            hex::encode(key(1).as_bytes())
        );
        let config = ClientConfig::from_yaml(&yaml).unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("`nodes:` is no longer read"), "{err}");
        assert!(err.contains("node_overrides"), "{err}");
        // A config written now has neither the list nor empty sections.
        let mut minimal = sample();
        minimal.node_overrides.clear();
        let written = minimal.to_yaml().unwrap();
        assert!(!written.contains("nodes"), "{written}");
        assert!(!written.contains("discovery"), "{written}");
    }

    #[test]
    fn explicit_path_wins() {
        let p = Path::new("/x/client.yaml");
        assert_eq!(resolve_config_path(Some(p)).unwrap(), p);
    }
}
