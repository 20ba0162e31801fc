//! Known answers from the official Walrus encoder (`@mysten/walrus-wasm` 0.3.0),
//! copied from the shared vectors into `tests/data/walrus-blob-ids.json`.

use floe_core::encoding::EncodingError;
use floe_core::{EncodingConfig, compute_metadata, encode_blob};
use rand_mt::Mt;
use serde_json::Value;

fn cases() -> Vec<Value> {
    let text = include_str!("data/walrus-blob-ids.json");
    let doc: Value = serde_json::from_str(text).expect("vector file is JSON");
    doc["cases"].as_array().expect("cases array").clone()
}

/// Python's `random.Random(42)`: MT19937 seeded by `init_by_array([42])`.
struct PyRandom(Mt);

impl PyRandom {
    fn new(seed: u32) -> Self {
        PyRandom(Mt::new_with_key([seed]))
    }

    /// `randbytes(n)` = `getrandbits(8n).to_bytes(n, "little")`: 32-bit words
    /// little-endian, the last partial word taking the word's high bits.
    fn randbytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        let mut bits = n * 8;
        while bits > 0 {
            let mut word = self.0.next_u32();
            if bits < 32 {
                word >>= 32 - bits;
            }
            let take = bits.min(32) / 8;
            out.extend_from_slice(&word.to_le_bytes()[..take]);
            bits -= take * 8;
        }
        out
    }
}

fn inputs() -> Vec<(Value, Vec<u8>)> {
    let mut py = PyRandom::new(42);
    let mut py_cache: Vec<(u64, Vec<u8>)> = Vec::new();
    for size in [0u64, 1, 1024, 1_048_576, 10_485_760] {
        py_cache.push((size, py.randbytes(size as usize)));
    }
    cases()
        .into_iter()
        .map(|case| {
            let data = match case["gen"].as_str().expect("gen") {
                "ascii" => case["text"].as_str().expect("text").as_bytes().to_vec(),
                "hex" => hex::decode(case["hex"].as_str().expect("hex")).expect("hex bytes"),
                "gen" => {
                    let size = case["size"].as_u64().expect("size") as usize;
                    (0..size).map(|i| ((i * 7 + 13) & 0xff) as u8).collect()
                }
                "zeros" => vec![0u8; case["size"].as_u64().expect("size") as usize],
                "py_random" => {
                    let size = case["size"].as_u64().expect("size");
                    py_cache
                        .iter()
                        .find(|(s, _)| *s == size)
                        .expect("py_random size is one of the generated ones")
                        .1
                        .clone()
                }
                other => panic!("unknown generator {other}"),
            };
            (case, data)
        })
        .collect()
}

#[test]
fn every_shared_vector_gives_the_official_blob_id() {
    let all = inputs();
    assert!(all.len() >= 20, "expected the whole vector file");
    for (case, data) in all {
        let n = case["n_shards"].as_u64().expect("n_shards") as u16;
        let config = EncodingConfig::new(n).expect("valid n");
        let metadata = compute_metadata(&config, &data).expect("encodes");
        assert_eq!(
            metadata.blob_id().to_string(),
            case["blob_id"].as_str().expect("blob_id"),
            "case {case}"
        );
        if let Some(sym) = case["symbol_size"].as_u64() {
            let s = config.symbol_size_for(data.len() as u64).expect("size");
            assert_eq!(u64::from(s), sym, "case {case}");
            assert_eq!(
                config.primary_sliver_len(s) as u64,
                case["primary_sliver_len"].as_u64().expect("len"),
            );
            assert_eq!(
                config.secondary_sliver_len(s) as u64,
                case["secondary_sliver_len"].as_u64().expect("len"),
            );
        }
        if case.get("note").is_some() {
            // The largest blob for n: one more byte is rejected with the maximum named.
            let mut bigger = data.clone();
            bigger.push(0);
            let err = compute_metadata(&config, &bigger).expect_err("one byte over the maximum");
            assert!(
                matches!(err, EncodingError::BlobTooLarge { max, .. } if max == data.len() as u64),
                "{err}"
            );
            assert!(err.to_string().contains(&data.len().to_string()));
        }
    }
}

#[test]
fn full_encoding_agrees_with_metadata_only_path() {
    for (case, data) in inputs() {
        if data.len() > 1 << 20 {
            continue;
        }
        let n = case["n_shards"].as_u64().expect("n") as u16;
        let config = EncodingConfig::new(n).expect("valid n");
        let encoded = encode_blob(&config, &data).expect("encodes");
        assert_eq!(
            encoded.metadata.blob_id().to_string(),
            case["blob_id"].as_str().expect("blob_id")
        );
    }
}
