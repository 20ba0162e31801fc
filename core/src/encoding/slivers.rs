//! Slivers: one row (primary) or one column (secondary) of the message matrix.
//!
//! The axis is a type parameter so a primary sliver can never be checked
//! against a secondary hash or decoded with the wrong code. On the wire a
//! sliver is BCS `{symbols: {data: bytes, symbol_size: u16}, index: u16}`; the
//! axis is carried by the URL, not the bytes.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::reed_solomon::{RsCode, RsWorkspace};
use super::{Axis, EncodingConfig, EncodingError};
use crate::merkle::{Digest, EMPTY_NODE, MerkleTree, Node, leaf_hashes, root_from_leaf_hashes};
use crate::metadata::VerifiedBlobMetadataWithId;

/// A BCS sequence length at the start of `bytes`: its value and how many
/// bytes it took, if it is minimal and within BCS's bound (2^31 - 1);
/// `None` for anything else (the BCS decoder then says what is wrong).
pub fn canonical_uleb128(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value: u64 = 0;
    for (i, &byte) in bytes.iter().take(5).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return None;
            }
            return (value <= i32::MAX as u64).then_some((value as usize, i + 1));
        }
    }
    None
}

/// Type-level axis marker.
pub trait EncodingAxis:
    Copy + Clone + Default + std::fmt::Debug + PartialEq + Eq + Send + Sync + 'static
{
    /// The value-level axis.
    const AXIS: Axis;
    /// The other axis's marker.
    type Orthogonal: EncodingAxis<Orthogonal = Self>;
}

/// Marker for rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Primary;
/// Marker for columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Secondary;

impl EncodingAxis for Primary {
    const AXIS: Axis = Axis::Primary;
    type Orthogonal = Secondary;
}
impl EncodingAxis for Secondary {
    const AXIS: Axis = Axis::Secondary;
    type Orthogonal = Primary;
}

/// A run of equally sized symbols (BCS `{data, symbol_size}`). Parsing
/// rejects a zero symbol size and data that are not whole symbols.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSymbols")]
pub struct Symbols {
    // `serde_bytes`: the same BCS bytes as `Vec<u8>`, but read and written
    // as one run; a sequence of u8 went through serde element by element,
    // which was most of a node's CPU per uploaded sliver.
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
    symbol_size: u16,
}

#[derive(Deserialize)]
struct RawSymbols {
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
    symbol_size: u16,
}

impl TryFrom<RawSymbols> for Symbols {
    type Error = EncodingError;
    fn try_from(raw: RawSymbols) -> Result<Self, Self::Error> {
        Symbols::new(raw.data, raw.symbol_size)
    }
}

impl Symbols {
    /// Wraps bytes; the length must be a multiple of a non-zero symbol size.
    pub fn new(data: Vec<u8>, symbol_size: u16) -> Result<Self, EncodingError> {
        if symbol_size == 0 || !data.len().is_multiple_of(usize::from(symbol_size)) {
            return Err(EncodingError::BadSymbolLayout {
                len: data.len(),
                symbol_size,
            });
        }
        Ok(Self { data, symbol_size })
    }

    /// The raw bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Bytes per symbol.
    pub fn symbol_size(&self) -> u16 {
        self.symbol_size
    }

    /// Number of whole symbols.
    pub fn len(&self) -> usize {
        if self.symbol_size == 0 {
            0
        } else {
            self.data.len() / usize::from(self.symbol_size)
        }
    }

    /// No symbols.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Symbol `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let s = usize::from(self.symbol_size);
        self.data.get(i * s..(i + 1) * s)
    }

    /// Iterator over the symbols.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        self.data.chunks_exact(usize::from(self.symbol_size.max(1)))
    }
}

/// One sliver of axis `A`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SliverData<A: EncodingAxis> {
    /// The symbols of the sliver.
    pub symbols: Symbols,
    /// Sliver index (for secondary slivers this is *not* the pair index).
    pub index: u16,
    #[serde(skip)]
    _axis: PhantomData<A>,
}

/// A row.
pub type PrimarySliver = SliverData<Primary>;
/// A column.
pub type SecondarySliver = SliverData<Secondary>;

/// Either kind of sliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sliver {
    /// A primary sliver.
    Primary(PrimarySliver),
    /// A secondary sliver.
    Secondary(SecondarySliver),
}

