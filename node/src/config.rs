//! The node's TOML config file (`floe node run --config FILE`).
//!
//! A node that follows the chain (the normal case; `floe devnet` writes
//! exactly this):
//!
//! ```toml
//! data_dir = "/var/lib/floe/node"
//! listen = "127.0.0.1:9185"
//! bls_key_file = "node.bls"        # Walrus key-file format (base64)
//!
//! [chain]
//! endpoints = ["http://127.0.0.1:9000"]   # gRPC, tried in order (failover)
//! wal_package = "0x3a1"
//! floe_package = "0xf10e"
//! # system = "0x…"                # optional, each on its own; the others are
//! # treasury = "0x…"              # found in the genesis checkpoint
//! # staking = "0x…"
//! validator_keys = ["kZ…"]         # the genesis validator key(s), base64:
//! #                                # checkpoints are verified against them
//! # committee_refresh_ms = 10000  # (node only) re-read the committee this often
//! # [chain] is floe_chain::ChainConfig (see its docs) plus committee_refresh_ms.
//!
//! # Peers are found on chain: each committee member's `network_address`
//! # in its staking pool (floe_chain::floe::endpoints). All optional:
//! [discovery]
//! scheme = "http"                  # put in front of the on-chain host:port
//! refresh_ms = 30000               # re-read at least this often (and at every
//! #                                # epoch change, and after a failed connection)
//! min_refresh_ms = 1000            # never more often than this
//!
//! # Tests only: replace one node's on-chain endpoint, by BLS public key
//! # (hex of the 48-byte compressed key).
//! # [[peer_overrides]]
//! # public_key = "95a2…"
//! # url = "http://127.0.0.1:9185"
//!
//! [recovery]                        # all optional; also bound shard sync
//! max_concurrent_blobs = 4
//! max_attempts = 20
//! initial_backoff_ms = 500
//! max_backoff_ms = 30000
//! peer_timeout_ms = 30000
//!
//! # The operator's Sui identity, for `staking::epoch_sync_done` after an
//! # epoch change (optional: without it the node syncs gained shards but
//! # does not report, and the epoch change needs the others' quorum).
//! [operator]
//! keystore = "/var/lib/floe/operator.keystore"  # Sui CLI `sui.keystore` format
//! address = "0x1a2b…"              # which key of the keystore signs (pays gas)
//! # cap = "0x…"                    # the node's StorageNodeCap; when absent, the
//! #                                # cap owned by `address` whose node_id is this
//! #                                # node's (the member with this BLS key)
//!
//! [limits]                          # all optional
//! max_body_bytes = 67108864
//! request_timeout_ms = 30000
//! pending_metadata_entries = 1024
//! pending_metadata_bytes = 67108864
//! pending_sliver_bytes = 268435456
//! pending_sliver_blobs = 1024
//! pending_ttl_ms = 300000
//! max_concurrent_uploads = 128       # PUT metadata/sliver; more are shed (503)
//! max_concurrent_reads = 256         # GET metadata/sliver/status/confirmation
//! max_concurrent_symbol_requests = 64
//! max_symbol_targets = 1000
//! max_registration_wait_ms = 10000
//! ```
//!
//! Paths: `keystore` is used as written (the binary resolves only
//! `data_dir` and `bls_key_file` against the config file's directory;
//! [`NodeConfig::resolve_paths`] does all three for a caller that wants
//! it), so write it absolute.
//!
//! `[[peers]]`, the list of peers earlier versions read, is refused with
//! an error saying so: peers come from the chain now, and a list that is
//! silently ignored would hide a test's proxy or a stale address.
//!
//! Static mode, for tests of the API without a chain: instead of `[chain]`,
//! a `[committee]` table (`epoch`, `n_shards`, `owned_shards`) fixes the
//! committee. Such a node follows nothing, so every blob is unregistered to
//! it; it exists to exercise validation and rejection paths. Exactly one of
//! `[chain]` and `[committee]` must be given.

