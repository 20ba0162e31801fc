//! `floe publisher|aggregator|daemon --listen ADDR`: the HTTP daemon of
//! `floe_client::daemon` on the client config's chain, wallet and nodes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use floe_client::daemon::{DaemonConfig, Mode, router, serve};

use super::ConfigArg;

/// Arguments of the daemon commands.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Address to serve on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:31415")]
    listen: SocketAddr,
    /// Largest `PUT /v1/blobs` body in bytes.
    #[arg(long, default_value_t = 64 << 20)]
    max_body_bytes: usize,
    /// Stores served at once (more get 429).
    #[arg(long, default_value_t = 4)]
    max_concurrent_stores: usize,
    /// Reads served at once (more get 429).
    #[arg(long, default_value_t = 32)]
    max_concurrent_reads: usize,
    /// Time budget of one request, in seconds.
    #[arg(long, default_value_t = 600)]
    request_timeout_secs: u64,
    /// Epochs a store buys when the request does not say.
    #[arg(long, default_value_t = 1)]
    default_epochs: u32,
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs the daemon in `mode` until Ctrl-C / SIGTERM.
pub async fn run(args: DaemonArgs, mode: Mode) -> Result<()> {
    crate::service::init_logs(false);
    let client = args.config.connect().await?;
    if matches!(mode, Mode::Publisher | Mode::Daemon) {
        client
            .address()
            .context("a publisher needs a wallet to pay for stores")?;
    }
    let config = DaemonConfig {
        mode,
        max_body_bytes: args.max_body_bytes,
        max_concurrent_stores: args.max_concurrent_stores.max(1),
        max_concurrent_reads: args.max_concurrent_reads.max(1),
        request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
        default_epochs: args.default_epochs.max(1),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local = listener.local_addr()?;
    // One machine-readable line so scripts and tests learn the port.
    println!(
        "{}",
        serde_json::json!({ "event": "listening", "address": local.to_string(), "mode": mode })
    );
    tracing::info!(address = %local, ?mode, "daemon started");
    serve(
        listener,
        router(Arc::new(client), config),
        crate::service::shutdown_signal(),
    )
    .await?;
    Ok(())
}