/// Why a sliver does not match its metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SliverVerificationError {
    /// Index not below n.
    #[error("sliver index {index} is out of range for {n_shards} shards")]
    IndexOutOfRange {
        /// Index.
        index: u16,
        /// n.
        n_shards: u16,
    },
    /// Wrong number of bytes.
    #[error("{axis} sliver has {got} bytes, expected {expected}")]
    WrongLength {
        /// Axis.
        axis: Axis,
        /// Got.
        got: usize,
        /// Expected.
        expected: usize,
    },
    /// Wrong symbol size.
    #[error("sliver symbol size {got} differs from the blob's symbol size {expected}")]
    WrongSymbolSize {
        /// Got.
        got: u16,
        /// Expected.
        expected: u16,
    },
    /// The hash differs from the metadata.
    #[error("{axis} sliver {index} does not hash to the value in the metadata")]
    HashMismatch {
        /// Axis.
        axis: Axis,
        /// Index.
        index: u16,
    },
    /// The metadata cannot give a symbol size (cannot happen for verified metadata).
    #[error(transparent)]
    Encoding(#[from] EncodingError),
}

impl<A: EncodingAxis> SliverData<A> {
    /// A sliver from its parts.
    pub fn new(data: Vec<u8>, symbol_size: u16, index: u16) -> Result<Self, EncodingError> {
        Ok(Self {
            symbols: Symbols::new(data, symbol_size)?,
            index,
            _axis: PhantomData,
        })
    }

    /// The axis.
    pub fn axis(&self) -> Axis {
        A::AXIS
    }

    /// Sliver index.
    pub fn index(&self) -> u16 {
        self.index
    }

    /// Raw bytes.
    pub fn data(&self) -> &[u8] {
        self.symbols.data()
    }

    /// Symbol size.
    pub fn symbol_size(&self) -> u16 {
        self.symbols.symbol_size()
    }

    /// The raw bytes, moved out (an upload sends them without a copy).
    pub fn into_data(self) -> Vec<u8> {
        self.symbols.data
    }

    /// The pair this sliver belongs to.
    pub fn pair_index(&self, config: &EncodingConfig) -> u16 {
        match A::AXIS {
            Axis::Primary => self.index,
            Axis::Secondary => config.n_shards() - 1 - self.index,
        }
    }

    /// BCS bytes as sent to and from storage nodes.
    pub fn to_bcs(&self) -> Vec<u8> {
        bcs::to_bytes(self).expect("slivers always serialise")
    }

    /// Parses BCS sliver bytes.
    pub fn from_bcs(bytes: &[u8]) -> Result<Self, bcs::Error> {
        bcs::from_bytes(bytes)
    }

    /// [`Self::from_bcs`] taking the buffer: the sliver keeps it (its few
    /// bytes of length prefix moved out of the way) instead of copying its
    /// symbols into a new allocation, which is what a reader of multi-MiB
    /// slivers pays per sliver otherwise. Same answers as `from_bcs` for
    /// every input: anything but a well-formed sliver goes through it.
    pub fn from_bcs_vec(mut bytes: Vec<u8>) -> Result<Self, bcs::Error> {
        let Some(SliverLayout {
            symbols,
            symbol_size,
            index,
        }) = sliver_layout(&bytes)
        else {
            return Self::from_bcs(&bytes);
        };
        bytes.truncate(symbols.end);
        bytes.drain(..symbols.start);
        Self::new(bytes, symbol_size, index).map_err(|e| bcs::Error::Custom(e.to_string()))
    }

    /// Checks shape only: index, symbol size and length for `config` and the
    /// given symbol size.
    pub fn check_shape(
        &self,
        config: &EncodingConfig,
        symbol_size: u16,
    ) -> Result<(), SliverVerificationError> {
        self.view().check_shape(config, symbol_size)
    }

