//! The `floe blob-id` binary end to end, against known Walrus answers.

use std::io::Write;
use std::process::Stdio;

use floe_testkit::floe;

#[test]
fn json_output_has_every_field_and_the_official_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob.bin");
    let data: Vec<u8> = (0..1024usize)
        .map(|i| ((i * 7 + 13) & 0xff) as u8)
        .collect();
    std::fs::write(&path, &data).unwrap();
    let out = floe()
        .args(["blob-id", "--n-shards", "10", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["blob_id"], "63iDfAvJvzuXFaS3prhis4RosAMZhU7ww07nilANZ8g");
    assert_eq!(v["unencoded_length"], 1024);
    assert_eq!(v["n_shards"], 10);
    assert_eq!(v["symbol_size"], 38);
    assert_eq!(v["primary_sliver_len"], 266);
    assert_eq!(v["secondary_sliver_len"], 152);
    assert_eq!(v["root_hash"].as_str().unwrap().len(), 64);
}

#[test]
fn stdin_and_default_shard_count() {
    let mut child = floe()
        .args(["blob-id", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&hex::decode("00010203040506070809").unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "hlykhHkQSpvcE299ZzC385IAEuzLTpm6hUC5Njdm4JM"
    );
}

#[test]
fn empty_file_and_too_large_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let out = floe()
        .args(["blob-id", "--json"])
        .arg(&empty)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["blob_id"], "3GPQL3HZNnFhN_F7l5Aa-X1VOtAKwIsg9zuWk8R81v4");

    let big = dir.path().join("big");
    std::fs::write(&big, vec![0u8; 1_834_953]).unwrap();
    let out = floe()
        .args(["blob-id", "--n-shards", "10"])
        .arg(&big)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("1834952"), "{err}");
}

#[test]
fn bad_arguments_are_explained() {
    let out = floe()
        .args(["blob-id", "--n-shards", "3", "-"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("at least 4 shards"), "{err}");

    let out = floe().args(["blob-id", "/nonexistent/x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("cannot open")
    );

    let out = floe()
        .args(["blob-id", "--json", "/nonexistent/x"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(v["error"].as_str().unwrap().contains("cannot open"));
}

/// About one blob id in 64 starts with `-` (URL-safe base64); the client
/// commands must still take it as the id, not as an unknown flag.
#[test]
fn blob_ids_starting_with_a_hyphen_are_ids() {
    let id = "-DP0K84fYeXmkd9ELZs08wl1CjKSd-Sh6Tklj6RP-VA";
    for args in [
        vec!["read", id],
        vec!["blob-status", id],
        vec!["delete", "--blob-id", id],
    ] {
        let out = floe()
            .args(&args)
            .args(["--config", "/nonexistent/floe/client.yaml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            !stderr.contains("unexpected argument") && stderr.contains("client config"),
            "{args:?}: {stderr}"
        );
    }
}
