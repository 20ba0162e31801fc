//! Ledger storage: snapshots, log compaction, the on-disk archive, memory
//! bounded by live objects, crash safety of every compaction step, pruning,
//! and checkpoints only when there is something to seal.

use std::path::Path;
use std::time::Duration;

use floe_ledger::genesis::{Account, Genesis};
use floe_ledger::rpc::LedgerApi;
use floe_ledger::{CompactionStep, Ledger, LedgerConfig, LedgerOptions};
use sui_crypto::SuiSigner;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_rpc::proto::sui::rpc::v2::ledger_service_server::LedgerService;
use sui_sdk_types::{
    Address, Argument, Command, Digest, ExecutionStatus, GasPayment, Input, MergeCoins, Object,
    ObjectReference, ProgrammableTransaction, SplitCoins, StructTag, Transaction,
    TransactionExpiration, TransactionKind,
};

fn key() -> (Ed25519PrivateKey, Address) {
    let k = Ed25519PrivateKey::new([9; 32]);
    let a = k.public_key().derive_address();
    (k, a)
}

fn config(dir: &Path, owner: Address) -> LedgerConfig {
    LedgerConfig {
        data_dir: dir.to_owned(),
        genesis: Genesis {
            accounts: vec![Account {
                address: owner,
                balance: 100_000_000_000,
                coins: 2,
            }],
            ..Genesis::default()
        },
        natives: vec![],
    }
}

/// Small windows and no automatic compaction, so tests decide.
fn options() -> LedgerOptions {
    LedgerOptions {
        recent_checkpoints: 4,
        compact_log_bytes: u64::MAX,
        compact_log_records: u64::MAX,
        // Transactions never seal a Clock refresh by themselves here, so
        // the checkpoints are exactly the ones a test seals.
        clock_resolution: Duration::from_secs(3600),
        ..LedgerOptions::default()
    }
}

fn open(dir: &Path, options: LedgerOptions) -> Ledger {
    Ledger::open_with(config(dir, key().1), options).unwrap()
}

fn gas(ledger: &Ledger) -> Object {
    let owner = key().1;
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
    v.remove(0)
}

/// A transaction that splits one MIST off the gas coin and merges it back:
/// it writes the gas coin and leaves the number of live objects unchanged.
fn split_and_merge(ledger: &Ledger) -> Digest {
    let (k, a) = key();
    let g = gas(ledger);
    let t = Transaction {
        kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
            inputs: vec![Input::Pure(bcs::to_bytes(&1u64).unwrap())],
            commands: vec![
                Command::SplitCoins(SplitCoins {
                    coin: Argument::Gas,
                    amounts: vec![Argument::Input(0)],
                }),
                Command::MergeCoins(MergeCoins {
                    coin: Argument::Gas,
                    coins_to_merge: vec![Argument::NestedResult(0, 0)],
                }),
            ],
        }),
        sender: a,
        gas_payment: GasPayment {
            objects: vec![ObjectReference::new(g.object_id(), g.version(), g.digest())],
            owner: a,
            price: 1000,
            budget: 50_000_000,
        },
        expiration: TransactionExpiration::None,
    };
    let sig = k.sign_transaction(&t).unwrap();
    let entry = ledger.execute(t, vec![sig]).unwrap();
    assert_eq!(
        *entry.record.effects.status(),
        ExecutionStatus::Success,
        "{:?}",
        entry.record.error_description
    );
    entry.digest
}

/// Everything that must survive: live objects (id, version, digest),
/// pending transactions, the chain id and the tip.
fn fingerprint(ledger: &Ledger) -> String {
    let state = ledger.state();
    let snapshot = state.snapshot(0).unwrap();
    let objects: Vec<String> = snapshot
        .objects
        .iter()
        .map(|o| format!("{}@{}:{}", o.object_id(), o.version(), o.digest()))
        .collect();
    let pending: Vec<String> = snapshot
        .pending
        .iter()
        .map(|t| t.transaction.digest().to_string())
        .collect();
    format!(
        "{objects:?} pending {pending:?} chain {} tip {} {} gas {:?}",
        snapshot.chain_id, snapshot.latest_checkpoint, snapshot.latest_digest, snapshot.rolling_gas
    )
}

