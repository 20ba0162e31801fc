//! The coordinator's checkpoint follower: reconciles every epoch change,
//! keeps the set of shared blobs the renewal keeper looks after, and
//! tracks which nodes of the new committee reported `epoch_sync_done`.
//!
//! Why a follower: no event announces a shared blob (`shared_blob::new`
//! only shares an object) and the ledger API has no "objects of a type"
//! query, so the only complete source is the chain's history. The
//! follower reads the verified checkpoint stream from a cursor; with a
//! `data_dir` it keeps that cursor and what it learnt in
//! `DATA_DIR/state.json` (written atomically), so a restart resumes where
//! it stopped and a coordinator that was down during an epoch change
//! still reconciles it: the checkpoint of the change carries every object
//! the change touched, before and after, so nothing needs to be read at a
//! historical version. Without a `data_dir` it replays from the genesis
//! checkpoint at each start (cheap on a devnet, slow on a long chain).
//! If the chain no longer serves an old checkpoint (a pruning full node),
//! the stream fails and the error is shown in `/status`: epochs the
//! follower could not read are not reported as reconciled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use floe_chain::floe::Floe;
use floe_chain::sui_sdk_types::{Address, Identifier, StructTag, TypeTag};
use floe_chain::{Checkpoint, StreamConfig};
use floe_core::move_types::{DynamicField, ObjectId, VecMap};
use serde::{Deserialize, Serialize};

use crate::facts::{CheckpointFacts, SharedBlobSeen, checkpoint_facts};
use crate::metrics::Metrics;
use crate::reconcile::{self, EpochReport};
use crate::renewal::RenewalRecord;

/// Epoch reports kept (the oldest is dropped first).
pub const MAX_REPORTS: usize = 32;
/// Renewal records kept.
pub const MAX_RENEWALS: usize = 64;
/// Unreconcilable epochs remembered.
pub const MAX_UNRECONCILED: usize = 16;
/// The state file's name in the data dir.
pub const STATE_FILE: &str = "state.json";
/// Largest state file read back (it holds bounded lists).
const MAX_STATE_BYTES: u64 = 64 << 20;

/// One epoch change's `epoch_sync_done` round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRound {
    /// The epoch being synced into.
    pub epoch: u32,
    /// When the change started and when a quorum finished (checkpoint
    /// times, ms).
    pub started_ms: Option<u64>,
    pub done_ms: Option<u64>,
    /// The new committee: node id and shards.
    pub committee: Vec<(String, u16)>,
    /// Nodes that reported.
    pub synced: BTreeSet<String>,
}

/// A node that has not reported `epoch_sync_done` in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateNode {
    pub node_id: String,
    pub name: String,
    pub shards: u16,
    pub epoch: u32,
}

impl SyncRound {
    /// Members that have not reported yet.
    pub fn pending(&self) -> impl Iterator<Item = &(String, u16)> {
        self.committee
            .iter()
            .filter(|(id, _)| !self.synced.contains(id))
    }

    /// Members that are late at `now_ms`: the change started more than
    /// `grace_ms` ago and they have not reported. (Reaching quorum without
    /// a node is not enough: the last nodes normally report a moment
    /// after the quorum.)
    pub fn late(
        &self,
        now_ms: u64,
        grace_ms: u64,
        names: &BTreeMap<String, String>,
    ) -> Vec<LateNode> {
        let overdue = self
            .started_ms
            .is_some_and(|s| now_ms >= s.saturating_add(grace_ms));
        if !overdue {
            return Vec::new();
        }
        self.pending()
            .map(|(id, shards)| LateNode {
                node_id: id.clone(),
                name: names.get(id).cloned().unwrap_or_default(),
                shards: *shards,
                epoch: self.epoch,
            })
            .collect()
    }
}

/// What the follower keeps across restarts (all lists bounded).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PaymentsState {
    /// The next checkpoint to read.
    pub next_checkpoint: u64,
    /// Reconciled epochs, oldest first.
    pub reports: Vec<EpochReport>,
    /// Epochs that could not be reconciled, and why.
    pub unreconciled: Vec<(u32, String)>,
    /// Shared blobs by object id, last state seen.
    pub shared_blobs: BTreeMap<String, SharedBlobSeen>,
    /// Shared blobs ignored because `max_shared_blobs` was reached.
    pub shared_blobs_ignored: u64,
    /// Node names by node id.
    pub names: BTreeMap<String, String>,
    /// The current `epoch_sync_done` round.
    pub sync: SyncRound,
    /// Storage price per unit and ring length, from the last system state
    /// an epoch change wrote (for the renewal preview).
    pub storage_price: Option<u64>,
    pub max_epochs_ahead: Option<u32>,
    /// The epoch at the last change seen.
    pub epoch: Option<u32>,
    /// Renewals made by this coordinator, oldest first.
    pub renewals: Vec<RenewalRecord>,
}

