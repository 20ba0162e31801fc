//! Mirrors of Walrus's vote-governed modules as floe has them
//! (`floe::upgrade`, `floe::slashing`) and of the subsidies pool
//! (`floe::subsidies`), plus the three `sui::package` values an upgrade
//! passes around. The events beside Walrus's own (`events::ContractUpgrade*`)
//! are floe's additions, so an indexer sees every vote and every outcome.

use super::framework::{Balance, ObjectId};

move_struct! {
    /// `sui::package::UpgradeCap`: the right to upgrade `package`;
    /// `package` is `0x0` while an authorized upgrade is pending.
    Sui "package" UpgradeCap: Object [Key, Store] {
        id: ObjectId => "UID",
        package: ObjectId => "ID",
        version: u64 => "u64",
        policy: u8 => "u8",
    }
}

move_struct! {
    /// `sui::package::UpgradeTicket`: an authorized upgrade, consumed by
    /// the transaction's Upgrade command.
    Sui "package" UpgradeTicket: Value [] {
        cap: ObjectId => "ID",
        package: ObjectId => "ID",
        policy: u8 => "u8",
        digest: Vec<u8> => "vector<u8>",
    }
}

move_struct! {
    /// `sui::package::UpgradeReceipt`: what the Upgrade command returns.
    Sui "package" UpgradeReceipt: Value [] {
        cap: ObjectId => "ID",
        package: ObjectId => "ID",
    }
}

move_struct! {
    /// Votes for one package digest in one epoch.
    Walrus "upgrade" UpgradeProposal: Value [Copy, Drop, Store] {
        epoch: u32 => "u32",
        digest: Vec<u8> => "vector<u8>",
        version: u64 => "u64",
        voting_weight: u16 => "u16",
        voters: Vec<ObjectId> => "vector<ID>",
    }
}

move_struct! {
    /// The shared upgrade manager: the package's `UpgradeCap` and the
    /// current epoch's proposals.
    Walrus "upgrade" UpgradeManager: Object [Key] {
        id: ObjectId => "UID",
        cap: UpgradeCap => "UpgradeCap",
        upgrade_proposals: Vec<UpgradeProposal> => "vector<UpgradeProposal>",
    }
}

move_struct! {
    /// Authorizes an upgrade without votes (given at genesis; can be burnt).
    Walrus "upgrade" EmergencyUpgradeCap: Object [Key, Store] {
        id: ObjectId => "UID",
        upgrade_manager_id: ObjectId => "ID",
    }
}

move_struct! {
    /// A node voted for an upgrade (floe's own event).
    Walrus "upgrade" UpgradeVoted: Event [Copy, Drop] {
        epoch: u32 => "u32",
        package_digest: Vec<u8> => "vector<u8>",
        node_id: ObjectId => "ID",
        weight: u16 => "u16",
        voting_weight: u16 => "u16",
    }
}

move_struct! {
    /// An upgrade was authorized, by quorum or emergency cap (floe's own).
    Walrus "upgrade" UpgradeAuthorized: Event [Copy, Drop] {
        epoch: u32 => "u32",
        package_digest: Vec<u8> => "vector<u8>",
        version: u64 => "u64",
        emergency: bool => "bool",
    }
}

move_struct! {
    /// Votes to slash one node in one epoch.
    Walrus "slashing" SlashingProposal: Value [Copy, Drop, Store] {
        epoch: u32 => "u32",
        node_id: ObjectId => "ID",
        voting_weight: u16 => "u16",
        voters: Vec<ObjectId> => "vector<ID>",
    }
}

move_struct! {
    /// The shared slashing manager.
    Walrus "slashing" SlashingManager: Object [Key] {
        id: ObjectId => "UID",
        slashing_candidates: Vec<SlashingProposal> => "vector<SlashingProposal>",
    }
}

move_struct! {
    /// A node voted to slash `candidate`.
    Walrus "slashing" SlashingVoted: Event [Copy, Drop] {
        epoch: u32 => "u32",
        candidate: ObjectId => "ID",
        node_id: ObjectId => "ID",
        weight: u16 => "u16",
        voting_weight: u16 => "u16",
    }
}

move_struct! {
    /// The votes to slash `candidate` reached a quorum.
    Walrus "slashing" SlashingQuorumReached: Event [Copy, Drop] {
        epoch: u32 => "u32",
        candidate: ObjectId => "ID",
    }
}

move_struct! {
    /// `candidate`'s whole commission (`amount` FROST) was burnt.
    Walrus "slashing" NodeSlashed: Event [Copy, Drop] {
        epoch: u32 => "u32",
        candidate: ObjectId => "ID",
        amount: u64 => "u64",
    }
}

move_struct! {
    /// The shared subsidies pool and its bookkeeping.
    Walrus "subsidies" Subsidies: Object [Key] {
        id: ObjectId => "UID",
        subsidy_pool: Balance => "Balance<WAL>",
        last_paid_epoch: Option<u32> => "Option<u32>",
        already_subsidized_start: u32 => "u32",
        already_subsidized: Vec<u64> => "vector<u64>",
    }
}

move_struct! {
    /// Someone funded the pool; `pool_balance` is the balance after.
    Walrus "subsidies" SubsidiesFunded: Event [Copy, Drop] {
        amount: u64 => "u64",
        pool_balance: u64 => "u64",
    }
}

move_struct! {
    /// A committee node's commission received `amount` FROST of subsidy.
    Walrus "subsidies" NodeSubsidized: Event [Copy, Drop] {
        epoch: u32 => "u32",
        node_id: ObjectId => "ID",
        amount: u64 => "u64",
    }
}

move_struct! {
    /// One `process_subsidies` call that paid anything.
    Walrus "subsidies" SubsidiesPaid: Event [Copy, Drop] {
        epoch: u32 => "u32",
        node_subsidies: u64 => "u64",
        future_subsidies: u64 => "u64",
        pool_balance: u64 => "u64",
    }
}
