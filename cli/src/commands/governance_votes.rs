//! `floe governance` for Walrus's vote-governed actions: upgrade votes
//! (`vote --upgrade DIGEST`, `authorize-upgrade DIGEST`) and slashing
//! votes (`vote --slash NODE_ID`, `slash NODE_ID` to execute), and their
//! part of `list`/`show`. Votes are signed by the node config's
//! `[operator]` key as the pool's governance authority and weigh the
//! node's shards in the current committee; authorizing and executing are
//! open to anyone (the client wallet signs). On the devnet an authorized
//! upgrade cannot run (its ledger has no Upgrade command): the
//! authorization is recorded on chain and that is all.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use floe_chain::floe::Floe;
use floe_chain::floe::membership::AuthWith;
use floe_chain::floe::votes::{
    GovernanceIds, SlashingStatus, UpgradeStatus, hex, node_slashed, parse_digest,
    upgrade_authorized,
};
use floe_core::move_types::ObjectId;
use serde_json::json;

use super::client::info::date;
use super::client::wal;

/// A node id from the command line.
pub fn parse_node_id(s: &str) -> Result<ObjectId> {
    s.parse::<ObjectId>()
        .with_context(|| format!("{s:?} is not a node id (0x followed by up to 64 hex digits)"))
}

/// `vote --upgrade DIGEST` for the node `node_id` governed by `key`.
pub async fn vote_upgrade(
    floe: &Floe,
    key: &floe_chain::KeyPair,
    node_id: ObjectId,
    digest: &str,
    json: bool,
) -> Result<()> {
    let digest = parse_digest(digest)?;
    let gov = floe.governance_ids().await?;
    let tx = floe
        .vote_for_upgrade(key, &gov, node_id, AuthWith::Sender, &digest)
        .await?
        .ensure_success()?;
    let status = floe
        .upgrade_proposals(&gov)
        .await?
        .into_iter()
        .find(|p| p.digest == hex(&digest));
    if json {
        println!(
            "{}",
            json!({"upgrade": hex(&digest), "node_id": node_id.to_string(), "digest": tx.digest.to_string(), "proposal": status})
        );
    } else {
        println!(
            "voted for upgrade {} with node {node_id} (transaction {})",
            hex(&digest),
            tx.digest
        );
        if let Some(p) = &status {
            print_upgrade(p);
        }
    }
    Ok(())
}

/// `vote --slash NODE_ID` for the node `node_id` governed by `key`.
pub async fn vote_slash(
    floe: &Floe,
    key: &floe_chain::KeyPair,
    node_id: ObjectId,
    candidate: &str,
    json: bool,
) -> Result<()> {
    let candidate = parse_node_id(candidate)?;
    let gov = floe.governance_ids().await?;
    let tx = floe
        .vote_for_slashing(key, &gov, node_id, AuthWith::Sender, candidate)
        .await?
        .ensure_success()?;
    let status = floe
        .slashing_proposals(&gov)
        .await?
        .into_iter()
        .find(|p| p.candidate == floe_chain::floe::to_address(candidate));
    if json {
        println!(
            "{}",
            json!({"slash": candidate.to_string(), "node_id": node_id.to_string(), "digest": tx.digest.to_string(), "proposal": status})
        );
    } else {
        println!(
            "voted to slash {candidate} with node {node_id} (transaction {})",
            tx.digest
        );
        if let Some(p) = &status {
            print_slashing(p);
        }
    }
    Ok(())
}

/// `authorize-upgrade DIGEST`.
pub async fn authorize(
    floe: &Floe,
    key: &floe_chain::KeyPair,
    digest: &str,
    json: bool,
) -> Result<()> {
    let digest = parse_digest(digest)?;
    let gov = floe.governance_ids().await?;
    let tx = floe
        .authorize_upgrade(key, &gov, &digest)
        .await?
        .ensure_success()?;
    let event =
        upgrade_authorized(floe, &tx).context("the transaction has no UpgradeAuthorized")?;
    let cap = floe.upgrade_cap_status(&gov).await?;
    if json {
        println!(
            "{}",
            json!({"upgrade": hex(&digest), "epoch": event.epoch, "version": event.version, "digest": tx.digest.to_string(), "cap": cap})
        );
    } else {
        println!(
            "upgrade {} to version {} authorized in epoch {} (transaction {})",
            hex(&digest),
            event.version,
            event.epoch,
            tx.digest
        );
        println!(
            "  the package's upgrade cap now waits for the upgrade; the floe devnet ledger \
             cannot run package upgrades, so on the devnet the authorization is the end"
        );
    }
    Ok(())
}

