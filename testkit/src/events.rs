//! Checkpoints carrying hand-made events, for the tests of the code that
//! reads floe's events out of checkpoints (the node's follower and the
//! indexer's processor).

use floe_chain::sui_sdk_types::{
    Address, Digest, Event, ExecutionStatus, GasCostSummary, Identifier, StructTag,
    TransactionEffects, TransactionEffectsV2,
};
use floe_chain::{Checkpoint, ExecutedTx, TxStatus};

/// An event of type `package::events::name`, emitted by `package::system`,
/// with `contents` as its BCS bytes.
pub fn event(package: Address, name: &'static str, contents: Vec<u8>) -> Event {
    Event {
        package_id: package,
        module: Identifier::from_static("system"),
        sender: Address::ZERO,
        type_: StructTag::new(
            package,
            Identifier::from_static("events"),
            Identifier::from_static(name),
            vec![],
        ),
        contents,
    }
}

/// Checkpoint 9 of one successful transaction (digest `[2; 32]`, no
/// object changes) that emitted `events`, at `timestamp_ms`.
pub fn checkpoint(timestamp_ms: Option<u64>, events: Vec<Event>) -> Checkpoint {
    let effects = TransactionEffects::V2(Box::new(TransactionEffectsV2 {
        status: ExecutionStatus::Success,
        epoch: 0,
        gas_used: GasCostSummary::default(),
        transaction_digest: Digest::new([2; 32]),
        gas_object_index: None,
        events_digest: None,
        dependencies: vec![],
        lamport_version: 1,
        changed_objects: vec![],
        unchanged_consensus_objects: vec![],
        auxiliary_data_digest: None,
    }));
    Checkpoint {
        sequence_number: 9,
        digest: None,
        summary: None,
        signature: None,
        contents: None,
        timestamp_ms,
        transactions: vec![ExecutedTx {
            digest: Digest::new([2; 32]),
            transaction: None,
            effects,
            events,
            status: TxStatus::Success,
            checkpoint: Some(9),
            timestamp_ms,
        }],
        objects: vec![],
    }
}
