//! Twin of `floe::event_blob`: the event-blob certification state (layout
//! only until attestations land with staking).

use floe_core::move_types::{
    EventBlob, EventBlobAttestation, EventBlobCertificationState, MoveType, MoveTypeInfo, VecMap,
};

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};

abort_codes! {
    EInvalidSequenceNumber = 0,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "new_event_blob",
        Vis::Public,
        &[],
        &[
            ("blob_id", "u256"),
            ("ending_checkpoint_sequence_number", "u64"),
        ],
        &["EventBlob"],
    ),
    FnSig::new(
        "blob_id",
        Vis::Public,
        &[],
        &[("self", "&EventBlob")],
        &["u256"],
    ),
    FnSig::new(
        "ending_checkpoint_sequence_number",
        Vis::Public,
        &[],
        &[("self", "&EventBlob")],
        &["u64"],
    ),
    FnSig::new(
        "new_attestation",
        Vis::Public,
        &[],
        &[("checkpoint_sequence_num", "u64"), ("epoch", "u32")],
        &["EventBlobAttestation"],
    ),
    FnSig::new(
        "last_attested_event_blob_checkpoint_seq_num",
        Vis::Public,
        &[],
        &[("self", "&EventBlobAttestation")],
        &["u64"],
    ),
    FnSig::new(
        "last_attested_event_blob_epoch",
        Vis::Public,
        &[],
        &[("self", "&EventBlobAttestation")],
        &["u32"],
    ),
    FnSig::new(
        "get_latest_certified_checkpoint_sequence_number",
        Vis::Public,
        &[],
        &[("self", "&EventBlobCertificationState")],
        &["Option<u64>"],
    ),
    FnSig::new(
        "get_latest_certified_event_blob",
        Vis::Public,
        &[],
        &[("self", "&EventBlobCertificationState")],
        &["Option<EventBlob>"],
    ),
    FnSig::new(
        "is_blob_already_certified",
        Vis::Public,
        &[],
        &[
            ("self", "&EventBlobCertificationState"),
            ("checkpoint_sequence_num", "u64"),
        ],
        &["bool"],
    ),
    FnSig::new(
        "num_pending_blobs",
        Vis::Public,
        &[],
        &[("self", "&EventBlobCertificationState")],
        &["u64"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[
    EventBlob::INFO,
    EventBlobAttestation::INFO,
    EventBlobCertificationState::INFO,
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "event_blob",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// Pure constructors and accessors of values no transaction needs yet.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `create_with_empty_state`.
pub fn create_with_empty_state() -> EventBlobCertificationState {
    EventBlobCertificationState {
        latest_certified_blob: None,
        aggregate_weight_per_blob: VecMap::default(),
    }
}
