//! The ledger's network-facing decoders and the checkpoint decoder of its
//! followers, against hostile input. One `floe ledger run` serves them.
//!
//! - gRPC: valid requests (execute and simulate a signed transaction, get
//!   an object, a checkpoint, a transaction, a balance, owned objects,
//!   dynamic fields) are encoded as protobuf, mutated byte by byte (bit
//!   flips, overwrites, cuts, splices, inflated lengths) and the mutants
//!   that still decode as the request are sent. The ledger may refuse;
//!   it must never answer `INTERNAL`, `UNKNOWN` or `DATA_LOSS` (its error
//!   for a broken server), and it must still execute a valid transaction
//!   after the campaign.
//! - Faucet (`POST /v2/gas` and `/gas`): arbitrary and near-valid JSON
//!   bodies. Answers are 2xx/4xx or the documented 503 (a reserve is
//!   exhausted), always in the faucet's shape
//!   (`{"status": {"Failure": {"Internal": "..."}}}` on errors).
//! - Checkpoints: a served checkpoint (with its signature, contents,
//!   transactions and objects) is encoded, mutated and decoded the way a
//!   follower does (`Checkpoint::from_proto`, then `CheckpointVerifier`
//!   against the ledger's validator key). Decoding may fail; it must never
//!   panic, and a mutant that verifies must carry the same summary,
//!   transactions and events as the original (what the signature binds).
//!
//! Cases: `FLOE_FUZZ_CASES` (default 256 per property); `scripts/fuzz/run`
//! for long campaigns.

use floe_chain::types::Checkpoint;
use floe_chain::verify::CheckpointVerifier;
use floe_testkit::fuzz::{MutationMix, config, mutate, mutations};
use floe_testkit::ledger::{Ledger, LedgerOptions};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use prost::Message;
use prost_types::FieldMask;
use sui_crypto::SuiSigner;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_rpc::Client;
use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{
    Address, Argument, Command as PtbCommand, GasPayment, Input, ObjectReference,
    ProgrammableTransaction, SplitCoins, Transaction, TransactionExpiration, TransactionKind,
    TransferObjects, ValidatorCommittee, ValidatorCommitteeMember,
};

struct World {
    runtime: tokio::runtime::Runtime,
    url: String,
    validator_key: String,
    key: Ed25519PrivateKey,
    owner: Address,
    http: reqwest::Client,
    _ledger: Ledger,
    _dir: tempfile::TempDir,
}

/// A ledger of the test's own (stopped when the world is dropped; a
/// static one would outlive the test process's tests and leak).
fn world() -> World {
    {
        let dir = tempfile::tempdir().unwrap();
        let key = Ed25519PrivateKey::new([7; 32]);
        let owner = key.public_key().derive_address();
        let genesis = dir.path().join("genesis.toml");
        std::fs::write(
            &genesis,
            format!(
                "chain_name = \"fuzz\"\n[[accounts]]\naddress = \"{owner}\"\nbalance = 30000000000000\ncoins = 8\n"
            ),
        )
        .unwrap();
        let ledger = Ledger::start(
            dir.path(),
            &genesis,
            LedgerOptions::default()
                .checkpoint_interval_ms(1000)
                .env("RUST_LOG", "error"),
        );
        World {
            runtime: floe_testkit::runtime(),
            url: ledger.endpoint(),
            validator_key: ledger.ready["validator_key"].as_str().unwrap().to_owned(),
            key,
            owner,
            http: reqwest::Client::new(),
            _ledger: ledger,
            _dir: dir,
        }
    }
}

fn mask(paths: &str) -> FieldMask {
    FieldMask {
        paths: paths.split(',').map(str::to_owned).collect(),
    }
}

/// The gas budget of [`transaction`].
const BUDGET: u64 = 50_000_000;

/// The owner's SUI coins that can pay [`BUDGET`] on their own. Executed
/// requests split 1-MIST coins off to the owner; one of those picked as
/// gas would make a later transaction fail for want of gas, not because
/// the ledger broke.
async fn coins(c: &mut Client, owner: Address) -> Vec<ObjectReference> {
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
    resp.objects
        .iter()
        .filter(|o| o.balance.is_some_and(|b| b >= BUDGET))
        .map(|o| (&o.object_reference()).try_into().unwrap())
        .collect()
}

