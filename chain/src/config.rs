//! `[chain]`: how a service reaches floe's chain, and the one way to
//! connect with it.
//!
//! Node, coordinator, indexer and client all read this section (TOML for
//! the services, YAML `chain:` for the client) into [`ChainConfig`] and
//! connect with [`connect`], so they accept the same keys, reject the same
//! typos and fill missing object ids the same way.
//!
//! ```toml
//! [chain]
//! endpoints = ["http://127.0.0.1:9000"]   # Sui gRPC v2, tried in order (failover)
//! wal_package = "0x3a1"
//! floe_package = "0xf10e"
//! # system = "0x…"       # optional, each on its own: the ones given are used,
//! # treasury = "0x…"     # the others are found in the genesis checkpoint
//! # staking = "0x…"
//! # The genesis validator committee's BLS12-381 keys (base64, as Sui
//! # prints them; the ledger's is in its log and `validator.key`):
//! # checkpoints are verified against them. Without it a follower trusts
//! # the committee the endpoint names when it connects (trust on first
//! # use), with a warning.
//! validator_keys = ["kZ…"]
//! ```

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sui_sdk_types::{Address, Bls12381PublicKey, ValidatorCommittee, ValidatorCommitteeMember};

use crate::connection::{ChainClient, ClientConfig};
use crate::floe::{Floe, FloeError, FloeIds};
use crate::stream::Trust;

/// Most endpoints and validator keys in one section (a typo cannot make a
/// follower hold thousands of connections or keys).
pub const MAX_ENDPOINTS: usize = 64;
/// See [`MAX_ENDPOINTS`].
pub const MAX_VALIDATOR_KEYS: usize = 1_000;
/// Sui's total voting power; a pinned committee shares it equally.
pub const TOTAL_STAKE: u64 = 10_000;

/// The `[chain]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// gRPC endpoints (`http://host:port`), in order of preference.
    pub endpoints: Vec<String>,
    /// The `wal` package.
    pub wal_package: Address,
    /// The `floe` package.
    pub floe_package: Address,
    /// The shared `floe::system::System`; found in genesis when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Address>,
    /// The shared `wal::wal::ProtectedTreasury`; found in genesis when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treasury: Option<Address>,
    /// The shared `floe::staking::Staking`; found in genesis when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staking: Option<Address>,
    /// The genesis validator committee (BLS12-381 min-sig keys, base64),
    /// equal voting power each. Empty: trust on first use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validator_keys: Vec<Bls12381PublicKey>,
}

/// Why a `[chain]` section is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainConfigError {
    /// No endpoint.
    #[error("[chain] endpoints is empty")]
    NoEndpoints,
    /// An endpoint is not an `http(s)://host[:port]` URL.
    #[error("[chain] endpoints: {endpoint:?} is not an http(s) URL: {reason}")]
    Endpoint { endpoint: String, reason: String },
    /// A list is longer than its bound.
    #[error("[chain] {field}: more than {max} entries")]
    TooMany { field: &'static str, max: usize },
    /// A validator key is listed twice or is not a BLS12-381 key.
    #[error("[chain] validator_keys: {0}")]
    ValidatorKeys(String),
}

/// Why [`connect`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Config(#[from] ChainConfigError),
    #[error(transparent)]
    Floe(#[from] FloeError),
    /// The endpoint's committee is not the pinned one.
    #[error(
        "{endpoint} names validator key(s) [{served}], not the pinned [chain] validator_keys \
         [{pinned}]: refusing to follow a chain certified by other keys"
    )]
    Untrusted {
        endpoint: String,
        served: String,
        pinned: String,
    },
}

impl From<crate::ChainError> for ConnectError {
    fn from(e: crate::ChainError) -> Self {
        Self::Floe(e.into())
    }
}

impl ChainConfig {
    /// A section for `endpoints` and the two packages, nothing else.
    pub fn new(endpoints: Vec<String>, wal_package: Address, floe_package: Address) -> Self {
        Self {
            endpoints,
            wal_package,
            floe_package,
            system: None,
            treasury: None,
            staking: None,
            validator_keys: Vec::new(),
        }
    }

    /// Checks what serde cannot: endpoints present and URLs, bounded
    /// lists, validator keys distinct and on the curve.
    pub fn validate(&self) -> Result<(), ChainConfigError> {
        if self.endpoints.is_empty() {
            return Err(ChainConfigError::NoEndpoints);
        }
        if self.endpoints.len() > MAX_ENDPOINTS {
            return Err(ChainConfigError::TooMany {
                field: "endpoints",
                max: MAX_ENDPOINTS,
            });
        }
        for endpoint in &self.endpoints {
            check_endpoint(endpoint).map_err(|reason| ChainConfigError::Endpoint {
                endpoint: endpoint.clone(),
                reason,
            })?;
        }
        if self.validator_keys.len() > MAX_VALIDATOR_KEYS {
            return Err(ChainConfigError::TooMany {
                field: "validator_keys",
                max: MAX_VALIDATOR_KEYS,
            });
        }
        self.trust()?;
        Ok(())
    }

