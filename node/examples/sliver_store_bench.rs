//! Sliver-store engine benchmark: the measurement behind the node's choice of
//! storage engine (issue 6, "pick the engine by measurement").
//!
//! For each candidate it writes a fixed, seeded set of slivers (by default
//! 1 GiB: a quarter of the bytes in 4..40 KiB slivers, the shape of small and
//! medium blobs at n = 1000, the rest in 1..2 MiB slivers of large blobs),
//! making every write durable before counting it (one fsync'd commit per
//! `--commit-every` slivers, 1 by default: a node answers a PUT only after its
//! sliver is durable), then closes the store, reopens it as a restarted node
//! would, reads every sliver back in a shuffled order and checks its bytes.
//!
//! Candidates: `redb` (copy-on-write B-tree, one file), `fjall` (LSM tree with
//! key-value separation for large values) and `files` (one file per sliver,
//! written to a temporary name, fsync'd, renamed, directory fsync'd).
//!
//! ```sh
//! scripts/bench/sliver-store.sh                  # all engines, 1 GiB
//! cargo run --release -p floe-node --features bench-engines --example sliver_store_bench -- \
//!     --engine redb --total-mib 256 --commit-every 1 [--threads 2] --dir /tmp/x
//! ```
//!
//! The read pass after reopening is served largely from the OS page cache
//! (the benchmark cannot drop it without root); it measures the engine's own
//! read path and copy costs, not the disk.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use redb::ReadableDatabase;

/// One sliver to write: its key (shard, blob id, axis) and its length. The
/// bytes are derived from the index so they need not be kept in memory.
struct Item {
    key: [u8; 35],
    len: usize,
    seed: u64,
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// Deterministic content for a sliver, cheap to regenerate for verification.
fn fill(seed: u64, len: usize, buf: &mut Vec<u8>) {
    buf.clear();
    buf.reserve(len);
    let mut x = seed | 1;
    while buf.len() + 8 <= len {
        x = xorshift(x);
        buf.extend_from_slice(&x.to_le_bytes());
    }
    x = xorshift(x);
    let rest = len - buf.len();
    buf.extend_from_slice(&x.to_le_bytes()[..rest]);
}

fn workload(total: u64, seed: u64) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rng = seed | 1;
    let small_budget = total / 4;
    let mut small = 0u64;
    let mut large = 0u64;
    let mut i = 0u64;
    while small + large < total {
        rng = xorshift(rng);
        let len = if small < small_budget {
            4 * 1024 + (rng % (36 * 1024)) as usize
        } else {
            1024 * 1024 + (rng % (1024 * 1024)) as usize
        };
        let len = len.min((total - small - large) as usize).max(1);
        if small < small_budget {
            small += len as u64;
        } else {
            large += len as u64;
        }
        let mut key = [0u8; 35];
        let shard = (rng >> 20) as u16 % 1000;
        key[..2].copy_from_slice(&shard.to_be_bytes());
        let mut h = xorshift(rng ^ i);
        for chunk in key[2..34].chunks_mut(8) {
            h = xorshift(h);
            chunk.copy_from_slice(&h.to_le_bytes()[..chunk.len()]);
        }
        key[34] = (i % 2) as u8;
        items.push(Item {
            key,
            len,
            seed: rng ^ (i << 1),
        });
        i += 1;
    }
    items
}

trait Engine {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;
    /// Makes every `put` so far durable (fsync'd).
    fn commit(&mut self) -> Result<()>;
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
}

struct Redb {
    db: redb::Database,
    pending: Vec<(Vec<u8>, Vec<u8>)>,
}

const REDB_TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("slivers");

impl Redb {
    fn open(dir: &Path) -> Result<Self> {
        let db = redb::Database::create(dir.join("slivers.redb"))?;
        Ok(Self {
            db,
            pending: Vec::new(),
        })
    }
}

