//! `floe devnet` as a user runs it: one process that starts the ledger and
//! the storage nodes as separate processes, writes its manifest and client
//! config (no node list: `floe info` finds every node on chain), stops
//! cleanly on SIGTERM, resumes from its directory, and leaves
//! no orphans when it is killed.

use floe_testkit::devnet as devnet_support;

use std::time::{Duration, Instant};

use devnet_support::{floe, manifest, start};
use serde_json::Value;

fn pids(manifest: &Value) -> Vec<(String, i32)> {
    manifest["pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["pid"].as_i64().unwrap() as i32,
            )
        })
        .collect()
}

fn alive(pid: i32) -> bool {
    // Signal 0 checks existence; a zombie counts as gone once reaped by
    // its parent, so also look at /proc's state.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    !status.is_empty() && !status.contains("State:\tZ")
}

fn wait_gone(pids: &[(String, i32)]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for (name, pid) in pids {
        while alive(*pid) {
            assert!(
                Instant::now() < deadline,
                "{name} (pid {pid}) still running"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

async fn checkpoint_height(url: &str) -> u64 {
    let client = floe_chain::ChainClient::connect_single(url).unwrap();
    client.latest_checkpoint().await.unwrap().sequence_number
}

#[tokio::test(flavor = "multi_thread")]
async fn devnet_starts_stops_resumes_and_leaves_no_orphans() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");

    // First start creates everything.
    let (mut child, ready) = start(&dir, &["--nodes", "4", "--shards", "8"]);
    let first = manifest(&dir);
    assert_eq!(first["nodes"].as_array().unwrap().len(), 4);
    assert_eq!(ready["ledger"], first["ledger_url"]);
    let running = pids(&first);
    // The indexer joins when PostgreSQL is installed (CI installs it), and
    // then it must be running.
    let indexer = first["indexer_url"].as_str().map(str::to_owned);
    assert_eq!(
        indexer.is_some(),
        floe_indexer::postgres::find_bindir().is_some()
            || std::env::var_os("DATABASE_URL").is_some()
    );
    assert_eq!(
        running.len(),
        1 + 1 + 4 + 1 + 1 + 2 * usize::from(indexer.is_some()),
        "devnet, ledger, four nodes, coordinator, daemon, and the indexer and explorer if possible"
    );
    assert!(running.iter().any(|(name, _)| name == "coordinator"));
    // The coordinator reports the epoch it reads (epochs last an hour by
    // default, so this one is still epoch 0).
    let coordinator = first["coordinator_url"].as_str().unwrap().to_owned();
    let mut status = serde_json::Value::Null;
    for _ in 0..100 {
        status = reqwest::get(format!("{coordinator}/status"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !status["epoch"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status["epoch"], 0, "{status}");
    assert!(
        status["next_step"].as_str().unwrap().contains("VotingEnd"),
        "{status}"
    );
    assert_eq!(first["epoch_duration_ms"], 3_600_000);
    assert_eq!(first["initial_stake_done"], true);
    for (name, pid) in &running {
        assert!(alive(*pid), "{name} is not running");
    }
    // The client config names the chain and the wallet, and no node: the
    // client finds every node on chain, at the address the node serves on.
    let client = floe_client::config::ClientConfig::load(&dir.join("client.yaml")).unwrap();
    assert!(client.node_overrides.is_empty());
    assert!(client.chain.system.is_some());
    let info = floe()
        .args(["--json", "info", "--config"])
        .arg(dir.join("client.yaml"))
        .output()
        .unwrap();
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    let mut from_chain: Vec<&str> = info["system"]["committee"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["url"].as_str().unwrap_or("none"))
        .collect();
    let mut served: Vec<&str> = first["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["url"].as_str().unwrap())
        .collect();
    from_chain.sort_unstable();
    served.sort_unstable();
    assert_eq!(from_chain, served, "{info}");
    for node in first["nodes"].as_array().unwrap() {
        let text = std::fs::read_to_string(node["config"].as_str().unwrap()).unwrap();
        assert!(!text.contains("peers"), "no peer list in {text}");
    }
    // Every node answers its health endpoint; the chain is live.
    let http = reqwest::Client::new();
    for node in first["nodes"].as_array().unwrap() {
        let url = format!("{}/v1/health", node["url"].as_str().unwrap());
        let response = http.get(&url).send().await.unwrap();
        assert!(response.status().is_success(), "{url}");
    }
    let daemon = first["daemon_url"].as_str().unwrap();
    let status = http.get(format!("{daemon}/status")).send().await.unwrap();
    assert!(status.status().is_success());
    if let Some(url) = &indexer {
        let status: Value = http
            .get(format!("{url}/v1/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(status.is_object(), "{status}");
    }
    let ledger = first["ledger_url"].as_str().unwrap().to_owned();
    let height = checkpoint_height(&ledger).await;
    // The wallet holds WAL (the whole supply) and SUI.
    let ids = floe_chain::floe::FloeIds {
        wal_package: first["wal_package"].as_str().unwrap().parse().unwrap(),
        floe_package: first["floe_package"].as_str().unwrap().parse().unwrap(),
        system: first["system_object"].as_str().unwrap().parse().unwrap(),
        treasury: first["treasury_object"].as_str().unwrap().parse().unwrap(),
        staking: first["staking_object"].as_str().unwrap().parse().unwrap(),
    };
    let chain = floe_chain::floe::Floe::new(
        floe_chain::ChainClient::connect_single(&ledger).unwrap(),
        ids,
    );
    let wallet = first["wallet_address"].as_str().unwrap().parse().unwrap();
    assert!(chain.wal_balance(wallet).await.unwrap() > 0);
    let committee = chain.committee().await.unwrap();
    assert_eq!(committee.n_shards(), 8);

    // `floe node info` finds a node on chain by its BLS key and shows its
    // pool, shards and the cap its operator holds.
    let node0 = &first["nodes"][0];
    let out = floe()
        .args(["--json", "node", "info", "--config"])
        .arg(node0["config"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        format!("http://{}", info["network_address"].as_str().unwrap()),
        node0["url"].as_str().unwrap()
    );
    assert_eq!(info["public_key"], node0["public_key"]);
    assert_eq!(info["state"], "active");
    assert_eq!(
        info["shards"].as_array().unwrap().len(),
        node0["shards"].as_u64().unwrap() as usize
    );
    let pending: u64 = info["pending_stake"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_u64().unwrap())
        .sum();
    assert!(
        info["stake_frost"].as_u64().unwrap() + pending > 0,
        "{info}"
    );
    assert_eq!(info["cap"]["owner"], node0["operator"], "{info}");

    // A node outside genesis registers through the CLI: a new BLS key, the
    // config of node 0 otherwise (its operator pays and receives the cap).
    let extra_dir = tmp.path().join("extra");
    std::fs::create_dir_all(&extra_dir).unwrap();
    let key_file = extra_dir.join("node.bls");
    let keygen = floe()
        .args(["node", "keygen", "--out"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(keygen.status.success());
    let base = std::fs::read_to_string(node0["config"].as_str().unwrap()).unwrap();
    let mut extra = String::new();
    for line in base.lines() {
        if line.starts_with("bls_key_file") {
            extra.push_str(&format!("bls_key_file = {:?}\n", key_file));
        } else if line.starts_with("data_dir") {
            extra.push_str(&format!("data_dir = {:?}\n", extra_dir.join("data")));
        } else if line.starts_with("listen") {
            extra.push_str("listen = \"127.0.0.1:1\"\n");
        } else {
            extra.push_str(line);
            extra.push('\n');
        }
    }
    let extra_config = extra_dir.join("node.toml");
    std::fs::write(&extra_config, extra).unwrap();
    let node_cmd = |args: &[&str]| {
        floe()
            .args(["--json", "node"])
            .args(args)
            .arg("--config")
            .arg(&extra_config)
            .output()
            .unwrap()
    };
    // Not registered yet: info says what to do.
    let out = node_cmd(&["info"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("floe node register"));
    // Bad input is refused before paying.
    let out = node_cmd(&[
        "register",
        "--name",
        "extra",
        "--commission-bps",
        "10001",
        "--storage-price",
        "1",
        "--write-price",
        "1",
        "--capacity",
        "1000000",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("over 100%"));
    let register = [
        "register",
        "--name",
        "extra",
        "--network-address",
        "127.0.0.1:9999",
        "--commission-bps",
        "500",
        "--storage-price",
        "7",
        "--write-price",
        "3",
        "--capacity",
        "1000000000",
    ];
    let out = node_cmd(&register);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let registered: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(extra_dir.join("data/network.key").is_file());
    let out = node_cmd(&["info"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["node_id"], registered["node_id"]);
    assert_eq!(info["name"], "extra");
    assert_eq!(info["network_address"], "127.0.0.1:9999");
    assert_eq!(info["commission_rate_bps"], 500);
    assert_eq!(info["votes"]["storage_price_frost"], 7);
    assert_eq!(info["cap"]["id"], registered["cap"]);
    assert_eq!(info["shards"].as_array().unwrap().len(), 0);
    // A second registration of the same key is refused before paying.
    let out = node_cmd(&register);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already registered"));
    // Updates through the cap; an over-100% commission is refused first.
    let out = node_cmd(&["update", "--commission-bps", "20000"]);
    assert!(!out.status.success());
    let out = node_cmd(&[
        "update",
        "--name",
        "renamed",
        "--network-address",
        "127.0.0.1:9998",
        "--capacity",
        "5",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&node_cmd(&["info"]).stdout).unwrap();
    assert_eq!(info["name"], "renamed");
    assert_eq!(info["network_address"], "127.0.0.1:9998");
    assert_eq!(info["votes"]["node_capacity_bytes"], 5);
    // Nothing earned yet: collecting succeeds with zero.
    let out = node_cmd(&["collect-commission"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let collected: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(collected["collected_frost"], 0);

    // A second devnet on the same directory is refused.
    let second = floe()
        .args(["devnet", "--auto-ports", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already running"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // SIGTERM stops every component.
    child.sigterm();
    assert!(child.child.wait().unwrap().success());
    wait_gone(&running);
    assert!(manifest(&dir)["pids"].as_array().unwrap().is_empty());

    // Something else takes the daemon's port while the devnet is down.
    let daemon_url = first["daemon_url"].as_str().expect("a daemon").to_owned();
    let daemon_addr = daemon_url.trim_start_matches("http://").to_owned();
    let squatter = std::net::TcpListener::bind(&daemon_addr).expect("the daemon's port is free");

    // The next start resumes the same chain and wallet; the daemon moves
    // to another port and the client config follows it.
    let (mut child, _) = start(&dir, &[]);
    let resumed = manifest(&dir);
    assert_eq!(resumed["wallet_address"], first["wallet_address"]);
    assert_eq!(resumed["ledger_url"], first["ledger_url"]);
    let moved = resumed["daemon_url"].as_str().expect("a daemon").to_owned();
    assert_ne!(
        moved, daemon_url,
        "the daemon kept a port something else holds"
    );
    let status = reqwest::get(format!("{moved}/status")).await.unwrap();
    assert!(status.status().is_success(), "{}", status.status());
    let client_yaml = std::fs::read_to_string(resumed["client_config"].as_str().unwrap()).unwrap();
    assert!(client_yaml.contains(&moved), "{client_yaml}");
    drop(squatter);
    assert!(checkpoint_height(&ledger).await >= height);
    assert!(chain.wal_balance(wallet).await.unwrap() > 0);

    // kill -9 of the devnet takes its children down with it.
    let running = pids(&resumed);
    child.child.kill().unwrap();
    child.child.wait().unwrap();
    wait_gone(&running[1..]);
}

#[test]
fn bad_arguments_are_refused_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let out = floe()
        .args([
            "devnet",
            "--auto-ports",
            "--nodes",
            "5",
            "--shards",
            "3",
            "--data-dir",
        ])
        .arg(tmp.path().join("d"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shards"));

    // --fresh never deletes a directory that is not a devnet.
    let other = tmp.path().join("not-a-devnet");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("precious.txt"), b"keep me").unwrap();
    let out = floe()
        .args(["devnet", "--fresh", "--data-dir"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(other.join("precious.txt").exists());
}
