//! The chain, the coordinator's reconciliation and the indexer agree on
//! every FROST paid, while a node joins (slow: one devnet with an indexer,
//! 6 s epochs, about a minute).
//!
//! A devnet with the indexer stores blobs of varied sizes and lengths,
//! then `floe devnet add-node` registers and stakes a fifth node, which
//! joins the committee at an epoch change and is paid at the next. For
//! every epoch the coordinator reconciled (`floe payments --json`: what
//! the contracts should have paid, checked against what the pools received,
//! to the FROST), the indexer's `/v1/epochs/{n}/rewards` must give the
//! same bucket, burn, carry-over and, node by node, the same reward,
//! commission and stakers' part, each from its own reading of the chain.

use floe_testkit::devnet as devnet_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use devnet_support::{Running, floe, get_json as get};
use serde_json::Value;

struct Net {
    _process: Running,
    dir: tempfile::TempDir,
}

impl Net {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn output(&self, args: &[&str]) -> Output {
        floe()
            .arg("--json")
            .args(args)
            .arg("--config")
            .arg(self.path().join("client.yaml"))
            .stdin(Stdio::null())
            .output()
            .expect("run floe")
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "floe {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            devnet_support::logs(self.path())
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    fn store(&self, len: usize, seed: u8, epochs: u32) {
        let data: Vec<u8> = (0..len)
            .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
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
        assert!(v[0]["newlyCreated"].is_object(), "{v}");
    }

    fn payments(&self, coordinator: &str) -> Vec<Value> {
        let out = floe()
            .args(["--json", "payments", "--coordinator", coordinator])
            .output()
            .expect("floe payments");
        assert!(
            out.status.success(),
            "floe payments: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("payments JSON");
        v["epochs"].as_array().cloned().unwrap_or_default()
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an amount: {v}"))
}

#[test]
fn indexer_and_reconciliation_agree_to_the_frost_while_a_node_joins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (process, _ready) = devnet_support::start(
        dir.path(),
        &["--nodes", "4", "--shards", "12", "--epoch-duration", "6s"],
    );
    let net = Net {
        _process: process,
        dir,
    };
    let manifest = devnet_support::manifest(net.path());
    let coordinator = manifest["coordinator_url"].as_str().unwrap().to_owned();
    let indexer = manifest["indexer_url"]
        .as_str()
        .expect("the devnet runs the indexer (PostgreSQL is installed)")
        .trim_end_matches('/')
        .to_owned();

    net.store(30_000, 1, 3);
    net.store(200_000, 2, 6);
    net.store(1_000, 3, 1);

    // A fifth node joins: registered, staked from the wallet (by default
    // the committee's average stake, active from epoch 1 on).
    let deadline = Instant::now() + Duration::from_secs(120);
    while net.json(&["info"])["system"]["epoch"].as_u64() < Some(1) {
        assert!(Instant::now() < deadline, "epoch 1 did not come");
        std::thread::sleep(Duration::from_millis(500));
    }
    let out = floe()
        .args(["--json", "devnet", "add-node", "--commission-bps", "500"])
        .arg("--data-dir")
        .arg(net.path())
        .output()
        .expect("floe devnet add-node");
    assert!(
        out.status.success(),
        "add-node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let added: Value = serde_json::from_slice(&out.stdout).expect("add-node JSON");
    let new_id = added["node_id"]
        .as_str()
        .unwrap_or_else(|| panic!("node id in {added}"))
        .to_owned();
    net.store(70_000, 4, 2);

    // Wait until the coordinator reconciled an epoch that paid the new
    // node, and the indexer has every reconciled epoch.
    let deadline = Instant::now() + Duration::from_secs(240);
    let (epochs, indexed) = loop {
        let epochs = net.payments(&coordinator);
        let paid_new = epochs.iter().any(|e| {
            e["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["node_id"] == new_id.as_str() && u(&n["reward"]) > 0)
        });
        let indexed: BTreeMap<u64, Value> = epochs
            .iter()
            .filter_map(|e| {
                let n = u(&e["epoch"]);
                get(&format!("{indexer}/v1/epochs/{n}/rewards?limit=1000")).map(|v| (n, v))
            })
            .collect();
        if paid_new && indexed.len() == epochs.len() {
            break (epochs, indexed);
        }
        assert!(
            Instant::now() < deadline,
            "no reconciled and indexed epoch paid the new node {new_id}: {epochs:#?}\n{}",
            devnet_support::logs(net.path())
        );
        std::thread::sleep(Duration::from_secs(1));
    };

    assert!(epochs.len() >= 3, "several epochs ended: {epochs:#?}");
    for e in &epochs {
        let n = u(&e["epoch"]);
        assert_eq!(e["ok"], true, "the coordinator reconciled epoch {n}: {e:#}");
        let ix = &indexed[&n];
        let ix = if ix["data"].is_object() {
            &ix["data"]
        } else {
            ix
        };
        assert_eq!(u(&ix["bucket"]), u(&e["bucket"]), "epoch {n} bucket");
        assert_eq!(u(&ix["burnt"]), u(&e["burn_observed"]), "epoch {n} burn");
        assert_eq!(
            u(&ix["carried_over"]),
            u(&e["carry_over_observed"]),
            "epoch {n} carry-over"
        );
        let ours: BTreeMap<String, &Value> = e["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["node_id"].as_str().unwrap().to_owned(), l))
            .collect();
        let theirs: BTreeMap<String, &Value> = ix["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("nodes of epoch {n} in {ix}"))
            .iter()
            .map(|l| (l["node_id"].as_str().unwrap().to_owned(), l))
            .collect();
        let paid: Vec<&String> = ours.keys().filter(|k| u(&ours[*k]["reward"]) > 0).collect();
        for id in paid {
            let (c, i) = (
                ours[id],
                theirs.get(id).unwrap_or_else(|| {
                    panic!("epoch {n}: node {id} paid by the contracts but not in the index: {ix}")
                }),
            );
            assert_eq!(
                u(&i["reward"]),
                u(&c["reward"]),
                "epoch {n} node {id} reward"
            );
            assert_eq!(
                u(&i["commission"]),
                u(&c["commission"]),
                "epoch {n} node {id} commission"
            );
            assert_eq!(
                u(&i["stakers"]),
                u(&c["staker_reward"]),
                "epoch {n} node {id} stakers' part"
            );
        }
        let distributed: u64 = ours.values().map(|l| u(&l["reward"])).sum();
        assert_eq!(u(&ix["distributed"]), distributed, "epoch {n} distributed");
    }
}
