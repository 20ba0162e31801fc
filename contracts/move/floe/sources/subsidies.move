// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Subsidies, as Walrus's current subsidies package pays them: a shared
/// pool anyone funds (`add_coin`), and a permissionless
/// `process_subsidies` that
/// (a) once per epoch pays each node of the current committee
///     `base_subsidy + shards * subsidy_per_shard` into its pool's
///     commission (collectable at once), and
/// (b) tops up the rewards of the current and future epochs by
///     `(rewards_i - already_i) * system_subsidy_rate / 10_000`, where
///     `already_i` is what epoch `i`'s rewards were (subsidy included) when
///     it was last subsidized, so each FROST of new rewards is subsidized
///     once.
/// The rates are governed (`governance`: proposals applied at epoch
/// changes), not set by an admin cap; they are 0 at genesis. A pool that
/// cannot pay everything due aborts the call (`EInsufficientFundsInPool`):
/// nothing is paid partially.
///
/// `process_subsidies` is its own transaction, never part of the epoch
/// change, so an epoch change's payments stay exactly its own.
module floe::subsidies;

use floe::staking::Staking;
use floe::system::System;
use sui::balance::{Self, Balance};
use sui::clock::Clock;
use sui::coin::Coin;
use sui::event;
use wal::wal::WAL;

/// The pool holds less than the subsidies due.
const EInsufficientFundsInPool: u64 = 0;

/// Basis points in 100%.
const N_BASIS_POINTS: u128 = 10_000;

/// The shared subsidies pool.
public struct Subsidies has key {
    id: UID,
    subsidy_pool: Balance<WAL>,
    /// The last epoch whose committee was paid.
    last_paid_epoch: Option<u32>,
    /// The epoch of `already_subsidized[0]`.
    already_subsidized_start: u32,
    /// Per epoch from `already_subsidized_start` on: its rewards (subsidy
    /// included) when it was last subsidized.
    already_subsidized: vector<u64>,
}

/// Someone added `amount` to the pool.
public struct SubsidiesFunded has copy, drop {
    amount: u64,
    pool_balance: u64,
}

/// `node_id`'s commission received `amount` for `epoch`.
public struct NodeSubsidized has copy, drop {
    epoch: u32,
    node_id: ID,
    amount: u64,
}

/// A `process_subsidies` call paid `node_subsidies` to nodes and
/// `future_subsidies` to epochs' rewards.
public struct SubsidiesPaid has copy, drop {
    epoch: u32,
    node_subsidies: u64,
    future_subsidies: u64,
    pool_balance: u64,
}

/// Shares an empty pool (genesis).
public(package) fun new(ctx: &mut TxContext) {
    transfer::share_object(Subsidies {
        id: object::new(ctx),
        subsidy_pool: balance::zero(),
        last_paid_epoch: option::none(),
        already_subsidized_start: 0,
        already_subsidized: vector[],
    });
}

/// Adds `coin` to the pool (anyone).
public fun add_coin(self: &mut Subsidies, coin: Coin<WAL>) {
    let amount = coin.value();
    self.subsidy_pool.join(coin.into_balance());
    event::emit(SubsidiesFunded { amount, pool_balance: self.subsidy_pool.value() });
}

/// Pays what is due now (see the module doc); emits one `NodeSubsidized`
/// per node paid and `SubsidiesPaid` if anything was paid. Aborts with
/// `EInsufficientFundsInPool`, before paying anything, if the pool holds
/// less than is due.
public fun process_subsidies(
    self: &mut Subsidies,
    staking: &mut Staking,
    system: &mut System,
    clock: &Clock,
) {
    let _ = clock;
    let epoch = staking.epoch();
    let (rate, base, per_shard) = staking.subsidy_rates();

    // (a) The committee's subsidies, once per epoch.
    let mut node_ids = vector[];
    let mut node_amounts = vector[];
    let mut node_total = 0;
    if (self.last_paid_epoch != option::some(epoch)) {
        let committee = staking.inner().committee().inner();
        let mut j = 0;
        while (j < committee.length()) {
            let (node_id, shards) = committee.get_entry_by_idx(j);
            let amount = base + (shards.length() as u64) * per_shard;
            node_ids.push_back(*node_id);
            node_amounts.push_back(amount);
            node_total = node_total + amount;
            j = j + 1;
        };
        self.last_paid_epoch = option::some(epoch);
    };

    // (b) New rewards of the current and future epochs.
    let system_epoch = system.epoch();
    let ring = system.inner().future_accounting();
    let length = ring.max_epochs_ahead();
    let mut already = vector[];
    let mut future = vector[];
    let mut future_total = 0;
    let mut i = 0;
    while (i < length) {
        let rewards = ring.ring_lookup(i).rewards();
        let before = self.already_subsidized_at(system_epoch + i);
        let subsidy = if (rewards > before) {
            ((((rewards - before) as u128) * (rate as u128) / N_BASIS_POINTS) as u64)
        } else {
            0
        };
        already.push_back(rewards + subsidy);
        future.push_back(subsidy);
        future_total = future_total + subsidy;
        i = i + 1;
    };
    self.already_subsidized_start = system_epoch;
    self.already_subsidized = already;

    assert!(self.subsidy_pool.value() >= node_total + future_total, EInsufficientFundsInPool);
    node_ids.zip_do!(node_amounts, |node_id, amount| {
        if (amount > 0) {
            let paid = self.subsidy_pool.split(amount);
            staking.inner_mut().add_subsidy_commission(node_id, paid);
            event::emit(NodeSubsidized { epoch, node_id, amount });
        }
    });
    if (future_total > 0) {
        let balances = future.map!(|amount| self.subsidy_pool.split(amount));
        system.add_per_epoch_subsidies(balances);
    };
    if (node_total + future_total > 0) {
        event::emit(SubsidiesPaid {
            epoch,
            node_subsidies: node_total,
            future_subsidies: future_total,
            pool_balance: self.subsidy_pool.value(),
        });
    }
}

// === Views ===

/// FROST in the pool.
public fun pool_balance(self: &Subsidies): u64 { self.subsidy_pool.value() }

// === Internal ===

/// Epoch `epoch`'s rewards when it was last subsidized (0 if never).
fun already_subsidized_at(self: &Subsidies, epoch: u32): u64 {
    if (epoch < self.already_subsidized_start) return 0;
    let offset = ((epoch - self.already_subsidized_start) as u64);
    if (offset < self.already_subsidized.length()) self.already_subsidized[offset] else 0
}
