//! Metadata, slivers, confirmations and blob status.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use floe_core::encoding::{EncodingAxis, Primary, Secondary, SliverData};
use floe_core::messages::storage_confirmation::Confirmation;
use floe_core::messages::{BlobPersistenceType, SignedMessage};
use floe_core::move_types::ObjectId;
use floe_core::{Axis, BlobId, BlobMetadata, UnverifiedBlobMetadataWithId};
use floe_core::{VerifiedBlobMetadataWithId, pair_to_shard};
use futures::StreamExt;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiError, AppState, bcs_response, success};
use crate::chain_view::CommitteeView;
use crate::pending::PendingSliver;

/// Walrus's `StoredOnNodeStatus`, serialised as Walrus does (camelCase:
/// `"nonexistent"`, `"buffered"`, `"stored"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum StoredOnNodeStatus {
    /// Neither stored nor buffered.
    Nonexistent,
    /// Accepted with `?pending=true`, held in memory until registration.
    Buffered,
    /// Durably stored.
    Stored,
}

pub(super) fn parse_blob_id(text: &str) -> Result<BlobId, ApiError> {
    text.parse()
        .map_err(|e| ApiError::invalid("INVALID_BLOB_ID", format!("{e}")))
}

pub(super) fn parse_axis(text: &str) -> Result<Axis, ApiError> {
    text.parse().map_err(|_| {
        ApiError::invalid(
            "INVALID_SLIVER_TYPE",
            format!("sliver type {text:?} is neither `primary` nor `secondary`"),
        )
    })
}

/// Walrus's `INDEX_OUT_OF_RANGE` for a pair index `>= n`.
pub(super) fn check_index(index: u16, committee: &CommitteeView) -> Result<(), ApiError> {
    if index >= committee.n_shards() {
        return Err(ApiError::index_out_of_range(index, committee.n_shards()));
    }
    Ok(())
}

/// Walrus's `SHARD_NOT_ASSIGNED` (400): the pair's shard is not one this
/// node serves in its current epoch.
fn shard_not_assigned(shard: u16, committee: &CommitteeView) -> ApiError {
    ApiError::precondition(
        "SHARD_NOT_ASSIGNED",
        format!(
            "shard {shard} is not assigned to this node in epoch {}",
            committee.epoch()
        ),
    )
}

/// The shard holding `pair` if this node can serve reads of it (owned, or
/// lost at the last epoch change and kept for its new owner).
fn readable_shard(pair: u16, blob_id: &BlobId, committee: &CommitteeView) -> Result<u16, ApiError> {
    check_index(pair, committee)?;
    let shard = pair_to_shard(pair, blob_id, committee.n_shards());
    if committee.readable_shards().any(|s| s == shard) {
        Ok(shard)
    } else {
        Err(shard_not_assigned(shard, committee))
    }
}

/// Walrus accepts a BCS body without a content type or with
/// `application/octet-stream` (any parameters), and nothing else.
pub(super) fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(http::header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() == Some("application/octet-stream") {
        return Ok(());
    }
    Err(ApiError::bad_body(
        "expected a request with `Content-Type: application/octet-stream`",
    ))
}

/// Reads a request body of at most `limit` bytes. A body announced longer
/// (`Content-Length`) is refused with 413 before a byte is read; one that
/// turns out longer, as soon as it passes the limit.
pub(super) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    what: &str,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            super::error::Class::Transport(StatusCode::PAYLOAD_TOO_LARGE),
            "PAYLOAD_TOO_LARGE",
            format!("{what} is at most {limit} bytes"),
        )
    };
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid("INVALID_REQUEST", e.to_string()))?;
        if out.len() + chunk.len() > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// Upper bound on BCS `BlobMetadata` for `n` shards: a header and two
/// 32-byte hashes (with their tags) per sliver pair.
fn max_metadata_bcs(n: u16) -> usize {
    64 + usize::from(n) * 70
}

/// BCS bytes of one `SliverData` of `axis` for these metadata: the symbols
/// (with their length prefix), the symbol size and the index.
fn sliver_bcs_limit(
    committee: &CommitteeView,
    metadata: &VerifiedBlobMetadataWithId,
    axis: Axis,
) -> Result<usize, ApiError> {
    let config = committee.encoding();
    let symbol_size = metadata
        .symbol_size(config)
        .map_err(|e| ApiError::internal(format!("stored metadata: {e}")))?;
    Ok(config.sliver_len(axis, symbol_size) + 16)
}

