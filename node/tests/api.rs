//! The REST API against an in-process server on an ephemeral 127.0.0.1 port,
//! spoken to over plain TCP. The test plays the chain follower's part by
//! writing blob objects into the shared store (the follower is not written
//! yet), which is exactly the interface the follower will use.

mod common;

use common::*;
use floe_core::encoding::symbols::GeneralRecoverySymbol;
use floe_core::messages::storage_confirmation::Confirmation;
use floe_core::messages::{BlobPersistenceType, SignedMessage, StorageConfirmationBody};
use floe_core::{Axis, EncodingConfig, pair_to_shard};
use floe_node::config::Limits;

#[tokio::test]
async fn health_openapi_and_metrics() {
    let f = start(Limits::default()).await;
    let health = f.http.get("/v1/health").await;
    assert_eq!(health.status, 200);
    let data = &health.json()["success"]["data"];
    assert_eq!(data["epoch"], EPOCH);
    assert_eq!(data["nShards"], N);
    assert_eq!(data["ownedShards"], serde_json::json!(OWNED));
    assert_eq!(data["publicKey"], f.key.public_key().to_string());
    // The fields Walrus's `ServiceHealthInfo` requires.
    assert!(data["uptime"]["secs"].is_u64(), "{data}");
    assert!(data["uptime"]["nanos"].is_u64(), "{data}");
    assert_eq!(data["nodeStatus"], "Active");
    assert_eq!(data["eventProgress"]["persisted"], 0);
    assert_eq!(data["eventProgress"]["pending"], 0);
    assert_eq!(data["shardSummary"]["owned"], OWNED.len());
    assert_eq!(
        data["shardSummary"]["ownedShardStatus"]["ready"],
        OWNED.len()
    );
    assert_eq!(data["shardSummary"]["readOnly"], 0);

    let api = f.http.get("/v1/api").await.json();
    assert!(
        api["paths"]["/v1/blobs/{blob_id}/metadata"]["put"].is_object(),
        "{api}"
    );

    let metrics = f.http.get("/metrics").await.text();
    assert!(
        metrics.contains("floe_node_http_requests_total"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/v1/health\""), "{metrics}");
}

#[tokio::test]
async fn metadata_is_verified_registered_or_buffered() {
    let f = start(Limits::default()).await;
    let blob = encoded(3000, 1);
    let id = *blob.metadata.blob_id();
    let path = format!("/v1/blobs/{id}/metadata");

    // Metadata under another blob's id.
    let other = *encoded(3000, 2).metadata.blob_id();
    let reply = f
        .http
        .put(
            &format!("/v1/blobs/{other}/metadata"),
            &metadata_body(&blob),
        )
        .await;
    assert_error(&reply, 400, "INVALID_METADATA");
    // Not BCS at all: Walrus's reason for an undecodable body.
    assert_error(
        &f.http.put(&path, b"\x01\x02").await,
        400,
        "INVALID_CONTENT_TYPE",
    );
    assert_error(
        &f.http.get("/v1/blobs/not-an-id/metadata").await,
        400,
        "INVALID_BLOB_ID",
    );

    // Before the node saw the registration: 400 NOT_REGISTERED, the one
    // answer Walrus's TypeScript SDK retries.
    let reply = f.http.put(&path, &metadata_body(&blob)).await;
    assert_error(&reply, 400, "NOT_REGISTERED");
    assert_eq!(reply.json()["error"]["status"], "FAILED_PRECONDITION");
    assert_eq!(
        reply.json()["error"]["details"][0]["domain"],
        "storage.walrus.space"
    );
    let status = f.http.get(&format!("{path}/status")).await.json();
    assert_eq!(status["success"]["data"], "nonexistent");
    let reply = f
        .http
        .put(&format!("{path}?pending=true"), &metadata_body(&blob))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(
        reply.json()["success"]["data"],
        "metadata buffered pending registration"
    );
    assert_error(&f.http.get(&path).await, 404, "METADATA_NOT_FOUND");
    let status = f.http.get(&format!("{path}/status")).await.json();
    assert_eq!(status["success"]["data"], "buffered");

    // The registration is in the store, but the follower has not moved the
    // buffered metadata yet: a read finds nothing and writes nothing.
    register(&f.store, &id, 1, false);
    assert_error(&f.http.get(&path).await, 404, "METADATA_NOT_FOUND");
    assert!(!f.store.has_metadata(&id).unwrap());
    let status = f.http.get(&format!("{path}/status")).await.json();
    assert_eq!(status["success"]["data"], "buffered");
    // The follower stores them once it applied the registration.
    assert!(f.ctx.promote_pending(&id).unwrap());
    let reply = f.http.get(&path).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, blob.metadata.to_bcs());
    assert_eq!(f.http.put(&path, &metadata_body(&blob)).await.status, 200);
    let status = f.http.get(&format!("{path}/status")).await.json();
    assert_eq!(status["success"]["data"], "stored");

    // A second registered blob goes straight to the store.
    let blob2 = encoded(100, 9);
    let id2 = *blob2.metadata.blob_id();
    register(&f.store, &id2, 2, true);
    let reply = f
        .http
        .put(&format!("/v1/blobs/{id2}/metadata"), &metadata_body(&blob2))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
}

