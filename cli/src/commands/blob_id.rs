//! `floe blob-id FILE`: the blob id Walrus would give the same bytes.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use floe_core::encoding::Axis;
use floe_core::{EncodingConfig, compute_metadata};
use serde::Serialize;

use crate::output::human_bytes;

/// Arguments of `floe blob-id`.
#[derive(Debug, Args)]
pub struct BlobIdArgs {
    /// The file to identify; `-` reads standard input.
    pub file: PathBuf,
    /// Number of shards of the committee the blob is encoded for.
    #[arg(long, default_value_t = 1000)]
    pub n_shards: u16,
    /// Also list the hashes of all 2n slivers (hex), as in the metadata.
    #[arg(long)]
    pub sliver_hashes: bool,
}

#[derive(Debug, Serialize)]
struct BlobIdReport {
    blob_id: String,
    unencoded_length: u64,
    n_shards: u16,
    symbol_size: u16,
    primary_sliver_len: usize,
    secondary_sliver_len: usize,
    root_hash: String,
    encoded_length: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sliver_pair_hashes: Option<Vec<[String; 2]>>,
}

/// Holds the input bytes: a memory map for files (no copy of a large blob),
/// a buffer for stdin.
enum Input {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Input {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Owned(v) => v,
        }
    }
}

fn read_input(path: &PathBuf, max: u64) -> anyhow::Result<Input> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        // Read one byte past the maximum so an oversized stream is detected
        // without buffering all of it.
        std::io::stdin()
            .lock()
            .take(max.saturating_add(1))
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        return Ok(Input::Owned(buf));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if meta.is_dir() {
        bail!("{} is a directory; give a file", path.display());
    }
    if meta.len() == 0 {
        return Ok(Input::Owned(Vec::new()));
    }
    if meta.len() > max {
        bail!(
            "{} is {} bytes, above the maximum blob size of {max} bytes",
            path.display(),
            meta.len()
        );
    }
    // SAFETY: the map is read-only and lives while we hash; a concurrent
    // writer could change the bytes under us, which would give a wrong id but
    // cannot violate memory safety for a `&[u8]` of plain bytes.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .with_context(|| format!("cannot map {}", path.display()))?;
    Ok(Input::Mapped(map))
}

/// Blobs at least this large get a spinner while they are encoded.
const SPINNER_MIN_BYTES: u64 = 64 << 20;

/// A spinner on stderr for long encodes, only when a person is watching.
fn progress_spinner(len: u64, n_shards: u16, json: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if json || len < SPINNER_MIN_BYTES || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(format!(
        "encoding {} for {n_shards} shards",
        human_bytes(len)
    ));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// Runs the command.
pub fn run(args: BlobIdArgs, json: bool) -> anyhow::Result<()> {
    let config = EncodingConfig::new(args.n_shards)
        .with_context(|| format!("invalid --n-shards {}", args.n_shards))?;
    let max = config.max_blob_size();
    let size_on_disk = if args.file.as_os_str() == "-" {
        None
    } else {
        std::fs::metadata(&args.file).ok().map(|m| m.len())
    };
    if let Some(len) = size_on_disk
        && len > max
    {
        bail!(
            "{} is {} ({len} bytes), too large for {} shards: the maximum blob size is {} ({max} bytes)",
            args.file.display(),
            human_bytes(len),
            args.n_shards,
            human_bytes(max),
        );
    }
    let input = read_input(&args.file, max)?;
    let data = input.bytes();
    if data.len() as u64 > max {
        bail!(
            "standard input holds more than {max} bytes, too large for {} shards: the maximum blob size is {} ({max} bytes)",
            args.n_shards,
            human_bytes(max),
        );
    }
    let spinner = progress_spinner(data.len() as u64, args.n_shards, json);
    let result = compute_metadata(&config, data);
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let metadata = result.with_context(|| {
        format!(
            "cannot encode {} for {} shards (maximum blob size {} = {max} bytes)",
            args.file.display(),
            args.n_shards,
            human_bytes(max)
        )
    })?;
    let len = data.len() as u64;
    let symbol_size = config.symbol_size_for(len)?;
    let report = BlobIdReport {
        blob_id: metadata.blob_id().to_string(),
        unencoded_length: len,
        n_shards: args.n_shards,
        symbol_size,
        primary_sliver_len: config.sliver_len(Axis::Primary, symbol_size),
        secondary_sliver_len: config.sliver_len(Axis::Secondary, symbol_size),
        root_hash: hex::encode(metadata.metadata().root_hash().bytes()),
        encoded_length: config.encoded_blob_length(len)?,
        sliver_pair_hashes: args.sliver_hashes.then(|| {
            metadata
                .metadata()
                .hashes()
                .iter()
                .map(|h| {
                    [
                        hex::encode(h.primary_hash.bytes()),
                        hex::encode(h.secondary_hash.bytes()),
                    ]
                })
                .collect()
        }),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.blob_id);
        eprintln!(
            "  size {} ({} bytes), {} shards, symbol size {} B, encoded size {}",
            human_bytes(len),
            len,
            report.n_shards,
            report.symbol_size,
            human_bytes(report.encoded_length),
        );
        if let Some(hashes) = &report.sliver_pair_hashes {
            for (i, [p, s]) in hashes.iter().enumerate() {
                println!("pair {i}: primary {p} secondary {s}");
            }
        }
    }
    Ok(())
}
