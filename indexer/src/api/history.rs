//! `/v1/stats/epochs`: certified blobs and bytes stored per epoch, summed
//! from the running counters of migration 0003 (`blob_epoch_stats`), so
//! the answer costs a few hundred rows whatever the number of blobs.

use std::collections::HashMap;

use axum::extract::{Query, State};
use sqlx::QueryBuilder;

use super::params::{ApiError, Params};
use super::{ApiState, Snapshot};

/// Most epochs in one answer.
pub const MAX_EPOCH_SPAN: i64 = 200;
/// Epochs answered when `from` is not given.
const DEFAULT_SPAN: i64 = 30;

#[utoipa::path(get, path = "/v1/stats/epochs", params(
    ("from" = Option<i64>, Query, description = "First epoch (default: 29 before `to`)"),
    ("to" = Option<i64>, Query, description = "Last epoch (default: the current epoch)"),
), responses(
    (status = 200, description = "Per epoch: certified blobs stored in it (certified_epoch <= epoch < end_epoch), their bytes and encoded bytes; deleted blobs are not counted"),
    (status = 400, description = "Bad parameter"),
))]
pub async fn epoch_history(
    State(s): State<ApiState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, ApiError> {
    let p = Params::new(q, &["from", "to"])?;
    let from = p.int("from", 0, i64::from(i32::MAX))?;
    let to = p.int("to", 0, i64::from(i32::MAX))?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let to = match to {
        Some(t) => t,
        None => i64::from(snap.epoch().await?).max(from.unwrap_or(0)),
    };
    let from = from.unwrap_or_else(|| (to - DEFAULT_SPAN + 1).max(0));
    if from > to {
        return Err(ApiError::bad(format!("from ({from}) is after to ({to})")));
    }
    if to - from + 1 > MAX_EPOCH_SPAN {
        return Err(ApiError::bad(format!(
            "at most {MAX_EPOCH_SPAN} epochs at once (from {from} to {to} is {})",
            to - from + 1
        )));
    }
    let mut qb = QueryBuilder::new(
        "SELECT row_to_json(t)::text FROM (
             SELECT e AS epoch, coalesce(sum(s.blobs), 0)::int8 AS blobs,
                    coalesce(sum(s.bytes), 0)::int8 AS bytes,
                    coalesce(sum(s.encoded_bytes), 0)::int8 AS encoded_bytes
             FROM generate_series(",
    );
    qb.push_bind(from as i32)
        .push("::int, ")
        .push_bind(to as i32)
        .push(
            "::int) e
             LEFT JOIN blob_epoch_stats s ON s.certified_epoch <= e AND s.end_epoch > e
             GROUP BY e ORDER BY e) t",
        );
    let rows: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *snap.tx).await?;
    let rows: Vec<String> = rows.into_iter().map(|r| r.0).collect();
    Ok(snap.page_answer(&rows, None))
}
