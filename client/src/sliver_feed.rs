//! Feeding each node's upload the sliver pairs of its shards, with bounded
//! memory and without letting a slow node hold up the others.
//!
//! A store's slivers are 4.4x the blob at n = 100. A blob whose slivers fit
//! the store buffer (`limits.store_buffer_bytes`) is encoded whole once
//! ([`SliverSource::Encoded`]); a larger one is kept as the blob, the
//! row-repair block its metadata pass computed (half the blob) and,
//! normally, its repair primary slivers in a scratch file
//! ([`SliverSource::OnDemand`], [`SpillFile`]), and its pairs are copied
//! out of those in groups by [`PairEncoder`]. Without the file (the
//! directory could not take it) a group costs one Reed-Solomon pass over
//! the blob for its repair rows whatever its size, so groups are made as
//! large as the window allows.
//!
//! The window: at most `total` pairs produced and not yet uploaded (or
//! abandoned) in all, and `per_node` for any one node. Each pair carries a
//! ticket that holds its place until the pair is dropped, so the count is
//! exact whatever happens to the upload. A node whose pairs do not drain
//! (slow, or stuck) holds at most `per_node` places; the rest of the
//! window keeps serving the other nodes. The producer waits until at least
//! half of the usable window is free before making a group, so groups stay
//! large (few passes) and the nodes' uploads overlap the encoding of the
//! next group. A node whose upload ended (its receiver dropped) gets
//! nothing more.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use floe_core::encoding::{PairEncoder, PairWork, SliverPair};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::sliver_body::SliverBytes;
use crate::spill::SpillFile;

/// Most pairs one node uploads at once (within the client-wide request
/// bound), whatever the window allows.
pub(crate) const MAX_PAIRS_IN_FLIGHT_PER_NODE: usize = 16;

