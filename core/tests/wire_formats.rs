//! BCS layouts of the encoding types, byte for byte as Walrus sends them.

use floe_core::encoding::symbols::{
    DecodingSymbol, EitherDecodingSymbol, GeneralRecoverySymbol, SymbolId,
};
use floe_core::encoding::{
    EncodingType, Primary, PrimarySliver, PrimarySliverView, SecondarySliver, Sliver,
};
use floe_core::merkle::{MerkleProof, Node};
use floe_core::metadata::{
    BlobMetadata, BlobMetadataV1, SliverPairMetadata, UnverifiedBlobMetadataWithId,
};
use floe_core::{BlobId, EncodingConfig, encode_blob};
use proptest::prelude::*;

#[test]
fn sliver_data_layout() {
    let sliver = PrimarySliver::new(vec![1, 2, 3, 4], 2, 5).unwrap();
    assert_eq!(
        bcs::to_bytes(&sliver).unwrap(),
        [0x04, 1, 2, 3, 4, 0x02, 0x00, 0x05, 0x00]
    );
    let either = Sliver::Secondary(SecondarySliver::new(vec![9, 9], 2, 1).unwrap());
    assert_eq!(bcs::to_bytes(&either).unwrap(), [1, 2, 9, 9, 2, 0, 1, 0]);
}

#[test]
fn metadata_layout() {
    let a = [0xaa; 32];
    let b = [0xbb; 32];
    let m = UnverifiedBlobMetadataWithId {
        blob_id: BlobId([7; 32]),
        metadata: BlobMetadata::V1(BlobMetadataV1 {
            encoding_type: EncodingType::Rs2,
            unencoded_length: 0x0102,
            hashes: vec![SliverPairMetadata {
                primary_hash: Node::Digest(a),
                secondary_hash: Node::Digest(b),
            }],
        }),
    };
    let bytes = bcs::to_bytes(&m).unwrap();
    let mut expected = vec![7u8; 32];
    expected.extend([0x00, 0x01, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0x01, 0x01]);
    expected.extend(a);
    expected.push(0x01);
    expected.extend(b);
    assert_eq!(bytes, expected);
    assert_eq!(UnverifiedBlobMetadataWithId::from_bcs(&bytes).unwrap(), m);

    // RaptorQ (0) and unknown encodings are refused when parsing.
    let mut raptorq = bytes.clone();
    raptorq[33] = 0;
    assert!(UnverifiedBlobMetadataWithId::from_bcs(&raptorq).is_err());
    raptorq[33] = 2;
    assert!(UnverifiedBlobMetadataWithId::from_bcs(&raptorq).is_err());
}

#[test]
fn metadata_size_for_1000_shards() {
    let config = EncodingConfig::new(1000).unwrap();
    let encoded = encode_blob(&config, b"hello").unwrap();
    let bytes = encoded.metadata.to_bcs();
    // 32 id + tag + type + u64 + uleb(1000)=2 bytes + 1000 * 66.
    assert_eq!(bytes.len(), 42 + 2 + 66 * 1000);
    assert_eq!(&bytes[42..44], &[0xe8, 0x07]);
    let parsed = UnverifiedBlobMetadataWithId::from_bcs(&bytes)
        .unwrap()
        .verify(&config)
        .unwrap();
    assert_eq!(parsed, encoded.metadata);
}

#[test]
fn recovery_symbol_and_proof_layout() {
    let a = [0x11; 32];
    let proof = MerkleProof {
        path: vec![Node::Digest(a), Node::Empty],
    };
    let mut expected = vec![2, 1];
    expected.extend(a);
    expected.push(0);
    assert_eq!(bcs::to_bytes(&proof).unwrap(), expected);

    let general = GeneralRecoverySymbol {
        symbol: EitherDecodingSymbol::Primary(DecodingSymbol::<Primary>::new(7, vec![0xaa, 0xbb])),
        target_index: 3,
        proof: MerkleProof {
            path: vec![Node::Digest(a)],
        },
    };
    let mut expected = vec![0, 7, 0, 2, 0xaa, 0xbb, 3, 0, 1, 1];
    expected.extend(a);
    assert_eq!(bcs::to_bytes(&general).unwrap(), expected);
    assert_eq!(
        general.id(),
        SymbolId {
            primary: 3,
            secondary: 7
        }
    );
    assert_eq!(general.id().to_string(), "3-7");
    assert_eq!("3-7".parse::<SymbolId>().unwrap(), general.id());
    assert!("3_7".parse::<SymbolId>().is_err());
    assert_eq!(bcs::to_bytes(&general.id()).unwrap(), [3, 0, 7, 0]);
}

