//! The operator's identity on chain and the one call the node makes with
//! it: `staking::epoch_sync_done(staking, cap, epoch, clock)` once every
//! shard the node gained at an epoch change is filled.
//!
//! The key comes from a Sui CLI keystore (`[operator] keystore`, the
//! address picks the key); the `StorageNodeCap` is configured or found
//! among the objects the operator owns by this node's id (the committee
//! member whose BLS key is the node's). Outcomes (Walrus's `staking_inner.move`):
//! success, or `EDuplicateSyncDone` (a previous call landed; the node may
//! have crashed before recording it), end the reporting for the epoch;
//! `EInvalidSyncEpoch` means the chain moved on to a later epoch and
//! `ENotInCommittee` that the node is not in this committee: both are
//! logged and the epoch is given up. Anything else (transport, gas, a
//! cap not found yet) is retried with exponential backoff.

use std::sync::Mutex;
use std::time::Duration;

use floe_chain::floe::{Floe, abort_location, aborts};
use floe_chain::sui_sdk_types::Address;
use floe_chain::{KeyPair, Keystore};
use floe_core::move_types::ObjectId;

use crate::config::{ConfigError, OperatorConfig};

/// Module of the staking state machine's abort constants.
const STAKING_INNER: &str = "staking_inner";
/// `staking_inner::EInvalidSyncEpoch`.
const E_INVALID_SYNC_EPOCH: u64 = 1;
/// `staking_inner::EDuplicateSyncDone`.
const E_DUPLICATE_SYNC_DONE: u64 = 2;
/// `staking_inner::ENotInCommittee`.
const E_NOT_IN_COMMITTEE: u64 = 4;

/// First and largest pause between sync-done attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

/// The loaded `[operator]`.
#[derive(Debug)]
pub struct Operator {
    key: KeyPair,
    cap: Mutex<Option<Address>>,
}

/// How one `epoch_sync_done` attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncDoneOutcome {
    /// The call succeeded.
    Sent,
    /// The cap already reported this epoch (`EDuplicateSyncDone`).
    AlreadyDone,
    /// The epoch is no longer current (`EInvalidSyncEpoch`).
    ChainMovedOn,
    /// The node is not in the committee (`ENotInCommittee`).
    NotInCommittee,
    /// Worth another attempt later.
    Retry(String),
}

impl SyncDoneOutcome {
    /// Whether reporting for the epoch is over (nothing to retry).
    pub fn is_final(&self) -> bool {
        !matches!(self, SyncDoneOutcome::Retry(_))
    }

    /// A metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            SyncDoneOutcome::Sent => "sent",
            SyncDoneOutcome::AlreadyDone => "duplicate",
            SyncDoneOutcome::ChainMovedOn => "moved_on",
            SyncDoneOutcome::NotInCommittee => "not_in_committee",
            SyncDoneOutcome::Retry(_) => "failed",
        }
    }
}

/// Classifies a Move abort of `epoch_sync_done` at `module` with `code`;
/// `name` is the constant's name when the abort table knows it (preferred:
/// it survives renumbering).
pub fn classify_abort(module: &str, code: u64, name: Option<&str>) -> SyncDoneOutcome {
    match name {
        Some("EDuplicateSyncDone") => return SyncDoneOutcome::AlreadyDone,
        Some("EInvalidSyncEpoch") => return SyncDoneOutcome::ChainMovedOn,
        Some("ENotInCommittee") => return SyncDoneOutcome::NotInCommittee,
        _ => {}
    }
    match (module, code) {
        (STAKING_INNER, E_DUPLICATE_SYNC_DONE) => SyncDoneOutcome::AlreadyDone,
        (STAKING_INNER, E_INVALID_SYNC_EPOCH) => SyncDoneOutcome::ChainMovedOn,
        (STAKING_INNER, E_NOT_IN_COMMITTEE) => SyncDoneOutcome::NotInCommittee,
        _ => SyncDoneOutcome::Retry(format!("aborted in {module} with code {code}")),
    }
}

/// The pause before attempt `attempt` (1-based) after a retryable failure.
pub fn backoff(attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(10);
    BACKOFF.0.saturating_mul(factor).min(BACKOFF.1)
}