/// The blob shared between the store's plan and the producer.
#[derive(Debug, Clone)]
pub(crate) struct SharedBlob(pub Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBlob {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// Where a store's sliver pairs come from.
pub(crate) enum SliverSource {
    /// Encoded at plan time (the slivers fit the buffer); each is taken
    /// once.
    Encoded {
        pairs: Mutex<Vec<Option<SliverPair>>>,
        pair_bytes: usize,
    },
    /// Produced from the blob on demand, the repair primary slivers read
    /// back from `spill` if the metadata pass wrote them there.
    OnDemand {
        encoder: PairEncoder<SharedBlob>,
        spill: Option<SpillFile>,
    },
}

impl SliverSource {
    /// Every pair encoded up front.
    pub fn encoded(pairs: Vec<SliverPair>) -> Self {
        let pair_bytes = pairs
            .first()
            .map(|p| p.primary.data().len() + p.secondary.data().len())
            .unwrap_or(0);
        SliverSource::Encoded {
            pairs: Mutex::new(pairs.into_iter().map(Some).collect()),
            pair_bytes,
        }
    }

    /// Sliver bytes of one pair.
    pub fn pair_bytes(&self) -> usize {
        match self {
            SliverSource::Encoded { pair_bytes, .. } => *pair_bytes,
            SliverSource::OnDemand { encoder, .. } => encoder.pair_bytes(),
        }
    }

    /// Order in which a node's pairs are produced: pairs needing the same
    /// pass together, so that concurrent groups tend to need one pass.
    fn order_key(&self, pair: u16) -> (u8, u16) {
        let work = match self {
            SliverSource::Encoded { .. } => 0,
            // Spilled repair rows are read back, not computed.
            SliverSource::OnDemand { spill: Some(_), .. } => 0,
            SliverSource::OnDemand {
                encoder,
                spill: None,
            } => match encoder.work_of(pair) {
                PairWork::Copy => 0,
                PairWork::RowPass => 1,
                PairWork::ColumnPass => 2,
            },
        };
        (work, pair)
    }

    /// The bodies of `pairs` (blocking: may run the encoder).
    fn produce(&self, pairs: &[u16]) -> Result<Vec<(SliverBytes, SliverBytes)>, String> {
        let produced: Vec<SliverPair> = match self {
            SliverSource::Encoded { pairs: all, .. } => {
                let mut all = all.lock().unwrap_or_else(|e| e.into_inner());
                pairs
                    .iter()
                    .map(|&p| {
                        all.get_mut(usize::from(p))
                            .and_then(Option::take)
                            .ok_or_else(|| format!("sliver pair {p} asked twice or out of range"))
                    })
                    .collect::<Result<_, _>>()?
            }
            SliverSource::OnDemand { encoder, spill } => {
                let mut known = std::collections::BTreeMap::new();
                if let Some(spill) = spill {
                    for &p in pairs {
                        if encoder.work_of(p) == PairWork::ColumnPass {
                            let row = spill.read_row(p).map_err(|e| {
                                format!("reading sliver {p} back from the spill file: {e}")
                            })?;
                            known.insert(p, row);
                        }
                    }
                }
                encoder
                    .encode_pairs_with(pairs, known)
                    .map_err(|e| format!("encoding sliver pairs: {e}"))?
            }
        };
        Ok(produced
            .into_iter()
            .map(|p| (SliverBytes::new(p.primary), SliverBytes::new(p.secondary)))
            .collect())
    }
}

/// How many produced pairs may wait for their uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// In all.
    pub total: usize,
    /// For any one node.
    pub per_node: usize,
}

impl Window {
    /// The window for a buffer of `buffer_bytes`, pairs of `pair_bytes`
    /// and `nodes` nodes with pairs to take: at least one pair per node.
    pub fn new(buffer_bytes: u64, pair_bytes: usize, nodes: usize) -> Self {
        let nodes = nodes.max(1);
        let fit = usize::try_from(buffer_bytes / pair_bytes.max(1) as u64).unwrap_or(usize::MAX);
        let total = fit.max(nodes);
        let per_node = total.div_ceil(nodes).clamp(1, MAX_PAIRS_IN_FLIGHT_PER_NODE);
        Self { total, per_node }
    }
}

/// One pair on its way to a node; its place in the window is held until it
/// is dropped.
pub(crate) struct FedPair {
    pub pair: u16,
    pub primary: SliverBytes,
    pub secondary: SliverBytes,
    pub ticket: Ticket,
}

/// A place in the window.
pub(crate) struct Ticket {
    state: Arc<FeedState>,
    node: usize,
}

impl Ticket {
    fn new(state: &Arc<FeedState>, node: usize) -> Self {
        let mut counts = state.counts();
        counts.outstanding[node] += 1;
        let total: usize = counts.outstanding.iter().sum();
        counts.most_per_node[node] = counts.most_per_node[node].max(counts.outstanding[node]);
        counts.most_total = counts.most_total.max(total);
        Self {
            state: state.clone(),
            node,
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        {
            let mut counts = self.state.counts();
            counts.outstanding[self.node] = counts.outstanding[self.node].saturating_sub(1);
        }
        self.state.freed.notify_one();
    }
}

#[derive(Debug, Default)]
struct Counts {
    outstanding: Vec<usize>,
    most_per_node: Vec<usize>,
    most_total: usize,
    failure: Option<String>,
}

/// What the producer and the uploads share.
#[derive(Debug, Default)]
pub(crate) struct FeedState {
    counts: Mutex<Counts>,
    freed: Notify,
}

impl FeedState {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why the producer stopped early, if it did.
    pub fn failure(&self) -> Option<String> {
        self.counts().failure.clone()
    }

    /// The most pairs that were ever waiting for one node, by node, and in
    /// all.
    #[cfg(test)]
    pub fn high_water(&self) -> (Vec<usize>, usize) {
        let counts = self.counts();
        (counts.most_per_node.clone(), counts.most_total)
    }
}

/// A running producer and the per-node streams it feeds.
pub(crate) struct Feed {
    /// By node: its pairs, in production order; `None` after being taken.
    pub receivers: Vec<Option<mpsc::Receiver<FedPair>>>,
    pub state: Arc<FeedState>,
    pub task: JoinHandle<()>,
}

/// Starts producing `assignments[node]` (pair indices) for each node.
pub(crate) fn start(source: Arc<SliverSource>, assignments: Vec<Vec<u16>>, window: Window) -> Feed {
    let nodes = assignments.len();
    let state = Arc::new(FeedState::default());
    {
        let mut counts = state.counts();
        counts.outstanding = vec![0; nodes];
        counts.most_per_node = vec![0; nodes];
    }
    let mut senders = Vec::with_capacity(nodes);
    let mut receivers = Vec::with_capacity(nodes);
    let queues: Vec<VecDeque<u16>> = assignments
        .into_iter()
        .map(|mut pairs| {
            pairs.sort_by_key(|&p| source.order_key(p));
            // The channel never holds more than the node's window.
            let (tx, rx) = mpsc::channel(window.per_node);
            senders.push(tx);
            receivers.push(Some(rx));
            pairs.into()
        })
        .collect();
    let task = tokio::spawn(produce(source, queues, senders, state.clone(), window));
    Feed {
        receivers,
        state,
        task,
    }
}

async fn produce(
    source: Arc<SliverSource>,
    mut queues: Vec<VecDeque<u16>>,
    senders: Vec<mpsc::Sender<FedPair>>,
    state: Arc<FeedState>,
    window: Window,
) {
    let mut first = 0usize;
    loop {
        let freed = state.freed.notified();
        tokio::pin!(freed);
        freed.as_mut().enable();
        for (queue, sender) in queues.iter_mut().zip(&senders) {
            if sender.is_closed() {
                queue.clear();
            }
        }
        if queues.iter().all(VecDeque::is_empty) {
            return;
        }
        let group = choose_group(&mut queues, &state, window, first);
        first = (first + 1) % queues.len();
        if group.is_empty() {
            // A dropped pair wakes us; the timeout only guards a lost
            // wake-up.
            let _ = tokio::time::timeout(Duration::from_secs(1), freed).await;
            continue;
        }
        let tickets: Vec<Ticket> = group
            .iter()
            .map(|&(node, _)| Ticket::new(&state, node))
            .collect();
        let pairs: Vec<u16> = group.iter().map(|&(_, pair)| pair).collect();
        let worker = source.clone();
        let produced = tokio::task::spawn_blocking(move || worker.produce(&pairs))
            .await
            .map_err(|e| format!("sliver producer task: {e}"))
            .and_then(|r| r);
        let produced = match produced {
            Ok(produced) => produced,
            Err(e) => {
                tracing::error!(error = %e, "producing sliver pairs failed");
                state.counts().failure = Some(e);
                return;
            }
        };
        for (((node, pair), (primary, secondary)), ticket) in
            group.into_iter().zip(produced).zip(tickets)
        {
            let fed = FedPair {
                pair,
                primary,
                secondary,
                ticket,
            };
            // The window keeps the channel from filling; a closed one
            // (the node's upload ended) drops the pair.
            let _ = senders[node].send(fed).await;
        }
    }
}

/// The next group, round robin from node `first`, or nothing while less
/// than half of the usable window is free.
fn choose_group(
    queues: &mut [VecDeque<u16>],
    state: &FeedState,
    window: Window,
    first: usize,
) -> Vec<(usize, u16)> {
    let mut room: Vec<usize> = {
        let counts = state.counts();
        queues
            .iter()
            .zip(&counts.outstanding)
            .map(|(queue, &out)| queue.len().min(window.per_node.saturating_sub(out)))
            .collect()
    };
    let outstanding: usize = state.counts().outstanding.iter().sum();
    let free = room
        .iter()
        .sum::<usize>()
        .min(window.total.saturating_sub(outstanding));
    // What the nodes that can take a pair now could take at most; a node
    // whose window is full (slow) does not count, so it delays no one.
    let usable: usize = queues
        .iter()
        .zip(&room)
        .filter(|&(_, &r)| r > 0)
        .map(|(queue, _)| queue.len().min(window.per_node))
        .sum::<usize>()
        .min(window.total);
    if free == 0 || free * 2 < usable {
        return Vec::new();
    }
    let mut group = Vec::with_capacity(free);
    let nodes = queues.len();
    while group.len() < free {
        let before = group.len();
        for k in 0..nodes {
            let node = (first + k) % nodes;
            if group.len() < free
                && room[node] > 0
                && let Some(pair) = queues[node].pop_front()
            {
                room[node] -= 1;
                group.push((node, pair));
            }
        }
        if group.len() == before {
            break;
        }
    }
    group
}

#[cfg(test)]
mod tests;
