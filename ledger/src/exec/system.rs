//! System transactions: genesis, package initialisers and the per-checkpoint
//! Clock update. They are unsigned, pay no gas, and are recorded, digested
//! and checkpointed exactly like user transactions.

use std::collections::BTreeSet;

use floe_runtime::framework::{CLOCK_ID, ClockData, clock_tag};
use floe_runtime::{NativePackage, NewOwner, Registry, Runtime, RuntimeEnv};
use sui_sdk_types::{
    Address, ChangedObject, ConsensusCommitPrologueV3, ConsensusDeterminedVersionAssignments,
    Digest, ExecutionStatus, GasCostSummary, GasPayment, GenesisObject, GenesisTransaction,
    IdOperation, MoveStruct, Object, ObjectData, ObjectIn, ObjectOut, Owner,
    ProgrammableTransaction, Transaction, TransactionEffects, TransactionEffectsV2,
    TransactionEvents, TransactionExpiration, TransactionKind,
};

use crate::error::LedgerError;
use crate::state::State;
use crate::store::TxRecord;

fn system_tx(kind: TransactionKind, sender: Address) -> Transaction {
    Transaction {
        kind,
        sender,
        gas_payment: GasPayment {
            objects: vec![],
            owner: Address::ZERO,
            price: 1,
            budget: 0,
        },
        expiration: TransactionExpiration::None,
    }
}

fn effects(
    digest: Digest,
    lamport: u64,
    changed_objects: Vec<ChangedObject>,
    dependencies: Vec<Digest>,
    events: Option<&TransactionEvents>,
    epoch: u64,
) -> TransactionEffects {
    TransactionEffects::V2(Box::new(TransactionEffectsV2 {
        status: ExecutionStatus::Success,
        epoch,
        gas_used: GasCostSummary::new(0, 0, 0, 0),
        transaction_digest: digest,
        gas_object_index: None,
        events_digest: events.map(TransactionEvents::digest),
        dependencies,
        lamport_version: lamport,
        changed_objects,
        unchanged_consensus_objects: vec![],
        auxiliary_data_digest: None,
    }))
}

/// The genesis transaction: creates `objects` (data and owner) at version 1.
/// The effect of rewriting existing object `id` from `before` to `after`.
fn rewritten(id: Address, before: &Object, after: &Object) -> ChangedObject {
    ChangedObject {
        object_id: id,
        input_state: ObjectIn::Exist {
            version: before.version(),
            digest: before.digest(),
            owner: *before.owner(),
        },
        output_state: ObjectOut::ObjectWrite {
            digest: after.digest(),
            owner: *after.owner(),
        },
        id_operation: IdOperation::None,
    }
}

pub(crate) fn genesis(objects: Vec<(ObjectData, Owner)>, now_ms: u64) -> TxRecord {
    let genesis_objects: Vec<GenesisObject> = objects
        .iter()
        .map(|(d, o)| GenesisObject::new(d.clone(), *o))
        .collect();
    let tx = system_tx(
        TransactionKind::Genesis(GenesisTransaction {
            objects: genesis_objects,
        }),
        Address::ZERO,
    );
    let digest = tx.digest();
    let mut output_objects = Vec::new();
    let mut changed = Vec::new();
    for (data, owner) in objects {
        let object = Object::new(data, owner, digest, 0);
        changed.push(ChangedObject {
            object_id: object.object_id(),
            input_state: ObjectIn::NotExist,
            output_state: match object.data() {
                ObjectData::Package(p) => ObjectOut::PackageWrite {
                    version: p.version,
                    digest: object.digest(),
                },
                ObjectData::Struct(_) => ObjectOut::ObjectWrite {
                    digest: object.digest(),
                    owner,
                },
            },
            id_operation: IdOperation::Created,
        });
        output_objects.push(object);
    }
    changed.sort_by_key(|c| c.object_id);
    TxRecord {
        effects: effects(digest, 1, changed, vec![], None, 0),
        transaction: tx,
        signatures: vec![],
        events: None,
        error_description: None,
        input_objects: vec![],
        output_objects,
        removed: vec![],
        timestamp_ms: now_ms,
    }
}

/// The initial Clock object (shared at version 1).
pub(crate) fn initial_clock(now_ms: u64) -> (ObjectData, Owner) {
    let contents = bcs::to_bytes(&ClockData {
        id: CLOCK_ID,
        timestamp_ms: now_ms,
    })
    .unwrap_or_default();
    let data = MoveStruct::new(clock_tag(), false, 1, contents).map(ObjectData::Struct);
    (
        data.unwrap_or_else(|| unreachable!("clock contents start with its id")),
        Owner::Shared(1),
    )
}

