//! Hedged fetching: get `needed` answers out of many interchangeable
//! candidates (slivers of different pairs, each held by one node) without
//! letting a slow or hung node hold the result up.
//!
//! A window of requests runs at once. A request that fails is replaced at
//! once; a request still pending after the hedge delay is *hedged*: another
//! candidate is started beside it (the straggler keeps running and still
//! counts if it answers). Candidates of a node that failed or was slow are
//! asked last, so a hung node costs about one hedge delay, not one per
//! sliver it holds. Every candidate is asked at most once, at most `window`
//! requests are active (not hedged) and at most `2 * window` stragglers run
//! beside them (two, so that the slow requests of a second node can still
//! be hedged while a hung node's are pending), so the work stays bounded
//! however the nodes behave.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

/// How hard to push.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HedgePolicy {
    /// Requests in flight that are not yet hedged.
    pub window: usize,
    /// How long a request may take before another one is started beside it.
    pub delay: Duration,
}

/// What a hedged fetch got.
#[derive(Debug)]
pub(crate) struct Hedged<T> {
    /// At most `needed` answers, in arrival order.
    pub got: Vec<T>,
    /// Why the failed requests failed.
    pub errors: Vec<String>,
}

struct Pending {
    source: usize,
    started: Instant,
    hedged: bool,
}

/// Fetches until `needed` candidates answered `Ok` or every candidate was
/// asked. `source_of` names the node a candidate is asked from (so its
/// other candidates can be put last when it misbehaves); `on_success` sees
/// each answer as it arrives (progress reports).
pub(crate) async fn fetch_hedged<C, T, F, Fut>(
    candidates: Vec<C>,
    needed: usize,
    policy: HedgePolicy,
    source_of: impl Fn(&C) -> usize,
    mut fetch: F,
    mut on_success: impl FnMut(&T),
) -> Hedged<T>
where
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let window = policy.window.max(1);
    let max_stragglers = window.saturating_mul(2);
    let mut queue: VecDeque<C> = candidates.into();
    let mut running = FuturesUnordered::new();
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut suspects: HashSet<usize> = HashSet::new();
    let mut got = Vec::with_capacity(needed);
    let mut errors = Vec::new();
    let mut next_id = 0u64;
    loop {
        // Keep `min(window, still needed)` requests active (not hedged):
        // a failure or a hedge frees a place, an answer lowers the need.
        let active = pending.values().filter(|p| !p.hedged).count();
        let want = window.min(needed.saturating_sub(got.len()));
        for _ in active..want {
            // Prefer nodes that have not failed or stalled yet.
            let position = queue
                .iter()
                .position(|c| !suspects.contains(&source_of(c)))
                .or((!queue.is_empty()).then_some(0));
            let Some(candidate) = position.and_then(|p| queue.remove(p)) else {
                break;
            };
            let id = next_id;
            next_id += 1;
            pending.insert(
                id,
                Pending {
                    source: source_of(&candidate),
                    started: Instant::now(),
                    hedged: false,
                },
            );
            let request = fetch(candidate);
            running.push(async move { (id, request.await) });
        }
        if got.len() >= needed || running.is_empty() {
            break;
        }
        let stragglers = pending.values().filter(|p| p.hedged).count();
        let deadline = (stragglers < max_stragglers && !queue.is_empty())
            .then(|| {
                pending
                    .values()
                    .filter(|p| !p.hedged)
                    .map(|p| p.started + policy.delay)
                    .min()
            })
            .flatten();
        tokio::select! {
            biased;
            Some((id, answer)) = running.next() => {
                let request = pending.remove(&id);
                match answer {
                    Ok(value) => {
                        on_success(&value);
                        got.push(value);
                    }
                    Err(e) => {
                        errors.push(e);
                        if let Some(request) = request {
                            suspects.insert(request.source);
                        }
                    }
                }
            }
            () = sleep_until_or_forever(deadline), if deadline.is_some() => {
                let now = Instant::now();
                let mut room = max_stragglers.saturating_sub(stragglers);
                for request in pending.values_mut() {
                    if room == 0 {
                        break;
                    }
                    if !request.hedged && request.started + policy.delay <= now {
                        request.hedged = true;
                        suspects.insert(request.source);
                        room -= 1;
                    }
                }
            }
        }
    }
    got.truncate(needed);
    Hedged { got, errors }
}

