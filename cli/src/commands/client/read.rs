//! `floe read BLOB_ID [--range A-B] [--out FILE]` and `floe blob-status BLOB_ID`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use floe_client::NodeBlobStatus;
use floe_core::BlobId;

use super::{ConfigArg, print_json, progress_bars};
use crate::output::human_bytes;

/// Arguments of `floe read`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The blob id (ids may start with `-`; they are still read as the id).
    #[arg(allow_hyphen_values = true)]
    blob_id: BlobId,
    /// Write the blob here instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Read only these bytes, fetching only the slivers that hold them:
    /// `A-B` (bytes A to B, both included, counted from 0), `A-` (from A to
    /// the end) or `-N` (the last N bytes). A range past the end is an
    /// error that says the blob's length.
    #[arg(long, value_name = "A-B", allow_hyphen_values = true)]
    range: Option<RangeArg>,
    #[command(flatten)]
    config: ConfigArg,
}

/// `--range`: the forms of an HTTP `bytes=` range spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeArg {
    /// `A-B` or `A-`.
    From { first: u64, last: Option<u64> },
    /// `-N`.
    Last(u64),
}

impl std::str::FromStr for RangeArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let number = |part: &str| -> Result<u64, String> {
            part.trim().parse::<u64>().map_err(|_| {
                format!("{part:?} is not a byte position; use A-B, A- or -N (e.g. 0-1023)")
            })
        };
        let (first, last) = s
            .split_once('-')
            .ok_or_else(|| format!("{s:?} is not a range; use A-B, A- or -N (e.g. 0-1023)"))?;
        let range = match (first.trim().is_empty(), last.trim().is_empty()) {
            (true, true) => return Err("an empty range; use A-B, A- or -N".to_owned()),
            (true, false) => RangeArg::Last(number(last)?),
            (false, true) => RangeArg::From {
                first: number(first)?,
                last: None,
            },
            (false, false) => RangeArg::From {
                first: number(first)?,
                last: Some(number(last)?),
            },
        };
        if let RangeArg::From {
            first,
            last: Some(last),
        } = range
            && last < first
        {
            return Err(format!(
                "the range ends ({last}) before it starts ({first})"
            ));
        }
        Ok(range)
    }
}

impl RangeArg {
    /// `start..end` (end exclusive) of a blob of `len` bytes; the SDK
    /// refuses ends past `len`.
    pub fn resolve(self, len: u64) -> std::ops::Range<u64> {
        match self {
            RangeArg::From { first, last } => {
                first..last.map_or(len, |last| last.saturating_add(1))
            }
            RangeArg::Last(n) => len - n.min(len)..len,
        }
    }
}

/// Runs `floe read`.
pub async fn run(args: ReadArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let bars = progress_bars(json || args.out.is_none());
    let (data, range) = match args.range {
        None => (
            client.read(&args.blob_id, bars.callback.clone()).await?,
            None,
        ),
        Some(range) => {
            let reader = client.open_blob(&args.blob_id).await?;
            let range = range.resolve(reader.len());
            let data = reader
                .read_range(range.clone(), bars.callback.clone())
                .await
                .context("reading the range")?;
            (data, Some(range))
        }
    };
    bars.finish();
    let range_json = range
        .as_ref()
        .map(|r| serde_json::json!({ "start": r.start, "end": r.end }));
    match &args.out {
        Some(path) => {
            std::fs::write(path, &data).with_context(|| format!("writing {}", path.display()))?;
            if json {
                print_json(&serde_json::json!({
                    "blobId": args.blob_id.to_string(),
                    "out": path,
                    "size": data.len(),
                    "range": range_json,
                }))?;
            } else {
                let part = range
                    .map(|r| format!("bytes {}..{} of ", r.start, r.end))
                    .unwrap_or_default();
                eprintln!(
                    "read {part}{} ({}) into {}",
                    args.blob_id,
                    human_bytes(data.len() as u64),
                    path.display()
                );
            }
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&data)?;
            stdout.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::RangeArg;

    #[test]
    fn range_forms() {
        let parse = |s: &str| s.parse::<RangeArg>();
        assert_eq!(parse("0-9").unwrap().resolve(100), 0..10);
        assert_eq!(parse(" 5 - ").unwrap().resolve(100), 5..100);
        assert_eq!(parse("-10").unwrap().resolve(100), 90..100);
        assert_eq!(parse("-1000").unwrap().resolve(100), 0..100);
        // Past the end stays past the end: the SDK says the length.
        assert_eq!(parse("50-200").unwrap().resolve(100), 50..201);
        assert_eq!(
            parse("0-18446744073709551615").unwrap().resolve(1),
            0..u64::MAX
        );
        for bad in ["", "-", "5", "a-b", "9-3", "1-2-3", "--1"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}

/// Arguments of `floe blob-status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The blob id (ids may start with `-`; they are still read as the id).
    #[arg(allow_hyphen_values = true)]
    blob_id: BlobId,
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs `floe blob-status`.
pub async fn status(args: StatusArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let report = client.blob_status(&args.blob_id).await?;
    let owned = match client.address() {
        Ok(_) => client.owned_objects_of(&args.blob_id).await?,
        Err(_) => Vec::new(),
    };
    if json {
        return print_json(&serde_json::json!({
            "blobId": args.blob_id.to_string(),
            "status": report,
            "ownedObjects": owned,
        }));
    }
    println!("blob {}", args.blob_id);
    let agreed = if report.agreed.is_some() {
        ""
    } else {
        " (nodes disagree; most common answer)"
    };
    match report.best_effort {
        None | Some(NodeBlobStatus::Nonexistent) => println!("  status: nonexistent{agreed}"),
        Some(NodeBlobStatus::Invalid {}) => println!("  status: invalid{agreed}"),
        Some(NodeBlobStatus::Permanent {
            end_epoch,
            is_certified,
            deletable_counts,
            ..
        }) => println!(
            "  status: permanent, {} until epoch {end_epoch}; deletable objects: {} ({} certified){agreed}",
            if is_certified {
                "certified"
            } else {
                "registered"
            },
            deletable_counts.count_deletable_total,
            deletable_counts.count_deletable_certified
        ),
        Some(NodeBlobStatus::Deletable {
            deletable_counts, ..
        }) => println!(
            "  status: deletable objects: {} ({} certified){agreed}",
            deletable_counts.count_deletable_total, deletable_counts.count_deletable_certified
        ),
    }
    println!(
        "  epoch {}, {} of {} shards answered",
        report.epoch, report.answered_shards, report.n_shards
    );
    for b in owned {
        println!(
            "  owned object {}: {}, {}, until epoch {}",
            b.id,
            if b.deletable {
                "deletable"
            } else {
                "permanent"
            },
            match b.certified_epoch {
                Some(e) => format!("certified in epoch {e}"),
                None => "not certified".to_owned(),
            },
            b.end_epoch()
        );
    }
    Ok(())
}