use std::net::SocketAddr;
use std::path::PathBuf;

use floe_chain::floe::endpoints::{DiscoveryConfig, check_override_url};
use floe_chain::sui_sdk_types::Address;
use floe_core::bls::BlsPublicKey;
use serde::{Deserialize, Serialize};

/// Default REST port, as Walrus's.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9185";

/// Why a config file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither or both of `[chain]` and `[committee]`.
    #[error("give exactly one of [chain] (follow the chain) and [committee] (static test mode)")]
    Mode,
    /// `[chain]` is unusable.
    #[error(transparent)]
    Chain(#[from] floe_chain::ChainConfigError),
    /// A peer override's key or url is unusable.
    #[error("[[peer_overrides]] entry {index}: {reason}")]
    Peer {
        /// Position in `[[peer_overrides]]`.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A field earlier versions read is present.
    #[error("{field} is no longer read: {hint}")]
    Removed {
        /// The field.
        field: &'static str,
        /// What to do instead.
        hint: &'static str,
    },
    /// `[discovery]` is unusable.
    #[error("[discovery] {0}")]
    Discovery(String),
    /// The peers' HTTP client could not be built.
    #[error("HTTP client for peers: {0}")]
    HttpClient(String),
    /// `[operator]` is unusable.
    #[error("[operator] {0}")]
    Operator(String),
}

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Directory of the durable store.
    pub data_dir: PathBuf,
    /// Address of the REST API (`127.0.0.1:0` picks a free port).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The BLS protocol key in Walrus's key-file format; relative paths are
    /// resolved against the config file's directory by the binary.
    pub bls_key_file: PathBuf,
    /// The chain to follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<NodeChainConfig>,
    /// How peers' endpoints are read from the chain.
    #[serde(default, skip_serializing_if = "DiscoveryConfig::is_default")]
    pub discovery: DiscoveryConfig,
    /// Tests only: endpoints that replace the chain's for these keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peer_overrides: Vec<PeerConfig>,
    /// `[[peers]]` of earlier versions, present only to be refused.
    #[serde(default, rename = "peers", skip_serializing)]
    pub removed_peers: Option<RemovedField>,
    /// Static committee (test mode without a chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committee: Option<CommitteeConfig>,
    /// Self-healing bounds.
    #[serde(default, skip_serializing_if = "RecoveryConfig::is_default")]
    pub recovery: RecoveryConfig,
    /// Bounds on what clients can make the node do.
    #[serde(default, skip_serializing_if = "Limits::is_default")]
    pub limits: Limits,
    /// The operator's Sui key and `StorageNodeCap` (reports sync done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<OperatorConfig>,
}

impl NodeConfig {
    /// Checks what serde cannot: one mode, parsable addresses and keys.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match (&self.chain, &self.committee) {
            (Some(chain), None) => chain.chain.validate()?,
            (None, Some(_)) => {}
            _ => return Err(ConfigError::Mode),
        }
        if self.removed_peers.is_some() {
            return Err(ConfigError::Removed {
                field: "[[peers]]",
                hint: "peers are found on chain (each node's network_address); delete the \
                       [[peers]] entries (tests can point a key elsewhere with [[peer_overrides]])",
            });
        }
        self.discovery.validate().map_err(ConfigError::Discovery)?;
        self.overrides()?;
        if let Some(operator) = &self.operator {
            if self.chain.is_none() {
                return Err(ConfigError::Operator(
                    "needs [chain]: a static node reports nothing".into(),
                ));
            }
            operator.ids()?;
        }
        Ok(())
    }

    /// `[[peer_overrides]]` by key, each checked; a key given twice is an
    /// error.
    pub fn overrides(
        &self,
    ) -> Result<std::collections::HashMap<BlsPublicKey, String>, ConfigError> {
        let mut out = std::collections::HashMap::new();
        for (index, p) in self.peer_overrides.iter().enumerate() {
            let (key, url) = p
                .parse()
                .map_err(|reason| ConfigError::Peer { index, reason })?;
            if out.insert(key, url).is_some() {
                return Err(ConfigError::Peer {
                    index,
                    reason: format!("key {key} is given twice"),
                });
            }
        }
        Ok(out)
    }

    /// Resolves relative `data_dir`, `bls_key_file` and
    /// `[operator] keystore` against `base` (the config file's directory).
    pub fn resolve_paths(&mut self, base: &std::path::Path) {
        let resolve = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            }
        };
        self.data_dir = resolve(&self.data_dir);
        self.bls_key_file = resolve(&self.bls_key_file);
        if let Some(operator) = &mut self.operator {
            operator.keystore = resolve(&operator.keystore);
        }
    }
}

