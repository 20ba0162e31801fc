//! The in-memory ledger state: live objects and their owner index, the
//! transactions not yet checkpointed, and a small window of recent
//! checkpoints. Everything older (sealed checkpoints, their transactions,
//! past object versions) is read from the archive on disk
//! (`store::archive`), so memory is bounded by the live objects, not by
//! history.
//!
//! Rebuilt on start from the snapshot plus the log tail.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use floe_runtime::ObjectSource;
use floe_runtime::framework::{CLOCK_ID, ClockData};
use sui_sdk_types::{
    Address, CheckpointContents, CheckpointSummary, Digest, GasCostSummary, Object, Owner,
    TransactionEffects,
};

use crate::error::StoreError;
use crate::store::{Archive, CheckpointRecord, Snapshot, TxRecord};

/// An executed transaction as served.
#[derive(Debug)]
pub struct TxEntry {
    pub digest: Digest,
    pub effects_digest: Digest,
    pub record: TxRecord,
}

impl TxEntry {
    fn new(record: TxRecord) -> Self {
        Self {
            digest: record.transaction.digest(),
            effects_digest: record.effects.digest(),
            record,
        }
    }
}

/// A sealed checkpoint as served.
#[derive(Debug)]
pub struct CheckpointEntry {
    pub digest: Digest,
    pub summary: CheckpointSummary,
    pub contents: CheckpointContents,
    pub transactions: Vec<Arc<TxEntry>>,
}

/// Checkpoints kept in memory by default (the rest is read from disk).
pub const DEFAULT_WINDOW: usize = 64;

/// The live ledger state.
#[derive(Default)]
pub struct State {
    objects: HashMap<Address, Object>,
    /// Owner (address or parent object) -> owned object ids.
    owned: HashMap<Address, BTreeSet<Address>>,
    /// Pending transactions and those of the checkpoints in `recent`.
    transactions: HashMap<Digest, Arc<TxEntry>>,
    tx_checkpoint: HashMap<Digest, u64>,
    /// The latest checkpoints, oldest first; the last is the chain's tip.
    recent: VecDeque<Arc<CheckpointEntry>>,
    checkpoint_by_digest: HashMap<Digest, u64>,
    /// Executed but not yet checkpointed, in execution order.
    pending: Vec<Digest>,
    chain_id: Option<Digest>,
    rolling_gas: (u64, u64, u64, u64),
    epoch_start_ms: u64,
    /// Where sealed checkpoints go; `None` only for scratch states
    /// (genesis building, tests), which then keep nothing beyond `recent`.
    archive: Option<Archive>,
    /// Checkpoints kept in `recent` (at least 1).
    window: usize,
}

impl ObjectSource for State {
    fn object(&self, id: &Address) -> Option<&Object> {
        self.objects.get(id)
    }
    fn epoch(&self) -> u64 {
        State::epoch(self)
    }
    fn epoch_start_ms(&self) -> u64 {
        State::epoch_start_ms(self)
    }
    fn clock_ms(&self) -> u64 {
        State::clock_ms(self)
    }
}

/// The state plus one object that exists only for a dry run (a gas coin
/// for SimulateTransaction with checks disabled).
pub struct WithExtra<'a> {
    pub base: &'a State,
    pub extra: Object,
}

impl ObjectSource for WithExtra<'_> {
    fn object(&self, id: &Address) -> Option<&Object> {
        if *id == self.extra.object_id() {
            Some(&self.extra)
        } else {
            self.base.object(id)
        }
    }
    fn epoch(&self) -> u64 {
        self.base.epoch()
    }
    fn epoch_start_ms(&self) -> u64 {
        self.base.epoch_start_ms()
    }
    fn clock_ms(&self) -> u64 {
        self.base.clock_ms()
    }
}

fn owner_key(owner: &Owner) -> Option<Address> {
    match owner {
        Owner::Address(a) | Owner::Object(a) => Some(*a),
        _ => None,
    }
}

impl State {
    /// An empty state whose sealed checkpoints go to `archive`, keeping
    /// `window` of them in memory.
    pub fn with_archive(archive: Archive, window: usize) -> Self {
        Self {
            archive: Some(archive),
            window: window.max(1),
            ..Self::default()
        }
    }

