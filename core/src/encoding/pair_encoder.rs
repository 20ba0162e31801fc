//! Chosen sliver pairs of a blob, produced on demand, so a store need not
//! hold every sliver (4.4x the blob at n = 100) at once.
//!
//! The output is byte for byte the slivers of [`encode_blob`](super::encode_blob):
//! the same matrix, the same Reed-Solomon codes, the same batched coder
//! (whose output does not depend on how codewords are batched). What a pair
//! costs depends on where it lies in the matrix:
//!
//! - primary sliver `i < k_p` is source row `i`: a copy of the blob's bytes;
//! - secondary sliver `j < k_s` is source column `j`: a strided copy;
//! - primary sliver `i >= k_p` is a repair row: every source column
//!   `j < k_s` is expanded with the primary code (one pass over the blob),
//!   and only the wanted rows are kept;
//! - secondary sliver `j >= k_s` is a repair column: every source row is
//!   expanded with the secondary code (one pass over the blob), and only
//!   the wanted columns are kept.
//!
//! So a call costs at most one column pass and one row pass whatever the
//! number of pairs asked: callers ask for pairs in groups as large as their
//! memory allows. The metadata (blob id) comes from
//! [`compute_metadata`](super::compute_metadata), which keeps no sliver.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::blob_encoder::{MessageMatrix, SliverPair, TARGET_BATCH_BYTES};
use super::reed_solomon::{RsCode, RsWorkspace};
use super::slivers::{PrimarySliver, SecondarySliver};
use super::{EncodingConfig, EncodingError};

/// The work a pair needs beyond copying the blob's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairWork {
    /// Both slivers are copies of source rows/columns.
    Copy,
    /// The secondary sliver is a repair column (a pass of the secondary
    /// code over every source row).
    RowPass,
    /// The primary sliver is a repair row (a pass of the primary code over
    /// every source column).
    ColumnPass,
}

/// Produces chosen sliver pairs of one blob (`B` is any owner of its bytes).
#[derive(Debug, Clone)]
pub struct PairEncoder<B> {
    blob: B,
    config: EncodingConfig,
    symbol_size: u16,
}

impl<B: AsRef<[u8]>> PairEncoder<B> {
    /// An encoder of `blob` for `config`'s committee size; fails if the blob
    /// is too large for it.
    pub fn new(config: &EncodingConfig, blob: B) -> Result<Self, EncodingError> {
        let symbol_size = config.symbol_size_for(blob.as_ref().len() as u64)?;
        Ok(Self {
            blob,
            config: *config,
            symbol_size,
        })
    }

    /// The blob's bytes.
    pub fn blob(&self) -> &[u8] {
        self.blob.as_ref()
    }

    /// Bytes per symbol of this blob.
    pub fn symbol_size(&self) -> u16 {
        self.symbol_size
    }

    /// Sliver bytes of one pair (every pair has the same size).
    pub fn pair_bytes(&self) -> usize {
        let k_p = usize::from(self.config.n_primary_source_symbols());
        let k_s = usize::from(self.config.n_secondary_source_symbols());
        (k_p + k_s) * usize::from(self.symbol_size)
    }

    /// Sliver bytes of all `n` pairs.
    pub fn total_bytes(&self) -> usize {
        self.pair_bytes() * self.config.n()
    }

    /// What producing `pair` costs beyond copies (see the module docs).
    pub fn work_of(&self, pair: u16) -> PairWork {
        let n = self.config.n();
        let k_p = usize::from(self.config.n_primary_source_symbols());
        let k_s = usize::from(self.config.n_secondary_source_symbols());
        let i = usize::from(pair);
        if i >= k_p {
            PairWork::ColumnPass
        } else if n - 1 - i >= k_s {
            PairWork::RowPass
        } else {
            PairWork::Copy
        }
    }

