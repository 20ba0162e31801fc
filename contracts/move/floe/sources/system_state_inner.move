// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The system state (version 1), stored as a dynamic field of `System`:
/// the committee (its epoch is the system epoch), capacity, prices and the
/// accounting of future epochs. Everything users buy is paid here into the
/// reward buckets of the epochs it covers.
module floe::system_state_inner;

use floe::blob::{Self, Blob};
use floe::bls_aggregate::BlsCommittee;
use floe::encoding;
use floe::event_blob::{Self, EventBlobCertificationState};
use floe::events;
use floe::extended_field::{Self, ExtendedField};
use floe::messages;
use floe::storage_accounting::{Self, FutureAccountingRingBuffer};
use floe::storage_resource::{Self, Storage};
use sui::balance::Balance;
use sui::coin::Coin;
use sui::vec_map::{Self, VecMap};
use wal::wal::WAL;

/// Upper bound of `max_epochs_ahead`.
const MAX_MAX_EPOCHS_AHEAD: u32 = 1000;
/// Bytes of one storage unit (prices are per unit).
const BYTES_PER_UNIT_SIZE: u64 = 1_024 * 1_024;

/// `max_epochs_ahead` is 0 or above `MAX_MAX_EPOCHS_AHEAD`.
const EInvalidMaxEpochsAhead: u64 = 0;
/// Not enough free capacity in one of the epochs.
const EStorageExceeded: u64 = 1;
/// The number of epochs (ahead) is 0 or beyond `max_epochs_ahead`.
const EInvalidEpochsAhead: u64 = 2;
/// A certificate's epoch is not the current epoch.
const EInvalidIdEpoch: u64 = 3;
/// The new committee is not for the next epoch.
const EIncorrectCommittee: u64 = 4;
/// The accounting ring is not at the ending epoch.
const EInvalidAccountingEpoch: u64 = 5;
/// A reservation of zero bytes.
const EInvalidResourceSize: u64 = 11;

/// The state of the system, version 1.
public struct SystemStateInnerV1 has store {
    /// The current committee; its epoch is the current epoch.
    committee: BlsCommittee,
    /// Encoded bytes the committee can store.
    total_capacity_size: u64,
    /// Encoded bytes sold for the current epoch.
    used_capacity_size: u64,
    /// FROST per unit (1 MiB encoded) per epoch.
    storage_price_per_unit_size: u64,
    /// FROST per unit, paid once at registration.
    write_price_per_unit_size: u64,
    /// Used capacity and prepaid rewards of the next `max_epochs_ahead` epochs.
    future_accounting: FutureAccountingRingBuffer,
    /// Event blob certification progress.
    event_blob_certification_state: EventBlobCertificationState,
    /// Size of each node's deny list (reduces its rewards).
    deny_list_sizes: ExtendedField<VecMap<ID, u64>>,
}

/// A system state with `committee`, whose epoch is the first epoch.
public(package) fun create(
    committee: BlsCommittee,
    max_epochs_ahead: u32,
    total_capacity_size: u64,
    storage_price_per_unit_size: u64,
    write_price_per_unit_size: u64,
    ctx: &mut TxContext,
): SystemStateInnerV1 {
    assert!(
        max_epochs_ahead > 0 && max_epochs_ahead <= MAX_MAX_EPOCHS_AHEAD,
        EInvalidMaxEpochsAhead,
    );
    let epoch = committee.epoch();
    SystemStateInnerV1 {
        committee,
        total_capacity_size,
        used_capacity_size: 0,
        storage_price_per_unit_size,
        write_price_per_unit_size,
        future_accounting: storage_accounting::ring_new(epoch, max_epochs_ahead),
        event_blob_certification_state: event_blob::create_with_empty_state(),
        deny_list_sizes: extended_field::new(vec_map::empty<ID, u64>(), ctx),
    }
}

// === Accessors ===

public fun epoch(self: &SystemStateInnerV1): u32 { self.committee.epoch() }

