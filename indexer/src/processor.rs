//! The processor: checkpoints to rows, with no I/O.
//!
//! [`Processor::process`] folds one checkpoint into a [`Batch`]. State
//! changes are folded per key inside a batch (a blob registered and
//! certified in the same batch becomes one upsert), and every row carries
//! the position of the last chain fact behind it, so the committer can
//! apply a batch with one set-based statement per table and refuse to move
//! any row backwards.
//!
//! Owners come from each transaction's object changes, not from events: a
//! `Blob` moved by a plain transfer (no floe call, no event) changes owner,
//! and a `Blob` burnt (deleted with no event) becomes `deleted`.

use std::collections::BTreeMap;

use floe_chain::sui_sdk_types::{Address, Event, ObjectChange, Owner};
use floe_chain::{
    Checkpoint, EventDecodeError, EventPosition, FloeEvent, FloePackages, decode_event,
};
use floe_core::BlobId;
use floe_core::encoding::EncodingConfig;
use floe_core::move_types::{
    EpochChangeDone, EpochChangeStart, EpochParametersSelected, MoveTypeKind, ObjectId,
    PricesUpdated, U256Le,
};
use serde_json::Value;

use crate::decode::decode_struct;
use crate::governance::{EventAt, GovernanceBatch};
use crate::money::{
    CollectionRow, EpochRewardRow, NodePatch, NodeRewardRow, PoolEpochRow, RenewalRow,
    SharedBlobPatch, StakePatch,
};
use crate::objects::{AttributesPatch, ObjectError, ObjectIndex, PaymentRow, StoragePatch};

/// Why a checkpoint could not be turned into rows. These are data errors
/// that retrying cannot fix; the pipeline stops on them.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProcessError {
    #[error("checkpoint {checkpoint}: position out of range (tx {tx}, event {event})")]
    Position {
        checkpoint: u64,
        tx: usize,
        event: usize,
    },
    #[error("checkpoint {checkpoint}, tx {tx_digest}, event {event_index} ({name}): {reason}")]
    Event {
        checkpoint: u64,
        tx_digest: String,
        event_index: usize,
        name: String,
        reason: String,
    },
    /// An event of floe's packages that does not decode (never skipped).
    #[error(transparent)]
    Decode(#[from] EventDecodeError),
    #[error("checkpoint {got} does not follow {expected}")]
    OutOfOrder { expected: u64, got: u64 },
    #[error("checkpoint {checkpoint}: {source}")]
    Object {
        checkpoint: u64,
        source: ObjectError,
    },
}

/// Event index used for a transaction's object changes: after its events.
pub const EFFECTS_EVENT_INDEX: usize = 0xffff;

/// The position of a chain fact: checkpoint << 32 | tx << 16 | event.
/// Ordered like the chain; fits a Postgres BIGINT for checkpoints below
/// 2^31.
pub fn position(checkpoint: u64, tx: usize, event: usize) -> Result<i64, ProcessError> {
    let err = || ProcessError::Position {
        checkpoint,
        tx,
        event,
    };
    if checkpoint >= 1 << 31 || tx > 0xffff || event > 0xffff {
        return Err(err());
    }
    Ok(((checkpoint << 32) | ((tx as u64) << 16) | event as u64) as i64)
}

/// What the processor needs to know about the deployment.
#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    /// The floe (Walrus system) package: its events are indexed.
    pub floe_package: Address,
    /// The WAL package: its events are indexed too.
    pub wal_package: Address,
    /// Shards of the committee, to compute encoded sizes; `None` leaves
    /// `encoded_size` empty.
    pub n_shards: Option<u16>,
}

/// One checkpoint's summary row.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRow {
    pub sequence_number: i64,
    pub digest: Option<String>,
    pub timestamp_ms: Option<i64>,
    pub transactions: i32,
    pub floe_events: i32,
}

/// One floe or WAL event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub pos: i64,
    pub checkpoint: i64,
    pub tx_digest: String,
    pub event_index: i32,
    pub sender: String,
    pub module: String,
    pub name: String,
    pub type_tag: String,
    /// Decoded fields as JSON text; `None` for layouts floe does not mirror.
    pub fields: Option<String>,
    pub bcs: Vec<u8>,
    pub timestamp_ms: Option<i64>,
    pub object_id: Option<String>,
}