async fn sleep_until_or_forever(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    //! The engine against scripted requests in paused time: virtual time
    //! only moves when every task waits, so the times below are exact
    //! consequences of the policy, not measurements.

    use super::*;

    /// Candidate = (index, node); each node answers after its delay
    /// (`None`: never).
    async fn run(
        nodes: &[Option<u64>],
        candidates: &[usize],
        needed: usize,
        window: usize,
    ) -> (Vec<usize>, Duration, usize) {
        let start = Instant::now();
        let asked = std::cell::Cell::new(0);
        let list: Vec<(usize, usize)> = candidates.iter().copied().enumerate().collect();
        let result = fetch_hedged(
            list,
            needed,
            HedgePolicy {
                window,
                delay: Duration::from_millis(100),
            },
            |c| c.1,
            |(i, node)| {
                asked.set(asked.get() + 1);
                let delay = nodes[node];
                async move {
                    match delay {
                        Some(ms) => {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            Ok(i)
                        }
                        None => std::future::pending().await,
                    }
                }
            },
            |_| {},
        )
        .await;
        let mut got = result.got;
        got.sort_unstable();
        (got, start.elapsed(), asked.get())
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_node_costs_one_hedge_delay() {
        // Node 0 hangs and holds the first four candidates; nodes 1 and 2
        // answer in 10 ms. Without hedging the read never ends.
        let nodes = [None, Some(10), Some(10)];
        let candidates = [0, 0, 0, 0, 1, 1, 2, 2, 0, 0];
        let (got, elapsed, asked) = run(&nodes, &candidates, 4, 4).await;
        assert_eq!(got, vec![4, 5, 6, 7]);
        // One hedge delay, then one round trip of the healthy nodes; the
        // hung node's last two candidates are never asked.
        assert_eq!(elapsed, Duration::from_millis(110));
        assert_eq!(asked, 8);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_answer_still_counts_and_failures_are_replaced_at_once() {
        // Node 0 answers after 150 ms, node 1 fails at once, node 2 is fast.
        let nodes = [Some(150), Some(0), Some(5)];
        let list: Vec<(usize, usize)> = [0, 1, 2, 0].into_iter().enumerate().collect();
        let start = Instant::now();
        let result = fetch_hedged(
            list,
            3,
            HedgePolicy {
                window: 3,
                delay: Duration::from_millis(100),
            },
            |c| c.1,
            |(i, node)| async move {
                if node == 1 {
                    return Err(format!("candidate {i} refused"));
                }
                let ms = nodes[node].unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(i)
            },
            |_| {},
        )
        .await;
        let mut got = result.got;
        got.sort_unstable();
        // Candidate 1's failure starts candidate 3 at t=0; at 100 ms no
        // candidate is left to hedge with, so the slow ones are waited for
        // and both answer at 150 ms.
        assert_eq!(got, vec![0, 2, 3]);
        assert_eq!(result.errors, vec!["candidate 1 refused".to_owned()]);
        assert_eq!(start.elapsed(), Duration::from_millis(150));
    }

    #[tokio::test(start_paused = true)]
    async fn every_candidate_is_asked_once_then_the_fetch_ends() {
        // Node 1 refuses everything: 2 of the 3 needed exist, the fetch
        // ends with them and the reasons, each candidate asked once.
        let list: Vec<(usize, usize)> = [0, 1, 0, 1, 1].into_iter().enumerate().collect();
        let asked = std::cell::Cell::new(0);
        let result = fetch_hedged(
            list,
            3,
            HedgePolicy {
                window: 2,
                delay: Duration::from_millis(100),
            },
            |c| c.1,
            |(i, node)| {
                asked.set(asked.get() + 1);
                async move {
                    if node == 1 {
                        Err(format!("{i} refused"))
                    } else {
                        Ok(i)
                    }
                }
            },
            |_| {},
        )
        .await;
        assert_eq!(result.got.len(), 2);
        assert_eq!(result.errors.len(), 3);
        assert_eq!(asked.get(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn stragglers_are_bounded_by_the_window() {
        // Every node hangs: at most `window` active plus `2 * window`
        // hedged requests are ever started.
        let nodes = [None, None, None];
        let candidates: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let asked = std::cell::Cell::new(0);
        let list: Vec<(usize, usize)> = candidates.into_iter().enumerate().collect();
        let fetch = fetch_hedged(
            list,
            10,
            HedgePolicy {
                window: 4,
                delay: Duration::from_millis(100),
            },
            |c| c.1,
            |(i, node)| {
                asked.set(asked.get() + 1);
                let delay = nodes[node];
                async move {
                    match delay {
                        Some(ms) => {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            Ok::<usize, String>(i)
                        }
                        None => std::future::pending().await,
                    }
                }
            },
            |_| {},
        );
        assert!(
            tokio::time::timeout(Duration::from_secs(60), fetch)
                .await
                .is_err()
        );
        assert_eq!(asked.get(), 12);
    }
}
