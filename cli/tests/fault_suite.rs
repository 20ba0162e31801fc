//! Fault suite (slow: one devnet with its indexer, about two minutes).
//! Phase by phase on one network of four nodes (25 of 100 shards each,
//! f = 33):
//!
//! 1. Client faults: a fault-injecting TCP proxy stands between clients and
//!    node 0 and, mode by mode, delays its answers, resets connections,
//!    cuts answers short, trickles them, or swallows requests and never
//!    answers. In every mode a store through that proxy is acknowledged and
//!    reads back byte for byte, and every blob stored before stays readable.
//! 2. The ledger paused (SIGSTOP, 3 s) in the middle of a store: once it
//!    resumes, the store completes and reads back.
//! 3. Postgres killed (-9) while blobs are being stored and indexed, and
//!    started again 3 s later: the indexer goes on, and at the end every
//!    stored blob is in `/v1/blobs` exactly once, with its registration
//!    and certification events each exactly once.
//! 4. A node-to-node partition: node 0 is restarted with its peers'
//!    endpoints pointing at proxies that swallow every request
//!    (`[[peer_overrides]]`), and clients cannot reach it either; it still
//!    follows the chain. Blobs stored meanwhile are acknowledged and read
//!    back without it, and node 0 queues them for recovery. Once the
//!    partition heals it catches up: with nodes 1 and 2 stopped, every blob
//!    of every phase reads back from nodes 0 and 3 alone (50 shards), which
//!    needs node 0's slivers of the blobs it missed.
//!
//! Kill -9 of nodes and of the ledger are in `client_e2e`, `node_e2e`,
//! `devnet_e2e` and `ledger_e2e`; the soak (`scripts/soak/run`) combines
//! faults under load.

use floe_testkit::devnet as devnet_support;
mod fault_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use devnet_support::{Running, floe, pid_of};
use fault_support::{
    Fault, FaultProxy, caught_up, get, pseudo_random, recovery_queue, signal, wait_gone,
};
use floe_testkit::Proc;
use serde_json::Value;

/// The node request timeout of the client behind the fault proxy.
const CLIENT_TIMEOUT_MS: u64 = 5_000;

/// A stored blob: its id, its Blob object's id, its contents.
struct Stored {
    blob_id: String,
    object_id: String,
    data: Vec<u8>,
}

struct Devnet {
    _process: Running,
    dir: tempfile::TempDir,
}

/// The blob id and object id of a `floe --json store` answer.
fn stored_ids(stdout: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(stdout).unwrap();
    let object = &v[0]["newlyCreated"]["blobObject"];
    let id = |key: &str| {
        object[key]
            .as_str()
            .unwrap_or_else(|| panic!("stored: {v}"))
            .to_owned()
    };
    (id("blobId"), id("id"))
}

impl Devnet {
    fn try_run(&self, config: &Path, args: &[&str]) -> Output {
        floe()
            .arg("--json")
            .args(args)
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .output()
            .expect("run floe")
    }

