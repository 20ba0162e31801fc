//! `floe governance`: parameter proposals and votes by committee nodes.
//!
//! - `propose --config node.toml PARAMETER VALUE` and `vote --config
//!   node.toml ID --for|--against` act for the node whose BLS key the
//!   config holds, signed by its `[operator]` key, which must be the pool's
//!   governance authority (the registering address; for genesis nodes the
//!   operator). The proposer's vote for counts at once.
//! - `list` and `show ID` read the chain through the client config (like
//!   `floe info`): tallies in shards, the quorum (`3w >= 2n + 1`) and the
//!   deadline, the end of the proposal's epoch, when a passed proposal takes
//!   effect and any other expires.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use floe_chain::floe::Floe;
use floe_chain::floe::governance::{ProposalStatus, created_proposal};
use floe_chain::floe::membership::AuthWith;
use floe_core::move_types::ParameterChange;
use serde_json::json;

use super::client::ConfigArg;
use super::client::info::date;
use super::client::wal;
use super::node_operator::NodeChainContext;

#[derive(Debug, Args)]
pub struct GovernanceArgs {
    #[command(subcommand)]
    command: GovernanceCommand,
}

#[derive(Debug, Subcommand)]
enum GovernanceCommand {
    /// Propose a parameter change for your node (counts its vote for).
    Propose {
        /// The node's config file (its BLS key names the node, `[operator]`
        /// signs).
        #[arg(long)]
        config: PathBuf,
        /// The parameter.
        parameter: Parameter,
        /// The new value: a duration for `epoch-duration` (`90s`, `2h`, or
        /// milliseconds), FROST for the subsidies, basis points for the
        /// subsidy rate, a count otherwise.
        value: String,
    },
    /// Vote for or against a proposal with your node's shards.
    Vote {
        /// The node's config file.
        #[arg(long)]
        config: PathBuf,
        /// The proposal id (`floe governance list`).
        id: u64,
        /// Vote for.
        #[arg(
            long = "for",
            conflicts_with = "against",
            required_unless_present = "against"
        )]
        in_favor: bool,
        /// Vote against.
        #[arg(long)]
        against: bool,
    },
    /// Open and passed proposals with their tallies.
    List {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// One proposal with every voter.
    Show {
        #[command(flatten)]
        config: ConfigArg,
        id: u64,
    },
}

/// A governed parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Parameter {
    /// Epoch length, from the epoch after the change on (10s ..= 30 days).
    EpochDuration,
    /// How many epochs ahead storage is sold (only grows, at most 1000).
    MaxEpochsAhead,
    /// Most nodes in the active set (1 ..= min(1000, shards)).
    ActiveSetSize,
    /// Subsidy added to new rewards, basis points (at most 1_000_000).
    SystemSubsidyRate,
    /// Subsidy per committee node and epoch, FROST (at most 100_000 WAL).
    BaseSubsidy,
    /// Subsidy per shard and epoch, FROST (at most 1_000 WAL).
    SubsidyPerShard,
}

fn parse_change(parameter: Parameter, value: &str) -> Result<ParameterChange> {
    let int = |what: &str| -> Result<u64> {
        value
            .trim()
            .replace('_', "")
            .parse::<u64>()
            .with_context(|| format!("{what} {value:?} is not a whole number"))
    };
    let narrow = |v: u64, max: u64, what: &str| -> Result<u64> {
        if v > max {
            bail!("{what} {v} does not fit (at most {max})");
        }
        Ok(v)
    };
    Ok(match parameter {
        Parameter::EpochDuration => {
            let ms = match value.trim().parse::<u64>() {
                Ok(ms) => ms,
                Err(_) => {
                    let d = humantime::parse_duration(value.trim())
                        .with_context(|| format!("{value:?} is not a duration"))?;
                    u64::try_from(d.as_millis()).context("duration too long")?
                }
            };
            ParameterChange::EpochDuration(ms)
        }
        Parameter::MaxEpochsAhead => {
            ParameterChange::MaxEpochsAhead(
                narrow(int("epochs")?, u64::from(u32::MAX), "epochs")? as u32
            )
        }
        Parameter::ActiveSetSize => {
            ParameterChange::ActiveSetSize(narrow(int("size")?, u64::from(u16::MAX), "size")? as u16)
        }
        Parameter::SystemSubsidyRate => {
            ParameterChange::SystemSubsidyRate(
                narrow(int("rate")?, u64::from(u32::MAX), "rate")? as u32
            )
        }
        Parameter::BaseSubsidy => ParameterChange::BaseSubsidy(int("FROST")?),
        Parameter::SubsidyPerShard => ParameterChange::SubsidyPerShard(int("FROST")?),
    })
}

/// The new value for people.
fn describe(parameter: &str, value: u64) -> String {
    match parameter {
        "epoch-duration" => format!(
            "{} ({value} ms)",
            humantime::format_duration(Duration::from_millis(value))
        ),
        "base-subsidy" | "subsidy-per-shard" => wal(value),
        "system-subsidy-rate" => format!("{value} bps ({:.2}%)", value as f64 / 100.0),
        _ => value.to_string(),
    }
}

