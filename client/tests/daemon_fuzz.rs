//! Every route of the publisher/aggregator daemon with arbitrary input.
//!
//! Requests are built from the daemon's routes (and unknown ones), with
//! any method, each path parameter valid (a stored blob's id, a known Blob
//! object) or hostile (percent-encoded arbitrary bytes, long or empty
//! text), arbitrary store queries (Walrus's `PublisherQuery` keys with odd
//! values, unknown keys), `Range` headers of every shape, bearer tokens
//! (for the daemon that requires a JWT) and bodies. The backend is a fake
//! that always works, so any 5xx is the daemon's own: every answer must
//! be 2xx/3xx/4xx, or 503 when it sheds load; errors always in the JSON
//! error shape (`{"error": {"code", "reason", "message"}}`); and the
//! daemon must still answer `GET /status` after the campaign.
//!
//! Cases: `FLOE_FUZZ_CASES` (default 256); `scripts/fuzz/run` for long runs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use floe_chain::sui_sdk_types::Address;
use floe_client::daemon::auth::{AuthConfig, JwtKey};
use floe_client::daemon::{Backend, CostApproval, DaemonConfig, ObjectWithAttributes, router};
use floe_client::types::StorageInfo;
use floe_client::{BlobObject, ClientError, ResourceOperation, StoreOptions, StoreResult};
use floe_core::{BlobId, EncodingConfig};
use floe_testkit::fuzz::{ParamMix, campaign, check_answer, fill, percent};
use futures::future::BoxFuture;
use http::Request;
use proptest::prelude::*;
use tower::ServiceExt;

/// A backend that always works: stores in memory, knows one Blob object.
#[derive(Default)]
struct Fake {
    blobs: Mutex<HashMap<BlobId, Vec<u8>>>,
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

/// The id of the one Blob object the fake knows.
const OBJECT: &str = "0x01";

impl Backend for Fake {
    fn store(
        &self,
        blob: Vec<u8>,
        _options: StoreOptions,
        approve: CostApproval,
    ) -> BoxFuture<'_, Result<StoreResult, ClientError>> {
        Box::pin(async move {
            approve(1_000)?;
            let config = EncodingConfig::new(10)?;
            let blob_id = *floe_core::compute_metadata(&config, &blob)?.blob_id();
            let size = blob.len() as u64;
            self.blobs.lock().unwrap().insert(blob_id, blob);
            Ok(StoreResult::NewlyCreated {
                blob_object: object(Address::ZERO, blob_id, size),
                resource_operation: ResourceOperation::RegisterFromScratch,
                cost: 1_000,
                shared_blob_object: None,
            })
        })
    }

    fn read(&self, blob_id: BlobId) -> BoxFuture<'_, Result<Vec<u8>, ClientError>> {
        Box::pin(async move {
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
        object_id: Address,
    ) -> BoxFuture<'_, Result<ObjectWithAttributes, ClientError>> {
        Box::pin(async move {
            if object_id != OBJECT.parse().unwrap() {
                return Err(ClientError::Chain(floe_chain::ChainError::ObjectNotFound(
                    object_id.to_string(),
                )));
            }
            let blob_id = *self
                .blobs
                .lock()
                .unwrap()
                .keys()
                .next()
                .expect("the world stores a blob first");
            let mut attributes = BTreeMap::new();
            attributes.insert("content-type".to_owned(), "text/plain".to_owned());
            Ok((object(object_id, blob_id, 3_000), attributes))
        })
    }

    fn status(&self) -> BoxFuture<'_, Result<serde_json::Value, ClientError>> {
        Box::pin(async { Ok(serde_json::json!({ "epoch": 1 })) })
    }
}

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-fuzz";

struct World {
    runtime: tokio::runtime::Runtime,
    open: Router,
    with_auth: Router,
    blob_id: String,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = floe_testkit::runtime();
        let backend = Arc::new(Fake::default());
        let config = DaemonConfig {
            max_body_bytes: 64 << 10,
            ..DaemonConfig::default()
        };
        let open = router(backend.clone(), config.clone()).unwrap();
        let with_auth = router(
            backend.clone(),
            DaemonConfig {
                auth: Some(AuthConfig {
                    key: JwtKey::Hs256(SECRET.to_vec()),
                    max_token_lifetime: std::time::Duration::from_secs(3600),
                    max_tracked_tokens: 1000,
                }),
                ..config
            },
        )
        .unwrap();
        let data: Vec<u8> = (0..3_000u32).map(|i| (i * 7) as u8).collect();
        let blob_id = runtime.block_on(async {
            let answer = open
                .clone()
                .oneshot(
                    Request::put("/v1/blobs")
                        .body(Body::from(data.clone()))
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            let body = axum::body::to_bytes(answer.into_body(), 1 << 20)
                .await
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            v["newlyCreated"]["blobObject"]["blobId"]
                .as_str()
                .unwrap()
                .to_owned()
        });
        World {
            runtime,
            open,
            with_auth,
            blob_id,
        }
    })
}

const TEMPLATES: &[&str] = &[
    "/v1/blobs",
    "/v1/blobs/{blob}",
    "/v1/blobs/by-object-id/{object}",
    "/status",
    "/v1/api",
    "/{junk}",
];

/// A path parameter: `None` is the valid value.
fn param(valid: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    floe_testkit::fuzz::param(valid, ParamMix::new(3, 1, 60, &["[A-Za-z0-9_-]{0,80}"]))
}

