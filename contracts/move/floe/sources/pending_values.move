// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Amounts that take effect in a given epoch (pending stake, pending share
/// withdrawals): a map from epoch to amount.
module floe::pending_values;

use sui::vec_map::{Self, VecMap};

/// No value is recorded for the epoch.
const EMissingEpochValue: u64 = 0;
/// The reduction is larger than the recorded value.
const EReduceValueTooLarge: u64 = 1;

/// Epoch to amount.
public struct PendingValues(VecMap<u32, u64>) has copy, drop, store;

public(package) fun empty(): PendingValues { PendingValues(vec_map::empty()) }

/// Adds `value` to the amount of `epoch`.
public(package) fun insert_or_add(self: &mut PendingValues, epoch: u32, value: u64) {
    let map = &mut self.0;
    if (map.contains(&epoch)) {
        let current = map.get_mut(&epoch);
        *current = *current + value;
    } else {
        map.insert(epoch, value);
    }
}

/// Sets the amount of `epoch` to `value`, replacing any recorded one.
public(package) fun insert_or_replace(self: &mut PendingValues, epoch: u32, value: u64) {
    let map = &mut self.0;
    if (map.contains(&epoch)) {
        *map.get_mut(&epoch) = value;
    } else {
        map.insert(epoch, value);
    }
}

/// Subtracts `value` from the amount of `epoch` (dropping it at zero).
public(package) fun reduce(self: &mut PendingValues, epoch: u32, value: u64) {
    let map = &mut self.0;
    assert!(map.contains(&epoch), EMissingEpochValue);
    let current = map.get_mut(&epoch);
    assert!(*current >= value, EReduceValueTooLarge);
    *current = *current - value;
    if (*current == 0) {
        let (_, _) = map.remove(&epoch);
    }
}

/// The amount of `epoch` (0 if none).
public(package) fun value_at(self: &PendingValues, epoch: u32): u64 {
    let map = &self.0;
    if (map.contains(&epoch)) { *map.get(&epoch) } else { 0 }
}

/// The amount of the latest epoch up to `epoch`, if any (a rate scheduled
/// for an epoch the pool was not advanced in still applies later).
public(package) fun latest_value_at(self: &PendingValues, epoch: u32): Option<u64> {
    let map = &self.0;
    let mut best = option::none<u32>();
    let mut value = option::none<u64>();
    let mut i = 0;
    while (i < map.length()) {
        let (key, v) = map.get_entry_by_idx(i);
        if (*key <= epoch && (best.is_none() || *key > *best.borrow())) {
            best = option::some(*key);
            value = option::some(*v);
        };
        i = i + 1;
    };
    value
}

/// Removes and sums every amount of an epoch up to `epoch`.
public(package) fun flush(self: &mut PendingValues, epoch: u32): u64 {
    let map = &mut self.0;
    let mut total = 0;
    let mut i = 0;
    while (i < map.length()) {
        let (key, value) = map.get_entry_by_idx(i);
        let (key, value) = (*key, *value);
        if (key <= epoch) {
            total = total + value;
            let (_, _) = map.remove_entry_by_idx(i);
        } else {
            i = i + 1;
        }
    };
    total
}

public(package) fun is_empty(self: &PendingValues): bool { self.0.is_empty() }
