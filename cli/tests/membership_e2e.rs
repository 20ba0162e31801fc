//! An open network on one running devnet with short epochs, all through
//! `floe` commands:
//!
//! - the four genesis nodes vote storage and write prices with `floe node
//!   update`; after the epoch change the price is the shard-weighted
//!   `quorum_below` of the committee's votes, and `floe store` pays exactly
//!   that, to the FROST;
//! - `floe devnet add-node` grows the network to five: the new node is
//!   registered (proof of possession), staked from the wallet, joins the
//!   committee at an epoch change and fills its shards by shard sync from
//!   their previous holders; blobs stored before stay readable and new
//!   ones are certified, at the price the five now vote;
//! - the new node moves to another port (`floe node update
//!   --network-address`, then restarted on it): the devnet's running
//!   daemon uploads to it at the new address and, when it leaves, the
//!   genesis nodes fetch its shards from there, none of them restarted;
//! - its commission (10%) is collected with `floe node collect-commission`
//!   and equals the sum over epochs of rewards x rate / 10_000;
//! - `floe devnet remove-node` withdraws the stake: the node leaves the
//!   next committee, hands its shards back and is stopped; every blob
//!   stays readable and new stores are certified by the four; restarted,
//!   the devnet runs the four, not the removed node.
//!
//! Slow suite (for its size): about a minute, epochs pass in real time.

use floe_testkit::devnet as devnet_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use devnet_support::{Running, floe, running};
use floe_chain::floe::{Floe, FloeIds};
use floe_core::move_types::{EpochState, ObjectId};
use serde_json::Value;

const EPOCHS: &str = "50";
const WAIT: Duration = Duration::from_secs(150);

struct Net {
    process: Running,
    dir: tempfile::TempDir,
    chain: Floe,
    runtime: tokio::runtime::Runtime,
}

