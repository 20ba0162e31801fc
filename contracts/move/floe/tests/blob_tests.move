#[test_only]
module floe::blob_tests;

use floe::blob::{Self, Blob};
use floe::encoding;
use floe::events::{BlobRegistered, BlobCertified, BlobDeleted};
use floe::messages::{Self, CertifiedBlobMessage};
use floe::metadata;
use floe::storage_resource::{Self, Storage};
use floe::test_helpers::{blob_id, root_hash, other_blob_id, blob_size, encoded_size};
use std::string::{Self, String};
use sui::event;

const N_SHARDS: u16 = 10;

fun s(bytes: vector<u8>): String { string::utf8(bytes) }

fun new_storage(start: u32, end: u32, size: u64, ctx: &mut TxContext): Storage {
    storage_resource::create_for_test(start, end, size, ctx)
}

/// A blob on storage `[0, 5)` registered in `epoch`.
fun register(deletable: bool, epoch: u32, ctx: &mut TxContext): Blob {
    let storage = new_storage(0, 5, encoded_size(), ctx);
    blob::new(
        storage,
        blob_id(),
        root_hash(),
        blob_size(),
        encoding::rs2(),
        deletable,
        epoch,
        N_SHARDS,
        ctx,
    )
}

fun permanent_message(id: u256, epoch: u32): CertifiedBlobMessage {
    messages::certified_blob_message_for_testing(epoch, id, messages::permanent_for_testing())
}

fun deletable_message(id: u256, object_id: ID, epoch: u32): CertifiedBlobMessage {
    messages::certified_blob_message_for_testing(
        epoch,
        id,
        messages::deletable_for_testing(object_id),
    )
}

fun certified_blob(ctx: &mut TxContext): Blob {
    let mut blob = register(false, 0, ctx);
    blob.certify_with_certified_msg(0, permanent_message(blob_id(), 0));
    blob
}

#[test]
fun derived_blob_id_matches_rust() {
    assert!(blob::derive_blob_id(root_hash(), encoding::rs2(), blob_size()) == blob_id());
    assert!(blob::derive_blob_id(root_hash(), encoding::rs2(), blob_size() + 1) != blob_id());
}

#[test]
fun register_and_certify_permanent_blob() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(false, 1, &mut ctx);
    assert!(blob.blob_id() == blob_id());
    assert!(blob.registered_epoch() == 1);
    assert!(blob.size() == blob_size());
    assert!(blob.encoding_type() == 1);
    assert!(blob.certified_epoch().is_none());
    assert!(!blob.is_deletable());
    assert!(blob.end_epoch() == 5);
    assert!(blob.storage().size() == encoded_size());
    assert!(blob.encoded_size(N_SHARDS) == encoded_size());
    let registered = event::events_by_type<BlobRegistered>();
    assert!(registered.length() == 1);
    assert!(registered[0].blob_registered_blob_id() == blob_id());
    assert!(registered[0].blob_registered_end_epoch() == 5);

    blob.certify_with_certified_msg(2, permanent_message(blob_id(), 2));
    assert!(blob.certified_epoch() == &option::some(2));
    let certified = event::events_by_type<BlobCertified>();
    assert!(certified.length() == 1);
    assert!(certified[0].blob_certified_epoch() == 2);
    assert!(!certified[0].blob_certified_is_extension());
    blob.burn();
}

#[test]
fun certify_and_delete_deletable_blob() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(true, 0, &mut ctx);
    let object_id = blob.object_id();
    blob.certify_with_certified_msg(0, deletable_message(blob_id(), object_id, 0));
    let storage = blob.delete(4);
    assert!(storage.start_epoch() == 0 && storage.end_epoch() == 5);
    let deleted = event::events_by_type<BlobDeleted>();
    assert!(deleted.length() == 1);
    assert!(deleted[0].blob_deleted_was_certified());
    storage.destroy();
}