    /// The state a snapshot describes; the latest checkpoint is read back
    /// from the archive (which compaction persisted before the snapshot).
    pub fn from_snapshot(
        snapshot: Snapshot,
        archive: Archive,
        window: usize,
    ) -> Result<Self, StoreError> {
        let mut state = Self::with_archive(archive, window);
        for object in snapshot.objects {
            let id = object.object_id();
            if let Some(k) = owner_key(object.owner()) {
                state.owned.entry(k).or_default().insert(id);
            }
            state.objects.insert(id, object);
        }
        state.chain_id = Some(snapshot.chain_id);
        state.rolling_gas = snapshot.rolling_gas;
        state.epoch_start_ms = snapshot.epoch_start_ms;
        let latest = state
            .load_checkpoint(snapshot.latest_checkpoint)?
            .filter(|c| c.digest == snapshot.latest_digest)
            .ok_or_else(|| {
                StoreError::Replay(format!(
                    "the snapshot's checkpoint {} ({}) is not in the archive",
                    snapshot.latest_checkpoint, snapshot.latest_digest
                ))
            })?;
        state.push_recent(latest);
        for record in snapshot.pending {
            let entry = Arc::new(TxEntry::new(record));
            state.pending.push(entry.digest);
            state.transactions.insert(entry.digest, entry);
        }
        Ok(state)
    }

    /// The live state as a snapshot that starts log `generation`. `None`
    /// before genesis is sealed.
    pub fn snapshot(&self, generation: u64) -> Option<Snapshot> {
        let latest = self.recent.back()?;
        let mut objects: Vec<Object> = self.objects.values().cloned().collect();
        objects.sort_by_key(Object::object_id);
        Some(Snapshot {
            generation,
            objects,
            pending: self
                .pending
                .iter()
                .filter_map(|d| self.transactions.get(d))
                .map(|t| t.record.clone())
                .collect(),
            latest_checkpoint: latest.summary.sequence_number,
            latest_digest: latest.digest,
            chain_id: self.chain_id?,
            rolling_gas: self.rolling_gas,
            epoch_start_ms: self.epoch_start_ms,
        })
    }

    /// The archive, when the state has one.
    pub fn archive(&self) -> Option<&Archive> {
        self.archive.as_ref()
    }

    /// The current version of an object.
    pub fn object(&self, id: &Address) -> Option<&Object> {
        self.objects.get(id)
    }

    /// An object at a given version (current or past): the live copy, a
    /// transaction still in memory, or the archive.
    pub fn object_at(&self, id: &Address, version: u64) -> Result<Option<Object>, StoreError> {
        if let Some(o) = self.objects.get(id).filter(|o| o.version() == version) {
            return Ok(Some(o.clone()));
        }
        let in_memory = self.transactions.values().find_map(|t| {
            t.record
                .output_objects
                .iter()
                .chain(&t.record.input_objects)
                .find(|o| o.object_id() == *id && o.version() == version)
        });
        if let Some(o) = in_memory {
            return Ok(Some(o.clone()));
        }
        match &self.archive {
            Some(a) => a.object_at(id, version),
            None => Ok(None),
        }
    }

    /// The chain's epoch (the devnet stays in epoch 0).
    pub fn epoch(&self) -> u64 {
        0
    }

    /// When the epoch started (the genesis checkpoint's time).
    pub fn epoch_start_ms(&self) -> u64 {
        self.epoch_start_ms
    }

    /// The Clock's current time.
    pub fn clock_ms(&self) -> u64 {
        self.objects
            .get(&CLOCK_ID)
            .and_then(|o| o.as_struct())
            .and_then(|s| bcs::from_bytes::<ClockData>(s.contents()).ok())
            .map(|c| c.timestamp_ms)
            .unwrap_or(0)
    }

    /// Ids of objects owned by an address or parent object, in id order,
    /// starting after `after`.
    pub fn owned_ids(
        &self,
        owner: &Address,
        after: Option<Address>,
    ) -> impl Iterator<Item = &Address> {
        let set = self.owned.get(owner);
        let lower = match after {
            Some(a) => std::ops::Bound::Excluded(a),
            None => std::ops::Bound::Unbounded,
        };
        set.into_iter()
            .flat_map(move |s| s.range((lower, std::ops::Bound::Unbounded)))
    }

    /// A transaction by digest (in memory, else from the archive).
    pub fn transaction(&self, digest: &Digest) -> Result<Option<Arc<TxEntry>>, StoreError> {
        if let Some(t) = self.transactions.get(digest) {
            return Ok(Some(t.clone()));
        }
        let Some(archive) = &self.archive else {
            return Ok(None);
        };
        Ok(archive
            .transaction(digest)?
            .map(|a| Arc::new(TxEntry::new(a.record))))
    }

    /// Whether a transaction was executed (pending, recent or archived).
    pub fn has_transaction(&self, digest: &Digest) -> Result<bool, StoreError> {
        Ok(self.transaction(digest)?.is_some())
    }

