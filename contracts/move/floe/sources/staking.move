// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The shared `Staking` object and the public staking API: stake and
/// withdraw, and the three calls that move epochs on (`voting_end`,
/// `initiate_epoch_change`, `epoch_sync_done`), all permissionless except
/// `epoch_sync_done`, which takes the node's `StorageNodeCap`.
///
/// Like `System`, `Staking` is a versioned shell: the state is
/// `StakingInnerV1` in a dynamic field keyed by the version, and every
/// access checks the version (`EWrongVersion`).
///
/// `initiate_epoch_change` has Walrus's `initiate_epoch_change_v2`
/// semantics (the 3% burn goes through the WAL treasury); floe never had a
/// v1, so it keeps the plain name. Not here yet: node registration, price
/// and capacity vote setters, commission collection, governance and
/// migration.
module floe::staking;

use floe::staked_wal::StakedWal;
use floe::staking_inner::StakingInnerV1;
use floe::storage_node::StorageNodeCap;
use floe::system::System;
use sui::clock::Clock;
use sui::coin::Coin;
use sui::dynamic_field as df;
use wal::wal::{ProtectedTreasury, WAL};

/// The version of the package's code and of `Staking`.
const VERSION: u64 = 1;

/// `Staking` is not at this package's version.
const EWrongVersion: u64 = 1;

/// The shared staking object.
public struct Staking has key {
    id: UID,
    /// Version of the inner state (dynamic field key).
    version: u64,
    /// The package that may use this object.
    package_id: ID,
    /// The package of an authorized upgrade, until migration.
    new_package_id: Option<ID>,
}

/// Wraps `inner` in a new `Staking` for `package_id`.
public(package) fun create(inner: StakingInnerV1, package_id: ID, ctx: &mut TxContext): Staking {
    let mut staking = Staking {
        id: object::new(ctx),
        version: VERSION,
        package_id,
        new_package_id: option::none(),
    };
    df::add(&mut staking.id, VERSION, inner);
    staking
}

/// Shares `staking`.
public(package) fun share(staking: Staking) {
    transfer::share_object(staking);
}

// === Stake ===

/// Stakes `to_stake` (at least 1 WAL) with `node_id`'s pool. It counts
/// from the next epoch, or the one after once the next committee is
/// selected (`voting_end`).
public fun stake_with_pool(
    staking: &mut Staking,
    to_stake: Coin<WAL>,
    node_id: ID,
    ctx: &mut TxContext,
): StakedWal {
    staking.inner_mut().stake_with_pool(to_stake, node_id, ctx)
}

/// Requests the withdrawal of `staked_wal`; `withdraw_stake` completes it
/// from the returned withdraw epoch on (see `staked_wal::withdraw_epoch`).
public fun request_withdraw_stake(
    staking: &mut Staking,
    staked_wal: &mut StakedWal,
    ctx: &mut TxContext,
) {
    let _ = ctx;
    staking.inner_mut().request_withdraw_stake(staked_wal);
}

/// Withdraws `staked_wal`: principal plus rewards, or the principal alone
/// if it never counted in a committee.
public fun withdraw_stake(
    staking: &mut Staking,
    staked_wal: StakedWal,
    ctx: &mut TxContext,
): Coin<WAL> {
    staking.inner_mut().withdraw_stake(staked_wal, ctx)
}

// === Epoch change ===

/// Selects the next committee and parameters (from mid-epoch on).
public fun voting_end(staking: &mut Staking, clock: &Clock) {
    staking.inner_mut().voting_end(clock);
}

/// Ends the epoch (from its end on, once `voting_end` ran): burns 3% of
/// its rewards, pays the pools and moves `system` to the next committee.
public fun initiate_epoch_change(
    staking: &mut Staking,
    system: &mut System,
    treasury: &mut ProtectedTreasury,
    clock: &Clock,
) {
    staking.inner_mut().initiate_epoch_change(system, treasury, clock);
}

/// The node of `cap` holds all its shards of `epoch`.
public fun epoch_sync_done(
    staking: &mut Staking,
    cap: &mut StorageNodeCap,
    epoch: u32,
    clock: &Clock,
) {
    staking.inner_mut().epoch_sync_done(cap, epoch, clock);
}

// === Views ===

public fun epoch(staking: &Staking): u32 { staking.inner().epoch() }

/// Whether `staked_wal` can be withdrawn directly, principal only.
public fun can_withdraw_staked_wal_early(staking: &Staking, staked_wal: &StakedWal): bool {
    staking.inner().can_withdraw_staked_wal_early(staked_wal)
}

// === Internal ===

/// The inner state; aborts with `EWrongVersion`.
public(package) fun inner(staking: &Staking): &StakingInnerV1 {
    assert!(staking.version == VERSION, EWrongVersion);
    df::borrow(&staking.id, VERSION)
}

/// The inner state, mutably; aborts with `EWrongVersion`.
public(package) fun inner_mut(staking: &mut Staking): &mut StakingInnerV1 {
    assert!(staking.version == VERSION, EWrongVersion);
    df::borrow_mut(&mut staking.id, VERSION)
}

// === Test helpers ===

#[test_only]
public fun share_for_testing(staking: Staking) {
    transfer::share_object(staking);
}
