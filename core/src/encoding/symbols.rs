//! Recovery symbols: how a node rebuilds a sliver it lacks from its peers.
//!
//! Symbol `(i, j)` of the expanded matrix lies in row `i` and column `j`. A
//! holder of secondary sliver `j` expands it (primary code) and hands out
//! position `t` to help rebuild primary sliver `t`; a holder of primary sliver
//! `i` expands it (secondary code) to help rebuild secondary sliver `t`. Each
//! symbol carries a Merkle proof over its *source* sliver's expansion at leaf
//! `t`, checked against the source's hash in the metadata.
//!
//! Type parameter `T` is always the axis of the sliver being *recovered*.
//! Wire forms (BCS) follow Walrus: `DecodingSymbol = {index u16, data bytes}`,
//! `RecoverySymbol = {symbol, proof}`, `GeneralRecoverySymbol = {symbol:
//! Primary|Secondary(DecodingSymbol), target_index u16, proof}`.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::reed_solomon::RsWorkspace;
use super::slivers::{EncodingAxis, Primary, Secondary, SliverData, expansion_code};
use super::{Axis, EncodingConfig, EncodingError};
use crate::merkle::MerkleProof;
use crate::metadata::VerifiedBlobMetadataWithId;

/// A symbol without a proof: `index` is its position in the codeword of the
/// sliver being recovered, which is the index of the source sliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct DecodingSymbol<T: EncodingAxis> {
    /// Source sliver index (= position in the target's codeword).
    pub index: u16,
    /// The symbol bytes (one BCS byte run, see `Symbols`).
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    #[serde(skip)]
    _axis: PhantomData<T>,
}

impl<T: EncodingAxis> DecodingSymbol<T> {
    /// A symbol at `index`.
    pub fn new(index: u16, data: Vec<u8>) -> Self {
        Self {
            index,
            data,
            _axis: PhantomData,
        }
    }
}

/// A decoding symbol with its Merkle proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct RecoverySymbol<T: EncodingAxis> {
    /// The symbol.
    pub symbol: DecodingSymbol<T>,
    /// Proof over the source sliver's expansion, at leaf = target index.
    pub proof: MerkleProof,
}

/// Symbols for a primary target (from secondary slivers).
pub type PrimaryRecoverySymbol = RecoverySymbol<Primary>;
/// Symbols for a secondary target (from primary slivers).
pub type SecondaryRecoverySymbol = RecoverySymbol<Secondary>;

/// Either kind of decoding symbol (tag 0 = for a primary target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EitherDecodingSymbol {
    /// Helps recover a primary sliver; comes from a secondary sliver.
    Primary(DecodingSymbol<Primary>),
    /// Helps recover a secondary sliver; comes from a primary sliver.
    Secondary(DecodingSymbol<Secondary>),
}

/// The identity of one symbol of the expanded matrix: (row, column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SymbolId {
    /// Row = primary sliver index.
    pub primary: u16,
    /// Column = secondary sliver index.
    pub secondary: u16,
}

impl std::fmt::Display for SymbolId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.primary, self.secondary)
    }
}

impl std::str::FromStr for SymbolId {
    type Err = RecoveryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || RecoveryError::BadSymbolId(s.to_owned());
        let (p, q) = s.split_once('-').ok_or_else(bad)?;
        Ok(SymbolId {
            primary: p.parse().map_err(|_| bad())?,
            secondary: q.parse().map_err(|_| bad())?,
        })
    }
}

/// A recovery symbol that names its target, as the node API serves them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralRecoverySymbol {
    /// The symbol, tagged with the axis it helps recover.
    pub symbol: EitherDecodingSymbol,
    /// Index of the target sliver.
    pub target_index: u16,
    /// Proof over the source sliver's expansion at leaf `target_index`.
    pub proof: MerkleProof,
}

/// Why a symbol or a recovery was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// Index not below n.
    #[error("symbol index {index} is out of range for {n_shards} shards")]
    IndexTooLarge {
        /// Index.
        index: u16,
        /// n.
        n_shards: u16,
    },
    /// Wrong symbol length.
    #[error("symbol has {got} bytes but this blob's symbols have {expected}")]
    SymbolSizeMismatch {
        /// Got.
        got: usize,
        /// Expected.
        expected: usize,
    },
    /// The proof does not lead to the source sliver's hash.
    #[error("the Merkle proof of symbol {index} does not match the metadata")]
    InvalidProof {
        /// Source index.
        index: u16,
    },
    /// The symbol is for another target.
    #[error("symbol targets sliver {got}, not sliver {expected}")]
    NotUsable {
        /// Its target.
        got: u16,
        /// Wanted target.
        expected: u16,
    },
    /// Too few valid symbols.
    #[error("recovery needs {needed} valid symbols with distinct indices, got {got}")]
    NotEnoughSymbols {
        /// k of the code.
        needed: usize,
        /// Valid distinct ones.
        got: usize,
    },
    /// Text not `P-S`.
    #[error("symbol id {0:?} is not of the form PRIMARY-SECONDARY")]
    BadSymbolId(String),
    /// Encoding failure.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
}

