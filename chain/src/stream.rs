//! A resumable, gap-free stream of full checkpoints.
//!
//! A background task keeps a subscription (SubscriptionService
//! SubscribeCheckpoints) open and hands checkpoints to the consumer in
//! strict sequence order, starting at a chosen sequence number:
//!
//! - on (re)connect it first reads the current tip and fetches the backlog
//!   `next..=tip` with GetCheckpoint, then follows the subscription;
//! - a subscription frame ahead of `next` means checkpoints were missed; they
//!   are fetched with GetCheckpoint before the frame is delivered;
//! - frames behind `next` (already delivered) are dropped;
//! - on any transient error (node restart, network) it backs off, reconnects
//!   (failing over across endpoints) and resumes at `next`.
//!
//! So every sequence number is delivered exactly once, in order. The channel
//! to the consumer is bounded: a slow consumer stalls the task instead of
//! growing a queue. Resuming after a process restart is the caller's part:
//! persist the last processed sequence number and start again at the next.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use sui_rpc::proto::sui::rpc::v2 as proto;
use tokio::sync::mpsc;

use crate::connection::{ChainClient, RetryPolicy};
use crate::error::ChainError;
use crate::reads::{CHECKPOINT_MASK, mask};
use crate::types::Checkpoint;
use crate::verify::CheckpointVerifier;

/// Settings of a checkpoint stream.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    /// Checkpoints buffered ahead of the consumer (at least 1).
    pub buffer: usize,
    /// Backoff between reconnects; `max_attempts` is ignored.
    pub backoff: RetryPolicy,
    /// Consecutive failed reconnects (with no progress in between) before
    /// the stream gives up and yields the last error; `None` retries
    /// forever, which suits long-running followers.
    pub max_failures: Option<u32>,
    /// Which validator committee certifies the checkpoints (see
    /// [`crate::verify`]); `None` uses the client's
    /// ([`ClientConfig::trust`](crate::ClientConfig::trust), which
    /// [`crate::config::connect`] sets from `[chain] validator_keys`).
    pub trust: Option<Trust>,
}

/// Where a stream's trust in checkpoints comes from.
#[derive(Clone, Debug, Default)]
pub enum Trust {
    /// Verify against this committee (pinned by the operator, e.g. from
    /// the genesis).
    Committee(sui_sdk_types::ValidatorCommittee),
    /// Verify against the committee the endpoint names when the stream
    /// starts (trust on first use: it protects against a later change of
    /// endpoint or a man in the middle after the start, not against an
    /// endpoint that lies from the first answer). The default only for
    /// clients built without a `[chain]` pin; [`crate::config::connect`]
    /// warns when it falls back to it.
    #[default]
    FirstUse,
    /// Check only the chaining of digests (tests of other servers).
    Unverified,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            buffer: 16,
            backoff: RetryPolicy {
                max_attempts: u32::MAX,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
            },
            max_failures: None,
            trust: None,
        }
    }
}

/// Checkpoints in order from a start sequence number. Yields `Err` once,
/// then ends, if the stream cannot continue (see
/// [`StreamConfig::max_failures`]; malformed data also ends it, since
/// retrying cannot fix it). Dropping it stops the background task.
pub struct CheckpointStream {
    rx: mpsc::Receiver<Result<Checkpoint, ChainError>>,
    task: tokio::task::JoinHandle<()>,
}

impl CheckpointStream {
    /// The next checkpoint; `None` after the stream has ended.
    pub async fn next(&mut self) -> Option<Result<Checkpoint, ChainError>> {
        self.rx.recv().await
    }
}

