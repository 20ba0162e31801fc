//! `floe read BLOB_ID [--out FILE]` and `floe blob-status BLOB_ID`.

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
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs `floe read`.
pub async fn run(args: ReadArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let bars = progress_bars(json || args.out.is_none());
    let data = client.read(&args.blob_id, bars.callback.clone()).await?;
    bars.finish();
    match &args.out {
        Some(path) => {
            std::fs::write(path, &data).with_context(|| format!("writing {}", path.display()))?;
            if json {
                print_json(&serde_json::json!({
                    "blobId": args.blob_id.to_string(),
                    "out": path,
                    "size": data.len(),
                }))?;
            } else {
                eprintln!(
                    "read {} ({}) into {}",
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
