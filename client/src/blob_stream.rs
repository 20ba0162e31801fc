//! A blob, or a byte range of it, as a stream of verified chunks.
//!
//! Why a stream: an aggregator that answers a 100 MiB GET only after the
//! whole blob is read holds the blob in memory per request and makes the
//! caller wait for the last sliver before the first byte. The systematic
//! primary slivers *are* the blob's rows, so the answer can go out row by
//! row as each row is verified (the same check as a full read: the Merkle
//! root over the re-expanded row equals the metadata's sliver hash).
//!
//! Rows are asked in order, at most [`STREAM_WINDOW`] at once (a
//! `FuturesOrdered`, so later rows are fetched while an earlier one is
//! still on its way), and a chunk is released only when every earlier one
//! was. Memory in flight is bounded by the window, not by the blob.
//!
//! When a row cannot be had directly (its holder is down or lies, or no
//! row arrives for a hedge delay) the stream falls back once to the full
//! read of [`crate::read`]: any `k_p` verified slivers (the rows already
//! verified are not asked again if still held) and a decode; the rest of
//! the range is then served from the decoded blob. If even that fails, the
//! stream ends with the error: an HTTP server that announced a
//! `Content-Length` then closes the connection early, which the reader
//! sees as a truncated body, never as wrong bytes.

use std::collections::VecDeque;
use std::ops::Range;

use floe_core::encoding::PrimarySliver;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, FuturesOrdered};
use futures::{FutureExt, StreamExt};

use crate::blob_reader::BlobReader;
use crate::byte_range::{BlobRange, RowSlice};
use crate::error::{ClientError, Result};
use crate::read::{SliverCandidate, fetch_verified_primary, read_with_metadata};

/// Most rows of a stream in flight at once. A row is at most `k_s *
/// 65534` bytes (4.4 MB at 100 shards), so this bounds a stream's memory
/// to a few tens of MB whatever the blob's size.
pub const STREAM_WINDOW: usize = 8;

/// Verified chunks of a blob, in order, as [`BlobReader::stream_range`]
/// yields them.
pub type ChunkStream = BoxStream<'static, Result<Vec<u8>>>;

type RowFetch = BoxFuture<'static, std::result::Result<PrimarySliver, String>>;

impl BlobReader {
    /// Bytes `range` (end exclusive) of the blob as a stream of verified
    /// chunks (see the module docs); the whole blob for `0..len`. The
    /// range is checked against the blob's length before anything is
    /// fetched.
    pub fn stream_range(self, range: Range<u64>) -> Result<ChunkStream> {
        let range = BlobRange::new(range, self.len())?;
        let config = self.nodes.encoding;
        let symbol_size = self.metadata().symbol_size(&config)?;
        let row_len = config.primary_sliver_len(symbol_size);
        let state = StreamState {
            to_ask: range.rows(row_len as u64).into(),
            asked: VecDeque::new(),
            in_flight: FuturesOrdered::new(),
            sent: 0,
            range,
            reader: self,
            finished: false,
        };
        Ok(futures::stream::unfold(state, StreamState::next_chunk).boxed())
    }
}

struct StreamState {
    reader: BlobReader,
    range: BlobRange,
    /// Rows not yet asked, in order.
    to_ask: VecDeque<RowSlice>,
    /// Rows asked and not yet released, in order (the fetches' order).
    asked: VecDeque<RowSlice>,
    in_flight: FuturesOrdered<RowFetch>,
    /// Bytes of the range already released.
    sent: u64,
    finished: bool,
}

impl StreamState {
    async fn next_chunk(mut self) -> Option<(Result<Vec<u8>>, Self)> {
        if self.finished || self.sent >= self.range.len() {
            return None;
        }
        if let Err(e) = self.fill_window() {
            return self.fall_back(e).await;
        }
        let stall = self.reader.limits.hedge_delay();
        match tokio::time::timeout(stall, self.in_flight.next()).await {
            Ok(Some(Ok(row))) => {
                let Some(slice) = self.asked.pop_front() else {
                    return self.fail(ClientError::Invalid("a row arrived unasked".into()));
                };
                let Some(bytes) = row.data().get(slice.within.clone()) else {
                    return self
                        .fall_back(format!("row {} is shorter than a row", slice.row))
                        .await;
                };
                self.sent += bytes.len() as u64;
                let chunk = bytes.to_vec();
                Some((Ok(chunk), self))
            }
            Ok(Some(Err(why))) => self.fall_back(why).await,
            Ok(None) => {
                let why = format!(
                    "the rows ran out after {} of {} bytes",
                    self.sent,
                    self.range.len()
                );
                self.fail(ClientError::Invalid(why))
            }
            Err(_) => {
                self.fall_back(format!("no row arrived within {stall:?}"))
                    .await
            }
        }
    }

    /// Asks the next rows until [`STREAM_WINDOW`] are in flight.
    fn fill_window(&mut self) -> std::result::Result<(), String> {
        let config = self.reader.nodes.encoding;
        let k_p = u64::from(config.n_primary_source_symbols());
        let blob_id = *self.reader.blob_id();
        while self.in_flight.len() < STREAM_WINDOW {
            let Some(slice) = self.to_ask.pop_front() else {
                break;
            };
            let pair = u16::try_from(slice.row)
                .ok()
                .filter(|_| slice.row < k_p)
                .ok_or_else(|| format!("row {} is past the blob's {k_p} rows", slice.row))?;
            let candidate = SliverCandidate::for_pair(&self.reader.nodes, &blob_id, pair)
                .ok_or_else(|| format!("no holder of row {pair} has a URL"))?;
            self.in_flight.push_back(
                fetch_verified_primary(
                    candidate,
                    self.reader.metadata.clone(),
                    self.reader.permits.clone(),
                    config,
                )
                .boxed(),
            );
            self.asked.push_back(slice);
        }
        Ok(())
    }

    /// The rest of the range out of a full read (once), or the error.
    async fn fall_back(mut self, why: String) -> Option<(Result<Vec<u8>>, Self)> {
        tracing::info!(
            blob_id = %self.reader.blob_id(),
            reason = %why,
            sent = self.sent,
            "a row could not be streamed directly; decoding the blob for the rest"
        );
        // Dropping the fetches in flight cancels them.
        self.in_flight = FuturesOrdered::new();
        self.finished = true;
        let blob = match read_with_metadata(
            &self.reader.nodes,
            &self.reader.metadata,
            Vec::new(),
            &self.reader.permits,
            &self.reader.limits,
            None,
        )
        .await
        {
            Ok(blob) => blob,
            Err(e) => return Some((Err(e), self)),
        };
        let start = self.range.start() + self.sent;
        let end = self.range.end();
        let rest = usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(s, e)| blob.get(s..e));
        match rest {
            Some(rest) => {
                self.sent = self.range.len();
                Some((Ok(rest.to_vec()), self))
            }
            None => Some((
                Err(ClientError::Invalid(format!(
                    "decoded blob shorter than {end} bytes"
                ))),
                self,
            )),
        }
    }

    fn fail(mut self, e: ClientError) -> Option<(Result<Vec<u8>>, Self)> {
        self.finished = true;
        Some((Err(e), self))
    }
}
