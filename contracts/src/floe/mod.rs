//! The `floe` package: one file per Move module of
//! `contracts/move/floe/sources/`.

pub mod active_set;
pub mod apportionment;
pub mod auth;
pub mod blob;
pub mod bls_aggregate;
pub mod committee;
pub mod encoding;
pub mod epoch_parameters;
pub mod event_blob;
pub mod events;
pub mod extended_field;
pub mod governance;
pub mod init;
pub mod messages;
pub mod metadata;
pub mod node_metadata;
pub mod pending_values;
pub mod pool_exchange_rate;
pub mod redstuff;
pub mod shared_blob;
pub mod slashing;
pub mod staked_wal;
pub mod staking;
pub mod staking_inner;
pub mod staking_pool;
pub mod storage_accounting;
pub mod storage_node;
pub mod storage_resource;
pub mod subsidies;
pub mod system;
pub mod system_state_inner;
pub mod upgrade;

use crate::registry::ModuleDecl;

/// Every module of the package, in the order of the Move sources' file
/// names.
pub const MODULES: &[ModuleDecl] = &[
    active_set::MODULE,
    apportionment::MODULE,
    auth::MODULE,
    blob::MODULE,
    bls_aggregate::MODULE,
    committee::MODULE,
    encoding::MODULE,
    epoch_parameters::MODULE,
    event_blob::MODULE,
    events::MODULE,
    extended_field::MODULE,
    governance::MODULE,
    init::MODULE,
    messages::MODULE,
    metadata::MODULE,
    node_metadata::MODULE,
    pending_values::MODULE,
    pool_exchange_rate::MODULE,
    redstuff::MODULE,
    shared_blob::MODULE,
    slashing::MODULE,
    staked_wal::MODULE,
    staking::MODULE,
    staking_inner::MODULE,
    staking_pool::MODULE,
    storage_accounting::MODULE,
    storage_node::MODULE,
    storage_resource::MODULE,
    subsidies::MODULE,
    system::MODULE,
    system_state_inner::MODULE,
    upgrade::MODULE,
];
