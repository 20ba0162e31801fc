#[test_only]
module floe::system_tests;

use floe::blob::{Self, Blob};
use floe::bls_aggregate;
use floe::events::InvalidBlobID;
use floe::messages;
use floe::system::{Self, System};
use floe::system_state_inner;
use floe::test_helpers::{Self, blob_id, root_hash, blob_size, encoded_size, mint_wal};
use floe::test_vectors;
use sui::balance;
use sui::coin::Coin;
use sui::event;
use wal::wal::WAL;

const INITIAL_FUNDS: u64 = 1_000_000;

fun rewards(system: &System, offset: u32): u64 {
    system.future_accounting().ring_lookup(offset).rewards()
}

fun used(system: &System, offset: u32): u64 {
    system.future_accounting().ring_lookup(offset).used_capacity()
}

/// Reserves storage for `[0, 3)` and registers the test blob on it.
fun register(
    system: &mut System,
    deletable: bool,
    payment: &mut Coin<WAL>,
    ctx: &mut TxContext,
): Blob {
    let storage = system.reserve_space(encoded_size(), 3, payment, ctx);
    system.register_blob(
        storage,
        blob_id(),
        root_hash(),
        blob_size(),
        1,
        deletable,
        payment,
        ctx,
    )
}

fun certify(system: &System, blob: &mut Blob) {
    system.certify_blob(
        blob,
        test_vectors::cert_sig_123(),
        test_vectors::bitmap_123(),
        test_vectors::cert_msg(),
    );
}

#[test]
fun store_lifecycle_and_payments() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    assert!(system.epoch() == 0);
    assert!(system.n_shards() == 10);
    assert!(system.version() == 1);
    assert!(system.max_epochs_ahead() == test_helpers::max_epochs_ahead());
    assert!(system.total_capacity_size() == test_helpers::capacity());
    assert!(system.storage_price_per_unit_size() == 5);
    assert!(system.write_price_per_unit_size() == 7);
    assert!(system.committee().n_members() == 4);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);

    // Reserve [0, 3): 5 FROST per epoch (one unit); register: 7 FROST.
    let storage = system.reserve_space(encoded_size(), 3, &mut payment, &mut ctx);
    assert!(storage.start_epoch() == 0 && storage.end_epoch() == 3);
    assert!(storage.size() == encoded_size());
    assert!(system.used_capacity_size() == encoded_size());
    assert!(used(&system, 2) == encoded_size() && used(&system, 3) == 0);
    let mut blob = system.register_blob(
        storage,
        blob_id(),
        root_hash(),
        blob_size(),
        1,
        false,
        &mut payment,
        &mut ctx,
    );
    assert!(rewards(&system, 0) == 12);
    assert!(rewards(&system, 1) == 5 && rewards(&system, 2) == 5);
    assert!(rewards(&system, 3) == 0);

    // Certify with a real quorum certificate (members 1, 2, 3: 9 shards).
    certify(&system, &mut blob);
    assert!(blob.certified_epoch() == &option::some(0));

    // Extend by paying: epochs 3 and 4.
    system.extend_blob(&mut blob, 2, &mut payment);
    assert!(blob.end_epoch() == 5);
    assert!(rewards(&system, 3) == 5 && rewards(&system, 4) == 5);
    assert!(used(&system, 4) == encoded_size());

    // Extend with a resource for epochs 5 and 6.
    let extension = system.reserve_space_for_epochs(encoded_size(), 5, 7, &mut payment, &mut ctx);
    system.extend_blob_with_resource(&mut blob, extension);
    assert!(blob.end_epoch() == 7);
    assert!(rewards(&system, 6) == 5 && rewards(&system, 7) == 0);
    assert!(payment.value() == INITIAL_FUNDS - 15 - 7 - 10 - 10);

    // Invalidate the blob id with f + 1 shards (members 0 and 3: 5 shards).
    let invalid = system.invalidate_blob_id(
        test_vectors::invalid_sig_03(),
        test_vectors::bitmap_03(),
        test_vectors::invalid_msg(),
    );
    assert!(invalid == blob_id());
    let events = event::events_by_type<InvalidBlobID>();
    assert!(events.length() == 1 && events[0].invalid_blob_id_blob_id() == blob_id());

    // Subsidies: 103 over 4 epochs is 25 each plus 3 now.
    system.add_subsidy(mint_wal(103, &mut ctx), 4);
    assert!(rewards(&system, 0) == 40);
    assert!(rewards(&system, 3) == 30 && rewards(&system, 4) == 5);
    system.add_per_epoch_subsidies(vector[
        balance::create_for_testing<WAL>(1),
        balance::create_for_testing<WAL>(2),
    ]);
    assert!(rewards(&system, 0) == 41 && rewards(&system, 1) == 32);

    // Epoch change: epoch 0's 41 FROST go to the committee by weight x used.
    let node_rewards = system.advance_epoch_for_testing(
        test_helpers::committee(1),
        2 * test_helpers::capacity(),
    );
    assert!(system.epoch() == 1);
    assert!(system.total_capacity_size() == 2 * test_helpers::capacity());
    assert!(system.used_capacity_size() == encoded_size());
    let node_ids = test_helpers::node_ids();
    assert!(node_rewards.get(&node_ids[0]).value() == 4);
    assert!(node_rewards.get(&node_ids[3]).value() == 16);
    // 4 + 8 + 12 + 16 = 40: the remaining 1 FROST moves to epoch 1.
    assert!(rewards(&system, 0) == 33);
    std::unit_test::destroy(node_rewards);

    // A start in the past is moved to the current epoch.
    let storage = system.reserve_space_for_epochs(100, 0, 3, &mut payment, &mut ctx);
    assert!(storage.start_epoch() == 1 && storage.end_epoch() == 3);
    storage.destroy();

    // The burn share of the current epoch: 3% of 33 + 5 (floored).
    assert!(rewards(&system, 0) == 38);
    let burn = system.extract_burn_balance();
    assert!(burn.destroy_for_testing() == 1);
    assert!(rewards(&system, 0) == 37);

    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test]
