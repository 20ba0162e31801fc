//! `floe payments [--epoch N] [--coordinator URL]`: the coordinator's
//! reconciliation of what each epoch paid, as a table.
//!
//! It reads the coordinator's `/status` rather than recomputing from the
//! chain: the coordinator is the component that follows every epoch
//! change (it reconciles from the change's own checkpoint, which holds
//! every touched object before and after), so asking it is one HTTP
//! request, and the table printed here is exactly the one it judged and
//! alerted on. The coordinator is found with `--coordinator`, else
//! `$FLOE_COORDINATOR_URL`, else the `coordinator_url` of the devnet
//! manifest (`devnet.json`) beside the client config.
//!
//! Exits with an error after printing when a shown epoch has a mismatch,
//! so scripts can rely on the exit status.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use floe_coordinator::reconcile::EpochReport;
use floe_coordinator::status::StatusView;

use super::client::info::date;
use super::client::{ConfigArg, print_json, wal};

/// Longest answer accepted from the coordinator.
const MAX_STATUS_BYTES: usize = 32 << 20;

/// Arguments of `floe payments`.
#[derive(Debug, Args)]
pub struct PaymentsArgs {
    /// Only this (ended) epoch; default: every epoch the coordinator keeps.
    #[arg(long)]
    epoch: Option<u32>,
    /// The coordinator's base URL (default: $FLOE_COORDINATOR_URL, else
    /// the devnet's).
    #[arg(long, env = "FLOE_COORDINATOR_URL", value_name = "URL")]
    coordinator: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs `floe payments`.
pub fn run(args: PaymentsArgs, json: bool) -> Result<()> {
    let url = match &args.coordinator {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => devnet_coordinator(&args.config)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let status = runtime.block_on(fetch(&url))?;
    let epochs: Vec<&EpochReport> = status
        .payments
        .epochs
        .iter()
        .filter(|r| args.epoch.is_none_or(|e| r.epoch == e))
        .collect();
    if let Some(e) = args.epoch
        && epochs.is_empty()
    {
        let held = match (
            status.payments.epochs.first(),
            status.payments.epochs.last(),
        ) {
            (Some(a), Some(b)) => format!("it holds epochs {} to {}", a.epoch, b.epoch),
            _ => "it has reconciled no epoch yet".to_owned(),
        };
        let why = status
            .payments
            .unreconciled
            .iter()
            .find(|(u, _)| *u == e)
            .map(|(_, why)| format!(" (it could not: {why})"))
            .unwrap_or_default();
        bail!("the coordinator at {url} has no reconciliation of epoch {e}{why}; {held}");
    }
    let bad: Vec<u32> = epochs.iter().filter(|r| !r.ok).map(|r| r.epoch).collect();
    if json {
        print_json(&serde_json::json!({
            "coordinator": url,
            "epochs": epochs,
            "unreconciled": status.payments.unreconciled,
            "alerts": status.alerts,
        }))?;
    } else {
        print_human(&epochs, &status);
    }
    if !bad.is_empty() {
        bail!("payments differ from the expected ones in epoch(s) {bad:?}");
    }
    Ok(())
}

/// The devnet manifest's coordinator, beside the client config.
fn devnet_coordinator(config: &ConfigArg) -> Result<String> {
    let path = floe_client::config::resolve_config_path(config.config.as_deref())?;
    let manifest = path.parent().unwrap_or(Path::new(".")).join("devnet.json");
    let text = std::fs::read_to_string(&manifest).with_context(|| {
        format!(
            "no --coordinator given and no devnet manifest at {}",
            manifest.display()
        )
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", manifest.display()))?;
    value["coordinator_url"]
        .as_str()
        .map(|s| s.trim_end_matches('/').to_owned())
        .with_context(|| format!("{} names no coordinator_url", manifest.display()))
}

async fn fetch(url: &str) -> Result<StatusView> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut response = client
        .get(format!("{url}/status"))
        .send()
        .await
        .with_context(|| format!("asking the coordinator at {url}"))?
        .error_for_status()
        .with_context(|| format!("the coordinator at {url}"))?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_STATUS_BYTES {
            bail!("the coordinator's status is larger than {MAX_STATUS_BYTES} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).with_context(|| format!("reading {url}/status"))
}

fn red(text: &str) -> String {
    if std::io::stdout().is_terminal() {
        format!("\x1b[31m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn print_human(epochs: &[&EpochReport], status: &StatusView) {
    if epochs.is_empty() {
        println!("no epoch reconciled yet");
    }
    for r in epochs {
        let when = r.timestamp_ms.map(date).unwrap_or_else(|| "?".into());
        let verdict = if r.ok {
            "ok".to_owned()
        } else {
            red("MISMATCH")
        };
        println!(
            "epoch {} (paid at {when}, checkpoint {}, tx {}): {verdict}",
            r.epoch, r.checkpoint, r.tx_digest
        );
        println!(
            "  bucket {}  burn {}  carry-over {}  used {} bytes",
            wal(r.bucket),
            wal(r.burn_observed),
            wal(r.carry_over_observed),
            r.used_capacity
        );
        println!(
            "  {:<16} {:<12} {:>6} {:>8} {:>22} {:>22} {:>22}",
            "node", "id", "shards", "rate", "reward", "commission", "stakers"
        );
        for n in &r.nodes {
            let line = format!(
                "  {:<16} {:<12} {:>6} {:>7.2}% {:>22} {:>22} {:>22}",
                n.name,
                short(&n.node_id),
                n.shards,
                f64::from(n.commission_rate) / 100.0,
                wal(n.reward),
                wal(n.commission),
                wal(n.staker_reward),
            );
            if n.ok {
                println!("{line}");
            } else {
                println!("{}", red(&line));
            }
        }
        for m in &r.mismatches {
            println!("  {}", red(m));
        }
    }
    for (epoch, why) in &status.payments.unreconciled {
        println!("{}", red(&format!("epoch {epoch}: not reconciled: {why}")));
    }
    for late in &status.epoch_sync.late {
        println!(
            "{}",
            red(&format!(
                "node {} ({}) is late with epoch_sync_done for epoch {}",
                late.name, late.node_id, late.epoch
            ))
        );
    }
}
