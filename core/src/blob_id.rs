//! Blob ids: `Blake2b256(encoding_type u8 || unencoded_length u64 LE || root_hash)`.
//!
//! On the Rust side and on the wire a blob id is 32 raw bytes; Move reads the
//! same bytes as a little-endian `u256`. Users see URL-safe base64 without
//! padding (43 characters).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::encoding::EncodingType;
use crate::merkle::{Node, blake2b256};

/// The id of a blob, binding its encoding, length and every sliver hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlobId(pub [u8; 32]);

/// Why a string is not a blob id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobIdParseError {
    /// Not URL-safe base64 without padding.
    #[error("blob id {input:?} is not URL-safe base64 without padding: {reason}")]
    NotBase64 {
        /// The rejected text.
        input: String,
        /// What the decoder said.
        reason: String,
    },
    /// Decodes, but not to 32 bytes.
    #[error("blob id {input:?} decodes to {len} bytes; a blob id has 32 (43 base64 characters)")]
    WrongLength {
        /// The rejected text.
        input: String,
        /// Decoded length.
        len: usize,
    },
}

impl BlobId {
    /// Derives the id from the metadata's parts.
    pub fn derive(encoding_type: EncodingType, unencoded_length: u64, root_hash: &Node) -> Self {
        let mut input = [0u8; 1 + 8 + 32];
        input[0] = encoding_type.as_u8();
        input[1..9].copy_from_slice(&unencoded_length.to_le_bytes());
        input[9..].copy_from_slice(root_hash.bytes());
        BlobId(blake2b256(&input))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The id read as a big-endian integer modulo `n`: the rotation offset
    /// between sliver pairs and shards.
    pub fn rotation_offset(&self, n_shards: u16) -> u16 {
        let n = u32::from(n_shards.max(1));
        let mut acc: u32 = 0;
        for &byte in &self.0 {
            acc = ((acc << 8) | u32::from(byte)) % n;
        }
        acc as u16
    }

    /// The id as Move sees it: a little-endian `u256`, here as 32 LE bytes.
    pub fn to_move_u256_le(&self) -> [u8; 32] {
        self.0
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl std::fmt::Debug for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobId({self})")
    }
}

impl std::str::FromStr for BlobId {
    type Err = BlobIdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|e| BlobIdParseError::NotBase64 {
                input: s.to_owned(),
                reason: e.to_string(),
            })?;
        let len = bytes.len();
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| BlobIdParseError::WrongLength {
                input: s.to_owned(),
                len,
            })?;
        Ok(BlobId(arr))
    }
}

/// Sliver pair `pair` is stored on shard `(pair + offset) mod n`.
pub fn pair_to_shard(pair: u16, blob_id: &BlobId, n_shards: u16) -> u16 {
    let n = u32::from(n_shards);
    ((u32::from(pair) + u32::from(blob_id.rotation_offset(n_shards))) % n) as u16
}

/// Shard `shard` holds sliver pair `(shard - offset) mod n`.
pub fn shard_to_pair(shard: u16, blob_id: &BlobId, n_shards: u16) -> u16 {
    let n = u32::from(n_shards);
    ((u32::from(shard) + n - u32::from(blob_id.rotation_offset(n_shards))) % n) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let id = BlobId([0xfb; 32]);
        let s = id.to_string();
        assert_eq!(s.len(), 43);
        assert!(!s.contains('=') && !s.contains('+') && !s.contains('/'));
        assert_eq!(s.parse::<BlobId>().unwrap(), id);
    }

    #[test]
    fn parse_rejects_bad_input() {
        assert!(matches!(
            "abc".parse::<BlobId>(),
            Err(BlobIdParseError::WrongLength { len: 2, .. })
        ));
        assert!(matches!(
            "+/+/".parse::<BlobId>(),
            Err(BlobIdParseError::NotBase64 { .. })
        ));
        let padded = format!("{}=", BlobId([1; 32]));
        assert!("".parse::<BlobId>().is_err());
        assert!(padded.parse::<BlobId>().is_err());
    }

    #[test]
    fn rotation_is_big_endian_mod_n() {
        let mut bytes = [0u8; 32];
        bytes[31] = 7;
        bytes[30] = 1; // 256 + 7 = 263
        let id = BlobId(bytes);
        assert_eq!(id.rotation_offset(10), 3);
        assert_eq!(id.rotation_offset(1000), 263);
        for shard in 0..10 {
            let pair = shard_to_pair(shard, &id, 10);
            assert_eq!(pair_to_shard(pair, &id, 10), shard);
        }
        assert_eq!(pair_to_shard(0, &id, 10), 3);
    }

    #[test]
    fn rotation_is_the_big_endian_id_mod_n() {
        // As Walrus's `crates/walrus-core/src/encoding/mapping.rs` rotates:
        // the id read as a big-endian integer, mod n. n = 7: an id worth 15
        // rotates by 1, one worth 16 by 2.
        let mut bytes = [0u8; 32];
        bytes[31] = 15;
        let id = BlobId(bytes);
        assert_eq!(pair_to_shard(0, &id, 7), 1);
        assert_eq!(pair_to_shard(6, &id, 7), 0);
        bytes[31] = 16;
        let id = BlobId(bytes);
        assert_eq!(shard_to_pair(0, &id, 7), 5);
        assert_eq!(shard_to_pair(6, &id, 7), 4);
    }
}
