//! Rows that come from object contents rather than events: storage
//! resources, blob attributes and payments.
//!
//! No event announces a `Storage` object, an attribute change or a fee, so
//! these are read from the objects a checkpoint carries (every input and
//! output version of its transactions), matched to each transaction through
//! its effects' object changes (id and version):
//!
//! - `Storage` objects written by a transaction (bought, split, fused,
//!   returned by `delete_blob`) become `storage_resources` rows with their
//!   fields; wrapping (into a blob) and deletion reach the same rows through
//!   the generic object changes.
//! - The `metadata` dynamic field of a blob (`Field<vector<u8>, Metadata>`,
//!   owned by the blob's id) carries its attributes: its written version is
//!   the blob's whole key/value map, its deletion empties it.
//! - Fees: every WAL the system receives lands in its rewards ring
//!   (`future_accounting`), so the growth of the ring's balances between the
//!   transaction's input and output `SystemStateInnerV1` is what it paid.
//!   The write fee is recomputed from the registered sizes and the write
//!   price; the rest is the storage fee or, in a transaction that only adds
//!   subsidies, a subsidy.

use std::collections::HashMap;

use floe_chain::ExecutedTx;
use floe_chain::sui_sdk_types::{
    Address, Command, Object, ObjectChange, Owner, StructTag, TransactionKind, TypeTag, Version,
};
use floe_core::move_types::{DynamicField, Metadata, Storage, SystemStateInnerV1};

/// Bytes per storage unit (1 MiB), as the contract rounds sizes.
const BYTES_PER_UNIT: u64 = 1 << 20;

/// The written state of one `Storage` object.
#[derive(Debug, Clone, PartialEq)]
pub struct StoragePatch {
    pub owner: String,
    pub start_epoch: i32,
    pub end_epoch: i32,
    pub storage_size: i64,
    pub pos: i64,
}

/// A blob's attributes after a transaction: `None` when its metadata field
/// was removed.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributesPatch {
    /// JSON object text (`{}` when removed).
    pub attributes: String,
    pub pos: i64,
}

/// One fee or subsidy of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRow {
    pub pos: i64,
    /// `storage_fee`, `write_fee` or `subsidy`.
    pub kind: &'static str,
    pub payer: String,
    pub epoch: i32,
    pub amount: i64,
    pub tx_digest: String,
}

/// A checkpoint's objects by (id, version).
pub struct ObjectIndex<'a>(HashMap<(Address, Version), &'a Object>);

impl<'a> ObjectIndex<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        Self(
            objects
                .iter()
                .map(|o| ((o.object_id(), o.version()), o))
                .collect(),
        )
    }

    pub(crate) fn get(&self, id: &Address, version: Option<Version>) -> Option<&'a Object> {
        version.and_then(|v| self.0.get(&(*id, v)).copied())
    }
}

/// What one transaction contributes.
#[derive(Debug, Default)]
pub struct TxObjects {
    pub storage: Vec<(String, StoragePatch)>,
    pub attributes: Vec<(String, AttributesPatch)>,
    pub payments: Vec<PaymentRow>,
}

pub(crate) fn is_floe(tag: &StructTag, floe: &Address, module: &str, name: &str) -> bool {
    tag.address() == floe && tag.module().as_str() == module && tag.name().as_str() == name
}

/// `0x2::dynamic_field::Field<_, floe::module::name>`.
pub(crate) fn is_field_of(tag: &StructTag, floe: &Address, module: &str, name: &str) -> bool {
    tag.address() == &Address::TWO
        && tag.module().as_str() == "dynamic_field"
        && tag.name().as_str() == "Field"
        && matches!(tag.type_params().get(1), Some(TypeTag::Struct(v)) if is_floe(v, floe, module, name))
}

pub(crate) fn contents(o: &Object) -> Option<(&StructTag, &[u8])> {
    o.as_struct().map(|s| (s.object_type(), s.contents()))
}

pub(crate) fn id_text(a: &Address) -> String {
    format!("0x{}", hex::encode(a.as_bytes()))
}

/// Total WAL held by the rewards ring of a system state.
fn ring_total(inner: &SystemStateInnerV1) -> u128 {
    inner
        .future_accounting
        .ring_buffer
        .iter()
        .map(|a| u128::from(a.rewards_to_distribute.value))
        .sum()
}

/// Why an object of a known type did not decode; the pipeline stops on it
/// (a layout drift must not silently drop rows).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("object {object_id} ({type_name}): {reason}")]
pub struct ObjectError {
    pub object_id: String,
    pub type_name: &'static str,
    pub reason: String,
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    o: &Object,
    bytes: &[u8],
    type_name: &'static str,
) -> Result<T, ObjectError> {
    bcs::from_bytes(bytes).map_err(|e| ObjectError {
        object_id: id_text(&o.object_id()),
        type_name,
        reason: e.to_string(),
    })
}

