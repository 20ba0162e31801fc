//! `floe node info`: what the chain says about this node, for its operator.
//!
//! The node is found by its BLS key (the config's `bls_key_file`) among the
//! staking pools, so the command works before the operator has a cap and
//! for a node that left the committee. Everything shown is read from the
//! chain at the moment of the call: the pool (stake, commission, votes,
//! network address), the committees (shards now, before and next) and, when
//! `[operator]` is configured, the `StorageNodeCap` the operator holds.

use anyhow::{Context, Result, bail};
use floe_chain::floe::Floe;
use floe_chain::sui_sdk_types::Address;
use floe_core::bls::BlsSecretKey;
use floe_core::move_types::{
    Authorized, EpochState, ObjectId, PendingValues, PoolState, StakingInnerV1, StakingPool,
};
use floe_node::config::NodeConfig;
use serde_json::{Value, json};

use super::client::info::date;
use super::client::wal;
use crate::output::human_bytes;

/// The loaded config, its BLS key and a chain connection.
pub struct NodeChainContext {
    pub config: NodeConfig,
    pub key: BlsSecretKey,
    pub floe: Floe,
}

impl NodeChainContext {
    /// Reads `node.toml` and its key, and connects to its chain.
    pub async fn load(path: &std::path::Path) -> Result<Self> {
        let (config, key) = super::node::load_config(path)?;
        let Some(chain) = &config.chain else {
            bail!(
                "{} has no [chain] section: this node runs in static test mode and has no \
                 on-chain identity",
                path.display()
            );
        };
        let floe = floe_node::server::connect_floe(chain)
            .await
            .with_context(|| format!("connecting to the chain of {}", path.display()))?;
        Ok(Self { config, key, floe })
    }

    /// The pool whose node has this config's BLS key, if registered.
    pub async fn own_pool(&self) -> Result<Option<StakingPool>> {
        let public = self.key.public_key();
        let pools = self
            .floe
            .pools()
            .await
            .context("reading the staking pools")?;
        Ok(pools
            .into_iter()
            .find(|p| p.node_info.public_key.bytes.as_slice() == public.as_bytes().as_slice()))
    }

    /// The operator's `StorageNodeCap` for `node_id`, when `[operator]` is
    /// configured: its object id and owner.
    pub async fn operator_cap(&self, node_id: ObjectId) -> Result<Option<(Address, Address)>> {
        let Some(operator) = &self.config.operator else {
            return Ok(None);
        };
        let owner: Address = operator
            .address
            .parse()
            .with_context(|| format!("[operator] address {:?}", operator.address))?;
        let caps = self.floe.owned_node_caps(owner).await?;
        Ok(caps
            .into_iter()
            .find(|(_, cap)| cap.node_id == node_id)
            .map(|(id, _)| (id, owner)))
    }
}

/// `floe node info --config node.toml`.
pub async fn info(path: &std::path::Path, json: bool) -> Result<()> {
    let ctx = NodeChainContext::load(path).await?;
    let Some(pool) = ctx.own_pool().await? else {
        bail!(
            "no staking pool on chain has this node's BLS key {}: register the node first \
             (`floe node register --config {}`)",
            ctx.key.public_key(),
            path.display()
        );
    };
    let state = ctx.floe.staking_state().await?;
    let node_id = pool.node_info.node_id;
    let cap = ctx.operator_cap(node_id).await?;
    let report = report(&pool, &state, cap);
    if json {
        println!("{report}");
    } else {
        print_human(&report, &pool);
    }
    Ok(())
}

fn shards_in(committee: &floe_core::move_types::Committee, node: ObjectId) -> Vec<u16> {
    committee
        .pos0
        .contents
        .iter()
        .find(|e| e.key == node)
        .map(|e| e.value.clone())
        .unwrap_or_default()
}

fn pending(values: &PendingValues) -> Value {
    Value::Array(
        values
            .pos0
            .contents
            .iter()
            .map(|e| json!({"epoch": e.key, "value": e.value}))
            .collect(),
    )
}

fn authorized(a: &Authorized) -> Value {
    match a {
        Authorized::Address(address) => json!({"address": address.to_string()}),
        Authorized::ObjectID(id) => json!({"object": id.to_string()}),
    }
}

