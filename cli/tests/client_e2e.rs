//! The client end to end on a devnet this test starts (`floe devnet`:
//! ledger and four storage nodes as processes, 100 shards, f = 33): store
//! and read back 0 B, 1 B and 1 MiB byte-identical; blob status; extend
//! (end epoch and the exact WAL charged); attributes; delete (status and
//! listing show it); the daemon's store, reads and Range reads; byte
//! ranges with `floe read --range` at every boundary; with one node
//! killed (25 shards <= f) store and read still work; with one node
//! behind a proxy that corrupts every sliver and metadata answer, reads
//! and range reads still return the right bytes. A 50 MiB round trip is
//! its own test.

use floe_testkit::devnet as devnet_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use devnet_support::{Running, floe, pid_of, pseudo_random};
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

    fn config(&self) -> PathBuf {
        self.dir.path().join("client.yaml")
    }

    fn manifest(&self) -> Value {
        devnet_support::manifest(self.dir.path())
    }

    /// Runs `floe --json ARGS --config CONFIG`, returns stdout (panics with
    /// stderr on failure).
    fn run(&self, config: &Path, args: &[&str]) -> Vec<u8> {
        let out = self.try_run(config, args);
        assert!(
            out.status.success(),
            "floe {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

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

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_slice(&self.run(&self.config(), args)).expect("JSON output")
    }

    /// Stores `data`; returns (blob id, object id).
    fn store(&self, config: &Path, data: &[u8], extra: &[&str]) -> (String, String) {
        let file = self.dir.path().join(format!("blob-{}", data.len()));
        std::fs::write(&file, data).unwrap();
        let mut args = vec!["store", file.to_str().unwrap(), "--yes"];
        args.extend_from_slice(extra);
        let v: Value = serde_json::from_slice(&self.run(config, &args)).unwrap();
        let created = &v[0]["newlyCreated"]["blobObject"];
        assert!(created.is_object(), "{v}");
        (
            created["blobId"].as_str().unwrap().to_owned(),
            created["id"].as_str().unwrap().to_owned(),
        )
    }

    fn read(&self, config: &Path, blob_id: &str) -> Vec<u8> {
        let out = self.dir.path().join(format!("read-{blob_id}"));
        self.run(config, &["read", blob_id, "--out", out.to_str().unwrap()]);
        std::fs::read(out).unwrap()
    }

    /// `floe read --range RANGE`: the bytes, or the failed output.
    fn try_read_range(&self, config: &Path, blob_id: &str, range: &str) -> Result<Vec<u8>, String> {
        let out = self
            .dir
            .path()
            .join(format!("range-{blob_id}-{}", range.replace('-', "_")));
        let range_arg = format!("--range={range}");
        let output = self.try_run(
            config,
            &["read", blob_id, &range_arg, "--out", out.to_str().unwrap()],
        );
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        Ok(std::fs::read(out).unwrap())
    }

    fn read_range(&self, config: &Path, blob_id: &str, range: &str) -> Vec<u8> {
        self.try_read_range(config, blob_id, range)
            .unwrap_or_else(|e| panic!("floe read --range {range}: {e}"))
    }

    fn wal_balance(&self) -> u64 {
        self.json(&["wallet", "balance"])["wal"].as_u64().unwrap()
    }

    fn kill_node(&self, name: &str) {
        let pid = pid_of(&self.manifest(), name);
        assert!(
            Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap()
                .success()
        );
    }
}