public fun committee(self: &SystemStateInnerV1): &BlsCommittee { &self.committee }

public fun n_shards(self: &SystemStateInnerV1): u16 { self.committee.n_shards() }

public fun total_capacity_size(self: &SystemStateInnerV1): u64 { self.total_capacity_size }

public fun used_capacity_size(self: &SystemStateInnerV1): u64 { self.used_capacity_size }

public fun storage_price_per_unit_size(self: &SystemStateInnerV1): u64 {
    self.storage_price_per_unit_size
}

public fun write_price_per_unit_size(self: &SystemStateInnerV1): u64 {
    self.write_price_per_unit_size
}

public fun future_accounting(self: &SystemStateInnerV1): &FutureAccountingRingBuffer {
    &self.future_accounting
}

public fun event_blob_certification_state(
    self: &SystemStateInnerV1,
): &EventBlobCertificationState {
    &self.event_blob_certification_state
}

public fun deny_list_sizes(self: &SystemStateInnerV1): &VecMap<ID, u64> {
    self.deny_list_sizes.borrow()
}

/// Maximum number of epochs storage can be bought ahead.
public fun max_epochs_ahead(self: &SystemStateInnerV1): u32 {
    self.future_accounting.max_epochs_ahead()
}

/// Storage units (1 MiB, rounded up) of `size` encoded bytes.
public fun storage_units_from_size(size: u64): u64 {
    (size + BYTES_PER_UNIT_SIZE - 1) / BYTES_PER_UNIT_SIZE
}

/// Price of storing `encoded_size` bytes for one epoch.
public fun storage_price_for_size(self: &SystemStateInnerV1, encoded_size: u64): u64 {
    self.storage_price_per_unit_size * storage_units_from_size(encoded_size)
}

/// Price of writing `encoded_size` bytes.
public fun write_price_for_size(self: &SystemStateInnerV1, encoded_size: u64): u64 {
    self.write_price_per_unit_size * storage_units_from_size(encoded_size)
}

// === Parameters (set by governance and epoch change) ===

public(package) fun set_storage_price(self: &mut SystemStateInnerV1, price: u64) {
    self.storage_price_per_unit_size = price;
}

public(package) fun set_write_price(self: &mut SystemStateInnerV1, price: u64) {
    self.write_price_per_unit_size = price;
}

/// Sells storage up to `max_epochs_ahead` epochs ahead (governance; only
/// grows, bounded by `MAX_MAX_EPOCHS_AHEAD`).
public(package) fun extend_max_epochs_ahead(self: &mut SystemStateInnerV1, max_epochs_ahead: u32) {
    assert!(max_epochs_ahead <= MAX_MAX_EPOCHS_AHEAD, EInvalidMaxEpochsAhead);
    self.future_accounting.ring_extend(max_epochs_ahead);
}

public(package) fun set_total_capacity_size(self: &mut SystemStateInnerV1, capacity: u64) {
    self.total_capacity_size = capacity;
}

// === Storage ===

/// Buys `storage_amount` encoded bytes for the current epoch and the next
/// `epochs_ahead - 1` epochs.
public(package) fun reserve_space(
    self: &mut SystemStateInnerV1,
    storage_amount: u64,
    epochs_ahead: u32,
    payment: &mut Coin<WAL>,
    ctx: &mut TxContext,
): Storage {
    assert!(epochs_ahead > 0, EInvalidEpochsAhead);
    assert!(epochs_ahead <= self.max_epochs_ahead(), EInvalidEpochsAhead);
    self.process_storage_payments(storage_amount, 0, epochs_ahead, payment);
    self.reserve_space_without_payment(storage_amount, 0, epochs_ahead, true, ctx)
}

