//! Byte vectors for every protocol message type, written out by hand from the
//! message format of Walrus's `contracts/walrus/docs/msg_formats.txt` (7-byte
//! header `type || version 0 || app 3 || epoch u32 LE`, then the body without
//! a length prefix), plus the header
//! checks' distinct errors.

use floe_core::BlobId;
use floe_core::bls::BlsSecretKey;
use floe_core::encoding::Axis;
use floe_core::messages::{
    BlobPersistenceType, DenyListBlobDeletedBody, DenyListUpdateBody, InvalidBlobIdBody,
    MessageError, ProofOfPossessionBody, ProtocolMessage, ProtocolVersionBody, SignedMessage,
    StorageConfirmationBody, SyncShardRequest, SyncShardRequestV1, proof_of_possession,
    verify_proof_of_possession,
};
use floe_core::move_types::{ObjectId, U256Le};

const EPOCH: u32 = 21; // 0x15

fn h(text: &str) -> Vec<u8> {
    let clean: String = text.split_whitespace().collect();
    hex::decode(clean).expect("test hex")
}

fn rep(byte: &str, n: usize) -> String {
    byte.repeat(n)
}

fn permanent() -> ProtocolMessage<StorageConfirmationBody> {
    ProtocolMessage::new(
        EPOCH,
        StorageConfirmationBody {
            blob_id: BlobId([7; 32]),
            blob_type: BlobPersistenceType::Permanent,
        },
    )
}

#[test]
fn storage_confirmation_permanent() {
    let expected = h(&format!("01 00 03 15000000 {} 00", rep("07", 32)));
    let msg = permanent();
    assert_eq!(msg.to_bytes(), expected);
    assert_eq!(bcs::to_bytes(&msg).unwrap(), expected, "serde BCS agrees");
    assert_eq!(
        ProtocolMessage::from_bytes_in_epoch(&expected, EPOCH),
        Ok(msg)
    );
}

#[test]
fn storage_confirmation_deletable() {
    let expected = h(&format!(
        "01 00 03 15000000 {} 01 {}",
        rep("07", 32),
        rep("2a", 32)
    ));
    let msg = ProtocolMessage::new(
        EPOCH,
        StorageConfirmationBody {
            blob_id: BlobId([7; 32]),
            blob_type: BlobPersistenceType::Deletable {
                object_id: ObjectId([42; 32]),
            },
        },
    );
    assert_eq!(msg.to_bytes(), expected);
    assert_eq!(ProtocolMessage::from_bytes(&expected), Ok(msg));
}

#[test]
fn move_certified_message_bytes_parse() {
    // messages.move test helper: type 1, version 0, app 3, bcs(epoch),
    // bcs(u256 blob id) for epoch 42 and blob id 0xdeadbeef... (u256).
    let blob_u256 = U256Le::from_u256(
        "0xdeadbeefdeadbeefdeadbeefdeadbeef"
            .parse::<alloy_primitives::U256>()
            .unwrap(),
    );
    let mut bytes = h("01 00 03 2a000000");
    bytes.extend_from_slice(&h(&format!(
        "efbeadde efbeadde efbeadde efbeadde {}",
        rep("00", 16)
    )));
    assert_eq!(&bytes[7..], &blob_u256.0);
    bytes.push(0x00); // Permanent, which the Rust parser requires.
    let msg = ProtocolMessage::<StorageConfirmationBody>::from_bytes_in_epoch(&bytes, 42).unwrap();
    assert_eq!(U256Le::from(msg.body.blob_id), blob_u256);
}

#[test]
fn invalid_blob_id() {
    let expected = h(&format!("02 00 03 15000000 {}", rep("07", 32)));
    let msg = ProtocolMessage::new(EPOCH, InvalidBlobIdBody(BlobId([7; 32])));
    assert_eq!(msg.to_bytes(), expected);
    assert_eq!(ProtocolMessage::from_bytes(&expected), Ok(msg));
}

#[test]
fn sync_shard_request() {
    // V1 tag 00, shard 0x0102 LE, secondary 01, blob id, count 5 u64 LE,
    // epoch 20 u32 LE.
    let expected = h(&format!(
        "03 00 03 15000000 00 0201 01 {} 0500000000000000 14000000",
        rep("ab", 32)
    ));
    let msg = ProtocolMessage::new(
        EPOCH,
        SyncShardRequest::V1(SyncShardRequestV1 {
            shard_index: 0x0102,
            sliver_type: Axis::Secondary,
            starting_blob_id: BlobId([0xab; 32]),
            sliver_count: 5,
            epoch: 20,
        }),
    );
    assert_eq!(msg.to_bytes(), expected);
    assert_eq!(ProtocolMessage::from_bytes(&expected), Ok(msg));
    // Primary is tag 00.
    let mut primary = expected.clone();
    primary[10] = 0;
    let parsed = ProtocolMessage::<SyncShardRequest>::from_bytes(&primary).unwrap();
    let SyncShardRequest::V1(v1) = parsed.body;
    assert_eq!(v1.sliver_type, Axis::Primary);
}

#[test]
fn deny_list_update() {
    // node id 0x11.., seq 3, size 0x0400 (1024), root = 1 as u256 LE.
    let expected = h(&format!(
        "04 00 03 15000000 {} 0300000000000000 0004000000000000 01{}",
        rep("11", 32),
        rep("00", 31)
    ));
    let msg = ProtocolMessage::new(
        EPOCH,
        DenyListUpdateBody {
            node_id: ObjectId([0x11; 32]),
            sequence_number: 3,
            size: 1024,
            root: U256Le::from_u64(1),
        },
    );
    assert_eq!(msg.to_bytes(), expected);
    assert_eq!(ProtocolMessage::from_bytes(&expected), Ok(msg));
}

