//! Uploading a blob's metadata and slivers to every node for its shards
//! and gathering signed confirmations to a quorum.
//!
//! One task per committee member: metadata first, then the pairs of its
//! shards (`shard_to_pair(shard)`: primary and secondary sliver) as the
//! producer of [`crate::sliver_feed`] hands them over, within a window that
//! bounds the slivers held in memory, then the confirmation. Each body is
//! the sliver's own buffer ([`SliverBytes`]), not a serialised copy. All
//! node requests of the client share one semaphore, so the requests in
//! flight are bounded whatever the committee size. Uploads use
//! `?pending=true`, so a node that has not yet seen the registration
//! buffers them; the confirmation request asks the node to wait for the
//! registration event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use floe_chain::floe::calls::CertificateArgs;
use floe_core::Axis;
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
use crate::sliver_body::SliverBytes;
use crate::sliver_feed::{self, FedPair, FeedState, SliverSource, Window};
use crate::types::{Progress, ProgressFn, report};

/// Attempts per upload request when the node is unreachable or busy.
const UPLOAD_ATTEMPTS: u32 = 3;

/// Everything the per-node tasks share.
#[derive(Clone)]
pub(crate) struct UploadJob {
    pub client: Client,
    pub nodes: NodeSet,
    pub metadata: Arc<VerifiedBlobMetadataWithId>,
    pub source: Arc<SliverSource>,
    /// `limits.store_window(..)`: the window of produced pairs.
    pub buffer_bytes: u64,
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
    /// The sliver producer; it ends when every node's upload has.
    producer: JoinHandle<()>,
}

impl Tail {
    /// Waits for the remaining uploads (each bounded by request timeouts).
    pub async fn wait(mut self) {
        while let Some(done) = self.handles.next().await {
            if let Ok((index, Err(e))) = done {
                tracing::warn!(member = index, error = %e, "upload to a node after quorum failed");
            }
        }
        if let Err(e) = self.producer.await {
            tracing::error!(error = %e, "sliver producer task failed");
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
    let blob_id = *job.metadata.blob_id();
    let pair_bytes = job.source.pair_bytes();
    report(
        &job.progress,
        Progress::UploadStarted {
            bytes: pair_bytes as u64 * u64::from(n_shards),
        },
    );
    let members = job.nodes.committee.n_members();
    // Members without a URL get nothing produced (their task fails at once).
    let assignments: Vec<Vec<u16>> = (0..members)
        .map(|index| match job.nodes.nodes.get(index) {
            Some(Some(_)) => job
                .nodes
                .shards_of(index)
                .iter()
                .map(|&shard| shard_to_pair(shard, &blob_id, n_shards))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let with_pairs = assignments.iter().filter(|a| !a.is_empty()).count();
    let window = Window::new(job.buffer_bytes, pair_bytes, with_pairs);
    let mut feed = sliver_feed::start(job.source.clone(), assignments.clone(), window);
    let state = feed.state.clone();
    let job = Arc::new(job);
    let handles: FuturesUnordered<_> = (0..members)
        .map(|index| {
            let job = job.clone();
            let pairs = feed.receivers[index].take();
            let expected = assignments[index].len();
            let state = state.clone();
            tokio::spawn(async move {
                let feed = NodeFeed {
                    pairs,
                    expected,
                    state,
                    in_flight: window.per_node,
                };
                let result = store_on_node(&job, index, body, feed).await;
                (index, result)
            })
        })
        .collect();
    let mut tail = Tail {
        handles,
        producer: feed.task,
    };
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

/// What one member's task takes its pairs from.
struct NodeFeed {
    pairs: Option<tokio::sync::mpsc::Receiver<FedPair>>,
    /// Pairs of its shards (fewer received means the producer failed).
    expected: usize,
    state: Arc<FeedState>,
    /// Pairs uploaded at once.
    in_flight: usize,
}

/// One member's whole job: metadata, its pairs, the confirmation.
async fn store_on_node(
    job: &UploadJob,
    index: usize,
    body: StorageConfirmationBody,
    feed: NodeFeed,
) -> Result<SignedMessage<StorageConfirmationBody>, String> {
    let node = job
        .nodes
        .nodes
        .get(index)
        .and_then(Option::as_ref)
        .ok_or_else(|| "no URL for this node in the client config".to_owned())?;
    with_retries(job, || node.put_metadata(&job.metadata))
        .await
        .map_err(|e| format!("metadata: {e}"))?;
    let pairs = feed
        .pairs
        .ok_or_else(|| "no sliver stream for this node".to_owned())?;
    let incoming = futures::stream::unfold(pairs, |mut rx| async move {
        rx.recv().await.map(|fed| (fed, rx))
    });
    let mut uploads = std::pin::pin!(
        incoming
            .map(|fed| upload_pair(job, node, fed))
            .buffer_unordered(feed.in_flight.max(1))
    );
    let mut uploaded = 0;
    while let Some(result) = uploads.next().await {
        result?;
        uploaded += 1;
    }
    if uploaded < feed.expected {
        let why = feed
            .state
            .failure()
            .unwrap_or_else(|| "the producer stopped".to_owned());
        return Err(format!(
            "{uploaded} of {} sliver pairs uploaded: {why}",
            feed.expected
        ));
    }
    confirm(job, node, body).await
}

async fn upload_pair(job: &UploadJob, node: &NodeClient, fed: FedPair) -> Result<(), String> {
    let FedPair {
        pair,
        primary,
        secondary,
        ticket,
    } = fed;
    upload_sliver(job, node, pair, Axis::Primary, primary).await?;
    upload_sliver(job, node, pair, Axis::Secondary, secondary).await?;
    // The pair's place in the window is free once both slivers are in.
    drop(ticket);
    Ok(())
}

async fn upload_sliver(
    job: &UploadJob,
    node: &NodeClient,
    pair: u16,
    axis: Axis,
    sliver: SliverBytes,
) -> Result<(), String> {
    let blob_id = job.metadata.blob_id();
    with_retries(job, || node.put_sliver_bytes(blob_id, pair, axis, &sliver))
        .await
        .map_err(|e| format!("{axis} sliver of pair {pair}: {e}"))?;
    report(
        &job.progress,
        Progress::Uploaded {
            bytes: sliver.data_len() as u64,
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
