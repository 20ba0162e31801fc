//! floe-chain against a real `floe ledger run` process, through the gRPC
//! API only. Build the binary first: `cargo build -p floe`.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use floe_chain::sui_sdk_types::{Address, Digest, Owner};
use floe_chain::tx::SUI_COIN_TYPE;
use floe_chain::{ChainClient, Checkpoint, CheckpointStream, KeyPair, StreamConfig, TxStatus};
use support::{LedgerProcess, funded};

const SUI: u64 = 1_000_000_000;
/// Bound on every wait for the chain, so a broken ledger fails the test
/// instead of hanging it.
const WAIT: Duration = Duration::from_secs(60);

async fn sui_coins(client: &ChainClient, owner: Address) -> Vec<(Address, u64)> {
    client
        .list_all_owned_objects(owner, Some(SUI_COIN_TYPE), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id(), o.balance.expect("coin balance")))
        .collect()
}

#[tokio::test]
async fn transfer_sui_between_accounts() {
    let alice = funded(100 * SUI, 4);
    let ledger = LedgerProcess::start(&[&alice]);
    let client = ledger.ready().await;
    let bob = KeyPair::generate();

    assert_eq!(
        client
            .get_balance(alice.key.address(), "0x2::sui::SUI")
            .await
            .unwrap()
            .total,
        100 * SUI
    );
    let tx = client
        .transfer_sui(&alice.key, bob.address(), 3 * SUI)
        .await
        .unwrap();
    assert_eq!(tx.status, TxStatus::Success, "{}", ledger.log());
    assert!(tx.net_gas_used() > 0, "gas is never free");

    // Bob owns exactly the new coin.
    let created = tx.created();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].owner, Owner::Address(bob.address()));
    let bob_coins = sui_coins(&client, bob.address()).await;
    assert_eq!(
        bob_coins,
        vec![(*created[0].reference.object_id(), 3 * SUI)]
    );
    let coin = client
        .get_object(*created[0].reference.object_id())
        .await
        .unwrap();
    assert_eq!(coin.reference, created[0].reference);
    assert_eq!(coin.balance, Some(3 * SUI));

    // Alice paid the amount and the gas.
    let alice_total = client
        .get_balance(alice.key.address(), "0x2::sui::SUI")
        .await
        .unwrap()
        .total;
    assert_eq!(
        i128::from(alice_total),
        i128::from(97 * SUI) - tx.net_gas_used()
    );

    // It lands in a checkpoint.
    let checkpointed = client.wait_for_checkpoint(&tx.digest, WAIT).await.unwrap();
    let seq = checkpointed.checkpoint.unwrap();
    let checkpoint = client.get_checkpoint(seq).await.unwrap();
    assert!(
        checkpoint
            .transactions
            .iter()
            .any(|t| t.digest == tx.digest)
    );

    // The transaction reads back with the same effects and its data.
    let read = client.get_transaction(&tx.digest).await.unwrap();
    assert_eq!(read.effects, tx.effects);
    assert_eq!(read.transaction.unwrap().sender, alice.key.address());
    assert!(matches!(
        client.get_transaction(&Digest::new([7; 32])).await,
        Err(floe_chain::ChainError::TransactionNotFound(_))
    ));
}

