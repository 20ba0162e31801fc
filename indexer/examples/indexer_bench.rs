//! Indexer benchmark (run by scripts/bench/indexer.sh, not in tests).
//!
//! 1. Ingest: a synthetic history of `--events` BlobRegistered events (one
//!    blob each, 1000 owners, owner changes from effects) written by the
//!    committer in batches (rows + watermark per transaction), against a
//!    raw `COPY` of the same event and blob rows into an empty copy of the
//!    schema, in the same run and cluster. The rows are built as the
//!    processor builds them; decoding checkpoints is not part of the
//!    measurement.
//!    The committer side includes the running counters (`blob_stats`,
//!    maintained by triggers in its transaction); the COPY side does not.
//! 2. API: p50/p99 latency of the main queries over HTTP with every blob
//!    indexed.
//!
//! Usage: indexer_bench [--events N] [--batch EVENTS] [--queries N]

use std::time::{Duration, Instant};

use floe_indexer::api::{ApiState, router};
use floe_indexer::committer::commit;
use floe_indexer::processor::{Batch, BlobPatch, CheckpointRow, EventRow, ObjectPatch, position};
use floe_indexer::sqlx::{self, PgPool};
use floe_indexer::{ManagedPostgres, Metrics};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn hex32(prefix: u8, n: u64) -> String {
    let mut b = [0u8; 32];
    b[0] = prefix;
    b[24..].copy_from_slice(&n.to_be_bytes());
    format!("0x{}", hex::encode(b))
}

fn blob_id(n: u64) -> String {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    b[8] = 0xb1;
    floe_core::BlobId(b).to_string()
}

/// Checkpoint `cp` with `per_cp` registrations, each in its own transaction.
fn checkpoint(cp: u64, per_cp: u64, batch: &mut Batch) {
    for tx in 0..per_cp {
        let n = cp * per_cp + tx;
        let pos = position(cp, tx as usize, 0).expect("position");
        let object_id = hex32(0x0b, n);
        let owner = hex32(0xa0, n % 1000);
        let end_epoch = 1 + (n % 50) as i32;
        let fields = format!(
            r#"{{"epoch":0,"blob_id":"{}","size":{},"encoding_type":1,"end_epoch":{end_epoch},"deletable":{},"object_id":"{object_id}"}}"#,
            blob_id(n),
            1000 + n % 100_000,
            n.is_multiple_of(2)
        );
        batch.events.push(EventRow {
            pos,
            checkpoint: cp as i64,
            tx_digest: format!("TxDigest{n:040}"),
            event_index: 0,
            sender: owner.clone(),
            module: "events".into(),
            name: "BlobRegistered".into(),
            type_tag: "0xf10e::events::BlobRegistered".into(),
            fields: Some(fields),
            bcs: vec![0xab; 90],
            timestamp_ms: Some(1_700_000_000_000 + cp as i64),
            object_id: Some(object_id.clone()),
        });
        batch.blobs.insert(
            object_id.clone(),
            BlobPatch {
                blob_id: blob_id(n),
                size: Some(1000 + (n % 100_000) as i64),
                encoded_size: Some(66_000_000),
                encoding_type: Some(1),
                deletable: Some(n.is_multiple_of(2)),
                registered_epoch: Some(0),
                certified_epoch: (!n.is_multiple_of(3)).then_some(0),
                end_epoch: Some(end_epoch),
                status: Some(if !n.is_multiple_of(3) {
                    "certified"
                } else {
                    "registered"
                }),
                created_pos: Some(pos),
                pos,
            },
        );
        batch.objects.insert(
            object_id,
            ObjectPatch {
                owner: Some(owner),
                deleted: false,
                pos: position(cp, tx as usize, 0xffff).expect("position"),
            },
        );
    }
    batch.checkpoints.push(CheckpointRow {
        sequence_number: cp as i64,
        digest: Some(format!("Cp{cp}")),
        timestamp_ms: Some(1_700_000_000_000 + cp as i64),
        transactions: per_cp as i32,
        floe_events: per_cp as i32,
    });
    batch.first.get_or_insert(cp);
    batch.last = Some(cp);
}