/// The Clock update sealed into every checkpoint: a consensus commit
/// prologue that sets the Clock to `timestamp_ms` and bumps its version.
pub(crate) fn clock_update(state: &State, round: u64, timestamp_ms: u64) -> Option<TxRecord> {
    let clock = state.object(&CLOCK_ID)?.clone();
    let tx = system_tx(
        TransactionKind::ConsensusCommitPrologueV3(ConsensusCommitPrologueV3 {
            epoch: state.epoch(),
            round,
            sub_dag_index: None,
            commit_timestamp_ms: timestamp_ms,
            consensus_commit_digest: Digest::ZERO,
            consensus_determined_version_assignments:
                ConsensusDeterminedVersionAssignments::CanceledTransactionsV2 {
                    canceled_transactions: vec![],
                },
        }),
        Address::ZERO,
    );
    let digest = tx.digest();
    let lamport = clock.version() + 1;
    let contents = bcs::to_bytes(&ClockData {
        id: CLOCK_ID,
        timestamp_ms,
    })
    .ok()?;
    let data = MoveStruct::new(clock_tag(), false, lamport, contents)?;
    let object = Object::new(ObjectData::Struct(data), *clock.owner(), digest, 0);
    let changed = vec![rewritten(CLOCK_ID, &clock, &object)];
    Some(TxRecord {
        effects: effects(
            digest,
            lamport,
            changed,
            vec![clock.previous_transaction()],
            None,
            state.epoch(),
        ),
        transaction: tx,
        signatures: vec![],
        events: None,
        error_description: None,
        input_objects: vec![clock],
        output_objects: vec![object],
        removed: vec![],
        timestamp_ms,
    })
}

/// Runs a native package's initialiser as a system transaction (a
/// `ProgrammableSystemTransaction` with no commands, sent by `sender`);
/// whatever it creates is transferred, shared or frozen as it decides.
pub(crate) fn package_init(
    state: &State,
    registry: &Registry,
    package: &dyn NativePackage,
    sender: Address,
    now_ms: u64,
) -> Result<TxRecord, LedgerError> {
    // The commands list is empty but the package address makes the digest
    // unique per package.
    let tx = system_tx(
        TransactionKind::ProgrammableSystemTransaction(ProgrammableTransaction {
            inputs: vec![sui_sdk_types::Input::Pure(
                package.address().into_inner().to_vec(),
            )],
            commands: vec![],
        }),
        sender,
    );
    let digest = tx.digest();
    let env = RuntimeEnv {
        sender,
        epoch: state.epoch(),
        epoch_start_ms: state.epoch_start_ms(),
        timestamp_ms: state.clock_ms(),
        tx_digest: digest,
    };
    let mut rt = Runtime::new(state, registry, env);
    rt.set_event_origin(
        package.address(),
        sui_sdk_types::Identifier::from_static("init"),
    );
    package
        .init(&mut rt)
        .map_err(|e| LedgerError::Genesis(format!("init of {} failed: {e}", package.address())))?;
    let lamport = 2;
    let mut output_objects = Vec::new();
    let mut changed = Vec::new();
    let created: BTreeSet<Address> = rt.created().clone();
    for (id, d) in rt.disposals() {
        let Some(tag) = d.value.struct_tag() else {
            continue;
        };
        let owner = match d.owner {
            NewOwner::Address(a) => Owner::Address(a),
            NewOwner::Shared => Owner::Shared(lamport),
            NewOwner::Immutable => Owner::Immutable,
        };
        let public = registry.abilities(tag).store;
        let data = MoveStruct::new(tag.clone(), public, lamport, d.value.bytes.clone())
            .ok_or_else(|| LedgerError::Genesis(format!("init object {id} has no id")))?;
        let object = Object::new(ObjectData::Struct(data), owner, digest, 0);
        changed.push(ChangedObject {
            object_id: *id,
            input_state: ObjectIn::NotExist,
            output_state: ObjectOut::ObjectWrite {
                digest: object.digest(),
                owner,
            },
            id_operation: if created.contains(id) {
                IdOperation::Created
            } else {
                IdOperation::None
            },
        });
        output_objects.push(object);
    }
    for (id, child) in rt.children() {
        let (Some(contents), true) = (&child.contents, child.dirty) else {
            continue;
        };
        let public = registry.abilities(&child.ty).store;
        let data = MoveStruct::new(child.ty.clone(), public, lamport, contents.clone())
            .ok_or_else(|| LedgerError::Genesis(format!("field {id} has no id")))?;
        let owner = Owner::Object(child.parent);
        let object = Object::new(ObjectData::Struct(data), owner, digest, 0);
        changed.push(ChangedObject {
            object_id: *id,
            input_state: ObjectIn::NotExist,
            output_state: ObjectOut::ObjectWrite {
                digest: object.digest(),
                owner,
            },
            id_operation: IdOperation::Created,
        });
        output_objects.push(object);
    }
    changed.sort_by_key(|c| c.object_id);
    let events = (!rt.events().is_empty()).then(|| TransactionEvents(rt.events().to_vec()));
    Ok(TxRecord {
        effects: effects(
            digest,
            lamport,
            changed,
            vec![],
            events.as_ref(),
            state.epoch(),
        ),
        transaction: tx,
        signatures: vec![],
        events,
        error_description: None,
        input_objects: vec![],
        output_objects,
        removed: vec![],
        timestamp_ms: now_ms,
    })
}