impl futures::Stream for CheckpointStream {
    type Item = Result<Checkpoint, ChainError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for CheckpointStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ChainClient {
    /// Streams every checkpoint from `from` on, in order, without gaps or
    /// repeats. Must be called inside a tokio runtime.
    pub fn checkpoint_stream(&self, from: u64, config: StreamConfig) -> CheckpointStream {
        let (tx, rx) = mpsc::channel(config.buffer.max(1));
        let follower = Follower {
            client: self.clone(),
            next: from,
            last_digest: None,
            // An explicit `FirstUse` is an opt-in; falling back to it
            // because the client has no pin is worth a warning.
            warn_first_use: config.trust.is_none(),
            trust: config
                .trust
                .clone()
                .unwrap_or_else(|| self.config.trust.clone()),
            verifier: None,
            tx,
        };
        let task = tokio::spawn(follower.run(config));
        CheckpointStream { rx, task }
    }
}

/// Why one connection's run ended.
enum Stop {
    /// The consumer dropped the stream.
    Closed,
    Failed(ChainError),
}

impl From<ChainError> for Stop {
    fn from(e: ChainError) -> Self {
        Stop::Failed(e)
    }
}

struct Follower {
    client: ChainClient,
    /// The next sequence number to deliver.
    next: u64,
    /// Digest of the checkpoint delivered last, when known, to check that
    /// the next one links to it.
    last_digest: Option<sui_sdk_types::Digest>,
    trust: Trust,
    /// Whether `trust` is the client's default rather than the stream's
    /// own choice.
    warn_first_use: bool,
    /// Set at the first connection unless `trust` is `Unverified`; kept
    /// across reconnects (it follows committee changes at epoch ends).
    verifier: Option<CheckpointVerifier>,
    tx: mpsc::Sender<Result<Checkpoint, ChainError>>,
}

/// Errors that reconnecting will not fix.
fn is_fatal(e: &ChainError) -> bool {
    match e {
        ChainError::Malformed { .. } | ChainError::Uncertified { .. } => true,
        ChainError::Rpc { code, .. } => matches!(
            code,
            tonic::Code::NotFound
                | tonic::Code::InvalidArgument
                | tonic::Code::Unimplemented
                | tonic::Code::PermissionDenied
                | tonic::Code::Unauthenticated
        ),
        _ => false,
    }
}

impl Follower {
    async fn run(mut self, config: StreamConfig) {
        let mut failures: u32 = 0;
        loop {
            let before = self.next;
            let error = match self.follow().await {
                Stop::Closed => return,
                Stop::Failed(e) => e,
            };
            if self.next > before {
                failures = 0;
            }
            failures = failures.saturating_add(1);
            let give_up = is_fatal(&error) || config.max_failures.is_some_and(|max| failures > max);
            if give_up {
                let _ = self.tx.send(Err(error)).await;
                return;
            }
            tracing::warn!(
                next = self.next,
                failures,
                error = %error,
                "checkpoint stream interrupted; reconnecting"
            );
            tokio::select! {
                _ = tokio::time::sleep(config.backoff.backoff(failures)) => {}
                _ = self.tx.closed() => return,
            }
        }
    }

    /// One connection: subscribe, catch up, follow. Returns only on error or
    /// when the consumer is gone.
    async fn follow(&mut self) -> Stop {
        if self.verifier.is_none() {
            let committee = match &self.trust {
                Trust::Unverified => None,
                Trust::Committee(c) => Some(c.clone()),
                Trust::FirstUse => match self.client.validator_committee().await {
                    Ok(c) => {
                        if self.warn_first_use {
                            tracing::warn!(
                                endpoint = self.client.current_endpoint(),
                                keys = ?c.members.iter().map(|m| m.public_key.to_string()).collect::<Vec<_>>(),
                                "no validator_keys pinned in [chain]: verifying checkpoints \
                                 against the committee this endpoint names (trust on first \
                                 use); pin the genesis validator key(s) to verify against them"
                            );
                        }
                        Some(c)
                    }
                    Err(e) => return e.into(),
                },
            };
            if let Some(committee) = committee {
                match CheckpointVerifier::new(committee) {
                    Ok(v) => self.verifier = Some(v),
                    Err(reason) => {
                        return Stop::Failed(self.client.malformed("GetEpoch", reason));
                    }
                }
            }
        }
        let mut subscription = match self.subscribe().await {
            Ok(s) => s,
            Err(e) => return e.into(),
        };
        // Backlog: everything up to the tip at subscription time. Later
        // checkpoints arrive on the subscription (or are fetched as gaps).
        let tip = match self.client.latest_checkpoint_number().await {
            Ok(tip) => tip,
            Err(e) => return e.into(),
        };
        if let Err(stop) = self.fill_to(tip.saturating_add(1)).await {
            return stop;
        }
        loop {
            let frame = tokio::select! {
                frame = subscription.message() => frame,
                _ = self.tx.closed() => return Stop::Closed,
            };
            let frame = match frame {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    return self.stream_error(tonic::Code::Unavailable, "subscription ended");
                }
                Err(status) => return self.stream_error(status.code(), status.message()),
            };
            let Some(checkpoint) = frame.checkpoint else {
                // Progress-only frame (filtered streams); nothing to deliver.
                continue;
            };
            let checkpoint = match Checkpoint::from_proto(&checkpoint) {
                Ok(c) => c,
                Err(reason) => {
                    return Stop::Failed(self.client.malformed("SubscribeCheckpoints", reason));
                }
            };
            let seq = checkpoint.sequence_number;
            if seq < self.next {
                continue; // Already delivered during catch-up.
            }
            if let Err(stop) = self.fill_to(seq).await {
                return stop;
            }
            if let Err(stop) = self.deliver(checkpoint).await {
                return stop;
            }
        }
    }

