// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// A shared blob: a `Blob` wrapped in a shared object with a WAL balance
/// anyone can add to, and anyone can spend on extending the blob's
/// lifetime.
module floe::shared_blob;

use floe::blob::Blob;
use floe::system::System;
use sui::balance::Balance;
use sui::coin::{Self, Coin};
use wal::wal::WAL;

/// A shared blob and the funds for extending it.
public struct SharedBlob has key, store {
    id: UID,
    blob: Blob,
    funds: Balance<WAL>,
}

/// Shares `blob` with no funds.
public fun new(blob: Blob, ctx: &mut TxContext) {
    new_funded(blob, coin::zero(ctx), ctx);
}

/// Shares `blob` with `funds`.
public fun new_funded(blob: Blob, funds: Coin<WAL>, ctx: &mut TxContext) {
    let shared = SharedBlob { id: object::new(ctx), blob, funds: funds.into_balance() };
    transfer::share_object(shared);
}

/// Adds `added_funds` to the blob's funds.
public fun fund(self: &mut SharedBlob, added_funds: Coin<WAL>) {
    self.funds.join(added_funds.into_balance());
}

/// Extends the blob by `extended_epochs`, paid from its funds.
public fun extend(
    self: &mut SharedBlob,
    system: &mut System,
    extended_epochs: u32,
    ctx: &mut TxContext,
) {
    let mut payment = coin::from_balance(self.funds.withdraw_all(), ctx);
    system.extend_blob(&mut self.blob, extended_epochs, &mut payment);
    self.funds.join(payment.into_balance());
}

/// The wrapped blob.
public fun blob(self: &SharedBlob): &Blob { &self.blob }

/// The funds, in FROST.
public fun funds(self: &SharedBlob): u64 { self.funds.value() }

#[test_only]
/// Unwraps a shared blob in tests.
public fun destroy_for_testing(self: SharedBlob): (Blob, u64) {
    let SharedBlob { id, blob, funds } = self;
    id.delete();
    (blob, funds.destroy_for_testing())
}