proptest! {
    #[test]
    fn bcs_round_trips(data in prop::collection::vec(any::<u8>(), 0..2000), n in 4u16..30) {
        let config = EncodingConfig::new(n).unwrap();
        let encoded = encode_blob(&config, &data).unwrap();
        let md = UnverifiedBlobMetadataWithId::from_bcs(&encoded.metadata.to_bcs()).unwrap();
        prop_assert_eq!(md.verify(&config).unwrap(), encoded.metadata.clone());
        for s in &encoded.primary {
            prop_assert_eq!(&PrimarySliver::from_bcs(&s.to_bcs()).unwrap(), s);
        }
        let symbols = encoded.secondary[0].recovery_symbols(&config, &[0, n - 1]).unwrap();
        let bytes = bcs::to_bytes(&symbols).unwrap();
        let back: Vec<floe_core::encoding::symbols::PrimaryRecoverySymbol> = bcs::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back, symbols);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parsers(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = UnverifiedBlobMetadataWithId::from_bcs(&bytes);
        let _ = PrimarySliver::from_bcs(&bytes);
        let _ = bcs::from_bytes::<GeneralRecoverySymbol>(&bytes);
        let _ = bcs::from_bytes::<floe_core::inconsistency::AnyInconsistencyProof>(&bytes);
    }
}

#[test]
fn malformed_symbols_are_rejected_when_parsing() {
    // Zero symbol size.
    assert!(PrimarySliver::from_bcs(&[2, 1, 2, 0, 0, 0, 0]).is_err());
    // Three bytes are not whole two-byte symbols.
    assert!(PrimarySliver::from_bcs(&[3, 1, 2, 3, 2, 0, 0, 0]).is_err());
}

/// BCS of a sliver written by hand (ULEB128 length, symbols, symbol size,
/// index), so the test does not go through the code it checks.
fn hand_written_sliver(data: &[u8], symbol_size: u16, index: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut len = data.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(data);
    out.extend_from_slice(&symbol_size.to_le_bytes());
    out.extend_from_slice(&index.to_le_bytes());
    out
}

fn same_answer(bytes: Vec<u8>) -> Result<(), proptest::test_runner::TestCaseError> {
    let borrowed = PrimarySliver::from_bcs(&bytes);
    let owned = PrimarySliver::from_bcs_vec(bytes.clone());
    match (&borrowed, &owned) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => prop_assert!(
            false,
            "from_bcs {borrowed:?} but from_bcs_vec {owned:?} for {bytes:?}"
        ),
    }
    // The view parsed where the bytes lie: the same symbols, size and index.
    let view = PrimarySliverView::from_bcs(&bytes);
    match (&borrowed, &view) {
        (Ok(a), Ok(v)) => {
            prop_assert_eq!(a.data(), v.data());
            prop_assert_eq!(a.symbol_size(), v.symbol_size());
            prop_assert_eq!(a.index(), v.index());
        }
        (Err(_), Err(_)) => {}
        _ => prop_assert!(
            false,
            "from_bcs {borrowed:?} but SliverView::from_bcs {view:?} for {bytes:?}"
        ),
    }
    Ok(())
}

proptest! {
    /// Taking the buffer parses exactly what `from_bcs` parses, and
    /// refuses exactly what it refuses: well-formed slivers, ones cut
    /// short or extended, flipped bytes, any symbol size.
    #[test]
    fn sliver_parsed_from_its_own_buffer_matches_from_bcs(
        data in proptest::collection::vec(any::<u8>(), 0..700),
        symbol_size in 0u16..24,
        index in any::<u16>(),
        cut in 0usize..720,
        flip in proptest::option::of((0usize..720, 1u8..=255)),
        extra in proptest::collection::vec(any::<u8>(), 0..3),
    ) {
        let bytes = hand_written_sliver(&data, symbol_size, index);
        same_answer(bytes.clone())?;
        same_answer(bytes[..cut.min(bytes.len())].to_vec())?;
        let mut longer = bytes.clone();
        longer.extend_from_slice(&extra);
        same_answer(longer)?;
        if let Some((at, mask)) = flip {
            let mut flipped = bytes;
            let at = at % flipped.len();
            flipped[at] ^= mask;
            same_answer(flipped)?;
        }
    }
}

#[test]
fn sliver_lengths_that_are_not_minimal_are_refused_by_both_parsers() {
    // Zero written in two bytes, then an empty sliver with symbol size 1.
    let bytes = vec![0x80, 0x00, 1, 0, 0, 0];
    assert!(PrimarySliver::from_bcs(&bytes).is_err());
    assert!(PrimarySliver::from_bcs_vec(bytes).is_err());
    // The same, minimal.
    let ok = vec![0x00, 1, 0, 0, 0];
    assert_eq!(
        PrimarySliver::from_bcs_vec(ok.clone()).unwrap(),
        PrimarySliver::from_bcs(&ok).unwrap()
    );
}
