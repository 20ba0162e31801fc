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
    println!(
        "epoch {}{} ({}); epochs last {}{}",
        info.epoch,
        match info.epoch_start_ms {
            Some(ms) => format!(" since {}", date(ms)),
            None => String::new(),
        },
        match info.epoch_state.as_str() {
            "EpochChangeSync" => "epoch change in progress: nodes are syncing shards",
            "NextParamsSelected" => "next committee selected",
            _ => "running",
        },
        humantime::format_duration(std::time::Duration::from_millis(info.epoch_duration_ms)),
        match info.next_epoch_change_ms {
            Some(ms) => format!("; next epoch from {}", date(ms)),
            None => String::new(),
        }
    );
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
            "  {} {}  shards {}  stake {}  commission {}%  {}",
            member.name.as_deref().unwrap_or("node"),
            member.node_id,
            shard_ranges(&member.shards),
            member.stake.map_or("?".to_owned(), wal),
            member
                .commission_rate_bps
                .map_or("?".to_owned(), |bps| format!(
                    "{:.2}",
                    f64::from(bps) / 100.0
                )),
            endpoint_text(member)
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

/// Where a member is reached, as read from chain (or overridden).
fn endpoint_text(member: &floe_client::ops::MemberInfo) -> String {
    match (&member.url, &member.endpoint_error) {
        (Some(url), _) if member.url_overridden => format!("{url} (node_overrides)"),
        (Some(url), _) => url.clone(),
        (None, Some(error)) => format!("(no endpoint: {error})"),
        (None, None) => "(no endpoint)".to_owned(),
    }
}

/// An RFC 3339 date (UTC, seconds) from ms since the Unix epoch.
pub fn date(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// `0-3, 7, 9-10` from ascending shard ids.
fn shard_ranges(shards: &[u16]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < shards.len() {
        let start = shards[i];
        let mut end = start;
        while i + 1 < shards.len() && shards[i + 1] == end.saturating_add(1) {
            i += 1;
            end = shards[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges_compress_runs() {
        assert_eq!(shard_ranges(&[0, 1, 2, 3, 7, 9, 10]), "0-3, 7, 9-10");
        assert_eq!(shard_ranges(&[]), "none");
        assert_eq!(shard_ranges(&[5]), "5");
        assert_eq!(date(0), "1970-01-01T00:00:00Z");
    }
}
