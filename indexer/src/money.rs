//! Staking and the money of epochs, read from object contents.
//!
//! floe's contracts, like Walrus's, emit no event when WAL is staked,
//! rewarded, collected or spent on a shared blob, so the indexer reads the
//! objects each transaction wrote (carried by the checkpoint: every input
//! and output version) and compares them:
//!
//! - `StakingPool` objects (the values of `StakingInnerV1.pools`, each an
//!   object whose id is the node id): the node's record and balances; a
//!   pool whose `latest_epoch` moved was advanced at an epoch change, and
//!   the growth of its `commission` and `rewards_pool` balances is what it
//!   received for the ended epoch; a fall of `commission` is a collection,
//!   a fall of `rewards_pool` outside an epoch change is rewards paid to a
//!   withdrawn stake. The exchange rate of the new epoch is the
//!   `Field<u32, PoolExchangeRate>` the advance added to the pool's table.
//! - `SystemStateInnerV1` before and after an epoch change: the ended
//!   epoch's bucket (its rewards-ring entry) and what the next entry gained
//!   (the rounding carried over); the WAL `TreasuryCap`'s supply before and
//!   after: what was burnt.
//! - `StakedWal` objects: the stake's life cycle.
//! - `SharedBlob` objects: funds and extensions paid from them.
//!
//! Every type recognised here must decode; a layout drift stops the
//! pipeline ([`ObjectError`]) instead of dropping rows.

use std::collections::HashMap;

use floe_chain::ExecutedTx;
use floe_chain::sui_sdk_types::{
    Address, Command, Object, ObjectChange, StructTag, TransactionKind, TypeTag, Version,
};
use floe_core::move_types::staking::{PoolExchangeRate, PoolState, StakedWalState};
use floe_core::move_types::{
    DynamicField, SharedBlob, StakedWal, StakingInnerV1, StakingPool, SystemStateInnerV1,
};

use crate::objects::{ObjectError, ObjectIndex, contents, decode, id_text, is_field_of, is_floe};
use crate::processor::owner_text;

/// Bytes per storage unit (1 MiB), as the contract rounds sizes.
const BYTES_PER_UNIT: u64 = 1 << 20;

/// A pool's record and balances as its object last showed them.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePatch {
    pub name: String,
    pub network_address: String,
    /// Compressed BLS key, hex without `0x` (as `committee_members`).
    pub public_key: String,
    pub stake: i64,
    pub commission_rate: i32,
    /// `{"storage_price", "write_price", "node_capacity"}` as JSON text.
    pub votes: String,
    pub pending_stake: i64,
    pub num_shares: i64,
    pub rewards_pool: i64,
    pub commission_balance: i64,
    pub latest_epoch: i32,
    pub activation_epoch: i32,
    pub pool_state: String,
    pub pos: i64,
}

/// A pool at the start of an epoch (see `pool_epochs` in migration 0004).
#[derive(Debug, Clone, PartialEq)]
pub struct PoolEpochRow {
    pub node_id: String,
    pub epoch: i32,
    pub stake: i64,
    pub num_shares: i64,
    /// Decimal text (u128 in Move).
    pub rate_wal: String,
    pub rate_shares: String,
    pub commission_rate: i32,
    /// Shard ids in the epoch's committee; `None` when not carried.
    pub shards: Option<Vec<i32>>,
    pub pos: i64,
}

/// What the end of one epoch paid.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRewardRow {
    pub epoch: i32,
    pub bucket: i64,
    pub burnt: i64,
    pub distributed: i64,
    pub carried_over: i64,
    pub used_capacity: i64,
    pub nodes: i32,
    pub pos: i64,
    pub tx_digest: String,
    pub timestamp_ms: Option<i64>,
}

/// What one node's pool received for one ended epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRewardRow {
    pub epoch: i32,
    pub node_id: String,
    pub weight: i32,
    pub reward: i64,
    pub commission: i64,
    pub stakers: i64,
    pub pos: i64,
}

/// The state of one `StakedWal` after a transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct StakePatch {
    pub owner: Option<String>,
    pub node_id: String,
    pub amount: i64,
    pub activation_epoch: i32,
    pub withdraw_epoch: Option<i32>,
    /// staked, withdrawing, withdrawn, merged or wrapped.
    pub state: &'static str,
    pub created_pos: Option<i64>,
    pub withdraw_requested_pos: Option<i64>,
    pub withdrawn_pos: Option<i64>,
    pub withdrawn_amount: Option<i64>,
    pub rewards: Option<i64>,
    pub pos: i64,
}

