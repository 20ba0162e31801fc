//! Epochs on a devnet this test starts with `--epoch-duration 6s`: the
//! coordinator ends epoch 0 at its scheduled time, selects the next
//! committee and starts the change; the nodes report sync done and the
//! epoch advances again and again. Across the changes: a blob bought for
//! one epoch expires (status and read say so) while a longer one stays
//! readable; a new blob is stored and certified by the new epoch's
//! committee; WAL staked with `floe stake` shows in `list-staked-wal`, is
//! withdrawn after `request-withdraw-stake` once its epoch comes, and
//! returns at least its principal. The coordinator is killed with -9 on
//! the way and a new one started from its config: epochs go on.
//!
//! A second test reads a blob while an epoch change is stuck moving
//! shards, with the new holder of the moved shards down: only the
//! client's fallback to the previous holders can serve it.
//!
//! Slow suite (for its size): about 20 s each, since epochs must pass in
//! real time.

use floe_testkit::devnet as devnet_support;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use devnet_support::{Running, floe, running};
use serde_json::Value;

struct Devnet {
    _process: Running,
    dir: tempfile::TempDir,
}

impl Devnet {
    /// A devnet of 4 nodes and 12 shards (3 each) with epochs of
    /// `epoch_duration`, and its ready line.
    fn start(epoch_duration: &str) -> (Devnet, Value) {
        let dir = tempfile::tempdir().expect("temp dir");
        let (process, ready) = devnet_support::start(
            dir.path(),
            &[
                "--no-indexer",
                "--nodes",
                "4",
                "--shards",
                "12",
                "--epoch-duration",
                epoch_duration,
            ],
        );
        let net = Devnet {
            _process: process,
            dir,
        };
        (net, ready)
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("client.yaml")
    }

