//! `floe explorer run --indexer URL [--aggregator URL] --listen ADDR`: the
//! web explorer, HTML pages over an indexer's public API.
//!
//! On start it prints one line with its URL (JSON with `--json`), so
//! scripts and tests can listen on port 0.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use floe_explorer::{Explorer, ExplorerConfig, Limits};

/// `floe explorer ...`
#[derive(Debug, Args)]
pub struct ExplorerArgs {
    #[command(subcommand)]
    command: ExplorerCommand,
}

#[derive(Debug, Subcommand)]
enum ExplorerCommand {
    /// Serve the explorer's pages (/, /blobs, /epochs, /nodes, ...) and
    /// /health, /metrics.
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Root URL of the indexer's API, e.g. http://127.0.0.1:9400.
    #[arg(long, env = "FLOE_EXPLORER_INDEXER")]
    indexer: String,
    /// Root URL of an aggregator, for download links on blob pages.
    #[arg(long, env = "FLOE_EXPLORER_AGGREGATOR")]
    aggregator: Option<String>,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:9600")]
    listen: SocketAddr,
    /// Budget of one page in milliseconds (it may call the indexer several
    /// times); past it the answer is 408.
    #[arg(long, default_value_t = Limits::default().request_timeout_ms)]
    request_timeout_ms: u64,
    /// Pages built at once; more are answered 503 at once.
    #[arg(long, default_value_t = Limits::default().max_concurrent_requests)]
    max_concurrent_requests: usize,
}

/// Runs a `floe explorer` subcommand.
pub fn run(args: ExplorerArgs, json: bool) -> Result<()> {
    match args.command {
        ExplorerCommand::Run(run) => run_explorer(run, json),
    }
}

fn run_explorer(args: RunArgs, json: bool) -> Result<()> {
    if !(1..=600_000).contains(&args.request_timeout_ms) {
        anyhow::bail!("--request-timeout-ms must be between 1 and 600000");
    }
    if !(1..=100_000).contains(&args.max_concurrent_requests) {
        anyhow::bail!("--max-concurrent-requests must be between 1 and 100000");
    }
    let config = ExplorerConfig {
        indexer_url: args.indexer,
        aggregator_url: args.aggregator,
        listen: args.listen,
        limits: Limits {
            request_timeout_ms: args.request_timeout_ms,
            indexer_timeout_ms: Limits::default()
                .indexer_timeout_ms
                .min(args.request_timeout_ms),
            max_concurrent_requests: args.max_concurrent_requests,
        },
    };
    crate::service::init_logs(json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let explorer = Explorer::bind(&config).await?;
        let url = format!("http://{}", explorer.addr);
        if json {
            println!(
                "{}",
                serde_json::json!({ "event": "listening", "address": explorer.addr.to_string(), "url": url })
            );
        } else {
            println!("floe explorer serving {url} (indexer {})", config.indexer_url);
        }
        explorer.run(crate::service::shutdown_signal()).await?;
        tracing::info!("explorer stopped");
        Ok(())
    })
}
