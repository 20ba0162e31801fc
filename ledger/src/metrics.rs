//! Prometheus metrics, served at `/metrics` on the ledger's port.

use std::sync::OnceLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

struct Metrics {
    registry: Registry,
    transactions: IntCounterVec,
    checkpoints: IntCounter,
    checkpoint_transactions: IntCounter,
    latest_checkpoint: IntGauge,
    execute_seconds: Histogram,
    snapshot_bytes: IntGauge,
    log_bytes: IntGauge,
    archive_bytes: IntGauge,
    live_objects: IntGauge,
    memory_transactions: IntGauge,
    memory_checkpoints: IntGauge,
    oldest_checkpoint: IntGauge,
    compactions: IntCounter,
}

fn gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).unwrap_or_else(|_| unreachable!("static metric definition"))
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let registry = Registry::new_custom(Some("floe_ledger".into()), None).unwrap_or_default();
        let transactions = IntCounterVec::new(
            Opts::new(
                "transactions_total",
                "Transactions by outcome (success, failure, rejected)",
            ),
            &["outcome"],
        )
        .unwrap_or_else(|_| unreachable!("static metric definition"));
        let checkpoints = IntCounter::new("checkpoints_total", "Checkpoints sealed")
            .unwrap_or_else(|_| unreachable!("static metric definition"));
        let checkpoint_transactions = IntCounter::new(
            "checkpoint_transactions_total",
            "Transactions sealed into checkpoints",
        )
        .unwrap_or_else(|_| unreachable!("static metric definition"));
        let latest_checkpoint = IntGauge::new("latest_checkpoint", "Latest sealed checkpoint")
            .unwrap_or_else(|_| unreachable!("static metric definition"));
        let execute_seconds = Histogram::with_opts(HistogramOpts::new(
            "execute_seconds",
            "ExecuteTransaction latency, verification to durable commit",
        ))
        .unwrap_or_else(|_| unreachable!("static metric definition"));
        let snapshot_bytes = gauge(
            "snapshot_bytes",
            "Size of the latest snapshot of live state",
        );
        let log_bytes = gauge("log_bytes", "Size of the log since the snapshot");
        let archive_bytes = gauge(
            "archive_bytes",
            "Disk space of the checkpoint archive (at the last compaction)",
        );
        let live_objects = gauge("live_objects", "Live objects (held in memory)");
        let memory_transactions = gauge(
            "memory_transactions",
            "Transactions held in memory (pending and the recent window)",
        );
        let memory_checkpoints = gauge("memory_checkpoints", "Checkpoints held in memory");
        let oldest_checkpoint = gauge(
            "oldest_checkpoint",
            "Oldest checkpoint still served (earlier ones were pruned)",
        );
        let compactions = IntCounter::new("compactions_total", "Log compactions into a snapshot")
            .unwrap_or_else(|_| unreachable!("static metric definition"));
        for c in [
            Box::new(transactions.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(checkpoints.clone()),
            Box::new(checkpoint_transactions.clone()),
            Box::new(latest_checkpoint.clone()),
            Box::new(execute_seconds.clone()),
            Box::new(snapshot_bytes.clone()),
            Box::new(log_bytes.clone()),
            Box::new(archive_bytes.clone()),
            Box::new(live_objects.clone()),
            Box::new(memory_transactions.clone()),
            Box::new(memory_checkpoints.clone()),
            Box::new(oldest_checkpoint.clone()),
            Box::new(compactions.clone()),
        ] {
            let _ = registry.register(c);
        }
        Metrics {
            registry,
            transactions,
            checkpoints,
            checkpoint_transactions,
            latest_checkpoint,
            execute_seconds,
            snapshot_bytes,
            log_bytes,
            archive_bytes,
            live_objects,
            memory_transactions,
            memory_checkpoints,
            oldest_checkpoint,
            compactions,
        }
    })
}

/// Counts a transaction outcome: `success`, `failure` or `rejected`.
pub fn transaction(outcome: &str, seconds: f64) {
    let m = metrics();
    m.transactions.with_label_values(&[outcome]).inc();
    if outcome != "rejected" {
        m.execute_seconds.observe(seconds);
    }
}

/// Counts a sealed checkpoint.
pub fn checkpoint_sealed(sequence_number: u64, transactions: usize) {
    let m = metrics();
    m.checkpoints.inc();
    m.latest_checkpoint
        .set(i64::try_from(sequence_number).unwrap_or(i64::MAX));
    m.checkpoint_transactions.inc_by(transactions as u64);
}

/// The size of the snapshot loaded at start-up.
pub fn snapshot_bytes(bytes: u64) {
    metrics()
        .snapshot_bytes
        .set(i64::try_from(bytes).unwrap_or(i64::MAX));
}

/// What memory and the log hold now.
pub fn storage(state: &crate::state::State, log_bytes: u64) {
    let m = metrics();
    let (objects, transactions, checkpoints) = state.counts();
    m.live_objects.set(objects as i64);
    m.memory_transactions.set(transactions as i64);
    m.memory_checkpoints.set(checkpoints as i64);
    m.log_bytes
        .set(i64::try_from(log_bytes).unwrap_or(i64::MAX));
}

/// Counts a compaction.
pub fn compacted(snapshot_bytes: u64, archive_bytes: u64, oldest_checkpoint: u64) {
    let m = metrics();
    m.compactions.inc();
    m.snapshot_bytes
        .set(i64::try_from(snapshot_bytes).unwrap_or(i64::MAX));
    m.archive_bytes
        .set(i64::try_from(archive_bytes).unwrap_or(i64::MAX));
    m.oldest_checkpoint
        .set(i64::try_from(oldest_checkpoint).unwrap_or(i64::MAX));
}

/// The text exposition of every metric.
pub fn render() -> String {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&metrics().registry.gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
