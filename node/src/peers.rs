//! The other committee members' REST APIs, as self-healing and shard sync
//! use them: metadata, slivers and recovery symbols. Everything a peer answers is untrusted:
//! metadata are verified against the blob id, symbols against their Merkle
//! proofs (by the caller, in `recover_verified`); bodies are read up to a
//! bound and every request has a time budget.

use std::time::Duration;

use floe_core::VerifiedBlobMetadataWithId;
use floe_core::bls::BlsPublicKey;
use floe_core::encoding::symbols::GeneralRecoverySymbol;
use floe_core::{Axis, BlobId, EncodingConfig, UnverifiedBlobMetadataWithId};

use crate::config::{ConfigError, PeerConfig, RecoveryConfig};

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
    /// Its protocol key.
    pub public_key: BlsPublicKey,
    /// Base URL, without a trailing slash.
    pub url: String,
}

/// The peers this node asks (itself excluded), with one shared client.
#[derive(Debug, Clone)]
pub struct Peers {
    peers: Vec<Peer>,
    client: reqwest::Client,
    max_body: usize,
}

impl Peers {
    /// From the config's `[[peers]]`, without the entry whose key is `me`.
    pub fn new(
        config: &[PeerConfig],
        me: &BlsPublicKey,
        recovery: &RecoveryConfig,
        max_body: usize,
    ) -> Result<Self, ConfigError> {
        let mut peers = Vec::new();
        for (index, p) in config.iter().enumerate() {
            let (public_key, url) = p
                .parse()
                .map_err(|reason| ConfigError::Peer { index, reason })?;
            if public_key.as_bytes() != me.as_bytes() {
                peers.push(Peer { public_key, url });
            }
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(recovery.peer_timeout_ms))
            .connect_timeout(Duration::from_millis(recovery.peer_timeout_ms.min(5_000)))
            .build()
            .map_err(|e| ConfigError::Peer {
                index: 0,
                reason: format!("HTTP client: {e}"),
            })?;
        Ok(Self {
            peers,
            client,
            max_body,
        })
    }

    /// The peers, in config order.
    pub fn list(&self) -> &[Peer] {
        &self.peers
    }

    /// The peer with protocol key `key`, if configured (never this node).
    pub fn by_key(&self, key: &BlsPublicKey) -> Option<&Peer> {
        self.peers
            .iter()
            .find(|p| p.public_key.as_bytes() == key.as_bytes())
    }

    /// GET `url`, answering the body if 200 and within the bound.
    async fn get(&self, url: String) -> Result<Vec<u8>, PeerError> {
        let http = |e: reqwest::Error| PeerError::Http {
            url: url.clone(),
            reason: e.to_string(),
        };
        let mut response = self.client.get(&url).send().await.map_err(http)?;
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
