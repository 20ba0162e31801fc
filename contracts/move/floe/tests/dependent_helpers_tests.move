#[test_only]
module floe::dependent_helpers_tests;

use floe::blob;
use floe::system;
use std::unit_test::destroy;

/// The `#[test_only]` constructors that packages depending on floe use in
/// their own tests (see `contracts/move/gallery`) build what they promise.
#[test]
fun helpers_for_dependent_packages_build_what_they_say() {
    let mut ctx = tx_context::dummy();
    let certified = blob::new_certified_for_testing(42, 100, true, 3, 8, &mut ctx);
    assert!(certified.blob_id() == 42);
    assert!(certified.size() == 100);
    assert!(certified.is_deletable());
    assert!(certified.certified_epoch() == &option::some(3));
    assert!(certified.registered_epoch() == 3);
    assert!(certified.end_epoch() == 8);
    let registered = blob::new_registered_for_testing(43, 100, false, 3, 8, &mut ctx);
    assert!(registered.certified_epoch().is_none());
    assert!(!registered.is_deletable());
    let system = system::new_at_epoch_for_testing(6, &mut ctx);
    assert!(system.epoch() == 6);
    destroy(certified);
    destroy(registered);
    destroy(system);
}
