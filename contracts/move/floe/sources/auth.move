// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Who may act for a staking pool: an address (the transaction sender must
/// be it) or an object (the caller must present it, e.g. the node's
/// `StorageNodeCap`). Pools store one for the commission receiver and one
/// for governance. (Collecting commission and governance votes come later;
/// until then the records are kept, not checked.)
module floe::auth;

/// A stored authorization.
public enum Authorized has copy, drop, store {
    Address(address),
    ObjectID(ID),
}

/// Authorizes the sender `addr`.
public fun authorized_address(addr: address): Authorized {
    Authorized::Address(addr)
}

/// Authorizes whoever presents the object `id`.
public fun authorized_object(id: ID): Authorized {
    Authorized::ObjectID(id)
}