/// Changes to one `Blob` from events; `None` fields are left as they are.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlobPatch {
    pub blob_id: String,
    pub size: Option<i64>,
    pub encoded_size: Option<i64>,
    pub encoding_type: Option<i16>,
    pub deletable: Option<bool>,
    pub registered_epoch: Option<i32>,
    pub certified_epoch: Option<i32>,
    pub end_epoch: Option<i32>,
    pub status: Option<&'static str>,
    /// Position of the registration, when in this batch.
    pub created_pos: Option<i64>,
    /// Position of the last event folded in.
    pub pos: i64,
}

impl BlobPatch {
    fn fold(&mut self, later: BlobPatch) {
        self.blob_id = later.blob_id;
        self.size = later.size.or(self.size);
        self.encoded_size = later.encoded_size.or(self.encoded_size);
        self.encoding_type = later.encoding_type.or(self.encoding_type);
        self.deletable = later.deletable.or(self.deletable);
        self.registered_epoch = later.registered_epoch.or(self.registered_epoch);
        self.certified_epoch = later.certified_epoch.or(self.certified_epoch);
        self.end_epoch = later.end_epoch.or(self.end_epoch);
        self.status = later.status.or(self.status);
        self.created_pos = self.created_pos.or(later.created_pos);
        self.pos = later.pos;
    }
}

/// The last change of one object in a batch, from transaction effects.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPatch {
    /// `0x..` address, `object:0x..`, `shared`, `immutable`; `None` when
    /// wrapped or deleted.
    pub owner: Option<String>,
    pub deleted: bool,
    pub pos: i64,
}

/// A blob id certified invalid.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidRow {
    pub epoch: i32,
    pub pos: i64,
}

/// Changes to one epoch's row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EpochPatch {
    pub start_checkpoint: Option<i64>,
    pub start_ms: Option<i64>,
    pub done_checkpoint: Option<i64>,
    pub done_ms: Option<i64>,
    pub params_selected_ms: Option<i64>,
    pub storage_price: Option<i64>,
    pub write_price: Option<i64>,
    pub pos: i64,
}

/// Rows of consecutive checkpoints, ready for one database transaction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// Last checkpoint folded in.
    pub last: Option<u64>,
    pub first: Option<u64>,
    pub last_timestamp_ms: Option<u64>,
    pub checkpoints: Vec<CheckpointRow>,
    pub events: Vec<EventRow>,
    pub blobs: BTreeMap<String, BlobPatch>,
    pub objects: BTreeMap<String, ObjectPatch>,
    pub invalid_ids: BTreeMap<String, InvalidRow>,
    pub epochs: BTreeMap<i32, EpochPatch>,
    /// Governance proposals, votes and subsidy payments
    /// (`crate::governance`, migration 0005).
    pub governance: GovernanceBatch,
    /// Last written state of each `Storage` object, by id.
    pub storage: BTreeMap<String, StoragePatch>,
    /// Last attributes of each blob whose metadata changed, by blob id.
    pub attributes: BTreeMap<String, AttributesPatch>,
    pub payments: Vec<PaymentRow>,
    /// Staking and the money of epochs (`crate::money`, migration 0004).
    pub money: MoneyBatch,
}

/// The staking rows of a batch: state rows folded per key (last write
/// wins), fact rows keyed so that the first is kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MoneyBatch {
    pub nodes: BTreeMap<String, NodePatch>,
    pub pool_epochs: BTreeMap<(String, i32), PoolEpochRow>,
    pub epoch_rewards: BTreeMap<i32, EpochRewardRow>,
    pub node_rewards: BTreeMap<(i32, String), NodeRewardRow>,
    pub stakes: BTreeMap<String, StakePatch>,
    pub collections: Vec<CollectionRow>,
    pub shared_blobs: BTreeMap<String, SharedBlobPatch>,
    pub renewals: Vec<RenewalRow>,
}

impl MoneyBatch {
    pub fn rows(&self) -> usize {
        self.nodes.len()
            + self.pool_epochs.len()
            + self.epoch_rewards.len()
            + self.node_rewards.len()
            + self.stakes.len()
            + self.collections.len()
            + self.shared_blobs.len()
            + self.renewals.len()
    }