    /// The checkpoint holding a transaction, once sealed.
    pub fn transaction_checkpoint(&self, digest: &Digest) -> Option<u64> {
        if let Some(seq) = self.tx_checkpoint.get(digest) {
            return Some(*seq);
        }
        if self.pending.contains(digest) {
            return None;
        }
        match self.archive.as_ref()?.transaction(digest) {
            Ok(t) => t.map(|t| t.checkpoint),
            Err(e) => {
                tracing::error!(error = %e, %digest, "reading the archive failed");
                None
            }
        }
    }

    /// A checkpoint by sequence number (recent ones from memory, older
    /// ones from the archive).
    pub fn checkpoint(&self, seq: u64) -> Result<Option<Arc<CheckpointEntry>>, StoreError> {
        if let Some(first) = self.recent.front() {
            let first_seq = first.summary.sequence_number;
            if seq >= first_seq {
                return Ok(usize::try_from(seq - first_seq)
                    .ok()
                    .and_then(|i| self.recent.get(i))
                    .cloned());
            }
        }
        self.load_checkpoint(seq)
    }

    fn load_checkpoint(&self, seq: u64) -> Result<Option<Arc<CheckpointEntry>>, StoreError> {
        let Some(archive) = &self.archive else {
            return Ok(None);
        };
        let Some(record) = archive.checkpoint(seq)? else {
            return Ok(None);
        };
        let mut transactions = Vec::with_capacity(record.contents.transactions().len());
        for info in record.contents.transactions() {
            let tx = archive.transaction(info.transaction())?.ok_or_else(|| {
                StoreError::Archive(format!(
                    "checkpoint {seq} names transaction {} the archive lacks",
                    info.transaction()
                ))
            })?;
            transactions.push(Arc::new(TxEntry::new(tx.record)));
        }
        Ok(Some(Arc::new(CheckpointEntry {
            digest: record.summary.digest(),
            summary: record.summary,
            contents: record.contents,
            transactions,
        })))
    }

