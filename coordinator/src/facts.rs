//! What the coordinator learns from one checkpoint: the epoch changes it
//! carries (with the state every touched object had before and after),
//! the shared blobs written, the nodes that reported `epoch_sync_done`,
//! and the epoch changes that completed.
//!
//! Pure: it reads only the checkpoint, whose objects are every input and
//! output version of its transactions and which the stream verified
//! against the validator committee. That is why reconciliation needs no
//! historical object reads: the epoch-change transaction's own checkpoint
//! holds the `SystemStateInnerV1`, each `StakingPool` and the WAL
//! `TreasuryCap` as they were just before and just after it.

use std::collections::HashMap;

use floe_chain::floe::FloeIds;
use floe_chain::sui_sdk_types::{Address, Object, ObjectChange, StructTag, TypeTag, Version};
use floe_chain::{
    Checkpoint, EventDecodeError, EventPosition, ExecutedTx, FloeEvent, decode_event,
};
use floe_core::move_types::{
    DynamicField, FutureAccountingRingBuffer, ObjectId, SharedBlob, StakingInnerV1, StakingPool,
    StorageNodeCap, SystemStateInnerV1,
};
use serde::{Deserialize, Serialize};

use crate::reconcile::{EpochInputs, Member, Observed, ObservedPool, Origin};

/// The last state seen of a shared blob (from the newest version a
/// checkpoint carried).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedBlobSeen {
    /// The blob id (URL-safe base64).
    pub blob_id: String,
    pub end_epoch: u32,
    pub funds: u64,
    /// Encoded size the storage covers (what an extension is priced on).
    pub storage_size: u64,
    pub certified: bool,
}

/// One epoch change as its transaction shows it.
#[derive(Debug, Clone)]
pub struct EpochChange {
    /// The epoch that started.
    pub new_epoch: u32,
    pub origin: Origin,
    /// The reconciliation's inputs (deny-list sizes still 0) and
    /// observations, or why the checkpoint did not allow them.
    pub payments: Result<(EpochInputs, Observed), String>,
    /// The `deny_list_sizes` extended field's id (read separately: the
    /// transaction only reads it, so the checkpoint need not carry it).
    pub deny_list_parent: Option<Address>,
    /// The new committee: node id and shard count.
    pub committee: Vec<(String, u16)>,
    /// Node names from the pools the change touched.
    pub names: Vec<(String, String)>,
}

/// Everything of interest in one checkpoint.
#[derive(Debug, Clone, Default)]
pub struct CheckpointFacts {
    pub epoch_changes: Vec<EpochChange>,
    /// Shared blobs written (created, funded, extended), newest state.
    pub shared_blobs: Vec<(String, SharedBlobSeen)>,
    /// `(node id, epoch)` of every capability written with its
    /// `last_epoch_sync_done`.
    pub sync_done: Vec<(String, u32)>,
    /// Epochs whose change reached quorum, with the checkpoint's time.
    pub changes_done: Vec<(u32, Option<u64>)>,
    /// Storage price per unit and ring length of the last system state
    /// written.
    pub system_prices: Option<(u64, u32)>,
}

/// A checkpoint's objects by (id, version).
struct Objects<'a>(HashMap<(Address, Version), &'a Object>);

impl<'a> Objects<'a> {
    fn new(objects: &'a [Object]) -> Self {
        Self(
            objects
                .iter()
                .map(|o| ((o.object_id(), o.version()), o))
                .collect(),
        )
    }

    fn get(&self, id: &Address, version: Option<Version>) -> Option<&'a Object> {
        version.and_then(|v| self.0.get(&(*id, v)).copied())
    }
}

fn is_floe(tag: &StructTag, ids: &FloeIds, module: &str, name: &str) -> bool {
    tag.address() == &ids.floe_package
        && tag.module().as_str() == module
        && tag.name().as_str() == name
}

/// `0x2::dynamic_field::Field<_, floe::module::name>`.
fn is_field_of(tag: &StructTag, ids: &FloeIds, module: &str, name: &str) -> bool {
    tag.address() == &Address::TWO
        && tag.module().as_str() == "dynamic_field"
        && tag.name().as_str() == "Field"
        && matches!(tag.type_params().get(1), Some(TypeTag::Struct(v)) if is_floe(v, ids, module, name))
}

/// `0x2::coin::TreasuryCap<wal::wal::WAL>`.
fn is_wal_treasury_cap(tag: &StructTag, ids: &FloeIds) -> bool {
    tag.address() == &Address::TWO
        && tag.module().as_str() == "coin"
        && tag.name().as_str() == "TreasuryCap"
        && tag.type_params().first() == Some(&ids.wal_type())
}

fn contents(o: &Object) -> Option<(&StructTag, &[u8])> {
    o.as_struct().map(|s| (s.object_type(), s.contents()))
}

