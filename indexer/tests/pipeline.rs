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
    // Events: 4 registered, 2 certified + 1 extension, 1 deleted, 1 invalid.
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
            ("BlobRegistered", 4),
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
    let mut expected = vec![hex_id(b), hex_id(d)];
    expected.sort();
    assert_eq!(owned, expected);
    let (s, v) = get(format!("/v1/accounts/{me}/blobs?status=registered")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"][0]["object_id"], hex_id(d));
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
    assert_eq!(v["data"]["blobs"]["total"], 4);
    assert_eq!(v["data"]["blobs"]["deleted"], 2);
    assert_eq!(v["data"]["system"]["n_shards"], 10);
    for path in [
        "/v1/nodes",
        "/v1/epochs",
        "/v1/governance",
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
