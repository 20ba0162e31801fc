#[test_only]
module floe::bls_aggregate_tests;

use floe::bls_aggregate;
use floe::test_helpers;
use floe::test_vectors;
use sui::bls12381;

#[test]
fun committee_sums_weights_and_keys() {
    let committee = test_helpers::committee(0);
    assert!(committee.epoch() == 0);
    assert!(committee.n_shards() == 10);
    assert!(committee.n_members() == 4);
    let node_ids = test_helpers::node_ids();
    assert!(committee.get_member_weight(&node_ids[2]) == 3);
    assert!(committee.get_member_weight(&object::id_from_address(@0x99)) == 0);
    assert!(committee.contains(&node_ids[0]));
    assert!(committee.find_index(&node_ids[3]) == option::some(3));
    let weights = committee.to_vec_map();
    assert!(*weights.get(&node_ids[1]) == 2);

    // The total key is the sum of the members' keys.
    let mut sum = bls12381::g1_identity();
    let keys = test_helpers::public_keys();
    let mut i = 0;
    while (i < keys.length()) {
        sum = bls12381::g1_add(&sum, &bls12381::g1_from_bytes(&keys[i]));
        i = i + 1;
    };
    assert!(committee.total_aggregated_key() == &sum);
}

#[test]
fun thresholds_count_shards() {
    let committee = test_helpers::committee(0);
    // n = 10: quorum needs 7 (3w >= 21), one correct node 4 (3w >= 11).
    assert!(!committee.is_quorum(6));
    assert!(committee.is_quorum(7));
    assert!(!committee.includes_one_correct_node(3));
    assert!(committee.includes_one_correct_node(4));
}

#[test]
fun quorum_certificate_verifies() {
    let committee = test_helpers::committee(0);
    let certified = committee.verify_quorum_in_epoch(
        test_vectors::cert_sig_123(),
        test_vectors::bitmap_123(),
        test_vectors::cert_msg(),
    );
    assert!(certified.stake_support() == 9);
    assert!(certified.cert_epoch() == 0);
}

#[test]
fun certificate_of_all_members_verifies() {
    let committee = test_helpers::committee(0);
    let certified = committee.verify_quorum_in_epoch(
        test_vectors::cert_sig_all(),
        test_vectors::bitmap_all(),
        test_vectors::cert_msg(),
    );
    assert!(certified.stake_support() == 10);
}

#[test]
fun validity_certificate_verifies() {
    let committee = test_helpers::committee(0);
    let certified = committee.verify_one_correct_node_in_epoch(
        test_vectors::invalid_sig_03(),
        test_vectors::bitmap_03(),
        test_vectors::invalid_msg(),
    );
    assert!(certified.stake_support() == 5);
    // Six shards are enough for validity, not for a quorum.
    let certified = committee.verify_one_correct_node_in_epoch(
        test_vectors::cert_sig_012(),
        test_vectors::bitmap_012(),
        test_vectors::cert_msg(),
    );
    assert!(certified.stake_support() == 6);
}

#[test, expected_failure(abort_code = bls_aggregate::EInvalidBitmap)]
fun bitmap_too_long_aborts() {
    let committee = test_helpers::committee(0);
    committee.verify_quorum_in_epoch(
        test_vectors::cert_sig_123(),
        x"0e00",
        test_vectors::cert_msg(),
    );
}

#[test, expected_failure(abort_code = bls_aggregate::EInvalidBitmap)]
fun bit_past_members_aborts() {
    let committee = test_helpers::committee(0);
    committee.verify_quorum_in_epoch(
        test_vectors::cert_sig_123(),
        x"1e",
        test_vectors::cert_msg(),
    );
}

#[test, expected_failure(abort_code = bls_aggregate::ENotEnoughStake)]
fun too_little_stake_for_quorum_aborts() {
    let committee = test_helpers::committee(0);
    committee.verify_quorum_in_epoch(
        test_vectors::cert_sig_012(),
        test_vectors::bitmap_012(),
        test_vectors::cert_msg(),
    );
}

#[test, expected_failure(abort_code = bls_aggregate::ENotEnoughStake)]
fun too_little_stake_for_validity_aborts() {
    let committee = test_helpers::committee(0);
    committee.verify_one_correct_node_in_epoch(
        test_vectors::invalid_sig_0(),
        test_vectors::bitmap_0(),
        test_vectors::invalid_msg(),
    );
}

#[test, expected_failure(abort_code = bls_aggregate::ESigVerification)]
fun signature_of_other_signers_aborts() {
    // Claims all four members signed, but only members 1, 2 and 3 did.
    let committee = test_helpers::committee(0);
    committee.verify_quorum_in_epoch(
        test_vectors::cert_sig_123(),
        test_vectors::bitmap_all(),
        test_vectors::cert_msg(),
    );
}

#[test, expected_failure(abort_code = bls_aggregate::ESigVerification)]
fun signature_over_other_message_aborts() {
    let committee = test_helpers::committee(0);
    committee.verify_quorum_in_epoch(
        test_vectors::cert_sig_other_blob_123(),
        test_vectors::bitmap_123(),
        test_vectors::cert_msg(),
    );
}

#[test, expected_failure(abort_code = bls_aggregate::EIncorrectCommittee)]
fun zero_weight_member_aborts() {
    bls_aggregate::new_bls_committee_for_testing(
        0,
        test_helpers::public_keys(),
        vector[1, 2, 0, 4],
        test_helpers::node_ids(),
    );
}
