//! `floe ledger run` storage end to end: kill -9 at arbitrary moments of a
//! ledger that compacts its log every few records loses no acknowledged
//! transaction and keeps one checkpoint chain; a follower asking for a
//! pruned checkpoint gets an error naming the oldest available one.

use std::path::Path;

use floe_testkit::ledger::{Ledger, LedgerOptions};

use prost_types::FieldMask;
use sui_crypto::SuiSigner;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_rpc::Client;
use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{
    Address, Argument, Command as PtbCommand, GasPayment, Input, ObjectReference,
    ProgrammableTransaction, SplitCoins, Transaction, TransactionExpiration, TransactionKind,
    TransferObjects,
};

fn key(seed: u8) -> (Ed25519PrivateKey, Address) {
    let k = Ed25519PrivateKey::new([seed; 32]);
    let a = k.public_key().derive_address();
    (k, a)
}

/// Starts the ledger with an idle heartbeat of `heartbeat_ms`.
fn start(dir: &Path, owner: Address, heartbeat_ms: u64, extra: &[&str]) -> Ledger {
    let genesis = dir.join("genesis.toml");
    std::fs::write(
        &genesis,
        format!("chain_name = \"e2e\"\n[[accounts]]\naddress = \"{owner}\"\nbalance = 30000000000\ncoins = 3\n"),
    )
    .unwrap();
    Ledger::start(
        dir,
        &genesis,
        LedgerOptions::default()
            .checkpoint_interval_ms(heartbeat_ms)
            .args(extra)
            .env("RUST_LOG", "warn"),
    )
}

fn mask(paths: &str) -> FieldMask {
    FieldMask {
        paths: paths.split(',').map(str::to_owned).collect(),
    }
}

async fn first_coin(c: &mut Client, owner: Address) -> Result<ObjectReference, tonic::Status> {
    let mut req = pb::ListOwnedObjectsRequest::default();
    req.owner = Some(owner.to_string());
    req.object_type = Some("0x2::coin::Coin<0x2::sui::SUI>".into());
    req.read_mask = Some(mask("object_id,version,digest"));
    let resp = c.state_client().list_owned_objects(req).await?.into_inner();
    let o = resp
        .objects
        .first()
        .ok_or_else(|| tonic::Status::not_found("no coin"))?;
    (&o.object_reference())
        .try_into()
        .map_err(|_| tonic::Status::internal("bad reference"))
}