impl StakePatch {
    /// Folds a later patch of the same object into this one: the later
    /// state wins, the first creation and withdrawal request are kept.
    pub fn fold(&mut self, later: StakePatch) {
        let created = self.created_pos.or(later.created_pos);
        let requested = self.withdraw_requested_pos.or(later.withdraw_requested_pos);
        *self = later;
        self.created_pos = created;
        self.withdraw_requested_pos = requested;
    }
}

/// Commission collected from one pool.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionRow {
    pub pos: i64,
    pub node_id: String,
    pub amount: i64,
    pub collector: String,
    pub tx_digest: String,
}

/// The state of one `SharedBlob` after a transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedBlobPatch {
    pub blob_object_id: String,
    pub blob_id: String,
    pub storage_size: i64,
    pub end_epoch: i32,
    pub funds: i64,
    pub created_pos: Option<i64>,
    pub pos: i64,
}

/// An extension of a shared blob paid from its funds.
#[derive(Debug, Clone, PartialEq)]
pub struct RenewalRow {
    pub pos: i64,
    pub shared_blob_id: String,
    pub blob_id: String,
    pub from_end_epoch: i32,
    pub to_end_epoch: i32,
    pub cost: i64,
    pub funds_after: i64,
    pub payer: String,
    pub tx_digest: String,
}

/// What one transaction contributes.
#[derive(Debug, Default)]
pub struct TxMoney {
    pub nodes: Vec<(String, NodePatch)>,
    pub pool_epochs: Vec<PoolEpochRow>,
    pub epoch_reward: Option<EpochRewardRow>,
    pub node_rewards: Vec<NodeRewardRow>,
    pub stakes: Vec<(String, StakePatch)>,
    pub collections: Vec<CollectionRow>,
    pub shared_blobs: Vec<(String, SharedBlobPatch)>,
    pub renewals: Vec<RenewalRow>,
}

/// One object change: id, versions read and written, and whether the
/// object is new (created or unwrapped) or gone for good (deleted).
struct Change {
    id: Address,
    input: Option<Version>,
    output: Option<Version>,
    created: bool,
    deleted: bool,
}

fn changes(tx: &ExecutedTx) -> Vec<Change> {
    let mut out = Vec::new();
    for change in tx.effects.object_changes() {
        let c = match change {
            ObjectChange::Created {
                object_id,
                output_version,
                ..
            }
            | ObjectChange::Unwrapped {
                object_id,
                output_version,
                ..
            } => Change {
                id: *object_id,
                input: None,
                output: Some(output_version),
                created: true,
                deleted: false,
            },
            ObjectChange::Mutated {
                object_id,
                input_version,
                output_version,
                ..
            } => Change {
                id: *object_id,
                input: input_version,
                output: Some(output_version),
                created: false,
                deleted: false,
            },
            ObjectChange::Deleted {
                object_id,
                input_version,
                ..
            } => Change {
                id: *object_id,
                input: input_version,
                output: None,
                created: false,
                deleted: true,
            },
            ObjectChange::Wrapped {
                object_id,
                input_version,
                ..
            } => Change {
                id: *object_id,
                input: input_version,
                output: None,
                created: false,
                deleted: false,
            },
            _ => continue,
        };
        out.push(c);
    }
    out
}

fn err(o: &Object, type_name: &'static str, reason: impl Into<String>) -> ObjectError {
    ObjectError {
        object_id: id_text(&o.object_id()),
        type_name,
        reason: reason.into(),
    }
}

/// An amount in a BIGINT column: WAL's supply (5·10^18 FROST) fits, so a
/// larger value is corrupt data.
fn frost(o: &Object, type_name: &'static str, v: u128) -> Result<i64, ObjectError> {
    i64::try_from(v).map_err(|_| err(o, type_name, format!("amount {v} exceeds i64")))
}

