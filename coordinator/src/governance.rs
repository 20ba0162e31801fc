//! Governance in the coordinator's status: the open and passed parameter
//! proposals with their tallies, quorum and deadline, read once per
//! driver step so `/status` shows what the next `initiate_epoch_change`
//! will apply or expire.
//!
//! Applying a passed proposal needs no transaction of its own: the
//! contract applies it inside `initiate_epoch_change`, which the driver
//! already calls at the end of each epoch (its `ProposalApplied` and
//! `ProposalExpired` events are in that transaction).

use floe_chain::floe::Floe;
use floe_chain::floe::governance::ProposalStatus;

use crate::driver::{SharedStatus, update};

/// Reads the proposals into `status`; a failed read keeps the previous
/// list and is reported in `governance_error`, never failing the step.
pub async fn refresh(floe: &Floe, status: &SharedStatus) {
    match floe.proposals().await {
        Ok(proposals) => update(status, |s| {
            s.proposals = proposals;
            s.governance_error = None;
        }),
        Err(e) => {
            tracing::warn!(error = %e, "reading the governance proposals");
            update(status, |s| {
                s.governance_error = Some(format!("reading the proposals: {e}"));
            });
        }
    }
}

/// The proposals as `/status` lists them.
pub type Proposals = Vec<ProposalStatus>;
