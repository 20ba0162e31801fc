//! The usual whole-blob read: the `k_p` systematic rows received straight
//! into their places in one output buffer.
//!
//! Why: the systematic primary slivers *are* the blob's rows, so a read
//! that gets all of them needs no decoding, only their bytes in order.
//! Receiving each row into a buffer of its own, moving it past its length
//! prefix and then concatenating the rows went over every byte of the blob
//! three times and page-faulted two blob-sized sets of buffers. Here the
//! output is allocated once (capacity `k_p * row_len`, never zeroed) and
//! split into one disjoint piece per row ([`BytesMut::split_off`], one
//! allocation); each row's symbols are written into its piece as they come
//! off the socket ([`crate::sliver_body::IncomingSliver`]), verified where
//! they lie (the same check as any sliver: the Merkle root over the
//! re-expanded row equals the metadata's hash), and the pieces are joined
//! again without a copy (`unsplit` of adjacent pieces) and cut to the
//! blob's length.
//!
//! Anything else (a row whose holders are down, have no URL or serve bytes
//! that do not verify, or no row arriving for a hedge delay) ends the
//! attempt: the rows verified so far go to the general read of
//! [`super::read_with_metadata`] (any `k_p` slivers with hedging, then a
//! decode), which trusts them no more than it would its own.

use std::sync::Arc;

use bytes::BytesMut;
use floe_core::encoding::{EncodingConfig, PrimarySliver, PrimarySliverView};
use floe_core::{BlobId, VerifiedBlobMetadataWithId};
use tokio::sync::Semaphore;

use super::SliverCandidate;
use crate::client::NodeSet;
use crate::config::ClientLimits;
use crate::error::{ClientError, Result};
use crate::types::{Progress, ProgressFn, report};

/// Rows received at once. Few enough that rows complete one after another
/// and each is verified while later ones are still arriving (with all 34
/// rows of a 100 MiB blob asked at once they all finished together, and
/// the verification of every row came after the last byte); enough to
/// keep every node of a small committee sending.
const ROW_WINDOW: usize = 8;

/// What the attempt ended with.
pub(super) enum InPlace {
    /// The blob, every row verified.
    Blob(Vec<u8>),
    /// A row could not be had directly: the rows verified so far and why.
    Fallback {
        rows: Vec<PrimarySliver>,
        reason: String,
    },
}

/// The blob of `metadata` from its `k_p` systematic rows read into place
/// (see the module docs), or what a fallback can reuse.
pub(super) async fn read_rows_in_place(
    nodes: &NodeSet,
    metadata: &Arc<VerifiedBlobMetadataWithId>,
    permits: &Arc<Semaphore>,
    limits: &ClientLimits,
    progress: &Option<ProgressFn>,
) -> Result<InPlace> {
    let config = nodes.encoding;
    let blob_id = *metadata.blob_id();
    let k_p = usize::from(config.n_primary_source_symbols());
    let symbol_size = metadata.symbol_size(&config)?;
    let row_len = config.primary_sliver_len(symbol_size);
    let len = metadata.metadata().unencoded_length();
    let total = k_p * row_len;
    // Verified metadata have a symbol size that makes the blob fit k_p rows.
    let len = usize::try_from(len)
        .ok()
        .filter(|len| *len <= total)
        .ok_or_else(|| {
            ClientError::Invalid(format!(
                "blob {blob_id} of {len} bytes does not fit {k_p} rows of {row_len}"
            ))
        })?;
    let mut candidates = Vec::with_capacity(k_p);
    for pair in 0..config.n_primary_source_symbols() {
        match SliverCandidate::for_pair(nodes, &blob_id, pair) {
            Some(candidate) => candidates.push(candidate),
            None => {
                return Ok(InPlace::Fallback {
                    rows: Vec::new(),
                    reason: format!("no holder of row {pair} has a URL"),
                });
            }
        }
    }
    report(
        progress,
        Progress::DownloadStarted {
            bytes: total as u64,
        },
    );
    let pieces = split_rows(k_p, row_len);
    let window = ROW_WINDOW.min(limits.max_concurrent_requests).clamp(1, k_p);
    let stall = limits.hedge_delay();
    let mut waiting = candidates.into_iter().zip(pieces).enumerate();
    // Each row is its own task, so receiving (a copy of every byte into
    // place, first touch of the output's pages) spreads over the runtime's
    // workers instead of running in the caller's task; dropping the set
    // (a fallback) aborts the rows still on their way.
    let mut running = tokio::task::JoinSet::new();
    let mut rows: Vec<Option<BytesMut>> = (0..k_p).map(|_| None).collect();
    let failure = loop {
        while running.len() < window {
            let Some((position, (candidate, piece))) = waiting.next() else {
                break;
            };
            let fetch = fetch_row_into(
                candidate,
                piece,
                row_len,
                metadata.clone(),
                permits.clone(),
                config,
            );
            running.spawn(async move { (position, fetch.await) });
        }
        match tokio::time::timeout(stall, running.join_next()).await {
            Ok(Some(Ok((position, Ok(row))))) => {
                report(
                    progress,
                    Progress::Downloaded {
                        bytes: row_len as u64,
                    },
                );
                rows[position] = Some(row);
            }
            Ok(Some(Ok((_, Err(reason))))) => break Some(reason),
            Ok(Some(Err(e))) => break Some(format!("a row's task failed: {e}")),
            Ok(None) => break None,
            Err(_) => break Some(format!("no row arrived within {stall:?}")),
        }
    };
    let failure = match failure {
        Some(reason) => reason,
        None => match join_rows(&mut rows, total) {
            Some(mut blob) => {
                blob.truncate(len);
                return Ok(InPlace::Blob(Vec::from(blob)));
            }
            None => "not every row arrived".to_owned(),
        },
    };
    let rows = rows
        .into_iter()
        .enumerate()
        .filter_map(|(pair, row)| {
            let row = row?;
            PrimarySliver::new(row.to_vec(), symbol_size, u16::try_from(pair).ok()?).ok()
        })
        .collect();
    Ok(InPlace::Fallback {
        rows,
        reason: failure,
    })
}

