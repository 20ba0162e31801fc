//! A model of the limit of a store and a read on this machine, measured
//! in the same run as floe's actual store, read and range read against a
//! running network (`scripts/bench/limit-model.sh` starts a devnet).
//!
//! The unavoidable work, each part done the cheapest way this process can:
//! - **encode**: floe's own encoder (`encode_blob`: slivers and metadata;
//!   BENCHMARKS.md's encoding table puts it within about 1.2x of the
//!   Reed-Solomon + Blake2b floor);
//! - **loopback**: the bytes a store must move (every sliver, `n (k_p +
//!   k_s)` symbols) or a read must move (`k_p` primary slivers; for a range
//!   only the rows holding it) written over loopback TCP into as many
//!   receiving threads as there are nodes, which only count them;
//! - **verify**: what the receivers must hash before they accept (each
//!   node re-expands and hashes every sliver it gets; a reader does the
//!   same for the slivers it uses), spread over every core;
//! - **fsync**: the store's sliver bytes written to one file per node on
//!   the disk of the temp dir and fsynced once (as a node's group commit
//!   at best does);
//! - **chain**: the round trips a store needs: two transactions (reserve
//!   and register, then certify), each measured as a one-epoch `extend` of
//!   a blob stored earlier (one real floe transaction with its reads).
//!
//! "floor" is `encode + chain + max(loopback, verify, fsync)` for a
//! store (the data-plane parts overlapped perfectly) and `max(loopback,
//! verify)` for a read; "serial" adds them up. Every part is measured
//! `--runs` times and its p50 taken, like floe's own times, each run of the
//! parts right after the same run of floe's store and reads (so a drift of
//! the machine moves both); the ratio is floe's p50 over the floor.
//!
//! ```sh
//! cargo run --release -p floe-client --example limit_model -- \
//!     --config DIR/client.yaml --sizes 1024,1048576,104857600,max --runs 3
//! ```

/// The `floe` binary's allocator, so floe's store and read here run as
/// they do in `floe store` (the model's parts run under it too).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use std::sync::{Arc, Mutex};

