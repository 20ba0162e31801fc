//! Metadata, slivers, confirmations and blob status.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use floe_core::encoding::{EncodingAxis, Primary, Secondary, SliverView};
use floe_core::messages::BlobPersistenceType;
use floe_core::move_types::ObjectId;
use floe_core::{Axis, BlobId, BlobMetadata, UnverifiedBlobMetadataWithId};
use floe_core::{VerifiedBlobMetadataWithId, pair_to_shard};
use futures::StreamExt;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiError, AppState, bcs_response, success};
use crate::chain_view::CommitteeView;
use crate::context::{ConfirmError, MetadataUpload, SliverUpload, UploadError};

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
    // Sized once from the announced length (bounded by `limit`), so a
    // multi-MiB sliver is not copied again at every doubling.
    let mut out = Vec::with_capacity(announced.map_or(0, |len| len.min(limit as u64) as usize));
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

/// The answer to an upload the context refused.
impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Store(e) => e.into(),
            UploadError::NotRegistered => ApiError::not_registered(),
            UploadError::InvalidBlob => {
                ApiError::precondition("INVALID_BLOB", "the blob for this metadata is invalid")
            }
            UploadError::CacheSaturated => ApiError::cache_saturated(),
            UploadError::MetadataMissing => ApiError::precondition(
                "METADATA_NOT_FOUND",
                "blob metadata is required but missing (store them, or buffer them with \
                 ?pending=true, first)",
            ),
        }
    }
}

impl From<ConfirmError> for ApiError {
    fn from(e: ConfirmError) -> Self {
        match e {
            ConfirmError::Store(e) => e.into(),
            ConfirmError::NotRegistered => ApiError::not_registered(),
            ConfirmError::Missing(what) => ApiError::precondition(
                "MISSING_SLIVERS",
                format!("the required slivers are not all stored: {what}"),
            ),
        }
    }
}

pub(super) async fn get_metadata(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let committee = state.ctx.chain().committee();
    let metadata = state
        .blocking(move |ctx| Ok(ctx.stored_metadata(&committee, &blob_id)?))
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
    let committee = state.ctx.chain().committee();
    let limit = max_metadata_bcs(committee.n_shards());
    let body = read_body(&headers, body, limit, "blob metadata").await?;
    let metadata: BlobMetadata = bcs::from_bytes(&body).map_err(|e| {
        ApiError::bad_body(format!("unable to decode the body as BCS metadata: {e}"))
    })?;
    let uploaded = state
        .blocking(move |ctx| {
            let verified = UnverifiedBlobMetadataWithId { blob_id, metadata }
                .verify(committee.encoding())
                .map_err(|e| {
                    ApiError::invalid(
                        "INVALID_METADATA",
                        format!("the provided metadata failed to verify: {e}"),
                    )
                })?;
            Ok(ctx.accept_metadata(&committee, verified, query.pending)?)
        })
        .await?;
    Ok(match uploaded {
        MetadataUpload::AlreadyStored => success(StatusCode::OK, "metadata already stored"),
        MetadataUpload::Stored => success(StatusCode::CREATED, "metadata successfully stored"),
        MetadataUpload::Buffered => success(
            StatusCode::ACCEPTED,
            "metadata buffered pending registration",
        ),
    })
}

pub(super) async fn metadata_status(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let stored = state
        .blocking(move |ctx| Ok(ctx.store().has_metadata(&blob_id)?))
        .await?;
    let status = if stored {
        StoredOnNodeStatus::Stored
    } else if state.ctx.metadata_buffered(&blob_id) {
        StoredOnNodeStatus::Buffered
    } else {
        StoredOnNodeStatus::Nonexistent
    };
    Ok(success(StatusCode::OK, status))
}

