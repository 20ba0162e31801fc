//! Mirrors of the Walrus system side: the `System` object and its inner
//! state, the BLS committee, storage accounting, event-blob state, storage
//! resources, blobs and storage pools (Walrus's `contracts/walrus/sources/system/`).

use super::framework::{Balance, Element, ObjectId, ObjectTable, U256Le, VecMap};

move_struct! {
    /// The shared `System` object: a thin versioned shell; the real state is a
    /// dynamic field keyed by `version` holding [`SystemStateInnerV1`].
    Walrus "system" System: Object [Key] {
        id: ObjectId => "UID",
        version: u64 => "u64",
        package_id: ObjectId => "ID",
        new_package_id: Option<ObjectId> => "Option<ID>",
    }
}

move_struct! {
    /// The system state; `committee.epoch` is the current Walrus epoch.
    Walrus "system_state_inner" SystemStateInnerV1: Value [Store] {
        committee: BlsCommittee => "BlsCommittee",
        total_capacity_size: u64 => "u64",
        used_capacity_size: u64 => "u64",
        storage_price_per_unit_size: u64 => "u64",
        write_price_per_unit_size: u64 => "u64",
        future_accounting: FutureAccountingRingBuffer => "FutureAccountingRingBuffer",
        event_blob_certification_state: EventBlobCertificationState => "EventBlobCertificationState",
        deny_list_sizes: ExtendedField => "ExtendedField<VecMap<ID, u64>>",
    }
}

move_struct! {
    /// One signer of the BLS committee; `weight` is its shard count.
    Walrus "bls_aggregate" BlsCommitteeMember: Value [Copy, Drop, Store] {
        public_key: Element => "Element<UncompressedG1>",
        weight: u16 => "u16",
        node_id: ObjectId => "ID",
    }
}

move_struct! {
    /// The signing committee of one epoch, members sorted by node id.
    Walrus "bls_aggregate" BlsCommittee: Value [Copy, Drop, Store] {
        members: Vec<BlsCommitteeMember> => "vector<BlsCommitteeMember>",
        n_shards: u16 => "u16",
        epoch: u32 => "u32",
        total_aggregated_key: Element => "Element<G1>",
    }
}

move_struct! {
    /// Accounting for one future epoch.
    Walrus "storage_accounting" FutureAccounting: Value [Store] {
        epoch: u32 => "u32",
        used_capacity: u64 => "u64",
        rewards_to_distribute: Balance => "Balance<WAL>",
    }
}

move_struct! {
    /// Ring buffer of [`FutureAccounting`], `length` = max epochs ahead;
    /// offset `i` lives at `(i + current_index) % length`.
    Walrus "storage_accounting" FutureAccountingRingBuffer: Value [Store] {
        current_index: u32 => "u32",
        length: u32 => "u32",
        ring_buffer: Vec<FutureAccounting> => "vector<FutureAccounting>",
    }
}

impl FutureAccountingRingBuffer {
    /// The entry `epochs_ahead` epochs after the current one, as Move's
    /// `ring_lookup` finds it; `None` past the buffer or on a malformed ring.
    pub fn lookup(&self, epochs_ahead: u32) -> Option<&FutureAccounting> {
        if epochs_ahead >= self.length {
            return None;
        }
        let index =
            (u64::from(epochs_ahead) + u64::from(self.current_index)) % u64::from(self.length);
        self.ring_buffer.get(usize::try_from(index).ok()?)
    }
}

move_struct! {
    /// A certified event blob: id and last checkpoint it covers.
    Walrus "event_blob" EventBlob: Value [Copy, Drop, Store] {
        blob_id: U256Le => "u256",
        ending_checkpoint_sequence_number: u64 => "u64",
    }
}

move_struct! {
    /// A node's latest event-blob attestation.
    Walrus "event_blob" EventBlobAttestation: Value [Copy, Drop, Store] {
        checkpoint_sequence_num: u64 => "u64",
        epoch: u32 => "u32",
    }
}

move_struct! {
    /// Event-blob certification progress.
    Walrus "event_blob" EventBlobCertificationState: Value [Store] {
        latest_certified_blob: Option<EventBlob> => "Option<EventBlob>",
        aggregate_weight_per_blob: VecMap<EventBlob, u16> => "VecMap<EventBlob, u16>",
    }
}

move_struct! {
    /// `ExtendedField<phantom T>`: the value lives in a dynamic field of `id`.
    Walrus "extended_field" ExtendedField<"T">: Object [Key, Store] {
        id: ObjectId => "UID",
    }
}

move_struct! {
    /// A storage reservation of `storage_size` encoded bytes for epochs
    /// `[start_epoch, end_epoch)`.
    Walrus "storage_resource" Storage: Object [Key, Store] {
        id: ObjectId => "UID",
        start_epoch: u32 => "u32",
        end_epoch: u32 => "u32",
        storage_size: u64 => "u64",
    }
}

move_struct! {
    /// A registered blob; `size` is the unencoded length.
    Walrus "blob" Blob: Object [Key, Store] {
        id: ObjectId => "UID",
        registered_epoch: u32 => "u32",
        blob_id: U256Le => "u256",
        size: u64 => "u64",
        encoding_type: u8 => "u8",
        certified_epoch: Option<u32> => "Option<u32>",
        storage: Storage => "Storage",
        deletable: bool => "bool",
    }
}

move_struct! {
    /// The struct whose BCS bytes are hashed into a blob id on chain.
    Walrus "blob" BlobIdDerivation: Value [Drop] {
        encoding_type: u8 => "u8",
        size: u64 => "u64",
        root_hash: U256Le => "u256",
    }
}

move_struct! {
    /// A shared blob anyone can fund and extend.
    Walrus "shared_blob" SharedBlob: Object [Key, Store] {
        id: ObjectId => "UID",
        blob: Blob => "Blob",
        funds: Balance => "Balance<WAL>",
    }
}

move_struct! {
    /// Blob attributes, stored as dynamic field `b"metadata"` of a blob.
    Walrus "metadata" Metadata: Value [Drop, Store] {
        metadata: VecMap<String, String> => "VecMap<String, String>",
    }
}

move_struct! {
    /// A storage pool shell; the inner state is a versioned dynamic field.
    Walrus "storage_pool" StoragePool: Object [Key, Store] {
        id: ObjectId => "UID",
        version: u64 => "u64",
    }
}

move_struct! {
    /// Storage pool state.
    Walrus "storage_pool" StoragePoolInnerV1: Value [Store] {
        storage: Storage => "Storage",
        used_encoded_bytes: u64 => "u64",
        blob_count: u64 => "u64",
        blobs: ObjectTable => "ObjectTable<u256, PooledBlob>",
    }
}

move_struct! {
    /// A blob registered against a storage pool (no own `Storage`).
    Walrus "storage_pool" PooledBlob: Object [Key, Store] {
        id: ObjectId => "UID",
        registered_epoch: u32 => "u32",
        blob_id: U256Le => "u256",
        unencoded_size: u64 => "u64",
        encoding_type: u8 => "u8",
        certified_epoch: Option<u32> => "Option<u32>",
        storage_pool_id: ObjectId => "ID",
        deletable: bool => "bool",
    }
}
