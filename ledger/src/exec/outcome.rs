//! Turning an interpreter run into object writes, gas charges and Sui
//! effects (`TransactionEffects::V2`).

use std::collections::{BTreeMap, BTreeSet};

use floe_runtime::ObjectSource;
use floe_runtime::framework::CoinData;
use floe_runtime::{Registry, Runtime};
use sui_sdk_types::{
    Address, ChangedObject, Digest, ExecutionError, ExecutionStatus, GasCostSummary, IdOperation,
    MoveStruct, Object, ObjectData, ObjectIn, ObjectOut, Owner, StructTag, Transaction,
    TransactionEffects, TransactionEffectsV2, TransactionEvents, UnchangedConsensusKind,
    UnchangedConsensusObject,
};

use super::checks::Checked;
use super::gas::{computation_cost, storage_cost};
use super::ptb::{Failure, ObjSlot};
use crate::store::TxRecord;

/// A pending write: the new owner, type and contents of one object.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub owner: Owner,
    pub ty: StructTag,
    pub contents: Vec<u8>,
}

/// Context shared by the success and failure paths.
pub(crate) struct Outcome<'a> {
    pub state: &'a dyn ObjectSource,
    pub registry: &'a Registry,
    pub checked: &'a Checked,
    pub tx: &'a Transaction,
    pub digest: Digest,
    pub now_ms: u64,
}

/// Placeholder owner for objects shared in this transaction; replaced by
/// `Shared(lamport_version)` once the version is known.
const NEW_SHARED: Owner = Owner::Shared(u64::MAX);