impl Engine for Redb {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        // redb has one write transaction at a time; buffering the batch and
        // writing it in one transaction is how a node would group commits.
        self.pending.push((key.to_vec(), value.to_vec()));
        Ok(())
    }
    fn commit(&mut self) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(REDB_TABLE)?;
            for (k, v) in self.pending.drain(..) {
                table.insert(k.as_slice(), v.as_slice())?;
            }
        }
        txn.commit()?; // Durability::Immediate (the default): fsync before return.
        Ok(())
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(REDB_TABLE)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }
}

struct Fjall {
    keyspace: fjall::Keyspace,
    part: fjall::PartitionHandle,
    batch: Option<fjall::Batch>,
}

impl Fjall {
    fn open(dir: &Path) -> Result<Self> {
        let keyspace = fjall::Config::new(dir.join("fjall")).open()?;
        let part = keyspace.open_partition(
            "slivers",
            fjall::PartitionCreateOptions::default()
                .with_kv_separation(fjall::KvSeparationOptions::default()),
        )?;
        Ok(Self {
            keyspace,
            part,
            batch: None,
        })
    }
}

impl Engine for Fjall {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        let batch = self.batch.get_or_insert_with(|| self.keyspace.batch());
        batch.insert(&self.part, key, value);
        Ok(())
    }
    fn commit(&mut self) -> Result<()> {
        if let Some(batch) = self.batch.take() {
            batch.commit()?;
        }
        self.keyspace.persist(fjall::PersistMode::SyncAll)?;
        Ok(())
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.part.get(key)?.map(|v| v.to_vec()))
    }
}

struct Files {
    root: PathBuf,
    dirty_dirs: Vec<PathBuf>,
}

impl Files {
    fn path(&self, key: &[u8]) -> PathBuf {
        let shard = u16::from_be_bytes([key[0], key[1]]);
        self.root
            .join(format!("shard-{shard}"))
            .join(hex::encode(&key[2..]))
    }
}

