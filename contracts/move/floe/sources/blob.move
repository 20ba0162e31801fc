// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The `Blob` object: a registered blob id with its storage resource.
///
/// Registration checks the storage covers the current epoch and the encoded
/// size, and re-derives the blob id from the root hash. Certification takes
/// a quorum certificate's BLOB_CERT message whose persistence type matches
/// (deletable blobs sign their object id). Certified blobs can be extended.
/// Deletable blobs can be deleted before expiry, returning their storage;
/// any blob can be burnt (no event; nodes keep storing it until expiry).
/// Attributes live in dynamic field `b"metadata"`.
module floe::blob;

use floe::encoding;
use floe::events::{emit_blob_registered, emit_blob_certified, emit_blob_deleted};
use floe::messages::CertifiedBlobMessage;
use floe::metadata::{Self, Metadata};
use floe::storage_resource::Storage;
use std::string::String;
use sui::bcs;
use sui::dynamic_field as df;
use sui::hash;

/// Name of the attributes dynamic field.
const METADATA_DF: vector<u8> = b"metadata";

/// The blob is not certified.
const ENotCertified: u64 = 0;
/// The blob is not deletable.
const EBlobNotDeletable: u64 = 1;
/// The storage does not cover the epoch (registration, certification,
/// extension, deletion).
const EResourceBounds: u64 = 2;
/// The storage is smaller than the encoded blob.
const EResourceSize: u64 = 3;
// Code 4 is unused (as in Walrus).
/// The blob is already certified.
const EAlreadyCertified: u64 = 5;
/// The blob id does not match (derivation or certificate).
const EInvalidBlobId: u64 = 6;
/// The blob already has attributes.
const EDuplicateMetadata: u64 = 7;
/// The blob has no attributes.
const EMissingMetadata: u64 = 8;
/// The certificate's persistence type does not match the blob.
const EInvalidBlobPersistenceType: u64 = 9;
/// The certificate is for another deletable blob object.
const EInvalidBlobObject: u64 = 10;

/// A registered blob. `size` is the unencoded length; `storage` covers the
/// blob's lifetime `[storage.start_epoch, storage.end_epoch)`.
public struct Blob has key, store {
    id: UID,
    registered_epoch: u32,
    blob_id: u256,
    size: u64,
    encoding_type: u8,
    certified_epoch: Option<u32>,
    storage: Storage,
    deletable: bool,
}

/// The struct whose BCS bytes, hashed with blake2b-256, give the blob id.
public struct BlobIdDerivation has drop {
    encoding_type: u8,
    size: u64,
    root_hash: u256,
}

// === Accessors ===

public fun object_id(self: &Blob): ID { object::id(self) }

public fun registered_epoch(self: &Blob): u32 { self.registered_epoch }

public fun blob_id(self: &Blob): u256 { self.blob_id }

public fun size(self: &Blob): u64 { self.size }

public fun encoding_type(self: &Blob): u8 { self.encoding_type }

public fun certified_epoch(self: &Blob): &Option<u32> { &self.certified_epoch }

public fun storage(self: &Blob): &Storage { &self.storage }

public fun is_deletable(self: &Blob): bool { self.deletable }

public fun end_epoch(self: &Blob): u32 { self.storage.end_epoch() }

/// Encoded size of the blob over `n_shards`.
public fun encoded_size(self: &Blob, n_shards: u16): u64 {
    encoding::encoded_blob_length(self.size, self.encoding_type, n_shards)
}

/// `blake2b256(bcs({encoding_type, size, root_hash}))` read as a
/// little-endian u256.
public fun derive_blob_id(root_hash: u256, encoding_type: u8, size: u64): u256 {
    let derivation = BlobIdDerivation { encoding_type, size, root_hash };
    let digest = hash::blake2b256(&bcs::to_bytes(&derivation));
    let mut reader = bcs::new(digest);
    reader.peel_u256()
}

// === Lifecycle (called by the system) ===

/// Registers a blob on `storage` in `registered_epoch` and emits
/// `BlobRegistered`.
public(package) fun new(
    storage: Storage,
    blob_id: u256,
    root_hash: u256,
    size: u64,
    encoding_type: u8,
    deletable: bool,
    registered_epoch: u32,
    n_shards: u16,
    ctx: &mut TxContext,
): Blob {
    let id = object::new(ctx);
    assert!(
        storage.start_epoch() <= registered_epoch && registered_epoch < storage.end_epoch(),
        EResourceBounds,
    );
    let encoded_size = encoding::encoded_blob_length(size, encoding_type, n_shards);
    assert!(encoded_size <= storage.size(), EResourceSize);
    assert!(derive_blob_id(root_hash, encoding_type, size) == blob_id, EInvalidBlobId);

    emit_blob_registered(
        registered_epoch,
        blob_id,
        size,
        encoding_type,
        storage.end_epoch(),
        deletable,
        object::uid_to_inner(&id),
    );
    Blob {
        id,
        registered_epoch,
        blob_id,
        size,
        encoding_type,
        certified_epoch: option::none(),
        storage,
        deletable,
    }
}