/// The store resource choice beyond "from scratch": the wallet's own
/// certified copy that ends too early is extended (no upload, only the
/// missing epochs paid), and an owned `Storage` that is too large and too
/// short is trimmed (the rest stays owned) and topped up with the missing
/// epochs.
fn reuse_and_extend_and_partial_storage(net: &Devnet) {
    let config = net.config();
    let price = net.json(&["info"])["system"]["storagePricePerUnitSize"]
        .as_u64()
        .unwrap();

    // blob-1 (1 byte) is certified until epoch 2; ask for epoch 4.
    let again = net.dir.path().join("blob-1");
    let before = net.wal_balance();
    let v: Value = serde_json::from_slice(&net.run(
        &config,
        &["store", again.to_str().unwrap(), "--yes", "--epochs", "4"],
    ))
    .unwrap();
    let created = &v[0]["newlyCreated"];
    let op = &created["resourceOperation"]["reuseAndExtend"];
    assert_eq!(op["epochsExtended"], 2, "{v}");
    assert_eq!(created["blobObject"]["storage"]["endEpoch"], 4, "{v}");
    let size = created["blobObject"]["storage"]["storageSize"]
        .as_u64()
        .unwrap();
    let expected = floe_core::price::storage_cost(size, price, 2).unwrap();
    assert_eq!(created["cost"], expected, "{v}");
    assert_eq!(before - net.wal_balance(), expected, "only 2 epochs paid");

    // An owned Storage twice the encoded size, ending at epoch 1: a store
    // until epoch 3 uses it, buys epochs 1..3 for the encoded size only,
    // and leaves the other half with the wallet.
    let data = pseudo_random(3_000, 21);
    let n_shards = net.json(&["info"])["system"]["nShards"].as_u64().unwrap();
    let encoded = floe_core::encoding::EncodingConfig::new(n_shards as u16)
        .unwrap()
        .encoded_blob_length(data.len() as u64)
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime.block_on(async {
        let config = floe_client::config::ClientConfig::load(&config).unwrap();
        floe_client::Client::connect(config).await.unwrap()
    });
    let me = client.address().unwrap();
    let owned_storage = || {
        runtime
            .block_on(client.floe().owned_storage(me))
            .unwrap()
            .into_iter()
            .map(|(id, s)| (id, s.storage_size, s.end_epoch))
            .collect::<Vec<_>>()
    };
    let existing = owned_storage();
    let (coin, _) = runtime.block_on(client.floe().wal_coins(me)).unwrap()[0];
    let tx = runtime
        .block_on(
            client
                .floe()
                .reserve_space(client.wallet().unwrap(), 2 * encoded, 1, coin),
        )
        .unwrap();
    assert!(tx.status.is_success(), "{:?}", tx.status);
    let reserved = owned_storage()
        .into_iter()
        .find(|s| !existing.contains(s))
        .expect("the reserved storage");
    assert_eq!((reserved.1, reserved.2), (2 * encoded, 1));

    let file = net.dir.path().join("partial.bin");
    std::fs::write(&file, &data).unwrap();
    let write = floe_core::price::write_cost(
        encoded,
        net.json(&["info"])["system"]["writePricePerUnitSize"]
            .as_u64()
            .unwrap(),
    )
    .unwrap();
    let before = net.wal_balance();
    let v: Value = serde_json::from_slice(&net.run(
        &config,
        &["store", file.to_str().unwrap(), "--yes", "--epochs", "3"],
    ))
    .unwrap();
    let created = &v[0]["newlyCreated"];
    let op = &created["resourceOperation"]["reuseStorage"];
    assert_eq!(op["storage"], reserved.0.to_string(), "{v}");
    assert_eq!(op["extendedEpochs"], 2, "{v}");
    let blob_storage = &created["blobObject"]["storage"];
    assert_eq!(blob_storage["endEpoch"], 3, "{v}");
    assert_eq!(blob_storage["storageSize"], encoded, "{v}");
    let expected = floe_core::price::storage_cost(encoded, price, 2).unwrap() + write;
    assert_eq!(created["cost"], expected, "{v}");
    assert_eq!(
        before - net.wal_balance(),
        expected,
        "2 epochs + write paid"
    );
    let after = owned_storage();
    assert!(
        after.iter().all(|s| s.0 != reserved.0),
        "the reused storage is inside the blob now"
    );
    assert!(
        after
            .iter()
            .any(|s| !existing.contains(s) && s.1 == encoded && s.2 == 1),
        "the trimmed half stays owned: {after:?}"
    );
    let blob_id = created["blobObject"]["blobId"].as_str().unwrap();
    assert_eq!(net.read(&config, blob_id), data);
}