/// `slash NODE_ID`: executes a slashing voted by a quorum this epoch.
pub async fn slash(
    floe: &Floe,
    key: &floe_chain::KeyPair,
    candidate: &str,
    json: bool,
) -> Result<()> {
    let candidate = parse_node_id(candidate)?;
    let gov = floe.governance_ids().await?;
    let tx = floe
        .execute_slashing(key, &gov, candidate)
        .await?
        .ensure_success()?;
    let event = node_slashed(floe, &tx).context("the transaction has no NodeSlashed")?;
    if json {
        println!(
            "{}",
            json!({"candidate": candidate.to_string(), "epoch": event.epoch, "burnt": event.amount, "digest": tx.digest.to_string()})
        );
    } else {
        println!(
            "node {candidate} slashed in epoch {}: {} of commission burnt (transaction {})",
            event.epoch,
            wal(event.amount),
            tx.digest
        );
    }
    Ok(())
}

/// Upgrade and slashing proposals, for `list`.
pub async fn proposals(
    floe: &Floe,
) -> Result<(GovernanceIds, Vec<UpgradeStatus>, Vec<SlashingStatus>)> {
    let gov = floe.governance_ids().await?;
    let upgrades = floe.upgrade_proposals(&gov).await?;
    let slashings = floe.slashing_proposals(&gov).await?;
    Ok((gov, upgrades, slashings))
}

/// The indexer's id of an upgrade proposal.
pub fn upgrade_id(p: &UpgradeStatus) -> String {
    format!("upgrade-{}-{}", p.epoch, p.digest)
}

/// The indexer's id of a slashing proposal.
pub fn slashing_id(p: &SlashingStatus) -> String {
    format!("slashing-{}-{}", p.epoch, p.candidate)
}

/// `show upgrade-[EPOCH-]DIGEST` / `show slashing-[EPOCH-]NODE_ID`, if
/// `id` names one; `false` if it names neither kind.
pub async fn show(floe: &Floe, id: &str, json: bool) -> Result<bool> {
    // `upgrade-<epoch>-<digest>` (the indexer's id) or `upgrade-<digest>`.
    let last = |rest: &str| rest.rsplit('-').next().unwrap_or(rest).to_owned();
    if let Some(rest) = id.strip_prefix("upgrade-") {
        let digest = hex(&parse_digest(&last(rest))?);
        let (_, upgrades, _) = proposals(floe).await?;
        let Some(p) = upgrades.into_iter().find(|p| p.digest == digest) else {
            bail!("no upgrade proposal for {digest} (authorized or cleaned up ones are gone)");
        };
        if json {
            println!("{}", serde_json::to_string(&p)?);
        } else {
            println!(
                "upgrade {} -> version {} [{}]",
                p.digest, p.version, p.status
            );
            print_upgrade(&p);
            print_voters(&p.voters);
        }
        return Ok(true);
    }
    if let Some(rest) = id.strip_prefix("slashing-") {
        let candidate = floe_chain::floe::to_address(parse_node_id(&last(rest))?);
        let (_, _, slashings) = proposals(floe).await?;
        let Some(p) = slashings.into_iter().find(|p| p.candidate == candidate) else {
            bail!("no slashing proposal for {candidate} (executed or cleaned up ones are gone)");
        };
        if json {
            println!("{}", serde_json::to_string(&p)?);
        } else {
            println!("slashing {} [{}]", p.candidate, p.status);
            print_slashing(&p);
            print_voters(&p.voters);
        }
        return Ok(true);
    }
    Ok(false)
}

fn print_voters(voters: &[floe_chain::sui_sdk_types::Address]) {
    println!("  voters:");
    for v in voters {
        println!("    {v}");
    }
}

fn deadline(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let left = Duration::from_secs(ms.saturating_sub(now) / 1000);
            format!("{} (in {})", date(ms), humantime::format_duration(left))
        }
        None => "already over".to_owned(),
    }
}

/// Tallies of an upgrade proposal for people.
pub fn print_upgrade(p: &UpgradeStatus) {
    println!(
        "  epoch {}: {} of {} shards for; quorum {}",
        p.epoch, p.voting_weight, p.n_shards, p.quorum
    );
    match p.status {
        "quorum" => println!(
            "  may be authorized (`floe governance authorize-upgrade {}`) until the end of epoch {}: {}",
            p.digest,
            p.epoch,
            deadline(p.deadline_ms)
        ),
        "open" => println!(
            "  votes count until the end of epoch {}: {}",
            p.epoch,
            deadline(p.deadline_ms)
        ),
        _ => println!("  stale: the next vote for it starts afresh"),
    }
}

/// Tallies of a slashing proposal for people.
pub fn print_slashing(p: &SlashingStatus) {
    println!(
        "  epoch {}: {} of {} shards for; quorum {}",
        p.epoch, p.voting_weight, p.n_shards, p.quorum
    );
    match p.status {
        "quorum" => println!(
            "  may be executed (`floe governance slash {}`) until the end of epoch {}: {}",
            p.candidate,
            p.epoch,
            deadline(p.deadline_ms)
        ),
        "open" => println!(
            "  votes count until the end of epoch {}: {}",
            p.epoch,
            deadline(p.deadline_ms)
        ),
        _ => println!("  stale: the next vote for it starts afresh"),
    }
}
