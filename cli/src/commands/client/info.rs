//! `floe info [--size BYTES --epochs N]`

use anyhow::Result;
use clap::Args;

use super::{ConfigArg, print_json, wal};
use crate::output::human_bytes;

/// Arguments of `floe info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Also price storing this many (unencoded) bytes.
    #[arg(long)]
    size: Option<u64>,
    /// Epochs for the price of --size.
    #[arg(long, default_value_t = 1, requires = "size")]
    epochs: u32,
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs `floe info`.
pub async fn run(args: InfoArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let info = client.system_info().await?;
    let cost = match args.size {
        Some(size) => Some(client.cost_of(size, args.epochs).await?),
        None => None,
    };
    if json {
        return print_json(&serde_json::json!({ "system": info, "cost": cost }));
    }
    println!("epoch {}", info.epoch);
    println!(
        "  {} shards, {} members; max blob size {}; storage sold up to {} epochs ahead",
        info.n_shards,
        info.committee.len(),
        human_bytes(info.max_blob_size),
        info.max_epochs_ahead
    );
    println!(
        "  prices: storage {} per MiB (encoded) per epoch, write {} per MiB once",
        wal(info.storage_price_per_unit_size),
        wal(info.write_price_per_unit_size)
    );
    println!(
        "  capacity: {} used of {}",
        human_bytes(info.used_capacity_size),
        human_bytes(info.total_capacity_size)
    );
    for member in &info.committee {
        println!(
            "  node {}  shards {}..{}  {}",
            member.node_id,
            member.shards.start,
            member.shards.end,
            member
                .url
                .as_deref()
                .unwrap_or("(no URL in the client config)")
        );
    }
    if let Some(c) = cost {
        println!(
            "cost of {} (encoded {}) for {} epochs: {} (storage {}, write {})",
            human_bytes(c.unencoded_size),
            human_bytes(c.encoded_size),
            c.epochs,
            wal(c.cost.total()),
            wal(c.cost.storage),
            wal(c.cost.write)
        );
    }
    Ok(())
}
