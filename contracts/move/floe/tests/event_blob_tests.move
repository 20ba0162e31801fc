#[test_only]
module floe::event_blob_tests;

use floe::event_blob;

#[test]
fun tallies_and_certification() {
    let mut state = event_blob::create_with_empty_state();
    let latest_checkpoint = state.get_latest_certified_checkpoint_sequence_number();
    assert!(latest_checkpoint.is_none());
    assert!(!state.is_blob_already_certified(0));
    assert!(state.update_aggregate_weight(11, 100, 3) == 3);
    assert!(state.update_aggregate_weight(11, 100, 4) == 7);
    assert!(state.update_aggregate_weight(12, 100, 1) == 1);
    assert!(state.num_pending_blobs() == 2);

    state.update_latest_certified_event_blob(100, 11);
    state.reset();
    assert!(state.num_pending_blobs() == 0);
    assert!(state.get_latest_certified_checkpoint_sequence_number() == option::some(100));
    assert!(state.is_blob_already_certified(100));
    assert!(!state.is_blob_already_certified(101));
    let latest = state.get_latest_certified_event_blob().destroy_some();
    assert!(latest.blob_id() == 11 && latest.ending_checkpoint_sequence_number() == 100);
    state.update_latest_certified_event_blob(200, 13);

    let attestation = event_blob::new_attestation(150, 2);
    assert!(attestation.last_attested_event_blob_checkpoint_seq_num() == 150);
    assert!(attestation.last_attested_event_blob_epoch() == 2);
    std::unit_test::destroy(state);
}

#[test, expected_failure(abort_code = event_blob::EInvalidSequenceNumber)]
fun certified_checkpoint_must_increase() {
    let mut state = event_blob::create_with_empty_state();
    state.update_latest_certified_event_blob(100, 11);
    state.update_latest_certified_event_blob(100, 12);
    std::unit_test::destroy(state);
}
