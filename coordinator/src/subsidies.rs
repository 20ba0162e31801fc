//! Subsidies on schedule: once per epoch, after the epoch change, the
//! driver calls `subsidies::process_subsidies` in a transaction of its own
//! (never inside `initiate_epoch_change`, whose effects the payment
//! reconciliation reads as that epoch's and nothing else's), but only when
//! the pool holds funds and a governed rate is non-zero: with nothing to
//! pay the call would only cost gas.
//!
//! The call is idempotent within an epoch (the contract pays a committee
//! once), so another coordinator processing first is not a failure: our
//! call then pays nothing and is recorded as made by someone else. What it
//! did, with its gas cost, is kept for `/status` (the last
//! [`MAX_RECORDS`]).

use floe_chain::KeyPair;
use floe_chain::floe::Floe;
use floe_chain::floe::votes::{GovernanceIds, subsidies_paid};
use serde::{Deserialize, Serialize};

use crate::driver::{SharedStatus, update};

/// Records kept for `/status`.
pub const MAX_RECORDS: usize = 20;

/// One `process_subsidies` call by this coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidyRecord {
    pub epoch: u32,
    /// The transaction digest.
    pub digest: String,
    /// `paid`, `made by someone else first` or `aborted: ...`.
    pub outcome: String,
    /// FROST paid into the committee's commissions.
    pub node_subsidies: u64,
    /// FROST added to epochs' rewards.
    pub future_subsidies: u64,
    /// FROST left in the pool.
    pub pool_balance: u64,
    /// Net gas of the transaction (MIST).
    pub gas_mist: i64,
}

/// What the driver remembers between steps.
#[derive(Debug, Default)]
pub struct SubsidyState {
    ids: Option<GovernanceIds>,
    /// The last epoch this coordinator handled (called, or found its
    /// committee paid).
    handled_epoch: Option<u32>,
    /// The last read showed this epoch's committee already paid.
    paid_elsewhere: bool,
}

/// Processes `epoch`'s subsidies if not done yet, due and funded. Errors
/// are reported in the status and retried at the next step; they never
/// stop the epoch driver.
pub async fn maybe_process(
    floe: &Floe,
    key: &KeyPair,
    epoch: u32,
    state: &mut SubsidyState,
    status: &SharedStatus,
) {
    if state.handled_epoch == Some(epoch) {
        return;
    }
    match process(floe, key, epoch, state).await {
        Ok(record) => {
            // Nothing due yet (empty pool, no rate): look again next step,
            // so a pool funded mid-epoch is paid out in this epoch.
            if record.is_some() || state.paid_elsewhere {
                state.handled_epoch = Some(epoch);
            }
            update(status, |s| {
                s.subsidies_error = None;
                if let Some(r) = record {
                    s.subsidies.push(r);
                    let excess = s.subsidies.len().saturating_sub(MAX_RECORDS);
                    s.subsidies.drain(..excess);
                }
            });
        }
        Err(e) => {
            tracing::warn!(epoch, error = %e, "processing subsidies");
            update(status, |s| s.subsidies_error = Some(e));
        }
    }
}

async fn process(
    floe: &Floe,
    key: &KeyPair,
    epoch: u32,
    state: &mut SubsidyState,
) -> Result<Option<SubsidyRecord>, String> {
    let ids = match state.ids {
        Some(ids) => ids,
        None => {
            let ids = floe
                .governance_ids()
                .await
                .map_err(|e| format!("finding the subsidies pool: {e}"))?;
            state.ids = Some(ids);
            ids
        }
    };
    let info = floe
        .subsidies_info(&ids)
        .await
        .map_err(|e| format!("reading the subsidies pool: {e}"))?;
    let rates = info.base_subsidy > 0 || info.subsidy_per_shard > 0 || info.system_subsidy_rate > 0;
    state.paid_elsewhere = info.last_paid_epoch == Some(epoch);
    if info.pool_balance == 0 || !rates || state.paid_elsewhere {
        return Ok(None);
    }
    let tx = floe
        .process_subsidies(key, &ids)
        .await
        .map_err(|e| format!("process_subsidies in epoch {epoch}: {e}"))?;
    let gas_mist = i64::try_from(tx.net_gas_used()).unwrap_or(i64::MAX);
    if !tx.status.is_success() {
        return Err(format!(
            "process_subsidies in epoch {epoch} failed: {} (transaction {})",
            tx.status, tx.digest
        ));
    }
    let (outcome, node, future, pool) = match subsidies_paid(floe, &tx) {
        Some(p) if p.node_subsidies > 0 => {
            ("paid", p.node_subsidies, p.future_subsidies, p.pool_balance)
        }
        Some(p) => (
            "made by someone else first (paid new rewards only)",
            0,
            p.future_subsidies,
            p.pool_balance,
        ),
        None => ("made by someone else first", 0, 0, info.pool_balance),
    };
    tracing::info!(epoch, node, future, digest = %tx.digest, outcome, "subsidies processed");
    Ok(Some(SubsidyRecord {
        epoch,
        digest: tx.digest.to_string(),
        outcome: outcome.to_owned(),
        node_subsidies: node,
        future_subsidies: future,
        pool_balance: pool,
        gas_mist,
    }))
}
