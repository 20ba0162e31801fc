/// An example of a dApp contract built on floe: a shared gallery whose items
/// each hold a floe `Blob` object. The gallery accepts a blob only while it is
/// certified (a quorum of storage nodes signed that they hold it) and not
/// expired (its storage runs past the current epoch), so whoever reads the
/// gallery knows every item was retrievable from floe when it was added, and
/// can check with `item_available` whether it still is.
///
/// The current epoch comes from floe's shared `System` object, passed by
/// immutable reference: transactions that only read it do not contend with
/// the storage network's own transactions.
module gallery::gallery;

use floe::blob::Blob;
use floe::system::System;
use std::string::String;

/// The sender is not the gallery's owner.
const ENotOwner: u64 = 0;
/// The blob has no availability certificate yet.
const ENotCertified: u64 = 1;
/// The blob's storage has ended: its end epoch is not after the current epoch.
const EExpired: u64 = 2;
/// There is no item at that index.
const ENoSuchItem: u64 = 3;
/// The gallery holds `MAX_ITEMS` items already.
const EGalleryFull: u64 = 4;

/// Bound on the items of one gallery (its object size grows with each).
const MAX_ITEMS: u64 = 1000;

/// A shared gallery; only its creator adds and removes items.
public struct Gallery has key {
    id: UID,
    owner: address,
    items: vector<Item>,
}

/// One item: a title and the blob that holds its bytes.
public struct Item has store {
    title: String,
    blob: Blob,
}

/// Creates a gallery owned by the sender and shares it; returns its id.
public fun create(ctx: &mut TxContext): ID {
    let gallery = Gallery { id: object::new(ctx), owner: ctx.sender(), items: vector[] };
    let id = object::id(&gallery);
    transfer::share_object(gallery);
    id
}

/// Adds `blob` under `title`. Aborts unless the sender owns the gallery and
/// the blob is certified and not expired in `system`'s current epoch.
public fun add(self: &mut Gallery, system: &System, title: String, blob: Blob, ctx: &TxContext) {
    assert!(ctx.sender() == self.owner, ENotOwner);
    assert!(self.items.length() < MAX_ITEMS, EGalleryFull);
    assert_available(&blob, system);
    self.items.push_back(Item { title, blob });
}

/// Removes the item at `index` and gives its blob back to the owner (who can
/// extend, delete or burn it with floe's own functions).
public fun remove(self: &mut Gallery, index: u64, ctx: &TxContext): Blob {
    assert!(ctx.sender() == self.owner, ENotOwner);
    assert!(index < self.items.length(), ENoSuchItem);
    let Item { title: _, blob } = self.items.remove(index);
    blob
}

/// Whether `blob` is certified and its storage runs past the current epoch.
public fun is_available(blob: &Blob, system: &System): bool {
    blob.certified_epoch().is_some() && system.epoch() < blob.end_epoch()
}

/// Aborts with `ENotCertified` or `EExpired` unless `blob` is available.
public fun assert_available(blob: &Blob, system: &System) {
    assert!(blob.certified_epoch().is_some(), ENotCertified);
    assert!(system.epoch() < blob.end_epoch(), EExpired);
}

/// Whether the item at `index` is still available (blobs expire).
public fun item_available(self: &Gallery, index: u64, system: &System): bool {
    let item = self.item(index);
    is_available(&item.blob, system)
}

public fun owner(self: &Gallery): address { self.owner }

public fun length(self: &Gallery): u64 { self.items.length() }

public fun title(self: &Gallery, index: u64): &String {
    let item = self.item(index);
    &item.title
}

public fun blob(self: &Gallery, index: u64): &Blob {
    let item = self.item(index);
    &item.blob
}

/// The blob id of the item at `index` (what a reader passes to an
/// aggregator: `GET /v1/blobs/<id>`).
public fun blob_id(self: &Gallery, index: u64): u256 {
    let item = self.item(index);
    item.blob.blob_id()
}

fun item(self: &Gallery, index: u64): &Item {
    assert!(index < self.items.length(), ENoSuchItem);
    &self.items[index]
}
