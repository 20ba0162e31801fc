//! End-to-end tests of `floe ledger run` through Sui's gRPC API only, with
//! `sui_rpc::Client`, against the real binary on 127.0.0.1.

use std::path::Path;
use std::time::Duration;

use floe_testkit::ledger::{Ledger, LedgerOptions};

use futures::StreamExt;
use prost_types::FieldMask;
use sui_crypto::SuiSigner;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_rpc::Client;
use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{
    Address, Argument, Command as PtbCommand, GasPayment, Identifier, Input, MergeCoins, MoveCall,
    ObjectReference, ProgrammableTransaction, SplitCoins, Transaction, TransactionExpiration,
    TransactionKind, TransferObjects,
};

fn key(seed: u8) -> (Ed25519PrivateKey, Address) {
    let k = Ed25519PrivateKey::new([seed; 32]);
    let a = k.public_key().derive_address();
    (k, a)
}

fn start(dir: &Path, genesis: Option<&str>) -> Ledger {
    let options = LedgerOptions::default()
        .checkpoint_interval_ms(100)
        .env("RUST_LOG", "warn");
    match genesis {
        Some(g) => {
            let path = dir.join("genesis.toml");
            std::fs::write(&path, g).unwrap();
            Ledger::start(dir, &path, options)
        }
        None => Ledger::resume(dir, options),
    }
}

fn genesis_for(owner: Address) -> String {
    format!(
        "chain_name = \"e2e\"\n[[accounts]]\naddress = \"{owner}\"\nbalance = 30000000000\ncoins = 3\n"
    )
}

fn client(l: &Ledger) -> Client {
    Client::new(l.endpoint()).unwrap()
}

fn mask(paths: &str) -> FieldMask {
    FieldMask {
        paths: paths.split(',').map(str::to_owned).collect(),
    }
}

/// SUI coins of `owner` as (reference, balance), listed with the short-form
/// type filter the TypeScript SDK sends.
async fn coins(c: &mut Client, owner: Address) -> Vec<(ObjectReference, u64)> {
    let mut req = pb::ListOwnedObjectsRequest::default();
    req.owner = Some(owner.to_string());
    req.object_type = Some("0x2::coin::Coin<0x2::sui::SUI>".into());
    req.read_mask = Some(mask("object_id,version,digest,balance"));
    let resp = c
        .state_client()
        .list_owned_objects(req)
        .await
        .unwrap()
        .into_inner();
    assert!(resp.next_page_token.is_none());
    resp.objects
        .iter()
        .map(|o| {
            (
                (&o.object_reference()).try_into().unwrap(),
                o.balance.unwrap(),
            )
        })
        .collect()
}

fn tx(
    sender: Address,
    gas: ObjectReference,
    inputs: Vec<Input>,
    commands: Vec<PtbCommand>,
) -> Transaction {
    Transaction {
        kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
            inputs,
            commands,
        }),
        sender,
        gas_payment: GasPayment {
            objects: vec![gas],
            owner: sender,
            price: 1000,
            budget: 10_000_000,
        },
        expiration: TransactionExpiration::None,
    }
}

fn pure<T: serde::Serialize>(v: &T) -> Input {
    Input::Pure(bcs::to_bytes(v).unwrap())
}

async fn execute(
    c: &mut Client,
    k: &Ed25519PrivateKey,
    t: Transaction,
) -> Result<pb::ExecutedTransaction, tonic::Status> {
    let sig = k.sign_transaction(&t).unwrap();
    let mut req = pb::ExecuteTransactionRequest::new(t.into());
    req.signatures = vec![sig.into()];
    req.read_mask = Some(mask("digest,effects,events"));
    c.execution_client()
        .execute_transaction(req)
        .await
        .map(|r| r.into_inner().transaction.unwrap())
}

fn transfer_all(sender: Address, gas: ObjectReference, to: Address, amount: u64) -> Transaction {
    tx(
        sender,
        gas,
        vec![pure(&amount), pure(&to)],
        vec![
            PtbCommand::SplitCoins(SplitCoins {
                coin: Argument::Gas,
                amounts: vec![Argument::Input(0)],
            }),
            PtbCommand::TransferObjects(TransferObjects {
                objects: vec![Argument::Result(0)],
                address: Argument::Input(1),
            }),
        ],
    )
}

