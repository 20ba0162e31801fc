// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Parsing of the messages storage nodes sign (BLS12-381 min-pk).
///
/// Every message starts with a 7-byte header `intent_type u8 ||
/// intent_version u8 (0) || app_id u8 (3) || epoch u32 LE`, followed by a
/// body without a length prefix. Body parsers check the intent type and
/// ignore trailing bytes, so bodies can grow compatibly.
///
/// Bodies:
/// - BLOB_CERT (1): `blob_id u256 || persistence`, persistence `0x00`
///   (permanent) or `0x01 || object_id (32 bytes)` (deletable).
/// - INVALID_BLOB_ID (2): `blob_id u256`.
/// - DENY_LIST_UPDATE (4): `node_id (32) || sequence u64 || size u64 || root u256`.
/// - DENY_LIST_BLOB_DELETED (5): `blob_id u256`.
/// - PROTOCOL_VERSION (6): `start_epoch u32 || protocol_version u64`.
/// - PROOF_OF_POSSESSION (0): `sui_address (32) || bls_key (48)`.
module floe::messages;

use sui::bcs;
use sui::bls12381::bls12381_min_pk_verify;

const PROOF_OF_POSSESSION_MSG_TYPE: u8 = 0;
const BLOB_CERT_MSG_TYPE: u8 = 1;
const INVALID_BLOB_ID_MSG_TYPE: u8 = 2;
const DENY_LIST_UPDATE_MSG_TYPE: u8 = 4;
const DENY_LIST_BLOB_DELETED_MSG_TYPE: u8 = 5;
const PROTOCOL_VERSION_MSG_TYPE: u8 = 6;

const INTENT_VERSION: u8 = 0;
const APP_ID: u8 = 3;
/// Length of a compressed BLS12-381 G1 public key.
const BLS_KEY_LEN: u64 = 48;

/// The app id in the header is not the storage app's.
const EIncorrectAppId: u64 = 0;
/// The epoch in the header is not the committee's.
const EIncorrectEpoch: u64 = 1;
/// The intent type is not the one the parser expects.
const EInvalidMsgType: u64 = 2;
/// The intent version is not 0.
const EIncorrectIntentVersion: u64 = 3;
/// Unknown blob persistence tag in a BLOB_CERT body.
const EInvalidBlobPersistenceType: u64 = 4;
/// Asked for the object id of a permanent blob's persistence type.
const ENotDeletable: u64 = 5;
/// A proof of possession carries a key that is not 48 bytes.
const EInvalidKeyLength: u64 = 6;

/// A message whose signature was checked for the committee of `cert_epoch`
/// with `stake_support` shards; `message` is the body.
public struct CertifiedMessage has drop {
    intent_type: u8,
    intent_version: u8,
    cert_epoch: u32,
    stake_support: u16,
    message: vector<u8>,
}

/// Whether a certified blob is permanent or deletable (with the id of the
/// `Blob` object the certificate is for).
public enum BlobPersistenceType has copy, drop {
    Permanent,
    Deletable { object_id: ID },
}

/// A certified BLOB_CERT message.
public struct CertifiedBlobMessage has drop {
    epoch: u32,
    blob_id: u256,
    blob_persistence_type: BlobPersistenceType,
}

/// A certified INVALID_BLOB_ID message.
public struct CertifiedInvalidBlobId has drop {
    epoch: u32,
    blob_id: u256,
}

/// A certified DENY_LIST_UPDATE message.
public struct DenyListUpdateMessage has drop {
    epoch: u32,
    storage_node_id: ID,
    sequence_number: u64,
    size: u64,
    root: u256,
}

/// A certified DENY_LIST_BLOB_DELETED message.
public struct DenyListBlobDeleted has drop {
    epoch: u32,
    blob_id: u256,
}

/// A certified PROTOCOL_VERSION message.
public struct ProtocolVersionMessage has drop {
    epoch: u32,
    start_epoch: u32,
    protocol_version: u64,
}

/// A proof that the holder of `bls_key` controls `sui_address` in `epoch`.
public struct ProofOfPossessionMessage has drop {
    intent_type: u8,
    intent_version: u8,
    intent_app: u8,
    epoch: u32,
    sui_address: address,
    bls_key: vector<u8>,
}

// === Proof of possession ===

