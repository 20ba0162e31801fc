use std::time::Duration;

use floe_core::{EncodingConfig, encode_blob};

use crate::store::encode_for_store;

use super::*;

fn on_demand(n: u16, len: usize) -> (Arc<SliverSource>, Vec<SliverPair>) {
    let config = EncodingConfig::new(n).unwrap();
    let blob: Vec<u8> = (0..len).map(|b| (b * 13 + 5) as u8).collect();
    let (pairs, _) = encode_blob(&config, &blob).unwrap().into_pairs();
    let encoder = PairEncoder::new(&config, SharedBlob(Arc::new(blob))).unwrap();
    (
        Arc::new(SliverSource::OnDemand {
            encoder,
            spill: None,
        }),
        pairs,
    )
}

fn check(fed: &FedPair, expected: &[SliverPair]) {
    let want = &expected[usize::from(fed.pair)];
    assert_eq!(
        fed.primary.to_vec(),
        want.primary.to_bcs(),
        "primary of pair {}",
        fed.pair
    );
    assert_eq!(
        fed.secondary.to_vec(),
        want.secondary.to_bcs(),
        "secondary of pair {}",
        fed.pair
    );
}

#[test]
fn the_window_fits_the_buffer_with_at_least_one_pair_per_node() {
    assert_eq!(
        Window::new(100, 10, 4),
        Window {
            total: 10,
            per_node: 3
        }
    );
    assert_eq!(
        Window::new(5, 10, 4),
        Window {
            total: 4,
            per_node: 1
        }
    );
    assert_eq!(
        Window::new(1 << 40, 10, 2).per_node,
        MAX_PAIRS_IN_FLIGHT_PER_NODE
    );
    assert_eq!(
        Window::new(100, 0, 0),
        Window {
            total: 100,
            per_node: 16
        }
    );
}

/// A node that takes one pair and then stops reading holds at most its
/// window; the other nodes get every pair of theirs meanwhile, each equal
/// to the full encoder's; once the slow node goes away the producer ends.
#[tokio::test]
async fn a_slow_node_holds_at_most_its_window_and_delays_no_one() {
    let (source, expected) = on_demand(10, 9_000);
    let assignments = vec![vec![0, 1, 2, 3, 4], vec![5, 6], vec![7, 8], vec![9]];
    let window = Window {
        total: 5,
        per_node: 2,
    };
    let mut feed = start(source, assignments.clone(), window);
    let mut slow = feed.receivers[0].take().unwrap();
    let held = tokio::time::timeout(Duration::from_secs(30), slow.recv())
        .await
        .expect("the slow node gets a first pair")
        .expect("a pair, not the end");
    check(&held, &expected);
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut fast = Vec::new();
    for node in 1..4 {
        let mut rx = feed.receivers[node].take().unwrap();
        let (expected, received) = (expected.clone(), received.clone());
        fast.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(fed) = rx.recv().await {
                check(&fed, &expected);
                got.push(fed.pair);
                // A fast node still takes a moment per pair.
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(fed);
                received.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            got.sort_unstable();
            got
        }));
    }
    // Every fast node gets all its pairs although the slow one reads nothing
    // more (their streams end only with the producer, so count them).
    let fast_pairs: usize = assignments[1..].iter().map(Vec::len).sum();
    tokio::time::timeout(Duration::from_secs(30), async {
        while received.load(std::sync::atomic::Ordering::SeqCst) < fast_pairs {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the fast nodes are served while the slow one holds its window");
    let (per_node, total) = feed.state.high_water();
    assert!(
        per_node.iter().all(|&most| most <= window.per_node),
        "{per_node:?}"
    );
    assert!(total <= window.total, "{total}");
    assert_eq!(
        per_node[0], window.per_node,
        "the slow node's window filled"
    );
    assert!(
        !feed.task.is_finished(),
        "the slow node's pairs are still pending"
    );
    // The slow node goes away: its pairs are dropped, the producer ends.
    drop(held);
    drop(slow);
    tokio::time::timeout(Duration::from_secs(30), &mut feed.task)
        .await
        .expect("the producer ends")
        .unwrap();
    for (node, handle) in (1..4).zip(fast) {
        assert_eq!(handle.await.unwrap(), assignments[node]);
    }
    assert_eq!(feed.state.counts().outstanding, vec![0; 4]);
    assert!(feed.state.failure().is_none());
}

/// A store larger than its buffer writes its repair primary slivers to a
/// scratch file during the metadata pass and copies every pair out of the
/// blob, the kept row-repair block and the file; a directory that cannot
/// take the file falls back to computing them. Either way every pair and
/// the metadata are the full encoder's, no pair costs a row pass, and the
/// file leaves nothing behind.
#[test]
fn spilled_and_fallback_sources_give_the_full_encoders_pairs() {
    let n = 10;
    let config = EncodingConfig::new(n).unwrap();
    let blob: Vec<u8> = (0..9_000).map(|b| (b * 29 + 3) as u8).collect();
    let (expected, metadata) = encode_blob(&config, &blob).unwrap().into_pairs();
    let dir = tempfile::tempdir().unwrap();
    for (spill_dir, spills) in [
        (dir.path().to_path_buf(), true),
        (dir.path().join("absent"), false),
    ] {
        let (source, got, refused) =
            encode_for_store(&config, blob.clone(), 1, &spill_dir).unwrap();
        assert_eq!(got, metadata);
        assert_eq!(refused.is_none(), spills, "{refused:?}");
        let SliverSource::OnDemand { encoder, spill } = &source else {
            panic!("a blob larger than the buffer is produced on demand");
        };
        assert_eq!(spill.is_some(), spills, "{}", spill_dir.display());
        assert!((0..n).all(|p| encoder.work_of(p) != PairWork::RowPass));
        let all: Vec<u16> = (0..n).rev().collect();
        for group in all.chunks(3) {
            let produced = source.produce(group).unwrap();
            assert_eq!(produced.len(), group.len());
            for (&pair, (primary, secondary)) in group.iter().zip(produced) {
                let want = &expected[usize::from(pair)];
                assert_eq!(primary.to_vec(), want.primary.to_bcs(), "primary {pair}");
                assert_eq!(
                    secondary.to_vec(),
                    want.secondary.to_bcs(),
                    "secondary {pair}"
                );
            }
        }
        assert!(source.produce(&[0]).is_ok(), "copies may be asked again");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A blob whose slivers fit the buffer is encoded once, whole.
#[test]
fn a_blob_that_fits_the_buffer_is_encoded_whole() {
    let config = EncodingConfig::new(10).unwrap();
    let blob = vec![7u8; 1000];
    let dir = tempfile::tempdir().unwrap();
    let (source, _, refused) = encode_for_store(&config, blob, u64::MAX, dir.path()).unwrap();
    assert!(refused.is_none());
    assert!(matches!(source, SliverSource::Encoded { .. }));
}
