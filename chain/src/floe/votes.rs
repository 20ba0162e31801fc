//! Upgrade and slashing votes and the subsidies pool: typed calls to
//! `floe::upgrade`, `floe::slashing` and `floe::subsidies`, and reads of
//! their shared objects (`UpgradeManager`, `SlashingManager`,
//! `Subsidies`, created at genesis and found in its checkpoint).
//!
//! Who may call: votes come from a node of the current committee acting
//! as its pool's governance authority ([`AuthWith`]), weighted by its
//! shards; authorizing an upgrade, executing a slashing, funding and
//! processing subsidies are open to anyone. Votes count in their epoch
//! only. On the devnet an authorized upgrade cannot run (the ledger has no
//! Upgrade command): [`Floe::authorize_upgrade`] is a transaction of its
//! own whose `UpgradeAuthorized` event and manager state record it.

use floe_core::move_types::{
    NodeSlashed, ObjectId, SlashingManager, Subsidies, SubsidiesPaid, UpgradeAuthorized,
    UpgradeManager,
};
use serde::Serialize;
use sui_sdk_types::{Address, StructTag};
use sui_transaction_builder::{Argument, TransactionBuilder};

use super::governance::quorum_weight;
use super::membership::AuthWith;
use super::staking::CLOCK;
use super::{Floe, FloeError, to_address};
use crate::keystore::KeyPair;
use crate::types::ExecutedTx;

/// Bytes of a package digest.
pub const DIGEST_LENGTH: usize = 32;

/// The genesis objects of the vote-governed modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GovernanceIds {
    pub upgrade_manager: Address,
    pub slashing_manager: Address,
    pub subsidies: Address,
}

/// An upgrade proposal with what a reader needs beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradeStatus {
    /// Hex of the 32-byte package digest.
    pub digest: String,
    pub epoch: u32,
    /// The package version the upgrade would create.
    pub version: u64,
    pub voting_weight: u16,
    pub voters: Vec<Address>,
    /// `open`, `quorum` (may be authorized in its epoch) or `expired`
    /// (from an earlier epoch or version: the next vote resets it).
    pub status: &'static str,
    pub n_shards: u16,
    pub quorum: u16,
    /// When the proposal's epoch is expected to end (ms).
    pub deadline_ms: Option<u64>,
}

/// A slashing proposal with what a reader needs beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlashingStatus {
    pub candidate: Address,
    pub epoch: u32,
    pub voting_weight: u16,
    pub voters: Vec<Address>,
    /// `open`, `quorum` (may be executed in its epoch) or `expired`.
    pub status: &'static str,
    pub n_shards: u16,
    pub quorum: u16,
    pub deadline_ms: Option<u64>,
}

/// The upgrade manager's cap and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradeCapStatus {
    /// The package the cap upgrades; `None` while an authorized upgrade
    /// is pending (Sui sets it to `0x0`).
    pub package: Option<Address>,
    pub version: u64,
}

/// What `floe subsidies info` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubsidiesInfo {
    pub id: Address,
    /// FROST in the pool.
    pub pool_balance: u64,
    pub last_paid_epoch: Option<u32>,
    /// Governed rates: basis points of new rewards, FROST per node, FROST
    /// per shard (per epoch).
    pub system_subsidy_rate: u32,
    pub base_subsidy: u64,
    pub subsidy_per_shard: u64,
}

/// The status of an upgrade or slashing proposal: `expired` when it is not
/// of the current epoch (or version), else `quorum` once its shard weight
/// reaches `quorum`, else `open`.
fn vote_status(current: bool, voting_weight: u16, quorum: u16) -> &'static str {
    match (current, voting_weight >= quorum) {
        (false, _) => "expired",
        (true, true) => "quorum",
        (true, false) => "open",
    }
}

/// A package digest that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a package digest (64 hex digits, optionally after 0x)")]
pub struct DigestError(pub String);