/// One buffer of `k_p * row_len` bytes (allocated, not touched) as `k_p`
/// empty pieces with room for exactly `row_len` bytes each.
fn split_rows(k_p: usize, row_len: usize) -> Vec<BytesMut> {
    let mut rest = BytesMut::with_capacity(k_p * row_len);
    advise_huge_pages(&rest);
    let mut pieces = Vec::with_capacity(k_p);
    for _ in 0..k_p {
        let tail = rest.split_off(row_len);
        pieces.push(std::mem::replace(&mut rest, tail));
    }
    // The empty tail still holds the allocation: alive, it would make the
    // joined rows share their buffer, and turning them into a `Vec` would
    // copy the whole blob.
    drop(rest);
    pieces
}

/// Size of a transparent huge page on x86-64 and aarch64 (4 KiB base
/// pages): the unit [`advise_huge_pages`] aligns to.
const HUGE_PAGE: usize = 2 << 20;

/// Asks the kernel to back `buffer`'s allocation with transparent huge
/// pages (`MADV_HUGEPAGE`), where it covers whole ones.
///
/// Why: every page of the output is touched first by the copy of a row
/// into place, and with 4 KiB pages a 100 MiB read took 25 600 page
/// faults, a fifth of the reading process's CPU in a profile (the fault
/// handling, more than the zeroing the kernel must do anyway). With the
/// usual `madvise` THP setting the kernel gives huge pages only to ranges
/// that ask. Advice only: nothing changes if the kernel refuses it or has
/// THP off.
fn advise_huge_pages(buffer: &BytesMut) {
    #[cfg(target_os = "linux")]
    {
        let start = buffer.as_ptr() as usize;
        let end = start + buffer.capacity();
        let first = start.next_multiple_of(HUGE_PAGE);
        let last = end - end % HUGE_PAGE;
        if last <= first {
            return;
        }
        let Some(address) = std::ptr::NonNull::new(first as *mut std::ffi::c_void) else {
            return;
        };
        // SAFETY: `first..last` lies inside `buffer`'s live allocation and
        // is page-aligned; MADV_HUGEPAGE changes how the kernel backs
        // those pages, never their contents or whether they are mapped.
        let advised = unsafe {
            nix::sys::mman::madvise(
                address,
                last - first,
                nix::sys::mman::MmapAdvise::MADV_HUGEPAGE,
            )
        };
        if let Err(e) = advised {
            tracing::debug!("no huge pages for the read buffer: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

/// The rows joined into the blob's buffer, when every one of them is there
/// and filled: adjacent pieces of one allocation, so joining them moves no
/// byte. `None` (and `rows` left alone) otherwise.
fn join_rows(rows: &mut [Option<BytesMut>], total: usize) -> Option<BytesMut> {
    if rows.iter().any(Option::is_none) {
        return None;
    }
    let mut joined = rows.iter_mut().flat_map(Option::take);
    let mut blob = joined.next()?;
    for row in joined {
        blob.unsplit(row);
    }
    (blob.len() == total).then_some(blob)
}

/// Row `candidate.pair` received into `piece` (empty, with room for exactly
/// `row_len` bytes) from its shard's owner, then during an epoch change
/// from the shard's previous owner, and verified there. `Ok` only for a
/// row that hashes to the metadata's value.
async fn fetch_row_into(
    candidate: SliverCandidate,
    mut piece: BytesMut,
    row_len: usize,
    metadata: Arc<VerifiedBlobMetadataWithId>,
    permits: Arc<Semaphore>,
    config: EncodingConfig,
) -> std::result::Result<BytesMut, String> {
    let blob_id: BlobId = *metadata.blob_id();
    let SliverCandidate {
        pair,
        owner,
        node,
        previous,
    } = candidate;
    let mut failures = Vec::new();
    for holder in [node, previous].into_iter().flatten() {
        piece.clear();
        let answer = {
            let _permit = permits
                .acquire()
                .await
                .map_err(|e| format!("request permits closed: {e}"))?;
            holder
                .get_primary_sliver_into(&blob_id, pair, row_len, &mut piece)
                .await
        };
        let (symbol_size, index) = match answer {
            Ok(parts) => parts,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        if index != pair {
            failures.push(format!(
                "member {owner} sent sliver {index} for pair {pair}"
            ));
            continue;
        }
        let metadata = metadata.clone();
        let (back, verified) = floe_core::cpu_pool::on_cpu_pool(move || {
            let verified =
                PrimarySliverView::new(&piece, symbol_size, index).verify(&config, &metadata);
            (piece, verified)
        })
        .await?;
        piece = back;
        match verified {
            Ok(()) => return Ok(piece),
            // A holder that lies: the previous owner may still be honest.
            Err(e) => failures.push(format!("member {owner}: sliver {pair}: {e}")),
        }
    }
    if failures.is_empty() {
        failures.push("no URL for the shard's owner".to_owned());
    }
    Err(failures.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Split, filled, joined and turned into a `Vec`: the blob is the one
    /// allocation made at the start, never copied.
    #[test]
    fn rows_join_into_the_buffer_they_were_split_from() {
        let (k_p, row_len) = (5, 4096);
        let mut pieces = split_rows(k_p, row_len);
        let start = pieces[0].as_ptr();
        for (i, piece) in pieces.iter_mut().enumerate() {
            assert_eq!((piece.len(), piece.capacity()), (0, row_len));
            piece.extend_from_slice(&vec![i as u8; row_len]);
        }
        let mut rows: Vec<Option<BytesMut>> = pieces.into_iter().map(Some).collect();
        let mut blob = join_rows(&mut rows, k_p * row_len).expect("every row is there");
        blob.truncate(k_p * row_len - 7);
        let blob = Vec::from(blob);
        assert_eq!(blob.as_ptr(), start, "the joined rows were copied");
        assert_eq!(blob.len(), k_p * row_len - 7);
        assert!(
            blob.chunks(row_len)
                .enumerate()
                .all(|(i, row)| row.iter().all(|b| *b == i as u8))
        );
    }

    #[test]
    fn a_missing_or_short_row_is_not_joined() {
        let mut pieces = split_rows(3, 8);
        for piece in &mut pieces {
            piece.extend_from_slice(&[1; 8]);
        }
        let mut rows: Vec<Option<BytesMut>> = pieces.into_iter().map(Some).collect();
        rows[1] = None;
        assert!(join_rows(&mut rows, 24).is_none());
        assert!(rows[0].is_some(), "rows are left alone");
        let mut short = split_rows(2, 8);
        short[0].extend_from_slice(&[1; 8]);
        short[1].extend_from_slice(&[1; 3]);
        let mut rows: Vec<Option<BytesMut>> = short.into_iter().map(Some).collect();
        assert!(join_rows(&mut rows, 16).is_none());
    }
}