/// Stored metadata, or metadata buffered with `pending=true` whose blob has
/// since been registered (persisted now with the blob's pending slivers, so
/// later requests find them).
pub(super) fn metadata_for(
    state: &AppState,
    committee: &CommitteeView,
    blob_id: &BlobId,
) -> Result<Option<VerifiedBlobMetadataWithId>, ApiError> {
    let store = &state.inner.store;
    if let Some(metadata) = store.get_metadata(blob_id, committee.encoding())? {
        return Ok(Some(metadata));
    }
    // A miss is rare (only before the metadata arrive), so it may wait for
    // a promotion in flight, which takes the buffer before it stores it.
    let _promotion = state.promotion_guard();
    if let Some(metadata) = store.get_metadata(blob_id, committee.encoding())? {
        return Ok(Some(metadata));
    }
    if state.inner.pending.contains(blob_id)
        && store.blob_info(blob_id, committee.epoch())?.is_registered()
        && let Some(metadata) = state.inner.pending.take(blob_id)
    {
        store.put_metadata(&metadata)?;
        for sliver in state.inner.pending_slivers.take(blob_id) {
            store.put_sliver_bytes(sliver.shard, sliver.axis, blob_id, &sliver.bcs)?;
        }
        return Ok(Some(metadata));
    }
    Ok(None)
}

pub(super) async fn get_metadata(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let committee = state.inner.chain.committee();
    let metadata = state
        .blocking(move |s| metadata_for(s, &committee, &blob_id))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "METADATA_NOT_FOUND",
                "the requested metadata is unavailable",
            )
        })?;
    Ok(bcs_response(metadata.to_bcs()))
}

#[derive(Debug, Deserialize)]
pub(super) struct PendingQuery {
    #[serde(default)]
    pending: bool,
}

pub(super) async fn put_metadata(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
    Query(query): Query<PendingQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    check_content_type(&headers)?;
    let committee = state.inner.chain.committee();
    let limit = max_metadata_bcs(committee.n_shards());
    let body = read_body(&headers, body, limit, "blob metadata").await?;
    let metadata: BlobMetadata = bcs::from_bytes(&body).map_err(|e| {
        ApiError::bad_body(format!("unable to decode the body as BCS metadata: {e}"))
    })?;
    state
        .blocking(move |s| {
            let verified = UnverifiedBlobMetadataWithId { blob_id, metadata }
                .verify(committee.encoding())
                .map_err(|e| {
                    ApiError::invalid(
                        "INVALID_METADATA",
                        format!("the provided metadata failed to verify: {e}"),
                    )
                })?;
            let store = &s.inner.store;
            let info = store.blob_info(&blob_id, committee.epoch())?;
            if info.invalid_epoch.is_some() {
                return Err(ApiError::precondition(
                    "INVALID_BLOB",
                    "the blob for this metadata is invalid",
                ));
            }
            if store.has_metadata(&blob_id)? {
                return Ok(success(StatusCode::OK, "metadata already stored"));
            }
            if info.is_registered() {
                store.put_metadata(&verified)?;
                return Ok(success(StatusCode::CREATED, "metadata successfully stored"));
            }
            if !query.pending {
                return Err(ApiError::not_registered());
            }
            if s.inner.pending.insert(verified) {
                return Ok(success(
                    StatusCode::ACCEPTED,
                    "metadata buffered pending registration",
                ));
            }
            Err(ApiError::cache_saturated())
        })
        .await
}

pub(super) async fn metadata_status(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let stored = state
        .blocking(move |s| Ok(s.inner.store.has_metadata(&blob_id)?))
        .await?;
    let status = if stored {
        StoredOnNodeStatus::Stored
    } else if state.inner.pending.contains(&blob_id) {
        StoredOnNodeStatus::Buffered
    } else {
        StoredOnNodeStatus::Nonexistent
    };
    Ok(success(StatusCode::OK, status))
}

/// What a sliver upload is checked against, decided from the route and
/// the node's state before the body is read.
enum Target {
    /// The sliver is stored already: the upload is verified against these
    /// metadata (garbage is still refused) and then a no-op (200).
    AlreadyStored(VerifiedBlobMetadataWithId),
    /// Verify against stored metadata, then store (201).
    Store(VerifiedBlobMetadataWithId),
    /// Verify against metadata buffered with `?pending=true`, then buffer
    /// (202).
    Buffer(VerifiedBlobMetadataWithId),
}