use floe_client::{Client, ClientConfig, Epochs, Progress, StoreOptions, StoreResult};
use floe_core::{EncodingConfig, encode_blob};
use rand::RngCore;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn p50(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `name p50` of each step that every run's `steps` reached, joined.
fn step_p50s<const N: usize>(
    names: &[&str; N],
    runs: impl Iterator<Item = [Option<f64>; N]> + Clone,
    decimals: usize,
) -> String {
    names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let times: Vec<f64> = runs.clone().filter_map(|steps| steps[i]).collect();
            (!times.is_empty()).then(|| format!("{name} {:.decimals$}", p50(&times)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// When a store reached each of its steps, in ms from the call (from its
/// progress events): where the time between the floor and floe's own
/// goes.
#[derive(Debug, Clone, Copy, Default)]
struct StoreTimeline {
    encoded: Option<f64>,
    upload_started: Option<f64>,
    first_confirmation: Option<f64>,
    quorum: Option<f64>,
    all_uploaded: Option<f64>,
}

impl StoreTimeline {
    const STEPS: [&'static str; 5] = [
        "encoded",
        "upload started",
        "first confirmation",
        "quorum of confirmations",
        "last sliver accepted",
    ];

    fn steps(&self) -> [Option<f64>; 5] {
        [
            self.encoded,
            self.upload_started,
            self.first_confirmation,
            self.quorum,
            self.all_uploaded,
        ]
    }

    /// A progress callback filling a timeline that starts now.
    fn recorder(timeline: &Arc<Mutex<StoreTimeline>>) -> floe_client::ProgressFn {
        let timeline = timeline.clone();
        let start = Instant::now();
        Arc::new(move |event| {
            let at = ms(start.elapsed());
            let mut t = timeline.lock().unwrap_or_else(|p| p.into_inner());
            match event {
                Progress::Encoded => t.encoded = Some(at),
                Progress::UploadStarted { .. } => t.upload_started = Some(at),
                Progress::Uploaded { .. } => t.all_uploaded = Some(at),
                Progress::Confirmed { weight, n_shards } => {
                    t.first_confirmation.get_or_insert(at);
                    if u64::from(weight) * 3 > 2 * u64::from(n_shards) {
                        t.quorum.get_or_insert(at);
                    }
                }
                _ => {}
            }
        })
    }
}

/// The model's parts, one measurement per run each.
#[derive(Debug, Default)]
struct ModelParts<T = Vec<f64>> {
    encode: T,
    verify_all: T,
    verify_read: T,
    verify_range: T,
    net_store: T,
    net_read: T,
    net_range: T,
    fsync: T,
    fsync_recycled: T,
}

impl ModelParts {
    /// Measures every part once for `blob` (run number `run`).
    fn measure(
        &mut self,
        config: &EncodingConfig,
        blob: &[u8],
        range: &std::ops::Range<u64>,
        members: usize,
        scratch: &std::path::Path,
        run: usize,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        let encoded = encode_blob(config, blob)?;
        self.encode.push(ms(start.elapsed()));
        let symbol_size = encoded.metadata.symbol_size(config)?;
        let store_bytes: u64 = encoded
            .primary
            .iter()
            .map(|s| s.data().len() as u64)
            .chain(encoded.secondary.iter().map(|s| s.data().len() as u64))
            .sum();
        let k_p = usize::from(config.n_primary_source_symbols());
        let row_len = config.primary_sliver_len(symbol_size) as u64;
        let read_bytes = row_len * k_p as u64;
        let range_rows = (range.end.max(1) - 1) / row_len - range.start / row_len + 1;
        let metadata = &encoded.metadata;
        let n = config.n();
        self.verify_all.push(ms(on_all_cores(2 * n, |i| {
            let ok = if i < n {
                encoded.primary[i].verify(config, metadata).is_ok()
            } else {
                encoded.secondary[i - n].verify(config, metadata).is_ok()
            };
            assert!(ok, "own slivers verify");
        })));
        self.verify_read.push(ms(on_all_cores(k_p, |i| {
            assert!(encoded.primary[i].verify(config, metadata).is_ok());
        })));
        self.verify_range
            .push(ms(on_all_cores(range_rows as usize, |i| {
                assert!(encoded.primary[i].verify(config, metadata).is_ok());
            })));
        drop(encoded);
        self.net_store.push(ms(loopback(store_bytes, members)?));
        self.net_read.push(ms(loopback(read_bytes, members)?));
        self.net_range.push(ms(loopback(
            range_rows * row_len,
            members.min(range_rows as usize),
        )?));
        let sliver_len = (store_bytes / (2 * n as u64)) as usize;
        // Into a directory of this run's own, kept until every run is
        // done, as a node keeps its slivers (see `fsync_bytes`).
        let dir = scratch.join(format!("fsync-{run}"));
        std::fs::create_dir_all(&dir)?;
        self.fsync
            .push(ms(fsync_bytes(&dir, store_bytes, members, sliver_len)));
        // For comparison: the same bytes into pages just freed (written
        // and deleted once unmeasured first), what the model measured
        // until 2026-12-07.
        let dir = scratch.join("recycled");
        for measured in [false, true] {
            std::fs::create_dir_all(&dir)?;
            let took = fsync_bytes(&dir, store_bytes, members, sliver_len);
            std::fs::remove_dir_all(&dir)?;
            if measured {
                self.fsync_recycled.push(ms(took));
            }
        }
        Ok(())
    }

    fn p50(self) -> ModelParts<f64> {
        ModelParts {
            encode: p50(&self.encode),
            verify_all: p50(&self.verify_all),
            verify_read: p50(&self.verify_read),
            verify_range: p50(&self.verify_range),
            net_store: p50(&self.net_store),
            net_read: p50(&self.net_read),
            net_range: p50(&self.net_range),
            fsync: p50(&self.fsync),
            fsync_recycled: p50(&self.fsync_recycled),
        }
    }
}

/// When a read reached each of its steps, in ms from the call.
#[derive(Debug, Clone, Copy, Default)]
struct ReadTimeline {
    download_started: Option<f64>,
    first_row: Option<f64>,
    last_row: Option<f64>,
}

impl ReadTimeline {
    const STEPS: [&'static str; 3] = [
        "metadata in, rows asked",
        "first row verified",
        "last row verified",
    ];

    fn steps(&self) -> [Option<f64>; 3] {
        [self.download_started, self.first_row, self.last_row]
    }

    fn recorder(timeline: &Arc<Mutex<ReadTimeline>>) -> floe_client::ProgressFn {
        let timeline = timeline.clone();
        let start = Instant::now();
        Arc::new(move |event| {
            let at = ms(start.elapsed());
            let mut t = timeline.lock().unwrap_or_else(|p| p.into_inner());
            match event {
                Progress::DownloadStarted { .. } => t.download_started = Some(at),
                Progress::Downloaded { .. } => {
                    t.first_row.get_or_insert(at);
                    t.last_row = Some(at);
                }
                _ => {}
            }
        })
    }
}

/// Writes `total` bytes over loopback TCP, split evenly across `receivers`
/// connections each read by its own thread; returns the wall time.
fn loopback(total: u64, receivers: usize) -> std::io::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let share = total / receivers as u64;
    let start = Instant::now();
    let senders: Vec<_> = (0..receivers)
        .map(|_| {
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut socket = TcpStream::connect(address)?;
                let chunk = vec![7u8; 1 << 20];
                let mut left = share;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    socket.write_all(&chunk[..n])?;
                    left -= n as u64;
                }
                Ok(())
            })
        })
        .collect();
    // The senders' connections wait in the listen backlog until accepted.
    let mut readers = Vec::new();
    for _ in 0..receivers {
        let (mut socket, _) = listener.accept()?;
        readers.push(std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 20];
            let mut got = 0u64;
            while let Ok(n) = socket.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got += n as u64;
            }
            got
        }));
    }
    for s in senders {
        s.join()
            .map_err(|_| std::io::Error::other("sender panicked"))??;
    }
    let mut received = 0;
    for r in readers {
        received += r
            .join()
            .map_err(|_| std::io::Error::other("reader panicked"))?;
    }
    let elapsed = start.elapsed();
    if received != share * receivers as u64 {
        return Err(std::io::Error::other("short transfer"));
    }
    Ok(elapsed)
}

