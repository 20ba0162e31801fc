//! Mirrors of the Walrus staking side: the `Staking` object and its inner
//! state, the epoch state machine, committees, staking pools, `StakedWal`
//! and storage-node records (Walrus's `contracts/walrus/sources/staking/`).

use serde::{Deserialize, Serialize};

use super::framework::{Bag, Balance, Element, ObjectId, ObjectTable, Table, VecMap};
use super::system::{EventBlobAttestation, ExtendedField};
use super::{
    Ability, MoveField, MovePackage, MoveRole, MoveType, MoveTypeInfo, MoveTypeKind, MoveVariant,
};
use crate::move_types::framework::U256Le;

/// Abilities shared by the plain-data enums below.
const COPY_DROP_STORE: &[Ability] = &[Ability::Copy, Ability::Drop, Ability::Store];

/// Registry entry for an enum declared in this module.
const fn walrus_enum(
    module: &'static str,
    name: &'static str,
    variants: &'static [MoveVariant],
) -> MoveTypeInfo {
    MoveTypeInfo {
        package: MovePackage::Walrus,
        module,
        name,
        type_params: &[],
        abilities: COPY_DROP_STORE,
        role: MoveRole::Value,
        kind: MoveTypeKind::Enum(variants),
    }
}

move_struct! {
    /// The shared `Staking` object: versioned shell around [`StakingInnerV1`].
    Walrus "staking" Staking: Object [Key] {
        id: ObjectId => "UID",
        version: u64 => "u64",
        package_id: ObjectId => "ID",
        new_package_id: Option<ObjectId> => "Option<ID>",
    }
}

move_struct! {
    /// The staking state: epoch, committees, pools and the epoch state machine.
    Walrus "staking_inner" StakingInnerV1: Value [Store] {
        n_shards: u16 => "u16",
        epoch_duration: u64 => "u64",
        first_epoch_start: u64 => "u64",
        pools: ObjectTable => "ObjectTable<ID, StakingPool>",
        epoch: u32 => "u32",
        active_set: ExtendedField => "ExtendedField<ActiveSet>",
        next_committee: Option<Committee> => "Option<Committee>",
        committee: Committee => "Committee",
        previous_committee: Committee => "Committee",
        next_epoch_params: Option<EpochParams> => "Option<EpochParams>",
        epoch_state: EpochState => "EpochState",
        next_epoch_public_keys: ExtendedField => "ExtendedField<VecMap<ID, Element<G1>>>",
    }
}

/// `staking_inner::EpochState`: where the epoch change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EpochState {
    /// Epoch change in progress; shard weight that has reported sync done.
    EpochChangeSync(u16),
    /// Epoch change finished at this timestamp (ms); the epoch's clock.
    EpochChangeDone(u64),
    /// Next committee and parameters selected; holds the current epoch's
    /// start timestamp (ms).
    NextParamsSelected(u64),
}

impl EpochState {
    /// The current epoch's start (ms) when the state records it.
    pub fn epoch_start_ms(&self) -> Option<u64> {
        match *self {
            EpochState::EpochChangeSync(_) => None,
            EpochState::EpochChangeDone(ts) | EpochState::NextParamsSelected(ts) => Some(ts),
        }
    }
}

impl MoveType for EpochState {
    const INFO: MoveTypeInfo = walrus_enum(
        "staking_inner",
        "EpochState",
        &[
            MoveVariant {
                name: "EpochChangeSync",
                fields: &[MoveField {
                    name: "pos0",
                    ty: "u16",
                }],
            },
            MoveVariant {
                name: "EpochChangeDone",
                fields: &[MoveField {
                    name: "pos0",
                    ty: "u64",
                }],
            },
            MoveVariant {
                name: "NextParamsSelected",
                fields: &[MoveField {
                    name: "pos0",
                    ty: "u64",
                }],
            },
        ],
    );
}

move_struct! {
    /// `committee::Committee(VecMap<ID, vector<u16>>)`: node id to shard
    /// indices, sorted by node id.
    Walrus "committee" Committee: Value [Copy, Drop, Store] {
        pos0: VecMap<ObjectId, Vec<u16>> => "VecMap<ID, vector<u16>>",
    }
}

move_struct! {
    /// Parameters selected for the next epoch.
    Walrus "epoch_parameters" EpochParams: Value [Copy, Drop, Store] {
        total_capacity_size: u64 => "u64",
        storage_price_per_unit_size: u64 => "u64",
        write_price_per_unit_size: u64 => "u64",
    }
}

move_struct! {
    /// One node of the active set with its projected stake.
    Walrus "active_set" ActiveSetEntry: Value [Copy, Drop, Store] {
        node_id: ObjectId => "ID",
        staked_amount: u64 => "u64",
    }
}

move_struct! {
    /// Candidate nodes for the next committee.
    Walrus "active_set" ActiveSet: Value [Copy, Drop, Store] {
        max_size: u16 => "u16",
        threshold_stake: u64 => "u64",
        nodes: Vec<ActiveSetEntry> => "vector<ActiveSetEntry>",
        total_stake: u64 => "u64",
    }
}

move_struct! {
    /// A node's votes for the next epoch.
    Walrus "staking_pool" VotingParams: Value [Copy, Drop, Store] {
        storage_price: u64 => "u64",
        write_price: u64 => "u64",
        node_capacity: u64 => "u64",
    }
}

move_struct! {
    /// `PendingValues(VecMap<u32, u64>)`: epoch to amount.
    Walrus "pending_values" PendingValues: Value [Copy, Drop, Store] {
        pos0: VecMap<u32, u64> => "VecMap<u32, u64>",
    }
}

