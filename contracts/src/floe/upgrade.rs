//! Twin of `floe::upgrade`: package upgrades by committee vote (weights =
//! shards in the current committee, quorum `3w >= 2n + 1`), the emergency
//! cap, and the `sui::package` cap bookkeeping an authorization and a
//! commit do. The devnet ledger cannot run the Upgrade command a ticket is
//! meant for; its framework lets the ticket be dropped, so an authorization
//! stands on its own (the `UpgradeAuthorized` event, the cap's package set
//! to `0x0` as Sui marks a pending upgrade).

use floe_core::move_types::{
    ContractUpgradeProposed, ContractUpgradeQuorumReached, ContractUpgraded, EmergencyUpgradeCap,
    MoveType, MoveTypeInfo, ObjectId, Staking, StakingInnerV1, System, UpgradeAuthorized,
    UpgradeCap, UpgradeManager, UpgradeProposal, UpgradeReceipt, UpgradeTicket, UpgradeVoted,
};
use floe_runtime::{NativeError, Runtime, Value};
use serde::Serialize;
use sui_sdk_types::{Address, Identifier, StructTag, TypeTag};

use crate::floe::auth::{self, Authenticated};
use crate::floe::{committee, events, staking, staking_inner};
use crate::registry::{AbortCode, FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure, floe_tag, floe_value, id_value, new_id, set};

abort_codes! {
    module: "upgrade",
    EInvalidUpgradeManager = 0,
    ENotAuthorized = 1,
    EDuplicateVote = 2,
    EInvalidPackageDigest = 3,
    ENoProposalForDigest = 4,
    EWrongEpoch = 5,
    ENotEnoughVotes = 6,
    EWrongVersion = 7,
    ENotInCommittee = 8,
}

/// Bytes of a package digest.
pub const DIGEST_LENGTH: usize = 32;

