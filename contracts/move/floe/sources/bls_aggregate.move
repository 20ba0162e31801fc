// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// The BLS committee of an epoch and the verification of its certificates.
///
/// Members are ordered by node id (ascending as u256); a certificate names
/// its signers with a little-endian bitmap over that order (bit `i` of byte
/// `k` is member `8k + i`). Weights are shard counts. Verification
/// aggregates the keys of the non-signers and subtracts them from the
/// precomputed total key, checks the signers' weight against the threshold
/// first, and only then does the pairing check.
module floe::bls_aggregate;

use floe::messages::{Self, CertifiedMessage};
use sui::bls12381::{Self, bls12381_min_pk_verify, G1, UncompressedG1};
use sui::group_ops::Element;
use sui::vec_map::{Self, VecMap};

/// The bitmap is longer than the members need or names a non-member.
const EInvalidBitmap: u64 = 0;
/// The aggregate signature does not verify.
const ESigVerification: u64 = 1;
/// The signers do not hold enough shards.
const ENotEnoughStake: u64 = 2;
/// A member has zero weight.
const EIncorrectCommittee: u64 = 3;

/// A committee member: BLS key, shard count and node id.
public struct BlsCommitteeMember has copy, drop, store {
    public_key: Element<UncompressedG1>,
    weight: u16,
    node_id: ID,
}

/// The committee of `epoch`; `n_shards` is the sum of the weights and
/// `total_aggregated_key` the sum of the keys.
public struct BlsCommittee has copy, drop, store {
    members: vector<BlsCommitteeMember>,
    n_shards: u16,
    epoch: u32,
    total_aggregated_key: Element<G1>,
}

/// A member with a positive `weight`.
public(package) fun new_bls_committee_member(
    public_key: Element<UncompressedG1>,
    weight: u16,
    node_id: ID,
): BlsCommitteeMember {
    BlsCommitteeMember { public_key, weight, node_id }
}

/// The committee of `epoch` with `members` in the given order (ascending
/// node ids). Aborts with `EIncorrectCommittee` on a zero weight.
public(package) fun new_bls_committee(
    epoch: u32,
    members: vector<BlsCommitteeMember>,
): BlsCommittee {
    let mut n_shards: u16 = 0;
    let mut keys = vector[];
    let mut i = 0;
    while (i < members.length()) {
        let member = &members[i];
        assert!(member.weight > 0, EIncorrectCommittee);
        n_shards = n_shards + member.weight;
        keys.push_back(member.public_key);
        i = i + 1;
    };
    let total_aggregated_key = if (keys.is_empty()) {
        bls12381::g1_identity()
    } else {
        bls12381::uncompressed_g1_to_g1(&bls12381::uncompressed_g1_sum(&keys))
    };
    BlsCommittee { members, n_shards, epoch, total_aggregated_key }
}

/// An empty committee for `epoch` (no members, no shards).
public(package) fun empty_committee(epoch: u32): BlsCommittee {
    new_bls_committee(epoch, vector[])
}

// === Accessors ===

public fun epoch(self: &BlsCommittee): u32 { self.epoch }

public fun n_shards(self: &BlsCommittee): u16 { self.n_shards }

public fun n_members(self: &BlsCommittee): u64 { self.members.length() }

public fun members(self: &BlsCommittee): &vector<BlsCommitteeMember> { &self.members }

public fun total_aggregated_key(self: &BlsCommittee): &Element<G1> { &self.total_aggregated_key }

public fun member_public_key(member: &BlsCommitteeMember): &Element<UncompressedG1> {
    &member.public_key
}

public fun member_weight(member: &BlsCommitteeMember): u16 { member.weight }

public fun member_node_id(member: &BlsCommitteeMember): ID { member.node_id }

/// Index of `node_id` among the members, if present.
public fun find_index(self: &BlsCommittee, node_id: &ID): Option<u64> {
    let mut i = 0;
    while (i < self.members.length()) {
        if (&self.members[i].node_id == node_id) {
            return option::some(i)
        };
        i = i + 1;
    };
    option::none()
}

/// True if `node_id` is a member.
public fun contains(self: &BlsCommittee, node_id: &ID): bool {
    let index = self.find_index(node_id);
    index.is_some()
}

/// Shards of `node_id` (0 for non-members).
public fun get_member_weight(self: &BlsCommittee, node_id: &ID): u16 {
    let index = self.find_index(node_id);
    if (index.is_none()) {
        0
    } else {
        self.members[index.destroy_some()].weight
    }
}

