//! A small index served by the explorer API, for the tests of what reads
//! it (the API's own fuzz campaign and the explorer's page fuzz campaign).
//! Only with the `test-support` feature: no part of the indexer uses it.

use std::path::Path;
use std::sync::Arc;

use crate::api::{ApiState, router};
use crate::committer::commit;
use crate::pipeline::PIPELINE;
use crate::processor::{Batch, BlobPatch, CheckpointRow, position};
use crate::{ManagedPostgres, Metrics};

/// The object id of the `n`-th sample blob: `0x` and `n` in 64 hex digits.
pub fn object_id(n: u64) -> String {
    format!("0x{n:064x}")
}

/// A Postgres cluster of the caller's own in `dir/pg`, its database `fuzz`
/// migrated and holding checkpoint 1 with three certified blobs (object
/// ids [`object_id`] 1 to 3, blob ids `blob_id(n)`, `1_000 * n` bytes,
/// deletable when `n` is even, epochs 1 to 5), and the explorer API serving
/// it on a free local port, spawned on the current tokio runtime. Returns
/// the cluster (dropping it stops Postgres) and the API's base URL.
/// Panics, saying what failed, if any of it cannot be set up.
pub async fn serve(dir: &Path, blob_id: impl Fn(u64) -> String) -> (ManagedPostgres, String) {
    let pg = ManagedPostgres::start(&dir.join("pg")).expect("start a Postgres cluster");
    pg.create_database("fuzz").await.expect("create database");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(pg.options("fuzz"))
        .await
        .expect("connect to Postgres");
    crate::migrate(&pool).await.expect("migrate the index");
    let mut batch = Batch::default();
    for n in 1..=3u64 {
        let pos = position(1, n as usize, 0).expect("a small position");
        batch.blobs.insert(
            object_id(n),
            BlobPatch {
                blob_id: blob_id(n),
                size: Some(1_000 * n as i64),
                encoded_size: Some(5_000 * n as i64),
                encoding_type: Some(1),
                deletable: Some(n % 2 == 0),
                registered_epoch: Some(1),
                certified_epoch: Some(1),
                end_epoch: Some(5),
                status: Some("certified"),
                created_pos: Some(pos),
                pos,
            },
        );
    }
    batch.checkpoints.push(CheckpointRow {
        sequence_number: 1,
        digest: None,
        timestamp_ms: Some(1_700_000_000_000),
        transactions: 3,
        floe_events: 0,
    });
    batch.first = Some(1);
    batch.last = Some(1);
    commit(&pool, PIPELINE, "chain", &batch)
        .await
        .expect("commit the sample batch");
    let api = router(ApiState {
        pool,
        registry: Arc::new(prometheus::Registry::new()),
        metrics: Metrics::new(&prometheus::Registry::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move { axum::serve(listener, api).await });
    (pg, base)
}