    fn extend(&mut self, tx: crate::money::TxMoney) {
        self.nodes.extend(tx.nodes);
        for row in tx.pool_epochs {
            self.pool_epochs
                .entry((row.node_id.clone(), row.epoch))
                .or_insert(row);
        }
        if let Some(row) = tx.epoch_reward {
            self.epoch_rewards.entry(row.epoch).or_insert(row);
        }
        for row in tx.node_rewards {
            self.node_rewards
                .entry((row.epoch, row.node_id.clone()))
                .or_insert(row);
        }
        for (id, patch) in tx.stakes {
            match self.stakes.get_mut(&id) {
                Some(existing) => existing.fold(patch),
                None => {
                    self.stakes.insert(id, patch);
                }
            }
        }
        self.collections.extend(tx.collections);
        for (id, mut patch) in tx.shared_blobs {
            if let Some(existing) = self.shared_blobs.get(&id) {
                patch.created_pos = existing.created_pos.or(patch.created_pos);
            }
            self.shared_blobs.insert(id, patch);
        }
        self.renewals.extend(tx.renewals);
    }
}

impl Batch {
    /// Rows this batch writes (for metrics and batch sizing).
    pub fn rows(&self) -> usize {
        self.checkpoints.len()
            + self.events.len()
            + self.blobs.len()
            + self.objects.len()
            + self.invalid_ids.len()
            + self.epochs.len()
            + self.governance.rows()
            + self.storage.len()
            + self.attributes.len()
            + self.payments.len()
            + self.money.rows()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_none()
    }
}

/// Turns checkpoints into rows.
#[derive(Debug, Clone)]
pub struct Processor {
    config: ProcessorConfig,
    encoding: Option<EncodingConfig>,
}

fn address_text(a: &Address) -> String {
    format!("0x{}", hex::encode(a.as_bytes()))
}

pub(crate) fn owner_text(owner: &Owner) -> String {
    match owner {
        Owner::Address(a) => address_text(a),
        Owner::Object(a) => format!("object:{}", address_text(a)),
        Owner::Shared(_) => "shared".into(),
        Owner::Immutable => "immutable".into(),
        Owner::ConsensusAddress { owner, .. } => address_text(owner),
        _ => "unknown".into(),
    }
}

impl Processor {
    pub fn new(config: ProcessorConfig) -> Self {
        let encoding = config.n_shards.and_then(|n| EncodingConfig::new(n).ok());
        Self { config, encoding }
    }

    pub fn config(&self) -> &ProcessorConfig {
        &self.config
    }

