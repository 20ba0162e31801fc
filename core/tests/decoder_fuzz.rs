//! Every decoder of the crate against hostile bytes.
//!
//! Valid encodings (metadata, slivers, recovery symbols, protocol messages,
//! signed messages, keys, signatures, blob ids) are mutated: bits flipped,
//! bytes overwritten, cut short, extended, spliced, lengths inflated; and
//! arbitrary bytes are fed too. A decoder may refuse; it may never panic,
//! never allocate by a length it was told (a length prefix of 2^60 must
//! fail, not reserve), and what it accepts must re-encode to exactly the
//! bytes it was given (BCS is canonical, so no two byte strings mean one
//! value). Verification must reject every mutant that decodes: a changed
//! byte of metadata, a sliver or a signed message never verifies against
//! the original blob id or key.
//!
//! Cases per property: `FLOE_FUZZ_CASES` (default 256, what CI runs);
//! `scripts/fuzz/run` runs long campaigns.

use std::sync::OnceLock;

use floe_core::bls::{BlsPublicKey, BlsSecretKey, BlsSignature};
use floe_core::encoding::symbols::{
    GeneralRecoverySymbol, IntoGeneral, PrimaryRecoverySymbol, SecondaryRecoverySymbol,
};
use floe_core::encoding::{PrimarySliver, SecondarySliver};
use floe_core::messages::certificate::SignedMessage;
use floe_core::messages::proof_of_possession::ProofOfPossessionBody;
use floe_core::messages::storage_confirmation::BlobPersistenceType;
use floe_core::messages::{ProtocolMessage, StorageConfirmationBody};
use floe_core::{BlobId, EncodingConfig, UnverifiedBlobMetadataWithId, VerifiedBlobMetadataWithId};
use floe_testkit::fuzz::{Mutation, MutationMix, config, mutate};
use proptest::prelude::*;

/// This campaign's mix: cuts (weight 2), appended bytes (1), splices of up
/// to 15 bytes and removals of up to 7.
const MIX: MutationMix = MutationMix {
    truncate: 2,
    extend: 1,
    splice: 1,
    splice_max: 16,
    remove_max: 8,
};

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    floe_testkit::fuzz::mutations(MIX)
}

/// The valid encodings the mutants start from, built once.
struct Seeds {
    config: EncodingConfig,
    metadata: VerifiedBlobMetadataWithId,
    metadata_bcs: Vec<u8>,
    primary: PrimarySliver,
    primary_bcs: Vec<u8>,
    secondary: SecondarySliver,
    secondary_bcs: Vec<u8>,
    primary_symbols_bcs: Vec<u8>,
    general_symbol_bcs: Vec<u8>,
    key: BlsSecretKey,
    confirmation: Vec<u8>,
    signed_confirmation: Vec<u8>,
    pop: Vec<u8>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let config = EncodingConfig::new(10).expect("10 shards");
        let data: Vec<u8> = (0..700u32).map(|i| (i * 31 % 251) as u8).collect();
        let encoded = floe_core::encode_blob(&config, &data).expect("encodes");
        let metadata = encoded.metadata.clone();
        let primary = encoded.primary[3].clone();
        let secondary = encoded.secondary[5].clone();
        let symbols: Vec<PrimaryRecoverySymbol> = encoded.secondary[0]
            .recovery_symbols(&config, &[1, 2])
            .expect("symbols");
        let general = symbols_secondary(&config, &encoded).into_general(4);
        let key = BlsSecretKey::from_seed(&[7; 32]);
        let blob_id = *metadata.blob_id();
        let message = ProtocolMessage::new(
            3,
            StorageConfirmationBody {
                blob_id,
                blob_type: BlobPersistenceType::Permanent,
            },
        );
        let signed = SignedMessage::sign(&key, &message);
        let pop = ProtocolMessage::new(
            3,
            ProofOfPossessionBody {
                sui_address: floe_core::move_types::framework::ObjectId([9; 32]),
                bls_public_key: key.public_key(),
            },
        );
        Seeds {
            metadata_bcs: metadata.to_bcs(),
            primary_bcs: primary.to_bcs(),
            secondary_bcs: secondary.to_bcs(),
            primary_symbols_bcs: bcs::to_bytes(&symbols).expect("bcs"),
            general_symbol_bcs: bcs::to_bytes(&general).expect("bcs"),
            confirmation: message.to_bytes(),
            signed_confirmation: bcs::to_bytes(&signed).expect("bcs"),
            pop: pop.to_bytes(),
            config,
            metadata,
            primary,
            secondary,
            key,
        }
    })
}

