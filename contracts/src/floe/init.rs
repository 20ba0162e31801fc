//! Twin of `floe::init`: publication (`init` sends an `InitCap`) and
//! genesis (`initialize_floe` creates one pool per node, whose fresh id is
//! the node id, builds the committee in node-id order, shares `System` and
//! `Staking`, and sends each node's `StorageNodeCap` to its operator). The
//! devnet runs both in the package's genesis init with the storage nodes
//! of the genesis file.

use floe_core::bls::BlsPublicKey;
use floe_core::move_types::{
    Ability, MoveField, MovePackage, MoveRole, MoveTypeInfo, MoveTypeKind, ObjectId, VotingParams,
};
use floe_runtime::{NativeError, Runtime};

use crate::FLOE_PACKAGE_ID;
use crate::floe::{
    bls_aggregate, committee, slashing, staking, staking_inner, storage_node, subsidies, system,
    system_state_inner, upgrade,
};
use crate::genesis::FloeGenesis;
use crate::registry::{AbortCode, FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{ensure, to_address, to_object_id};

abort_codes! {
    module: "init",
    EInvalidUpgradeCap = 1,
    EInvalidCommitteeInput = 3,
    EShardCountMismatch = 5,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[FnSig::new(
    "initialize_floe",
    Vis::Public,
    &[],
    &[
        ("init_cap", "InitCap"),
        ("upgrade_cap", "UpgradeCap"),
        ("epoch", "u32"),
        ("public_keys", "vector<vector<u8>>"),
        ("shard_counts", "vector<u16>"),
        ("n_shards", "u16"),
        ("max_epochs_ahead", "u32"),
        ("total_capacity_size", "u64"),
        ("storage_price_per_unit_size", "u64"),
        ("write_price_per_unit_size", "u64"),
        ("epoch_duration", "u64"),
        ("first_epoch_start", "u64"),
        ("names", "vector<String>"),
        ("network_addresses", "vector<String>"),
        ("node_capacities", "vector<u64>"),
        ("commission_rates", "vector<u16>"),
        ("operators", "vector<address>"),
        ("clock", "&Clock"),
        ("ctx", "&mut TxContext"),
    ],
    &["Publisher"],
)];

const STRUCTS: &[MoveTypeInfo] = &[
    MoveTypeInfo {
        package: MovePackage::Walrus,
        module: "init",
        name: "INIT",
        type_params: &[],
        abilities: &[Ability::Drop],
        role: MoveRole::Value,
        kind: MoveTypeKind::Struct(&[]),
    },
    MoveTypeInfo {
        package: MovePackage::Walrus,
        module: "init",
        name: "InitCap",
        type_params: &[],
        abilities: &[Ability::Key, Ability::Store],
        role: MoveRole::Object,
        kind: MoveTypeKind::Struct(&[
            MoveField {
                name: "id",
                ty: "UID",
            },
            MoveField {
                name: "publisher",
                ty: "Publisher",
            },
        ]),
    },
];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "init",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// `initialize_floe` is only called at genesis (the `InitCap` never leaves
/// it), so it is not callable from a transaction.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// The genesis nodes' parallel vectors, as `initialize_floe` takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenesisNodes {
    pub public_keys: Vec<Vec<u8>>,
    pub shard_counts: Vec<u16>,
    pub names: Vec<String>,
    pub network_addresses: Vec<String>,
    pub node_capacities: Vec<u64>,
    pub commission_rates: Vec<u16>,
    pub operators: Vec<ObjectId>,
}

/// The system and staking parameters `initialize_floe` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenesisParams {
    pub epoch: u32,
    pub n_shards: u16,
    pub max_epochs_ahead: u32,
    pub total_capacity_size: u64,
    pub storage_price_per_unit_size: u64,
    pub write_price_per_unit_size: u64,
    pub epoch_duration: u64,
    pub first_epoch_start: u64,
}

