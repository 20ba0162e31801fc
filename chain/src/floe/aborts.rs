//! Names and meanings of the Move aborts a floe transaction can end with,
//! so an error message says `blob::ENotCertified: the blob is not certified`
//! instead of a bare number.
//!
//! A Move abort is located in the module that declares the constant (Sui
//! reports that module, not the called one), so `(module, code)` names one
//! constant. The floe table is checked against the contracts' own
//! declarations by `contracts/tests/parity.rs`; the framework entries are
//! the Sui framework's constants that floe's calls can reach.

use sui_sdk_types::Address;

/// One abort constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownAbort {
    pub module: &'static str,
    pub name: &'static str,
    pub code: u64,
    /// What went wrong, for people.
    pub meaning: &'static str,
}

const fn k(
    module: &'static str,
    name: &'static str,
    code: u64,
    meaning: &'static str,
) -> KnownAbort {
    KnownAbort {
        module,
        name,
        code,
        meaning,
    }
}

/// Every abort constant of the floe package (the WAL package has none).
pub const FLOE_ABORTS: &[KnownAbort] = &[
    k("blob", "ENotCertified", 0, "the blob is not certified"),
    k("blob", "EBlobNotDeletable", 1, "the blob is not deletable"),
    k(
        "blob",
        "EResourceBounds",
        2,
        "the storage does not cover the epoch",
    ),
    k(
        "blob",
        "EResourceSize",
        3,
        "the storage is smaller than the encoded blob",
    ),
    k(
        "blob",
        "EAlreadyCertified",
        5,
        "the blob is already certified",
    ),
    k("blob", "EInvalidBlobId", 6, "the blob id does not match"),
    k(
        "blob",
        "EDuplicateMetadata",
        7,
        "the blob already has attributes",
    ),
    k("blob", "EMissingMetadata", 8, "the blob has no attributes"),
    k(
        "blob",
        "EInvalidBlobPersistenceType",
        9,
        "the certificate's persistence type does not match the blob",
    ),
    k(
        "blob",
        "EInvalidBlobObject",
        10,
        "the certificate is for another deletable blob object",
    ),
    k(
        "bls_aggregate",
        "EInvalidBitmap",
        0,
        "the signer bitmap is invalid",
    ),
    k(
        "bls_aggregate",
        "ESigVerification",
        1,
        "the aggregate signature does not verify",
    ),
    k(
        "bls_aggregate",
        "ENotEnoughStake",
        2,
        "the signers do not hold enough shards",
    ),
    k(
        "bls_aggregate",
        "EIncorrectCommittee",
        3,
        "a committee member has zero weight",
    ),
    k(
        "encoding",
        "EInvalidEncodingType",
        0,
        "the encoding type is not RS2",
    ),
    k(
        "event_blob",
        "EInvalidSequenceNumber",
        0,
        "the event blob does not end after the previous one",
    ),
    k(
        "governance",
        "ENotAuthorized",
        0,
        "the caller is not the node's governance authority",
    ),
    k(
        "governance",
        "ENotInCommittee",
        1,
        "the node is not in the current committee",
    ),
    k(
        "governance",
        "EDuplicateVote",
        2,
        "the node already voted on the proposal",
    ),
    k(
        "governance",
        "EProposalExists",
        3,
        "a proposal for this parameter is already open",
    ),
    k(
        "governance",
        "ENoProposal",
        4,
        "no open proposal with this id",
    ),
    k(
        "governance",
        "EAlreadyPassed",
        5,
        "the proposal already passed; it applies at the next epoch change",
    ),
    k(
        "governance",
        "EOutOfRange",
        6,
        "the value is outside the parameter's safe range",
    ),
    k(
        "init",
        "EInvalidUpgradeCap",
        1,
        "the upgrade cap is not the floe package's",
    ),
    k(
        "upgrade",
        "EInvalidUpgradeManager",
        0,
        "the emergency upgrade cap belongs to another upgrade manager",
    ),
    k(
        "upgrade",
        "ENotAuthorized",
        1,
        "the caller is not the node's governance authority",
    ),
    k(
        "upgrade",
        "EDuplicateVote",
        2,
        "the node already voted for this upgrade in this epoch",
    ),
    k(
        "upgrade",
        "EInvalidPackageDigest",
        3,
        "a package digest has 32 bytes",
    ),
    k(
        "upgrade",
        "ENoProposalForDigest",
        4,
        "no upgrade proposal for this digest",
    ),
    k(
        "upgrade",
        "EWrongEpoch",
        5,
        "the upgrade proposal is from an earlier epoch",
    ),
    k(
        "upgrade",
        "ENotEnoughVotes",
        6,
        "the upgrade proposal has no quorum of votes",
    ),
    k(
        "upgrade",
        "EWrongVersion",
        7,
        "the upgrade proposal is for another package version",
    ),
    k(
        "upgrade",
        "ENotInCommittee",
        8,
        "the node is not in the current committee",
    ),
    k(
        "slashing",
        "ENotAuthorized",
        0,
        "the caller is not the voter's governance authority",
    ),
    k(
        "slashing",
        "EDuplicateVote",
        1,
        "the node already voted to slash this candidate in this epoch",
    ),
    k(
        "slashing",
        "ENoProposalForNode",
        2,
        "no slashing proposal for this node",
    ),
    k(
        "slashing",
        "EWrongEpoch",
        3,
        "the slashing proposal is from an earlier epoch",
    ),
    k(
        "slashing",
        "ENotEnoughVotes",
        4,
        "the slashing proposal has no quorum of votes",
    ),
    k(
        "slashing",
        "ENotInCommittee",
        5,
        "the voter is not in the current committee",
    ),
    k(
        "slashing",
        "EUnknownCandidate",
        6,
        "the candidate has no staking pool",
    ),
    k(
        "subsidies",
        "EInsufficientFundsInPool",
        0,
        "the subsidies pool holds less than the subsidies due",
    ),
    k(
        "init",
        "EInvalidCommitteeInput",
        3,
        "the committee vectors have different lengths",
    ),
    k(
        "init",
        "EShardCountMismatch",
        5,
        "the shard counts do not add up",
    ),
    k(
        "messages",
        "EIncorrectAppId",
        0,
        "the message is not for the storage app",
    ),
    k(
        "messages",
        "EIncorrectEpoch",
        1,
        "the message is not for the current epoch",
    ),
    k(
        "messages",
        "EInvalidMsgType",
        2,
        "the message has the wrong intent type",
    ),
    k(
        "messages",
        "EIncorrectIntentVersion",
        3,
        "the message's intent version is not 0",
    ),
    k(
        "messages",
        "EInvalidBlobPersistenceType",
        4,
        "the certificate has an unknown persistence tag",
    ),
    k(
        "messages",
        "ENotDeletable",
        5,
        "a permanent blob has no object id",
    ),
    k(
        "messages",
        "EInvalidKeyLength",
        6,
        "the BLS key is not 48 bytes",
    ),
    k(
        "redstuff",
        "EBlobTooLarge",
        0,
        "the blob is too large for the committee",
    ),
    k(
        "storage_accounting",
        "ETooFarInFuture",
        0,
        "the epoch is beyond the accounting ring",
    ),
    k(
        "storage_resource",
        "EInvalidEpoch",
        0,
        "the split epoch is outside the storage",
    ),
    k(
        "storage_resource",
        "EIncompatibleEpochs",
        1,
        "the storage periods are not adjacent",
    ),
    k(
        "storage_resource",
        "EIncompatibleAmount",
        2,
        "the storage sizes do not fit",
    ),
    k(
        "storage_resource",
        "EInvalidEpochRange",
        3,
        "the storage epoch range is empty",
    ),
    k(
        "system",
        "EInvalidMigration",
        0,
        "the migration is not to a newer package",
    ),
    k(
        "system",
        "EWrongVersion",
        1,
        "the System object is at another package version",
    ),
    k(
        "system_state_inner",
        "EInvalidMaxEpochsAhead",
        0,
        "invalid max_epochs_ahead",
    ),
    k(
        "system_state_inner",
        "EStorageExceeded",
        1,
        "not enough free storage capacity",
    ),
    k(
        "system_state_inner",
        "EInvalidEpochsAhead",
        2,
        "the number of epochs is 0 or too far ahead",
    ),
    k(
        "system_state_inner",
        "EInvalidIdEpoch",
        3,
        "the certificate is not for the current epoch",
    ),
    k(
        "system_state_inner",
        "EIncorrectCommittee",
        4,
        "the committee is not for the next epoch",
    ),
    k(
        "system_state_inner",
        "EInvalidAccountingEpoch",
        5,
        "the accounting ring is out of step",
    ),
    k(
        "system_state_inner",
        "EInvalidResourceSize",
        11,
        "a reservation of zero bytes",
    ),
    k(
        "active_set",
        "EZeroMaxSize",
        0,
        "the active set's size limit is zero",
    ),
    k(
        "committee",
        "EInvalidShardAssignment",
        0,
        "the shard assignment does not cover the committee's shards",
    ),
    k(
        "pending_values",
        "EMissingEpochValue",
        0,
        "no pending value for the epoch",
    ),
    k(
        "pending_values",
        "EReduceValueTooLarge",
        1,
        "the pending value is smaller than the reduction",
    ),
    k(
        "pool_exchange_rate",
        "EInvalidRate",
        0,
        "a pool exchange rate with more shares than WAL",
    ),
    k(
        "staked_wal",
        "ENotWithdrawing",
        0,
        "the stake is not withdrawing",
    ),
    k(
        "staked_wal",
        "EMetadataMismatch",
        1,
        "the stakes differ in node, state or epochs",
    ),
    k(
        "staked_wal",
        "EInvalidAmount",
        2,
        "the split amount is zero or the whole stake",
    ),
    k(
        "staked_wal",
        "EAlreadyWithdrawing",
        6,
        "the stake is already withdrawing",
    ),
    k(
        "staked_wal",
        "EStakeBelowThreshold",
        7,
        "a stake below the minimum of 1 WAL",
    ),
    k(
        "staking",
        "EWrongVersion",
        1,
        "Staking is not at this package's version",
    ),
    k(
        "staking_inner",
        "EWrongEpochState",
        0,
        "the epoch change is not at this step yet (or it is too early)",
    ),
    k(
        "staking_inner",
        "EInvalidSyncEpoch",
        1,
        "sync done for another epoch",
    ),
    k(
        "staking_inner",
        "EDuplicateSyncDone",
        2,
        "the node already reported sync done for the epoch",
    ),
    k(
        "staking_inner",
        "ENoStake",
        3,
        "no stake to select a committee from",
    ),
    k(
        "staking_inner",
        "ENotInCommittee",
        4,
        "the node is not in the committee",
    ),
    k(
        "staking_inner",
        "ECommitteeSelected",
        5,
        "the next committee is already selected",
    ),
    k(
        "staking_inner",
        "EPoolNotFound",
        8,
        "no staking pool for the node",
    ),
    k(
        "staking_inner",
        "EIncorrectNodeOrder",
        10,
        "the next public keys are out of committee order",
    ),
    k(
        "staking_pool",
        "EPoolAlreadyUpdated",
        0,
        "the pool already moved to the epoch",
    ),
    k(
        "staking_pool",
        "EInvalidProofOfPossession",
        4,
        "the proof of possession does not sign this key for the current epoch and the sender",
    ),
    k(
        "staking_pool",
        "EPoolIsNotActive",
        6,
        "the pool does not accept stake",
    ),
    k("staking_pool", "EZeroStake", 7, "staking zero WAL"),
    k(
        "staking_pool",
        "ENotStaked",
        8,
        "the stake is not staked (already withdrawing)",
    ),
    k(
        "staking_pool",
        "EIncorrectPoolId",
        9,
        "the stake belongs to another pool",
    ),
    k(
        "staking_pool",
        "ENotWithdrawing",
        10,
        "request the withdrawal first",
    ),
    k(
        "staking_pool",
        "EWithdrawEpochNotReached",
        11,
        "the stake's withdraw epoch has not come yet",
    ),
    k(
        "staking_pool",
        "EActivationEpochNotReached",
        12,
        "the stake is not active yet",
    ),
    k(
        "staking_pool",
        "EWithdrawDirectly",
        13,
        "withdraw this stake directly with withdraw_stake",
    ),
    k(
        "staking_pool",
        "EIncorrectCommissionRate",
        14,
        "a commission rate above 100% (10000 basis points)",
    ),
    k(
        "staking_pool",
        "EAuthorizationFailure",
        15,
        "not the pool's commission receiver or governance authority",
    ),
    k(
        "staking_pool",
        "EInvalidNetworkAddressLength",
        16,
        "the network address is longer than 259 characters",
    ),
    k(
        "staking_pool",
        "EInvalidNameLength",
        17,
        "the node name is longer than 100 characters",
    ),
    k(
        "storage_node",
        "EInvalidNetworkPublicKey",
        0,
        "the network public key is not 33 bytes",
    ),
];

