//! The auto-renewal keeper: shared (funded) blobs are extended from their
//! own funds before they expire.
//!
//! - **Which**: the shared blobs the follower ([`crate::follow`]) has seen
//!   in the checkpoint stream, re-read fresh before each round.
//! - **When**: once per epoch, in the same transaction as `voting_end`
//!   (half-way through the epoch). A blob is due when it is certified,
//!   not expired and `end_epoch <= epoch + horizon_epochs`; with a
//!   horizon of at least 1 a blob is extended before its last epoch ends.
//! - **How much**: `extend_epochs`, fewer if the blob's funds cover fewer
//!   (`funds / (price x units)`, floored) or the contract's
//!   `max_epochs_ahead` allows fewer; a blob whose funds cover less than
//!   one epoch is skipped, so a blob stops being renewed when its funds
//!   run out and never spends more than it has.
//! - **Order**: cheapest first, at most `max_per_round` per round, so when
//!   the round is short (gas, the bound) the most blobs are kept alive.
//! - **Exactly once**: riding in `voting_end`'s transaction makes the
//!   contract the judge. Of two coordinators, the second one's
//!   `voting_end` aborts (`ECommitteeSelected`/`EWrongEpochState`) and the
//!   whole transaction, its extensions included, is rolled back: a blob is
//!   never extended twice for one epoch. Separate extension
//!   transactions could not be guarded: `shared_blob::extend` accepts any
//!   number of calls.
//! - An extension that aborts (the blob changed in between) makes the
//!   keeper retry `voting_end` alone, so renewals never hold up epochs.

use floe_chain::ExecutedTx;
use floe_chain::TxStatus;
use floe_chain::floe::{Floe, FloeError};
use floe_chain::keystore::KeyPair;
use floe_chain::sui_sdk_types::Address;
use floe_core::move_types::SharedBlob;
use serde::{Deserialize, Serialize};

use crate::facts::SharedBlobSeen;
use crate::follow::{self, SharedPayments};
use crate::metrics::Metrics;

/// `[renewal]` of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalConfig {
    /// Renew at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Extend blobs whose end epoch is at most this many epochs ahead.
    #[serde(default = "default_horizon")]
    pub horizon_epochs: u32,
    /// Epochs added per renewal (fewer when funds or the contract's limit
    /// allow fewer).
    #[serde(default = "default_extend")]
    pub extend_epochs: u32,
    /// Most renewals in one round (one transaction).
    #[serde(default = "default_max_per_round")]
    pub max_per_round: usize,
    /// Most shared blobs tracked (anyone can create them).
    #[serde(default = "default_max_tracked")]
    pub max_tracked: usize,
}

fn yes() -> bool {
    true
}
fn default_horizon() -> u32 {
    2
}
fn default_extend() -> u32 {
    5
}
fn default_max_per_round() -> usize {
    32
}
fn default_max_tracked() -> usize {
    100_000
}

/// Bounds of the settings.
pub const MAX_PER_ROUND: usize = 500;

impl Default for RenewalConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            horizon_epochs: default_horizon(),
            extend_epochs: default_extend(),
            max_per_round: default_max_per_round(),
            max_tracked: default_max_tracked(),
        }
    }
}

impl RenewalConfig {
    /// Checks the values serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.horizon_epochs == 0 {
            return Err("renewal.horizon_epochs must be at least 1".into());
        }
        if self.extend_epochs == 0 {
            return Err("renewal.extend_epochs must be at least 1".into());
        }
        if self.max_per_round == 0 || self.max_per_round > MAX_PER_ROUND {
            return Err(format!(
                "renewal.max_per_round must be in 1..={MAX_PER_ROUND}"
            ));
        }
        Ok(())
    }
}

/// One planned extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRenewal {
    pub shared_blob: String,
    pub blob_id: String,
    pub end_epoch: u32,
    pub epochs: u32,
    /// FROST taken from the blob's funds.
    pub cost: u64,
    pub funds: u64,
}

/// A blob left out of a round, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub shared_blob: String,
    pub end_epoch: u32,
    pub reason: String,
}

/// A round's plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub renew: Vec<PlannedRenewal>,
    pub skipped: Vec<Skipped>,
}

