//! Test support shared by every floe crate (a dev-dependency only).
//!
//! Tests start processes one way: [`bin::floe_bin`] finds (and if needed
//! builds) an up-to-date `floe` binary, [`process::Proc`] owns a child that
//! dies with the test and keeps its log, and on top of it [`ledger`] starts
//! `floe ledger run`, [`nodes`] a ledger with four `floe node run`
//! processes, and [`devnet`] a whole `floe devnet`. [`http`] is a raw
//! HTTP/1.1 client with timeouts, [`msg`] builds protocol messages and
//! certificates, [`events`] checkpoints of hand-made events, [`fuzz`] holds
//! what the fuzz campaigns share.
//!
//! All of this is the default `harness` feature; without it the crate is
//! only [`fuzz`] (for floe-core's tests, which must not build the chain).
//!
//! Helpers panic with a message that says what failed (and the end of the
//! process's log where there is one): that is how a test reports failure,
//! so this crate returns no error types.

#[cfg(feature = "harness")]
pub mod bin;
#[cfg(feature = "harness")]
pub mod devnet;
#[cfg(feature = "harness")]
pub mod events;
pub mod fuzz;
#[cfg(feature = "harness")]
pub mod http;
#[cfg(feature = "harness")]
pub mod ledger;
#[cfg(feature = "harness")]
pub mod msg;
#[cfg(feature = "harness")]
pub mod nodes;
#[cfg(feature = "harness")]
pub mod process;

#[cfg(feature = "harness")]
pub use bin::{floe, floe_bin};
#[cfg(feature = "harness")]
pub use http::{free_port, request, try_request};
#[cfg(feature = "harness")]
pub use process::{Proc, wait_for};

/// A multi-threaded tokio runtime with two workers, for synchronous tests
/// that drive async clients.
#[cfg(feature = "harness")]
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
