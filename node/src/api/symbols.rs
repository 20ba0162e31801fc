//! Recovery symbols, decoding symbols and inconsistency proofs. Each request
//! expands stored slivers (Reed-Solomon + Merkle), so the three routes share
//! one concurrency limit (`api/mod.rs`) and beyond it answer 503
//! `UNAVAILABLE`, as Walrus's node does when its symbol limiter trips.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::Response;
use floe_core::encoding::symbols::{
    EitherDecodingSymbol, GeneralRecoverySymbol, IntoGeneral, SymbolId,
};
use floe_core::encoding::{Primary, Secondary};
use floe_core::inconsistency::InconsistencyProof;
use floe_core::messages::InvalidBlobIdBody;
use floe_core::messages::invalid_blob_id::InvalidBlobIdMsg;
use floe_core::{Axis, BlobId};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::blobs::{check_content_type, check_index, parse_axis, parse_blob_id};
use super::{ApiError, AppState, bcs_response, success};
use crate::chain_view::CommitteeView;
use crate::context::NodeContext;

fn parse_index(text: &str, committee: &CommitteeView) -> Result<u16, ApiError> {
    let index: u16 = text.trim().parse().map_err(|_| {
        ApiError::invalid(
            "INVALID_FILTER",
            format!("the filter is invalid: {text:?} is not a sliver index"),
        )
    })?;
    check_index(index, committee)?;
    Ok(index)
}

/// What `GET .../recoverySymbols` asks for, in Walrus's two forms: the
/// symbols that recover one sliver (`targetSliver` + `targetType`), or
/// named symbols (`id=P-S`, repeatable); either may require the proof's
/// axis (`proofAxis`).
#[derive(Debug, PartialEq, Eq)]
enum RecoveryFilter {
    Recovers { target: u16, axis: Axis },
    Ids(Vec<SymbolId>),
}

/// Parses the raw query (repeated `id` keys rule out a plain serde
/// struct). Unknown keys are ignored, as Walrus's server does.
fn parse_recovery_query(
    raw: Option<&str>,
    committee: &CommitteeView,
    max_ids: usize,
) -> Result<(RecoveryFilter, Option<Axis>), ApiError> {
    let invalid = |reason: String| ApiError::invalid("INVALID_FILTER", reason);
    let url = reqwest::Url::parse(&format!("http://q/?{}", raw.unwrap_or("")))
        .map_err(|e| invalid(format!("the filter is invalid: {e}")))?;
    let (mut ids, mut target, mut target_type, mut proof_axis) = (Vec::new(), None, None, None);
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "id" => {
                if ids.len() == max_ids {
                    return Err(invalid(format!(
                        "the filter is invalid: at most {max_ids} symbol ids per request"
                    )));
                }
                let id: SymbolId = value
                    .parse()
                    .map_err(|e| invalid(format!("the filter is invalid: {e}")))?;
                check_index(id.primary, committee)?;
                check_index(id.secondary, committee)?;
                ids.push(id);
            }
            "targetSliver" => target = Some(parse_index(&value, committee)?),
            "targetType" => target_type = Some(parse_axis(&value)?),
            "proofAxis" => proof_axis = Some(parse_axis(&value)?),
            _ => {}
        }
    }
    let filter = match (ids.is_empty(), target, target_type) {
        (false, None, None) => RecoveryFilter::Ids(ids),
        (true, Some(target), Some(axis)) => RecoveryFilter::Recovers { target, axis },
        _ => {
            return Err(invalid(
                "the filter is invalid: give either `id=PRIMARY-SECONDARY` (repeatable) or \
                 both targetSliver and targetType"
                    .to_owned(),
            ));
        }
    };
    Ok((filter, proof_axis))
}

