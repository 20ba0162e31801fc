//! Batched access to `reed-solomon-simd`, byte-identical to calling it once per
//! codeword.
//!
//! Walrus calls the Reed-Solomon coder once per row or column, with one symbol
//! per shard. `reed-solomon-simd` works on 64-byte chunks of 32 GF(2^16)
//! elements (low bytes in the first half, high bytes in the second), so a
//! 2-byte symbol wastes 31/32 of every butterfly. Because the code acts on each
//! element position independently, many codewords can share one call if every
//! element lands in the slot the single-codeword call would have given it the
//! same *value*: whole 64-byte chunks of a symbol are copied as they are, and
//! the `t`-byte tail of a symbol (low bytes `0..t/2`, high bytes `t/2..t`, which
//! is how the crate lays out a short last chunk) is packed densely into shared
//! chunks. The output is unpacked the same way. The conformance tests compare
//! the result with the official encoder.

use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};

use super::EncodingError;

const CHUNK: usize = 64;
const HALF: usize = 32;

/// How the symbols of one batch are placed in a packed shard.
#[derive(Debug, Clone, Copy)]
struct Layout {
    symbol_size: usize,
    /// Whole 64-byte chunks per symbol.
    whole: usize,
    /// Elements in the tail of each symbol (`(symbol_size % 64) / 2`).
    tail_elems: usize,
    /// Symbols per shard.
    count: usize,
}

impl Layout {
    fn new(symbol_size: usize, count: usize) -> Self {
        debug_assert!(symbol_size.is_multiple_of(2) && symbol_size > 0);
        Self {
            symbol_size,
            whole: symbol_size / CHUNK,
            tail_elems: (symbol_size % CHUNK) / 2,
            count,
        }
    }

    fn head_bytes(&self) -> usize {
        self.whole * CHUNK
    }

    /// Bytes of a packed shard: whole chunks of every symbol, then the dense
    /// tail region rounded up to whole chunks.
    fn packed_len(&self) -> usize {
        let tail_slots = self.count * self.tail_elems;
        self.count * self.head_bytes() + tail_slots.div_ceil(HALF) * CHUNK
    }

    /// Writes symbol `t` into the packed shard `out`.
    fn pack_symbol(&self, out: &mut [u8], t: usize, symbol: &[u8]) {
        debug_assert_eq!(symbol.len(), self.symbol_size);
        let head = self.head_bytes();
        out[t * head..(t + 1) * head].copy_from_slice(&symbol[..head]);
        if self.tail_elems == 0 {
            return;
        }
        let tail = &symbol[head..];
        let (lo, hi) = tail.split_at(self.tail_elems);
        let region = self.count * head;
        let mut slot = t * self.tail_elems;
        let mut done = 0;
        while done < self.tail_elems {
            let in_chunk = slot % HALF;
            let run = (HALF - in_chunk).min(self.tail_elems - done);
            let base = region + (slot / HALF) * CHUNK + in_chunk;
            out[base..base + run].copy_from_slice(&lo[done..done + run]);
            out[base + HALF..base + HALF + run].copy_from_slice(&hi[done..done + run]);
            slot += run;
            done += run;
        }
    }

    /// Reads symbol `t` of the packed shard `packed` into `symbol`.
    fn unpack_symbol(&self, packed: &[u8], t: usize, symbol: &mut [u8]) {
        let head = self.head_bytes();
        symbol[..head].copy_from_slice(&packed[t * head..(t + 1) * head]);
        if self.tail_elems == 0 {
            return;
        }
        let (lo, hi) = symbol[head..].split_at_mut(self.tail_elems);
        let region = self.count * head;
        let mut slot = t * self.tail_elems;
        let mut done = 0;
        while done < self.tail_elems {
            let in_chunk = slot % HALF;
            let run = (HALF - in_chunk).min(self.tail_elems - done);
            let base = region + (slot / HALF) * CHUNK + in_chunk;
            lo[done..done + run].copy_from_slice(&packed[base..base + run]);
            hi[done..done + run].copy_from_slice(&packed[base + HALF..base + HALF + run]);
            slot += run;
            done += run;
        }
    }
}

/// A systematic Reed-Solomon code with `k` source symbols out of `n`, over
/// GF(2^16). Symbols `0..k` are the source; symbol `k + r` is recovery shard `r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RsCode {
    pub k: usize,
    pub n: usize,
}

impl RsCode {
    pub fn new(k: usize, n: usize) -> Result<Self, EncodingError> {
        if k == 0 || k >= n || !ReedSolomonEncoder::supports(k, n - k) {
            return Err(EncodingError::UnsupportedCode { k, n });
        }
        Ok(Self { k, n })
    }
}

/// Reusable scratch for one thread: the crate's encoder/decoder keep their
/// work buffers between calls, and the packing buffer is reused too.
#[derive(Default)]
pub(crate) struct RsWorkspace {
    encoder: Option<ReedSolomonEncoder>,
    decoder: Option<ReedSolomonDecoder>,
    packed: Vec<u8>,
    symbol: Vec<u8>,
}