/// Polls `f` until it returns true (bounded).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("{what} did not happen within 60 s");
}

#[test]
fn store_read_extend_attributes_delete_and_daemon() {
    let net = Devnet::start();
    let config = net.config();

    let mut stored = Vec::new();
    for (len, seed) in [(0usize, 1u64), (1, 2), (1 << 20, 3)] {
        let data = pseudo_random(len, seed);
        let (blob_id, object) = net.store(&config, &data, &["--epochs", "2"]);
        assert_eq!(net.read(&config, &blob_id), data, "{len} bytes round trip");
        stored.push((blob_id, object, data));
    }

    range_reads(&net, &stored);

    // Storing the same bytes again pays nothing.
    let again = net.dir.path().join("blob-1");
    let v: Value = serde_json::from_slice(&net.run(
        &config,
        &["store", again.to_str().unwrap(), "--yes", "--epochs", "2"],
    ))
    .unwrap();
    assert!(v[0]["alreadyCertified"].is_object(), "{v}");

    reuse_and_extend_and_partial_storage(&net);

    // Status: nodes agree the blob has a certified deletable object.
    let (blob_id, object, data) = stored[2].clone();
    // (nodes learn of the certification from the chain, so poll).
    eventually("nodes agree the blob is certified", || {
        let status = net.json(&["blob-status", &blob_id]);
        status["status"]["agreed"]["deletable"]["deletableCounts"]["count_deletable_certified"] == 1
    });

    // Extend by 3 epochs: the end epoch moves 2 -> 5 and the wallet pays
    // exactly storage units x price x 3.
    let info = net.json(&["info"]);
    let price = info["system"]["storagePricePerUnitSize"].as_u64().unwrap();
    let listed = net.json(&["list-blobs"]);
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == object.as_str())
        .unwrap()
        .clone();
    let size = entry["storage"]["storageSize"].as_u64().unwrap();
    assert_eq!(entry["storage"]["endEpoch"], 2);
    let before = net.wal_balance();
    let extended = net.json(&["extend", "--object-id", &object, "--epochs", "3", "--yes"]);
    assert_eq!(extended["blobObject"]["storage"]["endEpoch"], 5);
    let expected = floe_core::price::storage_cost(size, price, 3).unwrap();
    assert_eq!(extended["cost"], expected);
    assert_eq!(
        before - net.wal_balance(),
        expected,
        "WAL charged for the extension"
    );

    // Attributes, then the daemon serves them as headers.
    net.run(
        &config,
        &[
            "set-blob-attribute",
            &object,
            "--attr",
            "content-type=text/plain",
            "--attr",
            "owner=me",
        ],
    );
    let attributes = net.json(&["get-blob-attribute", &object]);
    assert_eq!(attributes["content-type"], "text/plain");
    daemon_checks(&net, &object, &data);

    // Share on store, then fund the shared blob: the wallet pays exactly
    // the amount.
    let file = net.dir.path().join("shared.bin");
    std::fs::write(&file, pseudo_random(5_000, 11)).unwrap();
    let v: Value = serde_json::from_slice(&net.run(
        &config,
        &[
            "store",
            file.to_str().unwrap(),
            "--yes",
            "--share",
            "--permanent",
        ],
    ))
    .unwrap();
    let shared = v[0]["newlyCreated"]["sharedBlobObject"]
        .as_str()
        .expect("shared blob object")
        .to_owned();
    let before = net.wal_balance();
    net.run(
        &config,
        &[
            "fund-shared-blob",
            "--shared-blob-obj-id",
            &shared,
            "--amount",
            "0.001",
            "--yes",
        ],
    );
    assert_eq!(before - net.wal_balance(), 1_000_000, "0.001 WAL funded");

    // Paying commands refuse to run unconfirmed without a terminal.
    let refused = net.try_run(
        &config,
        &["extend", "--object-id", &object, "--epochs", "1"],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));

    // The faucet tops the wallet up with SUI and WAL.
    let before = net.json(&["wallet", "balance"]);
    net.run(&config, &["wallet", "faucet"]);
    let after = net.json(&["wallet", "balance"]);
    assert!(
        after["sui"].as_u64() > before["sui"].as_u64(),
        "{before} -> {after}"
    );
    assert!(
        after["wal"].as_u64() > before["wal"].as_u64(),
        "{before} -> {after}"
    );

    // Delete: the object is gone from the listing and nodes stop counting it.
    let deleted = net.json(&["delete", "--object-id", &object, "--yes"]);
    assert_eq!(deleted["deleted"][0]["id"], object.as_str());
    let listed = net.json(&["list-blobs"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["id"] != object.as_str())
    );
    eventually("nodes see the deletion", || {
        let status = net.json(&["blob-status", &blob_id]);
        status["status"]["agreed"] == "nonexistent"
    });
}

