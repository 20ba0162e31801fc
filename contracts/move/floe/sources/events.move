// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Every event floe's contracts emit. Field order and types equal Walrus's
/// events of the same name (storage nodes and indexers decode them by BCS).
/// Only modules of this package can emit them.
module floe::events;

use sui::event;

// === Blob events ===

/// A blob was registered (storage reserved for it, not yet certified).
public struct BlobRegistered has copy, drop {
    epoch: u32,
    blob_id: u256,
    size: u64,
    encoding_type: u8,
    end_epoch: u32,
    deletable: bool,
    object_id: ID,
}

/// A blob was certified, or a certified blob was extended
/// (`is_extension`, with the original certified epoch).
public struct BlobCertified has copy, drop {
    epoch: u32,
    blob_id: u256,
    end_epoch: u32,
    deletable: bool,
    object_id: ID,
    is_extension: bool,
}

/// A deletable blob was deleted.
public struct BlobDeleted has copy, drop {
    epoch: u32,
    blob_id: u256,
    end_epoch: u32,
    object_id: ID,
    was_certified: bool,
}

/// A blob id was proven invalid (inconsistently encoded) by f+1 shards.
public struct InvalidBlobID has copy, drop {
    epoch: u32,
    blob_id: u256,
}

// === Epoch change events ===

/// The system moved to `epoch`; nodes start syncing shards.
public struct EpochChangeStart has copy, drop {
    epoch: u32,
}

/// A quorum of the committee of `epoch` finished syncing shards.
public struct EpochChangeDone has copy, drop {
    epoch: u32,
}

/// A node reported it received `shards` in `epoch`.
public struct ShardsReceived has copy, drop {
    epoch: u32,
    shards: vector<u16>,
}

/// The committee and parameters of `next_epoch` were selected.
public struct EpochParametersSelected has copy, drop {
    next_epoch: u32,
}

/// Shard recovery started (declared for layout parity with Walrus; floe's
/// nodes do not emit it, so its fields are never read in Move).
#[allow(unused_field)]
public struct ShardRecoveryStart has copy, drop {
    epoch: u32,
    shards: vector<u16>,
}

// === Package events ===

/// The package was upgraded and the shared objects migrated.
public struct ContractUpgraded has copy, drop {
    epoch: u32,
    package_id: ID,
    version: u64,
}

/// An upgrade was proposed by a committee member.
public struct ContractUpgradeProposed has copy, drop {
    epoch: u32,
    package_digest: vector<u8>,
}

/// An upgrade proposal reached a quorum.
public struct ContractUpgradeQuorumReached has copy, drop {
    epoch: u32,
    package_digest: vector<u8>,
}

// === Deny list events ===

/// A node registered a deny-list update it wants certified.
public struct RegisterDenyListUpdate has copy, drop {
    epoch: u32,
    root: u256,
    sequence_number: u64,
    node_id: ID,
}

/// A node's deny-list update was certified.
public struct DenyListUpdate has copy, drop {
    epoch: u32,
    root: u256,
    sequence_number: u64,
    node_id: ID,
}

/// A deny-listed blob was deleted by f+1 shards.
public struct DenyListBlobDeleted has copy, drop {
    epoch: u32,
    blob_id: u256,
}

// === Protocol events ===

/// The protocol version changes from `start_epoch`.
public struct ProtocolVersionUpdated has copy, drop {
    epoch: u32,
    start_epoch: u32,
    protocol_version: u64,
}

/// Storage and write prices changed.
public struct PricesUpdated has copy, drop {
    epoch: u32,
    storage_price: u64,
    write_price: u64,
}

// === Emitters ===

public(package) fun emit_blob_registered(
    epoch: u32,
    blob_id: u256,
    size: u64,
    encoding_type: u8,
    end_epoch: u32,
    deletable: bool,
    object_id: ID,
) {
    event::emit(BlobRegistered {
        epoch,
        blob_id,
        size,
        encoding_type,
        end_epoch,
        deletable,
        object_id,
    });
}

public(package) fun emit_blob_certified(
    epoch: u32,
    blob_id: u256,
    end_epoch: u32,
    deletable: bool,
    object_id: ID,
    is_extension: bool,
) {
    event::emit(BlobCertified { epoch, blob_id, end_epoch, deletable, object_id, is_extension });
}

public(package) fun emit_blob_deleted(
    epoch: u32,
    blob_id: u256,
    end_epoch: u32,
    object_id: ID,
    was_certified: bool,
) {
    event::emit(BlobDeleted { epoch, blob_id, end_epoch, object_id, was_certified });
}

public(package) fun emit_invalid_blob_id(epoch: u32, blob_id: u256) {
    event::emit(InvalidBlobID { epoch, blob_id });
}

public(package) fun emit_epoch_change_start(epoch: u32) {
    event::emit(EpochChangeStart { epoch });
}

public(package) fun emit_epoch_change_done(epoch: u32) {
    event::emit(EpochChangeDone { epoch });
}

public(package) fun emit_shards_received(epoch: u32, shards: vector<u16>) {
    event::emit(ShardsReceived { epoch, shards });
}

public(package) fun emit_epoch_parameters_selected(next_epoch: u32) {
    event::emit(EpochParametersSelected { next_epoch });
}

public(package) fun emit_contract_upgraded(epoch: u32, package_id: ID, version: u64) {
    event::emit(ContractUpgraded { epoch, package_id, version });
}

public(package) fun emit_contract_upgrade_proposed(epoch: u32, package_digest: vector<u8>) {
    event::emit(ContractUpgradeProposed { epoch, package_digest });
}

public(package) fun emit_contract_upgrade_quorum_reached(epoch: u32, package_digest: vector<u8>) {
    event::emit(ContractUpgradeQuorumReached { epoch, package_digest });
}

public(package) fun emit_register_deny_list_update(
    epoch: u32,
    root: u256,
    sequence_number: u64,
    node_id: ID,
) {
    event::emit(RegisterDenyListUpdate { epoch, root, sequence_number, node_id });
}

public(package) fun emit_deny_list_update(
    epoch: u32,
    root: u256,
    sequence_number: u64,
    node_id: ID,
) {
    event::emit(DenyListUpdate { epoch, root, sequence_number, node_id });
}

public(package) fun emit_deny_listed_blob_deleted(epoch: u32, blob_id: u256) {
    event::emit(DenyListBlobDeleted { epoch, blob_id });
}

public(package) fun emit_protocol_version(epoch: u32, start_epoch: u32, protocol_version: u64) {
    event::emit(ProtocolVersionUpdated { epoch, start_epoch, protocol_version });
}

public(package) fun emit_prices_updated(epoch: u32, storage_price: u64, write_price: u64) {
    event::emit(PricesUpdated { epoch, storage_price, write_price });
}

// === Test-only readers of emitted events ===

#[test_only]
public fun blob_registered_blob_id(e: &BlobRegistered): u256 { e.blob_id }

#[test_only]
public fun blob_registered_end_epoch(e: &BlobRegistered): u32 { e.end_epoch }

#[test_only]
public fun blob_certified_epoch(e: &BlobCertified): u32 { e.epoch }

#[test_only]
public fun blob_certified_end_epoch(e: &BlobCertified): u32 { e.end_epoch }

#[test_only]
public fun blob_certified_is_extension(e: &BlobCertified): bool { e.is_extension }

#[test_only]
public fun blob_deleted_was_certified(e: &BlobDeleted): bool { e.was_certified }

#[test_only]
public fun invalid_blob_id_blob_id(e: &InvalidBlobID): u256 { e.blob_id }