#[tokio::test]
async fn transfers_splits_merges_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let (_, b) = key(2);
    let ledger = start(dir.path(), Some(&genesis_for(a)));
    let mut c = client(&ledger);

    let info = c
        .ledger_client()
        .get_service_info(pb::GetServiceInfoRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(info.chain_id.is_some());
    assert_eq!(info.chain.as_deref(), Some("e2e"));
    let mut er = pb::GetEpochRequest::latest();
    er.read_mask = Some(mask("epoch,reference_gas_price"));
    let epoch = c.ledger_client().get_epoch(er).await.unwrap().into_inner();
    assert_eq!(epoch.epoch.unwrap().reference_gas_price, Some(1000));

    let mine = coins(&mut c, a).await;
    assert_eq!(mine.len(), 3);
    assert_eq!(mine.iter().map(|(_, v)| v).sum::<u64>(), 30_000_000_000);

    // Split 2 SUI off the gas coin and send it to b.
    let done = execute(
        &mut c,
        &k,
        transfer_all(a, mine[0].0.clone(), b, 2_000_000_000),
    )
    .await
    .unwrap();
    let effects = done.effects.unwrap();
    assert!(effects.status.unwrap().success.unwrap());
    assert!(effects.gas_used.unwrap().computation_cost.unwrap() > 0);
    let theirs = coins(&mut c, b).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].1, 2_000_000_000);

    // Merge all three of a's coins into one.
    let mine = coins(&mut c, a).await;
    let t = tx(
        a,
        mine[0].0.clone(),
        vec![
            Input::ImmutableOrOwned(mine[1].0.clone()),
            Input::ImmutableOrOwned(mine[2].0.clone()),
        ],
        vec![PtbCommand::MergeCoins(MergeCoins {
            coin: Argument::Gas,
            coins_to_merge: vec![Argument::Input(0), Argument::Input(1)],
        })],
    );
    let done = execute(&mut c, &k, t).await.unwrap();
    assert!(done.effects.unwrap().status.unwrap().success.unwrap());
    let mine = coins(&mut c, a).await;
    assert_eq!(mine.len(), 1);

    let mut gb = pb::GetBalanceRequest::default();
    gb.owner = Some(a.to_string());
    gb.coin_type = Some("0x2::sui::SUI".into());
    let bal = c.state_client().get_balance(gb).await.unwrap().into_inner();
    assert_eq!(bal.balance.unwrap().balance, Some(mine[0].1));

    // Objects: batch read in request order, a missing one in-band.
    let mut batch = pb::BatchGetObjectsRequest::default();
    batch.requests = vec![
        pb::GetObjectRequest::new(mine[0].0.object_id()),
        pb::GetObjectRequest::new(&Address::from_static("0xdead")),
    ];
    batch.read_mask = Some(mask("object_id,version,owner,object_type,bcs"));
    let got = c
        .ledger_client()
        .batch_get_objects(batch)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.objects.len(), 2);
    let first = got.objects[0].clone().to_result().unwrap();
    assert_eq!(first.version, Some(mine[0].0.version()));
    let object: sui_sdk_types::Object = first.bcs.unwrap().deserialize().unwrap();
    assert_eq!(object.object_id(), *mine[0].0.object_id());
    assert_eq!(
        got.objects[1].clone().to_result().unwrap_err().code,
        tonic::Code::NotFound as i32
    );
    let err = c
        .ledger_client()
        .get_object(pb::GetObjectRequest::new(&Address::from_static("0xdead")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);

    // sui-rpc's execute-and-wait helper sees the transaction checkpointed.
    let t = transfer_all(a, mine[0].0.clone(), b, 1);
    let sig = k.sign_transaction(&t).unwrap();
    let mut req = pb::ExecuteTransactionRequest::new(t.into());
    req.signatures = vec![sig.into()];
    let r = c
        .execute_transaction_and_wait_for_checkpoint(req, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(r.into_inner().transaction.unwrap().checkpoint.is_some());

    // The same port speaks gRPC-Web over HTTP/1.1, with CORS.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(&ledger.address).unwrap();
    write!(
        s,
        "POST /sui.rpc.v2.LedgerService/GetServiceInfo HTTP/1.1\r\nHost: x\r\nOrigin: http://app.test\r\n\
         Content-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s.write_all(&[0, 0, 0, 0, 0]).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp).to_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(
        text.contains("access-control-allow-origin: http://app.test"),
        "{text}"
    );
    assert!(text.contains("grpc-status:0"), "{text}");
    assert!(text.contains("e2e"), "{text}");

    // The faucet, in Sui's request format.
    let (_, fresh) = key(42);
    let body = format!("{{\"FixedAmountRequest\":{{\"recipient\":\"{fresh}\"}}}}");
    let mut s = std::net::TcpStream::connect(&ledger.address).unwrap();
    write!(
        s,
        "POST /v2/gas HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
    assert!(resp.contains("\"Success\""), "{resp}");
    assert_eq!(coins(&mut c, fresh).await.len(), 1);
}

#[tokio::test]
async fn rejections_carry_their_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let (k2, b) = key(2);
    let ledger = start(dir.path(), Some(&genesis_for(a)));
    let mut c = client(&ledger);
    let mine = coins(&mut c, a).await;

    // Bad signature: b signs a's transaction.
    let t = transfer_all(a, mine[0].0.clone(), b, 1);
    let sig = k2.sign_transaction(&t).unwrap();
    let mut req = pb::ExecuteTransactionRequest::new(t.into());
    req.signatures = vec![sig.into()];
    let err = c
        .execution_client()
        .execute_transaction(req)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("sender"), "{}", err.message());

    // Wrong owner: b pays with a's coin.
    let mut t = transfer_all(b, mine[0].0.clone(), b, 1);
    t.gas_payment.owner = b;
    let err = execute(&mut c, &k2, t).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("owned by"), "{}", err.message());

    // Stale version: use a coin, then its old reference.
    execute(&mut c, &k, transfer_all(a, mine[1].0.clone(), b, 1))
        .await
        .unwrap();
    let err = execute(&mut c, &k, transfer_all(a, mine[1].0.clone(), b, 2))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("version"), "{}", err.message());

    // Insufficient gas: a budget above the coin's balance.
    let mut t = transfer_all(a, mine[2].0.clone(), b, 1);
    t.gas_payment.budget = 20_000_000_000;
    let err = execute(&mut c, &k, t).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("insufficient gas"),
        "{}",
        err.message()
    );

    // Unknown function: executed, failed with its reason, gas charged.
    let t = tx(
        a,
        mine[2].0.clone(),
        vec![],
        vec![PtbCommand::MoveCall(MoveCall {
            package: Address::TWO,
            module: Identifier::new("coin").unwrap(),
            function: Identifier::new("no_such_function").unwrap(),
            type_arguments: vec![],
            arguments: vec![],
        })],
    );
    let done = execute(&mut c, &k, t).await.unwrap();
    let effects = done.effects.unwrap();
    let status = effects.status.unwrap();
    assert_eq!(status.success, Some(false));
    let desc = status.error.unwrap().description.unwrap();
    assert!(desc.contains("no_such_function"), "{desc}");
    assert!(effects.gas_used.unwrap().computation_cost.unwrap() > 0);

    // An abort reports module, function and code.
    let fresh = coins(&mut c, a).await;
    let gas = fresh
        .iter()
        .find(|(r, _)| r.object_id() == mine[2].0.object_id())
        .unwrap()
        .0
        .clone();
    let other = fresh
        .iter()
        .find(|(r, _)| r.object_id() != mine[2].0.object_id())
        .unwrap()
        .0
        .clone();
    let t = tx(
        a,
        gas,
        vec![Input::ImmutableOrOwned(other), pure(&u64::MAX)],
        vec![
            PtbCommand::MoveCall(MoveCall {
                package: Address::TWO,
                module: Identifier::new("coin").unwrap(),
                function: Identifier::new("split").unwrap(),
                type_arguments: vec!["0x2::sui::SUI".parse().unwrap()],
                arguments: vec![Argument::Input(0), Argument::Input(1)],
            }),
            PtbCommand::TransferObjects(TransferObjects {
                objects: vec![Argument::Result(0)],
                address: Argument::Input(0),
            }),
        ],
    );
    let err = execute(&mut c, &k, t.clone()).await;
    // TransferObjects with a coin as the address is a type error at command 1,
    // but the abort in command 0 comes first.
    let status = err.unwrap().effects.unwrap().status.unwrap();
    let e = status.error.unwrap();
    let abort = match e.error_details {
        Some(pb::execution_error::ErrorDetails::Abort(a)) => a,
        other => panic!("expected an abort, got {other:?}"),
    };
    assert_eq!(abort.abort_code, Some(2));
    // As on Sui, the abort is located where it is raised: `coin::split`
    // calls `balance::split`, whose ENotEnough (2) fires in 0x2::balance.
    let loc = abort.location.unwrap();
    assert_eq!(
        (loc.package.as_deref(), loc.module.as_deref()),
        (Some(Address::TWO.to_string().as_str()), Some("balance"))
    );
}

