//! Completing a partially specified transaction for SimulateTransaction,
//! as Sui's clients expect: object inputs given by id only, missing gas
//! price, gas coins or budget.

use floe_runtime::Registry;
use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{Address, Object, ObjectReference, Owner, StructTag, Transaction};
use tonic::Status;

use crate::exec::gas::{MAX_BUDGET, REFERENCE_GAS_PRICE, computation_cost};

/// Storage allowance in a first budget guess (room for ~300 small objects).
const ESTIMATE_STORAGE_HEADROOM: u64 = 5_000_000;
use super::literal::{Use, resolve_literal, uses};
use crate::exec::{MAX_TX_BYTES, sui_balance};
use crate::state::State;

/// Gas coins selected at most, largest first.
const MAX_SELECTED_COINS: usize = 256;

/// The completed transaction, and whether its budget was chosen here (and
/// so should be re-estimated from a first simulation).
pub(crate) struct Resolved {
    pub tx: Transaction,
    pub budget_estimated: bool,
    /// A gas coin that exists only for this dry run (checks disabled, or a
    /// sender without SUI), so view calls work from any address.
    pub dry_run_gas: Option<Object>,
}

/// The dry-run gas coin's balance: the largest budget.
const DRY_RUN_GAS: u64 = MAX_BUDGET;

fn dry_run_coin(owner: Address) -> Option<Object> {
    use sui_sdk_types::{Digest, MoveStruct, ObjectData};
    // Derived from a digest no transaction has, so it names no real object.
    let id = Address::derive_id(Digest::new([0xd7; 32]), u64::MAX);
    let contents = bcs::to_bytes(&floe_runtime::framework::CoinData {
        id,
        value: DRY_RUN_GAS,
    })
    .ok()?;
    let data = MoveStruct::new(StructTag::gas_coin(), true, 1, contents)?;
    Some(Object::new(
        ObjectData::Struct(data),
        Owner::Address(owner),
        Digest::ZERO,
        0,
    ))
}

fn fill_input(
    state: &State,
    i: usize,
    input: &mut pb::Input,
    use_: Option<&Use>,
) -> Result<(), Status> {
    use pb::input::InputKind;
    if input.literal.is_some() {
        return resolve_literal(i, input, use_);
    }
    if input.kind.is_some() && input.kind() != InputKind::Unknown {
        // Complete object references given without version or digest.
        let needs = matches!(
            input.kind(),
            InputKind::ImmutableOrOwned | InputKind::Shared
        ) && (input.version.is_none()
            || (input.kind() == InputKind::ImmutableOrOwned && input.digest.is_none()));
        if !needs {
            return Ok(());
        }
    }
    if input.pure.is_some() {
        input.kind = Some(InputKind::Pure as i32);
        return Ok(());
    }
    let id: Address =
        super::parse_address(&format!("input {i} object_id"), input.object_id.as_deref())?;
    let object = state
        .object(&id)
        .ok_or_else(|| Status::not_found(format!("input {i}: object {id} not found")))?;
    match object.owner() {
        Owner::Shared(initial) => {
            input.kind = Some(InputKind::Shared as i32);
            input.version = Some(*initial);
            if input.mutable.is_none() && input.mutability.is_none() {
                input.mutable = Some(use_.is_none_or(|u| u.mutates));
            }
        }
        Owner::Address(_) | Owner::Immutable => {
            input.kind = Some(InputKind::ImmutableOrOwned as i32);
            input.version = Some(object.version());
            input.digest = Some(object.digest().to_string());
        }
        other => {
            return Err(Status::invalid_argument(format!(
                "input {i}: object {id} ({other:?}) cannot be a transaction input"
            )));
        }
    }
    Ok(())
}

/// Sets the `kind` enum of a transaction whose kind is given only by its
/// data, as Sui's TypeScript SDK sends it (`kind.data` is the oneof; the
/// enum is left unset). Only a programmable transaction can come from a
/// user, so only that case is filled; anything else stays as sent and is
/// refused by the conversion.
pub(crate) fn normalise_kind(tx: &mut pb::Transaction) {
    use pb::transaction_kind::{Data, Kind};
    if let Some(kind) = tx.kind.as_mut()
        && kind.kind() == Kind::Unknown
        && matches!(kind.data, Some(Data::ProgrammableTransaction(_)))
    {
        kind.kind = Some(Kind::ProgrammableTransaction as i32);
    }
}

fn used_ids(ptb: &pb::ProgrammableTransaction) -> Vec<String> {
    ptb.inputs
        .iter()
        .filter_map(|i| i.object_id.clone())
        .collect()
}