/// A transaction prepared before another one of the same sender spends its
/// gas coin and its owned input is refused as stale, without a charge;
/// `sign_and_submit` brings it to current versions and it lands (the race
/// of a CLI command and a node's own transaction under one key).
#[tokio::test]
async fn a_transaction_whose_inputs_moved_on_is_resubmitted_with_current_versions() {
    use floe_chain::sui_transaction_builder::TransactionBuilder;
    use floe_chain::tx::GasConfig;

    let alice = funded(100 * SUI, 1);
    let ledger = LedgerProcess::start(&[&alice]);
    let client = ledger.ready().await;
    let bob = KeyPair::generate();
    let me = alice.key.address();
    let split = client
        .split_coin(&alice.key, None, &[5 * SUI])
        .await
        .unwrap()
        .ensure_success()
        .unwrap();
    let small = *split.created()[0].reference.object_id();

    // Transfer `small` to bob, prepared now (gas: alice's other coin).
    let mut b = TransactionBuilder::new();
    let input = client.object_input(small, true).await.unwrap();
    let object = b.object(input);
    let to = b.pure(&bob.address());
    b.transfer_objects(vec![object], to);
    let gas = GasConfig::default();
    let prepared = client.prepare(me, b, &gas).await.unwrap();

    // Meanwhile another transaction of alice's moves `small` and the gas coin on.
    client
        .split_coin(&alice.key, Some(small), &[SUI])
        .await
        .unwrap()
        .ensure_success()
        .unwrap();
    let before = client.get_balance(me, "0x2::sui::SUI").await.unwrap().total;

    let signature = alice.key.sign_transaction(&prepared).unwrap();
    let refused = client
        .execute(&prepared, vec![signature])
        .await
        .unwrap_err();
    assert!(refused.is_stale_object(), "{refused}");
    assert_eq!(
        client.get_balance(me, "0x2::sui::SUI").await.unwrap().total,
        before,
        "a refused transaction is not charged"
    );

    let landed = client
        .sign_and_submit(&alice.key, prepared, &gas)
        .await
        .unwrap()
        .ensure_success()
        .unwrap();
    let moved = client.get_object(small).await.unwrap();
    assert_eq!(moved.object.owner(), &Owner::Address(bob.address()));
    assert_eq!(moved.balance, Some(4 * SUI));
    assert!(landed.net_gas_used() > 0);
}

#[tokio::test]
async fn split_and_merge_coins() {
    let alice = funded(50 * SUI, 2);
    let ledger = LedgerProcess::start(&[&alice]);
    let client = ledger.ready().await;
    let me = alice.key.address();

    let split = client
        .split_coin(&alice.key, None, &[100, 200, 300])
        .await
        .unwrap()
        .ensure_success()
        .unwrap();
    let new: Vec<Address> = split
        .created()
        .iter()
        .map(|c| *c.reference.object_id())
        .collect();
    assert_eq!(new.len(), 3);
    let mut amounts = Vec::new();
    for id in &new {
        let o = client.get_object(*id).await.unwrap();
        assert_eq!(o.object.owner(), &Owner::Address(me));
        amounts.push(o.balance.unwrap());
    }
    amounts.sort();
    assert_eq!(amounts, vec![100, 200, 300]);

    // Split from a specific (non-gas) coin too.
    let before = client.get_object(new[2]).await.unwrap().balance.unwrap();
    let split_again = client
        .split_coin(&alice.key, Some(new[2]), &[50])
        .await
        .unwrap()
        .ensure_success()
        .unwrap();
    let extra = *split_again.created()[0].reference.object_id();
    assert_eq!(client.get_object(extra).await.unwrap().balance, Some(50));
    let after = client.get_object(new[2]).await.unwrap().balance.unwrap();
    assert_eq!(after, before - 50);

    let merged = client
        .merge_coins(&alice.key, new[0], &[new[1], new[2], extra])
        .await
        .unwrap()
        .ensure_success()
        .unwrap();
    let deleted: BTreeSet<Address> = merged.deleted().into_iter().collect();
    assert_eq!(deleted, BTreeSet::from([new[1], new[2], extra]));
    assert_eq!(client.get_object(new[0]).await.unwrap().balance, Some(600));
    let gone = client.get_objects(&[new[1], new[2], extra]).await.unwrap();
    assert!(gone.iter().all(Option::is_none));
    assert!(matches!(
        client.get_object(extra).await,
        Err(floe_chain::ChainError::ObjectNotFound(_))
    ));
}

#[tokio::test]
async fn owned_listing_with_type_filter_and_pages() {
    let alice = funded(40 * SUI, 5);
    let ledger = LedgerProcess::start(&[&alice]);
    let client = ledger.ready().await;
    let me = alice.key.address();

    let all = sui_coins(&client, me).await;
    assert_eq!(all.len(), 5);
    assert_eq!(all.iter().map(|(_, b)| b).sum::<u64>(), 40 * SUI);

    // Short, long and wildcard forms of the coin type all match.
    let long = format!("{}::coin::Coin<{}::sui::SUI>", Address::TWO, Address::TWO);
    for filter in [SUI_COIN_TYPE, long.as_str(), "0x2::coin::Coin"] {
        let listed = client
            .list_all_owned_objects(me, Some(filter), 100)
            .await
            .unwrap();
        assert_eq!(listed.len(), 5, "filter {filter}");
    }
    // A type nobody owns.
    let none = client
        .list_all_owned_objects(me, Some("0x2::coin::Coin<0x2::sui::NOPE>"), 100)
        .await
        .unwrap();
    assert!(none.is_empty());

    // Page by page, every coin exactly once.
    let mut seen = BTreeSet::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = client
            .list_owned_objects(me, Some(SUI_COIN_TYPE), token, 2)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        pages += 1;
        for o in page.items {
            assert!(seen.insert(o.id()), "{} listed twice", o.id());
        }
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen.len(), 5);

    // A coin has no dynamic fields; the listing says so and ends.
    let fields = client
        .list_dynamic_fields(all[0].0, None, 10)
        .await
        .unwrap();
    assert!(fields.items.is_empty());
    assert!(fields.next.is_none());
    // Every coin type with its total.
    let balances = client.list_balances(me, 100).await.unwrap();
    assert_eq!(balances.len(), 1);
    assert_eq!(balances[0].total, 40 * SUI);
    assert_eq!(seen, all.iter().map(|(id, _)| *id).collect::<BTreeSet<_>>());
}

