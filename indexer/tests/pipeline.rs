//! The pipeline against a real ledger (in-process, real gRPC, real signed
//! transactions and BLS certificates) and a real Postgres (a managed
//! cluster per test): expected rows after a scripted history, replays that
//! change nothing, Postgres restarting under the indexer, and the API's
//! answers, 400s and pagination under concurrent ingestion.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use floe_chain::sui_sdk_types::Address;
use floe_indexer::api::{ApiState, router};
use floe_indexer::committer::{Committed, commit, write_rows};
use floe_indexer::pipeline::PIPELINE;
use floe_indexer::processor::Batch;
use floe_indexer::sqlx;
use serde_json::Value;
use support::*;

fn hex_id(a: Address) -> String {
    format!("0x{}", hex::encode(a.as_bytes()))
}

/// Runs the pipeline in the background; dropping the sender stops it.
fn spawn_pipeline(
    p: floe_indexer::Pipeline,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), floe_indexer::PipelineError>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(p.run(async move {
        let _ = stopped.await;
    }));
    (stop, handle)
}

async fn tip(net: &Devnet) -> u64 {
    net.client.latest_checkpoint_number().await.unwrap()
}

async fn blob_row(
    pool: &sqlx::PgPool,
    id: Address,
) -> (
    String,
    Option<String>,
    String,
    Option<i32>,
    Option<i32>,
    Option<i64>,
    Option<i64>,
) {
    sqlx::query_as(
        "SELECT status, owner, blob_id, certified_epoch, end_epoch, size, encoded_size FROM blobs WHERE object_id = $1",
    )
    .bind(hex_id(id))
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_history_replay_and_api() {
    let net = devnet().await;
    let db = database("history").await;
    let pool = db.pool.clone();
    let me = hex_id(net.user.address());

    // History: A deletable, certified, extended, then deleted; B permanent,
    // certified, its id then invalidated; C registered and burnt (no event:
    // only the effects say it is gone); D registered only.
    let (a, reg_a) = net.register(1, 1000, true, 3).await;
    net.certify(a, &reg_a).await;
    let tx = net
        .floe
        .extend_blob(&net.user, a, 2, net.wal)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let (b, reg_b) = net.register(2, 5000, false, 4).await;
    net.certify(b, &reg_b).await;
    let (c, _) = net.register(3, 10, true, 2).await;
    let tx = net.floe.burn_blob(&net.user, c).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let (d, reg_d) = net.register(4, 77, true, 1).await;
    let tx = net.floe.delete_blob(&net.user, a).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let returned = net.created_of(&tx, "storage_resource", "Storage").await;
    assert_eq!(returned.len(), 1, "delete_blob returns A's storage");
    let extra = extra_history(&net, b, d).await;
    let msg = message(2, 0, &reg_b.blob_id.0);
    let tx = net
        .floe
        .invalidate_blob_id(&net.user, &net.certify_all(msg))
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let end = net.settled(&tx).await;

    // Index it (small batches, so state crosses batch boundaries).
    let (stop, handle) = spawn_pipeline(net.pipeline(&pool, 3).await);
    wait_for_watermark(&pool, end).await;

    let row_a = blob_row(&pool, a).await;
    assert_eq!(row_a.0, "deleted");
    assert_eq!(row_a.1.as_deref(), None, "a deleted blob has no owner");
    assert_eq!(row_a.3, Some(0), "certified in epoch 0");
    assert_eq!(row_a.4, Some(5), "extended from 3 to 5");
    assert_eq!(row_a.5, Some(1000));
    assert_eq!(row_a.6, Some(encoded(1000) as i64));
    let row_b = blob_row(&pool, b).await;
    assert_eq!(row_b.0, "invalid");
    assert_eq!(row_b.1.as_deref(), Some(me.as_str()));
    assert_eq!(row_b.2, floe_core::BlobId(reg_b.blob_id.0).to_string());
    let row_c = blob_row(&pool, c).await;
    assert_eq!(
        row_c.0, "deleted",
        "burnt without an event: effects delete it"
    );
    let row_d = blob_row(&pool, d).await;
    assert_eq!(row_d.0, "registered");
    assert_eq!(row_d.1.as_deref(), Some(me.as_str()));
    assert_eq!(row_d.3, None);
    check_extra_history(&pool, &net, &extra, (b, d), returned[0], &me).await;
    let (counters, recount) = counters_and_recount(&pool).await;
    assert_eq!(counters, recount, "counters differ from a recount");
    // Events: 5 registered, 2 certified + 1 extension, 1 deleted, 1 invalid.
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, count(*) FROM events GROUP BY name ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    let counts: Vec<(&str, i64)> = counts.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    assert_eq!(
        counts,
        vec![
            ("BlobCertified", 3),
            ("BlobDeleted", 1),
            ("BlobRegistered", 5),
            ("InvalidBlobID", 1)
        ]
    );
    // The committee snapshot: 4 members, shards 0..10 each held once.
    let shards: Vec<(Vec<i32>,)> =
        sqlx::query_as("SELECT shards FROM committee_members WHERE epoch = 0 ORDER BY node_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut all: Vec<i32> = shards.iter().flat_map(|s| s.0.clone()).collect();
    all.sort();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
    assert_eq!(shards.len(), 4);

    stop.send(()).unwrap();
    handle.await.unwrap().unwrap();

    // Replay: every checkpoint again, as one batch and as an old batch
    // after newer ones, changes no row; the watermark refuses it too.
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
    let chain_id = net.chain_id().await;
    assert_eq!(
        commit(&pool, PIPELINE, &chain_id, &everything)
            .await
            .unwrap(),
        Committed::AlreadyIndexed
    );
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
    let (counters, recount) = counters_and_recount(&pool).await;
    assert_eq!(
        counters, recount,
        "counters differ from a recount after replay"
    );
    // Another chain is refused.
    let err = commit(&pool, PIPELINE, "another-chain", &everything)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another-chain"), "{err}");

    // The API over the same rows.
    let api = router(ApiState {
        pool: pool.clone(),
        registry: std::sync::Arc::new(prometheus::Registry::new()),
        metrics: floe_indexer::Metrics::new(&prometheus::Registry::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api).await });
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http.get(format!("{base}{path}")).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (s, v) = get(format!("/v1/blobs?owner={me}")).await;
    assert_eq!(s, 200, "{v}");
    let (watermark,): (i64,) = sqlx::query_as("SELECT checkpoint FROM watermarks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        v["checkpoint"], watermark,
        "answers state the checkpoint they reflect"
    );
    let owned: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["object_id"].as_str().unwrap())
        .collect();
    let mut expected = vec![hex_id(b), hex_id(d), hex_id(extra.e)];
    expected.sort();
    assert_eq!(owned, expected);
    let (s, v) = get(format!("/v1/accounts/{me}/blobs?status=registered")).await;
    assert_eq!(s, 200, "{v}");
    let mut registered = vec![hex_id(d), hex_id(extra.e)];
    registered.sort();
    let listed: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["object_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, registered);
    let (s, v) = get(format!("/v1/blobs/{}", hex_id(a))).await;
    assert_eq!((s, v["data"]["status"].as_str()), (200, Some("deleted")));
    let (s, v) = get(format!("/v1/blobs/{}/events", hex_id(a))).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "BlobRegistered",
            "BlobCertified",
            "BlobCertified",
            "BlobDeleted"
        ]
    );
    let (s, v) = get(format!(
        "/v1/blob-ids/{}",
        floe_core::BlobId(reg_d.blob_id.0)
    ))
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["objects"].as_array().unwrap().len(), 1);
    let (s, v) = get("/v1/epochs/0".into()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["committee"].as_array().unwrap().len(), 4);
    assert_eq!(v["data"]["shard_map"].as_object().unwrap().len(), 10);
    let (s, v) = get("/v1/stats".into()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["blobs"]["total"], 5);
    assert_eq!(v["data"]["blobs"]["deleted"], 2);
    assert_eq!(v["data"]["blobs"]["registered"], 2);
    assert_eq!(v["data"]["blobs"]["invalid"], 1);
    assert_eq!(v["data"]["blobs"]["certified"], 0);
    let (s, v) = get(format!("/v1/blobs/{}", hex_id(d))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["attributes"], serde_json::json!({"name": "dee"}));
    let (s, v) = get(format!("/v1/accounts/{me}/storage")).await;
    assert_eq!(s, 200, "{v}");
    let states: Vec<(&str, &str)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["object_id"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    let returned_id = hex_id(returned[0]);
    assert_eq!(
        states,
        vec![(returned_id.as_str(), "owned")],
        "wrapped and destroyed resources have no owner"
    );
    let (s, v) = get(format!("/v1/accounts/{me}/payments?limit=3")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 3);
    assert!(v["next_cursor"].is_string(), "{v}");
    let (s, v) = get(format!("/v1/accounts/{me}/payments?cursor=abc")).await;
    assert_eq!(s, 400, "{v}");
    let (_, v) = get("/v1/stats".into()).await;
    assert_eq!(v["data"]["system"]["n_shards"], 10);
    // The epoch's timing from the staking state (migration 0003).
    let system = &v["data"]["system"];
    assert!(
        ["change_done", "params_selected", "change_sync"]
            .contains(&system["epoch_state"].as_str().unwrap_or("")),
        "{system}"
    );
    assert!(
        system["epoch_duration_ms"].as_i64().unwrap() > 0,
        "{system}"
    );
    assert!(system["first_epoch_start_ms"].is_i64(), "{system}");
    for path in [
        "/v1/nodes",
        "/v1/epochs",
        "/v1/governance",
        "/v1/subsidies",
        "/v1/status",
        "/openapi.json",
    ] {
        let (s, v) = get(path.into()).await;
        assert_eq!(s, 200, "{path}: {v}");
    }
    // Bad parameters: 400 with the reason.
    for (path, word) in [
        ("/v1/blobs?limit=1001", "limit"),
        ("/v1/blobs?limit=0", "limit"),
        ("/v1/blobs?status=alive", "status"),
        ("/v1/blobs?owner=0xnothex", "owner"),
        ("/v1/blobs?deletable=maybe", "deletable"),
        ("/v1/blobs?colour=red", "colour"),
        ("/v1/blobs/zzz", "object_id"),
        ("/v1/blob-ids/!!", "blob_id"),
        ("/v1/epochs/-1", "epoch"),
    ] {
        let (s, v) = get(path.into()).await;
        assert_eq!(s, 400, "{path}: {v}");
        assert!(v["error"].as_str().unwrap().contains(word), "{path}: {v}");
    }
    let (s, _) = get(format!("/v1/blobs/{}", hex_id(Address::ZERO))).await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_postgres_restart_and_pages_exactly_once_while_ingesting() {
    let net = devnet().await;
    let db = database("restart").await;
    let pool = db.pool.clone();
    let mut ids = HashSet::new();
    for seed in 0..12u8 {
        ids.insert(hex_id(
            net.register(seed, 100 + u64::from(seed), true, 2).await.0,
        ));
    }
    let (stop, handle) = spawn_pipeline(net.pipeline(&pool, 2).await);
    wait_for_watermark(&pool, tip(&net).await).await;

    // Postgres restarts under the running indexer; more history meanwhile.
    db.pg.restart().expect("restart postgres");
    for seed in 12..16u8 {
        ids.insert(hex_id(net.register(seed, 100, true, 2).await.0));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let count = loop {
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM blobs")
            .fetch_one(&pool)
            .await
            .unwrap();
        if count >= 16 || std::time::Instant::now() > deadline {
            break count;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(count, 16);

    // Pagination while new blobs are being indexed: every blob that
    // existed before the first page is returned exactly once.
    let api = router(ApiState {
        pool: pool.clone(),
        registry: std::sync::Arc::new(prometheus::Registry::new()),
        metrics: floe_indexer::Metrics::new(&prometheus::Registry::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api).await });
    let writer = {
        let floe = net.floe.clone();
        let user = net.user.clone();
        let wal = net.wal;
        tokio::spawn(async move {
            for seed in 100..110u8 {
                let reg = registration(seed, 50, true);
                floe.reserve_and_register(&user, encoded(50), 2, &reg, wal)
                    .await
                    .unwrap();
            }
        })
    };
    let http = reqwest::Client::new();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/blobs?limit=3");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let v: Value = http.get(url).send().await.unwrap().json().await.unwrap();
        for b in v["data"].as_array().unwrap() {
            seen.push(b["object_id"].as_str().unwrap().to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    writer.await.unwrap();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "a row was returned twice: {seen:?}"
    );
    for id in &ids {
        assert!(unique.contains(id), "{id} missing from the pages");
    }
    stop.send(()).unwrap();
    handle.await.unwrap().unwrap();
}

/// Objects of the storage/attribute/payment part of the history.
struct Extra {
    /// Bought, split, fused, destroyed.
    s1: Address,
    /// Split off S1 and fused back into it.
    s2: Address,
    /// Split off S1 and consumed by registering E.
    s3: Address,
    e: Address,
    subsidy: u64,
}

/// Attributes on D (added, updated, one removed) and on B (added, then
/// taken away); a storage resource bought, split, fused, split again, one
/// part registered on and the rest destroyed; a subsidy.
async fn extra_history(net: &Devnet, b: Address, d: Address) -> Extra {
    let ok = |tx: floe_chain::ExecutedTx| {
        assert!(tx.status.is_success(), "{}", tx.status);
        tx
    };
    let f = &net.floe;
    let u = &net.user;
    ok(
        f.add_attributes(u, d, &[("content-type", "text/plain"), ("name", "d")])
            .await
            .unwrap(),
    );
    ok(f.set_attribute(u, d, "name", "dee").await.unwrap());
    ok(f.remove_attribute(u, d, "content-type").await.unwrap());
    ok(f.set_attribute(u, b, "x", "1").await.unwrap());
    ok(f.take_attributes(u, b).await.unwrap());
    let e100 = encoded(100);
    let tx = ok(f.reserve_space(u, 2 * e100, 3, net.wal).await.unwrap());
    let s1 = net.created_of(&tx, "storage_resource", "Storage").await[0];
    let tx = ok(f.split_storage_by_size(u, s1, e100).await.unwrap());
    let s2 = net.created_of(&tx, "storage_resource", "Storage").await[0];
    ok(f.fuse_storage(u, s1, s2).await.unwrap());
    let tx = ok(f.split_storage_by_size(u, s1, e100).await.unwrap());
    let s3 = net.created_of(&tx, "storage_resource", "Storage").await[0];
    let tx = ok(f
        .register_blob(u, s3, &registration(5, 100, true), net.wal)
        .await
        .unwrap());
    let e = net.created_of(&tx, "blob", "Blob").await[0];
    ok(f.destroy_storage(u, s1).await.unwrap());
    let subsidy = 1_000_000;
    ok(f.add_subsidy(u, net.wal, subsidy, 2).await.unwrap());
    Extra {
        s1,
        s2,
        s3,
        e,
        subsidy,
    }
}

async fn check_extra_history(
    pool: &sqlx::PgPool,
    net: &Devnet,
    x: &Extra,
    (b, d): (Address, Address),
    returned: Address,
    me: &str,
) {
    let attributes = |id: Address| {
        let pool = pool.clone();
        async move {
            let (a,): (Value,) =
                sqlx::query_as("SELECT attributes FROM blobs WHERE object_id = $1")
                    .bind(hex_id(id))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            a
        }
    };
    assert_eq!(attributes(d).await, serde_json::json!({"name": "dee"}));
    assert_eq!(attributes(b).await, serde_json::json!({}), "taken away");
    assert_eq!(attributes(x.e).await, serde_json::json!({}));
    let storage: Vec<(String, Option<String>, i32, i32, i64, String)> = sqlx::query_as(
        "SELECT object_id, owner, start_epoch, end_epoch, storage_size, state
         FROM storage_resources ORDER BY object_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let e100 = encoded(100) as i64;
    let mut expected = vec![
        (hex_id(x.s1), None, 0, 3, e100, "destroyed".to_owned()),
        (hex_id(x.s2), None, 0, 3, e100, "destroyed".to_owned()),
        (hex_id(x.s3), None, 0, 3, e100, "wrapped".to_owned()),
        (
            hex_id(returned),
            Some(me.to_owned()),
            0,
            5,
            encoded(1000) as i64,
            "owned".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(storage, expected);
    // Payments: what the system received, split into fees.
    let prices = net.floe.prices().await.unwrap();
    let (sp, wp) = (
        prices.storage_price_per_unit_size,
        prices.write_price_per_unit_size,
    );
    let store = |size: u64, epochs: u32| floe_core::price::storage_cost(size, sp, epochs).unwrap();
    let write = |size: u64| floe_core::price::write_cost(encoded(size), wp).unwrap();
    let storage_fees = store(encoded(1000), 3)
        + store(encoded(1000), 2)
        + store(encoded(5000), 4)
        + store(encoded(10), 2)
        + store(encoded(77), 1)
        + store(2 * encoded(100), 3);
    let write_fees = write(1000) + write(5000) + write(10) + write(77) + write(100);
    let sums: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT kind, count(*), sum(amount)::int8 FROM payments WHERE payer = $1
         GROUP BY kind ORDER BY kind",
    )
    .bind(me)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        sums,
        vec![
            ("storage_fee".to_owned(), 6, storage_fees as i64),
            ("subsidy".to_owned(), 1, x.subsidy as i64),
            ("write_fee".to_owned(), 5, write_fees as i64),
        ]
    );
}
