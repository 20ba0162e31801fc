// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// A storage node's public record (kept in its staking pool) and the
/// operator's capability. The node id is the key of the node's pool.
module floe::storage_node;

use floe::event_blob::EventBlobAttestation;
use floe::extended_field::{Self, ExtendedField};
use floe::node_metadata::NodeMetadata;
use std::string::String;
use sui::bls12381::{G1, g1_from_bytes};
use sui::group_ops::Element;

/// Length of a network public key (compressed secp256r1).
const NETWORK_PUBLIC_KEY_LENGTH: u64 = 33;

/// The network public key is not 33 bytes long.
const EInvalidNetworkPublicKey: u64 = 0;

/// What the network knows about a node.
public struct StorageNodeInfo has store {
    name: String,
    node_id: ID,
    network_address: String,
    /// BLS public key of the current epoch.
    public_key: Element<G1>,
    /// BLS public key from the next epoch on, if it changes.
    next_epoch_public_key: Option<Element<G1>>,
    /// Key of the node's TLS/network identity: 33 bytes for a registered
    /// node, empty for a devnet genesis node.
    network_public_key: vector<u8>,
    metadata: ExtendedField<NodeMetadata>,
}

/// The operator's capability: reports sync done, (later) votes and
/// attestations.
public struct StorageNodeCap has key, store {
    id: UID,
    node_id: ID,
    last_epoch_sync_done: u32,
    last_event_blob_attestation: Option<EventBlobAttestation>,
    deny_list_root: u256,
    deny_list_sequence: u64,
    deny_list_size: u64,
}

/// A node record; `public_key` is a compressed BLS12-381 G1 key (48 bytes,
/// aborts in `sui::group_ops` otherwise).
public(package) fun new(
    name: String,
    node_id: ID,
    network_address: String,
    public_key: vector<u8>,
    network_public_key: vector<u8>,
    metadata: NodeMetadata,
    ctx: &mut TxContext,
): StorageNodeInfo {
    StorageNodeInfo {
        name,
        node_id,
        network_address,
        public_key: g1_from_bytes(&public_key),
        next_epoch_public_key: option::none(),
        network_public_key,
        metadata: extended_field::new(metadata, ctx),
    }
}

/// A capability for `node_id` that has synced up to `last_epoch_sync_done`.
public(package) fun new_cap(
    node_id: ID,
    last_epoch_sync_done: u32,
    ctx: &mut TxContext,
): StorageNodeCap {
    StorageNodeCap {
        id: object::new(ctx),
        node_id,
        last_epoch_sync_done,
        last_event_blob_attestation: option::none(),
        deny_list_root: 0,
        deny_list_sequence: 0,
        deny_list_size: 0,
    }
}

// === StorageNodeInfo ===

public fun name(self: &StorageNodeInfo): String { self.name }

public fun id(self: &StorageNodeInfo): ID { self.node_id }

public fun network_address(self: &StorageNodeInfo): String { self.network_address }

public fun public_key(self: &StorageNodeInfo): &Element<G1> { &self.public_key }

/// The key the node signs with from the next epoch on.
public fun next_epoch_public_key(self: &StorageNodeInfo): &Element<G1> {
    if (self.next_epoch_public_key.is_some()) {
        self.next_epoch_public_key.borrow()
    } else {
        &self.public_key
    }
}

public fun network_public_key(self: &StorageNodeInfo): &vector<u8> { &self.network_public_key }

/// Checks a network public key's length (registration and updates; genesis
/// nodes may have none).
public(package) fun check_network_public_key(network_public_key: &vector<u8>) {
    assert!(network_public_key.length() == NETWORK_PUBLIC_KEY_LENGTH, EInvalidNetworkPublicKey);
}

/// The node's metadata.
public(package) fun metadata(self: &StorageNodeInfo): NodeMetadata { *self.metadata.borrow() }

/// Signs with `public_key` (compressed, 48 bytes) from the next epoch the
/// node's pool advances to.
public(package) fun set_next_public_key(self: &mut StorageNodeInfo, public_key: vector<u8>) {
    self.next_epoch_public_key.swap_or_fill(g1_from_bytes(&public_key));
}

public(package) fun set_name(self: &mut StorageNodeInfo, name: String) { self.name = name; }

public(package) fun set_network_address(self: &mut StorageNodeInfo, network_address: String) {
    self.network_address = network_address;
}

/// Replaces the network public key (33 bytes).
public(package) fun set_network_public_key(
    self: &mut StorageNodeInfo,
    network_public_key: vector<u8>,
) {
    check_network_public_key(&network_public_key);
    self.network_public_key = network_public_key;
}

public(package) fun set_node_metadata(self: &mut StorageNodeInfo, metadata: NodeMetadata) {
    let _ = self.metadata.swap(metadata);
}

/// Moves the next epoch's key in (at the pool's epoch advance).
public(package) fun rotate_public_key(self: &mut StorageNodeInfo) {
    if (self.next_epoch_public_key.is_some()) {
        self.public_key = self.next_epoch_public_key.extract();
    }
}

// === StorageNodeCap ===

public fun node_id(cap: &StorageNodeCap): ID { cap.node_id }

public fun last_epoch_sync_done(cap: &StorageNodeCap): u32 { cap.last_epoch_sync_done }

public(package) fun set_last_epoch_sync_done(cap: &mut StorageNodeCap, epoch: u32) {
    cap.last_epoch_sync_done = epoch;
}

/// Hands the capability to `recipient` (genesis).
public(package) fun transfer_cap(cap: StorageNodeCap, recipient: address) {
    transfer::public_transfer(cap, recipient);
}
