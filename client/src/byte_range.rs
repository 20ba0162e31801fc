//! Which rows of a blob hold a byte range, and where in each row.
//!
//! RS2 lays the blob row-major into a `k_p x k_s` symbol matrix (see
//! ARCHITECTURE.md, "The encoding"), and primary sliver `i` is row `i`'s
//! `k_s` source symbols. So bytes `[i * row_len, (i + 1) * row_len)` of the
//! blob are exactly primary sliver `i`'s bytes, with `row_len = k_s *
//! symbol_size`; past the blob's length the matrix is zero padding. A byte
//! range is therefore answered by the few rows it touches, each cut at the
//! range's ends, with no decoding. This module is only that arithmetic,
//! kept apart so it can be checked exhaustively.

use std::ops::Range;

/// A byte range of a blob that lies within it: `start <= end <= len`.
/// Built only by [`BlobRange::new`], so the row arithmetic below can rely
/// on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRange {
    start: u64,
    end: u64,
}

/// Why a range cannot be read from a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bytes {start}..{end} are not within the blob's {len} bytes")]
pub struct OutOfRange {
    /// First byte asked.
    pub start: u64,
    /// One past the last byte asked.
    pub end: u64,
    /// The blob's length.
    pub len: u64,
}

impl BlobRange {
    /// `range` of a blob of `len` bytes; an error when it reaches past the
    /// end or is reversed. An empty range at or before the end is allowed.
    pub fn new(range: Range<u64>, len: u64) -> Result<Self, OutOfRange> {
        if range.start > range.end || range.end > len {
            return Err(OutOfRange {
                start: range.start,
                end: range.end,
                len,
            });
        }
        Ok(Self {
            start: range.start,
            end: range.end,
        })
    }

    /// First byte.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range has no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The rows (primary sliver indices) holding the range, in order, each
    /// with the part of that row's bytes that belongs to the range. Empty
    /// for an empty range. `row_len` is `k_s * symbol_size` (never 0 for a
    /// real blob; a 0 gives no rows rather than a division by zero).
    pub fn rows(&self, row_len: u64) -> Vec<RowSlice> {
        if self.is_empty() || row_len == 0 {
            return Vec::new();
        }
        let first = self.start / row_len;
        let last = (self.end - 1) / row_len;
        (first..=last)
            .map(|row| {
                let row_start = row * row_len;
                let from = self.start.max(row_start) - row_start;
                let to = self.end.min(row_start + row_len) - row_start;
                RowSlice {
                    row,
                    // Both are below row_len, which fits a sliver in memory.
                    within: from as usize..to as usize,
                }
            })
            .collect()
    }
}

/// The part of one row that a range covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowSlice {
    /// Row = primary sliver index.
    pub row: u64,
    /// Byte offsets within the row's `row_len` bytes.
    pub within: Range<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a range read assembles: the rows' bytes (the blob padded with
    /// zeros to whole rows), cut as [`BlobRange::rows`] says.
    fn assemble(blob: &[u8], range: &BlobRange, row_len: u64) -> Vec<u8> {
        let row_len_usize = row_len as usize;
        let n_rows = blob.len().div_ceil(row_len_usize).max(1);
        let mut padded = blob.to_vec();
        padded.resize(n_rows * row_len_usize, 0);
        let mut out = Vec::new();
        for slice in range.rows(row_len) {
            let row = &padded[slice.row as usize * row_len_usize..][..row_len_usize];
            out.extend_from_slice(&row[slice.within]);
        }
        out
    }

    #[test]
    fn edges_of_rows_and_of_the_blob() {
        // Three rows of 4 bytes; the blob ends inside the third.
        let len = 10;
        let range = |r: Range<u64>| BlobRange::new(r, len).unwrap();
        let rows = |r: Range<u64>| {
            range(r)
                .rows(4)
                .into_iter()
                .map(|s| (s.row, s.within))
                .collect::<Vec<_>>()
        };
        assert_eq!(rows(0..1), vec![(0, 0..1)]);
        assert_eq!(rows(3..4), vec![(0, 3..4)]);
        assert_eq!(rows(3..5), vec![(0, 3..4), (1, 0..1)]);
        assert_eq!(rows(4..8), vec![(1, 0..4)]);
        assert_eq!(rows(0..10), vec![(0, 0..4), (1, 0..4), (2, 0..2)]);
        assert_eq!(rows(9..10), vec![(2, 1..2)]);
        assert_eq!(rows(10..10), vec![]);
        assert_eq!(rows(0..0), vec![]);
    }

    #[test]
    fn past_the_end_or_reversed_is_an_error() {
        assert!(BlobRange::new(0..11, 10).is_err());
        assert!(BlobRange::new(10..11, 10).is_err());
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 5..4;
        assert!(BlobRange::new(reversed, 10).is_err());
        assert!(BlobRange::new(0..1, 0).is_err());
        assert!(BlobRange::new(0..0, 0).unwrap().rows(4).is_empty());
        assert_eq!(
            BlobRange::new(3..12, 10).unwrap_err().to_string(),
            "bytes 3..12 are not within the blob's 10 bytes"
        );
    }

    proptest! {
        /// The rows cut as told give exactly the slice of the blob.
        #[test]
        fn rows_give_exactly_the_slice(
            len in 0u64..2_000,
            row_len in 1u64..300,
            a in 0u64..2_100,
            b in 0u64..2_100,
        ) {
            let blob: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8 + 1).collect();
            let (start, end) = (a.min(b), a.max(b));
            match BlobRange::new(start..end, len) {
                Ok(range) => {
                    prop_assert!(end <= len);
                    let got = assemble(&blob, &range, row_len);
                    prop_assert_eq!(&got[..], &blob[start as usize..end as usize]);
                    // Only the rows that hold a byte of the range, each once.
                    let rows = range.rows(row_len);
                    for pair in rows.windows(2) {
                        prop_assert_eq!(pair[0].row + 1, pair[1].row);
                    }
                    for slice in &rows {
                        prop_assert!(!slice.within.is_empty());
                        prop_assert!(slice.within.end as u64 <= row_len);
                        prop_assert!(slice.row * row_len < len);
                    }
                }
                Err(e) => prop_assert!(end > len, "{e}"),
            }
        }
    }
}