/// Certifies the blob with a certified BLOB_CERT message in `current_epoch`
/// and emits `BlobCertified`.
public(package) fun certify_with_certified_msg(
    self: &mut Blob,
    current_epoch: u32,
    message: CertifiedBlobMessage,
) {
    assert!(message.certified_blob_id() == self.blob_id, EInvalidBlobId);
    assert!(self.certified_epoch.is_none(), EAlreadyCertified);
    assert!(current_epoch < self.storage.end_epoch(), EResourceBounds);
    let persistence = message.blob_persistence_type();
    if (self.deletable) {
        assert!(persistence.is_deletable(), EInvalidBlobPersistenceType);
        assert!(persistence.object_id() == object::id(self), EInvalidBlobObject);
    } else {
        assert!(!persistence.is_deletable(), EInvalidBlobPersistenceType);
    };
    self.certified_epoch = option::some(current_epoch);
    self.emit_certified(false);
}

/// Aborts unless the blob is certified and not expired in `current_epoch`.
public(package) fun assert_certified_not_expired(self: &Blob, current_epoch: u32) {
    assert!(self.certified_epoch.is_some(), ENotCertified);
    assert!(current_epoch < self.storage.end_epoch(), EResourceBounds);
}

/// Extends a certified, unexpired blob with `extension`, which must start
/// at the blob's end epoch and have the same size; emits `BlobCertified`
/// with `is_extension`.
public(package) fun extend_with_resource(
    self: &mut Blob,
    extension: Storage,
    current_epoch: u32,
) {
    self.assert_certified_not_expired(current_epoch);
    assert!(extension.start_epoch() == self.storage.end_epoch(), EResourceBounds);
    self.storage.fuse_periods(extension);
    self.emit_certified(true);
}

/// Extends a certified, unexpired blob by `extended_epochs` already paid
/// for; emits `BlobCertified` with `is_extension`.
public(package) fun extend_storage_end_epoch(
    self: &mut Blob,
    extended_epochs: u32,
    current_epoch: u32,
) {
    self.assert_certified_not_expired(current_epoch);
    self.storage.extend_end_epoch(extended_epochs);
    self.emit_certified(true);
}

/// Deletes a deletable, unexpired blob in `epoch`, emits `BlobDeleted` and
/// returns its storage.
public(package) fun delete(mut self: Blob, epoch: u32): Storage {
    drop_metadata(&mut self);
    let Blob {
        id,
        registered_epoch: _,
        blob_id,
        size: _,
        encoding_type: _,
        certified_epoch,
        storage,
        deletable,
    } = self;
    assert!(deletable, EBlobNotDeletable);
    let end_epoch = storage.end_epoch();
    assert!(end_epoch > epoch, EResourceBounds);
    let object_id = object::uid_to_inner(&id);
    id.delete();
    emit_blob_deleted(epoch, blob_id, end_epoch, object_id, certified_epoch.is_some());
    storage
}

/// Destroys any blob and its storage without an event (reclaims the Sui
/// storage rebate; storage nodes keep the data until expiry).
public fun burn(mut self: Blob) {
    drop_metadata(&mut self);
    let Blob {
        id,
        registered_epoch: _,
        blob_id: _,
        size: _,
        encoding_type: _,
        certified_epoch: _,
        storage,
        deletable: _,
    } = self;
    id.delete();
    storage.destroy();
}

// === Attributes ===

/// Attaches `metadata`; aborts with `EDuplicateMetadata` if there is some.
public fun add_metadata(self: &mut Blob, metadata: Metadata) {
    assert!(!self.has_metadata(), EDuplicateMetadata);
    df::add(&mut self.id, METADATA_DF, metadata);
}

/// Attaches `metadata`, returning the attributes it replaces.
public fun add_or_replace_metadata(self: &mut Blob, metadata: Metadata): Option<Metadata> {
    let old = if (self.has_metadata()) {
        option::some(df::remove<vector<u8>, Metadata>(&mut self.id, METADATA_DF))
    } else {
        option::none()
    };
    df::add(&mut self.id, METADATA_DF, metadata);
    old
}