    fn stream_error(&self, code: tonic::Code, message: &str) -> Stop {
        Stop::Failed(ChainError::Rpc {
            endpoint: self.client.current_endpoint().to_owned(),
            op: "SubscribeCheckpoints",
            code,
            message: message.to_owned(),
        })
    }

    async fn subscribe(
        &self,
    ) -> Result<tonic::Streaming<proto::SubscribeCheckpointsResponse>, ChainError> {
        let (index, endpoint) = self.client.pick();
        let request =
            proto::SubscribeCheckpointsRequest::default().with_read_mask(mask(CHECKPOINT_MASK));
        let mut client = endpoint.client.clone();
        let timeout = self.client.config.request_timeout;
        let result = tokio::time::timeout(
            timeout,
            client.subscription_client().subscribe_checkpoints(request),
        )
        .await;
        let status = match result {
            Ok(Ok(response)) => return Ok(response.into_inner()),
            Ok(Err(status)) => status,
            Err(_) => tonic::Status::deadline_exceeded(format!("no answer within {timeout:?}")),
        };
        // Next attempt goes to the next endpoint.
        self.client.fail_over(index);
        Err(ChainError::Rpc {
            endpoint: endpoint.uri.clone(),
            op: "SubscribeCheckpoints",
            code: status.code(),
            message: status.message().to_owned(),
        })
    }

    /// Fetches and delivers `next..end`.
    async fn fill_to(&mut self, end: u64) -> Result<(), Stop> {
        while self.next < end {
            let checkpoint = self.client.get_checkpoint(self.next).await?;
            self.deliver(checkpoint).await?;
        }
        Ok(())
    }

    async fn deliver(&mut self, checkpoint: Checkpoint) -> Result<(), Stop> {
        if checkpoint.sequence_number != self.next {
            return Err(Stop::Failed(self.client.malformed(
                "GetCheckpoint",
                format!(
                    "expected checkpoint {}, got {}",
                    self.next, checkpoint.sequence_number
                ),
            )));
        }
        // Chained digests: a checkpoint from another chain (or a rewritten
        // history after a restart) is refused rather than delivered.
        if let (Some(last), Some(summary)) = (self.last_digest, &checkpoint.summary)
            && summary.previous_digest != Some(last)
        {
            return Err(Stop::Failed(self.client.malformed(
                "SubscribeCheckpoints",
                format!(
                    "checkpoint {} does not follow the previous one (previous digest {:?}, expected {last})",
                    self.next, summary.previous_digest
                ),
            )));
        }
        if let Some(verifier) = &mut self.verifier
            && let Err(e) = verifier.verify(&checkpoint)
        {
            return Err(Stop::Failed(ChainError::Uncertified {
                endpoint: self.client.current_endpoint().to_owned(),
                source: e,
            }));
        }
        self.last_digest = checkpoint.digest;
        self.tx
            .send(Ok(checkpoint))
            .await
            .map_err(|_| Stop::Closed)?;
        self.next += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