/// Completes `tx` against current state. `gas_selection` is the request's
/// `do_gas_selection`: the client means to execute the result, so gas must
/// be real coins.
pub(crate) fn resolve(
    state: &State,
    registry: &Registry,
    mut tx: pb::Transaction,
    checks_disabled: bool,
    gas_selection: bool,
) -> Result<Resolved, Status> {
    let mut budget_estimated = false;
    let mut dry_run_gas = None;
    normalise_kind(&mut tx);
    if tx.bcs.is_none() {
        if tx.version.is_none() {
            tx.version = Some(1);
        }
        let sender = super::parse_address("sender", tx.sender.as_deref())?;
        let mut used = Vec::new();
        if let Some(kind) = tx.kind.as_mut()
            && let Some(pb::transaction_kind::Data::ProgrammableTransaction(ptb)) =
                kind.data.as_mut()
        {
            if ptb.inputs.len() > crate::exec::checks::MAX_INPUTS {
                return Err(Status::invalid_argument("too many inputs"));
            }
            let uses = uses(registry, &ptb.commands);
            for (i, input) in ptb.inputs.iter_mut().enumerate() {
                fill_input(state, i, input, uses.get(&(i as u16)))?;
            }
            used = used_ids(ptb);
        }
        if tx.expiration.is_none() {
            tx.expiration = Some(sui_sdk_types::TransactionExpiration::None.into());
        }
        let gas = tx.gas_payment.get_or_insert_with(Default::default);
        let price = gas.price.unwrap_or(REFERENCE_GAS_PRICE);
        if gas.owner.is_none() {
            gas.owner = Some(sender.to_string());
        }
        if gas.price.is_none() {
            gas.price = Some(REFERENCE_GAS_PRICE);
        }
        if gas.objects.is_empty() {
            // Gas comes from the gas owner (the sponsor, when there is one).
            let payer = super::parse_address("gas_payment.owner", gas.owner.as_deref())?;
            let mut coins: Vec<&Object> = state
                .owned_objects(&payer)
                .filter(|o| *o.owner() == Owner::Address(payer))
                .filter(|o| sui_balance(o).is_some())
                .filter(|o| {
                    !used
                        .iter()
                        .any(|u| u.parse::<Address>().ok() == Some(o.object_id()))
                })
                .collect();
            coins.sort_by_key(|o| std::cmp::Reverse(sui_balance(o).unwrap_or(0)));
            coins.truncate(MAX_SELECTED_COINS);
            if coins.is_empty() && gas_selection && !checks_disabled {
                // The client will sign and execute what comes back: a
                // dry-run coin would only fail later, as an unknown object.
                return Err(Status::failed_precondition(format!(
                    "gas selection: {payer} owns no SUI coin to pay gas with"
                )));
            }
            if checks_disabled || coins.is_empty() {
                let coin = dry_run_coin(payer)
                    .ok_or_else(|| Status::internal("cannot build the dry-run gas coin"))?;
                gas.objects = vec![
                    ObjectReference::new(coin.object_id(), coin.version(), coin.digest()).into(),
                ];
                dry_run_gas = Some(coin);
            } else {
                gas.objects = coins
                    .iter()
                    .map(|o| ObjectReference::new(o.object_id(), o.version(), o.digest()).into())
                    .collect();
            }
        }
        let needs_budget = gas.budget.is_none();
        if needs_budget {
            let total: u64 = tx
                .gas_payment
                .as_ref()
                .map(|g| g.objects.as_slice())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.object_id.as_deref()?.parse::<Address>().ok())
                .filter_map(|id| {
                    dry_run_gas
                        .as_ref()
                        .filter(|c: &&Object| c.object_id() == id)
                        .or_else(|| state.object(&id))
                        .and_then(sui_balance)
                })
                .fold(0, u64::saturating_add);
            // A first guess that leaves most of the balance usable by the
            // commands themselves (the budget is reserved from the gas coin
            // while they run); the caller re-simulates with the real cost.
            let commands = match tx.kind.as_ref().and_then(|k| k.data.as_ref()) {
                Some(pb::transaction_kind::Data::ProgrammableTransaction(p)) => p.commands.len(),
                _ => 0,
            };
            let guess = computation_cost(price, commands).saturating_add(ESTIMATE_STORAGE_HEADROOM);
            if let Some(gas) = tx.gas_payment.as_mut() {
                gas.budget = Some(total.min(guess).min(MAX_BUDGET));
            }
            budget_estimated = true;
        }
    }
    let tx: Transaction = (&tx)
        .try_into()
        .map_err(|e| Status::invalid_argument(format!("malformed transaction: {e}")))?;
    if bcs::serialized_size(&tx).unwrap_or(usize::MAX) > MAX_TX_BYTES {
        return Err(Status::invalid_argument(format!(
            "transaction over {MAX_TX_BYTES} bytes"
        )));
    }
    Ok(Resolved {
        dry_run_gas,
        tx,
        budget_estimated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_kind(data: Option<pb::transaction_kind::Data>, kind: Option<i32>) -> pb::Transaction {
        let mut k = pb::TransactionKind::default();
        k.data = data;
        k.kind = kind;
        let mut tx = pb::Transaction::default();
        tx.kind = Some(k);
        tx
    }

    #[test]
    fn a_kind_given_only_by_its_data_is_a_programmable_transaction() {
        use pb::transaction_kind::{Data, Kind};
        let ptb = || Some(Data::ProgrammableTransaction(Default::default()));
        // As Sui's TypeScript SDK sends it: the oneof set, the enum not.
        let mut tx = with_kind(ptb(), None);
        normalise_kind(&mut tx);
        assert_eq!(
            tx.kind.as_ref().map(|k| k.kind()),
            Some(Kind::ProgrammableTransaction)
        );
        let converted = sui_sdk_types::TransactionKind::try_from(tx.kind.as_ref().unwrap());
        assert!(
            matches!(
                converted,
                Ok(sui_sdk_types::TransactionKind::ProgrammableTransaction(_))
            ),
            "{converted:?}"
        );
        // An explicit kind is kept, and system kinds are never inferred.
        let mut explicit = with_kind(ptb(), Some(Kind::ProgrammableSystemTransaction as i32));
        normalise_kind(&mut explicit);
        assert_eq!(
            explicit.kind.as_ref().map(|k| k.kind()),
            Some(Kind::ProgrammableSystemTransaction)
        );
        let mut other = with_kind(Some(Data::ChangeEpoch(Default::default())), None);
        normalise_kind(&mut other);
        assert_eq!(other.kind.as_ref().map(|k| k.kind()), Some(Kind::Unknown));
    }
}
