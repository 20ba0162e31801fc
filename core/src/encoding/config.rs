//! The RS2 encoding parameters for a committee of `n` shards.
//!
//! Everything here is arithmetic that must agree bit for bit with Walrus (and
//! with `contracts/move/.../encoding.move`): symbol counts, symbol size, sliver
//! lengths, the maximum blob size and the encoded length that storage is paid for.

use serde::{Deserialize, Serialize};

use super::EncodingError;

/// The smallest committee RS2 supports: with fewer shards there is no `f >= 1`.
pub const MIN_SHARDS: u16 = 4;
/// Symbols are pairs of bytes (GF(2^16) elements) and their size is a `u16`;
/// the largest even value is the limit.
pub const MAX_SYMBOL_SIZE: u16 = u16::MAX - 1;
/// Symbol sizes must be a multiple of this (one GF(2^16) element).
pub const SYMBOL_ALIGNMENT: usize = 2;
/// Bytes of one Merkle digest.
pub const DIGEST_LEN: usize = 32;

/// The encoding type byte. Only RS2 exists; the byte value is what Walrus
/// writes on the wire and on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EncodingType {
    /// Two-dimensional Reed-Solomon over GF(2^16) (Walrus `RS2`, byte 1).
    #[default]
    Rs2,
}

impl EncodingType {
    /// The byte used in blob ids, BCS and on chain.
    pub const fn as_u8(self) -> u8 {
        match self {
            EncodingType::Rs2 => 1,
        }
    }

    /// Parses the encoding byte; 0 (Walrus's retired RaptorQ) and anything else
    /// are rejected.
    pub fn from_u8(value: u8) -> Result<Self, EncodingError> {
        match value {
            1 => Ok(EncodingType::Rs2),
            other => Err(EncodingError::UnsupportedEncodingType(other)),
        }
    }
}

impl Serialize for EncodingType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Walrus serialises this through an enum whose variant 1 is RS2; in BCS
        // an enum variant index is a ULEB128 byte, identical to a u8 for 1.
        serializer.serialize_unit_variant("EncodingType", u32::from(self.as_u8()), "RS2")
    }
}

impl<'de> Deserialize<'de> for EncodingType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        enum Shadow {
            #[serde(rename = "RedStuffRaptorQ")]
            RaptorQ,
            #[serde(rename = "RS2")]
            Rs2,
        }
        match Shadow::deserialize(deserializer)? {
            Shadow::Rs2 => Ok(EncodingType::Rs2),
            Shadow::RaptorQ => Err(serde::de::Error::custom(
                "encoding type 0 (RaptorQ) is not supported; only RS2 (1) is",
            )),
        }
    }
}

/// Parameters of RS2 for one committee size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncodingConfig {
    n_shards: u16,
    n_primary_source: u16,
    n_secondary_source: u16,
}

impl EncodingConfig {
    /// The configuration for `n_shards` shards; fewer than [`MIN_SHARDS`] is an error.
    pub fn new(n_shards: u16) -> Result<Self, EncodingError> {
        if n_shards < MIN_SHARDS {
            return Err(EncodingError::TooFewShards {
                n_shards,
                min: MIN_SHARDS,
            });
        }
        let f = (n_shards - 1) / 3;
        Ok(Self {
            n_shards,
            n_primary_source: n_shards - 2 * f,
            n_secondary_source: n_shards - f,
        })
    }

    /// Number of shards `n` (also the number of sliver pairs).
    pub const fn n_shards(&self) -> u16 {
        self.n_shards
    }

    /// `n` as a `usize`, for indexing.
    pub const fn n(&self) -> usize {
        self.n_shards as usize
    }

    /// The number of Byzantine shards tolerated, `f = (n - 1) / 3`.
    pub const fn max_faulty(&self) -> u16 {
        (self.n_shards - 1) / 3
    }

    /// Source symbols of the primary code (`n - 2f`): rows of the message matrix,
    /// and the number of primary slivers needed to decode.
    pub const fn n_primary_source_symbols(&self) -> u16 {
        self.n_primary_source
    }

    /// Source symbols of the secondary code (`n - f`): columns of the message
    /// matrix, and the number of secondary slivers needed to decode.
    pub const fn n_secondary_source_symbols(&self) -> u16 {
        self.n_secondary_source
    }

    /// `k` for the given axis's code: the source symbol count of that axis.
    pub const fn n_source_symbols(&self, axis: Axis) -> u16 {
        match axis {
            Axis::Primary => self.n_primary_source,
            Axis::Secondary => self.n_secondary_source,
        }
    }

    /// Number of symbols in the message matrix (`k_p * k_s`).
    pub const fn source_symbols_per_blob(&self) -> u64 {
        self.n_primary_source as u64 * self.n_secondary_source as u64
    }

    /// The symbol size for a blob of `blob_len` bytes: `ceil(max(len,1) / (k_p*k_s))`
    /// rounded up to even. Errors when it would exceed [`MAX_SYMBOL_SIZE`].
    pub fn symbol_size_for(&self, blob_len: u64) -> Result<u16, EncodingError> {
        let per = self.source_symbols_per_blob();
        let mut size = blob_len.max(1).div_ceil(per);
        size += size % 2;
        if size > u64::from(MAX_SYMBOL_SIZE) {
            return Err(EncodingError::BlobTooLarge {
                len: blob_len,
                max: self.max_blob_size(),
                n_shards: self.n_shards,
            });
        }
        Ok(size as u16)
    }

