//! Reading a blob (fact sheet 4.2) and asking nodes for its status.
//!
//! Read: metadata from the first node whose answer verifies against the
//! blob id; primary slivers, each verified against those metadata, until
//! `k_p = n - 2f` verified ones; decode with the consistency check. A node
//! that is down or serves wrong bytes only costs a request: its answer
//! never reaches the decoder, so up to f faulty or lying nodes cannot
//! change what is returned.

use std::sync::Arc;

use floe_core::encoding::{ConsistencyCheck, DecodeError, Primary, PrimarySliver, decode_primary};
use floe_core::{BlobId, VerifiedBlobMetadataWithId, pair_to_shard};
use futures::StreamExt;

use crate::client::{Client, NodeSet};
use crate::error::{ClientError, Result};
use crate::node_api::NodeClient;
use crate::status::{NodeBlobStatus, StatusTally};
use crate::types::{Progress, ProgressFn, report};

impl Client {
    /// Reads and decodes blob `blob_id`.
    pub async fn read(&self, blob_id: &BlobId, progress: Option<ProgressFn>) -> Result<Vec<u8>> {
        let nodes = self.node_set().await?;
        let metadata = Arc::new(self.read_metadata(&nodes, blob_id).await?);
        let slivers = self
            .read_primary_slivers(&nodes, &metadata, progress.clone())
            .await?;
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

    /// Verified metadata from the first node that has them. "Not found"
    /// when nodes with validity weight (f + 1 shards, so at least one
    /// honest) say so and none has verifiable metadata.
    pub async fn read_metadata(
        &self,
        nodes: &NodeSet,
        blob_id: &BlobId,
    ) -> Result<VerifiedBlobMetadataWithId> {
        let config = nodes.encoding;
        let requests: Vec<_> = owned_nodes(nodes)
            .map(|(i, node)| {
                let (permits, blob_id) = (self.permits.clone(), *blob_id);
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

    /// Verified primary slivers, exactly `k_p` of them.
    async fn read_primary_slivers(
        &self,
        nodes: &NodeSet,
        metadata: &Arc<VerifiedBlobMetadataWithId>,
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
        let in_flight = needed
            .min(self.config.limits.max_concurrent_requests)
            .max(1);
        let requests: Vec<_> = (0..n)
            .filter_map(|pair| {
                let shard = pair_to_shard(pair, &blob_id, n);
                let owner = nodes.owner_of(shard)?;
                let node = nodes.nodes.get(owner).cloned().flatten();
                let previous = nodes.previous_owner_of(shard).cloned();
                (node.is_some() || previous.is_some()).then_some((pair, owner, node, previous))
            })
            .map(|(pair, owner, node, previous)| {
                let (metadata, permits) = (metadata.clone(), self.permits.clone());
                async move {
                    let sliver = {
                        let _permit = permits.acquire().await;
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
            })
            .collect();
        let mut answers = futures::stream::iter(requests).buffer_unordered(in_flight);
        let mut slivers = Vec::with_capacity(needed);
        let mut errors = Vec::new();
        while let Some(answer) = answers.next().await {
            match answer {
                Ok(sliver) => {
                    report(&progress, Progress::Downloaded { bytes: sliver_len });
                    slivers.push(sliver);
                    if slivers.len() == needed {
                        return Ok(slivers);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sliver rejected");
                    errors.push(e);
                }
            }
        }
        Err(ClientError::NotEnoughNodes(format!(
            "{} of {needed} verified primary slivers for {blob_id}; failures: {}",
            slivers.len(),
            errors
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )))
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
