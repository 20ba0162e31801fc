use std::time::Duration;

use floe_core::{EncodingConfig, encode_blob};

use super::*;

fn on_demand(n: u16, len: usize) -> (Arc<SliverSource>, Vec<SliverPair>) {
    let config = EncodingConfig::new(n).unwrap();
    let blob: Vec<u8> = (0..len).map(|b| (b * 13 + 5) as u8).collect();
    let (pairs, _) = encode_blob(&config, &blob).unwrap().into_pairs();
    let encoder = PairEncoder::new(&config, SharedBlob(Arc::new(blob))).unwrap();
    (Arc::new(SliverSource::OnDemand(encoder)), pairs)
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
