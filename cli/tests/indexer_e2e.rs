//! `floe indexer run` as a process against `floe ledger run` as a process
//! and a real Postgres: killed with SIGKILL in the middle of indexing and
//! restarted, it ends with exactly the rows of an uninterrupted run.

use std::path::Path;
use std::time::{Duration, Instant};

use floe_chain::floe::{Floe, FloeIds};
use floe_chain::{ChainClient, KeyPair};
use floe_core::bls::BlsSecretKey;
use floe_indexer::ManagedPostgres;
use floe_indexer::sqlx::{self, PgPool};
use floe_testkit::ledger::{Ledger, LedgerOptions};
use floe_testkit::msg::{encoded_length, registration};
use floe_testkit::{Proc, floe};

fn start_ledger(dir: &Path, user: &KeyPair) -> (Ledger, String) {
    let mut genesis = format!(
        "chain_name = \"indexer-e2e\"\n[[accounts]]\naddress = \"{a}\"\nbalance = 100000000000\ncoins = 4\n\
         [[packages]]\naddress = \"0x3a1\"\ninit_sender = \"{a}\"\n[[packages]]\naddress = \"0xf10e\"\n\
         [floe]\nepoch = 0\nmax_epochs_ahead = 10\ntotal_capacity_size = 1073741824\n\
         storage_price_per_unit_size = 1000\nwrite_price_per_unit_size = 500\n",
        a = user.address()
    );
    for (i, shards) in [1u16, 2, 3, 4].iter().enumerate() {
        let key = BlsSecretKey::from_seed(&[i as u8 + 1; 32]);
        genesis.push_str(&format!(
            "[[floe.nodes]]\npublic_key = \"{}\"\nshards = {shards}\n",
            hex::encode(key.public_key().to_bytes())
        ));
    }
    let path = dir.join("genesis.toml");
    std::fs::write(&path, genesis).unwrap();
    let ledger = Ledger::start(
        dir,
        &path,
        LedgerOptions::default()
            .checkpoint_interval_ms(50)
            .env("RUST_LOG", "warn"),
    );
    let endpoint = ledger.endpoint();
    (ledger, endpoint)
}

fn start_indexer(dir: &Path, name: &str, endpoint: &str, url: &str) -> Proc {
    let config = format!(
        "data_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\n[chain]\nendpoints = [\"{endpoint}\"]\n\
         wal_package = \"0x3a1\"\nfloe_package = \"0xf10e\"\n\
         [pipeline]\nbatch_checkpoints = 3\nbatch_timeout_ms = 5\nbuffer = 4\n",
        dir.join(name).display()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config).unwrap();
    let mut cmd = floe();
    cmd.args(["--json", "indexer", "run", "--config"])
        .arg(&path)
        .arg("--database-url")
        .arg(url)
        .env("RUST_LOG", "warn");
    let child = Proc::spawn(&mut cmd, &dir.join(format!("{name}.log")));
    let v = child.first_json(Duration::from_secs(120));
    assert_eq!(v["event"], "listening", "{v}");
    child
}

async fn watermark(pool: &PgPool) -> i64 {
    let w: Option<(i64,)> = sqlx::query_as("SELECT checkpoint FROM watermarks")
        .fetch_optional(pool)
        .await
        .unwrap_or(None);
    w.map_or(-1, |w| w.0)
}