pub fn run(args: GovernanceArgs, json: bool) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        match args.command {
            GovernanceCommand::Propose {
                config,
                parameter,
                value,
            } => propose(&config, parameter, &value, json).await,
            GovernanceCommand::Vote {
                config,
                id,
                in_favor,
                against,
            } => vote(&config, id, in_favor && !against, json).await,
            GovernanceCommand::List { config } => {
                let client = config.connect().await?;
                list(client.floe(), json).await
            }
            GovernanceCommand::Show { config, id } => {
                let client = config.connect().await?;
                show(client.floe(), id, json).await
            }
        }
    })
}

/// The node of `path` and the key that governs it.
async fn node(
    path: &std::path::Path,
) -> Result<(
    NodeChainContext,
    floe_core::move_types::ObjectId,
    floe_chain::KeyPair,
)> {
    let ctx = NodeChainContext::load(path).await?;
    let key = ctx.operator_key()?;
    let pool = ctx.own_pool().await?.ok_or_else(|| {
        anyhow::anyhow!(
            "this node's BLS key {} is not registered: run `floe node register` first",
            ctx.key.public_key()
        )
    })?;
    Ok((ctx, pool.node_info.node_id, key))
}

async fn propose(
    path: &std::path::Path,
    parameter: Parameter,
    value: &str,
    json: bool,
) -> Result<()> {
    let change = parse_change(parameter, value)?;
    let (ctx, node_id, key) = node(path).await?;
    let tx = ctx
        .floe
        .propose_parameter_change(&key, node_id, AuthWith::Sender, &change)
        .await?;
    let tx = tx.ensure_success()?;
    let id = created_proposal(&ctx.floe, &tx).context("the transaction has no ProposalCreated")?;
    let status = ctx.floe.proposals().await?.into_iter().find(|p| p.id == id);
    if json {
        println!(
            "{}",
            json!({"id": id, "digest": tx.digest.to_string(), "proposal": status})
        );
    } else {
        println!(
            "proposal {id}: {} -> {} (transaction {})",
            change.parameter(),
            describe(change.parameter(), change.value()),
            tx.digest
        );
        if let Some(p) = status {
            print_tallies(&p);
        }
    }
    Ok(())
}

async fn vote(path: &std::path::Path, id: u64, in_favor: bool, json: bool) -> Result<()> {
    let (ctx, node_id, key) = node(path).await?;
    let tx = ctx
        .floe
        .vote_on_parameter_change(&key, node_id, AuthWith::Sender, id, in_favor)
        .await?;
    let tx = tx.ensure_success()?;
    let status = ctx.floe.proposals().await?.into_iter().find(|p| p.id == id);
    if json {
        println!(
            "{}",
            json!({"id": id, "in_favor": in_favor, "digest": tx.digest.to_string(), "proposal": status})
        );
    } else {
        println!(
            "voted {} proposal {id} with node {node_id} (transaction {})",
            if in_favor { "for" } else { "against" },
            tx.digest
        );
        if let Some(p) = status {
            print_tallies(&p);
        }
    }
    Ok(())
}

async fn list(floe: &Floe, json: bool) -> Result<()> {
    let proposals = floe.proposals().await?;
    if json {
        println!("{}", serde_json::to_string(&proposals)?);
        return Ok(());
    }
    if proposals.is_empty() {
        println!("no open or passed proposals");
    }
    for p in &proposals {
        println!(
            "proposal {}: {} -> {} [{}]",
            p.id,
            p.parameter,
            describe(p.parameter, p.value),
            p.status
        );
        print_tallies(p);
    }
    Ok(())
}

async fn show(floe: &Floe, id: u64, json: bool) -> Result<()> {
    let Some(p) = floe.proposals().await?.into_iter().find(|p| p.id == id) else {
        bail!(
            "no open or passed proposal {id}: proposals are removed at the epoch change that \
             applies or expires them (the indexer keeps their history)"
        );
    };
    if json {
        println!("{}", serde_json::to_string(&p)?);
        return Ok(());
    }
    println!(
        "proposal {}: {} -> {} [{}]",
        p.id,
        p.parameter,
        describe(p.parameter, p.value),
        p.status
    );
    println!("  proposed by node {}", p.proposer);
    print_tallies(&p);
    println!("  voters:");
    for v in &p.voters {
        println!("    {v}");
    }
    Ok(())
}

fn print_tallies(p: &ProposalStatus) {
    println!(
        "  epoch {}: {} shards for, {} against, of {}; quorum {}{}",
        p.epoch,
        p.votes_for,
        p.votes_against,
        p.n_shards,
        p.quorum,
        if p.cannot_pass {
            " (can no longer pass)"
        } else {
            ""
        }
    );
    let when = match p.deadline_ms {
        Some(ms) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let left = Duration::from_secs(ms.saturating_sub(now) / 1000);
            format!("{} (in {})", date(ms), humantime::format_duration(left))
        }
        None => "when the running epoch change completes".to_owned(),
    };
    if p.status == "passed" {
        println!("  takes effect at the end of epoch {}: {when}", p.epoch);
    } else {
        println!(
            "  expires unless it passes by the end of epoch {}: {when}",
            p.epoch
        );
    }
}
