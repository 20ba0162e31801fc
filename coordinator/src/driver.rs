//! The epoch driver: read where the epoch stands, call the step that is
//! due, sleep until the next one.
//!
//! The decision ([`decide`]) is a pure function of one chain read, so the
//! driver needs no memory of its own: after a crash it reads the chain and
//! carries on. Every step is permissionless and guarded by the contract
//! (`voting_end` once per epoch, `initiate_epoch_change` once the next
//! committee is chosen), so a step that someone else took first aborts
//! harmlessly: a fresh read that shows the step done turns our abort into
//! the outcome `lost_race`, a success ([`done_by_someone_else`]).
//! `voting_end` carries the renewal keeper's extensions
//! ([`crate::renewal`]).
//!
//! The chain's Clock is read only when a step may be due ([`ChainClock`]):
//! between reads the driver extrapolates the last value it read with its
//! own monotonic clock. A ledger that is idle seals no checkpoint (the
//! Clock advances when someone reads it), so polling the Clock every
//! `poll` would seal one checkpoint per poll for nothing. The decision to
//! call is always made on a fresh read of the chain's Clock, never on the
//! extrapolation, so skew between the two machines changes nothing.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use floe_chain::floe::Floe;
use floe_chain::floe::staking::{EpochStatus, EpochStep};
use floe_chain::keystore::KeyPair;
use floe_chain::types::TxStatus;
use serde::Serialize;

use crate::metrics::Metrics;
use crate::renewal::Keeper;

/// Longest wait after repeated failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// First wait after a failure.
pub const MIN_BACKOFF: Duration = Duration::from_secs(1);

/// A permissionless epoch-change call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    VotingEnd,
    InitiateEpochChange,
}

impl Call {
    /// The Move function's name (also the metric label).
    pub fn name(self) -> &'static str {
        match self {
            Call::VotingEnd => "voting_end",
            Call::InitiateEpochChange => "initiate_epoch_change",
        }
    }
}

/// What to do after a read of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The call is due now.
    Call(Call),
    /// Nothing is due: read again after this long.
    Wait(Duration),
}

/// The step due at `status.clock_ms`, or how long until one may be. Waits
/// are capped at `poll` so a change made by someone else (or the nodes'
/// sync reports) is seen promptly.
pub fn decide(status: &EpochStatus, poll: Duration) -> Decision {
    let (call, at_ms) = match status.next_step() {
        EpochStep::VotingEnd { at_ms } => (Call::VotingEnd, at_ms),
        EpochStep::InitiateEpochChange { at_ms } => (Call::InitiateEpochChange, at_ms),
        EpochStep::AwaitSync { .. } => return Decision::Wait(poll),
    };
    if status.clock_ms >= at_ms {
        Decision::Call(call)
    } else {
        Decision::Wait(Duration::from_millis(at_ms - status.clock_ms).min(poll))
    }
}

/// Whether the step `call`, due at the read `before`, has been made by
/// someone else according to the later read `after`: the epoch moved on,
/// or (for `voting_end`) the next committee is selected.
pub fn done_by_someone_else(call: Call, before: &EpochStatus, after: &EpochStatus) -> bool {
    use floe_core::move_types::EpochState;
    if after.epoch > before.epoch {
        return true;
    }
    after.epoch == before.epoch
        && call == Call::VotingEnd
        && matches!(after.state, EpochState::NextParamsSelected(_))
}

/// Exponential backoff with up to 25% jitter: `MIN_BACKOFF * 2^(n-1)`
/// capped at [`MAX_BACKOFF`].
pub fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    let base = MIN_BACKOFF.saturating_mul(1 << exp).min(MAX_BACKOFF);
    let jitter = rand::random::<f64>() * 0.25;
    base.mul_f64(1.0 + jitter).min(MAX_BACKOFF)
}

/// Longest time between two reads of the chain's Clock while no step is
/// due (the extrapolation is re-anchored this often).
pub const CLOCK_RESYNC: Duration = Duration::from_secs(30);

/// The chain's Clock as last read, and when (by the local monotonic clock).
#[derive(Debug, Default)]
pub struct ChainClock {
    last: Option<(u64, Instant)>,
}

impl ChainClock {
    /// The chain time now, extrapolated from the last read, if it is
    /// recent enough to trust.
    pub fn estimate(&self, now: Instant) -> Option<u64> {
        let (read_ms, at) = self.last?;
        let age = now.saturating_duration_since(at);
        (age < CLOCK_RESYNC).then(|| read_ms.saturating_add(age.as_millis() as u64))
    }

