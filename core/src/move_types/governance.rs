//! Mirrors of floe's parameter governance (`floe::governance`, floe's own:
//! Walrus has no such module): the typed change, the proposal, the state
//! kept as a dynamic field of `Staking`, and the events.

use serde::{Deserialize, Serialize};

use super::framework::ObjectId;
use super::{
    Ability, MoveField, MovePackage, MoveRole, MoveType, MoveTypeInfo, MoveTypeKind, MoveVariant,
};

/// `governance::ParameterChange`: one parameter and its new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParameterChange {
    /// Epoch length (ms), from the epoch after the change on.
    EpochDuration(u64),
    /// How many epochs ahead storage is sold.
    MaxEpochsAhead(u32),
    /// Most nodes in the active set.
    ActiveSetSize(u16),
    /// System subsidy rate (basis points of new rewards).
    SystemSubsidyRate(u32),
    /// Subsidy per committee node and epoch (FROST).
    BaseSubsidy(u64),
    /// Subsidy per shard and epoch (FROST).
    SubsidyPerShard(u64),
}

const U64: &[MoveField] = &[MoveField {
    name: "pos0",
    ty: "u64",
}];
const U32: &[MoveField] = &[MoveField {
    name: "pos0",
    ty: "u32",
}];
const U16: &[MoveField] = &[MoveField {
    name: "pos0",
    ty: "u16",
}];

impl MoveType for ParameterChange {
    const INFO: MoveTypeInfo = MoveTypeInfo {
        package: MovePackage::Walrus,
        module: "governance",
        name: "ParameterChange",
        type_params: &[],
        abilities: &[Ability::Copy, Ability::Drop, Ability::Store],
        role: MoveRole::Value,
        kind: MoveTypeKind::Enum(&[
            MoveVariant {
                name: "EpochDuration",
                fields: U64,
            },
            MoveVariant {
                name: "MaxEpochsAhead",
                fields: U32,
            },
            MoveVariant {
                name: "ActiveSetSize",
                fields: U16,
            },
            MoveVariant {
                name: "SystemSubsidyRate",
                fields: U32,
            },
            MoveVariant {
                name: "BaseSubsidy",
                fields: U64,
            },
            MoveVariant {
                name: "SubsidyPerShard",
                fields: U64,
            },
        ]),
    };
}

impl ParameterChange {
    /// Which parameter (the kind index `governance::kind` uses).
    pub fn kind(&self) -> u8 {
        match self {
            ParameterChange::EpochDuration(_) => 0,
            ParameterChange::MaxEpochsAhead(_) => 1,
            ParameterChange::ActiveSetSize(_) => 2,
            ParameterChange::SystemSubsidyRate(_) => 3,
            ParameterChange::BaseSubsidy(_) => 4,
            ParameterChange::SubsidyPerShard(_) => 5,
        }
    }

    /// The parameter's name, as the CLI spells it.
    pub fn parameter(&self) -> &'static str {
        match self {
            ParameterChange::EpochDuration(_) => "epoch-duration",
            ParameterChange::MaxEpochsAhead(_) => "max-epochs-ahead",
            ParameterChange::ActiveSetSize(_) => "active-set-size",
            ParameterChange::SystemSubsidyRate(_) => "system-subsidy-rate",
            ParameterChange::BaseSubsidy(_) => "base-subsidy",
            ParameterChange::SubsidyPerShard(_) => "subsidy-per-shard",
        }
    }

    /// The new value as a `u64`.
    pub fn value(&self) -> u64 {
        match *self {
            ParameterChange::EpochDuration(v)
            | ParameterChange::BaseSubsidy(v)
            | ParameterChange::SubsidyPerShard(v) => v,
            ParameterChange::MaxEpochsAhead(v) | ParameterChange::SystemSubsidyRate(v) => {
                u64::from(v)
            }
            ParameterChange::ActiveSetSize(v) => u64::from(v),
        }
    }
}

move_struct! {
    /// An open or passed parameter proposal.
    Walrus "governance" ParameterProposal: Value [Copy, Drop, Store] {
        id: u64 => "u64",
        epoch: u32 => "u32",
        change: ParameterChange => "ParameterChange",
        proposer: ObjectId => "ID",
        votes_for: u16 => "u16",
        votes_against: u16 => "u16",
        voters: Vec<ObjectId> => "vector<ID>",
        passed: bool => "bool",
    }
}

move_struct! {
    /// The governance state (dynamic field `b"governance"` of `Staking`).
    Walrus "governance" Governance: Value [Store] {
        next_proposal_id: u64 => "u64",
        proposals: Vec<ParameterProposal> => "vector<ParameterProposal>",
        system_subsidy_rate: u32 => "u32",
        base_subsidy: u64 => "u64",
        subsidy_per_shard: u64 => "u64",
    }
}

move_struct! {
    /// A parameter proposal was made (with the proposer's vote for).
    Walrus "governance" ProposalCreated: Event [Copy, Drop] {
        epoch: u32 => "u32",
        proposal_id: u64 => "u64",
        node_id: ObjectId => "ID",
        change: ParameterChange => "ParameterChange",
    }
}

move_struct! {
    /// A node voted on a parameter proposal.
    Walrus "governance" ProposalVoted: Event [Copy, Drop] {
        epoch: u32 => "u32",
        proposal_id: u64 => "u64",
        node_id: ObjectId => "ID",
        in_favor: bool => "bool",
        weight: u16 => "u16",
        votes_for: u16 => "u16",
        votes_against: u16 => "u16",
    }
}

move_struct! {
    /// A parameter proposal reached a quorum.
    Walrus "governance" ProposalPassed: Event [Copy, Drop] {
        epoch: u32 => "u32",
        proposal_id: u64 => "u64",
        change: ParameterChange => "ParameterChange",
    }
}

move_struct! {
    /// A passed proposal took effect at the start of `epoch`.
    Walrus "governance" ProposalApplied: Event [Copy, Drop] {
        epoch: u32 => "u32",
        proposal_id: u64 => "u64",
        change: ParameterChange => "ParameterChange",
    }
}

move_struct! {
    /// A proposal of `epoch` ended without a quorum.
    Walrus "governance" ProposalExpired: Event [Copy, Drop] {
        epoch: u32 => "u32",
        proposal_id: u64 => "u64",
        change: ParameterChange => "ParameterChange",
        votes_for: u16 => "u16",
        votes_against: u16 => "u16",
    }
}
