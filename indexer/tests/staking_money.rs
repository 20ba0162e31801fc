//! Staking and the money of epochs, end to end: an in-process ledger with
//! short epochs and a node operator per genesis node, where WAL is staked,
//! storage bought, three epochs change (rewards paid, commission taken and
//! collected), a stake withdrawn and a shared blob renewed from its funds.
//! The indexer's rows are compared with what the chain's objects say,
//! read independently around each call: every epoch's bucket equals burn +
//! node rewards + carry-over to the FROST, each node's reward is its share
//! by weight, and withdrawals, collections and renewals match the coins
//! and balances they moved. A replay of every checkpoint changes no row.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use floe_chain::floe::membership::AuthWith;
use floe_chain::sui_sdk_types::Address;
use floe_chain::{ExecutedTx, KeyPair};
use floe_contracts::genesis::GenesisNodeStaking;
use floe_core::move_types::{ObjectId, SharedBlob, StakingPool, SystemStateInnerV1};
use floe_indexer::api::{ApiState, router};
use floe_indexer::committer::write_rows;
use floe_indexer::processor::Batch;
use floe_indexer::sqlx;
use serde_json::Value;
use support::*;

const EPOCH_MS: u64 = 2_000;

/// A `staked_wal` row: id, state, amount, activation and withdraw epochs,
/// withdrawn amount, rewards, owner.
type StakeRow = (
    String,
    String,
    i64,
    i32,
    Option<i32>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);
const WAL: u64 = 1_000_000_000;
const COMMISSION_BPS: [u16; 4] = [0, 500, 1_000, 2_500];

fn hex_id(a: Address) -> String {
    format!("0x{}", hex::encode(a.as_bytes()))
}

/// Retries `call` until its transaction succeeds (epoch calls abort while
/// too early).
async fn until_success<F, Fut>(what: &str, mut call: F) -> ExecutedTx
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<ExecutedTx, floe_chain::floe::FloeError>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let outcome = call().await;
        match &outcome {
            Ok(tx) if tx.status.is_success() => return outcome.unwrap(),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "{what} never succeeded: {outcome:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ok(tx: ExecutedTx, what: &str) -> ExecutedTx {
    assert!(tx.status.is_success(), "{what}: {}", tx.status);
    tx
}

/// What the chain's objects said just before and after one epoch change.
struct ChangeRead {
    before: SystemStateInnerV1,
    after: SystemStateInnerV1,
    supply: (u64, u64),
    pools: HashMap<String, (StakingPool, StakingPool)>,
    /// Each node's shards in the new epoch.
    shards: HashMap<String, Vec<i32>>,
}

struct Net {
    net: Devnet,
    operators: Vec<KeyPair>,
    /// (node id, cap id) of each operator.
    caps: Vec<(ObjectId, Address)>,
}

impl Net {
    async fn pools(&self) -> HashMap<String, StakingPool> {
        let mut out = HashMap::new();
        for (node, _) in &self.caps {
            out.insert(node.to_string(), self.net.floe.pool(*node).await.unwrap());
        }
        out
    }

    async fn supply(&self) -> u64 {
        self.net
            .floe
            .wal_total_supply(self.net.user.address())
            .await
            .unwrap()
    }

    async fn voting_end(&self) {
        until_success("voting_end", || self.net.floe.voting_end(&self.net.user)).await;
    }

    /// `initiate_epoch_change` once due, reading the chain around it, then
    /// every node's `epoch_sync_done`.
    async fn change_epoch(&self) -> ChangeRead {
        let floe = &self.net.floe;
        let before = floe.system_state().await.unwrap();
        let pools_before = self.pools().await;
        let supply_before = self.supply().await;
        until_success("initiate_epoch_change", || {
            floe.initiate_epoch_change(&self.net.user)
        })
        .await;
        let after = floe.system_state().await.unwrap();
        assert_eq!(after.committee.epoch, before.committee.epoch + 1);
        let pools_after = self.pools().await;
        let supply_after = self.supply().await;
        let (committee, assignment) = floe.committee_with_shards().await.unwrap();
        let mut shards = HashMap::new();
        for (i, m) in committee.members().iter().enumerate() {
            shards.insert(
                m.node_id.to_string(),
                assignment
                    .shards_of(i)
                    .iter()
                    .map(|s| i32::from(*s))
                    .collect(),
            );
        }
        for (i, op) in self.operators.iter().enumerate() {
            let (node, cap) = self.caps[i];
            if shards.contains_key(&node.to_string()) {
                let tx = floe
                    .epoch_sync_done(op, cap, after.committee.epoch)
                    .await
                    .unwrap();
                ok(tx, "epoch_sync_done");
            }
        }
        let pools = pools_before
            .into_iter()
            .map(|(k, b)| {
                let a = pools_after[&k].clone();
                (k, (b, a))
            })
            .collect();
        ChangeRead {
            before,
            after,
            supply: (supply_before, supply_after),
            pools,
            shards,
        }
    }
}

