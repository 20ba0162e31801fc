//! Twin of `floe::slashing`: votes to slash a node (weights = shards in the
//! current committee, quorum `3w >= 2n + 1`, bound to their epoch) and the
//! execution that burns the candidate pool's whole commission through the
//! WAL treasury.

use floe_core::move_types::{
    MoveType, MoveTypeInfo, NodeSlashed, ObjectId, SlashingManager, SlashingProposal,
    SlashingQuorumReached, SlashingVoted, Staking, StakingInnerV1,
};
use floe_runtime::{NativeError, Runtime};
use serde::Serialize;

use crate::floe::auth::{self, Authenticated};
use crate::floe::{committee, staking, staking_inner, staking_pool};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure, floe_tag, floe_value, new_id, set};
use crate::wal::wal::{ProtectedTreasury, burn_amount};

abort_codes! {
    module: "slashing",
    ENotAuthorized = 0,
    EDuplicateVote = 1,
    ENoProposalForNode = 2,
    EWrongEpoch = 3,
    ENotEnoughVotes = 4,
    ENotInCommittee = 5,
    EUnknownCandidate = 6,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "vote_for_slashing",
        Vis::Public,
        &[],
        &[
            ("self", "&mut SlashingManager"),
            ("staking", "&Staking"),
            ("auth", "Authenticated"),
            ("voter_node_id", "ID"),
            ("candidate", "ID"),
        ],
        &[],
    ),
    FnSig::new(
        "execute_slashing",
        Vis::Public,
        &[],
        &[
            ("self", "&mut SlashingManager"),
            ("staking", "&mut Staking"),
            ("candidate", "ID"),
            ("treasury", "&mut ProtectedTreasury"),
        ],
        &[],
    ),
    FnSig::new(
        "cleanup_slashing_proposals",
        Vis::Public,
        &[],
        &[("self", "&mut SlashingManager"), ("staking", "&Staking")],
        &[],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[
    SlashingProposal::INFO,
    SlashingManager::INFO,
    SlashingVoted::INFO,
    SlashingQuorumReached::INFO,
    NodeSlashed::INFO,
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "slashing",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "vote_for_slashing" => |c| {
            let mut m: SlashingManager = arg(c, 0)?;
            let staking: Staking = arg(c, 1)?;
            let auth: Authenticated = arg(c, 2)?;
            let voter: ObjectId = arg(c, 3)?;
            let candidate: ObjectId = arg(c, 4)?;
            let state = staking::load_inner(c.rt, &staking)?;
            vote_for_slashing(c.rt, &mut m, &state, &auth, voter, candidate)?;
            set(c, 0, &m)?;
            Ok(vec![])
        },
        "execute_slashing" => |c| {
            let mut m: SlashingManager = arg(c, 0)?;
            let staking: Staking = arg(c, 1)?;
            let candidate: ObjectId = arg(c, 2)?;
            let treasury: ProtectedTreasury = arg(c, 3)?;
            let state = staking::load_inner(c.rt, &staking)?;
            execute_slashing(c.rt, &mut m, &state, candidate, &treasury)?;
            set(c, 0, &m)?;
            Ok(vec![])
        },
        "cleanup_slashing_proposals" => |c| {
            let mut m: SlashingManager = arg(c, 0)?;
            let staking: Staking = arg(c, 1)?;
            let state = staking::load_inner(c.rt, &staking)?;
            m.slashing_candidates.retain(|p| p.epoch == state.epoch);
            set(c, 0, &m)?;
            Ok(vec![])
        },
        _ => return None,
    };
    Some(f)
}

fn emit<T: MoveType + Serialize>(rt: &mut Runtime<'_>, event: &T) -> Result<(), NativeError> {
    rt.emit(floe_tag("slashing", T::INFO.name, vec![]), event)
}

/// `new`: shares an empty manager.
pub fn new(rt: &mut Runtime<'_>) -> Result<(), NativeError> {
    let manager = SlashingManager {
        id: new_id(rt)?,
        slashing_candidates: Vec::new(),
    };
    rt.share(floe_value("slashing", "SlashingManager", &manager))
}

