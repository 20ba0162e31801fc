//! The ledger's validator identity: the BLS12-381 (min-sig) key that signs
//! every checkpoint summary, as a Sui validator committee does.
//!
//! Why: followers (storage nodes, the indexer) must not have to trust the
//! RPC endpoint they read from. With a signature over each summary, and the
//! summary's content digest over the transactions, effects and events, a
//! follower that knows the committee can check that what it was served is
//! what the validator sealed (`floe_chain::verify`).
//!
//! The key lives in `validator.key` in the data directory (32 bytes,
//! hex, mode 0600, created exclusively and fsynced on the first start), so
//! the committee stays the same across restarts. The committee is this one
//! member with all the voting power (Sui's total of 10,000).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use sui_crypto::bls12381::Bls12381PrivateKey;
use sui_sdk_types::{
    Bitmap, CheckpointSummary, ValidatorAggregatedSignature, ValidatorCommittee,
    ValidatorCommitteeMember,
};

use crate::error::LedgerError;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "validator.key";
/// Sui's total voting power; the single validator holds all of it.
pub const TOTAL_STAKE: u64 = 10_000;

/// The validator key and the committee it forms.
pub struct Validator {
    key: Bls12381PrivateKey,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("public_key", &self.key.public_key())
            .finish_non_exhaustive()
    }
}

fn key_error(path: &Path, what: impl std::fmt::Display) -> LedgerError {
    LedgerError::Genesis(format!("validator key {}: {what}", path.display()))
}

impl Validator {
    /// Loads `data_dir/validator.key`, creating it when absent.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, LedgerError> {
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(&path),
            Err(e) => Err(key_error(&path, e)),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Self, LedgerError> {
        let bytes: [u8; 32] = hex::decode(text.trim())
            .map_err(|e| key_error(path, format!("not hex: {e}")))?
            .try_into()
            .map_err(|_| key_error(path, "not 32 bytes"))?;
        let key = Bls12381PrivateKey::new(bytes).map_err(|e| key_error(path, e))?;
        Ok(Self { key })
    }

    fn create(path: &Path) -> Result<Self, LedgerError> {
        let ikm: [u8; 32] = rand::random();
        let secret = blst::min_sig::SecretKey::key_gen(&ikm, &[])
            .map_err(|e| key_error(path, format!("key generation failed: {e:?}")))?;
        let bytes = secret.to_bytes();
        let key = Bls12381PrivateKey::new(bytes).map_err(|e| key_error(path, e))?;
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| key_error(path, e))?;
        file.write_all(hex::encode(bytes).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| key_error(path, e))?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| key_error(path, e))?;
        }
        Ok(Self { key })
    }

    /// The committee of `epoch`: this validator with all the stake.
    pub fn committee(&self, epoch: u64) -> ValidatorCommittee {
        ValidatorCommittee {
            epoch,
            members: vec![ValidatorCommitteeMember {
                public_key: self.key.public_key(),
                stake: TOTAL_STAKE,
            }],
        }
    }

    /// The committee's certificate on `summary` (BLS signatures are
    /// deterministic, so signing again when serving gives the same bytes).
    pub fn certify(&self, summary: &CheckpointSummary) -> ValidatorAggregatedSignature {
        let signature = self.key.sign_checkpoint_summary(summary);
        let mut bitmap = Bitmap::new();
        bitmap.insert(0);
        ValidatorAggregatedSignature {
            epoch: summary.epoch,
            signature: signature.signature,
            bitmap,
        }
    }
}

#[cfg(test)]
mod tests {
    use sui_crypto::bls12381::ValidatorCommitteeSignatureVerifier;

    use super::*;

    #[test]
    fn the_key_persists_and_certificates_verify_against_its_committee() {
        let dir = tempfile::tempdir().unwrap();
        let first = Validator::load_or_create(dir.path()).unwrap();
        let again = Validator::load_or_create(dir.path()).unwrap();
        assert_eq!(first.key.public_key(), again.key.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let summary = CheckpointSummary {
            epoch: 0,
            sequence_number: 7,
            network_total_transactions: 9,
            content_digest: sui_sdk_types::Digest::new([3; 32]),
            previous_digest: None,
            epoch_rolling_gas_cost_summary: Default::default(),
            timestamp_ms: 1,
            checkpoint_commitments: vec![],
            end_of_epoch_data: None,
            version_specific_data: vec![],
        };
        let certificate = first.certify(&summary);
        let verifier = ValidatorCommitteeSignatureVerifier::new(again.committee(0)).unwrap();
        verifier
            .verify_checkpoint_summary(&summary, &certificate)
            .unwrap();
        // Another summary, another key, or another epoch's committee fails.
        let mut other = summary.clone();
        other.sequence_number = 8;
        assert!(
            verifier
                .verify_checkpoint_summary(&other, &certificate)
                .is_err()
        );
        let stranger = Validator::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        let verifier = ValidatorCommitteeSignatureVerifier::new(stranger.committee(0)).unwrap();
        assert!(
            verifier
                .verify_checkpoint_summary(&summary, &certificate)
                .is_err()
        );
        // A broken key file is an error, not a new key.
        std::fs::write(dir.path().join(KEY_FILE), "zz").unwrap();
        assert!(Validator::load_or_create(dir.path()).is_err());
    }
}
