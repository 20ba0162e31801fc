//! What the HTTP-API fuzz campaigns (node, indexer's explorer API, client
//! daemon) share: the case budget, hostile path parameters, the
//! "no 5xx, errors in the JSON error shape" check and the campaign loop.
//! Each campaign keeps its own routes, bodies and way of sending.

use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

/// Cases per campaign: `FLOE_FUZZ_CASES` (default 256); `scripts/fuzz/run`
/// sets it for long runs. No failure files: a failure prints its case.
pub fn config() -> Config {
    let cases = std::env::var("FLOE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Runs `test` on `cases` under [`config`]; panics with the failing case.
pub fn campaign<S: Strategy>(cases: &S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(config());
    if let Err(e) = runner.run(cases, test) {
        panic!("{e}");
    }
}

/// Percent-encodes every byte that is not ASCII alphanumeric, as a client
/// must send arbitrary bytes in a path or query.
pub fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (*b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// How a campaign mixes a path parameter's values.
#[derive(Debug, Clone, Copy)]
pub struct ParamMix {
    /// Weight of `None` (the campaign's valid default).
    pub default: u32,
    /// Weight of one of the listed values.
    pub listed: u32,
    /// Arbitrary bytes (percent-encoded) are up to this long (weight 1).
    pub max_bytes: usize,
    /// Regexes of hostile text, each of weight 1.
    pub patterns: &'static [&'static str],
}

impl ParamMix {
    pub const fn new(
        default: u32,
        listed: u32,
        max_bytes: usize,
        patterns: &'static [&'static str],
    ) -> Self {
        Self {
            default,
            listed,
            max_bytes,
            patterns,
        }
    }
}

/// A path parameter: `None` (the valid default), one of `listed`, or
/// hostile text as `mix` says.
pub fn param(listed: &'static [&'static str], mix: ParamMix) -> BoxedStrategy<Option<String>> {
    let mut arms: Vec<(u32, BoxedStrategy<Option<String>>)> = vec![
        (mix.default, Just(None).boxed()),
        (
            mix.listed,
            prop::sample::select(listed)
                .prop_map(|v| Some(v.to_owned()))
                .boxed(),
        ),
        (
            1,
            prop::collection::vec(any::<u8>(), 0..mix.max_bytes)
                .prop_map(|b| Some(percent(&b)))
                .boxed(),
        ),
    ];
    for pattern in mix.patterns {
        arms.push((1, (*pattern).prop_map(Some).boxed()));
    }
    Union::new_weighted(arms).boxed()
}

/// Fills `{name}` placeholders of a route template.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |path, (name, value)| {
            path.replace(&format!("{{{name}}}"), value)
        })
}

/// The check every campaign makes of one answer: no 5xx (but 503 when
/// `shed_ok`, a server shedding load), and any 4xx/5xx to a method with a
/// body in the campaign's error shape (`is_error_shape` of the JSON body).
/// `what` names the request in the failure message.
pub fn check_answer(
    what: &str,
    method: &str,
    status: u16,
    body: &[u8],
    shed_ok: bool,
    is_error_shape: impl Fn(&Value, u16) -> bool,
) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(body);
    prop_assert!(
        status < 500 || (shed_ok && status == 503),
        "{what} -> {status}: {text}"
    );
    if status >= 400 && method != "HEAD" {
        let json: Result<Value, _> = serde_json::from_slice(body);
        prop_assert!(
            json.as_ref().is_ok_and(|j| is_error_shape(j, status)),
            "{what} -> {status}: not the JSON error shape: {text:?}"
        );
    }
    Ok(())
}
