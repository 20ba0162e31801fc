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
        for c in [
            Box::new(transactions.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(checkpoints.clone()),
            Box::new(checkpoint_transactions.clone()),
            Box::new(latest_checkpoint.clone()),
            Box::new(execute_seconds.clone()),
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
pub fn checkpoint_sealed(transactions: usize) {
    let m = metrics();
    m.checkpoints.inc();
    m.latest_checkpoint.set(m.checkpoints.get() as i64);
    m.checkpoint_transactions.inc_by(transactions as u64);
}

/// The text exposition of every metric.
pub fn render() -> String {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&metrics().registry.gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
