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
use floe_core::{BlobId, EncodingConfig, VerifiedBlobMetadataWithId, pair_to_shard};
use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::client::{Client, NodeSet};
use crate::config::ClientLimits;
use crate::error::{ClientError, Result};
use crate::hedge::{HedgePolicy, fetch_hedged};
use crate::node_api::NodeClient;
use crate::status::{NodeBlobStatus, StatusTally};
use crate::types::{Progress, ProgressFn, report};
use in_place::InPlace;

mod in_place;

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
    read_with_metadata(nodes, &metadata, Vec::new(), permits, limits, progress).await
}

/// The blob of verified `metadata`. With nothing in hand, first its
/// systematic rows straight into place ([`in_place`]); otherwise, or when
/// that fails, any `k_p` verified primary slivers and a decode. `have` are
/// verified primary slivers already in hand (a range read that fell back),
/// which count towards the `k_p` and are not asked again.
pub(crate) async fn read_with_metadata(
    nodes: &NodeSet,
    metadata: &Arc<VerifiedBlobMetadataWithId>,
    have: Vec<PrimarySliver>,
    permits: &Arc<Semaphore>,
    limits: &ClientLimits,
    progress: Option<ProgressFn>,
) -> Result<Vec<u8>> {
    let have = if have.is_empty() {
        match in_place::read_rows_in_place(nodes, metadata, permits, limits, &progress).await? {
            InPlace::Blob(blob) => return Ok(blob),
            InPlace::Fallback { rows, reason } => {
                tracing::info!(
                    blob_id = %metadata.blob_id(),
                    %reason,
                    verified_rows = rows.len(),
                    "the systematic rows could not all be read directly; reading any k_p slivers"
                );
                rows
            }
        }
    } else {
        have
    };
    let mut slivers =
        fetch_primary_slivers(nodes, metadata, have, permits, limits, progress.clone()).await?;
    report(&progress, Progress::Decoding);
    let config = nodes.encoding;
    let blob_id = *metadata.blob_id();
    let metadata = metadata.clone();
    tokio::task::spawn_blocking(move || {
        let len = metadata.metadata().unencoded_length();
        match concatenate_systematic(&config, len, &mut slivers) {
            Some(blob) => Ok(blob),
            None => decode_primary(&config, &metadata, &slivers, ConsistencyCheck::Default),
        }
    })
    .await
    .map_err(|e| ClientError::Invalid(format!("decoder task failed: {e}")))?
    .map_err(|e| match e {
        DecodeError::Inconsistent(reason) => ClientError::Inconsistent(blob_id, reason),
        other => ClientError::Invalid(format!("decoding blob {blob_id}: {other}")),
    })
}