/// Walrus's order: registration (unless buffering), then metadata.
fn upload_target(
    state: &AppState,
    committee: &CommitteeView,
    blob_id: &BlobId,
    shard: u16,
    axis: Axis,
    pending: bool,
) -> Result<Target, ApiError> {
    let store = &state.inner.store;
    if !pending && !store.blob_info(blob_id, committee.epoch())?.is_registered() {
        return Err(ApiError::not_registered());
    }
    if let Some(metadata) = metadata_for(state, committee, blob_id)? {
        if store.has_sliver(shard, axis, blob_id)? {
            return Ok(Target::AlreadyStored(metadata));
        }
        return Ok(Target::Store(metadata));
    }
    if pending && let Some(metadata) = state.inner.pending.get(blob_id) {
        return Ok(Target::Buffer(metadata));
    }
    // The buffer may have been promoted between the two lookups.
    match metadata_for(state, committee, blob_id)? {
        Some(metadata) => Ok(Target::Store(metadata)),
        None => Err(ApiError::precondition(
            "METADATA_NOT_FOUND",
            "blob metadata is required but missing (store them, or buffer them with \
             ?pending=true, first)",
        )),
    }
}

/// Verifies an uploaded sliver against `target`'s metadata and stores or
/// buffers it.
fn accept_sliver<A: EncodingAxis>(
    state: &AppState,
    committee: &CommitteeView,
    blob_id: &BlobId,
    pair: u16,
    shard: u16,
    body: &[u8],
    target: Target,
) -> Result<StatusCode, ApiError> {
    let (metadata, stored, already) = match target {
        Target::AlreadyStored(metadata) => (metadata, true, true),
        Target::Store(metadata) => (metadata, true, false),
        Target::Buffer(metadata) => (metadata, false, false),
    };
    let sliver = SliverData::<A>::from_bcs(body)
        .map_err(|e| ApiError::bad_body(format!("unable to decode the body as BCS: {e}")))?;
    let n = committee.n_shards();
    let expected = match A::AXIS {
        Axis::Primary => pair,
        Axis::Secondary => n - 1 - pair,
    };
    if sliver.index() != expected {
        return Err(ApiError::invalid(
            "INVALID_SLIVER",
            format!(
                "the provided sliver is invalid: {} sliver {} does not belong to pair {pair} \
                 (expected index {expected})",
                A::AXIS,
                sliver.index()
            ),
        ));
    }
    sliver
        .verify(committee.encoding(), &metadata)
        .map_err(|e| {
            ApiError::invalid(
                "INVALID_SLIVER",
                format!("the provided sliver is invalid: {e}"),
            )
        })?;
    if already {
        return Ok(StatusCode::OK);
    }
    if stored {
        state
            .inner
            .store
            .put_sliver_bytes(shard, A::AXIS, blob_id, &sliver.to_bcs())?;
        return Ok(StatusCode::CREATED);
    }
    // Buffer it, unless the blob's buffer was promoted since the lookup
    // above: then the sliver goes straight to the store, as the flush that
    // already ran would not pick it up.
    let _promotion = state.promotion_guard();
    if state
        .inner
        .store
        .get_metadata(blob_id, committee.encoding())?
        .is_some()
    {
        state
            .inner
            .store
            .put_sliver_bytes(shard, A::AXIS, blob_id, &sliver.to_bcs())?;
        return Ok(StatusCode::CREATED);
    }
    let buffered = state.inner.pending_slivers.insert(
        *blob_id,
        PendingSliver {
            shard,
            axis: A::AXIS,
            bcs: sliver.to_bcs(),
        },
    );
    if !buffered {
        return Err(ApiError::cache_saturated());
    }
    Ok(StatusCode::ACCEPTED)
}