/// A renewal that happened (or failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalRecord {
    /// The epoch of the round.
    pub epoch: u32,
    pub shared_blob: String,
    pub blob_id: String,
    pub old_end_epoch: u32,
    pub new_end_epoch: u32,
    pub cost: u64,
    pub tx_digest: String,
    /// `None` when it happened; the abort otherwise.
    pub error: Option<String>,
}

/// What the round can pay with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    pub epoch: u32,
    /// FROST per 1 MiB unit per epoch.
    pub storage_price: u64,
    /// The accounting ring's length: the furthest end epoch is
    /// `epoch + max_epochs_ahead`.
    pub max_epochs_ahead: u32,
}

/// Plans one round over `blobs` (pure).
pub fn plan(blobs: &[(String, SharedBlobSeen)], market: Market, config: &RenewalConfig) -> Plan {
    let mut out = Plan::default();
    let epoch = market.epoch;
    for (id, b) in blobs {
        if !b.certified || b.end_epoch <= epoch {
            continue;
        }
        if u64::from(b.end_epoch) > u64::from(epoch) + u64::from(config.horizon_epochs) {
            continue;
        }
        let skip = |reason: String| Skipped {
            shared_blob: id.clone(),
            end_epoch: b.end_epoch,
            reason,
        };
        let per_epoch =
            match floe_core::price::storage_cost_per_epoch(b.storage_size, market.storage_price) {
                Ok(c) => c,
                Err(e) => {
                    out.skipped.push(skip(format!("price: {e}")));
                    continue;
                }
            };
        // `end - epoch + k <= max_epochs_ahead` (the contract's check).
        let room = (u64::from(epoch) + u64::from(market.max_epochs_ahead))
            .saturating_sub(u64::from(b.end_epoch));
        let affordable = b.funds.checked_div(per_epoch).unwrap_or(u64::MAX);
        let epochs = u64::from(config.extend_epochs).min(room).min(affordable);
        if epochs == 0 {
            let reason = if affordable == 0 {
                format!(
                    "funds {} FROST cover less than one epoch ({per_epoch} FROST)",
                    b.funds
                )
            } else {
                "already at the furthest end epoch the contract allows".to_owned()
            };
            out.skipped.push(skip(reason));
            continue;
        }
        out.renew.push(PlannedRenewal {
            shared_blob: id.clone(),
            blob_id: b.blob_id.clone(),
            end_epoch: b.end_epoch,
            epochs: epochs as u32,
            cost: per_epoch * epochs,
            funds: b.funds,
        });
    }
    out.renew.sort_by(|a, b| {
        (a.cost, a.end_epoch, &a.shared_blob).cmp(&(b.cost, b.end_epoch, &b.shared_blob))
    });
    if out.renew.len() > config.max_per_round {
        for r in out.renew.split_off(config.max_per_round) {
            out.skipped.push(Skipped {
                shared_blob: r.shared_blob,
                end_epoch: r.end_epoch,
                reason: format!(
                    "round full ({} per round, cheapest first)",
                    config.max_per_round
                ),
            });
        }
    }
    out
}

/// The preview `/status` shows: what the next round would do with the
/// last state seen.
pub fn preview(state: &follow::PaymentsState, config: &RenewalConfig) -> Option<Plan> {
    let market = Market {
        epoch: state.epoch?,
        storage_price: state.storage_price?,
        max_epochs_ahead: state.max_epochs_ahead?,
    };
    let blobs: Vec<_> = state
        .shared_blobs
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(plan(&blobs, market, config))
}

/// Runs `voting_end` with the due renewals in one transaction.
#[derive(Clone)]
pub struct Keeper {
    pub config: RenewalConfig,
    pub shared: SharedPayments,
    pub metrics: Metrics,
}

