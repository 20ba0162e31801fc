//! WAL payments on a devnet with short epochs, driven by two coordinators
//! at once (the devnet's own is killed first; A signs with the devnet's
//! coordinator key, B with a fresh key funded by the faucet; each keeps
//! its own data dir and follows the chain on its own):
//!
//! - blobs of varied sizes and lengths are stored, node 0 sets a 10%
//!   commission and WAL staked with node 1 moves shards; for every ended epoch
//!   both coordinators reconciled the payment, and burn + rewards +
//!   carry-over equal the bucket to the FROST (checked here again from
//!   the observed numbers `floe payments --json` prints), with identical
//!   tables from A and B;
//! - a shared blob funded for two and a half epochs of storage, stored
//!   for 3 epochs, is renewed twice (one epoch each, `[renewal]
//!   horizon_epochs = 1, extend_epochs = 1`), so it outlives its first
//!   end epoch, and then no more: its funds cover less than an epoch;
//!   the two renewals are recorded once in total, never by both;
//! - racing for every call causes no error: each epoch step succeeded
//!   exactly once across A and B, and every abort was a lost race.
//!
//! The one-FROST error is fed to the reconciler in its unit tests
//! (`coordinator/src/reconcile.rs`).
//!
//! Slow suite (for its size): about 40 s, since epochs pass in real time.

use floe_testkit::devnet as devnet_support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use devnet_support::{Running, floe};
use floe_testkit::Proc;
use serde_json::Value;

const FROST_PER_WAL: u64 = 1_000_000_000;
const MIB: u64 = 1 << 20;

struct Net {
    _process: Running,
    dir: tempfile::TempDir,
}

