//! Transaction execution: signature verification, input checks, the
//! programmable-transaction interpreter, gas, and Sui effects.
//!
//! Execution is a pure function of (committed state, transaction): it reads
//! the state and returns a [`TxRecord`] describing every object write; the
//! ledger persists the record and only then applies it.

pub(crate) mod checks;
pub mod gas;
mod outcome;
pub(crate) mod ptb;
pub(crate) mod system;

use floe_runtime::framework::{CoinData, coin_value};
use floe_runtime::{ObjectSource, Registry, Runtime, RuntimeEnv};
use sui_crypto::SuiVerifier;
use sui_crypto::ed25519::Ed25519Verifier;
use sui_sdk_types::{Transaction, TransactionKind, TypeTag, UserSignature};

use crate::error::TxError;
use crate::store::TxRecord;

pub use checks::{MAX_TX_BYTES, sui_balance};
use outcome::Outcome;
use ptb::{ObjSlot, Ptb};

/// Verifies that `signatures` authorise `tx`: exactly one ed25519
/// signature over the intent message, by the sender's key.
pub fn verify_signatures(tx: &Transaction, signatures: &[UserSignature]) -> Result<(), TxError> {
    let [signature] = signatures else {
        return Err(TxError::Signature(format!(
            "expected exactly one signature (the sender's), got {}",
            signatures.len()
        )));
    };
    let UserSignature::Simple(simple) = signature else {
        return Err(TxError::Signature(
            "only ed25519 signatures are supported".into(),
        ));
    };
    let sui_sdk_types::SimpleSignature::Ed25519 { public_key, .. } = simple else {
        return Err(TxError::Signature(
            "only ed25519 signatures are supported".into(),
        ));
    };
    let signer = public_key.derive_address();
    if signer != tx.sender {
        return Err(TxError::Signature(format!(
            "signed by {signer}, but the sender is {}",
            tx.sender
        )));
    }
    Ed25519Verifier::new()
        .verify_transaction(tx, signature)
        .map_err(|e| TxError::Signature(format!("signature does not verify: {e}")))
}

/// Values each command returned (`None` where a later command moved them).
pub type CommandResults = Vec<Vec<Option<floe_runtime::Value>>>;

/// Executes a checked user transaction against `state` without changing it.
pub(crate) fn execute(
    state: &dyn ObjectSource,
    registry: &Registry,
    tx: Transaction,
    signatures: Vec<UserSignature>,
    now_ms: u64,
) -> Result<TxRecord, TxError> {
    execute_with_results(state, registry, tx, signatures, now_ms).map(|(r, _)| r)
}

/// [`execute`], also returning what each command returned (for
/// SimulateTransaction's view calls).
pub(crate) fn execute_with_results(
    state: &dyn ObjectSource,
    registry: &Registry,
    tx: Transaction,
    signatures: Vec<UserSignature>,
    now_ms: u64,
) -> Result<(TxRecord, CommandResults), TxError> {
    if !matches!(tx.kind, TransactionKind::ProgrammableTransaction(_)) {
        return Err(TxError::Unsupported(
            "only programmable transactions can be submitted".into(),
        ));
    }
    let checked = checks::check(state, &tx)?;
    let digest = tx.digest();
    let budget = tx.gas_payment.budget;
    let sui: TypeTag = sui_sdk_types::StructTag::sui().into();
    let gas_id = checked.gas[0].object_id();
    let reserved = checked.gas_total - budget;
    let gas_slot = ObjSlot {
        id: gas_id,
        value: Some(coin_value(
            &sui,
            CoinData {
                id: gas_id,
                value: reserved,
            },
        )),
        mutable: true,
        by_value: true,
    };
    let env = RuntimeEnv {
        sender: tx.sender,
        epoch: state.epoch(),
        epoch_start_ms: state.epoch_start_ms(),
        timestamp_ms: state.clock_ms(),
        tx_digest: digest,
    };
    let mut rt = Runtime::new(state, registry, env);
    let mut ptb = Ptb::new(&mut rt, registry, &checked, gas_slot);
    let run = ptb
        .run(&checked.ptb.commands)
        .and_then(|_| ptb.check_unused());
    let slots: Vec<ObjSlot> = ptb.object_slots().cloned().collect();
    let gas_slot = ptb.gas.clone();
    let results = ptb.results().to_vec();
    drop(ptb);
    let outcome = Outcome {
        state,
        registry,
        checked: &checked,
        tx: &tx,
        digest,
        now_ms,
    };
    let record = match run {
        Ok(()) => match outcome.success(rt, slots, gas_slot) {
            Ok(record) => record,
            Err(failure) => outcome.failure(failure),
        },
        Err(failure) => outcome.failure(failure),
    };
    Ok((
        TxRecord {
            signatures,
            ..record
        },
        results,
    ))
}

#[cfg(test)]
mod dof_tests;
#[cfg(test)]
mod tests;