    fn try_run(&self, args: &[&str]) -> Output {
        floe()
            .arg("--json")
            .args(args)
            .arg("--config")
            .arg(self.config())
            .stdin(Stdio::null())
            .output()
            .expect("run floe")
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.try_run(args);
        assert!(
            out.status.success(),
            "floe {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            devnet_support::logs(self.dir.path())
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    fn epoch(&self) -> u64 {
        self.json(&["info"])["system"]["epoch"]
            .as_u64()
            .expect("epoch")
    }

    /// Waits until the epoch is at least `epoch` and its change is done.
    fn wait_for_epoch(&self, epoch: u64) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let info = self.json(&["info"]);
            let system = &info["system"];
            if system["epoch"].as_u64() >= Some(epoch) && system["epochState"] != "EpochChangeSync"
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "epoch {epoch} did not come within 120 s; last info {info}\n{}",
                devnet_support::logs(self.dir.path())
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn store(&self, data: &[u8], epochs: &str) -> String {
        let file = self
            .dir
            .path()
            .join(format!("blob-{}-{epochs}", data.len()));
        std::fs::write(&file, data).unwrap();
        let v = self.json(&["store", file.to_str().unwrap(), "--yes", "--epochs", epochs]);
        v[0]["newlyCreated"]["blobObject"]["blobId"]
            .as_str()
            .unwrap_or_else(|| panic!("store answer {v}"))
            .to_owned()
    }

    fn read(&self, blob_id: &str) -> Result<Vec<u8>, String> {
        let out_file = self.dir.path().join(format!("read-{blob_id}"));
        let out = self.try_run(&["read", blob_id, "--out", out_file.to_str().unwrap()]);
        if out.status.success() {
            Ok(std::fs::read(out_file).unwrap())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn epochs_advance_blobs_expire_and_stake_round_trips() {
    let (net, ready) = Devnet::start("6s");
    assert_eq!(ready["epoch_duration_ms"], 6000, "{ready}");

    // Epoch 0: the devnet staked with every node; buy one blob for one
    // epoch and one for thirty.
    let info = net.json(&["info"]);
    assert_eq!(info["system"]["epochDurationMs"], 6000, "{info}");
    let start_epoch = info["system"]["epoch"].as_u64().unwrap();
    let short = bytes(5000, 1);
    let long = bytes(70_000, 2);
    let short_id = net.store(&short, "1");
    let long_id = net.store(&long, "30");
    let stored_in = net.epoch();

    // Each member's pool carries its address as Walrus stores it,
    // `host:port`; the client config has the devnet's `http` URL for it.
    for member in info["system"]["committee"].as_array().unwrap() {
        let address = member["networkAddress"].as_str().unwrap();
        assert!(!address.contains("://"), "{member}");
        let url = member["url"].as_str().unwrap().trim_end_matches('/');
        assert_eq!(url, format!("http://{address}"), "{member}");
    }

    // Stake 500 WAL with the first committee member.
    let node_id = info["system"]["committee"][0]["nodeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let staked = net.json(&["stake", "--node-id", &node_id, "--amount", "500", "--yes"]);
    assert_eq!(staked["principal"], 500_000_000_000u64, "{staked}");
    assert_eq!(staked["state"], "staked");
    let staked_id = staked["id"].as_str().unwrap().to_owned();
    let listed = net.json(&["list-staked-wal"]);
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == staked_id.as_str())
        .unwrap_or_else(|| panic!("{staked_id} not listed in {listed}"));
    assert_eq!(mine["nodeId"], node_id.as_str());
    // The pool's name is the devnet's name of the node with that key.
    let (name, _) = member_process(&net, &info, 0);
    assert_eq!(mine["nodeName"], name.as_str());
    // The devnet's own stake with each of the four nodes is listed too.
    assert_eq!(listed.as_array().unwrap().len(), 5, "{listed}");

    // The coordinator and the nodes move the network past the short blob's
    // end epoch.
    net.wait_for_epoch(stored_in + 1);
    assert!(net.epoch() > start_epoch);
    let err = net
        .read(&short_id)
        .expect_err("an expired blob is not readable");
    assert!(
        err.contains("not found") || err.contains("expired"),
        "read of the expired blob: {err}"
    );
    assert_eq!(net.read(&long_id).expect("long blob"), long);

    // The new epoch's committee certifies new blobs.
    let fresh = bytes(33_333, 3);
    let fresh_id = net.store(&fresh, "30");
    assert_eq!(net.read(&fresh_id).expect("fresh blob"), fresh);

    // The coordinator keeps no state: kill -9 it and start another from
    // the same config; epochs go on.
    kill_9(devnet_support::pid_of(
        &devnet_support::manifest(net.dir.path()),
        "coordinator",
    ));
    let config = net.dir.path().join("coordinator").join("coordinator.toml");
    let _replacement = running(
        floe()
            .args(["coordinator", "run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a coordinator"),
    );
    let now = net.epoch();
    net.wait_for_epoch(now + 1);

    // Withdraw the stake: request, wait for its epoch, withdraw.
    let requested = net.json(&["request-withdraw-stake", "--staked-wal-id", &staked_id]);
    assert_eq!(requested["state"], "withdrawing", "{requested}");
    let withdraw_epoch = requested["withdrawEpoch"].as_u64().unwrap();
    net.wait_for_epoch(withdraw_epoch);
    let before = net.json(&["wallet", "balance"])["wal"].as_u64().unwrap();
    let withdrawn = net.json(&["withdraw-stake", "--staked-wal-id", &staked_id]);
    let amount = withdrawn["withdrawn"].as_u64().unwrap();
    assert!(amount >= 500_000_000_000, "{withdrawn}");
    let after = net.json(&["wallet", "balance"])["wal"].as_u64().unwrap();
    assert_eq!(after, before + amount);
    let listed = net.json(&["list-staked-wal"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != staked_id.as_str()),
        "{listed}"
    );

    // Still readable after all these changes.
    assert_eq!(net.read(&long_id).expect("long blob"), long);
    assert_eq!(net.read(&fresh_id).expect("fresh blob"), fresh);
}

/// The devnet name and pid of the committee member at `index` of `info`.
fn member_process(net: &Devnet, info: &Value, index: usize) -> (String, i32) {
    let key = info["system"]["committee"][index]["publicKey"]
        .as_str()
        .unwrap()
        .trim_start_matches("0x")
        .to_owned();
    let manifest = devnet_support::manifest(net.dir.path());
    let name = manifest["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["public_key"] == key.as_str())
        .unwrap_or_else(|| panic!("no node with key {key}"))["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let pid = devnet_support::pid_of(&manifest, &name);
    (name, pid)
}

fn kill_9(pid: i32) {
    devnet_support::signal(pid, "-9");
}

/// Reads while an epoch change is stuck moving shards: 12 shards, 3 per
/// node; a large stake makes node X grow to 6 shards (one from each other
/// node), and X is killed before the change starts, so the change cannot
/// reach its quorum and stays in `EpochChangeSync`. Node A is then killed
/// too. Of the 6 primary slivers a read needs (n - 2f = 6), the live
/// current owners B and C hold only 4; the 2 others are on shards X gained
/// from B and C, which B and C held in the previous committee and still
/// serve. So the read succeeds only through the client's fallback to a
/// shard's previous holder.
#[test]
fn reads_fall_back_to_previous_holders_during_an_epoch_change() {
    let (net, _ready) = Devnet::start("10s");
    let data = bytes(200_000, 9);
    let blob_id = net.store(&data, "30");
    let info = net.json(&["info"]);
    let (x_name, x_pid) = member_process(&net, &info, 0);
    let (a_name, a_pid) = member_process(&net, &info, 1);
    let x_id = info["system"]["committee"][0]["nodeId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Epoch 0 ends with both steps at once (voting_end and the change are
    // both due at `first_epoch_start`); from epoch 1 on, the next
    // committee is selected half-way, which leaves time to act.
    net.wait_for_epoch(1);
    // 3M WAL staked per node at start; 6M more makes X half of all stake.
    let staked = net.json(&["stake", "--node-id", &x_id, "--amount", "6000000", "--yes"]);
    let activation = staked["activationEpoch"].as_u64().unwrap();

    // The committee of the activation epoch (X at 6 shards) is selected
    // in the epoch before it; kill X then, before the change starts.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let info = net.json(&["info"]);
        let system = &info["system"];
        if system["epochState"] == "NextParamsSelected"
            && system["epoch"].as_u64() == Some(activation - 1)
        {
            break;
        }
        assert!(
            system["epoch"].as_u64() < Some(activation),
            "missed the selection before epoch {activation}: {info}"
        );
        assert!(Instant::now() < deadline, "no committee selected: {info}");
        std::thread::sleep(Duration::from_millis(100));
    }
    kill_9(x_pid);
    let deadline = Instant::now() + Duration::from_secs(120);
    let stuck = loop {
        let info = net.json(&["info"]);
        if info["system"]["epochState"] == "EpochChangeSync" {
            break info;
        }
        assert!(
            Instant::now() < deadline,
            "the change did not start: {info}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let x_shards = stuck["system"]["committee"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["nodeId"] == x_id.as_str())
        .unwrap_or_else(|| panic!("X left the committee: {stuck}"))["shards"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(x_shards, 6, "X's shards in the new committee: {stuck}");
    kill_9(a_pid);
    let read = net.read(&blob_id).unwrap_or_else(|e| {
        panic!(
            "read with {x_name} and {a_name} down during the change: {e}\n{}",
            devnet_support::logs(net.dir.path())
        )
    });
    assert_eq!(read, data);
    // Still stuck: the read did not come from a finished change.
    assert_eq!(
        net.json(&["info"])["system"]["epochState"],
        "EpochChangeSync"
    );
}
