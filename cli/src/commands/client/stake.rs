//! Staking: `stake`, `request-withdraw-stake`, `withdraw-stake`,
//! `list-staked-wal`.
//!
//! Stake counts from the next epoch (or the one after, if the next
//! committee is already chosen); withdrawing takes effect at an epoch
//! boundary too, so these commands print the epochs the contract set.

use anyhow::Result;
use clap::Args;
use floe_chain::sui_sdk_types::Address;
use floe_client::staking::StakedWalInfo;
use floe_core::move_types::ObjectId;

use super::{ConfigArg, confirm, print_json, wal};

/// Arguments of `floe stake`.
#[derive(Debug, Args)]
pub struct StakeArgs {
    /// The storage node (its node id, as `floe info` lists it).
    #[arg(long)]
    node_id: Address,
    /// How much to stake, in WAL (e.g. `100` or `2.5`; at least 1).
    #[arg(long)]
    amount: String,
    /// Stake without asking.
    #[arg(long, short)]
    yes: bool,
    #[command(flatten)]
    config: ConfigArg,
}

/// Arguments of `floe request-withdraw-stake` and `floe withdraw-stake`.
#[derive(Debug, Args)]
pub struct StakedWalArgs {
    /// The StakedWal object id (`floe list-staked-wal`).
    #[arg(long)]
    staked_wal_id: Address,
    #[command(flatten)]
    config: ConfigArg,
}

/// Arguments of `floe list-staked-wal`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    config: ConfigArg,
}

fn describe(s: &StakedWalInfo) -> String {
    let node = match &s.node_name {
        Some(name) => format!("{name} ({})", s.node_id),
        None => s.node_id.clone(),
    };
    let state = match s.withdraw_epoch {
        Some(e) => format!("withdrawing: withdraw-stake from epoch {e}"),
        None => format!("staked, active from epoch {}", s.activation_epoch),
    };
    format!("{}  {}  with {node}  {state}", s.id, wal(s.principal))
}

/// `floe stake`.
pub async fn stake(args: StakeArgs, json: bool) -> Result<()> {
    let amount = floe_core::price::parse_wal(&args.amount)?;
    let client = args.config.connect().await?;
    confirm(
        &format!("stake {} with node {}?", wal(amount), args.node_id),
        args.yes,
    )?;
    let staked = client
        .stake(ObjectId(args.node_id.into_inner()), amount)
        .await?;
    if json {
        return print_json(&staked);
    }
    println!("staked {}", describe(&staked));
    Ok(())
}

/// `floe request-withdraw-stake`.
pub async fn request_withdraw(args: StakedWalArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let staked = client.request_withdraw_stake(args.staked_wal_id).await?;
    if json {
        return print_json(&staked);
    }
    println!("requested {}", describe(&staked));
    Ok(())
}

/// `floe withdraw-stake`.
pub async fn withdraw(args: StakedWalArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let amount = client.withdraw_stake(args.staked_wal_id).await?;
    if json {
        return print_json(&serde_json::json!({
            "stakedWalId": args.staked_wal_id,
            "withdrawn": amount,
        }));
    }
    println!(
        "withdrew {} (principal and rewards) from {}",
        wal(amount),
        args.staked_wal_id
    );
    Ok(())
}

/// `floe list-staked-wal`.
pub async fn list(args: ListArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let staked = client.list_staked_wal().await?;
    if json {
        return print_json(&staked);
    }
    if staked.is_empty() {
        println!("the wallet has no staked WAL");
    }
    for s in &staked {
        println!("{}", describe(s));
    }
    Ok(())
}
