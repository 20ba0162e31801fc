//! The client commands (`floe store`, `read`, `blob-status`, `info`,
//! `list-blobs`, `delete`, `extend`, `share`, `fund-shared-blob`,
//! `get-blob-attribute`, `set-blob-attribute`, `wallet`, `stake`,
//! `request-withdraw-stake`, `withdraw-stake`, `list-staked-wal`,
//! `publisher`, `aggregator`, `daemon`), all on `floe_client`.
//!
//! Each takes `--config FILE` (else `$FLOE_CONFIG`, else the devnet's
//! `client.yaml`) and honours the global `--json`. Commands that pay show
//! the cost in WAL first and ask, unless `--yes` is given.

mod blobs;
mod daemon;
pub mod info;
mod read;
mod stake;
mod store;
mod wallet;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use floe_client::{Client, ClientConfig, Progress, ProgressFn};
use indicatif::{ProgressBar, ProgressStyle};

/// `--config` of every client command.
#[derive(Debug, Args, Clone)]
pub struct ConfigArg {
    /// Client config (YAML). Default: $FLOE_CONFIG, else the devnet's
    /// `<data dir>/floe/devnet/client.yaml`.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    /// Loads the config file.
    pub fn load(&self) -> Result<ClientConfig> {
        let path = floe_client::config::resolve_config_path(self.config.as_deref())?;
        ClientConfig::load(&path).with_context(|| {
            format!(
                "loading the client config {} (start `floe devnet`, or pass --config)",
                path.display()
            )
        })
    }

    /// Loads the config and connects.
    pub async fn connect(&self) -> Result<Client> {
        let config = self.load()?;
        Ok(Client::connect(config).await?)
    }
}

/// Client commands, flattened into `floe`'s command list.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Store files as blobs (encode, pay, upload, certify).
    Store(store::StoreArgs),
    /// Read a blob by id into a file or stdout.
    Read(read::ReadArgs),
    /// A blob's status as the storage nodes report it.
    BlobStatus(read::StatusArgs),
    /// Epoch, prices, committee, maximum blob size; with --size the cost
    /// of storing that much.
    Info(info::InfoArgs),
    /// Blob objects the wallet owns.
    ListBlobs(blobs::ListArgs),
    /// Delete deletable blob objects (by object id, or all of a blob id).
    Delete(blobs::DeleteArgs),
    /// Extend a blob object's lifetime, paying storage.
    Extend(blobs::ExtendArgs),
    /// Wrap a blob object in a SharedBlob anyone can fund.
    Share(blobs::ShareArgs),
    /// Add WAL to a shared blob's funds.
    FundSharedBlob(blobs::FundArgs),
    /// A blob object's attributes.
    GetBlobAttribute(blobs::GetAttributeArgs),
    /// Set (or remove) attributes of a blob object.
    SetBlobAttribute(blobs::SetAttributeArgs),
    /// The client's wallet: new key, address, balance, faucet.
    Wallet(wallet::WalletArgs),
    /// Stake WAL with a storage node.
    Stake(stake::StakeArgs),
    /// Ask to withdraw a StakedWal (possible from the epoch it prints).
    RequestWithdrawStake(stake::StakedWalArgs),
    /// Withdraw a StakedWal: principal and rewards back to the wallet.
    WithdrawStake(stake::StakedWalArgs),
    /// The wallet's StakedWal objects.
    ListStakedWal(stake::ListArgs),
    /// HTTP publisher: `PUT /v1/blobs`.
    Publisher(daemon::DaemonArgs),
    /// HTTP aggregator: `GET /v1/blobs/{blob_id}` (with Range) and by object id.
    Aggregator(daemon::DaemonArgs),
    /// HTTP publisher and aggregator in one.
    Daemon(daemon::DaemonArgs),
}

