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

/// What `floe node register` sends besides the node's keys.
#[derive(Debug, Clone, clap::Args)]
pub struct RegisterArgs {
    /// The node's name on chain (at most 100 bytes).
    #[arg(long)]
    pub name: String,
    /// `host:port` clients and peers reach the node at (default: the
    /// config's `listen` when it names a host).
    #[arg(long)]
    pub network_address: Option<String>,
    /// Commission on the pool's rewards, in basis points (0..=10000).
    #[arg(long, default_value_t = 0)]
    pub commission_bps: u16,
    /// Storage price vote, FROST per MiB per epoch.
    #[arg(long)]
    pub storage_price: u64,
    /// Write price vote, FROST per MiB.
    #[arg(long)]
    pub write_price: u64,
    /// Capacity vote, bytes.
    #[arg(long)]
    pub capacity: u64,
    /// The node's 33-byte network public key (secp256r1, hex); by default
    /// a new key is made and its secret kept in the data directory
    /// (`network.key`).
    #[arg(long)]
    pub network_public_key: Option<String>,
    #[arg(long, default_value = "")]
    pub image_url: String,
    #[arg(long, default_value = "")]
    pub project_url: String,
    #[arg(long, default_value = "")]
    pub description: String,
}

/// Walrus's bound on a name.
const MAX_NAME: usize = 100;
/// Basis points in 100%.
const MAX_COMMISSION_BPS: u16 = 10_000;

fn check_commission(bps: u16) -> Result<()> {
    if bps > MAX_COMMISSION_BPS {
        bail!("a commission of {bps} bps is over 100% (at most {MAX_COMMISSION_BPS} bps)");
    }
    Ok(())
}

impl NodeChainContext {
    /// The operator's key from `[operator]`, or an error saying what to add.
    pub fn operator_key(&self) -> Result<floe_chain::KeyPair> {
        let Some(operator) = &self.config.operator else {
            bail!(
                "the config has no [operator] section: add `keystore` and `address` of the Sui \
                 key that pays and holds the node's StorageNodeCap"
            );
        };
        let loaded = floe_node::operator::Operator::load(operator)?;
        Ok(loaded.key().clone())
    }

    /// The pool and the cap its operator holds, or errors that say why not.
    async fn pool_and_cap(&self) -> Result<(StakingPool, Address)> {
        let pool = self.own_pool().await?.ok_or_else(|| {
            anyhow::anyhow!(
                "this node's BLS key {} is not registered: run `floe node register` first",
                self.key.public_key()
            )
        })?;
        let (cap, _) = self
            .operator_cap(pool.node_info.node_id)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the [operator] address does not own the StorageNodeCap of node {}: only the \
                     cap's owner can change the node",
                    pool.node_info.node_id
                )
            })?;
        Ok((pool, cap))
    }
}

/// A new secp256r1 network key: the secret is written (0600, new file) to
/// `path`, the 33-byte compressed public key is returned.
fn new_network_key(path: &std::path::Path) -> Result<Vec<u8>> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    let secret = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
            break key;
        }
    };
    let public = secret.public_key().to_sec1_point(true).as_bytes().to_vec();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    floe_chain::keystore::write_private_file(
        path,
        hex::encode(secret.to_bytes()).as_bytes(),
        floe_chain::keystore::Existing::Refuse,
    )
    .with_context(|| format!("writing the network key {}", path.display()))?;
    Ok(public)
}

/// `floe node register`: checks everything it can before paying, signs
/// the proof of possession with the node's BLS key, registers with the
/// operator key (which receives the `StorageNodeCap`).
pub async fn register(path: &std::path::Path, args: RegisterArgs, json: bool) -> Result<()> {
    let ctx = NodeChainContext::load(path).await?;
    let name = args.name.clone();
    let registered = register_with(&ctx, args).await?;
    if json {
        println!(
            "{}",
            json!({
                "node_id": registered.node_id.to_string(),
                "cap": registered.cap.to_string(),
                "digest": registered.digest,
                "network_address": registered.network_address,
            })
        );
    } else {
        println!(
            "registered node {} ({name}) at {}; StorageNodeCap {} held by {}",
            registered.node_id, registered.network_address, registered.cap, registered.operator
        );
        println!("it joins the committee at an epoch change once stake is delegated to it");
    }
    Ok(())
}

/// What a registration made on chain.
pub struct Registered {
    pub node_id: ObjectId,
    pub cap: Address,
    pub digest: String,
    pub network_address: String,
    pub operator: Address,
}

