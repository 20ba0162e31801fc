//! Property tests of RS2: decoding from any sufficient subset, rejection of
//! corrupted data, recovery of lost slivers, and inconsistency proofs.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use floe_core::encoding::decoder::ConsistencyCheck;
use floe_core::encoding::symbols::RecoverySymbol;
use floe_core::encoding::{
    EncodingAxis, PrimarySliver, Secondary, SecondarySliver, SliverData, SliverVerificationError,
    decode_primary, decode_secondary,
};
use floe_core::encoding::{PairEncoder, PairWork};
use floe_core::inconsistency::{InconsistencyError, Recovered, recover_verified};
use floe_core::metadata::{BlobMetadata, UnverifiedBlobMetadataWithId};
use floe_core::{EncodedBlob, EncodingConfig, compute_metadata, encode_blob};
use proptest::prelude::*;
use proptest::sample::subsequence;

fn blob_and_n() -> impl Strategy<Value = (Vec<u8>, u16)> {
    (prop::collection::vec(any::<u8>(), 0..6000), 4u16..=40)
}

fn encode(data: &[u8], n: u16) -> (EncodingConfig, EncodedBlob) {
    let config = EncodingConfig::new(n).unwrap();
    let encoded = encode_blob(&config, data).unwrap();
    (config, encoded)
}

