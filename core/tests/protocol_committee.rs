//! Committee ordering, signer bitmaps and certificate verification, with
//! property tests for every rejection the contract makes.

use std::sync::OnceLock;

use floe_core::BlobId;
use floe_core::bls::{BlsSecretKey, BlsSignature, aggregate_signatures};
use floe_core::committee::{
    CertificateError, Committee, CommitteeError, CommitteeMember, RequiredWeight,
    bitmap_to_signers, is_quorum, is_validity, signers_to_bitmap,
};
use floe_core::messages::{
    BlobPersistenceType, ConfirmationCertificate, InvalidBlobIdBody, MessageError, ProtocolMessage,
    ProtocolMessageCertificate, StorageConfirmationBody,
};
use floe_core::move_types::{BlsCommittee, BlsCommitteeMember, Element, ObjectId};
use proptest::prelude::*;

const EPOCH: u32 = 3;
const MAX_MEMBERS: usize = 24;

struct Fixture {
    keys: Vec<BlsSecretKey>,
    /// Node ids deliberately not in key order, so sorting matters.
    node_ids: Vec<ObjectId>,
    message: Vec<u8>,
    other_message: Vec<u8>,
    wrong_epoch_message: Vec<u8>,
    /// Per key: signatures over the three messages above.
    sigs: Vec<[BlsSignature; 3]>,
}

fn confirmation(epoch: u32, byte: u8) -> Vec<u8> {
    ProtocolMessage::new(
        epoch,
        StorageConfirmationBody {
            blob_id: BlobId([byte; 32]),
            blob_type: BlobPersistenceType::Permanent,
        },
    )
    .to_bytes()
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keys: Vec<BlsSecretKey> = (0..MAX_MEMBERS)
            .map(|i| BlsSecretKey::from_seed(&[i as u8 + 1; 32]))
            .collect();
        let node_ids = (0..MAX_MEMBERS)
            .map(|i| {
                let mut id = [0u8; 32];
                // Reverse order in the first byte, noise in the last.
                id[0] = (MAX_MEMBERS - i) as u8;
                id[31] = (i * 37 % 251) as u8;
                ObjectId(id)
            })
            .collect();
        let message = confirmation(EPOCH, 1);
        let other_message = confirmation(EPOCH, 2);
        let wrong_epoch_message = confirmation(EPOCH + 1, 1);
        let sigs = keys
            .iter()
            .map(|k| {
                [
                    k.sign(&message),
                    k.sign(&other_message),
                    k.sign(&wrong_epoch_message),
                ]
            })
            .collect();
        Fixture {
            keys,
            node_ids,
            message,
            other_message,
            wrong_epoch_message,
            sigs,
        }
    })
}

/// Committee of the first `weights.len()` fixture nodes, plus for each
/// member index the fixture key index.
fn committee(weights: &[u16]) -> (Committee, Vec<usize>) {
    let f = fixture();
    let members = weights
        .iter()
        .enumerate()
        .map(|(i, &weight)| CommitteeMember {
            node_id: f.node_ids[i],
            public_key: f.keys[i].public_key(),
            weight,
        })
        .collect();
    let committee = Committee::new(EPOCH, members).expect("valid committee");
    let key_of_member = committee
        .members()
        .iter()
        .map(|m| f.node_ids.iter().position(|id| *id == m.node_id).unwrap())
        .collect();
    (committee, key_of_member)
}

/// Aggregate of message `which` signed by the given members.
fn aggregate(key_of_member: &[usize], signers: &[u16], which: usize) -> BlsSignature {
    let f = fixture();
    let sigs: Vec<BlsSignature> = signers
        .iter()
        .map(|&s| f.sigs[key_of_member[usize::from(s)]][which])
        .collect();
    aggregate_signatures(&sigs).expect("valid signatures")
}

