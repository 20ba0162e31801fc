//! Metadata, slivers, confirmations and blob status.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use floe_core::encoding::{EncodingAxis, Primary, Secondary, SliverData};
use floe_core::messages::storage_confirmation::Confirmation;
use floe_core::messages::{BlobPersistenceType, SignedMessage};
use floe_core::move_types::ObjectId;
use floe_core::{Axis, BlobId, BlobMetadata, UnverifiedBlobMetadataWithId};
use floe_core::{VerifiedBlobMetadataWithId, pair_to_shard};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState, bcs_response, success};
use crate::chain_view::CommitteeView;
use crate::pending::PendingSliver;

pub(super) fn parse_blob_id(text: &str) -> Result<BlobId, ApiError> {
    text.parse()
        .map_err(|e| ApiError::bad_request("INVALID_BLOB_ID", format!("{e}")))
}

pub(super) fn parse_axis(text: &str) -> Result<Axis, ApiError> {
    text.parse().map_err(|_| {
        ApiError::bad_request(
            "INVALID_SLIVER_TYPE",
            format!("sliver type {text:?} is neither `primary` nor `secondary`"),
        )
    })
}

fn check_pair(pair: u16, committee: &CommitteeView) -> Result<(), ApiError> {
    if pair >= committee.n_shards() {
        return Err(ApiError::bad_request(
            "INVALID_SLIVER_PAIR_INDEX",
            format!(
                "sliver pair {pair} is out of range for {} shards",
                committee.n_shards()
            ),
        ));
    }
    Ok(())
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
        .ok_or_else(|| ApiError::not_found("METADATA_NOT_FOUND", "no metadata for this blob"))?;
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
    body: Bytes,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let metadata: BlobMetadata = bcs::from_bytes(&body).map_err(|e| {
        ApiError::bad_request("INVALID_METADATA", format!("not BCS BlobMetadata: {e}"))
    })?;
    let committee = state.inner.chain.committee();
    state
        .blocking(move |s| {
            let verified = UnverifiedBlobMetadataWithId { blob_id, metadata }
                .verify(committee.encoding())
                .map_err(|e| ApiError::bad_request("INVALID_METADATA", e.to_string()))?;
            let store = &s.inner.store;
            let info = store.blob_info(&blob_id, committee.epoch())?;
            if info.invalid_epoch.is_some() {
                return Err(ApiError::conflict(
                    "BLOB_INVALID",
                    "the blob was marked invalid",
                ));
            }
            if store.has_metadata(&blob_id)? {
                return Ok(success(StatusCode::OK, "metadata already stored"));
            }
            if info.is_registered() {
                store.put_metadata(&verified)?;
                return Ok(success(StatusCode::CREATED, "metadata stored"));
            }
            if query.pending {
                if s.inner.pending.insert(verified) {
                    return Ok(success(
                        StatusCode::ACCEPTED,
                        "metadata buffered until registration",
                    ));
                }
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "PENDING_CACHE_FULL",
                    "the pending-metadata cache cannot take these metadata",
                ));
            }
            Err(ApiError::conflict(
                "BLOB_NOT_REGISTERED",
                "the blob is not registered (retry with ?pending=true to buffer)",
            ))
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
    Ok(success(
        StatusCode::OK,
        if stored { "stored" } else { "nonexistent" },
    ))
}

fn accept_sliver<A: EncodingAxis>(
    state: &AppState,
    committee: &CommitteeView,
    blob_id: &BlobId,
    pair: u16,
    shard: u16,
    body: &[u8],
    pending: bool,
) -> Result<StatusCode, ApiError> {
    let sliver = SliverData::<A>::from_bcs(body)
        .map_err(|e| ApiError::bad_request("INVALID_SLIVER", format!("not BCS SliverData: {e}")))?;
    let n = committee.n_shards();
    let expected = match A::AXIS {
        Axis::Primary => pair,
        Axis::Secondary => n - 1 - pair,
    };
    if sliver.index() != expected {
        return Err(ApiError::bad_request(
            "SLIVER_INDEX_MISMATCH",
            format!(
                "{} sliver {} does not belong to pair {pair} (expected index {expected})",
                A::AXIS,
                sliver.index()
            ),
        ));
    }
    let (metadata, stored) = match metadata_for(state, committee, blob_id)? {
        Some(metadata) => (metadata, true),
        None => match state.inner.pending.get(blob_id).filter(|_| pending) {
            Some(metadata) => (metadata, false),
            // The buffer may have been promoted between the two lookups.
            None => match metadata_for(state, committee, blob_id)? {
                Some(metadata) => (metadata, true),
                None => {
                    return Err(ApiError::conflict(
                        "METADATA_NOT_STORED",
                        "store the blob's metadata (or buffer them with ?pending=true) first",
                    ));
                }
            },
        },
    };
    sliver
        .verify(committee.encoding(), &metadata)
        .map_err(|e| ApiError::bad_request("SLIVER_VERIFICATION_FAILED", e.to_string()))?;
    if stored {
        state
            .inner
            .store
            .put_sliver_bytes(shard, A::AXIS, blob_id, &sliver.to_bcs())?;
        return Ok(StatusCode::OK);
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
        return Ok(StatusCode::OK);
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
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "PENDING_CACHE_FULL",
            "the pending-sliver cache cannot take this sliver",
        ));
    }
    Ok(StatusCode::ACCEPTED)
}

