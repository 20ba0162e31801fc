//! Staking from the wallet: stake WAL with a storage node, request a
//! withdrawal, withdraw, and list the wallet's `StakedWal`.
//!
//! The contract decides every rule (minimum stake, activation and
//! withdrawal epochs, early withdrawal); the client only checks what it can
//! say more clearly before paying gas: that the node has a pool, that the
//! amount reaches the minimum and that the wallet holds it.

use floe_chain::sui_sdk_types::Address;
use floe_core::move_types::{ObjectId, PoolState, StakedWal, StakedWalState};
use serde::Serialize;

use crate::client::{Client, ensure_success};
use crate::error::{ClientError, Result};

/// The contract's minimum stake (`MIN_STAKING_THRESHOLD`): 1 WAL.
pub const MIN_STAKE_FROST: u64 = 1_000_000_000;

/// One `StakedWal` of the wallet, with its node's name.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StakedWalInfo {
    /// The `StakedWal` object id.
    pub id: Address,
    pub node_id: String,
    /// The node's name from its pool, if readable.
    pub node_name: Option<String>,
    /// Principal (FROST).
    pub principal: u64,
    /// First epoch the stake counts in.
    pub activation_epoch: u32,
    /// `staked` or `withdrawing`.
    pub state: &'static str,
    /// For `withdrawing`: the first epoch `withdraw-stake` succeeds.
    pub withdraw_epoch: Option<u32>,
}

impl StakedWalInfo {
    fn new(id: Address, s: &StakedWal, node_name: Option<String>) -> Self {
        let (state, withdraw_epoch) = match s.state {
            StakedWalState::Staked => ("staked", None),
            StakedWalState::Withdrawing { withdraw_epoch } => ("withdrawing", Some(withdraw_epoch)),
        };
        Self {
            id,
            node_id: s.node_id.to_string(),
            node_name,
            principal: s.principal.value,
            activation_epoch: s.activation_epoch,
            state,
            withdraw_epoch,
        }
    }
}

impl Client {
    /// Stakes `amount` FROST with node `node_id`; returns the new
    /// `StakedWal`.
    pub async fn stake(&self, node_id: ObjectId, amount: u64) -> Result<StakedWalInfo> {
        if amount < MIN_STAKE_FROST {
            return Err(ClientError::Invalid(format!(
                "a stake must be at least 1 WAL ({MIN_STAKE_FROST} FROST); got {amount} FROST"
            )));
        }
        let pool = self.floe.pool(node_id).await.map_err(|e| {
            ClientError::Invalid(format!(
                "node {node_id} has no staking pool ({e}); `floe info` lists the committee"
            ))
        })?;
        if pool.state != PoolState::Active {
            return Err(ClientError::Invalid(format!(
                "node {node_id} is withdrawing from the network and accepts no stake"
            )));
        }
        let key = self.wallet()?;
        let _guard = self.tx_guard().await;
        let coin = self.wal_coin_for(amount).await?;
        let tx = self
            .floe
            .stake_with_pool(key, node_id, amount, coin)
            .await?;
        ensure_success(&tx)?;
        let staked_tag = self.floe.ids.floe_tag("staked_wal", "StakedWal");
        for created in tx.created() {
            let id = *created.reference.object_id();
            let info = self.floe.client.get_object(id).await?;
            if info.struct_type() == Some(&staked_tag) {
                let staked: StakedWal = info.contents_as()?;
                return Ok(StakedWalInfo::new(id, &staked, Some(pool.node_info.name)));
            }
        }
        Err(ClientError::Invalid(format!(
            "transaction {} created no StakedWal",
            tx.digest
        )))
    }

    /// Requests the withdrawal of a `StakedWal` (it stops earning from the
    /// epoch the contract sets); returns it updated.
    pub async fn request_withdraw_stake(&self, staked_wal: Address) -> Result<StakedWalInfo> {
        let key = self.wallet()?;
        let _guard = self.tx_guard().await;
        let tx = self.floe.request_withdraw_stake(key, staked_wal).await?;
        ensure_success(&tx)?;
        let staked = self.floe.staked_wal(staked_wal).await?;
        Ok(StakedWalInfo::new(staked_wal, &staked, None))
    }

    /// Withdraws a `StakedWal`: principal plus rewards return to the
    /// wallet as WAL. Returns the FROST received.
    pub async fn withdraw_stake(&self, staked_wal: Address) -> Result<u64> {
        let key = self.wallet()?;
        let _guard = self.tx_guard().await;
        let tx = self.floe.withdraw_stake(key, staked_wal).await?;
        ensure_success(&tx)?;
        // The one coin the call created holds what was withdrawn.
        let coin_type = floe_chain::sui_sdk_types::StructTag::coin(self.floe.ids.wal_type());
        for created in tx.created() {
            let info = self
                .floe
                .client
                .get_object(*created.reference.object_id())
                .await?;
            if info.struct_type() == Some(&coin_type) {
                return Ok(info.balance.unwrap_or(0));
            }
        }
        Err(ClientError::Invalid(format!(
            "transaction {} created no WAL coin",
            tx.digest
        )))
    }

    /// The wallet's `StakedWal`s, with node names.
    pub async fn list_staked_wal(&self) -> Result<Vec<StakedWalInfo>> {
        let owner = self.address()?;
        let staked = self.floe.owned_staked_wal(owner).await?;
        let mut out = Vec::with_capacity(staked.len());
        for (id, s) in &staked {
            let name = self
                .floe
                .pool(s.node_id)
                .await
                .ok()
                .map(|p| p.node_info.name);
            out.push(StakedWalInfo::new(*id, s, name));
        }
        out.sort_by_key(|s| (s.node_id.clone(), s.activation_epoch));
        Ok(out)
    }
}