impl Net {
    fn start() -> Net {
        let dir = tempfile::tempdir().expect("temp dir");
        let (process, _) = devnet_support::start(
            dir.path(),
            &[
                "--no-indexer",
                "--nodes",
                "4",
                "--shards",
                "12",
                "--epoch-duration",
                "8s",
            ],
        );
        let m = devnet_support::manifest(dir.path());
        let id = |k: &str| m[k].as_str().unwrap().parse().unwrap();
        let ids = FloeIds {
            wal_package: id("wal_package"),
            floe_package: id("floe_package"),
            system: id("system_object"),
            treasury: id("treasury_object"),
            staking: id("staking_object"),
        };
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let chain = runtime.block_on(async {
            Floe::new(
                floe_chain::ChainClient::connect_single(m["ledger_url"].as_str().unwrap()).unwrap(),
                ids,
            )
        });
        Net {
            process,
            dir,
            chain,
            runtime,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn fail(&self, what: &str, out: &Output) -> ! {
        panic!(
            "{what} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            devnet_support::logs(self.path())
        )
    }

    /// `floe --json ARGS... --config client.yaml`.
    fn client(&self, args: &[&str]) -> Value {
        let out = floe()
            .arg("--json")
            .args(args)
            .arg("--config")
            .arg(self.path().join("client.yaml"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if !out.status.success() {
            self.fail(&format!("floe {args:?}"), &out);
        }
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    /// `floe --json node ARGS... --config NODE_CONFIG`.
    fn node(&self, config: &Path, args: &[&str]) -> Value {
        let out = floe()
            .args(["--json", "node"])
            .args(args)
            .arg("--config")
            .arg(config)
            .output()
            .unwrap();
        if !out.status.success() {
            self.fail(&format!("floe node {args:?}"), &out);
        }
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    /// `floe --json devnet ARGS... --data-dir DIR`.
    fn try_devnet(&self, args: &[&str]) -> Output {
        floe()
            .args(["--json", "devnet"])
            .args(args)
            .arg("--data-dir")
            .arg(self.path())
            .output()
            .unwrap()
    }

    fn devnet(&self, args: &[&str]) -> Value {
        let out = self.try_devnet(args);
        if !out.status.success() {
            self.fail(&format!("floe devnet {args:?}"), &out);
        }
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    fn manifest(&self) -> Value {
        devnet_support::manifest(self.path())
    }

    fn node_config(&self, name: &str) -> PathBuf {
        let m = self.manifest();
        let node = m["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("no node {name} in {m}"));
        PathBuf::from(node["config"].as_str().unwrap())
    }

    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// (epoch, whether its change is done).
    fn epoch(&self) -> (u32, bool) {
        let state = self.block(self.chain.staking_state()).unwrap();
        (
            state.epoch,
            !matches!(state.epoch_state, EpochState::EpochChangeSync(_)),
        )
    }

    /// Waits until the epoch is at least `epoch` and its change is done.
    fn wait_for_epoch(&self, epoch: u32) {
        self.wait(&format!("epoch {epoch}"), || {
            let (now, done) = self.epoch();
            now >= epoch && done
        });
    }

    fn wait(&self, what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        while !ok() {
            assert!(
                Instant::now() < deadline,
                "{what} did not happen within {} s\n{}",
                WAIT.as_secs(),
                devnet_support::logs(self.path())
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn wallet(&self) -> floe_chain::sui_sdk_types::Address {
        self.manifest()["wallet_address"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// The price `quorum_below` of the committee's votes gives, computed
    /// here from the pools and the shard counts.
    fn expected_prices(&self) -> (u64, u64) {
        self.block(async {
            let state = self.chain.staking_state().await.unwrap();
            let mut storage = Vec::new();
            let mut write = Vec::new();
            for e in &state.committee.pos0.contents {
                let pool = self.chain.pool(e.key).await.unwrap();
                let w = e.value.len() as u32;
                storage.push((pool.voting_params.storage_price, w));
                write.push((pool.voting_params.write_price, w));
            }
            let n = u32::from(state.n_shards);
            (quorum_below(storage, n), quorum_below(write, n))
        })
    }

    /// Stores `data` with `floe store` and checks that the wallet paid
    /// exactly the storage and write price of its encoded size at
    /// `prices`. Returns the blob id.
    fn store_paying(&self, data: &[u8], tag: &str, prices: (u64, u64)) -> String {
        let file = self.path().join(format!("blob-{tag}"));
        std::fs::write(&file, data).unwrap();
        let wallet = self.wallet();
        let before = self.block(self.chain.wal_balance(wallet)).unwrap();
        let v = self.client(&["store", file.to_str().unwrap(), "--yes", "--epochs", EPOCHS]);
        let after = self.block(self.chain.wal_balance(wallet)).unwrap();
        let blob = &v[0]["newlyCreated"]["blobObject"];
        let storage = &blob["storage"];
        let size = storage["storageSize"].as_u64().expect("storageSize");
        let epochs =
            storage["endEpoch"].as_u64().unwrap() - storage["startEpoch"].as_u64().unwrap();
        let units = size.div_ceil(1024 * 1024);
        assert_eq!(
            before - after,
            units * prices.0 * epochs + units * prices.1,
            "store of {tag} paid the voted prices {prices:?} for {units} units x {epochs} epochs: {v}"
        );
        assert!(blob["certifiedEpoch"].is_u64(), "{tag} certified: {v}");
        assert_eq!(v[0]["newlyCreated"]["cost"].as_u64(), Some(before - after));
        blob["blobId"].as_str().unwrap().to_owned()
    }

    fn health(&self, url: &str) -> Option<Value> {
        self.block(health_of(url))
    }

    fn metric(&self, url: &str, name: &str, filter: &[&str]) -> u64 {
        self.block(metric_of(url, name, filter))
    }

    fn read(&self, blob_id: &str) -> Vec<u8> {
        let out_file = self.path().join(format!("read-{blob_id}"));
        let _ = std::fs::remove_file(&out_file);
        self.client(&["read", blob_id, "--out", out_file.to_str().unwrap()]);
        std::fs::read(out_file).unwrap()
    }
}

/// The smallest vote that votes holding a quorum (`3w >= 2n + 1`) are at
/// or below, written independently of the contracts.
fn quorum_below(mut votes: Vec<(u64, u32)>, n_shards: u32) -> u64 {
    votes.sort();
    let mut weight = 0;
    for (vote, w) in votes {
        weight += w;
        if 3 * weight > 2 * n_shards {
            return vote;
        }
    }
    u64::MAX
}

/// Whether `pid` runs (a zombie waiting for its parent counts as gone).
fn alive(pid: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    !status.is_empty() && !status.contains("State:\tZ")
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// The node's health data.
async fn health_of(url: &str) -> Option<Value> {
    let body: Value = reqwest::get(format!("{url}/v1/health"))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    Some(body["success"]["data"].clone())
}

/// Sum of a Prometheus counter over the series whose labels contain every
/// `label=value` in `filter`.
async fn metric_of(url: &str, name: &str, filter: &[&str]) -> u64 {
    let text = match reqwest::get(format!("{url}/metrics")).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| filter.iter().all(|f| l.contains(f)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

const SLIVERS: &str = "route=\"/v1/blobs/{blob_id}/slivers/{pair}/{sliver_type}\"";

/// Pool snapshots of one node per epoch: (commission, rewards pool).
type Snapshots = Arc<Mutex<BTreeMap<u32, (u64, u64)>>>;

/// Records the pool of `node` at every epoch until `stop`.
fn record_pool(net_chain: Floe, node: ObjectId, stop: Arc<AtomicBool>) -> Snapshots {
    let seen: Snapshots = Arc::default();
    let out = seen.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        while !stop.load(Ordering::SeqCst) {
            let read = rt.block_on(async {
                let state = net_chain.staking_state().await.ok()?;
                let pool = net_chain.pool(node).await.ok()?;
                // The pool and the epoch must come from the same state.
                let again = net_chain.staking_state().await.ok()?;
                (again.epoch == state.epoch).then_some((
                    state.epoch,
                    pool.commission.value,
                    pool.rewards_pool.value,
                ))
            });
            if let Some((epoch, c, r)) = read {
                seen.lock().unwrap().insert(epoch, (c, r));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    out
}

#[test]
fn network_grows_and_shrinks_with_votes_addresses_and_commission() {
    // Changing a devnet needs one running there.
    let empty = tempfile::tempdir().unwrap();
    let out = floe()
        .args(["devnet", "add-node", "--data-dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("holds no devnet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let net = Net::start();
    net.wait_for_epoch(1);
    let out = net.try_devnet(&["remove-node", "node-9"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no running node called node-9"));

    // Price votes: 3 shards each of 12; a quorum is 9 shards, so the
    // price is the third smallest vote.
    let storage_votes = [100_000u64, 300_000, 200_000, 400_000];
    let write_votes = [50_000u64, 20_000, 40_000, 10_000];
    for i in 0..4 {
        let config = net.node_config(&format!("node-{i}"));
        net.node(
            &config,
            &[
                "update",
                "--storage-price",
                &storage_votes[i].to_string(),
                "--write-price",
                &write_votes[i].to_string(),
            ],
        );
    }
    let (voted_in, _) = net.epoch();
    net.wait_for_epoch(voted_in + 1);
    let prices = net.expected_prices();
    assert_eq!(prices, (300_000, 40_000));
    let on_chain = net.block(net.chain.prices()).unwrap();
    assert_eq!(
        (
            on_chain.storage_price_per_unit_size,
            on_chain.write_price_per_unit_size
        ),
        prices
    );
    let a_data = bytes(20_000, 1);
    let a = net.store_paying(&a_data, "a", prices);
    assert_eq!(net.read(&a), a_data);

    // Grow: a fifth node with 10% commission and its own price votes.
    let added = net.devnet(&[
        "add-node",
        "--commission-bps",
        "1000",
        "--storage-price",
        "150000",
        "--write-price",
        "5000",
    ]);
    assert_eq!(added["name"], "node-4", "{added}");
    let node4_id: ObjectId = added["node_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(net.manifest()["nodes"].as_array().unwrap().len(), 5);
    let node4_url = added["url"].as_str().unwrap().to_owned();
    let node4_config = net.node_config("node-4");
    let stop_recording = Arc::new(AtomicBool::new(false));
    let snapshots = record_pool(net.chain.clone(), node4_id, stop_recording.clone());
    // It joins at an epoch change and fills its shards from their previous
    // holders.
    net.wait("node-4 owning synced shards", || {
        match net.health(&node4_url) {
            Some(h) => {
                h["ownedShards"].as_array().is_some_and(|s| !s.is_empty())
                    && h["syncingShards"].as_array().is_some_and(|s| s.is_empty())
                    && net.epoch().1
            }
            None => false,
        }
    });
    assert!(
        net.metric(
            &node4_url,
            "floe_node_sync_slivers_total",
            &["source=\"holder\""]
        ) > 0,
        "node-4 synced its shards from their holders"
    );
    let info = net.node(&node4_config, &["info"]);
    assert!(!info["shards"].as_array().unwrap().is_empty(), "{info}");
    let members = net.client(&["info"])["system"]["committee"].clone();
    assert_eq!(members.as_array().unwrap().len(), 5, "{members}");
    assert_eq!(net.read(&a), a_data, "a blob stored before the growth");
    let prices5 = net.expected_prices();
    let b_data = bytes(30_000, 2);
    let b = net.store_paying(&b_data, "b", prices5);
    assert_eq!(net.read(&b), b_data);

    // Address change: node-4 moves to a new port, on chain first, then in
    // its config (restarted there by hand: the old port is closed).
    let new_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let new_address = format!("127.0.0.1:{new_port}");
    net.node(
        &node4_config,
        &["update", "--network-address", &new_address],
    );
    let text = std::fs::read_to_string(&node4_config).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("listen") {
                format!("listen = \"{new_address}\"\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&node4_config, text).unwrap();
    let old_pid = devnet_support::pid_of(&net.manifest(), "node-4");
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &old_pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    net.wait("the old node-4 gone", || !alive(old_pid));
    let moved = running(
        floe()
            .args(["node", "run", "--config"])
            .arg(&node4_config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let node4_new = format!("http://{new_address}");
    net.wait("node-4 on its new port", || {
        net.health(&node4_new).is_some()
    });
    let info = net.node(&node4_config, &["info"]);
    assert_eq!(info["network_address"], new_address.as_str());
    // The running daemon (started with the devnet) stores a blob: node-4
    // receives its slivers and is asked for its confirmation at the new
    // address.
    let (now, _) = net.epoch();
    net.wait_for_epoch(now + 1);
    let daemon = net.manifest()["daemon_url"].as_str().unwrap().to_owned();
    let c_data = bytes(25_000, 3);
    let stored: Value = net.block(async {
        reqwest::Client::new()
            .put(format!("{daemon}/v1/blobs?epochs={EPOCHS}"))
            .body(c_data.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let c = stored["newlyCreated"]["blobObject"]["blobId"]
        .as_str()
        .unwrap_or_else(|| panic!("daemon store: {stored}"))
        .to_owned();
    net.wait("the daemon's upload to node-4 at its new address", || {
        net.metric(
            &node4_new,
            "floe_node_http_requests_total",
            &[SLIVERS, "status=\"201\""],
        ) + net.metric(
            &node4_new,
            "floe_node_http_requests_total",
            &[SLIVERS, "status=\"202\""],
        ) > 0
    });
    assert_eq!(net.read(&c), c_data);

    // Commission: wait until some is collectable (earned before the last
    // voting end), then collect it through the CLI.
    net.wait("collectable commission for node-4", || {
        let snaps = snapshots.lock().unwrap();
        let earned = snaps.values().last().map_or(0, |(c, _)| *c);
        drop(snaps);
        let state = net.block(net.chain.staking_state()).unwrap();
        earned > 0 && matches!(state.epoch_state, EpochState::NextParamsSelected(_))
    });
    stop_recording.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(500));
    let snaps = snapshots.lock().unwrap().clone();
    let (epoch_before, _) = net.epoch();
    let pool_before = net.block(net.chain.pool(node4_id)).unwrap();
    let collected = net.node(&node4_config, &["collect-commission"])["collected_frost"]
        .as_u64()
        .unwrap();
    let pool_after = net.block(net.chain.pool(node4_id)).unwrap();
    assert_eq!(
        net.epoch().0,
        epoch_before,
        "no epoch change during collection"
    );
    assert_eq!(
        snaps.keys().last().copied(),
        Some(epoch_before),
        "snapshots up to now: {snaps:?}"
    );
    // Every epoch's commission is the reward x 1000 / 10_000 (floored),
    // the reward being what the pool received (commission + rewards).
    let mut total = 0;
    let mut prev = (0u64, 0u64);
    let mut epochs_with_rewards = 0;
    let first = *snaps.keys().next().unwrap();
    for (epoch, (c, r)) in &snaps {
        if *epoch > first {
            assert!(
                snaps.contains_key(&(epoch - 1)),
                "an epoch was missed: {snaps:?}"
            );
        }
        let (dc, dr) = (c - prev.0, r - prev.1);
        assert_eq!(dc, (dc + dr) * 1000 / 10_000, "epoch {epoch}: {snaps:?}");
        epochs_with_rewards += usize::from(dc + dr > 0);
        total += dc;
        prev = (*c, *r);
    }
    assert!(epochs_with_rewards >= 1, "{snaps:?}");
    assert_eq!(total, pool_before.commission.value);
    assert!(collected > 0, "some commission was collectable");
    assert_eq!(collected + pool_after.commission.value, total);

    // Shrink: node-4's stake is withdrawn; the genesis nodes fetch its
    // shards from it at its new address, then it is stopped.
    let genesis_urls: Vec<String> = net.manifest()["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["name"] != "node-4")
        .map(|n| n["url"].as_str().unwrap().to_owned())
        .collect();
    let holder_sync = || -> u64 {
        genesis_urls
            .iter()
            .map(|u| net.metric(u, "floe_node_sync_slivers_total", &["source=\"holder\""]))
            .sum()
    };
    let synced_before = holder_sync();
    let served_before = net.metric(
        &node4_new,
        "floe_node_http_requests_total",
        &[SLIVERS, "status=\"200\""],
    );
    let removed = net.devnet(&["remove-node", "node-4"]);
    assert_eq!(removed["name"], "node-4", "{removed}");
    assert!(
        removed["withdrawn_frost"].as_u64().unwrap() > 0,
        "{removed}"
    );
    assert!(
        holder_sync() > synced_before,
        "the genesis nodes synced node-4's shards from it"
    );
    assert!(
        net.metric(
            &node4_new,
            "floe_node_http_requests_total",
            &[SLIVERS, "status=\"200\""]
        ) > served_before,
        "node-4 served its slivers at its new address"
    );
    drop(moved);
    let m = net.manifest();
    assert_eq!(m["nodes"].as_array().unwrap().len(), 4);
    assert_eq!(m["removed_nodes"][0]["name"], "node-4");
    let info = net.node(&node4_config, &["info"]);
    assert!(info["shards"].as_array().unwrap().is_empty(), "{info}");
    let members = net.client(&["info"])["system"]["committee"].clone();
    assert_eq!(members.as_array().unwrap().len(), 4, "{members}");
    for (id, data) in [(&a, &a_data), (&b, &b_data), (&c, &c_data)] {
        assert_eq!(&net.read(id), data, "{id} after the shrink");
    }
    let prices4 = net.expected_prices();
    let d_data = bytes(15_000, 4);
    let d = net.store_paying(&d_data, "d", prices4);
    assert_eq!(net.read(&d), d_data);

    // Restarted, the devnet runs the nodes it has now: not the removed one
    // (whose directory is kept).
    assert!(node4_config.is_file());
    net.process.sigterm();
    let mut net = net;
    assert!(net.process.child.wait().unwrap().success());
    let (process, _) = devnet_support::start(net.path(), &[]);
    net.process = process;
    let m = net.manifest();
    let mut names: Vec<&str> = m["pids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str().filter(|n| n.starts_with("node-")))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["node-0", "node-1", "node-2", "node-3"], "{m}");
    assert_eq!(net.read(&d), d_data);
}