    /// Records a read of the chain's Clock.
    pub fn observe(&mut self, clock_ms: u64, now: Instant) {
        self.last = Some((clock_ms, now));
    }
}

/// Whether the chain's Clock must be read before deciding: always unless
/// an estimate exists and says no timed step is due yet.
pub fn needs_clock_read(status: &EpochStatus, estimate: Option<u64>) -> bool {
    let Some(estimate) = estimate else {
        return true;
    };
    match status.next_step() {
        EpochStep::AwaitSync { .. } => false,
        EpochStep::VotingEnd { at_ms } | EpochStep::InitiateEpochChange { at_ms } => {
            estimate >= at_ms
        }
    }
}

/// What the driver last saw and did, served at `/status`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DriverStatus {
    /// The epoch at the last successful read.
    pub epoch: Option<u32>,
    /// The epoch state, e.g. `EpochChangeDone(1700000000000)`.
    pub state: Option<String>,
    /// The next step and from when (ms since the Unix epoch).
    pub next_step: Option<String>,
    /// When the current epoch is expected to end (ms).
    pub expected_epoch_end_ms: Option<u64>,
    /// The chain clock (ms): the last read, extrapolated between reads.
    pub clock_ms: Option<u64>,
    /// The last call and its outcome.
    pub last_call: Option<String>,
    /// The last error (read or call), cleared by a success.
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
    /// Steps another caller made first (our call aborted harmlessly).
    pub lost_races: u64,
    /// Open and passed parameter proposals (see `governance`). Written
    /// for `/status` only: readers of the status (`floe payments`) do not
    /// parse them back.
    #[serde(skip_deserializing)]
    pub proposals: crate::governance::Proposals,
    /// Why the last read of the proposals failed, if it did.
    pub governance_error: Option<String>,
    /// This coordinator's `process_subsidies` calls, oldest first (see
    /// `subsidies`).
    pub subsidies: Vec<crate::subsidies::SubsidyRecord>,
    /// Why the last subsidies step failed, if it did.
    pub subsidies_error: Option<String>,
}

/// Shared between the driver and the HTTP endpoint.
pub type SharedStatus = Arc<RwLock<DriverStatus>>;

pub(crate) fn update(status: &SharedStatus, f: impl FnOnce(&mut DriverStatus)) {
    let mut guard = match status.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    f(&mut guard);
}

