//! Starting a node: read the committee (from the chain, or from the config
//! in static test mode), open the store, bind, then serve while the chain
//! follower, the recovery worker and the shard sync run beside the API.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use floe_chain::floe::{Floe, FloeError};
use floe_core::bls::BlsSecretKey;
use tokio::net::TcpListener;

use crate::api::router;
use crate::chain_view::{ChainView, ChainViewError, CommitteeView};
use crate::config::{ConfigError, NodeConfig};
use crate::context::NodeContext;
use crate::epoch::{EpochError, locked_shards, read_view, switch};
use crate::operator::Operator;
use crate::shard_sync::ShardSync;
use crate::store::{NodeStore, ShardStatus, StoreError};
pub use crate::store_watchdog::Served;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The config file is inconsistent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store failed to open.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The committee is inconsistent.
    #[error(transparent)]
    Committee(#[from] ChainViewError),
    /// The chain could not be read.
    #[error("chain: {0}")]
    Chain(#[from] FloeError),
    /// The chain could not be reached, or is not certified by the pinned
    /// validator keys.
    #[error("chain: {0}")]
    Connect(#[from] floe_chain::ConnectError),
    /// The committee could not be read or applied.
    #[error(transparent)]
    Epoch(#[from] EpochError),
    /// Binding or serving failed.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
}

/// A node bound to its address and ready to serve.
pub struct Node {
    listener: TcpListener,
    ctx: NodeContext,
    /// Present when following the chain.
    floe: Option<Floe>,
    /// The operator key, when `[operator]` is configured.
    operator: Option<Operator>,
    config: NodeConfig,
}

/// Connects to the chain and finds floe's objects ([`floe_chain::connect`],
/// the one connection every service shares).
pub async fn connect_floe(config: &crate::config::NodeChainConfig) -> Result<Floe, NodeError> {
    Ok(floe_chain::connect(&config.chain).await?)
}

impl Node {
    /// Reads the committee, opens the store, applies an epoch change that
    /// happened while the node was down (or, on a new store, marks the
    /// owned shards `Active`), loads the operator key and binds.
    pub async fn bind(config: &NodeConfig, key: BlsSecretKey) -> Result<Self, NodeError> {
        config.validate()?;
        let operator = config.operator.as_ref().map(Operator::load).transpose()?;
        let (committee, floe) = match (&config.chain, &config.committee) {
            (Some(chain), _) => {
                let floe = connect_floe(chain).await?;
                let view = read_view(&floe, &key.public_key(), None).await?;
                if view.is_member() {
                    tracing::info!(
                        epoch = view.epoch(),
                        shards = ?view.owned_shards(),
                        "member of the committee"
                    );
                } else {
                    tracing::warn!(
                        epoch = view.epoch(),
                        key = %key.public_key(),
                        "this node's key is not in the committee: it owns no shards"
                    );
                }
                (view, Some(floe))
            }
            (None, Some(c)) => (
                CommitteeView::new(c.epoch, c.n_shards, c.owned_shards.iter().copied())?,
                None,
            ),
            (None, None) => return Err(ConfigError::Mode.into()),
        };
        let store = open_store(&config.data_dir).await?;
        let ctx = NodeContext::new(
            store,
            ChainView::new(committee.clone()),
            key,
            &config.limits,
        );
        let caught_up_at = match &floe {
            Some(floe) => floe.client.latest_checkpoint_number().await.ok(),
            None => None,
        };
        let switch_ctx = ctx.clone();
        let following = floe.is_some();
        tokio::task::spawn_blocking(move || -> Result<(), EpochError> {
            if following {
                let next = switch_ctx.store().next_checkpoint()?;
                let at = caught_up_at.map_or(next, |tip| tip + 1);
                switch(&switch_ctx, committee, at)?;
            } else {
                let store = switch_ctx.store();
                for &shard in committee.owned_shards() {
                    if store.shard_status(shard)?.is_none() {
                        store.set_shard_status(shard, ShardStatus::Active)?;
                    }
                }
                let locked = locked_shards(store)?;
                switch_ctx
                    .chain()
                    .set_committee(committee.with_locked(locked));
            }
            Ok(())
        })
        .await
        .map_err(|e| std::io::Error::other(format!("store opener failed: {e}")))??;
        let listener = TcpListener::bind(config.listen).await?;
        Ok(Self {
            listener,
            ctx,
            floe,
            operator,
            config: config.clone(),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, NodeError> {
        Ok(self.listener.local_addr()?)
    }

    /// The current committee epoch.
    pub fn epoch(&self) -> u32 {
        self.ctx.chain().committee().epoch()
    }

    /// Serves until `shutdown` resolves, or until a store that refused
    /// writes can be reopened ([`Served::ReopenStore`]: the caller starts
    /// the node again); the follower and the recovery worker run until
    /// then too.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<Served, NodeError> {
        let mut background = Vec::new();
        if let Some(floe) = self.floe {
            let endpoints = floe_chain::floe::endpoints::EndpointCache::new(
                floe.clone(),
                self.config.discovery,
                self.config.overrides()?,
            );
            let peers = crate::peers::Peers::new(
                endpoints,
                &self.ctx.public_key(),
                &self.config.recovery,
                self.config.limits.max_body_bytes,
            )?;
            let recovery = crate::recovery::Recovery::new(
                self.ctx.clone(),
                peers.clone(),
                self.config.recovery.clone(),
            );
            let sync = ShardSync::new(
                self.ctx.clone(),
                floe.clone(),
                peers,
                self.operator,
                self.config.recovery.clone(),
                recovery.waker(),
            );
            let follower = crate::follower::Follower::new(
                self.ctx.clone(),
                floe,
                self.config.chain.clone().ok_or(ConfigError::Mode)?,
                recovery.waker(),
                sync.waker(),
            );
            background.push(tokio::spawn(recovery.run()));
            background.push(tokio::spawn(sync.run()));
            background.push(tokio::spawn(follower.run()));
        }
        let (reopen_tx, reopen_rx) = tokio::sync::oneshot::channel::<()>();
        let watchdog = crate::store_watchdog::watch(
            self.ctx.clone(),
            crate::store_watchdog::WatchdogConfig {
                data_dir: self.config.data_dir.clone(),
                reopen_free_bytes: crate::store_watchdog::REOPEN_FREE_BYTES,
            },
        );
        background.push(tokio::spawn(async move {
            watchdog.await;
            let _ = reopen_tx.send(());
        }));
        let reopen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reopening = reopen.clone();
        let stop = async move {
            tokio::select! {
                () = shutdown => {}
                Ok(()) = reopen_rx => reopening.store(true, std::sync::atomic::Ordering::SeqCst),
            }
        };
        let result = axum::serve(self.listener, router(self.ctx, self.config.limits))
            .with_graceful_shutdown(stop)
            .await;
        for task in background {
            task.abort();
        }
        result?;
        Ok(if reopen.load(std::sync::atomic::Ordering::SeqCst) {
            Served::ReopenStore
        } else {
            Served::Stopped
        })
    }
}

async fn open_store(dir: &Path) -> Result<Arc<NodeStore>, NodeError> {
    let dir = dir.to_path_buf();
    let store = tokio::task::spawn_blocking(move || NodeStore::open(&dir))
        .await
        .map_err(|e| std::io::Error::other(format!("store opener failed: {e}")))??;
    Ok(Arc::new(store))
}
