#[test_only]
module gallery::gallery_tests;

use floe::blob;
use floe::system;
use gallery::gallery::{Self, Gallery};
use std::string;
use std::unit_test::destroy;
use sui::test_scenario::{Self, Scenario};

const OWNER: address = @0xa11ce;
const OTHER: address = @0xb0b;

/// A shared gallery created by `OWNER`; the next transaction is `sender`'s.
fun setup(sender: address): Scenario {
    let mut scenario = test_scenario::begin(OWNER);
    gallery::create(scenario.ctx());
    scenario.next_tx(sender);
    scenario
}

#[test]
fun certified_blob_is_added_read_and_removed() {
    let mut scenario = setup(OWNER);
    let mut g = scenario.take_shared<Gallery>();
    let system = system::new_at_epoch_for_testing(3, scenario.ctx());
    let b = blob::new_certified_for_testing(0xb10b, 1024, false, 2, 10, scenario.ctx());
    g.add(&system, string::utf8(b"cover"), b, scenario.ctx());
    assert!(g.length() == 1);
    assert!(g.owner() == OWNER);
    assert!(g.blob_id(0) == 0xb10b);
    assert!(*g.title(0) == string::utf8(b"cover"));
    let stored = g.blob(0);
    assert!(stored.size() == 1024);
    assert!(g.item_available(0, &system));
    let back = g.remove(0, scenario.ctx());
    assert!(g.length() == 0);
    assert!(back.blob_id() == 0xb10b);
    destroy(back);
    destroy(system);
    test_scenario::return_shared(g);
    scenario.end();
}

#[test]
fun an_item_stops_being_available_when_its_blob_expires() {
    let mut scenario = setup(OWNER);
    let mut g = scenario.take_shared<Gallery>();
    let now = system::new_at_epoch_for_testing(4, scenario.ctx());
    let b = blob::new_certified_for_testing(7, 10, true, 4, 5, scenario.ctx());
    g.add(&now, string::utf8(b"short-lived"), b, scenario.ctx());
    assert!(g.item_available(0, &now));
    let later = system::new_at_epoch_for_testing(5, scenario.ctx());
    assert!(!g.item_available(0, &later));
    destroy(now);
    destroy(later);
    test_scenario::return_shared(g);
    scenario.end();
}

#[test, expected_failure(abort_code = gallery::ENotCertified)]
fun an_uncertified_blob_is_refused() {
    let mut scenario = setup(OWNER);
    let mut g = scenario.take_shared<Gallery>();
    let system = system::new_at_epoch_for_testing(3, scenario.ctx());
    let b = blob::new_registered_for_testing(0xb10b, 1024, false, 3, 10, scenario.ctx());
    g.add(&system, string::utf8(b"pending"), b, scenario.ctx());
    destroy(system);
    test_scenario::return_shared(g);
    scenario.end();
}

#[test, expected_failure(abort_code = gallery::EExpired)]
fun an_expired_blob_is_refused() {
    let mut scenario = setup(OWNER);
    let mut g = scenario.take_shared<Gallery>();
    let system = system::new_at_epoch_for_testing(10, scenario.ctx());
    let b = blob::new_certified_for_testing(0xb10b, 1024, false, 2, 10, scenario.ctx());
    g.add(&system, string::utf8(b"old"), b, scenario.ctx());
    destroy(system);
    test_scenario::return_shared(g);
    scenario.end();
}

#[test, expected_failure(abort_code = gallery::ENotOwner)]
fun only_the_owner_adds() {
    let mut scenario = setup(OTHER);
    let mut g = scenario.take_shared<Gallery>();
    let system = system::new_at_epoch_for_testing(3, scenario.ctx());
    let b = blob::new_certified_for_testing(0xb10b, 1024, false, 2, 10, scenario.ctx());
    g.add(&system, string::utf8(b"intruder"), b, scenario.ctx());
    destroy(system);
    test_scenario::return_shared(g);
    scenario.end();
}

#[test, expected_failure(abort_code = gallery::ENoSuchItem)]
fun removing_a_missing_item_aborts() {
    let mut scenario = setup(OWNER);
    let mut g = scenario.take_shared<Gallery>();
    let b = g.remove(0, scenario.ctx());
    destroy(b);
    test_scenario::return_shared(g);
    scenario.end();
}