/// Decodes an uploaded sliver and checks it belongs to `pair` and
/// verifies against `metadata`; returns its canonical bytes: the body
/// itself, since BCS has one encoding per value (the decoder refuses
/// trailing bytes and non-minimal lengths), so re-encoding the parsed
/// sliver would only copy it.
fn verify_sliver<A: EncodingAxis>(
    committee: &CommitteeView,
    metadata: &VerifiedBlobMetadataWithId,
    pair: u16,
    body: Bytes,
) -> Result<Vec<u8>, ApiError> {
    // Parsed where it lies: copying the symbols out of the body would copy
    // every uploaded byte once more.
    let sliver = SliverView::<A>::from_bcs(&body)
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
    sliver.verify(committee.encoding(), metadata).map_err(|e| {
        ApiError::invalid(
            "INVALID_SLIVER",
            format!("the provided sliver is invalid: {e}"),
        )
    })?;
    Ok(Vec::from(body))
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
    let committee = state.ctx.chain().committee();
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
        .blocking(move |ctx| Ok(ctx.sliver_target(&view, &blob_id, shard, axis, pending)?))
        .await?;
    let limit = sliver_bcs_limit(&committee, target.metadata(), axis)?;
    let body = read_body(&headers, body, limit, "a sliver of this blob").await?;
    // Hashing on the CPU pool, storing (which waits for the group commit's
    // fsync) on the blocking pool.
    let (bcs, target) = state
        .cpu(move || {
            let metadata = target.metadata();
            let bcs = match axis {
                Axis::Primary => verify_sliver::<Primary>(&committee, metadata, pair, body)?,
                Axis::Secondary => verify_sliver::<Secondary>(&committee, metadata, pair, body)?,
            };
            Ok((bcs, target))
        })
        .await?;
    let uploaded = state
        .blocking(move |ctx| Ok(ctx.accept_sliver(&blob_id, shard, axis, bcs, &target)?))
        .await?;
    let (status, message) = match uploaded {
        SliverUpload::AlreadyStored => (StatusCode::OK, "sliver already stored"),
        SliverUpload::Stored => (StatusCode::CREATED, "sliver stored successfully"),
        SliverUpload::Buffered => (StatusCode::ACCEPTED, "sliver buffered pending registration"),
    };
    Ok(success(status, message))
}

pub(super) async fn get_sliver(
    State(state): State<AppState>,
    Path((blob_id, pair, sliver_type)): Path<(String, u16, String)>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let axis = parse_axis(&sliver_type)?;
    let committee = state.ctx.chain().committee();
    let shard = readable_shard(pair, &blob_id, &committee)?;
    // Only the store: buffered slivers are not served (and a read never
    // moves them into the store; the follower does, see `context`).
    let bytes = state
        .blocking(move |ctx| Ok(ctx.store().get_sliver_bytes(shard, axis, &blob_id)?))
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
    let committee = state.ctx.chain().committee();
    let shard = readable_shard(pair, &blob_id, &committee)?;
    let stored = state
        .blocking(move |ctx| Ok(ctx.store().has_sliver(shard, axis, &blob_id)?))
        .await?;
    let status = if stored {
        StoredOnNodeStatus::Stored
    } else if state.ctx.sliver_buffered(&blob_id, shard, axis) {
        StoredOnNodeStatus::Buffered
    } else {
        StoredOnNodeStatus::Nonexistent
    };
    Ok(success(StatusCode::OK, status))
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

/// Waits for the registration event if the query asks for it (bounded),
/// and for the uploads buffered before it to be stored
/// ([`crate::context::NodeContext::registration_settled`]); returns without error on
/// timeout (the confirmation then reports what is missing).
async fn wait_for_registration(
    state: &AppState,
    blob_id: BlobId,
    blob_type: BlobPersistenceType,
    query: &ConfirmationQuery,
) -> Result<(), ApiError> {
    if query.wait_for_registration != Some(true) {
        return Ok(());
    }
    let max = state.limits.max_registration_wait_ms;
    let wait = query.wait_millis.unwrap_or(max).min(max);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(wait);
    let mut applied = state.ctx.watch_applied();
    loop {
        applied.mark_unchanged();
        if state
            .blocking(move |ctx| Ok(ctx.registration_settled(&blob_id, blob_type)?))
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
    let committee = state.ctx.chain().committee();
    confirm(&state, committee, blob_id, BlobPersistenceType::Permanent).await
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
    let committee = state.ctx.chain().committee();
    let blob_type = BlobPersistenceType::Deletable { object_id };
    confirm(&state, committee, blob_id, blob_type).await
}

/// The node context's signed confirmation, as Walrus's JSON.
async fn confirm(
    state: &AppState,
    committee: Arc<CommitteeView>,
    blob_id: BlobId,
    blob_type: BlobPersistenceType,
) -> Result<Response, ApiError> {
    let signed = state
        .blocking(move |ctx| Ok(ctx.confirm(&committee, &blob_id, blob_type)?))
        .await?;
    Ok(success(StatusCode::OK, json!({ "signed": signed })))
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
    let epoch = state.ctx.chain().committee().epoch();
    let info = state
        .blocking(move |ctx| Ok(ctx.store().blob_info(&blob_id, epoch)?))
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