fn epoch_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// `0x2::coin::TreasuryCap<wal::wal::WAL>`.
fn is_wal_treasury_cap(tag: &StructTag, wal: &Address) -> bool {
    tag.address() == &Address::TWO
        && tag.module().as_str() == "coin"
        && tag.name().as_str() == "TreasuryCap"
        && matches!(tag.type_params().first(), Some(TypeTag::Struct(t))
            if t.address() == wal && t.module().as_str() == "wal" && t.name().as_str() == "WAL")
}

/// `0x2::dynamic_field::Field<u32, floe::pool_exchange_rate::PoolExchangeRate>`.
fn is_rate_field(tag: &StructTag, floe: &Address) -> bool {
    is_field_of(tag, floe, "pool_exchange_rate", "PoolExchangeRate")
        && matches!(tag.type_params().first(), Some(TypeTag::U32))
}

/// The layout of `TreasuryCap<T>`: its id and `Supply<T> { value }`.
#[derive(serde::Deserialize)]
struct TreasuryCapContents {
    _id: [u8; 32],
    total_supply: u64,
}

fn rate_parts(rate: &PoolExchangeRate) -> (String, String) {
    match rate {
        PoolExchangeRate::Flat => ("1".into(), "1".into()),
        PoolExchangeRate::Variable {
            wal_amount,
            share_amount,
        } => (wal_amount.to_string(), share_amount.to_string()),
    }
}

/// Whether the transaction calls `function` of the floe package.
fn calls(tx: &ExecutedTx, floe: &Address, function: &str) -> bool {
    let Some(t) = &tx.transaction else {
        return false;
    };
    let TransactionKind::ProgrammableTransaction(ptb) = &t.kind else {
        return false;
    };
    ptb.commands.iter().any(|c| {
        matches!(c, Command::MoveCall(m) if &m.package == floe && m.function.as_str() == function)
    })
}

/// Pools read and written by one transaction, by node id.
#[derive(Default)]
struct PoolPair {
    before: Option<StakingPool>,
    after: Option<StakingPool>,
    object: Option<Object>,
    created: bool,
}

