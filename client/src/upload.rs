//! Uploading a blob's metadata and slivers to every node for its shards
//! and gathering signed confirmations to a quorum.
//!
//! One task per committee member: metadata first, then for each of its
//! shards the pair `shard_to_pair(shard)` (primary and secondary sliver),
//! then the confirmation. All node requests of the client share one
//! semaphore, so the number of request bodies in flight (each a BCS copy
//! of one sliver) is bounded whatever the committee size. Uploads use
//! `?pending=true`, so a node that has not yet seen the registration
//! buffers them; the confirmation request asks the node to wait for the
//! registration event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use floe_chain::floe::calls::CertificateArgs;
use floe_core::encoding::SliverPair;
use floe_core::messages::SignedMessage;
use floe_core::messages::storage_confirmation::StorageConfirmationBody;
use floe_core::{VerifiedBlobMetadataWithId, shard_to_pair};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::task::JoinHandle;

use crate::client::{Client, NodeSet};
use crate::error::{ClientError, Result};
use crate::node_api::{NodeClient, NodeError};
use crate::quorum::{ConfirmationCollector, certificate_args};
use crate::types::{Progress, ProgressFn, report};

/// Sliver pairs of one node uploaded concurrently (within the client-wide
/// request bound).
const PAIRS_IN_FLIGHT_PER_NODE: usize = 16;
/// Attempts per upload request when the node is unreachable or busy.
const UPLOAD_ATTEMPTS: u32 = 3;

/// Everything the per-node tasks share.
#[derive(Clone)]
pub(crate) struct UploadJob {
    pub client: Client,
    pub nodes: NodeSet,
    pub metadata: Arc<VerifiedBlobMetadataWithId>,
    pub pairs: Arc<Vec<SliverPair>>,
    pub confirmation_wait: Duration,
    pub progress: Option<ProgressFn>,
}

/// A member's index and its confirmation (or why there is none).
type NodeOutcome = (
    usize,
    Result<SignedMessage<StorageConfirmationBody>, String>,
);

/// Uploads still running after the quorum was reached.
pub(crate) struct Tail {
    handles: FuturesUnordered<JoinHandle<NodeOutcome>>,
}

impl Tail {
    /// Waits for the remaining uploads (each bounded by request timeouts).
    pub async fn wait(mut self) {
        while let Some(done) = self.handles.next().await {
            if let Ok((index, Err(e))) = done {
                tracing::warn!(member = index, error = %e, "upload to a node after quorum failed");
            }
        }
    }
}

/// Uploads to every node, verifies confirmations as they come, and
/// returns the aggregated certificate once a quorum confirmed, with the
/// still-running uploads.
pub(crate) async fn collect_certificate(
    job: UploadJob,
    body: StorageConfirmationBody,
) -> Result<(CertificateArgs, Tail)> {
    let n_shards = job.nodes.committee.n_shards();
    let total: u64 = job
        .pairs
        .iter()
        .map(|p| (p.primary.data().len() + p.secondary.data().len()) as u64)
        .sum();
    report(&job.progress, Progress::UploadStarted { bytes: total });
    let job = Arc::new(job);
    let handles: FuturesUnordered<_> = (0..job.nodes.committee.n_members())
        .map(|index| {
            let job = job.clone();
            tokio::spawn(async move {
                let result = store_on_node(&job, index, body).await;
                (index, result)
            })
        })
        .collect();
    let mut tail = Tail { handles };
    let committee = job.nodes.committee.clone();
    let mut collector = ConfirmationCollector::new(&committee, body);
    while let Some(done) = tail.handles.next().await {
        let (index, answer) = match done {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = %e, "upload task failed");
                continue;
            }
        };
        if let Err(e) = &answer {
            tracing::warn!(member = index, error = %e, "node did not confirm");
        }
        let quorum = collector.add(index, answer);
        report(
            &job.progress,
            Progress::Confirmed {
                weight: collector.weight(),
                n_shards,
            },
        );
        if quorum {
            let certificate = collector.certificate().map_err(ClientError::Invalid)?;
            let args = certificate_args(&certificate, committee.n_members())
                .map_err(ClientError::Invalid)?;
            return Ok((args, tail));
        }
    }
    let failures: Vec<String> = collector
        .failures()
        .iter()
        .map(|(i, e)| format!("member {i}: {e}"))
        .collect();
    Err(ClientError::NotEnoughNodes(format!(
        "confirmations from {} of {} shards, a quorum needs more than two thirds; {}",
        collector.weight(),
        n_shards,
        failures.join("; ")
    )))
}

