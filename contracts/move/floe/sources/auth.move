// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Who may act for a staking pool: an address (the transaction sender must
/// be it) or an object (the caller must present it, e.g. the node's
/// `StorageNodeCap`). Pools store one `Authorized` for the commission
/// receiver and one for governance; a call proves who it acts as with an
/// `Authenticated`, a drop-only witness that only this module builds, from
/// the transaction's sender or from a reference to an object the caller
/// holds, so it cannot be stored or forged.
module floe::auth;

/// Who acts in this transaction.
public enum Authenticated has drop {
    Sender(address),
    Object(ID),
}

/// A stored authorization.
public enum Authorized has copy, drop, store {
    Address(address),
    ObjectID(ID),
}

/// Authenticates the transaction's sender.
public fun authenticate_sender(ctx: &TxContext): Authenticated {
    Authenticated::Sender(ctx.sender())
}

/// Authenticates the holder of `obj` (only its owner can pass it).
public fun authenticate_with_object<T: key>(obj: &T): Authenticated {
    Authenticated::Object(object::id(obj))
}

/// Authorizes the sender `addr`.
public fun authorized_address(addr: address): Authorized {
    Authorized::Address(addr)
}

/// Authorizes whoever presents the object `id`.
public fun authorized_object(id: ID): Authorized {
    Authorized::ObjectID(id)
}

/// Whether `authenticated` is what `authorized` allows.
public(package) fun matches(authenticated: &Authenticated, authorized: &Authorized): bool {
    match (authenticated) {
        Authenticated::Sender(sender) => match (authorized) {
            Authorized::Address(addr) => sender == addr,
            Authorized::ObjectID(_) => false,
        },
        Authenticated::Object(id) => match (authorized) {
            Authorized::ObjectID(object_id) => id == object_id,
            Authorized::Address(_) => false,
        },
    }
}