/// Reads from `stream` until `done` says so, checking sequence numbers are
/// consecutive from `expect`.
async fn read_until(
    stream: &mut CheckpointStream,
    expect: &mut u64,
    seen: &mut Vec<Checkpoint>,
    mut done: impl FnMut(&[Checkpoint]) -> bool,
) {
    let result = tokio::time::timeout(WAIT, async {
        while !done(seen) {
            let checkpoint = stream
                .next()
                .await
                .expect("stream ended")
                .expect("stream error");
            assert_eq!(checkpoint.sequence_number, *expect, "gap or repeat");
            *expect += 1;
            seen.push(checkpoint);
        }
    })
    .await;
    assert!(result.is_ok(), "timed out; read up to {expect}");
}

fn contains_tx(seen: &[Checkpoint], digest: &Digest) -> bool {
    seen.iter()
        .flat_map(|c| &c.transactions)
        .any(|t| &t.digest == digest)
}

#[tokio::test]
async fn checkpoint_stream_from_zero_sees_every_checkpoint_once() {
    let alice = funded(100 * SUI, 3);
    let ledger = LedgerProcess::start(&[&alice]);
    let client = ledger.ready().await;
    let bob = KeyPair::generate();

    // Some history before the stream starts (the backlog) ...
    let mut digests = Vec::new();
    for _ in 0..3 {
        let tx = client
            .transfer_sui(&alice.key, bob.address(), SUI)
            .await
            .unwrap();
        digests.push(tx.digest);
    }
    let config = StreamConfig {
        buffer: 2,
        ..StreamConfig::default()
    };
    let mut stream = client.checkpoint_stream(0, config);
    // ... and some while it runs.
    for _ in 0..3 {
        let tx = client
            .transfer_sui(&alice.key, bob.address(), SUI)
            .await
            .unwrap();
        digests.push(tx.digest);
    }
    let mut expect = 0;
    let mut seen = Vec::new();
    read_until(&mut stream, &mut expect, &mut seen, |seen| {
        digests.iter().all(|d| contains_tx(seen, d))
    })
    .await;

    // Every transaction exactly once across all checkpoints, each carrying
    // effects and its checkpoint number.
    let mut all = Vec::new();
    for c in &seen {
        for t in &c.transactions {
            assert_eq!(t.checkpoint, Some(c.sequence_number));
            all.push(t.digest);
        }
    }
    let unique: BTreeSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a transaction appears twice");
    // Chained digests and consistent summaries.
    for pair in seen.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if let (Some(sa), Some(sb)) = (&a.summary, &b.summary) {
            assert_eq!(sb.previous_digest, Some(sa.digest()));
            assert!(sb.timestamp_ms >= sa.timestamp_ms);
        }
    }
    // Restarting the stream mid-way resumes exactly at the asked number.
    drop(stream);
    // (How many checkpoints the history took depends on timing; resume in
    // the middle of what was seen.)
    assert!(seen.len() >= 2, "genesis and at least one checkpoint");
    let middle = seen.len() / 2;
    let mut resumed = client.checkpoint_stream(middle as u64, StreamConfig::default());
    let first = tokio::time::timeout(WAIT, resumed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.sequence_number, middle as u64);
    assert_eq!(first.digest, seen[middle].digest);
}

