#[test_only]
module floe::committee_tests;

use floe::committee;
use sui::vec_map;

fun id(n: address): ID { object::id_from_address(n) }

fun weights(ids: vector<address>, counts: vector<u16>): vec_map::VecMap<ID, u16> {
    vec_map::from_keys_values(ids.map!(|a| id(a)), counts)
}

#[test]
fun initialize_hands_out_shards_in_node_id_order() {
    let c = committee::initialize(weights(vector[@0x3, @0x1, @0x2], vector[2, 1, 0]));
    assert!(c.size() == 2);
    assert!(c.shards(&id(@0x1)) == &vector[0]);
    assert!(c.shards(&id(@0x3)) == &vector[1, 2]);
    assert!(!c.contains(&id(@0x2)));
}

#[test]
fun transition_moves_only_what_changes() {
    let old = committee::initialize(weights(vector[@0x1, @0x2, @0x3], vector[2, 2, 2]));
    let new = old.transition(weights(vector[@0x4, @0x3, @0x1], vector[3, 2, 1]));
    assert!(new.shards(&id(@0x1)) == &vector[0]);
    assert!(new.shards(&id(@0x3)) == &vector[4, 5]);
    assert!(new.shards(&id(@0x4)) == &vector[1, 2, 3]);
    assert!(!new.contains(&id(@0x2)));
}

#[test]
fun the_first_transition_initializes() {
    let empty = committee::empty();
    let new = empty.transition(weights(vector[@0x2, @0x1], vector[1, 1]));
    assert!(new.shards(&id(@0x1)) == &vector[0]);
    assert!(new.shards(&id(@0x2)) == &vector[1]);
}

#[test, expected_failure(abort_code = committee::EInvalidShardAssignment)]
fun transition_to_more_shards_aborts() {
    let old = committee::initialize(weights(vector[@0x1], vector[2]));
    old.transition(weights(vector[@0x1], vector[3]));
}

#[test, expected_failure(abort_code = committee::EInvalidShardAssignment)]
fun transition_to_fewer_shards_aborts() {
    let old = committee::initialize(weights(vector[@0x1], vector[2]));
    old.transition(weights(vector[@0x1], vector[1]));
}
