//! A write whose journal write or fsync failed must not become readable
//! (issue 21: the store inserted into fjall's memtables first and fsynced
//! after, so a sliver whose fsync failed was served).
//!
//! The disk failure is real: the store lives on a small tmpfs that fills
//! up. Mounting needs root; elsewhere the test says so and does nothing.

use std::process::Command;

use floe_core::{Axis, BlobId};
use floe_node::store::NodeStore;

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_write_that_failed_to_reach_the_disk_is_not_readable() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mount = Mount(dir.path().to_path_buf());
    let store = NodeStore::open(&dir.path().join("store")).unwrap();
    let value = vec![0x5a; 64 << 10];
    let mut failed = None;
    for i in 0u16..=1000 {
        let mut id = BlobId([0; 32]);
        id.0[..2].copy_from_slice(&i.to_be_bytes());
        match store.put_sliver_bytes(0, Axis::Primary, &id, value.as_slice()) {
            Ok(()) => {
                let got = store.get_sliver_bytes(0, Axis::Primary, &id).unwrap();
                assert_eq!(got.as_deref(), Some(value.as_slice()), "acknowledged {i}");
            }
            Err(_) => {
                failed = Some(id);
                break;
            }
        }
    }
    let failed = failed.expect("an 8 MiB disk fills up");
    // Not served: absent, or the store refuses to read at all.
    let read = store.get_sliver_bytes(0, Axis::Primary, &failed);
    assert!(
        !matches!(read, Ok(Some(_))),
        "a sliver whose write failed is readable"
    );
}
