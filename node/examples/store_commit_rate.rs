//! Durable put rate of `NodeStore::put_sliver_bytes` with concurrent
//! writers, to measure what group commit buys (each put returns only after
//! an fsync covering it).
//!
//! ```sh
//! cargo run --release -p floe-node --example store_commit_rate -- DIR [WRITERS] [PUTS] [BYTES]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use floe_core::{Axis, BlobId};
use floe_node::store::NodeStore;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().context("usage: DIR [WRITERS] [PUTS] [BYTES]")?);
    let writers: u32 = args.next().map_or(Ok(1), |a| a.parse())?;
    let puts: u32 = args.next().map_or(Ok(4000), |a| a.parse())?;
    let bytes: usize = args.next().map_or(Ok(20 * 1024), |a| a.parse())?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let store = NodeStore::open(&dir)?;
    let value = vec![7u8; bytes];
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (store, value) = (&store, &value);
                scope.spawn(move || -> Result<()> {
                    for i in (w..puts).step_by(writers as usize) {
                        let mut id = [0u8; 32];
                        id[..4].copy_from_slice(&i.to_be_bytes());
                        store.put_sliver_bytes(0, Axis::Primary, &BlobId(id), value.as_slice())?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
        }
        Ok(())
    })?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "writers={writers} puts={puts} bytes={bytes}: {:.0} durable puts/s, {:.1} MiB/s",
        f64::from(puts) / secs,
        f64::from(puts) * bytes as f64 / 1048576.0 / secs
    );
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