/// Sui framework constants (`0x2`) floe's calls can reach.
pub const SUI_ABORTS: &[KnownAbort] = &[
    k(
        "package",
        "EAlreadyAuthorized",
        2,
        "the upgrade cap already authorized an upgrade that was not committed",
    ),
    k(
        "package",
        "ENotAuthorized",
        3,
        "the upgrade cap has no authorized upgrade to commit",
    ),
    k(
        "package",
        "EWrongUpgradeCap",
        4,
        "the upgrade receipt is another cap's",
    ),
    k("balance", "ENonZero", 0, "the balance is not zero"),
    k("balance", "EOverflow", 1, "the balance would overflow"),
    k("balance", "ENotEnough", 2, "not enough balance in the coin"),
    k(
        "dynamic_field",
        "EFieldAlreadyExists",
        0,
        "the dynamic field already exists",
    ),
    k(
        "dynamic_field",
        "EFieldDoesNotExist",
        1,
        "the dynamic field does not exist",
    ),
    k(
        "dynamic_field",
        "EFieldTypeMismatch",
        2,
        "the dynamic field has another type",
    ),
    k(
        "transfer",
        "ESharedNonNewObject",
        0,
        "only new objects can be shared",
    ),
    k("bcs", "EOutOfRange", 0, "the bytes end too early"),
    k("vec_map", "EKeyDoesNotExist", 1, "no such key"),
    k(
        "group_ops",
        "EInvalidInput",
        1,
        "invalid group element bytes",
    ),
];

