use floe_core::move_types::ObjectId;

use super::*;

/// `event` as emitted `seq`-th by the transaction with digest `[tx; 32]`.
fn at(tx: u8, seq: u64, event: NodeEvent) -> ChainEvent {
    ChainEvent {
        id: crate::events::EventId {
            tx_digest: floe_chain::sui_sdk_types::Digest::new([tx; 32]),
            event_seq: seq,
        },
        event,
    }
}

fn open() -> (tempfile::TempDir, NodeStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn register_certify_delete_in_one_checkpoint_and_across_checkpoints() {
    let (_dir, store) = open();
    let id = BlobId([7; 32]);
    let obj = ObjectId([1; 32]);
    let registered = NodeEvent::Registered {
        blob_id: id,
        object: obj,
        epoch: 0,
        end_epoch: 3,
        deletable: true,
    };
    let certified = NodeEvent::Certified {
        blob_id: id,
        object: obj,
        epoch: 1,
        end_epoch: 3,
        deletable: true,
        is_extension: false,
    };
    // Register and certify in the same checkpoint: the certification sees
    // the record the registration created in the batch.
    let (batch, applied) = build_batch(
        &store,
        &[at(1, 0, registered.clone()), at(1, 1, certified)],
        5,
        true,
    )
    .unwrap();
    assert_eq!(applied.registered, vec![id]);
    assert!(applied.certified);
    assert_eq!(batch.recover, vec![id]);
    store.apply_chain_batch(&batch).unwrap();
    assert_eq!(store.next_checkpoint().unwrap(), 5);
    let info = store.blob_info(&id, 1).unwrap();
    assert_eq!((info.deletable.total, info.deletable.certified), (1, 1));
    assert_eq!(store.recovery_queue(10).unwrap(), vec![id]);

    // An extension moves the end epoch and does not queue recovery.
    let extended = NodeEvent::Certified {
        blob_id: id,
        object: obj,
        epoch: 2,
        end_epoch: 9,
        deletable: true,
        is_extension: true,
    };
    let (batch, applied) = build_batch(&store, &[at(2, 0, extended)], 6, true).unwrap();
    assert!(!applied.certified);
    store.apply_chain_batch(&batch).unwrap();
    let object = store.blob_object(&id, &obj).unwrap().unwrap();
    assert_eq!((object.end_epoch, object.certified_epoch), (9, Some(1)));

    // Deletion: no live object remains, and the blob is a GC candidate.
    let (batch, applied) = build_batch(
        &store,
        &[at(
            3,
            0,
            NodeEvent::Deleted {
                blob_id: id,
                object: obj,
            },
        )],
        7,
        true,
    )
    .unwrap();
    assert_eq!(applied.gone, vec![id]);
    store.apply_chain_batch(&batch).unwrap();
    assert!(!store.blob_info(&id, 2).unwrap().is_registered());
    assert_eq!(store.next_checkpoint().unwrap(), 7);
}

#[test]
fn non_members_queue_no_recovery_and_invalid_marks_apply() {
    let (_dir, store) = open();
    let id = BlobId([9; 32]);
    let events = [
        at(
            4,
            2,
            NodeEvent::Certified {
                blob_id: id,
                object: ObjectId([2; 32]),
                epoch: 4,
                end_epoch: 8,
                deletable: false,
                is_extension: false,
            },
        ),
        at(
            5,
            0,
            NodeEvent::Invalid {
                blob_id: id,
                epoch: 5,
            },
        ),
    ];
    let (batch, applied) = build_batch(&store, &events, 1, false).unwrap();
    assert!(batch.recover.is_empty() && !applied.certified);
    store.apply_chain_batch(&batch).unwrap();
    let info = store.blob_info(&id, 5).unwrap();
    assert_eq!(info.invalid_epoch, Some(5));
    assert!(!info.is_registered());
    assert_eq!(info.permanent.certified, 1);
    // Both statuses name the event behind them.
    assert_eq!(info.status_event, Some(events[0].id));
    assert_eq!(info.invalid_event, Some(events[1].id));
}

#[test]
fn the_status_event_is_the_certified_object_with_the_latest_end_epoch() {
    let (_dir, store) = open();
    let id = BlobId([3; 32]);
    let registered = |object: u8, end_epoch| NodeEvent::Registered {
        blob_id: id,
        object: ObjectId([object; 32]),
        epoch: 1,
        end_epoch,
        deletable: false,
    };
    let certified = |object: u8, end_epoch, is_extension| NodeEvent::Certified {
        blob_id: id,
        object: ObjectId([object; 32]),
        epoch: 1,
        end_epoch,
        deletable: false,
        is_extension,
    };
    // Object 1 certified until 6, object 2 only registered until 9.
    let events = [
        at(1, 0, registered(1, 6)),
        at(2, 0, registered(2, 9)),
        at(3, 1, certified(1, 6, false)),
    ];
    let (batch, _) = build_batch(&store, &events, 1, false).unwrap();
    store.apply_chain_batch(&batch).unwrap();
    assert_eq!(
        store.blob_info(&id, 1).unwrap().status_event,
        Some(events[2].id)
    );
    // Uncertified objects only: the latest end epoch wins.
    let other = BlobId([4; 32]);
    let uncertified = |object: u8, end_epoch| NodeEvent::Registered {
        blob_id: other,
        object: ObjectId([object; 32]),
        epoch: 1,
        end_epoch,
        deletable: false,
    };
    let events = [at(7, 0, uncertified(5, 7)), at(8, 0, uncertified(6, 4))];
    let (batch, _) = build_batch(&store, &events, 2, false).unwrap();
    store.apply_chain_batch(&batch).unwrap();
    assert_eq!(
        store.blob_info(&other, 1).unwrap().status_event,
        Some(events[0].id)
    );
    // An extension moves the status to its own event; so does a second,
    // longer certified object.
    let events2 = [at(5, 3, certified(1, 12, true))];
    let (batch, _) = build_batch(&store, &events2, 3, false).unwrap();
    store.apply_chain_batch(&batch).unwrap();
    assert_eq!(
        store.blob_info(&id, 1).unwrap().status_event,
        Some(events2[0].id)
    );
    let events3 = [at(6, 0, certified(2, 9, false))];
    let (batch, _) = build_batch(&store, &events3, 4, false).unwrap();
    store.apply_chain_batch(&batch).unwrap();
    assert_eq!(
        store.blob_info(&id, 1).unwrap().status_event,
        Some(events2[0].id)
    );
}

#[test]
fn garbage_collection_keeps_live_blobs_and_removes_expired_ones() {
    use floe_core::{EncodingConfig, encode_blob};
    let (_dir, store) = open();
    let config = EncodingConfig::new(10).unwrap();
    let mut ids = Vec::new();
    // Two blobs with data on shard 4: one ends at epoch 3, one at epoch 9.
    for (seed, end_epoch) in [(1u8, 3u32), (2, 9)] {
        let encoded = encode_blob(&config, &vec![seed; 3000]).unwrap();
        let id = *encoded.metadata.blob_id();
        let (batch, _) = build_batch(
            &store,
            &[at(
                seed,
                0,
                NodeEvent::Registered {
                    blob_id: id,
                    object: ObjectId([seed; 32]),
                    epoch: 0,
                    end_epoch,
                    deletable: false,
                },
            )],
            u64::from(seed),
            true,
        )
        .unwrap();
        store.apply_chain_batch(&batch).unwrap();
        store.put_metadata(&encoded.metadata).unwrap();
        store.put_primary(4, &id, &encoded.primary[0]).unwrap();
        ids.push(id);
    }
    // Epoch 2: both live, nothing collected.
    assert_eq!(store.collect_garbage(2, &[4]).unwrap().blobs, 0);
    // Epoch 3: the first expired.
    let stats = store.collect_garbage(3, &[4]).unwrap();
    assert_eq!((stats.blobs, stats.slivers, stats.objects), (1, 1, 1));
    assert!(!store.has_metadata(&ids[0]).unwrap());
    assert!(
        !store
            .has_sliver(4, floe_core::Axis::Primary, &ids[0])
            .unwrap()
    );
    assert!(store.has_metadata(&ids[1]).unwrap());
    assert!(
        store
            .has_sliver(4, floe_core::Axis::Primary, &ids[1])
            .unwrap()
    );
    // Idempotent.
    assert_eq!(store.collect_garbage(3, &[4]).unwrap(), Default::default());
}