#[test]
fn deny_list_blob_deleted() {
    let expected = h(&format!("05 00 03 15000000 {}", rep("07", 32)));
    let msg = ProtocolMessage::new(EPOCH, DenyListBlobDeletedBody(BlobId([7; 32])));
    assert_eq!(msg.to_bytes(), expected);
    assert_eq!(ProtocolMessage::from_bytes(&expected), Ok(msg));
}

#[test]
fn protocol_version() {
    let expected = h("06 00 03 15000000 16000000 0200000000000000");
    let msg = ProtocolMessage::new(
        EPOCH,
        ProtocolVersionBody {
            start_epoch: 22,
            protocol_version: 2,
        },
    );
    assert_eq!(msg.to_bytes(), expected);
    assert_eq!(ProtocolMessage::from_bytes(&expected), Ok(msg));
}

#[test]
fn proof_of_possession_bytes_and_signature() {
    let secret = BlsSecretKey::from_seed(&[5; 32]);
    let public = secret.public_key();
    let address = ObjectId([42; 32]);
    let mut expected = h(&format!("00 00 03 15000000 {}", rep("2a", 32)));
    expected.extend_from_slice(public.as_bytes()); // 48 bytes, no length prefix
    assert_eq!(expected.len(), 7 + 32 + 48);

    let msg = ProtocolMessage::new(
        EPOCH,
        ProofOfPossessionBody {
            sui_address: address,
            bls_public_key: public,
        },
    );
    assert_eq!(msg.to_bytes(), expected);
    assert_eq!(ProtocolMessage::from_bytes(&expected), Ok(msg));

    let (signed_bytes, signature) = proof_of_possession(&secret, EPOCH, address);
    assert_eq!(signed_bytes, expected);
    verify_proof_of_possession(&public, EPOCH, address, &signature).unwrap();
    assert!(verify_proof_of_possession(&public, EPOCH + 1, address, &signature).is_err());
    assert!(verify_proof_of_possession(&public, EPOCH, ObjectId([43; 32]), &signature).is_err());
}

#[test]
fn header_checks_have_distinct_errors() {
    let good = permanent().to_bytes();
    type Confirmation = ProtocolMessage<StorageConfirmationBody>;

    let mut wrong_version = good.clone();
    wrong_version[1] = 1;
    assert_eq!(
        Confirmation::from_bytes(&wrong_version),
        Err(MessageError::WrongIntentVersion { found: 1 })
    );

    let mut wrong_app = good.clone();
    wrong_app[2] = 44;
    assert_eq!(
        Confirmation::from_bytes(&wrong_app),
        Err(MessageError::WrongAppId { found: 44 })
    );

    let mut wrong_type = good.clone();
    wrong_type[0] = 2;
    assert_eq!(
        Confirmation::from_bytes(&wrong_type),
        Err(MessageError::WrongIntentType {
            expected: 1,
            found: 2
        })
    );

    assert_eq!(
        Confirmation::from_bytes_in_epoch(&good, EPOCH + 1),
        Err(MessageError::WrongEpoch {
            expected: EPOCH + 1,
            found: EPOCH
        })
    );

    assert_eq!(
        Confirmation::from_bytes(&good[..6]),
        Err(MessageError::Truncated { len: 6 })
    );

    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        Confirmation::from_bytes(&trailing),
        Err(MessageError::TrailingBytes)
    );

    let mut bad_tag = good.clone();
    bad_tag[39] = 2;
    assert_eq!(
        Confirmation::from_bytes(&bad_tag),
        Err(MessageError::UnknownPersistenceType(2))
    );

    assert!(matches!(
        Confirmation::from_bytes(&good[..20]),
        Err(MessageError::Body(_))
    ));

    // Move's order: version is checked before the app id and the epoch.
    let mut both = good.clone();
    both[1] = 9;
    both[2] = 9;
    assert_eq!(
        Confirmation::from_bytes_in_epoch(&both, 0),
        Err(MessageError::WrongIntentVersion { found: 9 })
    );
}

#[test]
fn signed_message_json_and_verification() {
    let secret = BlsSecretKey::from_seed(&[1; 32]);
    let other = BlsSecretKey::from_seed(&[2; 32]);
    let msg = permanent();
    let signed = SignedMessage::sign(&secret, &msg);
    assert_eq!(signed.verify(&secret.public_key()), Ok(msg.clone()));
    assert!(matches!(
        signed.verify(&other.public_key()),
        Err(MessageError::Signature(_))
    ));
    assert_eq!(
        signed.verify_contents(&secret.public_key(), EPOCH, &msg.body),
        Ok(msg.clone())
    );
    let other_body = StorageConfirmationBody {
        blob_id: BlobId([8; 32]),
        blob_type: BlobPersistenceType::Permanent,
    };
    assert_eq!(
        signed.verify_contents(&secret.public_key(), EPOCH, &other_body),
        Err(MessageError::ContentMismatch)
    );

    let json: serde_json::Value = serde_json::to_value(&signed).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        json["serializedMessage"].as_str().unwrap(),
        b64.encode(msg.to_bytes())
    );
    assert_eq!(
        json["signature"].as_str().unwrap(),
        b64.encode(signed.signature.0)
    );
    let back: SignedMessage<StorageConfirmationBody> = serde_json::from_value(json).unwrap();
    assert_eq!(back, signed);

    // BCS: length-prefixed message, 96 fixed signature bytes.
    let bcs_bytes = bcs::to_bytes(&signed).unwrap();
    assert_eq!(bcs_bytes.len(), 1 + 40 + 96);
    assert_eq!(bcs_bytes[0], 40);
    let back: SignedMessage<StorageConfirmationBody> = bcs::from_bytes(&bcs_bytes).unwrap();
    assert_eq!(back, signed);
}
