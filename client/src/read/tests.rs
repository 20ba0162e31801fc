//! Reads against fake nodes over real sockets: one accepts connections and
//! never answers, one answers slowly, one lies, the others serve honestly.
//! The fake network is shared with the range-read tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use floe_core::EncodingConfig;
use floe_core::bls::BlsSecretKey;
use floe_core::committee::{Committee, CommitteeMember};
use floe_core::encoding::encode_blob;
use floe_core::move_types::ObjectId;
use floe_core::shard_assignment::ShardAssignment;
use http::StatusCode;

use super::*;
use crate::node_api::http_client;

pub(crate) const N_SHARDS: u16 = 10;

/// What a fake node serves, and how long it waits before answering.
struct FakeNode {
    metadata: Vec<u8>,
    slivers: std::collections::HashMap<u16, Vec<u8>>,
    delay: Duration,
    /// Sliver requests received.
    asked: Arc<AtomicUsize>,
}

async fn metadata(State(node): State<Arc<FakeNode>>) -> axum::response::Response {
    tokio::time::sleep(node.delay).await;
    node.metadata.clone().into_response()
}

async fn sliver(
    State(node): State<Arc<FakeNode>>,
    Path((_blob, pair, _axis)): Path<(String, u16, String)>,
) -> axum::response::Response {
    node.asked.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(node.delay).await;
    match node.slivers.get(&pair) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn serve(node: FakeNode) -> String {
    let app = axum::Router::new()
        .route("/v1/blobs/{blob_id}/metadata", axum::routing::get(metadata))
        .route(
            "/v1/blobs/{blob_id}/slivers/{pair}/{axis}",
            axum::routing::get(sliver),
        )
        .with_state(Arc::new(node));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// A node that accepts connections and never reads or answers; counts
/// the connections it got.
async fn hung_node() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (format!("http://{address}"), accepted)
}

/// Which node serves how: hung, honest after a delay, or serving slivers
/// with one byte flipped (a liar; its metadata are honest, so that the
/// read gets as far as asking it for slivers).
pub(crate) enum Behaviour {
    Hung,
    Answers(Duration),
    Lies,
}

/// A fake committee: the view a read gets, the blob id, and per member
/// how many sliver requests (or, for a hung node, connections) it got.
pub(crate) struct FakeNetwork {
    pub(crate) nodes: NodeSet,
    pub(crate) blob_id: BlobId,
    pub(crate) asked: Vec<Arc<AtomicUsize>>,
}

/// Encodes `blob`, gives member `i` the shards of the pairs in
/// `pairs[i]`, starts each member as `behaviour[i]` and returns the
/// committee view and the hung node's connection counter.
async fn network(
    blob: &[u8],
    pairs: &[&[u16]],
    behaviour: Vec<Behaviour>,
    limits: &ClientLimits,
) -> (NodeSet, BlobId, Option<Arc<AtomicUsize>>) {
    let mut hung = None;
    for (i, b) in behaviour.iter().enumerate() {
        if matches!(b, Behaviour::Hung) {
            hung = Some(i);
        }
    }
    let net = fake_network(blob, pairs, behaviour, limits).await;
    let hung_count = hung.map(|i| net.asked[i].clone());
    (net.nodes, net.blob_id, hung_count)
}

/// Encodes `blob` for [`N_SHARDS`] shards, gives member `i` the shards of
/// the pairs in `pairs[i]` and starts each member as `behaviour[i]`.
pub(crate) async fn fake_network(
    blob: &[u8],
    pairs: &[&[u16]],
    behaviour: Vec<Behaviour>,
    limits: &ClientLimits,
) -> FakeNetwork {
    // As many shards as pairs are handed out ([`N_SHARDS`] in most tests).
    let n_shards: u16 = pairs.iter().map(|p| p.len() as u16).sum();
    let config = EncodingConfig::new(n_shards).unwrap();
    let encoded = encode_blob(&config, blob).unwrap();
    let blob_id = *encoded.metadata.blob_id();
    let keys: Vec<BlsSecretKey> = (0..pairs.len())
        .map(|i| BlsSecretKey::from_seed(&[i as u8 + 1; 32]))
        .collect();
    let members: Vec<CommitteeMember> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| CommitteeMember {
            node_id: ObjectId([i as u8 + 1; 32]),
            public_key: keys[i].public_key(),
            weight: p.len() as u16,
        })
        .collect();
    let committee = Committee::new(1, members).unwrap();
    let staking: Vec<(ObjectId, Vec<u16>)> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let shards = p
                .iter()
                .map(|&pair| pair_to_shard(pair, &blob_id, n_shards))
                .collect();
            (ObjectId([i as u8 + 1; 32]), shards)
        })
        .collect();
    let shards = ShardAssignment::new(&committee, &staking).unwrap();
    let http = http_client(limits).unwrap();
    let mut nodes = Vec::new();
    let mut asked = Vec::new();
    for (i, how) in behaviour.into_iter().enumerate() {
        let (delay, lies) = match how {
            Behaviour::Hung => {
                let (url, count) = hung_node().await;
                asked.push(count);
                nodes.push(Some(NodeClient::new(http.clone(), &url, limits).unwrap()));
                continue;
            }
            Behaviour::Answers(delay) => (delay, false),
            Behaviour::Lies => (Duration::ZERO, true),
        };
        let slivers = pairs[i]
            .iter()
            .map(|&pair| {
                let mut sliver = encoded.primary[usize::from(pair)].clone();
                if lies {
                    let mut data = sliver.data().to_vec();
                    let middle = data.len() / 2;
                    data[middle] ^= 0xff;
                    sliver = PrimarySliver::new(data, sliver.symbol_size(), pair).unwrap();
                }
                (pair, sliver.to_bcs())
            })
            .collect();
        let count = Arc::new(AtomicUsize::new(0));
        asked.push(count.clone());
        let url = serve(FakeNode {
            metadata: encoded.metadata.to_bcs(),
            slivers,
            delay,
            asked: count,
        })
        .await;
        nodes.push(Some(NodeClient::new(http.clone(), &url, limits).unwrap()));
    }
    let set = NodeSet {
        committee,
        nodes,
        encoding: config,
        shards,
        previous_owner: Vec::new(),
    };
    FakeNetwork {
        nodes: set,
        blob_id,
        asked,
    }
}

