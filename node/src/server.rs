//! Starting a node: open the store, build the chain view from config, bind,
//! serve until shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use floe_core::bls::BlsSecretKey;
use tokio::net::TcpListener;

use crate::api::{AppState, router};
use crate::chain_view::{ChainView, ChainViewError, CommitteeView};
use crate::config::NodeConfig;
use crate::store::{NodeStore, ShardStatus, StoreError};

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The store failed to open.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The committee in the config is inconsistent.
    #[error(transparent)]
    Committee(#[from] ChainViewError),
    /// Binding or serving failed.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
}

/// A node bound to its address and ready to serve.
pub struct Node {
    listener: TcpListener,
    state: AppState,
}

impl Node {
    /// Opens the store and binds. Owned shards without a status are marked
    /// `Active`: until the chain follower drives epoch changes (not written
    /// yet), the config's committee is the only assignment there is.
    pub async fn bind(config: &NodeConfig, key: BlsSecretKey) -> Result<Self, NodeError> {
        let committee = CommitteeView::new(
            config.committee.epoch,
            config.committee.n_shards,
            config.committee.owned_shards.iter().copied(),
        )?;
        let store = open_store(&config.data_dir, &committee).await?;
        let state = AppState::new(store, ChainView::new(committee), key, config.limits.clone());
        let listener = TcpListener::bind(config.listen).await?;
        Ok(Self { listener, state })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, NodeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), NodeError> {
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await?;
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