    /// The pairs `pairs` (distinct, each below `n`), in the order asked.
    pub fn encode_pairs(&self, pairs: &[u16]) -> Result<Vec<SliverPair>, EncodingError> {
        let n = self.config.n();
        let k_p = usize::from(self.config.n_primary_source_symbols());
        let k_s = usize::from(self.config.n_secondary_source_symbols());
        let s = usize::from(self.symbol_size);
        let mut seen = vec![false; n];
        for &pair in pairs {
            let i = usize::from(pair);
            if i >= n {
                return Err(EncodingError::IndexOutOfRange {
                    index: pair,
                    n_shards: self.config.n_shards(),
                });
            }
            if std::mem::replace(&mut seen[i], true) {
                return Err(EncodingError::InvalidSymbolSet);
            }
        }
        let matrix = MessageMatrix::new(self.blob(), &self.config, s);

        let repair_rows: Vec<usize> = pairs
            .iter()
            .map(|&p| usize::from(p))
            .filter(|&i| i >= k_p)
            .collect();
        let mut rows = self.repair_rows(&matrix, &repair_rows)?;
        let repair_columns: Vec<usize> = pairs
            .iter()
            .map(|&p| n - 1 - usize::from(p))
            .filter(|&j| j >= k_s)
            .collect();
        let mut columns = self.repair_columns(&matrix, &repair_columns)?;

        pairs
            .iter()
            .map(|&pair| {
                let i = usize::from(pair);
                let j = n - 1 - i;
                let primary = if i < k_p {
                    matrix.row(i).to_vec()
                } else {
                    rows.remove(&i).ok_or(EncodingError::InvalidSymbolSet)?
                };
                let secondary = if j < k_s {
                    let mut column = Vec::with_capacity(k_p * s);
                    for r in 0..k_p {
                        column.extend_from_slice(matrix.symbol(r, j));
                    }
                    column
                } else {
                    columns.remove(&j).ok_or(EncodingError::InvalidSymbolSet)?
                };
                Ok(SliverPair {
                    primary: PrimarySliver::new(primary, self.symbol_size, pair)?,
                    secondary: SecondarySliver::new(secondary, self.symbol_size, j as u16)?,
                })
            })
            .collect()
    }

    /// Primary slivers `wanted` (each `>= k_p`): the first `k_s` symbols of
    /// those rows of the primary-code expansion of every source column.
    fn repair_rows(
        &self,
        matrix: &MessageMatrix<'_>,
        wanted: &[usize],
    ) -> Result<BTreeMap<usize, Vec<u8>>, EncodingError> {
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let n = self.config.n();
        let k_p = usize::from(self.config.n_primary_source_symbols());
        let k_s = usize::from(self.config.n_secondary_source_symbols());
        let s = usize::from(self.symbol_size);
        let code = RsCode::new(k_p, n)?;
        // Recovery symbol r of a column is row k_p + r.
        let mut slot_of = vec![None; n - k_p];
        for (slot, &i) in wanted.iter().enumerate() {
            slot_of[i - k_p] = Some(slot);
        }
        let mut out: Vec<Vec<u8>> = vec![vec![0u8; k_s * s]; wanted.len()];
        let batches = batches_of(k_s, s);
        let parts = split_for_batches(&mut out, &batches, s);
        batches.into_par_iter().zip(parts).try_for_each_init(
            RsWorkspace::default,
            |ws, ((start, len), mut part)| {
                ws.encode(
                    code,
                    s,
                    len,
                    |i, t| matrix.symbol(i, start + t),
                    |r, t, sym| {
                        if let Some(slot) = slot_of[r] {
                            part[slot][t * s..(t + 1) * s].copy_from_slice(sym);
                        }
                    },
                )
            },
        )?;
        Ok(wanted.iter().copied().zip(out).collect())
    }

