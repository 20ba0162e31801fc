//! Starting a node: read the committee (from the chain, or from the config
//! in static test mode), open the store, bind, then serve while the chain
//! follower and the recovery worker run beside the API.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use floe_chain::floe::{Floe, FloeError, FloeIds};
use floe_chain::{ChainClient, ClientConfig};
use floe_core::bls::BlsSecretKey;
use tokio::net::TcpListener;

use crate::api::{AppState, router};
use crate::chain_view::{ChainView, ChainViewError, CommitteeView};
use crate::config::{ConfigError, NodeConfig};
use crate::store::{NodeStore, ShardStatus, StoreError};

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
    /// Binding or serving failed.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
}

/// A node bound to its address and ready to serve.
pub struct Node {
    listener: TcpListener,
    state: AppState,
    /// Present when following the chain.
    floe: Option<Floe>,
    config: NodeConfig,
}

/// Connects to the chain and finds floe's objects.
pub async fn connect_floe(config: &crate::config::ChainConfig) -> Result<Floe, NodeError> {
    let ids = config.ids()?;
    let client = ChainClient::new(ClientConfig::new(config.endpoints.iter().cloned()))
        .map_err(FloeError::from)?;
    let ids = match (ids.system, ids.treasury) {
        (Some(system), Some(treasury)) => FloeIds {
            wal_package: ids.wal_package,
            floe_package: ids.floe_package,
            system,
            treasury,
        },
        _ => FloeIds::discover(&client, ids.wal_package, ids.floe_package).await?,
    };
    Ok(Floe::new(client, ids))
}

impl Node {
    /// Reads the committee, opens the store and binds. The node's owned
    /// shards without a status are marked `Active`.
    pub async fn bind(config: &NodeConfig, key: BlsSecretKey) -> Result<Self, NodeError> {
        config.validate()?;
        let (committee, floe) = match (&config.chain, &config.committee) {
            (Some(chain), _) => {
                let floe = connect_floe(chain).await?;
                let committee = floe.committee().await?;
                let view = CommitteeView::from_committee(committee, &key.public_key())?;
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
        let store = open_store(&config.data_dir, &committee).await?;
        let state = AppState::new(store, ChainView::new(committee), key, config.limits.clone());
        let listener = TcpListener::bind(config.listen).await?;
        Ok(Self {
            listener,
            state,
            floe,
            config: config.clone(),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, NodeError> {
        Ok(self.listener.local_addr()?)
    }

    /// The current committee epoch.
    pub fn epoch(&self) -> u32 {
        self.state.chain().committee().epoch()
    }

    /// Serves until `shutdown` resolves; the follower and the recovery
    /// worker run until then too.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), NodeError> {
        let mut background = Vec::new();
        if let Some(floe) = self.floe {
            let peers = crate::peers::Peers::new(
                &self.config.peers,
                &self.state.public_key(),
                &self.config.recovery,
                self.config.limits.max_body_bytes,
            )?;
            let recovery = crate::recovery::Recovery::new(
                self.state.clone(),
                peers,
                self.config.recovery.clone(),
            );
            let follower = crate::follower::Follower::new(
                self.state.clone(),
                floe,
                self.config.chain.clone().ok_or(ConfigError::Mode)?,
                recovery.waker(),
            );
            background.push(tokio::spawn(recovery.run()));
            background.push(tokio::spawn(follower.run()));
        }
        let result = axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await;
        for task in background {
            task.abort();
        }
        result?;
        Ok(())
    }
}

async fn open_store(dir: &Path, committee: &CommitteeView) -> Result<Arc<NodeStore>, NodeError> {
    let dir = dir.to_path_buf();
    let shards: Vec<u16> = committee.owned_shards().iter().copied().collect();
    let store = tokio::task::spawn_blocking(move || -> Result<NodeStore, StoreError> {
        let store = NodeStore::open(&dir)?;
        for shard in shards {
            if store.shard_status(shard)?.is_none() {
                store.set_shard_status(shard, ShardStatus::Active)?;
            }
        }
        Ok(store)
    })
    .await
    .map_err(|e| std::io::Error::other(format!("store opener failed: {e}")))??;
    Ok(Arc::new(store))
}