/// A signed transaction sending one MIST from the owner to itself, paid
/// with its `coin`-th coin.
async fn transaction(w: &World, c: &mut Client, coin: usize) -> (Transaction, pb::UserSignature) {
    let gas = coins(c, w.owner).await;
    assert!(
        !gas.is_empty(),
        "the owner has no coin that can pay the budget"
    );
    let gas = gas[coin % gas.len()].clone();
    let t = Transaction {
        kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
            inputs: vec![
                Input::Pure(bcs::to_bytes(&1u64).unwrap()),
                Input::Pure(bcs::to_bytes(&w.owner).unwrap()),
            ],
            commands: vec![
                PtbCommand::SplitCoins(SplitCoins {
                    coin: Argument::Gas,
                    amounts: vec![Argument::Input(0)],
                }),
                PtbCommand::TransferObjects(TransferObjects {
                    objects: vec![Argument::Result(0)],
                    address: Argument::Input(1),
                }),
            ],
        }),
        sender: w.owner,
        gas_payment: GasPayment {
            objects: vec![gas],
            owner: w.owner,
            price: 1000,
            budget: BUDGET,
        },
        expiration: TransactionExpiration::None,
    };
    let sig = w.key.sign_transaction(&t).unwrap();
    (t, sig.into())
}

/// This campaign's mix: no appended bytes; splices (weight 2) of up to 23
/// bytes and removals of up to 15.
const MIX: MutationMix = MutationMix {
    truncate: 1,
    extend: 0,
    splice: 2,
    splice_max: 24,
    remove_max: 16,
};

/// The requests mutated: valid ones of every kind the ledger decodes.
#[derive(Clone)]
enum Valid {
    Execute(pb::ExecuteTransactionRequest),
    Simulate(pb::SimulateTransactionRequest),
    Object(pb::GetObjectRequest),
    Checkpoint(pb::GetCheckpointRequest),
    Tx(pb::GetTransactionRequest),
    Balance(pb::GetBalanceRequest),
    Owned(pb::ListOwnedObjectsRequest),
    Fields(pb::ListDynamicFieldsRequest),
}

impl Valid {
    fn encoded(&self) -> Vec<u8> {
        match self {
            Valid::Execute(r) => r.encode_to_vec(),
            Valid::Simulate(r) => r.encode_to_vec(),
            Valid::Object(r) => r.encode_to_vec(),
            Valid::Checkpoint(r) => r.encode_to_vec(),
            Valid::Tx(r) => r.encode_to_vec(),
            Valid::Balance(r) => r.encode_to_vec(),
            Valid::Owned(r) => r.encode_to_vec(),
            Valid::Fields(r) => r.encode_to_vec(),
        }
    }

    /// Sends the mutant `bytes` decoded as this request's type; `None`
    /// when they do not decode (tonic would refuse them the same way).
    async fn send(&self, c: &mut Client, bytes: &[u8]) -> Option<Result<(), tonic::Status>> {
        fn ok<T>(r: Result<T, tonic::Status>) -> Result<(), tonic::Status> {
            r.map(|_| ())
        }
        Some(match self {
            Valid::Execute(_) => {
                let r = pb::ExecuteTransactionRequest::decode(bytes).ok()?;
                ok(c.execution_client().execute_transaction(r).await)
            }
            Valid::Simulate(_) => {
                let r = pb::SimulateTransactionRequest::decode(bytes).ok()?;
                ok(c.execution_client().simulate_transaction(r).await)
            }
            Valid::Object(_) => {
                let r = pb::GetObjectRequest::decode(bytes).ok()?;
                ok(c.ledger_client().get_object(r).await)
            }
            Valid::Checkpoint(_) => {
                let r = pb::GetCheckpointRequest::decode(bytes).ok()?;
                ok(c.ledger_client().get_checkpoint(r).await)
            }
            Valid::Tx(_) => {
                let r = pb::GetTransactionRequest::decode(bytes).ok()?;
                ok(c.ledger_client().get_transaction(r).await)
            }
            Valid::Balance(_) => {
                let r = pb::GetBalanceRequest::decode(bytes).ok()?;
                ok(c.state_client().get_balance(r).await)
            }
            Valid::Owned(_) => {
                let r = pb::ListOwnedObjectsRequest::decode(bytes).ok()?;
                ok(c.state_client().list_owned_objects(r).await)
            }
            Valid::Fields(_) => {
                let r = pb::ListDynamicFieldsRequest::decode(bytes).ok()?;
                ok(c.state_client().list_dynamic_fields(r).await)
            }
        })
    }
}