async fn pool(pg: &ManagedPostgres, name: &str) -> PgPool {
    pg.create_database(name).await.expect("create database");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with(pg.options(name))
        .await
        .expect("connect");
    floe_indexer::migrate(&pool).await.expect("migrate");
    pool
}

/// COPY text-format escaping for the few characters our rows contain.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

async fn copy_batch(pool: &PgPool, b: &Batch) {
    let mut conn = pool.acquire().await.expect("conn");
    let mut events = String::new();
    for e in &b.events {
        events.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t\\\\x{}\t{}\t{}\n",
            e.pos,
            e.checkpoint,
            e.tx_digest,
            e.event_index,
            e.sender,
            e.module,
            e.name,
            e.type_tag,
            esc(e.fields.as_deref().unwrap_or("null")),
            hex::encode(&e.bcs),
            e.timestamp_ms.unwrap_or(0),
            e.object_id.as_deref().unwrap_or("\\N"),
        ));
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY events (pos, checkpoint, tx_digest, event_index, sender, module, name, type_tag, fields, bcs, timestamp_ms, object_id) FROM STDIN",
        )
        .await
        .expect("copy events");
    copy.send(events.into_bytes()).await.expect("send");
    copy.finish().await.expect("finish");
    let mut blobs = String::new();
    for (id, p) in &b.blobs {
        let owner = b.objects.get(id).and_then(|o| o.owner.clone());
        blobs.push_str(&format!(
            "{id}\t{}\t{}\t{}\t{}\t1\t{}\t0\t{}\t{}\t{}\t{}\t{}\t{}\n",
            p.blob_id,
            owner.as_deref().unwrap_or("\\N"),
            p.size.unwrap_or(0),
            p.encoded_size.unwrap_or(0),
            p.deletable.unwrap_or(false),
            p.certified_epoch
                .map_or("\\N".to_string(), |e| e.to_string()),
            p.end_epoch.unwrap_or(0),
            p.status.unwrap_or("registered"),
            p.pos,
            p.pos,
            p.pos,
        ));
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY blobs (object_id, blob_id, owner, size, encoded_size, encoding_type, deletable, registered_epoch, certified_epoch, end_epoch, status, created_pos, updated_pos, owner_pos) FROM STDIN",
        )
        .await
        .expect("copy blobs");
    copy.send(blobs.into_bytes()).await.expect("send");
    copy.finish().await.expect("finish");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let events = arg("--events", 1_000_000) as u64;
    let per_batch = arg("--batch", 20_000) as u64;
    let queries = arg("--queries", 200);
    let per_cp = 100u64;
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = ManagedPostgres::start(&dir.path().join("pg")).expect("postgres");
    let indexed = pool(&pg, "indexed").await;
    let copied = pool(&pg, "copied").await;
    // The baseline is the rows alone: without the counters' triggers.
    for t in ["insert", "update", "delete"] {
        sqlx::query(&format!("DROP TRIGGER blob_stats_{t} ON blobs"))
            .execute(&copied)
            .await
            .expect("drop trigger");
    }
    let checkpoints = events / per_cp;
    let cps_per_batch = (per_batch / per_cp).max(1);

    // Committer path.
    let mut took = Duration::ZERO;
    let mut cp = 0;
    while cp < checkpoints {
        let mut batch = Batch::default();
        for c in cp..(cp + cps_per_batch).min(checkpoints) {
            checkpoint(c, per_cp, &mut batch);
        }
        let start = Instant::now();
        commit(&indexed, "floe", "bench", &batch)
            .await
            .expect("commit");
        took += start.elapsed();
        cp += cps_per_batch;
    }
    let indexer_rate = events as f64 / took.as_secs_f64();
    // Raw COPY of the same event and blob rows.
    let mut copy_took = Duration::ZERO;
    let mut cp = 0;
    while cp < checkpoints {
        let mut batch = Batch::default();
        for c in cp..(cp + cps_per_batch).min(checkpoints) {
            checkpoint(c, per_cp, &mut batch);
        }
        let start = Instant::now();
        copy_batch(&copied, &batch).await;
        copy_took += start.elapsed();
        cp += cps_per_batch;
    }
    let copy_rate = events as f64 / copy_took.as_secs_f64();
    println!(
        "ingest: {events} events (+{events} blobs, owners from effects) in batches of {per_batch}"
    );
    println!(
        "  indexer committer: {:.1} s, {:.0} events/s",
        took.as_secs_f64(),
        indexer_rate
    );
    println!(
        "  raw COPY (events + blobs): {:.1} s, {:.0} events/s",
        copy_took.as_secs_f64(),
        copy_rate
    );
    println!("  ratio: {:.0}% of COPY", 100.0 * indexer_rate / copy_rate);
    sqlx::query("ANALYZE")
        .execute(&indexed)
        .await
        .expect("analyze");
    sqlx::query("INSERT INTO system_state VALUES (1, 10, 1099511627776, 0, 1000, 500, 1000)")
        .execute(&indexed)
        .await
        .expect("system state");

    // API latency.
    let api = router(ApiState {
        pool: indexed.clone(),
        registry: std::sync::Arc::new(prometheus::Registry::new()),
        metrics: Metrics::new(&prometheus::Registry::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, api).await });
    let http = reqwest::Client::new();
    let blobs = events;
    type Path<'a> = Box<dyn Fn(u64) -> String + 'a>;
    let cases: Vec<(&str, Path)> = vec![
        (
            "blob by object id",
            Box::new(move |n| format!("/v1/blobs/{}", hex32(0x0b, n % blobs))),
        ),
        (
            "blob id aggregate",
            Box::new(move |n| format!("/v1/blob-ids/{}", blob_id(n % blobs))),
        ),
        (
            "blobs of an owner (50)",
            Box::new(move |n| format!("/v1/blobs?owner={}", hex32(0xa0, n % 1000))),
        ),
        (
            "account blobs, status=certified",
            Box::new(move |n| {
                format!(
                    "/v1/accounts/{}/blobs?status=certified",
                    hex32(0xa0, n % 1000)
                )
            }),
        ),
        (
            "blobs expiring in an epoch range",
            Box::new(move |n| {
                format!(
                    "/v1/blobs?end_epoch_min={}&end_epoch_max={}&limit=100",
                    11 + n % 30,
                    12 + n % 30
                )
            }),
        ),
        (
            "blobs page after a cursor (1000)",
            Box::new(move |n| {
                format!(
                    "/v1/blobs?limit=1000&cursor={}",
                    hex32(0x0b, (n * 7919) % blobs)
                )
            }),
        ),
        (
            "blob events",
            Box::new(move |n| format!("/v1/blobs/{}/events", hex32(0x0b, n % blobs))),
        ),
        ("status", Box::new(|_| "/v1/status".to_string())),
        (
            "stats (running counters)",
            Box::new(|_| "/v1/stats".to_string()),
        ),
    ];
    println!("api: {queries} requests per query, {blobs} blobs indexed");
    for (name, path) in cases {
        let mut times = Vec::with_capacity(queries);
        for i in 0..queries as u64 {
            let url = format!("{base}{}", path(i * 104_729 + 17));
            let start = Instant::now();
            let r = http.get(&url).send().await.expect("request");
            let status = r.status();
            let _ = r.bytes().await.expect("body");
            times.push(start.elapsed());
            assert!(status.is_success(), "{url}: {status}");
        }
        times.sort();
        println!(
            "  {name:<36} p50 {:>7.2} ms  p99 {:>7.2} ms",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.99).as_secs_f64() * 1000.0
        );
    }
    indexed.close().await;
    copied.close().await;
    drop(pg);
}
