//! Certificate verification cost: a blob certificate signed by 67 of 100
//! committee members (one shard each), verified as the contract does
//! (bitmap, non-signer key subtraction, threshold, one pairing check).
//!
//! Run: `cargo bench -p floe-core --bench certificate`.

use criterion::{Criterion, criterion_group, criterion_main};
use floe_core::BlobId;
use floe_core::bls::BlsSecretKey;
use floe_core::committee::{Committee, CommitteeMember, RequiredWeight};
use floe_core::messages::{
    BlobPersistenceType, ConfirmationCertificate, ProtocolMessage, SignedMessage,
    StorageConfirmationBody,
};
use floe_core::move_types::ObjectId;

const MEMBERS: usize = 100;
const SIGNERS: usize = 67;
const EPOCH: u32 = 7;

fn setup() -> (Committee, ConfirmationCertificate) {
    let keys: Vec<BlsSecretKey> = (0..MEMBERS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            BlsSecretKey::from_seed(&seed)
        })
        .collect();
    let members = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let mut id = [0u8; 32];
            id[31] = i as u8;
            CommitteeMember {
                node_id: ObjectId(id),
                public_key: key.public_key(),
                weight: 1,
            }
        })
        .collect();
    let committee = Committee::new(EPOCH, members).expect("valid committee");
    let message = ProtocolMessage::new(
        EPOCH,
        StorageConfirmationBody {
            blob_id: BlobId([9; 32]),
            blob_type: BlobPersistenceType::Permanent,
        },
    );
    // Node ids are 0..100 in the last byte, so member index == key index.
    let signed: Vec<SignedMessage<StorageConfirmationBody>> = keys[..SIGNERS]
        .iter()
        .map(|key| SignedMessage::sign(key, &message))
        .collect();
    let indices = (0..SIGNERS as u16).collect();
    let certificate =
        ConfirmationCertificate::from_signed_messages(&signed, indices).expect("aggregates");
    (committee, certificate)
}

fn bench_certificate(c: &mut Criterion) {
    let (committee, certificate) = setup();
    committee
        .verify_certificate(&certificate, RequiredWeight::Quorum)
        .expect("certificate verifies");
    c.bench_function("verify_certificate_67_of_100", |b| {
        b.iter(|| {
            committee
                .verify_certificate(std::hint::black_box(&certificate), RequiredWeight::Quorum)
                .expect("certificate verifies")
        })
    });
}

criterion_group!(benches, bench_certificate);
criterion_main!(benches);
