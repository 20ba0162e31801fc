//! The `floe` package: one file per Move module of
//! `contracts/move/floe/sources/`.

pub mod blob;
pub mod bls_aggregate;
pub mod encoding;
pub mod event_blob;
pub mod events;
pub mod extended_field;
pub mod init;
pub mod messages;
pub mod metadata;
pub mod redstuff;
pub mod shared_blob;
pub mod storage_accounting;
pub mod storage_resource;
pub mod system;
pub mod system_state_inner;

use crate::registry::ModuleDecl;

/// Every module of the package, in the order of the Move sources' file
/// names.
pub const MODULES: &[ModuleDecl] = &[
    blob::MODULE,
    bls_aggregate::MODULE,
    encoding::MODULE,
    event_blob::MODULE,
    events::MODULE,
    extended_field::MODULE,
    init::MODULE,
    messages::MODULE,
    metadata::MODULE,
    redstuff::MODULE,
    shared_blob::MODULE,
    storage_accounting::MODULE,
    storage_resource::MODULE,
    system::MODULE,
    system_state_inner::MODULE,
];
