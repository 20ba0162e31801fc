//! Buffers that sliver reads from the log are read into, kept for the next
//! read once the answer they carried is sent.
//!
//! Why: a sliver is read from its segment into a buffer that is handed to
//! the HTTP response and dropped once sent. Freshly allocated, every page
//! of such a buffer was page-faulted and zeroed by the kernel on the read's
//! first touch (the allocator hands back large freed buffers to the kernel
//! over time): in a profile of four nodes serving a 100 MiB read that was
//! a fifth of their CPU, more than the copy out of the page cache itself.
//! A buffer that comes back here keeps its pages, so the next read of a
//! similar size copies into memory that is already there.
//!
//! Bounded: at most [`MAX_KEPT_BYTES`] are kept; a buffer is reused only
//! for a read of at least a quarter of its size, so one large buffer does
//! not pin memory for small reads.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// Bytes of idle buffers kept at most (a few slivers of the largest
/// blobs, whose primary slivers are up to ~5 MiB at 100 shards).
pub(crate) const MAX_KEPT_BYTES: usize = 64 << 20;

/// Idle buffers, shared by the readers of one store.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffers {
    idle: Mutex<Idle>,
}

#[derive(Debug, Default)]
struct Idle {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

impl ReadBuffers {
    /// A buffer of exactly `len` initialised bytes (their values are left
    /// from an earlier read: the caller overwrites them all), reused when
    /// an idle one fits.
    pub fn take(self: &Arc<Self>, len: usize) -> ReadBuffer {
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            // The smallest idle buffer that holds `len` and is not more
            // than four times larger.
            let best = idle
                .buffers
                .iter()
                .enumerate()
                .filter(|(_, b)| b.len() >= len && b.len() / 4 <= len)
                .min_by_key(|(_, b)| b.len())
                .map(|(i, _)| i);
            best.map(|i| {
                let buffer = idle.buffers.swap_remove(i);
                idle.bytes -= buffer.len();
                buffer
            })
        };
        ReadBuffer {
            bytes: reused.unwrap_or_else(|| vec![0; len]),
            len,
            pool: Arc::downgrade(self),
        }
    }

    fn give_back(&self, buffer: Vec<u8>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if buffer.is_empty() || idle.bytes + buffer.len() > MAX_KEPT_BYTES {
            return;
        }
        idle.bytes += buffer.len();
        idle.buffers.push(buffer);
    }

    /// Bytes held by idle buffers.
    #[cfg(test)]
    pub fn idle_bytes(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }
}

/// A buffer from [`ReadBuffers::take`]: its first `len` bytes are the read;
/// dropped (after the last [`Bytes`] made from it), it goes back to the
/// pool.
#[derive(Debug)]
pub(crate) struct ReadBuffer {
    bytes: Vec<u8>,
    len: usize,
    pool: std::sync::Weak<ReadBuffers>,
}

impl ReadBuffer {
    /// The `len` bytes to read into.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }

    /// The read bytes, for a response: no copy; the buffer returns to the
    /// pool when the last clone is dropped.
    pub fn into_bytes(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

impl AsRef<[u8]> for ReadBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Drop for ReadBuffer {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.upgrade() {
            pool.give_back(std::mem::take(&mut self.bytes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_buffer_is_reused_for_a_read_of_similar_size() {
        let pool = Arc::new(ReadBuffers::default());
        let mut first = pool.take(1000);
        first.as_mut_slice().fill(7);
        let address = first.as_mut_slice().as_ptr();
        let bytes = first.into_bytes();
        assert_eq!(bytes.len(), 1000);
        assert_eq!(pool.idle_bytes(), 0, "still in use by the response");
        drop(bytes);
        assert_eq!(pool.idle_bytes(), 1000);
        let mut second = pool.take(900);
        assert_eq!(second.as_mut_slice().len(), 900);
        assert_eq!(second.as_mut_slice().as_ptr(), address, "reused");
        assert_eq!(pool.idle_bytes(), 0);
    }

    #[test]
    fn too_large_a_buffer_is_not_reused_and_the_pool_is_bounded() {
        let pool = Arc::new(ReadBuffers::default());
        drop(pool.take(4000).into_bytes());
        let small = pool.take(999);
        assert_eq!(pool.idle_bytes(), 4000, "4000 is over four times 999");
        drop(small);
        let big: Vec<ReadBuffer> = (0..5).map(|_| pool.take(MAX_KEPT_BYTES / 4)).collect();
        drop(big);
        assert!(pool.idle_bytes() <= MAX_KEPT_BYTES);
    }
}
