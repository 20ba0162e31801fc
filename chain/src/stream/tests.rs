//! The stream against a deliberately unreliable in-process server: the
//! subscription skips and repeats sequence numbers and drops the
//! connection, the first subscribe fails, and the chain keeps growing.

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use proto::ledger_service_server::{LedgerService, LedgerServiceServer};
use proto::subscription_service_server::{SubscriptionService, SubscriptionServiceServer};
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status};

use crate::connection::ClientConfig;
use sui_crypto::bls12381::Bls12381PrivateKey;

#[derive(Clone, Default)]
struct Flaky {
    /// Highest existing checkpoint.
    tip: Arc<AtomicU64>,
    subscriptions: Arc<AtomicU32>,
    /// Fail every subscribe call (for the give-up test).
    always_fail: bool,
}

fn checkpoint(seq: u64) -> proto::Checkpoint {
    proto::Checkpoint::default().with_sequence_number(seq)
}

#[tonic::async_trait]
impl LedgerService for Flaky {
    async fn get_checkpoint(
        &self,
        request: Request<proto::GetCheckpointRequest>,
    ) -> Result<Response<proto::GetCheckpointResponse>, Status> {
        use proto::get_checkpoint_request::CheckpointId;
        let tip = self.tip.load(Ordering::SeqCst);
        let seq = match &request.get_ref().checkpoint_id {
            Some(CheckpointId::SequenceNumber(s)) if *s <= tip => *s,
            Some(_) => return Err(Status::not_found("no such checkpoint")),
            None => tip,
        };
        Ok(Response::new(proto::GetCheckpointResponse::new(
            checkpoint(seq),
        )))
    }
}