/// Every checkpoint digest from genesis, checking that each names its
/// predecessor and that its transactions are served.
fn chain(ledger: &Ledger) -> Vec<Digest> {
    let state = ledger.state();
    let tip = state.latest_checkpoint().unwrap().summary.sequence_number;
    let mut out: Vec<Digest> = Vec::new();
    for seq in 0..=tip {
        let c = state.checkpoint(seq).unwrap().unwrap();
        assert_eq!(c.summary.sequence_number, seq);
        assert_eq!(c.summary.previous_digest, out.last().copied());
        assert_eq!(c.summary.content_digest, c.contents.digest());
        for (t, info) in c.transactions.iter().zip(c.contents.transactions()) {
            assert_eq!(t.digest, *info.transaction());
            assert_eq!(state.transaction_checkpoint(&t.digest), Some(seq));
        }
        out.push(c.digest);
    }
    out
}

fn wal_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("ledger.wal")).unwrap().len()
}

/// Some history: `n` transactions in checkpoints of three, then two
/// acknowledged transactions left pending.
fn history(ledger: &Ledger, n: usize) -> Vec<Digest> {
    let mut digests = Vec::new();
    for i in 0..n {
        digests.push(split_and_merge(ledger));
        if i % 3 == 2 {
            ledger.seal_checkpoint().unwrap();
        }
    }
    ledger.seal_checkpoint().unwrap();
    digests.push(split_and_merge(ledger));
    digests.push(split_and_merge(ledger));
    digests
}

#[test]
fn compaction_keeps_state_and_checkpoint_chain_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path(), options());
    let first_gas = gas(&ledger);
    let digests = history(&ledger, 20);
    let (before, chain_before) = (fingerprint(&ledger), chain(&ledger));
    let log_before = wal_len(dir.path());
    ledger.compact().unwrap();
    assert!(wal_len(dir.path()) < log_before, "the log was truncated");
    assert_eq!(fingerprint(&ledger), before);
    drop(ledger);

    let ledger = open(dir.path(), options());
    assert_eq!(fingerprint(&ledger), before);
    assert_eq!(chain(&ledger), chain_before);
    // Old transactions, checkpoints and object versions come from disk.
    for d in &digests[..3] {
        let t = ledger.state().transaction(d).unwrap().unwrap();
        assert_eq!(t.digest, *d);
        assert!(ledger.state().transaction_checkpoint(d).is_some());
    }
    let old = ledger
        .state()
        .object_at(&first_gas.object_id(), first_gas.version())
        .unwrap()
        .unwrap();
    assert_eq!(old.digest(), first_gas.digest());
    // The pending transactions are sealed by the next checkpoint, on top
    // of the snapshot, and the result survives another restart.
    let sealed = ledger.seal_checkpoint().unwrap();
    assert!(sealed.transactions.len() >= 2);
    split_and_merge(&ledger);
    let (after, chain_after) = (fingerprint(&ledger), chain(&ledger));
    assert_eq!(chain_after[..chain_before.len()], chain_before[..]);
    drop(ledger);
    let ledger = open(dir.path(), options());
    assert_eq!(fingerprint(&ledger), after);
    assert_eq!(chain(&ledger), chain_after);
}

#[test]
fn a_crash_at_any_compaction_step_loses_nothing() {
    for step in [
        CompactionStep::ArchivePersisted,
        CompactionStep::SnapshotWritten,
        CompactionStep::LogReset,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let ledger = open(dir.path(), options());
        history(&ledger, 7);
        // A first compaction, so the crash hits a later generation.
        ledger.compact().unwrap();
        history(&ledger, 5);
        let (before, chain_before) = (fingerprint(&ledger), chain(&ledger));
        ledger.compact_and_stop_after(step).unwrap();
        assert!(
            split_and_merge_refused(&ledger),
            "a stopped ledger refuses writes"
        );
        drop(ledger);
        let ledger = open(dir.path(), options());
        assert_eq!(fingerprint(&ledger), before, "after a crash at {step:?}");
        assert_eq!(chain(&ledger), chain_before, "after a crash at {step:?}");
        // The reopened ledger goes on and compacts normally.
        ledger.seal_checkpoint().unwrap();
        split_and_merge(&ledger);
        ledger.compact().unwrap();
        let (after, chain_after) = (fingerprint(&ledger), chain(&ledger));
        drop(ledger);
        let ledger = open(dir.path(), options());
        assert_eq!(fingerprint(&ledger), after, "{step:?}");
        assert_eq!(chain(&ledger), chain_after, "{step:?}");
    }
}