#[tokio::test]
async fn slivers_are_checked_for_shard_index_and_hash_then_confirmed() {
    let f = start(Limits::default()).await;
    let blob = encoded(5000, 3);
    let id = *blob.metadata.blob_id();
    register(&f.store, &id, 1, false);
    let owned = pair_on(&id, true);
    let foreign = pair_on(&id, false);

    // No metadata yet.
    let reply = f
        .http
        .put(
            &sliver_path(&id, owned, Axis::Primary),
            &sliver_body(&blob, owned, Axis::Primary),
        )
        .await;
    assert_error(&reply, 400, "METADATA_NOT_FOUND");
    assert_eq!(
        f.http
            .put(&format!("/v1/blobs/{id}/metadata"), &metadata_body(&blob))
            .await
            .status,
        201
    );

    let reply = f
        .http
        .put(
            &sliver_path(&id, foreign, Axis::Primary),
            &sliver_body(&blob, foreign, Axis::Primary),
        )
        .await;
    assert_error(&reply, 400, "SHARD_NOT_ASSIGNED");

    // Right shard, but the body is another pair's sliver.
    let reply = f
        .http
        .put(
            &sliver_path(&id, owned, Axis::Primary),
            &sliver_body(&blob, foreign, Axis::Primary),
        )
        .await;
    assert_error(&reply, 400, "INVALID_SLIVER");

    // Right index, flipped byte.
    let mut sliver = blob.primary[usize::from(owned)].clone();
    let mut data = sliver.data().to_vec();
    data[0] ^= 1;
    sliver =
        floe_core::encoding::SliverData::new(data, sliver.symbol_size(), sliver.index()).unwrap();
    let reply = f
        .http
        .put(&sliver_path(&id, owned, Axis::Primary), &sliver.to_bcs())
        .await;
    assert_error(&reply, 400, "INVALID_SLIVER");
    let reply = f.http.put(&sliver_path(&id, N, Axis::Primary), b"").await;
    assert_error(&reply, 400, "INDEX_OUT_OF_RANGE");

    let confirm = format!("/v1/blobs/{id}/confirmation/permanent");
    assert_error(&f.http.get(&confirm).await, 400, "MISSING_SLIVERS");

    for pair in 0..N {
        let status_path = format!("{}/status", sliver_path(&id, pair, Axis::Primary));
        let status = f.http.get(&status_path).await;
        if !OWNED.contains(&pair_to_shard(pair, &id, N)) {
            assert_error(&status, 400, "SHARD_NOT_ASSIGNED");
            continue;
        }
        assert_eq!(status.json()["success"]["data"], "nonexistent");
        for axis in [Axis::Primary, Axis::Secondary] {
            let reply = f
                .http
                .put(
                    &sliver_path(&id, pair, axis),
                    &sliver_body(&blob, pair, axis),
                )
                .await;
            assert_eq!(reply.status, 201, "{}", reply.text());
            let back = f.http.get(&sliver_path(&id, pair, axis)).await;
            assert_eq!(back.body, sliver_body(&blob, pair, axis));
            // Again: already stored.
            let reply = f
                .http
                .put(
                    &sliver_path(&id, pair, axis),
                    &sliver_body(&blob, pair, axis),
                )
                .await;
            assert_eq!(reply.status, 200, "{}", reply.text());
        }
        let status = f.http.get(&status_path).await.json();
        assert_eq!(status["success"]["data"], "stored");
    }
    assert_error(
        &f.http.get(&sliver_path(&id, foreign, Axis::Primary)).await,
        400,
        "SHARD_NOT_ASSIGNED",
    );

    let reply = f.http.get(&confirm).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let signed: SignedMessage<StorageConfirmationBody> =
        serde_json::from_value(reply.json()["success"]["data"]["signed"].clone()).unwrap();
    let message = signed.verify(&f.key.public_key()).unwrap();
    assert_eq!(
        message,
        Confirmation::confirmation(EPOCH, id, BlobPersistenceType::Permanent)
    );

    // A deletable confirmation needs that object registered.
    let reply = f
        .http
        .get(&format!("/v1/blobs/{id}/confirmation/deletable/0x77"))
        .await;
    assert_error(&reply, 400, "NOT_REGISTERED");

    // Recovery symbols for a primary sliver come from our secondary slivers, with proofs.
    let target = foreign;
    let reply = f
        .http
        .get(&format!(
            "/v1/blobs/{id}/recoverySymbols?targetSliver={target}&targetType=primary"
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let symbols: Vec<GeneralRecoverySymbol> = bcs::from_bytes(&reply.body).unwrap();
    assert_eq!(symbols.len(), OWNED.len());
    let config = EncodingConfig::new(N).unwrap();
    for symbol in &symbols {
        symbol
            .verify(&config, &blob.metadata, Axis::Primary, target)
            .unwrap();
    }
    let reply = f
        .http
        .get(&format!(
            "/v1/blobs/{id}/decodingSymbols?targetSlivers=1,2&targetType=secondary"
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    // Symbols by id (`id=PRIMARY-SECONDARY`): (p, s) is cut from primary
    // sliver p when this node holds it, else from secondary sliver s.
    let held_secondary = N - 1 - owned; // secondary sliver of an owned pair
    let ids = [(owned, 0), (owned, 7), (foreign, held_secondary)];
    let query: Vec<String> = ids.iter().map(|(p, s)| format!("id={p}-{s}")).collect();
    let reply = f
        .http
        .get(&format!(
            "/v1/blobs/{id}/recoverySymbols?{}",
            query.join("&")
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let symbols: Vec<GeneralRecoverySymbol> = bcs::from_bytes(&reply.body).unwrap();
    let mut got: Vec<(u16, u16)> = symbols
        .iter()
        .map(|s| (s.id().primary, s.id().secondary))
        .collect();
    got.sort_unstable();
    let mut want = ids.to_vec();
    want.sort_unstable();
    assert_eq!(got, want);
    for symbol in &symbols {
        let id = symbol.id();
        let (axis, _) = symbol.source();
        // Verified as help for the sliver on the other axis.
        let (target_axis, target) = match axis {
            Axis::Primary => (Axis::Secondary, id.secondary),
            Axis::Secondary => (Axis::Primary, id.primary),
        };
        symbol
            .verify(&config, &blob.metadata, target_axis, target)
            .unwrap();
        let expected_source = if id.primary == owned {
            (Axis::Primary, owned)
        } else {
            (Axis::Secondary, held_secondary)
        };
        assert_eq!(symbol.source(), expected_source);
    }
    // `proofAxis=secondary` takes the symbol from the secondary sliver.
    let reply = f
        .http
        .get(&format!(
            "/v1/blobs/{id}/recoverySymbols?id={owned}-{held_secondary}&proofAxis=secondary"
        ))
        .await;
    let symbols: Vec<GeneralRecoverySymbol> = bcs::from_bytes(&reply.body).unwrap();
    assert_eq!(symbols.len(), 1);
    assert_eq!(symbols[0].source(), (Axis::Secondary, held_secondary));
    // Ids this node cannot serve, and bad filters.
    let not_held = (0..N)
        .find(|&s| !OWNED.contains(&pair_to_shard(N - 1 - s, &id, N)))
        .unwrap();
    let reply = f
        .http
        .get(&format!(
            "/v1/blobs/{id}/recoverySymbols?id={foreign}-{not_held}"
        ))
        .await;
    assert_error(&reply, 404, "SLIVER_NOT_FOUND");
    for (query, reason) in [
        ("id=3", "INVALID_FILTER"),
        ("id=1-2&targetSliver=1&targetType=primary", "INVALID_FILTER"),
        ("targetSliver=1", "INVALID_FILTER"),
        ("", "INVALID_FILTER"),
        (&format!("id=0-{N}") as &str, "INDEX_OUT_OF_RANGE"),
        ("id=0-1&proofAxis=diagonal", "INVALID_SLIVER_TYPE"),
    ] {
        let reply = f
            .http
            .get(&format!("/v1/blobs/{id}/recoverySymbols?{query}"))
            .await;
        assert_error(&reply, 400, reason);
    }

    let status = f.http.get(&format!("/v1/blobs/{id}/status")).await.json();
    let permanent = &status["success"]["data"]["permanent"];
    assert_eq!(permanent["endEpoch"], EPOCH + 5, "{status}");
    assert_eq!(permanent["isCertified"], false);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let f = start(Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    })
    .await;
    let blob = encoded(5000, 4);
    let id = *blob.metadata.blob_id();
    let reply = f
        .http
        .put(
            &format!("/v1/blobs/{id}/slivers/0/primary"),
            &vec![0u8; 4096],
        )
        .await;
    assert_error(&reply, 413, "PAYLOAD_TOO_LARGE");
    // Answers of the body limit (outside the handlers) are counted too.
    let metrics = f.http.get("/metrics").await.text();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("floe_node_http_requests_total")
                && l.contains("slivers")
                && l.contains("status=\"413\"")),
        "{metrics}"
    );
    // Extractor rejections carry a reason too.
    let reply = f
        .http
        .get(&format!("/v1/blobs/{id}/slivers/x/primary"))
        .await;
    assert_error(&reply, 400, "INVALID_REQUEST");
    let reply = f
        .http
        .get(&format!("/v1/blobs/{id}/slivers/0/tertiary"))
        .await;
    assert_error(&reply, 400, "INVALID_SLIVER_TYPE");
    assert_error(
        &f.http.post("/v1/health", b"").await,
        405,
        "METHOD_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn inconsistency_proofs_are_checked_and_attested() {
    use floe_core::encoding::{PrimarySliver, Secondary};
    use floe_core::inconsistency::{InconsistencyProof, Recovered, recover_verified};
    use floe_core::messages::InvalidBlobIdBody;
    use floe_core::{BlobMetadata, UnverifiedBlobMetadataWithId};

    let f = start(Limits::default()).await;
    let config = EncodingConfig::new(N).unwrap();
    let honest = encoded(4000, 7);
    let k_p = usize::from(config.n_primary_source_symbols());
    // A writer commits to garbage as primary sliver 0 (as in floe-core's
    // proof property test), making the blob inconsistent.
    let good = &honest.primary[0];
    let garbage: Vec<u8> = good.data().iter().map(|b| b.wrapping_add(3)).collect();
    let garbage = PrimarySliver::new(garbage, good.symbol_size(), 0).unwrap();
    let BlobMetadata::V1(mut v1) = honest.metadata.metadata().clone();
    v1.hashes[0].primary_hash = garbage.hash(&config).unwrap();
    let metadata = BlobMetadata::V1(v1);
    let forged = UnverifiedBlobMetadataWithId {
        blob_id: metadata.compute_blob_id(),
        metadata: metadata.clone(),
    }
    .verify(&config)
    .unwrap();
    let id = *forged.blob_id();
    register(&f.store, &id, 1, false);
    let reply = f
        .http
        .put(
            &format!("/v1/blobs/{id}/metadata"),
            &bcs::to_bytes(&metadata).unwrap(),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());

    let mut sources: Vec<&PrimarySliver> = vec![&garbage];
    sources.extend(honest.primary[1..].iter().take(k_p - 1));
    let path = format!("/v1/blobs/{id}/inconsistencyProof/secondary");
    let mut attested = false;
    for target in 0..N {
        let symbols = sources
            .iter()
            .map(|s| s.recovery_symbols(&config, &[target]).unwrap().remove(0))
            .collect();
        let Recovered::Inconsistent(proof) =
            recover_verified::<Secondary>(&config, &forged, target, symbols).unwrap()
        else {
            continue; // the garbage agrees at this column
        };
        let reply = f.http.post(&path, &bcs::to_bytes(&proof).unwrap()).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let signed: SignedMessage<InvalidBlobIdBody> =
            serde_json::from_value(reply.json()["success"]["data"].clone()).unwrap();
        let message = signed.verify(&f.key.public_key()).unwrap();
        assert_eq!(
            (message.epoch, message.body),
            (EPOCH, InvalidBlobIdBody(id))
        );

        // The same proof with a symbol missing proves nothing.
        let mut short: InconsistencyProof<Secondary> = proof.clone();
        short.recovery_symbols.pop();
        let reply = f.http.post(&path, &bcs::to_bytes(&short).unwrap()).await;
        assert_error(&reply, 400, "INVALID_PROOF");
        attested = true;
        break;
    }
    assert!(attested, "some column exposes the inconsistency");
    assert_error(
        &f.http.post(&path, b"\x00").await,
        400,
        "INVALID_CONTENT_TYPE",
    );
}

#[tokio::test]
async fn pending_metadata_and_slivers_are_flushed_after_registration() {
    let f = start(Limits::default()).await;
    let blob = encoded(2500, 11);
    let id = *blob.metadata.blob_id();
    let owned = pair_on(&id, true);
    let path = sliver_path(&id, owned, Axis::Secondary);
    let body = sliver_body(&blob, owned, Axis::Secondary);

    // Without pending, a sliver needs the registration.
    assert_error(&f.http.put(&path, &body).await, 400, "NOT_REGISTERED");
    let reply = f
        .http
        .put(
            &format!("/v1/blobs/{id}/metadata?pending=true"),
            &metadata_body(&blob),
        )
        .await;
    assert_eq!(reply.status, 202);
    // A bad sliver is rejected even when buffering.
    let wrong = sliver_body(&encoded(2500, 12), owned, Axis::Secondary);
    let reply = f.http.put(&format!("{path}?pending=true"), &wrong).await;
    assert_error(&reply, 400, "INVALID_SLIVER");
    let reply = f.http.put(&format!("{path}?pending=true"), &body).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    let status = f.http.get(&format!("{path}/status")).await.json();
    assert_eq!(status["success"]["data"], "buffered");
    assert_error(&f.http.get(&path).await, 404, "SLIVER_NOT_FOUND");

    // Registered, not yet applied by the follower: reads (of the sliver,
    // the metadata, the confirmation) neither see nor store the buffer.
    register(&f.store, &id, 1, false);
    assert_error(&f.http.get(&path).await, 404, "SLIVER_NOT_FOUND");
    assert_error(
        &f.http.get(&format!("/v1/blobs/{id}/metadata")).await,
        404,
        "METADATA_NOT_FOUND",
    );
    assert_error(
        &f.http
            .get(&format!("/v1/blobs/{id}/confirmation/permanent"))
            .await,
        400,
        "MISSING_SLIVERS",
    );
    assert!(!f.store.has_metadata(&id).unwrap());
    let status = f.http.get(&format!("{path}/status")).await.json();
    assert_eq!(status["success"]["data"], "buffered");

    // The follower applies the registration: everything buffered is stored.
    assert!(f.ctx.promote_pending(&id).unwrap());
    let reply = f.http.get(&path).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.body, body);
    assert!(f.store.has_metadata(&id).unwrap());
    let status = f.http.get(&format!("{path}/status")).await.json();
    assert_eq!(status["success"]["data"], "stored");
}
