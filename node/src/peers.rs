//! The other committee members' REST APIs, as self-healing and shard sync
//! use them: metadata, slivers and recovery symbols. Where they are comes
//! from the chain (each pool's `network_address`, through floe-chain's
//! [`EndpointCache`], re-read at epoch changes, periodically and after a
//! peer could not be reached), not from configuration.
//!
//! Everything a peer answers is untrusted:
//! metadata are verified against the blob id, symbols against their Merkle
//! proofs (by the caller, in `recover_verified`); bodies are read up to a
//! bound and every request has a time budget.

use std::time::Duration;

use floe_chain::floe::endpoints::EndpointCache;
use floe_core::VerifiedBlobMetadataWithId;
use floe_core::bls::BlsPublicKey;
use floe_core::encoding::symbols::GeneralRecoverySymbol;
use floe_core::move_types::ObjectId;
use floe_core::{Axis, BlobId, EncodingConfig, UnverifiedBlobMetadataWithId};

use crate::config::{ConfigError, RecoveryConfig};

/// Why one peer request gave nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// Connection, timeout or protocol failure.
    #[error("{url}: {reason}")]
    Http {
        /// The request.
        url: String,
        /// Why.
        reason: String,
    },
    /// The peer answered with an error status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The request.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body is larger than allowed.
    #[error("{url}: body larger than {limit} bytes")]
    TooLarge {
        /// The request.
        url: String,
        /// The bound.
        limit: usize,
    },
    /// The body does not parse or verify.
    #[error("{url}: {reason}")]
    Invalid {
        /// The request.
        url: String,
        /// Why.
        reason: String,
    },
}

/// One peer.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its node id (pool id).
    pub node_id: ObjectId,
    /// Its protocol key.
    pub public_key: BlsPublicKey,
    /// Base URL, without a trailing slash.
    pub url: String,
}

/// The peers this node asks (itself excluded), with one shared client.
#[derive(Debug, Clone)]
pub struct Peers {
    endpoints: EndpointCache,
    me: BlsPublicKey,
    client: reqwest::Client,
    max_body: usize,
}

