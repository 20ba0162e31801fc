//! Where storage nodes serve their REST APIs, read from the chain: one
//! implementation for nodes (peers for recovery and shard sync) and clients
//! (uploads, reads, status, `floe info`).
//!
//! Every node's `network_address` (`host:port`, no scheme, as Walrus
//! stores it) and network public key live in its staking pool
//! (`StakingPool.node_info`). [`EndpointMap`] joins them, for the members
//! of the current and the previous committee, into node id / BLS key ->
//! `{scheme}://{network_address}`. The scheme is the reader's choice
//! ([`Scheme`], default `http`); an address that is not a valid `host:port`
//! gives no URL and a warning, never a request to a made-up place.
//!
//! [`EndpointCache`] keeps the map and re-reads it when the caller's
//! committee epoch is newer than the map's (every epoch change), when it is
//! older than `refresh_ms`, and soon after a request to a node could not
//! connect ([`EndpointCache::mark_stale`]): an address changed on chain
//! mid-epoch (Walrus's `set_network_address` takes effect at once) is
//! followed without a restart, within `refresh_ms` or at the first failed
//! request. Re-reads are at least `min_refresh_ms` apart, so a dead node
//! cannot make its callers hammer the chain; a failed re-read keeps the
//! previous map.
//!
//! The previous committee is always included, not only during
//! `EpochChangeSync`: a node that syncs late (the change already done
//! without it) still fetches gained shards from their previous holders,
//! which may have left the committee.
//!
//! Overrides (`[[peer_overrides]]` in `node.toml`, `node_overrides` in
//! `client.yaml`) replace the chain's URL for a BLS key; they exist for
//! tests (a proxy in front of a node), not as a source of endpoints.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use floe_core::bls::BlsPublicKey;
use floe_core::move_types::{ObjectId, StakingPool};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{Floe, FloeError, to_address};

/// Longest `network_address` (a 253-character DNS name, `:` and a
/// five-digit port), as Walrus bounds it on chain.
pub const MAX_NETWORK_ADDRESS_LENGTH: usize = 259;

/// Longest override URL accepted from a config file.
pub const MAX_OVERRIDE_URL_LENGTH: usize = 2048;

/// URL scheme put in front of on-chain `host:port` addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP (the devnet's nodes).
    #[default]
    Http,
    /// TLS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How endpoints are read; the `[discovery]` section of `node.toml` and
/// `discovery:` of `client.yaml`. Every field is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscoveryConfig {
    /// Scheme in front of each node's on-chain `host:port`.
    pub scheme: Scheme,
    /// Re-read the endpoints at least this often (ms), besides at every
    /// epoch change and after a failed connection.
    pub refresh_ms: u64,
    /// Re-reads are at least this far apart (ms).
    pub min_refresh_ms: u64,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            scheme: Scheme::Http,
            refresh_ms: 30_000,
            min_refresh_ms: 1_000,
        }
    }
}

impl DiscoveryConfig {
    /// Whether the defaults are in use (config writers omit them).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Checks the intervals: a zero `refresh_ms` would re-read on every
    /// request, a `min_refresh_ms` above `refresh_ms` makes no sense.
    pub fn validate(&self) -> Result<(), String> {
        if self.refresh_ms == 0 {
            return Err("refresh_ms must be above zero".into());
        }
        if self.min_refresh_ms > self.refresh_ms {
            return Err(format!(
                "min_refresh_ms ({}) is above refresh_ms ({})",
                self.min_refresh_ms, self.refresh_ms
            ));
        }
        Ok(())
    }
}

/// Why an on-chain network address gives no URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing registered.
    #[error("no network address on chain")]
    Empty,
    /// Longer than Walrus allows.
    #[error("{len} bytes, more than {MAX_NETWORK_ADDRESS_LENGTH}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Not `host:port`.
    #[error("{address:?} is not host:port: {reason}")]
    Malformed {
        /// The address as read.
        address: String,
        /// Why.
        reason: String,
    },
}

