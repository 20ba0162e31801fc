//! Pre-execution checks: everything that makes a transaction invalid rather
//! than failed. A transaction refused here is not executed, not charged and
//! not recorded, exactly as a Sui validator refuses to sign it.

use std::collections::{BTreeMap, BTreeSet};

use floe_runtime::ObjectSource;
use floe_runtime::framework::CoinData;
use sui_sdk_types::{
    Address, Command, Input, Mutability, Object, ObjectReference, Owner, ProgrammableTransaction,
    StructTag, Transaction, TransactionExpiration, TransactionKind,
};

use super::gas::{MAX_BUDGET, MIN_BUDGET, REFERENCE_GAS_PRICE};
use crate::error::TxError;

/// Bounds on what one transaction may ask for (Sui's protocol limits or
/// tighter).
pub const MAX_INPUTS: usize = 2048;
pub const MAX_COMMANDS: usize = 1024;
pub const MAX_GAS_OBJECTS: usize = 256;
pub const MAX_PURE_BYTES: usize = 16 * 1024;
pub const MAX_TX_BYTES: usize = 128 * 1024;
pub const MAX_ARGUMENTS: usize = 512;

/// A resolved object input.
#[derive(Debug, Clone)]
pub(crate) struct InputObject {
    pub object: Object,
    pub mutable: bool,
    pub shared: bool,
}

/// One resolved input slot.
#[derive(Debug, Clone)]
pub(crate) enum InputArg {
    Pure(Vec<u8>),
    Object(Address),
}

/// A transaction whose inputs all check out against current state.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub ptb: ProgrammableTransaction,
    pub inputs: Vec<InputArg>,
    pub objects: BTreeMap<Address, InputObject>,
    /// Gas coins, the first being the one others are merged into.
    pub gas: Vec<Object>,
    pub gas_total: u64,
}

fn short(id: &Address) -> String {
    id.to_string()
}

fn check_ref(state: &dyn ObjectSource, r: &ObjectReference) -> Result<Object, TxError> {
    let id = *r.object_id();
    let object = state
        .object(&id)
        .ok_or_else(|| TxError::ObjectNotFound { id: short(&id) })?;
    if object.version() != r.version() {
        return Err(TxError::StaleVersion {
            id: short(&id),
            given: r.version(),
            current: object.version(),
        });
    }
    let digest = object.digest();
    if digest != *r.digest() {
        return Err(TxError::DigestMismatch {
            id: short(&id),
            given: r.digest().to_string(),
            current: digest.to_string(),
        });
    }
    Ok(object.clone())
}

fn owner_text(owner: &Owner) -> String {
    match owner {
        Owner::Address(a) => a.to_string(),
        Owner::Object(a) => format!("object {a}"),
        Owner::Shared(v) => format!("shared (initial version {v})"),
        Owner::Immutable => "immutable".into(),
        other => format!("{other:?}"),
    }
}

/// Reads a `Coin<SUI>`'s balance; `None` if the object is not one.
pub fn sui_balance(object: &Object) -> Option<u64> {
    let s = object.as_struct()?;
    if *s.object_type() != StructTag::gas_coin() {
        return None;
    }
    bcs::from_bytes::<CoinData>(s.contents())
        .ok()
        .map(|c| c.value)
}