    /// Folds `checkpoint` into `batch`. Checkpoints must come in order.
    pub fn process(&self, checkpoint: &Checkpoint, batch: &mut Batch) -> Result<(), ProcessError> {
        let seq = checkpoint.sequence_number;
        if let Some(last) = batch.last
            && last.checked_add(1) != Some(seq)
        {
            return Err(ProcessError::OutOfOrder {
                expected: last.saturating_add(1),
                got: seq,
            });
        }
        position(seq, 0, 0)?;
        let cp = seq as i64;
        let timestamp_ms = checkpoint.timestamp_ms.and_then(|t| i64::try_from(t).ok());
        let mut floe_events = 0i32;
        let objects = ObjectIndex::new(&checkpoint.objects);
        let packages = FloePackages {
            floe: self.config.floe_package,
            wal: self.config.wal_package,
        };
        for (tx_index, tx) in checkpoint.transactions.iter().enumerate() {
            let tx_digest = tx.digest.to_string();
            let mut registered_sizes = Vec::new();
            for (event_index, event) in tx.events.iter().enumerate() {
                let at = EventPosition {
                    checkpoint: seq,
                    tx_digest: tx.digest,
                    event_index,
                };
                // Events of other packages are not floe's; a floe event that
                // does not decode stops the pipeline.
                let Some(decoded) = decode_event(event, &packages, at)? else {
                    continue;
                };
                let pos = position(seq, tx_index, event_index)?;
                floe_events = floe_events.saturating_add(1);
                let event_error = |reason: String| ProcessError::Event {
                    checkpoint: seq,
                    tx_digest: tx_digest.clone(),
                    event_index,
                    name: decoded.name().to_owned(),
                    reason,
                };
                let row = event_row(
                    &decoded,
                    event,
                    pos,
                    cp,
                    &tx_digest,
                    event_index,
                    timestamp_ms,
                )
                .map_err(event_error)?;
                crate::governance::apply(
                    &decoded,
                    EventAt {
                        pos,
                        tx_digest: &tx_digest,
                        timestamp_ms,
                    },
                    &mut batch.governance,
                )
                .map_err(event_error)?;
                if let FloeEvent::BlobRegistered(e) = &decoded
                    && i64::try_from(e.size).is_ok()
                {
                    registered_sizes.push(e.size);
                }
                self.apply_event(&decoded, pos, cp, timestamp_ms, batch);
                batch.events.push(row);
            }
            let effects_pos = position(seq, tx_index, EFFECTS_EVENT_INDEX)?;
            let derived = crate::objects::tx_objects(
                &self.config.floe_package,
                tx,
                &objects,
                effects_pos,
                &registered_sizes,
                |size| {
                    self.encoding
                        .as_ref()
                        .and_then(|e| e.encoded_blob_length(size).ok())
                },
            )
            .map_err(|source| ProcessError::Object {
                checkpoint: seq,
                source,
            })?;
            batch.storage.extend(derived.storage);
            batch.attributes.extend(derived.attributes);
            batch.payments.extend(derived.payments);
            let money = crate::money::tx_money(
                &self.config.floe_package,
                &self.config.wal_package,
                tx,
                &objects,
                effects_pos,
                timestamp_ms,
            )
            .map_err(|source| ProcessError::Object {
                checkpoint: seq,
                source,
            })?;
            batch.money.extend(money);
            for change in tx.effects.object_changes() {
                let (id, patch) = match change {
                    ObjectChange::Created {
                        object_id,
                        output_owner,
                        ..
                    }
                    | ObjectChange::Mutated {
                        object_id,
                        output_owner,
                        ..
                    }
                    | ObjectChange::Unwrapped {
                        object_id,
                        output_owner,
                        ..
                    } => (
                        object_id,
                        ObjectPatch {
                            owner: Some(owner_text(output_owner)),
                            deleted: false,
                            pos: effects_pos,
                        },
                    ),
                    ObjectChange::Wrapped { object_id, .. } => (
                        object_id,
                        ObjectPatch {
                            owner: None,
                            deleted: false,
                            pos: effects_pos,
                        },
                    ),
                    ObjectChange::Deleted { object_id, .. }
                    | ObjectChange::UnwrappedThenDeleted { object_id } => (
                        object_id,
                        ObjectPatch {
                            owner: None,
                            deleted: true,
                            pos: effects_pos,
                        },
                    ),
                    _ => continue,
                };
                batch.objects.insert(address_text(id), patch);
            }
        }
        batch.checkpoints.push(CheckpointRow {
            sequence_number: cp,
            digest: checkpoint.digest.map(|d| d.to_string()),
            timestamp_ms,
            transactions: i32::try_from(checkpoint.transactions.len()).unwrap_or(i32::MAX),
            floe_events,
        });
        batch.first.get_or_insert(seq);
        batch.last = Some(seq);
        batch.last_timestamp_ms = checkpoint.timestamp_ms;
        Ok(())
    }