impl Keeper {
    /// `voting_end` for `epoch`, with this round's renewals when there
    /// are any. Returns the transaction that decides the epoch step (the
    /// combined one, or `voting_end` alone after an extension aborted).
    pub async fn voting_end(
        &self,
        floe: &Floe,
        key: &KeyPair,
        epoch: u32,
    ) -> Result<ExecutedTx, FloeError> {
        let plan = if self.config.enabled {
            match self.round(floe, epoch).await {
                Ok(plan) => plan,
                Err(e) => {
                    tracing::warn!(error = %e, "planning renewals; voting_end goes alone");
                    Plan::default()
                }
            }
        } else {
            Plan::default()
        };
        for s in &plan.skipped {
            tracing::info!(shared_blob = %s.shared_blob, end_epoch = s.end_epoch, "not renewed: {}", s.reason);
            self.metrics.renewals.with_label_values(&["skipped"]).inc();
        }
        if plan.renew.is_empty() {
            return floe.voting_end(key).await;
        }
        // The ids were printed from addresses, so they parse.
        let renew: Vec<PlannedRenewal> = plan
            .renew
            .into_iter()
            .filter(|r| r.shared_blob.parse::<Address>().is_ok())
            .collect();
        let extensions: Vec<(Address, u32)> = renew
            .iter()
            .filter_map(|r| Some((r.shared_blob.parse().ok()?, r.epochs)))
            .collect();
        let tx = floe.voting_end_and_extend(key, &extensions).await?;
        match &tx.status {
            TxStatus::Success => {
                self.record(&renew, epoch, &tx, None);
                Ok(tx)
            }
            status => match failed_extension(status, renew.len()) {
                Some(i) => {
                    let error = status.to_string();
                    tracing::warn!(shared_blob = %renew[i].shared_blob, %error, "a renewal aborted; voting_end goes alone");
                    self.record(&renew[i..=i], epoch, &tx, Some(error));
                    floe.voting_end(key).await
                }
                // voting_end itself aborted: the driver decides whether
                // someone else did it.
                None => Ok(tx),
            },
        }
    }

    /// Reads the due blobs fresh and plans the round.
    async fn round(&self, floe: &Floe, epoch: u32) -> Result<Plan, FloeError> {
        let horizon = self.config.horizon_epochs;
        let candidates: Vec<String> = follow::with(&self.shared, |p| {
            p.state
                .shared_blobs
                .iter()
                .filter(|(_, b)| {
                    b.end_epoch > epoch
                        && u64::from(b.end_epoch) <= u64::from(epoch) + u64::from(horizon)
                })
                .map(|(id, _)| id.clone())
                .collect()
        });
        if candidates.is_empty() {
            return Ok(Plan::default());
        }
        let ids: Vec<Address> = candidates.iter().filter_map(|c| c.parse().ok()).collect();
        let objects = floe.client.get_objects(&ids).await?;
        let mut blobs = Vec::with_capacity(ids.len());
        for (id, o) in ids.iter().zip(objects) {
            let Some(o) = o else { continue };
            let s: SharedBlob = o.contents_as()?;
            blobs.push((
                id.to_string(),
                SharedBlobSeen {
                    blob_id: floe_core::BlobId(s.blob.blob_id.0).to_string(),
                    end_epoch: s.blob.storage.end_epoch,
                    funds: s.funds.value,
                    storage_size: s.blob.storage.storage_size,
                    certified: s.blob.certified_epoch.is_some(),
                },
            ));
        }
        let system = floe.system_state().await?;
        let market = Market {
            epoch,
            storage_price: system.storage_price_per_unit_size,
            max_epochs_ahead: system.future_accounting.length,
        };
        Ok(plan(&blobs, market, &self.config))
    }

    fn record(&self, done: &[PlannedRenewal], epoch: u32, tx: &ExecutedTx, error: Option<String>) {
        let outcome = if error.is_some() {
            "failed"
        } else {
            "extended"
        };
        for r in done {
            self.metrics.renewals.with_label_values(&[outcome]).inc();
            if error.is_none() {
                self.metrics.renewal_frost.inc_by(r.cost);
                tracing::info!(shared_blob = %r.shared_blob, epochs = r.epochs, cost = r.cost, "renewed");
            }
            let record = RenewalRecord {
                epoch,
                shared_blob: r.shared_blob.clone(),
                blob_id: r.blob_id.clone(),
                old_end_epoch: r.end_epoch,
                new_end_epoch: r.end_epoch.saturating_add(r.epochs),
                cost: r.cost,
                tx_digest: tx.digest.to_string(),
                error: error.clone(),
            };
            follow::with(&self.shared, |p| p.state.add_renewal(record));
        }
    }
}

