//! Twin of `floe::staking_inner`: the epoch, committees, pools and the
//! epoch state machine behind `Staking`, candidate registration, node
//! parameters, commission and price votes (see the Move module for the
//! rules; governance and subsidies come later).
//!
//! The pools live in `pools: ObjectTable<ID, StakingPool>` exactly as Sui
//! stores an object table: each pool is an object whose id is the node id,
//! owned by its `Field<Wrapper<ID>, ID>` entry under the table's id, so a
//! reader (floe's own or Walrus's SDK) gets a pool with one object read of
//! the node id. The pool's `exchange_rates` table is a set of dynamic
//! fields keyed by the epoch (`u32`), as `sui::table` has it.

use floe_core::bls::BlsPublicKey;
use floe_core::committee::is_quorum;
use floe_core::move_types::{
    ActiveSet, Authorized, Committee, Element, EpochChangeDone, EpochChangeStart,
    EpochParametersSelected, EpochState, ExtendedField, MoveType, MoveTypeInfo, NodeMetadata,
    ObjectId, ObjectTable, ShardsReceived, StakedWal, StakingInnerV1, StakingPool, StorageNodeCap,
    System, VecMap, VecMapEntry, VotingParams,
};
use floe_runtime::{NativeError, ObjectTable as LedgerObjectTable, Runtime, Value};
use sui_sdk_types::TypeTag;

use crate::floe::auth::Authenticated;
use crate::floe::{
    active_set, apportionment, bls_aggregate, committee, epoch_parameters, events, extended_field,
    node_metadata, staking_pool, storage_node, system,
};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{add_u32, add_u64, ensure, floe_tag, id_value, new_id, to_address};
use crate::wal::wal::ProtectedTreasury;

/// Most nodes in the active set.
pub const MAX_ACTIVE_SET_SIZE: u16 = 150;
/// Least projected stake of an active-set node.
pub const MIN_STAKE: u64 = 0;

abort_codes! {
    module: "staking_inner",
    EWrongEpochState = 0,
    EInvalidSyncEpoch = 1,
    EDuplicateSyncDone = 2,
    ENoStake = 3,
    ENotInCommittee = 4,
    ECommitteeSelected = 5,
    EPoolNotFound = 8,
    EIncorrectNodeOrder = 10,
}