/// Builds the proof-of-possession message for `bls_key` (48 bytes).
public fun new_proof_of_possession_msg(
    epoch: u32,
    sui_address: address,
    bls_key: vector<u8>,
): ProofOfPossessionMessage {
    assert!(bls_key.length() == BLS_KEY_LEN, EInvalidKeyLength);
    ProofOfPossessionMessage {
        intent_type: PROOF_OF_POSSESSION_MSG_TYPE,
        intent_version: INTENT_VERSION,
        intent_app: APP_ID,
        epoch,
        sui_address,
        bls_key,
    }
}

/// The signed bytes: header, address, key (no length prefix).
public fun to_bcs(self: &ProofOfPossessionMessage): vector<u8> {
    let mut bytes = vector[self.intent_type, self.intent_version, self.intent_app];
    bytes.append(bcs::to_bytes(&self.epoch));
    bytes.append(bcs::to_bytes(&self.sui_address));
    bytes.append(self.bls_key);
    bytes
}

/// Checks `signature` over the message with the message's own key.
public fun verify_proof_of_possession(
    self: &ProofOfPossessionMessage,
    signature: vector<u8>,
): bool {
    let message = self.to_bcs();
    bls12381_min_pk_verify(&signature, &self.bls_key, &message)
}

// === Certified messages ===

/// Parses the header of `message_bytes` (signature already checked with
/// `stake_support` shards) and checks it is a storage message of version 0
/// for `committee_epoch`.
public(package) fun new_certified_message(
    message_bytes: vector<u8>,
    committee_epoch: u32,
    stake_support: u16,
): CertifiedMessage {
    let mut reader = bcs::new(message_bytes);
    let intent_type = reader.peel_u8();
    let intent_version = reader.peel_u8();
    assert!(intent_version == INTENT_VERSION, EIncorrectIntentVersion);
    let intent_app = reader.peel_u8();
    assert!(intent_app == APP_ID, EIncorrectAppId);
    let cert_epoch = reader.peel_u32();
    assert!(cert_epoch == committee_epoch, EIncorrectEpoch);
    let message = reader.into_remainder_bytes();
    CertifiedMessage { intent_type, intent_version, cert_epoch, stake_support, message }
}

/// Reads a BLOB_CERT body.
public fun certify_blob_message(message: CertifiedMessage): CertifiedBlobMessage {
    let CertifiedMessage { intent_type, intent_version: _, cert_epoch, stake_support: _, message } =
        message;
    assert!(intent_type == BLOB_CERT_MSG_TYPE, EInvalidMsgType);
    let mut reader = bcs::new(message);
    let blob_id = reader.peel_u256();
    let tag = reader.peel_u8();
    let blob_persistence_type = if (tag == 0) {
        BlobPersistenceType::Permanent
    } else {
        assert!(tag == 1, EInvalidBlobPersistenceType);
        BlobPersistenceType::Deletable { object_id: object::id_from_address(reader.peel_address()) }
    };
    CertifiedBlobMessage { epoch: cert_epoch, blob_id, blob_persistence_type }
}

/// Reads an INVALID_BLOB_ID body.
public fun invalid_blob_id_message(message: CertifiedMessage): CertifiedInvalidBlobId {
    let CertifiedMessage { intent_type, intent_version: _, cert_epoch, stake_support: _, message } =
        message;
    assert!(intent_type == INVALID_BLOB_ID_MSG_TYPE, EInvalidMsgType);
    let mut reader = bcs::new(message);
    let blob_id = reader.peel_u256();
    CertifiedInvalidBlobId { epoch: cert_epoch, blob_id }
}

/// Reads a DENY_LIST_UPDATE body.
public fun deny_list_update_message(message: CertifiedMessage): DenyListUpdateMessage {
    let CertifiedMessage { intent_type, intent_version: _, cert_epoch, stake_support: _, message } =
        message;
    assert!(intent_type == DENY_LIST_UPDATE_MSG_TYPE, EInvalidMsgType);
    let mut reader = bcs::new(message);
    let storage_node_id = object::id_from_address(reader.peel_address());
    let sequence_number = reader.peel_u64();
    let size = reader.peel_u64();
    let root = reader.peel_u256();
    DenyListUpdateMessage { epoch: cert_epoch, storage_node_id, sequence_number, size, root }
}

/// Reads a DENY_LIST_BLOB_DELETED body.
public fun deny_list_blob_deleted_message(message: CertifiedMessage): DenyListBlobDeleted {
    let CertifiedMessage { intent_type, intent_version: _, cert_epoch, stake_support: _, message } =
        message;
    assert!(intent_type == DENY_LIST_BLOB_DELETED_MSG_TYPE, EInvalidMsgType);
    let mut reader = bcs::new(message);
    let blob_id = reader.peel_u256();
    DenyListBlobDeleted { epoch: cert_epoch, blob_id }
}

