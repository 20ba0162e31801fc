//! Mirrors of every event in `walrus::events` (Walrus's `contracts/walrus/sources/system/events.move`). All events
//! have `copy, drop`; field order is the BCS layout of the event's contents.

use super::framework::{ObjectId, U256Le};

move_struct! {
    /// A blob was registered.
    Walrus "events" BlobRegistered: Event [Copy, Drop] {
        epoch: u32 => "u32",
        blob_id: U256Le => "u256",
        size: u64 => "u64",
        encoding_type: u8 => "u8",
        end_epoch: u32 => "u32",
        deletable: bool => "bool",
        object_id: ObjectId => "ID",
    }
}

move_struct! {
    /// A blob was certified, or (with `is_extension`) its lifetime extended.
    Walrus "events" BlobCertified: Event [Copy, Drop] {
        epoch: u32 => "u32",
        blob_id: U256Le => "u256",
        end_epoch: u32 => "u32",
        deletable: bool => "bool",
        object_id: ObjectId => "ID",
        is_extension: bool => "bool",
    }
}

move_struct! {
    /// A deletable blob was deleted.
    Walrus "events" BlobDeleted: Event [Copy, Drop] {
        epoch: u32 => "u32",
        blob_id: U256Le => "u256",
        end_epoch: u32 => "u32",
        object_id: ObjectId => "ID",
        was_certified: bool => "bool",
    }
}

move_struct! {
    /// A blob id was certified invalid (f+1 shards).
    Walrus "events" InvalidBlobID: Event [Copy, Drop] {
        epoch: u32 => "u32",
        blob_id: U256Le => "u256",
    }
}

move_struct! {
    /// Epoch `epoch` started; shard migration in progress.
    Walrus "events" EpochChangeStart: Event [Copy, Drop] {
        epoch: u32 => "u32",
    }
}

move_struct! {
    /// A quorum finished syncing shards for `epoch`.
    Walrus "events" EpochChangeDone: Event [Copy, Drop] {
        epoch: u32 => "u32",
    }
}

move_struct! {
    /// A node received these shards for `epoch`.
    Walrus "events" ShardsReceived: Event [Copy, Drop] {
        epoch: u32 => "u32",
        shards: Vec<u16> => "vector<u16>",
    }
}

move_struct! {
    /// Committee and parameters for `next_epoch` were selected.
    Walrus "events" EpochParametersSelected: Event [Copy, Drop] {
        next_epoch: u32 => "u32",
    }
}

move_struct! {
    /// Shards recoverable via the recovery endpoint (declared, never emitted).
    Walrus "events" ShardRecoveryStart: Event [Copy, Drop] {
        epoch: u32 => "u32",
        shards: Vec<u16> => "vector<u16>",
    }
}

move_struct! {
    /// The package was upgraded and migrated.
    Walrus "events" ContractUpgraded: Event [Copy, Drop] {
        epoch: u32 => "u32",
        package_id: ObjectId => "ID",
        version: u64 => "u64",
    }
}

move_struct! {
    /// A node registered a deny-list update.
    Walrus "events" RegisterDenyListUpdate: Event [Copy, Drop] {
        epoch: u32 => "u32",
        root: U256Le => "u256",
        sequence_number: u64 => "u64",
        node_id: ObjectId => "ID",
    }
}

move_struct! {
    /// A deny-list update was certified.
    Walrus "events" DenyListUpdate: Event [Copy, Drop] {
        epoch: u32 => "u32",
        root: U256Le => "u256",
        sequence_number: u64 => "u64",
        node_id: ObjectId => "ID",
    }
}

move_struct! {
    /// A deny-listed blob was deleted (f+1 certificate).
    Walrus "events" DenyListBlobDeleted: Event [Copy, Drop] {
        epoch: u32 => "u32",
        blob_id: U256Le => "u256",
    }
}

move_struct! {
    /// An upgrade proposal was created.
    Walrus "events" ContractUpgradeProposed: Event [Copy, Drop] {
        epoch: u32 => "u32",
        package_digest: Vec<u8> => "vector<u8>",
    }
}

move_struct! {
    /// An upgrade proposal reached a quorum of votes.
    Walrus "events" ContractUpgradeQuorumReached: Event [Copy, Drop] {
        epoch: u32 => "u32",
        package_digest: Vec<u8> => "vector<u8>",
    }
}

move_struct! {
    /// The protocol version changes at `start_epoch`.
    Walrus "events" ProtocolVersionUpdated: Event [Copy, Drop] {
        epoch: u32 => "u32",
        start_epoch: u32 => "u32",
        protocol_version: u64 => "u64",
    }
}

move_struct! {
    /// Storage and write prices changed (FROST per MiB unit).
    Walrus "events" PricesUpdated: Event [Copy, Drop] {
        epoch: u32 => "u32",
        storage_price: u64 => "u64",
        write_price: u64 => "u64",
    }
}

move_struct! {
    /// A storage pool was created.
    Walrus "events" StoragePoolCreated: Event [Copy, Drop] {
        epoch: u32 => "u32",
        storage_pool_id: ObjectId => "ID",
        reserved_encoded_capacity_bytes: u64 => "u64",
        start_epoch: u32 => "u32",
        end_epoch: u32 => "u32",
    }
}

move_struct! {
    /// A blob was registered in a storage pool.
    Walrus "events" PooledBlobRegistered: Event [Copy, Drop] {
        epoch: u32 => "u32",
        blob_id: U256Le => "u256",
        unencoded_size: u64 => "u64",
        encoding_type: u8 => "u8",
        deletable: bool => "bool",
        object_id: ObjectId => "ID",
        storage_pool_id: ObjectId => "ID",
    }
}

move_struct! {
    /// A pooled blob was certified.
    Walrus "events" PooledBlobCertified: Event [Copy, Drop] {
        epoch: u32 => "u32",
        blob_id: U256Le => "u256",
        deletable: bool => "bool",
        object_id: ObjectId => "ID",
        storage_pool_id: ObjectId => "ID",
    }
}

move_struct! {
    /// A pooled blob was deleted.
    Walrus "events" PooledBlobDeleted: Event [Copy, Drop] {
        epoch: u32 => "u32",
        blob_id: U256Le => "u256",
        object_id: ObjectId => "ID",
        was_certified: bool => "bool",
        storage_pool_id: ObjectId => "ID",
    }
}

move_struct! {
    /// A storage pool's end epoch moved.
    Walrus "events" StoragePoolExtended: Event [Copy, Drop] {
        epoch: u32 => "u32",
        storage_pool_id: ObjectId => "ID",
        new_end_epoch: u32 => "u32",
    }
}