/// `[operator]`: the Sui account that owns the node's `StorageNodeCap`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// A keystore in the Sui CLI format (JSON array of base64
    /// `flag || secret`, as `floe`'s wallet writes `sui.keystore`).
    pub keystore: PathBuf,
    /// The address (hex) of the key to sign with; it must own the cap and
    /// hold SUI for gas.
    pub address: String,
    /// The `StorageNodeCap` object id; looked up by owner and node id when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<String>,
}

impl OperatorConfig {
    /// The parsed address and cap id.
    pub fn ids(&self) -> Result<(Address, Option<Address>), ConfigError> {
        let parse = |field: &str, value: &str| {
            value.parse::<Address>().map_err(|e| {
                ConfigError::Operator(format!("{field}: {value:?} is not an address: {e}"))
            })
        };
        let address = parse("address", &self.address)?;
        let cap = self.cap.as_deref().map(|c| parse("cap", c)).transpose()?;
        Ok((address, cap))
    }
}

fn default_listen() -> SocketAddr {
    // A constant that parses; `expect` cannot fire on it.
    DEFAULT_LISTEN
        .parse()
        .expect("default listen address parses")
}

/// `[chain]` of a node: the section every service reads
/// ([`floe_chain::ChainConfig`]) plus `committee_refresh_ms`, which only
/// the node reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeChainConfig {
    /// Endpoints, floe's ids and the pinned validator keys.
    #[serde(flatten)]
    pub chain: floe_chain::ChainConfig,
    /// How often (ms) the node re-reads the committee (`System` and
    /// `Staking`). `EpochChangeStart` events trigger the read at once; the
    /// periodic one is the fallback that cannot miss an epoch change.
    #[serde(skip_serializing_if = "is_default_refresh")]
    pub committee_refresh_ms: u64,
}

fn is_default_refresh(ms: &u64) -> bool {
    *ms == DEFAULT_COMMITTEE_REFRESH_MS
}

/// Default of [`NodeChainConfig::committee_refresh_ms`].
pub const DEFAULT_COMMITTEE_REFRESH_MS: u64 = 10_000;

impl NodeChainConfig {
    /// The shared section with the default refresh.
    pub fn new(chain: floe_chain::ChainConfig) -> Self {
        Self {
            chain,
            committee_refresh_ms: DEFAULT_COMMITTEE_REFRESH_MS,
        }
    }
}

impl<'de> Deserialize<'de> for NodeChainConfig {
    /// Takes the node's own key out, then reads the rest strictly as the
    /// shared section (serde's `flatten` would lose `deny_unknown_fields`,
    /// so a misspelled key would be silently ignored).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut table = toml::Table::deserialize(d)?;
        let committee_refresh_ms = match table.remove("committee_refresh_ms") {
            None => DEFAULT_COMMITTEE_REFRESH_MS,
            Some(value) => value
                .try_into()
                .map_err(|e| D::Error::custom(format!("committee_refresh_ms: {e}")))?,
        };
        let chain = floe_chain::ChainConfig::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(e.message()))?;
        Ok(Self {
            chain,
            committee_refresh_ms,
        })
    }
}