#[test]
fun delete_uncertified_blob() {
    let mut ctx = tx_context::dummy();
    let blob = register(true, 0, &mut ctx);
    let storage = blob.delete(0);
    let deleted = event::events_by_type<BlobDeleted>();
    assert!(!deleted[0].blob_deleted_was_certified());
    storage.destroy();
}

#[test]
fun extend_certified_blob() {
    let mut ctx = tx_context::dummy();
    let mut blob = certified_blob(&mut ctx);
    let extension = new_storage(5, 8, encoded_size(), &mut ctx);
    blob.extend_with_resource(extension, 3);
    assert!(blob.end_epoch() == 8);
    blob.extend_storage_end_epoch(2, 7);
    assert!(blob.end_epoch() == 10);
    let certified = event::events_by_type<BlobCertified>();
    assert!(certified.length() == 3);
    assert!(certified[2].blob_certified_is_extension());
    // Extensions report the original certification epoch.
    assert!(certified[2].blob_certified_epoch() == 0);
    assert!(certified[2].blob_certified_end_epoch() == 10);
    blob.burn();
}

#[test]
fun attributes() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(true, 0, &mut ctx);
    assert!(!blob.has_metadata());
    let missing = blob.remove_metadata_pair_if_exists(&s(b"k"));
    assert!(missing.is_none());
    blob.insert_or_update_metadata_pair(s(b"k"), s(b"v"));
    blob.insert_or_update_metadata_pair(s(b"_walrusBlobType"), s(b"quilt"));
    assert!(blob.has_metadata());
    assert!(blob.borrow_metadata().metadata().length() == 2);
    let (key, value) = blob.remove_metadata_pair(&s(b"k"));
    assert!(key == s(b"k") && value == s(b"v"));
    let gone = blob.remove_metadata_pair_if_exists(&s(b"k"));
    assert!(gone.is_none());

    let old = blob.add_or_replace_metadata(metadata::new());
    assert!(old.is_some());
    let mut replaced = old.destroy_some();
    let quilt = replaced.remove_if_exists(&s(b"_walrusBlobType"));
    assert!(quilt == option::some(s(b"quilt")));
    let taken = blob.take_metadata();
    assert!(taken.metadata().is_empty());
    assert!(!blob.has_metadata());
    blob.add_metadata(taken);
    let previous = blob.add_or_replace_metadata(metadata::new());
    assert!(previous.is_some());
    // Deleting and burning drop the attributes with the blob.
    let storage = blob.delete(0);
    storage.destroy();
    let mut blob = register(false, 0, &mut ctx);
    blob.add_metadata(metadata::new());
    blob.burn();
}

// === Registration aborts ===

#[test, expected_failure(abort_code = blob::EResourceBounds)]
fun register_outside_storage_epochs_aborts() {
    let mut ctx = tx_context::dummy();
    let blob = register(false, 5, &mut ctx);
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EResourceSize)]
fun register_on_too_small_storage_aborts() {
    let mut ctx = tx_context::dummy();
    let storage = new_storage(0, 5, encoded_size() - 1, &mut ctx);
    let blob = blob::new(
        storage,
        blob_id(),
        root_hash(),
        blob_size(),
        1,
        false,
        0,
        N_SHARDS,
        &mut ctx,
    );
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EInvalidBlobId)]
fun register_with_wrong_blob_id_aborts() {
    let mut ctx = tx_context::dummy();
    let storage = new_storage(0, 5, encoded_size(), &mut ctx);
    let blob = blob::new(
        storage,
        other_blob_id(),
        root_hash(),
        blob_size(),
        1,
        false,
        0,
        N_SHARDS,
        &mut ctx,
    );
    blob.burn();
}

#[test, expected_failure(abort_code = encoding::EInvalidEncodingType)]
fun register_with_unknown_encoding_aborts() {
    let mut ctx = tx_context::dummy();
    let storage = new_storage(0, 5, encoded_size(), &mut ctx);
    let blob = blob::new(
        storage,
        blob_id(),
        root_hash(),
        blob_size(),
        2,
        false,
        0,
        N_SHARDS,
        &mut ctx,
    );
    blob.burn();
}