fn decode<T: serde::de::DeserializeOwned>(o: &Object, what: &str) -> Result<T, String> {
    let (_, bytes) = contents(o).ok_or_else(|| format!("{what} is a package"))?;
    bcs::from_bytes(bytes).map_err(|e| format!("{what} {}: {e}", o.object_id()))
}

/// The `TreasuryCap<T>` layout: its id and the supply (a `u64`).
#[derive(Deserialize)]
struct TreasuryCap {
    _id: ObjectId,
    total_supply: u64,
}

/// `ring_lookup(ring, i)`: the entry `i` epochs after the current one.
fn ring_entry(
    ring: &FutureAccountingRingBuffer,
    i: u32,
) -> Result<&floe_core::move_types::FutureAccounting, String> {
    if ring.length == 0 || i >= ring.length {
        return Err(format!("ring of length {} has no entry {i}", ring.length));
    }
    let index = (u64::from(i) + u64::from(ring.current_index)) % u64::from(ring.length);
    ring.ring_buffer
        .get(index as usize)
        .ok_or_else(|| "ring buffer shorter than its length".to_owned())
}

fn id_text(id: &ObjectId) -> String {
    id.to_string()
}

/// Reads `checkpoint` for the coordinator. Its events come from the one
/// typed decoding (`floe_chain::events`): an event of floe's packages that
/// does not decode is the error, and the follower does not move past it.
pub fn checkpoint_facts(
    ids: &FloeIds,
    checkpoint: &Checkpoint,
) -> Result<CheckpointFacts, EventDecodeError> {
    let objects = Objects::new(&checkpoint.objects);
    let mut facts = CheckpointFacts::default();
    let packages = ids.packages();
    for tx in &checkpoint.transactions {
        if !tx.is_success() {
            continue;
        }
        // Objects written by this transaction.
        for change in tx.effects.object_changes() {
            let (id, output) = match change {
                ObjectChange::Created {
                    object_id,
                    output_version,
                    ..
                }
                | ObjectChange::Mutated {
                    object_id,
                    output_version,
                    ..
                }
                | ObjectChange::Unwrapped {
                    object_id,
                    output_version,
                    ..
                } => (object_id, output_version),
                _ => continue,
            };
            let Some(o) = objects.get(id, Some(output)) else {
                continue;
            };
            let Some((tag, _)) = contents(o) else {
                continue;
            };
            if is_field_of(tag, ids, "system_state_inner", "SystemStateInnerV1") {
                if let Ok(f) = decode::<DynamicField<u64, SystemStateInnerV1>>(o, "system state") {
                    facts.system_prices = Some((
                        f.value.storage_price_per_unit_size,
                        f.value.future_accounting.length,
                    ));
                }
            } else if is_floe(tag, ids, "shared_blob", "SharedBlob") {
                if let Ok(s) = decode::<SharedBlob>(o, "shared blob") {
                    facts.shared_blobs.push((
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
            } else if is_floe(tag, ids, "storage_node", "StorageNodeCap")
                && let Ok(cap) = decode::<StorageNodeCap>(o, "node capability")
            {
                facts
                    .sync_done
                    .push((id_text(&cap.node_id), cap.last_epoch_sync_done));
            }
        }
        for (event_index, event) in tx.events.iter().enumerate() {
            let at = EventPosition {
                checkpoint: checkpoint.sequence_number,
                tx_digest: tx.digest,
                event_index,
            };
            match decode_event(event, &packages, at)? {
                Some(FloeEvent::EpochChangeStart(e)) => facts
                    .epoch_changes
                    .push(epoch_change(ids, tx, &objects, e.epoch, checkpoint)),
                Some(FloeEvent::EpochChangeDone(e)) => {
                    facts.changes_done.push((e.epoch, checkpoint.timestamp_ms));
                }
                _ => {}
            }
        }
    }
    Ok(facts)
}

/// Before/after states of the objects an epoch change touched.
#[derive(Default)]
struct Touched {
    inner: Option<(SystemStateInnerV1, SystemStateInnerV1)>,
    staking_after: Option<StakingInnerV1>,
    supply: Option<(u64, u64)>,
    pools: Vec<(StakingPool, StakingPool)>,
}

fn touched(ids: &FloeIds, tx: &ExecutedTx, objects: &Objects<'_>) -> Result<Touched, String> {
    let mut t = Touched::default();
    for change in tx.effects.object_changes() {
        let ObjectChange::Mutated {
            object_id,
            input_version,
            output_version,
            ..
        } = change
        else {
            continue;
        };
        let (Some(before), Some(after)) = (
            objects.get(object_id, input_version),
            objects.get(object_id, Some(output_version)),
        ) else {
            continue;
        };
        let Some((tag, _)) = contents(after) else {
            continue;
        };
        if is_field_of(tag, ids, "system_state_inner", "SystemStateInnerV1") {
            let b: DynamicField<u64, SystemStateInnerV1> = decode(before, "system state")?;
            let a: DynamicField<u64, SystemStateInnerV1> = decode(after, "system state")?;
            t.inner = Some((b.value, a.value));
        } else if is_field_of(tag, ids, "staking_inner", "StakingInnerV1") {
            let a: DynamicField<u64, StakingInnerV1> = decode(after, "staking state")?;
            t.staking_after = Some(a.value);
        } else if is_floe(tag, ids, "staking_pool", "StakingPool") {
            t.pools
                .push((decode(before, "pool")?, decode(after, "pool")?));
        } else if is_wal_treasury_cap(tag, ids) {
            let b: TreasuryCap = decode(before, "treasury cap")?;
            let a: TreasuryCap = decode(after, "treasury cap")?;
            t.supply = Some((b.total_supply, a.total_supply));
        }
    }
    Ok(t)
}

fn epoch_change(
    ids: &FloeIds,
    tx: &ExecutedTx,
    objects: &Objects<'_>,
    new_epoch: u32,
    checkpoint: &Checkpoint,
) -> EpochChange {
    let origin = Origin {
        tx_digest: tx.digest.to_string(),
        checkpoint: checkpoint.sequence_number,
        timestamp_ms: checkpoint.timestamp_ms,
    };
    let mut change = EpochChange {
        new_epoch,
        origin,
        payments: Err(String::new()),
        deny_list_parent: None,
        committee: Vec::new(),
        names: Vec::new(),
    };
    let t = match touched(ids, tx, objects) {
        Ok(t) => t,
        Err(e) => {
            change.payments = Err(e);
            return change;
        }
    };
    if let Some(s) = &t.staking_after {
        change.committee = s
            .committee
            .pos0
            .contents
            .iter()
            .map(|e| (id_text(&e.key), e.value.len() as u16))
            .collect();
    }
    change.names = t
        .pools
        .iter()
        .map(|(_, a)| (id_text(&a.id), a.node_info.name.clone()))
        .collect();
    if let Some((before, _)) = &t.inner {
        change.deny_list_parent = Some(Address::new(before.deny_list_sizes.id.0));
    }
    change.payments = payments(new_epoch, &t);
    change
}

fn payments(new_epoch: u32, t: &Touched) -> Result<(EpochInputs, Observed), String> {
    let missing = |what: &str| {
        format!("the checkpoint does not carry the {what} before and after the epoch change")
    };
    let (before, after) = t.inner.as_ref().ok_or_else(|| missing("system state"))?;
    let (supply_before, supply_after) = t.supply.ok_or_else(|| missing("WAL treasury cap"))?;
    let ended = new_epoch
        .checked_sub(1)
        .ok_or("an epoch change into epoch 0")?;
    let bucket = ring_entry(&before.future_accounting, 0)?;
    if bucket.epoch != ended {
        return Err(format!(
            "the ring's current entry is for epoch {}, not the ended epoch {ended}",
            bucket.epoch
        ));
    }
    let next_before = ring_entry(&before.future_accounting, 1)?;
    let next_after = ring_entry(&after.future_accounting, 0)?;
    if next_before.epoch != new_epoch || next_after.epoch != new_epoch {
        return Err(format!(
            "the ring's entries for epoch {new_epoch} do not line up ({} / {})",
            next_before.epoch, next_after.epoch
        ));
    }
    let pools: HashMap<ObjectId, &(StakingPool, StakingPool)> =
        t.pools.iter().map(|p| (p.1.id, p)).collect();
    let members = before
        .committee
        .members
        .iter()
        .map(|m| {
            let pool = pools.get(&m.node_id).map(|p| &p.0);
            Member {
                node_id: id_text(&m.node_id),
                name: pool.map(|p| p.node_info.name.clone()).unwrap_or_default(),
                shards: m.weight,
                deny_list_size: 0,
                // A member's pool is always advanced; if the checkpoint
                // lacks it the pool shows as untouched in the report.
                commission_rate: pool.map_or(0, |p| p.commission_rate),
            }
        })
        .collect();
    let observed_pools = t
        .pools
        .iter()
        .map(|(b, a)| {
            let grown = |x: u64, y: u64, what: &str| {
                y.checked_sub(x)
                    .ok_or_else(|| format!("pool {}: {what} fell from {x} to {y}", id_text(&a.id)))
            };
            Ok((
                id_text(&a.id),
                ObservedPool {
                    staker_reward: grown(b.rewards_pool.value, a.rewards_pool.value, "rewards")?,
                    commission: grown(b.commission.value, a.commission.value, "commission")?,
                },
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let carry_over = next_after
        .rewards_to_distribute
        .value
        .checked_sub(next_before.rewards_to_distribute.value)
        .ok_or_else(|| format!("epoch {new_epoch}'s bucket shrank during the change"))?;
    let burn = supply_before
        .checked_sub(supply_after)
        .ok_or("the WAL supply grew during the epoch change")?;
    Ok((
        EpochInputs {
            epoch: ended,
            bucket: bucket.rewards_to_distribute.value,
            used_capacity: bucket.used_capacity,
            members,
        },
        Observed {
            burn,
            carry_over,
            pools: observed_pools,
        },
    ))
}
