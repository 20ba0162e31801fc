//! The official TypeScript SDKs against a `floe devnet` this test starts:
//! `@mysten/sui` (SuiGrpcClient over gRPC-Web) and `@mysten/walrus`, pinned
//! in `scripts/ts-sdk/package.json` and installed from the npm registry by
//! `scripts/ts-sdk/run` into `${FLOE_CACHE_DIR:-~/.cache/floe}/ts-sdk-npm`
//! (reinstalled only when package.json changes). The scripts use the SDKs
//! as their documentation shows, with only their documented options (network
//! URL, Walrus package config, storage-node URL scheme): nothing edits what
//! they send or receive.
//!
//! Needs Node.js (>= 20) and npm; without them the tests fail and say so.

use floe_testkit::devnet as devnet_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use devnet_support::{Running, floe, pseudo_random};
use serde_json::Value;

/// A devnet in a temporary directory, stopped on drop (before the
/// directory is removed: fields drop in declaration order).
struct Devnet {
    _process: Running,
    dir: tempfile::TempDir,
}

impl Devnet {
    fn start() -> Devnet {
        let dir = tempfile::tempdir().expect("temp dir");
        let (process, _ready) =
            devnet_support::start(dir.path(), &["--no-indexer", "--nodes", "4"]);
        Devnet {
            _process: process,
            dir,
        }
    }

