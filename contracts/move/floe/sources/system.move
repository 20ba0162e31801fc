// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The shared `System` object and the public API of storage.
///
/// `System` is a thin versioned shell: the state lives in a dynamic field
/// keyed by the version (`SystemStateInnerV1` at key `1`). Every access
/// checks the version against the package's `VERSION` (`EWrongVersion`), so
/// after a migration old package versions stop working.
///
/// Certify, delete, extend-with-resource and invalidate take `&System`
/// (no contention on the shared object); buying storage, registering and
/// paid extensions take `&mut System`.
module floe::system;

use floe::blob::Blob;
use floe::bls_aggregate::BlsCommittee;
use floe::events;
use floe::storage_accounting::FutureAccountingRingBuffer;
use floe::storage_resource::Storage;
use floe::system_state_inner::SystemStateInnerV1;
use sui::balance::Balance;
use sui::coin::Coin;
use sui::dynamic_field as df;
use sui::vec_map::VecMap;
use wal::wal::WAL;

/// The version of the package's code and of `System`.
const VERSION: u64 = 1;

/// Migration without a newer package version or a new package id.
const EInvalidMigration: u64 = 0;
/// `System` is not at this package's version.
const EWrongVersion: u64 = 1;

/// The shared system object.
public struct System has key {
    id: UID,
    /// Version of the inner state (dynamic field key).
    version: u64,
    /// The package that may use this object.
    package_id: ID,
    /// The package of an authorized upgrade, until migration.
    new_package_id: Option<ID>,
}

/// Wraps `inner` in a new `System` for `package_id`.
public(package) fun create(inner: SystemStateInnerV1, package_id: ID, ctx: &mut TxContext): System {
    let mut system = System {
        id: object::new(ctx),
        version: VERSION,
        package_id,
        new_package_id: option::none(),
    };
    df::add(&mut system.id, VERSION, inner);
    system
}

/// Shares `system`.
public(package) fun share(system: System) {
    transfer::share_object(system);
}

// === Storage ===

/// Buys `storage_amount` encoded bytes for the current epoch and the next
/// `epochs_ahead - 1` ones, paid from `payment`.
public fun reserve_space(
    self: &mut System,
    storage_amount: u64,
    epochs_ahead: u32,
    payment: &mut Coin<WAL>,
    ctx: &mut TxContext,
): Storage {
    self.inner_mut().reserve_space(storage_amount, epochs_ahead, payment, ctx)
}

/// Buys `storage_amount` encoded bytes for `[start_epoch, end_epoch)`.
public fun reserve_space_for_epochs(
    self: &mut System,
    storage_amount: u64,
    start_epoch: u32,
    end_epoch: u32,
    payment: &mut Coin<WAL>,
    ctx: &mut TxContext,
): Storage {
    self.inner_mut().reserve_space_for_epochs(storage_amount, start_epoch, end_epoch, payment, ctx)
}

/// Registers a blob on `storage`, paying the write price from
/// `write_payment`.
public fun register_blob(
    self: &mut System,
    storage: Storage,
    blob_id: u256,
    root_hash: u256,
    size: u64,
    encoding_type: u8,
    deletable: bool,
    write_payment: &mut Coin<WAL>,
    ctx: &mut TxContext,
): Blob {
    self
        .inner_mut()
        .register_blob(
            storage,
            blob_id,
            root_hash,
            size,
            encoding_type,
            deletable,
            write_payment,
            ctx,
        )
}

/// Certifies `blob` with a quorum certificate (aggregate `signature`,
/// `signers_bitmap`, BLOB_CERT `message`) of the current committee.
public fun certify_blob(
    self: &System,
    blob: &mut Blob,
    signature: vector<u8>,
    signers_bitmap: vector<u8>,
    message: vector<u8>,
) {
    self.inner().certify_blob(blob, signature, signers_bitmap, message);
}

/// Deletes a deletable blob and returns its storage.
public fun delete_blob(self: &System, blob: Blob): Storage {
    self.inner().delete_blob(blob)
}

/// Extends a certified blob with `extension`, which starts at the blob's
/// end epoch and has its size.
public fun extend_blob_with_resource(self: &System, blob: &mut Blob, extension: Storage) {
    self.inner().extend_blob_with_resource(blob, extension);
}

/// Extends a certified blob by `extended_epochs`, paid from `payment`.
public fun extend_blob(
    self: &mut System,
    blob: &mut Blob,
    extended_epochs: u32,
    payment: &mut Coin<WAL>,
) {
    self.inner_mut().extend_blob(blob, extended_epochs, payment);
}

/// Marks a blob id invalid with a certificate of f + 1 shards; returns it.
public fun invalidate_blob_id(
    self: &System,
    signature: vector<u8>,
    members_bitmap: vector<u8>,
    message: vector<u8>,
): u256 {
    self.inner().invalidate_blob_id(signature, members_bitmap, message)
}

/// Adds `subsidy` to the rewards of the next `epochs_ahead` epochs.
public fun add_subsidy(self: &mut System, subsidy: Coin<WAL>, epochs_ahead: u32) {
    self.inner_mut().add_subsidy(subsidy, epochs_ahead);
}

/// Adds `subsidies[i]` to the rewards of epoch `current + i`.
public fun add_per_epoch_subsidies(self: &mut System, subsidies: vector<Balance<WAL>>) {
    self.inner_mut().add_per_epoch_subsidies(subsidies);
}