/// Reads the staking and money rows of `tx`. `floe` and `wal` are the two
/// packages; `pos` the transaction's effects position.
pub fn tx_money(
    floe: &Address,
    wal: &Address,
    tx: &ExecutedTx,
    objects: &ObjectIndex<'_>,
    pos: i64,
    timestamp_ms: Option<i64>,
) -> Result<TxMoney, ObjectError> {
    let mut out = TxMoney::default();
    let sender = tx
        .transaction
        .as_ref()
        .map(|t| id_text(&t.sender))
        .unwrap_or_default();
    let tx_digest = tx.digest.to_string();

    let mut pools: HashMap<String, PoolPair> = HashMap::new();
    let mut system: (Option<SystemStateInnerV1>, Option<SystemStateInnerV1>) = (None, None);
    let mut staking_after: Option<StakingInnerV1> = None;
    let mut supply: (Option<u64>, Option<u64>) = (None, None);
    // Exchange rates written by this transaction: (table id, epoch) -> rate.
    let mut rates: HashMap<(String, u32), PoolExchangeRate> = HashMap::new();
    type Owned<T> = Option<(T, Option<String>)>;
    let mut stakes: Vec<(String, &Change, Owned<StakedWal>, Owned<StakedWal>)> = Vec::new();
    let mut shared: Vec<(String, &Change, Option<SharedBlob>, Option<SharedBlob>)> = Vec::new();

    let all = changes(tx);
    for c in &all {
        for (object, is_after) in [
            (objects.get(&c.id, c.input), false),
            (objects.get(&c.id, c.output), true),
        ] {
            let Some(o) = object else { continue };
            let Some((tag, bytes)) = contents(o) else {
                continue;
            };
            if is_floe(tag, floe, "staking_pool", "StakingPool") {
                let pool: StakingPool = decode(o, bytes, "StakingPool")?;
                let entry = pools.entry(pool.id.to_string()).or_default();
                if is_after {
                    entry.after = Some(pool);
                    entry.object = Some(o.clone());
                    entry.created = c.created;
                } else {
                    entry.before = Some(pool);
                    entry.object.get_or_insert_with(|| o.clone());
                }
            } else if is_floe(tag, floe, "staked_wal", "StakedWal") {
                let sw: StakedWal = decode(o, bytes, "StakedWal")?;
                let owner = Some(owner_text(o.owner()));
                let id = id_text(&c.id);
                let slot = match stakes.iter_mut().find(|s| s.0 == id) {
                    Some(s) => s,
                    None => {
                        stakes.push((id, c, None, None));
                        stakes.last_mut().expect("just pushed")
                    }
                };
                if is_after {
                    slot.3 = Some((sw, owner));
                } else {
                    slot.2 = Some((sw, owner));
                }
            } else if is_floe(tag, floe, "shared_blob", "SharedBlob") {
                let sb: SharedBlob = decode(o, bytes, "SharedBlob")?;
                let id = id_text(&c.id);
                let slot = match shared.iter_mut().find(|s| s.0 == id) {
                    Some(s) => s,
                    None => {
                        shared.push((id, c, None, None));
                        shared.last_mut().expect("just pushed")
                    }
                };
                if is_after {
                    slot.3 = Some(sb);
                } else {
                    slot.2 = Some(sb);
                }
            } else if is_field_of(tag, floe, "system_state_inner", "SystemStateInnerV1") {
                let f: DynamicField<u64, SystemStateInnerV1> = decode(o, bytes, "system state")?;
                if is_after {
                    system.1 = Some(f.value);
                } else {
                    system.0 = Some(f.value);
                }
            } else if is_after && is_field_of(tag, floe, "staking_inner", "StakingInnerV1") {
                let f: DynamicField<u64, StakingInnerV1> = decode(o, bytes, "staking state")?;
                staking_after = Some(f.value);
            } else if is_after && c.created && is_rate_field(tag, floe) {
                let f: DynamicField<u32, PoolExchangeRate> =
                    decode(o, bytes, "exchange rate field")?;
                if let floe_chain::sui_sdk_types::Owner::Object(table) = o.owner() {
                    rates.insert((id_text(table), f.name), f.value);
                }
            } else if is_wal_treasury_cap(tag, wal) {
                let cap: TreasuryCapContents = decode(o, bytes, "TreasuryCap<WAL>")?;
                if is_after {
                    supply.1 = Some(cap.total_supply);
                } else {
                    supply.0 = Some(cap.total_supply);
                }
            }
        }
    }

    pool_rows(&pools, &staking_after, &rates, pos, &mut out)?;
    for (node_id, p) in &pools {
        let (Some(before), Some(after), Some(o)) = (&p.before, &p.after, &p.object) else {
            continue;
        };
        if after.commission.value < before.commission.value {
            out.collections.push(CollectionRow {
                pos,
                node_id: node_id.clone(),
                amount: frost(
                    o,
                    "StakingPool",
                    u128::from(before.commission.value - after.commission.value),
                )?,
                collector: sender.clone(),
                tx_digest: tx_digest.clone(),
            });
        }
    }
    if let (Some(before), Some(after)) = (&system.0, &system.1)
        && after.committee.epoch > before.committee.epoch
    {
        epoch_rewards(
            before,
            after,
            supply,
            &pools,
            pos,
            &tx_digest,
            timestamp_ms,
            &mut out,
        )?;
    }
    stake_rows(floe, tx, &stakes, &pools, pos, &mut out)?;
    for (id, c, before, after) in &shared {
        let Some(after) = after else { continue };
        let storage_size = after.blob.storage.storage_size;
        let Some(o) = objects.get(&c.id, c.output) else {
            continue;
        };
        out.shared_blobs.push((
            id.clone(),
            SharedBlobPatch {
                blob_object_id: after.blob.id.to_string(),
                blob_id: floe_core::BlobId(after.blob.blob_id.0).to_string(),
                storage_size: frost(o, "SharedBlob", u128::from(storage_size))?,
                end_epoch: epoch_i32(after.blob.storage.end_epoch),
                funds: frost(o, "SharedBlob", u128::from(after.funds.value))?,
                created_pos: c.created.then_some(pos),
                pos,
            },
        ));
        let Some(before) = before else { continue };
        let (from, to) = (before.blob.storage.end_epoch, after.blob.storage.end_epoch);
        if to <= from {
            continue;
        }
        // What extend_blob charged: the price of the storage size for each
        // added epoch, at this transaction's price.
        let cost = match &system.0 {
            Some(s) => {
                u128::from(s.storage_price_per_unit_size)
                    * u128::from(storage_size.div_ceil(BYTES_PER_UNIT))
                    * u128::from(to - from)
            }
            None => u128::from(before.funds.value.saturating_sub(after.funds.value)),
        };
        out.renewals.push(RenewalRow {
            pos,
            shared_blob_id: id.clone(),
            blob_id: floe_core::BlobId(after.blob.blob_id.0).to_string(),
            from_end_epoch: epoch_i32(from),
            to_end_epoch: epoch_i32(to),
            cost: frost(o, "SharedBlob", cost)?,
            funds_after: frost(o, "SharedBlob", u128::from(after.funds.value))?,
            payer: sender.clone(),
            tx_digest: tx_digest.clone(),
        });
    }
    Ok(out)
}

