// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The WAL coin: 9 decimals (1 WAL = 10^9 FROST), symbol "WAL".
///
/// The whole supply, 5,000,000,000 WAL, is minted once in `init` and sent to
/// the publisher; the coin metadata is frozen. The `TreasuryCap` is then
/// locked inside the shared `ProtectedTreasury` as a dynamic object field:
/// anyone can burn their own WAL through it and read the total supply, but no
/// function can mint.
module wal::wal;

use sui::balance::Balance;
use sui::coin::{Self, Coin, TreasuryCap};
use sui::dynamic_object_field as dof;

/// Whole WAL minted at publication.
const TOTAL_WAL_SUPPLY: u64 = 5_000_000_000;
/// FROST per WAL.
const FROST_PER_WAL: u64 = 1_000_000_000;
/// Decimals of the coin.
const DECIMALS: u8 = 9;

/// The one-time witness and coin type.
public struct WAL has drop {}

/// Shared object holding the `TreasuryCap<WAL>` (dynamic object field under
/// `TreasuryCapKey`). Offers `burn`, `burn_balance` and `total_supply` only.
public struct ProtectedTreasury has key {
    id: UID,
}

/// Dynamic object field key of the treasury cap.
public struct TreasuryCapKey has copy, drop, store {}

// `coin::create_currency` is deprecated in favour of `coin_registry`, whose
// `Currency` object needs a second, system-run transaction to finish
// registration. floe keeps the `CoinMetadata` path Walrus's own WAL package
// uses, so wallets and the SDKs read WAL's metadata the same way on both.
#[allow(deprecated_usage)]
fun init(otw: WAL, ctx: &mut TxContext) {
    let (mut cap, metadata) = coin::create_currency(
        otw,
        DECIMALS,
        b"WAL",
        b"WAL Token",
        b"The native token of floe, a Walrus-compatible blob store.",
        option::none(),
        ctx,
    );
    let supply = coin::mint(&mut cap, TOTAL_WAL_SUPPLY * FROST_PER_WAL, ctx);
    transfer::public_transfer(supply, ctx.sender());
    transfer::public_freeze_object(metadata);

    let mut treasury = ProtectedTreasury { id: object::new(ctx) };
    dof::add(&mut treasury.id, TreasuryCapKey {}, cap);
    transfer::share_object(treasury);
}

/// Total WAL supply in FROST (decreases with every burn).
public fun total_supply(treasury: &ProtectedTreasury): u64 {
    coin::total_supply(treasury.cap())
}

/// Burns `coin`, reducing the total supply.
public fun burn(treasury: &mut ProtectedTreasury, coin: Coin<WAL>) {
    coin::burn(treasury.cap_mut(), coin);
}

/// Burns `balance`, reducing the total supply (for callers that have no
/// `TxContext` to make a coin, such as the epoch change's 3% burn).
public fun burn_balance(treasury: &mut ProtectedTreasury, balance: Balance<WAL>) {
    treasury.cap_mut().supply_mut().decrease_supply(balance);
}

/// The initial supply in FROST.
public fun initial_supply(): u64 {
    TOTAL_WAL_SUPPLY * FROST_PER_WAL
}

fun cap(treasury: &ProtectedTreasury): &TreasuryCap<WAL> {
    dof::borrow(&treasury.id, TreasuryCapKey {})
}

fun cap_mut(treasury: &mut ProtectedTreasury): &mut TreasuryCap<WAL> {
    dof::borrow_mut(&mut treasury.id, TreasuryCapKey {})
}

#[test_only]
/// Runs `init` as publication would.
public fun init_for_testing(ctx: &mut TxContext) {
    init(WAL {}, ctx)
}