    /// Stops the devnet (SIGTERM, waits) and starts it again on the same
    /// directory; panics if it does not become ready.
    fn restart(&mut self) {
        self._process.sigterm();
        let _ = self._process.child.wait();
        let (process, _ready) = devnet_support::start(self.dir.path(), &[]);
        self._process = process;
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `floe --json ARGS --config client.yaml`, its stdout (panics with
    /// stderr on failure).
    fn floe(&self, args: &[&str]) -> Vec<u8> {
        let out = floe()
            .arg("--json")
            .args(args)
            .arg("--config")
            .arg(self.path().join("client.yaml"))
            .stdin(Stdio::null())
            .output()
            .expect("run floe");
        assert!(
            out.status.success(),
            "floe {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Runs `scripts/ts-sdk/run SCRIPT --devnet DIR ARGS...`; panics with
    /// its output (one line per case) and the devnet's logs unless every
    /// case passed.
    fn script(&self, script: &str, args: &[&str]) -> String {
        let out = ts_sdk(script)
            .arg("--devnet")
            .arg(self.path())
            .args(args)
            .output()
            .expect("run scripts/ts-sdk/run");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{script} failed ({}):\n{stdout}\n{}\ndevnet logs:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            devnet_support::logs(self.path())
        );
        stdout
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The installer-and-runner, with the cache `FLOE_CACHE_DIR` names.
fn ts_sdk(script: &str) -> Command {
    require_node();
    let mut c = Command::new(root().join("scripts/ts-sdk/run"));
    c.arg(script).stdin(Stdio::null());
    c
}

/// Fails (never skips) when Node.js or npm is missing, naming what to
/// install.
fn require_node() {
    for (tool, what) in [("node", "Node.js >= 20"), ("npm", "npm")] {
        let found = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "the TypeScript SDK tests need {what} on PATH (`{tool}` was not found): install \
             Node.js and npm (e.g. `apt-get install nodejs npm`, or from https://nodejs.org)"
        );
    }
}

/// The Sui SDK builds every transaction itself (gas coin selection, budget
/// from simulation, object and argument resolution from the ledger):
/// a split-and-transfer from the gas coin with effects and balances checked
/// through the SDK; `getCurrentSystemState`; MoveCalls into floe (views of
/// `System` and the WAL treasury simulated, `staking::stake_with_pool`
/// executed with a WAL coin the SDK selects).
#[test]
fn sui_sdk_builds_and_executes_transactions() {
    require_node();
    let mut net = Devnet::start();
    let info: Value = serde_json::from_slice(&net.floe(&["info"])).expect("info JSON");
    let node_id = info["system"]["committee"][0]["nodeId"]
        .as_str()
        .expect("a committee member's node id")
        .to_owned();
    let out = net.script("sui.mjs", &["--node-id", &node_id]);
    for case in [
        "system_state",
        "transfer",
        "move_call_view",
        "move_call_stake",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("ok   {case} "))),
            "{case} did not pass:\n{out}"
        );
    }
    // The SDK's gas selection pays with all of the wallet's SUI coins and
    // Sui merges them into the first, deleting genesis coins: the devnet
    // must still start again (its components find floe's objects in the
    // genesis checkpoint) and serve.
    net.restart();
    let again: Value = serde_json::from_slice(&net.floe(&["info"])).expect("info JSON");
    let ids = |v: &Value| -> Vec<Value> {
        v["system"]["committee"]
            .as_array()
            .expect("committee")
            .iter()
            .map(|m| m["nodeId"].clone())
            .collect()
    };
    assert_eq!(ids(&again), ids(&info));
}

/// The Walrus SDK on the Sui SDK's client: System, Staking and their inner
/// states; the committee (pools read by node id, nodes reached at their
/// on-chain `host:port` with the scheme the SDK is given); `readBlob` of a
/// blob stored with `floe store`; `writeBlob` deletable and permanent, read
/// back with the SDK and with `floe read`.
#[test]
fn walrus_sdk_reads_and_writes_blobs() {
    require_node();
    let net = Devnet::start();
    let dir = net.path();
    let stored = pseudo_random(40_000, 1);
    let stored_file = dir.join("stored.bin");
    std::fs::write(&stored_file, &stored).expect("write blob file");
    let v: Value = serde_json::from_slice(&net.floe(&[
        "store",
        stored_file.to_str().expect("utf-8 path"),
        "--epochs",
        "3",
        "--permanent",
        "--yes",
    ]))
    .expect("store JSON");
    let blob_id = v[0]["blobId"].as_str().expect("blob id").to_owned();

    let deletable = dir.join("deletable.bin");
    let permanent = dir.join("permanent.bin");
    std::fs::write(&deletable, pseudo_random(70_000, 2)).expect("write");
    std::fs::write(&permanent, pseudo_random(90_001, 3)).expect("write");
    let written = dir.join("written.json");
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    let out = net.script(
        "walrus.mjs",
        &[
            "--blob-id",
            &blob_id,
            "--blob-file",
            &path(&stored_file),
            "--deletable-file",
            &path(&deletable),
            "--permanent-file",
            &path(&permanent),
            "--out",
            &path(&written),
        ],
    );
    for case in [
        "system_and_staking",
        "committee",
        "read_floe_blob",
        "write_deletable",
        "write_permanent",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("ok   {case} "))),
            "{case} did not pass:\n{out}"
        );
    }

    // What the SDK wrote, read back by floe's own client.
    let written: Value =
        serde_json::from_slice(&std::fs::read(&written).expect("written.json")).expect("JSON");
    for (name, file) in [("deletable", &deletable), ("permanent", &permanent)] {
        let id = written[name]["blobId"].as_str().expect("blob id");
        let back = dir.join(format!("{name}.read"));
        net.floe(&["read", id, "--out", &path(&back)]);
        assert_eq!(
            std::fs::read(&back).expect("read back"),
            std::fs::read(file).expect("original"),
            "{name} blob {id} read by floe"
        );
        // The SDK wrote it for the wallet, which floe's client also uses.
        let object = written[name]["objectId"].as_str().expect("object id");
        let status: Value =
            serde_json::from_slice(&net.floe(&["blob-status", id])).expect("status JSON");
        let owned = status["ownedObjects"]
            .as_array()
            .and_then(|a| a.iter().find(|o| o["id"] == object))
            .unwrap_or_else(|| panic!("{name}: {object} not among the wallet's: {status}"));
        assert!(owned["certifiedEpoch"].is_u64(), "{name}: {owned}");
        assert_eq!(owned["deletable"], name == "deletable", "{name}: {owned}");
    }
}