/// Checks an on-chain network address: `host:port` as Walrus stores it (a
/// DNS name or IPv4 address, or a bracketed IPv6 address, then a port), no
/// scheme, path, user or whitespace, at most
/// [`MAX_NETWORK_ADDRESS_LENGTH`] bytes.
pub fn check_network_address(address: &str) -> Result<(), AddressError> {
    if address.is_empty() {
        return Err(AddressError::Empty);
    }
    if address.len() > MAX_NETWORK_ADDRESS_LENGTH {
        return Err(AddressError::TooLong { len: address.len() });
    }
    // Only the first 64 characters go into an error message: the address
    // comes from the chain, anyone registering a node chooses it.
    let malformed = |reason: &str| AddressError::Malformed {
        address: address.chars().take(64).collect(),
        reason: reason.to_owned(),
    };
    if address.contains("://") {
        return Err(malformed("it has a URL scheme"));
    }
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| malformed("no port"))?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err()
    {
        return Err(malformed("the port is not a number up to 65535"));
    }
    if port.parse::<u16>() == Ok(0) {
        return Err(malformed("port 0"));
    }
    let valid_host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        }
    };
    if !valid_host {
        return Err(malformed(
            "the host is not a DNS name, an IPv4 address or a bracketed IPv6 address",
        ));
    }
    Ok(())
}

/// `{scheme}://{address}` for a valid on-chain address.
pub fn endpoint_url(scheme: Scheme, address: &str) -> Result<String, AddressError> {
    check_network_address(address)?;
    Ok(format!("{scheme}://{address}"))
}

/// Checks an override URL (`http(s)://…`, bounded) and drops a trailing
/// slash.
pub fn check_override_url(url: &str) -> Result<String, String> {
    if url.len() > MAX_OVERRIDE_URL_LENGTH {
        return Err(format!(
            "url is {} bytes, more than {MAX_OVERRIDE_URL_LENGTH}",
            url.len()
        ));
    }
    let url = url.trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("url {url:?} is not http(s)"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(format!("url {url:?} has no host or contains whitespace"));
    }
    Ok(url.to_owned())
}

/// One node's record as its pool stores it: what a [`EndpointSource`]
/// answers (the chain, or a test's fake).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// Node id (= pool id).
    pub node_id: ObjectId,
    /// The operator's name for it.
    pub name: String,
    /// Compressed BLS public key bytes, as stored (unchecked).
    pub public_key: Vec<u8>,
    /// `host:port`, as stored (unchecked).
    pub network_address: String,
    /// The network (TLS) public key bytes, as stored.
    pub network_public_key: Vec<u8>,
}

impl From<&StakingPool> for NodeRecord {
    fn from(pool: &StakingPool) -> Self {
        let info = &pool.node_info;
        Self {
            node_id: info.node_id,
            name: info.name.clone(),
            public_key: info.public_key.bytes.clone(),
            network_address: info.network_address.clone(),
            network_public_key: info.network_public_key.clone(),
        }
    }
}

/// What one read of the chain found: the epoch and the records of the
/// current and previous committees' members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSnapshot {
    /// The staking epoch when read.
    pub epoch: u32,
    /// One per node, current committee first.
    pub records: Vec<NodeRecord>,
}

/// One node's endpoint, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEndpoint {
    /// Node id (= pool id).
    pub node_id: ObjectId,
    /// The operator's name for it.
    pub name: String,
    /// Its BLS protocol key (from the pool).
    pub public_key: BlsPublicKey,
    /// `host:port` as on chain.
    pub network_address: String,
    /// Base URL (no trailing slash), or why there is none.
    pub url: Result<String, AddressError>,
    /// Whether `url` comes from an override instead of the chain.
    pub overridden: bool,
    /// The network public key as on chain.
    pub network_public_key: Vec<u8>,
}

/// Endpoints of one snapshot, by node id and by BLS key.
#[derive(Debug, Clone)]
pub struct EndpointMap {
    epoch: u32,
    read_at: Instant,
    endpoints: Vec<Arc<NodeEndpoint>>,
    by_node: HashMap<ObjectId, usize>,
    by_key: HashMap<BlsPublicKey, usize>,
}

