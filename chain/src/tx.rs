//! Building, signing, executing and simulating programmable transactions.
//!
//! Callers describe commands with `sui_transaction_builder`'s
//! [`TransactionBuilder`]; [`ChainClient::prepare`] fills in what needs the
//! chain: the reference gas price (GetEpoch), a budget, and gas coins chosen
//! from the sender's SUI coins that the transaction does not already use.
//! Execution returns a typed [`ExecutedTx`] whose [`TxStatus`] says whether
//! it succeeded or where a Move abort happened.
//!
//! Gas coins are chosen from the chain's current view, so two transactions
//! of one sender prepared concurrently may pick the same coin; the second is
//! then refused for a stale object version. Senders that submit in parallel
//! should pass disjoint coins in [`GasConfig::coins`]. [`ChainClient::sign_and_execute`]
//! rebuilds such a refused transaction with current versions (and gas chosen
//! again) up to three times: the refusal comes before execution, so nothing
//! was charged and nothing ran twice.

use sui_rpc::proto::sui::rpc::v2 as proto;
use sui_sdk_types::{
    Address, Digest, Input, ObjectReference, Owner, Transaction, TransactionKind, UserSignature,
};
use sui_transaction_builder::{ObjectInput, TransactionBuilder};

use crate::connection::ChainClient;
use crate::error::ChainError;
use crate::keystore::KeyPair;
use crate::reads::{TRANSACTION_MASK, mask};
use crate::types::{ExecutedTx, ObjectInfo};

/// The SUI coin type, as ListOwnedObjects filters for it.
pub const SUI_COIN_TYPE: &str = "0x2::coin::Coin<0x2::sui::SUI>";
/// Default budget: 0.05 SUI, ample for ordinary calls at reference price.
pub const DEFAULT_GAS_BUDGET: u64 = 50_000_000;
/// Sui accepts at most 256 gas coins in one payment.
pub const MAX_GAS_COINS: usize = 256;
/// How many of the sender's SUI coins we look at when choosing gas.
const MAX_COINS_SCANNED: usize = 10_000;
/// How often [`ChainClient::sign_and_execute`] submits one intent whose
/// owned inputs keep being spent by another transaction of the sender.
const STALE_OBJECT_ATTEMPTS: u32 = 3;

/// Gas settings for one transaction.
#[derive(Clone, Debug, Default)]
pub struct GasConfig {
    /// Budget in MIST; [`DEFAULT_GAS_BUDGET`] if unset.
    pub budget: Option<u64>,
    /// Price per unit; the current reference gas price if unset.
    pub price: Option<u64>,
    /// Pay with exactly these coins instead of choosing.
    pub coins: Option<Vec<ObjectReference>>,
    /// Dry-run first and lower the budget to what the run used plus a
    /// margin (the configured budget stays the cap). Costs one extra call.
    pub estimate: bool,
}

impl GasConfig {
    pub fn with_budget(mut self, budget: u64) -> Self {
        self.budget = Some(budget);
        self
    }

    pub fn estimated(mut self) -> Self {
        self.estimate = true;
        self
    }
}

/// A budget covering a dry run's cost with 20% to spare (and at least 1000
/// gas units at `price`, Sui's minimum), capped at `cap`.
pub fn budget_from_dry_run(gas: &sui_sdk_types::GasCostSummary, price: u64, cap: u64) -> u64 {
    let used = gas.computation_cost.saturating_add(gas.storage_cost);
    used.saturating_add(used / 5)
        .max(price.saturating_mul(1000))
        .min(cap)
}

/// Result of a dry run: effects and events as execution would produce them,
/// plus the BCS return values of every command (for view calls).
#[derive(Clone, Debug)]
pub struct Simulation {
    pub tx: ExecutedTx,
    pub command_outputs: Vec<CommandOutputs>,
}

/// The values one command returned, as BCS.
#[derive(Clone, Debug, Default)]
pub struct CommandOutputs {
    pub return_values: Vec<Vec<u8>>,
    pub mutated_by_ref: Vec<Vec<u8>>,
}

impl Simulation {
    /// Return value `index` of command `command`, decoded into `T`.
    pub fn return_value<T: serde::de::DeserializeOwned>(
        &self,
        command: usize,
        index: usize,
    ) -> Result<T, ChainError> {
        let bytes = self
            .command_outputs
            .get(command)
            .and_then(|c| c.return_values.get(index))
            .ok_or_else(|| ChainError::Bcs {
                type_name: std::any::type_name::<T>(),
                reason: format!("command {command} has no return value {index}"),
            })?;
        crate::types::decode_bcs(bytes)
    }
}

