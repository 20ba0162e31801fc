//! Test vectors for the floe Move packages' unit tests.
//!
//! Prints a Move test-only module (`floe::test_vectors`) with real BLS
//! material made by floe's Rust library: a committee of four members
//! (node ids `@0x1`..`@0x4`, weights 1, 2, 3, 4, so 10 shards: quorum 7,
//! validity 4), a blob id derived from a fixed root hash, and certificates
//! over BLOB_CERT and INVALID_BLOB_ID messages signed by several signer
//! sets. Every certificate is checked with floe's own committee code before
//! it is printed.
//!
//! `CARGO_TARGET_DIR=/work/target-helper cargo run -p floe-core --example move_test_vectors \
//!   > contracts/move/floe/tests/test_vectors.move`

use floe_core::BlobId;
use floe_core::bls::BlsSecretKey;
use floe_core::committee::{Committee, CommitteeMember, RequiredWeight, signers_to_bitmap};
use floe_core::encoding::EncodingConfig;
use floe_core::merkle::blake2b256;
use floe_core::messages::{
    BlobPersistenceType, InvalidBlobIdBody, MessageBody, ProtocolMessage,
    ProtocolMessageCertificate, SignedMessage, StorageConfirmationBody, proof_of_possession,
};
use floe_core::move_types::ObjectId;

const WEIGHTS: [u16; 4] = [1, 2, 3, 4];
const BLOB_SIZE: u64 = 1000;
const ENCODING_RS2: u8 = 1;

fn node_id(i: usize) -> ObjectId {
    let mut id = [0u8; 32];
    id[31] = (i + 1) as u8;
    ObjectId(id)
}

fn hex_lit(bytes: &[u8]) -> String {
    format!("x\"{}\"", hex::encode(bytes))
}

/// Signs `message` with the members at `signers` and checks the certificate
/// against the committee with `required` (when given).
fn certificate<T>(
    keys: &[BlsSecretKey],
    committee: &Committee,
    message: &ProtocolMessage<T>,
    signers: &[u16],
    required: Option<RequiredWeight>,
) -> (Vec<u8>, Vec<u8>, Vec<u8>)
where
    T: MessageBody,
{
    let signed: Vec<SignedMessage<T>> = signers
        .iter()
        .map(|&i| SignedMessage::sign(&keys[usize::from(i)], message))
        .collect();
    let cert = ProtocolMessageCertificate::<T>::from_signed_messages(&signed, signers.to_vec())
        .expect("aggregate");
    let bitmap = signers_to_bitmap(signers, keys.len()).expect("bitmap");
    if let Some(required) = required {
        committee
            .verify_bitmap(&cert.signature, &bitmap, &cert.serialized_message, required)
            .expect("floe accepts its own certificate");
    }
    (cert.serialized_message, cert.signature.0.to_vec(), bitmap)
}

