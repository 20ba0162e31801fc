//! Reading a blob (as Walrus's `walrus-sdk/src/node_client.rs` reads) and
//! asking nodes for its status.
//!
//! Read: metadata from the first node whose answer verifies against the
//! blob id; primary slivers, each verified against those metadata, until
//! `k_p = n - 2f` verified ones; decode with the consistency check. A node
//! that is down or serves wrong bytes only costs a request: its answer
//! never reaches the decoder, so up to f faulty or lying nodes cannot
//! change what is returned. Slivers are asked with hedging
//! ([`crate::hedge`]), so a node that is slow or hangs costs about one
//! hedge delay, not a request timeout per sliver.

use std::sync::Arc;

use floe_core::encoding::{ConsistencyCheck, DecodeError, Primary, PrimarySliver, decode_primary};
use floe_core::{BlobId, VerifiedBlobMetadataWithId, pair_to_shard};
use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::client::{Client, NodeSet};
use crate::config::ClientLimits;
use crate::error::{ClientError, Result};
use crate::hedge::{HedgePolicy, fetch_hedged};
use crate::node_api::NodeClient;
use crate::status::{NodeBlobStatus, StatusTally};
use crate::types::{Progress, ProgressFn, report};

impl Client {
    /// Reads and decodes blob `blob_id`.
    pub async fn read(&self, blob_id: &BlobId, progress: Option<ProgressFn>) -> Result<Vec<u8>> {
        let nodes = self.node_set().await?;
        read_from_nodes(
            &nodes,
            blob_id,
            &self.permits,
            &self.config.limits,
            progress,
        )
        .await
    }

    /// Verified metadata from the first node that has them. "Not found"
    /// when nodes with validity weight (f + 1 shards, so at least one
    /// honest) say so and none has verifiable metadata.
    pub async fn read_metadata(
        &self,
        nodes: &NodeSet,
        blob_id: &BlobId,
    ) -> Result<VerifiedBlobMetadataWithId> {
        metadata_from_nodes(nodes, blob_id, &self.permits).await
    }

    /// The blob's status agreed by nodes with validity weight, if any.
    pub(crate) async fn verified_status(
        &self,
        nodes: &NodeSet,
        blob_id: &BlobId,
    ) -> Option<NodeBlobStatus> {
        self.status_from_nodes(nodes, blob_id).await.ok()?.agreed
    }

    /// Asks every node for the blob's status.
    pub async fn blob_status(&self, blob_id: &BlobId) -> Result<StatusReport> {
        let nodes = self.node_set().await?;
        self.status_from_nodes(&nodes, blob_id).await
    }

    async fn status_from_nodes(&self, nodes: &NodeSet, blob_id: &BlobId) -> Result<StatusReport> {
        let mut tally = StatusTally::new(nodes.committee.n_shards());
        let requests: Vec<_> = owned_nodes(nodes)
            .map(|(i, node)| {
                let (permits, blob_id) = (self.permits.clone(), *blob_id);
                async move {
                    let _permit = permits.acquire().await;
                    (i, node.blob_status(&blob_id).await)
                }
            })
            .collect();
        let in_flight = requests.len().max(1);
        let mut answers = futures::stream::iter(requests).buffer_unordered(in_flight);
        let mut agreed = None;
        while let Some((i, answer)) = answers.next().await {
            match answer {
                Ok(status) => {
                    if let Some(s) = tally.add(nodes.weight_of(i), status) {
                        agreed = Some(s);
                        break;
                    }
                }
                Err(e) => tracing::debug!(member = i, error = %e, "no status"),
            }
        }
        if tally.answered_weight() == 0 {
            return Err(ClientError::NotEnoughNodes(format!(
                "no node answered the status of {blob_id}"
            )));
        }
        Ok(StatusReport {
            agreed,
            best_effort: agreed.or_else(|| tally.best_effort()),
            answered_shards: tally.answered_weight(),
            n_shards: nodes.committee.n_shards(),
            epoch: nodes.committee.epoch(),
        })
    }
}

/// [`Client::read`] on a given committee: metadata, slivers, decoding.
pub(crate) async fn read_from_nodes(
    nodes: &NodeSet,
    blob_id: &BlobId,
    permits: &Arc<Semaphore>,
    limits: &ClientLimits,
    progress: Option<ProgressFn>,
) -> Result<Vec<u8>> {
    let metadata = Arc::new(metadata_from_nodes(nodes, blob_id, permits).await?);
    let slivers =
        fetch_primary_slivers(nodes, &metadata, permits, limits, progress.clone()).await?;
    report(&progress, Progress::Decoding);
    let config = nodes.encoding;
    let blob_id = *blob_id;
    tokio::task::spawn_blocking(move || {
        decode_primary(&config, &metadata, &slivers, ConsistencyCheck::Default)
    })
    .await
    .map_err(|e| ClientError::Invalid(format!("decoder task failed: {e}")))?
    .map_err(|e| match e {
        DecodeError::Inconsistent(reason) => ClientError::Inconsistent(blob_id, reason),
        other => ClientError::Invalid(format!("decoding blob {blob_id}: {other}")),
    })
}