fn split_and_merge_refused(ledger: &Ledger) -> bool {
    ledger.seal_checkpoint().is_err()
}

#[test]
fn a_torn_tail_after_a_compaction_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path(), options());
    history(&ledger, 4);
    ledger.compact().unwrap();
    history(&ledger, 4);
    let (before, chain_before) = (fingerprint(&ledger), chain(&ledger));
    drop(ledger);
    // A frame cut short by a crash: a length promising more than exists.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("ledger.wal"))
        .unwrap();
    std::io::Write::write_all(&mut f, &[200, 0, 0, 0, 1, 2, 3, 4, 5, 6]).unwrap();
    drop(f);
    let ledger = open(dir.path(), options());
    assert_eq!(fingerprint(&ledger), before);
    assert_eq!(chain(&ledger), chain_before);
}

#[test]
fn memory_holds_live_objects_and_a_window_not_history() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LedgerOptions {
        compact_log_records: 40,
        ..options()
    };
    let ledger = open(dir.path(), opts.clone());
    let (live_at_start, _, _) = ledger.state().counts();
    let mut compactions = 0;
    let mut largest_log = 0;
    for i in 0..240 {
        split_and_merge(&ledger);
        if i % 4 == 3 {
            ledger.seal_checkpoint().unwrap();
        }
        if ledger.needs_compaction() {
            ledger.compact().unwrap();
            compactions += 1;
        }
        largest_log = largest_log.max(wal_len(dir.path()));
        let (live, transactions, checkpoints) = ledger.state().counts();
        // The Clock and the gas coins: each checkpoint rewrites the Clock,
        // each transaction the gas coin; neither adds a live object.
        assert_eq!(live, live_at_start, "after {i} transactions");
        // A window of 4 checkpoints of at most 5 transactions (4 and the
        // Clock update) plus at most 4 pending.
        assert!(checkpoints <= 4, "{checkpoints} checkpoints in memory");
        assert!(transactions <= 4 * 5 + 4, "{transactions} in memory");
    }
    assert!(compactions >= 5, "{compactions} compactions");
    // The log never grew beyond one threshold's worth of records.
    let one_record = 4096;
    assert!(
        largest_log < 41 * one_record,
        "log reached {largest_log} bytes"
    );
    // Everything is still served, from disk.
    let history_len = chain(&ledger).len();
    assert!(history_len > 60);
    drop(ledger);
    let ledger = open(dir.path(), opts);
    assert_eq!(chain(&ledger).len(), history_len);
    assert!(ledger.state().counts().2 <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_ledger_seals_only_heartbeats_and_seals_work_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path(), options());
    let tip = || latest_checkpoint(&ledger);
    let start = tip();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(
        ledger
            .clone()
            .run_checkpointer(Duration::from_secs(3600), stopped),
    );
    // Idle: no checkpoint at all (a loaded machine only makes this
    // stricter: the checkpointer polls less).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(tip(), start, "an idle ledger sealed a checkpoint");
    // Something to seal: a checkpoint holds it soon.
    let l = ledger.clone();
    let digest = tokio::task::spawn_blocking(move || split_and_merge(&l))
        .await
        .unwrap();
    wait_for(|| ledger.state().transaction_checkpoint(&digest).is_some()).await;
    let after_tx = tip();
    assert_eq!(after_tx, start + 1, "one checkpoint for one transaction");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(tip(), after_tx, "idle again, nothing sealed");
    let _ = stop.send(true);
    task.await.unwrap();

    // A short heartbeat seals empty checkpoints (advancing the Clock).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clock_before = ledger.state().clock_ms();
    let task = tokio::spawn(
        ledger
            .clone()
            .run_checkpointer(Duration::from_millis(100), stopped),
    );
    wait_for(|| tip() >= after_tx + 2).await;
    let _ = stop.send(true);
    task.await.unwrap();
    assert!(ledger.state().clock_ms() > clock_before);
}