/// The blob when `slivers` are exactly its `k_p` systematic rows (the
/// usual case: they are asked first): the rows *are* the blob, so it is
/// their concatenation cut to `len`, and the default consistency check
/// (re-hash each systematic row that was not supplied) has nothing left
/// to check. `None` otherwise (decode). Sorts `slivers` by index.
fn concatenate_systematic(
    config: &EncodingConfig,
    len: u64,
    slivers: &mut [PrimarySliver],
) -> Option<Vec<u8>> {
    let k_p = usize::from(config.n_primary_source_symbols());
    slivers.sort_unstable_by_key(PrimarySliver::index);
    let systematic = slivers.len() == k_p
        && slivers
            .iter()
            .enumerate()
            .all(|(i, s)| usize::from(s.index()) == i);
    if !systematic {
        return None;
    }
    let len = usize::try_from(len).ok()?;
    let mut blob = Vec::with_capacity(len);
    for row in slivers.iter() {
        let take = (len - blob.len()).min(row.data().len());
        blob.extend_from_slice(&row.data()[..take]);
    }
    // Verified rows of the right shape hold at least `len` bytes.
    (blob.len() == len).then_some(blob)
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
/// `have` (verified, distinct) count towards the `k_p` and are not asked.
pub(crate) async fn fetch_primary_slivers(
    nodes: &NodeSet,
    metadata: &Arc<VerifiedBlobMetadataWithId>,
    have: Vec<PrimarySliver>,
    permits: &Arc<Semaphore>,
    limits: &ClientLimits,
    progress: Option<ProgressFn>,
) -> Result<Vec<PrimarySliver>> {
    let config = nodes.encoding;
    let blob_id = *metadata.blob_id();
    let n = config.n_shards();
    let k_p = usize::from(config.n_primary_source_symbols());
    let mut have = have;
    have.truncate(k_p);
    let needed = k_p - have.len();
    let symbol_size = metadata.symbol_size(&config)?;
    let sliver_len = config.primary_sliver_len(symbol_size) as u64;
    report(
        &progress,
        Progress::DownloadStarted {
            bytes: sliver_len * needed as u64,
        },
    );
    if needed == 0 {
        return Ok(have);
    }
    let in_hand: std::collections::HashSet<u16> = have.iter().map(|s| s.index()).collect();
    let candidates: Vec<SliverCandidate> = (0..n)
        .filter(|pair| !in_hand.contains(pair))
        .filter_map(|pair| SliverCandidate::for_pair(nodes, &blob_id, pair))
        .collect();
    let policy = HedgePolicy {
        window: needed.min(limits.max_concurrent_requests).max(1),
        delay: limits.hedge_delay(),
    };
    let fetch = |candidate: SliverCandidate| {
        fetch_verified_primary(candidate, metadata.clone(), permits.clone(), config)
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
        have.extend(outcome.got);
        return Ok(have);
    }
    Err(ClientError::NotEnoughNodes(format!(
        "{} of {k_p} verified primary slivers for {blob_id}; failures: {}",
        outcome.got.len() + have.len(),
        outcome
            .errors
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    )))
}

/// Asks for one primary sliver (its shard's owner, then during an epoch
/// change the shard's previous owner) and verifies it against `metadata`:
/// only a sliver that hashes to the metadata's value comes back `Ok`.
pub(crate) async fn fetch_verified_primary(
    candidate: SliverCandidate,
    metadata: Arc<VerifiedBlobMetadataWithId>,
    permits: Arc<Semaphore>,
    config: EncodingConfig,
) -> std::result::Result<PrimarySliver, String> {
    let blob_id = *metadata.blob_id();
    let SliverCandidate {
        pair,
        owner,
        node,
        previous,
    } = candidate;
    let mut failures = Vec::new();
    for n in [node, previous].into_iter().flatten() {
        let answer = {
            let _permit = permits
                .acquire()
                .await
                .map_err(|e| format!("request permits closed: {e}"))?;
            n.get_sliver::<Primary>(&blob_id, pair).await
        };
        let sliver = match answer {
            Ok(sliver) => sliver,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        if sliver.index() != pair {
            failures.push(format!(
                "member {owner} sent sliver {} for pair {pair}",
                sliver.index()
            ));
            continue;
        }
        let metadata = metadata.clone();
        let verified = floe_core::cpu_pool::on_cpu_pool(move || {
            sliver
                .verify(&config, &metadata)
                .map(|()| sliver)
                .map_err(|e| format!("member {owner}: sliver {pair}: {e}"))
        })
        .await?;
        match verified {
            Ok(sliver) => return Ok(sliver),
            // A holder that lies: the previous owner may still be honest.
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        failures.push("no URL for the shard's owner".to_owned());
    }
    Err(failures.join("; "))
}

/// One primary sliver to ask for: its pair, the committee member owning
/// its shard, and where to ask (the owner, then during an epoch change the
/// shard's previous owner).
pub(crate) struct SliverCandidate {
    pub(crate) pair: u16,
    pub(crate) owner: usize,
    node: Option<NodeClient>,
    previous: Option<NodeClient>,
}

impl SliverCandidate {
    /// Where to ask for pair `pair`'s primary sliver; `None` when no
    /// holder has a URL.
    pub(crate) fn for_pair(nodes: &NodeSet, blob_id: &BlobId, pair: u16) -> Option<Self> {
        let shard = pair_to_shard(pair, blob_id, nodes.encoding.n_shards());
        let owner = nodes.owner_of(shard)?;
        let node = nodes.nodes.get(owner).cloned().flatten();
        let previous = nodes.previous_owner_of(shard).cloned();
        (node.is_some() || previous.is_some()).then_some(SliverCandidate {
            pair,
            owner,
            node,
            previous,
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

#[cfg(test)]
pub(crate) mod tests;
