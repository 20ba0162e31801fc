// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The parameters selected at `voting_end` for the next epoch. Only the
/// capacity is applied at the epoch change (prices are voted on
/// separately); the price fields hold `u64::MAX` until price votes land.
module floe::epoch_parameters;

/// Parameters of the next epoch.
public struct EpochParams has copy, drop, store {
    /// Encoded bytes the next committee stores.
    total_capacity_size: u64,
    /// FROST per unit per epoch.
    storage_price_per_unit_size: u64,
    /// FROST per unit, once.
    write_price_per_unit_size: u64,
}

public(package) fun new(
    total_capacity_size: u64,
    storage_price_per_unit_size: u64,
    write_price_per_unit_size: u64,
): EpochParams {
    EpochParams { total_capacity_size, storage_price_per_unit_size, write_price_per_unit_size }
}

public fun capacity(self: &EpochParams): u64 { self.total_capacity_size }

public fun storage_price(self: &EpochParams): u64 { self.storage_price_per_unit_size }

public fun write_price(self: &EpochParams): u64 { self.write_price_per_unit_size }
