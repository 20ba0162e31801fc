//! Explorer benchmark (run by scripts/bench/explorer.sh, not in tests):
//! p50/p99 time of each page over HTTP, end to end (explorer -> indexer
//! API -> Postgres -> HTML), against an index of many blobs.
//!
//! The index is synthetic but written as the indexer writes it: blob
//! registrations and certifications (with their events) go through the
//! indexer's committer in batches, so the running counters and triggers
//! are exercised; epochs, committees (1000 shards), nodes and stake
//! history are inserted directly. The indexer API runs in-process on
//! 127.0.0.1; the explorer reaches it over HTTP, as in production.
//!
//! Usage: explorer_bench [--blobs N] [--requests N]

use std::time::{Duration, Instant};

use floe_explorer::{Explorer, ExplorerConfig, Limits};
use floe_indexer::api::{ApiState, router};
use floe_indexer::committer::commit;
use floe_indexer::pipeline::PIPELINE;
use floe_indexer::processor::{Batch, BlobPatch, CheckpointRow, EventRow, ObjectPatch, position};
use floe_indexer::sqlx::{self, PgPool};
use floe_indexer::{ManagedPostgres, Metrics};

const EPOCHS: i32 = 40;
const NODES: usize = 10;
const SHARDS: usize = 1000;
const OWNERS: u64 = 1000;
const PER_CHECKPOINT: u64 = 100;
/// Parameter proposals indexed (each voted by every node).
const PROPOSALS: i64 = 10_000;

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
    format!("0x{}", hex_string(&b))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn blob_id(n: u64) -> String {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    b[8] = 0xb1;
    floe_core::BlobId(b).to_string()
}

/// Checkpoint `cp`: `PER_CHECKPOINT` blobs, each registered and (two in
/// three) certified, with both events.
fn checkpoint(cp: u64, batch: &mut Batch) {
    for tx in 0..PER_CHECKPOINT {
        let n = cp * PER_CHECKPOINT + tx;
        let object_id = hex32(0x0b, n);
        let owner = hex32(0xa0, n % OWNERS);
        let registered = (n % EPOCHS as u64) as i32;
        let end_epoch = registered + 1 + (n % 20) as i32;
        let certified = !n.is_multiple_of(3);
        let pos = position(cp, tx as usize, 0).expect("position");
        for (i, name) in ["BlobRegistered", "BlobCertified"]
            .iter()
            .enumerate()
            .take(if certified { 2 } else { 1 })
        {
            batch.events.push(EventRow {
                pos: pos + i as i64,
                checkpoint: cp as i64,
                tx_digest: format!("TxDigest{n:040}"),
                event_index: i as i32,
                sender: owner.clone(),
                module: "events".into(),
                name: (*name).into(),
                type_tag: format!("0xf10e::events::{name}"),
                fields: Some(format!(
                    r#"{{"epoch":{registered},"blob_id":"{}","size":{},"end_epoch":{end_epoch},"deletable":true,"object_id":"{object_id}"}}"#,
                    blob_id(n),
                    1000 + n % 100_000
                )),
                bcs: vec![0xab; 90],
                timestamp_ms: Some(1_760_000_000_000 + cp as i64 * 1000),
                object_id: Some(object_id.clone()),
            });
        }
        batch.blobs.insert(
            object_id.clone(),
            BlobPatch {
                blob_id: blob_id(n),
                size: Some(1000 + (n % 100_000) as i64),
                encoded_size: Some(66_000_000),
                encoding_type: Some(1),
                deletable: Some(true),
                registered_epoch: Some(registered),
                certified_epoch: certified.then_some(registered),
                end_epoch: Some(end_epoch),
                status: Some(if certified { "certified" } else { "registered" }),
                created_pos: Some(pos),
                pos: pos + 1,
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
        timestamp_ms: Some(1_760_000_000_000 + cp as i64 * 1000),
        transactions: PER_CHECKPOINT as i32,
        floe_events: PER_CHECKPOINT as i32,
    });
    batch.first.get_or_insert(cp);
    batch.last = Some(cp);
}

/// Epochs, committees, nodes, stake history and the system state.
async fn network(pool: &PgPool) {
    let node = |i: usize| hex32(0xee, i as u64);
    for i in 0..NODES {
        sqlx::query(
            "INSERT INTO storage_nodes (node_id, name, public_key, network_address, stake, commission_rate, updated_pos)
             VALUES ($1, $2, $3, $4, $5, 500, 0)",
        )
        .bind(node(i))
        .bind(format!("node-{i}"))
        .bind("ab".repeat(48))
        .bind(format!("10.0.0.{i}:9185"))
        .bind(1_000_000_000_000_000i64 + i as i64)
        .execute(pool)
        .await
        .expect("node");
    }
    for e in 0..=EPOCHS {
        sqlx::query(
            "INSERT INTO epochs (epoch, start_ms, done_ms, storage_price, write_price, total_capacity, n_shards, updated_pos)
             VALUES ($1, $2, $2 + 5000, 1000, 500, 1099511627776, $3, 0)",
        )
        .bind(e)
        .bind(1_760_000_000_000i64 + i64::from(e) * 3_600_000)
        .bind(SHARDS as i32)
        .execute(pool)
        .await
        .expect("epoch");
        for i in 0..NODES {
            let shards: Vec<i32> = (0..SHARDS)
                .filter(|s| (s + e as usize) % NODES == i)
                .map(|s| s as i32)
                .collect();
            sqlx::query(
                "INSERT INTO committee_members (epoch, node_id, public_key, weight, shards) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(e)
            .bind(node(i))
            .bind("ab".repeat(48))
            .bind(shards.len() as i32)
            .bind(&shards)
            .execute(pool)
            .await
            .expect("member");
            sqlx::query(
                "INSERT INTO node_stake_history (node_id, epoch, stake) VALUES ($1, $2, $3)",
            )
            .bind(node(i))
            .bind(e)
            .bind(1_000_000_000_000_000i64 + i64::from(e) * 1_000_000_000)
            .execute(pool)
            .await
            .expect("stake");
            // The pool's row for the epoch and what it earned (migration
            // 0004), so node and epoch pages draw their staking charts.
            sqlx::query(
                "INSERT INTO pool_epochs (node_id, epoch, stake, num_shares, rate_wal, rate_shares,
                                          commission_rate, shards, pos)
                 VALUES ($1, $2, $3, $3, 1, 1, 500, $4, 0)",
            )
            .bind(node(i))
            .bind(e)
            .bind(1_000_000_000_000_000i64 + i64::from(e) * 1_000_000_000)
            .bind(&shards)
            .execute(pool)
            .await
            .expect("pool epoch");
            sqlx::query(
                "INSERT INTO node_rewards (epoch, node_id, weight, reward, commission, stakers, pos)
                 VALUES ($1, $2, $3, 1000000, 50000, 950000, 0)",
            )
            .bind(e)
            .bind(node(i))
            .bind(shards.len() as i32)
            .execute(pool)
            .await
            .expect("node reward");
        }
    }
    sqlx::query(
        "INSERT INTO system_state (id, epoch, total_capacity, used_capacity, storage_price, write_price, n_shards,
                                   epoch_state, epoch_start_ms, epoch_duration_ms, first_epoch_start_ms)
         VALUES (1, $1, 1099511627776, 549755813888, 1000, 500, $2, 'change_done', $3, 3600000, 1760000000000)",
    )
    .bind(EPOCHS)
    .bind(SHARDS as i32)
    .bind(1_760_000_000_000i64 + i64::from(EPOCHS) * 3_600_000)
    .execute(pool)
    .await
    .expect("system state");
}

