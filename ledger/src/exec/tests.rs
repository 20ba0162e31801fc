//! Engine tests through the `Ledger` API (no network).

use std::sync::Arc;

use floe_runtime::{Abilities, NativePackage, PackageBuilder, Param, Runtime, Ty, Value};
use sui_crypto::SuiSigner;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::{
    Address, Argument, Command, ExecutionError, ExecutionStatus, GasPayment, Identifier, Input,
    MergeCoins, MoveCall, Object, ObjectReference, Owner, ProgrammableTransaction, SplitCoins,
    StructTag, Transaction, TransactionExpiration, TransactionKind, TransferObjects,
};

use crate::error::TxError;
use crate::genesis::{Account, Genesis, PackageSpec};
use crate::state::balances;
use crate::{Ledger, LedgerConfig};

fn key(seed: u8) -> (Ed25519PrivateKey, Address) {
    let k = Ed25519PrivateKey::new([seed; 32]);
    let a = k.public_key().derive_address();
    (k, a)
}

const PKG: Address = Address::from_static("0xabc");

/// A tiny package exercising the runtime: objects, dynamic fields, events.
struct Counter;

#[derive(serde::Serialize, serde::Deserialize)]
struct CounterData {
    id: Address,
    value: u64,
}

fn counter_t() -> Ty {
    Ty::st("0xabc::counter::Counter", vec![])
}

impl NativePackage for Counter {
    fn address(&self) -> Address {
        PKG
    }
    fn register(&self, b: &mut PackageBuilder) {
        b.datatype("counter", "Counter", Abilities::KEY).datatype(
            "counter",
            "Bumped",
            Abilities::DATA,
        );
        b.function(
            "counter",
            "create",
            0,
            vec![Param::TxContext],
            vec![],
            |c| {
                let id = c.rt.new_uid()?;
                let v = Value::new(
                    counter_t()
                        .instantiate(&[])
                        .unwrap_or(sui_sdk_types::TypeTag::U8),
                    &CounterData { id, value: 0 },
                );
                c.rt.share(v)?;
                Ok(vec![])
            },
        );
        b.function(
            "counter",
            "bump",
            0,
            vec![Param::Mut(counter_t()), Param::Val(Ty::U64)],
            vec![],
            |c| {
                let mut data: CounterData = c.arg(0)?;
                let by: u64 = c.arg(1)?;
                if by == 0 {
                    return Err(floe_runtime::abort(PKG, "counter", "EZero", 7));
                }
                // Stands for a nested `balance::split` that fails: the
                // abort belongs to the framework module, not to `counter`.
                if by == u64::MAX {
                    return Err(floe_runtime::framework::BALANCE_ENOT_ENOUGH.err());
                }
                data.value += by;
                let name = Value::u64(data.value);
                c.rt.df_add(data.id, name, Value::u64(by))?;
                let tag: StructTag = "0xabc::counter::Bumped"
                    .parse()
                    .map_err(|_| floe_runtime::abort(PKG, "counter", "EBadTag", 99))?;
                c.rt.emit(tag, &data.value)?;
                c.set_arg(0, &data)?;
                Ok(vec![])
            },
        );
    }
    fn init(&self, rt: &mut Runtime<'_>) -> Result<(), floe_runtime::NativeError> {
        let id = rt.new_uid()?;
        let ty = counter_t()
            .instantiate(&[])
            .unwrap_or(sui_sdk_types::TypeTag::U8);
        rt.share(Value::new(ty, &CounterData { id, value: 100 }))
    }
}

fn open(dir: &std::path::Path, owner: Address) -> Ledger {
    Ledger::open(LedgerConfig {
        data_dir: dir.to_owned(),
        genesis: Genesis {
            accounts: vec![Account {
                address: owner,
                balance: 10_000_000_000,
                coins: 3,
            }],
            packages: vec![PackageSpec {
                address: PKG,
                init_sender: None,
            }],
            ..Genesis::default()
        },
        natives: vec![Arc::new(Counter)],
    })
    .unwrap()
}

