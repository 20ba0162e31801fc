//! Prometheus metrics of the node (served at `/metrics`).

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Every metric the node exports, registered in one registry.
#[derive(Clone)]
pub struct NodeMetrics {
    /// The registry `/metrics` encodes.
    pub registry: Registry,
    /// REST requests by route template and status.
    pub requests: IntCounterVec,
    /// The next checkpoint the follower will apply.
    pub checkpoint_cursor: IntGauge,
    /// Wall-clock age of the last applied checkpoint, in ms (follower lag).
    pub follower_lag_ms: IntGauge,
    /// Floe events applied, by kind.
    pub events: IntCounterVec,
    /// Slivers recovered, inconsistencies found and failed attempts.
    pub recoveries: IntCounterVec,
    /// Blob ids waiting in the durable recovery queue.
    pub recovery_queue: IntGauge,
    /// Blob ids whose data garbage collection removed.
    pub gc_blobs: IntCounter,
    /// Committee reads that changed the epoch or the node's shards.
    pub committee_changes: IntCounter,
    /// The epoch of the committee the node follows.
    pub epoch: IntGauge,
    /// Shards gained at the last epoch change and not filled yet.
    pub shards_syncing: IntGauge,
    /// Slivers of gained shards stored by shard sync, by source (`holder`:
    /// fetched from the previous owner; `recovery`: blobs handed to the
    /// recovery worker).
    pub sync_slivers: IntCounterVec,
    /// `epoch_sync_done` attempts by outcome.
    pub sync_done_calls: IntCounterVec,
    /// Group commits of the store that failed (`store_watchdog`).
    pub store_write_errors: IntCounter,
    /// 1 while the store refuses writes (until it is reopened).
    pub store_refusing_writes: IntGauge,
}

impl NodeMetrics {
    /// Fresh metrics in a fresh registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        // Fixed, valid definitions registered once in a fresh registry:
        // the `expect`s cannot fire.
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("registers once");
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("registers once");
            g
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("registers once");
            c
        };
        Self {
            requests: counter_vec(
                "floe_node_http_requests_total",
                "REST requests by route template and status code",
                &["route", "status"],
            ),
            checkpoint_cursor: gauge(
                "floe_node_checkpoint_cursor",
                "next checkpoint sequence number the chain follower applies",
            ),
            follower_lag_ms: gauge(
                "floe_node_follower_lag_ms",
                "age of the last applied checkpoint (now - its timestamp), ms",
            ),
            events: counter_vec(
                "floe_node_chain_events_total",
                "floe events applied by the chain follower, by kind",
                &["kind"],
            ),
            recoveries: counter_vec(
                "floe_node_recoveries_total",
                "sliver recovery outcomes: recovered, inconsistent, failed attempt",
                &["result"],
            ),
            recovery_queue: gauge(
                "floe_node_recovery_queue",
                "blob ids in the durable recovery queue",
            ),
            gc_blobs: counter(
                "floe_node_gc_blobs_total",
                "blob ids whose metadata and slivers garbage collection removed",
            ),
            committee_changes: counter(
                "floe_node_committee_changes_total",
                "committee reads that changed the epoch or this node's shards",
            ),
            epoch: gauge("floe_node_epoch", "epoch of the committee the node follows"),
            shards_syncing: gauge(
                "floe_node_shards_syncing",
                "shards gained at the last epoch change that are not filled yet",
            ),
            sync_slivers: counter_vec(
                "floe_node_sync_slivers_total",
                "slivers of gained shards fetched by shard sync (holder) or blobs handed to recovery (recovery)",
                &["source"],
            ),
            sync_done_calls: counter_vec(
                "floe_node_sync_done_calls_total",
                "epoch_sync_done attempts by outcome",
                &["result"],
            ),
            store_write_errors: counter(
                "floe_node_store_write_errors_total",
                "group commits of the store that failed (a full disk, an I/O error)",
            ),
            store_refusing_writes: gauge(
                "floe_node_store_refusing_writes",
                "1 while the store refuses writes after a failed commit, until it is reopened",
            ),
            registry,
        }
    }
}

impl Default for NodeMetrics {
    fn default() -> Self {
        Self::new()
    }
}
