//! Soak with faults: concurrent clients store and read through a running
//! devnet's daemon while storage nodes are killed and restarted and the
//! ledger is paused; then every acknowledged blob is read back byte for
//! byte, the indexer is asked for each, and every node must be healthy and
//! caught up.
//!
//! ```sh
//! cargo run --release -p floe-client --example soak -- --devnet DIR \
//!     --floe target/release/floe --clients 8 --secs 90
//! ```
//! `scripts/soak/run` starts a devnet and runs this; RELIABILITY.md has the
//! results.
//!
//! Faults, at fractions of the run: node 1 killed with SIGKILL at 25% and
//! restarted (`floe node run --config ...`, as the devnet runs it) at 50%;
//! the ledger stopped (SIGSTOP) for 3 s at 60%; node 2 killed at 70% and
//! restarted at 85%. Blob data is a function of (client, sequence), so
//! nothing is kept in memory to check it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Value, json};

struct Args {
    devnet: PathBuf,
    floe: PathBuf,
    clients: usize,
    secs: u64,
    min_size: usize,
    max_size: usize,
}

fn args() -> Result<Args> {
    let mut a = Args {
        devnet: PathBuf::new(),
        floe: PathBuf::from("floe"),
        clients: 8,
        secs: 90,
        min_size: 1 << 10,
        max_size: 4 << 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--devnet" => a.devnet = value()?.into(),
            "--floe" => a.floe = value()?.into(),
            "--clients" => a.clients = value()?.parse()?,
            "--secs" => a.secs = value()?.parse()?,
            "--min-size" => a.min_size = value()?.parse()?,
            "--max-size" => a.max_size = value()?.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.devnet.as_os_str().is_empty() {
        bail!("--devnet DIR (a running devnet's data directory) is required");
    }
    if a.min_size == 0 || a.min_size > a.max_size {
        bail!("need 0 < --min-size <= --max-size");
    }
    Ok(a)
}

/// The bytes of blob `seq` of `client`: regenerated to check, never kept.
fn blob(client: usize, seq: u64, min: usize, max: usize) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(((client as u64) << 40) ^ seq);
    let len = rng.random_range(min..=max);
    let mut data = vec![0u8; len];
    rng.fill_bytes(&mut data);
    data
}