fn coins(ledger: &Ledger, owner: Address) -> Vec<Object> {
    let state = ledger.state();
    let mut v: Vec<Object> = state
        .owned_objects(&owner)
        .filter(|o| {
            o.as_struct()
                .is_some_and(|s| *s.object_type() == StructTag::gas_coin())
        })
        .cloned()
        .collect();
    v.sort_by_key(|o| o.object_id());
    v
}

fn oref(o: &Object) -> ObjectReference {
    ObjectReference::new(o.object_id(), o.version(), o.digest())
}

fn tx(sender: Address, gas: &Object, inputs: Vec<Input>, commands: Vec<Command>) -> Transaction {
    Transaction {
        kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
            inputs,
            commands,
        }),
        sender,
        gas_payment: GasPayment {
            objects: vec![oref(gas)],
            owner: sender,
            price: 1000,
            budget: 50_000_000,
        },
        expiration: TransactionExpiration::None,
    }
}

fn pure<T: serde::Serialize>(v: &T) -> Input {
    Input::Pure(bcs::to_bytes(v).unwrap())
}

fn run(ledger: &Ledger, k: &Ed25519PrivateKey, t: Transaction) -> Result<ExecutionStatus, TxError> {
    let sig = k.sign_transaction(&t).unwrap();
    ledger
        .execute(t, vec![sig])
        .map(|e| e.record.effects.status().clone())
}

#[test]
fn transfer_split_merge_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let (_, b) = key(2);
    let ledger = open(dir.path(), a);
    let start = balances(&ledger.state(), &a)["0x0000000000000000000000000000000000000000000000000000000000000002::sui::SUI"];
    assert_eq!(start, 10_000_000_000);
    let c = coins(&ledger, a);
    assert_eq!(c.len(), 3);
    // Split 1 SUI off the gas coin and send it to b.
    let t = tx(
        a,
        &c[0],
        vec![pure(&1_000_000_000u64), pure(&b)],
        vec![
            Command::SplitCoins(SplitCoins {
                coin: Argument::Gas,
                amounts: vec![Argument::Input(0)],
            }),
            Command::TransferObjects(TransferObjects {
                objects: vec![Argument::NestedResult(0, 0)],
                address: Argument::Input(1),
            }),
        ],
    );
    assert_eq!(run(&ledger, &k, t).unwrap(), ExecutionStatus::Success);
    assert_eq!(coins(&ledger, b).len(), 1);
    assert_eq!(
        balances(&ledger.state(), &b).values().sum::<u64>(),
        1_000_000_000
    );
    let fee = start - 1_000_000_000 - balances(&ledger.state(), &a).values().sum::<u64>();
    assert!(fee > 0);
    // Merge the other two coins into the first.
    let c = coins(&ledger, a);
    let t = tx(
        a,
        &c[0],
        vec![
            Input::ImmutableOrOwned(oref(&c[1])),
            Input::ImmutableOrOwned(oref(&c[2])),
        ],
        vec![Command::MergeCoins(MergeCoins {
            coin: Argument::Gas,
            coins_to_merge: vec![Argument::Input(0), Argument::Input(1)],
        })],
    );
    assert_eq!(run(&ledger, &k, t).unwrap(), ExecutionStatus::Success);
    assert_eq!(coins(&ledger, a).len(), 1);
    let before = coins(&ledger, a);
    ledger.seal_checkpoint().unwrap();
    let seq = ledger
        .state()
        .latest_checkpoint()
        .unwrap()
        .summary
        .sequence_number;
    drop(ledger);
    let ledger = open(dir.path(), a);
    assert_eq!(
        ledger
            .state()
            .latest_checkpoint()
            .unwrap()
            .summary
            .sequence_number,
        seq
    );
    assert_eq!(coins(&ledger, a), before);
}

