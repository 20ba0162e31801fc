//! Typed views of what the chain returns: executed transactions with their
//! status, checkpoints, objects, balances and dynamic fields, decoded from
//! the gRPC messages once so that callers never touch protobuf options.

use serde::de::DeserializeOwned;
use sui_rpc::proto::sui::rpc::v2 as proto;
use sui_sdk_types::{
    Address, Digest, Event, ExecutionError, ExecutionStatus, Object, ObjectReference, Owner,
    StructTag, Transaction, TransactionEffects,
};

use crate::error::ChainError;

/// Decodes BCS bytes of a Move value into a caller-provided mirror type.
/// Trailing bytes are an error, so a layout mismatch is not silently
/// accepted.
pub fn decode_bcs<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ChainError> {
    bcs::from_bytes(bytes).map_err(|e| ChainError::Bcs {
        type_name: std::any::type_name::<T>(),
        reason: e.to_string(),
    })
}

/// How an executed transaction ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxStatus {
    Success,
    /// A Move `abort` (or assertion) with its location and code.
    MoveAbort {
        package: Address,
        module: String,
        function: Option<String>,
        code: u64,
        command: Option<u64>,
    },
    /// Any other execution failure (insufficient gas, bad argument, ...).
    Failure {
        kind: String,
        description: Option<String>,
        command: Option<u64>,
    },
}

impl std::fmt::Display for TxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxStatus::Success => write!(f, "success"),
            TxStatus::MoveAbort {
                package,
                module,
                function,
                code,
                command,
            } => {
                let known = crate::floe::aborts::describe(package, module, *code);
                match known {
                    Some(k) => write!(f, "Move abort {module}::{} (code {code})", k.name)?,
                    None => write!(f, "Move abort {module}::{code}")?,
                }
                write!(f, " in {package}::{module}")?;
                if let Some(function) = function {
                    write!(f, "::{function}")?;
                }
                if let Some(command) = command {
                    write!(f, " (command {command})")?;
                }
                if let Some(k) = known {
                    write!(f, ": {}", k.meaning)?;
                }
                Ok(())
            }
            TxStatus::Failure {
                kind,
                description,
                command,
            } => {
                write!(f, "{kind}")?;
                if let Some(description) = description {
                    write!(f, ": {description}")?;
                }
                if let Some(command) = command {
                    write!(f, " (command {command})")?;
                }
                Ok(())
            }
        }
    }
}

impl TxStatus {
    /// From the status in the effects, with the server's human-readable
    /// description when it sent one.
    pub fn from_effects(status: &ExecutionStatus, description: Option<String>) -> Self {
        match status {
            ExecutionStatus::Success => TxStatus::Success,
            ExecutionStatus::Failure { error, command } => match error {
                ExecutionError::MoveAbort { location, code } => TxStatus::MoveAbort {
                    package: location.package,
                    module: location.module.to_string(),
                    function: location.function_name.as_ref().map(ToString::to_string),
                    code: *code,
                    command: *command,
                },
                other => {
                    let debug = format!("{other:?}");
                    // The variant name, without its fields.
                    let kind = debug
                        .split(|c: char| !c.is_alphanumeric())
                        .next()
                        .unwrap_or("ExecutionError")
                        .to_owned();
                    TxStatus::Failure {
                        kind,
                        description: description.or(Some(debug)),
                        command: *command,
                    }
                }
            },
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, TxStatus::Success)
    }
}

/// A reference to an object written by a transaction, with its new owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenObject {
    pub reference: ObjectReference,
    pub owner: Owner,
}

/// An executed (or simulated) transaction.
#[derive(Clone, Debug)]
pub struct ExecutedTx {
    pub digest: Digest,
    /// The transaction data, when the response carried it.
    pub transaction: Option<Transaction>,
    pub effects: TransactionEffects,
    pub events: Vec<Event>,
    pub status: TxStatus,
    /// Set once the transaction is in a checkpoint.
    pub checkpoint: Option<u64>,
    pub timestamp_ms: Option<u64>,
}

