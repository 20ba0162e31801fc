//! The daemon's HTTP contract against a fake backend, over a real socket.

use std::collections::HashMap;
use std::sync::Mutex;

use floe_core::EncodingConfig;
use tokio::sync::Notify;

use super::*;
use crate::types::{ResourceOperation, StorageInfo};

#[derive(Default)]
struct Fake {
    blobs: Mutex<HashMap<BlobId, Vec<u8>>>,
    objects: Mutex<HashMap<Address, ObjectWithAttributes>>,
    /// When set, stores announce themselves on `.0` and wait for `.1` (to
    /// fill the concurrency limit).
    gate: Option<(Arc<Notify>, Arc<Notify>)>,
    /// Reads of this id fail as if too few nodes answered.
    unavailable: Option<BlobId>,
    stored_options: Mutex<Vec<StoreOptions>>,
}

fn object(id: Address, blob_id: BlobId, size: u64) -> BlobObject {
    BlobObject {
        id,
        registered_epoch: 0,
        blob_id,
        size,
        encoding_type: 1,
        certified_epoch: Some(0),
        storage: StorageInfo {
            id: Address::ZERO,
            start_epoch: 0,
            end_epoch: 3,
            storage_size: 1,
        },
        deletable: true,
    }
}

impl Backend for Fake {
    fn store(
        &self,
        blob: Vec<u8>,
        options: StoreOptions,
    ) -> BoxFuture<'_, Result<StoreResult, ClientError>> {
        Box::pin(async move {
            if let Some((entered, release)) = &self.gate {
                entered.notify_one();
                release.notified().await;
            }
            let config = EncodingConfig::new(10)?;
            let blob_id = *floe_core::compute_metadata(&config, &blob)?.blob_id();
            let size = blob.len() as u64;
            self.blobs.lock().unwrap().insert(blob_id, blob);
            self.stored_options.lock().unwrap().push(options);
            Ok(StoreResult::NewlyCreated {
                blob_object: object(Address::ZERO, blob_id, size),
                resource_operation: ResourceOperation::RegisterFromScratch,
                cost: 7,
                shared_blob_object: None,
            })
        })
    }

    fn read(&self, blob_id: BlobId) -> BoxFuture<'_, Result<Vec<u8>, ClientError>> {
        Box::pin(async move {
            if self.unavailable == Some(blob_id) {
                return Err(ClientError::NotEnoughNodes("all down".into()));
            }
            self.blobs
                .lock()
                .unwrap()
                .get(&blob_id)
                .cloned()
                .ok_or(ClientError::BlobNotFound(blob_id))
        })
    }

    fn blob_object(
        &self,
        object: Address,
    ) -> BoxFuture<'_, Result<ObjectWithAttributes, ClientError>> {
        Box::pin(async move {
            self.objects
                .lock()
                .unwrap()
                .get(&object)
                .cloned()
                .ok_or_else(|| {
                    ClientError::Chain(floe_chain::ChainError::ObjectNotFound(object.to_string()))
                })
        })
    }

    fn status(&self) -> BoxFuture<'_, Result<serde_json::Value, ClientError>> {
        Box::pin(async { Ok(serde_json::json!({"epoch": 0})) })
    }
}

async fn start(fake: Arc<Fake>, config: DaemonConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = router(fake, config);
    tokio::spawn(serve(listener, app, std::future::pending()));
    format!("http://{address}")
}

fn small_limits() -> DaemonConfig {
    DaemonConfig {
        max_body_bytes: 1024,
        max_concurrent_stores: 1,
        ..DaemonConfig::default()
    }
}

