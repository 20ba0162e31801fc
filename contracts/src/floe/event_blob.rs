//! Twin of `floe::event_blob`: the event-blob certification state (layout
//! only until attestations land with staking).

use floe_core::move_types::{
    EventBlob, EventBlobAttestation, EventBlobCertificationState, MoveType, MoveTypeInfo, VecMap,
};

use floe_runtime::Value;
use sui_sdk_types::TypeTag;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::floe_value;

abort_codes! {
    module: "event_blob",
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

/// The pure constructors and accessors of `EventBlob` and
/// `EventBlobAttestation` (plain values a transaction can build); the
/// certification state itself is only reachable through `System`.
fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "new_event_blob" => |c| {
            let blob = EventBlob {
                blob_id: c.arg(0)?,
                ending_checkpoint_sequence_number: c.arg(1)?,
            };
            Ok(vec![floe_value("event_blob", "EventBlob", &blob)])
        },
        "blob_id" => |c| Ok(vec![crate::util::u256(c.arg::<EventBlob>(0)?.blob_id)]),
        "ending_checkpoint_sequence_number" => |c| {
            Ok(vec![Value::u64(
                c.arg::<EventBlob>(0)?.ending_checkpoint_sequence_number,
            )])
        },
        "new_attestation" => |c| {
            let attestation = EventBlobAttestation {
                checkpoint_sequence_num: c.arg(0)?,
                epoch: c.arg(1)?,
            };
            Ok(vec![floe_value(
                "event_blob",
                "EventBlobAttestation",
                &attestation,
            )])
        },
        "last_attested_event_blob_checkpoint_seq_num" => |c| {
            Ok(vec![Value::u64(
                c.arg::<EventBlobAttestation>(0)?.checkpoint_sequence_num,
            )])
        },
        "last_attested_event_blob_epoch" => |c| {
            Ok(vec![Value::new(
                TypeTag::U32,
                &c.arg::<EventBlobAttestation>(0)?.epoch,
            )])
        },
        _ => return None,
    };
    Some(f)
}

/// `create_with_empty_state`.
pub fn create_with_empty_state() -> EventBlobCertificationState {
    EventBlobCertificationState {
        latest_certified_blob: None,
        aggregate_weight_per_blob: VecMap::default(),
    }
}
