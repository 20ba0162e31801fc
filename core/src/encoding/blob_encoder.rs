//! Encoding a whole blob: slivers, sliver hashes, metadata and blob id.
//!
//! The blob is laid row-major into a `k_p x k_s` matrix of symbols (zero
//! padded). Step 1 expands every source row with the secondary code (adding
//! columns `k_s..n`). Step 2 expands every column with the primary code
//! (adding rows `k_p..n`), which yields the whole `n x n` matrix one batch of
//! columns at a time; each symbol is leaf-hashed once, and the same leaf hash
//! serves both its row tree and its column tree. The bottom-right quadrant is
//! never stored, so computing only the metadata needs the blob plus the
//! `k_p x (n - k_s)` block of step 1 (about half the blob) and `32 n^2` bytes
//! of leaf hashes.

use rayon::prelude::*;

use super::reed_solomon::{RsCode, RsWorkspace};
use super::slivers::{PrimarySliver, SecondarySliver};
use super::{EncodingConfig, EncodingError, EncodingType};
use crate::merkle::{Digest, EMPTY_NODE, Node, leaf_hashes, root_from_leaf_hashes};
use crate::metadata::{
    BlobMetadata, BlobMetadataV1, SliverPairMetadata, VerifiedBlobMetadataWithId,
};

/// Rows whose Merkle roots are computed together from the leaf matrix.
const ROW_BLOCK: usize = 16;

/// Bytes of symbols per packed Reed-Solomon shard that a batch aims for.
pub(super) const TARGET_BATCH_BYTES: usize = 16 * 1024;

/// The blob as a `k_p x k_s` matrix of symbols, zero padded without copying
/// the whole blob.
pub(super) struct MessageMatrix<'a> {
    blob: &'a [u8],
    row_len: usize,
    symbol_size: usize,
    /// The row the blob ends in, padded (empty if the blob fills whole rows).
    partial_row: Vec<u8>,
    partial_index: usize,
    zero_row: Vec<u8>,
}

impl<'a> MessageMatrix<'a> {
    pub(super) fn new(blob: &'a [u8], config: &EncodingConfig, symbol_size: usize) -> Self {
        let row_len = usize::from(config.n_secondary_source_symbols()) * symbol_size;
        let partial_index = blob.len() / row_len;
        let mut partial_row = Vec::new();
        if !blob.len().is_multiple_of(row_len) {
            partial_row = vec![0u8; row_len];
            let start = partial_index * row_len;
            partial_row[..blob.len() - start].copy_from_slice(&blob[start..]);
        }
        Self {
            blob,
            row_len,
            symbol_size,
            partial_row,
            partial_index,
            zero_row: vec![0u8; row_len],
        }
    }

    pub(super) fn row(&self, i: usize) -> &[u8] {
        if i < self.partial_index {
            &self.blob[i * self.row_len..(i + 1) * self.row_len]
        } else if i == self.partial_index && !self.partial_row.is_empty() {
            &self.partial_row
        } else {
            &self.zero_row
        }
    }

    pub(super) fn symbol(&self, i: usize, j: usize) -> &[u8] {
        &self.row(i)[j * self.symbol_size..(j + 1) * self.symbol_size]
    }
}

/// The `k_p` source rows expanded to all `n` columns.
struct SourceRows<'a> {
    matrix: &'a MessageMatrix<'a>,
    repair: &'a [u8],
    k_s: usize,
    symbol_size: usize,
    repair_row_len: usize,
}

impl<'a> SourceRows<'a> {
    fn symbol(&self, i: usize, j: usize) -> &'a [u8] {
        if j < self.k_s {
            self.matrix.symbol(i, j)
        } else {
            let at = i * self.repair_row_len + (j - self.k_s) * self.symbol_size;
            &self.repair[at..at + self.symbol_size]
        }
    }
}