/// The node's on-chain record as one JSON value (what `--json` prints and
/// the human form is drawn from).
fn report(pool: &StakingPool, state: &StakingInnerV1, cap: Option<(Address, Address)>) -> Value {
    let node = pool.node_info.node_id;
    let state_name = match pool.state {
        PoolState::Active => json!("active"),
        PoolState::Withdrawing(epoch) => json!({"withdrawing": epoch}),
        PoolState::Withdrawn => json!("withdrawn"),
    };
    let next = state.next_committee.as_ref().map(|c| shards_in(c, node));
    let epoch_start = match state.epoch_state {
        EpochState::EpochChangeDone(t) | EpochState::NextParamsSelected(t) => Some(t),
        EpochState::EpochChangeSync(_) => None,
    };
    json!({
        "node_id": node.to_string(),
        "name": pool.node_info.name,
        "network_address": pool.node_info.network_address,
        "public_key": hex::encode(&pool.node_info.public_key.bytes),
        "network_public_key": hex::encode(&pool.node_info.network_public_key),
        "state": state_name,
        "activation_epoch": pool.activation_epoch,
        "latest_epoch": pool.latest_epoch,
        "epoch": state.epoch,
        "epoch_start_ms": epoch_start,
        "stake_frost": pool.wal_balance,
        "pending_stake": pending(&pool.pending_stake),
        "shards": shards_in(&state.committee, node),
        "previous_shards": shards_in(&state.previous_committee, node),
        "next_shards": next,
        "commission_rate_bps": pool.commission_rate,
        "pending_commission_rates": pending(&pool.pending_commission_rate),
        "commission_frost": pool.commission.value,
        "commission_receiver": authorized(&pool.commission_receiver),
        "governance_authorized": authorized(&pool.governance_authorized),
        "votes": {
            "storage_price_frost": pool.voting_params.storage_price,
            "write_price_frost": pool.voting_params.write_price,
            "node_capacity_bytes": pool.voting_params.node_capacity,
        },
        "rewards_pool_frost": pool.rewards_pool.value,
        "cap": cap.map(|(id, owner)| json!({"id": id.to_string(), "owner": owner.to_string()})),
    })
}

fn shard_list(shards: &Value) -> String {
    match shards.as_array() {
        Some(list) if list.is_empty() => "none".into(),
        Some(list) => format!(
            "{} ({})",
            list.len(),
            list.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "not selected yet".into(),
    }
}

fn print_human(r: &Value, pool: &StakingPool) {
    println!(
        "Node {} ({})",
        r["name"].as_str().unwrap_or(""),
        r["node_id"]
    );
    println!("  network address     {}", pool.node_info.network_address);
    println!("  pool state          {}", r["state"]);
    let since = r["epoch_start_ms"]
        .as_u64()
        .map(|t| format!(", since {}", date(t)))
        .unwrap_or_default();
    println!("  epoch               {}{since}", r["epoch"]);
    println!("  stake               {}", wal(pool.wal_balance));
    for e in &pool.pending_stake.pos0.contents {
        println!(
            "    pending           {} from epoch {}",
            wal(e.value),
            e.key
        );
    }
    println!("  shards now          {}", shard_list(&r["shards"]));
    println!("  shards next epoch   {}", shard_list(&r["next_shards"]));
    println!(
        "  commission          {:.2}% ({} bps)",
        f64::from(pool.commission_rate) / 100.0,
        pool.commission_rate
    );
    for e in &pool.pending_commission_rate.pos0.contents {
        println!("    from epoch {:<6} {:.2}%", e.key, e.value as f64 / 100.0);
    }
    println!("  commission earned   {}", wal(pool.commission.value));
    println!("  commission receiver {}", r["commission_receiver"]);
    println!(
        "  votes               storage {} / MiB / epoch, write {} / MiB, capacity {}",
        wal(pool.voting_params.storage_price),
        wal(pool.voting_params.write_price),
        human_bytes(pool.voting_params.node_capacity)
    );
    match r["cap"].as_object() {
        Some(cap) => println!(
            "  cap                 {} (held by {})",
            cap["id"], cap["owner"]
        ),
        None => println!("  cap                 not held by the configured [operator]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_lists_read_naturally() {
        assert_eq!(shard_list(&json!([])), "none");
        assert_eq!(shard_list(&json!([1, 2])), "2 (1, 2)");
        assert_eq!(shard_list(&Value::Null), "not selected yet");
    }
}
