//! Encoding benchmarks (criterion).
//!
//! `cargo bench -p floe-core --bench encoding` runs everything;
//! `FLOE_BENCH_LARGE=1` adds the 256 MiB cases (slow, about 4 GiB of RAM).
//!
//! Besides floe's own functions this measures the *floor*: the work RS2
//! cannot avoid, done with the same libraries in their most favourable form
//! and spread over all cores — the `reed-solomon-simd` calls for `k_p` row
//! codewords and `n` column codewords with every codeword of a stage in one
//! big shard set, and Blake2b over the `n x n` expanded symbols (leaves) plus
//! the `2n` Merkle trees, with the SIMD many-input hasher on contiguous
//! inputs. BENCHMARKS.md compares floe with it.

use std::hint::black_box;

use blake2b_simd::Params;
use blake2b_simd::many::{HashManyJob, hash_many};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use floe_core::encoding::decoder::ConsistencyCheck;
use floe_core::encoding::{PrimarySliver, decode_primary};
use floe_core::{EncodingConfig, compute_metadata, encode_blob};
use rayon::prelude::*;

const MIB: usize = 1 << 20;

fn blob(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sizes() -> Vec<(usize, u16, &'static str)> {
    let n10_max = EncodingConfig::new(10).unwrap().max_blob_size() as usize;
    let mut v = vec![
        (MIB, 1000, "1MiB"),
        (16 * MIB, 1000, "16MiB"),
        (64 * MIB, 1000, "64MiB"),
        (n10_max, 10, "n10-max"),
    ];
    if std::env::var_os("FLOE_BENCH_LARGE").is_some() {
        v.push((256 * MIB, 1000, "256MiB"));
    }
    v
}

/// The Reed-Solomon work RS2 needs, in the crate's most efficient form:
/// stage 1 encodes `k_p` rows (k = k_s), stage 2 encodes `n` columns
/// (k = k_p); each stage is split over the cores, each part one call with
/// shards holding all of its codewords side by side.
fn rs_floor(config: &EncodingConfig, symbol_size: usize, inputs: &RsInputs) {
    let n = config.n();
    let k_p = usize::from(config.n_primary_source_symbols());
    let k_s = usize::from(config.n_secondary_source_symbols());
    let parts = rayon::current_num_threads();
    // Stage 1: k_p row codewords; stage 2: n column codewords.
    for (k, codewords, shards) in [(k_s, k_p, &inputs.stage1), (k_p, n, &inputs.stage2)] {
        let per_part = codewords.div_ceil(parts);
        shards.par_iter().for_each(|part| {
            let shard_bytes = (per_part * symbol_size).div_ceil(64) * 64;
            let mut enc =
                reed_solomon_simd::ReedSolomonEncoder::new(k, n - k, shard_bytes).unwrap();
            for i in 0..k {
                enc.add_original_shard(&part[i * shard_bytes..(i + 1) * shard_bytes])
                    .unwrap();
            }
            black_box(enc.encode().unwrap().recovery(0).map(|r| r[0]));
        });
    }
}

struct RsInputs {
    stage1: Vec<Vec<u8>>,
    stage2: Vec<Vec<u8>>,
}

fn rs_inputs(config: &EncodingConfig, symbol_size: usize) -> RsInputs {
    let n = config.n();
    let k_p = usize::from(config.n_primary_source_symbols());
    let k_s = usize::from(config.n_secondary_source_symbols());
    let parts = rayon::current_num_threads();
    let make = |k: usize, codewords: usize| {
        let per_part = codewords.div_ceil(parts);
        let shard_bytes = (per_part * symbol_size).div_ceil(64) * 64;
        (0..parts).map(|_| blob(k * shard_bytes)).collect()
    };
    RsInputs {
        stage1: make(k_s, k_p),
        stage2: make(k_p, n),
    }
}

/// Blake2b-256 over `n^2` leaves of `1 + symbol_size` bytes (contiguous) and
/// the inner nodes of `2n` trees of `n` leaves, over all cores.
fn hash_floor(n: usize, leaves: &[u8], symbol_size: usize) {
    let mut params = Params::new();
    params.hash_length(32);
    let leaf_len = 1 + symbol_size;
    let per_tree = n * leaf_len;
    // Leaves: each column's n leaves hashed with the many-input API.
    (0..n).into_par_iter().for_each(|_j| {
        let chunk = &leaves[..per_tree];
        let mut jobs: Vec<HashManyJob<'_>> = chunk
            .chunks_exact(leaf_len)
            .map(|leaf| HashManyJob::new(&params, leaf))
            .collect();
        hash_many(jobs.iter_mut());
        black_box(jobs[0].to_hash());
    });
    // Inner nodes: 2n trees with about n - 1 inner nodes each (65-byte inputs).
    let inner = vec![1u8; 65 * n];
    (0..2 * n).into_par_iter().for_each(|_t| {
        let mut remaining = n;
        while remaining > 1 {
            let parents = remaining.div_ceil(2);
            let mut jobs: Vec<HashManyJob<'_>> = inner[..65 * parents]
                .chunks_exact(65)
                .map(|x| HashManyJob::new(&params, x))
                .collect();
            hash_many(jobs.iter_mut());
            black_box(jobs[0].to_hash());
            remaining = parents;
        }
    });
}

fn bench_encoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.sample_size(10);
    for (len, n, label) in sizes() {
        let config = EncodingConfig::new(n).unwrap();
        let data = blob(len);
        let symbol_size = usize::from(config.symbol_size_for(len as u64).unwrap());
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("blob_id", label), &data, |b, d| {
            b.iter(|| black_box(compute_metadata(&config, d).unwrap()))
        });
        group.bench_with_input(
            BenchmarkId::new("encode_with_metadata", label),
            &data,
            |b, d| b.iter(|| black_box(encode_blob(&config, d).unwrap())),
        );
        let inputs = rs_inputs(&config, symbol_size);
        group.bench_function(BenchmarkId::new("floor_reed_solomon", label), |b| {
            b.iter(|| rs_floor(&config, symbol_size, &inputs))
        });
        let leaves = blob(config.n() * (1 + symbol_size));
        group.bench_function(BenchmarkId::new("floor_blake2b", label), |b| {
            b.iter(|| hash_floor(config.n(), &leaves, symbol_size))
        });
    }
    group.finish();
}

fn bench_decoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    for (len, n, label) in sizes() {
        if len > 64 * MIB {
            continue;
        }
        let config = EncodingConfig::new(n).unwrap();
        let data = blob(len);
        let encoded = encode_blob(&config, &data).unwrap();
        let k_p = usize::from(config.n_primary_source_symbols());
        // The worst case: only repair slivers (the last k_p rows).
        let slivers: Vec<PrimarySliver> = encoded.primary[config.n() - k_p..].to_vec();
        group.throughput(Throughput::Bytes(len as u64));
        for (name, check) in [
            ("primary_skip_check", ConsistencyCheck::Skip),
            ("primary_default_check", ConsistencyCheck::Default),
        ] {
            group.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter(|| {
                    black_box(decode_primary(&config, &encoded.metadata, &slivers, check).unwrap())
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_encoding, bench_decoding);
criterion_main!(benches);