async fn valid_requests(w: &World, c: &mut Client) -> Vec<Valid> {
    let (tx, sig) = transaction(w, c, 1).await;
    let mut execute = pb::ExecuteTransactionRequest::new(tx.clone().into());
    execute.signatures = vec![sig];
    execute.read_mask = Some(mask("digest,effects,events,balance_changes,checkpoint"));
    let mut simulate = pb::SimulateTransactionRequest::default();
    simulate.transaction = Some(tx.clone().into());
    simulate.read_mask = Some(mask("transaction,command_outputs"));
    simulate.checks = Some(pb::simulate_transaction_request::TransactionChecks::Disabled as i32);
    simulate.do_gas_selection = Some(true);
    let gas = tx.gas_payment.objects[0].clone();
    let mut object = pb::GetObjectRequest::default();
    object.object_id = Some(gas.object_id().to_string());
    object.version = Some(gas.version());
    object.read_mask = Some(mask(
        "object_id,version,digest,owner,object_type,bcs,contents",
    ));
    let mut checkpoint = pb::GetCheckpointRequest::by_sequence_number(1);
    checkpoint.read_mask = Some(mask(
        "sequence_number,digest,summary,signature,contents,transactions,objects",
    ));
    let mut get_tx = pb::GetTransactionRequest::new(&tx.digest());
    get_tx.read_mask = Some(mask(
        "digest,transaction,effects,events,checkpoint,timestamp",
    ));
    let mut balance = pb::GetBalanceRequest::default();
    balance.owner = Some(w.owner.to_string());
    balance.coin_type = Some("0x2::sui::SUI".into());
    let mut owned = pb::ListOwnedObjectsRequest::default();
    owned.owner = Some(w.owner.to_string());
    owned.page_size = Some(2);
    owned.page_token = Some(vec![0u8, 1, 2, 3].into());
    owned.object_type = Some("0x2::coin::Coin<0x2::sui::SUI>".into());
    owned.read_mask = Some(mask("object_id,version,digest,balance"));
    let mut fields = pb::ListDynamicFieldsRequest::default();
    fields.parent = Some("0x5".into());
    fields.page_size = Some(3);
    fields.read_mask = Some(mask("parent,field_id,name,value"));
    vec![
        Valid::Execute(execute),
        Valid::Simulate(simulate),
        Valid::Object(object),
        Valid::Checkpoint(checkpoint),
        Valid::Tx(get_tx),
        Valid::Balance(balance),
        Valid::Owned(owned),
        Valid::Fields(fields),
    ]
}

fn broken_server(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::DataLoss
    )
}

