//! Twin of `floe::system`: the shared `System` shell (version, package id)
//! and the public storage API. The state is `SystemStateInnerV1` in a
//! dynamic field keyed by the version; every access checks the version.

use floe_core::move_types::{
    Blob, MoveType, MoveTypeInfo, Storage, System, SystemStateInnerV1, U256Le,
};
use floe_runtime::framework::CoinData;
use floe_runtime::{Call, NativeError, Runtime, Value};
use sui_sdk_types::TypeTag;

use crate::floe::system_state_inner as inner;
use crate::floe::{blob, storage_resource};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{arg, ensure, floe_tag, id_value, set, to_address, u256};

/// The version of the package's code and of `System`.
pub const VERSION: u64 = 1;

abort_codes! {
    module: "system",
    EInvalidMigration = 0,
    EWrongVersion = 1,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "reserve_space",
        Vis::Public,
        &[],
        &[
            ("self", "&mut System"),
            ("storage_amount", "u64"),
            ("epochs_ahead", "u32"),
            ("payment", "&mut Coin<WAL>"),
            ("ctx", "&mut TxContext"),
        ],
        &["Storage"],
    ),
    FnSig::new(
        "reserve_space_for_epochs",
        Vis::Public,
        &[],
        &[
            ("self", "&mut System"),
            ("storage_amount", "u64"),
            ("start_epoch", "u32"),
            ("end_epoch", "u32"),
            ("payment", "&mut Coin<WAL>"),
            ("ctx", "&mut TxContext"),
        ],
        &["Storage"],
    ),
    FnSig::new(
        "register_blob",
        Vis::Public,
        &[],
        &[
            ("self", "&mut System"),
            ("storage", "Storage"),
            ("blob_id", "u256"),
            ("root_hash", "u256"),
            ("size", "u64"),
            ("encoding_type", "u8"),
            ("deletable", "bool"),
            ("write_payment", "&mut Coin<WAL>"),
            ("ctx", "&mut TxContext"),
        ],
        &["Blob"],
    ),
    FnSig::new(
        "certify_blob",
        Vis::Public,
        &[],
        &[
            ("self", "&System"),
            ("blob", "&mut Blob"),
            ("signature", "vector<u8>"),
            ("signers_bitmap", "vector<u8>"),
            ("message", "vector<u8>"),
        ],
        &[],
    ),
    FnSig::new(
        "delete_blob",
        Vis::Public,
        &[],
        &[("self", "&System"), ("blob", "Blob")],
        &["Storage"],
    ),
    FnSig::new(
        "extend_blob_with_resource",
        Vis::Public,
        &[],
        &[
            ("self", "&System"),
            ("blob", "&mut Blob"),
            ("extension", "Storage"),
        ],
        &[],
    ),
    FnSig::new(
        "extend_blob",
        Vis::Public,
        &[],
        &[
            ("self", "&mut System"),
            ("blob", "&mut Blob"),
            ("extended_epochs", "u32"),
            ("payment", "&mut Coin<WAL>"),
        ],
        &[],
    ),
    FnSig::new(
        "invalidate_blob_id",
        Vis::Public,
        &[],
        &[
            ("self", "&System"),
            ("signature", "vector<u8>"),
            ("members_bitmap", "vector<u8>"),
            ("message", "vector<u8>"),
        ],
        &["u256"],
    ),
    FnSig::new(
        "add_subsidy",
        Vis::Public,
        &[],
        &[
            ("self", "&mut System"),
            ("subsidy", "Coin<WAL>"),
            ("epochs_ahead", "u32"),
        ],
        &[],
    ),
    FnSig::new(
        "add_per_epoch_subsidies",
        Vis::Public,
        &[],
        &[
            ("self", "&mut System"),
            ("subsidies", "vector<Balance<WAL>>"),
        ],
        &[],
    ),
    FnSig::new("epoch", Vis::Public, &[], &[("self", "&System")], &["u32"]),
    FnSig::new(
        "total_capacity_size",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["u64"],
    ),
    FnSig::new(
        "used_capacity_size",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["u64"],
    ),
    FnSig::new(
        "n_shards",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["u16"],
    ),
    FnSig::new(
        "storage_price_per_unit_size",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["u64"],
    ),
    FnSig::new(
        "write_price_per_unit_size",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["u64"],
    ),
    FnSig::new(
        "max_epochs_ahead",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["u32"],
    ),
    FnSig::new(
        "committee",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["&BlsCommittee"],
    ),
    FnSig::new(
        "future_accounting",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["&FutureAccountingRingBuffer"],
    ),
    FnSig::new(
        "version",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["u64"],
    ),
    FnSig::new(
        "package_id",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["ID"],
    ),
    FnSig::new(
        "new_package_id",
        Vis::Public,
        &[],
        &[("self", "&System")],
        &["Option<ID>"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[System::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "system",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "reserve_space" => native_reserve_space,
        "reserve_space_for_epochs" => native_reserve_space_for_epochs,
        "register_blob" => native_register_blob,
        "certify_blob" => native_certify_blob,
        "delete_blob" => native_delete_blob,
        "extend_blob_with_resource" => native_extend_blob_with_resource,
        "extend_blob" => native_extend_blob,
        "invalidate_blob_id" => native_invalidate_blob_id,
        "add_subsidy" => native_add_subsidy,
        "add_per_epoch_subsidies" => native_add_per_epoch_subsidies,
        "epoch" => |c| read(c, |s| Value::new(TypeTag::U32, &inner::epoch(s))),
        "total_capacity_size" => |c| read(c, |s| Value::u64(s.total_capacity_size)),
        "used_capacity_size" => |c| read(c, |s| Value::u64(s.used_capacity_size)),
        "n_shards" => |c| read(c, |s| Value::new(TypeTag::U16, &s.committee.n_shards)),
        "storage_price_per_unit_size" => |c| read(c, |s| Value::u64(s.storage_price_per_unit_size)),
        "write_price_per_unit_size" => |c| read(c, |s| Value::u64(s.write_price_per_unit_size)),
        "max_epochs_ahead" => {
            |c| read(c, |s| Value::new(TypeTag::U32, &inner::max_epochs_ahead(s)))
        }
        "version" => |c| Ok(vec![Value::u64(arg::<System>(c, 0)?.version)]),
        "package_id" => |c| Ok(vec![id_value(arg::<System>(c, 0)?.package_id)]),
        "new_package_id" => |c| {
            let system: System = arg(c, 0)?;
            let ty = crate::util::option_tag(floe_runtime::object_field::id_type());
            Ok(vec![Value::new(ty, &system.new_package_id)])
        },
        _ => return None,
    };
    Some(f)
}

/// The `Field<u64, SystemStateInnerV1>` key of the inner state.
fn inner_key() -> Value {
    Value::u64(VERSION)
}

fn inner_type() -> TypeTag {
    floe_tag("system_state_inner", "SystemStateInnerV1", vec![]).into()
}

/// `inner`: the state; aborts with `EWrongVersion`.
pub fn load_inner(
    rt: &mut Runtime<'_>,
    system: &System,
) -> Result<SystemStateInnerV1, NativeError> {
    ensure(system.version == VERSION, EWrongVersion)?;
    rt.df_get(to_address(system.id), &inner_key(), &inner_type())
}

/// Writes the state back (the end of an `inner_mut` borrow).
pub fn store_inner(
    rt: &mut Runtime<'_>,
    system: &System,
    state: &SystemStateInnerV1,
) -> Result<(), NativeError> {
    rt.df_set(
        to_address(system.id),
        &inner_key(),
        Value::new(inner_type(), state),
    )
}

/// `create`: a new `System` holding `state`, for `package_id`.
pub fn create(
    rt: &mut Runtime<'_>,
    state: &SystemStateInnerV1,
    package_id: floe_core::move_types::ObjectId,
) -> Result<System, NativeError> {
    let system = System {
        id: crate::util::new_id(rt)?,
        version: VERSION,
        package_id,
        new_package_id: None,
    };
    rt.df_add(
        to_address(system.id),
        inner_key(),
        Value::new(inner_type(), state),
    )?;
    Ok(system)
}

/// A `System` value.
pub fn system_value(s: &System) -> Value {
    crate::util::floe_value("system", "System", s)
}

fn read(
    c: &mut Call<'_, '_>,
    f: fn(&SystemStateInnerV1) -> Value,
) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let state = load_inner(c.rt, &system)?;
    Ok(vec![f(&state)])
}