// === Certification aborts ===

#[test, expected_failure(abort_code = blob::EInvalidBlobId)]
fun certify_with_other_blob_id_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(false, 0, &mut ctx);
    blob.certify_with_certified_msg(0, permanent_message(other_blob_id(), 0));
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EAlreadyCertified)]
fun certify_twice_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = certified_blob(&mut ctx);
    blob.certify_with_certified_msg(1, permanent_message(blob_id(), 1));
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EResourceBounds)]
fun certify_expired_blob_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(false, 0, &mut ctx);
    blob.certify_with_certified_msg(5, permanent_message(blob_id(), 5));
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EInvalidBlobPersistenceType)]
fun certify_deletable_with_permanent_message_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(true, 0, &mut ctx);
    blob.certify_with_certified_msg(0, permanent_message(blob_id(), 0));
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EInvalidBlobPersistenceType)]
fun certify_permanent_with_deletable_message_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(false, 0, &mut ctx);
    let object_id = blob.object_id();
    blob.certify_with_certified_msg(0, deletable_message(blob_id(), object_id, 0));
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EInvalidBlobObject)]
fun certify_deletable_for_other_object_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(true, 0, &mut ctx);
    let other = object::id_from_address(@0xbad);
    blob.certify_with_certified_msg(0, deletable_message(blob_id(), other, 0));
    blob.burn();
}

// === Deletion aborts ===

#[test, expected_failure(abort_code = blob::EBlobNotDeletable)]
fun delete_permanent_blob_aborts() {
    let mut ctx = tx_context::dummy();
    let blob = certified_blob(&mut ctx);
    let storage = blob.delete(1);
    storage.destroy();
}

#[test, expected_failure(abort_code = blob::EResourceBounds)]
fun delete_expired_blob_aborts() {
    let mut ctx = tx_context::dummy();
    let blob = register(true, 0, &mut ctx);
    let storage = blob.delete(5);
    storage.destroy();
}

// === Extension aborts ===

#[test, expected_failure(abort_code = blob::ENotCertified)]
fun extend_uncertified_blob_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(false, 0, &mut ctx);
    let extension = new_storage(5, 8, encoded_size(), &mut ctx);
    blob.extend_with_resource(extension, 1);
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EResourceBounds)]
fun extend_expired_blob_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = certified_blob(&mut ctx);
    blob.extend_storage_end_epoch(2, 5);
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EResourceBounds)]
fun extend_with_non_adjacent_resource_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = certified_blob(&mut ctx);
    let extension = new_storage(6, 8, encoded_size(), &mut ctx);
    blob.extend_with_resource(extension, 1);
    blob.burn();
}

#[test, expected_failure(abort_code = storage_resource::EIncompatibleAmount)]
fun extend_with_resource_of_other_size_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = certified_blob(&mut ctx);
    let extension = new_storage(5, 8, encoded_size() + 1, &mut ctx);
    blob.extend_with_resource(extension, 1);
    blob.burn();
}

// === Attribute aborts ===

#[test, expected_failure(abort_code = blob::EDuplicateMetadata)]
fun add_metadata_twice_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(false, 0, &mut ctx);
    blob.add_metadata(metadata::new());
    blob.add_metadata(metadata::new());
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EMissingMetadata)]
fun take_missing_metadata_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(false, 0, &mut ctx);
    let taken = blob.take_metadata();
    blob.add_metadata(taken);
    blob.burn();
}

#[test, expected_failure(abort_code = blob::EMissingMetadata)]
fun remove_pair_without_metadata_aborts() {
    let mut ctx = tx_context::dummy();
    let mut blob = register(false, 0, &mut ctx);
    let (_, _) = blob.remove_metadata_pair(&s(b"k"));
    blob.burn();
}