fn weight_of(committee: &Committee, signers: &[u16]) -> u32 {
    signers
        .iter()
        .map(|&s| u32::from(committee.members()[usize::from(s)].weight))
        .sum()
}

fn setup() -> impl Strategy<Value = (Vec<u16>, Vec<bool>)> {
    (1..=MAX_MEMBERS).prop_flat_map(|n| {
        (
            proptest::collection::vec(1u16..=5, n),
            proptest::collection::vec(any::<bool>(), n),
        )
    })
}

fn chosen(mask: &[bool]) -> Vec<u16> {
    mask.iter()
        .enumerate()
        .filter(|(_, b)| **b)
        .map(|(i, _)| i as u16)
        .collect()
}

#[test]
fn thresholds() {
    assert!(is_quorum(667, 1000) && !is_quorum(666, 1000));
    assert!(is_validity(334, 1000) && !is_validity(333, 1000));
    assert!(is_quorum(3, 4) && !is_quorum(2, 4));
    assert!(is_validity(2, 4) && !is_validity(1, 4));
    // No overflow at the extremes.
    assert!(is_quorum(u32::MAX, u32::MAX));
    assert!(!is_quorum(0, u32::MAX));
}

#[test]
fn members_sorted_as_move_u256_of_address() {
    let (committee, _) = committee(&[1; MAX_MEMBERS]);
    let as_u256: Vec<alloy_primitives::U256> = committee
        .members()
        .iter()
        .map(|m| alloy_primitives::U256::from_be_bytes(m.node_id.0))
        .collect();
    assert!(as_u256.windows(2).all(|w| w[0] < w[1]));
    // 0x01 00.. 00 sorts after 0x00 ff.. ff: big-endian, not little-endian.
    let f = fixture();
    let mut low = [0xffu8; 32];
    low[0] = 0;
    let mut high = [0u8; 32];
    high[0] = 1;
    let c = Committee::new(
        0,
        vec![
            CommitteeMember {
                node_id: ObjectId(high),
                public_key: f.keys[0].public_key(),
                weight: 1,
            },
            CommitteeMember {
                node_id: ObjectId(low),
                public_key: f.keys[1].public_key(),
                weight: 1,
            },
        ],
    )
    .unwrap();
    assert_eq!(c.members()[0].node_id, ObjectId(low));
    assert_eq!(c.member_index(&ObjectId(high)), Some(1));
}

#[test]
fn committee_construction_errors() {
    let f = fixture();
    let member = |i: usize, weight| CommitteeMember {
        node_id: f.node_ids[i],
        public_key: f.keys[i].public_key(),
        weight,
    };
    assert_eq!(
        Committee::new(0, vec![member(0, 1), member(1, 0)]).unwrap_err(),
        CommitteeError::ZeroWeight(f.node_ids[1])
    );
    assert_eq!(
        Committee::new(0, vec![member(0, 1), member(0, 2)]).unwrap_err(),
        CommitteeError::DuplicateMember(f.node_ids[0])
    );
    assert_eq!(
        Committee::new(0, vec![member(0, u16::MAX), member(1, 1)]).unwrap_err(),
        CommitteeError::TooManyShards(65536)
    );
}

