//! The REST API against an in-process server on an ephemeral 127.0.0.1 port,
//! spoken to over plain TCP. The test plays the chain follower's part by
//! writing blob objects into the shared store (the follower is not written
//! yet), which is exactly the interface the follower will use.

mod common;

use std::sync::Arc;

use common::{Http, Reply};
use floe_core::bls::BlsSecretKey;
use floe_core::encoding::symbols::GeneralRecoverySymbol;
use floe_core::messages::storage_confirmation::Confirmation;
use floe_core::messages::{BlobPersistenceType, SignedMessage, StorageConfirmationBody};
use floe_core::move_types::ObjectId;
use floe_core::{Axis, BlobId, EncodedBlob, EncodingConfig, encode_blob, pair_to_shard};
use floe_node::api::{AppState, router};
use floe_node::chain_view::{ChainView, CommitteeView};
use floe_node::config::Limits;
use floe_node::store::{BlobObjectInfo, NodeStore};

const N: u16 = 10;
const EPOCH: u32 = 3;
const OWNED: [u16; 4] = [0, 3, 4, 8];

struct Fixture {
    http: Http,
    store: Arc<NodeStore>,
    key: BlsSecretKey,
    _dir: tempfile::TempDir,
}

async fn start(limits: Limits) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(NodeStore::open(dir.path()).unwrap());
    let committee = CommitteeView::new(EPOCH, N, OWNED).unwrap();
    let key = BlsSecretKey::from_seed(&[5; 32]);
    let state = AppState::new(
        store.clone(),
        ChainView::new(committee),
        BlsSecretKey::from_seed(&[5; 32]),
        limits,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Fixture {
        http: Http(addr),
        store,
        key,
        _dir: dir,
    }
}

fn encoded(len: usize, seed: u8) -> EncodedBlob {
    let blob: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(13) ^ seed)
        .collect();
    encode_blob(&EncodingConfig::new(N).unwrap(), &blob).unwrap()
}

fn register(store: &NodeStore, id: &BlobId, object: u8, deletable: bool) {
    let info = BlobObjectInfo {
        deletable,
        registered_epoch: EPOCH,
        end_epoch: EPOCH + 5,
        certified_epoch: None,
        deleted: false,
    };
    store
        .put_blob_object(id, &ObjectId([object; 32]), &info, None)
        .unwrap();
}

fn metadata_body(blob: &EncodedBlob) -> Vec<u8> {
    bcs::to_bytes(blob.metadata.metadata()).unwrap()
}

/// The pair index whose shard this node owns / does not own.
fn pair_on(id: &BlobId, owned: bool) -> u16 {
    (0..N)
        .find(|&p| OWNED.contains(&pair_to_shard(p, id, N)) == owned)
        .unwrap()
}

fn sliver_path(id: &BlobId, pair: u16, axis: Axis) -> String {
    format!("/v1/blobs/{id}/slivers/{pair}/{axis}")
}

fn sliver_body(blob: &EncodedBlob, pair: u16, axis: Axis) -> Vec<u8> {
    match axis {
        Axis::Primary => blob.primary[usize::from(pair)].to_bcs(),
        Axis::Secondary => blob.secondary[usize::from(N - 1 - pair)].to_bcs(),
    }
}

fn assert_error(reply: &Reply, status: u16, reason: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["error"]["details"][0]["reason"], reason, "{json}");
}

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
    assert_error(
        &f.http.put(&path, b"\x01\x02").await,
        400,
        "INVALID_METADATA",
    );
    assert_error(
        &f.http.get("/v1/blobs/not-an-id/metadata").await,
        400,
        "INVALID_BLOB_ID",
    );

    assert_error(
        &f.http.put(&path, &metadata_body(&blob)).await,
        409,
        "BLOB_NOT_REGISTERED",
    );
    let reply = f
        .http
        .put(&format!("{path}?pending=true"), &metadata_body(&blob))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_error(&f.http.get(&path).await, 404, "METADATA_NOT_FOUND");

    // Registration arrives; the buffered metadata are persisted on first use.
    register(&f.store, &id, 1, false);
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
    assert_error(&reply, 409, "METADATA_NOT_STORED");
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
    assert_error(&reply, 421, "SHARD_NOT_ASSIGNED");

    // Right shard, but the body is another pair's sliver.
    let reply = f
        .http
        .put(
            &sliver_path(&id, owned, Axis::Primary),
            &sliver_body(&blob, foreign, Axis::Primary),
        )
        .await;
    assert_error(&reply, 400, "SLIVER_INDEX_MISMATCH");

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
    assert_error(&reply, 400, "SLIVER_VERIFICATION_FAILED");

    let confirm = format!("/v1/blobs/{id}/confirmation/permanent");
    assert_error(&f.http.get(&confirm).await, 409, "NOT_FULLY_STORED");

    for pair in 0..N {
        if f.http
            .get(&format!("{}/status", sliver_path(&id, pair, Axis::Primary)))
            .await
            .status
            != 200
        {
            panic!("status endpoint failed");
        }
        if !OWNED.contains(&pair_to_shard(pair, &id, N)) {
            continue;
        }
        for axis in [Axis::Primary, Axis::Secondary] {
            let reply = f
                .http
                .put(
                    &sliver_path(&id, pair, axis),
                    &sliver_body(&blob, pair, axis),
                )
                .await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            let back = f.http.get(&sliver_path(&id, pair, axis)).await;
            assert_eq!(back.body, sliver_body(&blob, pair, axis));
        }
    }
    assert_error(
        &f.http.get(&sliver_path(&id, foreign, Axis::Primary)).await,
        404,
        "SLIVER_NOT_FOUND",
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
    assert_error(&reply, 409, "BLOB_NOT_REGISTERED");

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
        assert_error(&reply, 400, "INVALID_INCONSISTENCY_PROOF");
        attested = true;
        break;
    }
    assert!(attested, "some column exposes the inconsistency");
    assert_error(
        &f.http.post(&path, b"\x00").await,
        400,
        "INVALID_INCONSISTENCY_PROOF",
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

    // Without pending, a sliver needs stored metadata.
    assert_error(&f.http.put(&path, &body).await, 409, "METADATA_NOT_STORED");
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
    assert_error(&reply, 400, "SLIVER_VERIFICATION_FAILED");
    let reply = f.http.put(&format!("{path}?pending=true"), &body).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_error(&f.http.get(&path).await, 404, "SLIVER_NOT_FOUND");

    register(&f.store, &id, 1, false);
    let reply = f.http.get(&path).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.body, body);
    assert!(f.store.has_metadata(&id).unwrap());
}
