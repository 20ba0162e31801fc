//! Twin of `floe::events`: every event type (the `floe_core` mirrors are
//! the layouts) and the emitters the other modules use.

use floe_core::move_types::{
    BlobCertified, BlobDeleted, BlobRegistered, ContractUpgradeProposed,
    ContractUpgradeQuorumReached, ContractUpgraded, DenyListBlobDeleted, DenyListUpdate,
    EpochChangeDone, EpochChangeStart, EpochParametersSelected, InvalidBlobID, MoveType,
    MoveTypeInfo, PricesUpdated, ProtocolVersionUpdated, RegisterDenyListUpdate,
    ShardRecoveryStart, ShardsReceived,
};
use floe_runtime::{NativeError, Runtime};
use serde::Serialize;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package};
use crate::util::floe_tag;

/// Every `public` and `entry` function of the Move module (none: emitters
/// are package-internal).
pub const FUNCTIONS: &[FnSig] = &[];
/// No abort codes.
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

const STRUCTS: &[MoveTypeInfo] = &[
    BlobRegistered::INFO,
    BlobCertified::INFO,
    BlobDeleted::INFO,
    InvalidBlobID::INFO,
    EpochChangeStart::INFO,
    EpochChangeDone::INFO,
    ShardsReceived::INFO,
    EpochParametersSelected::INFO,
    ShardRecoveryStart::INFO,
    ContractUpgraded::INFO,
    ContractUpgradeProposed::INFO,
    ContractUpgradeQuorumReached::INFO,
    RegisterDenyListUpdate::INFO,
    DenyListUpdate::INFO,
    DenyListBlobDeleted::INFO,
    ProtocolVersionUpdated::INFO,
    PricesUpdated::INFO,
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "events",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// Emits `event` as `floe::events::<T>` (`event::emit`).
pub fn emit<T: MoveType + Serialize>(rt: &mut Runtime<'_>, event: &T) -> Result<(), NativeError> {
    rt.emit(floe_tag("events", T::INFO.name, vec![]), event)
}
