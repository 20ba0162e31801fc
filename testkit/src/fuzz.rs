//! What the fuzz campaigns share: the case budget ([`config`]); for the
//! HTTP-API campaigns (node, indexer's explorer API, client daemon,
//! coordinator, explorer pages) hostile path parameters, the "no 5xx,
//! errors in the JSON error shape" check and the campaign loop, each
//! campaign keeping its own routes, bodies and way of sending; for the
//! decoder campaigns (floe-core's decoders, the ledger's gRPC requests and
//! checkpoints) the byte-mutation engine ([`mutations`], [`mutate`]).
//!
//! This module is all the crate has without its default `harness`
//! feature: floe-core's tests use it so, and build no chain or contracts.

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

/// One edit of an encoded value (BCS, protobuf); positions are taken
/// modulo its length.
#[derive(Debug, Clone)]
pub enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    Set {
        at: usize,
        byte: u8,
    },
    /// Cut to at most the original length (possibly all of it kept).
    Truncate {
        at: usize,
    },
    Extend(Vec<u8>),
    Splice {
        at: usize,
        bytes: Vec<u8>,
    },
    Remove {
        at: usize,
        len: usize,
    },
    /// A varint (ULEB128: BCS and protobuf lengths) of 2^`shift` written
    /// at `at`, so a decoder is told of a huge length it must not reserve.
    HugeLength {
        at: usize,
        shift: u8,
    },
}

/// How a campaign mixes its mutations: flips (weight 4), overwrites (3)
/// and huge lengths (1) always; the rest as given (a weight of 0 leaves
/// the kind out).
#[derive(Debug, Clone, Copy)]
pub struct MutationMix {
    pub truncate: u32,
    /// Appending 1..16 bytes.
    pub extend: u32,
    /// Inserting 1..`splice_max` bytes.
    pub splice: u32,
    pub splice_max: usize,
    /// Removing 1..`remove_max` bytes.
    pub remove_max: usize,
}

/// One mutation, mixed as `mix` says.
pub fn mutation(mix: MutationMix) -> BoxedStrategy<Mutation> {
    let arms: Vec<(u32, BoxedStrategy<Mutation>)> = vec![
        (
            4,
            (any::<usize>(), 0u8..8)
                .prop_map(|(at, bit)| Mutation::Flip { at, bit })
                .boxed(),
        ),
        (
            3,
            (any::<usize>(), any::<u8>())
                .prop_map(|(at, byte)| Mutation::Set { at, byte })
                .boxed(),
        ),
        (
            mix.truncate,
            any::<usize>()
                .prop_map(|at| Mutation::Truncate { at })
                .boxed(),
        ),
        (
            mix.extend,
            prop::collection::vec(any::<u8>(), 1..16)
                .prop_map(Mutation::Extend)
                .boxed(),
        ),
        (
            mix.splice,
            (
                any::<usize>(),
                prop::collection::vec(any::<u8>(), 1..mix.splice_max),
            )
                .prop_map(|(at, bytes)| Mutation::Splice { at, bytes })
                .boxed(),
        ),
        (
            1,
            (any::<usize>(), 1..mix.remove_max)
                .prop_map(|(at, len)| Mutation::Remove { at, len })
                .boxed(),
        ),
        (
            1,
            (any::<usize>(), 20u8..63)
                .prop_map(|(at, shift)| Mutation::HugeLength { at, shift })
                .boxed(),
        ),
    ];
    Union::new_weighted(arms.into_iter().filter(|(weight, _)| *weight > 0).collect()).boxed()
}

/// One to three mutations, mixed as `mix` says.
pub fn mutations(mix: MutationMix) -> BoxedStrategy<Vec<Mutation>> {
    prop::collection::vec(mutation(mix), 1..4).boxed()
}

/// `valid` with `edits` applied in order.
pub fn mutate(valid: &[u8], edits: &[Mutation]) -> Vec<u8> {
    let mut b = valid.to_vec();
    for edit in edits {
        let n = b.len().max(1);
        match edit {
            Mutation::Flip { at, bit } if !b.is_empty() => b[at % n] ^= 1 << bit,
            Mutation::Set { at, byte } if !b.is_empty() => b[at % n] = *byte,
            Mutation::Truncate { at } => b.truncate(at % (b.len() + 1)),
            Mutation::Extend(more) => b.extend_from_slice(more),
            Mutation::Splice { at, bytes } => {
                let i = at % (b.len() + 1);
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Remove { at, len } if !b.is_empty() => {
                let i = at % n;
                let end = (i + len).min(b.len());
                b.drain(i..end);
            }
            Mutation::HugeLength { at, shift } => {
                let mut v = 1u64 << shift;
                let mut varint = Vec::new();
                while v >= 0x80 {
                    varint.push((v as u8) | 0x80);
                    v >>= 7;
                }
                varint.push(v as u8);
                let i = at % (b.len() + 1);
                b.splice(i..i, varint);
            }
            _ => {}
        }
    }
    b
}