/// Limits of these tests: a request timeout far longer than any test may
/// run, so only hedging can finish a read that meets the hung node.
pub(crate) fn limits() -> ClientLimits {
    ClientLimits {
        request_timeout_ms: 3_600_000,
        read_hedge_ms: Some(200),
        ..ClientLimits::default()
    }
}

/// Runs a read, failing (instead of hanging for the request timeout)
/// when it does not finish within a minute.
async fn read(nodes: &NodeSet, blob_id: &BlobId, limits: &ClientLimits) -> Vec<u8> {
    let permits = Arc::new(Semaphore::new(limits.max_concurrent_requests));
    tokio::time::timeout(
        Duration::from_secs(60),
        read_from_nodes(nodes, blob_id, &permits, limits, None),
    )
    .await
    .expect("the read waited on the hung node")
    .expect("the read succeeds")
}

fn blob() -> Vec<u8> {
    (0..5_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn a_hung_node_holding_the_first_slivers_does_not_stall_the_read() {
    // k_p = 4 for 10 shards. The hung node holds pairs 0-3, exactly the
    // first window of requests; the two healthy nodes hold four pairs, as
    // many as needed; the slow node answers after two minutes, longer than
    // the read may take.
    let limits = limits();
    let data = blob();
    let (nodes, blob_id, hung) = network(
        &data,
        &[&[0, 1, 2, 3], &[4, 5], &[6, 7], &[8, 9]],
        vec![
            Behaviour::Hung,
            Behaviour::Answers(Duration::from_secs(120)),
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Answers(Duration::ZERO),
        ],
        &limits,
    )
    .await;
    assert_eq!(read(&nodes, &blob_id, &limits).await, data);
    let hung = hung.unwrap().load(Ordering::SeqCst);
    assert!(hung >= 1, "the hung node was asked ({hung} connections)");
}

#[tokio::test]
async fn a_slow_node_still_contributes_when_it_is_needed() {
    // Hung node: pairs 0-3; slow node (1 s): 4-7; healthy: 8-9. Two
    // slivers must come from the slow node.
    let limits = limits();
    let data = blob();
    let (nodes, blob_id, _) = network(
        &data,
        &[&[0, 1, 2, 3], &[4, 5, 6, 7], &[8, 9]],
        vec![
            Behaviour::Hung,
            Behaviour::Answers(Duration::from_secs(1)),
            Behaviour::Answers(Duration::ZERO),
        ],
        &limits,
    )
    .await;
    assert_eq!(read(&nodes, &blob_id, &limits).await, data);
}

#[tokio::test]
async fn too_few_honest_slivers_is_a_retryable_error_not_a_hang() {
    // Only three pairs are served (k_p = 4): the read must fail with
    // NotEnoughNodes once every candidate was asked, the hung node aside.
    let limits = ClientLimits {
        request_timeout_ms: 2_000,
        read_hedge_ms: Some(100),
        ..ClientLimits::default()
    };
    let data = blob();
    let config = EncodingConfig::new(N_SHARDS).unwrap();
    let (nodes, _, _) = network(
        &data,
        &[&[0, 1, 2, 3, 4, 5, 6], &[7, 8, 9]],
        vec![Behaviour::Hung, Behaviour::Answers(Duration::ZERO)],
        &limits,
    )
    .await;
    let metadata = Arc::new(encode_blob(&config, &data).unwrap().metadata);
    let permits = Arc::new(Semaphore::new(8));
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        fetch_primary_slivers(&nodes, &metadata, Vec::new(), &permits, &limits, None),
    )
    .await
    .expect("bounded by the request timeout")
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("3 of 4"), "{err}");
}