/// Runs a client command.
pub fn run(command: ClientCommand, json: bool) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        match command {
            ClientCommand::Store(a) => store::run(a, json).await,
            ClientCommand::Read(a) => read::run(a, json).await,
            ClientCommand::BlobStatus(a) => read::status(a, json).await,
            ClientCommand::Info(a) => info::run(a, json).await,
            ClientCommand::ListBlobs(a) => blobs::list(a, json).await,
            ClientCommand::Delete(a) => blobs::delete(a, json).await,
            ClientCommand::Extend(a) => blobs::extend(a, json).await,
            ClientCommand::Share(a) => blobs::share(a, json).await,
            ClientCommand::FundSharedBlob(a) => blobs::fund(a, json).await,
            ClientCommand::GetBlobAttribute(a) => blobs::get_attribute(a, json).await,
            ClientCommand::SetBlobAttribute(a) => blobs::set_attribute(a, json).await,
            ClientCommand::Wallet(a) => wallet::run(a, json).await,
            ClientCommand::Stake(a) => stake::stake(a, json).await,
            ClientCommand::RequestWithdrawStake(a) => stake::request_withdraw(a, json).await,
            ClientCommand::WithdrawStake(a) => stake::withdraw(a, json).await,
            ClientCommand::ListStakedWal(a) => stake::list(a, json).await,
            ClientCommand::Publisher(a) => {
                daemon::run(a, floe_client::daemon::Mode::Publisher).await
            }
            ClientCommand::Aggregator(a) => {
                daemon::run(a, floe_client::daemon::Mode::Aggregator).await
            }
            ClientCommand::Daemon(a) => daemon::run(a, floe_client::daemon::Mode::Daemon).await,
        }
    })
}

/// Prints `value` as one JSON line on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// `1.5 WAL` from FROST.
pub fn wal(frost: u64) -> String {
    floe_core::price::format_wal_with_unit(frost)
}

/// Asks "proceed?" on the terminal; without a terminal, `--yes` is
/// required so a script never pays by accident.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("{question}: not confirmed (pass --yes to proceed without asking)");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    if matches!(line.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        bail!("cancelled")
    }
}

/// Progress bars on stderr for encoding, upload and download, when stderr
/// is a terminal and output is not JSON.
pub fn progress_bars(json: bool) -> Bars {
    if json || !std::io::stderr().is_terminal() {
        return Bars {
            callback: None,
            bar: None,
        };
    }
    let bar = ProgressBar::hidden();
    let handle = bar.clone();
    let bytes_style = ProgressStyle::with_template(
        "{msg:>16} [{bar:20}] {bytes}/{total_bytes} ({bytes_per_sec})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let spinner = ProgressStyle::with_template("{spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let callback: ProgressFn = std::sync::Arc::new(move |event| match event {
        Progress::Encoding { bytes } => {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(spinner.clone());
            bar.set_message(format!("encoding {}", crate::output::human_bytes(bytes)));
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
        }
        Progress::Encoded | Progress::Decoding => {
            bar.set_style(spinner.clone());
            bar.set_message(if event == Progress::Decoding {
                "decoding"
            } else {
                "encoded"
            });
        }
        Progress::UploadStarted { bytes } | Progress::DownloadStarted { bytes } => {
            bar.disable_steady_tick();
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(bytes_style.clone());
            bar.set_length(bytes);
            bar.set_position(0);
            bar.set_message(if matches!(event, Progress::UploadStarted { .. }) {
                "upload"
            } else {
                "download"
            });
        }
        Progress::Uploaded { bytes } | Progress::Downloaded { bytes } => bar.inc(bytes),
        Progress::Confirmed { weight, n_shards } => {
            bar.set_message(format!("{weight}/{n_shards} confirmed"));
        }
    });
    Bars {
        callback: Some(callback),
        bar: Some(handle),
    }
}

/// A progress callback for the SDK and the bar it draws.
pub struct Bars {
    pub callback: Option<ProgressFn>,
    bar: Option<ProgressBar>,
}

impl Bars {
    /// Runs `f` (e.g. a question on the terminal) with the bar hidden.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar before results are printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