#[tokio::test]
async fn store_then_read_with_ranges() {
    let fake = Arc::new(Fake::default());
    let base = start(fake.clone(), small_limits()).await;
    let http = reqwest::Client::new();
    let data: Vec<u8> = (0..200u8).collect();
    let answer = http
        .put(format!("{base}/v1/blobs?epochs=3&permanent=true"))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let json: serde_json::Value = answer.json().await.unwrap();
    let blob_id = json["newlyCreated"]["blobObject"]["blobId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(json["newlyCreated"]["cost"], 7);
    {
        let options = fake.stored_options.lock().unwrap();
        assert_eq!(options[0].epochs, Epochs::Ahead(3));
        assert!(options[0].permanent);
        assert!(
            options[0].detach_tail,
            "the daemon lets the tail finish in the background"
        );
    }

    let full = http
        .get(format!("{base}/v1/blobs/{blob_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert_eq!(full.bytes().await.unwrap().to_vec(), data);

    let part = http
        .get(format!("{base}/v1/blobs/{blob_id}"))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 10-19/200");
    assert_eq!(part.bytes().await.unwrap().to_vec(), data[10..20].to_vec());

    let suffix = http
        .get(format!("{base}/v1/blobs/{blob_id}"))
        .header("range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(suffix.status(), 206);
    assert_eq!(suffix.bytes().await.unwrap().to_vec(), data[195..].to_vec());

    let bad = http
        .get(format!("{base}/v1/blobs/{blob_id}"))
        .header("range", "bytes=500-")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 416);
    assert_eq!(bad.headers()["content-range"], "bytes */200");
}

#[tokio::test]
async fn errors_have_statuses_and_reasons() {
    let missing = BlobId([3; 32]);
    let down = BlobId([4; 32]);
    let fake = Arc::new(Fake {
        unavailable: Some(down),
        ..Fake::default()
    });
    let base = start(fake, small_limits()).await;
    let http = reqwest::Client::new();

    let reason = |v: serde_json::Value| v["error"]["reason"].as_str().unwrap().to_owned();
    let r = http
        .get(format!("{base}/v1/blobs/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(reason(r.json().await.unwrap()), "BLOB_NOT_FOUND");

    let r = http
        .get(format!("{base}/v1/blobs/{down}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");

    let r = http
        .get(format!("{base}/v1/blobs/not-an-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(reason(r.json().await.unwrap()), "INVALID_BLOB_ID");

    let r = http
        .put(format!("{base}/v1/blobs"))
        .body(vec![0u8; 2048])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    for query in [
        "epochs=0",
        "epochs=x",
        "bogus=1",
        "share=true&send_object_to=0x1",
        "send_object_to=zz",
    ] {
        let r = http
            .put(format!("{base}/v1/blobs?{query}"))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
    }

    let r = http
        .get(format!("{base}/v1/blobs/by-object-id/0x5"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(reason(r.json().await.unwrap()), "OBJECT_NOT_FOUND");

    let r = http.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn by_object_id_serves_allowed_attributes_only() {
    let fake = Arc::new(Fake::default());
    let blob_id = BlobId([8; 32]);
    let id: Address = "0x77".parse().unwrap();
    fake.blobs
        .lock()
        .unwrap()
        .insert(blob_id, b"hello".to_vec());
    let attributes = BTreeMap::from([
        ("Content-Type".to_owned(), "text/plain".to_owned()),
        ("set-cookie".to_owned(), "a=b".to_owned()),
    ]);
    fake.objects
        .lock()
        .unwrap()
        .insert(id, (object(id, blob_id, 5), attributes));
    let base = start(fake, small_limits()).await;
    let r = reqwest::get(format!("{base}/v1/blobs/by-object-id/{id}"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(r.headers()["x-blob-id"], blob_id.to_string().as_str());
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"hello");
}

#[tokio::test]
async fn concurrency_limit_answers_429_and_modes_limit_routes() {
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let fake = Arc::new(Fake {
        gate: Some((entered.clone(), release.clone())),
        ..Fake::default()
    });
    let base = start(fake, small_limits()).await;
    let http = reqwest::Client::new();
    let first = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.put(format!("{base}/v1/blobs"))
                .body("a")
                .send()
                .await
                .unwrap()
        }
    });
    // The first store holds the only permit once it has entered.
    entered.notified().await;
    let second = http
        .put(format!("{base}/v1/blobs"))
        .body("b")
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()["retry-after"], "5");
    release.notify_one();
    assert_eq!(first.await.unwrap().status(), 200);

    let aggregator = start(
        Arc::new(Fake::default()),
        DaemonConfig {
            mode: Mode::Aggregator,
            ..small_limits()
        },
    )
    .await;
    let r = http
        .put(format!("{aggregator}/v1/blobs"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "an aggregator has no store route");
    let api: serde_json::Value = reqwest::get(format!("{aggregator}/v1/api"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(api["paths"].get("/v1/blobs/{blob_id}").is_some());
    assert!(api["paths"].get("/v1/blobs").is_none());
    let status: serde_json::Value = reqwest::get(format!("{aggregator}/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["mode"], "aggregator");
}