/// Reads a PROTOCOL_VERSION body.
public fun protocol_version_message(message: CertifiedMessage): ProtocolVersionMessage {
    let CertifiedMessage { intent_type, intent_version: _, cert_epoch, stake_support: _, message } =
        message;
    assert!(intent_type == PROTOCOL_VERSION_MSG_TYPE, EInvalidMsgType);
    let mut reader = bcs::new(message);
    let start_epoch = reader.peel_u32();
    let protocol_version = reader.peel_u64();
    ProtocolVersionMessage { epoch: cert_epoch, start_epoch, protocol_version }
}

// === CertifiedMessage accessors ===

public fun intent_type(self: &CertifiedMessage): u8 { self.intent_type }

public fun intent_version(self: &CertifiedMessage): u8 { self.intent_version }

public fun cert_epoch(self: &CertifiedMessage): u32 { self.cert_epoch }

public fun stake_support(self: &CertifiedMessage): u16 { self.stake_support }

public fun message(self: &CertifiedMessage): &vector<u8> { &self.message }

// === CertifiedBlobMessage accessors ===

public fun certified_blob_epoch(self: &CertifiedBlobMessage): u32 { self.epoch }

public fun certified_blob_id(self: &CertifiedBlobMessage): u256 { self.blob_id }

public fun blob_persistence_type(self: &CertifiedBlobMessage): BlobPersistenceType {
    self.blob_persistence_type
}

// === BlobPersistenceType ===

/// True for `Deletable`.
public fun is_deletable(self: &BlobPersistenceType): bool {
    match (self) {
        BlobPersistenceType::Permanent => false,
        BlobPersistenceType::Deletable { object_id: _ } => true,
    }
}

/// The object id of a `Deletable`; aborts with `ENotDeletable` otherwise.
public fun object_id(self: &BlobPersistenceType): ID {
    match (self) {
        BlobPersistenceType::Permanent => abort ENotDeletable,
        BlobPersistenceType::Deletable { object_id } => *object_id,
    }
}

// === CertifiedInvalidBlobId accessors ===

public fun invalid_blob_id(self: &CertifiedInvalidBlobId): u256 { self.blob_id }

public fun invalid_blob_id_epoch(self: &CertifiedInvalidBlobId): u32 { self.epoch }

// === DenyListUpdateMessage accessors ===

public fun storage_node_id(self: &DenyListUpdateMessage): ID { self.storage_node_id }

public fun sequence_number(self: &DenyListUpdateMessage): u64 { self.sequence_number }

public fun size(self: &DenyListUpdateMessage): u64 { self.size }

public fun root(self: &DenyListUpdateMessage): u256 { self.root }

public fun deny_list_update_epoch(self: &DenyListUpdateMessage): u32 { self.epoch }

// === DenyListBlobDeleted accessors ===

public fun deny_listed_blob_id(self: &DenyListBlobDeleted): u256 { self.blob_id }

public fun deny_listed_blob_epoch(self: &DenyListBlobDeleted): u32 { self.epoch }

// === ProtocolVersionMessage accessors ===

public fun start_epoch(self: &ProtocolVersionMessage): u32 { self.start_epoch }

public fun protocol_version(self: &ProtocolVersionMessage): u64 { self.protocol_version }

public fun protocol_version_epoch(self: &ProtocolVersionMessage): u32 { self.epoch }

// === Constructors for tests ===

#[test_only]
/// A certified BLOB_CERT message without a signature check.
public fun certified_blob_message_for_testing(
    epoch: u32,
    blob_id: u256,
    blob_persistence_type: BlobPersistenceType,
): CertifiedBlobMessage {
    CertifiedBlobMessage { epoch, blob_id, blob_persistence_type }
}

#[test_only]
public fun permanent_for_testing(): BlobPersistenceType {
    BlobPersistenceType::Permanent
}

#[test_only]
public fun deletable_for_testing(object_id: ID): BlobPersistenceType {
    BlobPersistenceType::Deletable { object_id }
}

#[test_only]
/// A 7-byte header followed by `body`.
public fun message_bytes_for_testing(
    intent_type: u8,
    intent_version: u8,
    app_id: u8,
    epoch: u32,
    body: vector<u8>,
): vector<u8> {
    let mut bytes = vector[intent_type, intent_version, app_id];
    bytes.append(bcs::to_bytes(&epoch));
    bytes.append(body);
    bytes
}
