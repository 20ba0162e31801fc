//! Twin of `floe::governance`: parameter proposals by committee nodes,
//! votes weighted by shards, a quorum (`3w >= 2n + 1`) that passes a
//! proposal, and the epoch change that applies passed proposals and
//! expires the others. The state lives in a dynamic field of `Staking`
//! (see `staking::load_governance`); the public calls are in `staking`.

use floe_core::move_types::{
    Governance, MoveType, MoveTypeInfo, ObjectId, ParameterChange, ParameterProposal,
    ProposalApplied, ProposalCreated, ProposalExpired, ProposalPassed, ProposalVoted,
    StakingInnerV1, System,
};
use floe_runtime::{NativeError, Runtime, Value};
use serde::Serialize;

use crate::floe::auth::{self, Authenticated};
use crate::floe::{committee, staking_inner, system};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure, floe_tag, floe_value};

/// Shortest epoch a proposal may set (ms).
pub const MIN_EPOCH_DURATION_MS: u64 = 10_000;
/// Longest epoch a proposal may set (ms): 30 days.
pub const MAX_EPOCH_DURATION_MS: u64 = 2_592_000_000;
/// Upper bound of `max_epochs_ahead`.
pub const MAX_MAX_EPOCHS_AHEAD: u32 = 1000;
/// Largest active set a proposal may set.
pub const MAX_ACTIVE_SET_SIZE: u16 = 1000;
/// Largest system subsidy rate (basis points).
pub const MAX_SYSTEM_SUBSIDY_RATE: u32 = 1_000_000;
/// Largest base subsidy per node and epoch (FROST).
pub const MAX_BASE_SUBSIDY: u64 = 100_000_000_000_000;
/// Largest subsidy per shard and epoch (FROST).
pub const MAX_SUBSIDY_PER_SHARD: u64 = 1_000_000_000_000;

abort_codes! {
    module: "governance",
    ENotAuthorized = 0,
    ENotInCommittee = 1,
    EDuplicateVote = 2,
    EProposalExists = 3,
    ENoProposal = 4,
    EAlreadyPassed = 5,
    EOutOfRange = 6,
}

/// `public fun name(arg: ty): ParameterChange`.
macro_rules! constructor {
    ($name:literal, $param:literal, $ty:literal) => {
        FnSig::new(
            $name,
            Vis::Public,
            &[],
            &[($param, $ty)],
            &["ParameterChange"],
        )
    };
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    constructor!("epoch_duration_change", "epoch_duration_ms", "u64"),
    constructor!("max_epochs_ahead_change", "max_epochs_ahead", "u32"),
    constructor!("active_set_size_change", "active_set_size", "u16"),
    constructor!("system_subsidy_rate_change", "rate", "u32"),
    constructor!("base_subsidy_change", "base_subsidy", "u64"),
    constructor!("subsidy_per_shard_change", "subsidy_per_shard", "u64"),
];

const STRUCTS: &[MoveTypeInfo] = &[
    ParameterChange::INFO,
    ParameterProposal::INFO,
    Governance::INFO,
    ProposalCreated::INFO,
    ProposalVoted::INFO,
    ProposalPassed::INFO,
    ProposalApplied::INFO,
    ProposalExpired::INFO,
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "governance",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "epoch_duration_change" => |c| change(ParameterChange::EpochDuration(arg(c, 0)?)),
        "max_epochs_ahead_change" => |c| change(ParameterChange::MaxEpochsAhead(arg(c, 0)?)),
        "active_set_size_change" => |c| change(ParameterChange::ActiveSetSize(arg(c, 0)?)),
        "system_subsidy_rate_change" => |c| change(ParameterChange::SystemSubsidyRate(arg(c, 0)?)),
        "base_subsidy_change" => |c| change(ParameterChange::BaseSubsidy(arg(c, 0)?)),
        "subsidy_per_shard_change" => |c| change(ParameterChange::SubsidyPerShard(arg(c, 0)?)),
        _ => return None,
    };
    Some(f)
}

fn change(c: ParameterChange) -> Result<Vec<Value>, NativeError> {
    Ok(vec![change_value(&c)])
}

/// A `ParameterChange` value.
pub fn change_value(c: &ParameterChange) -> Value {
    floe_value("governance", "ParameterChange", c)
}

