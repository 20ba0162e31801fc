// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// State of the certification of event blobs: the storage nodes' archive of
/// the contracts' event stream, stored as ordinary blobs. The committee
/// attests `(blob_id, ending checkpoint)` pairs; the weights are tallied
/// here until a quorum certifies one, which becomes the latest certified
/// event blob. (Attestations come with the staking issue; this module
/// holds the state and its rules.)
module floe::event_blob;

use sui::vec_map::{Self, VecMap};

/// A certified event blob must end after the previous one.
const EInvalidSequenceNumber: u64 = 0;

/// An event blob and the last checkpoint it covers.
public struct EventBlob has copy, drop, store {
    blob_id: u256,
    ending_checkpoint_sequence_number: u64,
}

/// A node's latest attestation of an event blob.
public struct EventBlobAttestation has copy, drop, store {
    checkpoint_sequence_num: u64,
    epoch: u32,
}

/// The latest certified event blob and the tallies of pending ones.
public struct EventBlobCertificationState has store {
    latest_certified_blob: Option<EventBlob>,
    aggregate_weight_per_blob: VecMap<EventBlob, u16>,
}

public fun new_event_blob(blob_id: u256, ending_checkpoint_sequence_number: u64): EventBlob {
    EventBlob { blob_id, ending_checkpoint_sequence_number }
}

public fun blob_id(self: &EventBlob): u256 { self.blob_id }

public fun ending_checkpoint_sequence_number(self: &EventBlob): u64 {
    self.ending_checkpoint_sequence_number
}

public fun new_attestation(checkpoint_sequence_num: u64, epoch: u32): EventBlobAttestation {
    EventBlobAttestation { checkpoint_sequence_num, epoch }
}

public fun last_attested_event_blob_checkpoint_seq_num(self: &EventBlobAttestation): u64 {
    self.checkpoint_sequence_num
}

public fun last_attested_event_blob_epoch(self: &EventBlobAttestation): u32 { self.epoch }

/// An empty state: nothing certified, no tallies.
public(package) fun create_with_empty_state(): EventBlobCertificationState {
    EventBlobCertificationState {
        latest_certified_blob: option::none(),
        aggregate_weight_per_blob: vec_map::empty(),
    }
}

/// The ending checkpoint of the latest certified event blob, if any.
public fun get_latest_certified_checkpoint_sequence_number(
    self: &EventBlobCertificationState,
): Option<u64> {
    if (self.latest_certified_blob.is_none()) {
        option::none()
    } else {
        option::some(self.latest_certified_blob.borrow().ending_checkpoint_sequence_number)
    }
}

/// The latest certified event blob, if any.
public fun get_latest_certified_event_blob(self: &EventBlobCertificationState): Option<EventBlob> {
    self.latest_certified_blob
}

/// True if a blob ending at `checkpoint_sequence_num` or later is certified.
public fun is_blob_already_certified(
    self: &EventBlobCertificationState,
    checkpoint_sequence_num: u64,
): bool {
    if (self.latest_certified_blob.is_none()) {
        false
    } else {
        self.latest_certified_blob.borrow().ending_checkpoint_sequence_number >=
            checkpoint_sequence_num
    }
}

/// Records a newly certified event blob; its checkpoint must be later than
/// the previous one's.
public(package) fun update_latest_certified_event_blob(
    self: &mut EventBlobCertificationState,
    checkpoint_sequence_number: u64,
    blob_id: u256,
) {
    if (self.latest_certified_blob.is_some()) {
        let previous = self.latest_certified_blob.borrow().ending_checkpoint_sequence_number;
        assert!(checkpoint_sequence_number > previous, EInvalidSequenceNumber);
    };
    self.latest_certified_blob =
        option::some(new_event_blob(blob_id, checkpoint_sequence_number));
}

/// Adds `weight` to the tally of `(blob_id, checkpoint_sequence_number)` and
/// returns the new total.
public(package) fun update_aggregate_weight(
    self: &mut EventBlobCertificationState,
    blob_id: u256,
    checkpoint_sequence_number: u64,
    weight: u16,
): u16 {
    let event_blob = new_event_blob(blob_id, checkpoint_sequence_number);
    if (self.aggregate_weight_per_blob.contains(&event_blob)) {
        let total = self.aggregate_weight_per_blob.get_mut(&event_blob);
        *total = *total + weight;
        *total
    } else {
        self.aggregate_weight_per_blob.insert(event_blob, weight);
        weight
    }
}

/// Drops every pending tally (at epoch change and after a certification).
public(package) fun reset(self: &mut EventBlobCertificationState) {
    self.aggregate_weight_per_blob = vec_map::empty();
}

/// Number of pending tallies.
public fun num_pending_blobs(self: &EventBlobCertificationState): u64 {
    self.aggregate_weight_per_blob.length()
}