/// The named symbols this node can cut from the slivers it holds, each with
/// a proof over its source sliver: symbol (p, s) is position `s` of primary
/// sliver `p` and position `p` of secondary sliver `s`; the primary one is
/// preferred unless `proof_axis` says otherwise. Each source sliver is
/// expanded once for all the ids it serves.
fn symbols_by_id(
    ctx: &NodeContext,
    committee: &CommitteeView,
    blob_id: &BlobId,
    ids: &[SymbolId],
    proof_axis: Option<Axis>,
) -> Result<Vec<GeneralRecoverySymbol>, ApiError> {
    let store = ctx.store();
    let config = committee.encoding();
    let n = committee.n_shards();
    let readable: std::collections::BTreeSet<u16> = committee.readable_shards().collect();
    let holds = |axis: Axis, index: u16| -> Result<bool, ApiError> {
        let pair = match axis {
            Axis::Primary => index,
            Axis::Secondary => n - 1 - index,
        };
        let shard = floe_core::pair_to_shard(pair, blob_id, n);
        Ok(readable.contains(&shard) && store.has_sliver(shard, axis, blob_id)?)
    };
    // Source sliver (axis, index) -> the targets (positions) asked of it.
    let mut sources: BTreeMap<(Axis, u16), Vec<u16>> = BTreeMap::new();
    for id in ids {
        let order = match proof_axis {
            Some(Axis::Primary) => &[Axis::Primary][..],
            Some(Axis::Secondary) => &[Axis::Secondary][..],
            None => &[Axis::Primary, Axis::Secondary][..],
        };
        for &axis in order {
            let (index, position) = match axis {
                Axis::Primary => (id.primary, id.secondary),
                Axis::Secondary => (id.secondary, id.primary),
            };
            if holds(axis, index)? {
                let targets = sources.entry((axis, index)).or_default();
                if !targets.contains(&position) {
                    targets.push(position);
                }
                break;
            }
        }
    }
    let encoding_error = |e: floe_core::EncodingError| ApiError::internal(e.to_string());
    let mut out = Vec::new();
    for ((axis, index), targets) in sources {
        let pair = match axis {
            Axis::Primary => index,
            Axis::Secondary => n - 1 - index,
        };
        let shard = floe_core::pair_to_shard(pair, blob_id, n);
        match axis {
            Axis::Primary => {
                if let Some(s) = store.get_primary(shard, blob_id)? {
                    let symbols = s
                        .recovery_symbols(config, &targets)
                        .map_err(encoding_error)?;
                    out.extend(
                        symbols
                            .into_iter()
                            .zip(&targets)
                            .map(|(x, &t)| x.into_general(t)),
                    );
                }
            }
            Axis::Secondary => {
                if let Some(s) = store.get_secondary(shard, blob_id)? {
                    let symbols = s
                        .recovery_symbols(config, &targets)
                        .map_err(encoding_error)?;
                    out.extend(
                        symbols
                            .into_iter()
                            .zip(&targets)
                            .map(|(x, &t)| x.into_general(t)),
                    );
                }
            }
        }
    }
    Ok(out)
}

/// Symbols for one target sliver from every sliver of the other axis this
/// node stores on its owned and locked shards, each with its Merkle proof.
fn recovery_for(
    ctx: &NodeContext,
    committee: &CommitteeView,
    blob_id: &BlobId,
    target: u16,
    target_axis: Axis,
) -> Result<Vec<GeneralRecoverySymbol>, ApiError> {
    let store = ctx.store();
    let config = committee.encoding();
    let mut out = Vec::new();
    let encoding_error = |e: floe_core::EncodingError| ApiError::internal(e.to_string());
    // Lost shards (`LockedToMove`) serve too: their new owner may be
    // rebuilding exactly those slivers.
    for shard in committee.readable_shards() {
        match target_axis.orthogonal() {
            Axis::Primary => {
                if let Some(s) = store.get_primary(shard, blob_id)? {
                    let symbols = s
                        .recovery_symbols(config, &[target])
                        .map_err(encoding_error)?;
                    out.extend(symbols.into_iter().map(|x| x.into_general(target)));
                }
            }
            Axis::Secondary => {
                if let Some(s) = store.get_secondary(shard, blob_id)? {
                    let symbols = s
                        .recovery_symbols(config, &[target])
                        .map_err(encoding_error)?;
                    out.extend(symbols.into_iter().map(|x| x.into_general(target)));
                }
            }
        }
    }
    Ok(out)
}