/// Proposals with every node's vote and a subsidy history (migration
/// 0005), written with SQL in bulk: the pages' queries are what is
/// measured, not how the rows got there.
async fn governance(pool: &PgPool) {
    let statuses = "ARRAY['open', 'passed', 'applied', 'expired']";
    sqlx::query(&format!(
        "INSERT INTO governance_proposals (proposal_id, kind, epoch, payload, proposer, status,
             votes_for, votes_against, outcome, created_pos, created_ms, updated_pos)
         SELECT 'parameter-' || i, 'parameter', (i % $2)::int4,
                jsonb_build_object('parameter', 'epoch-duration', 'value', 3600000),
                '0xee' || repeat('0', 62),
                ({statuses})[(1 + i % 4)::int4], 700, 100,
                CASE WHEN i % 4 = 2 THEN jsonb_build_object('applied_epoch', i % $2 + 1) END,
                (1000000::int8 << 32) + i, 1760000000000 + i, (1000000::int8 << 32) + i
         FROM generate_series(0, $1 - 1) i"
    ))
    .bind(PROPOSALS)
    .bind(EPOCHS)
    .execute(pool)
    .await
    .expect("proposals");
    sqlx::query(
        "INSERT INTO governance_votes (proposal_id, node_id, weight, in_favor, pos, tx_digest, timestamp_ms)
         SELECT 'parameter-' || i, '0xee' || lpad(to_hex(n), 62, '0'),
                100, n < 8, (1000000::int8 << 32) + i * 16 + n, 'bench', 1760000000000 + i
         FROM generate_series(0, $1 - 1) i, generate_series(0, $2 - 1) n",
    )
    .bind(PROPOSALS)
    .bind(NODES as i32)
    .execute(pool)
    .await
    .expect("votes");
    sqlx::query(
        "INSERT INTO subsidy_payments (pos, kind, epoch, node_id, amount, pool_balance, tx_digest, timestamp_ms)
         SELECT (2000000::int8 << 32) + i, 'node', (i / $1)::int4,
                '0xee' || lpad(to_hex(i % $1), 62, '0'),
                1000000000, NULL, 'bench', 1760000000000 + i
         FROM generate_series(0, $1 * $2 - 1) i",
    )
    .bind(NODES as i64)
    .bind(i64::from(EPOCHS))
    .execute(pool)
    .await
    .expect("subsidies");
}

