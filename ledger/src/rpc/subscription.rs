//! `sui.rpc.v2.SubscriptionService`: SubscribeCheckpoints.
//!
//! A subscriber starts at the latest sealed checkpoint and then receives
//! every later one, in order and without gaps: the stream follows a
//! "latest sequence" watch and reads each checkpoint from the state, so a
//! slow subscriber falls behind (bounded by a small channel) instead of
//! skipping checkpoints or buffering without limit.

use sui_rpc::proto::sui::rpc::v2 as pb;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status};

use super::{checkpoint_proto, mask};
use crate::Ledger;

/// Checkpoints buffered per subscriber.
const BUFFER: usize = 16;

/// SubscriptionService over a ledger; streams end when `shutdown` fires.
pub struct SubscriptionApi(pub Ledger, pub watch::Receiver<bool>);

#[tonic::async_trait]
impl pb::subscription_service_server::SubscriptionService for SubscriptionApi {
    async fn subscribe_checkpoints(
        &self,
        request: Request<pb::SubscribeCheckpointsRequest>,
    ) -> Result<Response<BoxStream<pb::SubscribeCheckpointsResponse>>, Status> {
        let req = request.into_inner();
        if req.filter.is_some() {
            return Err(Status::unimplemented(
                "checkpoint subscription filters are not supported by the floe devnet ledger",
            ));
        }
        let m = mask(req.read_mask.as_ref(), "sequence_number,digest");
        let mut latest = self.0.subscribe();
        let mut shutdown = self.1.clone();
        let ledger = self.0.clone();
        let (tx, rx) = mpsc::channel(BUFFER);
        let mut next = *latest.borrow_and_update();
        tokio::spawn(async move {
            loop {
                let head = *latest.borrow_and_update();
                while next <= head {
                    let frame = {
                        let state = ledger.state();
                        state.checkpoint(next).map(|c| {
                            c.map(|c| {
                                let mut r = pb::SubscribeCheckpointsResponse::default();
                                r.cursor = Some(next);
                                r.checkpoint =
                                    Some(checkpoint_proto(&state, ledger.validator(), &c, &m));
                                r
                            })
                        })
                    };
                    let frame = match frame {
                        Ok(frame) => frame,
                        Err(e) => {
                            let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                            return;
                        }
                    };
                    let Some(frame) = frame else { break };
                    tokio::select! {
                        sent = tx.send(Ok(frame)) => if sent.is_err() { return },
                        _ = shutdown.changed() => return,
                    }
                    next += 1;
                }
                tokio::select! {
                    changed = latest.changed() => if changed.is_err() { return },
                    _ = shutdown.changed() => return,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn subscribe_transactions(
        &self,
        _: Request<pb::SubscribeTransactionsRequest>,
    ) -> Result<Response<BoxStream<pb::SubscribeTransactionsResponse>>, Status> {
        Err(Status::unimplemented(
            "SubscribeTransactions is not served by the floe devnet ledger; use SubscribeCheckpoints",
        ))
    }

    async fn subscribe_events(
        &self,
        _: Request<pb::SubscribeEventsRequest>,
    ) -> Result<Response<BoxStream<pb::SubscribeEventsResponse>>, Status> {
        Err(Status::unimplemented(
            "SubscribeEvents is not served by the floe devnet ledger; use SubscribeCheckpoints",
        ))
    }
}