/// `staking_pool::PoolState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolState {
    /// Accepting stake.
    Active,
    /// Withdrawing since this epoch.
    Withdrawing(u32),
    /// Gone.
    Withdrawn,
}

impl MoveType for PoolState {
    const INFO: MoveTypeInfo = walrus_enum(
        "staking_pool",
        "PoolState",
        &[
            MoveVariant {
                name: "Active",
                fields: &[],
            },
            MoveVariant {
                name: "Withdrawing",
                fields: &[MoveField {
                    name: "pos0",
                    ty: "u32",
                }],
            },
            MoveVariant {
                name: "Withdrawn",
                fields: &[],
            },
        ],
    );
}

/// `pool_exchange_rate::PoolExchangeRate`: WAL per pool share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolExchangeRate {
    /// One share per FROST.
    Flat,
    /// `wal_amount / share_amount`.
    Variable {
        /// WAL side (FROST).
        wal_amount: u128,
        /// Share side.
        share_amount: u128,
    },
}

impl MoveType for PoolExchangeRate {
    const INFO: MoveTypeInfo = walrus_enum(
        "pool_exchange_rate",
        "PoolExchangeRate",
        &[
            MoveVariant {
                name: "Flat",
                fields: &[],
            },
            MoveVariant {
                name: "Variable",
                fields: &[
                    MoveField {
                        name: "wal_amount",
                        ty: "u128",
                    },
                    MoveField {
                        name: "share_amount",
                        ty: "u128",
                    },
                ],
            },
        ],
    );
}

/// `auth::Authorized`: who may act for a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Authorized {
    /// The transaction sender must be this address.
    Address(ObjectId),
    /// The caller must present this object.
    ObjectID(ObjectId),
}

impl MoveType for Authorized {
    const INFO: MoveTypeInfo = walrus_enum(
        "auth",
        "Authorized",
        &[
            MoveVariant {
                name: "Address",
                fields: &[MoveField {
                    name: "pos0",
                    ty: "address",
                }],
            },
            MoveVariant {
                name: "ObjectID",
                fields: &[MoveField {
                    name: "pos0",
                    ty: "ID",
                }],
            },
        ],
    );
}

move_struct! {
    /// A storage node's staking pool (stored in `StakingInnerV1.pools`,
    /// keyed by node id = pool id).
    Walrus "staking_pool" StakingPool: Object [Key, Store] {
        id: ObjectId => "UID",
        state: PoolState => "PoolState",
        voting_params: VotingParams => "VotingParams",
        node_info: StorageNodeInfo => "StorageNodeInfo",
        activation_epoch: u32 => "u32",
        latest_epoch: u32 => "u32",
        wal_balance: u64 => "u64",
        num_shares: u64 => "u64",
        pending_shares_withdraw: PendingValues => "PendingValues",
        pre_active_withdrawals: PendingValues => "PendingValues",
        pending_commission_rate: PendingValues => "PendingValues",
        commission_rate: u16 => "u16",
        exchange_rates: Table => "Table<u32, PoolExchangeRate>",
        pending_stake: PendingValues => "PendingValues",
        rewards_pool: Balance => "Balance<WAL>",
        commission: Balance => "Balance<WAL>",
        commission_receiver: Authorized => "Authorized",
        governance_authorized: Authorized => "Authorized",
        extra_fields: Bag => "Bag",
    }
}

/// `staked_wal::StakedWalState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StakedWalState {
    /// Staked (pending or active).
    Staked,
    /// Withdrawal requested; possible from `withdraw_epoch`.
    Withdrawing {
        /// First epoch in which `withdraw_stake` succeeds.
        withdraw_epoch: u32,
    },
}

impl MoveType for StakedWalState {
    const INFO: MoveTypeInfo = walrus_enum(
        "staked_wal",
        "StakedWalState",
        &[
            MoveVariant {
                name: "Staked",
                fields: &[],
            },
            MoveVariant {
                name: "Withdrawing",
                fields: &[MoveField {
                    name: "withdraw_epoch",
                    ty: "u32",
                }],
            },
        ],
    );
}

move_struct! {
    /// Stake delegated to one node.
    Walrus "staked_wal" StakedWal: Object [Key, Store] {
        id: ObjectId => "UID",
        state: StakedWalState => "StakedWalState",
        node_id: ObjectId => "ID",
        principal: Balance => "Balance<WAL>",
        activation_epoch: u32 => "u32",
    }
}

move_struct! {
    /// A storage node's public record, embedded in its pool (`store`
    /// only: it holds an `ExtendedField`).
    Walrus "storage_node" StorageNodeInfo: Value [Store] {
        name: String => "String",
        node_id: ObjectId => "ID",
        network_address: String => "String",
        public_key: Element => "Element<G1>",
        next_epoch_public_key: Option<Element> => "Option<Element<G1>>",
        network_public_key: Vec<u8> => "vector<u8>",
        metadata: ExtendedField => "ExtendedField<NodeMetadata>",
    }
}

move_struct! {
    /// The operator's capability for one storage node.
    Walrus "storage_node" StorageNodeCap: Object [Key, Store] {
        id: ObjectId => "UID",
        node_id: ObjectId => "ID",
        last_epoch_sync_done: u32 => "u32",
        last_event_blob_attestation: Option<EventBlobAttestation> => "Option<EventBlobAttestation>",
        deny_list_root: U256Le => "u256",
        deny_list_sequence: u64 => "u64",
        deny_list_size: u64 => "u64",
    }
}

move_struct! {
    /// Descriptive node metadata.
    Walrus "node_metadata" NodeMetadata: Value [Copy, Drop, Store] {
        image_url: String => "String",
        project_url: String => "String",
        description: String => "String",
        extra_fields: VecMap<String, String> => "VecMap<String, String>",
    }
}