pub(super) async fn put_sliver(
    State(state): State<AppState>,
    Path((blob_id, pair, sliver_type)): Path<(String, u16, String)>,
    Query(query): Query<PendingQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let axis = parse_axis(&sliver_type)?;
    let committee = state.inner.chain.committee();
    check_pair(pair, &committee)?;
    let shard = committee.owned_shard_for_pair(pair, &blob_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "SHARD_NOT_ASSIGNED",
            format!(
                "pair {pair} of this blob is on shard {}, which this node does not own in epoch {}",
                pair_to_shard(pair, &blob_id, committee.n_shards()),
                committee.epoch()
            ),
        )
    })?;
    let pending = query.pending;
    let status = state
        .blocking(move |s| match axis {
            Axis::Primary => {
                accept_sliver::<Primary>(s, &committee, &blob_id, pair, shard, &body, pending)
            }
            Axis::Secondary => {
                accept_sliver::<Secondary>(s, &committee, &blob_id, pair, shard, &body, pending)
            }
        })
        .await?;
    let message = if status == StatusCode::OK {
        "sliver stored"
    } else {
        "sliver buffered until registration"
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
    check_pair(pair, &committee)?;
    let shard = pair_to_shard(pair, &blob_id, committee.n_shards());
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
        .ok_or_else(|| ApiError::not_found("SLIVER_NOT_FOUND", "sliver not stored on this node"))?;
    Ok(bcs_response(bytes))
}

pub(super) async fn sliver_status(
    State(state): State<AppState>,
    Path((blob_id, pair, sliver_type)): Path<(String, u16, String)>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let axis = parse_axis(&sliver_type)?;
    let committee = state.inner.chain.committee();
    check_pair(pair, &committee)?;
    let shard = pair_to_shard(pair, &blob_id, committee.n_shards());
    let stored = state
        .blocking(move |s| Ok(s.inner.store.has_sliver(shard, axis, &blob_id)?))
        .await?;
    Ok(success(
        StatusCode::OK,
        if stored { "stored" } else { "nonexistent" },
    ))
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
    let info = store.blob_info(blob_id, epoch)?;
    if info.invalid_epoch.is_some() {
        return Err(ApiError::conflict(
            "BLOB_INVALID",
            "the blob was marked invalid",
        ));
    }
    match blob_type {
        BlobPersistenceType::Permanent if info.permanent.total == 0 => {
            return Err(ApiError::conflict(
                "BLOB_NOT_REGISTERED",
                "no live permanent blob object is registered for this blob",
            ));
        }
        BlobPersistenceType::Deletable { object_id } => {
            let live = store
                .blob_object(blob_id, &object_id)?
                .is_some_and(|o| o.deletable && !o.deleted && o.end_epoch > epoch);
            if !live {
                return Err(ApiError::conflict(
                    "BLOB_NOT_REGISTERED",
                    format!("deletable blob object {object_id} is not registered and live"),
                ));
            }
        }
        BlobPersistenceType::Permanent => {}
    }
    if metadata_for(state, committee, blob_id)?.is_none() {
        return Err(ApiError::conflict(
            "NOT_FULLY_STORED",
            "metadata are not stored",
        ));
    }
    let n = committee.n_shards();
    for &shard in committee.owned_shards() {
        for axis in [Axis::Primary, Axis::Secondary] {
            if !store.has_sliver(shard, axis, blob_id)? {
                let pair = floe_core::shard_to_pair(shard, blob_id, n);
                return Err(ApiError::conflict(
                    "NOT_FULLY_STORED",
                    format!("{axis} sliver of pair {pair} (shard {shard}) is not stored"),
                ));
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
    Ok(match blob_type {
        BlobPersistenceType::Permanent => store.blob_info(blob_id, epoch)?.permanent.total > 0,
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
        .map_err(|e| ApiError::bad_request("INVALID_OBJECT_ID", format!("{e}")))?;
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

/// Walrus's `BlobStatus` in JSON. `statusEvent`/`event` are `null`: the
/// store does not record event ids yet (the chain follower will).
pub(super) async fn blob_status(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let epoch = state.inner.chain.committee().epoch();
    let info = state
        .blocking(move |s| Ok(s.inner.store.blob_info(&blob_id, epoch)?))
        .await?;
    let counts = json!({
        "countDeletableTotal": info.deletable.total,
        "countDeletableCertified": info.deletable.certified,
    });
    let status = if info.invalid_epoch.is_some() {
        json!({"invalid": {"event": null}})
    } else if info.permanent.total > 0 {
        json!({"permanent": {
            "endEpoch": info.permanent.end_epoch,
            "isCertified": info.permanent.certified > 0,
            "statusEvent": null,
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
