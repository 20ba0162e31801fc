// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// A committee: node id to the shard indices it holds, sorted by node id
/// (Move's `u256` order of the id, as `BlsCommittee` members are).
///
/// The first committee hands out shards sequentially in node-id order.
/// Later ones come from `transition`, which keeps every node's existing
/// shards up to its new count, so as few shards as possible move: a node
/// that shrinks (or leaves) releases shards from the back of its list, and
/// nodes that grow (or join) take released shards in node-id order.
module floe::committee;

use sui::address;
use sui::vec_map::{Self, VecMap};

/// The new assignment does not hand out exactly the committee's shards.
const EInvalidShardAssignment: u64 = 0;

/// Node id to shard indices.
public struct Committee(VecMap<ID, vector<u16>>) has copy, drop, store;

/// A committee with no nodes.
public(package) fun empty(): Committee { Committee(vec_map::empty()) }

/// The first committee: `assignments` (node id to shard count) sorted by
/// node id, shard indices handed out sequentially in that order.
public(package) fun initialize(assignments: VecMap<ID, u16>): Committee {
    let (ids, counts) = sort_by_node_id(assignments).into_keys_values();
    let mut map = vec_map::empty();
    let mut next: u16 = 0;
    let mut i = 0;
    while (i < ids.length()) {
        let mut shards = vector[];
        let mut j: u16 = 0;
        while (j < counts[i]) {
            shards.push_back(next);
            next = next + 1;
            j = j + 1;
        };
        if (counts[i] > 0) map.insert(ids[i], shards);
        i = i + 1;
    };
    Committee(map)
}

/// The next committee with `new_assignments` (node id to shard count,
/// summing to the current number of shards unless the committee is empty;
/// zero counts leave the committee), moving as few shards as possible.
public(package) fun transition(self: &Committee, new_assignments: VecMap<ID, u16>): Committee {
    if (self.0.is_empty()) {
        return initialize(new_assignments)
    };
    let old = &self.0;
    // Shards released by nodes that leave or shrink.
    let mut released = vector[];
    let mut i = 0;
    while (i < old.length()) {
        let (node_id, shards) = old.get_entry_by_idx(i);
        let keep = if (new_assignments.contains(node_id)) {
            (*new_assignments.get(node_id) as u64)
        } else {
            0
        };
        let mut j = keep;
        while (j < shards.length()) {
            released.push_back(shards[j]);
            j = j + 1;
        };
        i = i + 1;
    };
    released.reverse();
    // Every node keeps what it can and takes the rest from `released`.
    let sorted = sort_by_node_id(new_assignments);
    let mut map = vec_map::empty();
    let mut i = 0;
    while (i < sorted.length()) {
        let (node_id, count) = sorted.get_entry_by_idx(i);
        let count = (*count as u64);
        let mut shards = if (old.contains(node_id)) { *old.get(node_id) } else { vector[] };
        while (shards.length() > count) {
            shards.pop_back();
        };
        while (shards.length() < count) {
            assert!(!released.is_empty(), EInvalidShardAssignment);
            shards.push_back(released.pop_back());
        };
        if (count > 0) map.insert(*node_id, shards);
        i = i + 1;
    };
    assert!(released.is_empty(), EInvalidShardAssignment);
    Committee(map)
}

/// Whether `node_id` holds shards.
public fun contains(self: &Committee, node_id: &ID): bool { self.0.contains(node_id) }

/// The shards of `node_id` (aborts in `vec_map` if it holds none).
public fun shards(self: &Committee, node_id: &ID): &vector<u16> { self.0.get(node_id) }

/// Number of nodes.
public fun size(self: &Committee): u64 { self.0.length() }

/// The map itself.
public fun inner(self: &Committee): &VecMap<ID, vector<u16>> { &self.0 }

/// Node id to shard count.
public(package) fun to_weights(self: &Committee): VecMap<ID, u16> {
    let mut out = vec_map::empty();
    let mut i = 0;
    while (i < self.0.length()) {
        let (node_id, shards) = self.0.get_entry_by_idx(i);
        out.insert(*node_id, (shards.length() as u16));
        i = i + 1;
    };
    out
}

/// `map` sorted by key (as u256), insertion sort (committees are small).
fun sort_by_node_id(map: VecMap<ID, u16>): VecMap<ID, u16> {
    let (mut ids, mut counts) = map.into_keys_values();
    let n = ids.length();
    let mut i = 1;
    while (i < n) {
        let mut j = i;
        while (j > 0 && to_u256(&ids[j - 1]) > to_u256(&ids[j])) {
            ids.swap(j - 1, j);
            counts.swap(j - 1, j);
            j = j - 1;
        };
        i = i + 1;
    };
    vec_map::from_keys_values(ids, counts)
}

fun to_u256(id: &ID): u256 { address::to_u256(object::id_to_address(id)) }
