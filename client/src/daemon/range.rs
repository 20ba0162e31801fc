//! HTTP `Range` handling for blob reads (RFC 9110 section 14): one byte
//! range is served as 206 with `Content-Range`; a valid range set that no
//! byte of the blob satisfies is 416 with `Content-Range: bytes */LEN`;
//! a request for several ranges is answered with the whole blob (a server
//! may ignore `Range`, and a multipart body buys clients nothing here). A
//! header that is malformed (`bytes=abc`, `bytes=5-1`) or of another unit
//! (`items=0-5`) must be ignored: 200 with the whole blob.

use std::ops::RangeInclusive;

use crate::blob_stream::ChunkStream;

/// Most ranges one header may list before it is ignored as a whole (a
/// long list costs parsing and buys nothing).
const MAX_RANGES: usize = 16;

/// What to serve for a `Range` header value and a blob of `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200 with the whole blob.
    Full,
    /// 206 with these bytes.
    Partial(RangeInclusive<u64>),
    /// 416.
    Unsatisfiable,
}

/// One `range-spec` of a `bytes` range set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-last` or `first-`.
    From { first: u64, last: Option<u64> },
    /// `-length`: the last `length` bytes.
    Suffix(u64),
}

/// Parses `bytes=...`; `None` for anything the server must ignore.
fn parse(header: &str) -> Option<Vec<Spec>> {
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let digits = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Past u64 is still a valid number, just one past any blob.
        Some(s.parse().unwrap_or(u64::MAX))
    };
    let mut specs = Vec::new();
    for part in set.split(',') {
        let part = part.trim();
        if part.is_empty() {
            // `1#range-spec` allows empty list elements.
            continue;
        }
        if specs.len() == MAX_RANGES {
            return None;
        }
        let (first, last) = part.split_once('-')?;
        let spec = if first.trim().is_empty() {
            Spec::Suffix(digits(last)?)
        } else {
            let first = digits(first)?;
            let last = if last.trim().is_empty() {
                None
            } else {
                Some(digits(last)?)
            };
            if last.is_some_and(|last| last < first) {
                return None;
            }
            Spec::From { first, last }
        };
        specs.push(spec);
    }
    (!specs.is_empty()).then_some(specs)
}

/// The bytes `spec` selects of a `len`-byte blob, if any.
fn resolve(spec: Spec, len: u64) -> Option<RangeInclusive<u64>> {
    match spec {
        Spec::From { first, last } if first < len => {
            Some(first..=last.unwrap_or(len - 1).min(len - 1))
        }
        Spec::Suffix(n) if n > 0 && len > 0 => Some(len - n.min(len)..=len - 1),
        _ => None,
    }
}

/// Decides what to serve; `header` is the raw `Range` value, if any.
pub fn answer(header: Option<&str>, len: u64) -> RangeAnswer {
    let Some(specs) = header.and_then(parse) else {
        return RangeAnswer::Full;
    };
    let satisfiable: Vec<_> = specs.iter().filter_map(|s| resolve(*s, len)).collect();
    match (specs.len(), satisfiable.as_slice()) {
        (_, []) => RangeAnswer::Unsatisfiable,
        (1, [range]) => RangeAnswer::Partial(range.clone()),
        _ => RangeAnswer::Full,
    }
}

/// The body of a 200 or 206 answer.
pub enum ReadBody {
    /// Bytes already read.
    Bytes(Vec<u8>),
    /// `len` bytes still to come, chunk by verified chunk
    /// ([`crate::blob_stream`]).
    Stream { len: u64, chunks: ChunkStream },
}

impl ReadBody {
    /// How many bytes the body has.
    pub fn len(&self) -> u64 {
        match self {
            ReadBody::Bytes(bytes) => bytes.len() as u64,
            ReadBody::Stream { len, .. } => *len,
        }
    }

    /// Whether the body has no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for ReadBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadBody::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            ReadBody::Stream { len, .. } => write!(f, "Stream({len} bytes)"),
        }
    }
}

