// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Storage resources: the right to store `storage_size` encoded bytes during
/// the epochs `[start_epoch, end_epoch)`. Bought from the system, split and
/// fused freely, attached to blobs, returned when a deletable blob is
/// deleted. Destroying one does not free capacity.
module floe::storage_resource;

/// `split_epoch` is not strictly inside the resource's epochs.
const EInvalidEpoch: u64 = 0;
/// The two resources' epochs are neither adjacent nor identical.
const EIncompatibleEpochs: u64 = 1;
/// Sizes differ where they must match, or a split is larger than the resource.
const EIncompatibleAmount: u64 = 2;
/// `start_epoch >= end_epoch` at creation.
const EInvalidEpochRange: u64 = 3;

/// Storage for `storage_size` encoded bytes during `[start_epoch, end_epoch)`.
public struct Storage has key, store {
    id: UID,
    start_epoch: u32,
    end_epoch: u32,
    storage_size: u64,
}

public fun start_epoch(self: &Storage): u32 { self.start_epoch }

public fun end_epoch(self: &Storage): u32 { self.end_epoch }

public fun size(self: &Storage): u64 { self.storage_size }

/// Creates a resource; only the system does (after payment).
public(package) fun create_storage(
    start_epoch: u32,
    end_epoch: u32,
    storage_size: u64,
    ctx: &mut TxContext,
): Storage {
    assert!(start_epoch < end_epoch, EInvalidEpochRange);
    Storage { id: object::new(ctx), start_epoch, end_epoch, storage_size }
}

/// Moves the end epoch `extension_epochs` later (paid for by the caller).
public(package) fun extend_end_epoch(self: &mut Storage, extension_epochs: u32) {
    self.end_epoch = self.end_epoch + extension_epochs;
}

/// Splits at `split_epoch`: `self` keeps `[start, split_epoch)`, the result
/// covers `[split_epoch, end)`, both with the same size.
public fun split_by_epoch(storage: &mut Storage, split_epoch: u32, ctx: &mut TxContext): Storage {
    assert!(
        split_epoch > storage.start_epoch && split_epoch < storage.end_epoch,
        EInvalidEpoch,
    );
    let end_epoch = storage.end_epoch;
    storage.end_epoch = split_epoch;
    Storage {
        id: object::new(ctx),
        start_epoch: split_epoch,
        end_epoch,
        storage_size: storage.storage_size,
    }
}

/// Splits by size: `self` keeps `split_size` bytes, the result gets the
/// rest, both over the same epochs.
public fun split_by_size(storage: &mut Storage, split_size: u64, ctx: &mut TxContext): Storage {
    assert!(split_size <= storage.storage_size, EIncompatibleAmount);
    let remainder = storage.storage_size - split_size;
    storage.storage_size = split_size;
    Storage {
        id: object::new(ctx),
        start_epoch: storage.start_epoch,
        end_epoch: storage.end_epoch,
        storage_size: remainder,
    }
}

/// Fuses two resources of the same size over adjacent epoch ranges (in
/// either order) into `first`.
public fun fuse_periods(first: &mut Storage, second: Storage) {
    let Storage { id, start_epoch, end_epoch, storage_size } = second;
    id.delete();
    assert!(first.storage_size == storage_size, EIncompatibleAmount);
    if (first.end_epoch == start_epoch) {
        first.end_epoch = end_epoch;
    } else {
        assert!(first.start_epoch == end_epoch, EIncompatibleEpochs);
        first.start_epoch = start_epoch;
    }
}

/// Fuses two resources over identical epochs into `first`, adding sizes.
public fun fuse_amount(first: &mut Storage, second: Storage) {
    let Storage { id, start_epoch, end_epoch, storage_size } = second;
    id.delete();
    assert!(
        first.start_epoch == start_epoch && first.end_epoch == end_epoch,
        EIncompatibleEpochs,
    );
    first.storage_size = first.storage_size + storage_size;
}

/// Fuses `second` into `first`: by amount if they start together, else by
/// periods.
public fun fuse(first: &mut Storage, second: Storage) {
    if (first.start_epoch == second.start_epoch) {
        fuse_amount(first, second);
    } else {
        fuse_periods(first, second);
    }
}

/// Destroys the resource. The capacity it reserved stays used.
public fun destroy(storage: Storage) {
    let Storage { id, start_epoch: _, end_epoch: _, storage_size: _ } = storage;
    id.delete();
}

#[test_only]
/// Any resource, without payment.
public fun create_for_test(
    start_epoch: u32,
    end_epoch: u32,
    storage_size: u64,
    ctx: &mut TxContext,
): Storage {
    create_storage(start_epoch, end_epoch, storage_size, ctx)
}
