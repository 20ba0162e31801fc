//! Every route of the explorer (its HTML pages, `/search`, `/health`,
//! `/metrics`, unknown paths) with arbitrary input, end to end: explorer ->
//! indexer API -> a managed Postgres of the test's own holding a few
//! indexed blobs.
//!
//! Requests are built from every route template, each path parameter
//! valid (an indexed blob's blob id and object id, its owner, an epoch, an
//! account section) or hostile (percent-encoded arbitrary bytes, huge or
//! negative numbers, long text), with query strings of the pages'
//! parameter names and odd values (limits out of range, cursors of every
//! shape and length, unknown and repeated names) or arbitrary bytes, any
//! method, odd headers and arbitrary bodies. The indexer is up and requests
//! come one at a time, so no answer may be a 5xx (a 502 would be the
//! explorer sending the indexer something it cannot answer; a 503 would be
//! load shedding that cannot happen here). Every answer is bounded in size;
//! every error is the explorer's HTML error page with its reason; and the
//! explorer still answers `/health` and `/` after the campaign.
//!
//! Slow-ish: starts a Postgres cluster (a few seconds). Cases:
//! `FLOE_FUZZ_CASES` (default 256); `scripts/fuzz/run` for long runs.

use floe_explorer::{Explorer, ExplorerConfig, Limits};
use floe_indexer::ManagedPostgres;
use floe_indexer::sample::{self, object_id};
use floe_testkit::fuzz::{config, percent};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

/// Largest page the explorer may answer with a handful of rows (pages
/// hold at most 200 rows; these hold a few).
const MAX_ANSWER: usize = 1 << 20;

struct World {
    runtime: tokio::runtime::Runtime,
    base: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
    _pg: ManagedPostgres,
    _dir: tempfile::TempDir,
}

fn blob_id(n: u64) -> String {
    floe_core::BlobId([n as u8; 32]).to_string()
}

const OWNER: &str = "0x00000000000000000000000000000000000000000000000000000000000000aa";

/// The indexer API on a Postgres of the test's own holding three blobs
/// (blob ids [`blob_id`]) and the explorer over it, both in this process;
/// stopped when the world is dropped.
fn world() -> World {
    let runtime = floe_testkit::runtime();
    let dir = tempfile::tempdir().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (pg, base) = runtime.block_on(async {
        let (pg, indexer_url) = sample::serve(dir.path(), blob_id).await;
        let explorer = Explorer::bind(&ExplorerConfig {
            indexer_url,
            aggregator_url: Some("http://127.0.0.1:9".into()),
            listen: "127.0.0.1:0".parse().unwrap(),
            limits: Limits::default(),
        })
        .await
        .unwrap();
        let base = format!("http://{}", explorer.addr);
        tokio::spawn(explorer.run(async {
            let _ = stopped.await;
        }));
        (pg, base)
    });
    World {
        runtime,
        base,
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _stop: stop,
        _pg: pg,
        _dir: dir,
    }
}

const TEMPLATES: &[&str] = &[
    "/",
    "/search",
    "/blobs",
    "/blobs/{blob}",
    "/objects/{object}",
    "/accounts/{address}",
    "/accounts/{address}/{section}",
    "/epochs",
    "/epochs/{epoch}",
    "/nodes",
    "/nodes/{object}",
    "/governance",
    "/governance/{object}",
    "/subsidies",
    "/health",
    "/metrics",
    "/{junk}",
];

const KEYS: &[&str] = &[
    "q", "status", "kind", "cursor", "limit", "from", "to", "order", "unknown",
];

const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "25",
    "200",
    "201",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999",
    "1.5",
    "1e3",
    "true",
    "certified",
    "expired",
    "registered",
    "open",
    "passed",
    "parameters",
    "upgrade",
    "0x",
    "0x0",
    "0x2",
    "0xzz",
    OWNER,
    "0x00000000000000000000000000000000000000000000000000000000000000001",
    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
    "1:2",
    "1:2:3",
    "-1:-1",
    "9223372036854775807:0",
    "%00",
    "%FF%FE",
    "%",
    "%zz",
    "'",
    "\\",
    "<script>",
];

/// A path parameter: `None` is the valid value.
fn param(valid: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        2 => prop::sample::select(valid).prop_map(|v| Some(v.to_owned())),
        1 => prop::collection::vec(any::<u8>(), 0..70).prop_map(|b| Some(percent(&b))),
        1 => "[0-9]{1,30}".prop_map(Some),
        1 => "-?[0-9a-fx]{0,80}".prop_map(Some),
        1 => "[A-Za-z0-9_-]{40,46}".prop_map(Some),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        4 => prop::sample::select(VALUES).prop_map(str::to_owned),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| percent(&b)),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => (1usize..400).prop_map(|n| "9".repeat(n)),
    ];
    prop_oneof![
        2 => Just(String::new()),
        4 => prop::collection::vec((prop::sample::select(KEYS), value), 1..4).prop_map(|pairs| {
            let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("?{}", pairs.join("&"))
        }),
        1 => prop::collection::vec(any::<u8>(), 0..60).prop_map(|b| format!("?{}", percent(&b))),
        1 => "[a-z=&%;+]{0,40}".prop_map(|q| format!("?{q}")),
    ]
}

