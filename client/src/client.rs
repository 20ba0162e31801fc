//! [`Client`]: one handle on the chain (through `floe-chain`), the wallet
//! that pays, and the storage nodes (through their REST APIs).
//!
//! The committee is read from the chain for every operation rather than
//! cached, so a client that lives across an epoch change (the daemon)
//! writes to and reads from the committee of the moment. Where each member
//! serves its REST API comes from its staking pool on chain (its
//! `network_address`), through a cache shared by the client's clones
//! ([`EndpointCache`]: re-read at epoch changes, every `refresh_ms` and
//! after a node could not be reached); which shards each holds comes from
//! the staking committee (`ShardAssignment`). While an epoch change is in
//! progress, a shard's new owner may still be fetching it, so reads fall
//! back to the shard's owner in the previous committee.

use std::sync::Arc;

use floe_chain::floe::Floe;
use floe_chain::floe::endpoints::{EndpointCache, EndpointMap};
use floe_chain::sui_sdk_types::Address;
use floe_chain::{KeyPair, Keystore};
use floe_core::EncodingConfig;
use floe_core::bls::BlsPublicKey;
use floe_core::committee::Committee;
use floe_core::move_types::{EpochState, ObjectId, StakingInnerV1};
use floe_core::shard_assignment::ShardAssignment;
use tokio::sync::Semaphore;

use crate::config::ClientConfig;
use crate::error::{ClientError, Result};
use crate::node_api::{NodeClient, http_client};

/// The committee of the moment with a REST client per member (`None` for
/// members without a usable endpoint on chain: they count as unreachable).
#[derive(Debug, Clone)]
pub struct NodeSet {
    pub committee: Committee,
    pub nodes: Vec<Option<NodeClient>>,
    pub encoding: EncodingConfig,
    /// Which member holds which shard.
    pub shards: ShardAssignment,
    /// During an epoch change, by shard: its owner in the previous
    /// committee when that is another node (empty otherwise).
    pub previous_owner: Vec<Option<NodeClient>>,
}

impl NodeSet {
    /// Shards of member `index`, ascending.
    pub fn shards_of(&self, index: usize) -> &[u16] {
        self.shards.shards_of(index)
    }

    /// The member holding `shard`.
    pub fn owner_of(&self, shard: u16) -> Option<usize> {
        self.shards.owner_of(shard)
    }

    /// The previous committee's holder of `shard`, while an epoch change
    /// moves it.
    pub fn previous_owner_of(&self, shard: u16) -> Option<&NodeClient> {
        self.previous_owner
            .get(usize::from(shard))
            .and_then(Option::as_ref)
    }

    /// Shards (weight) of member `index`.
    pub fn weight_of(&self, index: usize) -> u16 {
        self.committee
            .members()
            .get(index)
            .map(|m| m.weight)
            .unwrap_or(0)
    }

    /// Whether `weight` shards are a quorum / validity of this committee.
    pub fn is_quorum(&self, weight: u32) -> bool {
        self.committee.is_quorum(weight)
    }
}

/// The SDK's entry point. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) floe: Floe,
    pub(crate) wallet: Option<KeyPair>,
    pub(crate) http: crate::node_api::NodeHttp,
    /// Node endpoints read from the chain, shared by clones.
    pub(crate) endpoints: EndpointCache,
    /// Node requests in flight, across all operations of this client.
    pub(crate) permits: Arc<Semaphore>,
    /// Held while choosing coins and executing a transaction: concurrent
    /// operations of one wallet (the daemon's stores) would otherwise pick
    /// the same WAL and gas coins and fail on object versions.
    pub(crate) tx_lock: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("chain", &self.config.chain.endpoints)
            .field("wallet", &self.wallet.as_ref().map(|k| k.address()))
            .finish()
    }
}