/// Every served checkpoint carries the validator's certificate; anything
/// changed after signing (events, transactions, objects, the committee) is
/// refused.
#[tokio::test]
async fn checkpoints_are_certified_and_tampering_is_refused() {
    use floe_chain::verify::CheckpointVerifier;
    let alice = funded(100 * SUI, 3);
    let ledger = LedgerProcess::start(&[&alice]);
    let client = ledger.ready().await;
    let bob = KeyPair::generate();
    let tx = client
        .transfer_sui(&alice.key, bob.address(), SUI)
        .await
        .unwrap();
    let committee = client.validator_committee().await.unwrap();
    assert_eq!(committee.members.len(), 1);
    // The checkpoint holding the transfer.
    let seq = loop {
        if let Ok(t) = client.get_transaction(&tx.digest).await
            && let Some(seq) = t.checkpoint
        {
            break seq;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let checkpoint = client.get_checkpoint(seq).await.unwrap();
    assert!(checkpoint.signature.is_some() && checkpoint.contents.is_some());
    assert!(!checkpoint.objects.is_empty());
    let verify = |c: &Checkpoint| {
        CheckpointVerifier::new(committee.clone())
            .unwrap()
            .verify(c)
    };
    verify(&checkpoint).unwrap();
    // Every checkpoint so far verifies, genesis included.
    for s in 0..=seq {
        verify(&client.get_checkpoint(s).await.unwrap()).unwrap();
    }

    let refused = |c: &Checkpoint, what: &str| {
        let err = verify(c).unwrap_err().to_string();
        assert!(err.contains(what), "{err}");
    };
    let i = checkpoint
        .transactions
        .iter()
        .position(|t| t.digest == tx.digest)
        .unwrap();
    // A transaction's effects replaced by another's.
    let mut forged = checkpoint.clone();
    let other = client.get_checkpoint(0).await.unwrap();
    forged.transactions[i].effects = other.transactions[0].effects.clone();
    refused(&forged, "effects");
    // A transaction dropped.
    let mut forged = checkpoint.clone();
    forged.transactions.remove(i);
    refused(&forged, "transactions served");
    // An object's contents changed (its owner).
    let mut forged = checkpoint.clone();
    let object = &mut forged.objects[0];
    *object = floe_chain::sui_sdk_types::Object::new(
        object.data().clone(),
        Owner::Address(bob.address()),
        object.previous_transaction(),
        object.storage_rebate(),
    );
    refused(&forged, "not named by the certified effects");
    // The summary altered (a later timestamp).
    let mut forged = checkpoint.clone();
    if let Some(s) = &mut forged.summary {
        s.timestamp_ms += 1;
    }
    refused(&forged, "bad signature");
    // No signature at all.
    let mut forged = checkpoint.clone();
    forged.signature = None;
    refused(&forged, "no signature");
    // Another validator's committee does not accept it.
    let stranger = funded(SUI, 1);
    let other_ledger = LedgerProcess::start(&[&stranger]);
    let other_committee = other_ledger
        .ready()
        .await
        .validator_committee()
        .await
        .unwrap();
    assert_ne!(other_committee, committee);
    let err = CheckpointVerifier::new(other_committee)
        .unwrap()
        .verify(&checkpoint)
        .unwrap_err();
    assert!(err.to_string().contains("bad signature"), "{err}");
}

#[tokio::test]
async fn checkpoint_stream_survives_a_ledger_restart() {
    let alice = funded(100 * SUI, 3);
    let mut ledger = LedgerProcess::start(&[&alice]);
    let client = ledger.ready().await;
    let bob = KeyPair::generate();

    let mut stream = client.checkpoint_stream(0, StreamConfig::default());
    let before = client
        .transfer_sui(&alice.key, bob.address(), SUI)
        .await
        .unwrap()
        .digest;
    let mut expect = 0;
    let mut seen = Vec::new();
    read_until(&mut stream, &mut expect, &mut seen, |s| {
        contains_tx(s, &before)
    })
    .await;

    // kill -9 and restart on the same data directory and port: the same
    // chain comes back.
    let chain_id = client.service_info().await.unwrap().chain_id;
    ledger.restart();
    let client = ledger.ready().await;
    assert_eq!(client.service_info().await.unwrap().chain_id, chain_id);
    if std::env::var_os("FLOE_TEST_SHOW_LOG").is_some() {
        eprintln!("{}", ledger.log());
    }
    let after = client
        .transfer_sui(&alice.key, bob.address(), SUI)
        .await
        .unwrap()
        .digest;
    read_until(&mut stream, &mut expect, &mut seen, |s| {
        contains_tx(s, &after)
    })
    .await;
    assert!(contains_tx(&seen, &before));
    let all: Vec<_> = seen
        .iter()
        .flat_map(|c| c.transactions.iter().map(|t| t.digest))
        .collect();
    let unique: BTreeSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a transaction appears twice");
    // Bob got both transfers.
    assert_eq!(
        client
            .get_balance(bob.address(), "0x2::sui::SUI")
            .await
            .unwrap()
            .total,
        2 * SUI
    );
}

#[tokio::test]
async fn view_calls_and_move_aborts() {
    use floe_chain::sui_sdk_types::{Identifier, StructTag, TypeTag};
    use floe_chain::sui_transaction_builder::{Function, TransactionBuilder};
    let alice = funded(20 * SUI, 2);
    let ledger = LedgerProcess::start(&[&alice]);
    let client = ledger.ready().await;
    let me = alice.key.address();
    let sui = TypeTag::from(StructTag::sui());
    let call = |module: &'static str, name: &'static str| {
        Function::new(
            Address::TWO,
            Identifier::from_static(module),
            Identifier::from_static(name),
        )
    };

    // coin::value on an owned coin, as a dry run.
    let (coin_id, balance) = sui_coins(&client, me).await[0];
    let mut b = TransactionBuilder::new();
    let coin = b.object(client.object_input(coin_id, false).await.unwrap());
    b.move_call(
        call("coin", "value").with_type_args(vec![sui.clone()]),
        vec![coin],
    );
    let view = client.view(me, b).await.unwrap();
    assert!(view.tx.is_success(), "{}", view.tx.status);
    assert_eq!(view.return_value::<u64>(0, 0).unwrap(), balance);

    // clock::timestamp_ms on the shared Clock (0x6).
    let mut b = TransactionBuilder::new();
    let clock = b.object(
        client
            .object_input(Address::from_static("0x6"), false)
            .await
            .unwrap(),
    );
    b.move_call(call("clock", "timestamp_ms"), vec![clock]);
    let view = client.view(me, b).await.unwrap();
    assert!(view.return_value::<u64>(0, 0).unwrap() > 0);

    // destroy_zero on a non-zero coin aborts: gas is charged, nothing else
    // changes, and the status says where.
    let before = client.get_balance(me, "0x2::sui::SUI").await.unwrap().total;
    let mut b = TransactionBuilder::new();
    let gas = b.gas();
    let five = b.pure(&5u64);
    let coins = b.split_coins(gas, vec![five]);
    b.move_call(
        call("coin", "destroy_zero").with_type_args(vec![sui]),
        coins,
    );
    let tx = client
        .sign_and_execute(&alice.key, b, &Default::default())
        .await
        .unwrap();
    match &tx.status {
        TxStatus::MoveAbort { package, .. } => assert_eq!(*package, Address::TWO),
        other => panic!("expected a Move abort, got {other}"),
    }
    assert!(tx.created().is_empty());
    let after = client.get_balance(me, "0x2::sui::SUI").await.unwrap().total;
    assert_eq!(i128::from(before) - i128::from(after), tx.net_gas_used());
    assert!(tx.net_gas_used() > 0);
    let err = tx.ensure_success().unwrap_err();
    assert!(err.to_string().contains("Move abort"), "{err}");
}

#[tokio::test]
async fn fails_over_from_a_dead_endpoint() {
    use floe_chain::{ClientConfig, RetryPolicy};
    let alice = funded(10 * SUI, 1);
    let ledger = LedgerProcess::start(&[&alice]);
    ledger.ready().await;
    // Port 1 refuses connections; the live ledger is second.
    let client = ChainClient::new(
        ClientConfig::new(["http://127.0.0.1:1".to_string(), ledger.url()]).with_retry(
            RetryPolicy {
                max_attempts: 4,
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
            },
        ),
    )
    .unwrap();
    let balance = client
        .get_balance(alice.key.address(), "0x2::sui::SUI")
        .await
        .unwrap();
    assert_eq!(balance.total, 10 * SUI);
    assert_eq!(client.current_endpoint(), ledger.url());
    let info = client.service_info().await.unwrap();
    assert_eq!(info.chain.as_deref(), Some("floe-chain-tests"));
    assert!(info.chain_id.is_some());
}