/// Headers a browser, a crawler or an attacker may send.
fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let name = prop::sample::select(
        &[
            "accept",
            "accept-encoding",
            "content-type",
            "content-length-x",
            "range",
            "cookie",
            "if-none-match",
            "x-forwarded-for",
            "x-junk",
        ][..],
    )
    .prop_map(str::to_owned);
    let value = prop_oneof![
        prop::sample::select(
            &[
                "*/*",
                "text/html",
                "application/json",
                "gzip, br",
                "bytes=0-5",
                "bytes=abc",
                "\"etag\"",
                "",
            ][..]
        )
        .prop_map(|v| v.as_bytes().to_vec()),
        // Visible ASCII and obs-text: every byte a header value may carry.
        prop::collection::vec(
            prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')],
            0..300
        ),
    ];
    prop::collection::vec((name, value), 0..3)
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    template: &'static str,
    object: Option<String>,
    blob: Option<String>,
    address: Option<String>,
    epoch: Option<String>,
    section: Option<String>,
    junk: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(
            &[
                "GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
            ][..],
        ),
        prop::sample::select(TEMPLATES),
        param(&[
            "0x0000000000000000000000000000000000000000000000000000000000000001",
            "0x1",
            "0x2",
            OWNER,
        ]),
        param(&[
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
            "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI",
            "blob1",
        ]),
        param(&[OWNER, "0xaa"]),
        param(&["0", "1", "5", "4294967295", "4294967296", "-1"]),
        param(&["blobs", "storage", "stakes", "payments", "rewards"]),
        "[a-z/._-]{0,30}",
        query(),
        headers(),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec(any::<u8>(), 0..2048),
        ],
    )
        .prop_map(
            |(
                method,
                template,
                object,
                blob,
                address,
                epoch,
                section,
                junk,
                query,
                headers,
                body,
            )| Case {
                method,
                template,
                object,
                blob,
                address,
                epoch,
                section,
                junk,
                query,
                headers,
                body,
            },
        )
}

impl Case {
    fn path(&self) -> String {
        let first = object_id(1);
        let blob = blob_id(1);
        self.template
            .replace("{object}", self.object.as_deref().unwrap_or(&first))
            .replace("{blob}", self.blob.as_deref().unwrap_or(&blob))
            .replace("{address}", self.address.as_deref().unwrap_or(OWNER))
            .replace("{epoch}", self.epoch.as_deref().unwrap_or("1"))
            .replace("{section}", self.section.as_deref().unwrap_or("blobs"))
            .replace("{junk}", &self.junk)
            + &self.query
    }
}

/// One request; `None` when reqwest refuses to build it (a header value
/// it will not send is no input the explorer can receive).
fn send(w: &World, case: &Case) -> Option<(u16, String, Vec<u8>)> {
    let path = case.path();
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut request = w.http.request(method, format!("{}{path}", w.base));
    for (name, value) in &case.headers {
        let Ok(value) = reqwest::header::HeaderValue::from_bytes(value) else {
            return None;
        };
        request = request.header(name.as_str(), value);
    }
    if !case.body.is_empty() {
        request = request.body(case.body.clone());
    }
    Some(w.runtime.block_on(async {
        let answer = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} {path}: {e}", case.method));
        let status = answer.status().as_u16();
        let content_type = answer
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (
            status,
            content_type,
            answer.bytes().await.unwrap_or_default().to_vec(),
        )
    }))
}

#[test]
fn no_page_answers_a_5xx_and_errors_are_html_with_a_reason() {
    let w = &world();
    let mut runner = TestRunner::new(config());
    let outcome = runner.run(&case(), |case| {
        let Some((status, content_type, body)) = send(w, &case) else {
            return Ok(());
        };
        let path = case.path();
        let text = String::from_utf8_lossy(&body);
        prop_assert!(status < 500, "{} {path} -> {status}: {text}", case.method);
        prop_assert!(
            body.len() <= MAX_ANSWER,
            "{} {path} -> {status}: {} bytes",
            case.method,
            body.len()
        );
        if status >= 400 {
            prop_assert!(
                content_type.starts_with("text/html"),
                "{} {path} -> {status}: not an HTML error page ({content_type:?}): {text:?}",
                case.method
            );
            if case.method != "HEAD" {
                prop_assert!(
                    text.contains("<p class=\"reason\">")
                        && !text.contains("<p class=\"reason\"></p>"),
                    "{} {path} -> {status}: no reason on the error page: {text:?}",
                    case.method
                );
            }
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    for path in ["/health", "/"] {
        let status = w.runtime.block_on(async {
            w.http
                .get(format!("{}{path}", w.base))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(status, 200, "{path} after the campaign");
    }
}

/// The answers the campaign found outside the HTML error page, pinned:
/// another method on a page (axum's empty 405), a path segment or a query
/// that is not UTF-8 (axum's plain-text 400s).
#[test]
fn rejections_are_html_error_pages_with_their_reason() {
    let w = &world();
    let blob = blob_id(1);
    for (method, path, want) in [
        ("POST", "/".to_owned(), 405),
        ("DELETE", format!("/blobs/{blob}"), 405),
        ("GET", "/blobs/%FF".to_owned(), 400),
        ("GET", "/accounts/%FF/blobs".to_owned(), 400),
        ("GET", "/blobs?limit=%FF%FE".to_owned(), 400),
        ("GET", "/search?q=%C3%28".to_owned(), 400),
    ] {
        let case = Case {
            method,
            template: "",
            object: None,
            blob: None,
            address: None,
            epoch: None,
            section: None,
            junk: String::new(),
            query: path.clone(),
            headers: vec![],
            body: vec![],
        };
        let (status, content_type, body) = send(w, &case).unwrap();
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, want, "{method} {path}: {text}");
        assert!(
            content_type.starts_with("text/html") && text.contains("<p class=\"reason\">"),
            "{method} {path}: {content_type} {text}"
        );
    }
}
