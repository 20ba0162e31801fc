// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The WAL value of a staking pool's shares at an epoch. Conversions use
/// u128 floor division.
module floe::pool_exchange_rate;

/// More shares than WAL.
const EInvalidRate: u64 = 0;

/// WAL per share: one to one, or `wal_amount / share_amount`.
public enum PoolExchangeRate has copy, drop, store {
    Flat,
    Variable { wal_amount: u128, share_amount: u128 },
}

/// One share per FROST.
public(package) fun flat(): PoolExchangeRate { PoolExchangeRate::Flat }

/// The rate of a pool holding `wal_amount` FROST for `share_amount` shares
/// (flat while there are no shares).
public(package) fun new(wal_amount: u64, share_amount: u64): PoolExchangeRate {
    assert!(share_amount <= wal_amount, EInvalidRate);
    if (share_amount == 0) {
        PoolExchangeRate::Flat
    } else {
        PoolExchangeRate::Variable {
            wal_amount: (wal_amount as u128),
            share_amount: (share_amount as u128),
        }
    }
}

/// FROST worth `amount` shares.
public(package) fun convert_to_wal_amount(self: &PoolExchangeRate, amount: u64): u64 {
    match (self) {
        PoolExchangeRate::Flat => amount,
        PoolExchangeRate::Variable { wal_amount, share_amount } => {
            (((amount as u128) * *wal_amount / *share_amount) as u64)
        },
    }
}

/// Shares worth `amount` FROST.
public(package) fun convert_to_share_amount(self: &PoolExchangeRate, amount: u64): u64 {
    match (self) {
        PoolExchangeRate::Flat => amount,
        PoolExchangeRate::Variable { wal_amount, share_amount } => {
            (((amount as u128) * *share_amount / *wal_amount) as u64)
        },
    }
}
