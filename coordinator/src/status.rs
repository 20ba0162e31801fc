//! The `/status` document: the driver's last step, the payments table per
//! reconciled epoch, the renewals (next and recent), the `epoch_sync_done`
//! round, and `alerts`, the red lines: a payment mismatch, an epoch that
//! could not be reconciled, a late node, a follower error. `floe payments`
//! reads this document.

use serde::{Deserialize, Serialize};

use crate::driver::DriverStatus;
use crate::follow::{LateNode, Payments};
use crate::reconcile::EpochReport;
use crate::renewal::{Plan, RenewalConfig, RenewalRecord};

/// The payments part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentsView {
    /// The last checkpoint the follower applied.
    pub checkpoint: Option<u64>,
    pub last_reconciled_epoch: Option<u32>,
    /// Reconciled epochs, oldest first (the last `follow::MAX_REPORTS`).
    pub epochs: Vec<EpochReport>,
    /// Epochs that could not be reconciled, and why.
    pub unreconciled: Vec<(u32, String)>,
    pub follower_error: Option<String>,
}

/// The renewals part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenewalsView {
    pub config: RenewalConfig,
    /// Shared blobs followed.
    pub tracked: usize,
    pub ignored: u64,
    /// What the next round would do with the last state seen (`None`
    /// before the first epoch change was seen).
    pub next: Option<Plan>,
    /// Renewals made by this coordinator, oldest first.
    pub recent: Vec<RenewalRecord>,
}

/// The sync part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncView {
    pub epoch: u32,
    pub started_ms: Option<u64>,
    pub done_ms: Option<u64>,
    /// Members that have not reported yet.
    pub pending: Vec<String>,
    /// Members that have not reported `sync_grace_ms` after the change
    /// started.
    pub late: Vec<LateNode>,
}

/// The whole document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusView {
    #[serde(flatten)]
    pub driver: DriverStatus,
    pub payments: PaymentsView,
    pub renewals: RenewalsView,
    pub epoch_sync: SyncView,
    /// Things an operator must look at, one line each.
    pub alerts: Vec<String>,
}

/// Builds the document.
pub fn view(
    driver: DriverStatus,
    p: &Payments,
    renewal: &RenewalConfig,
    sync_grace_ms: u64,
    now_ms: u64,
) -> StatusView {
    let s = &p.state;
    let late = s.sync.late(now_ms, sync_grace_ms, &s.names);
    let mut alerts = Vec::new();
    for r in &s.reports {
        alerts.extend(r.mismatches.iter().cloned());
    }
    for (epoch, why) in &s.unreconciled {
        alerts.push(format!("epoch {epoch} could not be reconciled: {why}"));
    }
    for n in &late {
        alerts.push(format!(
            "node {} ({}) is late with epoch_sync_done for epoch {}",
            n.node_id, n.name, n.epoch
        ));
    }
    if let Some(e) = &p.error {
        alerts.push(format!("follower: {e}"));
    }
    for r in s.renewals.iter().filter(|r| r.error.is_some()) {
        alerts.push(format!(
            "renewal of {} in epoch {} failed: {}",
            r.shared_blob,
            r.epoch,
            r.error.as_deref().unwrap_or_default()
        ));
    }
    StatusView {
        driver,
        payments: PaymentsView {
            checkpoint: s.next_checkpoint.checked_sub(1),
            last_reconciled_epoch: s.reports.last().map(|r| r.epoch),
            epochs: s.reports.clone(),
            unreconciled: s.unreconciled.clone(),
            follower_error: p.error.clone(),
        },
        renewals: RenewalsView {
            config: *renewal,
            tracked: s.shared_blobs.len(),
            ignored: s.shared_blobs_ignored,
            next: crate::renewal::preview(s, renewal),
            recent: s.renewals.clone(),
        },
        epoch_sync: SyncView {
            epoch: s.sync.epoch,
            started_ms: s.sync.started_ms,
            done_ms: s.sync.done_ms,
            pending: s.sync.pending().map(|(id, _)| id.clone()).collect(),
            late,
        },
        alerts,
    }
}