/// Object ids a transaction already uses as inputs; they cannot also pay
/// for gas.
pub fn input_object_ids(tx: &Transaction) -> Vec<Address> {
    let TransactionKind::ProgrammableTransaction(ptb) = &tx.kind else {
        return Vec::new();
    };
    ptb.inputs
        .iter()
        .filter_map(|input| match input {
            Input::ImmutableOrOwned(r) | Input::Receiving(r) => Some(*r.object_id()),
            Input::Shared(shared) => Some(shared.object_id()),
            _ => None,
        })
        .collect()
}

/// A gas placeholder so that `try_build` succeeds before gas is chosen.
fn placeholder_gas() -> ObjectInput {
    ObjectInput::owned(Address::ZERO, 0, Digest::ZERO)
}

impl ChainClient {
    /// The transaction input for an existing object, by its current owner:
    /// owned objects by reference, shared ones by initial shared version
    /// (`mutable` says whether the call needs `&mut`).
    pub async fn object_input(
        &self,
        id: Address,
        mutable: bool,
    ) -> Result<ObjectInput, ChainError> {
        let info = self.get_object(id).await?;
        object_input_for(&info, mutable)
    }

    /// Fills sender, gas price, budget and gas coins into `builder` and
    /// builds the transaction.
    pub async fn prepare(
        &self,
        sender: Address,
        mut builder: TransactionBuilder,
        gas: &GasConfig,
    ) -> Result<Transaction, ChainError> {
        let price = match gas.price {
            Some(price) => price,
            None => self.reference_gas_price().await?,
        };
        let budget = gas.budget.unwrap_or(DEFAULT_GAS_BUDGET);
        builder.set_sender(sender);
        builder.set_gas_price(price);
        builder.set_gas_budget(budget);
        builder.add_gas_objects([placeholder_gas()]);
        let mut tx = builder
            .try_build()
            .map_err(|e| ChainError::Build(e.to_string()))?;
        tx.gas_payment.objects = match &gas.coins {
            Some(coins) => coins.clone(),
            None => {
                self.select_gas(sender, budget, &input_object_ids(&tx))
                    .await?
            }
        };
        if gas.estimate {
            let dry_run = self.simulate(&tx, true).await?;
            tx.gas_payment.budget =
                budget_from_dry_run(dry_run.tx.effects.gas_summary(), price, budget);
        }
        Ok(tx)
    }

    /// Chooses the fewest SUI coins (largest first) of `owner` that cover
    /// `budget`, skipping `exclude`.
    pub async fn select_gas(
        &self,
        owner: Address,
        budget: u64,
        exclude: &[Address],
    ) -> Result<Vec<ObjectReference>, ChainError> {
        let mut coins: Vec<ObjectInfo> = self
            .list_all_owned_objects(owner, Some(SUI_COIN_TYPE), MAX_COINS_SCANNED)
            .await?
            .into_iter()
            .filter(|c| !exclude.contains(&c.id()) && c.balance.is_some())
            .collect();
        coins.sort_by_key(|c| std::cmp::Reverse(c.balance.unwrap_or(0)));
        let mut chosen = Vec::new();
        let mut total: u64 = 0;
        for coin in coins.iter().take(MAX_GAS_COINS) {
            if total >= budget {
                break;
            }
            total = total.saturating_add(coin.balance.unwrap_or(0));
            chosen.push(coin.reference.clone());
        }
        if total < budget || chosen.is_empty() {
            return Err(ChainError::InsufficientGas {
                address: owner.to_string(),
                needed: budget,
                available: total,
                coins: chosen.len(),
            });
        }
        Ok(chosen)
    }

    /// Submits a signed transaction and returns its effects and events,
    /// whether it succeeded or aborted (see [`ExecutedTx::ensure_success`]).
    ///
    /// Resubmitting the same signed transaction is harmless, so transient
    /// failures are retried; if the final answer is an error, the ledger is
    /// asked whether the transaction landed anyway (a retry after a lost
    /// response), and its result returned if so.
    pub async fn execute(
        &self,
        tx: &Transaction,
        signatures: Vec<UserSignature>,
    ) -> Result<ExecutedTx, ChainError> {
        let digest = tx.digest();
        let request = proto::ExecuteTransactionRequest::new(tx.clone().into())
            .with_signatures(signatures.into_iter().map(Into::into).collect())
            .with_read_mask(mask(TRANSACTION_MASK));
        let result = self
            .call("ExecuteTransaction", |mut c| {
                let request = request.clone();
                async move {
                    c.execution_client()
                        .execute_transaction(request)
                        .await
                        .map(|r| r.into_inner())
                }
            })
            .await;
        let response = match result {
            Ok(response) => response,
            Err(err) => {
                return match self.get_transaction(&digest).await {
                    Ok(landed) => Ok(landed),
                    Err(_) => Err(err),
                };
            }
        };
        let executed = response
            .transaction
            .ok_or_else(|| self.malformed("ExecuteTransaction", "no transaction in response"))?;
        let executed = ExecutedTx::from_proto(&executed)
            .map_err(|e| self.malformed("ExecuteTransaction", e))?;
        if executed.digest != digest {
            return Err(self.malformed(
                "ExecuteTransaction",
                format!("submitted {digest}, effects are for {}", executed.digest),
            ));
        }
        Ok(executed)
    }