    /// The sliver borrowed as a [`SliverView`].
    pub fn view(&self) -> SliverView<'_, A> {
        SliverView {
            data: self.data(),
            symbol_size: self.symbol_size(),
            index: self.index,
            _axis: PhantomData,
        }
    }

    /// Expands the sliver with the orthogonal code to all `n` symbols (a full
    /// row or column of the expanded matrix).
    pub fn expand(&self, config: &EncodingConfig) -> Result<Symbols, EncodingError> {
        let code = expansion_code(config, A::AXIS)?;
        let s = usize::from(self.symbol_size());
        if self.data().len() != code.k * s {
            return Err(EncodingError::BadSymbolLayout {
                len: self.data().len(),
                symbol_size: self.symbol_size(),
            });
        }
        let mut out = vec![0u8; code.n * s];
        out[..code.k * s].copy_from_slice(self.data());
        let (_, repair) = out.split_at_mut(code.k * s);
        let mut ws = RsWorkspace::default();
        let data = self.data();
        ws.encode(
            code,
            s,
            1,
            |i, _| &data[i * s..(i + 1) * s],
            |r, _, sym| repair[r * s..(r + 1) * s].copy_from_slice(sym),
        )?;
        Symbols::new(out, self.symbol_size())
    }

    /// The Merkle root over the expanded sliver: what the metadata hold
    /// ([`SliverView::hash`]).
    pub fn hash(&self, config: &EncodingConfig) -> Result<Node, EncodingError> {
        self.view().hash(config)
    }

    /// The full Merkle tree over the expanded sliver (for recovery proofs).
    pub(crate) fn expanded_tree(
        &self,
        config: &EncodingConfig,
    ) -> Result<(Symbols, MerkleTree), EncodingError> {
        let expanded = self.expand(config)?;
        let tree = MerkleTree::build(expanded.iter());
        Ok((expanded, tree))
    }

    /// Checks the sliver against verified metadata ([`SliverView::verify`]).
    pub fn verify(
        &self,
        config: &EncodingConfig,
        metadata: &VerifiedBlobMetadataWithId,
    ) -> Result<(), SliverVerificationError> {
        self.view().verify(config, metadata)
    }
}

/// A sliver's symbols where they already lie (a reader's output buffer, a
/// received body), with its symbol size and index: what shape checks,
/// hashing and verification need, without first moving the bytes into a
/// [`SliverData`].
#[derive(Debug, Clone, Copy)]
pub struct SliverView<'a, A: EncodingAxis> {
    data: &'a [u8],
    symbol_size: u16,
    index: u16,
    _axis: PhantomData<A>,
}

/// A primary sliver (row) borrowed.
pub type PrimarySliverView<'a> = SliverView<'a, Primary>;

impl<'a, A: EncodingAxis> SliverView<'a, A> {
    /// A view of `data` as the symbols of sliver `index`. The layout is
    /// checked by [`Self::check_shape`] (and so by [`Self::verify`]).
    pub fn new(data: &'a [u8], symbol_size: u16, index: u16) -> Self {
        Self {
            data,
            symbol_size,
            index,
            _axis: PhantomData,
        }
    }

    /// Parses BCS sliver bytes where they lie: the view borrows the
    /// symbols from `bytes` instead of copying them out (what a node pays
    /// per uploaded sliver otherwise). Same answers as
    /// [`SliverData::from_bcs`]: anything but a well-formed sliver goes
    /// through it for its error.
    pub fn from_bcs(bytes: &'a [u8]) -> Result<Self, bcs::Error> {
        if let Some(layout) = sliver_layout(bytes) {
            return Ok(Self::new(
                &bytes[layout.symbols],
                layout.symbol_size,
                layout.index,
            ));
        }
        match SliverData::<A>::from_bcs(bytes) {
            Err(e) => Err(e),
            // Cannot happen: the checks above are BCS's own.
            Ok(_) => Err(bcs::Error::Custom(
                "a sliver BCS reads but its layout does not".to_owned(),
            )),
        }
    }

    /// The symbols.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Bytes per symbol.
    pub fn symbol_size(&self) -> u16 {
        self.symbol_size
    }

    /// Sliver index.
    pub fn index(&self) -> u16 {
        self.index
    }

    /// Index, symbol size and length for `config` and `symbol_size`.
    pub fn check_shape(
        &self,
        config: &EncodingConfig,
        symbol_size: u16,
    ) -> Result<(), SliverVerificationError> {
        if self.index >= config.n_shards() {
            return Err(SliverVerificationError::IndexOutOfRange {
                index: self.index,
                n_shards: config.n_shards(),
            });
        }
        if self.symbol_size != symbol_size {
            return Err(SliverVerificationError::WrongSymbolSize {
                got: self.symbol_size,
                expected: symbol_size,
            });
        }
        let expected = config.sliver_len(A::AXIS, symbol_size);
        if self.data.len() != expected {
            return Err(SliverVerificationError::WrongLength {
                axis: A::AXIS,
                got: self.data.len(),
                expected,
            });
        }
        Ok(())
    }