impl PaymentsState {
    /// Folds one checkpoint's facts in (idempotent: replaying a checkpoint
    /// changes nothing). Reports come separately (they need a read).
    pub fn apply(&mut self, facts: &CheckpointFacts, max_shared_blobs: usize) {
        for (id, seen) in &facts.shared_blobs {
            if self.shared_blobs.contains_key(id) || self.shared_blobs.len() < max_shared_blobs {
                self.shared_blobs.insert(id.clone(), seen.clone());
            } else {
                self.shared_blobs_ignored = self.shared_blobs_ignored.saturating_add(1);
            }
        }
        for change in &facts.epoch_changes {
            for (id, name) in &change.names {
                self.names.insert(id.clone(), name.clone());
            }
            if change.new_epoch > self.sync.epoch || self.sync.committee.is_empty() {
                self.sync = SyncRound {
                    epoch: change.new_epoch,
                    started_ms: change.origin.timestamp_ms,
                    done_ms: None,
                    committee: change.committee.clone(),
                    synced: BTreeSet::new(),
                };
            }
            self.epoch = Some(self.epoch.unwrap_or(0).max(change.new_epoch));
        }
        for (node, epoch) in &facts.sync_done {
            if *epoch == self.sync.epoch {
                self.sync.synced.insert(node.clone());
            }
        }
        for (epoch, at) in &facts.changes_done {
            if *epoch == self.sync.epoch && self.sync.done_ms.is_none() {
                self.sync.done_ms = at.or(Some(0));
            }
        }
        if let Some((price, ahead)) = facts.system_prices {
            self.storage_price = Some(price);
            self.max_epochs_ahead = Some(ahead);
        }
    }

    /// Records a report (replacing one for the same epoch).
    pub fn add_report(&mut self, report: EpochReport) {
        self.unreconciled.retain(|(e, _)| *e != report.epoch);
        self.reports.retain(|r| r.epoch != report.epoch);
        self.reports.push(report);
        self.reports.sort_by_key(|r| r.epoch);
        let excess = self.reports.len().saturating_sub(MAX_REPORTS);
        self.reports.drain(..excess);
    }

    /// Records an epoch that could not be reconciled.
    pub fn add_unreconciled(&mut self, epoch: u32, why: String) {
        self.unreconciled.retain(|(e, _)| *e != epoch);
        self.unreconciled.push((epoch, why));
        let excess = self.unreconciled.len().saturating_sub(MAX_UNRECONCILED);
        self.unreconciled.drain(..excess);
    }

    /// Records a renewal.
    pub fn add_renewal(&mut self, record: RenewalRecord) {
        self.renewals.push(record);
        let excess = self.renewals.len().saturating_sub(MAX_RENEWALS);
        self.renewals.drain(..excess);
    }
}

/// The follower's state and its last error, shared with `/status` and the
/// renewal keeper.
#[derive(Debug, Clone, Default)]
pub struct Payments {
    pub state: PaymentsState,
    /// The last stream or read error, cleared by progress.
    pub error: Option<String>,
    /// When the follower last applied a checkpoint (its timestamp, ms).
    pub last_checkpoint_ms: Option<u64>,
}

pub type SharedPayments = Arc<RwLock<Payments>>;

/// Runs `f` on the shared state, whatever a panicking writer left.
pub fn with<T>(shared: &SharedPayments, f: impl FnOnce(&mut Payments) -> T) -> T {
    let mut guard = match shared.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    f(&mut guard)
}

/// Settings of the follower.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    pub data_dir: Option<PathBuf>,
    pub max_shared_blobs: usize,
    pub sync_grace_ms: u64,
}

