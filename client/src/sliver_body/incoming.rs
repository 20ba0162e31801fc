//! A sliver's BCS body received chunk by chunk straight into its place.
//!
//! A reader of a whole blob wants each row's symbols in the row's place of
//! the output buffer: parsing a received body first (and moving its
//! symbols past the length prefix) and then concatenating the rows copied
//! every byte twice more. [`IncomingSliver`] parses the body as it arrives
//! (`ULEB128(len) || data || symbol_size u16 LE || index u16 LE`), writes
//! only the data into the destination, and refuses at once a body that
//! announces another length than the one expected or goes on past its end,
//! so a node can never write more than the expected bytes.

use bytes::BytesMut;
use floe_core::encoding::canonical_uleb128;

/// BCS writes a sequence length in at most 5 bytes (lengths below 2^31).
const MAX_PREFIX: usize = 5;

/// Where a body being received is.
#[derive(Debug)]
pub(crate) struct IncomingSliver {
    expected: usize,
    prefix: [u8; MAX_PREFIX],
    prefix_len: usize,
    /// Data bytes still to come; `None` while the prefix is incomplete.
    data_left: Option<usize>,
    trailer: [u8; 4],
    trailer_len: usize,
}

impl IncomingSliver {
    /// A body whose sliver must hold exactly `expected` data bytes.
    pub(crate) fn new(expected: usize) -> Self {
        Self {
            expected,
            prefix: [0; MAX_PREFIX],
            prefix_len: 0,
            data_left: None,
            trailer: [0; 4],
            trailer_len: 0,
        }
    }

    /// Takes the next chunk of the body; its data bytes go to `dest`.
    pub(crate) fn push(&mut self, mut chunk: &[u8], dest: &mut BytesMut) -> Result<(), String> {
        while let Some((&first, rest)) = chunk.split_first() {
            match self.data_left {
                None => {
                    if self.prefix_len == MAX_PREFIX {
                        return Err("the length prefix is longer than BCS allows".to_owned());
                    }
                    self.prefix[self.prefix_len] = first;
                    self.prefix_len += 1;
                    chunk = rest;
                    if first & 0x80 == 0 {
                        let (len, _) = canonical_uleb128(&self.prefix[..self.prefix_len])
                            .ok_or("the length prefix is not canonical BCS")?;
                        if len != self.expected {
                            return Err(format!(
                                "a sliver of {len} bytes where {} were expected",
                                self.expected
                            ));
                        }
                        self.data_left = Some(len);
                    }
                }
                Some(0) => {
                    let take = (self.trailer.len() - self.trailer_len).min(chunk.len());
                    if take == 0 {
                        return Err("bytes after the end of the sliver".to_owned());
                    }
                    self.trailer[self.trailer_len..self.trailer_len + take]
                        .copy_from_slice(&chunk[..take]);
                    self.trailer_len += take;
                    chunk = &chunk[take..];
                }
                Some(left) => {
                    let take = left.min(chunk.len());
                    dest.extend_from_slice(&chunk[..take]);
                    self.data_left = Some(left - take);
                    chunk = &chunk[take..];
                }
            }
        }
        Ok(())
    }

    /// Data bytes the body goes on with, once its length prefix is in (0
    /// before, and after the data): what a receiver may read from its
    /// source straight into the destination and report with
    /// [`IncomingSliver::took_data`] instead of pushing.
    pub(crate) fn data_wanted(&self) -> usize {
        self.data_left.unwrap_or(0)
    }

    /// Records `count` data bytes (at most [`IncomingSliver::data_wanted`])
    /// that the receiver appended to the destination itself.
    pub(crate) fn took_data(&mut self, count: usize) {
        let left = self.data_wanted();
        debug_assert!(count <= left, "took {count} data bytes of {left}");
        self.data_left = self.data_left.map(|_| left.saturating_sub(count));
    }

