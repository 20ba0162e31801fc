// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Encoding types accepted on chain and their encoded lengths.
module floe::encoding;

use floe::redstuff;

/// RedStuff over Reed-Solomon, the only accepted encoding type.
const RS2: u8 = 1;

/// The encoding type is not `RS2`.
const EInvalidEncodingType: u64 = 0;

/// Encoded length of a blob of `unencoded_length` bytes over `n_shards`.
public fun encoded_blob_length(unencoded_length: u64, encoding_type: u8, n_shards: u16): u64 {
    assert!(encoding_type == RS2, EInvalidEncodingType);
    redstuff::encoded_blob_length(unencoded_length, n_shards)
}

/// The `RS2` encoding type byte.
public fun rs2(): u8 { RS2 }