impl Engine for Files {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        let path = self.path(key);
        let dir = path.parent().context("no parent")?.to_path_buf();
        fs::create_dir_all(&dir)?;
        let tmp = path.with_extension("tmp");
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(value)?;
        f.sync_data()?;
        fs::rename(&tmp, &path)?;
        if !self.dirty_dirs.contains(&dir) {
            self.dirty_dirs.push(dir);
        }
        Ok(())
    }
    fn commit(&mut self) -> Result<()> {
        for dir in self.dirty_dirs.drain(..) {
            File::open(&dir)?.sync_all()?;
        }
        Ok(())
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match fs::read(self.path(key)) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Concurrent durable writers (one commit per sliver each), as concurrent
/// PUTs would drive the store: shows whether an engine shares fsyncs
/// between writers (group commit) or serialises them.
fn concurrent_write(engine: &str, dir: &Path, items: &[Item], threads: usize) -> Result<()> {
    let chunk = items.len().div_ceil(threads);
    match engine {
        "redb" => {
            let db = redb::Database::create(dir.join("slivers.redb"))?;
            std::thread::scope(|scope| -> Result<()> {
                let handles: Vec<_> = items
                    .chunks(chunk)
                    .map(|part| {
                        let db = &db;
                        scope.spawn(move || -> Result<()> {
                            let mut buf = Vec::new();
                            for item in part {
                                fill(item.seed, item.len, &mut buf);
                                let txn = db.begin_write()?;
                                txn.open_table(REDB_TABLE)?
                                    .insert(item.key.as_slice(), buf.as_slice())?;
                                txn.commit()?;
                            }
                            Ok(())
                        })
                    })
                    .collect();
                for h in handles {
                    h.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
                }
                Ok(())
            })
        }
        "fjall" => {
            let fj = Fjall::open(dir)?;
            std::thread::scope(|scope| -> Result<()> {
                let handles: Vec<_> = items
                    .chunks(chunk)
                    .map(|part| {
                        let fj = &fj;
                        scope.spawn(move || -> Result<()> {
                            let mut buf = Vec::new();
                            for item in part {
                                fill(item.seed, item.len, &mut buf);
                                let mut batch = fj
                                    .keyspace
                                    .batch()
                                    .durability(Some(fjall::PersistMode::SyncAll));
                                batch.insert(&fj.part, item.key.as_slice(), buf.as_slice());
                                batch.commit()?;
                            }
                            Ok(())
                        })
                    })
                    .collect();
                for h in handles {
                    h.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
                }
                Ok(())
            })
        }
        "files" => std::thread::scope(|scope| -> Result<()> {
            let handles: Vec<_> = items
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || -> Result<()> {
                        let mut files = Files {
                            root: dir.join("files"),
                            dirty_dirs: Vec::new(),
                        };
                        let mut buf = Vec::new();
                        for item in part {
                            fill(item.seed, item.len, &mut buf);
                            files.put(&item.key, &buf)?;
                            files.commit()?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
            }
            Ok(())
        }),
        other => bail!("unknown engine {other}"),
    }
}

fn open(engine: &str, dir: &Path) -> Result<Box<dyn Engine>> {
    Ok(match engine {
        "redb" => Box::new(Redb::open(dir)?),
        "fjall" => Box::new(Fjall::open(dir)?),
        "files" => Box::new(Files {
            root: dir.join("files"),
            dirty_dirs: Vec::new(),
        }),
        other => bail!("unknown engine {other} (redb, fjall, files)"),
    })
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn mib_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64()
}

fn main() -> Result<()> {
    let mut engine = "redb".to_string();
    let mut total_mib = 1024u64;
    let mut commit_every = 1usize;
    let mut dir: Option<PathBuf> = None;
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().context("missing value");
        match a.as_str() {
            "--engine" => engine = val()?,
            "--total-mib" => total_mib = val()?.parse()?,
            "--commit-every" => commit_every = val()?.parse()?,
            "--dir" => dir = Some(PathBuf::from(val()?)),
            "--threads" => threads = val()?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    let dir = dir.context("--dir is required")?;
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    let items = workload(total_mib * 1024 * 1024, 42);
    let bytes: u64 = items.iter().map(|i| i.len as u64).sum();
    let n_small = items.iter().filter(|i| i.len < 1024 * 1024).count();

    let mut buf = Vec::new();
    let t = Instant::now();
    if threads > 1 {
        concurrent_write(&engine, &dir, &items, threads)?;
    } else {
        let mut store = open(&engine, &dir)?;
        for (i, item) in items.iter().enumerate() {
            fill(item.seed, item.len, &mut buf);
            store.put(&item.key, &buf)?;
            if (i + 1) % commit_every == 0 {
                store.commit()?;
            }
        }
        store.commit()?;
        drop(store);
    }
    let write = t.elapsed();

    let t = Instant::now();
    let store = open(&engine, &dir)?;
    let reopen = t.elapsed();
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut r = 7u64;
    for i in (1..order.len()).rev() {
        r = xorshift(r);
        order.swap(i, (r % (i as u64 + 1)) as usize);
    }
    let t = Instant::now();
    for &i in &order {
        let item = &items[i];
        let got = store
            .get(&item.key)?
            .context("sliver missing after reopen")?;
        fill(item.seed, item.len, &mut buf);
        if got != buf {
            bail!("sliver {i} differs after reopen");
        }
    }
    let read = t.elapsed();
    let disk = dir_size(&dir);
    println!(
        "{engine:6} threads={threads} commit_every={commit_every:<3} slivers={} ({n_small} small) data={:.0} MiB | \
         write {:.1} MiB/s ({:.0} slivers/s, {:.1}s) | reopen {:.0} ms | read+verify {:.1} MiB/s \
         ({:.0} slivers/s) | disk {:.0} MiB",
        items.len(),
        bytes as f64 / 1048576.0,
        mib_s(bytes, write),
        items.len() as f64 / write.as_secs_f64(),
        write.as_secs_f64(),
        reopen.as_secs_f64() * 1000.0,
        mib_s(bytes, read),
        items.len() as f64 / read.as_secs_f64(),
        disk as f64 / 1048576.0,
    );
    drop(store);
    fs::remove_dir_all(&dir)?;
    Ok(())
}