    /// The sliver's `(symbol_size, index)` once the whole body was pushed.
    pub(crate) fn finish(&self) -> Result<(u16, u16), String> {
        if self.data_left != Some(0) || self.trailer_len != self.trailer.len() {
            return Err("the sliver's body ended early".to_owned());
        }
        let [a, b, c, d] = self.trailer;
        let symbol_size = u16::from_le_bytes([a, b]);
        // What BCS's `Symbols` refuses too.
        if symbol_size == 0 || !self.expected.is_multiple_of(usize::from(symbol_size)) {
            return Err(format!(
                "{} bytes are not whole symbols of {symbol_size} bytes",
                self.expected
            ));
        }
        Ok((symbol_size, u16::from_le_bytes([c, d])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_core::encoding::PrimarySliver;
    use proptest::prelude::*;

    /// Pushes `body` cut at `cuts` into a fresh destination.
    fn receive(
        body: &[u8],
        cuts: &[usize],
        expected: usize,
    ) -> Result<(Vec<u8>, u16, u16), String> {
        let mut incoming = IncomingSliver::new(expected);
        let mut dest = BytesMut::with_capacity(expected);
        let mut at = 0;
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        cuts.sort_unstable();
        for cut in cuts.into_iter().chain([body.len()]) {
            incoming.push(&body[at..cut], &mut dest)?;
            at = cut;
        }
        let (symbol_size, index) = incoming.finish()?;
        assert!(dest.len() <= expected, "never more than expected");
        Ok((dest.to_vec(), symbol_size, index))
    }

    fn sliver() -> impl Strategy<Value = PrimarySliver> {
        (1u16..64, 0usize..40, any::<u16>(), any::<u64>()).prop_map(|(s, k, index, seed)| {
            let data: Vec<u8> = (0..usize::from(s) * k)
                .map(|i| (seed.wrapping_mul(i as u64 + 1) >> 17) as u8)
                .collect();
            PrimarySliver::new(data, s, index).expect("whole symbols")
        })
    }

    proptest! {
        /// Any well-formed body, cut anywhere, arrives whole.
        #[test]
        fn a_well_formed_body_arrives_whole(sliver in sliver(), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
            let body = sliver.to_bcs();
            let got = receive(&body, &cuts, sliver.data().len());
            prop_assert_eq!(got, Ok((sliver.data().to_vec(), sliver.symbol_size(), sliver.index())));
        }

        /// Whatever it is given, it accepts only what BCS reads as a sliver
        /// of the expected length, with the same symbols, size and index.
        #[test]
        fn it_accepts_only_what_bcs_accepts(
            sliver in sliver(),
            edit in 0usize..4,
            at in any::<usize>(),
            byte in any::<u8>(),
            cuts in prop::collection::vec(any::<usize>(), 0..4),
            expected_delta in -1i64..=1,
        ) {
            let mut body = sliver.to_bcs();
            let at = at % (body.len() + 1);
            match edit {
                0 => body.truncate(at),
                1 => body.insert(at, byte),
                2 if at < body.len() => body[at] ^= byte | 1,
                _ => {}
            }
            let expected = (sliver.data().len() as i64 + expected_delta).max(0) as usize;
            if let Ok((data, symbol_size, index)) = receive(&body, &cuts, expected) {
                let parsed = PrimarySliver::from_bcs(&body);
                prop_assert!(parsed.is_ok(), "accepted what BCS refuses");
                let parsed = parsed.unwrap();
                prop_assert_eq!(data.len(), expected);
                prop_assert_eq!(parsed.data(), &data[..]);
                prop_assert_eq!(parsed.symbol_size(), symbol_size);
                prop_assert_eq!(parsed.index(), index);
            }
        }
    }

    #[test]
    fn a_wrong_length_or_extra_bytes_are_refused_with_a_reason() {
        let sliver = PrimarySliver::new(vec![7; 12], 4, 3).unwrap();
        let body = sliver.to_bcs();
        let err = receive(&body, &[], 8).unwrap_err();
        assert!(err.contains("12 bytes where 8"), "{err}");
        let mut longer = body.clone();
        longer.push(0);
        assert!(
            receive(&longer, &[], 12)
                .unwrap_err()
                .contains("after the end")
        );
        assert!(
            receive(&body[..body.len() - 1], &[], 12)
                .unwrap_err()
                .contains("ended early")
        );
    }
}
