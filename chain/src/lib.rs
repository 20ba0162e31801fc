//! floe-chain: the client side of the chain, over Sui's gRPC v2 API, so the
//! same code talks to floe's embedded ledger and to a real Sui full node.
//!
//! - [`keystore`]: ed25519 keys in the Sui CLI keystore format.

pub mod keystore;

pub use keystore::{KeyPair, Keystore, KeystoreError};