#[test]
fn rejections_carry_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let (k2, b) = key(2);
    let ledger = open(dir.path(), a);
    let c = coins(&ledger, a);
    let transfer = |gas: &Object| {
        tx(
            a,
            gas,
            vec![pure(&b)],
            vec![Command::TransferObjects(TransferObjects {
                objects: vec![Argument::Gas],
                address: Argument::Input(0),
            })],
        )
    };
    // Bad signature: signed by someone else.
    let t = transfer(&c[0]);
    let sig = k2.sign_transaction(&t).unwrap();
    assert!(matches!(
        ledger.execute(t, vec![sig]),
        Err(TxError::Signature(_))
    ));
    // Wrong owner: b tries to spend a's coin.
    let mut t = transfer(&c[0]);
    t.sender = b;
    t.gas_payment.owner = b;
    assert!(matches!(
        run(&ledger, &k2, t),
        Err(TxError::WrongOwner { .. })
    ));
    // Stale version.
    let mut stale = c[0].clone();
    assert_eq!(
        run(&ledger, &k, transfer(&c[1])).unwrap(),
        ExecutionStatus::Success
    );
    let t = tx(
        a,
        &c[2],
        vec![Input::ImmutableOrOwned(oref(&stale))],
        vec![],
    );
    assert!(run(&ledger, &k, t).is_err());
    let fresh = ledger.state().object(&c[0].object_id()).unwrap().clone();
    stale = fresh.clone();
    let mut t = transfer(&stale);
    t.gas_payment.objects[0] =
        ObjectReference::new(stale.object_id(), stale.version() - 1, stale.digest());
    assert!(matches!(
        run(&ledger, &k, t),
        Err(TxError::StaleVersion { .. })
    ));
    // Insufficient gas: budget above the coin's balance.
    let mut t = transfer(&fresh);
    t.gas_payment.budget = 20_000_000_000;
    assert!(matches!(run(&ledger, &k, t), Err(TxError::Gas(_))));
    // Unknown function: executes, fails with FunctionNotFound, charges gas.
    let t = tx(
        a,
        &fresh,
        vec![],
        vec![Command::MoveCall(MoveCall {
            package: Address::TWO,
            module: Identifier::new("coin").unwrap(),
            function: Identifier::new("nope").unwrap(),
            type_arguments: vec![],
            arguments: vec![],
        })],
    );
    let status = run(&ledger, &k, t).unwrap();
    assert!(matches!(
        status,
        ExecutionStatus::Failure {
            error: ExecutionError::FunctionNotFound,
            command: Some(0)
        }
    ));
}