/// Buys `storage_amount` encoded bytes for `[start_epoch, end_epoch)`; a
/// start in the past is moved to the current epoch.
public(package) fun reserve_space_for_epochs(
    self: &mut SystemStateInnerV1,
    storage_amount: u64,
    start_epoch: u32,
    end_epoch: u32,
    payment: &mut Coin<WAL>,
    ctx: &mut TxContext,
): Storage {
    let current = self.epoch();
    let start_epoch = if (start_epoch < current) { current } else { start_epoch };
    assert!(end_epoch > start_epoch, EInvalidEpochsAhead);
    assert!(end_epoch - current <= self.max_epochs_ahead(), EInvalidEpochsAhead);
    let start_offset = start_epoch - current;
    let end_offset = end_epoch - current;
    self.process_storage_payments(storage_amount, start_offset, end_offset, payment);
    self.reserve_space_without_payment(storage_amount, start_offset, end_offset, true, ctx)
}

/// Accounts `storage_amount` bytes in the epochs at offsets
/// `[start_offset, end_offset)` (checking capacity if `check_capacity`) and
/// creates the resource.
public(package) fun reserve_space_without_payment(
    self: &mut SystemStateInnerV1,
    storage_amount: u64,
    start_offset: u32,
    end_offset: u32,
    check_capacity: bool,
    ctx: &mut TxContext,
): Storage {
    assert!(storage_amount > 0, EInvalidResourceSize);
    self.add_used_capacity(storage_amount, start_offset, end_offset, check_capacity);
    let current = self.epoch();
    storage_resource::create_storage(
        current + start_offset,
        current + end_offset,
        storage_amount,
        ctx,
    )
}

/// Registers a blob on `storage` and charges the write price for its
/// encoded size into the current epoch's rewards.
public(package) fun register_blob(
    self: &mut SystemStateInnerV1,
    storage: Storage,
    blob_id: u256,
    root_hash: u256,
    size: u64,
    encoding_type: u8,
    deletable: bool,
    write_payment: &mut Coin<WAL>,
    ctx: &mut TxContext,
): Blob {
    let blob = blob::new(
        storage,
        blob_id,
        root_hash,
        size,
        encoding_type,
        deletable,
        self.epoch(),
        self.n_shards(),
        ctx,
    );
    let encoded_size = encoding::encoded_blob_length(size, encoding_type, self.n_shards());
    let price = self.write_price_for_size(encoded_size);
    let paid = write_payment.balance_mut().split(price);
    self.future_accounting.ring_lookup_mut(0).rewards_balance().join(paid);
    blob
}

/// Certifies `blob` with a quorum certificate of the current committee.
public(package) fun certify_blob(
    self: &SystemStateInnerV1,
    blob: &mut Blob,
    signature: vector<u8>,
    signers_bitmap: vector<u8>,
    message: vector<u8>,
) {
    let certified = self.committee.verify_quorum_in_epoch(signature, signers_bitmap, message);
    assert!(certified.cert_epoch() == self.epoch(), EInvalidIdEpoch);
    let blob_message = messages::certify_blob_message(certified);
    blob.certify_with_certified_msg(self.epoch(), blob_message);
}

/// Deletes a deletable blob, returning its storage.
public(package) fun delete_blob(self: &SystemStateInnerV1, blob: Blob): Storage {
    blob.delete(self.epoch())
}

/// Extends a certified blob with a storage resource starting at its end.
public(package) fun extend_blob_with_resource(
    self: &SystemStateInnerV1,
    blob: &mut Blob,
    extension: Storage,
) {
    blob.extend_with_resource(extension, self.epoch());
}

/// Extends a certified blob by `extended_epochs`, paying the storage price
/// of its storage size for each added epoch.
public(package) fun extend_blob(
    self: &mut SystemStateInnerV1,
    blob: &mut Blob,
    extended_epochs: u32,
    payment: &mut Coin<WAL>,
) {
    let current = self.epoch();
    blob.assert_certified_not_expired(current);
    assert!(extended_epochs > 0, EInvalidEpochsAhead);
    let start_offset = blob.end_epoch() - current;
    let end_offset = start_offset + extended_epochs;
    assert!(end_offset <= self.max_epochs_ahead(), EInvalidEpochsAhead);
    let storage_size = blob.storage().size();
    self.process_storage_payments(storage_size, start_offset, end_offset, payment);
    self.add_used_capacity(storage_size, start_offset, end_offset, true);
    blob.extend_storage_end_epoch(extended_epochs, current);
}

