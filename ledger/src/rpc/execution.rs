//! `sui.rpc.v2.TransactionExecutionService`: ExecuteTransaction and
//! SimulateTransaction.

use std::time::Instant;

use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{Transaction, UserSignature};
use tonic::{Request, Response, Status};

use super::resolve::{normalise_kind, resolve};
use super::{executed_proto, mask, tx_status};
use crate::Ledger;
use crate::exec::MAX_TX_BYTES;
use crate::exec::gas::MIN_BUDGET;
use crate::state::TxEntry;

/// TransactionExecutionService over a ledger.
pub struct ExecutionApi(pub Ledger);

/// Most signatures accepted on one transaction.
const MAX_SIGNATURES: usize = 4;

fn join_error(e: tokio::task::JoinError) -> Status {
    Status::internal(format!("execution task failed: {e}"))
}

#[tonic::async_trait]
impl pb::transaction_execution_service_server::TransactionExecutionService for ExecutionApi {
    async fn execute_transaction(
        &self,
        request: Request<pb::ExecuteTransactionRequest>,
    ) -> Result<Response<pb::ExecuteTransactionResponse>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let mut proto = req
            .transaction
            .clone()
            .ok_or_else(|| Status::invalid_argument("missing transaction"))?;
        normalise_kind(&mut proto);
        let tx: Transaction = (&proto)
            .try_into()
            .map_err(|e| Status::invalid_argument(format!("malformed transaction: {e}")))?;
        if bcs::serialized_size(&tx).unwrap_or(usize::MAX) > MAX_TX_BYTES {
            return Err(Status::invalid_argument(format!(
                "transaction over {MAX_TX_BYTES} bytes"
            )));
        }
        if req.signatures.len() > MAX_SIGNATURES {
            return Err(Status::invalid_argument("too many signatures"));
        }
        let signatures = req
            .signatures
            .iter()
            .map(UserSignature::try_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Status::invalid_argument(format!("malformed signature: {e}")))?;
        let ledger = self.0.clone();
        let result = tokio::task::spawn_blocking(move || ledger.execute(tx, signatures))
            .await
            .map_err(join_error)?;
        let seconds = started.elapsed().as_secs_f64();
        let entry = match result {
            Ok(entry) => entry,
            Err(e) => {
                crate::metrics::transaction("rejected", seconds);
                tracing::debug!(error = %e, "transaction rejected");
                return Err(tx_status(e));
            }
        };
        let ok = matches!(
            entry.record.effects.status(),
            sui_sdk_types::ExecutionStatus::Success
        );
        crate::metrics::transaction(if ok { "success" } else { "failure" }, seconds);
        let m = mask(req.read_mask.as_ref(), "effects.status,checkpoint");
        let executed = executed_proto(&self.0.state(), &entry, &m);
        Ok(Response::new(pb::ExecuteTransactionResponse::new(executed)))
    }

    async fn simulate_transaction(
        &self,
        request: Request<pb::SimulateTransactionRequest>,
    ) -> Result<Response<pb::SimulateTransactionResponse>, Status> {
        let req = request.into_inner();
        let proto = req
            .transaction
            .clone()
            .ok_or_else(|| Status::invalid_argument("missing transaction"))?;
        let ledger = self.0.clone();
        let gas_selection = req.do_gas_selection.unwrap_or(false);
        let checks_disabled = req.checks
            == Some(pb::simulate_transaction_request::TransactionChecks::Disabled as i32);
        let (record, results) = tokio::task::spawn_blocking(move || {
            let resolved = resolve(
                &ledger.state(),
                ledger.registry(),
                proto,
                checks_disabled,
                gas_selection,
            )?;
            let extra = resolved.dry_run_gas.clone();
            let mut tx = resolved.tx;
            let (mut record, mut results) = ledger
                .simulate(tx.clone(), extra.clone())
                .map_err(tx_status)?;
            if resolved.budget_estimated || gas_selection {
                // Re-run with the budget the transaction actually needs, so
                // the returned transaction can be signed as is.
                let g = record.effects.gas_summary();
                let needed = g
                    .computation_cost
                    .saturating_add(g.storage_cost)
                    .max(MIN_BUDGET);
                if needed <= tx.gas_payment.budget {
                    tx.gas_payment.budget = needed;
                    (record, results) = ledger.simulate(tx, extra).map_err(tx_status)?;
                }
            }
            Ok::<_, Status>((record, results))
        })
        .await
        .map_err(join_error)??;
        let entry = TxEntry {
            digest: record.transaction.digest(),
            effects_digest: record.effects.digest(),
            record,
        };
        let m = mask(
            req.read_mask.as_ref(),
            "transaction.digest,transaction.transaction,transaction.effects,transaction.events,transaction.balance_changes",
        );
        let mut r = pb::SimulateTransactionResponse::default();
        if let Some(sub) = m.subtree("transaction") {
            r.transaction = Some(executed_proto(&self.0.state(), &entry, &sub));
        }
        if m.contains("command_outputs") {
            r.command_outputs = results
                .into_iter()
                .map(|values| {
                    let mut c = pb::CommandResult::default();
                    c.return_values = values
                        .into_iter()
                        .flatten()
                        .map(|v| {
                            let mut o = pb::CommandOutput::default();
                            let mut b = pb::Bcs::default();
                            b.name = Some(v.ty.to_string());
                            b.value = Some(v.bytes.into());
                            o.value = Some(b);
                            o
                        })
                        .collect();
                    c
                })
                .collect();
        }
        r.suggested_gas_price = Some(crate::exec::gas::REFERENCE_GAS_PRICE);
        Ok(Response::new(r))
    }
}
