//! A committee of real `floe node run` processes following a real
//! `floe ledger run` on 127.0.0.1 (four nodes, weights 1, 2, 3, 4: n = 10,
//! quorum 7): register on chain, upload, confirm, certify, heal, restart and
//! read back; rejections with their reasons; garbage collection after a
//! deletion; kill -9 during uploads loses nothing acknowledged.

use floe_testkit::nodes as support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use floe_core::encoding::{ConsistencyCheck, EncodingConfig, PrimarySliver, decode_primary};
use floe_core::{UnverifiedBlobMetadataWithId, pair_to_shard};
use support::{Chain, blob, encode, nodes, reason, wait_for};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn committee_stores_confirms_heals_restarts_and_serves() {
    let chain = Chain::start();
    let mut nodes = nodes(&chain, "[limits]\nmax_body_bytes = 1048576\n");
    // Node 2 (3 shards) stays down through the upload: the other 7 shards
    // are a quorum. It must catch up from the chain and heal afterwards.
    for i in [0, 1, 3] {
        nodes[i].start();
    }
    let n = chain.committee.n_shards();
    let data = blob(200_000, 7);
    let encoded = encode(&chain, &data);
    let id = *encoded.metadata.blob_id();
    let metadata = bcs::to_bytes(encoded.metadata.metadata()).unwrap();

    // Before registration: refused, or buffered with ?pending=true.
    let (status, body) = nodes[1].req("PUT", &format!("/v1/blobs/{id}/metadata"), &metadata);
    assert_eq!((status, reason(&body).as_str()), (400, "NOT_REGISTERED"));
    let wrong = floe_core::BlobId([3; 32]);
    let (status, body) = nodes[1].req("PUT", &format!("/v1/blobs/{wrong}/metadata"), &metadata);
    assert_eq!((status, reason(&body).as_str()), (400, "INVALID_METADATA"));
    let (status, _) = nodes[0].req(
        "PUT",
        &format!("/v1/blobs/{id}/metadata?pending=true"),
        &metadata,
    );
    assert_eq!(status, 202);
    for pair in (0..n).filter(|&p| chain.node_of_shard(pair_to_shard(p, &id, n)) == 0) {
        let sliver = encoded.primary[usize::from(pair)].to_bcs();
        let path = format!("/v1/blobs/{id}/slivers/{pair}/primary?pending=true");
        assert_eq!(nodes[0].req("PUT", &path, &sliver).0, 202);
        let sliver = encoded.secondary[usize::from(n - 1 - pair)].to_bcs();
        let path = format!("/v1/blobs/{id}/slivers/{pair}/secondary?pending=true");
        assert_eq!(nodes[0].req("PUT", &path, &sliver).0, 202);
    }

    let object = chain.register(&encoded, false, 5);
    // Node 0's buffered upload is applied when the registration arrives;
    // the others upload now (waiting for the follower where needed).
    for i in [1, 3] {
        wait_for("registration", WAIT, || {
            let (s, _) = nodes[i].req("PUT", &format!("/v1/blobs/{id}/metadata"), &metadata);
            (s == 201 || s == 200).then_some(())
        });
        assert!(nodes[i].upload(&chain, &encoded) > 0);
    }

    // Rejections on a registered blob, each with its reason.
    let owned = (0..n)
        .find(|&p| chain.node_of_shard(pair_to_shard(p, &id, n)) == 3)
        .unwrap();
    let foreign = (0..n)
        .find(|&p| chain.node_of_shard(pair_to_shard(p, &id, n)) != 3)
        .unwrap();
    let mut corrupt = encoded.primary[usize::from(owned)].clone();
    let mut bytes = corrupt.to_bcs();
    // A symbol byte in the middle (the index sits at the end).
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    corrupt = PrimarySliver::from_bcs(&bytes).unwrap();
    let path = format!("/v1/blobs/{id}/slivers/{owned}/primary");
    let (status, body) = nodes[3].req("PUT", &path, &corrupt.to_bcs());
    assert_eq!((status, reason(&body).as_str()), (400, "INVALID_SLIVER"));
    let path = format!("/v1/blobs/{id}/slivers/{foreign}/primary");
    let sliver = encoded.primary[usize::from(foreign)].to_bcs();
    let (status, body) = nodes[3].req("PUT", &path, &sliver);
    assert_eq!(
        (status, reason(&body).as_str()),
        (400, "SHARD_NOT_ASSIGNED")
    );
    let path = format!("/v1/blobs/{id}/slivers/{owned}/primary");
    let (status, body) = nodes[3].req("PUT", &path, &vec![0u8; 2 << 20]);
    assert_eq!((status, reason(&body).as_str()), (413, "PAYLOAD_TOO_LARGE"));

    // Confirmations from a quorum (7 of 10 shards), certificate, certify.
    let confirmations: Vec<(usize, serde_json::Value)> = [0, 1, 3]
        .iter()
        .map(|&i| (chain.member_of_key(i), nodes[i].confirm(&id, None)))
        .collect();
    let certified_event = chain.certify(object, &confirmations);
    let status = wait_for("certified status", WAIT, || {
        let status = nodes[1].get_json(&format!("/v1/blobs/{id}/status"));
        (status["permanent"]["isCertified"] == true).then_some(status)
    });
    // The status names the chain event behind it, as Walrus's nodes do.
    assert_eq!(
        status["permanent"]["statusEvent"], certified_event,
        "{status}"
    );

    // The node that was down catches up from the chain and heals.
    nodes[2].start();
    nodes[2].wait_healed(&chain, &id, WAIT);
    // The node with 4 shards (> f) restarts empty: it recovers secondaries
    // from the peers, then primaries with the help of its own secondaries.
    nodes[3].kill9();
    nodes[3].wipe();
    nodes[3].start();
    nodes[3].wait_healed(&chain, &id, WAIT);
    let (_, metrics) = nodes[3].req("GET", "/metrics", b"");
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("floe_node_recoveries_total{result=\"recovered\"} 8"),
        "{metrics}"
    );

    // Restart every node and read the blob back from them.
    for node in &mut nodes {
        node.kill9();
        node.start();
    }
    let (status, body) = nodes[2].req("GET", &format!("/v1/blobs/{id}/metadata"), b"");
    assert_eq!(status, 200);
    let config = EncodingConfig::new(n).unwrap();
    let metadata = UnverifiedBlobMetadataWithId::from_bcs(&body)
        .unwrap()
        .verify_for(&config, &id)
        .unwrap();
    let mut slivers = Vec::new();
    for pair in 0..n {
        let owner = chain.node_of_shard(pair_to_shard(pair, &id, n));
        let (status, body) = nodes[owner].req(
            "GET",
            &format!("/v1/blobs/{id}/slivers/{pair}/primary"),
            b"",
        );
        assert_eq!(status, 200, "pair {pair} from node {owner}");
        slivers.push(PrimarySliver::from_bcs(&body).unwrap());
    }
    let back = decode_primary(&config, &metadata, &slivers, ConsistencyCheck::Default).unwrap();
    assert_eq!(back, data);
    let health = nodes[0].get_json("/v1/health");
    assert!(health["eventProgress"]["nextCheckpoint"].as_u64().unwrap() > 0);
    assert_eq!(health["nodeStatus"], "Active");

    // The restarted nodes resumed from their cursors: a new registration
    // is the only event node 0 applied since its restart (a replay from
    // genesis would count the first blob's registration and certification).
    let second = encode(&chain, &blob(10_000, 9));
    let second_id = *second.metadata.blob_id();
    chain.register(&second, false, 3);
    wait_for("the second registration", WAIT, || {
        let status = nodes[0].get_json(&format!("/v1/blobs/{second_id}/status"));
        status.get("permanent").map(|_| ())
    });
    let (_, metrics) = nodes[0].req("GET", "/metrics", b"");
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("floe_node_chain_events_total{kind=\"registered\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("kind=\"certified\""), "{metrics}");
}