/// Node records of every pool written, and a `pool_epochs` row for every
/// pool created or advanced to a new epoch.
fn pool_rows(
    pools: &HashMap<String, PoolPair>,
    staking_after: &Option<StakingInnerV1>,
    rates: &HashMap<(String, u32), PoolExchangeRate>,
    pos: i64,
    out: &mut TxMoney,
) -> Result<(), ObjectError> {
    for (node_id, p) in pools {
        let (Some(after), Some(o)) = (&p.after, &p.object) else {
            continue;
        };
        let t = "StakingPool";
        let pending: u128 = after
            .pending_stake
            .pos0
            .contents
            .iter()
            .map(|e| u128::from(e.value))
            .sum();
        let votes = serde_json::json!({
            "storage_price": after.voting_params.storage_price,
            "write_price": after.voting_params.write_price,
            "node_capacity": after.voting_params.node_capacity,
        });
        out.nodes.push((
            node_id.clone(),
            NodePatch {
                name: after.node_info.name.clone(),
                network_address: after.node_info.network_address.clone(),
                public_key: hex::encode(&after.node_info.public_key.bytes),
                stake: frost(o, t, u128::from(after.wal_balance))?,
                commission_rate: i32::from(after.commission_rate),
                votes: votes.to_string(),
                pending_stake: frost(o, t, pending)?,
                num_shares: frost(o, t, u128::from(after.num_shares))?,
                rewards_pool: frost(o, t, u128::from(after.rewards_pool.value))?,
                commission_balance: frost(o, t, u128::from(after.commission.value))?,
                latest_epoch: epoch_i32(after.latest_epoch),
                activation_epoch: epoch_i32(after.activation_epoch),
                pool_state: match after.state {
                    PoolState::Active => "active".into(),
                    PoolState::Withdrawing(e) => format!("withdrawing from {e}"),
                    PoolState::Withdrawn => "withdrawn".into(),
                },
                pos,
            },
        ));
        let advanced = match &p.before {
            Some(before) => after.latest_epoch > before.latest_epoch,
            None => p.created,
        };
        if !advanced {
            continue;
        }
        let rate = if p.before.is_some() {
            let key = (after.exchange_rates.id.to_string(), after.latest_epoch);
            *rates.get(&key).ok_or_else(|| {
                err(
                    o,
                    t,
                    format!(
                        "advanced to epoch {} without recording its exchange rate",
                        after.latest_epoch
                    ),
                )
            })?
        } else {
            PoolExchangeRate::Flat
        };
        let (rate_wal, rate_shares) = rate_parts(&rate);
        let shards = staking_after.as_ref().map(|s| {
            s.committee
                .pos0
                .contents
                .iter()
                .find(|e| e.key == after.id)
                .map(|e| e.value.iter().map(|s| i32::from(*s)).collect())
                .unwrap_or_default()
        });
        out.pool_epochs.push(PoolEpochRow {
            node_id: node_id.clone(),
            epoch: epoch_i32(after.latest_epoch),
            stake: frost(o, t, u128::from(after.wal_balance))?,
            num_shares: frost(o, t, u128::from(after.num_shares))?,
            rate_wal,
            rate_shares,
            commission_rate: i32::from(after.commission_rate),
            shards,
            pos,
        });
    }
    Ok(())
}