impl<T: EncodingAxis> RecoverySymbol<T> {
    /// Checks the symbol for the recovery of sliver `target_index` on axis `T`.
    pub fn verify(
        &self,
        config: &EncodingConfig,
        metadata: &VerifiedBlobMetadataWithId,
        target_index: u16,
    ) -> Result<(), RecoveryError> {
        verify_symbol(
            config,
            metadata,
            T::AXIS.orthogonal(),
            self.symbol.index,
            &self.symbol.data,
            target_index,
            &self.proof,
        )
    }

    /// Drops the proof.
    pub fn into_decoding_symbol(self) -> DecodingSymbol<T> {
        self.symbol
    }
}

/// Shared check: source sliver `source_index` on `source_axis` has
/// `data` at position `target_index` of its expansion.
fn verify_symbol(
    config: &EncodingConfig,
    metadata: &VerifiedBlobMetadataWithId,
    source_axis: Axis,
    source_index: u16,
    data: &[u8],
    target_index: u16,
    proof: &MerkleProof,
) -> Result<(), RecoveryError> {
    let n_shards = config.n_shards();
    for index in [source_index, target_index] {
        if index >= n_shards {
            return Err(RecoveryError::IndexTooLarge { index, n_shards });
        }
    }
    let expected = usize::from(metadata.symbol_size(config)?);
    if data.len() != expected {
        return Err(RecoveryError::SymbolSizeMismatch {
            got: data.len(),
            expected,
        });
    }
    let root = metadata
        .metadata()
        .sliver_hash(source_axis, source_index)
        .ok_or(RecoveryError::IndexTooLarge {
            index: source_index,
            n_shards,
        })?;
    if !proof.verify(root, data, usize::from(target_index), config.n()) {
        return Err(RecoveryError::InvalidProof {
            index: source_index,
        });
    }
    Ok(())
}

impl GeneralRecoverySymbol {
    /// The axis and index of the sliver this symbol was cut from.
    pub fn source(&self) -> (Axis, u16) {
        match &self.symbol {
            EitherDecodingSymbol::Primary(s) => (Axis::Secondary, s.index),
            EitherDecodingSymbol::Secondary(s) => (Axis::Primary, s.index),
        }
    }

    /// (row, column) of the symbol in the expanded matrix.
    pub fn id(&self) -> SymbolId {
        match &self.symbol {
            EitherDecodingSymbol::Primary(s) => SymbolId {
                primary: self.target_index,
                secondary: s.index,
            },
            EitherDecodingSymbol::Secondary(s) => SymbolId {
                primary: s.index,
                secondary: self.target_index,
            },
        }
    }

    fn data(&self) -> &[u8] {
        match &self.symbol {
            EitherDecodingSymbol::Primary(s) => &s.data,
            EitherDecodingSymbol::Secondary(s) => &s.data,
        }
    }

    /// Checks the symbol and that it can help recover sliver `target_index`
    /// on `target_axis`.
    pub fn verify(
        &self,
        config: &EncodingConfig,
        metadata: &VerifiedBlobMetadataWithId,
        target_axis: Axis,
        target_index: u16,
    ) -> Result<(), RecoveryError> {
        let (source_axis, source_index) = self.source();
        let usable = (source_axis != target_axis && self.target_index == target_index)
            || (source_axis == target_axis && source_index == target_index);
        if !usable {
            return Err(RecoveryError::NotUsable {
                got: self.target_index,
                expected: target_index,
            });
        }
        verify_symbol(
            config,
            metadata,
            source_axis,
            source_index,
            self.data(),
            self.target_index,
            &self.proof,
        )
    }

    /// Turns the symbol into a decoding symbol for a primary target: a
    /// symbol cut from a secondary sliver keeps its index; one cut from
    /// primary sliver `i` at column `t` is position `t` of row `i`.
    pub fn into_primary(self) -> DecodingSymbol<Primary> {
        match self.symbol {
            EitherDecodingSymbol::Primary(s) => s,
            EitherDecodingSymbol::Secondary(s) => DecodingSymbol::new(self.target_index, s.data),
        }
    }

