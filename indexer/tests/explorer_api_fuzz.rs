//! Every route of the explorer API with arbitrary parameters.
//!
//! The API runs on a managed Postgres of the test's own, migrated and
//! holding a few indexed blobs. Requests are built from every route
//! template, each path parameter valid (an indexed blob's object id and
//! blob id, its owner, an epoch) or hostile (percent-encoded arbitrary
//! bytes, huge or negative numbers, long text), with query strings of the
//! API's parameter names and odd values (huge limits and epochs, cursors
//! of every shape, unknown names, repeated names) or arbitrary bytes, and
//! any method. The database is up and requests come one at a time, so no
//! answer may be a 5xx at all (a 503 here would be a client's mistake
//! taken for an outage); errors are in the API's shape (`{"error":
//! "reason"}`), and the API still answers `/v1/status` after the campaign.
//!
//! Slow-ish: starts a Postgres cluster (a few seconds). Cases:
//! `FLOE_FUZZ_CASES` (default 256); `scripts/fuzz/run` for long runs.

use floe_indexer::ManagedPostgres;
use floe_indexer::sample::{self, object_id};
use floe_testkit::fuzz::{ParamMix, campaign, check_answer, fill, percent};
use proptest::prelude::*;

struct World {
    runtime: tokio::runtime::Runtime,
    base: String,
    http: reqwest::Client,
    _pg: ManagedPostgres,
    _dir: tempfile::TempDir,
}

const OWNER: &str = "0x00000000000000000000000000000000000000000000000000000000000000aa";

/// The API on a Postgres of the test's own holding three blobs (blob ids
/// `blob1` to `blob3`), stopped when the world is dropped.
fn world() -> World {
    let runtime = floe_testkit::runtime();
    let dir = tempfile::tempdir().unwrap();
    let (pg, base) = runtime.block_on(sample::serve(dir.path(), |n| format!("blob{n}")));
    World {
        runtime,
        base,
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap(),
        _pg: pg,
        _dir: dir,
    }
}

const TEMPLATES: &[&str] = &[
    "/v1/status",
    "/v1/blobs",
    "/v1/blobs/{object}",
    "/v1/blobs/{object}/events",
    "/v1/blob-ids/{blob}",
    "/v1/accounts/{address}/blobs",
    "/v1/accounts/{address}/storage",
    "/v1/accounts/{address}/stakes",
    "/v1/accounts/{address}/rewards",
    "/v1/accounts/{address}/payments",
    "/v1/epochs",
    "/v1/epochs/{epoch}",
    "/v1/nodes",
    "/v1/nodes/{object}",
    "/v1/nodes/{object}/history",
    "/v1/nodes/{object}/collections",
    "/v1/epochs/{epoch}/rewards",
    "/v1/rewards",
    "/v1/shared-blobs",
    "/v1/shared-blobs/{object}/renewals",
    "/v1/stats",
    "/v1/stats/epochs",
    "/v1/governance",
    "/v1/governance/{object}",
    "/v1/subsidies",
    "/openapi.json",
    "/metrics",
    "/{junk}",
];

const KEYS: &[&str] = &[
    "owner",
    "blob_id",
    "status",
    "deletable",
    "end_epoch_min",
    "end_epoch_max",
    "order",
    "cursor",
    "limit",
    "from",
    "to",
    "kind",
    "route",
    "unknown",
];

const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "1000",
    "1001",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "99999999999999999999999",
    "1.5",
    "1e3",
    "true",
    "false",
    "asc",
    "desc",
    "certified",
    "expired",
    "open",
    "funded",
    "0x",
    "0x0",
    "0xzz",
    OWNER,
    "0x00000000000000000000000000000000000000000000000000000000000000001",
    "blob1",
    "1:2",
    "1:2:3",
    "-1:-1",
    "9223372036854775807:0",
    "%00",
    "%FF%FE",
    "'",
    "\\",
];

/// A path parameter: `None` is the valid value.
fn param(valid: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    floe_testkit::fuzz::param(
        valid,
        ParamMix::new(2, 2, 70, &["[0-9]{1,30}", "-?[0-9a-fx]{0,80}"]),
    )
}

fn query() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        4 => prop::sample::select(VALUES).prop_map(str::to_owned),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| percent(&b)),
        1 => any::<i64>().prop_map(|n| n.to_string()),
    ];
    prop_oneof![
        2 => Just(String::new()),
        4 => prop::collection::vec((prop::sample::select(KEYS), value), 1..4).prop_map(|pairs| {
            let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("?{}", pairs.join("&"))
        }),
        1 => prop::collection::vec(any::<u8>(), 0..60).prop_map(|b| format!("?{}", percent(&b))),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    template: &'static str,
    object: Option<String>,
    blob: Option<String>,
    address: Option<String>,
    epoch: Option<String>,
    junk: String,
    query: String,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(&["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE"][..]),
        prop::sample::select(TEMPLATES),
        param(&[
            "0x0000000000000000000000000000000000000000000000000000000000000001",
            "0x1",
            "0x2",
        ]),
        param(&["blob1", "blob2", "AAAA"]),
        param(&[OWNER, "0xaa"]),
        param(&["0", "1", "5", "4294967295", "-1"]),
        "[a-z/.]{0,20}",
        query(),
    )
        .prop_map(
            |(method, template, object, blob, address, epoch, junk, query)| Case {
                method,
                template,
                object,
                blob,
                address,
                epoch,
                junk,
                query,
            },
        )
}

impl Case {
    fn path(&self) -> String {
        let first = object_id(1);
        fill(
            self.template,
            &[
                ("object", self.object.as_deref().unwrap_or(&first)),
                ("blob", self.blob.as_deref().unwrap_or("blob1")),
                ("address", self.address.as_deref().unwrap_or(OWNER)),
                ("epoch", self.epoch.as_deref().unwrap_or("1")),
                ("junk", &self.junk),
            ],
        ) + &self.query
    }
}

#[test]
fn no_route_answers_a_5xx_and_the_api_survives() {
    let w = &world();
    campaign(&case(), |case| {
        let path = case.path();
        let url = format!("{}{path}", w.base);
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
        let (status, body) = w.runtime.block_on(async {
            let answer = w
                .http
                .request(method, &url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{} {path}: {e}", case.method));
            let status = answer.status().as_u16();
            (status, answer.bytes().await.unwrap_or_default().to_vec())
        });
        check_answer(
            &format!("{} {path}", case.method),
            case.method,
            status,
            &body,
            false,
            |j, _| j["error"].is_string(),
        )
    });
    let status = w.runtime.block_on(async {
        w.http
            .get(format!("{}/v1/status", w.base))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
}