/// Writes `total` bytes as `files` new files in `dir` (one writer thread
/// each, in `chunk`-byte writes) and fsyncs each once; returns the wall
/// time. The files stay (the caller removes `dir`), as a node's slivers
/// stay: the next run's bytes go into new page-cache pages as a store's
/// do, not into the pages this run's deleted files would hand back. (On a
/// virtual machine the first touch of a page the guest never used costs
/// several times a reused one: a store's 444 MiB of slivers took 1.1 to
/// 1.4 s to write into new pages and about 0.3 s into recycled ones; see
/// BENCHMARKS.md.)
fn fsync_bytes(dir: &std::path::Path, total: u64, files: usize, chunk: usize) -> Duration {
    let share = total / files as u64;
    let start = Instant::now();
    std::thread::scope(|scope| {
        for i in 0..files {
            let path = dir.join(format!("node-{i}"));
            scope.spawn(move || {
                let mut file = std::fs::File::create(&path).expect("create bench file");
                let data = vec![3u8; chunk.max(1)];
                let mut left = share;
                while left > 0 {
                    let n = left.min(data.len() as u64) as usize;
                    file.write_all(&data[..n]).expect("write bench file");
                    left -= n as u64;
                }
                file.sync_all().expect("fsync bench file");
            });
        }
    });
    start.elapsed()
}

/// Runs `work(i)` for `i in 0..count` on every core; returns the wall time.
fn on_all_cores(count: usize, work: impl Fn(usize) + Sync) -> Duration {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    work(i);
                }
            });
        }
    });
    start.elapsed()
}