#[test]
fn deleted_blobs_are_collected_and_kill_9_loses_no_acknowledged_upload() {
    let chain = Chain::start();
    let mut nodes = nodes(&chain, "");
    for node in &mut nodes {
        node.start();
    }

    // A deletable blob: stored, confirmed by object id, certified, deleted
    // on chain, then garbage-collected by every node.
    let data = blob(50_000, 3);
    let encoded = encode(&chain, &data);
    let id = *encoded.metadata.blob_id();
    let object = chain.register(&encoded, true, 5);
    for node in &nodes {
        wait_for("registration", WAIT, || {
            let metadata = bcs::to_bytes(encoded.metadata.metadata()).unwrap();
            let (s, _) = node.req("PUT", &format!("/v1/blobs/{id}/metadata"), &metadata);
            (s == 201 || s == 200).then_some(())
        });
        node.upload(&chain, &encoded);
    }
    let confirmations: Vec<(usize, serde_json::Value)> = (0..4)
        .map(|i| (chain.member_of_key(i), nodes[i].confirm(&id, Some(object))))
        .collect();
    chain.certify(object, &confirmations);
    wait_for("deletable certified", WAIT, || {
        let s = nodes[0].get_json(&format!("/v1/blobs/{id}/status"));
        (s["deletable"]["deletableCounts"]["count_deletable_certified"] == 1).then_some(())
    });
    chain.delete(object);
    for node in &nodes {
        wait_for("garbage collection", WAIT, || {
            let (status, _) = node.req("GET", &format!("/v1/blobs/{id}/metadata"), b"");
            (status == 404).then_some(())
        });
        assert_eq!(
            node.get_json(&format!("/v1/blobs/{id}/status")),
            "nonexistent"
        );
        // Every node owns at least one pair, so "all stored" is false now.
        assert!(!node.has_all_slivers(&chain, &id));
    }

    // kill -9 in the middle of uploads to node 3: every acknowledged PUT is
    // there after the restart.
    let blobs: Vec<_> = (0..4u8)
        .map(|s| encode(&chain, &blob(1_000_000, 10 + s)))
        .collect();
    for encoded in &blobs {
        chain.register(encoded, false, 5);
    }
    let n = chain.committee.n_shards();
    let mut puts: Vec<(String, Vec<u8>)> = Vec::new();
    for encoded in &blobs {
        let id = *encoded.metadata.blob_id();
        let metadata = bcs::to_bytes(encoded.metadata.metadata()).unwrap();
        wait_for("registration", WAIT, || {
            let (s, _) = nodes[3].req("PUT", &format!("/v1/blobs/{id}/metadata"), &metadata);
            (s == 201 || s == 200).then_some(())
        });
        for pair in (0..n).filter(|&p| chain.node_of_shard(pair_to_shard(p, &id, n)) == 3) {
            puts.push((
                format!("/v1/blobs/{id}/slivers/{pair}/primary"),
                encoded.primary[usize::from(pair)].to_bcs(),
            ));
            puts.push((
                format!("/v1/blobs/{id}/slivers/{pair}/secondary"),
                encoded.secondary[usize::from(n - 1 - pair)].to_bcs(),
            ));
        }
    }
    let total = puts.len();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let uploader = {
        let acked = acked.clone();
        let addr = nodes[3].addr;
        std::thread::spawn(move || {
            for (path, body) in puts {
                match support::try_request(addr, "PUT", &path, &body) {
                    // 201 stored, 200 already stored.
                    Ok((200 | 201, _)) => acked.lock().unwrap().push(path),
                    _ => return,
                }
            }
        })
    };
    wait_for("some acknowledged uploads", WAIT, || {
        (acked.lock().unwrap().len() >= total / 3).then_some(())
    });
    nodes[3].kill9();
    uploader.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    nodes[3].start();
    for path in &acked {
        let data = nodes[3].get_json(&format!("{path}/status"));
        assert_eq!(data, "stored", "{path} was acknowledged before kill -9");
    }
}