/// The `k_p x (n - k_s)` block of repair columns of the source rows
/// (row-major: row `i` holds symbols `k_s..n` of the secondary-code
/// expansion of source row `i`), about half the blob. Step 1 of the
/// encoder, and what a secondary repair sliver is a column of.
pub(super) fn row_repair_block(
    matrix: &MessageMatrix<'_>,
    config: &EncodingConfig,
    s: usize,
) -> Result<Vec<u8>, EncodingError> {
    let n = config.n();
    let k_p = usize::from(config.n_primary_source_symbols());
    let k_s = usize::from(config.n_secondary_source_symbols());
    let row_code = RsCode::new(k_s, n)?;
    let repair_row_len = (n - k_s) * s;
    let mut repair = vec![0u8; k_p * repair_row_len];
    let rows_per_batch = (TARGET_BATCH_BYTES / s)
        .max(1)
        .min(k_p.div_ceil(rayon::current_num_threads().max(1) * 4).max(1));
    repair
        .par_chunks_mut(rows_per_batch * repair_row_len)
        .enumerate()
        .try_for_each_init(RsWorkspace::default, |ws, (b, out)| {
            let r0 = b * rows_per_batch;
            let count = out.len() / repair_row_len;
            ws.encode(
                row_code,
                s,
                count,
                |j, t| matrix.symbol(r0 + t, j),
                |r, t, sym| {
                    let at = t * repair_row_len + r * s;
                    out[at..at + s].copy_from_slice(sym);
                },
            )
        })?;
    Ok(repair)
}

/// Where the metadata pass hands each repair primary sliver's bytes, a
/// run of columns at a time, as it computes them: `(sliver index, byte
/// offset in the sliver, bytes)`. Called from several threads at once.
pub type RepairRowSink<'a> = &'a (dyn Fn(u16, usize, &[u8]) + Sync);

/// Everything the encoder produced.
#[derive(Debug, Clone)]
pub struct EncodedBlob {
    /// Primary slivers, by sliver (= pair) index.
    pub primary: Vec<PrimarySliver>,
    /// Secondary slivers, by *sliver* index (pair `i` holds secondary `n - 1 - i`).
    pub secondary: Vec<SecondarySliver>,
    /// Metadata and blob id.
    pub metadata: VerifiedBlobMetadataWithId,
}

/// A primary and a secondary sliver stored together on one shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliverPair {
    /// Primary sliver `i`.
    pub primary: PrimarySliver,
    /// Secondary sliver `n - 1 - i`.
    pub secondary: SecondarySliver,
}

impl SliverPair {
    /// The pair index (= the primary sliver index).
    pub fn index(&self) -> u16 {
        self.primary.index
    }
}

impl EncodedBlob {
    /// Regroups the slivers into pairs, in pair order.
    pub fn into_pairs(self) -> (Vec<SliverPair>, VerifiedBlobMetadataWithId) {
        let mut secondary: Vec<Option<SecondarySliver>> =
            self.secondary.into_iter().map(Some).collect();
        let n = secondary.len();
        let pairs = self
            .primary
            .into_iter()
            .enumerate()
            .map(|(i, primary)| SliverPair {
                primary,
                secondary: secondary[n - 1 - i]
                    .take()
                    .expect("each secondary is used once"),
            })
            .collect();
        (pairs, self.metadata)
    }
}

/// Mutable output of one column batch.
struct BatchOut<'a> {
    start: usize,
    len: usize,
    /// Column-major leaf hashes of the batch's columns (`len * n`).
    leaves: &'a mut [Digest],
    /// Column roots of the batch's columns.
    roots: &'a mut [Node],
    /// Secondary slivers of the batch's columns, when encoding fully.
    secondary: Option<&'a mut [Vec<u8>]>,
    /// For each repair row `k_p + r`, the batch's byte range of primary sliver
    /// `k_p + r`, when encoding fully and the batch lies in columns `< k_s`.
    primary_rows: Vec<&'a mut [u8]>,
}

/// Column ranges processed as one Reed-Solomon call, never straddling `k_s`.
fn column_batches(n: usize, k_s: usize, symbol_size: usize) -> Vec<(usize, usize)> {
    let threads = rayon::current_num_threads().max(1);
    let by_bytes = (TARGET_BATCH_BYTES / symbol_size).max(1);
    let by_balance = n.div_ceil(threads * 4).max(1);
    let width = by_bytes.min(by_balance);
    let mut out = Vec::new();
    for (lo, hi) in [(0, k_s), (k_s, n)] {
        let mut c = lo;
        while c < hi {
            let end = (c + width).min(hi);
            out.push((c, end - c));
            c = end;
        }
    }
    out
}

/// Encodes `blob` fully: all `2n` slivers and the metadata.
pub fn encode_blob(config: &EncodingConfig, blob: &[u8]) -> Result<EncodedBlob, EncodingError> {
    let (metadata, slivers, _) = run(config, blob, true, None)?;
    let (primary, secondary) = slivers.expect("full encoding returns slivers");
    Ok(EncodedBlob {
        primary,
        secondary,
        metadata,
    })
}

