//! Twin of `floe::shared_blob`: a shared `Blob` with a WAL balance anyone
//! can fund and spend on extending the blob.

use floe_core::move_types::{Balance, Blob, MoveType, MoveTypeInfo, SharedBlob, System};
use floe_runtime::framework::CoinData;
use floe_runtime::{Call, NativeError, Runtime, Value};

use crate::floe::system;
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis};
use crate::util::{add_u64, arg, floe_value, new_id, set};

/// No abort codes of its own.
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "new",
        Vis::Public,
        &[],
        &[("blob", "Blob"), ("ctx", "&mut TxContext")],
        &[],
    ),
    FnSig::new(
        "new_funded",
        Vis::Public,
        &[],
        &[
            ("blob", "Blob"),
            ("funds", "Coin<WAL>"),
            ("ctx", "&mut TxContext"),
        ],
        &[],
    ),
    FnSig::new(
        "fund",
        Vis::Public,
        &[],
        &[("self", "&mut SharedBlob"), ("added_funds", "Coin<WAL>")],
        &[],
    ),
    FnSig::new(
        "extend",
        Vis::Public,
        &[],
        &[
            ("self", "&mut SharedBlob"),
            ("system", "&mut System"),
            ("extended_epochs", "u32"),
            ("ctx", "&mut TxContext"),
        ],
        &[],
    ),
    FnSig::new(
        "blob",
        Vis::Public,
        &[],
        &[("self", "&SharedBlob")],
        &["&Blob"],
    ),
    FnSig::new(
        "funds",
        Vis::Public,
        &[],
        &[("self", "&SharedBlob")],
        &["u64"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[SharedBlob::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "shared_blob",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "new" => |c| {
            let blob: Blob = arg(c, 0)?;
            new_funded(c.rt, blob, 0)?;
            Ok(vec![])
        },
        "new_funded" => |c| {
            let blob: Blob = arg(c, 0)?;
            let funds: CoinData = arg(c, 1)?;
            c.rt.delete_uid(funds.id)?;
            new_funded(c.rt, blob, funds.value)?;
            Ok(vec![])
        },
        "fund" => |c| {
            let mut shared: SharedBlob = arg(c, 0)?;
            let added: CoinData = arg(c, 1)?;
            c.rt.delete_uid(added.id)?;
            shared.funds.value = add_u64(shared.funds.value, added.value)?;
            set(c, 0, &shared)?;
            Ok(vec![])
        },
        "extend" => native_extend,
        "funds" => |c| Ok(vec![Value::u64(arg::<SharedBlob>(c, 0)?.funds.value)]),
        _ => return None,
    };
    Some(f)
}

fn new_funded(rt: &mut Runtime<'_>, blob: Blob, funds: u64) -> Result<(), NativeError> {
    let shared = SharedBlob {
        id: new_id(rt)?,
        blob,
        funds: Balance { value: funds },
    };
    rt.share(floe_value("shared_blob", "SharedBlob", &shared))
}

/// `extend`: withdraws all funds into a payment, extends, keeps the rest.
fn native_extend(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let mut shared: SharedBlob = arg(c, 0)?;
    let system: System = arg(c, 1)?;
    let extended_epochs: u32 = arg(c, 2)?;
    // `coin::from_balance` creates a coin object that is consumed again in
    // the same call, as in Move.
    let id = c.rt.new_uid()?;
    let mut payment = CoinData {
        id,
        value: shared.funds.value,
    };
    system::extend_blob(
        c.rt,
        &system,
        &mut shared.blob,
        extended_epochs,
        &mut payment,
    )?;
    c.rt.delete_uid(payment.id)?;
    shared.funds.value = payment.value;
    set(c, 0, &shared)?;
    Ok(vec![])
}
