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
//! - secondary sliver `j >= k_s` is a repair column: a strided copy out of
//!   the row-repair block (every source row expanded with the secondary
//!   code, `k_p x (n - k_s)`, about half the blob), computed once (one pass
//!   over the blob) and kept; [`PairEncoder::metadata`] keeps the one its
//!   own pass computes, so after it no secondary costs a pass;
//! - primary sliver `i >= k_p` is a repair row: every source column
//!   `j < k_s` is expanded with the primary code (one pass over the blob)
//!   and only the wanted rows are kept, unless the caller supplies the row
//!   ([`PairEncoder::encode_pairs_with`]): the metadata pass can hand every
//!   repair row to a sink as it computes them, so a caller that spills them
//!   (to a file) never pays a second column pass.
//!
//! So a call costs at most one column pass whatever the number of pairs
//! asked: callers ask for pairs in groups as large as their memory allows.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::blob_encoder::{
    MessageMatrix, RepairRowSink, SliverPair, TARGET_BATCH_BYTES, compute_metadata_spilling,
    row_repair_block,
};
use super::reed_solomon::{RsCode, RsWorkspace};
use super::slivers::{PrimarySliver, SecondarySliver};
use super::{EncodingConfig, EncodingError};
use crate::metadata::VerifiedBlobMetadataWithId;

/// The work a pair needs beyond copying the blob's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairWork {
    /// Both slivers are copies of the blob or of kept blocks.
    Copy,
    /// The secondary sliver is a repair column and the row-repair block is
    /// not computed yet (a pass of the secondary code over every source
    /// row, once).
    RowPass,
    /// The primary sliver is a repair row (a pass of the primary code over
    /// every source column) unless the caller supplies it.
    ColumnPass,
}

/// The row-repair block, kept once computed.
#[derive(Clone)]
struct RowRepair(Vec<u8>);

impl std::fmt::Debug for RowRepair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowRepair({} bytes)", self.0.len())
    }
}

/// Produces chosen sliver pairs of one blob (`B` is any owner of its bytes).
#[derive(Debug, Clone)]
pub struct PairEncoder<B> {
    blob: B,
    config: EncodingConfig,
    symbol_size: u16,
    row_repair: OnceLock<RowRepair>,
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
            row_repair: OnceLock::new(),
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

    /// Bytes of one primary sliver (`k_s` symbols): what a supplied repair
    /// row must hold.
    pub fn primary_bytes(&self) -> usize {
        usize::from(self.config.n_secondary_source_symbols()) * usize::from(self.symbol_size)
    }

    /// Bytes this encoder keeps beside the blob (the row-repair block once
    /// computed).
    pub fn kept_bytes(&self) -> usize {
        self.row_repair.get().map_or(0, |block| block.0.len())
    }

    /// The blob's metadata, from one encoding pass that keeps no sliver
    /// (the same as [`compute_metadata`](super::compute_metadata)). The
    /// pass's row-repair block is kept, so no secondary sliver costs a
    /// pass afterwards, and `spill`, if given, receives every repair
    /// primary sliver (`k_p..n`) in pieces as the pass computes it, to be
    /// supplied back through [`encode_pairs_with`](Self::encode_pairs_with).
    pub fn metadata(
        &self,
        spill: Option<RepairRowSink<'_>>,
    ) -> Result<VerifiedBlobMetadataWithId, EncodingError> {
        let (metadata, block) = compute_metadata_spilling(&self.config, self.blob(), spill)?;
        // Set unless a repair column asked meanwhile computed the same block.
        let _ = self.row_repair.set(RowRepair(block));
        Ok(metadata)
    }

    /// What producing `pair` costs beyond copies (see the module docs).
    pub fn work_of(&self, pair: u16) -> PairWork {
        let n = self.config.n();
        let k_p = usize::from(self.config.n_primary_source_symbols());
        let k_s = usize::from(self.config.n_secondary_source_symbols());
        let i = usize::from(pair);
        if i >= k_p {
            PairWork::ColumnPass
        } else if n - 1 - i >= k_s && self.row_repair.get().is_none() {
            PairWork::RowPass
        } else {
            PairWork::Copy
        }
    }