/// The ended epoch's bucket, burn, carry-over and each old committee
/// member's reward.
#[allow(clippy::too_many_arguments)]
fn epoch_rewards(
    before: &SystemStateInnerV1,
    after: &SystemStateInnerV1,
    supply: (Option<u64>, Option<u64>),
    pools: &HashMap<String, PoolPair>,
    pos: i64,
    tx_digest: &str,
    timestamp_ms: Option<i64>,
    out: &mut TxMoney,
) -> Result<(), ObjectError> {
    let epoch = before.committee.epoch;
    let system_err = |reason: String| ObjectError {
        object_id: format!("system state at epoch {epoch}"),
        type_name: "SystemStateInnerV1",
        reason,
    };
    let ended = before
        .future_accounting
        .lookup(0)
        .ok_or_else(|| system_err("no rewards-ring entry for the ended epoch".into()))?;
    let next_before = before
        .future_accounting
        .lookup(1)
        .map_or(0, |a| a.rewards_to_distribute.value);
    let next_after = after
        .future_accounting
        .lookup(0)
        .ok_or_else(|| system_err("no rewards-ring entry for the new epoch".into()))?
        .rewards_to_distribute
        .value;
    let carried = next_after.checked_sub(next_before).ok_or_else(|| {
        system_err(format!(
            "the new epoch's ring entry fell from {next_before} to {next_after}"
        ))
    })?;
    // No supply change in the transaction (the cap not written) is no burn.
    let burnt = match supply {
        (Some(b), Some(a)) => b.checked_sub(a).ok_or_else(|| {
            system_err(format!(
                "the WAL supply grew from {b} to {a} at an epoch change"
            ))
        })?,
        _ => 0,
    };
    let mut distributed: u128 = 0;
    for member in &before.committee.members {
        let node_id = member.node_id.to_string();
        let pair = pools.get(&node_id);
        let (Some(b), Some(a), Some(o)) = (
            pair.and_then(|p| p.before.as_ref()),
            pair.and_then(|p| p.after.as_ref()),
            pair.and_then(|p| p.object.as_ref()),
        ) else {
            return Err(system_err(format!(
                "committee member {node_id}'s pool was not written by the epoch change"
            )));
        };
        let t = "StakingPool";
        let commission = a
            .commission
            .value
            .checked_sub(b.commission.value)
            .ok_or_else(|| err(o, t, "commission fell at an epoch change"))?;
        let stakers = a
            .rewards_pool
            .value
            .checked_sub(b.rewards_pool.value)
            .ok_or_else(|| err(o, t, "rewards pool fell at an epoch change"))?;
        let reward = u128::from(commission) + u128::from(stakers);
        distributed += reward;
        out.node_rewards.push(NodeRewardRow {
            epoch: epoch_i32(epoch),
            node_id,
            weight: i32::from(member.weight),
            reward: frost(o, t, reward)?,
            commission: frost(o, t, u128::from(commission))?,
            stakers: frost(o, t, u128::from(stakers))?,
            pos,
        });
    }
    let big = |v: u128, what: &str| {
        i64::try_from(v).map_err(|_| system_err(format!("{what} {v} exceeds i64")))
    };
    out.epoch_reward = Some(EpochRewardRow {
        epoch: epoch_i32(epoch),
        bucket: big(u128::from(ended.rewards_to_distribute.value), "bucket")?,
        burnt: big(u128::from(burnt), "burn")?,
        distributed: big(distributed, "distributed")?,
        carried_over: big(u128::from(carried), "carry-over")?,
        used_capacity: big(u128::from(ended.used_capacity), "used capacity")?,
        nodes: i32::try_from(before.committee.members.len()).unwrap_or(i32::MAX),
        pos,
        tx_digest: tx_digest.to_owned(),
        timestamp_ms,
    });
    Ok(())
}

type StakeChange<'a> = (
    String,
    &'a Change,
    Option<(StakedWal, Option<String>)>,
    Option<(StakedWal, Option<String>)>,
);

