//! Range reads against fake nodes over real sockets (the fake network of
//! the read tests): every boundary against a slice of the blob, only the
//! rows' holders asked, and a liar, a hung node or a missing holder that
//! cost a fallback but never change the answer.

use std::sync::atomic::Ordering;
use std::time::Duration;

use floe_core::EncodingConfig;

use super::*;
use crate::read::tests::{Behaviour, FakeNetwork, fake_network, limits};

/// Ten shards: k_p = 4 rows of k_s = 7 symbols.
const ALL_HONEST: [&[u16]; 4] = [&[0, 1, 2], &[3, 4, 5], &[6, 7], &[8, 9]];

fn blob(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// Every one of `members` answering at once.
fn honest(members: usize) -> Vec<Behaviour> {
    (0..members)
        .map(|_| Behaviour::Answers(Duration::ZERO))
        .collect()
}

fn reader(net: &FakeNetwork, data: &[u8], limits: &ClientLimits) -> BlobReader {
    let config = net.nodes.encoding;
    let metadata = floe_core::encode_blob(&config, data).unwrap().metadata;
    assert_eq!(metadata.blob_id(), &net.blob_id);
    BlobReader {
        nodes: net.nodes.clone(),
        metadata: Arc::new(metadata),
        permits: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
        limits: limits.clone(),
    }
}

/// A range read that must finish within a minute.
async fn read(reader: &BlobReader, range: Range<u64>) -> Result<Vec<u8>> {
    tokio::time::timeout(Duration::from_secs(60), reader.read_range(range, None))
        .await
        .expect("the range read finished")
}

fn asked(net: &FakeNetwork) -> usize {
    net.asked.iter().map(|a| a.load(Ordering::SeqCst)).sum()
}

#[tokio::test]
async fn every_boundary_equals_the_slice_and_asks_only_its_rows() {
    let limits = limits();
    let data = blob(5_000);
    let net = fake_network(&data, &ALL_HONEST, honest(ALL_HONEST.len()), &limits).await;
    let reader = reader(&net, &data, &limits);
    assert_eq!(reader.len(), 5_000);
    // symbol size ceil(5000 / 28) = 179 -> 180; a row is 7 * 180 bytes.
    let row = 1_260u64;
    let len = data.len() as u64;
    let mut ranges = vec![
        0..1,
        0..len,
        len - 1..len,
        0..0,
        len..len,
        row - 1..row,
        row..row + 1,
        row - 1..row + 1,
        row..2 * row,
        row + 1..3 * row - 1,
        3 * row..len,
        3 * row - 1..len,
        17..4_321,
    ];
    ranges.extend((0..4).map(|r| r * row..((r + 1) * row).min(len)));
    for range in ranges {
        let before = asked(&net);
        let got = read(&reader, range.clone()).await.unwrap();
        assert_eq!(
            got,
            data[range.start as usize..range.end as usize],
            "{range:?}"
        );
        let rows = if range.is_empty() {
            0
        } else {
            (range.end - 1) / row - range.start / row + 1
        };
        assert_eq!(
            (asked(&net) - before) as u64,
            rows,
            "{range:?}: one request per row"
        );
    }
    for bad in [0..len + 1, len..len + 1, u64::MAX - 1..u64::MAX] {
        let err = read(&reader, bad.clone()).await.unwrap_err();
        assert!(
            matches!(err, ClientError::RangeNotSatisfiable(_)),
            "{bad:?}: {err}"
        );
    }
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = 10..5;
    assert!(read(&reader, reversed).await.is_err());
}

#[tokio::test]
async fn empty_and_one_byte_blobs() {
    let limits = limits();
    for len in [0usize, 1, 2] {
        let data = blob(len);
        let net = fake_network(&data, &ALL_HONEST, honest(ALL_HONEST.len()), &limits).await;
        let reader = reader(&net, &data, &limits);
        assert_eq!(reader.len(), len as u64);
        let len = len as u64;
        assert_eq!(read(&reader, 0..len).await.unwrap(), data);
        assert_eq!(read(&reader, len..len).await.unwrap(), Vec::<u8>::new());
        assert!(matches!(
            read(&reader, len..len + 1).await,
            Err(ClientError::RangeNotSatisfiable(_))
        ));
        if len > 0 {
            assert_eq!(
                read(&reader, len - 1..len).await.unwrap(),
                data[data.len() - 1..]
            );
        }
    }
}

#[tokio::test]
async fn a_lying_row_holder_costs_a_fallback_not_the_answer() {
    // Member 0 lies about pairs 0-2 (rows 0-2); the others hold seven
    // honest slivers, enough for the decode (k_p = 4).
    let limits = limits();
    let data = blob(5_000);
    let net = fake_network(
        &data,
        &ALL_HONEST,
        vec![
            Behaviour::Lies,
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Answers(Duration::ZERO),
        ],
        &limits,
    )
    .await;
    let reader = reader(&net, &data, &limits);
    for range in [0..5_000u64, 1_259..1_261, 4_000..5_000, 0..1] {
        let before = net.asked[0].load(Ordering::SeqCst);
        let got = read(&reader, range.clone()).await.unwrap();
        assert_eq!(got, data[range.start as usize..range.end as usize]);
        let liar_asked = net.asked[0].load(Ordering::SeqCst) - before;
        if range.start < 3 * 1_260 {
            assert!(liar_asked > 0, "{range:?}: the liar was asked");
        }
    }
}

#[tokio::test]
async fn a_range_served_only_by_liars_fails() {
    // Seven pairs lie, three are honest: fewer than k_p = 4 verify, so
    // neither the rows nor the fallback can answer.
    let limits = ClientLimits {
        request_timeout_ms: 5_000,
        ..limits()
    };
    let data = blob(5_000);
    let net = fake_network(
        &data,
        &[&[0, 1, 2, 3, 4, 5, 6], &[7, 8, 9]],
        vec![Behaviour::Lies, Behaviour::Answers(Duration::ZERO)],
        &limits,
    )
    .await;
    let reader = reader(&net, &data, &limits);
    let err = read(&reader, 10..20).await.unwrap_err();
    assert!(matches!(err, ClientError::NotEnoughNodes(_)), "{err}");
}

#[tokio::test]
async fn a_hung_row_holder_costs_about_a_hedge_delay() {
    // Member 0 accepts connections and never answers; the request
    // timeout is an hour, so only the stall detection can finish.
    let limits = limits();
    let data = blob(5_000);
    let net = fake_network(
        &data,
        &ALL_HONEST,
        vec![
            Behaviour::Hung,
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Answers(Duration::ZERO),
        ],
        &limits,
    )
    .await;
    let reader = reader(&net, &data, &limits);
    assert_eq!(read(&reader, 100..2_000).await.unwrap(), data[100..2_000]);
    assert!(net.asked[0].load(Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn a_row_without_a_reachable_holder_falls_back() {
    let limits = limits();
    let data = blob(5_000);
    let mut net = fake_network(&data, &ALL_HONEST, honest(ALL_HONEST.len()), &limits).await;
    // Member 1 (pairs 3-5) has no URL.
    net.nodes.nodes[1] = None;
    let reader = reader(&net, &data, &limits);
    assert_eq!(read(&reader, 3_000..5_000).await.unwrap(), data[3_000..]);
}

/// A stream's chunks, and the error that ended it if one did.
async fn stream(reader: BlobReader, range: Range<u64>) -> (Vec<Vec<u8>>, Option<ClientError>) {
    let mut chunks = reader.stream_range(range).unwrap();
    let mut out = Vec::new();
    let collect = async {
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(bytes) => out.push(bytes),
                Err(e) => return Some(e),
            }
        }
        None
    };
    let error = tokio::time::timeout(Duration::from_secs(60), collect)
        .await
        .expect("the stream finished");
    (out, error)
}

#[tokio::test]
async fn a_stream_yields_each_row_as_it_is_verified() {
    let limits = limits();
    let data = blob(5_000);
    let net = fake_network(&data, &ALL_HONEST, honest(ALL_HONEST.len()), &limits).await;
    let len = data.len() as u64;
    let row = 1_260u64;
    for (range, rows) in [
        (0..len, 4),
        (17..4_321, 4),
        (row - 1..row + 1, 2),
        (row..2 * row, 1),
        (len - 1..len, 1),
        (5..5, 0),
    ] {
        let (chunks, error) = stream(reader(&net, &data, &limits), range.clone()).await;
        assert!(error.is_none(), "{range:?}: {error:?}");
        assert_eq!(chunks.len(), rows, "{range:?}: one chunk per row");
        assert_eq!(
            chunks.concat(),
            data[range.start as usize..range.end as usize],
            "{range:?}"
        );
    }
    assert!(matches!(
        reader(&net, &data, &limits).stream_range(0..len + 1),
        Err(ClientError::RangeNotSatisfiable(_))
    ));
}

#[tokio::test]
async fn a_stream_falls_back_midway_and_keeps_the_bytes_exact() {
    // Member 1 lies about pairs 3-5: rows 0-2 stream directly, row 3
    // fails verification, and the rest comes from a decode of the honest
    // slivers (seven of them, k_p = 4).
    let limits = limits();
    let data = blob(5_000);
    let net = fake_network(
        &data,
        &ALL_HONEST,
        vec![
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Lies,
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Answers(Duration::ZERO),
        ],
        &limits,
    )
    .await;
    let (chunks, error) = stream(reader(&net, &data, &limits), 0..5_000).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks.concat(), data);
    assert_eq!(chunks.len(), 4, "three rows, then the rest at once");
    assert_eq!(chunks[3], data[3 * 1_260..]);
    assert!(
        net.asked[1].load(Ordering::SeqCst) > 0,
        "the liar was asked"
    );
}

#[tokio::test]
async fn a_stream_past_a_hung_holder_finishes_from_a_decode() {
    let limits = limits();
    let data = blob(5_000);
    let net = fake_network(
        &data,
        &ALL_HONEST,
        vec![
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Hung,
            Behaviour::Answers(Duration::ZERO),
            Behaviour::Answers(Duration::ZERO),
        ],
        &limits,
    )
    .await;
    let (chunks, error) = stream(reader(&net, &data, &limits), 100..5_000).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks.concat(), data[100..]);
}