// === Reads ===

public fun epoch(self: &System): u32 { self.inner().epoch() }

public fun total_capacity_size(self: &System): u64 { self.inner().total_capacity_size() }

public fun used_capacity_size(self: &System): u64 { self.inner().used_capacity_size() }

public fun n_shards(self: &System): u16 { self.inner().n_shards() }

public fun storage_price_per_unit_size(self: &System): u64 {
    self.inner().storage_price_per_unit_size()
}

public fun write_price_per_unit_size(self: &System): u64 {
    self.inner().write_price_per_unit_size()
}

public fun max_epochs_ahead(self: &System): u32 { self.inner().max_epochs_ahead() }

public fun committee(self: &System): &BlsCommittee { self.inner().committee() }

public fun future_accounting(self: &System): &FutureAccountingRingBuffer {
    self.inner().future_accounting()
}

public fun version(self: &System): u64 { self.version }

public fun package_id(self: &System): ID { self.package_id }

public fun new_package_id(self: &System): Option<ID> { self.new_package_id }

// === Package-internal: epoch change, prices, upgrades ===

/// Moves to `new_committee` with capacity `new_total_capacity`; returns the
/// ended epoch's rewards per node.
public(package) fun advance_epoch(
    self: &mut System,
    new_committee: BlsCommittee,
    new_total_capacity: u64,
): VecMap<ID, Balance<WAL>> {
    self.inner_mut().advance_epoch(new_committee, new_total_capacity)
}

/// Splits off the current epoch's rewards to burn.
public(package) fun extract_burn_balance(self: &mut System): Balance<WAL> {
    self.inner_mut().extract_burn_balance()
}

public(package) fun set_storage_price(self: &mut System, price: u64) {
    self.inner_mut().set_storage_price(price);
}

public(package) fun set_write_price(self: &mut System, price: u64) {
    self.inner_mut().set_write_price(price);
}

/// See `system_state_inner::extend_max_epochs_ahead`.
public(package) fun extend_max_epochs_ahead(self: &mut System, max_epochs_ahead: u32) {
    self.inner_mut().extend_max_epochs_ahead(max_epochs_ahead);
}

public(package) fun set_total_capacity_size(self: &mut System, capacity: u64) {
    self.inner_mut().set_total_capacity_size(capacity);
}

/// Records the package id of an authorized upgrade.
public(package) fun set_new_package_id(self: &mut System, new_package_id: ID) {
    self.new_package_id = option::some(new_package_id);
}

/// Moves the inner state to this package's `VERSION` and switches to the
/// new package id; emits `ContractUpgraded`.
public(package) fun migrate(self: &mut System) {
    assert!(self.version < VERSION, EInvalidMigration);
    assert!(self.new_package_id.is_some(), EInvalidMigration);
    let old_version = self.version;
    let inner: SystemStateInnerV1 = df::remove(&mut self.id, old_version);
    df::add(&mut self.id, VERSION, inner);
    self.version = VERSION;
    self.package_id = self.new_package_id.extract();
    events::emit_contract_upgraded(self.epoch(), self.package_id, VERSION);
}

/// The inner state; aborts with `EWrongVersion`.
public(package) fun inner(self: &System): &SystemStateInnerV1 {
    assert!(self.version == VERSION, EWrongVersion);
    df::borrow(&self.id, VERSION)
}

/// The inner state, mutably; aborts with `EWrongVersion`.
public(package) fun inner_mut(self: &mut System): &mut SystemStateInnerV1 {
    assert!(self.version == VERSION, EWrongVersion);
    df::borrow_mut(&mut self.id, VERSION)
}

// === Test helpers ===

#[test_only]
/// A `System` in `epoch` (no committee members, default prices), for the unit
/// tests of packages that depend on floe and read `epoch()` to check that a
/// blob has not expired. Dispose of it with `std::unit_test::destroy`.
public fun new_at_epoch_for_testing(epoch: u32, ctx: &mut TxContext): System {
    let committee = floe::bls_aggregate::new_bls_committee(epoch, vector[]);
    let inner = floe::system_state_inner::create(committee, 53, 1_000_000_000, 1, 1, ctx);
    create(inner, object::id_from_address(@0x0), ctx)
}

#[test_only]
public fun new_for_testing(inner: SystemStateInnerV1, ctx: &mut TxContext): System {
    create(inner, object::id_from_address(@0x0), ctx)
}

#[test_only]
public fun set_version_for_testing(self: &mut System, version: u64) {
    self.version = version;
}

#[test_only]
public fun advance_epoch_for_testing(
    self: &mut System,
    new_committee: BlsCommittee,
    new_total_capacity: u64,
): VecMap<ID, Balance<WAL>> {
    self.advance_epoch(new_committee, new_total_capacity)
}

#[test_only]
public fun migrate_for_testing(self: &mut System) {
    self.migrate()
}

#[test_only]
public fun set_new_package_id_for_testing(self: &mut System, new_package_id: ID) {
    self.set_new_package_id(new_package_id)
}

#[test_only]
public fun share_for_testing(self: System) {
    transfer::share_object(self);
}

#[test_only]
public fun destroy_for_testing(self: System) {
    let System { id, version, package_id: _, new_package_id: _ } = self;
    let mut id = id;
    let inner: SystemStateInnerV1 = df::remove(&mut id, version);
    inner.destroy_for_testing();
    id.delete();
}