#[test]
fn from_move_mirror() {
    let (built, key_of_member) = committee(&[2, 1, 3, 1, 1]);
    let mirror = BlsCommittee {
        members: built
            .members()
            .iter()
            .map(|m| BlsCommitteeMember {
                public_key: Element {
                    bytes: m.public_key.to_uncompressed().to_vec(),
                },
                weight: m.weight,
                node_id: m.node_id,
            })
            .collect(),
        n_shards: 8,
        epoch: EPOCH,
        total_aggregated_key: Element {
            bytes: built.total_aggregated_key().unwrap().to_bytes().to_vec(),
        },
    };
    let from_chain = Committee::from_move(&mirror).unwrap();
    assert_eq!(from_chain.members(), built.members());
    assert_eq!(
        from_chain.total_aggregated_key(),
        built.total_aggregated_key()
    );
    let signers = [0u16, 2, 3, 4];
    let bitmap = signers_to_bitmap(&signers, 5).unwrap();
    let sig = aggregate(&key_of_member, &signers, 0);
    assert_eq!(
        from_chain.verify_bitmap(&sig, &bitmap, &fixture().message, RequiredWeight::Quorum),
        // Sorted by node id the weights are [1, 1, 3, 1, 2].
        Ok(7)
    );
    assert_eq!(weight_of(&from_chain, &signers), 7);

    let mut unsorted = mirror.clone();
    unsorted.members.swap(0, 1);
    assert_eq!(
        Committee::from_move(&unsorted).unwrap_err(),
        CommitteeError::NotSorted(1)
    );
    let mut wrong_total = mirror.clone();
    wrong_total.n_shards = 9;
    assert!(matches!(
        Committee::from_move(&wrong_total),
        Err(CommitteeError::ShardCountMismatch { .. })
    ));
    let mut wrong_key = mirror.clone();
    wrong_key.total_aggregated_key.bytes = built.members()[0].public_key.to_bytes().to_vec();
    assert_eq!(
        Committee::from_move(&wrong_key).unwrap_err(),
        CommitteeError::TotalKeyMismatch
    );
    let mut bad_key = mirror;
    bad_key.members[0].public_key.bytes[5] ^= 0xff;
    assert!(matches!(
        Committee::from_move(&bad_key),
        Err(CommitteeError::InvalidKey { .. })
    ));
}

