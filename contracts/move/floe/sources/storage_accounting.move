// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Accounting of future epochs: for each of the next `length` epochs, the
/// storage capacity already sold (`used_capacity`) and the WAL prepaid for
/// it (`rewards_to_distribute`). A ring buffer: offset `i` (epochs after the
/// current one) lives at index `(current_index + i) % length`; at each epoch
/// change the current entry is popped and a fresh one appended for
/// `current + length`.
module floe::storage_accounting;

use sui::balance::{Self, Balance};
use wal::wal::WAL;

/// Share of an epoch's rewards burnt at its end, in percent.
const BURN_PERCENTAGE: u64 = 3;

/// The offset is beyond the ring buffer.
const ETooFarInFuture: u64 = 0;

/// What was sold and prepaid for one epoch.
public struct FutureAccounting has store {
    epoch: u32,
    /// Encoded bytes reserved for this epoch.
    used_capacity: u64,
    /// WAL paid for this epoch, distributed to the committee at its end.
    rewards_to_distribute: Balance<WAL>,
}

/// `length` consecutive epochs of accounting from the current one.
public struct FutureAccountingRingBuffer has store {
    current_index: u32,
    length: u32,
    ring_buffer: vector<FutureAccounting>,
}

// === FutureAccounting ===

/// A fresh entry for `epoch`.
public(package) fun new_future_accounting(
    epoch: u32,
    used_capacity: u64,
    rewards_to_distribute: Balance<WAL>,
): FutureAccounting {
    FutureAccounting { epoch, used_capacity, rewards_to_distribute }
}

public fun epoch(accounting: &FutureAccounting): u32 { accounting.epoch }

public fun used_capacity(accounting: &FutureAccounting): u64 { accounting.used_capacity }

/// WAL (in FROST) prepaid for the epoch.
public fun rewards(accounting: &FutureAccounting): u64 {
    accounting.rewards_to_distribute.value()
}

/// Adds `amount` to the used capacity and returns the new total.
public(package) fun increase_used_capacity(accounting: &mut FutureAccounting, amount: u64): u64 {
    accounting.used_capacity = accounting.used_capacity + amount;
    accounting.used_capacity
}

/// The prepaid balance, to add payments and subsidies to.
public(package) fun rewards_balance(accounting: &mut FutureAccounting): &mut Balance<WAL> {
    &mut accounting.rewards_to_distribute
}

/// Destroys the entry, returning its balance.
public(package) fun unwrap_balance(accounting: FutureAccounting): Balance<WAL> {
    let FutureAccounting { epoch: _, used_capacity: _, rewards_to_distribute } = accounting;
    rewards_to_distribute
}

// === FutureAccountingRingBuffer ===

/// A ring of `length` empty entries for epochs `first_epoch ..
/// first_epoch + length`.
public(package) fun ring_new(first_epoch: u32, length: u32): FutureAccountingRingBuffer {
    let mut ring_buffer = vector[];
    let mut i = 0;
    while (i < length) {
        ring_buffer.push_back(new_future_accounting(first_epoch + i, 0, balance::zero()));
        i = i + 1;
    };
    FutureAccountingRingBuffer { current_index: 0, length, ring_buffer }
}

/// The entry `epochs_in_future` epochs after the current one.
public fun ring_lookup(
    self: &FutureAccountingRingBuffer,
    epochs_in_future: u32,
): &FutureAccounting {
    assert!(epochs_in_future < self.length, ETooFarInFuture);
    let index = ring_index(self, epochs_in_future);
    &self.ring_buffer[index]
}

/// The entry `epochs_in_future` epochs after the current one, mutably.
public(package) fun ring_lookup_mut(
    self: &mut FutureAccountingRingBuffer,
    epochs_in_future: u32,
): &mut FutureAccounting {
    assert!(epochs_in_future < self.length, ETooFarInFuture);
    let index = ring_index(self, epochs_in_future);
    &mut self.ring_buffer[index]
}

/// Pops the current epoch's entry and appends an empty one for the epoch
/// `length` epochs later; the next epoch becomes the current one.
public(package) fun ring_pop_expand(self: &mut FutureAccountingRingBuffer): FutureAccounting {
    let current = (self.current_index as u64);
    let last_index = ring_index(self, self.length - 1);
    let last_epoch = self.ring_buffer[last_index].epoch;
    self.ring_buffer.push_back(new_future_accounting(last_epoch + 1, 0, balance::zero()));
    let popped = self.ring_buffer.swap_remove(current);
    self.current_index = ((((self.current_index as u64) + 1) % (self.length as u64)) as u32);
    popped
}

/// Grows the ring to `new_length` epochs (never shrinks; governance):
/// entries keep their epochs and balances, empty ones follow the last.
public(package) fun ring_extend(self: &mut FutureAccountingRingBuffer, new_length: u32) {
    if (new_length <= self.length) return;
    // Rotate so the current epoch is first and the ring is in epoch order.
    let mut i = 0;
    while (i < self.current_index) {
        let entry = self.ring_buffer.remove(0);
        self.ring_buffer.push_back(entry);
        i = i + 1;
    };
    self.current_index = 0;
    let mut next_epoch = self.ring_buffer[(self.length as u64) - 1].epoch + 1;
    while (self.length < new_length) {
        self.ring_buffer.push_back(new_future_accounting(next_epoch, 0, balance::zero()));
        next_epoch = next_epoch + 1;
        self.length = self.length + 1;
    };
}

/// Number of epochs the ring covers (the maximum number of epochs ahead).
public fun max_epochs_ahead(self: &FutureAccountingRingBuffer): u32 { self.length }

/// Splits off `BURN_PERCENTAGE` percent of the current epoch's rewards.
public(package) fun extract_burn_balance(self: &mut FutureAccountingRingBuffer): Balance<WAL> {
    let rewards = ring_lookup_mut(self, 0).rewards_balance();
    let burn = (((rewards.value() as u128) * (BURN_PERCENTAGE as u128) / 100) as u64);
    rewards.split(burn)
}

fun ring_index(self: &FutureAccountingRingBuffer, epochs_in_future: u32): u64 {
    ((epochs_in_future as u64) + (self.current_index as u64)) % (self.length as u64)
}

#[test_only]
/// Drops the ring and all its balances.
public fun destroy_for_testing(self: FutureAccountingRingBuffer) {
    let FutureAccountingRingBuffer { current_index: _, length: _, ring_buffer } = self;
    let mut ring_buffer = ring_buffer;
    while (!ring_buffer.is_empty()) {
        let accounting = ring_buffer.pop_back();
        accounting.unwrap_balance().destroy_for_testing();
    };
    ring_buffer.destroy_empty();
}
