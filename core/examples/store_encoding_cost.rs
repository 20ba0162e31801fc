//! CPU cost of a store's encoding: one full encode (every sliver kept) against
//! a metadata pass that keeps no sliver plus the pairs produced in groups
//! (what `floe-client` does for blobs whose slivers exceed its buffer).
//!
//! `cargo run --example store_encoding_cost -- [SIZE_MIB] [N_SHARDS] [GROUP_PAIRS...]`
//! (defaults: 100 MiB, n = 100, groups of 6, 12, 24 and 100 pairs). Pairs are
//! produced in the order the client's feed does (copies, then pairs needing
//! the row pass, then the column pass), `GROUP_PAIRS` at a time.

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

    let encoder = PairEncoder::new(&config, blob.as_slice()).expect("fits");
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
            "pass 2 in groups of {group} pairs ({} MiB each): {ms:.0} ms, {passes} Reed-Solomon passes; \
             metadata + pass 2 = {:.0} ms = {:.2}x the full encode",
            (group * encoder.pair_bytes()) >> 20,
            metadata_ms + ms,
            (metadata_ms + ms) / full_ms
        );
    }
}