/// A checkpoint sealed by a Clock refresh (a read or a transaction
/// finding the Clock stale) goes through the same compaction check as one
/// the checkpointer seals: with a heartbeat of an hour, the refreshes alone
/// pass the log threshold and the checkpointer compacts at once, not at
/// the next heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_sealed_by_clock_refreshes_are_compacted_too() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(
        dir.path(),
        LedgerOptions {
            compact_log_records: 12,
            clock_resolution: Duration::from_millis(5),
            ..options()
        },
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(
        ledger
            .clone()
            .run_checkpointer(Duration::from_secs(3600), stopped),
    );
    // Each refresh of a stale Clock seals a checkpoint (two log records).
    let tip = || latest_checkpoint(&ledger);
    let start = tip();
    while tip() < start + 8 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let l = ledger.clone();
        tokio::task::spawn_blocking(move || l.refresh_clock())
            .await
            .unwrap()
            .unwrap();
    }
    wait_for(|| !ledger.needs_compaction()).await;
    let _ = stop.send(true);
    task.await.unwrap();
    // The state is intact across a reopen from the snapshot.
    let before = fingerprint(&ledger);
    drop(ledger);
    let ledger = open(dir.path(), options());
    assert_eq!(fingerprint(&ledger), before);
    assert_eq!(chain(&ledger).len() as u64, start + 9);
}

#[test]
fn a_stale_clock_is_advanced_before_it_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let never = open(dir.path(), options());
    let tip = |l: &Ledger| {
        l.state()
            .latest_checkpoint()
            .unwrap()
            .summary
            .sequence_number
    };
    let start = tip(&never);
    never.refresh_clock().unwrap();
    assert_eq!(tip(&never), start, "a fresh enough Clock is left alone");
    drop(never);
    let eager = open(
        dir.path(),
        LedgerOptions {
            clock_resolution: Duration::from_millis(10),
            ..options()
        },
    );
    std::thread::sleep(Duration::from_millis(50));
    let before = floe_ledger::ledger::now_ms();
    eager.refresh_clock().unwrap();
    assert_eq!(
        tip(&eager),
        start + 1,
        "the Clock refresh sealed a checkpoint"
    );
    assert!(eager.state().clock_ms() >= before);
    // A transaction after another idle spell sees the current time too.
    std::thread::sleep(Duration::from_millis(50));
    let before = floe_ledger::ledger::now_ms();
    split_and_merge(&eager);
    assert!(eager.state().clock_ms() >= before);
}

#[tokio::test]
async fn a_pruned_checkpoint_is_not_found_naming_the_oldest_available() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LedgerOptions {
        retain_checkpoints: Some(5),
        ..options()
    };
    let ledger = open(dir.path(), opts.clone());
    for _ in 0..20 {
        split_and_merge(&ledger);
        ledger.seal_checkpoint().unwrap();
    }
    ledger.compact().unwrap();
    let tip = ledger
        .state()
        .latest_checkpoint()
        .unwrap()
        .summary
        .sequence_number;
    assert_eq!(tip, 20);
    let oldest = tip - 4;
    let api = LedgerApi(ledger.clone());
    let get = |seq: u64| {
        let mut req = pb::GetCheckpointRequest::default();
        req.checkpoint_id = Some(pb::get_checkpoint_request::CheckpointId::SequenceNumber(
            seq,
        ));
        req.read_mask = Some(prost_types::FieldMask {
            paths: vec!["sequence_number".into(), "transactions".into()],
        });
        api.get_checkpoint(tonic::Request::new(req))
    };
    let error = get(2).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::NotFound);
    assert!(
        error
            .message()
            .contains(&format!("oldest available checkpoint is {oldest}")),
        "{}",
        error.message()
    );
    let served = get(oldest).await.unwrap().into_inner();
    assert_eq!(served.checkpoint.unwrap().sequence_number, Some(oldest));
    let info = api
        .get_service_info(tonic::Request::new(pb::GetServiceInfoRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.lowest_available_checkpoint, Some(oldest));
    // Pruning survives a restart; the live state is untouched by it.
    let before = fingerprint(&ledger);
    drop(api);
    drop(ledger);
    let ledger = open(dir.path(), opts);
    assert_eq!(fingerprint(&ledger), before);
    assert_eq!(ledger.state().oldest_available().unwrap(), oldest);
    assert!(ledger.state().checkpoint(2).unwrap().is_none());
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The sequence number of the ledger's latest sealed checkpoint.
fn latest_checkpoint(ledger: &Ledger) -> u64 {
    ledger
        .state()
        .latest_checkpoint()
        .unwrap()
        .summary
        .sequence_number
}