/// `sui::package::EAlreadyAuthorized`: the cap has a pending upgrade.
const PACKAGE_EALREADY_AUTHORIZED: AbortCode = AbortCode::sui("package", "EAlreadyAuthorized", 2);
/// `sui::package::ENotAuthorized`: no upgrade is pending.
const PACKAGE_ENOT_AUTHORIZED: AbortCode = AbortCode::sui("package", "ENotAuthorized", 3);
/// `sui::package::EWrongUpgradeCap`: the receipt is another cap's.
const PACKAGE_EWRONG_UPGRADE_CAP: AbortCode = AbortCode::sui("package", "EWrongUpgradeCap", 4);

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "vote_for_upgrade",
        Vis::Public,
        &[],
        &[
            ("self", "&mut UpgradeManager"),
            ("staking", "&Staking"),
            ("auth", "Authenticated"),
            ("node_id", "ID"),
            ("digest", "vector<u8>"),
        ],
        &[],
    ),
    FnSig::new(
        "authorize_upgrade",
        Vis::Public,
        &[],
        &[
            ("self", "&mut UpgradeManager"),
            ("staking", "&Staking"),
            ("digest", "vector<u8>"),
        ],
        &["UpgradeTicket"],
    ),
    FnSig::new(
        "authorize_emergency_upgrade",
        Vis::Public,
        &[],
        &[
            ("upgrade_manager", "&mut UpgradeManager"),
            ("emergency_upgrade_cap", "&EmergencyUpgradeCap"),
            ("digest", "vector<u8>"),
        ],
        &["UpgradeTicket"],
    ),
    FnSig::new(
        "burn_emergency_upgrade_cap",
        Vis::Public,
        &[],
        &[("emergency_upgrade_cap", "EmergencyUpgradeCap")],
        &[],
    ),
    FnSig::new(
        "commit_upgrade",
        Vis::Public,
        &[],
        &[
            ("self", "&mut UpgradeManager"),
            ("staking", "&mut Staking"),
            ("system", "&mut System"),
            ("receipt", "UpgradeReceipt"),
        ],
        &[],
    ),
    FnSig::new(
        "cleanup_upgrade_proposals",
        Vis::Public,
        &[],
        &[("self", "&mut UpgradeManager"), ("staking", "&Staking")],
        &[],
    ),
    FnSig::new(
        "package_id",
        Vis::Public,
        &[],
        &[("self", "&UpgradeManager")],
        &["ID"],
    ),
    FnSig::new(
        "version",
        Vis::Public,
        &[],
        &[("self", "&UpgradeManager")],
        &["u64"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[
    UpgradeProposal::INFO,
    UpgradeManager::INFO,
    EmergencyUpgradeCap::INFO,
    UpgradeVoted::INFO,
    UpgradeAuthorized::INFO,
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "upgrade",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "vote_for_upgrade" => |c| {
            let mut m: UpgradeManager = arg(c, 0)?;
            let staking: Staking = arg(c, 1)?;
            let auth: Authenticated = arg(c, 2)?;
            let node_id: ObjectId = arg(c, 3)?;
            let digest: Vec<u8> = arg(c, 4)?;
            let state = staking::load_inner(c.rt, &staking)?;
            vote_for_upgrade(c.rt, &mut m, &state, &auth, node_id, digest)?;
            set(c, 0, &m)?;
            Ok(vec![])
        },
        "authorize_upgrade" => |c| {
            let mut m: UpgradeManager = arg(c, 0)?;
            let staking: Staking = arg(c, 1)?;
            let digest: Vec<u8> = arg(c, 2)?;
            let state = staking::load_inner(c.rt, &staking)?;
            let ticket = authorize_upgrade(c.rt, &mut m, &state, digest)?;
            set(c, 0, &m)?;
            Ok(vec![ticket_value(&ticket)])
        },
        "authorize_emergency_upgrade" => |c| {
            let mut m: UpgradeManager = arg(c, 0)?;
            let cap: EmergencyUpgradeCap = arg(c, 1)?;
            let digest: Vec<u8> = arg(c, 2)?;
            ensure(cap.upgrade_manager_id == m.id, EInvalidUpgradeManager)?;
            ensure(digest.len() == DIGEST_LENGTH, EInvalidPackageDigest)?;
            let ticket = authorize(c.rt, &mut m, 0, digest, true)?;
            set(c, 0, &m)?;
            Ok(vec![ticket_value(&ticket)])
        },
        "burn_emergency_upgrade_cap" => |c| {
            let cap: EmergencyUpgradeCap = arg(c, 0)?;
            c.rt.delete_uid(crate::util::to_address(cap.id))?;
            Ok(vec![])
        },
        "commit_upgrade" => |c| {
            let mut m: UpgradeManager = arg(c, 0)?;
            let mut staking: Staking = arg(c, 1)?;
            let mut sys: System = arg(c, 2)?;
            let receipt: UpgradeReceipt = arg(c, 3)?;
            let state = staking::load_inner(c.rt, &staking)?;
            ensure(receipt.cap == m.cap.id, PACKAGE_EWRONG_UPGRADE_CAP)?;
            ensure(
                m.cap.package == ObjectId::default(),
                PACKAGE_ENOT_AUTHORIZED,
            )?;
            m.cap.package = receipt.package;
            m.cap.version = crate::util::add_u64(m.cap.version, 1)?;
            staking.new_package_id = Some(receipt.package);
            sys.new_package_id = Some(receipt.package);
            events::emit(
                c.rt,
                &ContractUpgraded {
                    epoch: state.epoch,
                    package_id: receipt.package,
                    version: m.cap.version,
                },
            )?;
            set(c, 0, &m)?;
            set(c, 1, &staking)?;
            set(c, 2, &sys)?;
            Ok(vec![])
        },
        "cleanup_upgrade_proposals" => |c| {
            let mut m: UpgradeManager = arg(c, 0)?;
            let staking: Staking = arg(c, 1)?;
            let state = staking::load_inner(c.rt, &staking)?;
            cleanup(&mut m, state.epoch)?;
            set(c, 0, &m)?;
            Ok(vec![])
        },
        "package_id" => |c| {
            let m: UpgradeManager = arg(c, 0)?;
            Ok(vec![id_value(m.cap.package)])
        },
        "version" => |c| {
            let m: UpgradeManager = arg(c, 0)?;
            Ok(vec![Value::u64(m.cap.version)])
        },
        _ => return None,
    };
    Some(f)
}

fn emit<T: MoveType + Serialize>(rt: &mut Runtime<'_>, event: &T) -> Result<(), NativeError> {
    rt.emit(floe_tag("upgrade", T::INFO.name, vec![]), event)
}

/// `0x2::package::UpgradeTicket`.
pub fn ticket_tag() -> StructTag {
    StructTag::new(
        Address::TWO,
        Identifier::from_static("package"),
        Identifier::from_static("UpgradeTicket"),
        vec![],
    )
}

fn ticket_value(ticket: &UpgradeTicket) -> Value {
    Value::new(TypeTag::Struct(Box::new(ticket_tag())), ticket)
}

/// `new`: shares a manager of `cap`; returns its emergency cap.
pub fn new(rt: &mut Runtime<'_>, cap: UpgradeCap) -> Result<EmergencyUpgradeCap, NativeError> {
    let manager = UpgradeManager {
        id: new_id(rt)?,
        cap,
        upgrade_proposals: Vec::new(),
    };
    let emergency = EmergencyUpgradeCap {
        id: new_id(rt)?,
        upgrade_manager_id: manager.id,
    };
    rt.share(floe_value("upgrade", "UpgradeManager", &manager))?;
    Ok(emergency)
}

/// An `EmergencyUpgradeCap` value.
pub fn emergency_cap_value(cap: &EmergencyUpgradeCap) -> Value {
    floe_value("upgrade", "EmergencyUpgradeCap", cap)
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

/// Drops the proposals of other epochs or versions.
fn cleanup(m: &mut UpgradeManager, epoch: u32) -> Result<(), NativeError> {
    let version = crate::util::add_u64(m.cap.version, 1)?;
    m.upgrade_proposals
        .retain(|p| p.epoch == epoch && p.version == version);
    Ok(())
}

/// `vote_for_upgrade`.
pub fn vote_for_upgrade(
    rt: &mut Runtime<'_>,
    m: &mut UpgradeManager,
    s: &StakingInnerV1,
    auth: &Authenticated,
    node_id: ObjectId,
    digest: Vec<u8>,
) -> Result<(), NativeError> {
    ensure(digest.len() == DIGEST_LENGTH, EInvalidPackageDigest)?;
    let weight = voter_weight(rt, s, node_id, auth)?;
    let epoch = s.epoch;
    let version = crate::util::add_u64(m.cap.version, 1)?;
    cleanup(m, epoch)?;
    let index = match m.upgrade_proposals.iter().position(|p| p.digest == digest) {
        Some(i) => i,
        None => {
            m.upgrade_proposals.push(UpgradeProposal {
                epoch,
                digest: digest.clone(),
                version,
                voting_weight: 0,
                voters: Vec::new(),
            });
            events::emit(
                rt,
                &ContractUpgradeProposed {
                    epoch,
                    package_digest: digest.clone(),
                },
            )?;
            m.upgrade_proposals.len() - 1
        }
    };
    let p = &mut m.upgrade_proposals[index];
    ensure(!p.voters.contains(&node_id), EDuplicateVote)?;
    let before = p.voting_weight;
    p.voters.push(node_id);
    p.voting_weight = before
        .checked_add(weight)
        .ok_or_else(crate::util::arithmetic)?;
    let after = p.voting_weight;
    emit(
        rt,
        &UpgradeVoted {
            epoch,
            package_digest: digest.clone(),
            node_id,
            weight,
            voting_weight: after,
        },
    )?;
    if !is_quorum(before, s.n_shards) && is_quorum(after, s.n_shards) {
        events::emit(
            rt,
            &ContractUpgradeQuorumReached {
                epoch,
                package_digest: digest,
            },
        )?;
    }
    Ok(())
}

/// `authorize_upgrade`: removes the proposal and authorizes it.
pub fn authorize_upgrade(
    rt: &mut Runtime<'_>,
    m: &mut UpgradeManager,
    s: &StakingInnerV1,
    digest: Vec<u8>,
) -> Result<UpgradeTicket, NativeError> {
    let Some(index) = m.upgrade_proposals.iter().position(|p| p.digest == digest) else {
        return Err(ENoProposalForDigest.err());
    };
    let p = m.upgrade_proposals.remove(index);
    ensure(p.epoch == s.epoch, EWrongEpoch)?;
    ensure(is_quorum(p.voting_weight, s.n_shards), ENotEnoughVotes)?;
    ensure(
        p.version == crate::util::add_u64(m.cap.version, 1)?,
        EWrongVersion,
    )?;
    authorize(rt, m, s.epoch, digest, false)
}

/// `authorize`: `sui::package::authorize_upgrade` with the cap's policy
/// (the cap's package becomes `0x0` until the commit), and the event.
fn authorize(
    rt: &mut Runtime<'_>,
    m: &mut UpgradeManager,
    epoch: u32,
    digest: Vec<u8>,
    emergency: bool,
) -> Result<UpgradeTicket, NativeError> {
    let version = crate::util::add_u64(m.cap.version, 1)?;
    ensure(
        m.cap.package != ObjectId::default(),
        PACKAGE_EALREADY_AUTHORIZED,
    )?;
    let ticket = UpgradeTicket {
        cap: m.cap.id,
        package: m.cap.package,
        policy: m.cap.policy,
        digest: digest.clone(),
    };
    m.cap.package = ObjectId::default();
    emit(
        rt,
        &UpgradeAuthorized {
            epoch,
            package_digest: digest,
            version,
            emergency,
        },
    )?;
    Ok(ticket)
}

/// The devnet's stand-in for the `UpgradeCap` a Publish command would
/// give: version 1 of `package`, compatible policy (0).
pub fn genesis_upgrade_cap(
    rt: &mut Runtime<'_>,
    package: ObjectId,
) -> Result<UpgradeCap, NativeError> {
    Ok(UpgradeCap {
        id: new_id(rt)?,
        package,
        version: 1,
        policy: 0,
    })
}