    /// The Merkle root over the expanded sliver: what the metadata hold.
    ///
    /// The expansion is never materialised: the leaves are the sliver's own
    /// symbols followed by the recovery symbols, hashed where the encoder
    /// left them, and the encoder (with its work buffers) is the calling
    /// thread's, reused from one sliver to the next. A node verifies every
    /// uploaded sliver this way, so a fresh multi-MiB expansion and encoder
    /// per sliver (page faults, zeroing, a copy of the sliver) were most of
    /// its allocation traffic.
    pub fn hash(&self, config: &EncodingConfig) -> Result<Node, EncodingError> {
        thread_local! {
            static WORKSPACE: std::cell::RefCell<RsWorkspace> =
                std::cell::RefCell::new(RsWorkspace::default());
        }
        let code = expansion_code(config, A::AXIS)?;
        let s = usize::from(self.symbol_size);
        let data = self.data;
        if s == 0 || data.len() != code.k * s {
            return Err(EncodingError::BadSymbolLayout {
                len: data.len(),
                symbol_size: self.symbol_size,
            });
        }
        let mut leaves: Vec<Digest> = vec![EMPTY_NODE; code.n];
        WORKSPACE.with_borrow_mut(|ws| {
            ws.encode_one(code, s, data, |recovery| {
                let mut symbols: Vec<&[u8]> = Vec::with_capacity(code.n);
                symbols.extend(data.chunks_exact(s));
                for symbol in recovery {
                    symbols.push(symbol);
                }
                leaf_hashes(symbols, &mut leaves)
            })
        })?;
        Ok(root_from_leaf_hashes(&mut leaves))
    }

    /// Checks the sliver against verified metadata: index, symbol size,
    /// length, then the hash of the re-expanded sliver.
    pub fn verify(
        &self,
        config: &EncodingConfig,
        metadata: &VerifiedBlobMetadataWithId,
    ) -> Result<(), SliverVerificationError> {
        let symbol_size = metadata.symbol_size(config)?;
        self.check_shape(config, symbol_size)?;
        let expected = metadata.metadata().sliver_hash(A::AXIS, self.index).ok_or(
            SliverVerificationError::IndexOutOfRange {
                index: self.index,
                n_shards: config.n_shards(),
            },
        )?;
        if self.hash(config)? != *expected {
            return Err(SliverVerificationError::HashMismatch {
                axis: A::AXIS,
                index: self.index,
            });
        }
        Ok(())
    }
}

/// Where the parts of a well-formed sliver's BCS lie.
struct SliverLayout {
    symbols: std::ops::Range<usize>,
    symbol_size: u16,
    index: u16,
}

/// The layout of `bytes` if they are a well-formed sliver, by BCS's own
/// rules (ULEB128 length, the symbols, `symbol_size` u16, `index` u16; a
/// minimal length, nothing after, whole symbols of a non-zero size);
/// `None` for anything else, whose error `SliverData::from_bcs` then gives.
fn sliver_layout(bytes: &[u8]) -> Option<SliverLayout> {
    let (len, prefix) = canonical_uleb128(bytes)?;
    let end = prefix
        .checked_add(len)
        .filter(|end| end + 4 == bytes.len())?;
    let symbol_size = u16::from_le_bytes([bytes[end], bytes[end + 1]]);
    let index = u16::from_le_bytes([bytes[end + 2], bytes[end + 3]]);
    (symbol_size != 0 && len.is_multiple_of(usize::from(symbol_size))).then_some(SliverLayout {
        symbols: prefix..end,
        symbol_size,
        index,
    })
}

/// The code that expands a sliver on `axis`: rows use the secondary code
/// (`k = n - f`), columns the primary code (`k = n - 2f`).
pub(crate) fn expansion_code(config: &EncodingConfig, axis: Axis) -> Result<RsCode, EncodingError> {
    RsCode::new(
        usize::from(config.n_source_symbols(axis.orthogonal())),
        config.n(),
    )
}

impl Sliver {
    /// Axis of the sliver.
    pub fn axis(&self) -> Axis {
        match self {
            Sliver::Primary(_) => Axis::Primary,
            Sliver::Secondary(_) => Axis::Secondary,
        }
    }
}