    /// The pairs `pairs` (distinct, each below `n`), in the order asked.
    pub fn encode_pairs(&self, pairs: &[u16]) -> Result<Vec<SliverPair>, EncodingError> {
        self.encode_pairs_with(pairs, BTreeMap::new())
    }

    /// The pairs `pairs` (distinct, each below `n`), in the order asked,
    /// taking repair primary slivers from `known` (by sliver index, each of
    /// [`primary_bytes`](Self::primary_bytes)) where it has them, as the
    /// metadata pass spilled them; the other repair rows cost a column pass.
    pub fn encode_pairs_with(
        &self,
        pairs: &[u16],
        mut known: BTreeMap<u16, Vec<u8>>,
    ) -> Result<Vec<SliverPair>, EncodingError> {
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
        for row in known.values() {
            if row.len() != self.primary_bytes() {
                return Err(EncodingError::BadSymbolLayout {
                    len: row.len(),
                    symbol_size: self.symbol_size,
                });
            }
        }
        let matrix = MessageMatrix::new(self.blob(), &self.config, s);

        let missing: Vec<usize> = pairs
            .iter()
            .filter(|&&p| usize::from(p) >= k_p && !known.contains_key(&p))
            .map(|&p| usize::from(p))
            .collect();
        let mut rows = self.repair_rows(&matrix, &missing)?;
        let block = if pairs.iter().any(|&p| n - 1 - usize::from(p) >= k_s) {
            Some(self.row_repair_block(&matrix)?)
        } else {
            None
        };
        let repair_row_len = (n - k_s) * s;

        pairs
            .iter()
            .map(|&pair| {
                let i = usize::from(pair);
                let j = n - 1 - i;
                let primary = if i < k_p {
                    matrix.row(i).to_vec()
                } else if let Some(row) = known.remove(&pair) {
                    row
                } else {
                    rows.remove(&i).ok_or(EncodingError::InvalidSymbolSet)?
                };
                let mut secondary = Vec::with_capacity(k_p * s);
                for r in 0..k_p {
                    if j < k_s {
                        secondary.extend_from_slice(matrix.symbol(r, j));
                    } else {
                        let block = block.ok_or(EncodingError::InvalidSymbolSet)?;
                        let at = r * repair_row_len + (j - k_s) * s;
                        secondary.extend_from_slice(&block[at..at + s]);
                    }
                }
                Ok(SliverPair {
                    primary: PrimarySliver::new(primary, self.symbol_size, pair)?,
                    secondary: SecondarySliver::new(secondary, self.symbol_size, j as u16)?,
                })
            })
            .collect()
    }

    /// The row-repair block: kept, or computed now (one pass) and kept.
    fn row_repair_block(&self, matrix: &MessageMatrix<'_>) -> Result<&[u8], EncodingError> {
        if self.row_repair.get().is_none() {
            let block = row_repair_block(matrix, &self.config, usize::from(self.symbol_size))?;
            let _ = self.row_repair.set(RowRepair(block));
        }
        self.row_repair
            .get()
            .map(|block| block.0.as_slice())
            .ok_or(EncodingError::InvalidSymbolSet)
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

    /// Rows supplied (read back from a spill) are used as given, not
    /// computed again: a marked row comes out as it went in.
    #[test]
    fn supplied_repair_rows_are_used_as_given() {
        let config = EncodingConfig::new(10).unwrap();
        let blob: Vec<u8> = (0..4000).map(|b| (b * 7 + 1) as u8).collect();
        let encoder = PairEncoder::new(&config, &blob).unwrap();
        let repair = config.n_primary_source_symbols();
        let marked = vec![0xa5u8; encoder.primary_bytes()];
        let known = BTreeMap::from([(repair, marked.clone())]);
        let got = encoder.encode_pairs_with(&[repair, 0], known).unwrap();
        assert_eq!(got[0].primary.data(), marked.as_slice());
        let (pairs, _) = encode_blob(&config, &blob).unwrap().into_pairs();
        assert_eq!(got[0].secondary, pairs[usize::from(repair)].secondary);
        assert_eq!(got[1], pairs[0]);
        let short = BTreeMap::from([(repair, vec![0u8; 2])]);
        assert!(matches!(
            encoder.encode_pairs_with(&[repair], short),
            Err(EncodingError::BadSymbolLayout { len: 2, .. })
        ));
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