/// The answer to a read with an optional `Range` header, decided against
/// the blob's length.
#[derive(Debug)]
pub enum RangedRead {
    /// 200 with the whole blob.
    Full(ReadBody),
    /// 206 with bytes `range` of a blob of `len` bytes.
    Partial {
        body: ReadBody,
        range: RangeInclusive<u64>,
        len: u64,
    },
    /// 416: no byte of the `len`-byte blob was asked.
    Unsatisfiable { len: u64 },
}

impl RangedRead {
    /// The answer for `header` out of a whole blob already read.
    pub fn from_whole(bytes: Vec<u8>, header: Option<&str>) -> Self {
        let len = bytes.len() as u64;
        match answer(header, len) {
            RangeAnswer::Full => RangedRead::Full(ReadBody::Bytes(bytes)),
            RangeAnswer::Partial(range) => {
                // `answer` guarantees start <= end < len, so these fit usize.
                let (start, end) = (*range.start() as usize, *range.end() as usize);
                RangedRead::Partial {
                    body: ReadBody::Bytes(bytes[start..=end].to_vec()),
                    range,
                    len,
                }
            }
            RangeAnswer::Unsatisfiable => RangedRead::Unsatisfiable { len },
        }
    }
}

/// `Content-Range` of a served range.
pub fn content_range(range: &RangeInclusive<u64>, len: u64) -> String {
    format!("bytes {}-{}/{len}", range.start(), range.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_suffixes_and_open_ends() {
        assert_eq!(answer(None, 10), RangeAnswer::Full);
        assert_eq!(answer(Some("bytes=0-3"), 10), RangeAnswer::Partial(0..=3));
        assert_eq!(answer(Some("bytes=7-"), 10), RangeAnswer::Partial(7..=9));
        assert_eq!(answer(Some("bytes=-2"), 10), RangeAnswer::Partial(8..=9));
        assert_eq!(answer(Some("Bytes = 2-2"), 10), RangeAnswer::Partial(2..=2));
        // An end past the blob is clamped (RFC 9110 14.1.2).
        assert_eq!(answer(Some("bytes=5-100"), 10), RangeAnswer::Partial(5..=9));
        assert_eq!(answer(Some("bytes=-100"), 10), RangeAnswer::Partial(0..=9));
        assert_eq!(
            answer(Some("bytes=0-99999999999999999999999"), 10),
            RangeAnswer::Partial(0..=9)
        );
        assert_eq!(content_range(&(5..=9), 10), "bytes 5-9/10");
    }

    #[test]
    fn unsatisfiable_ranges_are_416() {
        assert_eq!(answer(Some("bytes=10-"), 10), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=1000-"), 10), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-0"), 0), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=-0"), 10), RangeAnswer::Unsatisfiable);
        assert_eq!(
            answer(Some("bytes=20-30,40-"), 10),
            RangeAnswer::Unsatisfiable
        );
    }

    #[test]
    fn malformed_or_foreign_headers_are_ignored() {
        // RFC 9110 14.2: an invalid range set or an unknown unit is
        // ignored, and the whole blob is served.
        for header in [
            "bytes=5-1",
            "bytes=abc",
            "items=0-5",
            "bytes=",
            "bytes",
            "bytes=1-2-3",
            "bytes=--1",
            "bytes=+1-2",
            "bytes=0-1,x",
            "",
        ] {
            assert_eq!(answer(Some(header), 10), RangeAnswer::Full, "{header:?}");
        }
        let many = format!("bytes={}", vec!["0-0"; MAX_RANGES + 1].join(","));
        assert_eq!(answer(Some(&many), 10), RangeAnswer::Full);
    }

    #[test]
    fn several_ranges_are_answered_whole() {
        assert_eq!(answer(Some("bytes=0-1,4-5"), 10), RangeAnswer::Full);
        // One satisfiable range among unsatisfiable ones is still a set.
        assert_eq!(answer(Some("bytes=0-1,40-"), 10), RangeAnswer::Full);
    }
}
