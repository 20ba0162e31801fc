//! Staking through the ledger with real signed transactions: stake, the
//! epoch state machine (`voting_end`, `initiate_epoch_change`,
//! `epoch_sync_done`) on a devnet whose epochs last two seconds, committee
//! selection by stake with minimal shard movement, rewards of a storage
//! purchase reaching the pools less the 3% burn (the WAL supply drops by
//! exactly the burn and every other FROST stays accounted for), the
//! withdrawal paths and their aborts.
//!
//! floe-chain has no staking calls yet, so the transactions are built
//! here from the generic PTB builder.

mod support;

use std::time::{Duration, Instant};

use floe_chain::floe::{abort_location, abort_of};
use floe_chain::sui_sdk_types::{Address, Identifier, Owner, TypeTag};
use floe_chain::sui_transaction_builder::{Argument, Function, TransactionBuilder};
use floe_chain::{ExecutedTx, GasConfig, KeyPair};
use floe_contracts::FLOE_PACKAGE_ID;
use floe_contracts::floe::{apportionment, committee};
use floe_core::move_types::{
    DynamicField, EpochChangeDone, EpochChangeStart, EpochParametersSelected, EpochState, ObjectId,
    ShardsReceived, StakedWal, StakedWalState, Staking, StakingInnerV1, StakingPool,
    StorageNodeCap,
};
use floe_runtime::object_field::object_field_id;
use support::*;

const WAL: u64 = 1_000_000_000;
const EPOCH_MS: u64 = 2_000;
const FIRST_EPOCH_DELAY_MS: u64 = 5_000;
/// Encoded bytes bought: 5 units, so 5 * STORAGE_PRICE per epoch.
const STORAGE: u64 = 5 << 20;

const CLOCK: Address = Address::from_static("0x6");

/// A call to `floe::<module>::<function>` with `args` built by `build`;
/// returned objects go to the signer.
async fn call(
    net: &Devnet,
    key: &KeyPair,
    module: &'static str,
    function: &'static str,
    build: impl AsyncFnOnce(&mut TransactionBuilder) -> Vec<Argument>,
    returns_object: bool,
) -> ExecutedTx {
    let mut b = TransactionBuilder::new();
    let args = build(&mut b).await;
    let result = b.move_call(
        Function::new(
            net.floe.ids.floe_package,
            Identifier::from_static(module),
            Identifier::from_static(function),
        ),
        args,
    );
    if returns_object {
        let me = b.pure(&key.address());
        b.transfer_objects(vec![result], me);
    }
    net.floe
        .client
        .sign_and_execute(key, b, &GasConfig::default())
        .await
        .expect("transaction executed")
}

async fn input(net: &Devnet, b: &mut TransactionBuilder, id: Address, mutable: bool) -> Argument {
    let input = net
        .floe
        .client
        .object_input(id, mutable)
        .await
        .expect("object input");
    b.object(input)
}

async fn stake(net: &Devnet, amount: u64, node_id: ObjectId) -> ExecutedTx {
    let staking = net.floe.ids.staking;
    let coin = net.wal;
    call(
        net,
        &net.user,
        "staking",
        "stake_with_pool",
        async |b: &mut TransactionBuilder| {
            let staking = input(net, b, staking, true).await;
            let coin = input(net, b, coin, true).await;
            let amount = b.pure(&amount);
            let mut args = vec![staking];
            args.extend(b.split_coins(coin, vec![amount]));
            args.push(b.pure(&Address::new(node_id.0)));
            args
        },
        true,
    )
    .await
}

async fn on_staked_wal(net: &Devnet, function: &'static str, staked_wal: Address) -> ExecutedTx {
    let staking = net.floe.ids.staking;
    call(
        net,
        &net.user,
        "staking",
        function,
        async |b: &mut TransactionBuilder| {
            vec![
                input(net, b, staking, true).await,
                input(net, b, staked_wal, true).await,
            ]
        },
        function == "withdraw_stake",
    )
    .await
}

async fn voting_end(net: &Devnet) -> ExecutedTx {
    let staking = net.floe.ids.staking;
    call(
        net,
        &net.user,
        "staking",
        "voting_end",
        async |b: &mut TransactionBuilder| {
            vec![
                input(net, b, staking, true).await,
                input(net, b, CLOCK, false).await,
            ]
        },
        false,
    )
    .await
}