    /// Secondary slivers `wanted` (each `>= k_s`): those columns of the
    /// secondary-code expansion of every source row.
    fn repair_columns(
        &self,
        matrix: &MessageMatrix<'_>,
        wanted: &[usize],
    ) -> Result<BTreeMap<usize, Vec<u8>>, EncodingError> {
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let n = self.config.n();
        let k_p = usize::from(self.config.n_primary_source_symbols());
        let k_s = usize::from(self.config.n_secondary_source_symbols());
        let s = usize::from(self.symbol_size);
        let code = RsCode::new(k_s, n)?;
        // Recovery symbol c of a row is column k_s + c.
        let mut slot_of = vec![None; n - k_s];
        for (slot, &j) in wanted.iter().enumerate() {
            slot_of[j - k_s] = Some(slot);
        }
        let mut out: Vec<Vec<u8>> = vec![vec![0u8; k_p * s]; wanted.len()];
        let batches = batches_of(k_p, s);
        let parts = split_for_batches(&mut out, &batches, s);
        batches.into_par_iter().zip(parts).try_for_each_init(
            RsWorkspace::default,
            |ws, ((start, len), mut part)| {
                ws.encode(
                    code,
                    s,
                    len,
                    |j, t| matrix.symbol(start + t, j),
                    |c, t, sym| {
                        if let Some(slot) = slot_of[c] {
                            part[slot][t * s..(t + 1) * s].copy_from_slice(sym);
                        }
                    },
                )
            },
        )?;
        Ok(wanted.iter().copied().zip(out).collect())
    }
}

/// `count` codewords cut into contiguous batches for the coder: about
/// [`TARGET_BATCH_BYTES`] of symbols each, and enough batches to keep
/// every thread busy.
fn batches_of(count: usize, symbol_size: usize) -> Vec<(usize, usize)> {
    let threads = rayon::current_num_threads().max(1);
    let width = (TARGET_BATCH_BYTES / symbol_size)
        .max(1)
        .min(count.div_ceil(threads * 4).max(1));
    (0..count)
        .step_by(width)
        .map(|start| (start, width.min(count - start)))
        .collect()
}

/// For each batch, the part of every output it writes: symbols
/// `start..start + len` of each (outputs are symbol runs indexed by
/// codeword).
fn split_for_batches<'a>(
    outputs: &'a mut [Vec<u8>],
    batches: &[(usize, usize)],
    symbol_size: usize,
) -> Vec<Vec<&'a mut [u8]>> {
    let mut rests: Vec<&'a mut [u8]> = outputs.iter_mut().map(Vec::as_mut_slice).collect();
    batches
        .iter()
        .map(|&(_, len)| {
            rests
                .iter_mut()
                .map(|rest| {
                    let (part, tail) = std::mem::take(rest).split_at_mut(len * symbol_size);
                    *rest = tail;
                    part
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::encode_blob;

    #[test]
    fn every_pair_equals_the_full_encoders() {
        for (n, len) in [(4u16, 0usize), (4, 1), (7, 1000), (10, 4321), (31, 20_000)] {
            let config = EncodingConfig::new(n).unwrap();
            let blob: Vec<u8> = (0..len).map(|b| (b * 31 + 7) as u8).collect();
            let (pairs, _) = encode_blob(&config, &blob).unwrap().into_pairs();
            let encoder = PairEncoder::new(&config, &blob).unwrap();
            let all: Vec<u16> = (0..n).rev().collect();
            let got = encoder.encode_pairs(&all).unwrap();
            for (pair, got) in all.iter().zip(&got) {
                assert_eq!(
                    got,
                    &pairs[usize::from(*pair)],
                    "n {n} len {len} pair {pair}"
                );
            }
            assert_eq!(
                encoder.total_bytes(),
                pairs
                    .iter()
                    .map(|p| p.primary.data().len() + p.secondary.data().len())
                    .sum::<usize>()
            );
        }
    }

    #[test]
    fn duplicate_or_out_of_range_pairs_are_refused() {
        let config = EncodingConfig::new(10).unwrap();
        let encoder = PairEncoder::new(&config, vec![1u8; 100]).unwrap();
        assert_eq!(
            encoder.encode_pairs(&[3, 3]),
            Err(EncodingError::InvalidSymbolSet)
        );
        assert!(matches!(
            encoder.encode_pairs(&[10]),
            Err(EncodingError::IndexOutOfRange { index: 10, .. })
        ));
    }
}
