//! A sliver's upload body without a serialised copy.
//!
//! The BCS of a sliver is `ULEB128(len) || data || symbol_size u16 LE ||
//! index u16 LE`: the data go on the wire as they are. [`SliverBytes`] keeps
//! the sliver's own buffer (moved, not copied) between a few header bytes
//! and the four trailing ones, and every attempt of a request sends the same
//! shared buffers with an exact length (so the request has a
//! `Content-Length`, as a serialised body would).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use floe_core::encoding::{EncodingAxis, SliverData};
use http_body::{Body, Frame, SizeHint};

mod incoming;
pub(crate) use incoming::IncomingSliver;

/// One sliver's BCS body in three shared parts; cloning shares them.
#[derive(Debug, Clone)]
pub struct SliverBytes {
    head: Bytes,
    data: Bytes,
    tail: Bytes,
}

impl SliverBytes {
    /// Takes the sliver's buffer (no copy of its data).
    pub fn new<A: EncodingAxis>(sliver: SliverData<A>) -> Self {
        let (symbol_size, index) = (sliver.symbol_size(), sliver.index());
        let data = sliver.into_data();
        let mut head = Vec::with_capacity(10);
        let mut len = data.len() as u64;
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                head.push(byte);
                break;
            }
            head.push(byte | 0x80);
        }
        let mut tail = Vec::with_capacity(4);
        tail.extend_from_slice(&symbol_size.to_le_bytes());
        tail.extend_from_slice(&index.to_le_bytes());
        Self {
            head: head.into(),
            data: data.into(),
            tail: tail.into(),
        }
    }

    /// Bytes of the sliver's data (what progress counts).
    pub fn data_len(&self) -> usize {
        self.data.len()
    }

    /// Bytes of the whole body.
    pub fn len(&self) -> usize {
        self.head.len() + self.data.len() + self.tail.len()
    }

    /// Never: a body always has its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The whole body in one buffer (a copy; for tests).
    #[cfg(test)]
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        [&self.head[..], &self.data[..], &self.tail[..]].concat()
    }

    /// A request body sending these bytes.
    pub fn body(&self) -> reqwest::Body {
        reqwest::Body::wrap(SliverBody {
            parts: [self.head.clone(), self.data.clone(), self.tail.clone()],
            next: 0,
        })
    }
}

/// The parts of one [`SliverBytes`] as an HTTP body of exact length.
struct SliverBody {
    parts: [Bytes; 3],
    next: usize,
}

impl Body for SliverBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        while self.next < self.parts.len() {
            let at = self.next;
            self.next += 1;
            let part = std::mem::take(&mut self.parts[at]);
            if !part.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(part))));
            }
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.parts[self.next.min(3)..].iter().all(Bytes::is_empty)
    }

    fn size_hint(&self) -> SizeHint {
        let left: usize = self.parts[self.next.min(3)..].iter().map(Bytes::len).sum();
        SizeHint::with_exact(left as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_core::encoding::{PrimarySliver, SecondarySliver};

    async fn collect(bytes: &SliverBytes) -> Vec<u8> {
        let mut body = bytes.body();
        assert_eq!(body.size_hint().exact(), Some(bytes.len() as u64));
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let data = frame.unwrap().into_data().ok().unwrap();
            out.extend_from_slice(&data);
        }
        assert!(body.is_end_stream());
        out
    }

    #[tokio::test]
    async fn the_body_is_the_slivers_bcs() {
        for len in [0usize, 2, 126, 128, 130, 20_000, 40_000] {
            let data: Vec<u8> = (0..len).map(|b| (b * 7 + 3) as u8).collect();
            let primary = PrimarySliver::new(data.clone(), 2, 7).unwrap();
            let expected = primary.to_bcs();
            let bytes = SliverBytes::new(primary);
            assert_eq!(bytes.len(), expected.len());
            assert_eq!(collect(&bytes).await, expected);
            // A retry sends the same bytes again.
            assert_eq!(collect(&bytes).await, expected);
            let secondary = SecondarySliver::new(data, 2, 300).unwrap();
            let expected = secondary.to_bcs();
            assert_eq!(collect(&SliverBytes::new(secondary)).await, expected);
        }
    }
}