/// Runs until `shutdown` resolves.
pub async fn run(
    floe: Floe,
    key: KeyPair,
    poll: Duration,
    metrics: Metrics,
    status: SharedStatus,
    keeper: Keeper,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut failures: u32 = 0;
    let mut subsidies = crate::subsidies::SubsidyState::default();
    let mut clock = ChainClock::default();
    loop {
        let wait = match step(
            &floe,
            &key,
            poll,
            &metrics,
            &status,
            &keeper,
            &mut subsidies,
            &mut clock,
        )
        .await
        {
            Ok(Some(wait)) => {
                failures = 0;
                wait
            }
            Ok(None) => {
                failures = 0;
                Duration::ZERO
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let wait = backoff(failures);
                tracing::warn!(%error, failures, retry_in_ms = wait.as_millis() as u64, "epoch step failed");
                update(&status, |s| {
                    s.last_error = Some(error);
                    s.failures = failures;
                });
                wait
            }
        };
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One read and, if due, one call. `Ok(Some(wait))`: nothing was due;
/// `Ok(None)`: a call succeeded, read again at once; `Err`: the read or the
/// call failed (the message says which and why).
#[allow(clippy::too_many_arguments)] // the driver's loop state, passed through
async fn step(
    floe: &Floe,
    key: &KeyPair,
    poll: Duration,
    metrics: &Metrics,
    status: &SharedStatus,
    keeper: &Keeper,
    subsidies: &mut crate::subsidies::SubsidyState,
    clock: &mut ChainClock,
) -> Result<Option<Duration>, String> {
    let state = floe
        .staking_state()
        .await
        .map_err(|e| format!("reading the epoch state: {e}"))?;
    let estimate = clock.estimate(Instant::now());
    let mut epoch = EpochStatus {
        epoch: state.epoch,
        state: state.epoch_state,
        epoch_duration_ms: state.epoch_duration,
        first_epoch_start_ms: state.first_epoch_start,
        clock_ms: estimate.unwrap_or(0),
    };
    if needs_clock_read(&epoch, estimate) {
        epoch.clock_ms = floe
            .clock_ms()
            .await
            .map_err(|e| format!("reading the chain's clock: {e}"))?;
        clock.observe(epoch.clock_ms, Instant::now());
    }
    metrics.epoch.set(i64::from(epoch.epoch));
    let decision = decide(&epoch, poll);
    crate::governance::refresh(floe, status).await;
    update(status, |s| {
        s.epoch = Some(epoch.epoch);
        s.state = Some(format!("{:?}", epoch.state));
        s.next_step = Some(format!("{:?}", epoch.next_step()));
        s.expected_epoch_end_ms = epoch.expected_end_ms();
        s.clock_ms = Some(epoch.clock_ms);
    });
    let call = match decision {
        Decision::Wait(wait) => {
            // Between epoch steps: this epoch's subsidies, once, in their
            // own transaction (the epoch number moves at the change).
            crate::subsidies::maybe_process(floe, key, epoch.epoch, subsidies, status).await;
            return Ok(Some(wait));
        }
        Decision::Call(call) => call,
    };
    tracing::info!(epoch = epoch.epoch, call = call.name(), "calling");
    let result = match call {
        Call::VotingEnd => keeper.voting_end(floe, key, epoch.epoch).await,
        Call::InitiateEpochChange => floe.initiate_epoch_change(key).await,
    };
    // An abort because someone else made the step is their success.
    let lost_race = match &result {
        Ok(tx) if !tx.status.is_success() => floe
            .epoch_status()
            .await
            .is_ok_and(|after| done_by_someone_else(call, &epoch, &after)),
        _ => false,
    };
    let outcome = match &result {
        Ok(tx) if tx.status.is_success() => "ok",
        Ok(_) if lost_race => "lost_race",
        Ok(_) => "aborted",
        Err(_) => "error",
    };
    metrics
        .calls
        .with_label_values(&[call.name(), outcome])
        .inc();
    match result {
        Ok(tx) if tx.status.is_success() => {
            tracing::info!(epoch = epoch.epoch, call = call.name(), digest = %tx.digest, "done");
            update(status, |s| {
                s.last_call = Some(format!("{} ok in epoch {}", call.name(), epoch.epoch));
                s.last_error = None;
                s.failures = 0;
            });
            Ok(None)
        }
        Ok(tx) if lost_race => {
            tracing::info!(epoch = epoch.epoch, call = call.name(), digest = %tx.digest, "someone else made this step first");
            update(status, |s| {
                s.last_call = Some(format!(
                    "{} in epoch {}: made by someone else first",
                    call.name(),
                    epoch.epoch
                ));
                s.last_error = None;
                s.failures = 0;
                s.lost_races = s.lost_races.saturating_add(1);
            });
            Ok(None)
        }
        Ok(tx) => Err(format!(
            "{} in epoch {} failed: {}",
            call.name(),
            epoch.epoch,
            describe(&tx.status)
        )),
        Err(e) => Err(format!("{} in epoch {}: {e}", call.name(), epoch.epoch)),
    }
}

/// A failed call's status in words, with the name of a known floe abort
/// and a hint for the one an operator can fix (no stake at all).
fn describe(status: &TxStatus) -> String {
    let text = status.to_string();
    match status {
        TxStatus::MoveAbort { module, code, .. } if module == "staking_inner" && *code == 3 => {
            format!("{text}: no WAL is staked with any storage node; stake with `floe stake`")
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_core::move_types::EpochState;

    #[test]
    fn the_clock_is_read_when_no_estimate_or_a_step_may_be_due() {
        let t0 = Instant::now();
        let mut clock = ChainClock::default();
        assert_eq!(clock.estimate(t0), None);
        // Voting ends at 55_000 in epoch 1 started at 50_000.
        let s = status(1, EpochState::EpochChangeDone(50_000), 0);
        assert!(needs_clock_read(&s, None));
        clock.observe(51_000, t0);
        let later = t0 + Duration::from_millis(3_000);
        assert_eq!(clock.estimate(later), Some(54_000));
        assert!(!needs_clock_read(&s, clock.estimate(later)));
        let due = t0 + Duration::from_millis(4_000);
        assert!(needs_clock_read(&s, clock.estimate(due)));
        // Waiting for nodes needs no time at all; a stale estimate is none.
        let sync = status(1, EpochState::EpochChangeSync(3), 0);
        assert!(!needs_clock_read(&sync, clock.estimate(later)));
        assert_eq!(clock.estimate(t0 + CLOCK_RESYNC), None);
    }

    fn status(epoch: u32, state: EpochState, clock_ms: u64) -> EpochStatus {
        EpochStatus {
            epoch,
            state,
            epoch_duration_ms: 10_000,
            first_epoch_start_ms: 50_000,
            clock_ms,
        }
    }

    const POLL: Duration = Duration::from_secs(1);

    #[test]
    fn epoch_zero_ends_at_first_epoch_start() {
        let done = EpochState::EpochChangeDone(1_000);
        assert_eq!(
            decide(&status(0, done, 49_999), POLL),
            Decision::Wait(Duration::from_millis(1))
        );
        assert_eq!(
            decide(&status(0, done, 50_000), POLL),
            Decision::Call(Call::VotingEnd)
        );
        let selected = EpochState::NextParamsSelected(1_000);
        assert_eq!(
            decide(&status(0, selected, 50_001), POLL),
            Decision::Call(Call::InitiateEpochChange)
        );
    }

    #[test]
    fn later_epochs_vote_at_half_and_change_at_the_end() {
        let done = EpochState::EpochChangeDone(100_000);
        assert_eq!(
            decide(&status(4, done, 104_000), POLL),
            Decision::Wait(POLL)
        );
        assert_eq!(
            decide(&status(4, done, 104_800), POLL),
            Decision::Wait(Duration::from_millis(200))
        );
        assert_eq!(
            decide(&status(4, done, 105_000), POLL),
            Decision::Call(Call::VotingEnd)
        );
        let selected = EpochState::NextParamsSelected(100_000);
        assert_eq!(
            decide(&status(4, selected, 109_999), POLL),
            Decision::Wait(Duration::from_millis(1))
        );
        assert_eq!(
            decide(&status(4, selected, 110_000), POLL),
            Decision::Call(Call::InitiateEpochChange)
        );
    }

    #[test]
    fn nothing_to_call_while_nodes_sync() {
        let syncing = EpochState::EpochChangeSync(3);
        assert_eq!(
            decide(&status(5, syncing, u64::MAX), POLL),
            Decision::Wait(POLL)
        );
    }

    #[test]
    fn a_step_made_by_someone_else_is_recognised() {
        let done = status(4, EpochState::EpochChangeDone(100_000), 105_000);
        let selected = status(4, EpochState::NextParamsSelected(100_000), 105_100);
        let next = status(5, EpochState::EpochChangeSync(0), 110_100);
        assert!(done_by_someone_else(Call::VotingEnd, &done, &selected));
        assert!(done_by_someone_else(Call::VotingEnd, &done, &next));
        assert!(!done_by_someone_else(Call::VotingEnd, &done, &done));
        assert!(!done_by_someone_else(
            Call::InitiateEpochChange,
            &selected,
            &selected
        ));
        assert!(done_by_someone_else(
            Call::InitiateEpochChange,
            &selected,
            &next
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for failures in 1..40 {
            let wait = backoff(failures);
            let base = MIN_BACKOFF
                .saturating_mul(1 << failures.saturating_sub(1).min(16))
                .min(MAX_BACKOFF);
            assert!(wait >= base && wait <= MAX_BACKOFF, "{failures}: {wait:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn a_wait_never_exceeds_poll_and_a_call_is_never_early(
            epoch in 0u32..5,
            start in 0u64..1_000_000,
            clock in 0u64..2_000_000,
            selected: bool,
        ) {
            let state = if selected {
                EpochState::NextParamsSelected(start)
            } else {
                EpochState::EpochChangeDone(start)
            };
            let s = status(epoch, state, clock);
            match decide(&s, POLL) {
                Decision::Wait(w) => proptest::prop_assert!(w <= POLL && !w.is_zero()),
                Decision::Call(_) => {
                    let at = match s.next_step() {
                        EpochStep::VotingEnd { at_ms } | EpochStep::InitiateEpochChange { at_ms } => at_ms,
                        EpochStep::AwaitSync { .. } => u64::MAX,
                    };
                    proptest::prop_assert!(clock >= at);
                }
            }
        }
    }
}
