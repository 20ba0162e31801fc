//! The restarted-node stall (issue 21): a node killed with -9 while storing
//! slivers, restarted, and then fed many concurrent uploads while recovery
//! and the chain follower write too, stalled for good in fjall's write halt
//! ("write halt because of write buffer saturation") with every writer
//! thread waiting there.
//!
//! The test reproduces that sequence on the store with the node's own
//! settings: a child process writes slivers, the follower's cursor and the
//! recovery queue until it is killed with SIGKILL; the store is reopened
//! and 64 writers upload slivers of up to 2 MiB while a follower and a
//! recovery loop write their small records. Every write must finish: a
//! watchdog far beyond the work's duration turns a stall into a failure
//! (it measures liveness, not speed).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use floe_core::{Axis, BlobId};
use floe_node::store::NodeStore;

const CHILD_DIR_ENV: &str = "FLOE_NODE_STALL_CHILD_DIR";

/// A sliver-sized value: 256 KiB..2 MiB.
fn value(i: u64) -> Vec<u8> {
    let len = (256 << 10) + (i as usize * 7919 % (1792 << 10));
    (0..len)
        .map(|j| (j as u64 ^ i.wrapping_mul(31)) as u8)
        .collect()
}

fn id(i: u64) -> BlobId {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&i.to_be_bytes());
    BlobId(bytes)
}

/// Uploads, follower and recovery writes, as a busy node does them.
fn busy(store: &Arc<NodeStore>, writers: u64, per_writer: u64, base: u64, progress: &AtomicU64) {
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| {
        for w in 0..writers {
            scope.spawn(move || {
                for k in 0..per_writer {
                    let i = base + w * per_writer + k;
                    let shard = (i % 7) as u16;
                    store
                        .put_sliver_bytes(shard, Axis::Primary, &id(i), value(i))
                        .unwrap();
                    progress.fetch_add(1, Ordering::Relaxed);
                    // The child's acknowledgements, read by the parent.
                    if base == 0 {
                        println!("ack {i}");
                    }
                }
            });
        }
        let stop_follower = stop.clone();
        scope.spawn(move || {
            let mut n = base;
            while !stop_follower.load(Ordering::Relaxed) {
                store.set_event_cursor(&n.to_be_bytes()).unwrap();
                store.queue_recovery(&id(u64::MAX - n)).unwrap();
                store.finish_recovery(&id(u64::MAX - n)).unwrap();
                n += 1;
            }
        });
        // The follower stops once the uploads are done.
        scope.spawn(move || {
            while progress.load(Ordering::Relaxed) < writers * per_writer {
                std::thread::sleep(Duration::from_millis(50));
            }
            stop.store(true, Ordering::Relaxed);
        });
    });
}

/// Not a test on its own: with [`CHILD_DIR_ENV`] set, the process the
/// test kills. It writes until killed.
#[test]
fn stall_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let store = Arc::new(NodeStore::open(Path::new(&dir)).unwrap());
    busy(&store, 16, u64::MAX / 32, 0, &AtomicU64::new(0));
}

#[test]
fn a_store_restarted_after_kill_keeps_taking_concurrent_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "stall_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if line.unwrap().starts_with("ack ") {
            acked += 1;
            // ~400 MiB: several memtables' worth, journals not yet
            // flushed when the kill lands.
            if acked >= 350 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = Arc::new(NodeStore::open(dir.path()).unwrap());
    let (writers, per_writer) = (64, 12);
    let progress = Arc::new(AtomicU64::new(0));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    {
        let (store, progress) = (store.clone(), progress.clone());
        std::thread::spawn(move || {
            busy(&store, writers, per_writer, 1 << 40, &progress);
            let _ = done_tx.send(());
        });
    }
    // Ten minutes for ~1 GiB: a healthy store needs a small fraction of
    // that even on a slow shared disk; a stalled one never finishes.
    if done_rx.recv_timeout(Duration::from_secs(600)).is_err() {
        panic!(
            "store stalled: {} of {} uploads finished",
            progress.load(Ordering::Relaxed),
            writers * per_writer
        );
    }
    // Everything acknowledged is there.
    for i in (1u64 << 40)..(1 << 40) + writers * per_writer {
        let got = store
            .get_sliver_bytes((i % 7) as u16, Axis::Primary, &id(i))
            .unwrap();
        assert_eq!(got.map(|v| v.len()), Some(value(i).len()), "sliver {i}");
    }
}