#[test]
fn certificate_round_trip_and_typed_message() {
    let (committee, key_of_member) = committee(&[1, 1, 1, 1]);
    let signers = vec![0u16, 1, 3];
    let cert = ConfirmationCertificate::new(
        signers.clone(),
        fixture().message.clone(),
        aggregate(&key_of_member, &signers, 0),
    );
    let certified = committee
        .verify_certificate(&cert, RequiredWeight::Quorum)
        .unwrap();
    assert_eq!(certified.stake_support, 3);
    assert_eq!(certified.message.body.blob_id, BlobId([1; 32]));

    // The same bytes read as another message type are rejected.
    let as_invalid: ProtocolMessageCertificate<InvalidBlobIdBody> = ProtocolMessageCertificate::new(
        signers.clone(),
        cert.serialized_message.clone(),
        cert.signature,
    );
    assert!(matches!(
        committee.verify_certificate(&as_invalid, RequiredWeight::Validity),
        Err(CertificateError::Message(
            MessageError::WrongIntentType { .. }
        ))
    ));

    // Signer lists with repeats or unknown members are rejected.
    let dup = ConfirmationCertificate::new(
        vec![0, 0, 1],
        cert.serialized_message.clone(),
        cert.signature,
    );
    assert_eq!(
        committee
            .verify_certificate(&dup, RequiredWeight::Quorum)
            .unwrap_err(),
        CertificateError::DuplicateSigner(0)
    );
    let out = ConfirmationCertificate::new(
        vec![0, 1, 4],
        cert.serialized_message.clone(),
        cert.signature,
    );
    assert!(matches!(
        committee.verify_certificate(&out, RequiredWeight::Quorum),
        Err(CertificateError::SignerOutOfRange { index: 4, .. })
    ));

    // JSON round trip keeps the certificate valid.
    let json = serde_json::to_string(&cert).unwrap();
    let back: ConfirmationCertificate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cert);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn bitmap_round_trip((weights, mask) in setup()) {
        let n = weights.len();
        let signers = chosen(&mask);
        let bitmap = signers_to_bitmap(&signers, n).unwrap();
        prop_assert_eq!(bitmap.len(), n.div_ceil(8));
        for (i, &signed) in mask.iter().enumerate() {
            prop_assert_eq!(bitmap[i / 8] >> (i % 8) & 1 == 1, signed);
        }
        prop_assert_eq!(bitmap_to_signers(&bitmap, n).unwrap(), signers.clone());
        // A shorter bitmap is fine when the dropped bytes are zero.
        let mut trimmed = bitmap.clone();
        while trimmed.last() == Some(&0) {
            trimmed.pop();
        }
        prop_assert_eq!(bitmap_to_signers(&trimmed, n).unwrap(), signers);
    }

    #[test]
    fn verification_accepts_exactly_the_threshold((weights, mask) in setup(), validity in any::<bool>()) {
        let (committee, key_of_member) = committee(&weights);
        let signers = chosen(&mask);
        prop_assume!(!signers.is_empty());
        let required = if validity { RequiredWeight::Validity } else { RequiredWeight::Quorum };
        let weight = weight_of(&committee, &signers);
        let bitmap = signers_to_bitmap(&signers, weights.len()).unwrap();
        let sig = aggregate(&key_of_member, &signers, 0);
        let result = committee.verify_bitmap(&sig, &bitmap, &fixture().message, required);
        if required.is_met(weight, u32::from(committee.n_shards())) {
            prop_assert_eq!(result, Ok(weight as u16));
        } else {
            prop_assert_eq!(result, Err(CertificateError::NotEnoughWeight {
                weight,
                n_shards: u32::from(committee.n_shards()),
                required,
            }));
        }
    }

    #[test]
    fn below_quorum_rejected_before_pairing((weights, mask) in setup()) {
        let (committee, _) = committee(&weights);
        let signers = chosen(&mask);
        let weight = weight_of(&committee, &signers);
        prop_assume!(!committee.is_quorum(weight));
        // Garbage signature: the threshold error must come first.
        let garbage = BlsSignature([0x11; 96]);
        let bitmap = signers_to_bitmap(&signers, weights.len()).unwrap();
        let result = committee.verify_bitmap(&garbage, &bitmap, &fixture().message, RequiredWeight::Quorum);
        prop_assert!(
            matches!(result, Err(CertificateError::NotEnoughWeight { .. })),
            "unexpected result {:?}", result
        );
    }

    #[test]
    fn wrong_message_and_wrong_epoch_rejected((weights, mask) in setup()) {
        let (committee, key_of_member) = committee(&weights);
        let signers = chosen(&mask);
        prop_assume!(committee.is_quorum(weight_of(&committee, &signers)));
        let f = fixture();

        // Signed the other message, presented with the expected one.
        let cert = ConfirmationCertificate::new(signers.clone(), f.message.clone(), aggregate(&key_of_member, &signers, 1));
        prop_assert!(matches!(
            committee.verify_certificate(&cert, RequiredWeight::Quorum),
            Err(CertificateError::Signature(_))
        ));
        let good = ConfirmationCertificate::new(signers.clone(), f.other_message.clone(), aggregate(&key_of_member, &signers, 1));
        prop_assert!(committee.verify_certificate(&good, RequiredWeight::Quorum).is_ok());

        // Validly signed, but for another epoch.
        let cert = ConfirmationCertificate::new(signers.clone(), f.wrong_epoch_message.clone(), aggregate(&key_of_member, &signers, 2));
        prop_assert_eq!(
            committee.verify_certificate(&cert, RequiredWeight::Quorum).unwrap_err(),
            CertificateError::Message(MessageError::WrongEpoch { expected: EPOCH, found: EPOCH + 1 })
        );
    }

    #[test]
    fn malformed_bitmaps_rejected((weights, mask) in setup(), extra in 1usize..3, bit in 0usize..8) {
        let (committee, key_of_member) = committee(&weights);
        let n = weights.len();
        let signers = chosen(&mask);
        prop_assume!(committee.is_quorum(weight_of(&committee, &signers)));
        let sig = aggregate(&key_of_member, &signers, 0);
        let msg = &fixture().message;
        let bitmap = signers_to_bitmap(&signers, n).unwrap();

        let mut too_long = bitmap.clone();
        too_long.extend(std::iter::repeat_n(0u8, extra));
        prop_assert_eq!(
            committee.verify_bitmap(&sig, &too_long, msg, RequiredWeight::Quorum),
            Err(CertificateError::BitmapTooLong { len: bitmap.len() + extra, max: n.div_ceil(8), n_members: n })
        );
        prop_assert!(bitmap_to_signers(&too_long, n).is_err());

        let index = (bitmap.len() - 1) * 8 + bit;
        if index >= n {
            let mut past = bitmap.clone();
            *past.last_mut().unwrap() |= 1 << bit;
            prop_assert_eq!(
                committee.verify_bitmap(&sig, &past, msg, RequiredWeight::Quorum),
                Err(CertificateError::BitPastMembers { index, n_members: n })
            );
            prop_assert!(bitmap_to_signers(&past, n).is_err());
        }
    }

    #[test]
    fn forged_aggregates_rejected((weights, mask) in setup(), victim in 0usize..MAX_MEMBERS) {
        let (committee, key_of_member) = committee(&weights);
        let n = weights.len();
        let signers = chosen(&mask);
        prop_assume!(committee.is_quorum(weight_of(&committee, &signers)));
        let msg = &fixture().message;
        let bitmap = signers_to_bitmap(&signers, n).unwrap();

        // Claim one more signer than actually signed.
        let victim = victim % n;
        if !signers.contains(&(victim as u16)) {
            let mut claimed = signers.clone();
            claimed.push(victim as u16);
            claimed.sort_unstable();
            let claimed_bitmap = signers_to_bitmap(&claimed, n).unwrap();
            let sig = aggregate(&key_of_member, &signers, 0);
            prop_assert!(matches!(
                committee.verify_bitmap(&sig, &claimed_bitmap, msg, RequiredWeight::Quorum),
                Err(CertificateError::Signature(_))
            ));
        }
        // Drop one real signature from the aggregate.
        if signers.len() > 1 {
            let sig = aggregate(&key_of_member, &signers[1..], 0);
            prop_assert!(matches!(
                committee.verify_bitmap(&sig, &bitmap, msg, RequiredWeight::Quorum),
                Err(CertificateError::Signature(_))
            ));
        }
        // Mixing in a signature over another message.
        let f = fixture();
        let mut sigs: Vec<BlsSignature> = signers.iter().map(|&s| f.sigs[key_of_member[usize::from(s)]][0]).collect();
        sigs[0] = f.sigs[key_of_member[usize::from(signers[0])]][1];
        let mixed = aggregate_signatures(&sigs).unwrap();
        prop_assert!(matches!(
            committee.verify_bitmap(&mixed, &bitmap, msg, RequiredWeight::Quorum),
            Err(CertificateError::Signature(_))
        ));
    }
}

proptest! {
    /// The interim shard assignment is a partition of `0..n` into
    /// contiguous ranges in member order, each as long as its weight, and
    /// the owner lookup agrees with it.
    #[test]
    fn interim_assignment_partitions_shards(weights in prop::collection::vec(1u16..6, 1..8)) {
        let (committee, _) = committee(&weights);
        let mut next = 0u16;
        for (i, member) in committee.members().iter().enumerate() {
            let range = committee.interim_shards_of(i).expect("member exists");
            prop_assert_eq!(range.start, next);
            prop_assert_eq!(range.end - range.start, member.weight);
            for shard in range.clone() {
                prop_assert_eq!(committee.interim_owner_of_shard(shard), Some(i));
            }
            prop_assert_eq!(committee.member_by_public_key(&member.public_key), Some(i));
            next = range.end;
        }
        prop_assert_eq!(next, committee.n_shards());
        prop_assert_eq!(committee.interim_owner_of_shard(next), None);
        prop_assert_eq!(committee.interim_shards_of(committee.n_members()), None);
    }
}