/// The checks and the registration of `floe node register`, without
/// output (`floe devnet add-node` registers its nodes through it too).
pub async fn register_with(ctx: &NodeChainContext, args: RegisterArgs) -> Result<Registered> {
    use floe_chain::floe::membership::NodeRegistration;
    let operator = ctx.operator_key()?;
    if args.name.is_empty() || args.name.len() > MAX_NAME {
        bail!(
            "the name must be 1 to {MAX_NAME} bytes, not {}",
            args.name.len()
        );
    }
    check_commission(args.commission_bps)?;
    let network_address = match args.network_address {
        Some(a) => a,
        None if !ctx.config.listen.ip().is_unspecified() => ctx.config.listen.to_string(),
        None => bail!(
            "the config listens on {}: give --network-address HOST:PORT that others can reach",
            ctx.config.listen
        ),
    };
    floe_chain::floe::endpoints::check_network_address(&network_address)
        .map_err(|e| anyhow::anyhow!("--network-address {network_address:?}: {e}"))?;
    if let Some(pool) = ctx.own_pool().await? {
        bail!(
            "this node's BLS key is already registered as node {} ({:?}); use `floe node update`",
            pool.node_info.node_id,
            pool.node_info.name
        );
    }
    let network_public_key = match &args.network_public_key {
        Some(text) => {
            let bytes = hex::decode(text.trim_start_matches("0x"))
                .context("--network-public-key is not hex")?;
            if bytes.len() != 33 {
                bail!(
                    "--network-public-key must be 33 bytes (compressed secp256r1), not {}",
                    bytes.len()
                );
            }
            bytes
        }
        None => new_network_key(&ctx.config.data_dir.join("network.key"))?,
    };
    let epoch = ctx.floe.staking_state().await?.epoch;
    let reg = NodeRegistration {
        name: args.name.clone(),
        network_address: network_address.clone(),
        metadata: floe_core::move_types::NodeMetadata {
            image_url: args.image_url,
            project_url: args.project_url,
            description: args.description,
            extra_fields: Default::default(),
        },
        public_key: ctx.key.public_key(),
        network_public_key,
        proof_of_possession: NodeRegistration::proof_of_possession(
            &ctx.key,
            epoch,
            operator.address(),
        ),
        commission_rate_bps: args.commission_bps,
        votes: floe_core::move_types::VotingParams {
            storage_price: args.storage_price,
            write_price: args.write_price,
            node_capacity: args.capacity,
        },
    };
    let registration = ctx.floe.register_candidate(&operator, &reg).await?;
    Ok(Registered {
        node_id: registration.node_id,
        cap: registration.cap,
        digest: registration.tx.digest.to_string(),
        network_address,
        operator: operator.address(),
    })
}

/// `floe node update`: each given setting, one transaction per setter.
#[derive(Debug, Clone, clap::Args)]
pub struct UpdateArgs {
    /// New name.
    #[arg(long)]
    pub name: Option<String>,
    /// New `host:port`.
    #[arg(long)]
    pub network_address: Option<String>,
    /// Commission from two epochs ahead, basis points.
    #[arg(long)]
    pub commission_bps: Option<u16>,
    /// Storage price vote (FROST per MiB per epoch); prices are recomputed.
    #[arg(long)]
    pub storage_price: Option<u64>,
    /// Write price vote (FROST per MiB); prices are recomputed.
    #[arg(long)]
    pub write_price: Option<u64>,
    /// Capacity vote, bytes.
    #[arg(long)]
    pub capacity: Option<u64>,
}

pub async fn update(path: &std::path::Path, args: UpdateArgs, json: bool) -> Result<()> {
    if let Some(bps) = args.commission_bps {
        check_commission(bps)?;
    }
    if let Some(name) = &args.name
        && (name.is_empty() || name.len() > MAX_NAME)
    {
        bail!("the name must be 1 to {MAX_NAME} bytes, not {}", name.len());
    }
    if let Some(address) = &args.network_address {
        floe_chain::floe::endpoints::check_network_address(address)
            .map_err(|e| anyhow::anyhow!("--network-address {address:?}: {e}"))?;
    }
    let ctx = NodeChainContext::load(path).await?;
    let operator = ctx.operator_key()?;
    let (_, cap) = ctx.pool_and_cap().await?;
    let mut done = Vec::new();
    let f = &ctx.floe;
    if let Some(name) = &args.name {
        f.set_node_name(&operator, cap, name)
            .await?
            .ensure_success()?;
        done.push("name");
    }
    if let Some(address) = &args.network_address {
        f.set_network_address(&operator, cap, address)
            .await?
            .ensure_success()?;
        done.push("network_address");
    }
    if let Some(bps) = args.commission_bps {
        f.set_next_commission(&operator, cap, bps)
            .await?
            .ensure_success()?;
        done.push("commission");
    }
    if args.storage_price.is_some() || args.write_price.is_some() {
        f.vote_prices(&operator, cap, args.storage_price, args.write_price)
            .await?
            .ensure_success()?;
        done.push("prices");
    }
    if let Some(capacity) = args.capacity {
        f.set_node_capacity_vote(&operator, cap, capacity)
            .await?
            .ensure_success()?;
        done.push("capacity");
    }
    if done.is_empty() {
        bail!(
            "nothing to change: give at least one of --name, --network-address, --commission-bps, --storage-price, --write-price, --capacity"
        );
    }
    if json {
        println!("{}", json!({ "updated": done }));
    } else {
        println!("updated {}", done.join(", "));
    }
    Ok(())
}

/// `floe node collect-commission`: the collectable commission to the
/// operator, proven by the cap (the pool's commission receiver).
pub async fn collect_commission(path: &std::path::Path, json: bool) -> Result<()> {
    use floe_chain::floe::membership::AuthWith;
    let ctx = NodeChainContext::load(path).await?;
    let operator = ctx.operator_key()?;
    let (pool, cap) = ctx.pool_and_cap().await?;
    let node_id = pool.node_info.node_id;
    let before = ctx.floe.wal_balance(operator.address()).await?;
    ctx.floe
        .collect_commission(&operator, node_id, AuthWith::Cap(cap))
        .await?
        .ensure_success()?;
    let after = ctx.floe.wal_balance(operator.address()).await?;
    let collected = after.saturating_sub(before);
    if json {
        println!(
            "{}",
            json!({ "node_id": node_id.to_string(), "collected_frost": collected })
        );
    } else {
        println!(
            "collected {} of commission for node {node_id}",
            wal(collected)
        );
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
