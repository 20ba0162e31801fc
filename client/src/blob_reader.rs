//! Byte ranges of a blob, read without decoding it.
//!
//! [`Client::open_blob`] verifies the blob's metadata once; the
//! [`BlobReader`] it returns knows the blob's length (so a caller can
//! resolve "the last 100 bytes" or answer HTTP 416 before fetching
//! anything) and reads either the whole blob ([`BlobReader::read_all`],
//! the usual `k_p` slivers and a decode) or a byte range
//! ([`BlobReader::read_range`]).
//!
//! A range is served by the *systematic* primary slivers, the rows that
//! hold it ([`crate::byte_range`]): each is asked of its shard's owner
//! (then, during an epoch change, of the shard's previous owner) and
//! verified against the metadata exactly as a full read verifies it (the
//! Merkle root over the re-expanded row must equal the metadata's sliver
//! hash), and the range is cut out of the verified rows. A 1 MiB range of
//! a 100 MiB blob thus moves one or two slivers instead of `k_p` and
//! decodes nothing.
//!
//! When a row cannot be had that way (its holder is down, has no URL, or
//! serves bytes that do not verify) or no row arrives for a hedge delay
//! (a hung node), the reader falls back to the full read: any `k_p`
//! verified primary slivers, the rows already verified among them, a
//! decode with the default consistency check, then the slice. A lying node
//! can therefore cost time but never change the answer.
//!
//! Consistency: rows read directly are checked against the writer's
//! commitment (their hashes in the metadata), which is the consistency
//! check a full read applies to those same rows. If the writer committed
//! to slivers that are not one codeword, a full read that decodes from
//! repair rows reports the blob inconsistent, while a range read of
//! systematic rows returns what the writer committed to for those rows.
//! Nodes that notice mark such a blob invalid on chain.

use std::ops::Range;
use std::sync::Arc;

use floe_core::encoding::PrimarySliver;
use floe_core::{BlobId, VerifiedBlobMetadataWithId};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::Semaphore;

use crate::byte_range::{BlobRange, RowSlice};
use crate::client::{Client, NodeSet};
use crate::config::ClientLimits;
use crate::error::{ClientError, Result};
use crate::read::{
    SliverCandidate, fetch_verified_primary, metadata_from_nodes, read_with_metadata,
};
use crate::types::{Progress, ProgressFn, report};

/// Most rows of one range asked at once. Rows are large (up to `k_s *
/// 65534` bytes); asking a few at a time keeps the first answers coming
/// early, which the stall detection relies on, and bounds memory in
/// flight.
const ROW_WINDOW: usize = 16;

impl Client {
    /// Verified metadata of `blob_id` and what is needed to read it.
    pub async fn open_blob(&self, blob_id: &BlobId) -> Result<BlobReader> {
        let nodes = self.node_set().await?;
        let metadata = metadata_from_nodes(&nodes, blob_id, &self.permits).await?;
        Ok(BlobReader {
            nodes,
            metadata: Arc::new(metadata),
            permits: self.permits.clone(),
            limits: self.config.limits.clone(),
        })
    }

    /// Bytes `range` (`start..end`, end exclusive) of blob `blob_id`,
    /// fetched from the slivers that hold them ([`BlobReader::read_range`]).
    /// A range reaching past the blob's end is
    /// [`ClientError::RangeNotSatisfiable`].
    pub async fn read_range(
        &self,
        blob_id: &BlobId,
        range: Range<u64>,
        progress: Option<ProgressFn>,
    ) -> Result<Vec<u8>> {
        self.open_blob(blob_id)
            .await?
            .read_range(range, progress)
            .await
    }
}

/// A blob whose metadata are verified, ready to be read whole or in part.
#[derive(Debug)]
pub struct BlobReader {
    pub(crate) nodes: NodeSet,
    pub(crate) metadata: Arc<VerifiedBlobMetadataWithId>,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) limits: ClientLimits,
}

impl BlobReader {
    /// The blob's id.
    pub fn blob_id(&self) -> &BlobId {
        self.metadata.blob_id()
    }

    /// The blob's length in bytes (from verified metadata: the blob id
    /// commits to it).
    pub fn len(&self) -> u64 {
        self.metadata.metadata().unencoded_length()
    }

    /// Whether the blob has no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The verified metadata.
    pub fn metadata(&self) -> &VerifiedBlobMetadataWithId {
        &self.metadata
    }

    /// The whole blob: `k_p` verified primary slivers and a decode.
    pub async fn read_all(&self, progress: Option<ProgressFn>) -> Result<Vec<u8>> {
        read_with_metadata(
            &self.nodes,
            &self.metadata,
            Vec::new(),
            &self.permits,
            &self.limits,
            progress,
        )
        .await
    }

