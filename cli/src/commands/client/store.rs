//! `floe store FILE... [--epochs N|max] [--permanent] [--share] [--force] [--yes]`

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use floe_chain::sui_sdk_types::Address;
use floe_client::{Epochs, PlannedAction, StoreOptions, StoreResult};
use serde::Serialize;

use super::{ConfigArg, confirm, print_json, progress_bars, wal};
use crate::output::human_bytes;

/// Arguments of `floe store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Files to store (one blob each).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Epochs to store for, from the current one, or `max`.
    #[arg(long, default_value = "1")]
    epochs: Epochs,
    /// Store a permanent blob (cannot be deleted); default is deletable.
    #[arg(long)]
    permanent: bool,
    /// Wrap each stored blob in a SharedBlob anyone can fund.
    #[arg(long, conflicts_with = "send_object_to")]
    share: bool,
    /// Transfer the Blob objects to this address.
    #[arg(long)]
    send_object_to: Option<Address>,
    /// Store even if the blob is already certified for long enough.
    #[arg(long)]
    force: bool,
    /// Pay without asking.
    #[arg(long, short)]
    yes: bool,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileResult {
    path: PathBuf,
    blob_id: String,
    #[serde(flatten)]
    result: StoreResult,
}

/// Runs `floe store`.
pub async fn run(args: StoreArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let mut results = Vec::new();
    for path in &args.files {
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let bars = progress_bars(json);
        let options = StoreOptions {
            epochs: args.epochs,
            permanent: args.permanent,
            force: args.force,
            share: args.share,
            send_object_to: args.send_object_to,
            progress: bars.callback.clone(),
            ..StoreOptions::default()
        };
        let plan = client
            .plan_store(data, options)
            .await
            .with_context(|| format!("storing {}", path.display()))?;
        if let Some(why) = &plan.spill_refused {
            bars.suspend(|| eprintln!("warning: {why}"));
        }
        if let PlannedAction::Store { cost, operation } = &plan.action {
            let question = format!(
                "store {} ({}, encoded {}) until epoch {} for {} (storage {}, write {}; {})?",
                path.display(),
                human_bytes(plan.unencoded_length),
                human_bytes(plan.encoded_length),
                plan.end_epoch,
                wal(cost.total()),
                wal(cost.storage),
                wal(cost.write),
                operation.describe(),
            );
            bars.suspend(|| {
                if !json {
                    eprintln!("blob {}", plan.blob_id);
                }
                confirm(&question, args.yes)
            })?;
        }
        let result = client
            .execute_store(plan)
            .await
            .with_context(|| format!("storing {}", path.display()))?;
        bars.finish();
        if !json {
            print_human(path, &result);
        }
        results.push(FileResult {
            path: path.clone(),
            blob_id: result.blob_id().to_string(),
            result,
        });
    }
    if json {
        print_json(&results)?;
    }
    Ok(())
}

fn print_human(path: &std::path::Path, result: &StoreResult) {
    match result {
        StoreResult::NewlyCreated {
            blob_object,
            cost,
            shared_blob_object,
            ..
        } => {
            println!("{}", blob_object.blob_id);
            println!(
                "  {}: stored {} until epoch {} ({}), object {}, paid {}",
                path.display(),
                human_bytes(blob_object.size),
                blob_object.end_epoch(),
                if blob_object.deletable {
                    "deletable"
                } else {
                    "permanent"
                },
                blob_object.id,
                wal(*cost)
            );
            if let Some(shared) = shared_blob_object {
                println!("  shared blob object {shared}");
            }
        }
        StoreResult::AlreadyCertified {
            blob_id,
            object,
            end_epoch,
        } => {
            println!("{blob_id}");
            println!(
                "  {}: already certified until epoch {end_epoch}{}; nothing paid",
                path.display(),
                object.map(|o| format!(" (object {o})")).unwrap_or_default()
            );
        }
    }
}
