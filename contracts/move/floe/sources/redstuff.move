// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Encoded size of a blob under RedStuff over Reed-Solomon (`RS2`), as the
/// Rust encoder (`floe_core::encoding::EncodingConfig`) computes it. Storage is
/// reserved and paid for this size.
///
/// With `n` shards and `f = (n - 1) / 3`: `n - 2f` primary and `n - f`
/// secondary source symbols; the symbol size is
/// `ceil(max(size, 1) / (primary * secondary))` rounded up to even, at most
/// 65,534 bytes (checked here with `EBlobTooLarge`, where Walrus relies on a
/// `u16` cast overflowing); every shard stores a primary and a secondary
/// sliver plus `n * 2` digests and the blob id.
module floe::redstuff;

/// Bytes of one digest in the metadata.
const DIGEST_LEN: u64 = 32;
/// Bytes of a blob id.
const BLOB_ID_LEN: u64 = 32;
/// Largest symbol size RS2 supports (even, below `u16::MAX`).
const MAX_SYMBOL_SIZE: u64 = 65_534;

/// The blob needs a symbol size above `MAX_SYMBOL_SIZE`.
const EBlobTooLarge: u64 = 0;

/// Encoded length of a blob of `unencoded_length` bytes over `n_shards`.
public fun encoded_blob_length(unencoded_length: u64, n_shards: u16): u64 {
    let symbol_bytes = (symbol_size(unencoded_length, n_shards) as u64);
    let (primary, secondary) = source_symbols(n_shards);
    let slivers_size = ((primary as u64) + (secondary as u64)) * symbol_bytes;
    (n_shards as u64) * (slivers_size + metadata_size(n_shards))
}

/// Symbol size for a blob of `unencoded_length` bytes; aborts with
/// `EBlobTooLarge` past the maximum.
public fun symbol_size(unencoded_length: u64, n_shards: u16): u16 {
    let length = if (unencoded_length == 0) { 1 } else { unencoded_length };
    let (primary, secondary) = source_symbols(n_shards);
    let source_symbols_per_blob = (primary as u64) * (secondary as u64);
    let mut size = (length - 1) / source_symbols_per_blob + 1;
    if (size % 2 == 1) {
        size = size + 1;
    };
    assert!(size <= MAX_SYMBOL_SIZE, EBlobTooLarge);
    (size as u16)
}

/// Per-shard metadata: `n_shards` pairs of digests plus the blob id.
public fun metadata_size(n_shards: u16): u64 {
    (n_shards as u64) * DIGEST_LEN * 2 + BLOB_ID_LEN
}

/// Numbers of primary (`n - 2f`) and secondary (`n - f`) source symbols.
public fun source_symbols(n_shards: u16): (u16, u16) {
    let f = max_byzantine(n_shards);
    (n_shards - 2 * f, n_shards - f)
}

/// Largest number of Byzantine shards tolerated: `(n - 1) / 3`.
public fun max_byzantine(n_shards: u16): u16 {
    (n_shards - 1) / 3
}

/// The largest blob encodable over `n_shards`.
public fun max_blob_size(n_shards: u16): u64 {
    let (primary, secondary) = source_symbols(n_shards);
    (primary as u64) * (secondary as u64) * MAX_SYMBOL_SIZE
}