/// Detaches and returns the attributes; aborts with `EMissingMetadata`.
public fun take_metadata(self: &mut Blob): Metadata {
    assert!(self.has_metadata(), EMissingMetadata);
    df::remove(&mut self.id, METADATA_DF)
}

/// Sets attribute `key` to `value`, creating the attributes if needed.
public fun insert_or_update_metadata_pair(self: &mut Blob, key: String, value: String) {
    if (!self.has_metadata()) {
        df::add(&mut self.id, METADATA_DF, metadata::new());
    };
    self.metadata_mut().insert_or_update(key, value);
}

/// Removes attribute `key` and returns the pair; aborts with
/// `EMissingMetadata` without attributes (and in `VecMap` without the key).
public fun remove_metadata_pair(self: &mut Blob, key: &String): (String, String) {
    self.metadata_mut().remove(key)
}

/// Removes attribute `key` if present, returning its value.
public fun remove_metadata_pair_if_exists(self: &mut Blob, key: &String): Option<String> {
    if (!self.has_metadata()) {
        option::none()
    } else {
        self.metadata_mut().remove_if_exists(key)
    }
}

/// True if the blob has attributes.
public fun has_metadata(self: &Blob): bool {
    df::exists_with_type<vector<u8>, Metadata>(&self.id, METADATA_DF)
}

/// The attributes; aborts with `EMissingMetadata`.
public fun borrow_metadata(self: &Blob): &Metadata {
    assert!(self.has_metadata(), EMissingMetadata);
    df::borrow(&self.id, METADATA_DF)
}

fun metadata_mut(self: &mut Blob): &mut Metadata {
    assert!(self.has_metadata(), EMissingMetadata);
    df::borrow_mut(&mut self.id, METADATA_DF)
}

fun drop_metadata(self: &mut Blob) {
    if (self.has_metadata()) {
        df::remove<vector<u8>, Metadata>(&mut self.id, METADATA_DF);
    }
}

fun emit_certified(self: &Blob, is_extension: bool) {
    emit_blob_certified(
        *self.certified_epoch.borrow(),
        self.blob_id,
        self.storage.end_epoch(),
        self.deletable,
        object::id(self),
        is_extension,
    );
}

#[test_only]
/// A blob registered without payment or capacity accounting.
public fun new_for_testing(
    storage: Storage,
    blob_id: u256,
    root_hash: u256,
    size: u64,
    encoding_type: u8,
    deletable: bool,
    registered_epoch: u32,
    n_shards: u16,
    ctx: &mut TxContext,
): Blob {
    new(storage, blob_id, root_hash, size, encoding_type, deletable, registered_epoch, n_shards, ctx)
}

#[test_only]
public fun certify_with_certified_msg_for_testing(
    self: &mut Blob,
    current_epoch: u32,
    message: CertifiedBlobMessage,
) {
    self.certify_with_certified_msg(current_epoch, message)
}

// === Test helpers for packages that depend on floe ===
//
// A dApp that keeps `Blob`s in its own objects needs certified and
// uncertified blobs in its unit tests without running the store protocol
// (encoding, storage nodes, a BLS certificate). These build them directly.

#[test_only]
/// A blob certified in `certified_epoch` whose storage runs until
/// `end_epoch` (exclusive), with RS2 encoding and `size` unencoded bytes.
public fun new_certified_for_testing(
    blob_id: u256,
    size: u64,
    deletable: bool,
    certified_epoch: u32,
    end_epoch: u32,
    ctx: &mut TxContext,
): Blob {
    let mut blob = new_registered_for_testing(
        blob_id,
        size,
        deletable,
        certified_epoch,
        end_epoch,
        ctx,
    );
    blob.certified_epoch = option::some(certified_epoch);
    blob
}

#[test_only]
/// A blob registered in `registered_epoch` but not certified, with storage
/// until `end_epoch` (exclusive).
public fun new_registered_for_testing(
    blob_id: u256,
    size: u64,
    deletable: bool,
    registered_epoch: u32,
    end_epoch: u32,
    ctx: &mut TxContext,
): Blob {
    let storage = floe::storage_resource::create_for_test(registered_epoch, end_epoch, size, ctx);
    Blob {
        id: object::new(ctx),
        registered_epoch,
        blob_id,
        size,
        encoding_type: encoding::rs2(),
        certified_epoch: option::none(),
        storage,
        deletable,
    }
}
