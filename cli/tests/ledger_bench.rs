//! Ledger throughput, through the gRPC API against a real `floe ledger run`.
//! Ignored by default; run with
//!
//! ```text
//! cargo test --release -p floe --test ledger_bench -- --ignored --nocapture
//! ```
//!
//! Environment: `BENCH_WORKERS` (concurrent senders, default 32),
//! `BENCH_SECONDS` (default 10), `BENCH_INTERVAL_MS` (checkpoint interval,
//! default 100).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use floe_testkit::ledger::{Ledger, LedgerOptions};
use futures::StreamExt;
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

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mask(paths: &str) -> FieldMask {
    FieldMask {
        paths: paths.split(',').map(str::to_owned).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with --ignored --nocapture"]
async fn ledger_throughput() {
    let workers = env("BENCH_WORKERS", 32);
    let seconds = env("BENCH_SECONDS", 10);
    let interval = env("BENCH_INTERVAL_MS", 100);
    let key = Ed25519PrivateKey::new([7; 32]);
    let sender = key.public_key().derive_address();
    let recipient = Address::from_static("0xb0b");
    let dir = tempfile::tempdir().unwrap();
    let genesis = dir.path().join("genesis.toml");
    std::fs::write(
        &genesis,
        format!(
            "[[accounts]]\naddress = \"{sender}\"\nbalance = {}\ncoins = {workers}\n",
            workers * 100_000_000_000
        ),
    )
    .unwrap();
    let proc_ = Ledger::start(
        dir.path(),
        &genesis,
        LedgerOptions::default()
            .checkpoint_interval_ms(interval)
            .env("RUST_LOG", "warn"),
    );
    let url = proc_.endpoint();
    let mut client = Client::new(url.clone()).unwrap();

    let mut req = pb::ListOwnedObjectsRequest::default();
    req.owner = Some(sender.to_string());
    req.page_size = Some(1000);
    req.read_mask = Some(mask("object_id,version,digest"));
    let coins: Vec<ObjectReference> = client
        .state_client()
        .list_owned_objects(req)
        .await
        .unwrap()
        .into_inner()
        .objects
        .iter()
        .map(|o| (&o.object_reference()).try_into().unwrap())
        .collect();
    assert_eq!(coins.len() as u64, workers);

    // A subscriber that receives every checkpoint with full transactions.
    let streamed_tx = Arc::new(AtomicU64::new(0));
    let streamed_cp = Arc::new(AtomicU64::new(0));
    let mut sub = pb::SubscribeCheckpointsRequest::default();
    sub.read_mask = Some(mask(
        "sequence_number,digest,summary,transactions.digest,transactions.effects,transactions.events",
    ));
    let mut stream = client
        .subscription_client()
        .subscribe_checkpoints(sub)
        .await
        .unwrap()
        .into_inner();
    let (stx, scp) = (streamed_tx.clone(), streamed_cp.clone());
    tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            let n = frame.checkpoint.map(|c| c.transactions.len()).unwrap_or(0);
            stx.fetch_add(n as u64, Ordering::Relaxed);
            scp.fetch_add(1, Ordering::Relaxed);
        }
    });

    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for coin in coins {
        let mut c = Client::new(url.clone()).unwrap();
        let key = key.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut gas = coin;
            while Instant::now() < deadline {
                let t = Transaction {
                    kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
                        inputs: vec![
                            Input::Pure(bcs::to_bytes(&1u64).unwrap()),
                            Input::Pure(bcs::to_bytes(&recipient).unwrap()),
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
                    sender,
                    gas_payment: GasPayment {
                        objects: vec![gas.clone()],
                        owner: sender,
                        price: 1000,
                        budget: 5_000_000,
                    },
                    expiration: TransactionExpiration::None,
                };
                let sig = key.sign_transaction(&t).unwrap();
                let mut req = pb::ExecuteTransactionRequest::new(t.into());
                req.signatures = vec![sig.into()];
                req.read_mask = Some(mask("effects.gas_object"));
                let resp = c
                    .execution_client()
                    .execute_transaction(req)
                    .await
                    .unwrap()
                    .into_inner();
                let g = resp
                    .transaction
                    .unwrap()
                    .effects
                    .unwrap()
                    .gas_object
                    .unwrap();
                gas = ObjectReference::new(
                    *gas.object_id(),
                    g.output_version.unwrap(),
                    g.output_digest.unwrap().parse().unwrap(),
                );
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = done.load(Ordering::Relaxed);
    // Let the stream catch up with the last checkpoint.
    tokio::time::sleep(Duration::from_millis(3 * interval + 500)).await;
    let streamed = streamed_tx.load(Ordering::Relaxed);

    // Backfill: read every checkpoint with full transactions via GetCheckpoint.
    let mut latest = pb::GetCheckpointRequest::latest();
    latest.read_mask = Some(mask("sequence_number"));
    let height = client
        .ledger_client()
        .get_checkpoint(latest)
        .await
        .unwrap()
        .into_inner()
        .checkpoint
        .unwrap()
        .sequence_number
        .unwrap();
    let t0 = Instant::now();
    let mut backfilled = 0usize;
    for s in 0..=height {
        let mut r = pb::GetCheckpointRequest::by_sequence_number(s);
        r.read_mask = Some(mask(
            "sequence_number,digest,summary,transactions.digest,transactions.effects,transactions.events",
        ));
        backfilled += client
            .ledger_client()
            .get_checkpoint(r)
            .await
            .unwrap()
            .into_inner()
            .checkpoint
            .unwrap()
            .transactions
            .len();
    }
    let backfill_secs = t0.elapsed().as_secs_f64();
    println!("workers={workers} seconds={seconds} checkpoint_interval_ms={interval}");
    println!(
        "signed SUI transfers: {total} in {elapsed:.2}s = {:.0} tx/s",
        total as f64 / elapsed
    );
    println!(
        "checkpoint stream (live): {} checkpoints, {streamed} transactions delivered ({:.0} tx/s over the run)",
        streamed_cp.load(Ordering::Relaxed),
        streamed as f64 / elapsed
    );
    println!(
        "checkpoint backfill (GetCheckpoint with transactions): {} checkpoints, {backfilled} transactions in {backfill_secs:.2}s = {:.0} checkpoints/s, {:.0} tx/s",
        height + 1,
        (height + 1) as f64 / backfill_secs,
        backfilled as f64 / backfill_secs
    );
    assert!(
        streamed >= total,
        "the stream must deliver every transaction"
    );

    // Restart: replay the whole log.
    drop(proc_);
    let t0 = Instant::now();
    let _proc = Ledger::resume(dir.path(), LedgerOptions::default().env("RUST_LOG", "warn"));
    let log = std::fs::metadata(dir.path().join("ledger/ledger.wal"))
        .unwrap()
        .len();
    println!(
        "restart: replayed a {:.1} MiB log ({} checkpoints) in {:.2}s",
        log as f64 / (1 << 20) as f64,
        height + 1,
        t0.elapsed().as_secs_f64()
    );
}
