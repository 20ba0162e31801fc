#[test_only]
module floe::messages_tests;

use floe::messages;
use floe::test_helpers;
use floe::test_vectors;
use sui::address;
use sui::bcs;

const OBJECT: address = @0x5eed;

fun deletable_body(blob_id_bytes: vector<u8>, object: address): vector<u8> {
    let mut body = blob_id_bytes;
    body.push_back(1);
    body.append(bcs::to_bytes(&object));
    body
}

#[test]
fun parses_permanent_blob_certificate() {
    let certified = messages::new_certified_message(test_vectors::cert_msg(), 0, 9);
    assert!(certified.intent_type() == 1);
    assert!(certified.intent_version() == 0);
    assert!(certified.cert_epoch() == 0);
    assert!(certified.stake_support() == 9);
    let blob_message = certified.certify_blob_message();
    assert!(blob_message.certified_blob_id() == test_helpers::blob_id());
    assert!(blob_message.certified_blob_epoch() == 0);
    let persistence = blob_message.blob_persistence_type();
    assert!(!persistence.is_deletable());
}

#[test]
fun parses_deletable_blob_certificate_and_ignores_trailing_bytes() {
    let mut body = deletable_body(test_vectors::blob_id_bytes(), OBJECT);
    body.append(x"deadbeef");
    let bytes = messages::message_bytes_for_testing(1, 0, 3, 7, body);
    let blob_message = messages::new_certified_message(bytes, 7, 10).certify_blob_message();
    assert!(blob_message.certified_blob_id() == test_helpers::blob_id());
    let persistence = blob_message.blob_persistence_type();
    assert!(persistence.is_deletable());
    assert!(persistence.object_id() == object::id_from_address(OBJECT));
}

#[test]
fun parses_invalid_blob_id() {
    let invalid = messages::new_certified_message(test_vectors::invalid_msg(), 0, 5)
        .invalid_blob_id_message();
    assert!(invalid.invalid_blob_id() == test_helpers::blob_id());
    assert!(invalid.invalid_blob_id_epoch() == 0);
}

#[test]
fun parses_deny_list_and_protocol_messages() {
    let mut body = bcs::to_bytes(&@0x1);
    body.append(bcs::to_bytes(&42u64));
    body.append(bcs::to_bytes(&1000u64));
    body.append(bcs::to_bytes(&77u256));
    let bytes = messages::message_bytes_for_testing(4, 0, 3, 2, body);
    let update = messages::new_certified_message(bytes, 2, 7).deny_list_update_message();
    assert!(update.storage_node_id() == object::id_from_address(@0x1));
    assert!(update.sequence_number() == 42);
    assert!(update.size() == 1000);
    assert!(update.root() == 77);
    assert!(update.deny_list_update_epoch() == 2);

    let bytes = messages::message_bytes_for_testing(5, 0, 3, 2, bcs::to_bytes(&99u256));
    let deleted = messages::new_certified_message(bytes, 2, 4).deny_list_blob_deleted_message();
    assert!(deleted.deny_listed_blob_id() == 99);
    assert!(deleted.deny_listed_blob_epoch() == 2);

    let mut body = bcs::to_bytes(&9u32);
    body.append(bcs::to_bytes(&3u64));
    let bytes = messages::message_bytes_for_testing(6, 0, 3, 2, body);
    let version = messages::new_certified_message(bytes, 2, 7).protocol_version_message();
    assert!(version.start_epoch() == 9);
    assert!(version.protocol_version() == 3);
    assert!(version.protocol_version_epoch() == 2);
}

#[test]
fun proof_of_possession_matches_rust_and_verifies() {
    let sui_address = address::from_bytes(test_vectors::pop_address_bytes());
    let pop = messages::new_proof_of_possession_msg(
        test_vectors::pop_epoch(),
        sui_address,
        test_vectors::pk_0(),
    );
    assert!(pop.to_bcs() == test_vectors::pop_message());
    assert!(pop.verify_proof_of_possession(test_vectors::pop_signature()));
    // Another epoch's message does not verify with that signature.
    let other = messages::new_proof_of_possession_msg(
        test_vectors::pop_epoch() + 1,
        sui_address,
        test_vectors::pk_0(),
    );
    assert!(!other.verify_proof_of_possession(test_vectors::pop_signature()));
}

#[test, expected_failure(abort_code = messages::EIncorrectAppId)]
fun wrong_app_id_aborts() {
    let bytes = messages::message_bytes_for_testing(1, 0, 4, 0, test_vectors::blob_id_bytes());
    messages::new_certified_message(bytes, 0, 9);
}

#[test, expected_failure(abort_code = messages::EIncorrectEpoch)]
fun wrong_epoch_aborts() {
    messages::new_certified_message(test_vectors::cert_msg_epoch_1(), 0, 9);
}

#[test, expected_failure(abort_code = messages::EInvalidMsgType)]
fun wrong_message_type_aborts() {
    messages::new_certified_message(test_vectors::invalid_msg(), 0, 9).certify_blob_message();
}

#[test, expected_failure(abort_code = messages::EInvalidMsgType)]
fun blob_certificate_is_not_an_invalid_blob_id() {
    messages::new_certified_message(test_vectors::cert_msg(), 0, 9).invalid_blob_id_message();
}

#[test, expected_failure(abort_code = messages::EIncorrectIntentVersion)]
fun wrong_intent_version_aborts() {
    let bytes = messages::message_bytes_for_testing(1, 1, 3, 0, test_vectors::blob_id_bytes());
    messages::new_certified_message(bytes, 0, 9);
}

#[test, expected_failure(abort_code = messages::EInvalidBlobPersistenceType)]
fun unknown_persistence_tag_aborts() {
    let mut body = test_vectors::blob_id_bytes();
    body.push_back(2);
    let bytes = messages::message_bytes_for_testing(1, 0, 3, 0, body);
    messages::new_certified_message(bytes, 0, 9).certify_blob_message();
}

#[test, expected_failure(abort_code = messages::ENotDeletable)]
fun permanent_has_no_object_id() {
    let blob_message = messages::new_certified_message(test_vectors::cert_msg(), 0, 9)
        .certify_blob_message();
    let persistence = blob_message.blob_persistence_type();
    persistence.object_id();
}

#[test, expected_failure(abort_code = messages::EInvalidKeyLength)]
fun short_bls_key_aborts() {
    let mut key = test_vectors::pk_0();
    key.pop_back();
    messages::new_proof_of_possession_msg(0, @0x1, key);
}
