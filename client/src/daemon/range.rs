//! HTTP `Range` handling for blob reads: one byte range is served as 206
//! with `Content-Range`; an unsatisfiable one is 416 with
//! `Content-Range: bytes */LEN`; a request for several ranges is answered
//! with the whole blob (RFC 9110 lets a server ignore `Range`, and a
//! multipart body buys clients nothing here).

use std::ops::RangeInclusive;

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

/// Decides what to serve; `header` is the raw `Range` value, if any.
pub fn answer(header: Option<&str>, len: u64) -> RangeAnswer {
    let Some(header) = header else {
        return RangeAnswer::Full;
    };
    let parsed = match http_range_header::parse_range_header(header) {
        Ok(parsed) => parsed,
        Err(_) => return RangeAnswer::Unsatisfiable,
    };
    match parsed.validate(len) {
        Ok(ranges) if ranges.len() == 1 => RangeAnswer::Partial(ranges[0].clone()),
        Ok(_) => RangeAnswer::Full,
        Err(_) => RangeAnswer::Unsatisfiable,
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
        // An end past the blob is clamped (RFC 9110 14.1.2).
        assert_eq!(answer(Some("bytes=5-100"), 10), RangeAnswer::Partial(5..=9));
        assert_eq!(content_range(&(5..=9), 10), "bytes 5-9/10");
    }

    #[test]
    fn unsatisfiable_and_malformed() {
        assert_eq!(answer(Some("bytes=10-"), 10), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-0"), 0), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=5-2"), 10), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("items=0-1"), 10), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-1,4-5"), 10), RangeAnswer::Full);
    }
}