/// A cursor in the middle of the proposals.
fn governance_cursor() -> i64 {
    (1_000_000i64 << 32) + PROPOSALS / 2
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let blobs = arg("--blobs", 100_000) as u64;
    let requests = arg("--requests", 200);
    let dir = std::env::temp_dir().join(format!("floe-explorer-bench-{}", std::process::id()));
    let pg = ManagedPostgres::start(&dir.join("pg")).expect("start postgres");
    pg.create_database("bench").await.expect("create database");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with(pg.options("bench"))
        .await
        .expect("connect");
    floe_indexer::migrate(&pool).await.expect("migrate");

    let started = Instant::now();
    let checkpoints = blobs.div_ceil(PER_CHECKPOINT);
    let mut batch = Batch::default();
    for cp in 0..checkpoints {
        checkpoint(cp, &mut batch);
        if batch.blobs.len() >= 20_000 || cp + 1 == checkpoints {
            commit(&pool, PIPELINE, "bench", &batch)
                .await
                .expect("commit");
            batch = Batch::default();
        }
    }
    network(&pool).await;
    governance(&pool).await;
    sqlx::query("ANALYZE")
        .execute(&pool)
        .await
        .expect("analyze");
    eprintln!(
        "indexed {blobs} blobs ({} events) in {:.1} s",
        blobs + blobs * 2 / 3,
        started.elapsed().as_secs_f64()
    );

    let api = router(ApiState {
        pool: pool.clone(),
        registry: std::sync::Arc::new(prometheus::Registry::new()),
        metrics: Metrics::new(&prometheus::Registry::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let indexer_url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, api).await });
    let explorer = Explorer::bind(&ExplorerConfig {
        indexer_url,
        aggregator_url: Some("http://127.0.0.1:31415".into()),
        listen: "127.0.0.1:0".parse().expect("addr"),
        limits: Limits::default(),
    })
    .await
    .expect("explorer");
    let base = format!("http://{}", explorer.addr);
    tokio::spawn(explorer.run(std::future::pending()));

    let http = reqwest::Client::new();
    let mid = blobs / 2 + 1; // certified (not a multiple of 3)
    let owner = hex32(0xa0, mid % OWNERS);
    let pages: Vec<(&str, String)> = vec![
        ("overview /", "/".into()),
        ("blob list /blobs", "/blobs".into()),
        ("blob /blobs/{blob_id}", format!("/blobs/{}", blob_id(mid))),
        (
            "blob object /objects/{id}",
            format!("/objects/{}", hex32(0x0b, mid)),
        ),
        ("account /accounts/{a}", format!("/accounts/{owner}")),
        (
            "account blobs, page 2",
            format!("/accounts/{owner}/blobs?cursor={}", hex32(0x0b, mid)),
        ),
        ("epochs /epochs", "/epochs".into()),
        (
            "epoch /epochs/{n} (1000-shard map)",
            format!("/epochs/{EPOCHS}"),
        ),
        ("nodes /nodes", "/nodes".into()),
        (
            "node /nodes/{id} (charts)",
            format!("/nodes/{}", hex32(0xee, 3)),
        ),
        ("governance /governance", "/governance".into()),
        (
            "governance filtered, page 2",
            format!(
                "/governance?kind=parameter&status=applied&cursor={}",
                governance_cursor()
            ),
        ),
        (
            "proposal /governance/{id} (10 votes)",
            format!("/governance/parameter-{}", PROPOSALS / 2),
        ),
        ("subsidies /subsidies", "/subsidies".into()),
        (
            "search by object id (redirect)",
            format!("/search?q={}", hex32(0x0b, mid)),
        ),
    ];
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    println!("| page | p50 | p99 | HTML size |");
    println!("|---|---|---|---|");
    for (name, path) in pages {
        let url = format!("{base}{path}");
        let client = if path.starts_with("/search") {
            &no_redirect
        } else {
            &http
        };
        let mut times = Vec::with_capacity(requests);
        let mut size = 0;
        for i in 0..requests + 5 {
            let t = Instant::now();
            let response = client.get(&url).send().await.expect("request");
            let status = response.status();
            let body = response.bytes().await.expect("body");
            assert!(
                status.is_success() || status.is_redirection(),
                "{path}: {status}"
            );
            // The first few warm the connections and caches.
            if i >= 5 {
                times.push(t.elapsed());
            }
            size = body.len();
        }
        times.sort();
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {} KiB |",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.99).as_secs_f64() * 1000.0,
            size / 1024
        );
    }
    pool.close().await;
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}
