use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use floe_core::{EncodingConfig, encode_blob};

use super::*;

fn blob(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn metadata_and_slivers_round_trip_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = EncodingConfig::new(10).unwrap();
    let encoded = encode_blob(&config, &blob(5000, 1)).unwrap();
    let id = *encoded.metadata.blob_id();
    {
        let store = NodeStore::open(dir.path()).unwrap();
        assert!(!store.has_metadata(&id).unwrap());
        assert!(store.put_metadata(&encoded.metadata).unwrap());
        assert!(
            !store.put_metadata(&encoded.metadata).unwrap(),
            "second put is a no-op"
        );
        store.put_primary(3, &id, &encoded.primary[2]).unwrap();
        store.put_secondary(3, &id, &encoded.secondary[7]).unwrap();
        store.set_shard_status(3, ShardStatus::Active).unwrap();
        store.set_shard_status(1, ShardStatus::ActiveSync).unwrap();
        store.set_event_cursor(b"cp-42").unwrap();
    }
    let store = NodeStore::open(dir.path()).unwrap();
    assert_eq!(
        store.get_metadata(&id, &config).unwrap().as_ref(),
        Some(&encoded.metadata)
    );
    assert_eq!(
        store.get_primary(3, &id).unwrap().as_ref(),
        Some(&encoded.primary[2])
    );
    assert_eq!(
        store.get_secondary(3, &id).unwrap().as_ref(),
        Some(&encoded.secondary[7])
    );
    assert!(store.get_primary(4, &id).unwrap().is_none(), "other shard");
    assert!(store.has_sliver(3, Axis::Secondary, &id).unwrap());
    assert!(
        !store
            .has_sliver(3, Axis::Primary, &BlobId([9; 32]))
            .unwrap()
    );
    assert_eq!(
        store.shard_statuses().unwrap(),
        vec![(1, ShardStatus::ActiveSync), (3, ShardStatus::Active)]
    );
    assert_eq!(
        store.event_cursor().unwrap().as_deref(),
        Some(&b"cp-42"[..])
    );
}

