//! `floe node run` in static test mode (a `[committee]` table, no chain) as
//! a real process on 127.0.0.1: start, rejections with their reasons, 413,
//! kill -9 and restart on the same data directory.
//!
//! A static node follows no chain, so no blob is registered on it; the
//! chain-following committee (registration, uploads, certification,
//! healing, GC, kill -9 during uploads) is tested in `node_chain.rs`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use floe_core::{EncodingConfig, encode_blob, pair_to_shard};
use floe_testkit::http::{reason, request};
use floe_testkit::{Proc, floe};

const N: u16 = 10;
const OWNED: [u16; 3] = [1, 2, 7];

/// Starts the node and waits for its listening line (log beside the config).
fn start(config: &Path) -> (Proc, SocketAddr) {
    let mut cmd = floe();
    cmd.args(["--json", "node", "run", "--config"]).arg(config);
    let child = Proc::spawn(&mut cmd, &config.with_extension("log"));
    let v = child.first_json(Duration::from_secs(120));
    assert_eq!(v["event"], "listening");
    let addr = v["address"].as_str().unwrap().parse().unwrap();
    (child, addr)
}

#[test]
fn node_process_rejects_with_reasons_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("node.bls");
    let out = floe()
        .args(["node", "keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nlisten = \"127.0.0.1:0\"\nbls_key_file = \"node.bls\"\n\
             [committee]\nepoch = 2\nn_shards = {N}\nowned_shards = {OWNED:?}\n\
             [limits]\nmax_body_bytes = 65536\n"
        ),
    )
    .unwrap();

    let (mut child, addr) = start(&config);
    let (status, body) = request(addr, "GET", "/v1/health", b"");
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["success"]["data"]["epoch"], 2);

    let blob: Vec<u8> = (0..4000u32).map(|i| (i * 7) as u8).collect();
    let encoded = encode_blob(&EncodingConfig::new(N).unwrap(), &blob).unwrap();
    let id = *encoded.metadata.blob_id();
    let metadata = bcs::to_bytes(encoded.metadata.metadata()).unwrap();

    // Metadata under a wrong blob id.
    let wrong = floe_core::BlobId([3; 32]);
    let (status, body) = request(
        addr,
        "PUT",
        &format!("/v1/blobs/{wrong}/metadata"),
        &metadata,
    );
    assert_eq!((status, reason(&body).as_str()), (400, "INVALID_METADATA"));
    // Right id, but not registered.
    let (status, body) = request(addr, "PUT", &format!("/v1/blobs/{id}/metadata"), &metadata);
    assert_eq!((status, reason(&body).as_str()), (400, "NOT_REGISTERED"));
    let (status, _) = request(
        addr,
        "PUT",
        &format!("/v1/blobs/{id}/metadata?pending=true"),
        &metadata,
    );
    assert_eq!(status, 202);
    // A sliver for a shard this node does not own.
    let foreign = (0..N)
        .find(|&p| !OWNED.contains(&pair_to_shard(p, &id, N)))
        .unwrap();
    let sliver = encoded.primary[usize::from(foreign)].to_bcs();
    let (status, body) = request(
        addr,
        "PUT",
        &format!("/v1/blobs/{id}/slivers/{foreign}/primary"),
        &sliver,
    );
    assert_eq!(
        (status, reason(&body).as_str()),
        (400, "SHARD_NOT_ASSIGNED")
    );
    // An owned shard, not registered (the metadata are only pending).
    let owned = (0..N)
        .find(|&p| OWNED.contains(&pair_to_shard(p, &id, N)))
        .unwrap();
    let sliver = encoded.primary[usize::from(owned)].to_bcs();
    let (status, body) = request(
        addr,
        "PUT",
        &format!("/v1/blobs/{id}/slivers/{owned}/primary"),
        &sliver,
    );
    assert_eq!((status, reason(&body).as_str()), (400, "NOT_REGISTERED"));
    // Oversized body.
    let (status, _) = request(
        addr,
        "PUT",
        &format!("/v1/blobs/{id}/slivers/{owned}/primary"),
        &vec![0u8; 100_000],
    );
    assert_eq!(status, 413);

    // kill -9, restart on the same directory.
    child.kill9();
    let (mut child, addr) = start(&config);
    let (status, _) = request(addr, "GET", "/v1/health", b"");
    assert_eq!(status, 200);
    let (status, body) = request(addr, "GET", &format!("/v1/blobs/{id}/status"), b"");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["success"]["data"], "nonexistent");
    child.kill9();
}