impl std::fmt::Debug for RsWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsWorkspace").finish_non_exhaustive()
    }
}

fn rs_err(e: reed_solomon_simd::Error) -> EncodingError {
    EncodingError::ReedSolomon(e.to_string())
}

/// A workspace's encoder, reset for `code` with shards of `shard_bytes`
/// (built on first use, its buffers reused after). A free function over the
/// one field, so the workspace's other buffers stay borrowable.
fn encoder_for(
    slot: &mut Option<ReedSolomonEncoder>,
    code: RsCode,
    shard_bytes: usize,
) -> Result<&mut ReedSolomonEncoder, EncodingError> {
    let recovery = code.n - code.k;
    Ok(match slot {
        Some(enc) => {
            enc.reset(code.k, recovery, shard_bytes).map_err(rs_err)?;
            enc
        }
        None => {
            slot.insert(ReedSolomonEncoder::new(code.k, recovery, shard_bytes).map_err(rs_err)?)
        }
    })
}

impl RsWorkspace {
    /// Encodes `count` codewords at once.
    ///
    /// `source(i, t)` is source symbol `i < k` of codeword `t`; `sink(r, t, sym)`
    /// receives recovery symbol `r` (i.e. symbol `k + r`) of codeword `t`.
    pub fn encode<'s>(
        &mut self,
        code: RsCode,
        symbol_size: usize,
        count: usize,
        mut source: impl FnMut(usize, usize) -> &'s [u8],
        mut sink: impl FnMut(usize, usize, &[u8]),
    ) -> Result<(), EncodingError> {
        // One codeword: the crate's own layout of a short last chunk is the
        // packing, so symbols go in and come out as they are (no copies).
        let direct = count == 1;
        let layout = Layout::new(symbol_size, count);
        let packed_len = if direct {
            symbol_size
        } else {
            layout.packed_len()
        };
        let encoder = encoder_for(&mut self.encoder, code, packed_len)?;
        if direct {
            for i in 0..code.k {
                encoder.add_original_shard(source(i, 0)).map_err(rs_err)?;
            }
            let result = encoder.encode().map_err(rs_err)?;
            for (r, shard) in result.recovery_iter().enumerate() {
                sink(r, 0, shard);
            }
            return Ok(());
        }
        self.packed.clear();
        self.packed.resize(packed_len, 0);
        for i in 0..code.k {
            if layout.tail_elems != 0 {
                // Unused tail slots must be zero in every shard.
                self.packed[count * layout.head_bytes()..].fill(0);
            }
            for t in 0..count {
                layout.pack_symbol(&mut self.packed, t, source(i, t));
            }
            encoder.add_original_shard(&self.packed).map_err(rs_err)?;
        }
        let result = encoder.encode().map_err(rs_err)?;
        self.symbol.resize(symbol_size, 0);
        for (r, shard) in result.recovery_iter().enumerate() {
            for t in 0..count {
                layout.unpack_symbol(shard, t, &mut self.symbol);
                sink(r, t, &self.symbol);
            }
        }
        Ok(())
    }

    /// Encodes one codeword whose `k` source symbols are `source` (laid out
    /// one after the other) and hands `with` an iterator over its `n - k`
    /// recovery symbols, which borrow the encoder's own buffers: nothing is
    /// copied out (what hashing a sliver's expansion needs).
    pub fn encode_one<R>(
        &mut self,
        code: RsCode,
        symbol_size: usize,
        source: &[u8],
        with: impl FnOnce(&mut dyn Iterator<Item = &[u8]>) -> R,
    ) -> Result<R, EncodingError> {
        debug_assert_eq!(source.len(), code.k * symbol_size);
        let encoder = encoder_for(&mut self.encoder, code, symbol_size)?;
        for symbol in source.chunks_exact(symbol_size) {
            encoder.add_original_shard(symbol).map_err(rs_err)?;
        }
        let result = encoder.encode().map_err(rs_err)?;
        Ok(with(&mut result.recovery_iter()))
    }

    /// Decodes the source symbols of `count` codewords from exactly `k`
    /// available symbol positions.
    ///
    /// `available` lists the positions (`< n`, distinct) whose symbols
    /// `symbol(j, t)` (j indexes `available`) are known; `sink(i, t, sym)`
    /// receives every source symbol `i < k` of codeword `t`, including the ones
    /// that were given.
    pub fn decode<'s>(
        &mut self,
        code: RsCode,
        symbol_size: usize,
        count: usize,
        available: &[usize],
        mut symbol: impl FnMut(usize, usize) -> &'s [u8],
        mut sink: impl FnMut(usize, usize, &[u8]),
    ) -> Result<(), EncodingError> {
        if available.len() < code.k {
            return Err(EncodingError::NotEnoughSymbols {
                needed: code.k,
                got: available.len(),
            });
        }
        let available = &available[..code.k];
        let mut seen = vec![false; code.n];
        for &pos in available {
            if pos >= code.n || std::mem::replace(&mut seen[pos], true) {
                return Err(EncodingError::InvalidSymbolSet);
            }
        }
        let direct = count == 1;
        let layout = Layout::new(symbol_size, count);
        let packed_len = if direct {
            symbol_size
        } else {
            layout.packed_len()
        };
        let recovery = code.n - code.k;
        // Positions of source symbols we already hold, by source index.
        let mut held: Vec<Option<usize>> = vec![None; code.k];
        for (j, &pos) in available.iter().enumerate() {
            if pos < code.k {
                held[pos] = Some(j);
            }
        }
        let missing_sources = held.iter().filter(|h| h.is_none()).count();
        self.symbol.resize(symbol_size, 0);
        if missing_sources == 0 {
            for (i, j) in held.iter().enumerate() {
                let j = j.expect("all sources are held");
                for t in 0..count {
                    sink(i, t, symbol(j, t));
                }
            }
            return Ok(());
        }
        let decoder = match self.decoder.as_mut() {
            Some(dec) => {
                dec.reset(code.k, recovery, packed_len).map_err(rs_err)?;
                dec
            }
            None => self
                .decoder
                .insert(ReedSolomonDecoder::new(code.k, recovery, packed_len).map_err(rs_err)?),
        };
        self.packed.clear();
        self.packed.resize(packed_len, 0);
        for (j, &pos) in available.iter().enumerate() {
            let shard: &[u8] = if direct {
                symbol(j, 0)
            } else {
                if layout.tail_elems != 0 {
                    self.packed[count * layout.head_bytes()..].fill(0);
                }
                for t in 0..count {
                    layout.pack_symbol(&mut self.packed, t, symbol(j, t));
                }
                &self.packed
            };
            if pos < code.k {
                decoder.add_original_shard(pos, shard).map_err(rs_err)?;
            } else {
                decoder
                    .add_recovery_shard(pos - code.k, shard)
                    .map_err(rs_err)?;
            }
        }
        let result = decoder.decode().map_err(rs_err)?;
        let restored: Vec<(usize, &[u8])> = result.restored_original_iter().collect();
        let mut restored_at: Vec<Option<&[u8]>> = vec![None; code.k];
        for (i, shard) in restored {
            restored_at[i] = Some(shard);
        }
        for i in 0..code.k {
            match (held[i], restored_at[i]) {
                (Some(j), _) => {
                    for t in 0..count {
                        sink(i, t, symbol(j, t));
                    }
                }
                (None, Some(shard)) if direct => sink(i, 0, shard),
                (None, Some(shard)) => {
                    for t in 0..count {
                        layout.unpack_symbol(shard, t, &mut self.symbol);
                        sink(i, t, &self.symbol);
                    }
                }
                (None, None) => return Err(EncodingError::InvalidSymbolSet),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: one crate call per codeword, one symbol per shard.
    fn encode_one(code: RsCode, sources: &[Vec<u8>]) -> Vec<Vec<u8>> {
        reed_solomon_simd::encode(code.k, code.n - code.k, sources).unwrap()
    }

    #[test]
    fn batched_encoding_equals_one_call_per_codeword() {
        for &symbol_size in &[2usize, 6, 38, 62, 64, 66, 130, 200] {
            for &count in &[1usize, 3, 17, 40] {
                let code = RsCode::new(7, 10).unwrap();
                let data: Vec<Vec<Vec<u8>>> = (0..count)
                    .map(|t| {
                        (0..code.k)
                            .map(|i| {
                                (0..symbol_size)
                                    .map(|b| (t * 131 + i * 17 + b * 7 + 1) as u8)
                                    .collect()
                            })
                            .collect()
                    })
                    .collect();
                let mut got = vec![vec![Vec::new(); code.n - code.k]; count];
                let mut ws = RsWorkspace::default();
                ws.encode(
                    code,
                    symbol_size,
                    count,
                    |i, t| &data[t][i],
                    |r, t, sym| got[t][r] = sym.to_vec(),
                )
                .unwrap();
                for t in 0..count {
                    assert_eq!(
                        got[t],
                        encode_one(code, &data[t]),
                        "s={symbol_size} m={count}"
                    );
                }
                // Decode from the last k positions of each codeword.
                let full: Vec<Vec<Vec<u8>>> = (0..count)
                    .map(|t| {
                        data[t]
                            .iter()
                            .cloned()
                            .chain(got[t].iter().cloned())
                            .collect()
                    })
                    .collect();
                let avail: Vec<usize> = (code.n - code.k..code.n).collect();
                let mut decoded = vec![vec![Vec::new(); code.k]; count];
                ws.decode(
                    code,
                    symbol_size,
                    count,
                    &avail,
                    |j, t| &full[t][avail[j]],
                    |i, t, sym| decoded[t][i] = sym.to_vec(),
                )
                .unwrap();
                assert_eq!(decoded, data);
            }
        }
    }
}
