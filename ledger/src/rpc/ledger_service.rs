//! `sui.rpc.v2.LedgerService`: service info, objects, transactions,
//! checkpoints, epochs.

use sui_rpc::proto::google::rpc::Status as RpcStatus;
use sui_rpc::proto::sui::rpc::v2 as pb;
use tonic::{Request, Response, Status};

use super::{
    MAX_BATCH, checkpoint_proto, executed_proto, mask, object_proto, parse_address, parse_digest,
    timestamp,
};
use crate::Ledger;
use crate::exec::gas::REFERENCE_GAS_PRICE;

/// The answer to a checkpoint the archive no longer holds: NOT_FOUND (a
/// follower must not retry it) naming the oldest one still served.
pub(crate) fn pruned(seq: u64, oldest: u64) -> Status {
    Status::not_found(format!(
        "checkpoint {seq} was pruned; the oldest available checkpoint is {oldest}"
    ))
}

/// LedgerService over a ledger.
pub struct LedgerApi(pub Ledger);

fn not_found(message: String) -> RpcStatus {
    RpcStatus {
        code: tonic::Code::NotFound as i32,
        message,
        details: vec![],
    }
}

fn internal(message: String) -> RpcStatus {
    RpcStatus {
        code: tonic::Code::Internal as i32,
        message,
        details: vec![],
    }
}

fn invalid(message: String) -> RpcStatus {
    RpcStatus {
        code: tonic::Code::InvalidArgument as i32,
        message,
        details: vec![],
    }
}

impl LedgerApi {
    /// A read of the Clock's current version sees the current time: a
    /// stale Clock (idle ledger) is advanced first.
    async fn fresh_clock<'a>(&self, requests: impl IntoIterator<Item = &'a pb::GetObjectRequest>) {
        let ids: Vec<_> = requests
            .into_iter()
            .filter(|r| r.version.is_none())
            .filter_map(|r| r.object_id.as_deref()?.parse().ok())
            .collect();
        if !Ledger::reads_clock(&ids) {
            return;
        }
        let ledger = self.0.clone();
        match tokio::task::spawn_blocking(move || ledger.refresh_clock()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "advancing the Clock for a read failed"),
            Err(e) => tracing::warn!(error = %e, "advancing the Clock for a read panicked"),
        }
    }

    fn get_one(
        &self,
        req: &pb::GetObjectRequest,
        m: &sui_rpc::field::FieldMaskTree,
    ) -> Result<pb::Object, RpcStatus> {
        let id = parse_address("object_id", req.object_id.as_deref())
            .map_err(|s| invalid(s.message().into()))?;
        let state = self.0.state();
        let object = match req.version {
            Some(v) => state
                .object_at(&id, v)
                .map_err(|e| internal(e.to_string()))?,
            None => state.object(&id).cloned(),
        };
        match object {
            Some(o) => Ok(object_proto(&o, m)),
            None => Err(not_found(match req.version {
                Some(v) => format!("object {id} at version {v} not found"),
                None => format!("object {id} not found"),
            })),
        }
    }
}

#[tonic::async_trait]
impl pb::ledger_service_server::LedgerService for LedgerApi {
    async fn get_service_info(
        &self,
        _: Request<pb::GetServiceInfoRequest>,
    ) -> Result<Response<pb::GetServiceInfoResponse>, Status> {
        let state = self.0.state();
        let mut r = pb::GetServiceInfoResponse::default();
        r.chain_id = state.chain_id().map(|d| d.to_string());
        r.chain = Some(self.0.chain_name().to_owned());
        r.epoch = Some(state.epoch());
        if let Some(c) = state.latest_checkpoint() {
            r.checkpoint_height = Some(c.summary.sequence_number);
            r.timestamp = Some(timestamp(c.summary.timestamp_ms));
        }
        let oldest = state
            .oldest_available()
            .map_err(|e| Status::internal(e.to_string()))?;
        r.lowest_available_checkpoint = Some(oldest);
        r.lowest_available_checkpoint_objects = Some(oldest);
        r.server = Some(format!("floe-ledger/{}", env!("CARGO_PKG_VERSION")));
        Ok(Response::new(r))
    }

    async fn get_object(
        &self,
        request: Request<pb::GetObjectRequest>,
    ) -> Result<Response<pb::GetObjectResponse>, Status> {
        let req = request.into_inner();
        let m = mask(req.read_mask.as_ref(), "object_id,version,digest");
        self.fresh_clock([&req]).await;
        match self.get_one(&req, &m) {
            Ok(o) => Ok(Response::new(pb::GetObjectResponse::new(o))),
            Err(s) if s.code == tonic::Code::NotFound as i32 => Err(Status::not_found(s.message)),
            Err(s) if s.code == tonic::Code::Internal as i32 => Err(Status::internal(s.message)),
            Err(s) => Err(Status::invalid_argument(s.message)),
        }
    }

    async fn batch_get_objects(
        &self,
        request: Request<pb::BatchGetObjectsRequest>,
    ) -> Result<Response<pb::BatchGetObjectsResponse>, Status> {
        let req = request.into_inner();
        if req.requests.len() > MAX_BATCH {
            return Err(Status::invalid_argument(format!(
                "at most {MAX_BATCH} objects per batch"
            )));
        }
        let m = mask(req.read_mask.as_ref(), "object_id,version,digest");
        self.fresh_clock(&req.requests).await;
        let results = req
            .requests
            .iter()
            .map(|r| match self.get_one(r, &m) {
                Ok(o) => pb::GetObjectResult::new_object(o),
                Err(e) => pb::GetObjectResult::new_error(e),
            })
            .collect();
        Ok(Response::new(pb::BatchGetObjectsResponse::new(results)))
    }

