//! Decoding a blob from `n - 2f` primary slivers or `n - f` secondary slivers,
//! with Walrus's consistency checks.
//!
//! The slivers handed in must already have been verified against the
//! metadata (a reader verifies each one as it arrives, which is how it
//! tolerates lying nodes). What the consistency check adds is protection
//! against a *writer* that committed to slivers that do not form one codeword.

use rayon::prelude::*;

use super::reed_solomon::{RsCode, RsWorkspace};
use super::slivers::{EncodingAxis, PrimarySliver, SecondarySliver, SliverData};
use super::{EncodingConfig, EncodingError, blob_encoder};
use crate::merkle::{Digest, EMPTY_NODE, leaf_hashes, root_from_leaf_hashes};
use crate::metadata::VerifiedBlobMetadataWithId;

/// Bytes of symbols per packed shard a decode batch aims for.
const TARGET_BATCH_BYTES: usize = 64 * 1024;

/// How much to re-check after decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsistencyCheck {
    /// Trust the decoded bytes.
    Skip,
    /// Recompute the hash of every systematic primary sliver (rows `0..k_p`)
    /// that was not among the supplied slivers and compare with the metadata.
    #[default]
    Default,
    /// Re-encode the whole blob and compare the blob id.
    Strict,
}

/// Why decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer distinct slivers than the code needs.
    #[error("decoding needs {needed} distinct {axis} slivers, got {got}")]
    NotEnoughSlivers {
        /// Axis.
        axis: super::Axis,
        /// Needed.
        needed: usize,
        /// Distinct ones supplied.
        got: usize,
    },
    /// A sliver has the wrong shape for these metadata.
    #[error("sliver {index} does not fit the blob: {reason}")]
    BadSliver {
        /// Sliver index.
        index: u16,
        /// What is wrong.
        reason: String,
    },
    /// The decoded blob does not match the metadata: the writer was inconsistent.
    #[error("the decoded blob is inconsistent with its metadata ({0})")]
    Inconsistent(String),
    /// Encoding arithmetic or coder failure.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
}

/// Picks the first `k` slivers with distinct, in-range indices and checks their shape.
fn select<A: EncodingAxis>(
    config: &EncodingConfig,
    symbol_size: u16,
    slivers: &[SliverData<A>],
) -> Result<Vec<usize>, DecodeError> {
    let k = usize::from(config.n_source_symbols(A::AXIS));
    let mut seen = vec![false; config.n()];
    let mut chosen = Vec::with_capacity(k);
    for (pos, sliver) in slivers.iter().enumerate() {
        sliver
            .check_shape(config, symbol_size)
            .map_err(|e| DecodeError::BadSliver {
                index: sliver.index,
                reason: e.to_string(),
            })?;
        let idx = usize::from(sliver.index);
        if !std::mem::replace(&mut seen[idx], true) {
            chosen.push(pos);
            if chosen.len() == k {
                return Ok(chosen);
            }
        }
    }
    Err(DecodeError::NotEnoughSlivers {
        axis: A::AXIS,
        needed: k,
        got: chosen.len(),
    })
}

/// Decodes from primary slivers (rows): each source column is decoded with
/// the primary code from the chosen rows.
pub fn decode_primary(
    config: &EncodingConfig,
    metadata: &VerifiedBlobMetadataWithId,
    slivers: &[PrimarySliver],
    check: ConsistencyCheck,
) -> Result<Vec<u8>, DecodeError> {
    let symbol_size = metadata.symbol_size(config)?;
    let chosen = select(config, symbol_size, slivers)?;
    let s = usize::from(symbol_size);
    let k_p = usize::from(config.n_primary_source_symbols());
    let k_s = usize::from(config.n_secondary_source_symbols());
    let code = RsCode::new(k_p, config.n())?;
    let positions: Vec<usize> = chosen
        .iter()
        .map(|&c| usize::from(slivers[c].index))
        .collect();
    let row_len = k_s * s;
    let mut matrix = vec![0u8; k_p * row_len];

    // Column batches; each owns its byte range of every row.
    let width = (TARGET_BATCH_BYTES / s)
        .max(1)
        .min(k_s.div_ceil(rayon::current_num_threads().max(1) * 2).max(1));
    let n_batches = k_s.div_ceil(width);
    let mut per_batch: Vec<Vec<&mut [u8]>> =
        (0..n_batches).map(|_| Vec::with_capacity(k_p)).collect();
    for row in matrix.chunks_mut(row_len) {
        for (b, part) in row.chunks_mut(width * s).enumerate() {
            per_batch[b].push(part);
        }
    }
    per_batch.into_par_iter().enumerate().try_for_each_init(
        RsWorkspace::default,
        |ws, (b, mut rows)| {
            let c0 = b * width;
            let count = rows[0].len() / s;
            ws.decode(
                code,
                s,
                count,
                &positions,
                |j, t| {
                    let at = (c0 + t) * s;
                    &slivers[chosen[j]].data()[at..at + s]
                },
                |i, t, sym| rows[i][t * s..(t + 1) * s].copy_from_slice(sym),
            )
        },
    )?;

    let supplied_rows: Vec<bool> = {
        let mut v = vec![false; k_p];
        for &p in &positions {
            if p < k_p {
                v[p] = true;
            }
        }
        v
    };
    finish(config, metadata, matrix, &supplied_rows, check)
}

