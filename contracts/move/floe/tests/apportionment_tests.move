#[test_only]
module floe::apportionment_tests;

use floe::apportionment::{apportion, max_shards_per_node};

#[test]
fun dhondt_without_a_binding_cap() {
    // Quotients 100, 60, 50, 40, 33, 30, 25, 20, 20, 20: 5, 3, 2.
    assert!(apportion(vector[100, 60, 40], 10) == vector[5, 3, 2]);
    assert!(apportion(vector[60, 30, 10], 10) == vector[6, 3, 1]);
    assert!(apportion(vector[10, 2], 10) == vector[9, 1]);
}

#[test]
fun equal_quotients_go_to_the_earlier_node() {
    assert!(apportion(vector[1, 1], 3) == vector[2, 1]);
    assert!(apportion(vector[5, 5, 5], 4) == vector[2, 1, 1]);
}

#[test]
fun the_cap_binds_a_whale() {
    // 4 nodes: at most ceil(2 * 10 / 4) = 5 each.
    assert!(max_shards_per_node(4, 10) == 5);
    assert!(apportion(vector[1000, 1, 1, 1], 10) == vector[5, 2, 2, 1]);
    // From 20 nodes on: n_shards / 10, but at least ceil(n_shards / n).
    assert!(max_shards_per_node(25, 1000) == 100);
    assert!(max_shards_per_node(25, 5) == 1);
}

#[test]
fun every_shard_is_assigned() {
    let shards = apportion(vector[7, 0, 3, 11, 1], 1000);
    let mut total = 0;
    shards.do_ref!(|s| total = total + (*s as u64));
    assert!(total == 1000);
    assert!(apportion(vector[], 10) == vector[]);
    // Zero stake still takes shards when the others are capped.
    assert!(apportion(vector[1, 0], 4) == vector[4, 0]);
}

#[test]
fun more_stake_never_means_fewer_shards() {
    let before = apportion(vector[30, 50, 20], 100);
    let after = apportion(vector[35, 50, 20], 100);
    assert!(after[0] >= before[0]);
}