#[test]
fn systematic_rows_concatenate_to_what_the_decoder_returns() {
    let config = EncodingConfig::new(N_SHARDS).unwrap();
    for len in [0usize, 1, 27, 5_000, 5_041] {
        let data = blob().into_iter().cycle().take(len).collect::<Vec<_>>();
        let encoded = encode_blob(&config, &data).unwrap();
        // Rows 0-3 (k_p = 4), out of order: concatenated.
        let mut rows: Vec<_> = [2usize, 0, 3, 1]
            .iter()
            .map(|&i| encoded.primary[i].clone())
            .collect();
        let decoded =
            decode_primary(&config, &encoded.metadata, &rows, ConsistencyCheck::Default).unwrap();
        assert_eq!(decoded, data);
        assert_eq!(
            concatenate_systematic(&config, len as u64, &mut rows),
            Some(data.clone())
        );
        // A repair row among them: decode instead.
        let mut mixed: Vec<_> = [0usize, 1, 2, 7]
            .iter()
            .map(|&i| encoded.primary[i].clone())
            .collect();
        assert_eq!(
            concatenate_systematic(&config, len as u64, &mut mixed),
            None
        );
    }
}

/// The usual read takes the `k_p` systematic rows straight into place:
/// exactly `k_p` sliver requests, the blob byte for byte, at every length
/// around the row and blob boundaries.
#[tokio::test]
async fn an_honest_read_asks_only_the_systematic_rows_and_returns_the_blob() {
    // Rows straight off the socket (HTTP/1.1, `direct_get`), and through
    // reqwest (HTTP/2, where the direct GET is not used).
    for http2 in [false, true] {
        let limits = ClientLimits { http2, ..limits() };
        an_honest_read_returns_the_blob_with(&limits).await;
    }
}

async fn an_honest_read_returns_the_blob_with(limits: &ClientLimits) {
    let limits = limits.clone();
    let config = EncodingConfig::new(N_SHARDS).unwrap();
    let k_p = usize::from(config.n_primary_source_symbols());
    for len in [0usize, 1, 2, 399, 400, 401, 5_000, 5_041] {
        let data: Vec<u8> = blob().into_iter().cycle().take(len).collect();
        let net = fake_network(
            &data,
            &[&[0, 1, 2], &[3, 4, 5], &[6, 7, 8, 9]],
            vec![
                Behaviour::Answers(Duration::ZERO),
                Behaviour::Answers(Duration::ZERO),
                Behaviour::Answers(Duration::ZERO),
            ],
            &limits,
        )
        .await;
        assert_eq!(
            read(&net.nodes, &net.blob_id, &limits).await,
            data,
            "{len} bytes"
        );
        let asked: usize = net.asked.iter().map(|a| a.load(Ordering::SeqCst)).sum();
        assert_eq!(
            asked, k_p,
            "{len} bytes: only the systematic rows are asked"
        );
    }
}

/// A node serving a systematic row that does not verify: the read falls
/// back (the rows verified so far kept) and still returns the blob.
#[tokio::test]
async fn a_lying_holder_of_a_systematic_row_cannot_change_the_blob() {
    let limits = limits();
    let data = blob();
    let net = fake_network(
        &data,
        &[&[1], &[0, 2, 3], &[4, 5, 6, 7, 8, 9]],
        vec![
            Behaviour::Lies,
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Answers(Duration::ZERO),
        ],
        &limits,
    )
    .await;
    assert_eq!(read(&net.nodes, &net.blob_id, &limits).await, data);
    assert!(
        net.asked[2].load(Ordering::SeqCst) >= 1,
        "a repair row was needed"
    );
}