/// Marks a blob id invalid with a certificate of at least f + 1 shards;
/// emits `InvalidBlobID` and returns the id.
public(package) fun invalidate_blob_id(
    self: &SystemStateInnerV1,
    signature: vector<u8>,
    members_bitmap: vector<u8>,
    message: vector<u8>,
): u256 {
    let certified = self
        .committee
        .verify_one_correct_node_in_epoch(signature, members_bitmap, message);
    let epoch = certified.cert_epoch();
    let invalid = messages::invalid_blob_id_message(certified);
    let blob_id = invalid.invalid_blob_id();
    assert!(epoch == self.epoch(), EInvalidIdEpoch);
    events::emit_invalid_blob_id(epoch, blob_id);
    blob_id
}

// === Subsidies ===

/// Adds `subsidy` to the rewards of the next `epochs_ahead` epochs (from
/// the current one), split equally; the remainder goes to the current one.
public(package) fun add_subsidy(
    self: &mut SystemStateInnerV1,
    subsidy: Coin<WAL>,
    epochs_ahead: u32,
) {
    assert!(epochs_ahead > 0, EInvalidEpochsAhead);
    assert!(epochs_ahead <= self.max_epochs_ahead(), EInvalidEpochsAhead);
    let mut subsidy = subsidy.into_balance();
    let per_epoch = subsidy.value() / (epochs_ahead as u64);
    let mut i = 0;
    while (i < epochs_ahead) {
        let part = subsidy.split(per_epoch);
        self.future_accounting.ring_lookup_mut(i).rewards_balance().join(part);
        i = i + 1;
    };
    self.future_accounting.ring_lookup_mut(0).rewards_balance().join(subsidy);
}

/// Adds `subsidies[i]` to the rewards of the epoch `current + i`.
public(package) fun add_per_epoch_subsidies(
    self: &mut SystemStateInnerV1,
    subsidies: vector<Balance<WAL>>,
) {
    assert!(subsidies.length() <= (self.max_epochs_ahead() as u64), EInvalidEpochsAhead);
    let mut subsidies = subsidies;
    subsidies.reverse();
    let mut i: u32 = 0;
    while (!subsidies.is_empty()) {
        let part = subsidies.pop_back();
        self.future_accounting.ring_lookup_mut(i).rewards_balance().join(part);
        i = i + 1;
    };
    subsidies.destroy_empty();
}

// === Epoch change ===

/// Splits off the share of the current epoch's rewards to burn.
public(package) fun extract_burn_balance(self: &mut SystemStateInnerV1): Balance<WAL> {
    self.future_accounting.extract_burn_balance()
}

