#[test_only]
module floe::storage_resource_tests;

use floe::storage_resource;

#[test]
fun split_and_fuse_by_epoch() {
    let mut ctx = tx_context::dummy();
    let mut storage = storage_resource::create_for_test(2, 10, 1000, &mut ctx);
    let later = storage.split_by_epoch(6, &mut ctx);
    assert!(storage.start_epoch() == 2 && storage.end_epoch() == 6 && storage.size() == 1000);
    assert!(later.start_epoch() == 6 && later.end_epoch() == 10 && later.size() == 1000);
    // Fuse back with the second after the first...
    storage.fuse_periods(later);
    assert!(storage.start_epoch() == 2 && storage.end_epoch() == 10);
    // ...and with the second before the first.
    let mut later = storage.split_by_epoch(4, &mut ctx);
    later.fuse_periods(storage);
    assert!(later.start_epoch() == 2 && later.end_epoch() == 10);
    later.destroy();
}

#[test]
fun split_and_fuse_by_size() {
    let mut ctx = tx_context::dummy();
    let mut storage = storage_resource::create_for_test(0, 5, 1000, &mut ctx);
    let rest = storage.split_by_size(300, &mut ctx);
    assert!(storage.size() == 300 && rest.size() == 700);
    assert!(rest.start_epoch() == 0 && rest.end_epoch() == 5);
    storage.fuse_amount(rest);
    assert!(storage.size() == 1000);
    // `fuse` picks by amount for equal starts, by periods otherwise.
    let rest = storage.split_by_size(400, &mut ctx);
    storage.fuse(rest);
    assert!(storage.size() == 1000 && storage.end_epoch() == 5);
    let later = storage.split_by_epoch(3, &mut ctx);
    storage.fuse(later);
    assert!(storage.start_epoch() == 0 && storage.end_epoch() == 5 && storage.size() == 1000);
    // Splitting off everything leaves an empty resource.
    let all = storage.split_by_size(0, &mut ctx);
    assert!(storage.size() == 0 && all.size() == 1000);
    all.destroy();
    storage.destroy();
}

#[test, expected_failure(abort_code = storage_resource::EInvalidEpoch)]
fun split_at_start_aborts() {
    let mut ctx = tx_context::dummy();
    let mut storage = storage_resource::create_for_test(2, 10, 1000, &mut ctx);
    let other = storage.split_by_epoch(2, &mut ctx);
    other.destroy();
    storage.destroy();
}

#[test, expected_failure(abort_code = storage_resource::EInvalidEpoch)]
fun split_at_end_aborts() {
    let mut ctx = tx_context::dummy();
    let mut storage = storage_resource::create_for_test(2, 10, 1000, &mut ctx);
    let other = storage.split_by_epoch(10, &mut ctx);
    other.destroy();
    storage.destroy();
}

#[test, expected_failure(abort_code = storage_resource::EIncompatibleAmount)]
fun split_by_too_much_aborts() {
    let mut ctx = tx_context::dummy();
    let mut storage = storage_resource::create_for_test(2, 10, 1000, &mut ctx);
    let other = storage.split_by_size(1001, &mut ctx);
    other.destroy();
    storage.destroy();
}

#[test, expected_failure(abort_code = storage_resource::EIncompatibleAmount)]
fun fuse_periods_of_different_sizes_aborts() {
    let mut ctx = tx_context::dummy();
    let mut first = storage_resource::create_for_test(0, 5, 1000, &mut ctx);
    let second = storage_resource::create_for_test(5, 8, 999, &mut ctx);
    first.fuse_periods(second);
    first.destroy();
}

#[test, expected_failure(abort_code = storage_resource::EIncompatibleEpochs)]
fun fuse_periods_with_a_gap_aborts() {
    let mut ctx = tx_context::dummy();
    let mut first = storage_resource::create_for_test(0, 5, 1000, &mut ctx);
    let second = storage_resource::create_for_test(6, 8, 1000, &mut ctx);
    first.fuse_periods(second);
    first.destroy();
}

#[test, expected_failure(abort_code = storage_resource::EIncompatibleEpochs)]
fun fuse_amount_of_different_periods_aborts() {
    let mut ctx = tx_context::dummy();
    let mut first = storage_resource::create_for_test(0, 5, 1000, &mut ctx);
    let second = storage_resource::create_for_test(0, 6, 1000, &mut ctx);
    first.fuse_amount(second);
    first.destroy();
}

#[test, expected_failure(abort_code = storage_resource::EInvalidEpochRange)]
fun empty_epoch_range_aborts() {
    let mut ctx = tx_context::dummy();
    let storage = storage_resource::create_for_test(5, 5, 1000, &mut ctx);
    storage.destroy();
}
