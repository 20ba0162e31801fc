//! floe-ledger: the embedded single-validator development chain.
//!
//! It knows nothing about floe: Move packages plug in as native Rust
//! implementations through a trait, and every client talks to it through
//! Sui's gRPC v2 API.
