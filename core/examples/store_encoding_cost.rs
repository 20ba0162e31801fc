//! CPU cost of a store's encoding: one full encode (every sliver kept) against
//! what `floe-client` does for blobs whose slivers exceed its buffer: a
//! metadata pass that keeps no sliver, then the pairs produced in groups,
//! either (spill, the default) with the repair primary slivers written to an
//! unlinked file during the metadata pass and read back, or (the fallback)
//! computed again by a Reed-Solomon pass per group.
//!
//! `cargo run --example store_encoding_cost -- [SIZE_MIB] [N_SHARDS] [GROUP_PAIRS...]`
//! (defaults: 100 MiB, n = 100, groups of 6, 12, 24 and 100 pairs). Pairs are
//! produced in the order the client's feed does (copies, then pairs needing
//! the row pass, then the column pass), `GROUP_PAIRS` at a time; every pair
//! is checked against the full encoder's. The spill file goes to `TMPDIR`.

use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::time::Instant;

use floe_core::encoding::{PairEncoder, PairWork};
use floe_core::{EncodingConfig, compute_metadata, encode_blob};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mib: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100);
    let n: u16 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let mut groups: Vec<usize> = args.iter().skip(2).filter_map(|a| a.parse().ok()).collect();
    if groups.is_empty() {
        groups = vec![6, 12, 24, 100];
    }
    let config = EncodingConfig::new(n).expect("a valid committee size");
    let len = (mib << 20).min(config.max_blob_size() as usize);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let blob: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    println!(
        "blob {} MiB, n = {n}, {} threads",
        len >> 20,
        rayon::current_num_threads()
    );

    let started = Instant::now();
    let full = encode_blob(&config, &blob).expect("encodes");
    let full_ms = started.elapsed().as_secs_f64() * 1e3;
    let (expected, _) = full.into_pairs();
    println!("full encode (every sliver kept): {full_ms:.0} ms");

    let started = Instant::now();
    compute_metadata(&config, &blob).expect("encodes");
    let metadata_ms = started.elapsed().as_secs_f64() * 1e3;
    println!("metadata only (pass 1): {metadata_ms:.0} ms");

    // Spill: the metadata pass writes every repair primary sliver to a file.
    let spilling = PairEncoder::new(&config, blob.as_slice()).expect("fits");
    let path = std::env::temp_dir().join(format!("store-encoding-cost-{}", std::process::id()));
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .expect("a scratch file");
    std::fs::remove_file(&path).expect("unlinked");
    let k_p = config.n_primary_source_symbols();
    let row_bytes = spilling.primary_bytes();
    let failure = Mutex::new(None);
    let sink = |row: u16, offset: usize, bytes: &[u8]| {
        let at = usize::from(row - k_p) * row_bytes + offset;
        if let Err(e) = file.write_all_at(bytes, at as u64) {
            *failure.lock().expect("unpoisoned") = Some(e);
        }
    };
    let started = Instant::now();
    spilling.metadata(Some(&sink)).expect("encodes");
    let spill_metadata_ms = started.elapsed().as_secs_f64() * 1e3;
    if let Some(e) = failure.lock().expect("unpoisoned").take() {
        panic!("spill write: {e}");
    }
    println!(
        "metadata pass writing {} MiB of repair rows: {spill_metadata_ms:.0} ms (+{:.0}% on the pass; kept row-repair block {} MiB)",
        (usize::from(n - k_p) * row_bytes) >> 20,
        (spill_metadata_ms / metadata_ms - 1.0) * 100.0,
        spilling.kept_bytes() >> 20,
    );
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<u16>>().chunks(10) {
        let mut known = BTreeMap::new();
        for &p in chunk.iter().filter(|&&p| p >= k_p) {
            let mut row = vec![0u8; row_bytes];
            file.read_exact_at(&mut row, (usize::from(p - k_p) * row_bytes) as u64)
                .expect("reads back");
            known.insert(p, row);
        }
        let pairs = spilling.encode_pairs_with(chunk, known).expect("encodes");
        for (p, got) in chunk.iter().zip(&pairs) {
            assert_eq!(got, &expected[usize::from(*p)], "pair {p}");
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "spill: pass 2 (copies and file reads, groups of 10): {ms:.0} ms; metadata + pass 2 = {:.0} ms = {:.2}x the full encode",
        spill_metadata_ms + ms,
        (spill_metadata_ms + ms) / full_ms
    );
    drop(file);

    // Fallback: no file; the metadata pass keeps the row-repair block, so
    // only the repair rows cost a pass per group.
    let encoder = PairEncoder::new(&config, blob.as_slice()).expect("fits");
    encoder.metadata(None).expect("encodes");
    let mut order: Vec<u16> = (0..n).collect();
    order.sort_by_key(|&p| {
        let work = match encoder.work_of(p) {
            PairWork::Copy => 0,
            PairWork::RowPass => 1,
            PairWork::ColumnPass => 2,
        };
        (work, p)
    });
    for group in groups {
        let started = Instant::now();
        let mut passes = 0;
        for chunk in order.chunks(group.max(1)) {
            passes += usize::from(
                chunk
                    .iter()
                    .any(|&p| encoder.work_of(p) == PairWork::RowPass),
            );
            passes += usize::from(
                chunk
                    .iter()
                    .any(|&p| encoder.work_of(p) == PairWork::ColumnPass),
            );
            let pairs = encoder.encode_pairs(chunk).expect("encodes");
            for (p, got) in chunk.iter().zip(&pairs) {
                assert_eq!(got, &expected[usize::from(*p)], "pair {p}");
            }
        }
        let ms = started.elapsed().as_secs_f64() * 1e3;
        println!(
            "fallback: pass 2 in groups of {group} pairs ({} MiB each): {ms:.0} ms, {passes} Reed-Solomon passes; \
             metadata + pass 2 = {:.0} ms = {:.2}x the full encode",
            (group * encoder.pair_bytes()) >> 20,
            metadata_ms + ms,
            (metadata_ms + ms) / full_ms
        );
    }
}