/// A sliver upload is checked against everything the route and the node's
/// state decide (blob id, sliver type, pair index, shard ownership,
/// registration, metadata, size implied by the metadata) before a byte of
/// the body is read, so a rejected upload costs no buffering.
pub(super) async fn put_sliver(
    State(state): State<AppState>,
    Path((blob_id, pair, sliver_type)): Path<(String, u16, String)>,
    Query(query): Query<PendingQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let axis = parse_axis(&sliver_type)?;
    let committee = state.inner.chain.committee();
    check_index(pair, &committee)?;
    let shard = committee
        .owned_shard_for_pair(pair, &blob_id)
        .ok_or_else(|| {
            shard_not_assigned(
                pair_to_shard(pair, &blob_id, committee.n_shards()),
                &committee,
            )
        })?;
    check_content_type(&headers)?;
    let pending = query.pending;
    let view = committee.clone();
    let target = state
        .blocking(move |s| upload_target(s, &view, &blob_id, shard, axis, pending))
        .await?;
    let limit = match &target {
        Target::AlreadyStored(m) | Target::Store(m) | Target::Buffer(m) => {
            sliver_bcs_limit(&committee, m, axis)?
        }
    };
    let body = read_body(&headers, body, limit, "a sliver of this blob").await?;
    let status = state
        .blocking(move |s| match axis {
            Axis::Primary => {
                accept_sliver::<Primary>(s, &committee, &blob_id, pair, shard, &body, target)
            }
            Axis::Secondary => {
                accept_sliver::<Secondary>(s, &committee, &blob_id, pair, shard, &body, target)
            }
        })
        .await?;
    let message = match status {
        StatusCode::OK => "sliver already stored",
        StatusCode::CREATED => "sliver stored successfully",
        _ => "sliver buffered pending registration",
    };
    Ok(success(status, message))
}

pub(super) async fn get_sliver(
    State(state): State<AppState>,
    Path((blob_id, pair, sliver_type)): Path<(String, u16, String)>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let axis = parse_axis(&sliver_type)?;
    let committee = state.inner.chain.committee();
    let shard = readable_shard(pair, &blob_id, &committee)?;
    let bytes = state
        .blocking(move |s| {
            let store = &s.inner.store;
            if let Some(bytes) = store.get_sliver_bytes(shard, axis, &blob_id)? {
                return Ok(Some(bytes));
            }
            // Buffered metadata and slivers of a now-registered blob are
            // flushed on first use; a read is a use.
            metadata_for(s, &committee, &blob_id)?;
            Ok(store.get_sliver_bytes(shard, axis, &blob_id)?)
        })
        .await?
        .ok_or_else(|| {
            ApiError::not_found("SLIVER_NOT_FOUND", "the requested sliver is unavailable")
        })?;
    Ok(bcs_response(bytes))
}

pub(super) async fn sliver_status(
    State(state): State<AppState>,
    Path((blob_id, pair, sliver_type)): Path<(String, u16, String)>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let axis = parse_axis(&sliver_type)?;
    let committee = state.inner.chain.committee();
    let shard = readable_shard(pair, &blob_id, &committee)?;
    let stored = state
        .blocking(move |s| Ok(s.inner.store.has_sliver(shard, axis, &blob_id)?))
        .await?;
    let status = if stored {
        StoredOnNodeStatus::Stored
    } else if state.inner.pending_slivers.contains(&blob_id, shard, axis) {
        StoredOnNodeStatus::Buffered
    } else {
        StoredOnNodeStatus::Nonexistent
    };
    Ok(success(StatusCode::OK, status))
}

/// Signs a confirmation once metadata and both slivers of every owned
/// shard are stored.
fn confirm(
    state: &AppState,
    committee: &Arc<CommitteeView>,
    blob_id: &BlobId,
    blob_type: BlobPersistenceType,
) -> Result<Response, ApiError> {
    let store = &state.inner.store;
    let epoch = committee.epoch();
    // Walrus confirms only a currently registered blob; an invalid blob is
    // not one.
    if !is_registered_for(state, blob_id, blob_type)? {
        return Err(ApiError::not_registered());
    }
    let missing = |what: String| {
        ApiError::precondition(
            "MISSING_SLIVERS",
            format!("the required slivers are not all stored: {what}"),
        )
    };
    if metadata_for(state, committee, blob_id)?.is_none() {
        return Err(missing("metadata are not stored".to_owned()));
    }
    let n = committee.n_shards();
    for &shard in committee.owned_shards() {
        for axis in [Axis::Primary, Axis::Secondary] {
            if !store.has_sliver(shard, axis, blob_id)? {
                let pair = floe_core::shard_to_pair(shard, blob_id, n);
                return Err(missing(format!(
                    "{axis} sliver of pair {pair} (shard {shard})"
                )));
            }
        }
    }
    let message = Confirmation::confirmation(epoch, *blob_id, blob_type);
    let signed = SignedMessage::sign(&state.inner.key, &message);
    Ok(success(StatusCode::OK, json!({ "signed": signed })))
}

