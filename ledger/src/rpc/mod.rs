//! Sui gRPC v2 services over the ledger, and the conversions from ledger
//! state to their messages. Calls not implemented here answer UNIMPLEMENTED
//! (the generated traits' default) with a message naming the call.

mod execution;
mod ledger_service;
mod literal;
mod package_service;
mod resolve;
mod state_service;
mod subscription;
mod system_state;

use std::collections::BTreeMap;

use prost_types::FieldMask;
use sui_rpc::field::FieldMaskTree;
use sui_rpc::merge::Merge;
use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{Address, Digest, Object, Owner};
use tonic::Status;

use crate::Ledger;
use crate::error::TxError;
use crate::state::{CheckpointEntry, State, TxEntry};

pub use execution::ExecutionApi;
pub use ledger_service::LedgerApi;
pub use package_service::PackageApi;
pub use state_service::StateApi;
pub use subscription::SubscriptionApi;

/// Largest page any list call returns, whatever the client asks.
pub const MAX_PAGE: usize = 1000;
/// Page size when the client does not ask.
pub const DEFAULT_PAGE: usize = 50;
/// Most ids one batch call may name.
pub const MAX_BATCH: usize = 1000;

/// All four services, sharing one ledger.
#[derive(Clone)]
pub struct Services {
    pub ledger: Ledger,
    /// Fires on shutdown so open subscription streams end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

impl Services {
    /// The tonic services, ready to add to a router.
    pub fn routes(&self) -> tonic::service::Routes {
        use pb::ledger_service_server::LedgerServiceServer;
        use pb::state_service_server::StateServiceServer;
        use pb::subscription_service_server::SubscriptionServiceServer;
        use pb::transaction_execution_service_server::TransactionExecutionServiceServer;
        let limit = 16 * 1024 * 1024;
        tonic::service::Routes::new(
            LedgerServiceServer::new(LedgerApi(self.ledger.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(StateServiceServer::new(StateApi(self.ledger.clone())))
        .add_service(
            TransactionExecutionServiceServer::new(ExecutionApi(self.ledger.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            pb::move_package_service_server::MovePackageServiceServer::new(PackageApi(
                self.ledger.clone(),
            )),
        )
        .add_service(SubscriptionServiceServer::new(SubscriptionApi(
            self.ledger.clone(),
            self.shutdown.clone(),
        )))
    }
}

/// Parses an address or object id, short forms (`0x2`) included.
pub(crate) fn parse_address(field: &str, s: Option<&str>) -> Result<Address, Status> {
    let s = s.ok_or_else(|| Status::invalid_argument(format!("missing {field}")))?;
    s.parse()
        .map_err(|e| Status::invalid_argument(format!("{field} {s:?} is not a valid address: {e}")))
}

/// Parses a base58 digest.
pub(crate) fn parse_digest(field: &str, s: Option<&str>) -> Result<Digest, Status> {
    let s = s.ok_or_else(|| Status::invalid_argument(format!("missing {field}")))?;
    s.parse()
        .map_err(|e| Status::invalid_argument(format!("{field} {s:?} is not a valid digest: {e}")))
}

/// The request's read mask, or `default` when absent.
pub(crate) fn mask(m: Option<&FieldMask>, default: &str) -> FieldMaskTree {
    match m {
        Some(m) if !m.paths.is_empty() => FieldMaskTree::from_field_mask(m),
        _ => default
            .parse()
            .unwrap_or_else(|_| FieldMaskTree::new_wildcard()),
    }
}

/// Maps a refusal to its gRPC status.
pub(crate) fn tx_status(e: TxError) -> Status {
    let msg = e.to_string();
    match e {
        TxError::Invalid(_) | TxError::Signature(_) => Status::invalid_argument(msg),
        TxError::ObjectNotFound { .. } => Status::not_found(msg),
        TxError::StaleVersion { .. } | TxError::DigestMismatch { .. } | TxError::Gas(_) => {
            Status::failed_precondition(msg)
        }
        TxError::WrongOwner { .. } => Status::permission_denied(msg),
        TxError::Unsupported(_) => Status::unimplemented(msg),
        TxError::Storage(_) => Status::unavailable(msg),
        TxError::FaucetExhausted { .. } => Status::resource_exhausted(msg),
    }
}

/// Coin balance of an object, when it is a coin.
fn coin_balance(object: &Object) -> Option<u64> {
    sui_sdk_types::framework::Coin::try_from_object(object).map(|c| c.balance())
}

/// An object as the API serves it (digest, BCS, contents, balance...).
pub(crate) fn object_proto(object: &Object, mask: &FieldMaskTree) -> pb::Object {
    let mut o = pb::Object::merge_from(object.clone(), mask);
    if mask.contains("balance") {
        o.balance = coin_balance(object);
    }
    o
}

pub(crate) fn timestamp(ms: u64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

/// Per (owner address, coin type) balance deltas of a transaction.
fn balance_changes(entry: &TxEntry) -> Vec<pb::BalanceChange> {
    let mut deltas: BTreeMap<(Address, String), i128> = BTreeMap::new();
    let mut add = |o: &Object, sign: i128| {
        if let (Owner::Address(a), Some(c)) = (
            o.owner(),
            sui_sdk_types::framework::Coin::try_from_object(o),
        ) {
            *deltas.entry((*a, c.coin_type().to_string())).or_default() +=
                sign * c.balance() as i128;
        }
    };
    entry.record.input_objects.iter().for_each(|o| add(o, -1));
    entry.record.output_objects.iter().for_each(|o| add(o, 1));
    deltas
        .into_iter()
        .filter(|(_, d)| *d != 0)
        .map(|((a, t), d)| {
            let mut b = pb::BalanceChange::default();
            b.address = Some(a.to_string());
            b.coin_type = Some(t);
            b.amount = Some(d.to_string());
            b
        })
        .collect()
}

/// An executed transaction, honouring the read mask.
pub(crate) fn executed_proto(
    state: &State,
    entry: &TxEntry,
    mask: &FieldMaskTree,
) -> pb::ExecutedTransaction {
    let mut t = pb::ExecutedTransaction::default();
    let r = &entry.record;
    if mask.contains("digest") {
        t.digest = Some(entry.digest.to_string());
    }
    if let Some(sub) = mask.subtree("transaction") {
        t.transaction = Some(pb::Transaction::merge_from(r.transaction.clone(), &sub));
    }
    if mask.contains("signatures") {
        t.signatures = r.signatures.iter().cloned().map(Into::into).collect();
    }
    if let Some(sub) = mask.subtree("effects") {
        let mut e = pb::TransactionEffects::merge_from(&r.effects, &sub);
        if let (Some(desc), Some(status)) = (&r.error_description, e.status.as_mut())
            && let Some(err) = status.error.as_mut()
        {
            err.description = Some(desc.clone());
        }
        let types: BTreeMap<String, String> = r
            .output_objects
            .iter()
            .chain(&r.input_objects)
            .filter_map(|o| {
                o.as_struct()
                    .map(|s| (o.object_id().to_string(), s.object_type().to_string()))
            })
            .collect();
        for c in e.changed_objects.iter_mut().chain(e.gas_object.as_mut()) {
            if let Some(id) = &c.object_id {
                c.object_type = types.get(id).cloned();
            }
        }
        t.effects = Some(e);
    }
    if let Some(sub) = mask.subtree("events")
        && let Some(events) = &r.events
    {
        t.events = Some(pb::TransactionEvents::merge_from(events.clone(), &sub));
    }
    if mask.contains("checkpoint") {
        t.checkpoint = state.transaction_checkpoint(&entry.digest);
    }
    if mask.contains("timestamp") {
        t.timestamp = Some(timestamp(r.timestamp_ms));
    }
    if mask.contains("balance_changes") {
        t.balance_changes = balance_changes(entry);
    }
    if let Some(sub) = mask.subtree("objects") {
        let sub = sub.subtree("objects").unwrap_or(sub);
        let mut set = pb::ObjectSet::default();
        set.objects = r
            .input_objects
            .iter()
            .chain(&r.output_objects)
            .map(|o| object_proto(o, &sub))
            .collect();
        set.objects
            .sort_by(|a, b| (&a.object_id, a.version).cmp(&(&b.object_id, b.version)));
        t.objects = Some(set);
    }
    t
}

/// A checkpoint, honouring the read mask.
pub(crate) fn checkpoint_proto(
    state: &State,
    validator: &crate::validator::Validator,
    c: &CheckpointEntry,
    mask: &FieldMaskTree,
) -> pb::Checkpoint {
    let mut p = pb::Checkpoint::default();
    if mask.contains("signature") {
        p.signature = Some(validator.certify(&c.summary).into());
    }
    if mask.contains("sequence_number") {
        p.sequence_number = Some(c.summary.sequence_number);
    }
    if mask.contains("digest") {
        p.digest = Some(c.digest.to_string());
    }
    if let Some(sub) = mask.subtree("summary") {
        p.summary = Some(pb::CheckpointSummary::merge_from(c.summary.clone(), &sub));
    }
    if let Some(sub) = mask.subtree("contents") {
        p.contents = Some(pb::CheckpointContents::merge_from(c.contents.clone(), &sub));
    }
    if let Some(sub) = mask.subtree("transactions") {
        p.transactions = c
            .transactions
            .iter()
            .map(|t| executed_proto(state, t, &sub))
            .collect();
    }
    if let Some(sub) = mask.subtree("objects") {
        let sub = sub.subtree("objects").unwrap_or(sub);
        let mut set = pb::ObjectSet::default();
        set.objects = c
            .transactions
            .iter()
            .flat_map(|t| {
                t.record
                    .input_objects
                    .iter()
                    .chain(&t.record.output_objects)
            })
            .map(|o| object_proto(o, &sub))
            .collect();
        set.objects
            .sort_by(|a, b| (&a.object_id, a.version).cmp(&(&b.object_id, b.version)));
        set.objects
            .dedup_by(|a, b| a.object_id == b.object_id && a.version == b.version);
        p.objects = Some(set);
    }
    p
}

/// A page token: the last id served, as 32 raw bytes.
pub(crate) fn page_after(token: Option<&prost::bytes::Bytes>) -> Result<Option<Address>, Status> {
    match token {
        None => Ok(None),
        Some(b) if b.is_empty() => Ok(None),
        Some(b) => Address::from_bytes(b)
            .map(Some)
            .map_err(|_| Status::invalid_argument("malformed page_token")),
    }
}

/// Clamps a requested page size.
pub(crate) fn page_size(requested: Option<u32>) -> usize {
    match requested {
        None | Some(0) => DEFAULT_PAGE,
        Some(n) => (n as usize).min(MAX_PAGE),
    }
}