impl Peers {
    /// Peers from `endpoints`, without the node whose key is `me`.
    pub fn new(
        endpoints: EndpointCache,
        me: &BlsPublicKey,
        recovery: &RecoveryConfig,
        max_body: usize,
    ) -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(recovery.peer_timeout_ms))
            .connect_timeout(Duration::from_millis(recovery.peer_timeout_ms.min(5_000)))
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(Self {
            endpoints,
            me: *me,
            client,
            max_body,
        })
    }

    /// The members of the current and previous committees with a usable
    /// endpoint, as the chain says for committee `epoch` (re-read if the
    /// cached endpoints are older), current committee first. Empty (with a
    /// warning) when the chain cannot be read and nothing is cached.
    pub async fn list(&self, epoch: u32) -> Vec<Peer> {
        let map = match self.endpoints.current(Some(epoch)).await {
            Ok(map) => map,
            Err(e) => {
                tracing::warn!(error = %e, "peers' endpoints cannot be read from the chain");
                return Vec::new();
            }
        };
        map.iter()
            .filter(|e| e.public_key != self.me)
            .filter_map(|e| {
                Some(Peer {
                    node_id: e.node_id,
                    public_key: e.public_key,
                    url: e.url.clone().ok()?,
                })
            })
            .collect()
    }

    /// The peer with node id `node_id` in `list`.
    pub fn find<'a>(list: &'a [Peer], node_id: &ObjectId) -> Option<&'a Peer> {
        list.iter().find(|p| p.node_id == *node_id)
    }

    /// GET `url`, answering the body if 200 and within the bound.
    async fn get(&self, url: String) -> Result<Vec<u8>, PeerError> {
        let http = |e: reqwest::Error| PeerError::Http {
            url: url.clone(),
            reason: e.to_string(),
        };
        let mut response = match self.client.get(&url).send().await {
            Ok(response) => response,
            Err(e) => {
                // The peer may have moved: its address is re-read from the
                // chain before the next attempt.
                if e.is_connect() || e.is_timeout() {
                    self.endpoints.mark_stale();
                }
                return Err(http(e));
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            return Err(PeerError::Status { url, status });
        }
        let too_large = || PeerError::TooLarge {
            url: url.clone(),
            limit: self.max_body,
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The blob's metadata from `peer`, verified against `blob_id`.
    pub async fn metadata(
        &self,
        peer: &Peer,
        blob_id: &BlobId,
        config: &EncodingConfig,
    ) -> Result<VerifiedBlobMetadataWithId, PeerError> {
        let url = format!("{}/v1/blobs/{blob_id}/metadata", peer.url);
        let body = self.get(url.clone()).await?;
        let invalid = |reason: String| PeerError::Invalid {
            url: url.clone(),
            reason,
        };
        // The body is a BCS `BlobMetadataWithId`; `verify_for` checks both
        // that the id is the one asked for and that the metadata hash to it.
        UnverifiedBlobMetadataWithId::from_bcs(&body)
            .map_err(|e| invalid(format!("not BCS metadata: {e}")))?
            .verify_for(config, blob_id)
            .map_err(|e| invalid(e.to_string()))
    }

    /// The BCS bytes of sliver pair `pair`'s `axis` sliver of `blob_id`
    /// as `peer` stores it (unverified: the caller checks it against the
    /// metadata).
    pub async fn sliver(
        &self,
        peer: &Peer,
        blob_id: &BlobId,
        pair: u16,
        axis: Axis,
    ) -> Result<Vec<u8>, PeerError> {
        let url = format!("{}/v1/blobs/{blob_id}/slivers/{pair}/{axis}", peer.url);
        self.get(url).await
    }

    /// Recovery symbols `peer` gives for sliver `target` of `axis`
    /// (unverified: the caller checks each proof).
    pub async fn recovery_symbols(
        &self,
        peer: &Peer,
        blob_id: &BlobId,
        target: u16,
        axis: Axis,
    ) -> Result<Vec<GeneralRecoverySymbol>, PeerError> {
        let url = format!(
            "{}/v1/blobs/{blob_id}/recoverySymbols?targetSliver={target}&targetType={axis}",
            peer.url
        );
        let body = self.get(url.clone()).await?;
        bcs::from_bytes(&body).map_err(|e| PeerError::Invalid {
            url,
            reason: format!("not BCS recovery symbols: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use floe_chain::floe::FloeError;
    use floe_chain::floe::endpoints::{
        DiscoveryConfig, EndpointSnapshot, EndpointSource, NodeRecord,
    };
    use floe_core::bls::BlsSecretKey;
    use futures::future::BoxFuture;

    use super::*;

    /// Pools whose addresses a test moves.
    #[derive(Clone, Default)]
    struct FakeChain(Arc<Mutex<Vec<NodeRecord>>>);

    impl FakeChain {
        fn place(&self, seed: u8, address: &str) {
            let mut records = self.0.lock().unwrap();
            records.retain(|r| r.node_id != ObjectId([seed; 32]));
            records.push(NodeRecord {
                node_id: ObjectId([seed; 32]),
                name: format!("node-{seed}"),
                public_key: BlsSecretKey::from_seed(&[seed; 32])
                    .public_key()
                    .to_bytes()
                    .to_vec(),
                network_address: address.to_owned(),
                network_public_key: Vec::new(),
            });
        }
    }

    impl EndpointSource for FakeChain {
        fn read(&self) -> BoxFuture<'_, Result<EndpointSnapshot, FloeError>> {
            let records = self.0.lock().unwrap().clone();
            Box::pin(async move { Ok(EndpointSnapshot { epoch: 5, records }) })
        }
    }

    /// An address nothing listens on.
    fn dead_address() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    }

    #[tokio::test]
    async fn a_peer_that_moved_on_chain_is_found_at_its_new_address() {
        let chain = FakeChain::default();
        let me = BlsSecretKey::from_seed(&[9; 32]).public_key();
        chain.place(9, "127.0.0.1:9");
        chain.place(1, &dead_address());
        let config = DiscoveryConfig {
            refresh_ms: 3_600_000,
            min_refresh_ms: 0,
            ..DiscoveryConfig::default()
        };
        let cache = EndpointCache::new(chain.clone(), config, HashMap::new());
        let recovery = RecoveryConfig {
            peer_timeout_ms: 2_000,
            ..RecoveryConfig::default()
        };
        let peers = Peers::new(cache, &me, &recovery, 1 << 20).unwrap();
        let list = peers.list(5).await;
        assert_eq!(list.len(), 1, "this node is not its own peer");
        let blob_id = BlobId([7; 32]);
        let err = peers
            .sliver(&list[0], &blob_id, 0, Axis::Primary)
            .await
            .unwrap_err();
        assert!(matches!(err, PeerError::Http { .. }), "{err}");

        // The operator moves the node (set_network_address); the failed
        // connection made the next listing re-read the chain.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let live = listener.local_addr().unwrap().to_string();
        let app = axum::Router::new().route(
            "/v1/blobs/{id}/slivers/{pair}/{axis}",
            axum::routing::get(|| async { b"sliver".to_vec() }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        chain.place(1, &live);
        let list = peers.list(5).await;
        assert_eq!(list[0].url, format!("http://{live}"));
        assert_eq!(
            Peers::find(&list, &ObjectId([1; 32])).map(|p| p.url.as_str()),
            Some(format!("http://{live}").as_str())
        );
        let body = peers
            .sliver(&list[0], &blob_id, 0, Axis::Primary)
            .await
            .unwrap();
        assert_eq!(body, b"sliver");
    }
}
