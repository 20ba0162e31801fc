//! Prometheus metrics of the coordinator (served at `/metrics`).

use prometheus::{IntCounterVec, IntGauge, Opts, Registry};

/// Every metric the coordinator exports, in one registry.
#[derive(Clone)]
pub struct Metrics {
    /// The registry `/metrics` encodes.
    pub registry: Registry,
    /// The epoch at the last read.
    pub epoch: IntGauge,
    /// Epoch-change calls by function and outcome (`ok`, `aborted`,
    /// `error`).
    pub calls: IntCounterVec,
}

impl Metrics {
    /// Fresh metrics in a fresh registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        // Fixed, valid definitions registered once in a fresh registry:
        // the `expect`s cannot fire.
        let epoch = IntGauge::new("floe_coordinator_epoch", "Current epoch as last read")
            .expect("valid metric");
        registry
            .register(Box::new(epoch.clone()))
            .expect("registers once");
        let calls = IntCounterVec::new(
            Opts::new(
                "floe_coordinator_calls_total",
                "Epoch-change calls by function and outcome",
            ),
            &["call", "outcome"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(calls.clone()))
            .expect("registers once");
        Self {
            registry,
            epoch,
            calls,
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