/// Loads the state file, if there is one.
pub fn load(data_dir: &std::path::Path) -> Result<PaymentsState, String> {
    let path = data_dir.join(STATE_FILE);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PaymentsState::default()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
        Ok(m) if m.len() > MAX_STATE_BYTES => {
            return Err(format!(
                "{} is larger than {MAX_STATE_BYTES} bytes",
                path.display()
            ));
        }
        Ok(_) => {}
    }
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the state file atomically (temporary file, fsync, rename).
pub fn save(data_dir: &std::path::Path, state: &PaymentsState) -> Result<(), String> {
    use std::io::Write;
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let path = data_dir.join(STATE_FILE);
    let tmp = data_dir.join(format!("{STATE_FILE}.tmp"));
    let bytes = serde_json::to_vec(state).map_err(|e| e.to_string())?;
    let mut file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The deny-list sizes (`VecMap<ID, u64>`) under `parent`, read at their
/// latest version: floe has no call that changes them yet, so the latest
/// is the one every epoch change read. When deny lists become writable
/// this must read the version the change saw.
async fn deny_list_sizes(floe: &Floe, parent: Address) -> Result<BTreeMap<String, u64>, String> {
    let key_type: TypeTag = StructTag::new(
        floe.ids.floe_package,
        Identifier::from_static("extended_field"),
        Identifier::from_static("Key"),
        vec![],
    )
    .into();
    // `Key {}` is one `dummy_field: bool` in BCS.
    let field_id = parent.derive_dynamic_child_id(&key_type, &[0u8]);
    let (_, field): (_, DynamicField<bool, VecMap<ObjectId, u64>>) = floe
        .client
        .get_object_as(field_id)
        .await
        .map_err(|e| format!("reading the deny-list sizes: {e}"))?;
    Ok(field
        .value
        .contents
        .into_iter()
        .map(|e| (e.key.to_string(), e.value))
        .collect())
}

/// Reconciles the epoch changes of `facts` (one read each, for the deny
/// lists) and records the reports, with logs and metrics.
async fn reconcile_changes(
    floe: &Floe,
    facts: &CheckpointFacts,
    shared: &SharedPayments,
    metrics: &Metrics,
) {
    for change in &facts.epoch_changes {
        let ended = change.new_epoch.saturating_sub(1);
        let result = match (&change.payments, change.deny_list_parent) {
            (Err(e), _) => Err(e.clone()),
            (Ok(_), None) => Err("no system state in the epoch change".to_owned()),
            (Ok((inputs, observed)), Some(parent)) => match deny_list_sizes(floe, parent).await {
                Err(e) => Err(e),
                Ok(deny) => {
                    let mut inputs = inputs.clone();
                    for m in &mut inputs.members {
                        m.deny_list_size = deny.get(&m.node_id).copied().unwrap_or(0);
                    }
                    reconcile::reconcile(&inputs, observed, change.origin.clone())
                        .map_err(|e| e.to_string())
                }
            },
        };
        match result {
            Ok(report) => {
                metrics.reconciled_epoch.set(i64::from(report.epoch));
                if report.ok {
                    metrics.payment_mismatch.set(0);
                    tracing::info!(
                        epoch = report.epoch,
                        bucket = report.bucket,
                        burn = report.burn,
                        carry_over = report.carry_over,
                        nodes = report.nodes.len(),
                        "epoch payments reconciled"
                    );
                } else {
                    metrics.payment_mismatch.set(1);
                    metrics
                        .payment_mismatches
                        .inc_by(report.mismatches.len() as u64);
                    for m in &report.mismatches {
                        tracing::error!(epoch = report.epoch, tx = %report.tx_digest, "payment mismatch: {m}");
                    }
                }
                with(shared, |p| p.state.add_report(report));
            }
            Err(why) => {
                metrics.unreconciled.inc();
                tracing::error!(epoch = ended, tx = %change.origin.tx_digest, "cannot reconcile the epoch's payments: {why}");
                with(shared, |p| p.state.add_unreconciled(ended, why));
            }
        }
    }
}

/// Sets the late-sync metrics from the shared state at `now_ms`.
pub fn update_sync_metrics(shared: &SharedPayments, metrics: &Metrics, grace_ms: u64, now_ms: u64) {
    let late = with(shared, |p| {
        p.state.sync.late(now_ms, grace_ms, &p.state.names)
    });
    metrics.sync_late.reset();
    for node in &late {
        metrics
            .sync_late
            .with_label_values(&[node.node_id.as_str(), node.name.as_str()])
            .set(1);
    }
    metrics.sync_late_nodes.set(late.len() as i64);
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Applies one checkpoint: facts, reconciliation, state. A floe event
/// that does not decode is the error, and nothing of the checkpoint is
/// applied (the cursor stays before it).
async fn apply(
    floe: &Floe,
    checkpoint: &Checkpoint,
    shared: &SharedPayments,
    metrics: &Metrics,
    config: &FollowConfig,
) -> Result<bool, floe_chain::EventDecodeError> {
    let facts = checkpoint_facts(&floe.ids, checkpoint)?;
    let interesting = !facts.epoch_changes.is_empty()
        || !facts.shared_blobs.is_empty()
        || !facts.sync_done.is_empty()
        || !facts.changes_done.is_empty();
    // Shared blobs and the sync round first, so a report's epoch change
    // also opens its sync round even if the deny-list read fails.
    with(shared, |p| {
        p.state.apply(&facts, config.max_shared_blobs);
        p.state.next_checkpoint = checkpoint.sequence_number + 1;
        p.last_checkpoint_ms = checkpoint.timestamp_ms;
        p.error = None;
    });
    reconcile_changes(floe, &facts, shared, metrics).await;
    metrics.checkpoint.set(checkpoint.sequence_number as i64);
    Ok(interesting)
}

/// Follows the chain until `shutdown` resolves.
pub async fn run(
    floe: Floe,
    shared: SharedPayments,
    metrics: Metrics,
    config: FollowConfig,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut dirty = false;
    let mut last_save = tokio::time::Instant::now();
    loop {
        let start = with(&shared, |p| p.state.next_checkpoint);
        let mut stream = floe
            .client
            .checkpoint_stream(start, StreamConfig::default());
        loop {
            tokio::select! {
                _ = &mut shutdown => {
                    persist(&shared, &config);
                    return;
                }
                _ = tick.tick() => {
                    update_sync_metrics(&shared, &metrics, config.sync_grace_ms, now_ms());
                    if dirty || last_save.elapsed() > Duration::from_secs(10) {
                        persist(&shared, &config);
                        dirty = false;
                        last_save = tokio::time::Instant::now();
                    }
                }
                item = stream.next() => match item {
                    Some(Ok(checkpoint)) => {
                        match apply(&floe, &checkpoint, &shared, &metrics, &config).await {
                            Ok(interesting) => dirty |= interesting,
                            Err(e) => {
                                tracing::error!(error = %e, "a floe event does not decode; the follower stops before it and retries");
                                with(&shared, |p| p.error = Some(format!("event: {e}")));
                                break;
                            }
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "checkpoint stream failed; restarting it");
                        with(&shared, |p| p.error = Some(format!("checkpoint stream: {e}")));
                        break;
                    }
                    None => break,
                }
            }
        }
        tokio::select! {
            _ = &mut shutdown => {
                persist(&shared, &config);
                return;
            }
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

fn persist(shared: &SharedPayments, config: &FollowConfig) {
    let Some(dir) = &config.data_dir else {
        return;
    };
    let state = with(shared, |p| p.state.clone());
    if let Err(e) = save(dir, &state) {
        tracing::warn!(error = %e, "saving the coordinator state");
        with(shared, |p| p.error = Some(format!("saving state: {e}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round() -> SyncRound {
        SyncRound {
            epoch: 7,
            started_ms: Some(1_000),
            done_ms: None,
            committee: vec![("0xa".into(), 3), ("0xb".into(), 4), ("0xc".into(), 5)],
            synced: ["0xb".to_owned()].into_iter().collect(),
        }
    }

    #[test]
    fn late_nodes_are_the_missing_ones_after_grace() {
        let names = BTreeMap::from([("0xa".to_owned(), "alpha".to_owned())]);
        let r = round();
        assert!(r.late(1_500, 1_000, &names).is_empty(), "within grace");
        let late = r.late(2_000, 1_000, &names);
        assert_eq!(
            late.iter().map(|n| n.node_id.as_str()).collect::<Vec<_>>(),
            ["0xa", "0xc"]
        );
        assert_eq!(late[0].name, "alpha");
        let mut done = round();
        done.done_ms = Some(1_200);
        assert!(
            done.late(1_300, 1_000, &names).is_empty(),
            "quorum is not late"
        );
        done.synced.insert("0xa".into());
        done.synced.insert("0xc".into());
        assert!(done.late(9_000, 1_000, &names).is_empty(), "all reported");
    }

    #[test]
    fn facts_fold_idempotently_and_bounded() {
        let mut s = PaymentsState::default();
        let blob = SharedBlobSeen {
            blob_id: "b".into(),
            end_epoch: 3,
            funds: 10,
            storage_size: 1,
            certified: true,
        };
        let facts = CheckpointFacts {
            shared_blobs: vec![("0x1".into(), blob.clone()), ("0x2".into(), blob.clone())],
            sync_done: vec![("0xa".into(), 0)],
            ..Default::default()
        };
        s.apply(&facts, 1);
        s.apply(&facts, 1);
        assert_eq!(s.shared_blobs.len(), 1);
        assert_eq!(s.shared_blobs_ignored, 2);
        let report = |epoch| EpochReport {
            epoch,
            tx_digest: String::new(),
            checkpoint: 0,
            timestamp_ms: None,
            bucket: 0,
            used_capacity: 0,
            burn: 0,
            burn_observed: 0,
            carry_over: 0,
            carry_over_observed: 0,
            nodes: vec![],
            conserved: true,
            mismatches: vec![],
            ok: true,
        };
        for e in 0..(MAX_REPORTS as u32 + 5) {
            s.add_report(report(e));
            s.add_report(report(e));
        }
        assert_eq!(s.reports.len(), MAX_REPORTS);
        assert_eq!(s.reports[0].epoch, 5);
    }

    #[test]
    fn state_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap().next_checkpoint, 0);
        let mut s = PaymentsState {
            next_checkpoint: 42,
            ..Default::default()
        };
        s.sync = round();
        save(dir.path(), &s).unwrap();
        let back = load(dir.path()).unwrap();
        assert_eq!(back.next_checkpoint, 42);
        assert_eq!(back.sync, round());
    }
}