/// Move standard library constants (`0x1`) floe's calls can reach.
pub const STD_ABORTS: &[KnownAbort] = &[k(
    "option",
    "EOPTION_NOT_SET",
    0x40001,
    "the option is empty",
)];

/// The constant behind an abort at `package::module` with `code`. Any
/// package other than `0x1`/`0x2` is taken for floe's, whose id depends on
/// the deployment.
pub fn describe(package: &Address, module: &str, code: u64) -> Option<&'static KnownAbort> {
    let table = if *package == Address::TWO {
        SUI_ABORTS
    } else if *package == Address::from_static("0x1") {
        STD_ABORTS
    } else {
        FLOE_ABORTS
    };
    table.iter().find(|a| a.module == module && a.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_use_package_module_and_code() {
        let floe = Address::from_static("0xf10e");
        assert_eq!(
            describe(&floe, "blob", 0).map(|a| a.name),
            Some("ENotCertified")
        );
        assert_eq!(
            describe(&floe, "messages", 4).map(|a| a.name),
            Some("EInvalidBlobPersistenceType")
        );
        assert_eq!(describe(&floe, "blob", 4), None);
        assert_eq!(
            describe(&Address::TWO, "balance", 2).map(|a| a.name),
            Some("ENotEnough")
        );
        assert_eq!(describe(&Address::TWO, "blob", 0), None);
    }

    #[test]
    fn no_constant_twice() {
        for table in [FLOE_ABORTS, SUI_ABORTS, STD_ABORTS] {
            for (i, a) in table.iter().enumerate() {
                assert!(
                    !table[..i]
                        .iter()
                        .any(|b| (b.module, b.code) == (a.module, a.code)
                            || (b.module, b.name) == (a.module, a.name)),
                    "{}::{} twice",
                    a.module,
                    a.name
                );
            }
        }
    }
}
