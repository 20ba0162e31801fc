#[test_only]
module floe::storage_accounting_tests;

use floe::storage_accounting;
use sui::balance;
use wal::wal::WAL;

#[test]
fun ring_lookup_and_pop_expand() {
    let mut ring = storage_accounting::ring_new(4, 3);
    assert!(ring.max_epochs_ahead() == 3);
    assert!(ring.ring_lookup(0).epoch() == 4);
    assert!(ring.ring_lookup(2).epoch() == 6);

    ring.ring_lookup_mut(0).increase_used_capacity(100);
    ring.ring_lookup_mut(1).increase_used_capacity(200);
    assert!(ring.ring_lookup_mut(1).increase_used_capacity(50) == 250);
    ring.ring_lookup_mut(0).rewards_balance().join(balance::create_for_testing<WAL>(1000));

    let popped = ring.ring_pop_expand();
    assert!(popped.epoch() == 4);
    assert!(popped.used_capacity() == 100);
    assert!(popped.rewards() == 1000);
    assert!(popped.unwrap_balance().destroy_for_testing() == 1000);

    assert!(ring.ring_lookup(0).epoch() == 5);
    assert!(ring.ring_lookup(0).used_capacity() == 250);
    assert!(ring.ring_lookup(1).epoch() == 6);
    assert!(ring.ring_lookup(2).epoch() == 7);
    assert!(ring.ring_lookup(2).used_capacity() == 0);

    // Wraps around the buffer several times.
    let mut i = 0;
    while (i < 7) {
        let popped = ring.ring_pop_expand();
        assert!(popped.epoch() == 5 + i);
        popped.unwrap_balance().destroy_zero();
        i = i + 1;
    };
    assert!(ring.ring_lookup(0).epoch() == 12);
    assert!(ring.ring_lookup(2).epoch() == 14);
    ring.destroy_for_testing();
}

#[test]
fun burn_takes_three_percent_of_the_current_epoch() {
    let mut ring = storage_accounting::ring_new(0, 2);
    ring.ring_lookup_mut(0).rewards_balance().join(balance::create_for_testing<WAL>(1000));
    ring.ring_lookup_mut(1).rewards_balance().join(balance::create_for_testing<WAL>(500));
    let burn = ring.extract_burn_balance();
    assert!(burn.destroy_for_testing() == 30);
    assert!(ring.ring_lookup(0).rewards() == 970);
    assert!(ring.ring_lookup(1).rewards() == 500);
    ring.destroy_for_testing();
}

#[test]
fun future_accounting_entry() {
    let mut entry = storage_accounting::new_future_accounting(
        3,
        10,
        balance::create_for_testing<WAL>(5),
    );
    assert!(entry.epoch() == 3 && entry.used_capacity() == 10 && entry.rewards() == 5);
    assert!(entry.increase_used_capacity(5) == 15);
    assert!(entry.unwrap_balance().destroy_for_testing() == 5);
}

#[test, expected_failure(abort_code = storage_accounting::ETooFarInFuture)]
fun lookup_past_the_ring_aborts() {
    let ring = storage_accounting::ring_new(0, 3);
    ring.ring_lookup(3);
    ring.destroy_for_testing();
}

#[test, expected_failure(abort_code = storage_accounting::ETooFarInFuture)]
fun mutable_lookup_past_the_ring_aborts() {
    let mut ring = storage_accounting::ring_new(0, 3);
    ring.ring_lookup_mut(4).increase_used_capacity(1);
    ring.destroy_for_testing();
}