/// `floe read --range` on the 0 B, 1 B and 1 MiB blobs: first and last
/// bytes, the edges of rows (n = 100: k_s = 67 symbols of 462 bytes for
/// 1 MiB, so a row is 30,954 bytes), suffixes, and ranges past the end,
/// each against a slice of the blob.
fn range_reads(net: &Devnet, stored: &[(String, String, Vec<u8>)]) {
    let config = net.config();
    let [empty, one, mib] = stored else {
        panic!("three stored blobs")
    };
    let err = net.try_read_range(&config, &empty.0, "0-0").unwrap_err();
    assert!(err.contains("0 bytes"), "{err}");
    assert!(net.read_range(&config, &empty.0, "0-").is_empty());
    assert_eq!(net.read_range(&config, &one.0, "0-0"), one.2);
    assert_eq!(net.read_range(&config, &one.0, "-5"), one.2);
    assert!(net.try_read_range(&config, &one.0, "1-1").is_err());
    let (id, data) = (&mib.0, &mib.2);
    let len = data.len();
    let row = 30_954usize;
    for (range, expected) in [
        ("0-0".to_owned(), &data[..1]),
        (format!("{}-{}", len - 1, len - 1), &data[len - 1..]),
        (format!("{}-{}", row - 1, row), &data[row - 1..=row]),
        (format!("{}-{}", row, 2 * row - 1), &data[row..2 * row]),
        (format!("{}-", 33 * row), &data[33 * row..]),
        ("-10".to_owned(), &data[len - 10..]),
        (format!("0-{}", len - 1), &data[..]),
        ("12345-543210".to_owned(), &data[12_345..=543_210]),
    ] {
        assert!(
            net.read_range(&config, id, &range) == expected,
            "range {range} differs"
        );
    }
    let err = net
        .try_read_range(&config, id, &format!("0-{len}"))
        .unwrap_err();
    assert!(err.contains(&format!("{len} bytes")), "{err}");
}

