//! The daemon's HTTP contract against a fake backend, over a real socket.

use std::collections::HashMap;
use std::sync::Mutex;

use floe_core::EncodingConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};

use super::*;
use crate::types::{ResourceOperation, StorageInfo};

#[derive(Default)]
pub(super) struct Fake {
    pub(super) blobs: Mutex<HashMap<BlobId, Vec<u8>>>,
    objects: Mutex<HashMap<Address, ObjectWithAttributes>>,
    /// When set, stores announce themselves on `.0` and wait for a permit
    /// of `.1` (to fill the concurrency limit).
    gate: Option<(mpsc::UnboundedSender<()>, Arc<Semaphore>)>,
    /// FROST a store plans to pay.
    cost: u64,
    /// Reads of this id fail as if too few nodes answered.
    unavailable: Option<BlobId>,
    pub(super) stored_options: Mutex<Vec<StoreOptions>>,
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
        approve: CostApproval,
    ) -> BoxFuture<'_, Result<StoreResult, ClientError>> {
        Box::pin(async move {
            if let Some((entered, release)) = &self.gate {
                let _ = entered.send(());
                release.acquire().await.unwrap().forget();
            }
            approve(self.cost)?;
            let config = EncodingConfig::new(10)?;
            let blob_id = *floe_core::compute_metadata(&config, &blob)?.blob_id();
            let size = blob.len() as u64;
            self.blobs.lock().unwrap().insert(blob_id, blob);
            self.stored_options.lock().unwrap().push(options);
            Ok(StoreResult::NewlyCreated {
                blob_object: object(Address::ZERO, blob_id, size),
                resource_operation: ResourceOperation::RegisterFromScratch,
                cost: self.cost,
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

pub(super) async fn start(fake: Arc<Fake>, config: DaemonConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = router(fake, config).unwrap();
    tokio::spawn(serve(listener, app, std::future::pending()));
    format!("http://{address}")
}

pub(super) fn small_limits() -> DaemonConfig {
    DaemonConfig {
        max_body_bytes: 1024,
        max_concurrent_stores: 1,
        ..DaemonConfig::default()
    }
}

#[tokio::test]
async fn store_then_read_with_ranges() {
    let fake = Arc::new(Fake {
        cost: 7,
        ..Fake::default()
    });
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
    // A body far past the limit (more than loopback's socket buffers hold):
    // the client still reads the 413 and its reason, not a broken pipe
    // from a server that answered and closed while the body was in flight.
    let r = http
        .put(format!("{base}/v1/blobs"))
        .body(vec![0u8; 12 << 20])
        .send()
        .await
        .expect("the 413 arrives, not a broken pipe");
    assert_eq!(r.status(), 413);
    assert_eq!(reason(r.json().await.unwrap()), "BODY_TOO_LARGE");

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
async fn stores_beyond_the_limit_queue_and_beyond_the_queue_get_429() {
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let fake = Arc::new(Fake {
        gate: Some((entered_tx, release.clone())),
        ..Fake::default()
    });
    // One store runs, one waits; a third is refused.
    let base = start(
        fake,
        DaemonConfig {
            max_queued_stores: 1,
            ..small_limits()
        },
    )
    .await;
    let http = reqwest::Client::new();
    let put = |body: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move {
            http.put(format!("{base}/v1/blobs"))
                .body(body)
                .send()
                .await
                .unwrap()
        })
    };
    let first = put("a");
    // The first store holds the only running slot once it has entered.
    entered.recv().await.unwrap();
    let (second, third) = (put("b"), put("c"));
    // Exactly one of the two gets the queue slot; the other is refused
    // at once, so its answer arrives while the first still runs.
    let (refused, queued) = match futures::future::select(second, third).await {
        futures::future::Either::Left((r, other)) | futures::future::Either::Right((r, other)) => {
            (r.unwrap(), other)
        }
    };
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "5");
    let json: serde_json::Value = refused.json().await.unwrap();
    assert!(
        json["error"]["message"].as_str().unwrap().contains("queue"),
        "{json}"
    );
    // Releasing lets the first and then the queued store finish.
    release.add_permits(2);
    assert_eq!(first.await.unwrap().status(), 200);
    assert_eq!(queued.await.unwrap().status(), 200, "the queued store ran");
}

#[tokio::test]
async fn without_a_queue_the_limit_answers_429_and_modes_limit_routes() {
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let fake = Arc::new(Fake {
        gate: Some((entered_tx, release.clone())),
        ..Fake::default()
    });
    let base = start(
        fake,
        DaemonConfig {
            max_queued_stores: 0,
            ..small_limits()
        },
    )
    .await;
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
    entered.recv().await.unwrap();
    let second = http
        .put(format!("{base}/v1/blobs"))
        .body("b")
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 429);
    release.add_permits(1);
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

#[tokio::test]
async fn malformed_or_foreign_ranges_are_ignored() {
    let fake = Arc::new(Fake::default());
    let blob_id = BlobId([8; 32]);
    let data = b"0123456789".to_vec();
    fake.blobs.lock().unwrap().insert(blob_id, data.clone());
    let base = start(fake, small_limits()).await;
    let http = reqwest::Client::new();
    for range in ["bytes=5-1", "bytes=abc", "items=0-5"] {
        let r = http
            .get(format!("{base}/v1/blobs/{blob_id}"))
            .header("range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{range}");
        assert!(r.headers().get("content-range").is_none(), "{range}");
        assert_eq!(r.bytes().await.unwrap().to_vec(), data, "{range}");
    }
    let r = http
        .get(format!("{base}/v1/blobs/{blob_id}"))
        .header("range", "bytes=1000-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], "bytes */10");
}

/// Sends raw bytes on a fresh connection and returns the status line.
async fn raw_status(base: &str, request: &[u8]) -> String {
    let address = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    socket.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // The status line is all that is needed; stop at the first line end.
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = socket.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_malformed_chunked_body_is_400_and_a_long_one_413() {
    let base = start(Arc::new(Fake::default()), small_limits()).await;
    let malformed = b"PUT /v1/blobs HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
    let status = raw_status(&base, malformed).await;
    assert!(status.contains(" 400 "), "{status}");
    // A well-formed chunked body past the limit is still 413.
    let mut long =
        b"PUT /v1/blobs HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        long.extend_from_slice(b"200\r\n");
        long.extend_from_slice(&[b'x'; 0x200]);
        long.extend_from_slice(b"\r\n");
    }
    long.extend_from_slice(b"0\r\n\r\n");
    let status = raw_status(&base, &long).await;
    assert!(status.contains(" 413 "), "{status}");
}

#[tokio::test]
async fn the_spending_cap_refuses_stores_past_it() {
    let fake = Arc::new(Fake {
        cost: 7,
        ..Fake::default()
    });
    let base = start(
        fake.clone(),
        DaemonConfig {
            spending_cap: Some(SpendingCap {
                max_frost: 10,
                window: Duration::from_secs(3600),
            }),
            ..small_limits()
        },
    )
    .await;
    let http = reqwest::Client::new();
    let first = http
        .put(format!("{base}/v1/blobs"))
        .body("a")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    // 7 + 7 > 10: refused before paying, with when to come back.
    let second = http
        .put(format!("{base}/v1/blobs"))
        .body("b")
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 429);
    let retry: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 3000, "{retry}");
    let json: serde_json::Value = second.json().await.unwrap();
    assert_eq!(json["error"]["reason"], "SPENDING_CAP_EXCEEDED");
    assert_eq!(fake.blobs.lock().unwrap().len(), 1, "nothing was stored");
}