impl EndpointMap {
    /// Resolves `snapshot`'s records with `scheme` and `overrides` (BLS key
    /// -> URL, already checked). A record whose key is not a valid BLS key
    /// is left out; one whose address is malformed keeps its error as its
    /// `url`; both are logged.
    pub fn resolve(
        snapshot: EndpointSnapshot,
        scheme: Scheme,
        overrides: &HashMap<BlsPublicKey, String>,
    ) -> Self {
        let mut map = Self {
            epoch: snapshot.epoch,
            read_at: Instant::now(),
            endpoints: Vec::new(),
            by_node: HashMap::new(),
            by_key: HashMap::new(),
        };
        for record in snapshot.records {
            if map.by_node.contains_key(&record.node_id) {
                continue;
            }
            let public_key = match BlsPublicKey::from_bytes(&record.public_key) {
                Ok(k) => k,
                Err(e) => {
                    tracing::warn!(node = %record.node_id, error = %e, "skipping a node whose on-chain BLS key is invalid");
                    continue;
                }
            };
            let (url, overridden) = match overrides.get(&public_key) {
                Some(url) => (Ok(url.clone()), true),
                None => (endpoint_url(scheme, &record.network_address), false),
            };
            if let Err(e) = &url {
                tracing::warn!(node = %record.node_id, name = %record.name, error = %e, "node has no usable network address on chain; it is not contacted");
            }
            let index = map.endpoints.len();
            map.by_node.insert(record.node_id, index);
            map.by_key.entry(public_key).or_insert(index);
            map.endpoints.push(Arc::new(NodeEndpoint {
                node_id: record.node_id,
                name: record.name,
                public_key,
                network_address: record.network_address,
                url,
                overridden,
                network_public_key: record.network_public_key,
            }));
        }
        map
    }

    /// The staking epoch of the read.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// When it was read.
    pub fn read_at(&self) -> Instant {
        self.read_at
    }

    /// Every endpoint, current committee first.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<NodeEndpoint>> {
        self.endpoints.iter()
    }

    /// The endpoint of node `node_id`.
    pub fn by_node(&self, node_id: &ObjectId) -> Option<&Arc<NodeEndpoint>> {
        self.by_node.get(node_id).map(|&i| &self.endpoints[i])
    }

    /// The endpoint of the node whose pool has key `key`.
    pub fn by_key(&self, key: &BlsPublicKey) -> Option<&Arc<NodeEndpoint>> {
        self.by_key.get(key).map(|&i| &self.endpoints[i])
    }

    /// The URL of node `node_id` whose committee key is `key`: an override
    /// of `key` first, then the node's on-chain address. `None` when
    /// neither gives a usable URL.
    pub fn url_of(&self, node_id: &ObjectId, key: &BlsPublicKey) -> Option<&str> {
        let endpoint = self.by_node(node_id).or_else(|| self.by_key(key))?;
        endpoint.url.as_deref().ok()
    }
}

/// Where snapshots come from: the chain ([`Floe`]), or a test's fake.
pub trait EndpointSource: Send + Sync {
    /// Reads the current and previous committees' node records.
    fn read(&self) -> BoxFuture<'_, Result<EndpointSnapshot, FloeError>>;
}

impl EndpointSource for Floe {
    fn read(&self) -> BoxFuture<'_, Result<EndpointSnapshot, FloeError>> {
        Box::pin(self.endpoint_snapshot())
    }
}

impl Floe {
    /// The node records of the current and previous committees: the
    /// staking state, then every member's pool in one batched read.
    pub async fn endpoint_snapshot(&self) -> Result<EndpointSnapshot, FloeError> {
        let state = self.staking_state().await?;
        let mut seen = BTreeSet::new();
        let ids: Vec<ObjectId> = state
            .committee
            .pos0
            .contents
            .iter()
            .chain(&state.previous_committee.pos0.contents)
            .map(|e| e.key)
            .filter(|id| seen.insert(*id))
            .collect();
        if ids.len() > super::staking::MAX_POOLS {
            return Err(FloeError::Committee(format!(
                "{} committee members, more than {}",
                ids.len(),
                super::staking::MAX_POOLS
            )));
        }
        let addresses: Vec<_> = ids.iter().map(|id| to_address(*id)).collect();
        let objects = self.client.get_objects(&addresses).await?;
        let mut records = Vec::with_capacity(ids.len());
        for (id, object) in ids.iter().zip(objects) {
            let Some(object) = object else {
                tracing::warn!(node = %id, "committee member without a staking pool on chain");
                continue;
            };
            match object.contents_as::<StakingPool>() {
                Ok(pool) if pool.node_info.node_id == *id => records.push(NodeRecord::from(&pool)),
                Ok(pool) => tracing::warn!(
                    node = %id,
                    pool_of = %pool.node_info.node_id,
                    "object is the pool of another node; skipped"
                ),
                Err(e) => {
                    tracing::warn!(node = %id, error = %e, "unreadable staking pool; skipped")
                }
            }
        }
        Ok(EndpointSnapshot {
            epoch: state.epoch,
            records,
        })
    }
}