fun delete_returns_reusable_storage() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let blob = register(&mut system, true, &mut payment, &mut ctx);
    let storage = system.delete_blob(blob);
    // The storage registers the same blob again (paying only the write fee).
    let before = payment.value();
    let blob = system.register_blob(
        storage,
        blob_id(),
        root_hash(),
        blob_size(),
        1,
        true,
        &mut payment,
        &mut ctx,
    );
    assert!(payment.value() == before - 7);
    let storage = system.delete_blob(blob);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test]
fun free_prices_need_no_payment() {
    let mut ctx = tx_context::dummy();
    let inner = system_state_inner::create(test_helpers::committee(0), 5, 1_000_000, 0, 0, &mut ctx);
    let mut system = system::new_for_testing(inner, &mut ctx);
    let mut payment = mint_wal(0, &mut ctx);
    let blob = register(&mut system, false, &mut payment, &mut ctx);
    blob.burn();
    payment.destroy_zero();
    system.destroy_for_testing();
}

#[test]
fun storage_units_round_up() {
    assert!(system_state_inner::storage_units_from_size(1) == 1);
    assert!(system_state_inner::storage_units_from_size(1_048_576) == 1);
    assert!(system_state_inner::storage_units_from_size(1_048_577) == 2);
}

// === system_state_inner aborts ===

#[test, expected_failure(abort_code = system_state_inner::EInvalidMaxEpochsAhead)]
fun zero_max_epochs_ahead_aborts() {
    let mut ctx = tx_context::dummy();
    let inner = system_state_inner::create(test_helpers::committee(0), 0, 1, 1, 1, &mut ctx);
    inner.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidMaxEpochsAhead)]
fun too_many_max_epochs_ahead_aborts() {
    let mut ctx = tx_context::dummy();
    let inner = system_state_inner::create(test_helpers::committee(0), 1001, 1, 1, 1, &mut ctx);
    inner.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EStorageExceeded)]
fun reserving_beyond_capacity_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let storage = system.reserve_space(test_helpers::capacity() + 1, 1, &mut payment, &mut ctx);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EStorageExceeded)]
fun extending_beyond_capacity_aborts() {
    let mut ctx = tx_context::dummy();
    let inner = system_state_inner::create(
        test_helpers::committee(0),
        5,
        encoded_size(),
        1,
        1,
        &mut ctx,
    );
    let mut system = system::new_for_testing(inner, &mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    certify(&system, &mut blob);
    // Epoch 3 is full already.
    let other = system.reserve_space_for_epochs(encoded_size(), 3, 4, &mut payment, &mut ctx);
    system.extend_blob(&mut blob, 1, &mut payment);
    other.destroy();
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidEpochsAhead)]
fun reserving_zero_epochs_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let storage = system.reserve_space(1000, 0, &mut payment, &mut ctx);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidEpochsAhead)]
fun reserving_too_far_ahead_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let storage = system.reserve_space(1000, 11, &mut payment, &mut ctx);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidEpochsAhead)]
fun reserving_empty_epoch_range_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let storage = system.reserve_space_for_epochs(1000, 3, 3, &mut payment, &mut ctx);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidEpochsAhead)]
fun reserving_epochs_too_far_ahead_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let storage = system.reserve_space_for_epochs(1000, 3, 11, &mut payment, &mut ctx);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidEpochsAhead)]
fun extending_by_zero_epochs_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    certify(&system, &mut blob);
    system.extend_blob(&mut blob, 0, &mut payment);
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidEpochsAhead)]
fun extending_too_far_ahead_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    certify(&system, &mut blob);
    // Ends at 3; 3 + 8 = 11 > 10 epochs ahead.
    system.extend_blob(&mut blob, 8, &mut payment);
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidEpochsAhead)]
fun subsidy_over_zero_epochs_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    system.add_subsidy(mint_wal(100, &mut ctx), 0);
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidEpochsAhead)]
fun too_many_per_epoch_subsidies_abort() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut subsidies = vector[];
    let mut i: u64 = 0;
    while (i < 11) {
        subsidies.push_back(balance::create_for_testing<WAL>(1));
        i = i + 1;
    };
    system.add_per_epoch_subsidies(subsidies);
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EInvalidResourceSize)]
fun reserving_zero_bytes_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let storage = system.reserve_space(0, 1, &mut payment, &mut ctx);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system_state_inner::EIncorrectCommittee)]
fun advancing_to_a_committee_of_another_epoch_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let node_rewards = system.advance_epoch_for_testing(test_helpers::committee(2), 1);
    std::unit_test::destroy(node_rewards);
    system.destroy_for_testing();
}

