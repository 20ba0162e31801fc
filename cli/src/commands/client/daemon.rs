//! `floe publisher|aggregator|daemon --listen ADDR`: the HTTP daemon of
//! `floe_client::daemon` on the client config's chain, wallet and nodes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use floe_client::daemon::auth::{AuthConfig, JwtKey};
use floe_client::daemon::limits::SpendingCap;
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
    /// Stores served at once (more wait in the queue).
    #[arg(long, default_value_t = 4)]
    max_concurrent_stores: usize,
    /// Stores waiting for a slot (more get 429 with Retry-After).
    #[arg(long, default_value_t = 32)]
    max_queued_stores: usize,
    /// Reads served at once (more wait in the queue).
    #[arg(long, default_value_t = 32)]
    max_concurrent_reads: usize,
    /// Reads waiting for a slot (more get 429 with Retry-After).
    #[arg(long, default_value_t = 256)]
    max_queued_reads: usize,
    /// Time budget of one request, in seconds.
    #[arg(long, default_value_t = 600)]
    request_timeout_secs: u64,
    /// Epochs a store buys when the request does not say.
    #[arg(long, default_value_t = 1)]
    default_epochs: u32,
    /// Require a JWT signed with HS256 and the secret in this file (at
    /// least 32 bytes; surrounding whitespace is ignored) on every store.
    #[arg(long, value_name = "FILE", conflicts_with = "jwt_public_key_file")]
    jwt_secret_file: Option<PathBuf>,
    /// Require a JWT signed with EdDSA by the Ed25519 key whose public
    /// half is in this PEM file on every store.
    #[arg(long, value_name = "FILE")]
    jwt_public_key_file: Option<PathBuf>,
    /// Refuse tokens that expire further ahead than this (seconds); bounds
    /// how long used token ids are remembered.
    #[arg(long, default_value_t = 3600)]
    jwt_max_lifetime_secs: u64,
    /// Most used token ids remembered at once (replay protection); when
    /// full of live tokens, new ones get 503 until some expire.
    #[arg(long, default_value_t = 100_000)]
    jwt_max_tracked_tokens: usize,
    /// Most FROST the wallet spends on stores per window (429 beyond).
    #[arg(long, value_name = "FROST")]
    spending_cap_frost: Option<u64>,
    /// The spending cap's window, in seconds.
    #[arg(long, default_value_t = 3600)]
    spending_window_secs: u64,
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
    let auth = auth_config(&args)?;
    if auth.is_some() && !matches!(mode, Mode::Publisher | Mode::Daemon) {
        bail!("JWT auth applies to stores; an aggregator has none");
    }
    if args.spending_window_secs == 0 {
        bail!("--spending-window-secs must be above zero");
    }
    let config = DaemonConfig {
        mode,
        max_body_bytes: args.max_body_bytes,
        max_concurrent_stores: args.max_concurrent_stores.max(1),
        max_queued_stores: args.max_queued_stores,
        max_concurrent_reads: args.max_concurrent_reads.max(1),
        max_queued_reads: args.max_queued_reads,
        request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
        default_epochs: args.default_epochs.max(1),
        auth,
        spending_cap: args.spending_cap_frost.map(|max_frost| SpendingCap {
            max_frost,
            window: Duration::from_secs(args.spending_window_secs),
        }),
    };
    let app = router(Arc::new(client), config).context("the JWT key")?;
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
    serve(listener, app, crate::service::shutdown_signal()).await?;
    Ok(())
}

/// Largest key file read.
const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

fn read_key_file(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if size > MAX_KEY_FILE_BYTES {
        bail!("{} is {size} bytes; a key file is small", path.display());
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// The JWT settings of the flags, if auth is asked for.
fn auth_config(args: &DaemonArgs) -> Result<Option<AuthConfig>> {
    let key = match (&args.jwt_secret_file, &args.jwt_public_key_file) {
        (Some(path), _) => {
            let secret = read_key_file(path)?;
            JwtKey::Hs256(secret.trim_ascii().to_vec())
        }
        (None, Some(path)) => JwtKey::EdDsaPem(read_key_file(path)?),
        (None, None) => return Ok(None),
    };
    Ok(Some(AuthConfig {
        key,
        max_token_lifetime: Duration::from_secs(args.jwt_max_lifetime_secs.max(1)),
        max_tracked_tokens: args.jwt_max_tracked_tokens,
    }))
}
