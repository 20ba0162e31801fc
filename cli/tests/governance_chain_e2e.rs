//! Upgrade and slashing votes and subsidies on a devnet, with `floe`
//! commands run against each node's own config (its operator key governs
//! it) and the wallet's client config: in one epoch nodes 0-2 (9 of 12
//! shards, a quorum) pass a base subsidy, vote an upgrade to a quorum,
//! which `authorize-upgrade` authorizes on chain, and the wallet funds the
//! subsidies pool with `floe subsidies fund`. After the epoch change the
//! coordinator pays the subsidies in a transaction of its own: each node's
//! commission grows by the base subsidy and the pool falls by exactly the
//! sum. Then nodes 0-2 vote to slash node 3 and `floe governance slash`
//! burns exactly its commission (the WAL supply falls by it).
//!
//! Slow suite: about a minute, since epochs pass in real time.

use floe_testkit::devnet as devnet_support;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use devnet_support::{Running, floe, get_json as get, manifest};
use floe_chain::floe::Floe;
use floe_core::move_types::ObjectId;
use serde_json::Value;

const EPOCH: &str = "20s";
const WAL: u64 = 1_000_000_000;
const BASE_SUBSIDY: u64 = WAL;

struct Devnet {
    _process: Running,
    dir: tempfile::TempDir,
}

impl Devnet {
    fn client_config(&self) -> PathBuf {
        self.dir.path().join("client.yaml")
    }

    fn node_config(&self, i: usize) -> PathBuf {
        PathBuf::from(
            manifest(self.dir.path())["nodes"][i]["config"]
                .as_str()
                .expect("node config"),
        )
    }

    fn run(&self, args: &[&str]) -> Value {
        let out = floe()
            .arg("--json")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run floe");
        ok(&out, &self.dir)
    }

    /// `floe ARGS --config <client.yaml>` (the wallet).
    fn as_wallet(&self, args: &[&str]) -> Value {
        let config = self.client_config();
        let mut all = args.to_vec();
        all.extend_from_slice(&["--config", config.to_str().unwrap()]);
        self.run(&all)
    }

