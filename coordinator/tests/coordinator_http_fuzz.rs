//! The coordinator's HTTP routes (`/health`, `/status`, `/metrics`) and
//! unknown ones with arbitrary input, in process: paths from the route
//! templates with hostile suffixes and percent-encoded bytes, arbitrary
//! query strings (ignored by every route), any method, odd headers and
//! arbitrary bodies. No answer may be a 5xx (nothing here can be
//! unavailable), every answer is bounded, every error carries its reason
//! in the JSON error shape (`{"error": "reason"}`), an unknown path never
//! answers 2xx, and `/health`, `/status` and `/metrics` still answer after
//! the campaign.
//!
//! Cases: `FLOE_FUZZ_CASES` (default 256); `scripts/fuzz/run` for long
//! runs.

use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{Method, Request};
use floe_coordinator::driver::DriverStatus;
use floe_coordinator::follow::Payments;
use floe_coordinator::http::{HttpState, router};
use floe_coordinator::metrics::Metrics;
use floe_coordinator::renewal::RenewalConfig;
use floe_testkit::fuzz::{config, percent};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use tower::ServiceExt;

/// Largest answer read: `/status` and `/metrics` of an empty coordinator
/// are a few KiB.
const MAX_ANSWER: usize = 1 << 20;

fn state() -> HttpState {
    HttpState {
        status: Arc::new(RwLock::new(DriverStatus::default())),
        metrics: Metrics::new(),
        payments: Arc::new(RwLock::new(Payments::default())),
        renewal: RenewalConfig::default(),
        sync_grace_ms: 60_000,
    }
}

fn path() -> impl Strategy<Value = String> {
    let route = prop::sample::select(&["/health", "/status", "/metrics", "", "/"][..]);
    let suffix = prop_oneof![
        4 => Just(String::new()),
        1 => Just("/".to_owned()),
        1 => "/[a-z0-9._-]{0,20}",
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| format!("/{}", percent(&b))),
        1 => "(/\\.\\.){1,4}/[a-z]{0,8}",
    ];
    let query = prop_oneof![
        3 => Just(String::new()),
        1 => "\\?[a-z=&%0-9]{0,40}",
        1 => prop::collection::vec(any::<u8>(), 0..60).prop_map(|b| format!("?{}", percent(&b))),
    ];
    (route, suffix, query).prop_map(|(r, s, q)| {
        let p = format!("{r}{s}{q}");
        if p.starts_with('/') {
            p
        } else {
            format!("/{p}")
        }
    })
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    let header = (
        prop::sample::select(&["accept", "content-type", "range", "authorization", "x-junk"][..]),
        prop::collection::vec(prop_oneof![0x20u8..0x7f, 0x80u8..=0xff], 0..200),
    );
    (
        prop::sample::select(
            &[
                "GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                "BREW",
            ][..],
        ),
        path(),
        prop::collection::vec(header, 0..3),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec(any::<u8>(), 0..4096),
        ],
    )
        .prop_map(|(method, path, headers, body)| Case {
            method,
            path,
            headers,
            body,
        })
}

async fn send(app: &axum::Router, case: &Case) -> (u16, String, Vec<u8>) {
    let mut request = Request::builder()
        .method(Method::from_bytes(case.method.as_bytes()).unwrap())
        .uri(&case.path);
    for (name, value) in &case.headers {
        request = request.header(*name, value.as_slice());
    }
    let request = request
        .body(Body::from(case.body.clone()))
        .unwrap_or_else(|e| panic!("building {case:?}: {e}"));
    let answer = app.clone().oneshot(request).await.unwrap();
    let status = answer.status().as_u16();
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = axum::body::to_bytes(answer.into_body(), MAX_ANSWER)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{} {}: answer past {MAX_ANSWER} bytes: {e}",
                case.method, case.path
            )
        });
    (status, content_type, body.to_vec())
}

#[test]
fn no_route_answers_a_5xx_and_errors_carry_a_reason() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = router(state());
    let mut runner = TestRunner::new(config());
    let outcome = runner.run(&case(), |case| {
        let (status, content_type, body) = runtime.block_on(send(&app, &case));
        let text = String::from_utf8_lossy(&body);
        let what = format!("{} {} -> {status}", case.method, case.path);
        prop_assert!(status < 500, "{what}: {text}");
        if status >= 400 {
            prop_assert!(
                content_type.starts_with("application/json"),
                "{what}: not the JSON error shape ({content_type:?}): {text:?}"
            );
            // A HEAD answer has no body by definition.
            if case.method != "HEAD" {
                let json: Result<serde_json::Value, _> = serde_json::from_slice(&body);
                prop_assert!(
                    json.as_ref()
                        .is_ok_and(|j| j["error"].as_str().is_some_and(|r| !r.is_empty())),
                    "{what}: no reason: {text:?}"
                );
            }
        } else {
            // Only a known route answers with a document.
            let route = case.path.split('?').next().unwrap_or_default();
            prop_assert!(
                ["/health", "/status", "/metrics"].contains(&route),
                "{what}: an unknown path answered"
            );
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    for path in ["/health", "/status", "/metrics"] {
        let case = Case {
            method: "GET",
            path: path.into(),
            headers: vec![],
            body: vec![],
        };
        let (status, _, _) = runtime.block_on(send(&app, &case));
        assert_eq!(status, 200, "{path} after the campaign");
    }
}

/// The errors a client meets most, pinned: an unknown path is a 404 and
/// another method a 405, each with its reason (axum's defaults are empty).
#[test]
fn unknown_paths_and_methods_are_refused_with_a_reason() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = router(state());
    for (method, path, want) in [
        ("GET", "/healthz", 404),
        ("GET", "/status/", 404),
        ("POST", "/status", 405),
        ("DELETE", "/metrics", 405),
    ] {
        let case = Case {
            method,
            path: path.into(),
            headers: vec![],
            body: vec![],
        };
        let (status, _, body) = runtime.block_on(send(&app, &case));
        assert_eq!(status, want, "{method} {path}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(
            json["error"].as_str().is_some_and(|r| !r.is_empty()),
            "{method} {path}: {json}"
        );
    }
}