/// One member's whole job: metadata, its pairs, the confirmation.
async fn store_on_node(
    job: &UploadJob,
    index: usize,
    body: StorageConfirmationBody,
) -> Result<SignedMessage<StorageConfirmationBody>, String> {
    let node = job
        .nodes
        .nodes
        .get(index)
        .and_then(Option::as_ref)
        .ok_or_else(|| "no URL for this node in the client config".to_owned())?;
    let blob_id = *job.metadata.blob_id();
    let n = job.nodes.committee.n_shards();
    with_retries(job, || node.put_metadata(&job.metadata))
        .await
        .map_err(|e| format!("metadata: {e}"))?;
    let pairs: Vec<u16> = job
        .nodes
        .shards_of(index)
        .iter()
        .map(|&shard| shard_to_pair(shard, &blob_id, n))
        .collect();
    let mut uploads = futures::stream::iter(pairs)
        .map(|pair| upload_pair(job, node, pair))
        .buffer_unordered(PAIRS_IN_FLIGHT_PER_NODE);
    while let Some(result) = uploads.next().await {
        result?;
    }
    drop(uploads);
    confirm(job, node, body).await
}

async fn upload_pair(job: &UploadJob, node: &NodeClient, pair: u16) -> Result<(), String> {
    let blob_id = job.metadata.blob_id();
    let sliver_pair = job
        .pairs
        .get(usize::from(pair))
        .ok_or_else(|| format!("pair {pair} out of range"))?;
    with_retries(job, || node.put_sliver(blob_id, pair, &sliver_pair.primary))
        .await
        .map_err(|e| format!("primary sliver of pair {pair}: {e}"))?;
    report(
        &job.progress,
        Progress::Uploaded {
            bytes: sliver_pair.primary.data().len() as u64,
        },
    );
    with_retries(job, || {
        node.put_sliver(blob_id, pair, &sliver_pair.secondary)
    })
    .await
    .map_err(|e| format!("secondary sliver of pair {pair}: {e}"))?;
    report(
        &job.progress,
        Progress::Uploaded {
            bytes: sliver_pair.secondary.data().len() as u64,
        },
    );
    Ok(())
}

/// Runs one request under the client-wide permit, retrying (with a short
/// backoff) when the node was unreachable or answered 429/503.
async fn with_retries<F, Fut>(job: &UploadJob, mut request: F) -> Result<(), NodeError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), NodeError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = {
            let _permit =
                job.client
                    .permits
                    .acquire()
                    .await
                    .map_err(|_| NodeError::Unreachable {
                        url: String::new(),
                        reason: "client shutting down".into(),
                    })?;
            request().await
        };
        let retry = result.as_ref().is_err_and(NodeError::is_transient);
        if !retry || attempt >= UPLOAD_ATTEMPTS {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
    }
}

/// Asks for the confirmation until it comes or the wait budget is spent;
/// a node that has not yet seen the registration or the slivers answers
/// 400 `NOT_REGISTERED` / `MISSING_SLIVERS`.
async fn confirm(
    job: &UploadJob,
    node: &NodeClient,
    body: StorageConfirmationBody,
) -> Result<SignedMessage<StorageConfirmationBody>, String> {
    let deadline = Instant::now() + job.confirmation_wait;
    let blob_id = body.blob_id;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let answer = {
            let _permit = job
                .client
                .permits
                .acquire()
                .await
                .map_err(|e| e.to_string())?;
            node.get_confirmation(
                &blob_id,
                body.blob_type,
                remaining.min(Duration::from_secs(10)),
            )
            .await
        };
        match answer {
            Ok(signed) => return Ok(signed),
            Err(e) => {
                let retry = e.is_transient() || e.is_not_ready();
                if !retry || Instant::now() >= deadline {
                    return Err(format!("confirmation: {e}"));
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
}