    /// `floe governance ARGS --config <node i's config>`.
    fn as_node(&self, i: usize, args: &[&str]) -> Value {
        let config = self.node_config(i);
        let mut all = vec!["governance"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", config.to_str().unwrap()]);
        self.run(&all)
    }

    fn info(&self) -> Value {
        self.as_wallet(&["info"])["system"].clone()
    }

    fn wait_for_epoch(&self, epoch: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let system = self.info();
            if system["epoch"].as_u64() >= Some(epoch) && system["epochState"] == "EpochChangeDone"
            {
                return system;
            }
            assert!(
                Instant::now() < deadline,
                "epoch {epoch} did not come in time; last info {system}\n{}",
                devnet_support::logs(self.dir.path())
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    async fn client(&self) -> floe_client::Client {
        let config = floe_client::ClientConfig::load(&self.client_config()).expect("client config");
        floe_client::Client::connect(config).await.expect("connect")
    }
}

fn ok(out: &Output, dir: &tempfile::TempDir) -> Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        devnet_support::logs(dir.path())
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

async fn commissions(floe: &Floe, nodes: &[ObjectId]) -> Vec<u64> {
    let mut out = Vec::new();
    for n in nodes {
        out.push(floe.pool(*n).await.expect("pool").commission.value);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn upgrade_slashing_and_subsidies_by_floe_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (process, _ready) = devnet_support::start(
        dir.path(),
        &["--nodes", "4", "--shards", "12", "--epoch-duration", EPOCH],
    );
    let net = Devnet {
        _process: process,
        dir,
    };
    let start = net.wait_for_epoch(1);
    let epoch = start["epoch"].as_u64().expect("epoch");
    let client = net.client().await;
    let floe = client.floe();
    let gov = floe.governance_ids().await.expect("governance objects");
    let members = floe.committee().await.expect("committee");
    let nodes: Vec<ObjectId> = members.members().iter().map(|m| m.node_id).collect();

    // A base subsidy by quorum (3 shards each: 9 of 12).
    let proposed = net.as_node(0, &["propose", "base-subsidy", &BASE_SUBSIDY.to_string()]);
    let id = proposed["id"].as_u64().expect("id").to_string();
    net.as_node(1, &["vote", &id, "--for"]);
    let passed = net.as_node(2, &["vote", &id, "--for"]);
    assert_eq!(passed["proposal"]["status"], "passed", "{passed}");

    // An upgrade by quorum, authorized on chain.
    let digest = "ab".repeat(32);
    for i in 0..3 {
        let voted = net.as_node(i, &["vote", "--upgrade", &digest]);
        assert_eq!(voted["proposal"]["voting_weight"], 3 * (i as u64 + 1));
    }
    let listed = net.as_wallet(&["governance", "list"]);
    let upgrade = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["kind"] == "upgrade")
        .expect("the upgrade proposal is listed")
        .clone();
    assert_eq!(upgrade["status"], "quorum", "{listed}");
    assert_eq!(upgrade["id"], format!("upgrade-{epoch}-{digest}"));
    let shown = net.as_wallet(&["governance", "show", upgrade["id"].as_str().unwrap()]);
    assert_eq!(shown["voters"].as_array().map(Vec::len), Some(3));
    let authorized = net.as_wallet(&["governance", "authorize-upgrade", &digest]);
    assert_eq!(authorized["version"], 2, "{authorized}");
    assert_eq!(authorized["epoch"].as_u64(), Some(epoch));
    let cap = floe.upgrade_cap_status(&gov).await.expect("cap");
    assert_eq!(
        (cap.package, cap.version),
        (None, 1),
        "the cap waits for the upgrade"
    );

    // The pool, funded from the wallet.
    let funded = net.as_wallet(&["subsidies", "fund", "10"]);
    assert_eq!(funded["funded"], 10 * WAL, "{funded}");
    let pool_before = funded["pool_balance"].as_u64().expect("balance");
    let before = commissions(floe, &nodes).await;
    assert_eq!(
        net.info()["epoch"].as_u64(),
        Some(epoch),
        "the votes took longer than the epoch; nothing above is valid"
    );

    // After the epoch change the coordinator pays, in its own transaction.
    net.wait_for_epoch(epoch + 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    let info = loop {
        let info = net.as_wallet(&["subsidies", "info"]);
        if info["last_paid_epoch"].as_u64() == Some(epoch + 1) {
            break info;
        }
        assert!(
            Instant::now() < deadline,
            "the coordinator did not pay: {info}\n{}",
            devnet_support::logs(net.dir.path())
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(info["base_subsidy"], BASE_SUBSIDY);
    let after = commissions(floe, &nodes).await;
    let paid: u64 = after.iter().zip(&before).map(|(a, b)| a - b).sum();
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(
            a - b,
            BASE_SUBSIDY,
            "each committee node gets the base subsidy"
        );
    }
    let pool_after = info["pool_balance"].as_u64().expect("balance");
    assert_eq!(
        pool_before - pool_after,
        paid,
        "paid to the FROST of what the pool lost"
    );

    // Slashing node 3 by quorum burns exactly its commission.
    let candidate = nodes[3].to_string();
    for i in 0..3 {
        net.as_node(i, &["vote", "--slash", &candidate]);
    }
    let commission = floe.pool(nodes[3]).await.expect("pool").commission.value;
    assert!(commission >= BASE_SUBSIDY);
    let wallet = client.wallet().expect("wallet").address();
    let supply = floe.wal_total_supply(wallet).await.expect("supply");
    let slashed = net.as_wallet(&["governance", "slash", &candidate]);
    assert_eq!(slashed["burnt"], commission, "{slashed}");
    assert_eq!(floe.pool(nodes[3]).await.expect("pool").commission.value, 0);
    assert_eq!(
        floe.wal_total_supply(wallet).await.expect("supply"),
        supply - commission
    );

    // The indexer saw all of it: the authorized upgrade, the executed
    // slashing with its three votes, and the subsidies to the FROST.
    let indexer = manifest(net.dir.path())["indexer_url"]
        .as_str()
        .expect("the devnet runs the indexer (PostgreSQL is installed)")
        .trim_end_matches('/')
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let upgrade = get(&format!(
            "{indexer}/v1/governance?kind=upgrade&status=authorized"
        ));
        let slashing = get(&format!(
            "{indexer}/v1/governance?kind=slashing&status=executed"
        ));
        let subsidies = get(&format!("{indexer}/v1/subsidies?kind=node&limit=1000"));
        let upgrade_id = upgrade.as_ref().and_then(|v| {
            v["data"]
                .as_array()?
                .iter()
                .find(|p| {
                    p["proposal_id"]
                        .as_str()
                        .is_some_and(|id| id.ends_with(&digest))
                })
                .map(|p| p["proposal_id"].as_str().unwrap_or_default().to_owned())
        });
        let slashing_id = slashing.as_ref().and_then(|v| {
            v["data"]
                .as_array()?
                .first()
                .and_then(|p| p["proposal_id"].as_str())
                .map(str::to_owned)
        });
        let indexed_paid: Option<u64> = subsidies.as_ref().and_then(|v| {
            v["data"]
                .as_array()?
                .iter()
                .map(|row| number(&row["amount"]))
                .sum()
        });
        if let (Some(upgrade_id), Some(slashing_id), Some(indexed_paid)) =
            (upgrade_id, slashing_id, indexed_paid)
            && indexed_paid == paid
        {
            assert!(
                upgrade_id.starts_with(&format!("upgrade-{epoch}-")),
                "{upgrade_id}"
            );
            let upgrade = get(&format!("{indexer}/v1/governance/{upgrade_id}")).expect("upgrade");
            assert_eq!(
                upgrade["data"]["votes"].as_array().map(Vec::len),
                Some(3),
                "{upgrade}"
            );
            let slashing =
                get(&format!("{indexer}/v1/governance/{slashing_id}")).expect("slashing");
            assert_eq!(
                slashing["data"]["votes"].as_array().map(Vec::len),
                Some(3),
                "{slashing}"
            );
            assert!(
                slashing_id.ends_with(&candidate),
                "{slashing_id} names the candidate"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the indexer did not show the upgrade, the slashing and {paid} FROST of subsidies"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A JSON number, or a decimal string (the API's form of wide integers).
fn number(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}