#[test]
fn healing_an_inconsistent_blob_keeps_the_proof_instead_of_a_sliver() {
    let chain = Chain::start();
    let mut nodes = nodes(&chain, "");
    for i in [0, 1, 3] {
        nodes[i].start();
    }
    let n = chain.committee.n_shards();
    let config = EncodingConfig::new(n).unwrap();
    // The writer commits to a garbage primary sliver for a pair of node 2
    // (down during the upload), so no node ever checks that sliver: the
    // metadata, hence the blob id, are well formed but inconsistent. The
    // forged id moves the pairs around, and which node holds a pair depends
    // on the node ids genesis made, so the input is searched for one whose
    // forged pair is still node 2's.
    let (x, forged) = (0..=u8::MAX)
        .find_map(|seed| {
            let honest = encode(&chain, &blob(30_000, seed));
            let honest_id = *honest.metadata.blob_id();
            let x = (0..n).find(|&p| chain.node_of_shard(pair_to_shard(p, &honest_id, n)) == 2)?;
            let forged = forge(&config, &honest, x);
            let id = *forged.metadata.blob_id();
            (chain.node_of_shard(pair_to_shard(x, &id, n)) == 2).then_some((x, forged))
        })
        .expect("an input whose forged pair stays with node 2");
    let id = *forged.metadata.blob_id();
    let object = chain.register(&forged, false, 5);
    for i in [0, 1, 3] {
        wait_for("registration", WAIT, || {
            let metadata = bcs::to_bytes(forged.metadata.metadata()).unwrap();
            let (s, _) = nodes[i].req("PUT", &format!("/v1/blobs/{id}/metadata"), &metadata);
            (s == 201 || s == 200).then_some(())
        });
        nodes[i].upload(&chain, &forged);
    }
    let confirmations: Vec<(usize, serde_json::Value)> = [0, 1, 3]
        .iter()
        .map(|&i| (chain.member_of_key(i), nodes[i].confirm(&id, None)))
        .collect();
    chain.certify(object, &confirmations);
    nodes[2].start();
    // Node 2 heals its secondaries, then finds that the symbols for pair x
    // decode to a sliver that does not match: it keeps the proof, leaves
    // the queue and stores no sliver for x.
    wait_for("the inconsistency to be found", WAIT, || {
        let (_, metrics) = nodes[2].req("GET", "/metrics", b"");
        String::from_utf8_lossy(&metrics)
            .contains("floe_node_recoveries_total{result=\"inconsistent\"} 1")
            .then_some(())
    });
    let status = nodes[2].get_json(&format!("/v1/blobs/{id}/slivers/{x}/primary/status"));
    assert_eq!(status, "nonexistent");
    let health = nodes[2].get_json("/v1/health");
    assert_eq!(health["recoveryQueue"], 0);
}

/// `encoded` with primary sliver `x` replaced by garbage in the metadata
/// (the slivers themselves are the honest ones).
fn forge(
    config: &EncodingConfig,
    encoded: &floe_core::encoding::EncodedBlob,
    x: u16,
) -> floe_core::encoding::EncodedBlob {
    let original = &encoded.primary[usize::from(x)];
    let garbage: Vec<u8> = original.data().iter().map(|b| b ^ 0x5a).collect();
    let garbage = PrimarySliver::new(garbage, original.symbol_size(), x).unwrap();
    let floe_core::BlobMetadata::V1(mut v1) = encoded.metadata.metadata().clone();
    v1.hashes[usize::from(x)].primary_hash = garbage.hash(config).unwrap();
    let metadata = floe_core::BlobMetadata::V1(v1);
    let forged = UnverifiedBlobMetadataWithId {
        blob_id: metadata.compute_blob_id(),
        metadata,
    }
    .verify(config)
    .unwrap();
    let mut out = encoded.clone();
    out.metadata = forged;
    out
}
