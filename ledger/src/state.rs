//! The in-memory ledger state, rebuilt from the log on start: live objects,
//! every object version, owner indexes, transactions and checkpoints.
//!
//! Everything is kept in memory (a development chain holds little); the
//! log is the durable copy.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use floe_runtime::ObjectSource;
use floe_runtime::framework::{CLOCK_ID, ClockData};
use sui_sdk_types::{
    Address, CheckpointContents, CheckpointSummary, Digest, GasCostSummary, Object, Owner,
    TransactionEffects,
};

use crate::store::{CheckpointRecord, TxRecord};

/// An executed transaction as served.
#[derive(Debug)]
pub struct TxEntry {
    pub digest: Digest,
    pub effects_digest: Digest,
    pub record: TxRecord,
}

/// A sealed checkpoint as served.
#[derive(Debug)]
pub struct CheckpointEntry {
    pub digest: Digest,
    pub summary: CheckpointSummary,
    pub contents: CheckpointContents,
    pub transactions: Vec<Arc<TxEntry>>,
}

/// The whole ledger state.
#[derive(Default)]
pub struct State {
    objects: HashMap<Address, Object>,
    history: HashMap<(Address, u64), Object>,
    /// Owner (address or parent object) -> owned object ids.
    owned: HashMap<Address, BTreeSet<Address>>,
    transactions: HashMap<Digest, Arc<TxEntry>>,
    tx_checkpoint: HashMap<Digest, u64>,
    checkpoints: Vec<Arc<CheckpointEntry>>,
    checkpoint_by_digest: HashMap<Digest, u64>,
    /// Executed but not yet checkpointed, in execution order.
    pending: Vec<Digest>,
    rolling_gas: (u64, u64, u64, u64),
    epoch_start_ms: u64,
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
    /// The current version of an object.
    pub fn object(&self, id: &Address) -> Option<&Object> {
        self.objects.get(id)
    }

    /// An object at a given version (current or past).
    pub fn object_at(&self, id: &Address, version: u64) -> Option<&Object> {
        self.history.get(&(*id, version))
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

    /// A transaction by digest.
    pub fn transaction(&self, digest: &Digest) -> Option<&Arc<TxEntry>> {
        self.transactions.get(digest)
    }

    /// The checkpoint holding a transaction, once sealed.
    pub fn transaction_checkpoint(&self, digest: &Digest) -> Option<u64> {
        self.tx_checkpoint.get(digest).copied()
    }

    /// A checkpoint by sequence number.
    pub fn checkpoint(&self, seq: u64) -> Option<&Arc<CheckpointEntry>> {
        self.checkpoints.get(usize::try_from(seq).ok()?)
    }

    /// A checkpoint by digest.
    pub fn checkpoint_by_digest(&self, digest: &Digest) -> Option<&Arc<CheckpointEntry>> {
        self.checkpoint(*self.checkpoint_by_digest.get(digest)?)
    }

    /// The latest sealed checkpoint.
    pub fn latest_checkpoint(&self) -> Option<&Arc<CheckpointEntry>> {
        self.checkpoints.last()
    }

    /// Transactions executed since the last checkpoint.
    pub fn pending(&self) -> &[Digest] {
        &self.pending
    }

    /// Total transactions in sealed checkpoints.
    pub fn total_transactions(&self) -> u64 {
        self.checkpoints
            .last()
            .map(|c| c.summary.network_total_transactions)
            .unwrap_or(0)
    }

    /// The chain id: the genesis checkpoint digest, as on Sui.
    pub fn chain_id(&self) -> Option<Digest> {
        self.checkpoints.first().map(|c| c.digest)
    }

    /// Applies an executed transaction.
    pub fn apply_transaction(&mut self, record: TxRecord) -> Arc<TxEntry> {
        for id in &record.removed {
            if let Some(old) = self.objects.remove(id)
                && let Some(k) = owner_key(old.owner())
                && let Some(set) = self.owned.get_mut(&k)
            {
                set.remove(id);
            }
        }
        for object in &record.output_objects {
            let id = object.object_id();
            if let Some(old) = self.objects.get(&id)
                && let Some(k) = owner_key(old.owner())
                && let Some(set) = self.owned.get_mut(&k)
            {
                set.remove(&id);
            }
            if let Some(k) = owner_key(object.owner()) {
                self.owned.entry(k).or_default().insert(id);
            }
            self.history.insert((id, object.version()), object.clone());
            self.objects.insert(id, object.clone());
        }
        for object in &record.input_objects {
            self.history
                .entry((object.object_id(), object.version()))
                .or_insert_with(|| object.clone());
        }
        if record.transaction.gas_payment.budget > 0 {
            let g = record.effects.gas_summary();
            self.rolling_gas.0 += g.computation_cost;
            self.rolling_gas.1 += g.storage_cost;
            self.rolling_gas.2 += g.storage_rebate;
            self.rolling_gas.3 += g.non_refundable_storage_fee;
        }
        let digest = record.transaction.digest();
        let entry = Arc::new(TxEntry {
            digest,
            effects_digest: record.effects.digest(),
            record,
        });
        self.transactions.insert(digest, entry.clone());
        self.pending.push(digest);
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
        let previous = self.checkpoints.last();
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
    /// ones, in order.
    pub fn apply_checkpoint(
        &mut self,
        record: CheckpointRecord,
    ) -> Result<Arc<CheckpointEntry>, String> {
        let expected = self.checkpoints.len() as u64;
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
            self.tx_checkpoint.insert(tx.digest, expected);
            transactions.push(tx.clone());
        }
        let sealed: BTreeSet<Digest> = transactions.iter().map(|t| t.digest).collect();
        self.pending.retain(|d| !sealed.contains(d));
        if expected == 0 {
            self.epoch_start_ms = record.summary.timestamp_ms;
        }
        let digest = record.summary.digest();
        let entry = Arc::new(CheckpointEntry {
            digest,
            summary: record.summary,
            contents: record.contents,
            transactions,
        });
        self.checkpoint_by_digest.insert(digest, expected);
        self.checkpoints.push(entry.clone());
        Ok(entry)
    }

    /// Live objects of a given owner and kind, for balance sums.
    pub fn owned_objects<'a>(&'a self, owner: &Address) -> impl Iterator<Item = &'a Object> + 'a {
        self.owned
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|id| self.objects.get(id))
    }

    /// The effects of a transaction.
    pub fn effects(&self, digest: &Digest) -> Option<&TransactionEffects> {
        self.transactions.get(digest).map(|t| &t.record.effects)
    }

    /// Counts for metrics and logs.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.objects.len(),
            self.transactions.len(),
            self.checkpoints.len(),
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