#[test, expected_failure]
fun insufficient_payment_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(14, &mut ctx);
    let storage = system.reserve_space(1000, 3, &mut payment, &mut ctx);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

// === system aborts ===

#[test, expected_failure(abort_code = system::EWrongVersion)]
fun wrong_version_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    system.set_version_for_testing(2);
    system.epoch();
    system.set_version_for_testing(1);
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system::EWrongVersion)]
fun wrong_version_blocks_mutation() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    system.set_version_for_testing(0);
    system.add_subsidy(mint_wal(1, &mut ctx), 1);
    system.set_version_for_testing(1);
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = system::EInvalidMigration)]
fun migrating_to_the_same_version_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    system.set_new_package_id_for_testing(object::id_from_address(@0x77));
    assert!(system.new_package_id() == option::some(object::id_from_address(@0x77)));
    system.migrate_for_testing();
    system.destroy_for_testing();
}

// === Certificate aborts through the system ===

#[test, expected_failure(abort_code = messages::EIncorrectEpoch)]
fun certificate_of_another_epoch_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    system.certify_blob(
        &mut blob,
        test_vectors::cert_sig_epoch_1_123(),
        test_vectors::bitmap_123(),
        test_vectors::cert_msg_epoch_1(),
    );
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = bls_aggregate::ENotEnoughStake)]
fun certificate_without_quorum_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    system.certify_blob(
        &mut blob,
        test_vectors::cert_sig_012(),
        test_vectors::bitmap_012(),
        test_vectors::cert_msg(),
    );
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = bls_aggregate::ESigVerification)]
fun forged_certificate_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    system.certify_blob(
        &mut blob,
        test_vectors::cert_sig_123(),
        test_vectors::bitmap_all(),
        test_vectors::cert_msg(),
    );
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = blob::EInvalidBlobId)]
fun certificate_for_another_blob_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    system.certify_blob(
        &mut blob,
        test_vectors::cert_sig_other_blob_123(),
        test_vectors::bitmap_123(),
        test_vectors::cert_msg_other_blob(),
    );
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = blob::EAlreadyCertified)]
fun certifying_twice_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    certify(&system, &mut blob);
    certify(&system, &mut blob);
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = bls_aggregate::ENotEnoughStake)]
fun invalidation_without_one_correct_node_aborts() {
    let mut ctx = tx_context::dummy();
    let system = test_helpers::new_system(&mut ctx);
    system.invalidate_blob_id(
        test_vectors::invalid_sig_0(),
        test_vectors::bitmap_0(),
        test_vectors::invalid_msg(),
    );
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = messages::EInvalidMsgType)]
fun invalidation_with_a_blob_certificate_aborts() {
    let mut ctx = tx_context::dummy();
    let system = test_helpers::new_system(&mut ctx);
    system.invalidate_blob_id(
        test_vectors::cert_sig_123(),
        test_vectors::bitmap_123(),
        test_vectors::cert_msg(),
    );
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = blob::ENotCertified)]
fun extending_an_uncertified_blob_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let mut blob = register(&mut system, false, &mut payment, &mut ctx);
    system.extend_blob(&mut blob, 1, &mut payment);
    blob.burn();
    payment.burn_for_testing();
    system.destroy_for_testing();
}

#[test, expected_failure(abort_code = blob::EBlobNotDeletable)]
fun deleting_a_permanent_blob_aborts() {
    let mut ctx = tx_context::dummy();
    let mut system = test_helpers::new_system(&mut ctx);
    let mut payment = mint_wal(INITIAL_FUNDS, &mut ctx);
    let blob = register(&mut system, false, &mut payment, &mut ctx);
    let storage = system.delete_blob(blob);
    storage.destroy();
    payment.burn_for_testing();
    system.destroy_for_testing();
}