/// The life-cycle patches of the `StakedWal`s a transaction wrote.
fn stake_rows(
    floe: &Address,
    tx: &ExecutedTx,
    stakes: &[StakeChange<'_>],
    pools: &HashMap<String, PoolPair>,
    pos: i64,
    out: &mut TxMoney,
) -> Result<(), ObjectError> {
    let withdraws = calls(tx, floe, "withdraw_stake");
    // Stakes withdrawn per pool: rewards are exact only for one per pool.
    let mut withdrawn_per_node: HashMap<String, usize> = HashMap::new();
    if withdraws {
        for (_, c, before, after) in stakes {
            if let (true, Some((sw, _)), None) = (c.deleted, before, after) {
                *withdrawn_per_node
                    .entry(sw.node_id.to_string())
                    .or_default() += 1;
            }
        }
    }
    for (id, c, before, after) in stakes {
        let (sw, owner, state) = match (before, after) {
            (_, Some((sw, owner))) => {
                let state = match sw.state {
                    StakedWalState::Staked => "staked",
                    StakedWalState::Withdrawing { .. } => "withdrawing",
                };
                (sw, owner.clone(), state)
            }
            (Some((sw, owner)), None) => {
                let state = if !c.deleted {
                    "wrapped"
                } else if withdraws {
                    "withdrawn"
                } else {
                    "merged"
                };
                let owner = if c.deleted { owner.clone() } else { None };
                (sw, owner, state)
            }
            (None, None) => continue,
        };
        let node_id = sw.node_id.to_string();
        let amount = i64::try_from(sw.principal.value).map_err(|_| ObjectError {
            object_id: id.clone(),
            type_name: "StakedWal",
            reason: format!("principal {} exceeds i64", sw.principal.value),
        })?;
        let withdraw_epoch = match sw.state {
            StakedWalState::Withdrawing { withdraw_epoch } => Some(epoch_i32(withdraw_epoch)),
            StakedWalState::Staked => None,
        };
        // The request is the change from staked to withdrawing.
        let requested = matches!(
            (before, after),
            (Some((b, _)), Some((a, _)))
                if matches!(b.state, StakedWalState::Staked)
                    && matches!(a.state, StakedWalState::Withdrawing { .. })
        );
        let mut patch = StakePatch {
            owner,
            node_id: node_id.clone(),
            amount,
            activation_epoch: epoch_i32(sw.activation_epoch),
            withdraw_epoch,
            state,
            created_pos: c.created.then_some(pos),
            withdraw_requested_pos: requested.then_some(pos),
            withdrawn_pos: None,
            withdrawn_amount: None,
            rewards: None,
            pos,
        };
        if state == "withdrawn" {
            patch.withdrawn_pos = Some(pos);
            if withdrawn_per_node.get(&node_id) == Some(&1)
                && let Some(p) = pools.get(&node_id)
                && let (Some(b), Some(a)) = (&p.before, &p.after)
            {
                let rewards = b.rewards_pool.value.saturating_sub(a.rewards_pool.value);
                let rewards = i64::try_from(rewards).unwrap_or(i64::MAX);
                patch.rewards = Some(rewards);
                patch.withdrawn_amount = Some(amount.saturating_add(rewards));
            }
        }
        out.stakes.push((id.clone(), patch));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stake_fold_keeps_creation_and_request() {
        let base = StakePatch {
            owner: Some("0x1".into()),
            node_id: "0xn".into(),
            amount: 5,
            activation_epoch: 2,
            withdraw_epoch: None,
            state: "staked",
            created_pos: Some(10),
            withdraw_requested_pos: None,
            withdrawn_pos: None,
            withdrawn_amount: None,
            rewards: None,
            pos: 10,
        };
        let mut p = base.clone();
        p.fold(StakePatch {
            state: "withdrawing",
            withdraw_epoch: Some(4),
            created_pos: None,
            withdraw_requested_pos: Some(20),
            pos: 20,
            ..base.clone()
        });
        p.fold(StakePatch {
            state: "withdrawn",
            withdraw_epoch: Some(4),
            created_pos: None,
            withdrawn_pos: Some(30),
            withdrawn_amount: Some(7),
            rewards: Some(2),
            pos: 30,
            ..base
        });
        assert_eq!(p.state, "withdrawn");
        assert_eq!(p.created_pos, Some(10));
        assert_eq!(p.withdraw_requested_pos, Some(20));
        assert_eq!(p.withdrawn_pos, Some(30));
        assert_eq!(p.rewards, Some(2));
        assert_eq!(p.pos, 30);
    }

    #[test]
    fn flat_rate_is_one_to_one() {
        assert_eq!(
            rate_parts(&PoolExchangeRate::Flat),
            ("1".to_owned(), "1".to_owned())
        );
        assert_eq!(
            rate_parts(&PoolExchangeRate::Variable {
                wal_amount: u128::from(u64::MAX) + 1,
                share_amount: 3
            }),
            ("18446744073709551616".to_owned(), "3".to_owned())
        );
    }
}
