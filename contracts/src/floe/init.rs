//! Twin of `floe::init`: publication (`init` sends an `InitCap`) and
//! genesis (`initialize_floe` builds the committee and shares `System`).
//! The devnet runs both in the package's genesis init with the storage
//! nodes of the genesis file.

use floe_core::bls::BlsPublicKey;
use floe_core::move_types::{
    Ability, MoveField, MovePackage, MoveRole, MoveTypeInfo, MoveTypeKind, ObjectId,
};
use floe_ledger::native::{NativeError, Runtime};

use crate::FLOE_PACKAGE_ID;
use crate::floe::{bls_aggregate, system, system_state_inner};
use crate::genesis::FloeGenesis;
use crate::registry::{AbortCode, FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{ensure, to_object_id};

abort_codes! {
    module: "init",
    EInvalidCommitteeInput = 3,
    EUnsortedNodeIds = 4,
    EShardCountMismatch = 5,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[FnSig::new(
    "initialize_floe",
    Vis::Public,
    &[],
    &[
        ("init_cap", "InitCap"),
        ("epoch", "u32"),
        ("node_ids", "vector<ID>"),
        ("public_keys", "vector<vector<u8>>"),
        ("shard_counts", "vector<u16>"),
        ("n_shards", "u16"),
        ("max_epochs_ahead", "u32"),
        ("total_capacity_size", "u64"),
        ("storage_price_per_unit_size", "u64"),
        ("write_price_per_unit_size", "u64"),
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

/// `initialize_floe`'s checks and effects: the committee from parallel
/// vectors (strictly ascending node ids, 48-byte keys, positive shards
/// summing to `n_shards`), the state, and the shared `System`.
#[allow(clippy::too_many_arguments)]
pub fn initialize_floe(
    rt: &mut Runtime<'_>,
    epoch: u32,
    node_ids: &[ObjectId],
    public_keys: &[Vec<u8>],
    shard_counts: &[u16],
    n_shards: u16,
    max_epochs_ahead: u32,
    total_capacity_size: u64,
    storage_price_per_unit_size: u64,
    write_price_per_unit_size: u64,
) -> Result<(), NativeError> {
    let n = node_ids.len();
    ensure(
        public_keys.len() == n && shard_counts.len() == n,
        EInvalidCommitteeInput,
    )?;
    let mut members = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 {
            ensure(node_ids[i - 1] < node_ids[i], EUnsortedNodeIds)?;
        }
        // `bls12381::g1_from_bytes` aborts on a bad key (sui::bls12381).
        let key =
            BlsPublicKey::from_bytes(&public_keys[i]).map_err(|_| BLS12381_EINVALID_INPUT.err())?;
        members.push((node_ids[i], key, shard_counts[i]));
    }
    let committee = bls_aggregate::new_bls_committee(epoch, &members)?;
    ensure(committee.n_shards == n_shards, EShardCountMismatch)?;
    let state = system_state_inner::create(
        rt,
        committee,
        max_epochs_ahead,
        total_capacity_size,
        storage_price_per_unit_size,
        write_price_per_unit_size,
    )?;
    let created = system::create(rt, &state, to_object_id(FLOE_PACKAGE_ID))?;
    rt.share(system::system_value(&created))
}

/// `sui::group_ops::EInvalidInput`, raised by `g1_from_bytes`.
const BLS12381_EINVALID_INPUT: AbortCode = AbortCode::sui("group_ops", "EInvalidInput", 1);

/// The genesis path: `init` creates the `InitCap`, `initialize_floe`
/// consumes it with the configured committee. (The `Publisher` Move would
/// return is not materialised: the ledger's framework has no `package`
/// module yet.)
pub fn genesis_init(rt: &mut Runtime<'_>, genesis: &FloeGenesis) -> Result<(), NativeError> {
    let init_cap = rt.new_uid()?;
    rt.delete_uid(init_cap)?;
    let nodes = genesis
        .sorted_nodes()
        .map_err(|e| NativeError::Invariant(e.to_string()))?;
    let node_ids: Vec<ObjectId> = nodes.iter().map(|n| n.node_id).collect();
    let keys: Vec<Vec<u8>> = nodes
        .iter()
        .map(|n| n.public_key.to_bytes().to_vec())
        .collect();
    let shards: Vec<u16> = nodes.iter().map(|n| n.shards).collect();
    let n_shards = shards.iter().try_fold(0u16, |a, s| a.checked_add(*s));
    let n_shards = n_shards.ok_or_else(crate::util::arithmetic)?;
    initialize_floe(
        rt,
        genesis.epoch,
        &node_ids,
        &keys,
        &shards,
        n_shards,
        genesis.max_epochs_ahead,
        genesis.total_capacity_size,
        genesis.storage_price_per_unit_size,
        genesis.write_price_per_unit_size,
    )?;
    Ok(())
}