impl Client {
    /// Connects to the chain of `config`, finds floe's objects (from the
    /// config, else the genesis checkpoint) and opens the wallet. A missing
    /// or empty keystore leaves the client read-only.
    pub async fn connect(config: ClientConfig) -> Result<Self> {
        config.validate()?;
        let wallet = open_wallet(&config)?;
        let http = http_client(&config.limits).map_err(|e| ClientError::Http(e.to_string()))?;
        let floe = floe_chain::connect(&config.chain).await?;
        let endpoints = EndpointCache::new(floe.clone(), config.discovery, config.overrides()?);
        Ok(Self {
            permits: Arc::new(Semaphore::new(config.limits.max_concurrent_requests)),
            tx_lock: Arc::new(tokio::sync::Mutex::new(())),
            config: Arc::new(config),
            floe,
            wallet,
            http,
            endpoints,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The typed chain client.
    pub fn floe(&self) -> &Floe {
        &self.floe
    }

    /// The paying key, or an error saying how to get one.
    pub fn wallet(&self) -> Result<&KeyPair> {
        self.wallet.as_ref().ok_or_else(|| {
            ClientError::Wallet(format!(
                "no key in {}; create one with `floe wallet new`",
                self.config.wallet.keystore.display()
            ))
        })
    }

    /// Where the nodes serve their REST APIs, as read from the chain.
    pub fn endpoints(&self) -> &EndpointCache {
        &self.endpoints
    }

    /// The wallet's address.
    pub fn address(&self) -> Result<Address> {
        Ok(self.wallet()?.address())
    }

    /// The current committee, where its shards are, and a REST client for
    /// each member (plus the previous holders of moving shards during an
    /// epoch change).
    pub async fn node_set(&self) -> Result<NodeSet> {
        let (committee, staking, shards) = self.floe.committee_and_staking().await?;
        let encoding = EncodingConfig::new(committee.n_shards())?;
        let endpoints = self.endpoints.current(Some(committee.epoch())).await?;
        let nodes = committee
            .members()
            .iter()
            .map(|m| self.node_client(&endpoints, &m.node_id, &m.public_key))
            .collect();
        let previous_owner = if matches!(staking.epoch_state, EpochState::EpochChangeSync(_)) {
            self.previous_owners(&endpoints, &committee, &shards, &staking)
        } else {
            Vec::new()
        };
        Ok(NodeSet {
            committee,
            nodes,
            encoding,
            shards,
            previous_owner,
        })
    }

    /// A REST client for node `node_id` (committee key `key`), if it has
    /// a usable endpoint; a request that cannot connect to it marks the
    /// endpoints stale, so the next operation re-reads them from the chain.
    fn node_client(
        &self,
        endpoints: &EndpointMap,
        node_id: &ObjectId,
        key: &BlsPublicKey,
    ) -> Option<NodeClient> {
        let url = endpoints.url_of(node_id, key)?;
        match NodeClient::new(self.http.clone(), url, &self.config.limits) {
            Ok(node) => Some(node.with_stale_marker(self.endpoints.stale_marker())),
            Err(e) => {
                tracing::warn!(node = %node_id, error = %e, "unusable node URL");
                None
            }
        }
    }

    /// By shard, the previous committee's holder when it is not the
    /// current one. A node that left the committee is found by its node id
    /// among the endpoints (which cover the previous committee); one
    /// without a usable endpoint is skipped (reads then rely on the
    /// current owners alone).
    fn previous_owners(
        &self,
        endpoints: &EndpointMap,
        committee: &Committee,
        shards: &ShardAssignment,
        staking: &StakingInnerV1,
    ) -> Vec<Option<NodeClient>> {
        let mut out = vec![None; shards.n_shards()];
        for entry in &staking.previous_committee.pos0.contents {
            let key = match committee.member_index(&entry.key) {
                Some(i) => Some(committee.members()[i].public_key),
                None => endpoints.by_node(&entry.key).map(|e| e.public_key),
            };
            let Some(client) = key.and_then(|k| self.node_client(endpoints, &entry.key, &k)) else {
                continue;
            };
            for &shard in &entry.value {
                let now = shards
                    .owner_of(shard)
                    .map(|i| committee.members()[i].node_id);
                if now != Some(entry.key)
                    && let Some(slot) = out.get_mut(usize::from(shard))
                {
                    *slot = Some(client.clone());
                }
            }
        }
        out
    }

    /// Serializes this client's transactions (see `tx_lock`).
    pub(crate) async fn tx_guard(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.tx_lock.lock().await
    }

    /// A WAL coin of the wallet holding at least `amount` FROST, merging
    /// coins first when no single one does. Call with [`Client::tx_guard`]
    /// held, through the transaction that spends it.
    pub(crate) async fn wal_coin_for(&self, amount: u64) -> Result<Address> {
        let key = self.wallet()?;
        let coins = self.floe.wal_coins(key.address()).await?;
        let total: u64 = coins.iter().map(|(_, v)| *v).fold(0, u64::saturating_add);
        if total < amount || coins.is_empty() {
            return Err(ClientError::InsufficientWal {
                needed: amount,
                available: total,
            });
        }
        // Largest first.
        if coins[0].1 >= amount {
            return Ok(coins[0].0);
        }
        let primary = coins[0].0;
        let mut others = Vec::new();
        let mut sum = coins[0].1;
        for (id, value) in &coins[1..] {
            if sum >= amount {
                break;
            }
            others.push(*id);
            sum = sum.saturating_add(*value);
        }
        let tx = self.floe.client.merge_coins(key, primary, &others).await?;
        ensure_success(&tx)?;
        Ok(primary)
    }
}

/// Opens the keystore of the config and picks the configured address (or
/// the first key); `None` when the keystore is missing or empty.
fn open_wallet(config: &ClientConfig) -> Result<Option<KeyPair>> {
    let keystore = Keystore::open(&config.wallet.keystore).map_err(|e| {
        ClientError::Wallet(format!(
            "keystore {}: {e}",
            config.wallet.keystore.display()
        ))
    })?;
    if keystore.keys().is_empty() {
        return Ok(None);
    }
    let selector = config.wallet.address.map(|a| a.to_string());
    let key = keystore
        .select(selector.as_deref())
        .map_err(|e| ClientError::Wallet(e.to_string()))?;
    Ok(Some(key.clone()))
}

/// Turns a failed transaction into [`ClientError::TxFailed`].
pub(crate) fn ensure_success(tx: &floe_chain::ExecutedTx) -> Result<()> {
    if tx.is_success() {
        return Ok(());
    }
    Err(ClientError::TxFailed {
        digest: tx.digest.to_string(),
        reason: tx.status.to_string(),
    })
}