    fn run(&self, config: &Path, args: &[&str]) -> Vec<u8> {
        let out = self.try_run(config, args);
        assert!(
            out.status.success(),
            "floe {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn store(&self, config: &Path, data: Vec<u8>, tag: &str) -> Stored {
        let file = self.dir.path().join(format!("blob-{tag}"));
        std::fs::write(&file, &data).unwrap();
        let (blob_id, object_id) = stored_ids(&self.run(
            config,
            &["store", file.to_str().unwrap(), "--yes", "--epochs", "3"],
        ));
        Stored {
            blob_id,
            object_id,
            data,
        }
    }

    fn read(&self, config: &Path, blob_id: &str) -> Vec<u8> {
        let out = self.dir.path().join(format!("read-{blob_id}"));
        self.run(config, &["read", blob_id, "--out", out.to_str().unwrap()]);
        std::fs::read(out).unwrap()
    }

    fn check_all(&self, config: &Path, stored: &[Stored], when: &str) {
        for s in stored {
            assert!(
                self.read(config, &s.blob_id) == s.data,
                "{when}: blob {} reads back",
                s.blob_id
            );
        }
    }
}

fn socket_addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

#[test]
fn client_node_ledger_and_postgres_faults_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (process, _ready) = devnet_support::start(dir.path(), &["--nodes", "4", "--shards", "100"]);
    let net = Devnet {
        _process: process,
        dir,
    };
    let manifest = devnet_support::manifest(net.dir.path());
    let indexer = manifest["indexer_url"]
        .as_str()
        .or(manifest["indexer"].as_str())
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| panic!("the fault suite needs PostgreSQL for the indexer: {manifest}"));
    let node = &manifest["nodes"][0];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = runtime.block_on(FaultProxy::start(socket_addr(
        node["url"].as_str().unwrap(),
    )));
    let plain: PathBuf = net.dir.path().join("client.yaml");
    let yaml = std::fs::read_to_string(&plain).unwrap();
    let faulty = net.dir.path().join("faulty.yaml");
    // A store waits for every node's upload to end, and an upload to a
    // node that swallows requests ends only at the request timeout: 5 s
    // instead of the default 30 s keeps the swallowing phases short. Node
    // 0's answers are at most 2 s late in every other mode, and whatever
    // node 0 fails, the other 75 shards are a quorum either way.
    std::fs::write(
        &faulty,
        format!(
            "{yaml}node_overrides:\n  - public_key: \"{}\"\n    url: \"{}\"\nlimits:\n  request_timeout_ms: {CLIENT_TIMEOUT_MS}\n",
            node["public_key"].as_str().unwrap(),
            proxy.url
        ),
    )
    .unwrap();

    // 1. Client faults at node 0.
    let mut stored = vec![net.store(&plain, pseudo_random(120_000, 1), "before")];
    for (i, fault) in [
        Fault::Pass,
        Fault::Delay,
        Fault::Reset,
        Fault::Truncate,
        Fault::SlowBody,
        Fault::Blackhole,
    ]
    .into_iter()
    .enumerate()
    {
        proxy.set(fault);
        let connections = proxy.connections.load(Ordering::SeqCst);
        let data = pseudo_random(100_000 + i * 7_919, 10 + i as u64);
        let s = net.store(&faulty, data, &format!("{fault:?}"));
        assert!(
            net.read(&faulty, &s.blob_id) == s.data,
            "{fault:?}: the blob stored through the fault reads back"
        );
        stored.push(s);
        net.check_all(&faulty, &stored, &format!("{fault:?}"));
        assert!(
            proxy.connections.load(Ordering::SeqCst) > connections,
            "{fault:?}: the faulty node was reached through the proxy"
        );
    }
    proxy.set(Fault::Pass);

    // 2. The ledger paused in the middle of a store.
    stored.push(ledger_paused_during_a_store(&net, &manifest, &plain));
    net.check_all(&plain, &stored, "after the ledger pause");

    // 3. Postgres killed during ingest.
    stored.extend(postgres_killed_during_ingest(&net, &plain));

    // 4. Node 0 cut off from its peers and from clients, then healed.
    let (cut_off, _node0) =
        node_partitioned_then_healed(&net, &manifest, &runtime, &proxy, &faulty);
    stored.extend(cut_off);

    // Every blob of every phase is indexed exactly once.
    index_has_each_blob_once(&indexer, &stored);

    // Nodes 0 and 3 alone (50 shards, more than the 34 primary slivers a
    // read needs) serve every blob: node 0 holds its slivers of all,
    // including those stored while it was partitioned.
    for name in ["node-1", "node-2"] {
        let pid = pid_of(&manifest, name);
        signal(pid, "-TERM");
        wait_gone(pid);
    }
    net.check_all(&plain, &stored, "from nodes 0 and 3 after the partition");
    drop(runtime);
}

fn ledger_paused_during_a_store(net: &Devnet, manifest: &Value, plain: &Path) -> Stored {
    let ledger = pid_of(manifest, "ledger");
    let data = pseudo_random(150_000, 99);
    let file = net.dir.path().join("paused");
    std::fs::write(&file, &data).unwrap();
    let store = floe()
        .args([
            "--json",
            "store",
            file.to_str().unwrap(),
            "--yes",
            "--config",
        ])
        .arg(plain)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(ledger, "-STOP");
    std::thread::sleep(Duration::from_secs(3));
    signal(ledger, "-CONT");
    let out = store.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "a store across a 3 s ledger pause completes: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (blob_id, object_id) = stored_ids(&out.stdout);
    assert!(
        net.read(plain, &blob_id) == data,
        "the paused store reads back"
    );
    Stored {
        blob_id,
        object_id,
        data,
    }
}