impl Net {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, config: &Path, args: &[&str]) -> Output {
        floe()
            .arg("--json")
            .args(args)
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .output()
            .expect("run floe")
    }

    fn json_with(&self, config: &Path, args: &[&str]) -> Value {
        let out = self.run(config, args);
        assert!(
            out.status.success(),
            "floe {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            devnet_support::logs(self.path())
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    fn json(&self, args: &[&str]) -> Value {
        self.json_with(&self.path().join("client.yaml"), args)
    }

    fn system(&self) -> Value {
        self.json(&["info"])["system"].clone()
    }

    /// Waits until the epoch is at least `epoch` and its change is done.
    fn wait_for_epoch(&self, epoch: u64) {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let system = self.system();
            if system["epoch"].as_u64() >= Some(epoch) && system["epochState"] != "EpochChangeSync"
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "epoch {epoch} did not come; last {system}\n{}",
                devnet_support::logs(self.path())
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Stores `len` bytes for `epochs` epochs; the blob object.
    fn store(&self, len: usize, seed: u8, epochs: u32) -> Value {
        let data: Vec<u8> = (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect();
        let file = self.path().join(format!("blob-{len}-{seed}"));
        std::fs::write(&file, data).unwrap();
        let v = self.json(&[
            "store",
            file.to_str().unwrap(),
            "--yes",
            "--epochs",
            &epochs.to_string(),
        ]);
        v[0]["newlyCreated"]["blobObject"].clone()
    }
}

/// A coordinator started from a config, with its HTTP address.
struct Coordinator {
    _process: Running,
    addr: String,
}

fn start_coordinator(config: &Path) -> Coordinator {
    let mut cmd = floe();
    cmd.args(["--json", "coordinator", "run", "--config"])
        .arg(config);
    let process =
        Proc::spawn(&mut cmd, &config.with_extension("log")).graceful(devnet_support::STOP_TIMEOUT);
    let v = process.first_json(Duration::from_secs(120));
    Coordinator {
        _process: process,
        addr: v["address"].as_str().expect("address").to_owned(),
    }
}

/// `GET path` over plain HTTP/1.1 (the coordinator answers with a
/// content length and closes).
fn http_get(addr: &str, path: &str) -> String {
    let addr = addr.parse().expect("coordinator address");
    let (status, body) = floe_testkit::request(addr, "GET", path, b"");
    let body = String::from_utf8(body).expect("UTF-8 answer");
    assert_eq!(status, 200, "{body}");
    body
}

fn status(c: &Coordinator) -> Value {
    serde_json::from_str(&http_get(&c.addr, "/status")).expect("status JSON")
}

/// `floe_coordinator_calls_total{call,outcome}` values.
fn calls(c: &Coordinator, call: &str, outcome: &str) -> u64 {
    let metrics = http_get(&c.addr, "/metrics");
    let needle = format!("floe_coordinator_calls_total{{call=\"{call}\",outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&needle))
        .map_or(0, |v| v.trim().parse().expect("counter value"))
}

/// A coordinator config from the devnet's, with its own port, data dir,
/// key and quick renewals.
fn coordinator_config(net: &Net, name: &str, keystore: Option<&Path>) -> PathBuf {
    let devnet = net.path().join("coordinator").join("coordinator.toml");
    let mut config: toml::Table = std::fs::read_to_string(&devnet)
        .unwrap()
        .parse()
        .expect("devnet coordinator config");
    config.insert("listen".into(), "127.0.0.1:0".into());
    let dir = net.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    config.insert(
        "data_dir".into(),
        dir.join("state").display().to_string().into(),
    );
    if let Some(keystore) = keystore {
        let wallet = config["wallet"].as_table_mut().unwrap();
        wallet.insert("keystore".into(), keystore.display().to_string().into());
    }
    let mut renewal = toml::Table::new();
    renewal.insert("horizon_epochs".into(), 1.into());
    renewal.insert("extend_epochs".into(), 1.into());
    config.insert("renewal".into(), renewal.into());
    let path = dir.join("coordinator.toml");
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    path
}

/// A fresh key with SUI from the faucet, in its own keystore (so the two
/// coordinators never pick the same gas coin).
fn funded_key(net: &Net) -> PathBuf {
    let dir = net.path().join("b");
    std::fs::create_dir_all(&dir).unwrap();
    let original = std::fs::read_to_string(net.path().join("client.yaml")).unwrap();
    let config = dir.join("client.yaml");
    std::fs::write(&config, &original).unwrap();
    let new = net.json_with(&config, &["wallet", "new"]);
    let address = new["address"].as_str().unwrap().to_owned();
    let wallet = devnet_support::manifest(net.path())["wallet_address"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(original.contains(&wallet), "{original}");
    std::fs::write(&config, original.replace(&wallet, &address)).unwrap();
    net.json_with(&config, &["wallet", "faucet"]);
    dir.join("wallet").join("sui.keystore")
}

/// `floe --json payments --coordinator URL`.
fn payments_json(url: &str) -> Value {
    let out = floe()
        .args(["--json", "payments", "--coordinator", url])
        .output()
        .expect("floe payments");
    assert!(
        out.status.success(),
        "floe payments: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("payments JSON")
}

fn wal_text(frost: u64) -> String {
    format!("{}.{:09}", frost / FROST_PER_WAL, frost % FROST_PER_WAL)
}

#[test]
fn payments_reconcile_renew_and_survive_two_coordinators() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (process, _ready) = devnet_support::start(
        dir.path(),
        &[
            "--no-indexer",
            "--nodes",
            "4",
            "--shards",
            "12",
            "--epoch-duration",
            "6s",
        ],
    );
    let net = Net {
        _process: process,
        dir,
    };

    // Only A and B drive from here on.
    let pid = devnet_support::pid_of(&devnet_support::manifest(net.path()), "coordinator");
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let key_b = funded_key(&net);
    let before = net.system();
    let a = start_coordinator(&coordinator_config(&net, "a", None));
    let b = start_coordinator(&coordinator_config(&net, "b", Some(&key_b)));

    // Node 0 takes 10% commission from two epochs on; WAL staked with
    // node 1 moves shards to it at the next committee selection.
    let node0 = net.path().join("nodes").join("node-0").join("node.toml");
    let mut tries = 0;
    loop {
        let out = floe()
            .args([
                "--json",
                "node",
                "update",
                "--commission-bps",
                "1000",
                "--config",
            ])
            .arg(&node0)
            .output()
            .expect("floe node update");
        if out.status.success() {
            break;
        }
        // The node signs its own epoch_sync_done with the same key: a
        // gas coin taken by the node at the same moment is retried.
        tries += 1;
        assert!(tries < 5, "{}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_secs(1));
    }
    let node1 = before["committee"][1]["nodeId"]
        .as_str()
        .unwrap()
        .to_owned();
    net.json(&["stake", "--node-id", &node1, "--amount", "2000", "--yes"]);

    // Blobs of varied sizes and lengths.
    net.store(1_000, 1, 3);
    net.store(100_000, 2, 1);
    net.store(250_000, 3, 2);
    let price = net.system()["storagePricePerUnitSize"].as_u64().unwrap();
    assert!(price > 0, "the devnet charges for storage");

    // The shared blob: 3 epochs (due for renewal at the vote of its last
    // epoch, well after the share), funds for two and a half more.
    let shared = net.store(2_000, 4, 3);
    let first_end = shared["storage"]["endEpoch"].as_u64().expect("end epoch");
    let units = shared["storage"]["storageSize"]
        .as_u64()
        .unwrap()
        .div_ceil(MIB);
    let per_epoch = price * units;
    let funds = 2 * per_epoch + per_epoch / 2;
    let shared_id = net.json(&[
        "share",
        "--object-id",
        shared["id"].as_str().unwrap(),
        "--amount",
        &wal_text(funds),
        "--yes",
    ])["sharedBlobObject"]
        .as_str()
        .expect("shared blob id")
        .to_owned();

    // Renewed at the votes of epochs first_end - 1 and first_end, so it is
    // still readable after its first end epoch; expired once epoch
    // first_end + 2 starts.
    let blob_id = shared["blobId"].as_str().unwrap().to_owned();
    net.wait_for_epoch(first_end + 1);
    let out = net.run(&net.path().join("client.yaml"), &["read", &blob_id]);
    assert!(
        out.status.success(),
        "the shared blob outlives its first end epoch {first_end}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    net.wait_for_epoch(first_end + 3);
    let out = net.run(&net.path().join("client.yaml"), &["read", &blob_id]);
    assert!(
        !out.status.success(),
        "the shared blob expired once its funds ran out"
    );

    // Renewals: two, each once, from the blob's funds.
    let (sa, sb) = (status(&a), status(&b));
    let mut renewals: Vec<Value> = [&sa, &sb]
        .iter()
        .flat_map(|s| s["renewals"]["recent"].as_array().unwrap().clone())
        .filter(|r| r["shared_blob"] == shared_id.as_str())
        .collect();
    renewals.sort_by_key(|r| r["old_end_epoch"].as_u64());
    let spans: Vec<(u64, u64, u64)> = renewals
        .iter()
        .map(|r| {
            assert!(r["error"].is_null(), "{r}");
            (
                r["old_end_epoch"].as_u64().unwrap(),
                r["new_end_epoch"].as_u64().unwrap(),
                r["cost"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        [
            (first_end, first_end + 1, per_epoch),
            (first_end + 1, first_end + 2, per_epoch)
        ],
        "A: {}\nB: {}",
        sa["renewals"],
        sb["renewals"]
    );
    // Payments: every ended epoch reconciled by both, to the FROST.
    let now = net.system()["epoch"].as_u64().unwrap();
    let mut tables = Vec::new();
    for c in [&a, &b] {
        let url = format!("http://{}", c.addr);
        let deadline = Instant::now() + Duration::from_secs(60);
        let epochs = loop {
            let v = payments_json(&url);
            let epochs: Vec<Value> = v["epochs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["epoch"].as_u64().unwrap() < now)
                .cloned()
                .collect();
            if epochs.len() as u64 == now {
                break epochs;
            }
            assert!(
                Instant::now() < deadline,
                "epochs 0..{now} not all reconciled: {v}"
            );
            std::thread::sleep(Duration::from_millis(500));
        };
        let numbers: Vec<u64> = epochs
            .iter()
            .map(|e| e["epoch"].as_u64().unwrap())
            .collect();
        assert_eq!(
            numbers,
            (0..now).collect::<Vec<_>>(),
            "every ended epoch once"
        );
        for e in &epochs {
            assert_eq!(e["ok"], true, "{e}");
            let paid: u64 = e["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| {
                    n["observed"]["staker_reward"].as_u64().unwrap()
                        + n["observed"]["commission"].as_u64().unwrap()
                })
                .sum();
            assert_eq!(
                e["burn_observed"].as_u64().unwrap()
                    + paid
                    + e["carry_over_observed"].as_u64().unwrap(),
                e["bucket"].as_u64().unwrap(),
                "{e}"
            );
            assert_eq!(e["nodes"].as_array().unwrap().len(), 4, "{e}");
        }
        let buckets: u64 = epochs.iter().map(|e| e["bucket"].as_u64().unwrap()).sum();
        assert!(buckets > 0, "the stores paid into some epoch");
        let commission: u64 = epochs
            .iter()
            .flat_map(|e| e["nodes"].as_array().unwrap().clone())
            .filter(|n| n["commission_rate"] == 1000)
            .map(|n| n["commission"].as_u64().unwrap())
            .sum();
        assert!(commission > 0, "node 0's commission was paid");
        // One epoch, the human table.
        let out = floe()
            .args(["payments", "--epoch", "1", "--coordinator", &url])
            .output()
            .expect("floe payments --epoch 1");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("epoch 1 ") && text.contains("bucket"),
            "{text}"
        );
        tables.push(epochs);
    }
    assert_eq!(tables[0], tables[1], "A and B reconciled the same numbers");

    // The race: no errors; each step done once across A and B. Read the
    // counters in a window where the epoch state does not move.
    let (stable, counts) = loop {
        let s1 = net.system();
        let counts: Vec<(u64, u64, u64, u64)> = [&a, &b]
            .iter()
            .map(|c| {
                (
                    calls(c, "voting_end", "ok"),
                    calls(c, "initiate_epoch_change", "ok"),
                    calls(c, "voting_end", "error")
                        + calls(c, "voting_end", "aborted")
                        + calls(c, "initiate_epoch_change", "error")
                        + calls(c, "initiate_epoch_change", "aborted"),
                    calls(c, "voting_end", "lost_race")
                        + calls(c, "initiate_epoch_change", "lost_race"),
                )
            })
            .collect();
        let s2 = net.system();
        if s1["epoch"] == s2["epoch"] && s1["epochState"] == s2["epochState"] {
            break (s2, counts);
        }
    };
    let failures: u64 = counts.iter().map(|c| c.2).sum();
    assert_eq!(failures, 0, "no call failed: {counts:?}");
    let changes = stable["epoch"].as_u64().unwrap() - before["epoch"].as_u64().unwrap();
    let initiated: u64 = counts.iter().map(|c| c.1).sum();
    assert_eq!(initiated, changes, "{counts:?}");
    let voted: u64 = counts.iter().map(|c| c.0).sum();
    let selected = |s: &Value| u64::from(s["epochState"] == "NextParamsSelected");
    assert_eq!(
        voted + selected(&before),
        changes + selected(&stable),
        "{counts:?}"
    );
    eprintln!(
        "lost races (aborts counted as someone else's success): {}",
        counts.iter().map(|c| c.3).sum::<u64>()
    );
    // Neither coordinator raises a payment or renewal alert (a node late
    // with its sync report on a loaded machine is not this test's point).
    for c in [&a, &b] {
        let s = status(c);
        let alerts: Vec<&Value> = s["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| !a.as_str().unwrap_or_default().contains("epoch_sync_done"))
            .collect();
        assert!(alerts.is_empty(), "{alerts:?}");
    }
}