#[tokio::test]
async fn a_stream_that_cannot_be_completed_ends_with_the_error() {
    let limits = ClientLimits {
        request_timeout_ms: 5_000,
        ..limits()
    };
    let data = blob(5_000);
    let net = fake_network(
        &data,
        &[&[0, 1, 2, 3, 4, 5, 6], &[7, 8, 9]],
        vec![Behaviour::Lies, Behaviour::Answers(Duration::ZERO)],
        &limits,
    )
    .await;
    let (chunks, error) = stream(reader(&net, &data, &limits), 0..5_000).await;
    assert!(chunks.is_empty());
    assert!(
        matches!(error, Some(ClientError::NotEnoughNodes(_))),
        "{error:?}"
    );
}

/// A reader that takes its first chunk and then stops reading: the stream
/// asks no row beyond its window ahead of what was taken, so what it holds
/// for a slow reader is bounded by the window, not by the blob; reading on
/// then yields the whole blob.
#[tokio::test]
async fn a_slow_reader_holds_the_stream_to_its_window() {
    let limits = limits();
    // 40 shards: k_p = 14 rows, more than the window of 8.
    let pairs: Vec<Vec<u16>> = (0..4u16).map(|m| (m * 10..m * 10 + 10).collect()).collect();
    let pairs: Vec<&[u16]> = pairs.iter().map(Vec::as_slice).collect();
    let config = EncodingConfig::new(40).unwrap();
    let k_p = usize::from(config.n_primary_source_symbols());
    assert!(k_p > crate::blob_stream::STREAM_WINDOW + 1, "k_p = {k_p}");
    let data = blob(20_000);
    let net = fake_network(&data, &pairs, honest(pairs.len()), &limits).await;
    let mut chunks = reader(&net, &data, &limits)
        .stream_range(0..data.len() as u64)
        .unwrap();
    let mut got = tokio::time::timeout(Duration::from_secs(60), chunks.next())
        .await
        .expect("a first chunk")
        .expect("the stream has chunks")
        .expect("the first row verifies");
    // The reader pauses; nothing more may be asked meanwhile.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ahead = asked(&net);
    assert!(
        ahead <= crate::blob_stream::STREAM_WINDOW + 1,
        "{ahead} rows asked for a reader that took one (window {})",
        crate::blob_stream::STREAM_WINDOW
    );
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(60), chunks.next())
        .await
        .expect("the stream goes on")
    {
        got.extend_from_slice(&chunk.expect("every row verifies"));
    }
    assert_eq!(got, data);
    assert_eq!(asked(&net), k_p, "each row asked once");
}