pub(super) async fn recovery_symbols(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let committee = state.ctx.chain().committee();
    let max_ids = state.limits.max_symbol_targets;
    let (filter, proof_axis) = parse_recovery_query(query.as_deref(), &committee, max_ids)?;
    let symbols = state
        .blocking(move |ctx| match filter {
            RecoveryFilter::Recovers { target, axis } => {
                // Symbols for a target come from slivers of the other axis,
                // so that is the only proof axis this form can give.
                if proof_axis.is_some_and(|p| p != axis.orthogonal()) {
                    return Ok(Vec::new());
                }
                recovery_for(ctx, &committee, &blob_id, target, axis)
            }
            RecoveryFilter::Ids(ids) => symbols_by_id(ctx, &committee, &blob_id, &ids, proof_axis),
        })
        .await?;
    if symbols.is_empty() {
        return Err(ApiError::not_found(
            "SLIVER_NOT_FOUND",
            "the sliver providing the requested symbol was not found",
        ));
    }
    let bytes = bcs::to_bytes(&symbols).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(bcs_response(bytes))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DecodingQuery {
    target_slivers: String,
    target_type: String,
}

/// Decoding symbols (no proofs) for several targets, as a BCS map from
/// target index to the symbols this node's slivers give for it.
pub(super) async fn decoding_symbols(
    State(state): State<AppState>,
    Path(blob_id): Path<String>,
    Query(query): Query<DecodingQuery>,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let committee = state.ctx.chain().committee();
    let target_axis = parse_axis(&query.target_type)?;
    let parts: Vec<&str> = query.target_slivers.split(',').collect();
    let max = state.limits.max_symbol_targets;
    if parts.len() > max {
        return Err(ApiError::invalid(
            "INVALID_FILTER",
            format!("the filter is invalid: at most {max} target slivers per request"),
        ));
    }
    let targets = parts
        .iter()
        .map(|p| parse_index(p, &committee))
        .collect::<Result<Vec<u16>, _>>()?;
    let map = state
        .blocking(move |ctx| {
            let store = ctx.store();
            let config = committee.encoding();
            let mut map: BTreeMap<u16, Vec<EitherDecodingSymbol>> = BTreeMap::new();
            let err = |e: floe_core::EncodingError| ApiError::internal(e.to_string());
            for shard in committee.readable_shards() {
                let source_axis = target_axis.orthogonal();
                let symbols: Vec<EitherDecodingSymbol> = match source_axis {
                    Axis::Primary => match store.get_primary(shard, &blob_id)? {
                        Some(s) => s
                            .decoding_symbols(config, &targets)
                            .map_err(err)?
                            .into_iter()
                            .map(EitherDecodingSymbol::Secondary)
                            .collect(),
                        None => continue,
                    },
                    Axis::Secondary => match store.get_secondary(shard, &blob_id)? {
                        Some(s) => s
                            .decoding_symbols(config, &targets)
                            .map_err(err)?
                            .into_iter()
                            .map(EitherDecodingSymbol::Primary)
                            .collect(),
                        None => continue,
                    },
                };
                for (target, symbol) in targets.iter().zip(symbols) {
                    map.entry(*target).or_default().push(symbol);
                }
            }
            Ok(map)
        })
        .await?;
    let bytes = bcs::to_bytes(&map).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(bcs_response(bytes))
}

/// Verifies a posted inconsistency proof against the stored metadata and,
/// if it proves the blob inconsistent, returns this node's signed
/// invalid-blob-id attestation for the current epoch.
pub(super) async fn inconsistency_proof(
    State(state): State<AppState>,
    Path((blob_id, sliver_type)): Path<(String, String)>,
    headers: http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let blob_id = parse_blob_id(&blob_id)?;
    let axis = parse_axis(&sliver_type)?;
    check_content_type(&headers)?;
    let committee = state.ctx.chain().committee();
    state
        .blocking(move |ctx| {
            let metadata = ctx.stored_metadata(&committee, &blob_id)?.ok_or_else(|| {
                ApiError::precondition(
                    "METADATA_NOT_FOUND",
                    "blob metadata is required but missing",
                )
            })?;
            let config = committee.encoding();
            let not_bcs = |e: bcs::Error| {
                ApiError::bad_body(format!("unable to decode the body as BCS: {e}"))
            };
            match axis {
                Axis::Primary => bcs::from_bytes::<InconsistencyProof<Primary>>(&body)
                    .map_err(not_bcs)?
                    .verify(config, &metadata),
                Axis::Secondary => bcs::from_bytes::<InconsistencyProof<Secondary>>(&body)
                    .map_err(not_bcs)?
                    .verify(config, &metadata),
            }
            .map_err(|e| ApiError::invalid("INVALID_PROOF", e.to_string()))?;
            let message = InvalidBlobIdMsg::new(committee.epoch(), InvalidBlobIdBody(blob_id));
            let signed = ctx.sign(&message);
            Ok(success(StatusCode::OK, json!(signed)))
        })
        .await
}