fn human(size: u64) -> String {
    match size {
        s if s >= 1 << 20 => format!("{:.0} MiB", s as f64 / (1 << 20) as f64),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// Peak resident memory of this process so far (Linux `VmHWM`), MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Minor page faults of this process so far (`/proc/self/stat`, field
/// 10): how much of an operation went to first touch of fresh memory.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name in parentheses: state is field 3, minflt 10.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

struct Row {
    what: String,
    parts: [f64; 5],
    floor: f64,
    serial: f64,
    actual: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config_path = None;
    let mut sizes_arg = "1024,1048576,104857600,max".to_owned();
    let mut runs = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config_path = args.next(),
            "--sizes" => sizes_arg = args.next().unwrap_or_default(),
            "--runs" => runs = args.next().unwrap_or_default().parse()?,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    anyhow::ensure!(runs > 0, "--runs must be at least 1");
    let path = config_path.ok_or_else(|| anyhow::anyhow!("--config FILE is required"))?;
    let client = Client::connect(ClientConfig::load(std::path::Path::new(&path))?).await?;
    let nodes = client.node_set().await?;
    let config: EncodingConfig = nodes.encoding;
    let members = nodes.committee.n_members().max(1);
    let sizes: Vec<u64> = sizes_arg
        .split(',')
        .map(|s| match s {
            "max" => Ok(config.max_blob_size()),
            s => s.parse::<u64>(),
        })
        .collect::<Result<_, _>>()?;
    let scratch = tempfile::tempdir()?;

    // One floe transaction, measured on a small blob of our own.
    let small = client
        .store(
            vec![1u8; 1024],
            StoreOptions {
                epochs: Epochs::Ahead(1),
                ..StoreOptions::default()
            },
        )
        .await?;
    let object = match &small {
        StoreResult::NewlyCreated { blob_object, .. } => blob_object.id,
        StoreResult::AlreadyCertified {
            object: Some(o), ..
        } => *o,
        StoreResult::AlreadyCertified { .. } => anyhow::bail!("no own object to extend"),
    };
    let mut tx = Vec::new();
    for _ in 0..runs.max(3) {
        let start = Instant::now();
        client.extend_blob(object, 1).await?;
        tx.push(ms(start.elapsed()));
    }
    let tx = p50(&tx);

    println!(
        "# {} cores, n = {}, {} members; {runs} runs; one floe transaction p50 {tx:.1} ms",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        config.n_shards(),
        members
    );
    let mut rows = Vec::new();
    for &size in &sizes {
        let mut blob = vec![0u8; usize::try_from(size)?];
        rand::rng().fill_bytes(&mut blob);

        // floe, end to end, and the model's parts, interleaved run by run
        // so that both see the same state of this noisy machine (measured
        // one after the other, the model's parts moved by up to a third
        // between runs minutes apart); p50 of each over `runs`.
        let (mut stores, mut reads, mut ranges) = (Vec::new(), Vec::new(), Vec::new());
        let range_len = (1u64 << 20).min(size);
        let range = size / 2 - range_len / 2..size / 2 - range_len / 2 + range_len;
        let mut peak = None;
        let mut timelines = Vec::new();
        let mut read_timelines = Vec::new();
        let mut read_faults = Vec::new();
        let mut parts = ModelParts::default();
        for run in 0..runs {
            // A different blob each run (the first bytes vary).
            if let Some(b) = blob.first_mut() {
                *b = b.wrapping_add(run as u8 + 1);
            }
            let timeline = Arc::new(Mutex::new(StoreTimeline::default()));
            let start = Instant::now();
            let stored = client
                .store(
                    blob.clone(),
                    StoreOptions {
                        epochs: Epochs::Ahead(1),
                        progress: Some(StoreTimeline::recorder(&timeline)),
                        ..StoreOptions::default()
                    },
                )
                .await?;
            stores.push(ms(start.elapsed()));
            timelines.push(*timeline.lock().unwrap_or_else(|p| p.into_inner()));
            peak = peak.or_else(peak_rss_mib);
            let id = stored.blob_id();
            let read_steps = Arc::new(Mutex::new(ReadTimeline::default()));
            let faults = minor_faults();
            let start = Instant::now();
            let back = client
                .read(&id, Some(ReadTimeline::recorder(&read_steps)))
                .await?;
            reads.push(ms(start.elapsed()));
            if let (Some(before), Some(after)) = (faults, minor_faults()) {
                read_faults.push((after - before) as f64);
            }
            read_timelines.push(*read_steps.lock().unwrap_or_else(|p| p.into_inner()));
            anyhow::ensure!(back == blob, "read back different bytes");
            drop(back);
            let start = Instant::now();
            let part = client.read_range(&id, range.clone(), None).await?;
            ranges.push(ms(start.elapsed()));
            let (a, b) = (range.start as usize, range.end as usize);
            anyhow::ensure!(part == blob[a..b], "range read differs");
            drop(part);

            parts.measure(&config, &blob, &range, members, scratch.path(), run)?;
        }
        for run in 0..runs {
            let _ = std::fs::remove_dir_all(scratch.path().join(format!("fsync-{run}")));
        }
        let ModelParts {
            encode,
            verify_all,
            verify_read,
            verify_range,
            net_store,
            net_read,
            net_range,
            fsync,
            fsync_recycled,
        } = parts.p50();
        println!(
            "# {} store: fsync into new pages (the floor's) p50 {fsync:.1} ms, into recycled pages {fsync_recycled:.1} ms",
            human(size)
        );

        let chain = 2.0 * tx;
        let store_floor = encode + chain + net_store.max(verify_all).max(fsync);
        rows.push(Row {
            what: format!("{} store", human(size)),
            parts: [encode, net_store, verify_all, fsync, chain],
            floor: store_floor,
            serial: encode + chain + net_store + verify_all + fsync,
            actual: p50(&stores),
        });
        rows.push(Row {
            what: format!("{} read", human(size)),
            parts: [0.0, net_read, verify_read, 0.0, 0.0],
            floor: net_read.max(verify_read),
            serial: net_read + verify_read,
            actual: p50(&reads),
        });
        rows.push(Row {
            what: format!("{} of {} (range)", human(range_len), human(size)),
            parts: [0.0, net_range, verify_range, 0.0, 0.0],
            floor: net_range.max(verify_range),
            serial: net_range + verify_range,
            actual: p50(&ranges),
        });
        println!(
            "# {} store, p50 ms from the call: {}, returned {:.0}",
            human(size),
            step_p50s(
                &StoreTimeline::STEPS,
                timelines.iter().map(StoreTimeline::steps),
                0
            ),
            p50(&stores)
        );
        println!(
            "# {} read, p50 ms from the call: {}, returned {:.1}; minor page faults p50 {}",
            human(size),
            step_p50s(
                &ReadTimeline::STEPS,
                read_timelines.iter().map(ReadTimeline::steps),
                1
            ),
            p50(&reads),
            if read_faults.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.0}", p50(&read_faults))
            }
        );
        if let Some(peak) = peak {
            println!(
                "# {}: peak RSS of this process after the first store {peak:.0} MiB ({:.2}x the blob)",
                human(size),
                peak / (size as f64 / (1 << 20) as f64).max(1e-9)
            );
        }
    }
    println!(
        "| operation | encode | loopback | verify | fsync | chain | floor | serial | floe p50 | floe / floor |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let cell = |x: f64| {
            if x == 0.0 {
                "-".to_owned()
            } else {
                format!("{x:.1}")
            }
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | **{:.1}x** |",
            r.what,
            cell(r.parts[0]),
            cell(r.parts[1]),
            cell(r.parts[2]),
            cell(r.parts[3]),
            cell(r.parts[4]),
            r.floor,
            r.serial,
            r.actual,
            r.actual / r.floor.max(1e-3)
        );
    }
    Ok(())
}