fn native_reserve_space(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let (amount, epochs_ahead): (u64, u32) = (arg(c, 1)?, arg(c, 2)?);
    let mut payment: CoinData = arg(c, 3)?;
    let mut state = load_inner(c.rt, &system)?;
    let storage = inner::reserve_space(c.rt, &mut state, amount, epochs_ahead, &mut payment)?;
    store_inner(c.rt, &system, &state)?;
    set(c, 3, &payment)?;
    Ok(vec![storage_resource::storage_value(&storage)])
}

fn native_reserve_space_for_epochs(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let (amount, start, end): (u64, u32, u32) = (arg(c, 1)?, arg(c, 2)?, arg(c, 3)?);
    let mut payment: CoinData = arg(c, 4)?;
    let mut state = load_inner(c.rt, &system)?;
    let storage =
        inner::reserve_space_for_epochs(c.rt, &mut state, amount, start, end, &mut payment)?;
    store_inner(c.rt, &system, &state)?;
    set(c, 4, &payment)?;
    Ok(vec![storage_resource::storage_value(&storage)])
}

fn native_register_blob(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let storage: Storage = arg(c, 1)?;
    let (blob_id, root_hash): (U256Le, U256Le) = (arg(c, 2)?, arg(c, 3)?);
    let (size, encoding_type, deletable): (u64, u8, bool) = (arg(c, 4)?, arg(c, 5)?, arg(c, 6)?);
    let mut payment: CoinData = arg(c, 7)?;
    let mut state = load_inner(c.rt, &system)?;
    let new = inner::register_blob(
        c.rt,
        &mut state,
        storage,
        blob_id,
        root_hash,
        size,
        encoding_type,
        deletable,
        &mut payment,
    )?;
    store_inner(c.rt, &system, &state)?;
    set(c, 7, &payment)?;
    Ok(vec![blob::blob_value(&new)])
}

