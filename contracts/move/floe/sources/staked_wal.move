// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Stake delegated to one storage node. The principal stays in the
/// `StakedWal`; the pool accounts it in shares and pays rewards from its
/// rewards pool at withdrawal.
///
/// `split` and `join` keep the metadata: both parts of a split keep at
/// least `MIN_STAKING_THRESHOLD`, and only stakes of the same node, state,
/// activation epoch (and withdraw epoch, when withdrawing) join.
module floe::staked_wal;

use sui::balance::Balance;
use wal::wal::WAL;

/// The smallest stake: 1 WAL.
const MIN_STAKING_THRESHOLD: u64 = 1_000_000_000;

/// The stake is not withdrawing.
const ENotWithdrawing: u64 = 0;
/// Joined stakes differ in node, state or epochs.
const EMetadataMismatch: u64 = 1;
/// A split of zero or of the whole stake.
const EInvalidAmount: u64 = 2;
/// The stake is already withdrawing.
const EAlreadyWithdrawing: u64 = 6;
/// The stake (or a part of a split) is below `MIN_STAKING_THRESHOLD`.
const EStakeBelowThreshold: u64 = 7;

/// Staked (pending or active), or withdrawing from `withdraw_epoch` on.
public enum StakedWalState has copy, drop, store {
    Staked,
    Withdrawing { withdraw_epoch: u32 },
}

/// A stake with a node.
public struct StakedWal has key, store {
    id: UID,
    state: StakedWalState,
    node_id: ID,
    principal: Balance<WAL>,
    /// The first epoch in which the stake counts.
    activation_epoch: u32,
}

/// A new stake of `principal` (at least `MIN_STAKING_THRESHOLD`).
public(package) fun mint(
    node_id: ID,
    principal: Balance<WAL>,
    activation_epoch: u32,
    ctx: &mut TxContext,
): StakedWal {
    assert!(principal.value() >= MIN_STAKING_THRESHOLD, EStakeBelowThreshold);
    StakedWal {
        id: object::new(ctx),
        state: StakedWalState::Staked,
        node_id,
        principal,
        activation_epoch,
    }
}

/// Deletes the object and returns the principal.
public(package) fun into_balance(sw: StakedWal): Balance<WAL> {
    let StakedWal { id, state: _, node_id: _, principal, activation_epoch: _ } = sw;
    id.delete();
    principal
}

/// Marks the stake withdrawing from `withdraw_epoch` on.
public(package) fun set_withdrawing(sw: &mut StakedWal, withdraw_epoch: u32) {
    assert!(sw.is_staked(), EAlreadyWithdrawing);
    sw.state = StakedWalState::Withdrawing { withdraw_epoch };
}

// === Views ===

public fun value(sw: &StakedWal): u64 { sw.principal.value() }

public fun node_id(sw: &StakedWal): ID { sw.node_id }

public fun activation_epoch(sw: &StakedWal): u32 { sw.activation_epoch }

public fun is_staked(sw: &StakedWal): bool {
    match (&sw.state) {
        StakedWalState::Staked => true,
        _ => false,
    }
}

public fun is_withdrawing(sw: &StakedWal): bool {
    match (&sw.state) {
        StakedWalState::Withdrawing { withdraw_epoch: _ } => true,
        _ => false,
    }
}

/// The withdraw epoch; aborts with `ENotWithdrawing` if still staked.
public fun withdraw_epoch(sw: &StakedWal): u32 {
    match (&sw.state) {
        StakedWalState::Withdrawing { withdraw_epoch } => *withdraw_epoch,
        _ => abort ENotWithdrawing,
    }
}

// === Split and join ===

/// Splits `amount` off into a new stake with the same metadata.
public fun split(sw: &mut StakedWal, amount: u64, ctx: &mut TxContext): StakedWal {
    assert!(amount > 0 && amount < sw.principal.value(), EInvalidAmount);
    assert!(amount >= MIN_STAKING_THRESHOLD, EStakeBelowThreshold);
    assert!(sw.principal.value() - amount >= MIN_STAKING_THRESHOLD, EStakeBelowThreshold);
    StakedWal {
        id: object::new(ctx),
        state: sw.state,
        node_id: sw.node_id,
        principal: sw.principal.split(amount),
        activation_epoch: sw.activation_epoch,
    }
}

/// Joins `other` into `sw`: same node, state and activation epoch (and
/// withdraw epoch when withdrawing).
public fun join(sw: &mut StakedWal, other: StakedWal) {
    assert!(sw.node_id == other.node_id, EMetadataMismatch);
    assert!(sw.state == other.state, EMetadataMismatch);
    assert!(sw.activation_epoch == other.activation_epoch, EMetadataMismatch);
    let principal = other.into_balance();
    sw.principal.join(principal);
}