/// The index of the extension that aborted, if the failure was in one
/// (command `1 + index`; command 0 is `voting_end`).
pub fn failed_extension(status: &TxStatus, extensions: usize) -> Option<usize> {
    let command = match status {
        TxStatus::MoveAbort { command, .. } | TxStatus::Failure { command, .. } => (*command)?,
        TxStatus::Success => return None,
    };
    let index = usize::try_from(command).ok()?.checked_sub(1)?;
    (index < extensions).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn blob(end_epoch: u32, funds: u64, units: u64) -> SharedBlobSeen {
        SharedBlobSeen {
            blob_id: format!("b{end_epoch}"),
            end_epoch,
            funds,
            storage_size: units * MIB,
            certified: true,
        }
    }

    fn market() -> Market {
        Market {
            epoch: 10,
            storage_price: 100,
            max_epochs_ahead: 20,
        }
    }

    fn config() -> RenewalConfig {
        RenewalConfig {
            horizon_epochs: 2,
            extend_epochs: 3,
            max_per_round: 10,
            ..Default::default()
        }
    }

    #[test]
    fn due_blobs_are_extended_within_their_funds() {
        let blobs = vec![
            ("0x1".to_owned(), blob(11, 1_000_000, 1)), // due, rich
            ("0x2".to_owned(), blob(12, 250, 1)),       // due, 2 epochs of funds
            ("0x3".to_owned(), blob(13, 1_000_000, 1)), // beyond the horizon
            ("0x4".to_owned(), blob(10, 1_000_000, 1)), // expired
            ("0x5".to_owned(), blob(11, 99, 1)),        // funds below one epoch
        ];
        let p = plan(&blobs, market(), &config());
        let got: Vec<_> = p
            .renew
            .iter()
            .map(|r| (r.shared_blob.as_str(), r.epochs, r.cost))
            .collect();
        // Cheapest first: 0x2 (2 epochs, 200) before 0x1 (3 epochs, 300).
        assert_eq!(got, [("0x2", 2, 200), ("0x1", 3, 300)]);
        assert!(p.renew.iter().all(|r| r.cost <= r.funds));
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.skipped[0].shared_blob, "0x5");
        assert!(p.skipped[0].reason.contains("less than one epoch"));
    }

    #[test]
    fn the_contracts_furthest_epoch_and_the_round_bound_hold() {
        let m = Market {
            max_epochs_ahead: 2,
            ..market()
        };
        let p = plan(&[("0x1".to_owned(), blob(11, u64::MAX, 1))], m, &config());
        assert_eq!(p.renew[0].epochs, 1, "end 11 + 1 = epoch 10 + 2");
        let p = plan(&[("0x1".to_owned(), blob(12, u64::MAX, 1))], m, &config());
        assert!(p.renew.is_empty() && p.skipped.len() == 1);

        let many: Vec<_> = (0..5u64)
            .map(|i| (format!("0x{i}"), blob(11, 1_000_000, 5 - i)))
            .collect();
        let small = RenewalConfig {
            max_per_round: 2,
            ..config()
        };
        let p = plan(&many, market(), &small);
        assert_eq!(p.renew.len(), 2);
        assert_eq!(p.renew[0].shared_blob, "0x4", "one unit: the cheapest");
        assert_eq!(p.renew[1].shared_blob, "0x3");
        assert_eq!(p.skipped.len(), 3);
    }

    #[test]
    fn a_free_price_or_uncertified_blob() {
        let free = Market {
            storage_price: 0,
            ..market()
        };
        let p = plan(&[("0x1".to_owned(), blob(11, 0, 1))], free, &config());
        assert_eq!(p.renew[0].epochs, 3);
        assert_eq!(p.renew[0].cost, 0);
        let mut b = blob(11, 1_000, 1);
        b.certified = false;
        assert_eq!(
            plan(&[("0x1".to_owned(), b)], market(), &config()),
            Plan::default()
        );
    }

    #[test]
    fn which_command_failed() {
        let abort = |command| TxStatus::MoveAbort {
            package: Address::ZERO,
            module: "m".into(),
            function: None,
            code: 1,
            command,
        };
        assert_eq!(failed_extension(&abort(Some(0)), 3), None, "voting_end");
        assert_eq!(failed_extension(&abort(Some(2)), 3), Some(1));
        assert_eq!(failed_extension(&abort(Some(9)), 3), None);
        assert_eq!(failed_extension(&abort(None), 3), None);
        assert_eq!(failed_extension(&TxStatus::Success, 3), None);
    }

    #[test]
    fn config_bounds() {
        assert!(RenewalConfig::default().validate().is_ok());
        for bad in [
            RenewalConfig {
                horizon_epochs: 0,
                ..Default::default()
            },
            RenewalConfig {
                extend_epochs: 0,
                ..Default::default()
            },
            RenewalConfig {
                max_per_round: MAX_PER_ROUND + 1,
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