/// Collects the object-derived rows of `tx`. `registered_sizes` are the
/// unencoded sizes of the blobs it registered; `encoded` turns one into the
/// encoded size (`None` when the shard count is unknown).
pub fn tx_objects(
    floe: &Address,
    tx: &ExecutedTx,
    objects: &ObjectIndex<'_>,
    pos: i64,
    registered_sizes: &[u64],
    encoded: impl Fn(u64) -> Option<u64>,
) -> Result<TxObjects, ObjectError> {
    let mut out = TxObjects::default();
    let mut inner_in: Option<SystemStateInnerV1> = None;
    let mut inner_out: Option<SystemStateInnerV1> = None;
    for change in tx.effects.object_changes() {
        let (id, input, output, output_owner) = match change {
            ObjectChange::Created {
                object_id,
                output_version,
                output_owner,
                ..
            }
            | ObjectChange::Unwrapped {
                object_id,
                output_version,
                output_owner,
                ..
            } => (object_id, None, Some(output_version), Some(output_owner)),
            ObjectChange::Mutated {
                object_id,
                input_version,
                output_version,
                output_owner,
                ..
            } => (
                object_id,
                input_version,
                Some(output_version),
                Some(output_owner),
            ),
            ObjectChange::Deleted {
                object_id,
                input_version,
                ..
            }
            | ObjectChange::Wrapped {
                object_id,
                input_version,
                ..
            } => (object_id, input_version, None, None),
            _ => continue,
        };
        let before = objects.get(id, input);
        let after = objects.get(id, output);
        if let Some(o) = after
            && let Some((tag, bytes)) = contents(o)
        {
            if is_floe(tag, floe, "storage_resource", "Storage") {
                let s: Storage = decode(o, bytes, "Storage")?;
                out.storage.push((
                    id_text(id),
                    StoragePatch {
                        owner: crate::processor::owner_text(o.owner()),
                        start_epoch: i32::try_from(s.start_epoch).unwrap_or(i32::MAX),
                        end_epoch: i32::try_from(s.end_epoch).unwrap_or(i32::MAX),
                        storage_size: i64::try_from(s.storage_size).unwrap_or(i64::MAX),
                        pos,
                    },
                ));
            } else if is_field_of(tag, floe, "metadata", "Metadata")
                && let Some(Owner::Object(blob)) = output_owner
            {
                let f: DynamicField<Vec<u8>, Metadata> = decode(o, bytes, "metadata field")?;
                let map: serde_json::Map<String, serde_json::Value> = f
                    .value
                    .metadata
                    .contents
                    .into_iter()
                    .map(|e| (e.key, serde_json::Value::String(e.value)))
                    .collect();
                out.attributes.push((
                    id_text(blob),
                    AttributesPatch {
                        attributes: serde_json::Value::Object(map).to_string(),
                        pos,
                    },
                ));
            } else if is_field_of(tag, floe, "system_state_inner", "SystemStateInnerV1") {
                let f: DynamicField<u64, SystemStateInnerV1> = decode(o, bytes, "system state")?;
                inner_out = Some(f.value);
            }
        }
        if let Some(o) = before
            && let Some((tag, bytes)) = contents(o)
        {
            if output.is_none()
                && is_field_of(tag, floe, "metadata", "Metadata")
                && let Owner::Object(blob) = o.owner()
            {
                out.attributes.push((
                    id_text(blob),
                    AttributesPatch {
                        attributes: "{}".into(),
                        pos,
                    },
                ));
            } else if is_field_of(tag, floe, "system_state_inner", "SystemStateInnerV1") {
                let f: DynamicField<u64, SystemStateInnerV1> = decode(o, bytes, "system state")?;
                inner_in = Some(f.value);
            }
        }
    }
    if let (Some(before), Some(after)) = (inner_in, inner_out) {
        out.payments = payments(floe, tx, &before, &after, pos, registered_sizes, encoded);
    }
    Ok(out)
}

/// Splits what the system received in `tx` into fees and subsidies.
fn payments(
    floe: &Address,
    tx: &ExecutedTx,
    before: &SystemStateInnerV1,
    after: &SystemStateInnerV1,
    pos: i64,
    registered_sizes: &[u64],
    encoded: impl Fn(u64) -> Option<u64>,
) -> Vec<PaymentRow> {
    let Some(t) = &tx.transaction else {
        return Vec::new();
    };
    let TransactionKind::ProgrammableTransaction(ptb) = &t.kind else {
        return Vec::new();
    };
    let calls: Vec<&str> = ptb
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::MoveCall(m) if &m.package == floe && m.module.as_str() == "system" => {
                Some(m.function.as_str())
            }
            _ => None,
        })
        .collect();
    let buys = calls.iter().any(|f| {
        matches!(
            *f,
            "reserve_space" | "reserve_space_for_epochs" | "extend_blob"
        )
    });
    let subsidises = calls
        .iter()
        .any(|f| matches!(*f, "add_subsidy" | "add_per_epoch_subsidies"));
    let paid = ring_total(after).saturating_sub(ring_total(before));
    let write: u128 = registered_sizes
        .iter()
        .filter_map(|s| encoded(*s))
        .map(|e| {
            u128::from(e.div_ceil(BYTES_PER_UNIT)) * u128::from(after.write_price_per_unit_size)
        })
        .sum::<u128>()
        .min(paid);
    let rest = paid - write;
    let epoch = i32::try_from(before.committee.epoch).unwrap_or(i32::MAX);
    let row = |kind: &'static str, amount: u128| PaymentRow {
        pos,
        kind,
        payer: id_text(&t.sender),
        epoch,
        amount: i64::try_from(amount).unwrap_or(i64::MAX),
        tx_digest: tx.digest.to_string(),
    };
    let mut rows = Vec::new();
    if write > 0 {
        rows.push(row("write_fee", write));
    }
    if rest > 0 {
        // A transaction that both buys storage and adds a subsidy is
        // booked as a storage fee: the two cannot be told apart from
        // balances alone.
        if buys || !subsidises {
            rows.push(row("storage_fee", rest));
        } else {
            rows.push(row("subsidy", rest));
        }
    }
    rows
}