#[derive(Default)]
struct Tally {
    stores_ok: u64,
    stores_refused: BTreeMap<u16, u64>,
    stores_failed: u64,
    reads_ok: u64,
    reads_wrong: u64,
    reads_failed: u64,
    store_ms: Vec<f64>,
    read_ms: Vec<f64>,
    /// (client, seq, blob id) of every acknowledged store.
    acknowledged: Vec<(usize, u64, String)>,
    faults: Vec<String>,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn blob_id_of(answer: &Value) -> Option<String> {
    answer["newlyCreated"]["blobObject"]["blobId"]
        .as_str()
        .or_else(|| answer["alreadyCertified"]["blobId"].as_str())
        .map(str::to_owned)
}

async fn client_loop(
    id: usize,
    http: reqwest::Client,
    daemon: String,
    deadline: Instant,
    sizes: (usize, usize),
    tally: Arc<Mutex<Tally>>,
) {
    let mut seq = 0u64;
    let mut rng = StdRng::seed_from_u64(id as u64 ^ 0x5eed);
    while Instant::now() < deadline {
        seq += 1;
        let data = blob(id, seq, sizes.0, sizes.1);
        let started = Instant::now();
        let answer = http
            .put(format!("{daemon}/v1/blobs?epochs=5"))
            .body(data)
            .send()
            .await;
        let elapsed = started.elapsed().as_secs_f64() * 1e3;
        match answer {
            Ok(r) if r.status().is_success() => {
                let body: Value = r.json().await.unwrap_or(Value::Null);
                let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
                match blob_id_of(&body) {
                    Some(blob_id) => {
                        t.stores_ok += 1;
                        t.store_ms.push(elapsed);
                        t.acknowledged.push((id, seq, blob_id));
                    }
                    None => t.stores_failed += 1,
                }
            }
            Ok(r) => {
                let status = r.status().as_u16();
                *tally
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .stores_refused
                    .entry(status)
                    .or_default() += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(_) => {
                tally
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .stores_failed += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        // Read back one acknowledged blob (any client's).
        let pick = {
            let t = tally.lock().unwrap_or_else(|p| p.into_inner());
            (!t.acknowledged.is_empty())
                .then(|| t.acknowledged[rng.random_range(0..t.acknowledged.len())].clone())
        };
        if let Some((client, seq, blob_id)) = pick {
            let started = Instant::now();
            let got = read(&http, &daemon, &blob_id).await;
            let elapsed = started.elapsed().as_secs_f64() * 1e3;
            let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
            match got {
                Ok(bytes) if bytes == blob(client, seq, sizes.0, sizes.1) => {
                    t.reads_ok += 1;
                    t.read_ms.push(elapsed);
                }
                Ok(_) => t.reads_wrong += 1,
                Err(_) => t.reads_failed += 1,
            }
        }
    }
}

async fn read(http: &reqwest::Client, daemon: &str, blob_id: &str) -> Result<Vec<u8>> {
    let r = http
        .get(format!("{daemon}/v1/blobs/{blob_id}"))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("{}", r.status());
    }
    Ok(r.bytes().await?.to_vec())
}

fn signal(pid: u32, sig: &str) -> Result<()> {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()?;
    if !status.success() {
        bail!("kill {sig} {pid} failed");
    }
    Ok(())
}

fn pid_of(manifest: &Value, name: &str) -> Option<u32> {
    manifest["pids"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["pid"].as_u64())
        .map(|p| p as u32)
}

fn restart_node(floe: &Path, manifest: &Value, index: usize, logs: &Path) -> Result<Child> {
    let config = manifest["nodes"][index]["config"]
        .as_str()
        .context("node config path in devnet.json")?;
    let log = std::fs::File::create(logs.join(format!("soak-node-{index}.log")))?;
    Ok(Command::new(floe)
        .args(["node", "run", "--config", config])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?)
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Whether node `url` answers its health check with nothing left to catch
/// up: follower lag under 5 s, no recovery queued, no shard syncing.
async fn caught_up(http: &reqwest::Client, url: &str) -> bool {
    let healthy = http
        .get(format!("{url}/v1/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    if !healthy {
        return false;
    }
    let Ok(text) = async {
        http.get(format!("{url}/metrics"))
            .send()
            .await?
            .text()
            .await
    }
    .await
    else {
        return false;
    };
    metric(&text, "floe_node_follower_lag_ms").is_some_and(|v| v < 5_000.0)
        && metric(&text, "floe_node_recovery_queue").is_some_and(|v| v == 0.0)
        && metric(&text, "floe_node_shards_syncing").is_none_or(|v| v == 0.0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args()?;
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(a.devnet.join("devnet.json")).context("devnet.json")?,
    )?;
    let daemon = manifest["daemon_url"]
        .as_str()
        .context("the devnet runs no daemon")?
        .trim_end_matches('/')
        .to_owned();
    let indexer = manifest["indexer_url"]
        .as_str()
        .map(|s| s.trim_end_matches('/').to_owned());
    let logs = PathBuf::from(manifest["logs_dir"].as_str().unwrap_or("."));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let run = Duration::from_secs(a.secs);
    let start = Instant::now();
    let deadline = start + run;
    let clients: Vec<_> = (0..a.clients)
        .map(|id| {
            tokio::spawn(client_loop(
                id,
                http.clone(),
                daemon.clone(),
                deadline,
                (a.min_size, a.max_size),
                tally.clone(),
            ))
        })
        .collect();

    // The fault schedule.
    let at = |fraction: f64| start + run.mul_f64(fraction);
    let mut restarted: Vec<Child> = Vec::new();
    let note = |t: &Arc<Mutex<Tally>>, what: String| {
        eprintln!("[{:>5.1}s] {what}", start.elapsed().as_secs_f64());
        t.lock()
            .unwrap_or_else(|p| p.into_inner())
            .faults
            .push(what);
    };
    tokio::time::sleep_until(at(0.25).into()).await;
    if let Some(pid) = pid_of(&manifest, "node-1") {
        signal(pid, "-KILL")?;
        note(&tally, "node-1 killed (SIGKILL)".into());
    }
    tokio::time::sleep_until(at(0.50).into()).await;
    restarted.push(restart_node(&a.floe, &manifest, 1, &logs)?);
    note(&tally, "node-1 restarted".into());
    tokio::time::sleep_until(at(0.60).into()).await;
    if let Some(pid) = pid_of(&manifest, "ledger") {
        signal(pid, "-STOP")?;
        note(&tally, "ledger paused (SIGSTOP)".into());
        tokio::time::sleep(Duration::from_secs(3)).await;
        signal(pid, "-CONT")?;
        note(&tally, "ledger resumed after 3 s".into());
    }
    tokio::time::sleep_until(at(0.70).into()).await;
    if let Some(pid) = pid_of(&manifest, "node-2") {
        signal(pid, "-KILL")?;
        note(&tally, "node-2 killed (SIGKILL)".into());
    }
    tokio::time::sleep_until(at(0.85).into()).await;
    restarted.push(restart_node(&a.floe, &manifest, 2, &logs)?);
    note(&tally, "node-2 restarted".into());
    for c in clients {
        let _ = c.await;
    }

    // Every node healthy and caught up (within 3 minutes).
    let urls: Vec<String> = manifest["nodes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|n| n["url"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let settle = Instant::now();
    let mut lagging = urls.clone();
    while !lagging.is_empty() && settle.elapsed() < Duration::from_secs(180) {
        let mut still = Vec::new();
        for url in lagging {
            if !caught_up(&http, &url).await {
                still.push(url);
            }
        }
        lagging = still;
        if !lagging.is_empty() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let settled_s = settle.elapsed().as_secs_f64();

    // Every acknowledged blob, byte for byte, and in the indexer.
    let acknowledged = tally
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .acknowledged
        .clone();
    let mut lost = Vec::new();
    let mut unindexed = Vec::new();
    for (client, seq, blob_id) in &acknowledged {
        match read(&http, &daemon, blob_id).await {
            Ok(bytes) if bytes == blob(*client, *seq, a.min_size, a.max_size) => {}
            _ => lost.push(blob_id.clone()),
        }
        if let Some(indexer) = &indexer {
            let found = http
                .get(format!("{indexer}/v1/blob-ids/{blob_id}"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if !found {
                unindexed.push(blob_id.clone());
            }
        }
    }
    for mut child in restarted {
        let _ = child.kill();
        let _ = child.wait();
    }

    let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
    let report = json!({
        "clients": a.clients,
        "secs": a.secs,
        "sizes": [a.min_size, a.max_size],
        "faults": t.faults,
        "stores_acknowledged": t.stores_ok,
        "stores_refused_by_status": t.stores_refused,
        "stores_failed": t.stores_failed,
        "reads_ok": t.reads_ok,
        "reads_wrong_bytes": t.reads_wrong,
        "reads_failed": t.reads_failed,
        "store_ms_p50": percentile(&mut t.store_ms, 0.5),
        "store_ms_p99": percentile(&mut t.store_ms, 0.99),
        "read_ms_p50": percentile(&mut t.read_ms, 0.5),
        "read_ms_p99": percentile(&mut t.read_ms, 0.99),
        "acknowledged_checked": acknowledged.len(),
        "lost": lost,
        "not_indexed": unindexed,
        "indexer_checked": indexer.is_some(),
        "nodes_not_caught_up": lagging,
        "settle_secs": settled_s,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    let failed = !report["lost"].as_array().is_none_or(Vec::is_empty)
        || !report["not_indexed"].as_array().is_none_or(Vec::is_empty)
        || !report["nodes_not_caught_up"]
            .as_array()
            .is_none_or(Vec::is_empty)
        || t.reads_wrong > 0;
    if failed {
        bail!("the soak found lost, unindexed or wrong blobs, or nodes not caught up");
    }
    Ok(())
}