/// `initialize_floe`'s checks and effects at clock time `now`: parallel
/// vectors of equal lengths; one pool per node (its fresh id is the node
/// id; 48-byte keys); the committee of the nodes with shards in node-id
/// order, with shard counts summing to `n_shards`; `System` with the same
/// committee as its signing committee; `Staking`; the nodes' caps sent to
/// their operators.
pub fn initialize_floe(
    rt: &mut Runtime<'_>,
    p: &GenesisParams,
    nodes: &GenesisNodes,
    now: u64,
) -> Result<(), NativeError> {
    let n = nodes.public_keys.len();
    ensure(nodes.shard_counts.len() == n, EInvalidCommitteeInput)?;
    ensure(
        nodes.names.len() == n
            && nodes.network_addresses.len() == n
            && nodes.node_capacities.len() == n
            && nodes.commission_rates.len() == n
            && nodes.operators.len() == n,
        EInvalidCommitteeInput,
    )?;

    // The pools first: their ids are the node ids.
    let mut staking_state = staking_inner::new(
        rt,
        p.epoch,
        p.n_shards,
        p.epoch_duration,
        p.first_epoch_start,
        now,
    )?;
    let mut assignments = Vec::with_capacity(n);
    let mut keys = Vec::with_capacity(n);
    for i in 0..n {
        let node_id = staking_inner::create_genesis_pool(
            rt,
            &mut staking_state,
            nodes.names[i].clone(),
            nodes.network_addresses[i].clone(),
            nodes.public_keys[i].clone(),
            nodes.commission_rates[i],
            VotingParams {
                storage_price: p.storage_price_per_unit_size,
                write_price: p.write_price_per_unit_size,
                node_capacity: nodes.node_capacities[i],
            },
            nodes.operators[i],
        )?;
        let cap = storage_node::new_cap(rt, node_id, p.epoch)?;
        rt.transfer(
            storage_node::cap_value(&cap),
            to_address(nodes.operators[i]),
        )?;
        assignments.push((node_id, nodes.shard_counts[i]));
        // `storage_node::new` already checked the key.
        let key = BlsPublicKey::from_bytes(&nodes.public_keys[i])
            .map_err(|_| BLS12381_EINVALID_INPUT.err())?;
        keys.push((node_id, key));
    }
    let committee = committee::initialize(&assignments);

    // The signing committee in the staking committee's (node-id) order.
    let mut members = Vec::with_capacity(n);
    for entry in &committee.pos0.contents {
        let key = keys
            .iter()
            .find(|(id, _)| *id == entry.key)
            .map(|(_, k)| *k)
            .ok_or_else(|| NativeError::Invariant("committee member without a key".into()))?;
        let weight = u16::try_from(entry.value.len()).map_err(|_| crate::util::arithmetic())?;
        members.push((entry.key, key, weight));
    }
    let bls_committee = bls_aggregate::new_bls_committee(p.epoch, &members)?;
    ensure(bls_committee.n_shards == p.n_shards, EShardCountMismatch)?;
    let state = system_state_inner::create(
        rt,
        bls_committee,
        p.max_epochs_ahead,
        p.total_capacity_size,
        p.storage_price_per_unit_size,
        p.write_price_per_unit_size,
    )?;
    let package_id = to_object_id(FLOE_PACKAGE_ID);
    let created = system::create(rt, &state, package_id)?;
    rt.share(system::system_value(&created))?;

    staking_inner::set_committee(&mut staking_state, committee);
    let staking_object = staking::create(rt, &staking_state, package_id)?;
    rt.share(staking::staking_value(&staking_object))
}

/// The governance objects `initialize_floe` shares after `Staking`: the
/// `UpgradeManager` holding `upgrade_cap` (whose emergency cap goes to
/// the init sender), the `SlashingManager` and an empty `Subsidies`.
pub fn create_governance_objects(
    rt: &mut Runtime<'_>,
    upgrade_cap: floe_core::move_types::UpgradeCap,
) -> Result<(), NativeError> {
    ensure(
        upgrade_cap.package == to_object_id(FLOE_PACKAGE_ID),
        EInvalidUpgradeCap,
    )?;
    let emergency = upgrade::new(rt, upgrade_cap)?;
    let sender = rt.sender();
    rt.transfer(upgrade::emergency_cap_value(&emergency), sender)?;
    slashing::new(rt)?;
    subsidies::new(rt)
}

/// `sui::group_ops::EInvalidInput`, raised by `g1_from_bytes`.
const BLS12381_EINVALID_INPUT: AbortCode = AbortCode::sui("group_ops", "EInvalidInput", 1);

/// The genesis path: `init` creates the `InitCap`, `initialize_floe`
/// consumes it with the configured nodes, at the runtime's clock. Nodes
/// without an operator get the init sender (the floe package's
/// `init_sender`). (The `Publisher` Move would return is not
/// materialised: the ledger's framework has no `package` module yet.)
pub fn genesis_init(rt: &mut Runtime<'_>, genesis: &FloeGenesis) -> Result<(), NativeError> {
    let init_cap = rt.new_uid()?;
    rt.delete_uid(init_cap)?;
    let staking_nodes = genesis
        .staking_nodes()
        .map_err(|e| NativeError::Invariant(e.to_string()))?;
    let sender = to_object_id(rt.sender());
    let mut nodes = GenesisNodes::default();
    for n in &staking_nodes {
        nodes
            .public_keys
            .push(n.node.public_key.to_bytes().to_vec());
        nodes.shard_counts.push(n.node.shards);
        nodes.names.push(n.name.clone());
        nodes.network_addresses.push(n.network_address.clone());
        nodes.node_capacities.push(n.node_capacity);
        nodes.commission_rates.push(n.commission_rate_bps);
        nodes.operators.push(n.operator.unwrap_or(sender));
    }
    let n_shards = nodes
        .shard_counts
        .iter()
        .try_fold(0u16, |a, s| a.checked_add(*s))
        .ok_or_else(crate::util::arithmetic)?;
    let now = rt.clock_ms();
    let first_epoch_start = match genesis.first_epoch_start_ms {
        Some(t) => t,
        None => crate::util::add_u64(now, genesis.epoch_duration_ms)?,
    };
    let params = GenesisParams {
        epoch: genesis.epoch,
        n_shards,
        max_epochs_ahead: genesis.max_epochs_ahead,
        total_capacity_size: genesis.total_capacity_size,
        storage_price_per_unit_size: genesis.storage_price_per_unit_size,
        write_price_per_unit_size: genesis.write_price_per_unit_size,
        epoch_duration: genesis.epoch_duration_ms,
        first_epoch_start,
    };
    initialize_floe(rt, &params, &nodes, now)?;
    // The devnet publishes no package, so genesis makes the cap a Publish
    // command would have given.
    let upgrade_cap = upgrade::genesis_upgrade_cap(rt, to_object_id(FLOE_PACKAGE_ID))?;
    create_governance_objects(rt, upgrade_cap)
}