impl Outcome<'_> {
    fn pre(&self, id: &Address) -> Option<Object> {
        self.checked
            .objects
            .get(id)
            .map(|i| i.object.clone())
            .or_else(|| {
                self.checked
                    .gas
                    .iter()
                    .find(|g| g.object_id() == *id)
                    .cloned()
            })
            .or_else(|| self.state.object(id).cloned())
    }

    fn set_coin_value(write: &mut Write, value: u64) {
        if let Ok(mut coin) = bcs::from_bytes::<CoinData>(&write.contents) {
            coin.value = value;
            write.contents = bcs::to_bytes(&coin).unwrap_or_default();
        }
    }

    /// The success path; returns a failure if gas turns out insufficient.
    pub fn success(
        &self,
        rt: Runtime<'_>,
        slots: Vec<ObjSlot>,
        gas: ObjSlot,
    ) -> Result<TxRecord, Failure> {
        let mut writes: BTreeMap<Address, Write> = BTreeMap::new();
        let mut deleted: BTreeSet<Address> = rt.deleted().clone();
        let mut wrapped: BTreeSet<Address> = BTreeSet::new();
        let mut created: BTreeSet<Address> = rt.created().clone();

        for slot in slots.iter().chain(std::iter::once(&gas)) {
            let owner = self.pre(&slot.id).map(|o| *o.owner());
            match (&slot.value, owner) {
                (Some(v), Some(owner)) if slot.mutable => {
                    if let Some(tag) = v.struct_tag() {
                        writes.insert(
                            slot.id,
                            Write {
                                owner,
                                ty: tag.clone(),
                                contents: v.bytes.clone(),
                            },
                        );
                    }
                }
                (None, _)
                    if !rt.disposals().contains_key(&slot.id)
                        && !rt.deleted().contains(&slot.id)
                        && !rt.is_live_child(&slot.id) =>
                {
                    wrapped.insert(slot.id);
                }
                _ => {}
            }
        }
        for (id, d) in rt.disposals() {
            let Some(tag) = d.value.struct_tag() else {
                continue;
            };
            let owner = match d.owner {
                floe_runtime::NewOwner::Address(a) => Owner::Address(a),
                floe_runtime::NewOwner::Shared => NEW_SHARED,
                floe_runtime::NewOwner::Immutable => Owner::Immutable,
            };
            writes.insert(
                *id,
                Write {
                    owner,
                    ty: tag.clone(),
                    contents: d.value.bytes.clone(),
                },
            );
        }
        for (id, child) in rt.children() {
            if !child.dirty {
                continue;
            }
            match &child.contents {
                Some(contents) => {
                    if !child.existed {
                        created.insert(*id);
                    }
                    writes.insert(
                        *id,
                        Write {
                            owner: Owner::Object(child.parent),
                            ty: child.ty.clone(),
                            contents: contents.clone(),
                        },
                    );
                }
                None if child.existed => {
                    deleted.insert(*id);
                }
                None => {}
            }
        }
        // Objects taken out of a dynamic object field that went nowhere
        // else are wrapped (stored inside another value).
        for id in rt.released() {
            if !writes.contains_key(id) && !deleted.contains(id) {
                wrapped.insert(*id);
            }
        }
        // Objects created and then wrapped never become visible.
        created.retain(|id| writes.contains_key(id));
        // Merged-away gas coins are deleted.
        for g in self.checked.gas.iter().skip(1) {
            deleted.insert(g.object_id());
        }
        let budget = self.tx.gas_payment.budget;
        let computation =
            computation_cost(self.tx.gas_payment.price, self.checked.ptb.commands.len());
        let storage = storage_cost(writes.values().map(|w| w.contents.len()));
        let fee = computation.saturating_add(storage);
        if fee > budget {
            return Err(Failure {
                error: Box::new(ExecutionError::InsufficientGas),
                command: None,
                description: format!(
                    "the transaction costs {fee} MIST, over its budget of {budget}"
                ),
            });
        }
        let gas_id = gas.id;
        if let Some(w) = writes.get_mut(&gas_id) {
            let coin: Option<CoinData> = bcs::from_bytes(&w.contents).ok();
            let value = coin
                .map(|c| c.value)
                .unwrap_or(0)
                .saturating_add(budget - fee);
            Self::set_coin_value(w, value);
        }
        let summary = GasCostSummary::new(computation, storage, 0, 0);
        let events: Vec<_> = rt.events().to_vec();
        let children_versions: Vec<u64> = rt
            .children()
            .iter()
            .filter(|(_, c)| c.existed)
            .filter_map(|(id, _)| self.state.object(id).map(Object::version))
            .collect();
        Ok(self.finish(
            ExecutionStatus::Success,
            None,
            summary,
            writes,
            deleted,
            wrapped,
            created,
            events,
            children_versions,
            gas_id,
        ))
    }

    /// The failure path: nothing changes but gas (and the versions of the
    /// mutable inputs, which are bumped as on Sui).
    pub fn failure(&self, failure: Failure) -> TxRecord {
        let mut writes = BTreeMap::new();
        for (id, input) in &self.checked.objects {
            if input.mutable
                && let Some(s) = input.object.as_struct()
            {
                writes.insert(
                    *id,
                    Write {
                        owner: *input.object.owner(),
                        ty: s.object_type().clone(),
                        contents: s.contents().to_vec(),
                    },
                );
            }
        }
        let gas = &self.checked.gas[0];
        let gas_id = gas.object_id();
        if let Some(s) = gas.as_struct() {
            writes.insert(
                gas_id,
                Write {
                    owner: *gas.owner(),
                    ty: s.object_type().clone(),
                    contents: s.contents().to_vec(),
                },
            );
        }
        let budget = self.tx.gas_payment.budget;
        let computation =
            computation_cost(self.tx.gas_payment.price, self.checked.ptb.commands.len());
        let storage = storage_cost(writes.values().map(|w| w.contents.len()));
        let (computation, storage) = if computation.saturating_add(storage) > budget {
            let c = computation.min(budget);
            (c, budget - c)
        } else {
            (computation, storage)
        };
        let fee = computation + storage;
        if let Some(w) = writes.get_mut(&gas_id) {
            Self::set_coin_value(w, self.checked.gas_total.saturating_sub(fee));
        }
        let deleted = self
            .checked
            .gas
            .iter()
            .skip(1)
            .map(Object::object_id)
            .collect();
        let status = ExecutionStatus::Failure {
            error: *failure.error,
            command: failure.command,
        };
        self.finish(
            status,
            Some(failure.description),
            GasCostSummary::new(computation, storage, 0, 0),
            writes,
            deleted,
            BTreeSet::new(),
            BTreeSet::new(),
            Vec::new(),
            Vec::new(),
            gas_id,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        status: ExecutionStatus,
        description: Option<String>,
        gas_used: GasCostSummary,
        writes: BTreeMap<Address, Write>,
        deleted: BTreeSet<Address>,
        wrapped: BTreeSet<Address>,
        created: BTreeSet<Address>,
        events: Vec<sui_sdk_types::Event>,
        extra_versions: Vec<u64>,
        gas_id: Address,
    ) -> TxRecord {
        let inputs = self
            .checked
            .objects
            .values()
            .map(|i| &i.object)
            .chain(&self.checked.gas);
        let lamport = inputs
            .clone()
            .map(Object::version)
            .chain(extra_versions)
            .max()
            .unwrap_or(0)
            + 1;
        let mut dependencies: Vec<Digest> = inputs.map(Object::previous_transaction).collect();
        dependencies.sort();
        dependencies.dedup();

        let mut input_objects = Vec::new();
        let mut output_objects = Vec::new();
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        let ids: BTreeSet<Address> = writes
            .keys()
            .chain(&deleted)
            .chain(&wrapped)
            .copied()
            .collect();
        for id in ids {
            let pre = self.pre(&id).filter(|_| !created.contains(&id));
            let input_state = match &pre {
                Some(o) => ObjectIn::Exist {
                    version: o.version(),
                    digest: o.digest(),
                    owner: *o.owner(),
                },
                None => ObjectIn::NotExist,
            };
            if pre.is_none() && !writes.contains_key(&id) {
                // Created and deleted (or wrapped) within the transaction.
                continue;
            }
            let (output_state, id_operation) = match writes.get(&id) {
                Some(w) => {
                    let owner = if w.owner == NEW_SHARED {
                        Owner::Shared(lamport)
                    } else {
                        w.owner
                    };
                    let public = self.registry.abilities(&w.ty).store;
                    let Some(data) =
                        MoveStruct::new(w.ty.clone(), public, lamport, w.contents.clone())
                    else {
                        continue;
                    };
                    let object = Object::new(ObjectData::Struct(data), owner, self.digest, 0);
                    let out = ObjectOut::ObjectWrite {
                        digest: object.digest(),
                        owner,
                    };
                    output_objects.push(object);
                    let op = if created.contains(&id) {
                        IdOperation::Created
                    } else {
                        IdOperation::None
                    };
                    (out, op)
                }
                None => {
                    removed.push(id);
                    let op = if deleted.contains(&id) {
                        IdOperation::Deleted
                    } else {
                        IdOperation::None
                    };
                    (ObjectOut::NotExist, op)
                }
            };
            if let Some(o) = pre {
                input_objects.push(o);
            }
            changed.push(ChangedObject {
                object_id: id,
                input_state,
                output_state,
                id_operation,
            });
        }
        let gas_object_index = changed
            .iter()
            .position(|c| c.object_id == gas_id)
            .map(|i| i as u32);
        let unchanged_consensus_objects = self
            .checked
            .objects
            .iter()
            .filter(|(_, i)| i.shared && !i.mutable)
            .map(|(id, i)| UnchangedConsensusObject {
                object_id: *id,
                kind: UnchangedConsensusKind::ReadOnlyRoot {
                    version: i.object.version(),
                    digest: i.object.digest(),
                },
            })
            .collect();
        let events = (!events.is_empty()).then(|| TransactionEvents(events));
        let effects = TransactionEffects::V2(Box::new(TransactionEffectsV2 {
            status,
            epoch: self.state.epoch(),
            gas_used,
            transaction_digest: self.digest,
            gas_object_index,
            events_digest: events.as_ref().map(TransactionEvents::digest),
            dependencies,
            lamport_version: lamport,
            changed_objects: changed,
            unchanged_consensus_objects,
            auxiliary_data_digest: None,
        }));
        TxRecord {
            transaction: self.tx.clone(),
            signatures: Vec::new(),
            effects,
            events,
            error_description: description,
            input_objects,
            output_objects,
            removed,
            timestamp_ms: self.now_ms,
        }
    }
}