async fn staking_net() -> Net {
    let operators: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate()).collect();
    let funded: Vec<Address> = operators.iter().map(KeyPair::address).collect();
    let staking: Vec<GenesisNodeStaking> = operators
        .iter()
        .zip(COMMISSION_BPS)
        .map(|(op, bps)| GenesisNodeStaking {
            commission_rate_bps: bps,
            operator: Some(op.address().to_string()),
            ..GenesisNodeStaking::default()
        })
        .collect();
    let net = devnet_with(
        move |g| {
            g.epoch_duration_ms = EPOCH_MS;
            g.node_staking = staking;
        },
        &funded,
    )
    .await;
    let mut caps = Vec::new();
    for op in &operators {
        let owned = net.floe.owned_node_caps(op.address()).await.unwrap();
        assert_eq!(owned.len(), 1, "one cap per operator");
        caps.push((owned[0].1.node_id, owned[0].0));
    }
    Net {
        net,
        operators,
        caps,
    }
}

/// The indexer's row of `epoch` against the chain's objects around its end.
async fn check_epoch(pool: &sqlx::PgPool, read: &ChangeRead) {
    let epoch = read.before.committee.epoch;
    let ring = &read.before.future_accounting;
    let ended = ring.lookup(0).unwrap();
    let bucket = ended.rewards_to_distribute.value;
    let next_before = ring.lookup(1).map_or(0, |a| a.rewards_to_distribute.value);
    let next_after = read
        .after
        .future_accounting
        .lookup(0)
        .unwrap()
        .rewards_to_distribute
        .value;
    assert!(bucket > 0, "epoch {epoch} had storage paid for it");
    let burnt = read.supply.0 - read.supply.1;
    let carried = next_after - next_before;
    let row: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT bucket, burnt, distributed, carried_over, used_capacity FROM epoch_rewards WHERE epoch = $1",
    )
    .bind(epoch as i32)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.0 as u64, bucket, "epoch {epoch}: bucket");
    assert_eq!(
        row.1 as u64, burnt,
        "epoch {epoch}: burn = the supply's fall"
    );
    assert_eq!(row.3 as u64, carried, "epoch {epoch}: carry-over");
    assert_eq!(row.4 as u64, ended.used_capacity);
    assert_eq!(burnt, bucket * 3 / 100, "epoch {epoch}: 3% burnt");
    // The chain paid every FROST of the bucket, and the index says so.
    let paid: u64 = read
        .before
        .committee
        .members
        .iter()
        .map(|m| {
            let (b, a) = &read.pools[&m.node_id.to_string()];
            (a.rewards_pool.value + a.commission.value)
                - (b.rewards_pool.value + b.commission.value)
        })
        .sum();
    assert_eq!(row.2 as u64, paid, "epoch {epoch}: distributed");
    assert_eq!(
        bucket,
        burnt + paid + carried,
        "epoch {epoch}: bucket balances"
    );
    // Each node's share by weight x stored bytes (no deny lists here).
    let to_share = u128::from(bucket - burnt);
    let used = u128::from(ended.used_capacity);
    let total: u128 = read
        .before
        .committee
        .members
        .iter()
        .map(|m| u128::from(m.weight) * used)
        .sum();
    let rows: Vec<(String, i32, i64, i64, i64)> = sqlx::query_as(
        "SELECT node_id, weight, reward, commission, stakers FROM node_rewards WHERE epoch = $1 ORDER BY node_id",
    )
    .bind(epoch as i32)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), read.before.committee.members.len());
    for m in &read.before.committee.members {
        let id = m.node_id.to_string();
        let r = rows.iter().find(|r| r.0 == id).expect("a row per member");
        let (b, a) = &read.pools[&id];
        let share = (u128::from(m.weight) * used * to_share)
            .checked_div(total)
            .unwrap_or(0) as u64;
        let commission = a.commission.value - b.commission.value;
        let stakers = a.rewards_pool.value - b.rewards_pool.value;
        assert_eq!(r.1, i32::from(m.weight), "{id}: weight");
        assert_eq!(
            r.2 as u64, share,
            "epoch {epoch} {id}: reward is the node's share"
        );
        assert_eq!(r.2 as u64, commission + stakers, "{id}: reward");
        assert_eq!(r.3 as u64, commission, "{id}: commission");
        assert_eq!(r.4 as u64, stakers, "{id}: stakers");
        assert_eq!(
            u128::from(commission),
            u128::from(share) * u128::from(b.commission_rate) / 10_000,
            "{id}: commission at the rate before the advance"
        );
    }
    // Every pool advanced: its row for the new epoch.
    let new_epoch = read.after.committee.epoch as i32;
    for (id, (b, a)) in &read.pools {
        if a.latest_epoch <= b.latest_epoch {
            continue;
        }
        let row: (i64, i64, String, String, i32, Option<Vec<i32>>) = sqlx::query_as(
            "SELECT stake, num_shares, rate_wal::text, rate_shares::text, commission_rate, shards
             FROM pool_epochs WHERE node_id = $1 AND epoch = $2",
        )
        .bind(id)
        .bind(new_epoch)
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(row.0 as u64, a.wal_balance, "{id}: stake in {new_epoch}");
        assert_eq!(row.1 as u64, a.num_shares, "{id}: shares in {new_epoch}");
        // The rate recorded at the advance: the balance with the stakers'
        // rewards, over the shares before pending stake joined.
        let stakers = a.rewards_pool.value - b.rewards_pool.value;
        let expected = if b.num_shares == 0 {
            ("1".to_owned(), "1".to_owned())
        } else {
            (
                (b.wal_balance + stakers).to_string(),
                b.num_shares.to_string(),
            )
        };
        assert_eq!(
            (row.2, row.3),
            expected,
            "{id}: exchange rate of {new_epoch}"
        );
        assert_eq!(row.4, i32::from(a.commission_rate));
        let mut shards = row.5.expect("shards carried");
        shards.sort();
        let mut expected = read.shards.get(id).cloned().unwrap_or_default();
        expected.sort();
        assert_eq!(shards, expected, "{id}: shards in {new_epoch}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakes_rewards_collections_and_renewals_match_the_chain() {
    let n = staking_net().await;
    let net = &n.net;
    let floe = &net.floe;
    let db = database("staking").await;
    let pool = db.pool.clone();
    let me = hex_id(net.user.address());
    let pipeline = net.pipeline(&pool, 4).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let indexer = tokio::spawn(pipeline.run(async move {
        let _ = stopped.await;
    }));

    // Epoch 0: stake with every node (active from epoch 1), buy storage
    // for four epochs, share a funded blob.
    let mut stakes = Vec::new();
    for (i, (node, _)) in n.caps.iter().enumerate() {
        let amount = (i as u64 + 1) * 1_000 * WAL;
        let tx = ok(
            floe.stake_with_pool(&net.user, *node, amount, net.wal)
                .await
                .unwrap(),
            "stake",
        );
        let created = net.created_of(&tx, "staked_wal", "StakedWal").await;
        assert_eq!(created.len(), 1);
        stakes.push((created[0], *node, amount));
    }
    let (a, reg_a) = net.register(1, 300_000, false, 4).await;
    net.certify(a, &reg_a).await;
    let (s, reg_s) = net.register(2, 50_000, false, 4).await;
    net.certify(s, &reg_s).await;
    let tx = ok(
        floe.share_blob(&net.user, s, WAL, Some(net.wal))
            .await
            .unwrap(),
        "share",
    );
    let shared = net.created_of(&tx, "shared_blob", "SharedBlob").await[0];

    let mut reads = Vec::new();
    n.voting_end().await;
    reads.push(n.change_epoch().await); // 0 -> 1
    n.voting_end().await;
    reads.push(n.change_epoch().await); // 1 -> 2

    // Epoch 2: the last stake asks to leave (from epoch 3: its node is in
    // the current committee, the next one is not selected yet); then the
    // commission of epoch 1 unblocks at voting_end and is collected; the
    // shared blob is extended from its funds.
    let (leaving, leaving_node, leaving_amount) = stakes[3];
    ok(
        floe.request_withdraw_stake(&net.user, leaving)
            .await
            .unwrap(),
        "request withdraw",
    );
    n.voting_end().await;
    let collector = n
        .caps
        .iter()
        .position(|(node, _)| reads[1].pools[&node.to_string()].1.commission.value > 0)
        .expect("a node with commission");
    let (collect_node, _) = n.caps[collector];
    let tx = ok(
        floe.collect_commission(&n.operators[collector], collect_node, AuthWith::Sender)
            .await
            .unwrap(),
        "collect commission",
    );
    let collected = coin_value(net, &tx).await;
    assert!(collected > 0);
    let (_, funds_before): (_, SharedBlob) = net.client.get_object_as(shared).await.unwrap();
    ok(
        floe.extend_shared_blob(&net.user, shared, 1).await.unwrap(),
        "extend shared",
    );
    let (_, funds_after): (_, SharedBlob) = net.client.get_object_as(shared).await.unwrap();
    reads.push(n.change_epoch().await); // 2 -> 3

    // Epoch 3: the stake is withdrawn with its rewards.
    let tx = ok(
        floe.withdraw_stake(&net.user, leaving).await.unwrap(),
        "withdraw",
    );
    let withdrawn = coin_value(net, &tx).await;
    assert!(withdrawn > leaving_amount, "rewards paid: {withdrawn}");
    let end = net.settled(&tx).await;
    wait_for_watermark(&pool, end).await;

    for read in &reads {
        check_epoch(&pool, read).await;
    }
    // The stakes' life cycle.
    let rows: Vec<StakeRow> = sqlx::query_as(
        "SELECT object_id, state, amount, activation_epoch, withdraw_epoch, withdrawn_amount,
                    rewards, owner
             FROM staked_wal ORDER BY object_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 4);
    for (id, node, amount) in &stakes {
        let r = rows.iter().find(|r| r.0 == hex_id(*id)).expect("stake row");
        assert_eq!(r.2 as u64, *amount);
        assert_eq!(r.3, 1, "active from epoch 1");
        assert_eq!(r.7.as_deref(), Some(me.as_str()));
        if *id == leaving {
            assert_eq!(r.1, "withdrawn");
            assert_eq!(r.4, Some(3));
            assert_eq!(
                r.5.map(|v| v as u64),
                Some(withdrawn),
                "what the coin holds"
            );
            assert_eq!(r.6.map(|v| v as u64), Some(withdrawn - leaving_amount));
            assert_eq!(*node, leaving_node);
        } else {
            assert_eq!(r.1, "staked");
            assert_eq!(r.4, None);
        }
    }
    let (amount, node, collector_addr): (i64, String, String) =
        sqlx::query_as("SELECT amount, node_id, collector FROM commission_collections")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(amount as u64, collected);
    assert_eq!(node, collect_node.to_string());
    assert_eq!(collector_addr, hex_id(n.operators[collector].address()));
    let renewal: (i32, i32, i64, i64) = sqlx::query_as(
        "SELECT from_end_epoch, to_end_epoch, cost, funds_after FROM shared_blob_renewals",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((renewal.0, renewal.1), (4, 5));
    assert_eq!(
        renewal.2 as u64,
        funds_before.funds.value - funds_after.funds.value
    );
    assert_eq!(renewal.3 as u64, funds_after.funds.value);

    stop.send(()).unwrap();
    indexer.await.unwrap().unwrap();

    // Replaying every checkpoint, whole and in part, changes no row.
    let before = dump(&pool).await;
    let processor = net.processor();
    let mut everything = Batch::default();
    let mut early = Batch::default();
    for seq in 0..=end {
        let cp = net.client.get_checkpoint(seq).await.unwrap();
        processor.process(&cp, &mut everything).unwrap();
        if seq <= end / 2 {
            processor.process(&cp, &mut early).unwrap();
        }
    }
    for batch in [&everything, &early] {
        let mut tx = pool.begin().await.unwrap();
        write_rows(&mut tx, batch).await.unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(
        dump(&pool).await,
        before,
        "replaying checkpoints changed rows"
    );

    api_answers(&pool, &n, &me, &stakes, leaving, withdrawn, shared).await;
}

/// The WAL coin a transaction created for its sender.
async fn coin_value(net: &Devnet, tx: &ExecutedTx) -> u64 {
    for c in tx.created() {
        let id = *c.reference.object_id();
        if let Ok((_, coin)) = net
            .client
            .get_object_as::<floe_core::move_types::Coin>(id)
            .await
        {
            let info = net.client.get_object(id).await.unwrap();
            if info.struct_type().is_some_and(|t| {
                t.name().as_str() == "Coin" && t.to_string().contains("::wal::WAL")
            }) {
                return coin.balance.value;
            }
        }
    }
    panic!("no WAL coin created by {}", tx.digest);
}

async fn api_answers(
    pool: &sqlx::PgPool,
    n: &Net,
    me: &str,
    stakes: &[(Address, ObjectId, u64)],
    leaving: Address,
    withdrawn: u64,
    shared: Address,
) {
    let api = router(ApiState {
        pool: pool.clone(),
        registry: std::sync::Arc::new(prometheus::Registry::new()),
        metrics: floe_indexer::Metrics::new(&prometheus::Registry::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api).await });
    let get = |path: String| {
        let base = base.clone();
        async move {
            let r = reqwest::get(format!("{base}{path}")).await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // A node's history, paged one epoch at a time down to epoch 1.
    let node = n.caps[3].0.to_string();
    let mut epochs = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/nodes/{node}/history?limit=1&cursor={c}"),
            None => format!("/v1/nodes/{node}/history?limit=1"),
        };
        let (s, v) = get(path).await;
        assert_eq!(s, 200, "{v}");
        for r in v["data"].as_array().unwrap() {
            epochs.push(r["epoch"].as_i64().unwrap());
            if r["epoch"] == 2 {
                assert!(r["stake"].as_i64().unwrap() > 0, "{r}");
                assert!(r["reward"].as_i64().unwrap() > 0, "{r}");
                assert_eq!(r["commission_rate"], i64::from(COMMISSION_BPS[3]), "{r}");
            }
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(epochs.windows(2).all(|w| w[0] > w[1]), "{epochs:?}");
    assert_eq!(
        epochs,
        vec![3, 2, 1, 0],
        "genesis created the pool in epoch 0"
    );
    let (s, _) = get(format!("/v1/nodes/0x{}/history", "ab".repeat(32))).await;
    assert_eq!(s, 404);
    let (s, v) = get("/v1/epochs/1/rewards?limit=2".into()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["balanced"], true, "{v}");
    assert_eq!(v["data"]["nodes"].as_array().unwrap().len(), 2);
    let c = v["next_cursor"].as_str().expect("more nodes").to_owned();
    let (s, v2) = get(format!("/v1/epochs/1/rewards?limit=2&cursor={c}")).await;
    assert_eq!(s, 200, "{v2}");
    assert_eq!(v2["data"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(v2["next_cursor"], Value::Null);
    let (s, _) = get("/v1/epochs/9/rewards".into()).await;
    assert_eq!(s, 404);
    let (s, v) = get("/v1/epochs/1".into()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["rewards"]["balanced"], true, "{v}");
    let (s, v) = get("/v1/rewards".into()).await;
    assert_eq!(s, 200, "{v}");
    let listed: Vec<i64> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["epoch"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, vec![2, 1, 0]);
    // The account's stakes: statuses, values and rewards.
    let (s, v) = get(format!("/v1/accounts/{me}/stakes")).await;
    assert_eq!(s, 200, "{v}");
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), stakes.len());
    for r in data {
        if r["object_id"] == hex_id(leaving) {
            assert_eq!(r["status"], "withdrawn", "{r}");
            assert_eq!(r["withdrawn_amount"].as_u64(), Some(withdrawn), "{r}");
            assert_eq!(r["withdrawn_epoch"], 3, "{r}");
        } else {
            assert_eq!(r["status"], "active", "{r}");
            assert_eq!(r["staked_epoch"], 0, "{r}");
            let value = r["value"].as_i64().unwrap();
            assert_eq!(
                value - r["amount"].as_i64().unwrap(),
                r["rewards"].as_i64().unwrap()
            );
            assert!(value >= r["amount"].as_i64().unwrap(), "{r}");
        }
    }
    let (s, v) = get(format!("/v1/accounts/{me}/rewards?from=0&to=3")).await;
    assert_eq!(s, 200, "{v}");
    let per_epoch = v["data"].as_array().unwrap();
    assert_eq!(per_epoch.len(), 4);
    assert_eq!(per_epoch[0]["stakes"], 0, "nothing active in epoch 0");
    assert_eq!(per_epoch[1]["stakes"], 4);
    assert_eq!(per_epoch[3]["stakes"], 3, "the withdrawn stake left in 3");
    assert!(per_epoch[2]["rewards"].as_i64().unwrap() > 0, "{v}");
    let (s, _) = get(format!("/v1/accounts/{me}/rewards?from=0&to=200")).await;
    assert_eq!(s, 400);
    let (s, v) = get("/v1/shared-blobs".into()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"][0]["object_id"], hex_id(shared));
    assert_eq!(v["data"][0]["end_epoch"], 5);
    assert_eq!(v["data"][0]["renewals"], 1);
    let (s, v) = get(format!("/v1/shared-blobs/{}/renewals", hex_id(shared))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"][0]["epoch"], 2, "{v}");
    let (s, v) = get("/openapi.json".into()).await;
    assert_eq!(s, 200);
    for path in [
        "/v1/nodes/{node_id}/history",
        "/v1/accounts/{address}/rewards",
        "/v1/epochs/{epoch}/rewards",
    ] {
        assert!(v["paths"][path].is_object(), "{path} documented");
    }
}
