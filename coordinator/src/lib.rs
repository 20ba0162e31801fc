//! floe-coordinator: the keeper that drives floe's epochs.
//!
//! Walrus lets anyone call the epoch-change steps and has every storage
//! node schedule them; floe gives the job to this small service so a
//! devnet (or a deployment) has exactly one component whose duty it is:
//!
//! 1. half-way through epoch `e` (epoch 0: at `first_epoch_start`) it calls
//!    `staking::voting_end`, which selects the committee of `e + 1` from
//!    stake;
//! 2. at the end of `e` it calls `staking::initiate_epoch_change`, which
//!    pays the ended epoch's rewards and rotates the committee;
//! 3. the storage nodes then sync their gained shards and each calls
//!    `epoch_sync_done`; a quorum ends the change and starts the new
//!    epoch's clock. The coordinator only watches this part.
//!
//! Beside the epochs it looks after WAL payments:
//!
//! - [`follow`] reads the verified checkpoint stream and, for every epoch
//!   change, [`reconcile`]s what each node of the old committee was owed
//!   (bucket, 3% burn, split by shards and stored bytes, commission,
//!   carry-over) against what its pool received, to the FROST;
//! - [`renewal`] extends shared blobs from their own funds before they
//!   expire, inside the `voting_end` transaction so two coordinators never
//!   extend twice;
//! - nodes late with `epoch_sync_done` are named in `/status` and metrics.
//!
//! Each epoch step is decided from one read of the chain
//! ([`driver::decide`]), so it can crash and restart at any time, and two
//! coordinators merely race for the same guarded calls (the loser's abort
//! counts as `lost_race`, not as an error). It serves `/health`,
//! `/status` (what it last saw and did, the payments table, renewals,
//! late nodes and `alerts`) and `/metrics`.

pub mod config;
pub mod driver;
pub mod facts;
pub mod follow;
pub mod governance;
pub mod http;
pub mod metrics;
pub mod reconcile;
pub mod renewal;
pub mod status;
pub mod subsidies;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use floe_chain::floe::{Floe, FloeError};
use floe_chain::keystore::{KeyPair, Keystore};

pub use config::CoordinatorConfig;
use driver::{DriverStatus, SharedStatus};
use metrics::Metrics;

/// Why the coordinator cannot start.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("wallet {path}: {reason}")]
    Wallet { path: String, reason: String },
    #[error("chain: {0}")]
    Chain(#[from] FloeError),
    #[error("chain: {0}")]
    Connect(#[from] floe_chain::ConnectError),
    #[error("state in {path}: {reason}")]
    State { path: String, reason: String },
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A coordinator connected to the chain and bound to its HTTP address.
pub struct Coordinator {
    floe: Floe,
    key: KeyPair,
    poll: Duration,
    metrics: Metrics,
    status: SharedStatus,
    payments: follow::SharedPayments,
    follow: follow::FollowConfig,
    renewal: renewal::RenewalConfig,
    listener: tokio::net::TcpListener,
    /// The bound HTTP address.
    pub addr: SocketAddr,
}

impl Coordinator {
    /// Opens the wallet, connects to the chain (finding floe's objects in
    /// the genesis checkpoint when the config does not name them) and
    /// binds the HTTP endpoint.
    pub async fn start(config: &CoordinatorConfig) -> Result<Self, CoordinatorError> {
        config.validate()?;
        let key = open_key(config)?;
        let floe = floe_chain::connect(&config.chain).await?;
        let state = match &config.data_dir {
            Some(dir) => follow::load(dir).map_err(|reason| CoordinatorError::State {
                path: dir.display().to_string(),
                reason,
            })?,
            None => follow::PaymentsState::default(),
        };
        let payments = Arc::new(std::sync::RwLock::new(follow::Payments {
            state,
            ..Default::default()
        }));
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| CoordinatorError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| CoordinatorError::Bind {
                addr: config.listen,
                source,
            })?;
        Ok(Self {
            floe,
            key,
            poll: Duration::from_millis(config.poll_ms),
            metrics: Metrics::new(),
            status: Arc::new(std::sync::RwLock::new(DriverStatus::default())),
            payments,
            follow: follow::FollowConfig {
                data_dir: config.data_dir.clone(),
                max_shared_blobs: config.renewal.max_tracked,
                sync_grace_ms: config.sync_grace_ms,
            },
            renewal: config.renewal,
            listener,
            addr,
        })
    }

    /// The address that signs the calls.
    pub fn signer(&self) -> floe_chain::sui_sdk_types::Address {
        self.key.address()
    }

    /// Drives epochs and serves HTTP until `shutdown` resolves.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let app = http::router(http::HttpState {
            status: self.status.clone(),
            metrics: self.metrics.clone(),
            payments: self.payments.clone(),
            renewal: self.renewal,
            sync_grace_ms: self.follow.sync_grace_ms,
        });
        let mut http_stop = stop_rx.clone();
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            let _ = http_stop.wait_for(|s| *s).await;
        });
        let mut follow_stop = stop_rx.clone();
        let follower = follow::run(
            self.floe.clone(),
            self.payments.clone(),
            self.metrics.clone(),
            self.follow,
            async move {
                let _ = follow_stop.wait_for(|s| *s).await;
            },
        );
        let keeper = renewal::Keeper {
            config: self.renewal,
            shared: self.payments,
            metrics: self.metrics.clone(),
        };
        let mut driver_stop = stop_rx;
        let driver = driver::run(
            self.floe,
            self.key,
            self.poll,
            self.metrics,
            self.status,
            keeper,
            async move {
                let _ = driver_stop.wait_for(|s| *s).await;
            },
        );
        let signal = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        let (served, (), (), ()) = tokio::join!(server.into_future(), driver, follower, signal);
        served
    }
}

fn open_key(config: &CoordinatorConfig) -> Result<KeyPair, CoordinatorError> {
    let path = config.wallet.keystore.display().to_string();
    let keystore =
        Keystore::open(&config.wallet.keystore).map_err(|e| CoordinatorError::Wallet {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let wanted = config.wallet_address()?;
    let key = match wanted {
        Some(address) => keystore.keys().iter().find(|k| k.address() == address),
        None => keystore.keys().first(),
    };
    key.cloned().ok_or_else(|| CoordinatorError::Wallet {
        path,
        reason: match wanted {
            Some(a) => format!("no key for {a}"),
            None => "the keystore is empty".into(),
        },
    })
}