/// A field that is no longer read: deserializes anything, so its presence
/// can be reported with a clear error instead of serde's "unknown field".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovedField;

impl<'de> Deserialize<'de> for RemovedField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| RemovedField)
    }
}

/// `[[peer_overrides]]`: one node's REST endpoint, replacing the chain's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Hex of the member's 48-byte compressed BLS public key.
    pub public_key: String,
    /// Base URL of its REST API, e.g. `http://127.0.0.1:9185`.
    pub url: String,
}

impl PeerConfig {
    /// The key and the URL without a trailing slash.
    pub fn parse(&self) -> Result<(BlsPublicKey, String), String> {
        let bytes = hex::decode(self.public_key.trim_start_matches("0x"))
            .map_err(|e| format!("public_key is not hex: {e}"))?;
        let key = BlsPublicKey::from_bytes(&bytes).map_err(|e| format!("public_key: {e}"))?;
        Ok((key, check_override_url(&self.url)?))
    }
}

/// `[committee]` (static test mode only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeConfig {
    /// Current epoch.
    pub epoch: u32,
    /// Committee size in shards.
    pub n_shards: u16,
    /// Shards this node owns.
    pub owned_shards: Vec<u16>,
}

/// `[recovery]`: how hard and how wide self-healing works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryConfig {
    /// Blobs recovered at the same time (each asks every peer at once);
    /// also the blobs shard sync fills at the same time.
    pub max_concurrent_blobs: usize,
    /// Attempts per blob before it is left in the durable queue until the
    /// next restart or epoch change (a blob nobody can serve must not spin
    /// forever).
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt.
    pub initial_backoff_ms: u64,
    /// Retry delay cap.
    pub max_backoff_ms: u64,
    /// Time budget of one request to a peer.
    pub peer_timeout_ms: u64,
}

impl RecoveryConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The pause before retry `attempt` (1-based): `initial_backoff_ms`
    /// doubled per attempt, capped at `max_backoff_ms`. Shared by recovery
    /// and shard sync.
    pub fn backoff(&self, attempt: u32) -> std::time::Duration {
        let base = self
            .initial_backoff_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        std::time::Duration::from_millis(base.min(self.max_backoff_ms))
    }
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            max_concurrent_blobs: 4,
            max_attempts: 20,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            peer_timeout_ms: 30_000,
        }
    }
}

/// `[limits]`: every size, count and wait an outsider can influence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body; larger ones get 413. The default fits a
    /// sliver of the largest blob at n = 1000 with room to spare (32 MiB
    /// slivers come from ~13 GiB blobs).
    pub max_body_bytes: usize,
    /// Time budget of one request, after which it is answered 408.
    pub request_timeout_ms: u64,
    /// Metadata buffered with `?pending=true` before registration: entries.
    pub pending_metadata_entries: usize,
    /// ... and total bytes.
    pub pending_metadata_bytes: usize,
    /// Sliver bytes buffered with `?pending=true` before registration.
    pub pending_sliver_bytes: usize,
    /// Blobs with slivers buffered with `?pending=true`.
    pub pending_sliver_blobs: usize,
    /// How long buffered uploads wait for their registration. Buffered
    /// entries are never evicted to make room (a full cache refuses new
    /// ones with `CACHE_SATURATED`), only dropped after this.
    pub pending_ttl_ms: u64,
    /// Concurrent uploads (metadata and sliver PUTs); more are shed at once
    /// with 503 `UNAVAILABLE` instead of queueing on the store.
    pub max_concurrent_uploads: usize,
    /// Concurrent reads (metadata, slivers, statuses, confirmations); more
    /// are shed with 503.
    pub max_concurrent_reads: usize,
    /// Concurrent recovery/decoding-symbol and inconsistency-proof requests
    /// (each expands slivers); more are shed with 503 `UNAVAILABLE`.
    pub max_concurrent_symbol_requests: usize,
    /// Targets in one decoding-symbol request.
    pub max_symbol_targets: usize,
    /// Longest wait a confirmation request may ask for
    /// (`wait_for_registration=true&wait_millis=N` is capped to this).
    pub max_registration_wait_ms: u64,
}