/// `is_quorum`: `3 * weight >= 2 * n_shards + 1`. The Move module keeps
/// its own copy (as each vote-counting module does); the twin keeps the
/// function and shares the one shard-weighted quorum rule of
/// `floe_core::committee`, which the certificate checks use too.
pub fn is_quorum(weight: u16, n_shards: u16) -> bool {
    floe_core::committee::is_quorum(u32::from(weight), u32::from(n_shards))
}

/// `voter_weight`: `node_id`'s shards in the current committee, if `auth`
/// is its governance authority.
fn voter_weight(
    rt: &mut Runtime<'_>,
    s: &StakingInnerV1,
    node_id: ObjectId,
    auth: &Authenticated,
) -> Result<u16, NativeError> {
    ensure(staking_inner::has_pool(rt, s, node_id), ENotInCommittee)?;
    let pool = staking_inner::load_pool(rt, s, node_id)?;
    ensure(
        auth::matches(auth, &pool.governance_authorized),
        ENotAuthorized,
    )?;
    ensure(committee::contains(&s.committee, &node_id), ENotInCommittee)?;
    u16::try_from(committee::shards(&s.committee, &node_id).len())
        .map_err(|_| NativeError::Invariant("more shards than u16".into()))
}

/// `vote_for_slashing`.
pub fn vote_for_slashing(
    rt: &mut Runtime<'_>,
    m: &mut SlashingManager,
    s: &StakingInnerV1,
    auth: &Authenticated,
    voter: ObjectId,
    candidate: ObjectId,
) -> Result<(), NativeError> {
    let weight = voter_weight(rt, s, voter, auth)?;
    ensure(staking_inner::has_pool(rt, s, candidate), EUnknownCandidate)?;
    let epoch = s.epoch;
    m.slashing_candidates.retain(|p| p.epoch == epoch);
    let index = match m
        .slashing_candidates
        .iter()
        .position(|p| p.node_id == candidate)
    {
        Some(i) => i,
        None => {
            m.slashing_candidates.push(SlashingProposal {
                epoch,
                node_id: candidate,
                voting_weight: 0,
                voters: Vec::new(),
            });
            m.slashing_candidates.len() - 1
        }
    };
    let p = &mut m.slashing_candidates[index];
    ensure(!p.voters.contains(&voter), EDuplicateVote)?;
    let before = p.voting_weight;
    p.voters.push(voter);
    p.voting_weight = before
        .checked_add(weight)
        .ok_or_else(crate::util::arithmetic)?;
    let after = p.voting_weight;
    emit(
        rt,
        &SlashingVoted {
            epoch,
            candidate,
            node_id: voter,
            weight,
            voting_weight: after,
        },
    )?;
    if !is_quorum(before, s.n_shards) && is_quorum(after, s.n_shards) {
        emit(rt, &SlashingQuorumReached { epoch, candidate })?;
    }
    Ok(())
}

/// `execute_slashing`: burns the candidate's whole commission; returns
/// the FROST burnt.
pub fn execute_slashing(
    rt: &mut Runtime<'_>,
    m: &mut SlashingManager,
    s: &StakingInnerV1,
    candidate: ObjectId,
    treasury: &ProtectedTreasury,
) -> Result<u64, NativeError> {
    let Some(index) = m
        .slashing_candidates
        .iter()
        .position(|p| p.node_id == candidate)
    else {
        return Err(ENoProposalForNode.err());
    };
    let p = m.slashing_candidates.remove(index);
    ensure(p.epoch == s.epoch, EWrongEpoch)?;
    ensure(is_quorum(p.voting_weight, s.n_shards), ENotEnoughVotes)?;
    let mut pool = staking_inner::load_pool(rt, s, candidate)?;
    let amount = staking_pool::take_commission(rt, &mut pool)?;
    staking_inner::store_pool(rt, s, &pool)?;
    burn_amount(rt, treasury, amount)?;
    emit(
        rt,
        &NodeSlashed {
            epoch: s.epoch,
            candidate,
            amount,
        },
    )?;
    Ok(amount)
}
