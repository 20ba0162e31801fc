//! Twin of `floe::storage_resource`: `Storage` split by epoch and size,
//! fused, destroyed (destroying does not free capacity).

use floe_core::move_types::{MoveType, MoveTypeInfo, Storage};
use floe_runtime::{Call, NativeError, Runtime, Value};

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{add_u64, arg, ensure, floe_value, new_id, set, to_address};

abort_codes! {
    module: "storage_resource",
    EInvalidEpoch = 0,
    EIncompatibleEpochs = 1,
    EIncompatibleAmount = 2,
    EInvalidEpochRange = 3,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "start_epoch",
        Vis::Public,
        &[],
        &[("self", "&Storage")],
        &["u32"],
    ),
    FnSig::new(
        "end_epoch",
        Vis::Public,
        &[],
        &[("self", "&Storage")],
        &["u32"],
    ),
    FnSig::new("size", Vis::Public, &[], &[("self", "&Storage")], &["u64"]),
    FnSig::new(
        "split_by_epoch",
        Vis::Public,
        &[],
        &[
            ("storage", "&mut Storage"),
            ("split_epoch", "u32"),
            ("ctx", "&mut TxContext"),
        ],
        &["Storage"],
    ),
    FnSig::new(
        "split_by_size",
        Vis::Public,
        &[],
        &[
            ("storage", "&mut Storage"),
            ("split_size", "u64"),
            ("ctx", "&mut TxContext"),
        ],
        &["Storage"],
    ),
    FnSig::new(
        "fuse_periods",
        Vis::Public,
        &[],
        &[("first", "&mut Storage"), ("second", "Storage")],
        &[],
    ),
    FnSig::new(
        "fuse_amount",
        Vis::Public,
        &[],
        &[("first", "&mut Storage"), ("second", "Storage")],
        &[],
    ),
    FnSig::new(
        "fuse",
        Vis::Public,
        &[],
        &[("first", "&mut Storage"), ("second", "Storage")],
        &[],
    ),
    FnSig::new("destroy", Vis::Public, &[], &[("storage", "Storage")], &[]),
];

const STRUCTS: &[MoveTypeInfo] = &[Storage::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "storage_resource",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "start_epoch" => |c| {
            Ok(vec![Value::new(
                sui_sdk_types::TypeTag::U32,
                &arg::<Storage>(c, 0)?.start_epoch,
            )])
        },
        "end_epoch" => |c| {
            Ok(vec![Value::new(
                sui_sdk_types::TypeTag::U32,
                &arg::<Storage>(c, 0)?.end_epoch,
            )])
        },
        "size" => |c| Ok(vec![Value::u64(arg::<Storage>(c, 0)?.storage_size)]),
        "split_by_epoch" => native_split_by_epoch,
        "split_by_size" => native_split_by_size,
        "fuse_periods" => |c| fuse_with(c, fuse_periods),
        "fuse_amount" => |c| fuse_with(c, fuse_amount),
        "fuse" => |c| fuse_with(c, fuse),
        "destroy" => |c| {
            let storage: Storage = arg(c, 0)?;
            destroy(c.rt, storage)?;
            Ok(vec![])
        },
        _ => return None,
    };
    Some(f)
}

/// A `Storage` value.
pub fn storage_value(s: &Storage) -> Value {
    floe_value("storage_resource", "Storage", s)
}

/// `create_storage` (package-internal; the system calls it after payment).
pub fn create_storage(
    rt: &mut Runtime<'_>,
    start_epoch: u32,
    end_epoch: u32,
    storage_size: u64,
) -> Result<Storage, NativeError> {
    ensure(start_epoch < end_epoch, EInvalidEpochRange)?;
    Ok(Storage {
        id: new_id(rt)?,
        start_epoch,
        end_epoch,
        storage_size,
    })
}

/// `extend_end_epoch`.
pub fn extend_end_epoch(s: &mut Storage, extension_epochs: u32) -> Result<(), NativeError> {
    s.end_epoch = crate::util::add_u32(s.end_epoch, extension_epochs)?;
    Ok(())
}

fn native_split_by_epoch(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let mut storage: Storage = arg(c, 0)?;
    let split_epoch: u32 = arg(c, 1)?;
    ensure(
        split_epoch > storage.start_epoch && split_epoch < storage.end_epoch,
        EInvalidEpoch,
    )?;
    let end_epoch = storage.end_epoch;
    storage.end_epoch = split_epoch;
    let new = Storage {
        id: new_id(c.rt)?,
        start_epoch: split_epoch,
        end_epoch,
        storage_size: storage.storage_size,
    };
    set(c, 0, &storage)?;
    Ok(vec![storage_value(&new)])
}

fn native_split_by_size(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let mut storage: Storage = arg(c, 0)?;
    let split_size: u64 = arg(c, 1)?;
    ensure(split_size <= storage.storage_size, EIncompatibleAmount)?;
    let remainder = storage.storage_size - split_size;
    storage.storage_size = split_size;
    let new = Storage {
        id: new_id(c.rt)?,
        start_epoch: storage.start_epoch,
        end_epoch: storage.end_epoch,
        storage_size: remainder,
    };
    set(c, 0, &storage)?;
    Ok(vec![storage_value(&new)])
}

type Fuse = fn(&mut Runtime<'_>, &mut Storage, Storage) -> Result<(), NativeError>;

fn fuse_with(c: &mut Call<'_, '_>, f: Fuse) -> Result<Vec<Value>, NativeError> {
    let mut first: Storage = arg(c, 0)?;
    let second: Storage = arg(c, 1)?;
    f(c.rt, &mut first, second)?;
    set(c, 0, &first)?;
    Ok(vec![])
}

/// `fuse_periods`: same size, adjacent epochs in either order.
pub fn fuse_periods(
    rt: &mut Runtime<'_>,
    first: &mut Storage,
    second: Storage,
) -> Result<(), NativeError> {
    rt.delete_uid(to_address(second.id))?;
    ensure(
        first.storage_size == second.storage_size,
        EIncompatibleAmount,
    )?;
    if first.end_epoch == second.start_epoch {
        first.end_epoch = second.end_epoch;
    } else {
        ensure(first.start_epoch == second.end_epoch, EIncompatibleEpochs)?;
        first.start_epoch = second.start_epoch;
    }
    Ok(())
}

/// `fuse_amount`: identical epochs, sizes add.
pub fn fuse_amount(
    rt: &mut Runtime<'_>,
    first: &mut Storage,
    second: Storage,
) -> Result<(), NativeError> {
    rt.delete_uid(to_address(second.id))?;
    ensure(
        first.start_epoch == second.start_epoch && first.end_epoch == second.end_epoch,
        EIncompatibleEpochs,
    )?;
    first.storage_size = add_u64(first.storage_size, second.storage_size)?;
    Ok(())
}

/// `fuse`: by amount if they start together, else by periods.
pub fn fuse(rt: &mut Runtime<'_>, first: &mut Storage, second: Storage) -> Result<(), NativeError> {
    if first.start_epoch == second.start_epoch {
        fuse_amount(rt, first, second)
    } else {
        fuse_periods(rt, first, second)
    }
}

/// `destroy`: deletes the id; the capacity stays used.
pub fn destroy(rt: &mut Runtime<'_>, storage: Storage) -> Result<(), NativeError> {
    rt.delete_uid(to_address(storage.id))
}