/// Decodes from secondary slivers (columns): each source row is decoded with
/// the secondary code from the chosen columns.
pub fn decode_secondary(
    config: &EncodingConfig,
    metadata: &VerifiedBlobMetadataWithId,
    slivers: &[SecondarySliver],
    check: ConsistencyCheck,
) -> Result<Vec<u8>, DecodeError> {
    let symbol_size = metadata.symbol_size(config)?;
    let chosen = select(config, symbol_size, slivers)?;
    let s = usize::from(symbol_size);
    let k_p = usize::from(config.n_primary_source_symbols());
    let k_s = usize::from(config.n_secondary_source_symbols());
    let code = RsCode::new(k_s, config.n())?;
    let positions: Vec<usize> = chosen
        .iter()
        .map(|&c| usize::from(slivers[c].index))
        .collect();
    let row_len = k_s * s;
    let mut matrix = vec![0u8; k_p * row_len];
    let rows_per_batch = (TARGET_BATCH_BYTES / s)
        .max(1)
        .min(k_p.div_ceil(rayon::current_num_threads().max(1) * 2).max(1));
    matrix
        .par_chunks_mut(rows_per_batch * row_len)
        .enumerate()
        .try_for_each_init(RsWorkspace::default, |ws, (b, out)| {
            let r0 = b * rows_per_batch;
            let count = out.len() / row_len;
            ws.decode(
                code,
                s,
                count,
                &positions,
                |j, t| {
                    let at = (r0 + t) * s;
                    &slivers[chosen[j]].data()[at..at + s]
                },
                |c, t, sym| {
                    let at = t * row_len + c * s;
                    out[at..at + s].copy_from_slice(sym);
                },
            )
        })?;
    finish(config, metadata, matrix, &vec![false; k_p], check)
}

fn finish(
    config: &EncodingConfig,
    metadata: &VerifiedBlobMetadataWithId,
    mut matrix: Vec<u8>,
    supplied_rows: &[bool],
    check: ConsistencyCheck,
) -> Result<Vec<u8>, DecodeError> {
    let len = usize::try_from(metadata.metadata().unencoded_length())
        .map_err(|_| DecodeError::Inconsistent("blob length does not fit in memory".into()))?;
    match check {
        ConsistencyCheck::Skip => {}
        ConsistencyCheck::Default => {
            check_systematic_rows(config, metadata, &matrix, supplied_rows)?
        }
        ConsistencyCheck::Strict => {
            let recomputed = blob_encoder::compute_metadata(config, &matrix[..len])?;
            if recomputed.blob_id() != metadata.blob_id() {
                return Err(DecodeError::Inconsistent(format!(
                    "re-encoding gives blob id {}, expected {}",
                    recomputed.blob_id(),
                    metadata.blob_id()
                )));
            }
        }
    }
    matrix.truncate(len);
    Ok(matrix)
}

/// Recomputes the hash of each systematic primary sliver not supplied.
fn check_systematic_rows(
    config: &EncodingConfig,
    metadata: &VerifiedBlobMetadataWithId,
    matrix: &[u8],
    supplied_rows: &[bool],
) -> Result<(), DecodeError> {
    let symbol_size = metadata.symbol_size(config)?;
    let row_len = config.primary_sliver_len(symbol_size);
    let bad = supplied_rows
        .par_iter()
        .enumerate()
        .filter(|(_, supplied)| !**supplied)
        .map(|(i, _)| -> Result<Option<usize>, EncodingError> {
            let row = matrix[i * row_len..(i + 1) * row_len].to_vec();
            let sliver = PrimarySliver::new(row, symbol_size, i as u16)?;
            let expanded = sliver.expand(config)?;
            let mut leaves: Vec<Digest> = vec![EMPTY_NODE; expanded.len()];
            leaf_hashes(expanded.iter(), &mut leaves);
            let hash = root_from_leaf_hashes(&mut leaves);
            let expected = metadata.metadata().hashes()[i].primary_hash;
            Ok((hash != expected).then_some(i))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(row) = bad.into_iter().flatten().next() {
        return Err(DecodeError::Inconsistent(format!(
            "systematic primary sliver {row} does not match its hash"
        )));
    }
    Ok(())
}
