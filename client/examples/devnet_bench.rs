//! Store and read throughput and latency against a running network, with
//! the share of each phase: encoding, chain (plan reads, register,
//! certify) and network (uploads to confirmations, downloads).
//!
//! ```sh
//! cargo run --release -p floe-client --example devnet_bench -- \
//!     --config DIR/client.yaml --sizes 1024,1048576 --runs 5
//! ```
//! `scripts/bench/devnet-store-read.sh` starts a devnet and runs this.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use floe_client::{Client, ClientConfig, Epochs, Progress, StoreOptions, StoreResult};
use rand::RngCore;

/// Timestamps of the progress events of one operation.
#[derive(Default)]
struct Marks {
    encoding: Option<Instant>,
    encoded: Option<Instant>,
    upload_started: Option<Instant>,
    quorum: Option<Instant>,
    download_started: Option<Instant>,
    decoding: Option<Instant>,
}

fn recorder(marks: Arc<Mutex<Marks>>) -> floe_client::ProgressFn {
    Arc::new(move |event| {
        let now = Instant::now();
        let mut m = marks.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Progress::Encoding { .. } => m.encoding = Some(now),
            Progress::Encoded => m.encoded = Some(now),
            Progress::UploadStarted { .. } => m.upload_started = Some(now),
            // The first time confirmations weigh a quorum, certification
            // (a chain step) begins.
            Progress::Confirmed { weight, n_shards }
                if m.quorum.is_none()
                    && floe_core::committee::is_quorum(weight, u32::from(n_shards)) =>
            {
                m.quorum = Some(now)
            }
            Progress::DownloadStarted { .. } => m.download_started = Some(now),
            Progress::Decoding => m.decoding = Some(now),
            _ => {}
        }
    })
}

fn span(a: Option<Instant>, b: Option<Instant>) -> Duration {
    match (a, b) {
        (Some(a), Some(b)) if b >= a => b - a,
        _ => Duration::ZERO,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config_path = None;
    let mut sizes = vec![1024usize, 1 << 20];
    let mut runs = 5usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config_path = args.next(),
            "--sizes" => {
                sizes = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|s| s.parse())
                    .collect::<Result<_, _>>()?
            }
            "--runs" => runs = args.next().unwrap_or_default().parse()?,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let path = config_path.ok_or_else(|| anyhow::anyhow!("--config FILE is required"))?;
    let client = Client::connect(ClientConfig::load(std::path::Path::new(&path))?).await?;
    println!(
        "| size | op | runs | p50 ms | p95 ms | MiB/s (p50) | encode | chain | network | decode |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &size in &sizes {
        let mut store_total = Vec::new();
        let mut read_total = Vec::new();
        let (mut enc, mut chain, mut net) = (0.0, 0.0, 0.0);
        let (mut rnet, mut rdec) = (0.0, 0.0);
        for _ in 0..runs {
            let mut blob = vec![0u8; size];
            rand::rng().fill_bytes(&mut blob);
            let marks = Arc::new(Mutex::new(Marks::default()));
            let options = StoreOptions {
                epochs: Epochs::Ahead(1),
                progress: Some(recorder(marks.clone())),
                ..StoreOptions::default()
            };
            let start = Instant::now();
            let result = client.store(blob.clone(), options).await?;
            let total = start.elapsed();
            anyhow::ensure!(
                matches!(result, StoreResult::NewlyCreated { .. }),
                "random bytes were already stored?"
            );
            let blob_id = result.blob_id();
            {
                // A block, not drop(): clippy's await_holding_lock does not
                // see an explicit drop before the next await.
                let m = marks.lock().unwrap_or_else(|p| p.into_inner());
                let encode = span(m.encoding, m.encoded);
                let network = span(m.upload_started, m.quorum);
                enc += ms(encode);
                net += ms(network);
                chain += ms(total.saturating_sub(encode + network));
                store_total.push(ms(total));
            }

            let marks = Arc::new(Mutex::new(Marks::default()));
            let start = Instant::now();
            let back = client.read(&blob_id, Some(recorder(marks.clone()))).await?;
            let total = start.elapsed();
            anyhow::ensure!(back == blob, "read back different bytes for {blob_id}");
            let m = marks.lock().unwrap_or_else(|p| p.into_inner());
            let decode = m.decoding.map(|d| start + total - d).unwrap_or_default();
            rdec += ms(decode);
            rnet += ms(total.saturating_sub(decode));
            read_total.push(ms(total));
        }
        for (op, mut totals, shares) in [
            ("store", store_total, [enc, chain, net, 0.0]),
            ("read", read_total, [0.0, 0.0, rnet, rdec]),
        ] {
            totals.sort_by(f64::total_cmp);
            let p50 = percentile(&totals, 0.5);
            let sum: f64 = totals.iter().sum();
            let pct = |x: f64| format!("{:.0}%", 100.0 * x / sum);
            println!(
                "| {} | {op} | {runs} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} |",
                human(size),
                p50,
                percentile(&totals, 0.95),
                size as f64 / (1 << 20) as f64 / (p50 / 1e3),
                pct(shares[0]),
                pct(shares[1]),
                pct(shares[2]),
                pct(shares[3]),
            );
        }
    }
    Ok(())
}

fn human(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}
