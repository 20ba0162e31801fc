//! Bounds of the upload routes: rejections decided by the route and the
//! node's state come before the body is read, sliver bodies are bounded by
//! what the blob's metadata imply, and concurrency limits shed load with
//! 503 `UNAVAILABLE` while health keeps answering.

mod common;

use std::time::Duration;

use common::*;
use floe_core::Axis;
use floe_node::config::Limits;
use tokio::io::AsyncWriteExt;

/// Announces a body and never sends it: an answer that arrives anyway was
/// decided without the body. A handler that reads first would wait for
/// the node's request budget (set far beyond the test's patience).
async fn answer_without_body(http: &Http, method: &str, path: &str, len: usize) -> Reply {
    let stream = http
        .send_head(method, path, len, Some("application/octet-stream"))
        .await;
    tokio::time::timeout(Duration::from_secs(60), read_reply(stream))
        .await
        .expect("the node answered without reading the body")
}

fn patient() -> Limits {
    Limits {
        request_timeout_ms: 600_000,
        ..Limits::default()
    }
}

#[tokio::test]
async fn uploads_are_rejected_by_route_and_state_before_the_body() {
    let f = start(patient()).await;
    let blob = encoded(5000, 21);
    let id = *blob.metadata.blob_id();
    let owned = pair_on(&id, true);
    let foreign = pair_on(&id, false);
    let big = 4 << 20;

    // Pair index out of range, shard not owned, not registered.
    let reply = answer_without_body(&f.http, "PUT", &sliver_path(&id, N, Axis::Primary), big).await;
    assert_error(&reply, 400, "INDEX_OUT_OF_RANGE");
    let path = sliver_path(&id, foreign, Axis::Secondary);
    let reply = answer_without_body(&f.http, "PUT", &path, big).await;
    assert_error(&reply, 400, "SHARD_NOT_ASSIGNED");
    let path = sliver_path(&id, owned, Axis::Primary);
    let reply = answer_without_body(&f.http, "PUT", &path, big).await;
    assert_error(&reply, 400, "NOT_REGISTERED");
    // A content type other than BCS.
    let stream = f
        .http
        .send_head("PUT", &path, big, Some("text/plain"))
        .await;
    let reply = tokio::time::timeout(Duration::from_secs(60), read_reply(stream))
        .await
        .unwrap();
    assert_error(&reply, 400, "INVALID_CONTENT_TYPE");

    // Registered, but no metadata.
    register(&f.store, &id, 1, false);
    let reply = answer_without_body(&f.http, "PUT", &path, big).await;
    assert_error(&reply, 400, "METADATA_NOT_FOUND");

    // With metadata, a body larger than this blob's sliver can be.
    let metadata_path = format!("/v1/blobs/{id}/metadata");
    assert_eq!(
        f.http
            .put(&metadata_path, &metadata_body(&blob))
            .await
            .status,
        201
    );
    let reply = answer_without_body(&f.http, "PUT", &path, big).await;
    assert_error(&reply, 413, "PAYLOAD_TOO_LARGE");
    // Metadata bodies are bounded by the committee size.
    let reply = answer_without_body(&f.http, "PUT", &metadata_path, big).await;
    assert_error(&reply, 413, "PAYLOAD_TOO_LARGE");

    // The right sliver still goes in.
    let body = sliver_body(&blob, owned, Axis::Primary);
    assert_eq!(f.http.put(&path, &body).await.status, 201);
}

#[tokio::test]
async fn a_full_upload_limit_sheds_with_503_and_health_still_answers() {
    let f = start(Limits {
        max_concurrent_uploads: 1,
        ..patient()
    })
    .await;
    let blob = encoded(5000, 22);
    let id = *blob.metadata.blob_id();
    register(&f.store, &id, 1, false);
    let metadata_path = format!("/v1/blobs/{id}/metadata");
    assert_eq!(
        f.http
            .put(&metadata_path, &metadata_body(&blob))
            .await
            .status,
        201
    );
    let owned = pair_on(&id, true);
    let path = sliver_path(&id, owned, Axis::Primary);
    let body = sliver_body(&blob, owned, Axis::Primary);

    // One upload holds the only permit while its body trickles in.
    let mut slow = f
        .http
        .send_head("PUT", &path, body.len(), Some("application/octet-stream"))
        .await;
    slow.write_all(&body[..1]).await.unwrap();
    // Until the node has dispatched it, another upload may still get the
    // permit; once it has, every other upload is shed at once.
    let other = pair_on(&id, true);
    let other_path = sliver_path(&id, other, Axis::Secondary);
    let other_body = sliver_body(&blob, other, Axis::Secondary);
    let mut shed = None;
    for _ in 0..200 {
        let reply = f.http.put(&other_path, &other_body).await;
        if reply.status == 503 {
            shed = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let shed = shed.expect("a second upload is shed while the first holds the permit");
    assert_error(&shed, 503, "UNAVAILABLE");
    assert_eq!(shed.json()["error"]["details"][0]["domain"], "global");
    // Health and reads are not behind the upload limit.
    assert_eq!(f.http.get("/v1/health").await.status, 200);
    assert_eq!(f.http.get(&metadata_path).await.status, 200);

    // The slow upload completes and the permit is free again.
    slow.write_all(&body[1..]).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(60), read_reply(slow))
        .await
        .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.text());
    let reply = f.http.put(&other_path, &other_body).await;
    assert!(matches!(reply.status, 200 | 201), "{}", reply.text());
}
