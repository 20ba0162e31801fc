//! Prometheus metrics of the coordinator (served at `/metrics`).

use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// Every metric the coordinator exports, in one registry.
#[derive(Clone)]
pub struct Metrics {
    /// The registry `/metrics` encodes.
    pub registry: Registry,
    /// The epoch at the last read.
    pub epoch: IntGauge,
    /// Epoch-change calls by function and outcome (`ok`, `lost_race`:
    /// another caller made the step first and the contract rejected ours,
    /// `aborted`, `error`).
    pub calls: IntCounterVec,
    /// The last checkpoint the follower applied.
    pub checkpoint: IntGauge,
    /// The last epoch whose payments were reconciled.
    pub reconciled_epoch: IntGauge,
    /// 1 while the last reconciled epoch has a mismatch.
    pub payment_mismatch: IntGauge,
    /// Mismatches found (one per differing amount).
    pub payment_mismatches: IntCounter,
    /// Epoch changes that could not be reconciled.
    pub unreconciled: IntCounter,
    /// Shared-blob renewals by outcome (`extended`, `failed`, `skipped`).
    pub renewals: IntCounterVec,
    /// FROST spent on renewals (from the blobs' funds).
    pub renewal_frost: IntCounter,
    /// Nodes late with `epoch_sync_done` (labels: node id, name).
    pub sync_late: IntGaugeVec,
    /// How many nodes are late with `epoch_sync_done`.
    pub sync_late_nodes: IntGauge,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, m: T) -> T {
    // Fixed, valid definitions registered once in a fresh registry: the
    // `expect` cannot fire.
    registry
        .register(Box::new(m.clone()))
        .expect("registers once");
    m
}

impl Metrics {
    /// Fresh metrics in a fresh registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        let gauge = |name: &str, help: &str| {
            register(&registry, IntGauge::new(name, help).expect("valid metric"))
        };
        let counter = |name: &str, help: &str| {
            register(
                &registry,
                IntCounter::new(name, help).expect("valid metric"),
            )
        };
        let epoch = gauge("floe_coordinator_epoch", "Current epoch as last read");
        let calls = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "floe_coordinator_calls_total",
                    "Epoch-change calls by function and outcome",
                ),
                &["call", "outcome"],
            )
            .expect("valid metric"),
        );
        let renewals = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "floe_coordinator_renewals_total",
                    "Shared-blob renewals by outcome (extended, failed, skipped)",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
        );
        let sync_late = register(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "floe_coordinator_sync_late",
                    "1 for each node late with epoch_sync_done",
                ),
                &["node_id", "name"],
            )
            .expect("valid metric"),
        );
        Self {
            epoch,
            calls,
            checkpoint: gauge(
                "floe_coordinator_checkpoint",
                "Last checkpoint the follower applied",
            ),
            reconciled_epoch: gauge(
                "floe_coordinator_payments_reconciled_epoch",
                "Last epoch whose payments were reconciled",
            ),
            payment_mismatch: gauge(
                "floe_coordinator_payments_mismatch",
                "1 while the last reconciled epoch's payments differ from the expected ones",
            ),
            payment_mismatches: counter(
                "floe_coordinator_payment_mismatches_total",
                "Amounts that differed from the expected payment",
            ),
            unreconciled: counter(
                "floe_coordinator_payments_unreconciled_total",
                "Epoch changes whose payments could not be reconciled",
            ),
            renewals,
            renewal_frost: counter(
                "floe_coordinator_renewal_frost_total",
                "FROST spent from shared blobs' funds on renewals",
            ),
            sync_late,
            sync_late_nodes: gauge(
                "floe_coordinator_sync_late_nodes",
                "Nodes late with epoch_sync_done",
            ),
            registry,
        }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Encoding our own registered metrics into a String cannot fail.
        let _ = prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