    /// State changes of one decoded floe event.
    fn apply_event(
        &self,
        event: &FloeEvent,
        pos: i64,
        checkpoint: i64,
        timestamp_ms: Option<i64>,
        batch: &mut Batch,
    ) {
        let mut blob = |object_id: &ObjectId, patch: BlobPatch| {
            let object_id = object_id.to_string();
            match batch.blobs.get_mut(&object_id) {
                Some(existing) => existing.fold(patch),
                None => {
                    batch.blobs.insert(object_id, patch);
                }
            }
        };
        let blob_id = |id: &U256Le| BlobId(id.0).to_string();
        // Columns are signed: a value beyond them is left empty, as before.
        let int = |n: u32| i32::try_from(n).ok();
        let long = |n: u64| i64::try_from(n).ok();
        match event {
            FloeEvent::BlobRegistered(e) => {
                let encoded_size = self.encoding.as_ref().and_then(|enc| {
                    long(e.size)
                        .and_then(|_| enc.encoded_blob_length(e.size).ok())
                        .and_then(long)
                });
                blob(
                    &e.object_id,
                    BlobPatch {
                        blob_id: blob_id(&e.blob_id),
                        size: long(e.size),
                        encoded_size,
                        encoding_type: Some(i16::from(e.encoding_type)),
                        deletable: Some(e.deletable),
                        registered_epoch: int(e.epoch),
                        end_epoch: int(e.end_epoch),
                        status: Some("registered"),
                        created_pos: Some(pos),
                        pos,
                        ..BlobPatch::default()
                    },
                );
            }
            FloeEvent::BlobCertified(e) => blob(
                &e.object_id,
                BlobPatch {
                    blob_id: blob_id(&e.blob_id),
                    deletable: Some(e.deletable),
                    // An extension keeps the epoch of the first certification.
                    certified_epoch: if e.is_extension { None } else { int(e.epoch) },
                    end_epoch: int(e.end_epoch),
                    status: Some("certified"),
                    pos,
                    ..BlobPatch::default()
                },
            ),
            FloeEvent::BlobDeleted(e) => blob(
                &e.object_id,
                BlobPatch {
                    blob_id: blob_id(&e.blob_id),
                    end_epoch: int(e.end_epoch),
                    status: Some("deleted"),
                    pos,
                    ..BlobPatch::default()
                },
            ),
            FloeEvent::InvalidBlobID(e) => {
                batch
                    .invalid_ids
                    .entry(blob_id(&e.blob_id))
                    .or_insert(InvalidRow {
                        epoch: int(e.epoch).unwrap_or(0),
                        pos,
                    });
            }
            FloeEvent::EpochChangeStart(EpochChangeStart { epoch })
            | FloeEvent::EpochChangeDone(EpochChangeDone { epoch })
            | FloeEvent::EpochParametersSelected(EpochParametersSelected { next_epoch: epoch })
            | FloeEvent::PricesUpdated(PricesUpdated { epoch, .. }) => {
                let Some(key) = int(*epoch) else { return };
                let row = batch.epochs.entry(key).or_default();
                row.pos = pos;
                match event {
                    FloeEvent::EpochChangeStart(_) => {
                        row.start_checkpoint = Some(checkpoint);
                        row.start_ms = timestamp_ms;
                    }
                    FloeEvent::EpochChangeDone(_) => {
                        row.done_checkpoint = Some(checkpoint);
                        row.done_ms = timestamp_ms;
                    }
                    FloeEvent::PricesUpdated(p) => {
                        row.storage_price = long(p.storage_price);
                        row.write_price = long(p.write_price);
                    }
                    _ => row.params_selected_ms = timestamp_ms,
                }
            }
            _ => {}
        }
    }
}