/// Checks `tx` against `state`.
pub(crate) fn check(state: &dyn ObjectSource, tx: &Transaction) -> Result<Checked, TxError> {
    let TransactionKind::ProgrammableTransaction(ptb) = &tx.kind else {
        return Err(TxError::Unsupported(
            "only programmable transactions can be submitted".into(),
        ));
    };
    match &tx.expiration {
        TransactionExpiration::None => {}
        TransactionExpiration::Epoch(e) if *e >= state.epoch() => {}
        TransactionExpiration::Epoch(e) => {
            return Err(TxError::Invalid(format!(
                "transaction expired at epoch {e}"
            )));
        }
        _ => {
            return Err(TxError::Unsupported(
                "only `None` and `Epoch` transaction expirations are supported".into(),
            ));
        }
    }
    if ptb.inputs.len() > MAX_INPUTS || ptb.commands.len() > MAX_COMMANDS {
        return Err(TxError::Invalid(format!(
            "at most {MAX_INPUTS} inputs and {MAX_COMMANDS} commands"
        )));
    }
    if ptb.commands.is_empty() {
        return Err(TxError::Invalid(
            "a transaction needs at least one command".into(),
        ));
    }
    for (i, command) in ptb.commands.iter().enumerate() {
        let n = match command {
            Command::Publish(_) => {
                return Err(TxError::Unsupported(format!(
                    "command {i}: Publish is not supported; this devnet runs native packages \
                     installed at genesis"
                )));
            }
            Command::Upgrade(_) => {
                return Err(TxError::Unsupported(format!(
                    "command {i}: package upgrades are not supported by the floe devnet ledger \
                     (its packages are native code installed at genesis); an upgrade ticket \
                     from `upgrade::authorize_upgrade` ends with its transaction, and the \
                     authorization stays recorded on chain"
                )));
            }
            Command::MoveCall(c) => c.arguments.len() + c.type_arguments.len(),
            Command::TransferObjects(t) => t.objects.len() + 1,
            Command::SplitCoins(s) => s.amounts.len() + 1,
            Command::MergeCoins(m) => m.coins_to_merge.len() + 1,
            Command::MakeMoveVector(v) => v.elements.len(),
            _ => {
                return Err(TxError::Unsupported(format!(
                    "command {i} is of an unknown kind"
                )));
            }
        };
        if n > MAX_ARGUMENTS {
            return Err(TxError::Invalid(format!(
                "command {i} has more than {MAX_ARGUMENTS} arguments"
            )));
        }
    }

    let gas = &tx.gas_payment;
    if gas.owner != tx.sender {
        return Err(TxError::Unsupported(
            "sponsored transactions (gas owner other than the sender) are not supported".into(),
        ));
    }
    if gas.price < REFERENCE_GAS_PRICE {
        return Err(TxError::Gas(format!(
            "gas price {} is below the reference gas price {REFERENCE_GAS_PRICE}",
            gas.price
        )));
    }
    if gas.budget < MIN_BUDGET || gas.budget > MAX_BUDGET {
        return Err(TxError::Gas(format!(
            "gas budget {} is outside [{MIN_BUDGET}, {MAX_BUDGET}]",
            gas.budget
        )));
    }
    if gas.objects.is_empty() || gas.objects.len() > MAX_GAS_OBJECTS {
        return Err(TxError::Gas(format!(
            "between 1 and {MAX_GAS_OBJECTS} gas coins are required"
        )));
    }

    let mut seen = BTreeSet::new();
    let mut gas_objects = Vec::new();
    let mut gas_total: u64 = 0;
    for r in &gas.objects {
        if !seen.insert(*r.object_id()) {
            return Err(TxError::Invalid(format!(
                "gas coin {} listed twice",
                r.object_id()
            )));
        }
        let object = check_ref(state, r)?;
        if *object.owner() != Owner::Address(gas.owner) {
            return Err(TxError::WrongOwner {
                id: short(r.object_id()),
                owner: owner_text(object.owner()),
                sender: gas.owner.to_string(),
            });
        }
        let balance = sui_balance(&object).ok_or_else(|| {
            TxError::Gas(format!(
                "gas object {} is not a Coin<0x2::sui::SUI>",
                r.object_id()
            ))
        })?;
        gas_total = gas_total.saturating_add(balance);
        gas_objects.push(object);
    }
    if gas_total < gas.budget {
        return Err(TxError::Gas(format!(
            "gas coins hold {gas_total} MIST, less than the budget {}",
            gas.budget
        )));
    }

    let mut inputs = Vec::with_capacity(ptb.inputs.len());
    let mut objects = BTreeMap::new();
    for (i, input) in ptb.inputs.iter().enumerate() {
        let (object, mutable, shared) = match input {
            Input::Pure(bytes) => {
                if bytes.len() > MAX_PURE_BYTES {
                    return Err(TxError::Invalid(format!(
                        "input {i}: pure value over {MAX_PURE_BYTES} bytes"
                    )));
                }
                inputs.push(InputArg::Pure(bytes.clone()));
                continue;
            }
            Input::ImmutableOrOwned(r) => {
                let object = check_ref(state, r)?;
                let mutable = match object.owner() {
                    Owner::Address(a) if *a == tx.sender => true,
                    Owner::Immutable => false,
                    Owner::Address(_) => {
                        return Err(TxError::WrongOwner {
                            id: short(r.object_id()),
                            owner: owner_text(object.owner()),
                            sender: tx.sender.to_string(),
                        });
                    }
                    Owner::Shared(_) => {
                        return Err(TxError::Invalid(format!(
                            "input {i}: object {} is shared; pass it as a shared input",
                            r.object_id()
                        )));
                    }
                    other => {
                        return Err(TxError::Invalid(format!(
                            "input {i}: object {} ({}) cannot be a transaction input",
                            r.object_id(),
                            owner_text(other)
                        )));
                    }
                };
                (object, mutable, false)
            }
            Input::Shared(s) => {
                let id = s.object_id();
                let object = state
                    .object(&id)
                    .ok_or_else(|| TxError::ObjectNotFound { id: short(&id) })?;
                match object.owner() {
                    Owner::Shared(initial) if *initial == s.version() => {}
                    Owner::Shared(initial) => {
                        return Err(TxError::Invalid(format!(
                            "input {i}: shared object {id} has initial shared version \
                             {initial}, not {}",
                            s.version()
                        )));
                    }
                    other => {
                        return Err(TxError::Invalid(format!(
                            "input {i}: object {id} is not shared (owner: {})",
                            owner_text(other)
                        )));
                    }
                }
                let mutable = match s.mutability() {
                    Mutability::Mutable => true,
                    Mutability::Immutable => false,
                    _ => {
                        return Err(TxError::Unsupported(format!(
                            "input {i}: non-exclusive shared writes are not supported"
                        )));
                    }
                };
                (object.clone(), mutable, true)
            }
            Input::Receiving(_) => {
                return Err(TxError::Unsupported(format!(
                    "input {i}: receiving objects is not supported"
                )));
            }
            _ => {
                return Err(TxError::Unsupported(format!(
                    "input {i}: funds withdrawals are not supported"
                )));
            }
        };
        let id = object.object_id();
        if !seen.insert(id) {
            return Err(TxError::Invalid(format!(
                "input {i}: object {id} is used more than once (gas coins are reached \
                 through the GasCoin argument)"
            )));
        }
        if matches!(object.data(), sui_sdk_types::ObjectData::Package(_)) {
            return Err(TxError::Invalid(format!("input {i}: {id} is a package")));
        }
        inputs.push(InputArg::Object(id));
        objects.insert(
            id,
            InputObject {
                object,
                mutable,
                shared,
            },
        );
    }
    Ok(Checked {
        ptb: ptb.clone(),
        inputs,
        objects,
        gas: gas_objects,
        gas_total,
    })
}