/// Symbols for target `t` of axis `T`, cut from the given orthogonal slivers.
fn symbols_for<S: EncodingAxis>(
    config: &EncodingConfig,
    sources: &[&SliverData<S>],
    target: u16,
) -> Vec<RecoverySymbol<S::Orthogonal>> {
    sources
        .iter()
        .map(|s| s.recovery_symbols(config, &[target]).unwrap().remove(0))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Larger committees, fewer cases: every sliver count path of the batched
    /// coder (many codewords per call) is exercised.
    #[test]
    fn large_committees_decode_from_repair_slivers(
        data in prop::collection::vec(any::<u8>(), 0..40_000),
        n in 100u16..=400,
    ) {
        let (config, encoded) = encode(&data, n);
        let k_p = usize::from(config.n_primary_source_symbols());
        let k_s = usize::from(config.n_secondary_source_symbols());
        let nn = usize::from(n);
        let primary: Vec<PrimarySliver> = encoded.primary[nn - k_p..].to_vec();
        let secondary: Vec<SecondarySliver> = encoded.secondary[nn - k_s..].to_vec();
        prop_assert_eq!(&decode_primary(&config, &encoded.metadata, &primary, ConsistencyCheck::Default).unwrap(), &data);
        prop_assert_eq!(&decode_secondary(&config, &encoded.metadata, &secondary, ConsistencyCheck::Default).unwrap(), &data);
        let t = (nn / 2) as u16;
        let sources: Vec<&PrimarySliver> = encoded.primary.iter().collect();
        let symbols = symbols_for(&config, &sources, t);
        match recover_verified::<Secondary>(&config, &encoded.metadata, t, symbols).unwrap() {
            Recovered::Sliver(s) => prop_assert_eq!(&s, &encoded.secondary[usize::from(t)]),
            Recovered::Inconsistent(_) => prop_assert!(false, "consistent blob"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn decodes_from_any_primary_or_secondary_subset(
        (data, n) in blob_and_n(),
        seed in any::<u64>(),
    ) {
        let (config, encoded) = encode(&data, n);
        let k_p = usize::from(config.n_primary_source_symbols());
        let k_s = usize::from(config.n_secondary_source_symbols());
        let mut order: Vec<usize> = (0..usize::from(n)).collect();
        // A seeded shuffle, so any subset (systematic, repair or mixed) occurs.
        let mut x = seed | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let primary: Vec<PrimarySliver> =
            order[..k_p].iter().map(|&i| encoded.primary[i].clone()).collect();
        let secondary: Vec<SecondarySliver> =
            order[..k_s].iter().map(|&i| encoded.secondary[i].clone()).collect();
        for check in [ConsistencyCheck::Skip, ConsistencyCheck::Default, ConsistencyCheck::Strict] {
            prop_assert_eq!(&decode_primary(&config, &encoded.metadata, &primary, check).unwrap(), &data);
            prop_assert_eq!(&decode_secondary(&config, &encoded.metadata, &secondary, check).unwrap(), &data);
        }
        // One sliver short is not enough.
        prop_assert!(decode_primary(&config, &encoded.metadata, &primary[..k_p - 1], ConsistencyCheck::Skip).is_err());
    }

    #[test]
    fn every_sliver_verifies_and_a_corrupted_one_does_not(
        (data, n) in blob_and_n(),
        which in any::<prop::sample::Index>(),
        byte in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let (config, encoded) = encode(&data, n);
        for s in &encoded.primary { s.verify(&config, &encoded.metadata).unwrap(); }
        for s in &encoded.secondary { s.verify(&config, &encoded.metadata).unwrap(); }
        let i = which.index(usize::from(n));
        let mut bad = encoded.primary[i].data().to_vec();
        let b = byte.index(bad.len());
        bad[b] ^= flip;
        let bad = PrimarySliver::new(bad, encoded.primary[i].symbol_size(), i as u16).unwrap();
        prop_assert!(
            matches!(
                bad.verify(&config, &encoded.metadata),
                Err(SliverVerificationError::HashMismatch { .. })
            ),
            "corrupted sliver must fail verification"
        );
        // A correct sliver presented under another index is rejected too.
        let moved = PrimarySliver::new(
            encoded.primary[i].data().to_vec(),
            encoded.primary[i].symbol_size(),
            ((i + 1) % usize::from(n)) as u16,
        ).unwrap();
        if moved.data() != encoded.primary[(i + 1) % usize::from(n)].data() {
            prop_assert!(moved.verify(&config, &encoded.metadata).is_err());
        }
        // Truncated slivers are a shape error, not a panic.
        let short = SecondarySliver::new(vec![0; 2], 2, 0).unwrap();
        prop_assert!(short.verify(&config, &encoded.metadata).is_err());
    }

    #[test]
    fn any_single_lost_sliver_is_recovered_from_symbols(
        (data, n) in blob_and_n(),
        target in any::<prop::sample::Index>(),
        secondary_target in any::<bool>(),
        corrupt in any::<prop::sample::Index>(),
    ) {
        let (config, encoded) = encode(&data, n);
        let t = target.index(usize::from(n)) as u16;
        if secondary_target {
            let sources: Vec<&PrimarySliver> = encoded.primary.iter().collect();
            let mut symbols = symbols_for(&config, &sources, t);
            for s in &symbols {
                s.verify(&config, &encoded.metadata, t).unwrap();
            }
            // A corrupted symbol is rejected and skipped during recovery.
            let c = corrupt.index(symbols.len());
            symbols[c].symbol.data[0] ^= 1;
            prop_assert!(symbols[c].verify(&config, &encoded.metadata, t).is_err());
            match recover_verified::<Secondary>(&config, &encoded.metadata, t, symbols).unwrap() {
                Recovered::Sliver(s) => prop_assert_eq!(&s, &encoded.secondary[usize::from(t)]),
                Recovered::Inconsistent(_) => prop_assert!(false, "consistent blob"),
            }
        } else {
            let sources: Vec<&SecondarySliver> = encoded.secondary.iter().collect();
            let mut symbols = symbols_for(&config, &sources, t);
            let c = corrupt.index(symbols.len());
            symbols[c].proof.path.reverse();
            symbols[c].symbol.data.push(0);
            prop_assert!(symbols[c].verify(&config, &encoded.metadata, t).is_err());
            match recover_verified(&config, &encoded.metadata, t, symbols).unwrap() {
                Recovered::Sliver(s) => prop_assert_eq!(&s, &encoded.primary[usize::from(t)]),
                Recovered::Inconsistent(_) => prop_assert!(false, "consistent blob"),
            }
        }
    }

    #[test]
    fn one_inconsistent_sliver_yields_a_verifiable_proof(
        (data, n) in blob_and_n(),
        bad in any::<prop::sample::Index>(),
        target in any::<prop::sample::Index>(),
    ) {
        let (config, encoded) = encode(&data, n);
        let nn = usize::from(n);
        let k_p = usize::from(config.n_primary_source_symbols());
        // The writer replaces primary sliver x by garbage and commits to it.
        let x = bad.index(nn);
        let mut garbage = encoded.primary[x].data().to_vec();
        for (i, b) in garbage.iter_mut().enumerate() { *b = b.wrapping_add(1 + (i % 7) as u8); }
        let garbage = PrimarySliver::new(garbage, encoded.primary[x].symbol_size(), x as u16).unwrap();
        let BlobMetadata::V1(mut v1) = encoded.metadata.metadata().clone();
        v1.hashes[x].primary_hash = garbage.hash(&config).unwrap();
        let metadata = BlobMetadata::V1(v1);
        let forged = UnverifiedBlobMetadataWithId { blob_id: metadata.compute_blob_id(), metadata }
            .verify(&config)
            .unwrap();
        // A node recovering secondary sliver t with symbols from k_p primary
        // slivers that include x gets a sliver that does not match.
        let t = target.index(nn) as u16;
        let mut sources: Vec<&PrimarySliver> = vec![&garbage];
        sources.extend(encoded.primary.iter().filter(|s| usize::from(s.index) != x).take(k_p - 1));
        let symbols = symbols_for(&config, &sources, t);
        for s in &symbols { s.verify(&config, &forged, t).unwrap(); }
        let recovered = recover_verified::<Secondary>(&config, &forged, t, symbols).unwrap();
        let Recovered::Inconsistent(proof) = recovered else {
            // Only possible if the garbage happens to agree at column t.
            prop_assume!(false);
            unreachable!()
        };
        proof.verify(&config, &forged).unwrap();
        let bytes = bcs::to_bytes(&proof).unwrap();
        let parsed: floe_core::inconsistency::InconsistencyProof<Secondary> = bcs::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&parsed, &proof);
        // Against the honest metadata the same symbols are not valid evidence.
        prop_assert!(proof.verify(&config, &encoded.metadata).is_err());
        // A proof with a symbol missing is rejected for its count.
        let mut short = proof.clone();
        short.recovery_symbols.pop();
        prop_assert!(
            matches!(
                short.verify(&config, &forged),
                Err(InconsistencyError::IncorrectSymbolCount { .. })
            ),
            "short proof rejected"
        );
        // Honest symbols for a consistent sliver prove nothing.
        let honest_sources: Vec<&PrimarySliver> =
            encoded.primary.iter().filter(|s| usize::from(s.index) != x).take(k_p).collect();
        if honest_sources.len() == k_p {
            let honest = floe_core::inconsistency::InconsistencyProof {
                target_sliver_index: t,
                recovery_symbols: symbols_for(&config, &honest_sources, t),
            };
            prop_assert!(honest.verify(&config, &encoded.metadata).is_err());
        }
    }

    #[test]
    fn subsets_chosen_by_proptest_decode(
        data in prop::collection::vec(any::<u8>(), 0..3000),
        picks in subsequence((0..10usize).collect::<Vec<_>>(), 4),
    ) {
        let (config, encoded) = encode(&data, 10);
        let primary: Vec<PrimarySliver> = picks.iter().map(|&i| encoded.primary[i].clone()).collect();
        prop_assert_eq!(decode_primary(&config, &encoded.metadata, &primary, ConsistencyCheck::Default).unwrap(), data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A store produces each node's pairs on demand (`PairEncoder`), in
    /// groups of any shape; every pair must be the full encoder's, and the
    /// metadata computed without slivers the full encoder's metadata.
    #[test]
    fn pairs_on_demand_equal_the_full_encoders(
        data in prop::collection::vec(any::<u8>(), 0..20_000),
        n in 4u16..=120,
        seed in any::<u64>(),
        groups in 1usize..=5,
    ) {
        let (config, encoded) = encode(&data, n);
        let metadata = encoded.metadata.clone();
        let (pairs, _) = encoded.into_pairs();
        prop_assert_eq!(&compute_metadata(&config, &data).unwrap(), &metadata);
        let encoder = PairEncoder::new(&config, data.as_slice()).unwrap();
        // A permutation of all pairs (from the seed), cut into `groups` groups.
        let mut order: Vec<u16> = (0..n).collect();
        let mut state = seed | 1;
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let size = order.len().div_ceil(groups);
        for group in order.chunks(size) {
            let got = encoder.encode_pairs(group).unwrap();
            prop_assert_eq!(got.len(), group.len());
            for (pair, got) in group.iter().zip(&got) {
                prop_assert_eq!(got, &pairs[usize::from(*pair)]);
            }
        }

        // The spilling path: the metadata pass hands over every repair
        // primary sliver in pieces (as a store writes them to a file) and
        // keeps the row-repair block; pairs are then copies, with the
        // spilled rows supplied back (some left out: computed instead).
        let k_p = config.n_primary_source_symbols();
        let spilling = PairEncoder::new(&config, data.as_slice()).unwrap();
        let spilled: Mutex<BTreeMap<u16, Vec<u8>>> = Mutex::new(
            (k_p..n).map(|i| (i, vec![0u8; spilling.primary_bytes()])).collect(),
        );
        let written = AtomicUsize::new(0);
        let sink = |row: u16, offset: usize, bytes: &[u8]| {
            let mut rows = spilled.lock().unwrap();
            let row = rows.get_mut(&row).expect("a repair row");
            row[offset..offset + bytes.len()].copy_from_slice(bytes);
            written.fetch_add(bytes.len(), Ordering::SeqCst);
        };
        prop_assert_eq!(&spilling.metadata(Some(&sink)).unwrap(), &metadata);
        let spilled = spilled.into_inner().unwrap();
        prop_assert_eq!(written.into_inner(), spilled.len() * spilling.primary_bytes());
        for (i, row) in &spilled {
            prop_assert_eq!(row.as_slice(), pairs[usize::from(*i)].primary.data());
        }
        prop_assert!((0..n).all(|p| spilling.work_of(p) != PairWork::RowPass));
        for group in order.chunks(size) {
            let known: BTreeMap<u16, Vec<u8>> = group
                .iter()
                .filter(|&&p| (u64::from(p) + seed) % 3 != 0)
                .filter_map(|p| spilled.get(p).map(|row| (*p, row.clone())))
                .collect();
            let got = spilling.encode_pairs_with(group, known).unwrap();
            prop_assert_eq!(got.len(), group.len());
            for (pair, got) in group.iter().zip(&got) {
                prop_assert_eq!(got, &pairs[usize::from(*pair)]);
            }
        }
    }
}