#[tokio::test]
async fn subscription_sees_every_checkpoint_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let (_, b) = key(2);
    let ledger = start(dir.path(), Some(&genesis_for(a)));
    let mut c = client(&ledger);
    let mut req = pb::SubscribeCheckpointsRequest::default();
    req.read_mask = Some(mask("sequence_number,digest,summary"));
    let mut stream = c
        .subscription_client()
        .subscribe_checkpoints(req)
        .await
        .unwrap()
        .into_inner();
    let mine = coins(&mut c, a).await;
    execute(&mut c, &k, transfer_all(a, mine[0].0.clone(), b, 5))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 8 {
        let frame = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let cp = frame.checkpoint.unwrap();
        assert_eq!(frame.cursor, cp.sequence_number);
        seen.push(cp);
    }
    // Backfill from 0 up to where the stream started.
    let first = seen[0].sequence_number.unwrap();
    let mut all = Vec::new();
    for s in 0..first {
        let mut r = pb::GetCheckpointRequest::by_sequence_number(s);
        r.read_mask = Some(mask("sequence_number,digest,summary"));
        all.push(
            c.ledger_client()
                .get_checkpoint(r)
                .await
                .unwrap()
                .into_inner()
                .checkpoint
                .unwrap(),
        );
    }
    all.extend(seen);
    for (i, cp) in all.iter().enumerate() {
        assert_eq!(cp.sequence_number, Some(i as u64), "gap or repeat at {i}");
        let summary = cp.summary.as_ref().unwrap();
        if i > 0 {
            assert_eq!(
                summary.previous_digest,
                all[i - 1].digest,
                "digest chain broken at {i}"
            );
        }
    }
}