/// Computes only the metadata (and so the blob id) of `blob`.
pub fn compute_metadata(
    config: &EncodingConfig,
    blob: &[u8],
) -> Result<VerifiedBlobMetadataWithId, EncodingError> {
    Ok(run(config, blob, false, None)?.0)
}

/// The metadata of `blob`, keeping no sliver but handing every repair
/// primary sliver (`k_p..n`) to `spill` as it is computed, and returning
/// the row-repair block ([`row_repair_block`]), from which (with the blob)
/// every secondary sliver is a copy. For a store that produces the slivers
/// later without encoding again (`PairEncoder::metadata`).
pub(super) fn compute_metadata_spilling(
    config: &EncodingConfig,
    blob: &[u8],
    spill: Option<RepairRowSink<'_>>,
) -> Result<(VerifiedBlobMetadataWithId, Vec<u8>), EncodingError> {
    let (metadata, _, repair) = run(config, blob, false, spill)?;
    Ok((metadata, repair))
}

type Slivers = (Vec<PrimarySliver>, Vec<SecondarySliver>);

/// Step 1 then step 2; `spill` gets the repair primary slivers' bytes
/// (whether or not the slivers are kept); also returns step 1's block.
fn run(
    config: &EncodingConfig,
    blob: &[u8],
    want_slivers: bool,
    spill: Option<RepairRowSink<'_>>,
) -> Result<(VerifiedBlobMetadataWithId, Option<Slivers>, Vec<u8>), EncodingError> {
    let unencoded_length = blob.len() as u64;
    let symbol_size_u16 = config.symbol_size_for(unencoded_length)?;
    let s = usize::from(symbol_size_u16);
    let n = config.n();
    let k_p = usize::from(config.n_primary_source_symbols());
    let k_s = usize::from(config.n_secondary_source_symbols());
    let col_code = RsCode::new(k_p, n)?;
    let matrix = MessageMatrix::new(blob, config, s);

    // Step 1: repair columns of the source rows, row-major k_p x (n - k_s).
    let repair_cols = n - k_s;
    let repair_row_len = repair_cols * s;
    let repair = row_repair_block(&matrix, config, s)?;
    let sources = SourceRows {
        matrix: &matrix,
        repair: &repair,
        k_s,
        symbol_size: s,
        repair_row_len,
    };
    let source_symbol = |i: usize, j: usize| sources.symbol(i, j);

    // Outputs of step 2.
    let mut leaves: Vec<Digest> = vec![EMPTY_NODE; n * n];
    let mut col_roots: Vec<Node> = vec![Node::Empty; n];
    let mut secondary_data: Vec<Vec<u8>> = if want_slivers {
        vec![Vec::new(); n]
    } else {
        Vec::new()
    };
    let mut primary_data: Vec<Vec<u8>> = if want_slivers {
        (0..n)
            .map(|i| {
                if i < k_p {
                    matrix.row(i).to_vec()
                } else {
                    vec![0u8; k_s * s]
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    let batches = column_batches(n, k_s, s);
    let mut outs: Vec<BatchOut<'_>> = Vec::with_capacity(batches.len());
    {
        let mut leaves_rest: &mut [Digest] = &mut leaves;
        let mut roots_rest: &mut [Node] = &mut col_roots;
        let mut sec_rest: Option<&mut [Vec<u8>]> = want_slivers.then_some(&mut secondary_data[..]);
        let mut prim_rests: Vec<&mut [u8]> = if want_slivers {
            primary_data[k_p..]
                .iter_mut()
                .map(Vec::as_mut_slice)
                .collect()
        } else {
            Vec::new()
        };
        for &(start, len) in &batches {
            let (l, lr) = std::mem::take(&mut leaves_rest).split_at_mut(len * n);
            leaves_rest = lr;
            let (r, rr) = std::mem::take(&mut roots_rest).split_at_mut(len);
            roots_rest = rr;
            let secondary = sec_rest.take().map(|rest| {
                let (a, b) = rest.split_at_mut(len);
                sec_rest = Some(b);
                a
            });
            let mut primary_rows = Vec::new();
            if start < k_s {
                for rest in prim_rests.iter_mut() {
                    let (a, b) = std::mem::take(rest).split_at_mut(len * s);
                    *rest = b;
                    primary_rows.push(a);
                }
            }
            outs.push(BatchOut {
                start,
                len,
                leaves: l,
                roots: r,
                secondary,
                primary_rows,
            });
        }
    }

    outs.into_par_iter().try_for_each_init(
        || {
            (
                RsWorkspace::default(),
                Vec::<u8>::new(),
                Vec::<Digest>::new(),
            )
        },
        |(ws, col_repair, scratch), mut out| -> Result<(), EncodingError> {
            let (start, len) = (out.start, out.len);
            let rows = n - k_p;
            // col_repair: repair row r, column t at (r * len + t) * s.
            col_repair.resize(rows * len * s, 0);
            ws.encode(
                col_code,
                s,
                len,
                |i, t| source_symbol(i, start + t),
                |r, t, sym| {
                    let at = (r * len + t) * s;
                    col_repair[at..at + s].copy_from_slice(sym);
                },
            )?;
            for t in 0..len {
                let j = start + t;
                let column = (0..n).map(|i| {
                    if i < k_p {
                        source_symbol(i, j)
                    } else {
                        let at = ((i - k_p) * len + t) * s;
                        &col_repair[at..at + s]
                    }
                });
                let col_leaves = &mut out.leaves[t * n..(t + 1) * n];
                leaf_hashes(column, col_leaves);
                scratch.clear();
                scratch.extend_from_slice(col_leaves);
                out.roots[t] = root_from_leaf_hashes(scratch);
                if let Some(secondary) = out.secondary.as_deref_mut() {
                    let mut sliver = Vec::with_capacity(k_p * s);
                    for i in 0..k_p {
                        sliver.extend_from_slice(source_symbol(i, j));
                    }
                    secondary[t] = sliver;
                }
            }
            for (r, row) in out.primary_rows.iter_mut().enumerate() {
                row.copy_from_slice(&col_repair[r * len * s..(r + 1) * len * s]);
            }
            if let Some(spill) = spill
                && start < k_s
            {
                for r in 0..rows {
                    // k_p + r < n <= u16::MAX + 1, checked by the config.
                    spill(
                        (k_p + r) as u16,
                        start * s,
                        &col_repair[r * len * s..(r + 1) * len * s],
                    );
                }
            }
            Ok(())
        },
    )?;

    // Row roots from the column-major leaf matrix, a block of rows at a time
    // so that each column contributes one contiguous run per block instead
    // of one cache miss per leaf.
    let mut row_roots: Vec<Node> = vec![Node::Empty; n];
    row_roots
        .par_chunks_mut(ROW_BLOCK)
        .enumerate()
        .for_each_init(Vec::<Digest>::new, |scratch, (b, roots)| {
            let i0 = b * ROW_BLOCK;
            let rows = roots.len();
            scratch.clear();
            scratch.resize(rows * n, EMPTY_NODE);
            for j in 0..n {
                let run = &leaves[j * n + i0..j * n + i0 + rows];
                for (t, leaf) in run.iter().enumerate() {
                    scratch[t * n + j] = *leaf;
                }
            }
            for (t, root) in roots.iter_mut().enumerate() {
                *root = root_from_leaf_hashes(&mut scratch[t * n..(t + 1) * n]);
            }
        });
    drop(leaves);

    let hashes = (0..n)
        .map(|i| SliverPairMetadata {
            primary_hash: row_roots[i],
            secondary_hash: col_roots[n - 1 - i],
        })
        .collect();
    let metadata = VerifiedBlobMetadataWithId::new_trusted(BlobMetadata::V1(BlobMetadataV1 {
        encoding_type: EncodingType::Rs2,
        unencoded_length,
        hashes,
    }));

    let slivers = if want_slivers {
        let primary = primary_data
            .into_iter()
            .enumerate()
            .map(|(i, data)| PrimarySliver::new(data, symbol_size_u16, i as u16))
            .collect::<Result<Vec<_>, _>>()?;
        let secondary = secondary_data
            .into_iter()
            .enumerate()
            .map(|(j, data)| SecondarySliver::new(data, symbol_size_u16, j as u16))
            .collect::<Result<Vec<_>, _>>()?;
        Some((primary, secondary))
    } else {
        None
    };
    Ok((metadata, slivers, repair))
}