impl Limits {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 20,
            request_timeout_ms: 30_000,
            pending_metadata_entries: 1024,
            pending_metadata_bytes: 64 << 20,
            pending_sliver_bytes: 256 << 20,
            pending_sliver_blobs: 1024,
            pending_ttl_ms: 300_000,
            max_concurrent_uploads: 128,
            max_concurrent_reads: 256,
            max_concurrent_symbol_requests: 64,
            max_symbol_targets: 1000,
            max_registration_wait_ms: 10_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "data_dir = \"d\"\nbls_key_file = \"k\"\n\
        [chain]\nendpoints = [\"http://127.0.0.1:1\"]\nwal_package = \"0x3a1\"\nfloe_package = \"0xf10e\"\n";

    fn parse(extra: &str) -> Result<NodeConfig, String> {
        let config: NodeConfig =
            toml::from_str(&format!("{BASE}{extra}")).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    #[test]
    fn operator_section_is_optional_and_checked() {
        assert!(parse("").unwrap().operator.is_none());
        let ok =
            parse("[operator]\nkeystore = \"/k/sui.keystore\"\naddress = \"0xabc\"\n").unwrap();
        let op = ok.operator.unwrap();
        assert_eq!(op.ids().unwrap().1, None);
        let with_cap =
            parse("[operator]\nkeystore = \"k\"\naddress = \"0xabc\"\ncap = \"0x12\"\n").unwrap();
        assert!(with_cap.operator.unwrap().ids().unwrap().1.is_some());
        let bad = parse("[operator]\nkeystore = \"k\"\naddress = \"abc!\"\n").unwrap_err();
        assert!(bad.contains("[operator] address"), "{bad}");
        let bad =
            parse("[operator]\nkeystore = \"k\"\naddress = \"0x1\"\ncap = \"x\"\n").unwrap_err();
        assert!(bad.contains("[operator] cap"), "{bad}");
        let unknown =
            parse("[operator]\nkeystore = \"k\"\naddress = \"0x1\"\nkey = 1\n").unwrap_err();
        assert!(unknown.contains("unknown field"), "{unknown}");
        let missing = parse("[operator]\naddress = \"0x1\"\n").unwrap_err();
        assert!(missing.contains("keystore"), "{missing}");
    }

    const KEY: &str = "95a254501b7733239ed3cec4d56737977bd09ede881d8a234560e83e5525017add3b1dcc3eabfb85e12a4131b19c253b";

    #[test]
    fn peers_come_from_the_chain_and_the_old_list_is_refused() {
        let config = parse("").unwrap();
        assert!(config.discovery.is_default());
        assert!(config.overrides().unwrap().is_empty());
        let old = parse(&format!(
            "[[peers]]\npublic_key = \"{KEY}\"\nurl = \"http://127.0.0.1:9185\"\n"
        ))
        .unwrap_err();
        assert!(old.contains("[[peers]] is no longer read"), "{old}");
        assert!(old.contains("peer_overrides"), "{old}");

        let config = parse(&format!(
            "[discovery]\nscheme = \"https\"\nrefresh_ms = 5000\n\
             [[peer_overrides]]\npublic_key = \"{KEY}\"\nurl = \"http://127.0.0.1:1/\"\n"
        ))
        .unwrap();
        assert_eq!(
            config.discovery.scheme,
            floe_chain::floe::endpoints::Scheme::Https
        );
        let overrides = config.overrides().unwrap();
        assert_eq!(
            overrides.values().collect::<Vec<_>>(),
            vec!["http://127.0.0.1:1"]
        );
        let twice = parse(&format!(
            "[[peer_overrides]]\npublic_key = \"{KEY}\"\nurl = \"http://a:1\"\n\
             [[peer_overrides]]\npublic_key = \"{KEY}\"\nurl = \"http://b:1\"\n"
        ))
        .unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
        let bad = parse(&format!(
            "[[peer_overrides]]\npublic_key = \"{KEY}\"\nurl = \"ftp://a:1\"\n"
        ))
        .unwrap_err();
        assert!(bad.contains("[[peer_overrides]] entry 0"), "{bad}");
        let zero = parse("[discovery]\nrefresh_ms = 0\n").unwrap_err();
        assert!(zero.contains("[discovery]"), "{zero}");
    }

    #[test]
    fn chain_section_is_the_shared_one_plus_the_refresh() {
        let config = parse("").unwrap();
        let chain = config.chain.as_ref().unwrap();
        assert_eq!(chain.committee_refresh_ms, DEFAULT_COMMITTEE_REFRESH_MS);
        assert!(chain.chain.validator_keys.is_empty());
        let text = BASE.replace(
            "[chain]\n",
            "[chain]\ncommittee_refresh_ms = 500\nstaking = \"0x5\"\n",
        );
        let config: NodeConfig = toml::from_str(&text).unwrap();
        let chain = config.chain.unwrap();
        assert_eq!(chain.committee_refresh_ms, 500);
        assert_eq!(chain.chain.staking, Some("0x5".parse().unwrap()));
        assert_eq!(chain.chain.system, None, "the others are discovered");
        // A misspelled key is refused, not ignored.
        let typo = BASE.replace("[chain]\n", "[chain]\ncommitee_refresh_ms = 500\n");
        let err = toml::from_str::<NodeConfig>(&typo).unwrap_err().to_string();
        assert!(err.contains("unknown field `commitee_refresh_ms`"), "{err}");
        let bad = BASE.replace("[chain]\n", "[chain]\ncommittee_refresh_ms = \"x\"\n");
        let err = toml::from_str::<NodeConfig>(&bad).unwrap_err().to_string();
        assert!(err.contains("committee_refresh_ms"), "{err}");
        let empty: NodeConfig =
            toml::from_str(&BASE.replace("[\"http://127.0.0.1:1\"]", "[]")).unwrap();
        let err = empty.validate().unwrap_err().to_string();
        assert_eq!(err, "[chain] endpoints is empty");
    }

    #[test]
    fn serialises_what_it_parses() {
        let mut config = parse(
            "[operator]\nkeystore = \"/k/sui.keystore\"\naddress = \"0xabc\"\n[limits]\nmax_symbol_targets = 7\n",
        )
        .unwrap();
        config.chain.as_mut().unwrap().committee_refresh_ms = 1234;
        let text = toml::to_string(&config).unwrap();
        assert!(
            !text.contains("[recovery]"),
            "defaults are not written: {text}"
        );
        let back: NodeConfig = toml::from_str(&text).unwrap();
        back.validate().unwrap();
        assert_eq!(back.chain, config.chain);
        assert_eq!(back.limits, config.limits);
        assert_eq!(back.operator, config.operator);
    }

    #[test]
    fn static_mode_rejects_an_operator_and_paths_resolve() {
        let text = "data_dir = \"d\"\nbls_key_file = \"k\"\n\
            [committee]\nepoch = 0\nn_shards = 10\nowned_shards = [1]\n\
            [operator]\nkeystore = \"ops/sui.keystore\"\naddress = \"0x1\"\n";
        let mut config: NodeConfig = toml::from_str(text).unwrap();
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("needs [chain]"), "{err}");
        config.resolve_paths(std::path::Path::new("/etc/floe"));
        assert_eq!(config.data_dir, PathBuf::from("/etc/floe/d"));
        assert_eq!(
            config.operator.unwrap().keystore,
            PathBuf::from("/etc/floe/ops/sui.keystore")
        );
    }
}