impl ExecutedTx {
    /// Decodes a gRPC `ExecutedTransaction`; `effects` (with BCS) are
    /// required, everything else is optional.
    pub fn from_proto(tx: &proto::ExecutedTransaction) -> Result<Self, String> {
        let effects_proto = tx.effects.as_ref().ok_or("response has no effects")?;
        let effects = TransactionEffects::try_from(effects_proto)
            .map_err(|e| format!("transaction effects: {e}"))?;
        let transaction = match &tx.transaction {
            Some(t) if t.bcs.is_some() || t.kind.is_some() => {
                Some(Transaction::try_from(t).map_err(|e| format!("transaction data: {e}"))?)
            }
            _ => None,
        };
        let digest = match &tx.digest {
            Some(d) => d
                .parse::<Digest>()
                .map_err(|e| format!("transaction digest {d:?}: {e}"))?,
            None => *effects.transaction_digest(),
        };
        if digest != *effects.transaction_digest() {
            return Err(format!(
                "digest {digest} does not match the effects' transaction digest {}",
                effects.transaction_digest()
            ));
        }
        let events = match &tx.events {
            Some(events) => decode_events(events)?,
            None => Vec::new(),
        };
        let description = effects_proto
            .status
            .as_ref()
            .and_then(|s| s.error.as_ref())
            .and_then(|e| e.description.clone());
        let status = TxStatus::from_effects(effects.status(), description);
        Ok(Self {
            digest,
            transaction,
            effects,
            events,
            status,
            checkpoint: tx.checkpoint,
            timestamp_ms: tx.timestamp.as_ref().and_then(timestamp_ms),
        })
    }

    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// Turns a failed execution into [`ChainError::ExecutionFailed`].
    pub fn ensure_success(self) -> Result<Self, ChainError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(ChainError::ExecutionFailed {
                digest: self.digest.to_string(),
                status: Box::new(self.status),
            })
        }
    }

    /// Objects created by this transaction.
    pub fn created(&self) -> Vec<WrittenObject> {
        self.written(true)
    }

    /// Objects that existed before and were modified (including the gas
    /// coin).
    pub fn mutated(&self) -> Vec<WrittenObject> {
        self.written(false)
    }

    fn written(&self, created: bool) -> Vec<WrittenObject> {
        use sui_sdk_types::ObjectChange;
        self.effects
            .object_changes()
            .filter_map(|change| match change {
                ObjectChange::Created {
                    object_id,
                    output_version,
                    output_digest,
                    output_owner,
                }
                | ObjectChange::Unwrapped {
                    object_id,
                    output_version,
                    output_digest,
                    output_owner,
                } if created => Some(WrittenObject {
                    reference: ObjectReference::new(*object_id, output_version, *output_digest),
                    owner: *output_owner,
                }),
                ObjectChange::Mutated {
                    object_id,
                    output_version,
                    output_digest,
                    output_owner,
                    ..
                } if !created => Some(WrittenObject {
                    reference: ObjectReference::new(*object_id, output_version, *output_digest),
                    owner: *output_owner,
                }),
                _ => None,
            })
            .collect()
    }

    /// Ids of objects deleted or wrapped by this transaction.
    pub fn deleted(&self) -> Vec<Address> {
        use sui_sdk_types::ObjectChange;
        self.effects
            .object_changes()
            .filter_map(|change| match change {
                ObjectChange::Deleted { object_id, .. }
                | ObjectChange::Wrapped { object_id, .. }
                | ObjectChange::UnwrappedThenDeleted { object_id } => Some(*object_id),
                _ => None,
            })
            .collect()
    }

    /// Net gas charged in MIST: computation + storage - storage rebate (may
    /// be negative when deletions refund more than was spent).
    pub fn net_gas_used(&self) -> i128 {
        let g = self.effects.gas_summary();
        i128::from(g.computation_cost) + i128::from(g.storage_cost) - i128::from(g.storage_rebate)
    }

    /// Events of exactly type `event_type`, decoded into `T`.
    pub fn events_of<T: DeserializeOwned>(
        &self,
        event_type: &StructTag,
    ) -> Result<Vec<T>, ChainError> {
        self.events
            .iter()
            .filter(|e| &e.type_ == event_type)
            .map(|e| decode_bcs(&e.contents))
            .collect()
    }
}

fn decode_events(events: &proto::TransactionEvents) -> Result<Vec<Event>, String> {
    if events.events.is_empty()
        && let Some(bcs) = &events.bcs
    {
        let decoded: sui_sdk_types::TransactionEvents = bcs
            .deserialize()
            .map_err(|e| format!("transaction events BCS: {e}"))?;
        return Ok(decoded.0);
    }
    events
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| Event::try_from(e).map_err(|err| format!("event {i}: {err}")))
        .collect()
}