/// The `events` row of a decoded floe event. Its `fields` are the contents
/// rendered as JSON for readers of the API (`crate::decode`, driven by the
/// same registry as the typed mirrors), not reinterpreted here.
fn event_row(
    decoded: &FloeEvent,
    event: &Event,
    pos: i64,
    checkpoint: i64,
    tx_digest: &str,
    event_index: usize,
    timestamp_ms: Option<i64>,
) -> Result<EventRow, String> {
    let info = decoded.info();
    let MoveTypeKind::Struct(layout) = info.kind else {
        return Err(format!("{} is not a struct", info.name));
    };
    let fields = decode_struct(layout, &event.contents).map_err(|e| e.to_string())?;
    let object_id = ["object_id", "node_id", "storage_pool_id", "staked_wal_id"]
        .iter()
        .find_map(|k| fields.get(*k).and_then(Value::as_str).map(str::to_owned));
    Ok(EventRow {
        pos,
        checkpoint,
        tx_digest: tx_digest.to_owned(),
        event_index: event_index as i32,
        sender: address_text(&event.sender),
        module: event.type_.module().to_string(),
        name: event.type_.name().to_string(),
        type_tag: event.type_.to_string(),
        fields: Some(fields.to_string()),
        bcs: event.contents.clone(),
        timestamp_ms,
        object_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use floe_chain::sui_sdk_types::Digest;
    use floe_core::move_types::BlobRegistered;
    use floe_testkit::events::event;

    fn floe() -> Address {
        "0xf10e".parse().unwrap()
    }

    fn processor() -> Processor {
        Processor::new(ProcessorConfig {
            floe_package: floe(),
            wal_package: "0x3a1".parse().unwrap(),
            n_shards: None,
        })
    }

    /// Checkpoint 9 (at 1 s) of one transaction with `events`.
    fn checkpoint(events: Vec<Event>) -> Checkpoint {
        floe_testkit::events::checkpoint(Some(1_000), events)
    }

    fn registered() -> Vec<u8> {
        bcs::to_bytes(&BlobRegistered {
            epoch: 2,
            blob_id: U256Le([4; 32]),
            size: 10,
            encoding_type: 1,
            end_epoch: 7,
            deletable: true,
            object_id: ObjectId([5; 32]),
        })
        .unwrap()
    }

    #[test]
    fn floe_events_become_rows_and_other_packages_are_ignored() {
        let mut batch = Batch::default();
        let lookalike = event("0xbad".parse().unwrap(), "BlobRegistered", vec![1]);
        processor()
            .process(
                &checkpoint(vec![
                    lookalike,
                    event(floe(), "BlobRegistered", registered()),
                ]),
                &mut batch,
            )
            .unwrap();
        assert_eq!(batch.events.len(), 1);
        let row = &batch.events[0];
        assert_eq!((row.name.as_str(), row.event_index), ("BlobRegistered", 1));
        let object = ObjectId([5; 32]).to_string();
        assert_eq!(row.object_id.as_deref(), Some(object.as_str()));
        let fields: Value = serde_json::from_str(row.fields.as_deref().unwrap()).unwrap();
        assert_eq!(fields["size"], 10);
        assert_eq!(fields["blob_id"], BlobId([4; 32]).to_string());
        let blob = &batch.blobs[&object];
        assert_eq!(
            (blob.size, blob.registered_epoch, blob.status),
            (Some(10), Some(2), Some("registered"))
        );
        assert_eq!(batch.checkpoints[0].floe_events, 1);
    }

    #[test]
    fn a_floe_event_that_does_not_decode_stops_the_pipeline() {
        let mut long = registered();
        long.push(0);
        for (name, contents) in [
            ("BlobRegistered", long),
            // One the processor keeps no state for is decoded all the same.
            ("ShardsReceived", vec![1, 0, 0, 0, 9]),
            ("NotAFloeEvent", vec![]),
        ] {
            let mut batch = Batch::default();
            let err = processor()
                .process(&checkpoint(vec![event(floe(), name, contents)]), &mut batch)
                .unwrap_err();
            let ProcessError::Decode(decode) = &err else {
                panic!("{name}: {err}");
            };
            assert_eq!((decode.at.checkpoint, decode.name.as_str()), (9, name));
            let text = err.to_string();
            assert!(
                text.contains(name) && text.contains(&Digest::new([2; 32]).to_string()),
                "{text}"
            );
            assert!(
                batch.is_empty() && batch.events.is_empty(),
                "nothing applied"
            );
        }
    }

    #[test]
    fn positions_order_like_the_chain_and_are_bounded() {
        let a = position(5, 0, 0).unwrap();
        let b = position(5, 0, 1).unwrap();
        let c = position(5, 0, EFFECTS_EVENT_INDEX).unwrap();
        let d = position(5, 1, 0).unwrap();
        let e = position(6, 0, 0).unwrap();
        assert!(a < b && b < c && c < d && d < e);
        assert!(position(1 << 31, 0, 0).is_err());
        assert!(position(1, 0x1_0000, 0).is_err());
        assert!(position(1, 0, 0x1_0000).is_err());
        assert!(position((1 << 31) - 1, 0xffff, 0xffff).unwrap() > 0);
    }

    #[test]
    fn fold_keeps_registration_and_takes_later_fields() {
        let mut p = BlobPatch {
            blob_id: "b".into(),
            size: Some(10),
            registered_epoch: Some(1),
            end_epoch: Some(3),
            status: Some("registered"),
            created_pos: Some(7),
            pos: 7,
            ..BlobPatch::default()
        };
        p.fold(BlobPatch {
            blob_id: "b".into(),
            certified_epoch: Some(1),
            end_epoch: Some(5),
            status: Some("certified"),
            pos: 9,
            ..BlobPatch::default()
        });
        assert_eq!(p.size, Some(10));
        assert_eq!(p.registered_epoch, Some(1));
        assert_eq!(p.certified_epoch, Some(1));
        assert_eq!(p.end_epoch, Some(5));
        assert_eq!(p.status, Some("certified"));
        assert_eq!(p.created_pos, Some(7));
        assert_eq!(p.pos, 9);
    }
}