/// Stores blobs one after another while Postgres (the devnet indexer's
/// managed cluster) is killed with -9 after the first and started again
/// 3 s later, as an operator's service manager would.
fn postgres_killed_during_ingest(net: &Devnet, plain: &Path) -> Vec<Stored> {
    let cluster = net.dir.path().join("indexer/data/postgres");
    let pid_file = std::fs::read_to_string(cluster.join("postmaster.pid"))
        .expect("the devnet's indexer runs a managed Postgres");
    let postmaster: i32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    let mut stored = Vec::new();
    std::thread::scope(|scope| {
        let storing = scope.spawn(|| {
            let mut out = Vec::new();
            for i in 0..4u64 {
                out.push(net.store(plain, pseudo_random(90_000, 200 + i), &format!("pg-{i}")));
                let _ = first_tx.send(());
            }
            out
        });
        first_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the first store during ingest completes");
        signal(postmaster, "-KILL");
        wait_gone(postmaster);
        std::thread::sleep(Duration::from_secs(3));
        // Orphaned backends may hold the shared memory a moment longer.
        let deadline = Instant::now() + Duration::from_secs(60);
        let restarted = loop {
            match floe_indexer::ManagedPostgres::start(&cluster) {
                Ok(pg) => break pg,
                Err(e) => {
                    assert!(Instant::now() < deadline, "restarting Postgres: {e}");
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        };
        // The devnet's indexer owns the cluster again (it stops it when it
        // stops), not this handle.
        std::mem::forget(restarted);
        stored = storing.join().expect("the stores during ingest succeed");
    });
    net.check_all(plain, &stored, "after the Postgres restart");
    stored
}

/// Node 0 restarted behind a partition: its peers' endpoints go through
/// proxies that swallow every request, and clients reach it only through
/// `client_proxy`, which does the same. Returns the blobs stored meanwhile,
/// once node 0 has caught up after the partition healed, and node 0 (the
/// devnet does not supervise it any more; it stops when dropped).
fn node_partitioned_then_healed(
    net: &Devnet,
    manifest: &Value,
    runtime: &tokio::runtime::Runtime,
    client_proxy: &FaultProxy,
    faulty: &Path,
) -> (Vec<Stored>, Proc) {
    let nodes = manifest["nodes"].as_array().unwrap();
    let url = nodes[0]["url"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let config = PathBuf::from(nodes[0]["config"].as_str().unwrap());
    let peers: Vec<FaultProxy> = nodes[1..]
        .iter()
        .map(|peer| {
            let proxy = runtime.block_on(FaultProxy::start(socket_addr(
                peer["url"].as_str().unwrap(),
            )));
            proxy.set(Fault::Blackhole);
            proxy
        })
        .collect();
    let pid = pid_of(manifest, "node-0");
    signal(pid, "-TERM");
    wait_gone(pid);
    let mut toml = std::fs::read_to_string(&config).unwrap();
    for (peer, proxy) in nodes[1..].iter().zip(&peers) {
        toml += &format!(
            "\n[[peer_overrides]]\npublic_key = \"{}\"\nurl = \"{}\"\n",
            peer["public_key"].as_str().unwrap(),
            proxy.url
        );
    }
    assert!(
        !toml.contains("[recovery]"),
        "the devnet wrote its own [recovery]: {toml}"
    );
    // Requests to the swallowing peers end at the peer timeout, and
    // retries back off: with the defaults (30 s, backoff to 30 s) node 0
    // waits out a swallowed request and a long backoff after the
    // partition heals. Short ones let it notice the healed network within
    // seconds; attempts are raised so the faster retries cannot use them
    // all up while the partition lasts (a blob out of attempts waits for
    // the next restart).
    toml += "\n[recovery]\npeer_timeout_ms = 3000\ninitial_backoff_ms = 250\nmax_backoff_ms = 2000\nmax_attempts = 1000\n";
    std::fs::write(&config, toml).unwrap();
    client_proxy.set(Fault::Blackhole);
    let log = std::fs::File::create(net.dir.path().join("logs/node-0-partitioned.log")).unwrap();
    let node0 = Proc::new(
        floe()
            .args(["node", "run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start node 0"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(get(&format!("{url}/v1/health")), Some((200, _))) {
        assert!(Instant::now() < deadline, "node 0 did not start");
        std::thread::sleep(Duration::from_millis(500));
    }

    let mut stored = Vec::new();
    for i in 0..3u64 {
        let s = net.store(faulty, pseudo_random(110_000, 300 + i), &format!("cut-{i}"));
        assert!(
            net.read(faulty, &s.blob_id) == s.data,
            "a blob stored during the partition reads back"
        );
        stored.push(s);
    }
    // Node 0 saw them certified on chain and cannot fetch its slivers.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !recovery_queue(&url).is_some_and(|q| q > 0.0) {
        assert!(
            Instant::now() < deadline,
            "node 0 queued nothing for recovery while partitioned"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        peers
            .iter()
            .any(|p| p.connections.load(Ordering::SeqCst) > 0),
        "node 0 tried its peers through the partition"
    );

    // The partition heals: node 0 recovers what it missed.
    for proxy in &peers {
        proxy.set(Fault::Pass);
    }
    client_proxy.set(Fault::Pass);
    let healed = Instant::now();
    let deadline = healed + Duration::from_secs(180);
    while !caught_up(&url) {
        assert!(
            Instant::now() < deadline,
            "node 0 did not catch up after the partition healed\n{}",
            devnet_support::logs(net.dir.path())
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    eprintln!(
        "node 0 caught up {:.1} s after the partition healed",
        healed.elapsed().as_secs_f64()
    );
    (stored, node0)
}

/// Every stored blob is listed once in `/v1/blobs` (waiting for the
/// indexer to reach them), no object is listed twice, and each blob's
/// registration and certification events are indexed once.
fn index_has_each_blob_once(indexer: &str, stored: &[Stored]) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let listed = loop {
        let listed = all_blobs(indexer);
        let missing = stored
            .iter()
            .filter(|s| !listed.contains_key(&canonical(&s.object_id)))
            .count();
        if missing == 0 {
            break listed;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} stored blobs are not indexed",
            stored.len()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    for (object, count) in &listed {
        assert_eq!(*count, 1, "object {object} is listed {count} times");
    }
    for s in stored {
        let (code, body) = get(&format!("{indexer}/v1/blob-ids/{}", s.blob_id))
            .unwrap_or_else(|| panic!("the indexer answers for {}", s.blob_id));
        assert_eq!(code, 200, "{}: {body}", s.blob_id);
        let (code, body) = get(&format!(
            "{indexer}/v1/blobs/{}/events?limit=1000",
            s.object_id
        ))
        .expect("the indexer answers");
        assert_eq!(code, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let events = v["data"].as_array().unwrap();
        let mut seen = HashMap::new();
        for e in events {
            let key = (e["tx_digest"].to_string(), e["event_index"].to_string());
            *seen.entry(key).or_insert(0) += 1;
        }
        assert!(
            seen.values().all(|n| *n == 1),
            "{}: an event is indexed twice: {body}",
            s.object_id
        );
        for name in ["BlobRegistered", "BlobCertified"] {
            let n = events
                .iter()
                .filter(|e| e["name"].as_str() == Some(name))
                .count();
            assert_eq!(n, 1, "{}: {name} indexed {n} times: {body}", s.object_id);
        }
    }
}

/// An object id without `0x` and leading zeros, lowercase.
fn canonical(id: &str) -> String {
    id.trim_start_matches("0x")
        .trim_start_matches('0')
        .to_ascii_lowercase()
}

/// Every Blob object in `/v1/blobs`, page by page, with how often it was
/// listed.
fn all_blobs(indexer: &str) -> HashMap<String, usize> {
    let mut listed = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{indexer}/v1/blobs?limit=1000");
        if let Some(c) = &cursor {
            url += &format!("&cursor={c}");
        }
        let Some((200, body)) = get(&url) else {
            // The indexer may be reconnecting to Postgres; the caller
            // waits and asks again.
            return listed;
        };
        let v: Value = serde_json::from_str(&body).unwrap();
        for row in v["data"].as_array().unwrap() {
            *listed
                .entry(canonical(row["object_id"].as_str().unwrap()))
                .or_insert(0) += 1;
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return listed,
        }
    }
}