    /// Bytes `range` (end exclusive) of the blob, from the verified rows
    /// that hold them, else from a full read (see the module docs). An
    /// empty range within the blob is empty; one past the end is
    /// [`ClientError::RangeNotSatisfiable`].
    pub async fn read_range(
        &self,
        range: Range<u64>,
        progress: Option<ProgressFn>,
    ) -> Result<Vec<u8>> {
        let range = BlobRange::new(range, self.len())?;
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let config = self.nodes.encoding;
        let symbol_size = self.metadata.symbol_size(&config)?;
        let row_len = config.primary_sliver_len(symbol_size);
        let slices = range.rows(row_len as u64);
        report(
            &progress,
            Progress::DownloadStarted {
                bytes: (slices.len() * row_len) as u64,
            },
        );
        let (rows, failure) = self.fetch_rows(&slices, row_len, &progress).await?;
        let Some(why) = failure else {
            return Ok(cut(&slices, &rows, range.len()));
        };
        tracing::info!(
            blob_id = %self.blob_id(),
            reason = %why,
            "a row of the range could not be read directly; decoding the blob"
        );
        let blob = read_with_metadata(
            &self.nodes,
            &self.metadata,
            rows,
            &self.permits,
            &self.limits,
            progress,
        )
        .await?;
        // The decoded blob has exactly `len` bytes, and `range` is within it.
        let (start, end) = (range.start() as usize, range.end() as usize);
        blob.get(start..end)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| ClientError::Invalid(format!("decoded blob shorter than {end} bytes")))
    }

    /// The verified rows of `slices`, in order, at most [`ROW_WINDOW`]
    /// asked at once. Stops at the first row that cannot be had, or when
    /// no row arrived for a hedge delay, and then returns the rows verified
    /// so far (any order) with the reason, for the fallback to reuse.
    async fn fetch_rows(
        &self,
        slices: &[RowSlice],
        row_len: usize,
        progress: &Option<ProgressFn>,
    ) -> Result<(Vec<PrimarySliver>, Option<String>)> {
        let config = self.nodes.encoding;
        let blob_id = *self.blob_id();
        let k_p = u64::from(config.n_primary_source_symbols());
        let mut candidates = Vec::with_capacity(slices.len());
        for slice in slices {
            // The symbol size makes the blob fit k_p rows, so this holds
            // for any range within the blob.
            let pair = u16::try_from(slice.row)
                .ok()
                .filter(|_| slice.row < k_p)
                .ok_or_else(|| {
                    ClientError::Invalid(format!("row {} is past the blob's {k_p} rows", slice.row))
                })?;
            match SliverCandidate::for_pair(&self.nodes, &blob_id, pair) {
                Some(candidate) => candidates.push(candidate),
                None => {
                    return Ok((
                        Vec::new(),
                        Some(format!("no holder of row {pair} has a URL")),
                    ));
                }
            }
        }
        let mut waiting = candidates.into_iter().enumerate();
        let mut running = FuturesUnordered::new();
        let mut rows: Vec<Option<PrimarySliver>> = vec![None; slices.len()];
        let mut failure = None;
        let stall = self.limits.hedge_delay();
        loop {
            while running.len() < ROW_WINDOW {
                let Some((position, candidate)) = waiting.next() else {
                    break;
                };
                let fetch = fetch_verified_primary(
                    candidate,
                    self.metadata.clone(),
                    self.permits.clone(),
                    config,
                );
                running.push(async move { (position, fetch.await) });
            }
            let next = match tokio::time::timeout(stall, running.next()).await {
                Ok(Some(answer)) => answer,
                Ok(None) => break,
                Err(_) => {
                    failure = Some(format!("no row arrived within {stall:?}"));
                    break;
                }
            };
            match next {
                (position, Ok(sliver)) => {
                    report(
                        progress,
                        Progress::Downloaded {
                            bytes: row_len as u64,
                        },
                    );
                    rows[position] = Some(sliver);
                }
                (_, Err(e)) => {
                    tracing::warn!(error = %e, "row of a range rejected");
                    failure = Some(e);
                    break;
                }
            }
        }
        // Without a failure every row arrived, so the order is kept.
        Ok((rows.into_iter().flatten().collect(), failure))
    }
}

/// The range's bytes out of its verified rows (`rows[i]` is the row of
/// `slices[i]`).
fn cut(slices: &[RowSlice], rows: &[PrimarySliver], len: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    for (slice, row) in slices.iter().zip(rows) {
        out.extend_from_slice(&row.data()[slice.within.clone()]);
    }
    out
}

#[cfg(test)]
mod tests;
