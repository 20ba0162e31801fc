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
//!   effect and any other expires. They include upgrade and slashing
//!   proposals (`governance_votes`), with the indexer's ids
//!   (`upgrade-EPOCH-DIGEST`, `slashing-EPOCH-NODE`).
//! - `vote --upgrade DIGEST` / `vote --slash NODE_ID` vote for an upgrade
//!   or a slashing; `authorize-upgrade DIGEST` and `slash NODE_ID` act on
//!   a quorum (anyone, signed by the client wallet).

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
use super::governance_votes;
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
    /// Vote for or against a parameter proposal, or for an upgrade or a
    /// slashing, with your node's shards.
    Vote {
        /// The node's config file.
        #[arg(long)]
        config: PathBuf,
        /// The parameter proposal id (`floe governance list`).
        #[arg(required_unless_present_any = ["upgrade", "slash"], conflicts_with_all = ["upgrade", "slash"])]
        id: Option<u64>,
        /// Vote for.
        #[arg(
            long = "for",
            conflicts_with = "against",
            required_unless_present_any = ["against", "upgrade", "slash"]
        )]
        in_favor: bool,
        /// Vote against.
        #[arg(long)]
        against: bool,
        /// Vote for upgrading the package to the one of this digest (64
        /// hex digits).
        #[arg(long, value_name = "DIGEST", conflicts_with_all = ["slash", "in_favor", "against"])]
        upgrade: Option<String>,
        /// Vote to slash this node (its whole commission is burnt once a
        /// quorum voted, by `floe governance slash`).
        #[arg(long, value_name = "NODE_ID", conflicts_with_all = ["in_favor", "against"])]
        slash: Option<String>,
    },
    /// Authorize an upgrade a quorum voted for this epoch (anyone).
    AuthorizeUpgrade {
        #[command(flatten)]
        config: ConfigArg,
        /// The package digest (64 hex digits).
        digest: String,
    },
    /// Execute a slashing a quorum voted for this epoch (anyone): burns
    /// the node's whole commission.
    Slash {
        #[command(flatten)]
        config: ConfigArg,
        /// The node to slash.
        node_id: String,
    },
    /// Open and passed proposals with their tallies.
    List {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// One proposal with every voter: a parameter proposal id,
    /// `upgrade-[EPOCH-]DIGEST` or `slashing-[EPOCH-]NODE_ID`.
    Show {
        #[command(flatten)]
        config: ConfigArg,
        id: String,
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
                upgrade,
                slash,
            } => {
                if let Some(digest) = upgrade {
                    let (ctx, node_id, key) = node(&config).await?;
                    return governance_votes::vote_upgrade(&ctx.floe, &key, node_id, &digest, json)
                        .await;
                }
                if let Some(candidate) = slash {
                    let (ctx, node_id, key) = node(&config).await?;
                    return governance_votes::vote_slash(
                        &ctx.floe, &key, node_id, &candidate, json,
                    )
                    .await;
                }
                let id = id.context("give a proposal id, --upgrade DIGEST or --slash NODE_ID")?;
                vote(&config, id, in_favor && !against, json).await
            }
            GovernanceCommand::AuthorizeUpgrade { config, digest } => {
                let client = config.connect().await?;
                governance_votes::authorize(client.floe(), client.wallet()?, &digest, json).await
            }
            GovernanceCommand::Slash { config, node_id } => {
                let client = config.connect().await?;
                governance_votes::slash(client.floe(), client.wallet()?, &node_id, json).await
            }
            GovernanceCommand::List { config } => {
                let client = config.connect().await?;
                list(client.floe(), json).await
            }
            GovernanceCommand::Show { config, id } => {
                let client = config.connect().await?;
                if governance_votes::show(client.floe(), &id, json).await? {
                    return Ok(());
                }
                let id = id.parse::<u64>().with_context(|| {
                    format!(
                        "{id:?} is not a proposal id (a number, upgrade-[EPOCH-]DIGEST or \
                         slashing-[EPOCH-]NODE_ID)"
                    )
                })?;
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
    let (_, upgrades, slashings) = governance_votes::proposals(floe).await?;
    if json {
        // One array: parameter proposals as they are (numeric ids), then
        // upgrade and slashing proposals with the indexer's ids.
        let mut all = Vec::new();
        for p in &proposals {
            let mut v = serde_json::to_value(p)?;
            v["kind"] = json!("parameter");
            all.push(v);
        }
        for p in &upgrades {
            let mut v = serde_json::to_value(p)?;
            v["kind"] = json!("upgrade");
            v["id"] = json!(governance_votes::upgrade_id(p));
            all.push(v);
        }
        for p in &slashings {
            let mut v = serde_json::to_value(p)?;
            v["kind"] = json!("slashing");
            v["id"] = json!(governance_votes::slashing_id(p));
            all.push(v);
        }
        println!("{}", serde_json::Value::Array(all));
        return Ok(());
    }
    if proposals.is_empty() && upgrades.is_empty() && slashings.is_empty() {
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
    for p in &upgrades {
        println!(
            "{}: upgrade to version {} [{}]",
            governance_votes::upgrade_id(p),
            p.version,
            p.status
        );
        governance_votes::print_upgrade(p);
    }
    for p in &slashings {
        println!(
            "{}: slash {} [{}]",
            governance_votes::slashing_id(p),
            p.candidate,
            p.status
        );
        governance_votes::print_slashing(p);
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