/// Moves to `new_committee` (for the next epoch) with capacity
/// `new_total_capacity` (raised to the new epoch's used capacity if
/// needed) and returns the ended epoch's rewards per node of the old
/// committee: proportional to `weight * (used - deny_list_size)`; the
/// rounding remainder goes to the new epoch.
public(package) fun advance_epoch(
    self: &mut SystemStateInnerV1,
    new_committee: BlsCommittee,
    new_total_capacity: u64,
): VecMap<ID, Balance<WAL>> {
    let old_epoch = self.epoch();
    assert!(new_committee.epoch() == old_epoch + 1, EIncorrectCommittee);
    let old_committee = self.committee;
    self.committee = new_committee;

    let ended = self.future_accounting.ring_pop_expand();
    assert!(ended.epoch() == old_epoch, EInvalidAccountingEpoch);
    let old_used_capacity = ended.used_capacity();
    let mut rewards = ended.unwrap_balance();

    self.event_blob_certification_state.reset();
    self.used_capacity_size = self.future_accounting.ring_lookup(0).used_capacity();
    self.total_capacity_size = if (new_total_capacity < self.used_capacity_size) {
        self.used_capacity_size
    } else {
        new_total_capacity
    };

    // Weighted shares of the ended epoch's rewards.
    let members = old_committee.members();
    let deny_list_sizes = self.deny_list_sizes.borrow();
    let mut weighted = vector[];
    let mut total_weighted: u128 = 0;
    let mut i = 0;
    while (i < members.length()) {
        let member = &members[i];
        let node_id = member.member_node_id();
        let deny_list_size = if (deny_list_sizes.contains(&node_id)) {
            *deny_list_sizes.get(&node_id)
        } else {
            0
        };
        let stored = if (deny_list_size >= old_used_capacity) {
            0
        } else {
            old_used_capacity - deny_list_size
        };
        let value = (member.member_weight() as u128) * (stored as u128);
        weighted.push_back(value);
        total_weighted = total_weighted + value;
        i = i + 1;
    };

    let total_rewards = (rewards.value() as u128);
    let mut node_rewards = vec_map::empty();
    let mut i = 0;
    while (i < members.length()) {
        let share = if (total_weighted == 0) {
            0
        } else {
            (((weighted[i] as u256) * (total_rewards as u256) / (total_weighted as u256)) as u64)
        };
        node_rewards.insert(members[i].member_node_id(), rewards.split(share));
        i = i + 1;
    };
    self.future_accounting.ring_lookup_mut(0).rewards_balance().join(rewards);
    node_rewards
}

/// Sets the deny-list size of `node_id`.
public(package) fun set_deny_list_size(self: &mut SystemStateInnerV1, node_id: ID, size: u64) {
    let sizes = self.deny_list_sizes.borrow_mut();
    if (sizes.contains(&node_id)) {
        *sizes.get_mut(&node_id) = size;
    } else {
        sizes.insert(node_id, size);
    }
}

// === Internal ===

/// Charges `storage_price * units(storage_size)` into each epoch at offsets
/// `[start_offset, end_offset)`.
fun process_storage_payments(
    self: &mut SystemStateInnerV1,
    storage_size: u64,
    start_offset: u32,
    end_offset: u32,
    payment: &mut Coin<WAL>,
) {
    let per_epoch = self.storage_price_for_size(storage_size);
    let balance = payment.balance_mut();
    let mut i = start_offset;
    while (i < end_offset) {
        let part = balance.split(per_epoch);
        self.future_accounting.ring_lookup_mut(i).rewards_balance().join(part);
        i = i + 1;
    };
}

/// Adds `amount` to the used capacity of the epochs at offsets
/// `[start_offset, end_offset)`, checking the total capacity if asked.
fun add_used_capacity(
    self: &mut SystemStateInnerV1,
    amount: u64,
    start_offset: u32,
    end_offset: u32,
    check_capacity: bool,
) {
    let mut i = start_offset;
    while (i < end_offset) {
        let used = self.future_accounting.ring_lookup_mut(i).increase_used_capacity(amount);
        assert!(!check_capacity || used <= self.total_capacity_size, EStorageExceeded);
        i = i + 1;
    };
    if (start_offset == 0 && end_offset > 0) {
        self.used_capacity_size = self.future_accounting.ring_lookup(0).used_capacity();
    };
}

#[test_only]
/// Drops the state and everything in it.
public fun destroy_for_testing(self: SystemStateInnerV1) {
    let SystemStateInnerV1 {
        committee: _,
        total_capacity_size: _,
        used_capacity_size: _,
        storage_price_per_unit_size: _,
        write_price_per_unit_size: _,
        future_accounting,
        event_blob_certification_state,
        deny_list_sizes,
    } = self;
    future_accounting.destroy_for_testing();
    std::unit_test::destroy(event_blob_certification_state);
    std::unit_test::destroy(deny_list_sizes);
}

#[test_only]
/// Balance helper for tests: the rewards prepaid `offset` epochs ahead.
public fun rewards_at_offset(self: &SystemStateInnerV1, offset: u32): u64 {
    self.future_accounting.ring_lookup(offset).rewards()
}