fn main() {
    let keys: Vec<BlsSecretKey> = (0..WEIGHTS.len())
        .map(|i| {
            let mut seed = [0x6du8; 32];
            seed[0] = i as u8;
            BlsSecretKey::from_seed(&seed)
        })
        .collect();
    let members: Vec<CommitteeMember> = keys
        .iter()
        .zip(WEIGHTS)
        .enumerate()
        .map(|(i, (k, weight))| CommitteeMember {
            node_id: node_id(i),
            public_key: k.public_key(),
            weight,
        })
        .collect();
    let committee = Committee::new(0, members).expect("committee");
    for (i, member) in committee.members().iter().enumerate() {
        assert_eq!(member.node_id, node_id(i), "members keep their order");
    }
    let committee_epoch_1 = Committee::new(1, committee.members().to_vec()).expect("committee");

    let root_hash: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(7).wrapping_add(3));
    let mut input = Vec::with_capacity(41);
    input.push(ENCODING_RS2);
    input.extend_from_slice(&BLOB_SIZE.to_le_bytes());
    input.extend_from_slice(&root_hash);
    let blob_id = BlobId(blake2b256(&input));
    let other_blob_id = BlobId([0x33; 32]);

    let cert_msg = ProtocolMessage::new(
        0,
        StorageConfirmationBody {
            blob_id,
            blob_type: BlobPersistenceType::Permanent,
        },
    );
    let cert_msg_epoch_1 = ProtocolMessage::new(
        1,
        StorageConfirmationBody {
            blob_id,
            blob_type: BlobPersistenceType::Permanent,
        },
    );
    let cert_msg_other = ProtocolMessage::new(
        0,
        StorageConfirmationBody {
            blob_id: other_blob_id,
            blob_type: BlobPersistenceType::Permanent,
        },
    );
    let invalid_msg = ProtocolMessage::new(0, InvalidBlobIdBody(blob_id));

    let quorum = Some(RequiredWeight::Quorum);
    let validity = Some(RequiredWeight::Validity);
    let (cert_bytes, cert_sig_123, bitmap_123) =
        certificate(&keys, &committee, &cert_msg, &[1, 2, 3], quorum);
    let (_, cert_sig_012, bitmap_012) =
        certificate(&keys, &committee, &cert_msg, &[0, 1, 2], validity);
    let (_, cert_sig_all, bitmap_all) =
        certificate(&keys, &committee, &cert_msg, &[0, 1, 2, 3], quorum);
    let (cert_bytes_e1, cert_sig_e1, _) = certificate(
        &keys,
        &committee_epoch_1,
        &cert_msg_epoch_1,
        &[1, 2, 3],
        quorum,
    );
    let (cert_bytes_other, cert_sig_other, _) =
        certificate(&keys, &committee, &cert_msg_other, &[1, 2, 3], quorum);
    let (invalid_bytes, invalid_sig_03, bitmap_03) =
        certificate(&keys, &committee, &invalid_msg, &[0, 3], validity);
    let (_, invalid_sig_0, bitmap_0) = certificate(&keys, &committee, &invalid_msg, &[0], None);

    let pop_address = ObjectId([0xa1; 32]);
    let (pop_message, pop_signature) = proof_of_possession(&keys[0], 5, pop_address);
    // A registration candidate sending from `@0xca` in epoch 0, and the key
    // it rotates to.
    let mut candidate_address = ObjectId([0; 32]);
    candidate_address.0[31] = 0xca;
    let candidate = BlsSecretKey::from_seed(&[0xca; 32]);
    let (_, candidate_pop) = proof_of_possession(&candidate, 0, candidate_address);
    let rotated = BlsSecretKey::from_seed(&[0xcb; 32]);
    let (_, rotated_pop) = proof_of_possession(&rotated, 0, candidate_address);

    let config = EncodingConfig::new(10).expect("config");
    let encoded_1000 = config.encoded_blob_length(BLOB_SIZE).expect("encoded");
    let config_1000 = EncodingConfig::new(1000).expect("config");
    let encoded_big = config_1000.encoded_blob_length(1 << 30).expect("encoded");
    let max_10 = config.max_blob_size();

    let mut out = String::new();
    out.push_str(
        "// Generated by `cargo run -p floe-core --example move_test_vectors`; do not edit.\n\
         // A committee of four (node ids @0x1..@0x4, weights 1, 2, 3, 4: 10 shards,\n\
         // quorum 7, validity 4) in epoch 0 and certificates made by floe_core.\n\
         #[test_only]\n\
         module floe::test_vectors;\n\n",
    );
    let mut func = |name: &str, ty: &str, value: String| {
        out.push_str(&format!("public fun {name}(): {ty} {{ {value} }}\n\n"));
    };
    for (i, key) in keys.iter().enumerate() {
        func(
            &format!("pk_{i}"),
            "vector<u8>",
            hex_lit(key.public_key().as_bytes()),
        );
    }
    func("weights", "vector<u16>", format!("vector{:?}", WEIGHTS));
    func("blob_size", "u64", BLOB_SIZE.to_string());
    func("root_hash_bytes", "vector<u8>", hex_lit(&root_hash));
    func("blob_id_bytes", "vector<u8>", hex_lit(&blob_id.0));
    func(
        "other_blob_id_bytes",
        "vector<u8>",
        hex_lit(&other_blob_id.0),
    );
    func("encoded_length_1000_n10", "u64", encoded_1000.to_string());
    func("encoded_length_1gib_n1000", "u64", encoded_big.to_string());
    func("max_blob_size_n10", "u64", max_10.to_string());
    func("cert_msg", "vector<u8>", hex_lit(&cert_bytes));
    func("cert_sig_123", "vector<u8>", hex_lit(&cert_sig_123));
    func("bitmap_123", "vector<u8>", hex_lit(&bitmap_123));
    func("cert_sig_012", "vector<u8>", hex_lit(&cert_sig_012));
    func("bitmap_012", "vector<u8>", hex_lit(&bitmap_012));
    func("cert_sig_all", "vector<u8>", hex_lit(&cert_sig_all));
    func("bitmap_all", "vector<u8>", hex_lit(&bitmap_all));
    func("cert_msg_epoch_1", "vector<u8>", hex_lit(&cert_bytes_e1));
    func("cert_sig_epoch_1_123", "vector<u8>", hex_lit(&cert_sig_e1));
    func(
        "cert_msg_other_blob",
        "vector<u8>",
        hex_lit(&cert_bytes_other),
    );
    func(
        "cert_sig_other_blob_123",
        "vector<u8>",
        hex_lit(&cert_sig_other),
    );
    func("invalid_msg", "vector<u8>", hex_lit(&invalid_bytes));
    func("invalid_sig_03", "vector<u8>", hex_lit(&invalid_sig_03));
    func("bitmap_03", "vector<u8>", hex_lit(&bitmap_03));
    func("invalid_sig_0", "vector<u8>", hex_lit(&invalid_sig_0));
    func("bitmap_0", "vector<u8>", hex_lit(&bitmap_0));
    func("pop_address_bytes", "vector<u8>", hex_lit(&pop_address.0));
    func("pop_epoch", "u32", "5".to_owned());
    func("pop_message", "vector<u8>", hex_lit(&pop_message));
    func("pop_signature", "vector<u8>", hex_lit(&pop_signature.0));
    func(
        "candidate_pk",
        "vector<u8>",
        hex_lit(candidate.public_key().as_bytes()),
    );
    func("candidate_pop", "vector<u8>", hex_lit(&candidate_pop.0));
    func(
        "rotated_pk",
        "vector<u8>",
        hex_lit(rotated.public_key().as_bytes()),
    );
    func("rotated_pop", "vector<u8>", hex_lit(&rotated_pop.0));
    print!("{}", out.trim_end());
    println!();
}