/// [`Client::read_metadata`]: every member is asked at once and the first
/// verified answer wins, so a hung node delays nothing.
pub(crate) async fn metadata_from_nodes(
    nodes: &NodeSet,
    blob_id: &BlobId,
    permits: &Arc<Semaphore>,
) -> Result<VerifiedBlobMetadataWithId> {
    let config = nodes.encoding;
    let requests: Vec<_> = owned_nodes(nodes)
        .map(|(i, node)| {
            let (permits, blob_id) = (permits.clone(), *blob_id);
            async move {
                let _permit = permits.acquire().await;
                (i, node.get_metadata(&blob_id, &config).await)
            }
        })
        .collect();
    let in_flight = requests.len().max(1);
    let mut answers = futures::stream::iter(requests).buffer_unordered(in_flight);
    let mut not_found = 0u32;
    let mut errors = Vec::new();
    while let Some((i, answer)) = answers.next().await {
        match answer {
            Ok(metadata) => return Ok(metadata),
            Err(e) if e.is_not_found() => not_found += u32::from(nodes.weight_of(i)),
            Err(e) => {
                tracing::debug!(member = i, error = %e, "no metadata");
                errors.push(e.to_string());
            }
        }
    }
    if nodes.committee.is_validity(not_found) {
        return Err(ClientError::BlobNotFound(*blob_id));
    }
    Err(ClientError::NotEnoughNodes(format!(
        "no node returned verifiable metadata for {blob_id} ({} shards said not found): {}",
        not_found,
        errors.join("; ")
    )))
}

/// Verified primary slivers of `metadata`'s blob, exactly `k_p` of them,
/// asked of the shards' owners with hedging ([`crate::hedge`]): a node
/// that accepts connections but never answers costs about one hedge delay
/// (`limits.read_hedge_ms`), not the request timeout per sliver it holds.
pub(crate) async fn fetch_primary_slivers(
    nodes: &NodeSet,
    metadata: &Arc<VerifiedBlobMetadataWithId>,
    permits: &Arc<Semaphore>,
    limits: &ClientLimits,
    progress: Option<ProgressFn>,
) -> Result<Vec<PrimarySliver>> {
    let config = nodes.encoding;
    let blob_id = *metadata.blob_id();
    let n = config.n_shards();
    let needed = usize::from(config.n_primary_source_symbols());
    let symbol_size = metadata.symbol_size(&config)?;
    let sliver_len = config.primary_sliver_len(symbol_size) as u64;
    report(
        &progress,
        Progress::DownloadStarted {
            bytes: sliver_len * needed as u64,
        },
    );
    let candidates: Vec<SliverCandidate> = (0..n)
        .filter_map(|pair| {
            let shard = pair_to_shard(pair, &blob_id, n);
            let owner = nodes.owner_of(shard)?;
            let node = nodes.nodes.get(owner).cloned().flatten();
            let previous = nodes.previous_owner_of(shard).cloned();
            (node.is_some() || previous.is_some()).then_some(SliverCandidate {
                pair,
                owner,
                node,
                previous,
            })
        })
        .collect();
    let policy = HedgePolicy {
        window: needed.min(limits.max_concurrent_requests).max(1),
        delay: limits.hedge_delay(),
    };
    let fetch = |candidate: SliverCandidate| {
        let (metadata, permits) = (metadata.clone(), permits.clone());
        async move {
            let SliverCandidate {
                pair,
                owner,
                node,
                previous,
            } = candidate;
            let sliver = {
                let _permit = permits
                    .acquire()
                    .await
                    .map_err(|e| format!("request permits closed: {e}"))?;
                // During an epoch change the new owner may still be
                // syncing the shard; its previous owner keeps it.
                let mut answer = Err("no URL for the shard's owner".to_owned());
                for n in [node, previous].into_iter().flatten() {
                    answer = n
                        .get_sliver::<Primary>(&blob_id, pair)
                        .await
                        .map_err(|e| e.to_string());
                    if answer.is_ok() {
                        break;
                    }
                }
                answer
            }?;
            if sliver.index() != pair {
                return Err(format!(
                    "member {owner} sent sliver {} for pair {pair}",
                    sliver.index()
                ));
            }
            tokio::task::spawn_blocking(move || {
                sliver
                    .verify(&config, &metadata)
                    .map(|()| sliver)
                    .map_err(|e| format!("member {owner}: sliver {pair}: {e}"))
            })
            .await
            .map_err(|e| e.to_string())?
        }
    };
    let outcome = fetch_hedged(
        candidates,
        needed,
        policy,
        |c| c.owner,
        fetch,
        |_| report(&progress, Progress::Downloaded { bytes: sliver_len }),
    )
    .await;
    for e in &outcome.errors {
        tracing::warn!(error = %e, "sliver rejected");
    }
    if outcome.got.len() == needed {
        return Ok(outcome.got);
    }
    Err(ClientError::NotEnoughNodes(format!(
        "{} of {needed} verified primary slivers for {blob_id}; failures: {}",
        outcome.got.len(),
        outcome
            .errors
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    )))
}

/// One primary sliver to ask for: its pair, the committee member owning
/// its shard, and where to ask (the owner, then during an epoch change the
/// shard's previous owner).
struct SliverCandidate {
    pair: u16,
    owner: usize,
    node: Option<NodeClient>,
    previous: Option<NodeClient>,
}

/// `(member index, client)` of every member with a URL, owned so the
/// request futures are `Send + 'static`.
fn owned_nodes(nodes: &NodeSet) -> impl Iterator<Item = (usize, NodeClient)> + '_ {
    nodes
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, node)| node.clone().map(|n| (i, n)))
}

/// What nodes said about a blob.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// The status nodes with at least f + 1 shards agree on.
    pub agreed: Option<NodeBlobStatus>,
    /// `agreed`, else the status reported by the most shards.
    pub best_effort: Option<NodeBlobStatus>,
    /// Shards whose nodes answered (before agreement stopped asking).
    pub answered_shards: u32,
    pub n_shards: u16,
    /// The committee's epoch.
    pub epoch: u32,
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