    /// A checkpoint by digest.
    pub fn checkpoint_by_digest(
        &self,
        digest: &Digest,
    ) -> Result<Option<Arc<CheckpointEntry>>, StoreError> {
        if let Some(seq) = self.checkpoint_by_digest.get(digest) {
            return self.checkpoint(*seq);
        }
        match &self.archive {
            Some(a) => match a.seq_by_digest(digest)? {
                Some(seq) => self.load_checkpoint(seq),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// The latest sealed checkpoint.
    pub fn latest_checkpoint(&self) -> Option<&Arc<CheckpointEntry>> {
        self.recent.back()
    }

    /// The oldest checkpoint that can still be served (earlier ones were
    /// pruned from the archive).
    pub fn oldest_available(&self) -> Result<u64, StoreError> {
        match &self.archive {
            Some(a) => a.oldest(),
            None => Ok(self
                .recent
                .front()
                .map(|c| c.summary.sequence_number)
                .unwrap_or(0)),
        }
    }

    /// Transactions executed since the last checkpoint.
    pub fn pending(&self) -> &[Digest] {
        &self.pending
    }

    /// Total transactions in sealed checkpoints.
    pub fn total_transactions(&self) -> u64 {
        self.recent
            .back()
            .map(|c| c.summary.network_total_transactions)
            .unwrap_or(0)
    }

    /// The chain id: the genesis checkpoint digest, as on Sui.
    pub fn chain_id(&self) -> Option<Digest> {
        self.chain_id
    }

    /// Applies an executed transaction.
    pub fn apply_transaction(&mut self, record: TxRecord) -> Arc<TxEntry> {
        for id in &record.removed {
            if let Some(old) = self.objects.remove(id)
                && let Some(k) = owner_key(old.owner())
                && let Some(set) = self.owned.get_mut(&k)
            {
                set.remove(id);
                if set.is_empty() {
                    self.owned.remove(&k);
                }
            }
        }
        for object in &record.output_objects {
            let id = object.object_id();
            if let Some(old) = self.objects.get(&id)
                && let Some(k) = owner_key(old.owner())
                && let Some(set) = self.owned.get_mut(&k)
            {
                set.remove(&id);
                if set.is_empty() {
                    self.owned.remove(&k);
                }
            }
            if let Some(k) = owner_key(object.owner()) {
                self.owned.entry(k).or_default().insert(id);
            }
            self.objects.insert(id, object.clone());
        }
        if record.transaction.gas_payment.budget > 0 {
            let g = record.effects.gas_summary();
            self.rolling_gas.0 += g.computation_cost;
            self.rolling_gas.1 += g.storage_cost;
            self.rolling_gas.2 += g.storage_rebate;
            self.rolling_gas.3 += g.non_refundable_storage_fee;
        }
        let entry = Arc::new(TxEntry::new(record));
        self.transactions.insert(entry.digest, entry.clone());
        self.pending.push(entry.digest);
        entry
    }

    /// Builds (without applying) the next checkpoint over the pending
    /// transactions.
    pub fn next_checkpoint(&self, timestamp_ms: u64) -> CheckpointRecord {
        let infos = self
            .pending
            .iter()
            .filter_map(|d| self.transactions.get(d))
            .map(|t| {
                sui_sdk_types::CheckpointTransactionInfo::new(
                    t.digest,
                    t.effects_digest,
                    t.record.signatures.clone(),
                )
            })
            .collect();
        let contents = CheckpointContents::new_v1(infos);
        let previous = self.recent.back();
        let summary = CheckpointSummary {
            epoch: self.epoch(),
            sequence_number: previous.map(|p| p.summary.sequence_number + 1).unwrap_or(0),
            network_total_transactions: self.total_transactions() + self.pending.len() as u64,
            content_digest: contents.digest(),
            previous_digest: previous.map(|p| p.digest),
            epoch_rolling_gas_cost_summary: GasCostSummary::new(
                self.rolling_gas.0,
                self.rolling_gas.1,
                self.rolling_gas.2,
                self.rolling_gas.3,
            ),
            timestamp_ms,
            checkpoint_commitments: vec![],
            end_of_epoch_data: None,
            version_specific_data: vec![],
        };
        CheckpointRecord { summary, contents }
    }

    /// Applies a sealed checkpoint; its transactions must be the pending
    /// ones, in order. It is archived, and the oldest checkpoint beyond the
    /// window leaves memory.
    pub fn apply_checkpoint(
        &mut self,
        record: CheckpointRecord,
    ) -> Result<Arc<CheckpointEntry>, String> {
        let expected = self
            .recent
            .back()
            .map(|c| c.summary.sequence_number + 1)
            .unwrap_or(0);
        if record.summary.sequence_number != expected {
            return Err(format!(
                "checkpoint {} out of order (expected {expected})",
                record.summary.sequence_number
            ));
        }
        let mut transactions = Vec::new();
        for info in record.contents.transactions() {
            let tx = self.transactions.get(info.transaction()).ok_or_else(|| {
                format!(
                    "checkpoint names unknown transaction {}",
                    info.transaction()
                )
            })?;
            transactions.push(tx.clone());
        }
        let digest = record.summary.digest();
        if let Some(archive) = &self.archive {
            archive
                .put(&record, &digest, &transactions)
                .map_err(|e| e.to_string())?;
        }
        let sealed: BTreeSet<Digest> = transactions.iter().map(|t| t.digest).collect();
        self.pending.retain(|d| !sealed.contains(d));
        if expected == 0 {
            self.epoch_start_ms = record.summary.timestamp_ms;
            self.chain_id = Some(digest);
        }
        let entry = Arc::new(CheckpointEntry {
            digest,
            summary: record.summary,
            contents: record.contents,
            transactions,
        });
        self.push_recent(entry.clone());
        Ok(entry)
    }

    fn push_recent(&mut self, entry: Arc<CheckpointEntry>) {
        let seq = entry.summary.sequence_number;
        for t in &entry.transactions {
            self.tx_checkpoint.insert(t.digest, seq);
            self.transactions.insert(t.digest, t.clone());
        }
        self.checkpoint_by_digest.insert(entry.digest, seq);
        self.recent.push_back(entry);
        while self.recent.len() > self.window.max(1) {
            let Some(old) = self.recent.pop_front() else {
                break;
            };
            self.checkpoint_by_digest.remove(&old.digest);
            for t in &old.transactions {
                self.tx_checkpoint.remove(&t.digest);
                self.transactions.remove(&t.digest);
            }
        }
    }

    /// Live objects of a given owner and kind, for balance sums.
    pub fn owned_objects<'a>(&'a self, owner: &Address) -> impl Iterator<Item = &'a Object> + 'a {
        self.owned
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|id| self.objects.get(id))
    }

    /// The effects of a transaction still in memory.
    pub fn effects(&self, digest: &Digest) -> Option<&TransactionEffects> {
        self.transactions.get(digest).map(|t| &t.record.effects)
    }

    /// What memory holds: live objects, transactions (pending and recent)
    /// and checkpoints. The last two are bounded by the window; the first
    /// is the live state itself.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.objects.len(),
            self.transactions.len(),
            self.recent.len(),
        )
    }
}

/// Balances per coin type, for GetBalance / ListBalances.
pub fn balances(state: &State, owner: &Address) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for object in state.owned_objects(owner) {
        if !matches!(object.owner(), Owner::Address(_)) {
            continue;
        }
        if let Some(coin) = sui_sdk_types::framework::Coin::try_from_object(object) {
            let e = out.entry(coin.coin_type().to_string()).or_insert(0u64);
            *e = e.saturating_add(coin.balance());
        }
    }
    out
}