/// Walrus's confirmation query: with `wait_for_registration=true` the
/// node waits (at most `wait_millis`, capped by
/// `limits.max_registration_wait_ms`) for the registration event of the
/// blob (or of the deletable object) before answering, so a client that
/// registered and uploaded at once does not have to poll.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) struct ConfirmationQuery {
    wait_for_registration: Option<bool>,
    wait_millis: Option<u64>,
}

fn is_registered_for(
    state: &AppState,
    blob_id: &BlobId,
    blob_type: BlobPersistenceType,
) -> Result<bool, ApiError> {
    let epoch = state.inner.chain.committee().epoch();
    let store = &state.inner.store;
    let info = store.blob_info(blob_id, epoch)?;
    if info.invalid_epoch.is_some() {
        return Ok(false);
    }
    Ok(match blob_type {
        BlobPersistenceType::Permanent => info.permanent.total > 0,
        BlobPersistenceType::Deletable { object_id } => store
            .blob_object(blob_id, &object_id)?
            .is_some_and(|o| o.deletable && !o.deleted && o.end_epoch > epoch),
    })
}

/// Waits for the registration event if the query asks for it (bounded);
/// returns without error on timeout (the confirmation then reports what is
/// missing).
async fn wait_for_registration(
    state: &AppState,
    blob_id: BlobId,
    blob_type: BlobPersistenceType,
    query: &ConfirmationQuery,
) -> Result<(), ApiError> {
    if query.wait_for_registration != Some(true) {
        return Ok(());
    }
    let max = state.inner.limits.max_registration_wait_ms;
    let wait = query.wait_millis.unwrap_or(max).min(max);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(wait);
    let mut applied = state.inner.applied.subscribe();
    loop {
        applied.mark_unchanged();
        if state
            .blocking(move |s| is_registered_for(s, &blob_id, blob_type))
            .await?
        {
            return Ok(());
        }
        match tokio::time::timeout_at(deadline, applied.changed()).await {
            Ok(Ok(())) => continue,
            Ok(Err(_)) | Err(_) => return Ok(()),
        }
    }
}

pub(super) async fn confirm_permanent(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
    Query(query): Query<ConfirmationQuery>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    wait_for_registration(&state, blob_id, BlobPersistenceType::Permanent, &query).await?;
    let committee = state.inner.chain.committee();
    state
        .blocking(move |s| confirm(s, &committee, &blob_id, BlobPersistenceType::Permanent))
        .await
}

pub(super) async fn confirm_deletable(
    State(state): State<AppState>,
    Path((blob_id, object_id)): Path<(String, String)>,
    Query(query): Query<ConfirmationQuery>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let object_id: ObjectId = object_id
        .parse()
        .map_err(|e| ApiError::invalid("INVALID_OBJECT_ID", format!("{e}")))?;
    wait_for_registration(
        &state,
        blob_id,
        BlobPersistenceType::Deletable { object_id },
        &query,
    )
    .await?;
    let committee = state.inner.chain.committee();
    state
        .blocking(move |s| {
            confirm(
                s,
                &committee,
                &blob_id,
                BlobPersistenceType::Deletable { object_id },
            )
        })
        .await
}

/// Walrus's `BlobStatus` in JSON, field for field (`DeletableCounts` keeps
/// Walrus's snake_case names). `statusEvent` and `event` are Sui `EventID`s
/// (`{"txDigest", "eventSeq"}`) of the events the node applied (the
/// follower writes each object record and its event in one batch).
pub(super) async fn blob_status(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let epoch = state.inner.chain.committee().epoch();
    let info = state
        .blocking(move |s| Ok(s.inner.store.blob_info(&blob_id, epoch)?))
        .await?;
    let event = |e: Option<crate::events::EventId>| e.map_or(Value::Null, |e| e.to_json());
    let counts = json!({
        "count_deletable_total": info.deletable.total,
        "count_deletable_certified": info.deletable.certified,
    });
    let status = if info.invalid_epoch.is_some() {
        json!({"invalid": {"event": event(info.invalid_event)}})
    } else if info.permanent.total > 0 {
        json!({"permanent": {
            "endEpoch": info.permanent.end_epoch,
            "isCertified": info.permanent.certified > 0,
            "statusEvent": event(info.status_event),
            "deletableCounts": counts,
            "initialCertifiedEpoch": info.initial_certified_epoch,
        }})
    } else if info.deletable.total > 0 {
        json!({"deletable": {
            "initialCertifiedEpoch": info.initial_certified_epoch,
            "deletableCounts": counts,
        }})
    } else {
        json!("nonexistent")
    };
    Ok(success(StatusCode::OK, status))
}