fn native_certify_blob(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let mut b: Blob = arg(c, 1)?;
    let (signature, bitmap, message): (Vec<u8>, Vec<u8>, Vec<u8>) =
        (arg(c, 2)?, arg(c, 3)?, arg(c, 4)?);
    let state = load_inner(c.rt, &system)?;
    inner::certify_blob(c.rt, &state, &mut b, &signature, &bitmap, &message)?;
    set(c, 1, &b)?;
    Ok(vec![])
}

fn native_delete_blob(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let b: Blob = arg(c, 1)?;
    let state = load_inner(c.rt, &system)?;
    let storage = blob::delete(c.rt, b, inner::epoch(&state))?;
    Ok(vec![storage_resource::storage_value(&storage)])
}

fn native_extend_blob_with_resource(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let mut b: Blob = arg(c, 1)?;
    let extension: Storage = arg(c, 2)?;
    let state = load_inner(c.rt, &system)?;
    blob::extend_with_resource(c.rt, &mut b, extension, inner::epoch(&state))?;
    set(c, 1, &b)?;
    Ok(vec![])
}

fn native_extend_blob(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let mut b: Blob = arg(c, 1)?;
    let extended_epochs: u32 = arg(c, 2)?;
    let mut payment: CoinData = arg(c, 3)?;
    extend_blob(c.rt, &system, &mut b, extended_epochs, &mut payment)?;
    set(c, 1, &b)?;
    set(c, 3, &payment)?;
    Ok(vec![])
}

