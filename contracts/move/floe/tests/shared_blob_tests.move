#[test_only]
module floe::shared_blob_tests;

use floe::blob;
use floe::shared_blob::{Self, SharedBlob};
use floe::system::System;
use floe::test_helpers::{Self, blob_id, root_hash, blob_size, encoded_size, mint_wal};
use floe::test_vectors;
use sui::test_scenario::{Self, Scenario};

const USER: address = @0xa11ce;
const OTHER: address = @0xb0b;

/// Shares a test system, then registers (and certifies, if asked) a blob
/// on `[0, 3)` and shares it with `funds`.
fun setup(scenario: &mut Scenario, certified: bool, funds: u64) {
    let system = test_helpers::new_system(scenario.ctx());
    system.share_for_testing();
    scenario.next_tx(USER);

    let mut system = scenario.take_shared<System>();
    let mut payment = mint_wal(1_000_000, scenario.ctx());
    let storage = system.reserve_space(encoded_size(), 3, &mut payment, scenario.ctx());
    let mut blob = system.register_blob(
        storage,
        blob_id(),
        root_hash(),
        blob_size(),
        1,
        false,
        &mut payment,
        scenario.ctx(),
    );
    if (certified) {
        system.certify_blob(
            &mut blob,
            test_vectors::cert_sig_123(),
            test_vectors::bitmap_123(),
            test_vectors::cert_msg(),
        );
    };
    if (funds == 0) {
        shared_blob::new(blob, scenario.ctx());
    } else {
        let coin = mint_wal(funds, scenario.ctx());
        shared_blob::new_funded(blob, coin, scenario.ctx());
    };
    payment.burn_for_testing();
    test_scenario::return_shared(system);
}

#[test]
fun anyone_funds_and_extends() {
    let mut scenario = test_scenario::begin(USER);
    setup(&mut scenario, true, 100);

    scenario.next_tx(OTHER);
    let mut system = scenario.take_shared<System>();
    let mut shared = scenario.take_shared<SharedBlob>();
    assert!(shared.funds() == 100);
    assert!(shared.blob().end_epoch() == 3);
    let coin = mint_wal(50, scenario.ctx());
    shared.fund(coin);
    assert!(shared.funds() == 150);
    // Two more epochs at 5 FROST each (one storage unit).
    shared.extend(&mut system, 2, scenario.ctx());
    assert!(shared.blob().end_epoch() == 5);
    assert!(shared.funds() == 140);
    test_scenario::return_shared(shared);
    test_scenario::return_shared(system);
    scenario.end();
}

#[test]
fun unfunded_shared_blob() {
    let mut scenario = test_scenario::begin(USER);
    setup(&mut scenario, true, 0);
    scenario.next_tx(OTHER);
    let shared = scenario.take_shared<SharedBlob>();
    assert!(shared.funds() == 0);
    assert!(shared.blob().blob_id() == blob_id());
    test_scenario::return_shared(shared);
    scenario.end();
}

#[test, expected_failure(abort_code = blob::ENotCertified)]
fun extending_uncertified_shared_blob_aborts() {
    let mut scenario = test_scenario::begin(USER);
    setup(&mut scenario, false, 100);
    scenario.next_tx(OTHER);
    let mut system = scenario.take_shared<System>();
    let mut shared = scenario.take_shared<SharedBlob>();
    shared.extend(&mut system, 1, scenario.ctx());
    test_scenario::return_shared(shared);
    test_scenario::return_shared(system);
    scenario.end();
}

#[test, expected_failure]
fun extending_beyond_the_funds_aborts() {
    let mut scenario = test_scenario::begin(USER);
    setup(&mut scenario, true, 9);
    scenario.next_tx(OTHER);
    let mut system = scenario.take_shared<System>();
    let mut shared = scenario.take_shared<SharedBlob>();
    shared.extend(&mut system, 2, scenario.ctx());
    test_scenario::return_shared(shared);
    test_scenario::return_shared(system);
    scenario.end();
}