fn query() -> impl Strategy<Value = String> {
    let key = prop::sample::select(
        &[
            "epochs",
            "permanent",
            "deletable",
            "force",
            "share",
            "send_object_to",
            "unknown",
        ][..],
    );
    let value = prop_oneof![
        prop::sample::select(
            &[
                "1",
                "0",
                "max",
                "true",
                "false",
                "53",
                "4294967296",
                "-1",
                "0x1",
                "",
                "yes",
            ][..]
        )
        .prop_map(str::to_owned),
        prop::collection::vec(any::<u8>(), 0..30).prop_map(|b| percent(&b)),
    ];
    prop_oneof![
        2 => Just(String::new()),
        3 => prop::collection::vec((key, value), 1..4).prop_map(|pairs| {
            let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("?{}", pairs.join("&"))
        }),
        1 => prop::collection::vec(any::<u8>(), 0..60).prop_map(|b| format!("?{}", percent(&b))),
    ]
}

fn range() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        2 => (0u64..4_000, 0u64..4_000).prop_map(|(a, b)| Some(format!("bytes={a}-{b}"))),
        1 => (0u64..4_000).prop_map(|a| Some(format!("bytes={a}-"))),
        1 => (0u64..5_000).prop_map(|a| Some(format!("bytes=-{a}"))),
        1 => any::<u64>().prop_map(|a| Some(format!("bytes=0-{a}"))),
        1 => "[ -~]{0,40}".prop_map(Some),
        1 => Just(Some("bytes=0-1,5-9".to_owned())),
        1 => Just(Some("items=0-5".to_owned())),
    ]
}

fn token() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        1 => "[A-Za-z0-9_.-]{0,200}".prop_map(|t| Some(format!("Bearer {t}"))),
        1 => (any::<u64>(), "[a-z]{0,8}").prop_map(|(exp, jti)| {
            // A well-formed token with arbitrary claims, signed right.
            let claims = serde_json::json!({ "exp": exp, "jti": jti, "max_size": exp % 5000 });
            let token = jsonwebtoken::encode(
                &jsonwebtoken::Header::default(),
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(SECRET).unwrap(),
            )
            .unwrap();
            Some(format!("Bearer {token}"))
        }),
        1 => "[ -~]{0,60}".prop_map(Some),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    template: &'static str,
    blob: Option<String>,
    object: Option<String>,
    junk: String,
    query: String,
    range: Option<String>,
    token: Option<String>,
    body: Vec<u8>,
    auth: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            prop::sample::select(&["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"][..]),
            prop::sample::select(TEMPLATES),
            param(&["", "x", "AAAA", "0"]),
            param(&[
                "0x1",
                "1",
                "0x",
                "0x0000000000000000000000000000000000000000000000000000000000000002",
            ]),
            "[a-z/.]{0,20}",
        ),
        (
            query(),
            range(),
            token(),
            prop_oneof![
                Just(Vec::new()),
                prop::collection::vec(any::<u8>(), 0..3_000),
                (0usize..70_000).prop_map(|n| vec![7u8; n]),
            ],
            any::<bool>(),
        ),
    )
        .prop_map(
            |((method, template, blob, object, junk), (query, range, token, body, auth))| Case {
                method,
                template,
                blob,
                object,
                junk,
                query,
                range,
                token,
                body,
                auth,
            },
        )
}

impl Case {
    fn path(&self, w: &World) -> String {
        fill(
            self.template,
            &[
                ("blob", self.blob.as_deref().unwrap_or(&w.blob_id)),
                ("object", self.object.as_deref().unwrap_or(OBJECT)),
                ("junk", &self.junk),
            ],
        ) + &self.query
    }
}

async fn send(app: &Router, case: &Case, path: &str) -> (u16, Vec<u8>) {
    let mut request = Request::builder().method(case.method).uri(path);
    if let Some(r) = &case.range
        && let Ok(v) = http::HeaderValue::from_str(r)
    {
        request = request.header(http::header::RANGE, v);
    }
    if let Some(t) = &case.token
        && let Ok(v) = http::HeaderValue::from_str(t)
    {
        request = request.header(http::header::AUTHORIZATION, v);
    }
    let request = request.body(Body::from(case.body.clone())).unwrap();
    let answer = app.clone().oneshot(request).await.unwrap();
    let status = answer.status().as_u16();
    let body = axum::body::to_bytes(answer.into_body(), 64 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn no_route_answers_a_5xx_other_than_503_and_the_daemon_survives() {
    let w = world();
    campaign(&case(), |case| {
        let path = case.path(w);
        let app = if case.auth { &w.with_auth } else { &w.open };
        let (status, body) = w.runtime.block_on(send(app, &case, &path));
        check_answer(
            &format!("{} {path} (auth {})", case.method, case.auth),
            case.method,
            status,
            &body,
            true,
            |j, status| {
                j["error"]["code"] == status
                    && j["error"]["reason"].is_string()
                    && j["error"]["message"].is_string()
            },
        )
    });
    for app in [&w.open, &w.with_auth] {
        let answer = w.runtime.block_on(
            app.clone()
                .oneshot(Request::get("/status").body(Body::empty()).unwrap()),
        );
        assert_eq!(answer.unwrap().status(), 200);
    }
}