/// Node ids to weights.
public fun to_vec_map(self: &BlsCommittee): VecMap<ID, u16> {
    let mut map = vec_map::empty();
    let mut i = 0;
    while (i < self.members.length()) {
        let member = &self.members[i];
        map.insert(member.node_id, member.weight);
        i = i + 1;
    };
    map
}

// === Thresholds ===

/// `3 * weight >= 2 * n_shards + 1`: a quorum (2f + 1 shards).
public fun is_quorum(self: &BlsCommittee, weight: u16): bool {
    3 * (weight as u64) >= 2 * (self.n_shards as u64) + 1
}

/// `3 * weight >= n_shards + 1`: at least one correct node (f + 1 shards).
public fun includes_one_correct_node(self: &BlsCommittee, weight: u16): bool {
    3 * (weight as u64) >= (self.n_shards as u64) + 1
}

// === Certificates ===

/// Verifies a quorum certificate over `message` and parses its header for
/// this committee's epoch.
public fun verify_quorum_in_epoch(
    self: &BlsCommittee,
    signature: vector<u8>,
    signers_bitmap: vector<u8>,
    message: vector<u8>,
): CertifiedMessage {
    let stake_support = self.verify_certificate_and_weight(
        &signature,
        &signers_bitmap,
        &message,
        true,
    );
    messages::new_certified_message(message, self.epoch, stake_support)
}

/// Verifies a certificate of at least f + 1 shards over `message` and
/// parses its header for this committee's epoch.
public fun verify_one_correct_node_in_epoch(
    self: &BlsCommittee,
    signature: vector<u8>,
    signers_bitmap: vector<u8>,
    message: vector<u8>,
): CertifiedMessage {
    let stake_support = self.verify_certificate_and_weight(
        &signature,
        &signers_bitmap,
        &message,
        false,
    );
    messages::new_certified_message(message, self.epoch, stake_support)
}

/// Checks the bitmap, the signers' weight (a quorum if `require_quorum`,
/// else f + 1) and the aggregate signature; returns the signers' weight.
public fun verify_certificate_and_weight(
    self: &BlsCommittee,
    signature: &vector<u8>,
    signers_bitmap: &vector<u8>,
    message: &vector<u8>,
    require_quorum: bool,
): u16 {
    let n_members = self.members.length();
    let bitmap_len = signers_bitmap.length();
    assert!(bitmap_len <= (n_members + 7) / 8, EInvalidBitmap);

    // Collect the non-signers; reject bits past the last member.
    let mut non_signer_keys = vector[];
    let mut non_signer_weight: u16 = 0;
    let mut index = 0;
    while (index < bitmap_len * 8 || index < n_members) {
        let byte_index = index / 8;
        let signed = if (byte_index < bitmap_len) {
            let bit = ((index % 8) as u8);
            ((signers_bitmap[byte_index] >> bit) & 1) == 1
        } else {
            false
        };
        if (index < n_members) {
            if (!signed) {
                let member = &self.members[index];
                non_signer_keys.push_back(member.public_key);
                non_signer_weight = non_signer_weight + member.weight;
            };
        } else {
            assert!(!signed, EInvalidBitmap);
        };
        index = index + 1;
    };

    let weight = self.n_shards - non_signer_weight;
    let enough = if (require_quorum) {
        self.is_quorum(weight)
    } else {
        self.includes_one_correct_node(weight)
    };
    assert!(enough, ENotEnoughStake);

    let aggregate_key = if (non_signer_keys.is_empty()) {
        self.total_aggregated_key
    } else {
        let non_signers = bls12381::uncompressed_g1_to_g1(
            &bls12381::uncompressed_g1_sum(&non_signer_keys),
        );
        bls12381::g1_sub(&self.total_aggregated_key, &non_signers)
    };
    assert!(
        bls12381_min_pk_verify(signature, aggregate_key.bytes(), message),
        ESigVerification,
    );
    weight
}

#[test_only]
/// A committee from compressed keys, weights and node ids (in that order).
public fun new_bls_committee_for_testing(
    epoch: u32,
    public_keys: vector<vector<u8>>,
    weights: vector<u16>,
    node_ids: vector<ID>,
): BlsCommittee {
    let mut members = vector[];
    let mut i = 0;
    while (i < public_keys.length()) {
        let key = bls12381::g1_from_bytes(&public_keys[i]);
        members.push_back(
            new_bls_committee_member(bls12381::g1_to_uncompressed_g1(&key), weights[i], node_ids[i]),
        );
        i = i + 1;
    };
    new_bls_committee(epoch, members)
}