    /// Waits until transaction `digest` is in a checkpoint and returns it
    /// with its checkpoint number. After this, every index of the node
    /// (owned objects, balances) reflects the transaction, which a full node
    /// does not promise right after ExecuteTransaction returns.
    pub async fn wait_for_checkpoint(
        &self,
        digest: &Digest,
        timeout: std::time::Duration,
    ) -> Result<ExecutedTx, ChainError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut delay = std::time::Duration::from_millis(50);
        loop {
            match self.get_transaction(digest).await {
                Ok(tx) if tx.checkpoint.is_some() => return Ok(tx),
                Ok(_) | Err(ChainError::TransactionNotFound(_)) => {}
                Err(e) => return Err(e),
            }
            if tokio::time::Instant::now() + delay > deadline {
                return Err(ChainError::Timeout {
                    op: "wait for checkpoint",
                    endpoint: self.current_endpoint().to_owned(),
                    what: format!("transaction {digest} in a checkpoint"),
                    waited: timeout,
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_secs(1));
        }
    }

    /// Prepares `builder` for `key`'s address, signs it and executes it.
    pub async fn sign_and_execute(
        &self,
        key: &KeyPair,
        builder: TransactionBuilder,
        gas: &GasConfig,
    ) -> Result<ExecutedTx, ChainError> {
        let tx = self.prepare(key.address(), builder, gas).await?;
        self.sign_and_submit(key, tx, gas).await
    }

    /// Signs and executes a prepared `tx`; if the ledger refuses it because
    /// an owned input moved on meanwhile ([`ChainError::is_stale_object`]),
    /// brings its inputs and gas to current versions and submits again, at
    /// most [`STALE_OBJECT_ATTEMPTS`] times in all.
    pub async fn sign_and_submit(
        &self,
        key: &KeyPair,
        mut tx: Transaction,
        gas: &GasConfig,
    ) -> Result<ExecutedTx, ChainError> {
        let mut attempt = 1;
        loop {
            let signature = key.sign_transaction(&tx)?;
            match self.execute(&tx, vec![signature]).await {
                Err(e) if e.is_stale_object() && attempt < STALE_OBJECT_ATTEMPTS => {
                    tracing::info!(attempt, error = %e, "an owned input moved on; retrying with current versions");
                    self.refresh_owned_inputs(&mut tx, gas).await?;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Brings `tx`'s owned and immutable inputs to their current versions
    /// and, unless `gas` names the coins, chooses the gas coins again: the
    /// same intent after another transaction of the sender spent one of
    /// them (see [`ChainError::is_stale_object`]).
    async fn refresh_owned_inputs(
        &self,
        tx: &mut Transaction,
        gas: &GasConfig,
    ) -> Result<(), ChainError> {
        if let TransactionKind::ProgrammableTransaction(ptb) = &mut tx.kind {
            for input in &mut ptb.inputs {
                if let Input::ImmutableOrOwned(reference) = input {
                    *reference = self.get_object(*reference.object_id()).await?.reference;
                }
            }
        }
        if gas.coins.is_none() {
            tx.gas_payment.objects = self
                .select_gas(tx.sender, tx.gas_payment.budget, &input_object_ids(tx))
                .await?;
        }
        Ok(())
    }

    /// Dry-runs `tx`. With `checks` off the node skips signature, gas and
    /// ownership checks, which is how read-only view calls are made.
    pub async fn simulate(&self, tx: &Transaction, checks: bool) -> Result<Simulation, ChainError> {
        self.simulate_proto(tx.clone().into(), checks).await
    }

    async fn simulate_proto(
        &self,
        tx: proto::Transaction,
        checks: bool,
    ) -> Result<Simulation, ChainError> {
        use proto::simulate_transaction_request::TransactionChecks;
        let request = proto::SimulateTransactionRequest::new(tx)
            .with_checks(if checks {
                TransactionChecks::Enabled
            } else {
                TransactionChecks::Disabled
            })
            .with_read_mask(mask(
                "transaction.digest,transaction.transaction,transaction.effects,transaction.events,command_outputs",
            ));
        let response = self
            .call("SimulateTransaction", |mut c| {
                let request = request.clone();
                async move {
                    c.execution_client()
                        .simulate_transaction(request)
                        .await
                        .map(|r| r.into_inner())
                }
            })
            .await?;
        let executed = response
            .transaction
            .as_ref()
            .ok_or_else(|| self.malformed("SimulateTransaction", "no transaction in response"))?;
        let tx = ExecutedTx::from_proto(executed)
            .map_err(|e| self.malformed("SimulateTransaction", e))?;
        let command_outputs = response
            .command_outputs
            .iter()
            .map(|c| CommandOutputs {
                return_values: c
                    .return_values
                    .iter()
                    .map(|o| o.value.as_ref().map(Vec::from).unwrap_or_default())
                    .collect(),
                mutated_by_ref: c
                    .mutated_by_ref
                    .iter()
                    .map(|o| o.value.as_ref().map(Vec::from).unwrap_or_default())
                    .collect(),
            })
            .collect();
        Ok(Simulation {
            tx,
            command_outputs,
        })
    }

    /// A read-only call: builds `builder` for `sender` and simulates it with
    /// checks off; read results with [`Simulation::return_value`].
    ///
    /// The transaction goes out as structured fields without BCS and
    /// without gas coins: a Sui full node needs no gas when checks are off,
    /// and floe's ledger (like Sui for partial transactions) picks the
    /// sender's coins itself.
    pub async fn view(
        &self,
        sender: Address,
        mut builder: TransactionBuilder,
    ) -> Result<Simulation, ChainError> {
        builder.set_sender(sender);
        builder.set_gas_price(self.reference_gas_price().await?);
        builder.set_gas_budget(DEFAULT_GAS_BUDGET);
        builder.add_gas_objects([placeholder_gas()]);
        let mut tx = builder
            .try_build()
            .map_err(|e| ChainError::Build(e.to_string()))?;
        tx.gas_payment.objects.clear();
        let mut message = proto::Transaction::from(tx);
        message.bcs = None;
        self.simulate_proto(message, false).await
    }

    /// Sends `amount` MIST to `recipient`, split off the gas coin.
    pub async fn transfer_sui(
        &self,
        key: &KeyPair,
        recipient: Address,
        amount: u64,
    ) -> Result<ExecutedTx, ChainError> {
        let mut b = TransactionBuilder::new();
        let gas = b.gas();
        let amount = b.pure(&amount);
        let coins = b.split_coins(gas, vec![amount]);
        let recipient = b.pure(&recipient);
        b.transfer_objects(coins, recipient);
        self.sign_and_execute(key, b, &GasConfig::default()).await
    }

    /// Splits `amounts` off `coin` (or off the gas coin when `None`) into new
    /// coins owned by the signer.
    pub async fn split_coin(
        &self,
        key: &KeyPair,
        coin: Option<Address>,
        amounts: &[u64],
    ) -> Result<ExecutedTx, ChainError> {
        let mut b = TransactionBuilder::new();
        let source = match coin {
            Some(id) => {
                let input = self.object_input(id, true).await?;
                b.object(input)
            }
            None => b.gas(),
        };
        let amounts = amounts.iter().map(|a| b.pure(a)).collect();
        let coins = b.split_coins(source, amounts);
        let owner = b.pure(&key.address());
        b.transfer_objects(coins, owner);
        self.sign_and_execute(key, b, &GasConfig::default()).await
    }

    /// Merges `others` into `primary` (all coins of one type owned by the
    /// signer).
    pub async fn merge_coins(
        &self,
        key: &KeyPair,
        primary: Address,
        others: &[Address],
    ) -> Result<ExecutedTx, ChainError> {
        let mut b = TransactionBuilder::new();
        let primary = self.object_input(primary, true).await?;
        let primary = b.object(primary);
        let mut rest = Vec::with_capacity(others.len());
        for id in others {
            let input = self.object_input(*id, true).await?;
            rest.push(b.object(input));
        }
        b.merge_coins(primary, rest);
        self.sign_and_execute(key, b, &GasConfig::default()).await
    }
}

/// The input form of an object, from its owner.
pub fn object_input_for(info: &ObjectInfo, mutable: bool) -> Result<ObjectInput, ChainError> {
    let r = &info.reference;
    Ok(match info.object.owner() {
        Owner::Address(_) => ObjectInput::owned(*r.object_id(), r.version(), *r.digest()),
        Owner::Immutable => ObjectInput::immutable(*r.object_id(), r.version(), *r.digest()),
        Owner::Shared(initial) => ObjectInput::shared(*r.object_id(), *initial, mutable),
        Owner::ConsensusAddress { start_version, .. } => {
            ObjectInput::shared(*r.object_id(), *start_version, mutable)
        }
        Owner::Object(parent) => {
            return Err(ChainError::Build(format!(
                "object {} is owned by object {parent} and cannot be a transaction input",
                r.object_id()
            )));
        }
        other => {
            return Err(ChainError::Build(format!(
                "object {} has an owner kind floe does not know: {other:?}",
                r.object_id()
            )));
        }
    })
}

#[cfg(test)]
mod tests;