/// The daemon as a process: store with PUT, read (full, Range, by object
/// id with attribute headers), 404 and 413.
fn daemon_checks(net: &Devnet, object: &str, data: &[u8]) {
    let mut child = floe()
        .args([
            "daemon",
            "--listen",
            "127.0.0.1:0",
            "--max-body-bytes",
            "2000000",
            "--config",
        ])
        .arg(net.config())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start daemon");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listening: Value = serde_json::from_str(&line).expect("listening line");
    let base = format!("http://{}", listening["address"].as_str().unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            let http = reqwest::Client::new();
            let body = pseudo_random(300_000, 9);
            let put = http
                .put(format!("{base}/v1/blobs?epochs=2&permanent=true"))
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(put.status(), 200);
            let v: Value = put.json().await.unwrap();
            let blob_id = v["newlyCreated"]["blobObject"]["blobId"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(v["newlyCreated"]["blobObject"]["deletable"], false);

            // Concurrent stores from the one publisher wallet all succeed:
            // its transactions must not race for the same coins, and two
            // stores of the same bytes (the first two below) may share one
            // registration.
            let puts = [1u64, 1, 4].into_iter().map(|i| {
                let (http, base) = (http.clone(), base.clone());
                async move {
                    let r = http
                        .put(format!("{base}/v1/blobs"))
                        .body(pseudo_random(20_000, 100 + i))
                        .send()
                        .await
                        .unwrap();
                    (r.status(), r.text().await.unwrap_or_default())
                }
            });
            for (status, text) in futures::future::join_all(puts).await {
                assert_eq!(status, 200, "{text}");
            }

            let full = http
                .get(format!("{base}/v1/blobs/{blob_id}"))
                .send()
                .await
                .unwrap();
            assert_eq!(full.status(), 200);
            assert_eq!(full.bytes().await.unwrap().to_vec(), body);
            // 300,000 bytes at n = 100: symbols of 132 bytes, rows of
            // 67 * 132 = 8,844 bytes.
            for (range, expected) in [
                ("bytes=0-99", &body[..100]),
                ("bytes=0-0", &body[..1]),
                ("bytes=299999-299999", &body[299_999..]),
                ("bytes=299000-", &body[299_000..]),
                ("bytes=-10", &body[body.len() - 10..]),
                ("bytes=8843-8844", &body[8_843..=8_844]),
                ("bytes=8844-17687", &body[8_844..17_688]),
                ("bytes=1000-999999", &body[1_000..]),
            ] {
                let r = http
                    .get(format!("{base}/v1/blobs/{blob_id}"))
                    .header("range", range)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 206, "{range}");
                assert_eq!(r.bytes().await.unwrap().as_ref(), expected, "{range}");
            }
            for unsatisfiable in ["bytes=400000-", "bytes=300000-300001"] {
                let r = http
                    .get(format!("{base}/v1/blobs/{blob_id}"))
                    .header("range", unsatisfiable)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 416, "{unsatisfiable}");
                assert_eq!(r.headers()["content-range"], "bytes */300000");
            }
            let r = http
                .get(format!("{base}/v1/blobs/by-object-id/{object}"))
                .header("range", "bytes=1-2")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 206);
            assert_eq!(r.bytes().await.unwrap().as_ref(), &data[1..=2]);

            let r = http
                .get(format!("{base}/v1/blobs/by-object-id/{object}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], "text/plain");
            assert!(
                r.headers().get("owner").is_none(),
                "only allowed attributes"
            );
            assert_eq!(r.bytes().await.unwrap().to_vec(), data);

            let unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
            let r = http
                .get(format!("{base}/v1/blobs/{unknown}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404);
            let r = http
                .put(format!("{base}/v1/blobs"))
                .body(vec![0u8; 2_100_000])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 413);
        })
    }));
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// The lying proxy's upstream URL and counters (asked, corrupted, sliver
/// requests).
type Counters = (String, Arc<AtomicUsize>, Arc<AtomicUsize>, Arc<AtomicUsize>);