/// `extend_blob` on values (shared by `shared_blob::extend`).
pub fn extend_blob(
    rt: &mut Runtime<'_>,
    system: &System,
    b: &mut Blob,
    extended_epochs: u32,
    payment: &mut CoinData,
) -> Result<(), NativeError> {
    let mut state = load_inner(rt, system)?;
    inner::extend_blob(rt, &mut state, b, extended_epochs, payment)?;
    store_inner(rt, system, &state)
}

fn native_invalidate_blob_id(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let (signature, bitmap, message): (Vec<u8>, Vec<u8>, Vec<u8>) =
        (arg(c, 1)?, arg(c, 2)?, arg(c, 3)?);
    let state = load_inner(c.rt, &system)?;
    let blob_id = inner::invalidate_blob_id(c.rt, &state, &signature, &bitmap, &message)?;
    Ok(vec![u256(blob_id)])
}

fn native_add_subsidy(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let subsidy: CoinData = arg(c, 1)?;
    let epochs_ahead: u32 = arg(c, 2)?;
    let mut state = load_inner(c.rt, &system)?;
    c.rt.delete_uid(subsidy.id)?;
    inner::add_subsidy(&mut state, subsidy.value, epochs_ahead)?;
    store_inner(c.rt, &system, &state)?;
    Ok(vec![])
}

fn native_add_per_epoch_subsidies(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let system: System = arg(c, 0)?;
    let subsidies: Vec<u64> = arg(c, 1)?;
    let mut state = load_inner(c.rt, &system)?;
    inner::add_per_epoch_subsidies(&mut state, &subsidies)?;
    store_inner(c.rt, &system, &state)?;
    Ok(vec![])
}

/// `advance_epoch` (package-internal): moves the system to
/// `new_committee` with capacity `new_total_capacity`; returns the ended
/// epoch's rewards per old committee member, in committee order.
pub fn advance_epoch(
    rt: &mut Runtime<'_>,
    system: &System,
    new_committee: floe_core::move_types::BlsCommittee,
    new_total_capacity: u64,
) -> Result<Vec<(floe_core::move_types::ObjectId, u64)>, NativeError> {
    let mut state = load_inner(rt, system)?;
    let rewards = inner::advance_epoch(rt, &mut state, new_committee, new_total_capacity)?;
    store_inner(rt, system, &state)?;
    Ok(rewards)
}

/// `extract_burn_balance` (package-internal): the FROST to burn out of the
/// current epoch's rewards.
pub fn extract_burn_balance(rt: &mut Runtime<'_>, system: &System) -> Result<u64, NativeError> {
    let mut state = load_inner(rt, system)?;
    let burn = inner::extract_burn_balance(&mut state)?;
    store_inner(rt, system, &state)?;
    Ok(burn)
}

/// `extend_max_epochs_ahead` (package-internal, governance).
pub fn extend_max_epochs_ahead(
    rt: &mut Runtime<'_>,
    system: &System,
    max_epochs_ahead: u32,
) -> Result<(), NativeError> {
    let mut state = load_inner(rt, system)?;
    inner::extend_max_epochs_ahead(&mut state, max_epochs_ahead)?;
    store_inner(rt, system, &state)
}

/// `set_storage_price` and `set_write_price` (package-internal), as
/// `staking::update_prices` calls them.
pub fn set_prices(
    rt: &mut Runtime<'_>,
    system: &System,
    storage_price: u64,
    write_price: u64,
) -> Result<(), NativeError> {
    let mut state = load_inner(rt, system)?;
    state.storage_price_per_unit_size = storage_price;
    state.write_price_per_unit_size = write_price;
    store_inner(rt, system, &state)
}