fn symbols_secondary(
    config: &EncodingConfig,
    encoded: &floe_core::EncodedBlob,
) -> SecondaryRecoverySymbol {
    encoded.primary[2]
        .recovery_symbols(config, &[4])
        .expect("symbols")
        .remove(0)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_metadata_never_verifies(edits in mutations()) {
        let s = seeds();
        let bytes = mutate(&s.metadata_bcs, &edits);
        if let Ok(parsed) = UnverifiedBlobMetadataWithId::from_bcs(&bytes) {
            prop_assert_eq!(bcs::to_bytes(&parsed).unwrap(), bytes.clone(), "not canonical");
            let verified = parsed.verify_for(&s.config, s.metadata.blob_id());
            prop_assert_eq!(verified.is_ok(), bytes == s.metadata_bcs);
        }
    }

    #[test]
    fn mutated_slivers_never_verify(edits in mutations(), secondary in any::<bool>()) {
        let s = seeds();
        if secondary {
            let bytes = mutate(&s.secondary_bcs, &edits);
            if let Ok(sliver) = SecondarySliver::from_bcs(&bytes) {
                prop_assert_eq!(sliver.to_bcs(), bytes.clone(), "not canonical");
                let ok = sliver.verify(&s.config, &s.metadata).is_ok();
                prop_assert_eq!(ok, sliver == s.secondary);
            }
        } else {
            let bytes = mutate(&s.primary_bcs, &edits);
            if let Ok(sliver) = PrimarySliver::from_bcs(&bytes) {
                prop_assert_eq!(sliver.to_bcs(), bytes.clone(), "not canonical");
                let ok = sliver.verify(&s.config, &s.metadata).is_ok();
                prop_assert_eq!(ok, sliver == s.primary);
            }
        }
    }

    #[test]
    fn mutated_recovery_symbols_never_verify(edits in mutations()) {
        let s = seeds();
        let bytes = mutate(&s.primary_symbols_bcs, &edits);
        if let Ok(symbols) = bcs::from_bytes::<Vec<PrimaryRecoverySymbol>>(&bytes) {
            prop_assert_eq!(bcs::to_bytes(&symbols).unwrap(), bytes.clone(), "not canonical");
            if bytes != s.primary_symbols_bcs {
                // Symbols for targets 1 and 2, in that order, were encoded.
                let all_verify = symbols.len() == 2
                    && symbols
                        .iter()
                        .zip([1u16, 2])
                        .all(|(sym, t)| sym.verify(&s.config, &s.metadata, t).is_ok());
                prop_assert!(!all_verify, "a mutant verified");
            }
        }
        let bytes = mutate(&s.general_symbol_bcs, &edits);
        if let Ok(symbol) = bcs::from_bytes::<GeneralRecoverySymbol>(&bytes) {
            prop_assert_eq!(bcs::to_bytes(&symbol).unwrap(), bytes, "not canonical");
        }
    }

    #[test]
    fn mutated_messages_are_refused_or_canonical(edits in mutations()) {
        let s = seeds();
        let bytes = mutate(&s.confirmation, &edits);
        if let Ok(message) = ProtocolMessage::<StorageConfirmationBody>::from_bytes(&bytes) {
            prop_assert_eq!(message.to_bytes(), bytes, "not canonical");
        }
        let bytes = mutate(&s.pop, &edits);
        if let Ok(message) = ProtocolMessage::<ProofOfPossessionBody>::from_bytes(&bytes) {
            prop_assert_eq!(message.to_bytes(), bytes, "not canonical");
        }
    }

    #[test]
    fn mutated_signed_messages_never_verify(edits in mutations()) {
        let s = seeds();
        let bytes = mutate(&s.signed_confirmation, &edits);
        if let Ok(signed) = bcs::from_bytes::<SignedMessage<StorageConfirmationBody>>(&bytes) {
            prop_assert_eq!(bcs::to_bytes(&signed).unwrap(), bytes.clone(), "not canonical");
            let ok = signed.verify(&s.key.public_key()).is_ok();
            prop_assert_eq!(ok, bytes == s.signed_confirmation);
        }
    }

    #[test]
    fn keys_signatures_and_ids_from_arbitrary_bytes(
        edits in mutations(),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        text in ".{0,80}",
    ) {
        let s = seeds();
        let public = s.key.public_key().to_bytes();
        let mutant = mutate(&public, &edits);
        if let Ok(key) = BlsPublicKey::from_bytes(&mutant) {
            prop_assert_eq!(key.to_bytes().to_vec(), mutant.clone());
        }
        let signature = s.key.sign(b"floe").0;
        let mutant_sig = mutate(&signature, &edits);
        if let Ok(sig) = BlsSignature::from_bytes(&mutant_sig) {
            let ok = s.key.public_key().verify(b"floe", &sig).is_ok();
            prop_assert_eq!(ok, mutant_sig == signature);
        }
        let _ = BlsPublicKey::from_bytes(&bytes);
        let _ = BlsSignature::from_bytes(&bytes);
        let _ = BlsSecretKey::from_bytes(&bytes);
        let _ = UnverifiedBlobMetadataWithId::from_bcs(&bytes);
        let _ = PrimarySliver::from_bcs(&bytes);
        let _ = SecondarySliver::from_bcs(&bytes);
        let _ = ProtocolMessage::<StorageConfirmationBody>::from_bytes(&bytes);
        if let Ok(id) = text.parse::<BlobId>() {
            prop_assert_eq!(id.to_string(), text.clone());
        }
        let _ = floe_core::price::parse_wal(&text);
        let _ = text.parse::<floe_core::encoding::symbols::SymbolId>();
    }
}
