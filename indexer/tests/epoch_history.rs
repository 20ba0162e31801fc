//! `/v1/stats/epochs` over rows written by the committer: certified blobs
//! count in every epoch from certification to their end epoch, later
//! certifications and deletions move the running counters
//! (`blob_epoch_stats`), which always equal a recount from `blobs`.

use floe_indexer::api::{ApiState, router};
use floe_indexer::committer::commit;
use floe_indexer::pipeline::PIPELINE;
use floe_indexer::processor::{Batch, BlobPatch, CheckpointRow, position};
use floe_indexer::sqlx::{self, PgPool};
use floe_indexer::{ManagedPostgres, Metrics};
use serde_json::Value;

fn blob(
    n: u64,
    size: i64,
    certified: Option<i32>,
    end: i32,
    status: &'static str,
    pos: i64,
) -> (String, BlobPatch) {
    (
        format!("0x{n:064x}"),
        BlobPatch {
            blob_id: format!("blob{n}"),
            size: Some(size),
            encoded_size: Some(size * 5),
            encoding_type: Some(1),
            deletable: Some(true),
            registered_epoch: Some(1),
            certified_epoch: certified,
            end_epoch: Some(end),
            status: Some(status),
            created_pos: Some(pos),
            pos,
        },
    )
}

fn batch(cp: u64, blobs: Vec<(String, BlobPatch)>) -> Batch {
    let mut b = Batch::default();
    b.blobs.extend(blobs);
    b.checkpoints.push(CheckpointRow {
        sequence_number: cp as i64,
        digest: None,
        timestamp_ms: Some(1_700_000_000_000),
        transactions: 1,
        floe_events: 0,
    });
    b.first = Some(cp);
    b.last = Some(cp);
    b
}

async fn counters_match_recount(pool: &PgPool) {
    let (mismatches,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM (
             (SELECT certified_epoch, end_epoch, blobs, bytes, encoded_bytes FROM blob_epoch_stats
              WHERE blobs <> 0 OR bytes <> 0 OR encoded_bytes <> 0
              EXCEPT ALL
              SELECT certified_epoch, end_epoch, count(*), sum(size)::int8, sum(encoded_size)::int8
              FROM blobs WHERE status = 'certified' GROUP BY 1, 2)
             UNION ALL
             (SELECT certified_epoch, end_epoch, count(*), sum(size)::int8, sum(encoded_size)::int8
              FROM blobs WHERE status = 'certified' GROUP BY 1, 2
              EXCEPT ALL
              SELECT certified_epoch, end_epoch, blobs, bytes, encoded_bytes FROM blob_epoch_stats
              WHERE blobs <> 0 OR bytes <> 0 OR encoded_bytes <> 0)) d",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(mismatches, 0, "blob_epoch_stats differs from a recount");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_bytes_per_epoch_follow_certification_and_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let pg = ManagedPostgres::start(&dir.path().join("pg")).unwrap();
    pg.create_database("history").await.unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(pg.options("history"))
        .await
        .unwrap();
    floe_indexer::migrate(&pool).await.unwrap();
    let pos = |cp: u64, tx: usize| position(cp, tx, 0).unwrap();

    // A certified for epochs 1..4, B only registered, C certified 2..3.
    let first = batch(
        1,
        vec![
            blob(1, 100, Some(1), 4, "certified", pos(1, 0)),
            blob(2, 50, None, 5, "registered", pos(1, 1)),
            blob(3, 10, Some(2), 3, "certified", pos(1, 2)),
        ],
    );
    commit(&pool, PIPELINE, "chain", &first).await.unwrap();
    counters_match_recount(&pool).await;
    // Then B is certified in epoch 2 and C deleted.
    let second = batch(
        2,
        vec![
            blob(2, 50, Some(2), 5, "certified", pos(2, 0)),
            blob(3, 10, Some(2), 3, "deleted", pos(2, 1)),
        ],
    );
    commit(&pool, PIPELINE, "chain", &second).await.unwrap();
    counters_match_recount(&pool).await;

    let api = router(ApiState {
        pool: pool.clone(),
        registry: std::sync::Arc::new(prometheus::Registry::new()),
        metrics: Metrics::new(&prometheus::Registry::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api).await });
    let get = |path: &str| {
        let url = format!("{base}{path}");
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };

    let (status, v) = get("/v1/stats/epochs?from=0&to=5").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["checkpoint"], 2);
    let per_epoch: Vec<(i64, i64, i64, i64)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["epoch"].as_i64().unwrap(),
                r["blobs"].as_i64().unwrap(),
                r["bytes"].as_i64().unwrap(),
                r["encoded_bytes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_epoch,
        vec![
            (0, 0, 0, 0),
            (1, 1, 100, 500),
            (2, 2, 150, 750),
            (3, 2, 150, 750),
            (4, 1, 50, 250),
            (5, 0, 0, 0),
        ],
        "deleted C is gone; B counts from its certification"
    );
    // Without parameters: the 30 epochs up to the current one (0 here,
    // no system state yet).
    let (status, v) = get("/v1/stats/epochs").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let (status, v) = get("/v1/stats/epochs?from=1").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"][0]["epoch"], 1);
    for (path, word) in [
        ("/v1/stats/epochs?from=5&to=4", "after"),
        ("/v1/stats/epochs?from=0&to=200", "at most"),
        ("/v1/stats/epochs?from=-1", "from"),
        ("/v1/stats/epochs?since=1", "since"),
    ] {
        let (status, v) = get(path).await;
        assert_eq!(status, 400, "{path}: {v}");
        assert!(v["error"].as_str().unwrap().contains(word), "{path}: {v}");
    }
}