    /// The mirror of [`into_primary`](Self::into_primary).
    pub fn into_secondary(self) -> DecodingSymbol<Secondary> {
        match self.symbol {
            EitherDecodingSymbol::Secondary(s) => s,
            EitherDecodingSymbol::Primary(s) => DecodingSymbol::new(self.target_index, s.data),
        }
    }
}

/// Wraps typed recovery symbols into their general, self-describing form.
pub trait IntoGeneral {
    /// Converts, naming the target.
    fn into_general(self, target_index: u16) -> GeneralRecoverySymbol;
}

impl IntoGeneral for RecoverySymbol<Primary> {
    fn into_general(self, target_index: u16) -> GeneralRecoverySymbol {
        GeneralRecoverySymbol {
            symbol: EitherDecodingSymbol::Primary(self.symbol),
            target_index,
            proof: self.proof,
        }
    }
}

impl IntoGeneral for RecoverySymbol<Secondary> {
    fn into_general(self, target_index: u16) -> GeneralRecoverySymbol {
        GeneralRecoverySymbol {
            symbol: EitherDecodingSymbol::Secondary(self.symbol),
            target_index,
            proof: self.proof,
        }
    }
}

impl<A: EncodingAxis> SliverData<A> {
    /// Recovery symbols cut from this sliver for the given targets (slivers on
    /// the orthogonal axis), with proofs. One expansion serves all targets.
    pub fn recovery_symbols(
        &self,
        config: &EncodingConfig,
        targets: &[u16],
    ) -> Result<Vec<RecoverySymbol<A::Orthogonal>>, EncodingError> {
        for &t in targets {
            config.check_index(t)?;
        }
        let (expanded, tree) = self.expanded_tree(config)?;
        targets
            .iter()
            .map(|&t| {
                let data = expanded
                    .get(usize::from(t))
                    .ok_or(EncodingError::IndexOutOfRange {
                        index: t,
                        n_shards: config.n_shards(),
                    })?
                    .to_vec();
                let proof = tree
                    .proof(usize::from(t))
                    .ok_or(EncodingError::IndexOutOfRange {
                        index: t,
                        n_shards: config.n_shards(),
                    })?;
                Ok(RecoverySymbol {
                    symbol: DecodingSymbol::new(self.index, data),
                    proof,
                })
            })
            .collect()
    }

    /// Decoding symbols (no proofs) cut from this sliver for the given targets.
    pub fn decoding_symbols(
        &self,
        config: &EncodingConfig,
        targets: &[u16],
    ) -> Result<Vec<DecodingSymbol<A::Orthogonal>>, EncodingError> {
        let expanded = self.expand(config)?;
        targets
            .iter()
            .map(|&t| {
                config.check_index(t)?;
                let data = expanded
                    .get(usize::from(t))
                    .ok_or(EncodingError::IndexOutOfRange {
                        index: t,
                        n_shards: config.n_shards(),
                    })?;
                Ok(DecodingSymbol::new(self.index, data.to_vec()))
            })
            .collect()
    }

    /// Rebuilds sliver `target_index` of axis `A` from decoding symbols
    /// (positions = source indices on the orthogonal axis). The first
    /// `k` symbols with distinct, in-range indices and the right size are used.
    /// The result is *not* checked against metadata; see
    /// [`crate::inconsistency::recover_verified`].
    pub fn recover_from_symbols(
        config: &EncodingConfig,
        symbol_size: u16,
        target_index: u16,
        symbols: &[DecodingSymbol<A>],
    ) -> Result<Self, RecoveryError> {
        config.check_index(target_index)?;
        let code = expansion_code(config, A::AXIS)?;
        let s = usize::from(symbol_size);
        let mut seen = vec![false; config.n()];
        let mut chosen: Vec<&DecodingSymbol<A>> = Vec::with_capacity(code.k);
        for sym in symbols {
            let idx = usize::from(sym.index);
            if idx < config.n() && sym.data.len() == s && !std::mem::replace(&mut seen[idx], true) {
                chosen.push(sym);
                if chosen.len() == code.k {
                    break;
                }
            }
        }
        if chosen.len() < code.k {
            return Err(RecoveryError::NotEnoughSymbols {
                needed: code.k,
                got: chosen.len(),
            });
        }
        let positions: Vec<usize> = chosen.iter().map(|c| usize::from(c.index)).collect();
        let mut data = vec![0u8; code.k * s];
        RsWorkspace::default().decode(
            code,
            s,
            1,
            &positions,
            |j, _| chosen[j].data.as_slice(),
            |i, _, sym| data[i * s..(i + 1) * s].copy_from_slice(sym),
        )?;
        Ok(SliverData::new(data, symbol_size, target_index)?)
    }
}