async fn initiate_epoch_change(net: &Devnet) -> ExecutedTx {
    let ids = net.floe.ids;
    call(
        net,
        &net.user,
        "staking",
        "initiate_epoch_change",
        async |b: &mut TransactionBuilder| {
            vec![
                input(net, b, ids.staking, true).await,
                input(net, b, ids.system, true).await,
                input(net, b, ids.treasury, true).await,
                input(net, b, CLOCK, false).await,
            ]
        },
        false,
    )
    .await
}

async fn epoch_sync_done(net: &Devnet, operator: usize, epoch: u32) -> ExecutedTx {
    let staking = net.floe.ids.staking;
    let key = &net.operators[operator];
    let cap = node_cap(net, operator).await.0;
    call(
        net,
        key,
        "staking",
        "epoch_sync_done",
        async |b: &mut TransactionBuilder| {
            vec![
                input(net, b, staking, true).await,
                input(net, b, cap, true).await,
                b.pure(&epoch),
                input(net, b, CLOCK, false).await,
            ]
        },
        false,
    )
    .await
}

/// Retries `f` until it succeeds (the Clock must pass a point first);
/// every failure before must be `staking_inner::EWrongEpochState`.
async fn when_due<F: AsyncFn() -> ExecutedTx>(f: F) -> ExecutedTx {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let tx = f().await;
        if tx.is_success() {
            return tx;
        }
        assert_eq!(
            abort_of(&tx),
            Some(("staking_inner".into(), 0)),
            "{}",
            tx.status
        );
        assert!(Instant::now() < deadline, "never due: {}", tx.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `tx` aborted in the floe package's `module` with `code` (written here
/// from the Move sources, independently of the twin's constants).
fn assert_abort(tx: &ExecutedTx, module: &str, code: u64) {
    assert_eq!(
        abort_location(tx),
        Some((FLOE_PACKAGE_ID, module.to_owned(), code)),
        "{}",
        tx.status
    );
}

async fn staking_state(net: &Devnet) -> StakingInnerV1 {
    let client = &net.floe.client;
    let staking: Staking = client
        .get_object_as(net.floe.ids.staking)
        .await
        .expect("Staking")
        .1;
    let key = bcs::to_bytes(&staking.version).expect("bcs");
    let field = net
        .floe
        .ids
        .staking
        .derive_dynamic_child_id(&TypeTag::U64, &key);
    let field: DynamicField<u64, StakingInnerV1> =
        client.get_object_as(field).await.expect("inner").1;
    field.value
}

/// A pool: the object whose id is the node id, owned (as on Sui) by its
/// `Field<Wrapper<ID>, ID>` entry in the pools `ObjectTable`, itself owned
/// by the table.
async fn pool(net: &Devnet, state: &StakingInnerV1, node_id: ObjectId) -> StakingPool {
    let object = net
        .floe
        .client
        .get_object(Address::new(node_id.0))
        .await
        .expect("pool object");
    let field_id = object_field_id(
        Address::new(state.pools.id.0),
        &"0x2::object::ID".parse().expect("ID tag"),
        &node_id.0,
    );
    assert_eq!(*object.object.owner(), Owner::Object(field_id));
    let field: DynamicField<ObjectId, ObjectId> = net
        .floe
        .client
        .get_object_as(field_id)
        .await
        .expect("field")
        .1;
    assert_eq!((field.name, field.value), (node_id, node_id));
    let pool: StakingPool = object.contents_as().expect("StakingPool");
    assert_eq!(pool.id, node_id);
    pool
}

async fn staked_wal(net: &Devnet, id: Address) -> StakedWal {
    net.floe
        .client
        .get_object_as(id)
        .await
        .expect("StakedWal")
        .1
}

/// The cap of operator `i` (committee order) and its contents.
async fn node_cap(net: &Devnet, i: usize) -> (Address, StorageNodeCap) {
    let tag = net.floe.ids.floe_tag("storage_node", "StorageNodeCap");
    let page = net
        .floe
        .client
        .list_owned_objects(net.operators[i].address(), Some(&tag.to_string()), None, 10)
        .await
        .expect("owned caps");
    let info = page.items.first().expect("one cap");
    let id = info.id();
    (id, info.contents_as().expect("cap"))
}

/// Every FROST outside the treasury: the user's coins, the System's
/// buckets, the pools' rewards and commissions and the principals of
/// `staked`.
async fn accounted(net: &Devnet, staked: &[Address]) -> u64 {
    let mut total = net.floe.wal_balance(net.address()).await.expect("balance");
    let system = net.floe.system_state().await.expect("system state");
    total += system
        .future_accounting
        .ring_buffer
        .iter()
        .map(|a| a.rewards_to_distribute.value)
        .sum::<u64>();
    let state = staking_state(net).await;
    for id in all_node_ids(net).await {
        let p = pool(net, &state, id).await;
        total += p.rewards_pool.value + p.commission.value;
    }
    for id in staked {
        total += staked_wal(net, *id).await.principal.value;
    }
    total
}

/// The genesis nodes, committee order.
async fn all_node_ids(net: &Devnet) -> Vec<ObjectId> {
    let mut out = Vec::new();
    for i in 0..net.operators.len() {
        out.push(node_cap(net, i).await.1.node_id);
    }
    out
}

/// Each node of `new` keeps the first `min(old, new)` of its old shards,
/// and `new` holds every shard once.
fn assert_minimal_movement(
    old: &floe_core::move_types::Committee,
    new: &floe_core::move_types::Committee,
) {
    let mut all: Vec<u16> = Vec::new();
    for entry in &new.pos0.contents {
        let before = shards_of(old, entry.key);
        let keep = before.len().min(entry.value.len());
        assert_eq!(entry.value[..keep], before[..keep], "{:?}", entry.key);
        all.extend(entry.value.iter().copied());
    }
    all.sort_unstable();
    assert_eq!(all, (0..10).collect::<Vec<u16>>());
}

fn shards_of(state_committee: &floe_core::move_types::Committee, id: ObjectId) -> Vec<u16> {
    committee::shards(state_committee, &id).to_vec()
}

#[tokio::test]
async fn epochs_committee_selection_rewards_and_withdrawals() {
    let net = devnet_with_epochs(EPOCH_MS, FIRST_EPOCH_DELAY_MS).await;
    let floe = &net.floe;
    let supply = floe_contracts::wal::wal::initial_supply();
    let nodes = all_node_ids(&net).await;

    // Genesis: Staking in epoch 0 with the System's committee, shards in
    // node-id order as floe's interim rule hands them out; one pool per
    // node, no stake; every operator holds its node's cap.
    let state = staking_state(&net).await;
    assert_eq!(state.epoch, 0);
    assert_eq!(state.n_shards, 10);
    assert_eq!(state.epoch_duration, EPOCH_MS);
    assert!(matches!(state.epoch_state, EpochState::EpochChangeDone(_)));
    assert!(state.next_committee.is_none());
    let interim = floe.committee().await.unwrap();
    for (i, id) in nodes.iter().enumerate() {
        let range = interim.interim_shards_of(i).expect("member");
        assert_eq!(shards_of(&state.committee, *id), range.collect::<Vec<_>>());
        let p = pool(&net, &state, *id).await;
        assert_eq!((p.wal_balance, p.num_shares, p.latest_epoch), (0, 0, 0));
        assert_eq!(p.node_info.node_id, *id);
        assert_eq!(p.voting_params.node_capacity, CAPACITY);
        let cap = node_cap(&net, i).await.1;
        assert_eq!((cap.node_id, cap.last_epoch_sync_done), (*id, 0));
    }
    assert_eq!(accounted(&net, &[]).await, supply);
    // floe-chain's reads: a pool is the object at its node id, and the
    // table lists every pool as a dynamic object field.
    assert_eq!(floe.pool(nodes[2]).await.unwrap().id, nodes[2]);
    let mut listed: Vec<ObjectId> = floe.pools().await.unwrap().iter().map(|p| p.id).collect();
    listed.sort();
    let mut expected = nodes.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(floe.pool(state.pools.id).await.is_err());

    // Storage bought for epochs 0 and 1: the rewards to distribute.
    let tx = floe
        .reserve_space(&net.user, STORAGE, 2, net.wal)
        .await
        .unwrap();
    assert!(tx.is_success(), "{}", tx.status);

    // Aborts before any stake counts.
    assert_abort(&voting_end(&net).await, "staking_inner", 0);
    assert_abort(&initiate_epoch_change(&net).await, "staking_inner", 0);
    assert_abort(&epoch_sync_done(&net, 0, 0).await, "staking_inner", 2);
    assert_abort(&epoch_sync_done(&net, 0, 1).await, "staking_inner", 1);
    assert_abort(&stake(&net, WAL - 1, nodes[0]).await, "staked_wal", 7);
    assert_abort(
        &stake(&net, WAL, ObjectId([9; 32])).await,
        "staking_inner",
        8,
    );

    // Stake: 10 WAL with node 0, 30 with node 2, 60 with node 3; all active
    // from epoch 1.
    let mut staked = Vec::new();
    for (node, amount) in [(0, 10 * WAL), (2, 30 * WAL), (3, 60 * WAL)] {
        let tx = stake(&net, amount, nodes[node]).await;
        assert!(tx.is_success(), "{}", tx.status);
        let id = created_of(floe, &tx, "staked_wal", "StakedWal").await;
        let sw = staked_wal(&net, id).await;
        assert_eq!(sw.activation_epoch, 1);
        assert_eq!(sw.principal.value, amount);
        assert_eq!(sw.node_id, nodes[node]);
        staked.push(id);
    }
    assert_eq!(accounted(&net, &staked).await, supply);

    // A stake that counts nowhere yet is withdrawn directly, principal only.
    let tx = stake(&net, 5 * WAL, nodes[1]).await;
    let early = created_of(floe, &tx, "staked_wal", "StakedWal").await;
    assert_abort(
        &on_staked_wal(&net, "request_withdraw_stake", early).await,
        "staking_pool",
        13,
    );
    let before = floe.wal_balance(net.address()).await.unwrap();
    let tx = on_staked_wal(&net, "withdraw_stake", early).await;
    assert!(tx.is_success(), "{}", tx.status);
    assert_eq!(
        floe.wal_balance(net.address()).await.unwrap(),
        before + 5 * WAL
    );
    assert_eq!(accounted(&net, &staked).await, supply);

    // voting_end once epoch 0 may end: the committee by stake.
    let tx = when_due(async || voting_end(&net).await).await;
    let selected: Vec<EpochParametersSelected> = tx
        .events_of(&floe.ids.event_tag("EpochParametersSelected"))
        .unwrap();
    assert_eq!(selected[0].next_epoch, 1);
    assert_abort(&voting_end(&net).await, "staking_inner", 5);
    let state = staking_state(&net).await;
    assert!(matches!(
        state.epoch_state,
        EpochState::NextParamsSelected(_)
    ));
    let next = state.next_committee.clone().expect("next committee");
    assert_eq!(
        apportionment::apportion(&[10 * WAL, 30 * WAL, 60 * WAL], 10).unwrap(),
        vec![1, 3, 6]
    );
    // Every node keeps min(old, new) of its shards; only the shards of
    // node 1 (which leaves) and of shrinking nodes move.
    let old = staking_state(&net).await.committee;
    let counts = [(nodes[0], 1), (nodes[2], 3), (nodes[3], 6)];
    assert_eq!(committee::to_weights(&next), counts.to_vec());
    assert_eq!(next, committee::transition(&old, &counts).unwrap());
    assert_minimal_movement(&old, &next);
    let params = state.next_epoch_params.expect("params");
    assert_eq!(params.total_capacity_size, CAPACITY * 10 / 6);

    // Stake after the selection activates in epoch 2.
    let tx = stake(&net, 2 * WAL, nodes[2]).await;
    let late = created_of(floe, &tx, "staked_wal", "StakedWal").await;
    assert_eq!(staked_wal(&net, late).await.activation_epoch, 2);
    let tx = on_staked_wal(&net, "withdraw_stake", late).await;
    assert!(tx.is_success(), "{}", tx.status);

    // initiate_epoch_change: 3% of epoch 0's rewards burnt, the rest paid
    // to the old committee's pools by shards (all stored the same bytes).
    let bucket = floe.system_state().await.unwrap().future_accounting;
    let epoch0_rewards = bucket
        .ring_buffer
        .iter()
        .find(|a| a.epoch == 0)
        .unwrap()
        .rewards_to_distribute
        .value;
    assert_eq!(epoch0_rewards, 5 * STORAGE_PRICE);
    let burn = epoch0_rewards * 3 / 100;
    let supply_before = floe.wal_total_supply(net.address()).await.unwrap();
    let tx = when_due(async || initiate_epoch_change(&net).await).await;
    let started: Vec<EpochChangeStart> = tx
        .events_of(&floe.ids.event_tag("EpochChangeStart"))
        .unwrap();
    assert_eq!(started[0].epoch, 1);
    let supply = floe.wal_total_supply(net.address()).await.unwrap();
    assert_eq!(supply, supply_before - burn);
    assert_eq!(floe.epoch().await.unwrap(), 1);
    let bls = floe.committee_raw().await.unwrap();
    assert_eq!(bls.epoch, 1);
    let members: Vec<_> = bls.members.iter().map(|m| (m.node_id, m.weight)).collect();
    assert_eq!(members, vec![(nodes[0], 1), (nodes[2], 3), (nodes[3], 6)]);
    assert_eq!(floe.capacity().await.unwrap().total, CAPACITY * 10 / 6);
    let state = staking_state(&net).await;
    assert_eq!(state.epoch, 1);
    assert_eq!(state.epoch_state, EpochState::EpochChangeSync(0));
    assert_eq!(state.committee, next);
    let paid = epoch0_rewards - burn;
    let mut distributed = 0;
    for (i, id) in nodes.iter().enumerate() {
        let p = pool(&net, &state, *id).await;
        let expected = paid * u64::from(net.weights[i]) / 10;
        assert_eq!(
            p.rewards_pool.value + p.commission.value,
            expected,
            "node {i}"
        );
        distributed += expected;
    }
    let leftover = floe
        .system_state()
        .await
        .unwrap()
        .future_accounting
        .ring_buffer
        .iter()
        .find(|a| a.epoch == 1)
        .unwrap()
        .rewards_to_distribute
        .value;
    assert_eq!(leftover, 5 * STORAGE_PRICE + paid - distributed);
    assert_eq!(accounted(&net, &staked).await, supply);

    // Sync done: node 3 (6 shards) is not a quorum, node 2 (3 more) is.
    assert_abort(&epoch_sync_done(&net, 1, 1).await, "staking_inner", 4);
    let tx = epoch_sync_done(&net, 3, 1).await;
    assert!(tx.is_success(), "{}", tx.status);
    let received: Vec<ShardsReceived> =
        tx.events_of(&floe.ids.event_tag("ShardsReceived")).unwrap();
    assert_eq!(received[0].shards, shards_of(&next, nodes[3]));
    assert_eq!(
        staking_state(&net).await.epoch_state,
        EpochState::EpochChangeSync(6)
    );
    assert_abort(&epoch_sync_done(&net, 3, 1).await, "staking_inner", 2);
    let tx = epoch_sync_done(&net, 2, 1).await;
    let done: Vec<EpochChangeDone> = tx
        .events_of(&floe.ids.event_tag("EpochChangeDone"))
        .unwrap();
    assert_eq!(done[0].epoch, 1);
    assert!(matches!(
        staking_state(&net).await.epoch_state,
        EpochState::EpochChangeDone(_)
    ));
    assert_eq!(node_cap(&net, 2).await.1.last_epoch_sync_done, 1);

    // Withdrawals of active stake with nodes of the current committee:
    // requested now, due in epoch 2.
    assert_abort(
        &on_staked_wal(&net, "withdraw_stake", staked[2]).await,
        "staking_pool",
        10,
    );
    for id in [staked[1], staked[2]] {
        let tx = on_staked_wal(&net, "request_withdraw_stake", id).await;
        assert!(tx.is_success(), "{}", tx.status);
        let sw = staked_wal(&net, id).await;
        assert_eq!(sw.state, StakedWalState::Withdrawing { withdraw_epoch: 2 });
    }
    assert_abort(
        &on_staked_wal(&net, "request_withdraw_stake", staked[2]).await,
        "staking_pool",
        8,
    );
    assert_abort(
        &on_staked_wal(&net, "withdraw_stake", staked[2]).await,
        "staking_pool",
        11,
    );

    // Epoch 2: only node 0 still has stake for it, so it holds every shard.
    when_due(async || voting_end(&net).await).await;
    let state = staking_state(&net).await;
    let next = state.next_committee.clone().expect("next committee");
    assert_eq!(committee::to_weights(&next), vec![(nodes[0], 10)]);
    assert_minimal_movement(&state.committee, &next);
    let epoch1_rewards = leftover;
    let burn = epoch1_rewards * 3 / 100;
    let supply_before = floe.wal_total_supply(net.address()).await.unwrap();
    when_due(async || initiate_epoch_change(&net).await).await;
    let supply = floe.wal_total_supply(net.address()).await.unwrap();
    assert_eq!(supply, supply_before - burn);
    assert_eq!(floe.epoch().await.unwrap(), 2);
    assert_eq!(accounted(&net, &staked).await, supply);
    let tx = epoch_sync_done(&net, 0, 2).await;
    assert_eq!(
        tx.events_of::<EpochChangeDone>(&floe.ids.event_tag("EpochChangeDone"))
            .unwrap()
            .len(),
        1
    );

    // The withdrawals pay principal plus every reward of the pools they
    // were the only stake of.
    let state = staking_state(&net).await;
    for (id, node, principal) in [(staked[1], 2, 30 * WAL), (staked[2], 3, 60 * WAL)] {
        let rewards = pool(&net, &state, nodes[node]).await.rewards_pool.value;
        assert!(rewards > 0, "node {node} earned rewards");
        let before = floe.wal_balance(net.address()).await.unwrap();
        let tx = on_staked_wal(&net, "withdraw_stake", id).await;
        assert!(tx.is_success(), "{}", tx.status);
        let after = floe.wal_balance(net.address()).await.unwrap();
        assert_eq!(after - before, principal + rewards, "node {node}");
    }
    let staked = vec![staked[0]];
    assert_eq!(accounted(&net, &staked).await, supply);
}

async fn split(net: &Devnet, id: Address, amount: u64) -> ExecutedTx {
    call(
        net,
        &net.user,
        "staked_wal",
        "split",
        async |b: &mut TransactionBuilder| vec![input(net, b, id, true).await, b.pure(&amount)],
        true,
    )
    .await
}

async fn join(net: &Devnet, id: Address, other: Address) -> ExecutedTx {
    call(
        net,
        &net.user,
        "staked_wal",
        "join",
        async |b: &mut TransactionBuilder| {
            vec![
                input(net, b, id, true).await,
                input(net, b, other, true).await,
            ]
        },
        false,
    )
    .await
}

#[tokio::test]
async fn no_stake_split_and_join() {
    let net = devnet_with_epochs(EPOCH_MS, 0).await;
    let floe = &net.floe;
    let nodes = all_node_ids(&net).await;

    // Epoch 0 may end at once, but there is no stake to select from.
    assert_abort(&voting_end(&net).await, "staking_inner", 3);

    let tx = stake(&net, 10 * WAL, nodes[0]).await;
    let a = created_of(floe, &tx, "staked_wal", "StakedWal").await;
    let tx = stake(&net, 2 * WAL, nodes[1]).await;
    let other = created_of(floe, &tx, "staked_wal", "StakedWal").await;

    // The views, through a dry run: epoch 0, and a stake that counts in no
    // committee yet is withdrawable early.
    let mut b = TransactionBuilder::new();
    let staking = input(&net, &mut b, floe.ids.staking, false).await;
    let sw = input(&net, &mut b, a, false).await;
    for (function, args) in [
        ("epoch", vec![staking]),
        ("can_withdraw_staked_wal_early", vec![staking, sw]),
    ] {
        b.move_call(
            Function::new(
                floe.ids.floe_package,
                Identifier::from_static("staking"),
                Identifier::from_static(function),
            ),
            args,
        );
    }
    let views = floe.client.view(net.address(), b).await.expect("view");
    assert_eq!(views.return_value::<u32>(0, 0).unwrap(), 0);
    assert!(views.return_value::<bool>(1, 0).unwrap());

    assert_abort(&split(&net, a, WAL / 2).await, "staked_wal", 7);
    assert_abort(&split(&net, a, 10 * WAL).await, "staked_wal", 2);
    assert_abort(&split(&net, a, 0).await, "staked_wal", 2);
    let tx = split(&net, a, 4 * WAL).await;
    assert!(tx.is_success(), "{}", tx.status);
    let b = created_of(floe, &tx, "staked_wal", "StakedWal").await;
    let (sa, sb) = (staked_wal(&net, a).await, staked_wal(&net, b).await);
    assert_eq!((sa.principal.value, sb.principal.value), (6 * WAL, 4 * WAL));
    assert_eq!((sb.node_id, sb.activation_epoch), (nodes[0], 1));
    assert_eq!(sb.state, StakedWalState::Staked);

    assert_abort(&join(&net, a, other).await, "staked_wal", 1);
    let tx = join(&net, a, b).await;
    assert!(tx.is_success(), "{}", tx.status);
    assert_eq!(staked_wal(&net, a).await.principal.value, 10 * WAL);
    assert!(tx.deleted().contains(&b));

    // The stake counts: the committee is selected.
    let tx = voting_end(&net).await;
    assert!(tx.is_success(), "{}", tx.status);
    let state = staking_state(&net).await;
    let next = state.next_committee.expect("next committee");
    // D'Hondt over 10 and 2 WAL: the 10th largest quotient is 10/9 > 2/2.
    assert_eq!(
        committee::to_weights(&next),
        vec![(nodes[0], 9), (nodes[1], 1)]
    );
}

#[tokio::test]
async fn pre_active_and_unselected_withdrawals() {
    let net = devnet_with_epochs(EPOCH_MS, 0).await;
    let floe = &net.floe;
    let nodes = all_node_ids(&net).await;
    let tx = floe
        .reserve_space(&net.user, STORAGE, 3, net.wal)
        .await
        .unwrap();
    assert!(tx.is_success(), "{}", tx.status);
    let mut ids = Vec::new();
    for (node, amount) in [(0, 10 * WAL), (1, 10 * WAL), (2, WAL)] {
        let tx = stake(&net, amount, nodes[node]).await;
        ids.push(created_of(floe, &tx, "staked_wal", "StakedWal").await);
    }
    // 10, 10 and 1 WAL: the 1 WAL node gets no shard (1/1 < 10/5).
    let tx = voting_end(&net).await;
    assert!(tx.is_success(), "{}", tx.status);
    let next = staking_state(&net)
        .await
        .next_committee
        .expect("next committee");
    assert_eq!(
        committee::to_weights(&next),
        vec![(nodes[0], 5), (nodes[1], 5)]
    );

    // Stake activating next epoch with a node that was not selected:
    // withdrawn directly, principal only.
    let before = floe.wal_balance(net.address()).await.unwrap();
    let tx = on_staked_wal(&net, "withdraw_stake", ids[2]).await;
    assert!(tx.is_success(), "{}", tx.status);
    assert_eq!(floe.wal_balance(net.address()).await.unwrap(), before + WAL);

    // Stake activating next epoch with a selected node: a pre-active
    // withdrawal, due one epoch after activation.
    let tx = on_staked_wal(&net, "request_withdraw_stake", ids[1]).await;
    assert!(tx.is_success(), "{}", tx.status);
    assert_eq!(
        staked_wal(&net, ids[1]).await.state,
        StakedWalState::Withdrawing { withdraw_epoch: 2 }
    );

    // Epoch 1, then epoch 2.
    when_due(async || initiate_epoch_change(&net).await).await;
    for operator in [0, 1] {
        let tx = epoch_sync_done(&net, operator, 1).await;
        assert!(tx.is_success(), "{}", tx.status);
    }
    assert!(matches!(
        staking_state(&net).await.epoch_state,
        EpochState::EpochChangeDone(_)
    ));
    assert_abort(
        &on_staked_wal(&net, "withdraw_stake", ids[1]).await,
        "staking_pool",
        11,
    );
    when_due(async || voting_end(&net).await).await;
    when_due(async || initiate_epoch_change(&net).await).await;
    assert_eq!(floe.epoch().await.unwrap(), 2);

    // Principal plus every reward node 1's pool earned (its only stake).
    let state = staking_state(&net).await;
    let rewards = pool(&net, &state, nodes[1]).await.rewards_pool.value;
    assert!(rewards > 0);
    let before = floe.wal_balance(net.address()).await.unwrap();
    let tx = on_staked_wal(&net, "withdraw_stake", ids[1]).await;
    assert!(tx.is_success(), "{}", tx.status);
    assert_eq!(
        floe.wal_balance(net.address()).await.unwrap(),
        before + 10 * WAL + rewards
    );
    let supply = floe.wal_total_supply(net.address()).await.unwrap();
    assert_eq!(accounted(&net, &ids[..1]).await, supply);
}