/// A handle that marks an [`EndpointCache`] stale (given to HTTP clients,
/// which call it when a node cannot be reached).
#[derive(Debug, Clone)]
pub struct StaleMarker(Arc<AtomicBool>);

impl StaleMarker {
    /// The next [`EndpointCache::current`] re-reads (subject to
    /// `min_refresh_ms`).
    pub fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

struct Inner {
    source: Box<dyn EndpointSource>,
    config: DiscoveryConfig,
    overrides: HashMap<BlsPublicKey, String>,
    map: RwLock<Option<Arc<EndpointMap>>>,
    stale: Arc<AtomicBool>,
    /// Serializes re-reads and records when the last one was attempted.
    reading: tokio::sync::Mutex<Option<Instant>>,
}

/// The cached endpoint map; cheap to clone (clones share the cache).
#[derive(Clone)]
pub struct EndpointCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EndpointCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointCache")
            .field("config", &self.inner.config)
            .field("overrides", &self.inner.overrides.len())
            .finish()
    }
}

impl EndpointCache {
    /// A cache over `source`; nothing is read until the first
    /// [`EndpointCache::current`].
    pub fn new(
        source: impl EndpointSource + 'static,
        config: DiscoveryConfig,
        overrides: HashMap<BlsPublicKey, String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                source: Box::new(source),
                config,
                overrides,
                map: RwLock::new(None),
                stale: Arc::new(AtomicBool::new(false)),
                reading: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &DiscoveryConfig {
        &self.inner.config
    }

    /// A handle that marks this cache stale.
    pub fn stale_marker(&self) -> StaleMarker {
        StaleMarker(self.inner.stale.clone())
    }

    /// Marks the map stale: the next [`EndpointCache::current`] re-reads.
    pub fn mark_stale(&self) {
        self.inner.stale.store(true, Ordering::Relaxed);
    }

    fn cached(&self) -> Option<Arc<EndpointMap>> {
        match self.inner.map.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn needs_read(&self, map: &EndpointMap, epoch: Option<u32>) -> bool {
        let max_age = Duration::from_millis(self.inner.config.refresh_ms);
        epoch.is_some_and(|e| e > map.epoch)
            || map.read_at.elapsed() >= max_age
            || self.inner.stale.load(Ordering::Relaxed)
    }

    /// The endpoint map for a caller working in committee `epoch` (if
    /// known): re-read when none is cached, when the cached one is of an
    /// older epoch, older than `refresh_ms`, or marked stale, but not
    /// sooner than `min_refresh_ms` after the previous attempt. A failed
    /// re-read keeps the cached map (logged); without one, it is the error.
    pub async fn current(&self, epoch: Option<u32>) -> Result<Arc<EndpointMap>, FloeError> {
        if let Some(map) = self.cached()
            && !self.needs_read(&map, epoch)
        {
            return Ok(map);
        }
        let mut last_attempt = self.inner.reading.lock().await;
        // Another caller may have re-read while this one waited.
        let cached = self.cached();
        if let Some(map) = &cached {
            let min = Duration::from_millis(self.inner.config.min_refresh_ms);
            if !self.needs_read(map, epoch) || last_attempt.is_some_and(|t| t.elapsed() < min) {
                return Ok(map.clone());
            }
        }
        *last_attempt = Some(Instant::now());
        self.inner.stale.store(false, Ordering::Relaxed);
        match self.inner.source.read().await {
            Ok(snapshot) => {
                let map = Arc::new(EndpointMap::resolve(
                    snapshot,
                    self.inner.config.scheme,
                    &self.inner.overrides,
                ));
                let mut guard = match self.inner.map.write() {
                    Ok(guard) => guard,
                    Err(poisoned) => poisoned.into_inner(),
                };
                *guard = Some(map.clone());
                Ok(map)
            }
            Err(e) => match cached {
                Some(map) => {
                    // Try again at the next call (after `min_refresh_ms`).
                    self.inner.stale.store(true, Ordering::Relaxed);
                    tracing::warn!(error = %e, "re-reading node endpoints failed; using the previous ones");
                    Ok(map)
                }
                None => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests;