    async fn get_transaction(
        &self,
        request: Request<pb::GetTransactionRequest>,
    ) -> Result<Response<pb::GetTransactionResponse>, Status> {
        let req = request.into_inner();
        let digest = parse_digest("digest", req.digest.as_deref())?;
        let m = mask(req.read_mask.as_ref(), "digest");
        let state = self.0.state();
        let entry = state
            .transaction(&digest)
            .map_err(|e| Status::internal(e.to_string()))?
            .ok_or_else(|| Status::not_found(format!("transaction {digest} not found")))?;
        Ok(Response::new(pb::GetTransactionResponse::new(
            executed_proto(&state, &entry, &m),
        )))
    }

    async fn batch_get_transactions(
        &self,
        request: Request<pb::BatchGetTransactionsRequest>,
    ) -> Result<Response<pb::BatchGetTransactionsResponse>, Status> {
        let req = request.into_inner();
        if req.digests.len() > MAX_BATCH {
            return Err(Status::invalid_argument(format!(
                "at most {MAX_BATCH} transactions per batch"
            )));
        }
        let m = mask(req.read_mask.as_ref(), "digest");
        let state = self.0.state();
        let results = req
            .digests
            .iter()
            .map(|d| match parse_digest("digest", Some(d)) {
                Err(e) => pb::GetTransactionResult::new_error(invalid(e.message().into())),
                Ok(digest) => match state.transaction(&digest) {
                    Ok(Some(e)) => {
                        pb::GetTransactionResult::new_transaction(executed_proto(&state, &e, &m))
                    }
                    Ok(None) => pb::GetTransactionResult::new_error(not_found(format!(
                        "transaction {digest} not found"
                    ))),
                    Err(e) => pb::GetTransactionResult::new_error(internal(e.to_string())),
                },
            })
            .collect();
        Ok(Response::new(pb::BatchGetTransactionsResponse::new(
            results,
        )))
    }

    async fn get_checkpoint(
        &self,
        request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::GetCheckpointResponse>, Status> {
        use pb::get_checkpoint_request::CheckpointId;
        let req = request.into_inner();
        let m = mask(req.read_mask.as_ref(), "sequence_number,digest");
        let state = self.0.state();
        let internal = |e: crate::StoreError| Status::internal(e.to_string());
        let entry = match &req.checkpoint_id {
            None => state.latest_checkpoint().cloned(),
            Some(CheckpointId::SequenceNumber(s)) => {
                let oldest = state.oldest_available().map_err(internal)?;
                if *s < oldest {
                    return Err(pruned(*s, oldest));
                }
                state.checkpoint(*s).map_err(internal)?
            }
            Some(CheckpointId::Digest(d)) => state
                .checkpoint_by_digest(&parse_digest("digest", Some(d))?)
                .map_err(internal)?,
            Some(_) => return Err(Status::invalid_argument("unknown checkpoint id kind")),
        };
        let entry = entry.ok_or_else(|| {
            let latest = state
                .latest_checkpoint()
                .map(|c| c.summary.sequence_number)
                .unwrap_or(0);
            Status::not_found(format!(
                "checkpoint {:?} not found (latest is {latest})",
                req.checkpoint_id
            ))
        })?;
        Ok(Response::new(pb::GetCheckpointResponse::new(
            checkpoint_proto(&state, self.0.validator(), &entry, &m),
        )))
    }

    async fn get_epoch(
        &self,
        request: Request<pb::GetEpochRequest>,
    ) -> Result<Response<pb::GetEpochResponse>, Status> {
        let req = request.into_inner();
        let state = self.0.state();
        if let Some(e) = req.epoch
            && e != state.epoch()
        {
            return Err(Status::not_found(format!(
                "epoch {e} not found (the devnet is in epoch {})",
                state.epoch()
            )));
        }
        let m = mask(req.read_mask.as_ref(), "epoch");
        let mut e = pb::Epoch::default();
        if m.contains("epoch") {
            e.epoch = Some(state.epoch());
        }
        if m.contains("first_checkpoint") {
            e.first_checkpoint = Some(0);
        }
        if m.contains("start") {
            e.start = Some(timestamp(state.epoch_start_ms()));
        }
        if m.contains("reference_gas_price") {
            e.reference_gas_price = Some(REFERENCE_GAS_PRICE);
        }
        if m.contains("protocol_config") {
            let mut p = pb::ProtocolConfig::default();
            p.protocol_version = Some(super::system_state::PROTOCOL_VERSION);
            e.protocol_config = Some(p);
        }
        if m.contains("committee") {
            e.committee = Some(self.0.validator().committee(state.epoch()).into());
        }
        if let Some(sub) = m.subtree("system_state") {
            e.system_state = Some(Box::new(super::system_state::system_state(&state, &sub)));
        }
        Ok(Response::new(pb::GetEpochResponse::new(e)))
    }

    async fn list_checkpoints(
        &self,
        _: Request<pb::ListCheckpointsRequest>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::ListCheckpointsResponse>>, Status> {
        Err(Status::unimplemented(
            "ListCheckpoints is not served by the floe devnet ledger; use GetCheckpoint",
        ))
    }

    async fn list_transactions(
        &self,
        _: Request<pb::ListTransactionsRequest>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::ListTransactionsResponse>>, Status> {
        Err(Status::unimplemented(
            "ListTransactions is not served by the floe devnet ledger",
        ))
    }

    async fn list_events(
        &self,
        _: Request<pb::ListEventsRequest>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::ListEventsResponse>>, Status> {
        Err(Status::unimplemented(
            "ListEvents is not served by the floe devnet ledger",
        ))
    }
}