/// A proxy in front of one node that corrupts a byte in the middle of
/// every GET answer (slivers and metadata): a node that lies. `asked`
/// counts the requests it receives, on arrival: a client that already has
/// what it needs drops a slower answer, which cancels the handler, so
/// counting delivered lies (`corrupted`) would depend on timing.
async fn lying_proxy(
    upstream: String,
    asked: Arc<AtomicUsize>,
    corrupted: Arc<AtomicUsize>,
    slivers: Arc<AtomicUsize>,
) -> String {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{StatusCode, Uri};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(
            |State((upstream, asked, corrupted, slivers)): State<Counters>, uri: Uri| async move {
                asked.fetch_add(1, Ordering::SeqCst);
                if uri.path().contains("/slivers/") {
                    slivers.fetch_add(1, Ordering::SeqCst);
                }
                let url = format!("{}{}", upstream.trim_end_matches('/'), uri);
                let Ok(r) = reqwest::get(&url).await else {
                    return (StatusCode::BAD_GATEWAY, Bytes::new());
                };
                let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
                let mut body = r.bytes().await.unwrap_or_default().to_vec();
                if status.is_success() && !body.is_empty() {
                    let middle = body.len() / 2;
                    body[middle] ^= 0xff;
                    corrupted.fetch_add(1, Ordering::SeqCst);
                }
                (status, Bytes::from(body))
            },
        )
        .with_state((upstream, asked, corrupted, slivers));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

#[test]
fn faulty_and_lying_nodes_are_tolerated() {
    let net = Devnet::start();
    let config = net.config();
    let data = pseudo_random(200_000, 5);
    let (blob_id, _) = net.store(&config, &data, &[]);

    // One node (25 of 100 shards; f = 33) serves corrupted bytes: the one
    // holding row 0 (primary sliver 0), so range reads of it must meet the
    // liar. The client finds nodes on chain; an override keyed by the
    // node's BLS key sends its requests to the proxy instead.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let yaml = std::fs::read_to_string(&config).unwrap();
    assert!(
        !yaml.contains("nodes:"),
        "no node list in the client config"
    );
    let id: floe_core::BlobId = blob_id.parse().unwrap();
    let row_0_shard = floe_core::pair_to_shard(0, &id, 100);
    let info = net.json(&["info"]);
    let first_url = info["system"]["committee"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["shards"]
                .as_array()
                .unwrap()
                .contains(&Value::from(row_0_shard))
        })
        .and_then(|m| m["url"].as_str())
        .expect("the holder of row 0 and its URL")
        .trim_end_matches('/')
        .to_owned();
    let manifest = net.manifest();
    let all_nodes = manifest["nodes"].as_array().unwrap();
    // The liar first, then the others.
    let (liar, honest): (Vec<&Value>, Vec<&Value>) = all_nodes
        .iter()
        .partition(|n| n["url"].as_str().unwrap().trim_end_matches('/') == first_url);
    assert_eq!(liar.len(), 1, "the holder of row 0 is one devnet node");
    let nodes: Vec<&Value> = liar.into_iter().chain(honest).collect();
    let override_of = |node: &Value, url: &str| {
        format!(
            "  - public_key: \"{}\"\n    url: \"{url}\"\n",
            node["public_key"].as_str().unwrap()
        )
    };
    let asked = Arc::new(AtomicUsize::new(0));
    let corrupted = Arc::new(AtomicUsize::new(0));
    let slivers_asked = Arc::new(AtomicUsize::new(0));
    let proxy = runtime.block_on(lying_proxy(
        first_url.clone(),
        asked.clone(),
        corrupted.clone(),
        slivers_asked.clone(),
    ));
    let lying = net.dir.path().join("lying.yaml");
    std::fs::write(
        &lying,
        format!("{yaml}node_overrides:\n{}", override_of(nodes[0], &proxy)),
    )
    .unwrap();
    // Metadata is asked of every node at once and slivers with hedging, so
    // whether the liar's request even arrives before an honest answer ends
    // the read is up to timing (under load it often does not). Read until
    // the liar has been asked at least once, at least three times and at
    // most twenty; every read must return the right bytes.
    let mut reads = 0;
    while reads < 3 || (reads < 20 && asked.load(Ordering::SeqCst) == 0) {
        assert_eq!(
            net.read(&lying, &blob_id),
            data,
            "read despite a lying node"
        );
        reads += 1;
    }
    assert!(
        asked.load(Ordering::SeqCst) > 0,
        "the lying node was asked in {reads} reads"
    );
    // Range reads: row 0 is the liar's (200,000 bytes at n = 100: rows of
    // 67 * 88 = 5,896 bytes), so each of these asks it first, rejects its
    // row and falls back; the bytes must still be right.
    for (range, expected) in [
        ("0-99", &data[..100]),
        ("5890-5900", &data[5_890..=5_900]),
        ("0-199999", &data[..]),
    ] {
        let before = slivers_asked.load(Ordering::SeqCst);
        assert!(
            net.read_range(&lying, &blob_id, range) == expected,
            "range {range} despite a lying node"
        );
        assert!(
            slivers_asked.load(Ordering::SeqCst) > before,
            "{range}: the liar was asked for row 0"
        );
    }
    // With every other node unreachable, the liar's answers are all the
    // client gets: it must refuse them rather than return wrong bytes.
    let mut only_liar = format!("{yaml}node_overrides:\n{}", override_of(nodes[0], &proxy));
    for &node in nodes.iter().skip(1) {
        only_liar.push_str(&override_of(node, "http://127.0.0.1:1"));
    }
    let only_liar_path = net.dir.path().join("only-liar.yaml");
    std::fs::write(&only_liar_path, only_liar).unwrap();
    let before = corrupted.load(Ordering::SeqCst);
    let out = net.try_run(&only_liar_path, &["read", &blob_id]);
    assert!(
        !out.status.success(),
        "a read served only by a liar must fail"
    );
    assert!(
        net.try_read_range(&only_liar_path, &blob_id, "0-99")
            .is_err(),
        "a range read served only by a liar must fail"
    );
    assert!(
        corrupted.load(Ordering::SeqCst) > before,
        "the liar's corrupted answers reached the client"
    );

    // Kill another node: store and read still succeed.
    net.kill_node("node-1");
    let more = pseudo_random(150_000, 6);
    let (more_id, _) = net.store(&config, &more, &["--epochs", "2"]);
    assert_eq!(net.read(&config, &more_id), more);
    assert_eq!(net.read(&config, &blob_id), data);
    drop(runtime);
}