    /// The largest blob this committee size can encode (`k_p * k_s * 65534`).
    pub const fn max_blob_size(&self) -> u64 {
        self.source_symbols_per_blob() * MAX_SYMBOL_SIZE as u64
    }

    /// Bytes of one primary sliver (a row: `k_s` symbols).
    pub const fn primary_sliver_len(&self, symbol_size: u16) -> usize {
        self.n_secondary_source as usize * symbol_size as usize
    }

    /// Bytes of one secondary sliver (a column: `k_p` symbols).
    pub const fn secondary_sliver_len(&self, symbol_size: u16) -> usize {
        self.n_primary_source as usize * symbol_size as usize
    }

    /// Bytes of one sliver on `axis`.
    pub const fn sliver_len(&self, axis: Axis, symbol_size: u16) -> usize {
        match axis {
            Axis::Primary => self.primary_sliver_len(symbol_size),
            Axis::Secondary => self.secondary_sliver_len(symbol_size),
        }
    }

    /// Per-shard metadata overhead counted in the encoded length: `n` pairs of
    /// 32-byte hashes plus the 32-byte blob id.
    pub const fn metadata_len(&self) -> u64 {
        self.n_shards as u64 * DIGEST_LEN as u64 * 2 + DIGEST_LEN as u64
    }

    /// The encoded length storage is reserved and paid for:
    /// `n * ((k_p + k_s) * symbol_size + metadata_len)`.
    pub fn encoded_blob_length(&self, blob_len: u64) -> Result<u64, EncodingError> {
        let symbol_size = u64::from(self.symbol_size_for(blob_len)?);
        let slivers =
            (u64::from(self.n_primary_source) + u64::from(self.n_secondary_source)) * symbol_size;
        Ok(u64::from(self.n_shards) * (slivers + self.metadata_len()))
    }

    /// Checks a sliver or pair index is below `n`.
    pub fn check_index(&self, index: u16) -> Result<(), EncodingError> {
        if index >= self.n_shards {
            return Err(EncodingError::IndexOutOfRange {
                index,
                n_shards: self.n_shards,
            });
        }
        Ok(())
    }
}

/// The two axes of the two-dimensional code.
///
/// Primary slivers are rows of the expanded matrix (decoding needs `n - 2f` of
/// them); secondary slivers are columns (decoding needs `n - f`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// Rows; expanded with the secondary code.
    Primary,
    /// Columns; expanded with the primary code.
    Secondary,
}

impl Axis {
    /// The other axis.
    pub const fn orthogonal(self) -> Axis {
        match self {
            Axis::Primary => Axis::Secondary,
            Axis::Secondary => Axis::Primary,
        }
    }

    /// Lower-case name used in REST paths (`primary`, `secondary`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Axis::Primary => "primary",
            Axis::Secondary => "secondary",
        }
    }
}

impl std::fmt::Display for Axis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Axis {
    type Err = EncodingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "primary" => Ok(Axis::Primary),
            "secondary" => Ok(Axis::Secondary),
            other => Err(EncodingError::UnknownAxis(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_symbol_counts_match_walrus_examples() {
        for (n, kp, ks) in [
            (7u16, 3u16, 5u16),
            (10, 4, 7),
            (100, 34, 67),
            (1000, 334, 667),
        ] {
            let c = EncodingConfig::new(n).unwrap();
            assert_eq!(c.n_primary_source_symbols(), kp, "n={n}");
            assert_eq!(c.n_secondary_source_symbols(), ks, "n={n}");
        }
    }

    #[test]
    fn too_few_shards_is_an_error() {
        assert!(matches!(
            EncodingConfig::new(3),
            Err(EncodingError::TooFewShards { n_shards: 3, .. })
        ));
        assert!(EncodingConfig::new(4).is_ok());
    }

    #[test]
    fn max_blob_size_matches_walrus_info() {
        let c = EncodingConfig::new(1000).unwrap();
        assert_eq!(c.max_blob_size(), 14_599_533_452);
        let c10 = EncodingConfig::new(10).unwrap();
        assert_eq!(c10.max_blob_size(), 1_834_952);
        assert_eq!(c10.symbol_size_for(1_834_952).unwrap(), 65534);
        assert!(matches!(
            c10.symbol_size_for(1_834_953),
            Err(EncodingError::BlobTooLarge { max: 1_834_952, .. })
        ));
    }

    #[test]
    fn symbol_size_is_even_and_at_least_two() {
        let c = EncodingConfig::new(10).unwrap();
        assert_eq!(c.symbol_size_for(0).unwrap(), 2);
        assert_eq!(c.symbol_size_for(1).unwrap(), 2);
        assert_eq!(c.symbol_size_for(1024).unwrap(), 38);
        assert_eq!(c.symbol_size_for(1_048_576).unwrap(), 37450);
    }

    #[test]
    fn encoded_length_in_storage_units_at_1000_shards() {
        // Walrus's formula (`redstuff::encoded_blob_length` in
        // `contracts/walrus/sources/system/redstuff.move`, kept in sync with
        // `crates/walrus-core/src/encoding/config.rs`), worked out for n = 1000.
        let c = EncodingConfig::new(1000).unwrap();
        // Any tiny blob costs 63 one-MiB units; 1 MiB costs 67.
        let units = |len| c.encoded_blob_length(len).unwrap().div_ceil(1 << 20);
        assert_eq!(units(1), 63);
        assert_eq!(units(1 << 20), 67);
        assert_eq!(units(100 << 20), 512);
        assert_eq!(units(1 << 30), 4663);
    }
}