async fn wait_for(pool: &PgPool, checkpoint: i64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while watermark(pool).await < checkpoint {
        assert!(
            Instant::now() < deadline,
            "indexer did not reach {checkpoint}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every row, up to checkpoint `tip` (the ledger may seal more, empty,
/// checkpoints while the two runs happen).
async fn dump(pool: &PgPool, tip: i64) -> Vec<String> {
    let mut out = Vec::new();
    for (table, order) in [
        ("checkpoints WHERE sequence_number <=", "sequence_number"),
        ("events", "pos"),
        ("blobs", "object_id"),
        ("invalid_blob_ids", "blob_id"),
        ("epochs", "epoch"),
        ("committee_members", "epoch, node_id"),
        ("storage_resources", "object_id"),
        ("payments", "pos, kind"),
        ("storage_nodes", "node_id"),
        ("governance_proposals", "proposal_id"),
        ("governance_votes", "proposal_id, node_id"),
        ("subsidy_payments", "pos"),
        ("node_stake_history", "node_id, epoch"),
        ("staked_wal", "object_id"),
        ("blob_stats", "status, end_epoch"),
        ("pool_epochs", "node_id, epoch"),
        ("epoch_rewards", "epoch"),
        ("node_rewards", "epoch, node_id"),
        ("commission_collections", "pos, node_id"),
        ("shared_blobs", "object_id"),
        ("shared_blob_renewals", "pos, shared_blob_id"),
    ] {
        let (name, from) = match table.strip_suffix(" WHERE sequence_number <=") {
            Some(t) => (t, format!("{t} t WHERE sequence_number <= {tip}")),
            None => (table, format!("{table} t")),
        };
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT to_jsonb(t)::text FROM {from} ORDER BY {order}"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        out.extend(rows.into_iter().map(|r| format!("{name}: {}", r.0)));
    }
    out
}

/// The running counters must equal a recount from `blobs`.
async fn assert_counters(pool: &PgPool) {
    let (mismatches,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM (
             SELECT status, end_epoch, blobs, bytes, encoded_bytes FROM blob_stats
             WHERE blobs <> 0 OR bytes <> 0 OR encoded_bytes <> 0
             EXCEPT ALL
             SELECT status, coalesce(end_epoch, -1), count(*), coalesce(sum(size), 0)::int8,
                    coalesce(sum(encoded_size), 0)::int8 FROM blobs GROUP BY 1, 2) d",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (counted, rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT coalesce(sum(blobs), 0)::int8 FROM blob_stats), (SELECT count(*) FROM blobs)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        (mismatches, counted),
        (0, rows),
        "counters differ from a recount"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_batch_then_restart_gives_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let user = KeyPair::generate();
    let (_ledger, endpoint) = start_ledger(dir.path(), &user);

    // A history of many checkpoints: registrations, some certified.
    let client = ChainClient::connect_single(&endpoint).unwrap();
    let ids = FloeIds::discover(&client, "0x3a1".parse().unwrap(), "0xf10e".parse().unwrap())
        .await
        .unwrap();
    let floe = Floe::new(client.clone(), ids);
    let wal = floe.wal_coins(user.address()).await.unwrap()[0].0;
    let encoded = encoded_length(100);
    let mut last = None;
    for seed in 0..30u8 {
        let reg = registration(seed, 100, seed % 2 == 0);
        let tx = floe
            .reserve_and_register(&user, encoded, 2, &reg, wal)
            .await
            .unwrap();
        assert!(tx.status.is_success(), "{}", tx.status);
        last = Some(tx.digest);
        if seed % 3 == 0 {
            // Attributes (a dynamic field of the blob): rows from objects.
            let blob = tx
                .created()
                .into_iter()
                .map(|c| *c.reference.object_id())
                .find(|id| {
                    tx.events
                        .iter()
                        .any(|e| e.contents.windows(32).any(|w| w == id.as_bytes()))
                })
                .expect("the registered blob");
            let tx = floe
                .set_attribute(&user, blob, "seed", &seed.to_string())
                .await
                .unwrap();
            assert!(tx.status.is_success(), "{}", tx.status);
            last = Some(tx.digest);
        }
    }
    // The checkpoint holding the last transaction (the tip read right after
    // executing may not include it yet).
    let last = last.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let tip = loop {
        if let Ok(t) = client.get_transaction(&last).await
            && let Some(cp) = t.checkpoint
        {
            break cp as i64;
        }
        assert!(Instant::now() < deadline, "last transaction never sealed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let pg = ManagedPostgres::start(&dir.path().join("pg")).unwrap();
    for db in ["straight", "killed"] {
        pg.create_database(db).await.unwrap();
    }
    let pool = |db: &str| {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_lazy_with(pg.options(db))
    };
    let (straight, killed) = (pool("straight"), pool("killed"));

    // Uninterrupted run.
    {
        let _indexer = start_indexer(dir.path(), "straight", &endpoint, &pg.url("straight"));
        wait_for(&straight, tip).await;
    }

    // Killed with SIGKILL part-way (several times), restarted each time.
    let mut kills = 0;
    for target in [tip / 4, tip / 2, 3 * tip / 4] {
        let mut indexer = start_indexer(dir.path(), "killed", &endpoint, &pg.url("killed"));
        let deadline = Instant::now() + Duration::from_secs(90);
        while watermark(&killed).await < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if watermark(&killed).await < tip {
            kills += 1;
        }
        indexer.kill9();
    }
    assert!(kills > 0, "the indexer finished before any kill");
    {
        let _indexer = start_indexer(dir.path(), "killed", &endpoint, &pg.url("killed"));
        wait_for(&killed, tip).await;
        // Let it settle after reaching the tip (committee snapshot).
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_counters(&straight).await;
    assert_counters(&killed).await;
    let (a, b) = (dump(&straight, tip).await, dump(&killed, tip).await);
    assert!(a.len() > 60, "history too small: {}", a.len());
    let blobs = a.iter().filter(|r| r.starts_with("blobs:")).count();
    assert_eq!(blobs, 30);
    let payments = a.iter().filter(|r| r.starts_with("payments:")).count();
    assert_eq!(payments, 60, "a storage and a write fee per registration");
    let with_attributes = a
        .iter()
        .filter(|r| r.starts_with("blobs:") && r.contains("\"seed\""))
        .count();
    assert_eq!(with_attributes, 10);
    assert_eq!(
        a, b,
        "killed-and-restarted index differs from the uninterrupted one"
    );
}
