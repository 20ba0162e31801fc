//! Parameter governance on a devnet, with `floe governance` commands run
//! against each node's own config (its operator key governs it): at the
//! start of an epoch node 0 proposes 15 s epochs (the devnet runs 30 s
//! ones); a double vote and a vote by the wallet (no node's governance
//! authority) or for a node outside the committee are refused with their
//! aborts named; nodes 1 and 2 vote for, which is a quorum (9 of 12
//! shards); node 3 proposes a base subsidy nobody else supports. At the
//! epoch change the coordinator makes, the first applies (the new epoch is
//! 15 s long on chain, and epochs keep coming) and the second expires and
//! changes nothing.
//!
//! Slow suite: about a minute, since epochs pass in real time.

use floe_testkit::devnet as devnet_support;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use devnet_support::{Running, floe, manifest};
use floe_chain::floe::abort_of;
use floe_chain::floe::membership::AuthWith;
use floe_core::move_types::ObjectId;
use serde_json::Value;

const EPOCH: &str = "30s";
const SHORTER_MS: u64 = 15_000;

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

    fn try_run(&self, args: &[&str]) -> Output {
        floe()
            .arg("--json")
            .args(args)
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

    fn info(&self) -> Value {
        let config = self.client_config();
        self.json(&["info", "--config", config.to_str().unwrap()])["system"].clone()
    }

    /// Node `i` runs `floe governance ARGS --config <its node.toml>`.
    fn as_node(&self, i: usize, args: &[&str]) -> Output {
        let config = self.node_config(i);
        let mut all = vec!["governance"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", config.to_str().unwrap()]);
        self.try_run(&all)
    }

    fn list(&self) -> Value {
        let config = self.client_config();
        self.json(&["governance", "list", "--config", config.to_str().unwrap()])
    }

    /// Waits until the epoch is at least `epoch` and its change is done;
    /// returns `floe info`'s system section.
    fn wait_for_epoch(&self, epoch: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(150);
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

    /// The client (the devnet's wallet, which governs no node).
    async fn client(&self) -> floe_client::Client {
        let config = floe_client::ClientConfig::load(&self.client_config()).expect("client config");
        floe_client::Client::connect(config).await.expect("connect")
    }
}

fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn refused(out: &Output, abort: &str) {
    assert!(
        !out.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(abort), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quorum_shortens_epochs_and_a_minority_expires() {
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
            EPOCH,
        ],
    );
    let net = Devnet {
        _process: process,
        dir,
    };
    // Start right after an epoch change, so the whole epoch is left to vote.
    let start = net.wait_for_epoch(1);
    let epoch = start["epoch"].as_u64().expect("epoch");
    assert_eq!(start["epochDurationMs"], 30_000);

    // Node 0 proposes; its 3 shards count for at once.
    let proposed = ok(&net.as_node(0, &["propose", "epoch-duration", "15s"]));
    let id = proposed["id"].as_u64().expect("proposal id");
    let p = &proposed["proposal"];
    assert_eq!(p["parameter"], "epoch-duration");
    assert_eq!(p["value"], SHORTER_MS);
    assert_eq!(
        p["epoch"].as_u64(),
        Some(epoch),
        "proposed in another epoch"
    );
    assert_eq!(
        (p["votes_for"].as_u64(), p["quorum"].as_u64()),
        (Some(3), Some(9))
    );
    let id_text = id.to_string();

    // Refusals: a second vote by node 0; the wallet (no node's governance
    // authority); a node id outside the committee.
    refused(
        &net.as_node(0, &["vote", &id_text, "--for"]),
        "governance::EDuplicateVote",
    );
    let client = net.client().await;
    let floe = client.floe();
    let wallet = client.wallet().expect("wallet");
    let node0 = ObjectId(
        p["proposer"]
            .as_str()
            .expect("proposer")
            .parse::<floe_chain::sui_sdk_types::Address>()
            .expect("address")
            .into_inner(),
    );
    let tx = floe
        .vote_on_parameter_change(wallet, node0, AuthWith::Sender, id, true)
        .await
        .expect("executed");
    assert_eq!(
        abort_of(&tx),
        Some(("governance".to_owned(), 0)),
        "{}",
        tx.status
    );
    assert!(
        tx.status.to_string().contains("ENotAuthorized"),
        "{}",
        tx.status
    );
    let tx = floe
        .vote_on_parameter_change(wallet, ObjectId([7; 32]), AuthWith::Sender, id, true)
        .await
        .expect("executed");
    assert_eq!(
        abort_of(&tx),
        Some(("governance".to_owned(), 1)),
        "{}",
        tx.status
    );
    assert!(
        tx.status.to_string().contains("ENotInCommittee"),
        "{}",
        tx.status
    );

    // Nodes 1 and 2 for: 9 of 12 shards pass it.
    ok(&net.as_node(1, &["vote", &id_text, "--for"]));
    let voted = ok(&net.as_node(2, &["vote", &id_text, "--for"]));
    assert_eq!(voted["proposal"]["status"], "passed", "{voted}");
    assert_eq!(voted["proposal"]["votes_for"], 9);

    // Node 3's proposal gets no other vote.
    let minority = ok(&net.as_node(3, &["propose", "base-subsidy", "1000"]));
    let minority_id = minority["id"].as_u64().expect("id");
    let list = net.list();
    let listed: Vec<(u64, &str)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|p| (p["id"].as_u64().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, vec![(id, "passed"), (minority_id, "open")]);
    let still = net.info();
    assert_eq!(
        still["epoch"].as_u64(),
        Some(epoch),
        "the votes took longer than the epoch; nothing above is valid"
    );

    // The coordinator's epoch change applies the first and expires the
    // second.
    let next = net.wait_for_epoch(epoch + 1);
    assert_eq!(next["epochDurationMs"], SHORTER_MS);
    let start_ms = next["epochStartMs"].as_u64().expect("start");
    assert_eq!(
        next["nextEpochChangeMs"].as_u64(),
        Some(start_ms + SHORTER_MS)
    );
    assert_eq!(net.list(), serde_json::json!([]));
    let g = floe.governance().await.expect("read").expect("state");
    assert_eq!(g.base_subsidy, 0, "the expired proposal changed nothing");
    // Epochs go on at the new length.
    let after = net.wait_for_epoch(epoch + 2);
    assert_eq!(after["epochDurationMs"], SHORTER_MS);
}
