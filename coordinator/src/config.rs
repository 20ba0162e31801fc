//! The coordinator's configuration file (TOML).
//!
//! ```toml
//! listen = "127.0.0.1:8095"           # /health, /status, /metrics
//! poll_ms = 1000                      # longest sleep between two reads of the chain
//!
//! [chain]
//! endpoints = ["http://127.0.0.1:9000"]
//! wal_package = "0x3a1"
//! floe_package = "0xf10e"
//! # system = "0x..."                  # optional, each on its own: found in
//! # treasury = "0x..."                # the genesis checkpoint otherwise
//! # staking = "0x..."
//! validator_keys = ["kZ..."]          # genesis validator key(s): checkpoints
//! #                                   # are verified against them
//! # [chain] is floe_chain::ChainConfig, shared with node, indexer and client.
//!
//! # data_dir = "/var/lib/floe/coordinator"  # follower cursor and reports;
//! #                                   # without it, replay from genesis
//! # sync_grace_ms = 30000             # a node is late with epoch_sync_done
//! #                                   # this long after the change started
//!
//! [wallet]                            # pays the gas of the epoch-change calls
//! keystore = "/var/lib/floe/coordinator/sui.keystore"
//! # address = "0x..."                 # default: the keystore's first key
//!
//! [renewal]                           # shared blobs, from their own funds
//! # enabled = true
//! # horizon_epochs = 2                # renew when end_epoch <= epoch + this
//! # extend_epochs = 5                 # epochs added (fewer if funds are short)
//! # max_per_round = 32                # per voting_end transaction, cheapest first
//! # max_tracked = 100000              # shared blobs followed
//! ```
//!
//! Epoch steps are decided from the chain on every step, so the
//! coordinator can be killed and restarted at any time, and two
//! coordinators only race for the same permissionless calls. The optional
//! `data_dir` only saves the checkpoint follower's cursor and what it
//! learnt (see `follow`); losing it costs a replay, never a wrong call.

use std::net::SocketAddr;
use std::path::PathBuf;

use floe_chain::ChainConfig;
use floe_chain::sui_sdk_types::Address;
use serde::{Deserialize, Serialize};

/// Bounds on `poll_ms`: below 50 ms the chain is polled for nothing; above
/// a minute an epoch step could be noticed very late.
pub const POLL_MS_RANGE: std::ops::RangeInclusive<u64> = 50..=60_000;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: {0}")]
    Parse(String),
    #[error("config: {0}")]
    Chain(#[from] floe_chain::ChainConfigError),
    #[error("config: poll_ms = {0} is outside 50..=60000")]
    Poll(u64),
    #[error("config: {0}")]
    Renewal(String),
    #[error("config: {field} = {value:?} is not an address: {reason}")]
    Address {
        field: &'static str,
        value: String,
        reason: String,
    },
}

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorConfig {
    /// Address of the health/status/metrics endpoint.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Longest sleep between two reads of the chain (ms).
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
    pub chain: ChainConfig,
    pub wallet: WalletSection,
    /// Where the follower keeps its cursor and reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// How long after an epoch change started a node that has not sent
    /// `epoch_sync_done` counts as late (ms).
    #[serde(default = "default_sync_grace")]
    pub sync_grace_ms: u64,
    #[serde(default, skip_serializing_if = "is_default_renewal")]
    pub renewal: crate::renewal::RenewalConfig,
}

fn is_default_renewal(renewal: &crate::renewal::RenewalConfig) -> bool {
    *renewal == crate::renewal::RenewalConfig::default()
}

/// Default of `sync_grace_ms`.
pub const DEFAULT_SYNC_GRACE_MS: u64 = 30_000;

fn default_sync_grace() -> u64 {
    DEFAULT_SYNC_GRACE_MS
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8095))
}

fn default_poll() -> u64 {
    1000
}

/// `[wallet]`: the key that signs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletSection {
    pub keystore: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

fn address(field: &'static str, value: &str) -> Result<Address, ConfigError> {
    value.parse().map_err(|e| ConfigError::Address {
        field,
        value: value.to_owned(),
        reason: format!("{e}"),
    })
}

impl CoordinatorConfig {
    /// Parses and checks a config file's text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.chain.validate()?;
        if !POLL_MS_RANGE.contains(&self.poll_ms) {
            return Err(ConfigError::Poll(self.poll_ms));
        }
        self.renewal.validate().map_err(ConfigError::Renewal)?;
        self.wallet_address()?;
        Ok(())
    }

    /// The configured signer address, if any.
    pub fn wallet_address(&self) -> Result<Option<Address>, ConfigError> {
        self.wallet
            .address
            .as_deref()
            .map(|a| address("wallet.address", a))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        poll_ms = 500
        [chain]
        endpoints = ["http://127.0.0.1:9000"]
        wal_package = "0x3a1"
        floe_package = "0xf10e"
        [wallet]
        keystore = "sui.keystore"
    "#;

    #[test]
    fn parses_with_defaults() {
        let c = CoordinatorConfig::from_toml(GOOD).expect("valid");
        assert_eq!(c.poll_ms, 500);
        assert_eq!(c.listen, default_listen());
        assert!(c.chain.configured_ids().is_none());
        assert!(c.data_dir.is_none());
        assert_eq!(c.renewal, crate::renewal::RenewalConfig::default());
        let renewal = format!("{GOOD}\n[renewal]\nhorizon_epochs = 1\nextend_epochs = 1");
        let c = CoordinatorConfig::from_toml(&renewal).expect("valid");
        assert_eq!((c.renewal.horizon_epochs, c.renewal.extend_epochs), (1, 1));
        let bad = format!("{GOOD}\n[renewal]\nhorizon_epochs = 0");
        assert!(matches!(
            CoordinatorConfig::from_toml(&bad),
            Err(ConfigError::Renewal(_))
        ));
    }

    #[test]
    fn rejects_bad_values_with_reasons() {
        let bad_poll = GOOD.replace("poll_ms = 500", "poll_ms = 5");
        assert!(matches!(
            CoordinatorConfig::from_toml(&bad_poll),
            Err(ConfigError::Poll(5))
        ));
        let no_endpoint = GOOD.replace(r#"["http://127.0.0.1:9000"]"#, "[]");
        assert!(matches!(
            CoordinatorConfig::from_toml(&no_endpoint),
            Err(ConfigError::Chain(
                floe_chain::ChainConfigError::NoEndpoints
            ))
        ));
        let bad_pkg = GOOD.replace("0xf10e", "floe");
        let err = CoordinatorConfig::from_toml(&bad_pkg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("floe_package"), "{err}");
        let typo = GOOD.replace("floe_package", "floe_pkg");
        let err = CoordinatorConfig::from_toml(&typo).unwrap_err().to_string();
        assert!(err.contains("unknown field `floe_pkg`"), "{err}");
        let unknown = format!("{GOOD}\nsurprise = 1");
        assert!(matches!(
            CoordinatorConfig::from_toml(&unknown),
            Err(ConfigError::Parse(_))
        ));
    }
}