pub(crate) fn timestamp_ms(t: &prost_types::Timestamp) -> Option<u64> {
    let seconds = u64::try_from(t.seconds).ok()?;
    let millis = u64::try_from(t.nanos).ok()? / 1_000_000;
    seconds.checked_mul(1000)?.checked_add(millis)
}

/// A full checkpoint: summary and every transaction with effects and
/// events.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub sequence_number: u64,
    pub digest: Option<Digest>,
    pub summary: Option<sui_sdk_types::CheckpointSummary>,
    /// The validator committee's certificate on the summary, when served.
    pub signature: Option<sui_sdk_types::ValidatorAggregatedSignature>,
    /// The transactions and effects digests the summary commits to.
    pub contents: Option<sui_sdk_types::CheckpointContents>,
    pub timestamp_ms: Option<u64>,
    pub transactions: Vec<ExecutedTx>,
    /// Input and output objects of the checkpoint's transactions, one per
    /// (id, version), when the response carried them (empty otherwise).
    pub objects: Vec<Object>,
}

impl Checkpoint {
    pub fn from_proto(c: &proto::Checkpoint) -> Result<Self, String> {
        let summary = match &c.summary {
            Some(s) if s.bcs.is_some() || s.sequence_number.is_some() => Some(
                sui_sdk_types::CheckpointSummary::try_from(s)
                    .map_err(|e| format!("checkpoint summary: {e}"))?,
            ),
            _ => None,
        };
        let sequence_number = c
            .sequence_number
            .or(summary.as_ref().map(|s| s.sequence_number))
            .ok_or("checkpoint has no sequence number")?;
        if let Some(s) = &summary
            && s.sequence_number != sequence_number
        {
            return Err(format!(
                "checkpoint {sequence_number} carries the summary of {}",
                s.sequence_number
            ));
        }
        let digest = match &c.digest {
            Some(d) => Some(
                d.parse::<Digest>()
                    .map_err(|e| format!("checkpoint digest {d:?}: {e}"))?,
            ),
            None => summary.as_ref().map(|s| s.digest()),
        };
        let transactions = c
            .transactions
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut tx = ExecutedTx::from_proto(t)
                    .map_err(|e| format!("checkpoint {sequence_number}, transaction {i}: {e}"))?;
                tx.checkpoint.get_or_insert(sequence_number);
                Ok(tx)
            })
            .collect::<Result<Vec<_>, String>>()?;
        let objects = match &c.objects {
            Some(set) => set
                .objects
                .iter()
                .enumerate()
                .map(|(i, o)| match &o.bcs {
                    Some(bcs) if bcs.value.as_ref().is_some_and(|v| !v.is_empty()) => bcs
                        .deserialize::<Object>()
                        .map_err(|e| format!("checkpoint {sequence_number}, object {i}: {e}")),
                    _ => Object::try_from(o)
                        .map_err(|e| format!("checkpoint {sequence_number}, object {i}: {e}")),
                })
                .collect::<Result<Vec<_>, String>>()?,
            None => Vec::new(),
        };
        let signature = c
            .signature
            .as_ref()
            .map(sui_sdk_types::ValidatorAggregatedSignature::try_from)
            .transpose()
            .map_err(|e| format!("checkpoint {sequence_number} signature: {e}"))?;
        let contents = match &c.contents {
            Some(contents) if contents.bcs.is_some() || !contents.transactions.is_empty() => Some(
                sui_sdk_types::CheckpointContents::try_from(contents)
                    .map_err(|e| format!("checkpoint {sequence_number} contents: {e}"))?,
            ),
            _ => None,
        };
        Ok(Self {
            sequence_number,
            digest,
            objects,
            timestamp_ms: summary.as_ref().map(|s| s.timestamp_ms),
            summary,
            signature,
            contents,
            transactions,
        })
    }
}

/// An object with its reference (id, version, digest).
#[derive(Clone, Debug)]
pub struct ObjectInfo {
    pub object: Object,
    pub reference: ObjectReference,
    /// The coin balance, for `0x2::coin::Coin<T>` objects, when known.
    pub balance: Option<u64>,
}