const fn view(name: &'static str, ret: &'static [&'static str]) -> FnSig {
    FnSig::new(name, Vis::Public, &[], &[("self", "&StakingInnerV1")], ret)
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    view("epoch", &["u32"]),
    view("n_shards", &["u16"]),
    view("committee", &["&Committee"]),
    view("previous_committee", &["&Committee"]),
    view("epoch_state", &["&EpochState"]),
];

const STRUCTS: &[MoveTypeInfo] = &[EpochState::INFO, StakingInnerV1::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "staking_inner",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// The state is reached only through `Staking`; nothing is callable.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// The pools table as the ledger's `ObjectTable`.
fn pools(s: &StakingInnerV1) -> LedgerObjectTable {
    LedgerObjectTable {
        id: to_address(s.pools.id),
        size: s.pools.size,
    }
}

fn active_set_type() -> TypeTag {
    floe_tag("active_set", "ActiveSet", vec![]).into()
}

fn public_keys_type() -> Result<TypeTag, NativeError> {
    "0x2::vec_map::VecMap<0x2::object::ID, 0x2::group_ops::Element<0x2::bls12381::G1>>"
        .parse()
        .map_err(|_| NativeError::Invariant("VecMap tag".into()))
}

/// `new`: a state in `epoch` whose change finished at `now`, no pools, an
/// empty committee.
pub fn new(
    rt: &mut Runtime<'_>,
    epoch: u32,
    n_shards: u16,
    epoch_duration: u64,
    first_epoch_start: u64,
    now: u64,
) -> Result<StakingInnerV1, NativeError> {
    let table = LedgerObjectTable::new(rt)?;
    let pools = ObjectTable {
        id: crate::util::to_object_id(table.id),
        size: table.size,
    };
    let set = active_set::new(MAX_ACTIVE_SET_SIZE, MIN_STAKE)?;
    let active_set = new_id(rt)?;
    rt.df_add(
        to_address(active_set),
        extended_field::key(),
        Value::new(active_set_type(), &set),
    )?;
    let keys = new_id(rt)?;
    let empty: VecMap<ObjectId, Element> = VecMap::default();
    rt.df_add(
        to_address(keys),
        extended_field::key(),
        Value::new(public_keys_type()?, &empty),
    )?;
    Ok(StakingInnerV1 {
        n_shards,
        epoch_duration,
        first_epoch_start,
        pools,
        epoch,
        active_set: ExtendedField { id: active_set },
        next_committee: None,
        committee: committee::empty(),
        previous_committee: committee::empty(),
        next_epoch_params: None,
        epoch_state: EpochState::EpochChangeDone(now),
        next_epoch_public_keys: ExtendedField { id: keys },
    })
}

/// A candidate's registration, as [`create_pool`] takes it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    pub network_address: String,
    pub metadata: NodeMetadata,
    pub public_key: Vec<u8>,
    pub network_public_key: Vec<u8>,
    pub proof_of_possession: Vec<u8>,
    pub commission_rate: u16,
    pub votes: VotingParams,
}

/// `create_pool`: checks the proof of possession (current epoch, `sender`)
/// and the network key, then adds the pool; `sender` receives commission
/// and governs. Returns the node id.
pub fn create_pool(
    rt: &mut Runtime<'_>,
    s: &mut StakingInnerV1,
    candidate: Candidate,
    sender: ObjectId,
) -> Result<ObjectId, NativeError> {
    staking_pool::verify_proof_of_possession(
        &candidate.public_key,
        &candidate.proof_of_possession,
        s.epoch,
        sender,
    )?;
    storage_node::check_network_public_key(&candidate.network_public_key)?;
    let sender = Authorized::Address(sender);
    add_new_pool(rt, s, candidate, sender, sender)
}

/// `create_genesis_pool`: the registration path without a proof of
/// possession or network key; `operator` receives commission and governs.
#[allow(clippy::too_many_arguments)]
pub fn create_genesis_pool(
    rt: &mut Runtime<'_>,
    s: &mut StakingInnerV1,
    name: String,
    network_address: String,
    public_key: Vec<u8>,
    commission_rate: u16,
    votes: VotingParams,
    operator: ObjectId,
) -> Result<ObjectId, NativeError> {
    let operator = Authorized::Address(operator);
    let candidate = Candidate {
        name,
        network_address,
        metadata: node_metadata::default(),
        public_key,
        network_public_key: Vec::new(),
        proof_of_possession: Vec::new(),
        commission_rate,
        votes,
    };
    add_new_pool(rt, s, candidate, operator, operator)
}

/// `add_new_pool`: a pool created in the current epoch, added under its id.
fn add_new_pool(
    rt: &mut Runtime<'_>,
    s: &mut StakingInnerV1,
    c: Candidate,
    commission_receiver: Authorized,
    governance_authorized: Authorized,
) -> Result<ObjectId, NativeError> {
    let pool = staking_pool::new(
        rt,
        c.name,
        c.network_address,
        &c.metadata,
        &c.public_key,
        c.network_public_key,
        c.commission_rate,
        c.votes,
        s.epoch,
        s.next_committee.is_some(),
        commission_receiver,
        governance_authorized,
    )?;
    let mut table = pools(s);
    table.add(
        rt,
        id_value(pool.node_info.node_id),
        Value::new(staking_pool::pool_type(), &pool),
    )?;
    s.pools.size = table.size;
    Ok(pool.node_info.node_id)
}

/// `set_committee`.
pub fn set_committee(s: &mut StakingInnerV1, committee: Committee) {
    s.committee = committee;
}

/// `node_id`'s pool; aborts with `EPoolNotFound`.
pub fn load_pool(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    node_id: ObjectId,
) -> Result<StakingPool, NativeError> {
    let table = pools(s);
    let key = id_value(node_id);
    ensure(table.contains(rt, &key), EPoolNotFound)?;
    table.get(rt, &key, &staking_pool::pool_type())
}

pub(crate) fn store_pool(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    pool: &StakingPool,
) -> Result<(), NativeError> {
    pools(s).set(
        rt,
        &id_value(pool.node_info.node_id),
        Value::new(staking_pool::pool_type(), pool),
    )
}

/// `has_pool`.
pub fn has_pool(rt: &mut Runtime<'_>, s: &StakingInnerV1, node_id: ObjectId) -> bool {
    pools(s).contains(rt, &id_value(node_id))
}

/// `set_active_set_size` (governance).
pub fn set_active_set_size(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    max_size: u16,
) -> Result<(), NativeError> {
    let mut set = load_active_set(rt, s)?;
    active_set::set_max_size(&mut set, max_size)?;
    rt.df_set(
        to_address(s.active_set.id),
        &extended_field::key(),
        Value::new(active_set_type(), &set),
    )
}

/// The active set.
pub fn load_active_set(rt: &mut Runtime<'_>, s: &StakingInnerV1) -> Result<ActiveSet, NativeError> {
    rt.df_get(
        to_address(s.active_set.id),
        &extended_field::key(),
        &active_set_type(),
    )
}

fn store_public_keys(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    keys: &VecMap<ObjectId, Element>,
) -> Result<(), NativeError> {
    rt.df_set(
        to_address(s.next_epoch_public_keys.id),
        &extended_field::key(),
        Value::new(public_keys_type()?, keys),
    )
}

/// The epoch new stake activates in (and projections are for).
fn projection_epoch(s: &StakingInnerV1) -> Result<u32, NativeError> {
    add_u32(s.epoch, if s.next_committee.is_some() { 2 } else { 1 })
}

fn in_next_committee(s: &StakingInnerV1, node_id: &ObjectId) -> bool {
    s.next_committee
        .as_ref()
        .is_some_and(|c| committee::contains(c, node_id))
}

/// Stores `pool` and sets its active-set stake to its projected stake.
fn store_pool_and_update_active_set(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    pool: &StakingPool,
) -> Result<(), NativeError> {
    store_pool(rt, s, pool)?;
    let stake = staking_pool::wal_balance_at_epoch(pool, projection_epoch(s)?)?;
    let mut set = load_active_set(rt, s)?;
    active_set::insert_or_update(&mut set, pool.node_info.node_id, stake)?;
    rt.df_set(
        to_address(s.active_set.id),
        &extended_field::key(),
        Value::new(active_set_type(), &set),
    )
}

/// `stake_with_pool`: `amount` FROST (the coin is consumed by the caller).
pub fn stake_with_pool(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    amount: u64,
    node_id: ObjectId,
) -> Result<StakedWal, NativeError> {
    let mut pool = load_pool(rt, s, node_id)?;
    let activation_epoch = projection_epoch(s)?;
    let staked = staking_pool::stake(rt, &mut pool, amount, activation_epoch)?;
    store_pool_and_update_active_set(rt, s, &pool)?;
    Ok(staked)
}

/// `request_withdraw_stake`.
pub fn request_withdraw_stake(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    sw: &mut StakedWal,
) -> Result<(), NativeError> {
    let mut pool = load_pool(rt, s, sw.node_id)?;
    let in_current = committee::contains(&s.committee, &sw.node_id);
    let in_next = in_next_committee(s, &sw.node_id);
    staking_pool::request_withdraw_stake(rt, &mut pool, sw, in_current, in_next, s.epoch)?;
    store_pool_and_update_active_set(rt, s, &pool)
}

/// `withdraw_stake`: the FROST paid out.
pub fn withdraw_stake(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    sw: StakedWal,
) -> Result<u64, NativeError> {
    let mut pool = load_pool(rt, s, sw.node_id)?;
    let in_current = committee::contains(&s.committee, &sw.node_id);
    let in_next = in_next_committee(s, &sw.node_id);
    let out = staking_pool::withdraw_stake(rt, &mut pool, sw, in_current, in_next, s.epoch)?;
    store_pool_and_update_active_set(rt, s, &pool)?;
    Ok(out)
}

/// `can_withdraw_staked_wal_early`.
pub fn can_withdraw_staked_wal_early(
    s: &StakingInnerV1,
    sw: &StakedWal,
) -> Result<bool, NativeError> {
    staking_pool::is_early_withdrawable(sw, s.epoch, in_next_committee(s, &sw.node_id))
}

/// `voting_end` at time `now` (ms).
pub fn voting_end(
    rt: &mut Runtime<'_>,
    s: &mut StakingInnerV1,
    now: u64,
) -> Result<(), NativeError> {
    let start = match s.epoch_state {
        EpochState::EpochChangeDone(start) => start,
        EpochState::NextParamsSelected(_) => return Err(ECommitteeSelected.err()),
        EpochState::EpochChangeSync(_) => return Err(EWrongEpochState.err()),
    };
    if s.epoch == 0 {
        ensure(now >= s.first_epoch_start, EWrongEpochState)?;
    } else {
        ensure(
            now >= add_u64(start, s.epoch_duration / 2)?,
            EWrongEpochState,
        )?;
    }
    clear_previous_committee_blocked_commission(rt, s)?;
    select_committee_and_calculate_votes(rt, s)?;
    s.epoch_state = EpochState::NextParamsSelected(start);
    events::emit(
        rt,
        &EpochParametersSelected {
            next_epoch: add_u32(s.epoch, 1)?,
        },
    )
}

/// Makes the commission the previous committee earned at the last epoch
/// change collectable.
fn clear_previous_committee_blocked_commission(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
) -> Result<(), NativeError> {
    for entry in &s.previous_committee.pos0.contents {
        if pools(s).contains(rt, &id_value(entry.key)) {
            let mut pool = load_pool(rt, s, entry.key)?;
            staking_pool::clear_blocked_commission(rt, &mut pool)?;
            store_pool(rt, s, &pool)?;
        }
    }
    Ok(())
}

fn select_committee_and_calculate_votes(
    rt: &mut Runtime<'_>,
    s: &mut StakingInnerV1,
) -> Result<(), NativeError> {
    let set = load_active_set(rt, s)?;
    ensure(set.total_stake > 0, ENoStake)?;
    let ids = active_set::active_ids(&set);
    let shards = apportionment::apportion(&active_set::active_stakes(&set), s.n_shards)?;
    let assignments: Vec<(ObjectId, u16)> = ids
        .into_iter()
        .zip(shards)
        .filter(|(_, n)| *n > 0)
        .collect();
    let next = committee::transition(&s.committee, &assignments)?;

    let mut keys = VecMap::default();
    let mut votes = Vec::new();
    let mut weights = Vec::new();
    for entry in &next.pos0.contents {
        let pool = load_pool(rt, s, entry.key)?;
        keys.contents.push(VecMapEntry {
            key: entry.key,
            value: storage_node::next_epoch_public_key(&pool.node_info).clone(),
        });
        let weight = entry.value.len() as u128;
        let vote = u128::from(pool.voting_params.node_capacity) * u128::from(s.n_shards) / weight;
        votes.push(u64::try_from(vote).unwrap_or(u64::MAX));
        weights.push(entry.value.len() as u16);
    }
    let capacity = quorum_above(&votes, &weights, s.n_shards);
    store_public_keys(rt, s, &keys)?;
    // Prices are not selected here: `recalculate_prices` applies them when
    // votes change and at every epoch change, so these fields stay unused.
    s.next_epoch_params = Some(epoch_parameters::new(capacity, u64::MAX, u64::MAX));
    s.next_committee = Some(next);
    Ok(())
}

/// `initiate_epoch_change` at time `now` (ms).
pub fn initiate_epoch_change(
    rt: &mut Runtime<'_>,
    s: &mut StakingInnerV1,
    system: &System,
    treasury: &ProtectedTreasury,
    now: u64,
) -> Result<(), NativeError> {
    let EpochState::NextParamsSelected(start) = s.epoch_state else {
        return Err(EWrongEpochState.err());
    };
    if s.epoch == 0 {
        ensure(now >= s.first_epoch_start, EWrongEpochState)?;
    } else {
        ensure(now >= add_u64(start, s.epoch_duration)?, EWrongEpochState)?;
    }
    let burn = system::extract_burn_balance(rt, system)?;
    crate::wal::wal::burn_amount(rt, treasury, burn)?;
    let missing = || NativeError::Invariant("parameters selected without a committee".into());
    let next_committee = s.next_committee.take().ok_or_else(missing)?;
    let params = s.next_epoch_params.take().ok_or_else(missing)?;
    let bls_committee = next_bls_committee(rt, s, &next_committee)?;
    let rewards = system::advance_epoch(rt, system, bls_committee, params.total_capacity_size)?;

    s.epoch = add_u32(s.epoch, 1)?;
    s.previous_committee = std::mem::replace(&mut s.committee, next_committee);
    s.epoch_state = EpochState::EpochChangeSync(0);
    let epoch = s.epoch;
    for (node_id, reward) in rewards.into_iter().rev() {
        advance_pool(rt, s, node_id, reward, epoch)?;
    }
    let ids: Vec<ObjectId> = s.committee.pos0.contents.iter().map(|e| e.key).collect();
    for node_id in ids.into_iter().rev() {
        if !committee::contains(&s.previous_committee, &node_id) {
            advance_pool(rt, s, node_id, 0, epoch)?;
        }
    }
    store_public_keys(rt, s, &VecMap::default())?;
    events::emit(rt, &EpochChangeStart { epoch })
}

fn advance_pool(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    node_id: ObjectId,
    reward: u64,
    epoch: u32,
) -> Result<(), NativeError> {
    let mut pool = load_pool(rt, s, node_id)?;
    staking_pool::advance_epoch(rt, &mut pool, reward, epoch)?;
    store_pool_and_update_active_set(rt, s, &pool)
}

/// `next_bls_committee`: the committee's nodes with their next keys,
/// weights = shard counts, for the next epoch.
fn next_bls_committee(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    committee: &Committee,
) -> Result<floe_core::move_types::BlsCommittee, NativeError> {
    let keys: VecMap<ObjectId, Element> = rt.df_get(
        to_address(s.next_epoch_public_keys.id),
        &extended_field::key(),
        &public_keys_type()?,
    )?;
    let mut members = Vec::with_capacity(committee.pos0.contents.len());
    for (i, entry) in committee.pos0.contents.iter().enumerate() {
        let key = keys
            .contents
            .get(i)
            .ok_or_else(|| NativeError::Invariant("fewer next keys than members".into()))?;
        ensure(key.key == entry.key, EIncorrectNodeOrder)?;
        let public_key = BlsPublicKey::from_bytes(&key.value.bytes)
            .map_err(|e| NativeError::Invariant(format!("stored key: {e}")))?;
        members.push((entry.key, public_key, entry.value.len() as u16));
    }
    bls_aggregate::new_bls_committee(add_u32(s.epoch, 1)?, &members)
}

/// `epoch_sync_done` at time `now` (ms).
pub fn epoch_sync_done(
    rt: &mut Runtime<'_>,
    s: &mut StakingInnerV1,
    cap: &mut StorageNodeCap,
    epoch: u32,
    now: u64,
) -> Result<(), NativeError> {
    ensure(epoch == s.epoch, EInvalidSyncEpoch)?;
    ensure(cap.last_epoch_sync_done < epoch, EDuplicateSyncDone)?;
    ensure(
        committee::contains(&s.committee, &cap.node_id),
        ENotInCommittee,
    )?;
    cap.last_epoch_sync_done = epoch;
    let shards = committee::shards(&s.committee, &cap.node_id).to_vec();
    let n_shards = s.n_shards;
    let done = match &mut s.epoch_state {
        EpochState::EpochChangeSync(weight) => {
            *weight = weight
                .checked_add(shards.len() as u16)
                .ok_or_else(crate::util::arithmetic)?;
            is_quorum(u32::from(*weight), u32::from(n_shards))
        }
        _ => false,
    };
    events::emit(rt, &ShardsReceived { epoch, shards })?;
    if done {
        s.epoch_state = EpochState::EpochChangeDone(now);
        events::emit(rt, &EpochChangeDone { epoch })?;
    }
    Ok(())
}

// === Node parameters and commission ===

/// Loads `node_id`'s pool (`EPoolNotFound`), applies `f` and stores it:
/// the body of every setter.
pub fn update_pool<F>(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    node_id: ObjectId,
    f: F,
) -> Result<(), NativeError>
where
    F: FnOnce(&mut StakingPool) -> Result<(), NativeError>,
{
    let mut pool = load_pool(rt, s, node_id)?;
    f(&mut pool)?;
    store_pool(rt, s, &pool)
}

/// `collect_commission`: the FROST collected.
pub fn collect_commission(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    node_id: ObjectId,
    auth: &Authenticated,
) -> Result<u64, NativeError> {
    let mut pool = load_pool(rt, s, node_id)?;
    let out = staking_pool::collect_commission(rt, &mut pool, auth)?;
    store_pool(rt, s, &pool)?;
    Ok(out)
}

/// `try_join_active_set`: refreshes the node's projected stake in the
/// active set (a node with none leaves it).
pub fn try_join_active_set(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    cap: &StorageNodeCap,
) -> Result<(), NativeError> {
    let pool = load_pool(rt, s, cap.node_id)?;
    store_pool_and_update_active_set(rt, s, &pool)
}

/// `recalculate_prices`: the `quorum_below` of the current committee's
/// storage and write price votes, weighted by shards (`u64::MAX` for an
/// empty committee).
pub fn recalculate_prices(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
) -> Result<(u64, u64), NativeError> {
    let nodes = &s.committee.pos0.contents;
    if nodes.is_empty() {
        return Ok((u64::MAX, u64::MAX));
    }
    let mut storage = Vec::with_capacity(nodes.len());
    let mut write = Vec::with_capacity(nodes.len());
    let mut weights = Vec::with_capacity(nodes.len());
    for entry in nodes {
        let pool = load_pool(rt, s, entry.key)?;
        storage.push(pool.voting_params.storage_price);
        write.push(pool.voting_params.write_price);
        weights.push(entry.value.len() as u16);
    }
    Ok((
        quorum_below(&storage, &weights, s.n_shards),
        quorum_below(&write, &weights, s.n_shards),
    ))
}

/// `quorum_below`: the smallest value that votes holding a quorum (`3w >=
/// 2n + 1` of `n_shards`) are at or below; `u64::MAX` if the votes hold
/// none.
pub fn quorum_below(votes: &[u64], weights: &[u16], n_shards: u16) -> u64 {
    let mut order: Vec<usize> = (0..votes.len()).collect();
    order.sort_by(|a, b| votes[*a].cmp(&votes[*b]));
    let mut weight = 0u32;
    for i in order {
        weight = weight.saturating_add(u32::from(weights.get(i).copied().unwrap_or(0)));
        if is_quorum(weight, u32::from(n_shards)) {
            return votes[i];
        }
    }
    u64::MAX
}

/// `quorum_above`: the largest value that votes holding a quorum (`3w >=
/// 2n + 1` of `n_shards`) are at or above; 0 if the votes hold none.
pub fn quorum_above(votes: &[u64], weights: &[u16], n_shards: u16) -> u64 {
    let mut order: Vec<usize> = (0..votes.len()).collect();
    order.sort_by(|a, b| votes[*b].cmp(&votes[*a]));
    let mut weight = 0u32;
    for i in order {
        weight = weight.saturating_add(u32::from(weights.get(i).copied().unwrap_or(0)));
        if is_quorum(weight, u32::from(n_shards)) {
            return votes[i];
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Walrus's formulation: start from the whole weight and drop the
    /// highest votes until the rest is no quorum; the vote that broke it.
    fn quorum_below_by_removal(votes: &[u64], weights: &[u16], n_shards: u16) -> u64 {
        let mut order: Vec<usize> = (0..votes.len()).collect();
        order.sort_by(|a, b| votes[*b].cmp(&votes[*a]));
        let mut weight: u32 = weights.iter().map(|w| u32::from(*w)).sum();
        for i in order {
            weight -= u32::from(weights[i]);
            if !is_quorum(weight, u32::from(n_shards)) {
                return votes[i];
            }
        }
        u64::MAX
    }

    fn committee_votes() -> impl Strategy<Value = (Vec<u64>, Vec<u16>)> {
        proptest::collection::vec((0u64..20, 1u16..8), 1..12).prop_map(|v| v.into_iter().unzip())
    }

    proptest! {
        /// Over a whole committee (weights sum to `n_shards`), both
        /// formulations agree, the result is a vote, votes at or below it
        /// hold a quorum and votes strictly below it do not.
        #[test]
        fn quorum_below_is_the_least_value_a_quorum_accepts((votes, weights) in committee_votes()) {
            let n: u16 = weights.iter().sum();
            let v = quorum_below(&votes, &weights, n);
            prop_assert_eq!(v, quorum_below_by_removal(&votes, &weights, n));
            prop_assert!(votes.contains(&v));
            let at_or_below: u32 = votes.iter().zip(&weights).filter(|(x, _)| **x <= v).map(|(_, w)| u32::from(*w)).sum();
            let below: u32 = votes.iter().zip(&weights).filter(|(x, _)| **x < v).map(|(_, w)| u32::from(*w)).sum();
            prop_assert!(is_quorum(at_or_below, u32::from(n)));
            prop_assert!(!is_quorum(below, u32::from(n)));
        }

        /// `quorum_above` mirrors it: votes at or above hold a quorum,
        /// votes strictly above do not.
        #[test]
        fn quorum_above_is_the_greatest_value_a_quorum_accepts((votes, weights) in committee_votes()) {
            let n: u16 = weights.iter().sum();
            let v = quorum_above(&votes, &weights, n);
            let at_or_above: u32 = votes.iter().zip(&weights).filter(|(x, _)| **x >= v).map(|(_, w)| u32::from(*w)).sum();
            let above: u32 = votes.iter().zip(&weights).filter(|(x, _)| **x > v).map(|(_, w)| u32::from(*w)).sum();
            prop_assert!(is_quorum(at_or_above, u32::from(n)));
            prop_assert!(!is_quorum(above, u32::from(n)));
        }
    }

    #[test]
    fn quorum_below_is_the_smallest_value_a_quorum_reaches() {
        // n = 10, quorum 7: 4 vote 10, 3 vote 50, 3 vote 100.
        assert_eq!(quorum_below(&[50, 10, 100], &[3, 4, 3], 10), 50);
        assert_eq!(quorum_below(&[10, 50], &[7, 3], 10), 10);
        assert_eq!(quorum_below(&[100], &[6], 10), u64::MAX);
    }

    #[test]
    fn quorum_above_is_the_largest_value_a_quorum_reaches() {
        // n = 10, quorum 7: 4 vote 100, 3 vote 50, 3 vote 10.
        assert_eq!(quorum_above(&[50, 100, 10], &[3, 4, 3], 10), 50);
        assert_eq!(quorum_above(&[100, 50], &[7, 3], 10), 100);
        assert_eq!(quorum_above(&[100], &[6], 10), 0);
        assert_eq!(quorum_above(&[], &[], 10), 0);
    }
}