/// A SUI faucet transfer: a system transaction that creates a new
/// `Coin<coin_type>` of `amount` for `recipient`. Only for SUI, the
/// ledger's native gas coin whose supply no contract accounts for; other
/// coins come out of a reserve (see [`coin_transfer`]) so that a contract's
/// "whole supply minted once" invariant holds on the devnet too.
pub(crate) fn mint(
    state: &State,
    coin_type: &sui_sdk_types::TypeTag,
    recipient: Address,
    amount: u64,
    nonce: u64,
    now_ms: u64,
) -> Option<TxRecord> {
    use sui_sdk_types::Input;
    let tx = system_tx(
        TransactionKind::ProgrammableSystemTransaction(ProgrammableTransaction {
            inputs: vec![
                Input::Pure(bcs::to_bytes(&recipient).ok()?),
                Input::Pure(bcs::to_bytes(&amount).ok()?),
                Input::Pure(bcs::to_bytes(&nonce).ok()?),
            ],
            commands: vec![],
        }),
        Address::ZERO,
    );
    let digest = tx.digest();
    let id = Address::derive_id(digest, 0);
    let lamport = 1;
    let contents = bcs::to_bytes(&floe_runtime::framework::CoinData { id, value: amount }).ok()?;
    let tag = sui_sdk_types::StructTag::coin(coin_type.clone());
    let data = MoveStruct::new(tag, true, lamport, contents)?;
    let owner = Owner::Address(recipient);
    let object = Object::new(ObjectData::Struct(data), owner, digest, 0);
    let changed = vec![ChangedObject {
        object_id: id,
        input_state: ObjectIn::NotExist,
        output_state: ObjectOut::ObjectWrite {
            digest: object.digest(),
            owner,
        },
        id_operation: IdOperation::Created,
    }];
    Some(TxRecord {
        effects: effects(digest, lamport, changed, vec![], None, state.epoch()),
        transaction: tx,
        signatures: vec![],
        events: None,
        error_description: None,
        input_objects: vec![],
        output_objects: vec![object],
        removed: vec![],
        timestamp_ms: now_ms,
    })
}

/// Moves `amount` out of the coin `source` (an owned `Coin<T>`) into a new
/// `Coin<T>` for `recipient`, as `coin::split` + `transfer` would: the
/// source keeps the rest (possibly zero), nothing is minted. A system
/// transaction sent by the source's owner; `nonce` keeps digests unique.
/// `None` if `source` is not an address-owned coin holding `amount`.
pub(crate) fn coin_transfer(
    state: &State,
    source: &Object,
    recipient: Address,
    amount: u64,
    nonce: u64,
    now_ms: u64,
) -> Option<TxRecord> {
    use sui_sdk_types::Input;
    let Owner::Address(holder) = *source.owner() else {
        return None;
    };
    let ObjectData::Struct(data) = source.data() else {
        return None;
    };
    let tag = data.object_type().clone();
    let coin: floe_runtime::framework::CoinData = bcs::from_bytes(data.contents()).ok()?;
    let rest = coin.value.checked_sub(amount)?;
    let tx = system_tx(
        TransactionKind::ProgrammableSystemTransaction(ProgrammableTransaction {
            inputs: vec![
                Input::ImmutableOrOwned(sui_sdk_types::ObjectReference::new(
                    source.object_id(),
                    source.version(),
                    source.digest(),
                )),
                Input::Pure(bcs::to_bytes(&recipient).ok()?),
                Input::Pure(bcs::to_bytes(&amount).ok()?),
                Input::Pure(bcs::to_bytes(&nonce).ok()?),
            ],
            commands: vec![],
        }),
        holder,
    );
    let digest = tx.digest();
    let lamport = source.version() + 1;
    let public = data.has_public_transfer();
    let make = |id: Address, value: u64, owner: Owner| -> Option<Object> {
        let contents = bcs::to_bytes(&floe_runtime::framework::CoinData { id, value }).ok()?;
        let data = MoveStruct::new(tag.clone(), public, lamport, contents)?;
        Some(Object::new(ObjectData::Struct(data), owner, digest, 0))
    };
    let kept = make(coin.id, rest, *source.owner())?;
    let sent = make(
        Address::derive_id(digest, 0),
        amount,
        Owner::Address(recipient),
    )?;
    let mut changed = vec![
        rewritten(coin.id, source, &kept),
        ChangedObject {
            object_id: sent.object_id(),
            input_state: ObjectIn::NotExist,
            output_state: ObjectOut::ObjectWrite {
                digest: sent.digest(),
                owner: *sent.owner(),
            },
            id_operation: IdOperation::Created,
        },
    ];
    changed.sort_by_key(|c| c.object_id);
    Some(TxRecord {
        effects: effects(
            digest,
            lamport,
            changed,
            vec![source.previous_transaction()],
            None,
            state.epoch(),
        ),
        transaction: tx,
        signatures: vec![],
        events: None,
        error_description: None,
        input_objects: vec![source.clone()],
        output_objects: vec![sent, kept],
        removed: vec![],
        timestamp_ms: now_ms,
    })
}
