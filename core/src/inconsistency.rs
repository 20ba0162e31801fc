//! Inconsistency proofs: evidence that a writer committed to slivers that do
//! not form one codeword.
//!
//! A node recovering sliver `t` from verified recovery symbols decodes a
//! sliver whose hash differs from the metadata. The symbols it used (exactly
//! `k` of them, each with a valid proof) convince anyone else: they decode
//! to the same wrong sliver. Nodes then sign an invalid-blob-id message.

use serde::{Deserialize, Serialize};

use crate::encoding::symbols::{RecoveryError, RecoverySymbol};
use crate::encoding::{
    EncodingAxis, EncodingConfig, Primary, Secondary, SliverData, SliverVerificationError,
};
use crate::metadata::VerifiedBlobMetadataWithId;

/// A proof that sliver `target_sliver_index` of axis `T` cannot be
/// consistent with the metadata (BCS: `u16, vector<RecoverySymbol>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct InconsistencyProof<T: EncodingAxis> {
    /// The sliver whose recovery failed.
    pub target_sliver_index: u16,
    /// Exactly `k` verified symbols (k of the code that expands `T`'s orthogonal axis).
    pub recovery_symbols: Vec<RecoverySymbol<T>>,
}

/// Either axis's proof, as posted to a node (tag 0 = primary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnyInconsistencyProof {
    /// About a primary sliver.
    Primary(InconsistencyProof<Primary>),
    /// About a secondary sliver.
    Secondary(InconsistencyProof<Secondary>),
}

/// Why a proof does not prove anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InconsistencyError {
    /// Not exactly the needed number of symbols.
    #[error("an inconsistency proof needs exactly {expected} symbols, got {got}")]
    IncorrectSymbolCount {
        /// k.
        expected: usize,
        /// Supplied.
        got: usize,
    },
    /// A symbol failed verification.
    #[error("recovery symbol {position} is invalid: {source}")]
    InvalidSymbol {
        /// Position in the proof.
        position: usize,
        /// Why.
        source: RecoveryError,
    },
    /// Decoding the symbols failed.
    #[error("the proof's symbols cannot be decoded: {0}")]
    RecoveryFailure(RecoveryError),
    /// The decoded sliver matches: there is no inconsistency.
    #[error("the recovered sliver matches the metadata; the blob is not shown inconsistent")]
    SliverNotInconsistent,
    /// Verification failed for another reason than a hash mismatch.
    #[error("the recovered sliver is malformed: {0}")]
    Verification(SliverVerificationError),
}

impl<T: EncodingAxis> InconsistencyProof<T> {
    /// Checks the proof; `Ok` means the blob is proven inconsistent.
    pub fn verify(
        &self,
        config: &EncodingConfig,
        metadata: &VerifiedBlobMetadataWithId,
    ) -> Result<(), InconsistencyError> {
        let expected = usize::from(config.n_source_symbols(T::AXIS.orthogonal()));
        if self.recovery_symbols.len() != expected {
            return Err(InconsistencyError::IncorrectSymbolCount {
                expected,
                got: self.recovery_symbols.len(),
            });
        }
        for (position, symbol) in self.recovery_symbols.iter().enumerate() {
            symbol
                .verify(config, metadata, self.target_sliver_index)
                .map_err(|source| InconsistencyError::InvalidSymbol { position, source })?;
        }
        let symbol_size = metadata
            .symbol_size(config)
            .map_err(|e| InconsistencyError::RecoveryFailure(e.into()))?;
        let symbols: Vec<_> = self
            .recovery_symbols
            .iter()
            .map(|s| s.symbol.clone())
            .collect();
        let sliver = SliverData::<T>::recover_from_symbols(
            config,
            symbol_size,
            self.target_sliver_index,
            &symbols,
        )
        .map_err(InconsistencyError::RecoveryFailure)?;
        match sliver.verify(config, metadata) {
            Ok(()) => Err(InconsistencyError::SliverNotInconsistent),
            Err(SliverVerificationError::HashMismatch { .. }) => Ok(()),
            Err(other) => Err(InconsistencyError::Verification(other)),
        }
    }
}

impl AnyInconsistencyProof {
    /// Checks whichever proof this is.
    pub fn verify(
        &self,
        config: &EncodingConfig,
        metadata: &VerifiedBlobMetadataWithId,
    ) -> Result<(), InconsistencyError> {
        match self {
            AnyInconsistencyProof::Primary(p) => p.verify(config, metadata),
            AnyInconsistencyProof::Secondary(p) => p.verify(config, metadata),
        }
    }
}

/// The outcome of recovering a sliver from untrusted peers.
#[derive(Debug, Clone)]
pub enum Recovered<T: EncodingAxis> {
    /// The sliver, verified against the metadata.
    Sliver(SliverData<T>),
    /// The verified symbols decode to a sliver that does not match: the
    /// blob is inconsistent, and here is the proof.
    Inconsistent(InconsistencyProof<T>),
}

/// Recovers sliver `target_index` of axis `T` from recovery symbols of
/// unknown quality: invalid symbols are dropped, the first `k` valid ones
/// with distinct sources are decoded, and the result is verified.
pub fn recover_verified<T: EncodingAxis>(
    config: &EncodingConfig,
    metadata: &VerifiedBlobMetadataWithId,
    target_index: u16,
    symbols: Vec<RecoverySymbol<T>>,
) -> Result<Recovered<T>, RecoveryError> {
    config.check_index(target_index)?;
    let k = usize::from(config.n_source_symbols(T::AXIS.orthogonal()));
    let mut seen = vec![false; config.n()];
    let mut valid: Vec<RecoverySymbol<T>> = Vec::with_capacity(k);
    for symbol in symbols {
        if valid.len() == k {
            break;
        }
        let idx = usize::from(symbol.symbol.index);
        if idx >= config.n() || seen[idx] {
            continue;
        }
        if symbol.verify(config, metadata, target_index).is_ok() {
            seen[idx] = true;
            valid.push(symbol);
        }
    }
    if valid.len() < k {
        return Err(RecoveryError::NotEnoughSymbols {
            needed: k,
            got: valid.len(),
        });
    }
    let symbol_size = metadata.symbol_size(config)?;
    let decoding: Vec<_> = valid.iter().map(|s| s.symbol.clone()).collect();
    let sliver =
        SliverData::<T>::recover_from_symbols(config, symbol_size, target_index, &decoding)?;
    match sliver.verify(config, metadata) {
        Ok(()) => Ok(Recovered::Sliver(sliver)),
        Err(SliverVerificationError::HashMismatch { .. }) => {
            Ok(Recovered::Inconsistent(InconsistencyProof {
                target_sliver_index: target_index,
                recovery_symbols: valid,
            }))
        }
        Err(SliverVerificationError::Encoding(e)) => Err(e.into()),
        Err(other) => Err(RecoveryError::Encoding(
            crate::encoding::EncodingError::ReedSolomon(other.to_string()),
        )),
    }
}
