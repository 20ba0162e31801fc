// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The candidates for the next committee: at most `max_size` nodes with at
/// least `threshold_stake` of projected stake each (the stake the node will
/// have in the next epoch). A node whose stake drops to zero (or below the
/// threshold) leaves; when the set is full, a newcomer replaces the node
/// with the least stake only if it has strictly more. Positions are kept,
/// so the earlier a node entered, the higher its priority in ties.
module floe::active_set;

/// `max_size` is zero.
const EZeroMaxSize: u64 = 0;

/// One candidate and its projected stake.
public struct ActiveSetEntry has copy, drop, store {
    node_id: ID,
    staked_amount: u64,
}

/// The candidates.
public struct ActiveSet has copy, drop, store {
    max_size: u16,
    threshold_stake: u64,
    nodes: vector<ActiveSetEntry>,
    total_stake: u64,
}

public(package) fun new(max_size: u16, threshold_stake: u64): ActiveSet {
    assert!(max_size > 0, EZeroMaxSize);
    ActiveSet { max_size, threshold_stake, nodes: vector[], total_stake: 0 }
}

/// Sets `node_id`'s projected stake to `staked_amount`: updates, inserts,
/// replaces the smallest member of a full set, or removes the node (zero or
/// below the threshold). Returns whether the node is in the set.
public(package) fun insert_or_update(self: &mut ActiveSet, node_id: ID, staked_amount: u64): bool {
    let position = self.find(node_id);
    let eligible = staked_amount > 0 && staked_amount >= self.threshold_stake;
    if (position.is_some()) {
        let i = position.destroy_some();
        let old = self.nodes[i].staked_amount;
        self.total_stake = self.total_stake - old;
        if (!eligible) {
            self.nodes.remove(i);
            return false
        };
        self.nodes[i].staked_amount = staked_amount;
        self.total_stake = self.total_stake + staked_amount;
        return true
    };
    if (!eligible) return false;
    let entry = ActiveSetEntry { node_id, staked_amount };
    if (self.nodes.length() < (self.max_size as u64)) {
        self.nodes.push_back(entry);
        self.total_stake = self.total_stake + staked_amount;
        return true
    };
    // Full: replace the smallest (the earliest of equals) if strictly less.
    let mut min = 0;
    let mut i = 1;
    while (i < self.nodes.length()) {
        if (self.nodes[i].staked_amount < self.nodes[min].staked_amount) min = i;
        i = i + 1;
    };
    if (self.nodes[min].staked_amount >= staked_amount) return false;
    self.total_stake = self.total_stake - self.nodes[min].staked_amount + staked_amount;
    *&mut self.nodes[min] = entry;
    true
}

/// Sets the most nodes the set holds (governance); when it shrinks, the
/// nodes with the least stake leave (the latest of equals first).
public(package) fun set_max_size(self: &mut ActiveSet, max_size: u16) {
    assert!(max_size > 0, EZeroMaxSize);
    self.max_size = max_size;
    while (self.nodes.length() > (max_size as u64)) {
        let mut min = 0;
        let mut i = 1;
        while (i < self.nodes.length()) {
            if (self.nodes[i].staked_amount <= self.nodes[min].staked_amount) min = i;
            i = i + 1;
        };
        let removed = self.nodes.remove(min);
        self.total_stake = self.total_stake - removed.staked_amount;
    };
}

/// Removes `node_id` if present.
public(package) fun remove(self: &mut ActiveSet, node_id: ID) {
    self.insert_or_update(node_id, 0);
}

/// The position of `node_id`.
fun find(self: &ActiveSet, node_id: ID): Option<u64> {
    let mut i = 0;
    while (i < self.nodes.length()) {
        if (self.nodes[i].node_id == node_id) return option::some(i);
        i = i + 1;
    };
    option::none()
}

public fun max_size(self: &ActiveSet): u16 { self.max_size }

public fun total_stake(self: &ActiveSet): u64 { self.total_stake }

/// The node ids in set order.
public fun active_ids(self: &ActiveSet): vector<ID> {
    self.nodes.map_ref!(|e| e.node_id)
}

/// The projected stakes in set order.
public fun active_stakes(self: &ActiveSet): vector<u64> {
    self.nodes.map_ref!(|e| e.staked_amount)
}