#[test]
fn mutated_grpc_requests_never_break_the_ledger() {
    let w = &world();
    let _runtime = w.runtime.enter();
    let mut c = Client::new(w.url.clone()).unwrap();
    let valid = w.runtime.block_on(valid_requests(w, &mut c));
    let encoded: Vec<Vec<u8>> = valid.iter().map(Valid::encoded).collect();
    let mut runner = TestRunner::new(config());
    let cases = (0..valid.len(), mutations(MIX));
    let outcome = runner.run(&cases, |(kind, edits)| {
        let bytes = mutate(&encoded[kind], &edits);
        let mut c = c.clone();
        if let Some(Err(status)) = w.runtime.block_on(valid[kind].send(&mut c, &bytes)) {
            prop_assert!(
                !broken_server(&status),
                "request kind {kind}: {status:?} for {}",
                hex::encode(&bytes)
            );
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    // Still serving: a fresh valid transaction executes.
    w.runtime.block_on(async {
        let (tx, sig) = transaction(w, &mut c, 2).await;
        let mut req = pb::ExecuteTransactionRequest::new(tx.into());
        req.signatures = vec![sig];
        req.read_mask = Some(mask("digest"));
        c.execution_client()
            .execute_transaction(req)
            .await
            .expect("the ledger executes a valid transaction after the campaign");
    });
}

fn faucet_body() -> impl Strategy<Value = Vec<u8>> {
    let recipient = prop_oneof![
        Just("0x0000000000000000000000000000000000000000000000000000000000000abc".to_owned()),
        Just("0xabc".to_owned()),
        Just(String::new()),
        "[ -~]{0,80}",
        "0x[0-9a-f]{0,70}",
    ];
    let coin_type = prop_oneof![
        Just(None),
        Just(Some("0x2::sui::SUI".to_owned())),
        Just(Some("0x2::sui::NOPE".to_owned())),
        Just(Some("0x99::coin::X<0x2::sui::SUI>".to_owned())),
        "[ -~]{0,80}".prop_map(Some),
    ];
    prop_oneof![
        3 => (recipient, coin_type).prop_map(|(r, t)| {
            let mut fixed = serde_json::json!({ "recipient": r });
            if let Some(t) = t {
                fixed["coin_type"] = t.into();
            }
            serde_json::json!({ "FixedAmountRequest": fixed }).to_string().into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..300),
        1 => "[ -~]{0,200}".prop_map(String::into_bytes),
        1 => Just(b"{\"FixedAmountRequest\":{}}".to_vec()),
        1 => Just(b"{\"FixedAmountRequest\":{\"recipient\":1}}".to_vec()),
    ]
}

#[test]
fn arbitrary_faucet_requests_are_answered_in_the_faucet_shape() {
    let w = &world();
    let mut runner = TestRunner::new(config());
    let cases = (
        prop::sample::select(&["/v2/gas", "/gas"][..]),
        faucet_body(),
    );
    let outcome = runner.run(&cases, |(path, body)| {
        let (status, text) = w.runtime.block_on(async {
            let answer = w
                .http
                .post(format!("{}{path}", w.url))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            (
                answer.status().as_u16(),
                answer.text().await.unwrap_or_default(),
            )
        });
        prop_assert!(
            status < 500 || status == 503,
            "POST {path} {:?} -> {status}: {text}",
            String::from_utf8_lossy(&body)
        );
        if status >= 400 {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            prop_assert!(
                v["status"]["Failure"]["Internal"].is_string(),
                "POST {path} -> {status}: not the faucet's error shape: {text}"
            );
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let health = w
        .runtime
        .block_on(async { w.http.get(format!("{}/health", w.url)).send().await });
    assert_eq!(health.unwrap().status(), 200);
}

/// The parts of a checkpoint the committee's signature binds.
fn bound_parts(c: &Checkpoint) -> String {
    let txs: Vec<String> = c
        .transactions
        .iter()
        .map(|t| format!("{:?}|{:?}|{:?}", t.digest, t.effects, t.events))
        .collect();
    format!(
        "{}|{:?}|{:?}|{:?}",
        c.sequence_number,
        c.summary.as_ref().map(|s| s.digest()),
        c.contents,
        txs
    )
}

#[test]
fn mutated_checkpoints_decode_or_fail_and_never_verify_altered() {
    let w = &world();
    let _runtime = w.runtime.enter();
    let mut c = Client::new(w.url.clone()).unwrap();
    let original = w.runtime.block_on(async {
        // A checkpoint with a transaction of the owner's in it.
        let (tx, sig) = transaction(w, &mut c, 3).await;
        let mut req = pb::ExecuteTransactionRequest::new(tx.into());
        req.signatures = vec![sig];
        req.read_mask = Some(mask("checkpoint"));
        c.execution_client().execute_transaction(req).await.unwrap();
        let mut seq = None;
        for _ in 0..100 {
            let mut req = pb::GetCheckpointRequest::latest();
            req.read_mask = Some(mask("sequence_number,transactions"));
            let cp = c
                .ledger_client()
                .get_checkpoint(req)
                .await
                .unwrap()
                .into_inner();
            let cp = cp.checkpoint.unwrap();
            if cp.transactions.len() > 1 {
                seq = cp.sequence_number;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let mut req = pb::GetCheckpointRequest::by_sequence_number(seq.unwrap_or(1));
        req.read_mask = Some(mask(
            "sequence_number,digest,summary,signature,contents,transactions,objects",
        ));
        c.ledger_client()
            .get_checkpoint(req)
            .await
            .unwrap()
            .into_inner()
            .checkpoint
            .unwrap()
    });
    let key = w.validator_key.parse().expect("the ledger's validator key");
    let committee = ValidatorCommittee {
        epoch: 0,
        members: vec![ValidatorCommitteeMember {
            public_key: key,
            stake: 1,
        }],
    };
    let decoded = Checkpoint::from_proto(&original).expect("the served checkpoint decodes");
    let mut verifier = CheckpointVerifier::new(committee.clone()).unwrap();
    verifier
        .verify(&decoded)
        .expect("the served checkpoint verifies");
    let expected = bound_parts(&decoded);
    let encoded = original.encode_to_vec();
    let mut runner = TestRunner::new(config());
    let outcome = runner.run(&mutations(MIX), |edits| {
        let bytes = mutate(&encoded, &edits);
        let Ok(proto) = pb::Checkpoint::decode(bytes.as_slice()) else {
            return Ok(());
        };
        let Ok(mutant) = Checkpoint::from_proto(&proto) else {
            return Ok(());
        };
        let mut verifier = CheckpointVerifier::new(committee.clone()).unwrap();
        if verifier.verify(&mutant).is_ok() {
            prop_assert_eq!(
                bound_parts(&mutant),
                expected.clone(),
                "a mutant verified with altered contents"
            );
            // Transaction data may be left out, never altered.
            for t in &mutant.transactions {
                if let Some(data) = &t.transaction {
                    prop_assert_eq!(data.digest(), t.digest, "altered transaction data verified");
                }
            }
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}