/// Sends one MIST from `a` to `b`; the acknowledged digest.
async fn send_one(
    c: &mut Client,
    k: &Ed25519PrivateKey,
    a: Address,
    b: Address,
) -> Result<String, tonic::Status> {
    let gas = first_coin(c, a).await?;
    let t = Transaction {
        kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
            inputs: vec![
                Input::Pure(bcs::to_bytes(&1u64).unwrap()),
                Input::Pure(bcs::to_bytes(&b).unwrap()),
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
        sender: a,
        gas_payment: GasPayment {
            objects: vec![gas],
            owner: a,
            price: 1000,
            budget: 50_000_000,
        },
        expiration: TransactionExpiration::None,
    };
    let sig = k.sign_transaction(&t).unwrap();
    let mut req = pb::ExecuteTransactionRequest::new(t.into());
    req.signatures = vec![sig.into()];
    req.read_mask = Some(mask("digest"));
    let done = c.execution_client().execute_transaction(req).await?;
    done.into_inner()
        .transaction
        .and_then(|t| t.digest)
        .ok_or_else(|| tonic::Status::internal("no digest"))
}

async fn checkpoint(c: &mut Client, seq: Option<u64>) -> Result<pb::Checkpoint, tonic::Status> {
    let mut req = match seq {
        Some(s) => pb::GetCheckpointRequest::by_sequence_number(s),
        None => pb::GetCheckpointRequest::latest(),
    };
    req.read_mask = Some(mask("sequence_number,digest,summary"));
    Ok(c.ledger_client()
        .get_checkpoint(req)
        .await?
        .into_inner()
        .checkpoint
        .unwrap_or_default())
}

/// Waits (up to 30 s) until the transaction `digest` is in a checkpoint.
async fn wait_checkpointed(c: &mut Client, digest: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mut req = pb::GetTransactionRequest::new(&digest.parse().unwrap());
        req.read_mask = Some(mask("digest,checkpoint"));
        let tx = c
            .ledger_client()
            .get_transaction(req)
            .await
            .unwrap()
            .into_inner();
        if tx.transaction.and_then(|t| t.checkpoint).is_some() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{digest} was not checkpointed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_compactions_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let (_, b) = key(2);
    // Compaction after every few records, so kills land in and around it.
    let extra = ["--compact-log-records", "5"];
    let mut acked: Vec<String> = Vec::new();
    for round in 0..5usize {
        let ledger = start(dir.path(), a, 100, &extra);
        let mut c = Client::new(ledger.endpoint()).unwrap();
        for digest in &acked {
            let mut req = pb::GetTransactionRequest::new(&digest.parse().unwrap());
            req.read_mask = Some(mask("digest,checkpoint"));
            c.ledger_client()
                .get_transaction(req)
                .await
                .unwrap_or_else(|e| panic!("round {round}: acknowledged {digest} lost: {e}"));
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let key = k.clone();
        let mut writer = c.clone();
        let task = tokio::spawn(async move {
            while let Ok(digest) = send_one(&mut writer, &key, a, b).await {
                if tx.send(digest).is_err() {
                    return;
                }
            }
        });
        // Kill after a number of acknowledgements that varies by round.
        for _ in 0..(3 + 2 * round) {
            acked.push(rx.recv().await.expect("the writer stopped early"));
        }
        let mut ledger = ledger;
        ledger.kill9(); // SIGKILL
        let _ = task.await;
        while let Ok(digest) = rx.try_recv() {
            acked.push(digest);
        }
    }
    let ledger = start(dir.path(), a, 100, &extra);
    let mut c = Client::new(ledger.endpoint()).unwrap();
    for digest in &acked {
        let mut req = pb::GetTransactionRequest::new(&digest.parse().unwrap());
        req.read_mask = Some(mask("digest"));
        c.ledger_client()
            .get_transaction(req)
            .await
            .unwrap_or_else(|e| panic!("acknowledged {digest} lost: {e}"));
    }
    // One chain from genesis: every checkpoint names its predecessor.
    let tip = checkpoint(&mut c, None)
        .await
        .unwrap()
        .sequence_number
        .unwrap();
    let mut previous: Option<String> = None;
    for seq in 0..=tip {
        let cp = checkpoint(&mut c, Some(seq)).await.unwrap();
        let summary = cp.summary.unwrap();
        assert_eq!(summary.previous_digest, previous, "checkpoint {seq}");
        previous = cp.digest;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follower_asking_for_a_pruned_checkpoint_is_told_the_oldest_available() {
    let dir = tempfile::tempdir().unwrap();
    let (k, a) = key(1);
    let (_, b) = key(2);
    // No heartbeat: checkpoints come from the transactions only, so the
    // oldest available one stays put once they stop.
    let ledger = start(
        dir.path(),
        a,
        3_600_000,
        &["--compact-log-records", "4", "--retain-checkpoints", "3"],
    );
    let url = ledger.endpoint();
    let mut c = Client::new(url.clone()).unwrap();
    // One checkpoint per transaction: the ledger seals every pending
    // transaction together, so transactions sent faster than its 20 ms poll
    // (or while a loaded machine delays it) would all land in one
    // checkpoint, and with no heartbeat nothing would ever fall out of a
    // 3-checkpoint window. Waiting for each one's checkpoint makes eight.
    for _ in 0..8 {
        let digest = send_one(&mut c, &k, a, b).await.unwrap();
        wait_checkpointed(&mut c, &digest).await;
    }
    // Wait until a compaction pruned the early checkpoints.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let oldest = loop {
        let info = c
            .ledger_client()
            .get_service_info(pb::GetServiceInfoRequest::default())
            .await
            .unwrap()
            .into_inner();
        let oldest = info.lowest_available_checkpoint.unwrap_or(0);
        if oldest > 0 {
            break oldest;
        }
        assert!(std::time::Instant::now() < deadline, "nothing was pruned");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let chain = floe_chain::ChainClient::connect_single(&url).unwrap();
    let mut stream = chain.checkpoint_stream(0, floe_chain::StreamConfig::default());
    let error = stream
        .next()
        .await
        .expect("the stream ends with an error")
        .expect_err("checkpoint 0 was pruned");
    let text = error.to_string();
    assert!(text.contains("was pruned"), "{text}");
    assert!(text.contains("oldest available checkpoint is"), "{text}");
    // From the oldest available one, the follower goes on.
    let mut stream = chain.checkpoint_stream(oldest, floe_chain::StreamConfig::default());
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.sequence_number >= oldest);
}