impl ObjectInfo {
    /// Decodes a gRPC object read with [`crate::reads::OBJECT_MASK`].
    pub fn from_proto(o: &proto::Object) -> Result<Self, String> {
        let object = match &o.bcs {
            Some(bcs) if bcs.value.as_ref().is_some_and(|v| !v.is_empty()) => bcs
                .deserialize::<Object>()
                .map_err(|e| format!("object BCS: {e}"))?,
            _ => Object::try_from(o).map_err(|e| format!("object: {e}"))?,
        };
        let digest = object.digest();
        if let Some(claimed) = &o.digest
            && claimed.parse::<Digest>().ok() != Some(digest)
        {
            return Err(format!(
                "object {} digest {claimed} does not match its contents ({digest})",
                object.object_id()
            ));
        }
        let reference = ObjectReference::new(object.object_id(), object.version(), digest);
        let balance = o.balance.or_else(|| coin_balance(&object));
        Ok(Self {
            object,
            reference,
            balance,
        })
    }

    pub fn id(&self) -> Address {
        self.object.object_id()
    }

    pub fn version(&self) -> u64 {
        self.object.version()
    }

    /// The Move type, or `None` for packages.
    pub fn struct_type(&self) -> Option<&StructTag> {
        self.object.as_struct().map(|s| s.object_type())
    }

    /// The Move contents decoded into `T` (a serde mirror of the struct,
    /// starting with its `UID`).
    pub fn contents_as<T: DeserializeOwned>(&self) -> Result<T, ChainError> {
        let s = self.object.as_struct().ok_or_else(|| ChainError::Bcs {
            type_name: std::any::type_name::<T>(),
            reason: format!("object {} is a package, not a Move struct", self.id()),
        })?;
        decode_bcs(s.contents())
    }
}

/// The balance of a `Coin<T>` is the u64 after its 32-byte UID.
fn coin_balance(object: &Object) -> Option<u64> {
    let s = object.as_struct()?;
    let tag = s.object_type();
    if tag.address() != &Address::TWO
        || tag.module().as_str() != "coin"
        || tag.name().as_str() != "Coin"
    {
        return None;
    }
    let bytes: [u8; 8] = s.contents().get(32..40)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// One page of a listing, with the token for the next page.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque; `None` at the end of the listing.
    pub next: Option<PageToken>,
}

/// Opaque continuation token of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageToken(pub(crate) prost::bytes::Bytes);

/// The total balance of one coin type for an owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub coin_type: String,
    pub total: u64,
}

/// One dynamic field of a parent object.
#[derive(Clone, Debug)]
pub struct DynamicFieldInfo {
    pub field_id: Address,
    /// True for dynamic object fields (the value is a separate object).
    pub is_object: bool,
    /// BCS of the field's name (key).
    pub name_bcs: Vec<u8>,
    pub value_type: Option<String>,
    /// BCS of the value, for plain dynamic fields when the server sent it.
    pub value_bcs: Option<Vec<u8>>,
    /// The child object id, for dynamic object fields.
    pub child_id: Option<Address>,
}

impl DynamicFieldInfo {
    pub fn from_proto(f: &proto::DynamicField) -> Result<Self, String> {
        let field_id = f
            .field_id
            .as_deref()
            .ok_or("dynamic field without field_id")?
            .parse::<Address>()
            .map_err(|e| format!("dynamic field id: {e}"))?;
        let child_id = f
            .child_id
            .as_deref()
            .map(|c| c.parse::<Address>())
            .transpose()
            .map_err(|e| format!("dynamic field child id: {e}"))?;
        let kind = f.kind.unwrap_or_default();
        Ok(Self {
            field_id,
            is_object: kind == proto::dynamic_field::DynamicFieldKind::Object as i32
                || child_id.is_some(),
            name_bcs: f.name.as_ref().map(Vec::from).unwrap_or_default(),
            value_type: f.value_type.clone(),
            value_bcs: f.value.as_ref().map(Vec::from),
            child_id,
        })
    }

    pub fn name_as<T: DeserializeOwned>(&self) -> Result<T, ChainError> {
        decode_bcs(&self.name_bcs)
    }

    pub fn value_as<T: DeserializeOwned>(&self) -> Result<T, ChainError> {
        let bytes = self.value_bcs.as_deref().ok_or_else(|| ChainError::Bcs {
            type_name: std::any::type_name::<T>(),
            reason: format!("dynamic field {} has no value bytes", self.field_id),
        })?;
        decode_bcs(bytes)
    }
}

/// What a node says about itself.
#[derive(Clone, Debug)]
pub struct ServiceInfo {
    pub chain_id: Option<String>,
    pub chain: Option<String>,
    pub epoch: Option<u64>,
    pub checkpoint_height: Option<u64>,
    pub lowest_available_checkpoint: Option<u64>,
}

#[cfg(test)]
mod tests;