/// 50 MiB have 220 MiB of slivers, more than a 64 MiB store buffer, so
/// with that buffer (the default) the store writes its repair primary
/// slivers to a scratch file during the metadata pass and copies each
/// node's pairs out of the blob and the file during the upload; with a
/// spill directory that does not exist it falls back to computing them in
/// a second pass (20 MiB: 88 MiB of slivers); a 1 MiB blob with a one-byte
/// buffer gets one pair per node at a time (a group per pair). All must
/// read back byte for byte (the other tests store blobs small enough for
/// the default buffer: one pass, whole).
#[test]
fn fifty_mib_round_trip() {
    let net = Devnet::start();
    let config = net.config();
    let yaml = std::fs::read_to_string(&config).unwrap();
    assert!(!yaml.contains("limits:"), "the devnet writes no limits");
    let bounded = net.dir.path().join("bounded-buffer.yaml");
    std::fs::write(
        &bounded,
        format!("{yaml}limits:\n  store_buffer_bytes: 67108864\n"),
    )
    .unwrap();
    let data = pseudo_random(50 << 20, 7);
    let (blob_id, _) = net.store(&bounded, &data, &[]);
    assert!(
        net.read(&config, &blob_id) == data,
        "50 MiB (spilled) differ"
    );

    let no_spill = net.dir.path().join("no-spill.yaml");
    let absent = net.dir.path().join("absent-spill-dir");
    std::fs::write(
        &no_spill,
        format!(
            "{yaml}limits:\n  store_buffer_bytes: 67108864\n  store_spill_dir: {}\n",
            absent.display()
        ),
    )
    .unwrap();
    let twenty = pseudo_random(20 << 20, 9);
    let file = net.dir.path().join("twenty");
    std::fs::write(&file, &twenty).unwrap();
    let out = net.try_run(&no_spill, &["store", file.to_str().unwrap(), "--yes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "store without a spill dir: {stderr}");
    assert!(
        stderr.contains("cannot write the store's repair slivers to a scratch file"),
        "the fallback is logged: {stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let twenty_id = v[0]["newlyCreated"]["blobObject"]["blobId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        net.read(&config, &twenty_id) == twenty,
        "20 MiB (two passes, no spill) differ"
    );

    let tiny = net.dir.path().join("tiny-buffer.yaml");
    std::fs::write(&tiny, format!("{yaml}limits:\n  store_buffer_bytes: 1\n")).unwrap();
    let small = pseudo_random(1 << 20, 8);
    let (small_id, _) = net.store(&tiny, &small, &[]);
    assert!(net.read(&config, &small_id) == small, "1 MiB differ");
}