#[tokio::test]
async fn kill_9_after_acknowledged_transaction_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let (_, b) = key(2);
    let mut ledger = start(dir.path(), Some(&genesis_for(a)));
    let mut c = client(&ledger);
    let mine = coins(&mut c, a).await;
    let done = execute(&mut c, &k, transfer_all(a, mine[0].0.clone(), b, 7))
        .await
        .unwrap();
    ledger.kill9(); // SIGKILL, right after the acknowledgement
    let mut cp = pb::GetCheckpointRequest::latest();
    cp.read_mask = Some(mask("sequence_number"));

    let ledger = start(dir.path(), None);
    let mut c = client(&ledger);
    let mut req = pb::GetTransactionRequest::new(&done.digest.clone().unwrap().parse().unwrap());
    req.read_mask = Some(mask("digest,effects"));
    let again = c
        .ledger_client()
        .get_transaction(req)
        .await
        .unwrap()
        .into_inner()
        .transaction
        .unwrap();
    assert_eq!(again.effects.unwrap().bcs, done.effects.unwrap().bcs);
    assert_eq!(coins(&mut c, b).await[0].1, 7);
}

#[tokio::test]
async fn simulate_completes_a_partial_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (_, a) = key(1);
    let (_, b) = key(2);
    let ledger = start(dir.path(), Some(&genesis_for(a)));
    let mut c = client(&ledger);
    // Gas left unset, literals and an object given by id only, as the
    // TypeScript SDK sends them.
    let mine = coins(&mut c, a).await;
    let t = tx(
        a,
        ObjectReference::new(Address::ZERO, 0, Default::default()),
        vec![],
        vec![
            PtbCommand::SplitCoins(SplitCoins {
                coin: Argument::Gas,
                amounts: vec![Argument::Input(0)],
            }),
            PtbCommand::TransferObjects(TransferObjects {
                objects: vec![Argument::Result(0), Argument::Input(2)],
                address: Argument::Input(1),
            }),
        ],
    );
    let mut t: pb::Transaction = t.into();
    t.bcs = None;
    t.gas_payment = None;
    // The kind given only by its data: the SDK leaves the enum unset.
    t.kind.as_mut().expect("kind").kind = None;
    let literal = |k: prost_types::value::Kind| {
        let mut i = pb::Input::default();
        i.literal = Some(Box::new(prost_types::Value { kind: Some(k) }));
        i
    };
    let mut by_id = pb::Input::default();
    by_id.object_id = Some(mine[2].0.object_id().to_string());
    if let Some(pb::transaction_kind::Data::ProgrammableTransaction(p)) =
        t.kind.as_mut().and_then(|k| k.data.as_mut())
    {
        p.inputs = vec![
            literal(prost_types::value::Kind::NumberValue(3.0)),
            literal(prost_types::value::Kind::StringValue(b.to_string())),
            by_id,
        ];
    }
    let mut req = pb::SimulateTransactionRequest::new(t);
    req.do_gas_selection = Some(true);
    req.read_mask = Some(mask(
        "transaction.effects,transaction.transaction,command_outputs",
    ));
    let r = c
        .execution_client()
        .simulate_transaction(req)
        .await
        .unwrap()
        .into_inner();
    let executed = r.transaction.unwrap();
    assert!(executed.effects.unwrap().status.unwrap().success.unwrap());
    let gas = executed.transaction.unwrap().gas_payment.unwrap();
    assert!(!gas.objects.is_empty());
    assert!(gas.budget.unwrap() >= 1_000_000);

    // Function signatures for the SDK's argument resolution.
    let mut gf = pb::GetFunctionRequest::default();
    gf.package_id = Some("0x2".into());
    gf.module_name = Some("coin".into());
    gf.name = Some("split".into());
    let f = c
        .package_client()
        .get_function(gf)
        .await
        .unwrap()
        .into_inner()
        .function
        .unwrap();
    assert_eq!(f.parameters.len(), 3);
    assert_eq!(
        f.parameters[0].reference,
        Some(pb::open_signature::Reference::Mutable as i32)
    );
    assert_eq!(f.type_parameters.len(), 1);

    // A view call from an address without coins, checks disabled.
    let (_, nobody) = key(9);
    let view = tx(
        nobody,
        ObjectReference::new(Address::ZERO, 0, Default::default()),
        vec![],
        vec![PtbCommand::MoveCall(MoveCall {
            package: Address::TWO,
            module: Identifier::new("tx_context").unwrap(),
            function: Identifier::new("sender").unwrap(),
            type_arguments: vec![],
            arguments: vec![],
        })],
    );
    let mut view: pb::Transaction = view.into();
    view.bcs = None;
    view.gas_payment = None;
    // Asked to select gas for execution, a sender without SUI is refused
    // (rather than given a dry-run coin it could not sign for).
    let mut req = pb::SimulateTransactionRequest::new(view.clone());
    req.do_gas_selection = Some(true);
    let refused = c
        .execution_client()
        .simulate_transaction(req)
        .await
        .expect_err("no gas to select");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused}");
    assert!(refused.message().contains("owns no SUI coin"), "{refused}");
    let mut req = pb::SimulateTransactionRequest::new(view);
    req.checks = Some(pb::simulate_transaction_request::TransactionChecks::Disabled as i32);
    req.read_mask = Some(mask("command_outputs"));
    let r = c
        .execution_client()
        .simulate_transaction(req)
        .await
        .unwrap()
        .into_inner();
    let out = r.command_outputs[0].return_values[0].value.clone().unwrap();
    assert_eq!(out.value.as_deref(), Some(&nobody.into_inner()[..]));

    // The system state the SDK's getCurrentSystemState reads.
    let mut req = pb::GetEpochRequest::default();
    req.read_mask = Some(mask(
        "system_state.epoch,system_state.reference_gas_price,system_state.epoch_start_timestamp_ms,system_state.parameters,start",
    ));
    let e = c
        .ledger_client()
        .get_epoch(req)
        .await
        .unwrap()
        .into_inner()
        .epoch
        .unwrap();
    let s = e.system_state.expect("system_state");
    assert_eq!(s.epoch, Some(0));
    assert_eq!(s.reference_gas_price, Some(1_000));
    let start = e.start.expect("start");
    assert_eq!(
        s.epoch_start_timestamp_ms,
        Some(start.seconds as u64 * 1000 + start.nanos as u64 / 1_000_000)
    );
    assert!(
        s.parameters
            .expect("parameters")
            .epoch_duration_ms
            .is_some()
    );
    assert_eq!(s.protocol_version, None, "not asked for");
}