#[tonic::async_trait]
impl SubscriptionService for Flaky {
    async fn subscribe_checkpoints(
        &self,
        _request: Request<proto::SubscribeCheckpointsRequest>,
    ) -> Result<Response<BoxStream<proto::SubscribeCheckpointsResponse>>, Status> {
        let n = self.subscriptions.fetch_add(1, Ordering::SeqCst);
        if self.always_fail || n == 0 {
            return Err(Status::unavailable("starting up"));
        }
        let tip = self.tip.clone();
        let start = tip.load(Ordering::SeqCst) + 1;
        // Frames: skip some, repeat some, then drop the connection.
        let stream = futures::stream::unfold((start, 0u32), move |(next, sent)| {
            let tip = tip.clone();
            async move {
                if sent >= 6 {
                    return Some((
                        Err(Status::unavailable("connection reset")),
                        (next, sent + 1),
                    ))
                    .filter(|_| sent == 6);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                // The chain grows by three; we announce only the last one
                // (a gap of two), and every other frame repeats itself.
                let seq = next + 2;
                tip.fetch_max(seq, Ordering::SeqCst);
                let frame = proto::SubscribeCheckpointsResponse::default()
                    .with_cursor(seq)
                    .with_checkpoint(checkpoint(seq));
                let following = if sent % 2 == 0 { next } else { seq + 1 };
                Some((Ok(frame), (following, sent + 1)))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

async fn serve(flaky: Flaky) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = futures::stream::unfold(listener, |l| async move {
        let accepted = l.accept().await.map(|(s, _)| s);
        Some((accepted, l))
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(LedgerServiceServer::new(flaky.clone()))
            .add_service(SubscriptionServiceServer::new(flaky))
            .serve_with_incoming(incoming),
    );
    format!("http://{addr}")
}

fn fast() -> StreamConfig {
    StreamConfig {
        buffer: 3,
        backoff: RetryPolicy {
            max_attempts: u32::MAX,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(20),
        },
        max_failures: None,
        // The flaky server serves bare sequence numbers, nothing signed.
        trust: Some(Trust::Unverified),
    }
}

#[tokio::test]
async fn delivers_every_checkpoint_once_in_order_despite_a_flaky_server() {
    let flaky = Flaky::default();
    flaky.tip.store(10, Ordering::SeqCst);
    let url = serve(flaky.clone()).await;
    let client = ChainClient::new(ClientConfig::new([url])).unwrap();
    let mut stream = client.checkpoint_stream(3, fast());
    let mut expect = 3;
    tokio::time::timeout(Duration::from_secs(30), async {
        while expect < 120 {
            let c = stream.next().await.unwrap().unwrap();
            assert_eq!(c.sequence_number, expect);
            expect += 1;
            // A slow consumer now and then exercises the backpressure.
            if expect % 17 == 0 {
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
    })
    .await
    .expect("stream stalled");
    // It had to reconnect several times to get this far.
    assert!(flaky.subscriptions.load(Ordering::SeqCst) > 3);
}

#[tokio::test]
async fn gives_up_after_max_failures_with_the_error() {
    let flaky = Flaky {
        always_fail: true,
        ..Flaky::default()
    };
    let url = serve(flaky.clone()).await;
    let client = ChainClient::new(ClientConfig::new([url])).unwrap();
    let config = StreamConfig {
        max_failures: Some(3),
        ..fast()
    };
    let mut stream = client.checkpoint_stream(0, config);
    let err = tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("starting up"), "{err}");
    assert!(stream.next().await.is_none());
    assert_eq!(flaky.subscriptions.load(Ordering::SeqCst), 4);
}

/// A chain whose checkpoint `break_at` does not link to its predecessor.
#[derive(Clone)]
struct Forked {
    summaries: Arc<Vec<sui_sdk_types::CheckpointSummary>>,
    /// When set, every checkpoint is served certified by this key, with
    /// its (empty) contents.
    signer: Option<Arc<Bls12381PrivateKey>>,
}

impl Forked {
    /// A well-linked chain of `len` empty checkpoints, each certified by
    /// `signer` as a one-member committee (as the ledger certifies).
    fn signed(len: u64, signer: Bls12381PrivateKey) -> Self {
        let mut chain = Self::new(len, u64::MAX);
        let empty = sui_sdk_types::CheckpointContents::new_v1(vec![]).digest();
        let summaries = chain.summaries.iter().cloned();
        let mut relinked: Vec<sui_sdk_types::CheckpointSummary> = Vec::new();
        for mut summary in summaries {
            summary.content_digest = empty;
            summary.previous_digest = relinked.last().map(|s| s.digest());
            relinked.push(summary);
        }
        chain.summaries = Arc::new(relinked);
        chain.signer = Some(Arc::new(signer));
        chain
    }

    fn new(len: u64, break_at: u64) -> Self {
        let mut summaries: Vec<sui_sdk_types::CheckpointSummary> = Vec::new();
        for seq in 0..len {
            let previous = summaries.last().map(|s| s.digest());
            summaries.push(sui_sdk_types::CheckpointSummary {
                epoch: 0,
                sequence_number: seq,
                network_total_transactions: seq,
                content_digest: sui_sdk_types::Digest::new([seq as u8; 32]),
                previous_digest: if seq == break_at {
                    Some(sui_sdk_types::Digest::new([0xee; 32]))
                } else {
                    previous
                },
                epoch_rolling_gas_cost_summary: Default::default(),
                timestamp_ms: 1000 + seq,
                checkpoint_commitments: vec![],
                end_of_epoch_data: None,
                version_specific_data: vec![],
            });
        }
        Self {
            summaries: Arc::new(summaries),
            signer: None,
        }
    }

    fn message(&self, seq: u64) -> Option<proto::Checkpoint> {
        let summary = self.summaries.get(usize::try_from(seq).ok()?)?.clone();
        let mut message = proto::Checkpoint::default()
            .with_sequence_number(seq)
            .with_digest(summary.digest().to_string());
        if let Some(signer) = &self.signer {
            let signature = signer.sign_checkpoint_summary(&summary);
            let mut bitmap = sui_sdk_types::Bitmap::new();
            bitmap.insert(0);
            message = message
                .with_signature(proto::ValidatorAggregatedSignature::from(
                    sui_sdk_types::ValidatorAggregatedSignature {
                        epoch: summary.epoch,
                        signature: signature.signature,
                        bitmap,
                    },
                ))
                .with_contents(proto::CheckpointContents::from(
                    sui_sdk_types::CheckpointContents::new_v1(vec![]),
                ));
        }
        Some(message.with_summary(proto::CheckpointSummary::from(summary)))
    }
}

#[tonic::async_trait]
impl LedgerService for Forked {
    async fn get_checkpoint(
        &self,
        request: Request<proto::GetCheckpointRequest>,
    ) -> Result<Response<proto::GetCheckpointResponse>, Status> {
        use proto::get_checkpoint_request::CheckpointId;
        let seq = match &request.get_ref().checkpoint_id {
            Some(CheckpointId::SequenceNumber(s)) => *s,
            _ => self.summaries.len() as u64 - 1,
        };
        self.message(seq)
            .map(|c| Response::new(proto::GetCheckpointResponse::new(c)))
            .ok_or_else(|| Status::not_found("no such checkpoint"))
    }
}

#[tonic::async_trait]
impl SubscriptionService for Forked {
    async fn subscribe_checkpoints(
        &self,
        _request: Request<proto::SubscribeCheckpointsRequest>,
    ) -> Result<Response<BoxStream<proto::SubscribeCheckpointsResponse>>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

async fn serve_forked(forked: Forked) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = futures::stream::unfold(listener, |l| async move {
        Some((l.accept().await.map(|(s, _)| s), l))
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(LedgerServiceServer::new(forked.clone()))
            .add_service(SubscriptionServiceServer::new(forked))
            .serve_with_incoming(incoming),
    );
    format!("http://{addr}")
}

#[tokio::test]
async fn a_checkpoint_that_does_not_link_to_its_predecessor_ends_the_stream() {
    let url = serve_forked(Forked::new(8, 5)).await;
    let client = ChainClient::new(ClientConfig::new([url])).unwrap();
    let mut stream = client.checkpoint_stream(0, fast());
    for expect in 0..5 {
        let c = stream.next().await.unwrap().unwrap();
        assert_eq!(c.sequence_number, expect);
        assert!(c.summary.is_some());
    }
    let err = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ChainError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("does not follow"), "{err}");
    assert!(stream.next().await.is_none());
}

fn validator(seed: u8) -> Bls12381PrivateKey {
    Bls12381PrivateKey::new([seed; 32]).unwrap()
}

/// The `[chain]` section of a follower pinned to `key`, pointing at `url`.
fn pinned_to(url: &str, key: &Bls12381PrivateKey) -> crate::config::ChainConfig {
    let mut config = crate::config::ChainConfig::new(
        vec![url.to_owned()],
        "0x3a1".parse().unwrap(),
        "0xf10e".parse().unwrap(),
    );
    config.validator_keys = vec![key.public_key()];
    config
}

/// The stream as a follower gets it: trust from the client's `[chain]`.
fn from_config() -> StreamConfig {
    StreamConfig {
        trust: None,
        ..fast()
    }
}

#[tokio::test]
async fn a_pinned_follower_refuses_a_checkpoint_certified_by_another_key() {
    let genuine = validator(0x11);
    let forger = validator(0x22);
    let url = serve_forked(Forked::signed(4, validator(0x22))).await;

    // Control: pinned to the key that signed them, the same checkpoints
    // are delivered (so the refusal below is about the key alone).
    let config = pinned_to(&url, &forger);
    let client = ChainClient::new(config.client_config().unwrap()).unwrap();
    let mut stream = client.checkpoint_stream(0, from_config());
    for expect in 0..4 {
        let c = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(c.sequence_number, expect);
    }

    // Pinned to the genesis key: the forged first checkpoint is refused
    // with the reason, and nothing is delivered after it.
    let config = pinned_to(&url, &genuine);
    let client = ChainClient::new(config.client_config().unwrap()).unwrap();
    let mut stream = client.checkpoint_stream(0, from_config());
    let err = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ChainError::Uncertified { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("untrusted checkpoint"), "{text}");
    assert!(text.contains("checkpoint 0"), "{text}");
    assert!(text.contains("bad signature"), "{text}");
    assert!(stream.next().await.is_none(), "the stream does not advance");

    // A stream that names its own trust overrides the client's pin.
    let mut unverified = client.checkpoint_stream(0, fast());
    let c = unverified.next().await.unwrap().unwrap();
    assert_eq!(c.sequence_number, 0);
}