/// `new`: an empty state with no subsidies.
pub fn new() -> Governance {
    Governance {
        next_proposal_id: 0,
        proposals: Vec::new(),
        system_subsidy_rate: 0,
        base_subsidy: 0,
        subsidy_per_shard: 0,
    }
}

fn emit<T: MoveType + Serialize>(rt: &mut Runtime<'_>, event: &T) -> Result<(), NativeError> {
    rt.emit(floe_tag("governance", T::INFO.name, vec![]), event)
}

/// `voter_weight`: `node_id`'s shards in the current committee, if `auth`
/// is its governance authority.
pub fn voter_weight(
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
    let shards = s
        .committee
        .pos0
        .contents
        .iter()
        .find(|e| e.key == node_id)
        .map_or(0, |e| e.value.len());
    u16::try_from(shards).map_err(|_| NativeError::Invariant("more shards than u16".into()))
}

/// `check_bounds` (`EOutOfRange`); `max_epochs_ahead` is the system's.
pub fn check_bounds(
    change: &ParameterChange,
    n_shards: u16,
    max_epochs_ahead: u32,
) -> Result<(), NativeError> {
    let ok = match *change {
        ParameterChange::EpochDuration(ms) => {
            (MIN_EPOCH_DURATION_MS..=MAX_EPOCH_DURATION_MS).contains(&ms)
        }
        ParameterChange::MaxEpochsAhead(n) => n > max_epochs_ahead && n <= MAX_MAX_EPOCHS_AHEAD,
        ParameterChange::ActiveSetSize(n) => {
            (1..=MAX_ACTIVE_SET_SIZE).contains(&n) && n <= n_shards
        }
        ParameterChange::SystemSubsidyRate(rate) => rate <= MAX_SYSTEM_SUBSIDY_RATE,
        ParameterChange::BaseSubsidy(v) => v <= MAX_BASE_SUBSIDY,
        ParameterChange::SubsidyPerShard(v) => v <= MAX_SUBSIDY_PER_SHARD,
    };
    ensure(ok, EOutOfRange)
}

/// `propose`: records the proposal with the proposer's vote for; returns
/// its id.
pub fn propose(
    rt: &mut Runtime<'_>,
    g: &mut Governance,
    node_id: ObjectId,
    weight: u16,
    n_shards: u16,
    epoch: u32,
    change: ParameterChange,
) -> Result<u64, NativeError> {
    let kind = change.kind();
    ensure(
        !g.proposals.iter().any(|p| p.change.kind() == kind),
        EProposalExists,
    )?;
    let id = g.next_proposal_id;
    g.next_proposal_id = crate::util::add_u64(id, 1)?;
    g.proposals.push(ParameterProposal {
        id,
        epoch,
        change,
        proposer: node_id,
        votes_for: 0,
        votes_against: 0,
        voters: Vec::new(),
        passed: false,
    });
    emit(
        rt,
        &ProposalCreated {
            epoch,
            proposal_id: id,
            node_id,
            change,
        },
    )?;
    vote(rt, g, node_id, weight, n_shards, id, true)?;
    Ok(id)
}

/// `vote`: counts the vote; a quorum for passes the proposal.
pub fn vote(
    rt: &mut Runtime<'_>,
    g: &mut Governance,
    node_id: ObjectId,
    weight: u16,
    n_shards: u16,
    proposal_id: u64,
    in_favor: bool,
) -> Result<(), NativeError> {
    let index = g.proposals.iter().position(|p| p.id == proposal_id);
    let Some(index) = index else {
        return Err(ENoProposal.err());
    };
    let p = &mut g.proposals[index];
    ensure(!p.passed, EAlreadyPassed)?;
    ensure(!p.voters.contains(&node_id), EDuplicateVote)?;
    p.voters.push(node_id);
    if in_favor {
        p.votes_for = p
            .votes_for
            .checked_add(weight)
            .ok_or_else(crate::util::arithmetic)?;
    } else {
        p.votes_against = p
            .votes_against
            .checked_add(weight)
            .ok_or_else(crate::util::arithmetic)?;
    }
    let voted = ProposalVoted {
        epoch: p.epoch,
        proposal_id,
        node_id,
        in_favor,
        weight,
        votes_for: p.votes_for,
        votes_against: p.votes_against,
    };
    let passed = is_quorum(p.votes_for, n_shards);
    if passed {
        p.passed = true;
    }
    let passed_event = ProposalPassed {
        epoch: p.epoch,
        proposal_id,
        change: p.change,
    };
    emit(rt, &voted)?;
    if passed {
        emit(rt, &passed_event)?;
    }
    Ok(())
}

