//! Every route of the node's REST API with arbitrary parameters and bodies.
//!
//! Requests are built from the route templates, each parameter either a
//! valid value (a registered blob's id, a pair this node holds, an axis)
//! or hostile text (percent-encoded arbitrary bytes, huge numbers, empty),
//! with arbitrary query strings and bodies that are either mutants of valid
//! ones (metadata, slivers) or random bytes. The node must answer every one
//! with a 2xx/4xx, or 503 when it sheds; never another 5xx, and an error
//! always in the JSON error shape; and it must still be healthy after.
//!
//! Cases: `FLOE_FUZZ_CASES` (default 256); `scripts/fuzz/run` for long runs.

mod common;

use common::*;
use floe_core::{Axis, BlobId};
use floe_node::config::Limits;
use floe_testkit::fuzz::{ParamMix, campaign, check_answer, fill, percent};
use proptest::prelude::*;

struct World {
    runtime: tokio::runtime::Runtime,
    fixture: Fixture,
    blob_id: BlobId,
    metadata: Vec<u8>,
    sliver: Vec<u8>,
}

/// The node's API in this process, on a store in a temporary directory.
/// Owned by the test (not a static, which is never dropped): dropping it
/// stops the runtime, and with it the server, and removes the store.
fn world() -> World {
    {
        let runtime = floe_testkit::runtime();
        let fixture = runtime.block_on(start(Limits {
            max_body_bytes: 64 << 10,
            request_timeout_ms: 10_000,
            ..Limits::default()
        }));
        let blob = encoded(3_000, 9);
        let blob_id = *blob.metadata.blob_id();
        register(&fixture.store, &blob_id, 1, false);
        let pair = pair_on(&blob_id, true);
        World {
            metadata: metadata_body(&blob),
            sliver: sliver_body(&blob, pair, Axis::Primary),
            runtime,
            fixture,
            blob_id,
        }
    }
}

const TEMPLATES: &[&str] = &[
    "/v1/blobs/{blob}/metadata",
    "/v1/blobs/{blob}/metadata/status",
    "/v1/blobs/{blob}/slivers/{pair}/{axis}",
    "/v1/blobs/{blob}/slivers/{pair}/{axis}/status",
    "/v1/blobs/{blob}/confirmation/permanent",
    "/v1/blobs/{blob}/confirmation/deletable/{object}",
    "/v1/blobs/{blob}/recoverySymbols",
    "/v1/blobs/{blob}/decodingSymbols",
    "/v1/blobs/{blob}/inconsistencyProof/{axis}",
    "/v1/blobs/{blob}/status",
    "/v1/health",
    "/v1/api",
    "/metrics",
    "/{junk}",
];

/// A path parameter: valid, or hostile text, percent-encoded as a client
/// must send it.
fn param(valid: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    floe_testkit::fuzz::param(
        valid,
        ParamMix::new(3, 1, 40, &["[0-9]{1,30}", "[A-Za-z0-9_-]{0,60}"]),
    )
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    template: &'static str,
    blob: Option<String>,
    pair: Option<String>,
    axis: Option<String>,
    object: Option<String>,
    junk: String,
    query: String,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Metadata(Vec<(usize, u8)>, usize),
    Sliver(Vec<(usize, u8)>, usize),
    Random(Vec<u8>),
}

fn body() -> impl Strategy<Value = Body> {
    let edits = prop::collection::vec((any::<usize>(), any::<u8>()), 0..4);
    prop_oneof![
        Just(Body::None),
        (edits.clone(), any::<usize>()).prop_map(|(e, cut)| Body::Metadata(e, cut)),
        (edits, any::<usize>()).prop_map(|(e, cut)| Body::Sliver(e, cut)),
        prop::collection::vec(any::<u8>(), 0..2_000).prop_map(Body::Random),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(&["GET", "PUT", "POST", "DELETE", "HEAD"][..]),
        prop::sample::select(TEMPLATES),
        param(&["", "x"]),
        param(&["0", "9", "10", "65535", "-1"]),
        param(&["primary", "secondary", "Primary", ""]),
        param(&[
            "0x01",
            "0101010101010101010101010101010101010101010101010101010101010101",
        ]),
        "[a-z/]{0,20}",
        prop_oneof![
            Just(String::new()),
            "\\?(id|ids|pending|proofAxis|limit|target_sliver|sliver_type)=[A-Za-z0-9,%-]{0,40}",
            prop::collection::vec(any::<u8>(), 0..60).prop_map(|b| format!("?{}", percent(&b))),
        ],
        body(),
    )
        .prop_map(
            |(method, template, blob, pair, axis, object, junk, query, body)| Case {
                method,
                template,
                blob,
                pair,
                axis,
                object,
                junk,
                query,
                body,
            },
        )
}

fn mutate(valid: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut b = valid.to_vec();
    for (at, byte) in edits {
        if !b.is_empty() {
            let i = at % b.len();
            b[i] = *byte;
        }
    }
    if cut.is_multiple_of(4) {
        b.truncate(cut % (b.len() + 1));
    }
    b
}

impl Case {
    fn path(&self, w: &World) -> String {
        let blob_id = w.blob_id.to_string();
        fill(
            self.template,
            &[
                ("blob", self.blob.as_deref().unwrap_or(&blob_id)),
                ("pair", self.pair.as_deref().unwrap_or("1")),
                ("axis", self.axis.as_deref().unwrap_or("primary")),
                ("object", self.object.as_deref().unwrap_or("0x01")),
                ("junk", &self.junk),
            ],
        ) + &self.query
    }

    fn body(&self, w: &World) -> Option<Vec<u8>> {
        match &self.body {
            Body::None => None,
            Body::Metadata(e, cut) => Some(mutate(&w.metadata, e, *cut)),
            Body::Sliver(e, cut) => Some(mutate(&w.sliver, e, *cut)),
            Body::Random(b) => Some(b.clone()),
        }
    }
}

#[test]
fn no_route_answers_a_5xx_other_than_503_and_the_node_survives() {
    let world = world();
    let w = &world;
    campaign(&case(), |case| {
        let path = case.path(w);
        let body = case.body(w);
        let reply = w
            .runtime
            .block_on(w.fixture.http.request(case.method, &path, body.as_deref()));
        check_answer(
            &format!("{} {path}", case.method),
            case.method,
            reply.status,
            &reply.body,
            true,
            |j, _| j["error"]["code"].is_u64(),
        )
    });
    let health = w.runtime.block_on(w.fixture.http.get("/v1/health"));
    assert_eq!(health.status, 200, "{}", health.text());
    // Nothing outlives the test: the server stops and the store is gone.
    let addr = w.fixture.http.0;
    let store_dir = w.fixture._dir.path().to_owned();
    drop(world);
    assert!(!store_dir.exists(), "the node's store was left behind");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the node still serves after the test dropped it"
    );
}