/// Parses a package digest: 64 hex digits (optional `0x`).
pub fn parse_digest(s: &str) -> Result<Vec<u8>, DigestError> {
    let t = s.trim();
    let digits = t.strip_prefix("0x").unwrap_or(t);
    if digits.len() != 2 * DIGEST_LENGTH {
        return Err(DigestError(s.to_owned()));
    }
    match ::hex::decode(digits) {
        Ok(bytes) if bytes.len() == DIGEST_LENGTH => Ok(bytes),
        _ => Err(DigestError(s.to_owned())),
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

impl Floe {
    /// Finds the `UpgradeManager`, `SlashingManager` and `Subsidies`
    /// among the shared objects created in the genesis checkpoint.
    pub async fn governance_ids(&self) -> Result<GovernanceIds, FloeError> {
        let genesis = self.client.get_checkpoint(0).await?;
        let shared: Vec<Address> = genesis
            .transactions
            .iter()
            .flat_map(|tx| tx.created())
            .filter(|c| matches!(c.owner, sui_sdk_types::Owner::Shared(_)))
            .map(|c| *c.reference.object_id())
            .collect();
        let tags: [StructTag; 3] = [
            self.ids.floe_tag("upgrade", "UpgradeManager"),
            self.ids.floe_tag("slashing", "SlashingManager"),
            self.ids.floe_tag("subsidies", "Subsidies"),
        ];
        let mut found = [Address::ZERO; 3];
        for (id, info) in shared.iter().zip(self.client.get_objects(&shared).await?) {
            if let Some(t) = info.as_ref().and_then(|i| i.struct_type())
                && let Some(k) = tags.iter().position(|tag| tag == t)
            {
                found[k] = *id;
            }
        }
        let names = [
            "floe::upgrade::UpgradeManager",
            "floe::slashing::SlashingManager",
            "floe::subsidies::Subsidies",
        ];
        for (id, name) in found.iter().zip(names) {
            if *id == Address::ZERO {
                return Err(FloeError::NotInGenesis(name));
            }
        }
        Ok(GovernanceIds {
            upgrade_manager: found[0],
            slashing_manager: found[1],
            subsidies: found[2],
        })
    }

    async fn shared_arg(
        &self,
        b: &mut TransactionBuilder,
        id: Address,
        mutable: bool,
    ) -> Result<Argument, FloeError> {
        let input = self.client.object_input(id, mutable).await?;
        Ok(b.object(input))
    }

    // === Upgrades ===

    /// `upgrade::vote_for_upgrade`: `node_id`'s shards for the package of
    /// `digest` (32 bytes).
    pub async fn vote_for_upgrade(
        &self,
        key: &KeyPair,
        gov: &GovernanceIds,
        node_id: ObjectId,
        auth: AuthWith,
        digest: &[u8],
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let manager = self.shared_arg(&mut b, gov.upgrade_manager, true).await?;
        let staking = self.shared_arg(&mut b, self.ids.staking, false).await?;
        let auth = self.auth_arg(&mut b, auth).await?;
        let node = b.pure(&to_address(node_id));
        let digest = b.pure(&digest.to_vec());
        self.floe(
            &mut b,
            "upgrade",
            "vote_for_upgrade",
            vec![manager, staking, auth, node, digest],
        );
        self.run(key, b).await
    }

    /// `upgrade::authorize_upgrade` alone: the quorum's authorization is
    /// recorded (event, cap marked as upgrading). On Sui the returned
    /// ticket must go to an Upgrade command in the same transaction; the
    /// devnet ledger, which has none, lets it end with the transaction.
    pub async fn authorize_upgrade(
        &self,
        key: &KeyPair,
        gov: &GovernanceIds,
        digest: &[u8],
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let manager = self.shared_arg(&mut b, gov.upgrade_manager, true).await?;
        let staking = self.shared_arg(&mut b, self.ids.staking, false).await?;
        let digest = b.pure(&digest.to_vec());
        self.floe(
            &mut b,
            "upgrade",
            "authorize_upgrade",
            vec![manager, staking, digest],
        );
        self.run(key, b).await
    }

    /// The whole upgrade as Sui runs it, in one transaction:
    /// `authorize_upgrade`, the Upgrade command with the new package's
    /// `modules` (bytecode) and `dependencies`, then `commit_upgrade` with
    /// its receipt. The floe devnet ledger refuses the Upgrade command
    /// (package upgrades are not supported there), so there this fails
    /// as a whole and changes nothing; use [`Floe::authorize_upgrade`].
    pub async fn upgrade_package(
        &self,
        key: &KeyPair,
        gov: &GovernanceIds,
        digest: &[u8],
        modules: Vec<Vec<u8>>,
        dependencies: Vec<Address>,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let manager = self.shared_arg(&mut b, gov.upgrade_manager, true).await?;
        let staking = self.shared_arg(&mut b, self.ids.staking, true).await?;
        let system = self.system_arg(&mut b, true).await?;
        let digest = b.pure(&digest.to_vec());
        let ticket = self.floe(
            &mut b,
            "upgrade",
            "authorize_upgrade",
            vec![manager, staking, digest],
        );
        let receipt = b.upgrade(modules, dependencies, self.ids.floe_package, ticket);
        self.floe(
            &mut b,
            "upgrade",
            "commit_upgrade",
            vec![manager, staking, system, receipt],
        );
        self.run(key, b).await
    }

    /// `upgrade::authorize_emergency_upgrade` with the signer's
    /// `EmergencyUpgradeCap` (object `cap`).
    pub async fn authorize_emergency_upgrade(
        &self,
        key: &KeyPair,
        gov: &GovernanceIds,
        cap: Address,
        digest: &[u8],
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let manager = self.shared_arg(&mut b, gov.upgrade_manager, true).await?;
        let cap = self.owned_arg(&mut b, cap).await?;
        let digest = b.pure(&digest.to_vec());
        self.floe(
            &mut b,
            "upgrade",
            "authorize_emergency_upgrade",
            vec![manager, cap, digest],
        );
        self.run(key, b).await
    }

    /// The `UpgradeManager`.
    pub async fn upgrade_manager(&self, gov: &GovernanceIds) -> Result<UpgradeManager, FloeError> {
        Ok(self.client.get_object_as(gov.upgrade_manager).await?.1)
    }

    /// The cap's package (`None` while an authorized upgrade is pending)
    /// and version.
    pub async fn upgrade_cap_status(
        &self,
        gov: &GovernanceIds,
    ) -> Result<UpgradeCapStatus, FloeError> {
        let m = self.upgrade_manager(gov).await?;
        Ok(UpgradeCapStatus {
            package: (m.cap.package != ObjectId::default()).then(|| to_address(m.cap.package)),
            version: m.cap.version,
        })
    }

    /// The upgrade proposals with tallies, quorum and deadline.
    pub async fn upgrade_proposals(
        &self,
        gov: &GovernanceIds,
    ) -> Result<Vec<UpgradeStatus>, FloeError> {
        let m = self.upgrade_manager(gov).await?;
        let state = self.staking_state().await?;
        let deadline = self.epoch_status().await?.expected_end_ms();
        let quorum = quorum_weight(state.n_shards);
        let next_version = m.cap.version.saturating_add(1);
        Ok(m.upgrade_proposals
            .iter()
            .map(|p| {
                let current = p.epoch == state.epoch && p.version == next_version;
                UpgradeStatus {
                    digest: hex(&p.digest),
                    epoch: p.epoch,
                    version: p.version,
                    voting_weight: p.voting_weight,
                    voters: p.voters.iter().map(|v| to_address(*v)).collect(),
                    status: vote_status(current, p.voting_weight, quorum),
                    n_shards: state.n_shards,
                    quorum,
                    deadline_ms: current.then_some(deadline).flatten(),
                }
            })
            .collect())
    }

    // === Slashing ===

    /// `slashing::vote_for_slashing`: `voter`'s shards to slash `candidate`.
    pub async fn vote_for_slashing(
        &self,
        key: &KeyPair,
        gov: &GovernanceIds,
        voter: ObjectId,
        auth: AuthWith,
        candidate: ObjectId,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let manager = self.shared_arg(&mut b, gov.slashing_manager, true).await?;
        let staking = self.shared_arg(&mut b, self.ids.staking, false).await?;
        let auth = self.auth_arg(&mut b, auth).await?;
        let voter = b.pure(&to_address(voter));
        let candidate = b.pure(&to_address(candidate));
        self.floe(
            &mut b,
            "slashing",
            "vote_for_slashing",
            vec![manager, staking, auth, voter, candidate],
        );
        self.run(key, b).await
    }

    /// `slashing::execute_slashing` (anyone): burns `candidate`'s whole
    /// commission once a quorum voted in the current epoch.
    pub async fn execute_slashing(
        &self,
        key: &KeyPair,
        gov: &GovernanceIds,
        candidate: ObjectId,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let manager = self.shared_arg(&mut b, gov.slashing_manager, true).await?;
        let staking = self.shared_arg(&mut b, self.ids.staking, true).await?;
        let candidate = b.pure(&to_address(candidate));
        let treasury = self.shared_arg(&mut b, self.ids.treasury, true).await?;
        self.floe(
            &mut b,
            "slashing",
            "execute_slashing",
            vec![manager, staking, candidate, treasury],
        );
        self.run(key, b).await
    }

    /// The slashing proposals with tallies, quorum and deadline.
    pub async fn slashing_proposals(
        &self,
        gov: &GovernanceIds,
    ) -> Result<Vec<SlashingStatus>, FloeError> {
        let m: SlashingManager = self.client.get_object_as(gov.slashing_manager).await?.1;
        let state = self.staking_state().await?;
        let deadline = self.epoch_status().await?.expected_end_ms();
        let quorum = quorum_weight(state.n_shards);
        Ok(m.slashing_candidates
            .iter()
            .map(|p| {
                let current = p.epoch == state.epoch;
                SlashingStatus {
                    candidate: to_address(p.node_id),
                    epoch: p.epoch,
                    voting_weight: p.voting_weight,
                    voters: p.voters.iter().map(|v| to_address(*v)).collect(),
                    status: vote_status(current, p.voting_weight, quorum),
                    n_shards: state.n_shards,
                    quorum,
                    deadline_ms: current.then_some(deadline).flatten(),
                }
            })
            .collect())
    }

    // === Subsidies ===

    /// `subsidies::add_coin` of `amount` FROST split off `payment` (a
    /// `Coin<WAL>` of the signer).
    pub async fn fund_subsidies(
        &self,
        key: &KeyPair,
        gov: &GovernanceIds,
        amount: u64,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let pool = self.shared_arg(&mut b, gov.subsidies, true).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let amount = b.pure(&amount);
        let coin = b.split_coins(payment, vec![amount]);
        let mut args = vec![pool];
        args.extend(coin);
        self.floe(&mut b, "subsidies", "add_coin", args);
        self.run(key, b).await
    }

    /// `subsidies::process_subsidies` (anyone), its own transaction.
    pub async fn process_subsidies(
        &self,
        key: &KeyPair,
        gov: &GovernanceIds,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let pool = self.shared_arg(&mut b, gov.subsidies, true).await?;
        let staking = self.shared_arg(&mut b, self.ids.staking, true).await?;
        let system = self.system_arg(&mut b, true).await?;
        let clock = self.shared_arg(&mut b, CLOCK, false).await?;
        self.floe(
            &mut b,
            "subsidies",
            "process_subsidies",
            vec![pool, staking, system, clock],
        );
        self.run(key, b).await
    }

    /// The pool's balance and the governed rates.
    pub async fn subsidies_info(&self, gov: &GovernanceIds) -> Result<SubsidiesInfo, FloeError> {
        let pool: Subsidies = self.client.get_object_as(gov.subsidies).await?.1;
        let (system_subsidy_rate, base_subsidy, subsidy_per_shard) = match self.governance().await?
        {
            Some(g) => (g.system_subsidy_rate, g.base_subsidy, g.subsidy_per_shard),
            None => (0, 0, 0),
        };
        Ok(SubsidiesInfo {
            id: gov.subsidies,
            pool_balance: pool.subsidy_pool.value,
            last_paid_epoch: pool.last_paid_epoch,
            system_subsidy_rate,
            base_subsidy,
            subsidy_per_shard,
        })
    }
}

/// Events of `module::name` in `tx`, decoded.
pub fn events_of<T: serde::de::DeserializeOwned>(
    floe: &Floe,
    tx: &ExecutedTx,
    module: &'static str,
    name: &'static str,
) -> Vec<T> {
    let tag = floe.ids.floe_tag(module, name);
    tx.events
        .iter()
        .filter(|e| e.type_ == tag)
        .filter_map(|e| bcs::from_bytes(&e.contents).ok())
        .collect()
}

/// The `UpgradeAuthorized` event of `tx`, if any.
pub fn upgrade_authorized(floe: &Floe, tx: &ExecutedTx) -> Option<UpgradeAuthorized> {
    events_of(floe, tx, "upgrade", "UpgradeAuthorized")
        .into_iter()
        .next()
}

/// The `NodeSlashed` event of `tx`, if any.
pub fn node_slashed(floe: &Floe, tx: &ExecutedTx) -> Option<NodeSlashed> {
    events_of(floe, tx, "slashing", "NodeSlashed")
        .into_iter()
        .next()
}

/// The `SubsidiesPaid` event of `tx`, if any.
pub fn subsidies_paid(floe: &Floe, tx: &ExecutedTx) -> Option<SubsidiesPaid> {
    events_of(floe, tx, "subsidies", "SubsidiesPaid")
        .into_iter()
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_from_hex() {
        let text = "ab".repeat(32);
        assert_eq!(parse_digest(&text).unwrap(), vec![0xab; 32]);
        assert_eq!(parse_digest(&format!("0x{text}")).unwrap(), vec![0xab; 32]);
        assert_eq!(hex(&parse_digest(&text).unwrap()), text);
        assert!(parse_digest("abcd").is_err());
        assert!(parse_digest(&"zz".repeat(32)).is_err());
        assert!(parse_digest(&"é".repeat(32)).is_err());
        assert!(parse_digest(&"€".repeat(21)).is_err());
    }
}