/// `close_epoch`: removes every proposal, emitting `ProposalApplied` or
/// `ProposalExpired`; sets passed subsidy rates and returns the other
/// passed changes in proposal order.
pub fn close_epoch(
    rt: &mut Runtime<'_>,
    g: &mut Governance,
    new_epoch: u32,
) -> Result<Vec<ParameterChange>, NativeError> {
    let mut passed = Vec::new();
    for p in std::mem::take(&mut g.proposals) {
        if p.passed {
            emit(
                rt,
                &ProposalApplied {
                    epoch: new_epoch,
                    proposal_id: p.id,
                    change: p.change,
                },
            )?;
            match p.change {
                ParameterChange::SystemSubsidyRate(rate) => g.system_subsidy_rate = rate,
                ParameterChange::BaseSubsidy(v) => g.base_subsidy = v,
                ParameterChange::SubsidyPerShard(v) => g.subsidy_per_shard = v,
                other => passed.push(other),
            }
        } else {
            emit(
                rt,
                &ProposalExpired {
                    epoch: p.epoch,
                    proposal_id: p.id,
                    change: p.change,
                    votes_for: p.votes_for,
                    votes_against: p.votes_against,
                },
            )?;
        }
    }
    Ok(passed)
}

/// `apply`: a passed change to the staking state (the caller stores it)
/// or the system.
pub fn apply(
    rt: &mut Runtime<'_>,
    change: &ParameterChange,
    s: &mut StakingInnerV1,
    sys: &System,
) -> Result<(), NativeError> {
    match *change {
        ParameterChange::EpochDuration(ms) => {
            s.epoch_duration = ms;
            Ok(())
        }
        ParameterChange::MaxEpochsAhead(n) => system::extend_max_epochs_ahead(rt, sys, n),
        ParameterChange::ActiveSetSize(n) => staking_inner::set_active_set_size(rt, s, n),
        _ => Ok(()),
    }
}

/// `is_quorum`: `3 * weight >= 2 * n_shards + 1`. The Move module keeps
/// its own copy (as each vote-counting module does); the twin keeps the
/// function and shares the one shard-weighted quorum rule of
/// `floe_core::committee`, which the certificate checks use too.
pub fn is_quorum(weight: u16, n_shards: u16) -> bool {
    floe_core::committee::is_quorum(u32::from(weight), u32::from(n_shards))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_is_more_than_two_thirds() {
        assert!(!is_quorum(6, 10));
        assert!(is_quorum(7, 10));
        assert!(!is_quorum(666, 1000));
        assert!(is_quorum(667, 1000));
        assert!(is_quorum(1, 1));
    }

    #[test]
    fn bounds_reject_out_of_range_values() {
        let ok = |c| check_bounds(&c, 10, 52).is_ok();
        assert!(ok(ParameterChange::EpochDuration(MIN_EPOCH_DURATION_MS)));
        assert!(!ok(ParameterChange::EpochDuration(
            MIN_EPOCH_DURATION_MS - 1
        )));
        assert!(!ok(ParameterChange::EpochDuration(
            MAX_EPOCH_DURATION_MS + 1
        )));
        assert!(ok(ParameterChange::MaxEpochsAhead(53)));
        assert!(!ok(ParameterChange::MaxEpochsAhead(52)));
        assert!(!ok(ParameterChange::MaxEpochsAhead(1001)));
        assert!(ok(ParameterChange::ActiveSetSize(10)));
        assert!(!ok(ParameterChange::ActiveSetSize(11)));
        assert!(!ok(ParameterChange::ActiveSetSize(0)));
        assert!(ok(ParameterChange::SystemSubsidyRate(
            MAX_SYSTEM_SUBSIDY_RATE
        )));
        assert!(!ok(ParameterChange::SystemSubsidyRate(
            MAX_SYSTEM_SUBSIDY_RATE + 1
        )));
        assert!(!ok(ParameterChange::BaseSubsidy(MAX_BASE_SUBSIDY + 1)));
        assert!(!ok(ParameterChange::SubsidyPerShard(
            MAX_SUBSIDY_PER_SHARD + 1
        )));
    }
}