impl Operator {
    /// Loads the key for `[operator] address` from the keystore.
    pub fn load(config: &OperatorConfig) -> Result<Self, ConfigError> {
        let (address, cap) = config.ids()?;
        let path = &config.keystore;
        if !path.is_file() {
            return Err(ConfigError::Operator(format!(
                "keystore {} does not exist",
                path.display()
            )));
        }
        let keystore = Keystore::open(path)
            .map_err(|e| ConfigError::Operator(format!("keystore {}: {e}", path.display())))?;
        let key = keystore
            .keys()
            .iter()
            .find(|k| k.address() == address)
            .cloned()
            .ok_or_else(|| {
                ConfigError::Operator(format!(
                    "keystore {} has no ed25519 key for address {address}",
                    path.display()
                ))
            })?;
        Ok(Self {
            key,
            cap: Mutex::new(cap),
        })
    }

    /// The operator address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// The operator's signing key (for operator commands in the CLI).
    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    fn cached_cap(&self) -> Option<Address> {
        *self.cap.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cap: configured, or the operator's cap for `node_id`.
    async fn cap(&self, floe: &Floe, node_id: ObjectId) -> Result<Address, String> {
        if let Some(cap) = self.cached_cap() {
            return Ok(cap);
        }
        let caps = floe
            .owned_node_caps(self.address())
            .await
            .map_err(|e| format!("listing the operator's caps: {e}"))?;
        let (id, _) = caps
            .into_iter()
            .find(|(_, c)| c.node_id == node_id)
            .ok_or_else(|| {
                format!(
                    "{} owns no StorageNodeCap for node {node_id}",
                    self.address()
                )
            })?;
        *self.cap.lock().unwrap_or_else(|p| p.into_inner()) = Some(id);
        tracing::info!(cap = %id, "found the node's StorageNodeCap");
        Ok(id)
    }

    /// One `epoch_sync_done` attempt for `epoch`.
    pub async fn sync_done_once(
        &self,
        floe: &Floe,
        node_id: ObjectId,
        epoch: u32,
    ) -> SyncDoneOutcome {
        let cap = match self.cap(floe, node_id).await {
            Ok(cap) => cap,
            Err(e) => return SyncDoneOutcome::Retry(e),
        };
        let tx = match floe.epoch_sync_done(&self.key, cap, epoch).await {
            Ok(tx) => tx,
            Err(e) => return SyncDoneOutcome::Retry(e.to_string()),
        };
        if tx.status.is_success() {
            return SyncDoneOutcome::Sent;
        }
        match abort_location(&tx) {
            Some((package, module, code)) => {
                let name = aborts::describe(&package, &module, code).map(|a| a.name);
                classify_abort(&module, code, name)
            }
            None => SyncDoneOutcome::Retry(tx.status.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aborts_are_classified_by_name_then_code() {
        assert_eq!(
            classify_abort("staking_inner", 2, None),
            SyncDoneOutcome::AlreadyDone
        );
        assert_eq!(
            classify_abort("staking_inner", 1, None),
            SyncDoneOutcome::ChainMovedOn
        );
        assert_eq!(
            classify_abort("staking_inner", 4, None),
            SyncDoneOutcome::NotInCommittee
        );
        assert_eq!(
            classify_abort("staking", 9, Some("EDuplicateSyncDone")),
            SyncDoneOutcome::AlreadyDone
        );
        let other = classify_abort("staking_inner", 0, Some("EWrongEpochState"));
        assert!(!other.is_final(), "{other:?}");
        assert!(SyncDoneOutcome::Sent.is_final());
        assert_eq!(SyncDoneOutcome::AlreadyDone.label(), "duplicate");
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(40), Duration::from_secs(60));
    }

    #[test]
    fn load_checks_the_keystore_and_the_address() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("operator.keystore");
        let config = |address: String| OperatorConfig {
            keystore: path.clone(),
            address,
            cap: None,
        };
        let key = KeyPair::generate();
        let missing = Operator::load(&config(key.address().to_string())).unwrap_err();
        assert!(missing.to_string().contains("does not exist"), "{missing}");
        let mut store = Keystore::open(&path).unwrap();
        store.add(key.clone(), None).unwrap();
        store.save().unwrap();
        let op = Operator::load(&config(key.address().to_string())).unwrap();
        assert_eq!(op.address(), key.address());
        let other = KeyPair::generate().address().to_string();
        let err = Operator::load(&config(other)).unwrap_err();
        assert!(err.to_string().contains("no ed25519 key"), "{err}");
        let err = Operator::load(&config("nope".into())).unwrap_err();
        assert!(err.to_string().contains("not an address"), "{err}");
    }
}