#[test]
fn abort_charges_gas_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let ledger = open(dir.path(), a);
    let c = coins(&ledger, a);
    let counter = {
        let state = ledger.state();
        let genesis = state.checkpoint(0).unwrap().unwrap();
        genesis.transactions[1].record.output_objects[0].clone()
    };
    let Owner::Shared(initial) = *counter.owner() else {
        panic!("counter is shared")
    };
    let call = |by: u64, gas: &Object| {
        tx(
            a,
            gas,
            vec![
                Input::Shared(sui_sdk_types::SharedInput::new(
                    counter.object_id(),
                    initial,
                    true,
                )),
                pure(&by),
            ],
            vec![Command::MoveCall(MoveCall {
                package: PKG,
                module: Identifier::new("counter").unwrap(),
                function: Identifier::new("bump").unwrap(),
                type_arguments: vec![],
                arguments: vec![Argument::Input(0), Argument::Input(1)],
            })],
        )
    };
    let entry = ledger
        .execute(
            call(5, &c[0]),
            vec![k.sign_transaction(&call(5, &c[0])).unwrap()],
        )
        .unwrap();
    assert_eq!(*entry.record.effects.status(), ExecutionStatus::Success);
    assert_eq!(entry.record.events.as_ref().unwrap().0.len(), 1);
    // A dynamic field was created under the counter, with Sui's id derivation.
    let field_id = counter.object_id().derive_dynamic_child_id(
        &sui_sdk_types::TypeTag::U64,
        &bcs::to_bytes(&105u64).unwrap(),
    );
    assert_eq!(
        *ledger.state().object(&field_id).unwrap().owner(),
        Owner::Object(counter.object_id())
    );
    let gas = ledger.state().object(&c[0].object_id()).unwrap().clone();
    let before = ledger.state().object(&counter.object_id()).unwrap().clone();
    let t = call(0, &gas);
    let entry = ledger
        .execute(t.clone(), vec![k.sign_transaction(&t).unwrap()])
        .unwrap();
    let ExecutionStatus::Failure {
        error: ExecutionError::MoveAbort { location, code },
        ..
    } = entry.record.effects.status()
    else {
        panic!("expected an abort, got {:?}", entry.record.effects.status())
    };
    assert_eq!(
        (
            location.package,
            location.module.as_str(),
            location.function_name.as_ref().unwrap().as_str(),
            *code
        ),
        (PKG, "counter", "bump", 7)
    );
    assert!(entry.record.effects.gas_summary().computation_cost > 0);
    let after = ledger.state().object(&counter.object_id()).unwrap().clone();
    assert_eq!(
        after.as_struct().unwrap().contents(),
        before.as_struct().unwrap().contents()
    );
    assert!(entry.record.events.is_none());

    // An abort raised by a framework constant is located in the framework
    // module, with no function name (it is not the called function).
    let gas = ledger.state().object(&c[0].object_id()).unwrap().clone();
    let t = call(u64::MAX, &gas);
    let entry = ledger
        .execute(t.clone(), vec![k.sign_transaction(&t).unwrap()])
        .unwrap();
    let ExecutionStatus::Failure {
        error: ExecutionError::MoveAbort { location, code },
        ..
    } = entry.record.effects.status()
    else {
        panic!("expected an abort, got {:?}", entry.record.effects.status())
    };
    assert_eq!(
        (
            location.package,
            location.module.as_str(),
            location.function_name.is_none(),
            *code
        ),
        (Address::TWO, "balance", true, 2)
    );
}

#[tokio::test]
async fn dynamic_fields_are_listed_with_name_and_value() {
    use sui_rpc::proto::sui::rpc::v2 as pb;
    use sui_rpc::proto::sui::rpc::v2::state_service_server::StateService;
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let ledger = open(dir.path(), a);
    let c = coins(&ledger, a);
    let counter = ledger.state().checkpoint(0).unwrap().unwrap().transactions[1]
        .record
        .output_objects[0]
        .clone();
    let Owner::Shared(initial) = *counter.owner() else {
        panic!("counter is shared")
    };
    let t = tx(
        a,
        &c[0],
        vec![
            Input::Shared(sui_sdk_types::SharedInput::new(
                counter.object_id(),
                initial,
                true,
            )),
            pure(&5u64),
        ],
        vec![Command::MoveCall(MoveCall {
            package: PKG,
            module: Identifier::new("counter").unwrap(),
            function: Identifier::new("bump").unwrap(),
            type_arguments: vec![],
            arguments: vec![Argument::Input(0), Argument::Input(1)],
        })],
    );
    assert_eq!(run(&ledger, &k, t).unwrap(), ExecutionStatus::Success);
    let api = crate::rpc::StateApi(ledger.clone());
    let mut req = pb::ListDynamicFieldsRequest::default();
    req.parent = Some(counter.object_id().to_string());
    req.read_mask = Some(prost_types::FieldMask {
        paths: vec![
            "field_id".into(),
            "name".into(),
            "value".into(),
            "value_type".into(),
        ],
    });
    let resp = api
        .list_dynamic_fields(tonic::Request::new(req))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.dynamic_fields.len(), 1);
    let f = &resp.dynamic_fields[0];
    assert_eq!(
        f.name.as_ref().unwrap().value.as_deref(),
        Some(&105u64.to_le_bytes()[..])
    );
    assert_eq!(
        f.value.as_ref().unwrap().value.as_deref(),
        Some(&5u64.to_le_bytes()[..])
    );
    assert_eq!(f.value_type.as_deref(), Some("u64"));
}