#[test]
fn stored_metadata_for_another_committee_size_is_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let encoded = encode_blob(&EncodingConfig::new(10).unwrap(), &blob(100, 2)).unwrap();
    let store = NodeStore::open(dir.path()).unwrap();
    store.put_metadata(&encoded.metadata).unwrap();
    let err = store
        .get_metadata(
            encoded.metadata.blob_id(),
            &EncodingConfig::new(13).unwrap(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                what: "metadata",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn blob_info_aggregates_objects_and_respects_expiry_deletion_and_invalidity() {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path()).unwrap();
    let id = BlobId([7; 32]);
    let object = |deletable, end_epoch, certified_epoch| BlobObjectInfo {
        deletable,
        registered_epoch: 1,
        end_epoch,
        certified_epoch,
        deleted: false,
    };
    assert_eq!(store.blob_info(&id, 1).unwrap(), BlobInfo::default());
    store
        .put_blob_object(&id, &ObjectId([1; 32]), &object(false, 5, None), None)
        .unwrap();
    store
        .put_blob_object(&id, &ObjectId([2; 32]), &object(false, 9, Some(3)), None)
        .unwrap();
    store
        .put_blob_object(
            &id,
            &ObjectId([3; 32]),
            &object(true, 4, Some(2)),
            Some(b"c1"),
        )
        .unwrap();
    // Another blob's object must not leak into this one's status.
    store
        .put_blob_object(
            &BlobId([8; 32]),
            &ObjectId([4; 32]),
            &object(false, 99, Some(1)),
            None,
        )
        .unwrap();

    let info = store.blob_info(&id, 3).unwrap();
    assert_eq!(
        info.permanent,
        Counts {
            total: 2,
            certified: 1,
            end_epoch: 9
        }
    );
    assert_eq!(
        info.deletable,
        Counts {
            total: 1,
            certified: 1,
            end_epoch: 4
        }
    );
    assert_eq!(info.initial_certified_epoch, Some(2));
    assert!(info.is_registered() && info.is_certified());
    assert_eq!(store.event_cursor().unwrap().as_deref(), Some(&b"c1"[..]));

    // At epoch 5 the deletable object (end 4) and permanent object 1 (end 5) expired.
    let info = store.blob_info(&id, 5).unwrap();
    assert_eq!(
        info.permanent,
        Counts {
            total: 1,
            certified: 1,
            end_epoch: 9
        }
    );
    assert_eq!(info.deletable, Counts::default());
    assert_eq!(info.initial_certified_epoch, Some(3));

    let mut deleted = object(false, 9, Some(3));
    deleted.deleted = true;
    store
        .put_blob_object(&id, &ObjectId([2; 32]), &deleted, None)
        .unwrap();
    assert!(!store.blob_info(&id, 5).unwrap().is_registered());
    assert_eq!(
        store.blob_object(&id, &ObjectId([2; 32])).unwrap(),
        Some(deleted)
    );

    store.mark_invalid(&id, 3, None).unwrap();
    let info = store.blob_info(&id, 3).unwrap();
    assert_eq!(info.invalid_epoch, Some(3));
    assert!(!info.is_registered() && !info.is_certified());
}

/// Environment variable that turns [`crash_child`] into the writer process.
const CRASH_DIR_ENV: &str = "FLOE_NODE_STORE_CRASH_CHILD_DIR";

fn crash_value(i: u32) -> Vec<u8> {
    // 8 KiB..72 KiB values, so slivers go through key-value separation too.
    let len = 8 * 1024 + (i as usize * 4099) % (64 * 1024);
    (0..len)
        .map(|j| (j as u32 ^ i.wrapping_mul(2654435761)) as u8)
        .collect()
}

/// Writers in the crash child: concurrent writers exercise group commit
/// (one writer's fsync covering another's batch).
const CRASH_WRITERS: u32 = 4;

/// Not a test on its own: when [`CRASH_DIR_ENV`] is set, this is the child
/// process of [`acknowledged_writes_survive_sigkill`]. Its writers store
/// slivers forever and print `ack i` only after `put_sliver_bytes` returned.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CRASH_DIR_ENV) else {
        return;
    };
    let store = NodeStore::open(Path::new(&dir)).unwrap();
    std::thread::scope(|scope| {
        for writer in 0..CRASH_WRITERS {
            let store = &store;
            scope.spawn(move || {
                for i in (writer..).step_by(CRASH_WRITERS as usize) {
                    let id = BlobId([(i % 251) as u8; 32]);
                    store
                        .put_sliver_bytes((i / 251) as u16, Axis::Primary, &id, crash_value(i))
                        .unwrap();
                    store.set_event_cursor(&i.to_be_bytes()).unwrap();
                    println!("ack {i}");
                }
            });
        }
    });
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "store::tests::crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    for line in lines {
        let line = line.unwrap();
        if let Some(i) = line.strip_prefix("ack ") {
            acked.push(i.trim().parse::<u32>().unwrap());
            // ~60 MiB: past several memtable flushes, so acknowledged slivers
            // live in blob files and the journal when the kill lands.
            if acked.len() >= 1500 {
                break;
            }
        }
    }
    // `Child::kill` sends SIGKILL on Unix: no destructors, no flush.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!acked.is_empty(), "child acknowledged writes");

    let store = NodeStore::open(dir.path()).unwrap();
    for &i in &acked {
        let id = BlobId([(i % 251) as u8; 32]);
        let got = store
            .get_sliver_bytes((i / 251) as u16, Axis::Primary, &id)
            .unwrap();
        assert_eq!(
            got.as_deref(),
            Some(crash_value(i).as_slice()),
            "acknowledged sliver {i} lost"
        );
    }
    assert!(store.event_cursor().unwrap().is_some(), "cursor persisted");
}

/// A stored sliver's bytes, owned, for comparing with what was put.
fn read_sliver(store: &NodeStore, shard: u16, axis: Axis, id: &BlobId) -> Option<Vec<u8>> {
    store
        .get_sliver_bytes(shard, axis, id)
        .unwrap()
        .map(Vec::from)
}

fn segment_files(store_dir: &std::path::Path) -> usize {
    std::fs::read_dir(store_dir.join("sliver-log"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".seg")
        })
        .count()
}

fn sliver_value(i: u8) -> Vec<u8> {
    vec![i; 400 << 10]
}

#[test]
fn sliver_segments_are_deleted_once_every_sliver_in_them_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let id = |i: u8| BlobId([i; 32]);
    {
        let store = NodeStore::open(dir.path()).unwrap();
        // 400 KiB each against 1 MiB segments in tests: shard 1's six
        // slivers fill segments of their own before shard 2's two.
        for i in 0..6 {
            store
                .put_sliver_bytes(1, Axis::Primary, &id(i), sliver_value(i))
                .unwrap();
        }
        for i in 6..8 {
            store
                .put_sliver_bytes(2, Axis::Primary, &id(i), sliver_value(i))
                .unwrap();
        }
        let before = store.sliver_segments();
        assert!(before >= 3, "{before} segments for 3.2 MiB");
        assert_eq!(segment_files(dir.path()), before);
        while store.drop_shard(1, 4).unwrap() > 0 {}
        assert!(!store.has_sliver(1, Axis::Primary, &id(0)).unwrap());
        let after = store.sliver_segments();
        assert!(after < before, "{after} segments left of {before}");
        assert_eq!(segment_files(dir.path()), after);
        for i in 6..8 {
            assert_eq!(
                read_sliver(&store, 2, Axis::Primary, &id(i)),
                Some(sliver_value(i))
            );
        }
    }
    // The live counts are rebuilt from the index on open.
    let store = NodeStore::open(dir.path()).unwrap();
    for i in 6..8 {
        assert_eq!(
            read_sliver(&store, 2, Axis::Primary, &id(i)),
            Some(sliver_value(i))
        );
    }
    while store.drop_shard(2, 4).unwrap() > 0 {}
    assert_eq!(store.sliver_segments(), 1, "only the active segment");
    drop(store);
    let store = NodeStore::open(dir.path()).unwrap();
    assert_eq!(store.sliver_segments(), 1);
    assert_eq!(
        segment_files(dir.path()),
        1,
        "dead segments deleted on open"
    );
}