    /// The pinned genesis committee, if `validator_keys` is given.
    pub fn pinned_committee(&self) -> Result<Option<ValidatorCommittee>, ChainConfigError> {
        if self.validator_keys.is_empty() {
            return Ok(None);
        }
        let mut seen = HashSet::new();
        for key in &self.validator_keys {
            if !seen.insert(key) {
                return Err(ChainConfigError::ValidatorKeys(format!(
                    "{key} is listed twice"
                )));
            }
        }
        let n = self.validator_keys.len() as u64;
        let committee = ValidatorCommittee {
            epoch: 0,
            members: self
                .validator_keys
                .iter()
                .map(|key| ValidatorCommitteeMember {
                    public_key: *key,
                    stake: (TOTAL_STAKE / n).max(1),
                })
                .collect(),
        };
        // Parses every key (subgroup check), so a bad one fails here and
        // not at the first checkpoint.
        crate::verify::CheckpointVerifier::new(committee.clone())
            .map_err(ChainConfigError::ValidatorKeys)?;
        Ok(Some(committee))
    }

    /// How followers verify checkpoints: the pinned committee, or trust on
    /// first use when none is pinned.
    pub fn trust(&self) -> Result<Trust, ChainConfigError> {
        Ok(match self.pinned_committee()? {
            Some(committee) => Trust::Committee(committee),
            None => Trust::FirstUse,
        })
    }

    /// The connection settings (endpoints and trust; default timeouts).
    pub fn client_config(&self) -> Result<ClientConfig, ChainConfigError> {
        Ok(ClientConfig::new(self.endpoints.iter().cloned()).with_trust(self.trust()?))
    }

    /// The configured object ids over `discovered` ones: each of
    /// `system`, `treasury`, `staking` given in the section wins.
    pub fn merge_ids(&self, discovered: FloeIds) -> FloeIds {
        FloeIds {
            wal_package: self.wal_package,
            floe_package: self.floe_package,
            system: self.system.unwrap_or(discovered.system),
            treasury: self.treasury.unwrap_or(discovered.treasury),
            staking: self.staking.unwrap_or(discovered.staking),
        }
    }

    /// All three object ids, when the section gives them all (nothing to
    /// discover).
    pub fn configured_ids(&self) -> Option<FloeIds> {
        Some(FloeIds {
            wal_package: self.wal_package,
            floe_package: self.floe_package,
            system: self.system?,
            treasury: self.treasury?,
            staking: self.staking?,
        })
    }
}

/// `http(s)://host[:port]`, as tonic connects to it.
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let uri: tonic::codegen::http::Uri = endpoint.parse().map_err(|e| format!("{e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return Err(format!("scheme {other:?} (use http or https)")),
        None => return Err("no scheme (write http://host:port)".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    Ok(())
}

/// Validates `config`, connects to its endpoints, checks that the chain is
/// certified by the pinned validator keys (if any), and finds floe's
/// objects: those the section gives are used as given, the rest are found
/// in the genesis checkpoint ([`FloeIds::discover`]).
///
/// The returned client's checkpoint streams verify against the pin (or,
/// without one, the committee the endpoint names at each stream's start,
/// with a warning from the stream).
pub async fn connect(config: &ChainConfig) -> Result<Floe, ConnectError> {
    config.validate()?;
    let client = ChainClient::new(config.client_config()?)?;
    if let Some(pinned) = config.pinned_committee()? {
        check_pin(&client, &pinned).await?;
    }
    let ids = match config.configured_ids() {
        Some(ids) => ids,
        None => config
            .merge_ids(FloeIds::discover(&client, config.wal_package, config.floe_package).await?),
    };
    Ok(Floe::new(client, ids))
}

/// Fails early, with both key lists, when the endpoint's current committee
/// is not the pinned one (the checkpoint stream would refuse its first
/// checkpoint anyway; this names the cause before any work is done).
async fn check_pin(client: &ChainClient, pinned: &ValidatorCommittee) -> Result<(), ConnectError> {
    let served = client.validator_committee().await?;
    if served.epoch != pinned.epoch {
        // A later committee descends from the genesis one through
        // epoch-ending checkpoints; the stream checks that hand-over.
        return Ok(());
    }
    let keys = |c: &ValidatorCommittee| {
        c.members
            .iter()
            .map(|m| m.public_key)
            .collect::<HashSet<_>>()
    };
    if keys(&served) != keys(pinned) {
        let list = |c: &ValidatorCommittee| {
            c.members
                .iter()
                .map(|m| m.public_key.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(ConnectError::Untrusted {
            endpoint: client.current_endpoint().to_owned(),
            served: list(&served),
            pinned: list(pinned),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