#[test]
fn a_replaced_sliver_frees_its_old_segment() {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path()).unwrap();
    let id = BlobId([3; 32]);
    for _ in 0..8 {
        store
            .put_sliver_bytes(4, Axis::Secondary, &id, sliver_value(3))
            .unwrap();
    }
    // Eight copies of 400 KiB span several segments; only the last copy
    // is live, so at most its segment and the active one remain.
    assert!(store.sliver_segments() <= 2, "{}", store.sliver_segments());
    assert_eq!(
        read_sliver(&store, 4, Axis::Secondary, &id),
        Some(sliver_value(3))
    );
}

/// Both ways a logged sliver is read: into a buffer (below 256 KiB) and
/// from a map of its segment (above).
#[test]
fn a_corrupted_sliver_segment_is_reported_not_served() {
    use std::os::unix::fs::FileExt;
    for len in [100 << 10, 400 << 10, 3 << 20] {
        let dir = tempfile::tempdir().unwrap();
        let id = BlobId([5; 32]);
        let value: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4099) as u8).collect();
        {
            let store = NodeStore::open(dir.path()).unwrap();
            store
                .put_sliver_bytes(7, Axis::Primary, &id, value.clone())
                .unwrap();
            assert_eq!(
                read_sliver(&store, 7, Axis::Primary, &id),
                Some(value.clone()),
                "{len} bytes"
            );
        }
        for entry in std::fs::read_dir(dir.path().join("sliver-log")).unwrap() {
            let path = entry.unwrap().path();
            if std::fs::metadata(&path).unwrap().len() > 1000 {
                let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                file.write_all_at(&[value[len / 2] ^ 0xff], len as u64 / 2)
                    .unwrap();
            }
        }
        let store = NodeStore::open(dir.path()).unwrap();
        let read = store.get_sliver_bytes(7, Axis::Primary, &id);
        assert!(
            matches!(read, Err(StoreError::Corrupt { .. })),
            "a flipped byte in {len} bytes was not caught: {read:?}"
        );
    }
}

#[test]
fn slivers_of_a_store_written_before_the_sliver_log_are_served_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let id = BlobId([6; 32]);
    let old = sliver_value(6);
    {
        let store = NodeStore::open(dir.path()).unwrap();
        // As the store wrote slivers before the log: the bytes themselves
        // in the `slivers` partition.
        let mut batch = store.batch();
        batch.insert(
            &store.slivers,
            sliver_key(9, Axis::Primary, &id),
            old.clone(),
        );
        store.commit_durable(batch).unwrap();
    }
    let store = NodeStore::open(dir.path()).unwrap();
    assert!(store.has_sliver(9, Axis::Primary, &id).unwrap());
    assert_eq!(read_sliver(&store, 9, Axis::Primary, &id), Some(old));
    assert_eq!(store.drop_shard(9, 10).unwrap(), 1);
    assert!(!store.has_sliver(9, Axis::Primary, &id).unwrap());
    assert_eq!(store.get_sliver_bytes(9, Axis::Primary, &id).unwrap(), None);
}

#[test]
fn small_slivers_stay_inline_and_large_ones_go_to_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log_bytes = |dir: &std::path::Path| -> u64 {
        std::fs::read_dir(dir.join("sliver-log"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    };
    let small = vec![7u8; sliver_log::INLINE_MAX_BYTES];
    let large = vec![8u8; sliver_log::INLINE_MAX_BYTES + 1];
    let (a, b) = (BlobId([1; 32]), BlobId([2; 32]));
    {
        let store = NodeStore::open(dir.path()).unwrap();
        store
            .put_sliver_bytes(0, Axis::Primary, &a, small.clone())
            .unwrap();
        assert_eq!(log_bytes(dir.path()), 0, "a small sliver went to the log");
        store
            .put_sliver_bytes(0, Axis::Primary, &b, large.clone())
            .unwrap();
        assert_eq!(log_bytes(dir.path()), large.len() as u64);
    }
    let store = NodeStore::open(dir.path()).unwrap();
    let read = |id| store.get_sliver_bytes(0, Axis::Primary, id).unwrap();
    assert_eq!(read(&a).as_deref(), Some(small.as_slice()));
    assert_eq!(read(&b).as_deref(), Some(large.as_slice()));
    assert_eq!(store.drop_shard(0, 10).unwrap(), 2);
    assert_eq!(read(&a), None);
    assert_eq!(read(&b), None);
}
