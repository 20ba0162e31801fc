//! The handlers. Rows are turned into JSON by Postgres (`to_jsonb`), so
//! the column names are the field names.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use sqlx::{Postgres, QueryBuilder};

use super::params::{ApiError, Params, blob_id as parse_blob_id, object_id};
use super::{ApiState, Snapshot};
use crate::pipeline::PIPELINE;

type Answer = Result<axum::Json<Value>, ApiError>;
/// Pages are answered with the rows' JSON text spliced in (see [`page`]).
type PageAnswer = Result<axum::response::Response, ApiError>;
type Q = Query<HashMap<String, String>>;

/// The blob columns every blob answer has; `status` says `expired` for
/// live blobs whose end epoch has passed ($1 = current epoch).
const BLOB_COLUMNS: &str = "object_id, blob_id, owner, size, encoded_size, encoding_type, deletable, \
     registered_epoch, certified_epoch, end_epoch, \
     CASE WHEN status IN ('registered', 'certified') AND end_epoch <= $1 THEN 'expired' ELSE status END AS status, \
     attributes, created_pos >> 32 AS created_checkpoint";

/// The select list of every page query: each row as JSON text, built by
/// Postgres and passed through unparsed (parsing 1000 rows into
/// `serde_json::Value` and printing them again was most of a large page's
/// time).
pub(super) const PAGE_SELECT: &str = "SELECT row_to_json(t)::text FROM (";

pub(super) async fn rows(
    snapshot: &mut Snapshot,
    mut qb: QueryBuilder<'_, Postgres>,
) -> Result<Vec<String>, ApiError> {
    let rows: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *snapshot.tx).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Keeps `limit` rows and returns the cursor of the last one if there were
/// more (the query asked for `limit + 1`). Only that row is parsed.
pub(super) fn page(mut rows: Vec<String>, limit: i64, key: &str) -> (Vec<String>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let last: Option<Value> = rows.last().and_then(|r| serde_json::from_str(r).ok());
    let cursor = last.and_then(|r| match &r[key] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    (rows, cursor)
}

#[utoipa::path(get, path = "/v1/status", responses((status = 200, description = "Watermark, chain tip and lag")))]
pub async fn status(State(s): State<ApiState>) -> Answer {
    let mut snap = Snapshot::begin(&s.pool).await?;
    let row: Option<(Value,)> = sqlx::query_as(
        "SELECT to_jsonb(w) FROM (SELECT pipeline, chain_id, checkpoint, timestamp_ms, updated_at
         FROM watermarks WHERE pipeline = $1) w",
    )
    .bind(PIPELINE)
    .fetch_optional(&mut *snap.tx)
    .await?;
    let tip = s.metrics.chain_tip.get();
    let lag = snap.checkpoint.map(|c| (tip - c).max(0));
    let data = json!({ "watermark": row.map(|r| r.0), "chain_tip": tip, "lag": lag });
    Ok(snap.answer(data, None))
}

const BLOB_PARAMS: &[&str] = &[
    "owner",
    "blob_id",
    "status",
    "deletable",
    "end_epoch_min",
    "end_epoch_max",
    "order",
    "cursor",
    "limit",
];

#[utoipa::path(get, path = "/v1/blobs", params(
    ("owner" = Option<String>, Query, description = "Owner address"),
    ("blob_id" = Option<String>, Query, description = "Blob id (URL-safe base64)"),
    ("status" = Option<String>, Query, description = "registered, certified, expired, deleted or invalid"),
    ("deletable" = Option<bool>, Query, description = "true or false"),
    ("end_epoch_min" = Option<i64>, Query, description = "End epoch at least"),
    ("end_epoch_max" = Option<i64>, Query, description = "End epoch at most"),
    ("order" = Option<String>, Query, description = "asc (default) or desc, by object id"),
    ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses((status = 200, description = "A page of blobs"), (status = 400, description = "Bad parameter")))]
pub async fn blobs(State(s): State<ApiState>, Query(q): Q) -> PageAnswer {
    let p = Params::new(q, BLOB_PARAMS)?;
    blob_list(&s, p, None).await
}

async fn blob_list(s: &ApiState, p: Params, owner: Option<String>) -> PageAnswer {
    let owner = match owner {
        Some(o) => Some(o),
        None => p.object_id("owner")?,
    };
    let blob_id = p
        .text("blob_id")
        .map(|b| parse_blob_id("blob_id", b))
        .transpose()?;
    let status = p.text("status");
    if let Some(st) = status
        && !["registered", "certified", "expired", "deleted", "invalid"].contains(&st)
    {
        return Err(ApiError::bad(format!(
            "status must be registered, certified, expired, deleted or invalid, got {st:?}"
        )));
    }
    let deletable = p.boolean("deletable")?;
    let min = p.int("end_epoch_min", 0, i64::from(u32::MAX))?;
    let max = p.int("end_epoch_max", 0, i64::from(u32::MAX))?;
    let desc = p.descending()?;
    let cursor = p.object_id("cursor")?;
    let limit = p.limit()?;

    let mut snap = Snapshot::begin(&s.pool).await?;
    let epoch = snap.epoch().await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push("SELECT ");
    qb.push(BLOB_COLUMNS.replace("$1", &epoch.to_string()));
    qb.push(" FROM blobs WHERE true");
    if let Some(o) = owner {
        qb.push(" AND owner = ").push_bind(o);
    }
    if let Some(b) = blob_id {
        qb.push(" AND blob_id = ").push_bind(b);
    }
    match status {
        Some("expired") => {
            qb.push(" AND status IN ('registered', 'certified') AND end_epoch <= ")
                .push_bind(epoch);
        }
        Some(st @ ("registered" | "certified")) => {
            qb.push(" AND status = ").push_bind(st.to_owned());
            qb.push(" AND end_epoch > ").push_bind(epoch);
        }
        Some(st) => {
            qb.push(" AND status = ").push_bind(st.to_owned());
        }
        None => {}
    }
    if let Some(d) = deletable {
        qb.push(" AND deletable = ").push_bind(d);
    }
    if let Some(m) = min {
        qb.push(" AND end_epoch >= ").push_bind(m as i32);
    }
    if let Some(m) = max {
        qb.push(" AND end_epoch <= ").push_bind(m as i32);
    }
    if let Some(c) = cursor {
        qb.push(if desc {
            " AND object_id < "
        } else {
            " AND object_id > "
        })
        .push_bind(c);
    }
    qb.push(if desc {
        " ORDER BY object_id DESC"
    } else {
        " ORDER BY object_id"
    });
    qb.push(" LIMIT ").push_bind(limit + 1).push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "object_id");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/blobs/{object_id}", params(("object_id" = String, Path, description = "Blob object id")),
    responses((status = 200, description = "The blob"), (status = 404, description = "Not indexed")))]
pub async fn blob(State(s): State<ApiState>, Path(id): Path<String>) -> Answer {
    let id = object_id("object_id", &id)?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let epoch = snap.epoch().await?;
    let sql = format!(
        "SELECT to_jsonb(t) FROM (SELECT {} FROM blobs WHERE object_id = $2) t",
        BLOB_COLUMNS
    );
    let row: Option<(Value,)> = sqlx::query_as(&sql)
        .bind(epoch)
        .bind(&id)
        .fetch_optional(&mut *snap.tx)
        .await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("no blob object {id} indexed")))?;
    Ok(snap.answer(row.0, None))
}

#[utoipa::path(get, path = "/v1/blobs/{object_id}/events", params(("object_id" = String, Path, description = "Blob object id")),
    responses((status = 200, description = "Events naming the blob, in chain order")))]
pub async fn blob_events(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Q,
) -> PageAnswer {
    let id = object_id("object_id", &id)?;
    let p = Params::new(q, &["cursor", "limit"])?;
    let cursor = p.int("cursor", 0, i64::MAX)?.unwrap_or(-1);
    let limit = p.limit()?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push("SELECT pos, checkpoint, tx_digest, event_index, name, sender, fields, timestamp_ms FROM events WHERE object_id = ");
    qb.push_bind(id).push(" AND pos > ").push_bind(cursor);
    qb.push(" ORDER BY pos LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "pos");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/blob-ids/{blob_id}", params(("blob_id" = String, Path, description = "Blob id")),
    responses((status = 200, description = "Aggregate over all objects of the blob id")))]
pub async fn blob_id(State(s): State<ApiState>, Path(id): Path<String>) -> Answer {
    let id = parse_blob_id("blob_id", &id)?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let agg: Option<(Value,)> =
        sqlx::query_as("SELECT to_jsonb(a) FROM (SELECT * FROM blob_ids WHERE blob_id = $1) a")
            .bind(&id)
            .fetch_optional(&mut *snap.tx)
            .await?;
    let agg = agg.ok_or_else(|| ApiError::not_found(format!("blob id {id} not indexed")))?;
    let epoch = snap.epoch().await?;
    let sql = format!(
        "SELECT to_jsonb(t) FROM (SELECT {} FROM blobs WHERE blob_id = $2 ORDER BY object_id LIMIT 1000) t",
        BLOB_COLUMNS
    );
    let objects: Vec<(Value,)> = sqlx::query_as(&sql)
        .bind(epoch)
        .bind(&id)
        .fetch_all(&mut *snap.tx)
        .await?;
    let mut data = agg.0;
    data["objects"] = Value::Array(objects.into_iter().map(|r| r.0).collect());
    Ok(snap.answer(data, None))
}

#[utoipa::path(get, path = "/v1/accounts/{address}/blobs", params(("address" = String, Path, description = "Owner address")),
    responses((status = 200, description = "Blobs the address owns (same filters as /v1/blobs)")))]
pub async fn account_blobs(
    State(s): State<ApiState>,
    Path(a): Path<String>,
    Query(q): Q,
) -> PageAnswer {
    let owner = object_id("address", &a)?;
    let p = Params::new(q, BLOB_PARAMS)?;
    if p.text("owner").is_some() {
        return Err(ApiError::bad("owner is the path's address here"));
    }
    blob_list(&s, p, Some(owner)).await
}

/// A keyset page over `table` rows whose `column` equals `address`.
async fn owned_list(
    s: &ApiState,
    address: &str,
    q: HashMap<String, String>,
    select: &str,
    filter: &str,
    key: &str,
) -> PageAnswer {
    let address = object_id("address", address)?;
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.text("cursor").map(str::to_owned);
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(format!("{PAGE_SELECT}{select} WHERE {filter} = "));
    qb.push_bind(address);
    if let Some(c) = cursor {
        if key == "pos" {
            let c: i64 = c
                .parse()
                .map_err(|_| ApiError::bad(format!("cursor must be an integer, got {c:?}")))?;
            qb.push(format!(" AND {key} > ")).push_bind(c);
        } else {
            qb.push(format!(" AND {key} > "))
                .push_bind(object_id("cursor", &c)?);
        }
    }
    qb.push(format!(" ORDER BY {key} LIMIT "))
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, key);
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/accounts/{address}/storage", params(("address" = String, Path, description = "Owner address")),
    responses((status = 200, description = "Storage resources the address owns")))]
pub async fn account_storage(
    State(s): State<ApiState>,
    Path(a): Path<String>,
    Query(q): Q,
) -> PageAnswer {
    owned_list(
        &s,
        &a,
        q,
        "SELECT * FROM storage_resources",
        "owner",
        "object_id",
    )
    .await
}

#[utoipa::path(get, path = "/v1/accounts/{address}/payments", params(("address" = String, Path, description = "Payer address")),
    responses((status = 200, description = "Payments by the address, in chain order")))]
pub async fn account_payments(
    State(s): State<ApiState>,
    Path(a): Path<String>,
    Query(q): Q,
) -> PageAnswer {
    owned_list(&s, &a, q, "SELECT * FROM payments", "payer", "pos").await
}

#[utoipa::path(get, path = "/v1/epochs", responses((status = 200, description = "Epochs, newest first")))]
pub async fn epochs(State(s): State<ApiState>, Query(q): Q) -> PageAnswer {
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.int("cursor", 0, i64::from(i32::MAX))?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push("SELECT * FROM epochs WHERE true");
    if let Some(c) = cursor {
        qb.push(" AND epoch < ").push_bind(c as i32);
    }
    qb.push(" ORDER BY epoch DESC LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "epoch");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/epochs/{epoch}", params(("epoch" = u32, Path, description = "Epoch")),
    responses((status = 200, description = "The epoch with its committee, shard map and rewards and burns by kind")))]
pub async fn epoch(State(s): State<ApiState>, Path(e): Path<String>) -> Answer {
    let e: i32 =
        e.parse().ok().filter(|e| *e >= 0).ok_or_else(|| {
            ApiError::bad(format!("epoch must be a non-negative integer, got {e:?}"))
        })?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let row: Option<(Value,)> =
        sqlx::query_as("SELECT to_jsonb(t) FROM (SELECT * FROM epochs WHERE epoch = $1) t")
            .bind(e)
            .fetch_optional(&mut *snap.tx)
            .await?;
    let mut data = row
        .ok_or_else(|| ApiError::not_found(format!("epoch {e} not indexed")))?
        .0;
    let members: Vec<(Value,)> = sqlx::query_as(
        "SELECT to_jsonb(t) FROM (SELECT node_id, public_key, weight, shards
         FROM committee_members WHERE epoch = $1 ORDER BY node_id) t",
    )
    .bind(e)
    .fetch_all(&mut *snap.tx)
    .await?;
    let members: Vec<Value> = members.into_iter().map(|r| r.0).collect();
    let mut shard_map = serde_json::Map::new();
    for m in &members {
        if let Some(shards) = m["shards"].as_array() {
            for shard in shards {
                shard_map.insert(shard.to_string(), m["node_id"].clone());
            }
        }
    }
    data["committee"] = Value::Array(members);
    data["shard_map"] = Value::Object(shard_map);
    // Rewards and burns paid for the epoch, by kind (the kind index keeps
    // this off the fee rows, which are most of the table).
    let payments: Vec<(Value,)> = sqlx::query_as(
        "SELECT to_jsonb(t) FROM (SELECT kind, sum(amount)::int8 AS amount, count(*) AS payments
         FROM payments WHERE kind IN ('reward', 'commission', 'burn', 'subsidy') AND epoch = $1
         GROUP BY kind ORDER BY kind) t",
    )
    .bind(e)
    .fetch_all(&mut *snap.tx)
    .await?;
    data["payments"] = Value::Array(payments.into_iter().map(|r| r.0).collect());
    // What the end of the epoch paid (migration 0004); per node at
    // /v1/epochs/{epoch}/rewards.
    let rewards: Option<(Value,)> = sqlx::query_as(
        "SELECT to_jsonb(t) FROM (SELECT bucket, burnt, distributed, carried_over, used_capacity,
                nodes, bucket = burnt + distributed + carried_over AS balanced, tx_digest
         FROM epoch_rewards WHERE epoch = $1) t",
    )
    .bind(e)
    .fetch_optional(&mut *snap.tx)
    .await?;
    data["rewards"] = rewards.map_or(Value::Null, |r| r.0);
    Ok(snap.answer(data, None))
}

#[utoipa::path(get, path = "/v1/nodes", responses((status = 200, description = "Storage nodes")))]
pub async fn nodes(State(s): State<ApiState>, Query(q): Q) -> PageAnswer {
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.object_id("cursor")?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push("SELECT * FROM storage_nodes WHERE true");
    if let Some(c) = cursor {
        qb.push(" AND node_id > ").push_bind(c);
    }
    qb.push(" ORDER BY node_id LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "node_id");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/nodes/{node_id}", params(("node_id" = String, Path, description = "Node id")),
    responses((status = 200, description = "The node with stake history, votes, rewards per ended epoch (FROST) and committees; per-epoch pool history at /v1/nodes/{node_id}/history")))]
pub async fn node(State(s): State<ApiState>, Path(id): Path<String>) -> Answer {
    let id = object_id("node_id", &id)?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let row: Option<(Value,)> = sqlx::query_as(
        "SELECT to_jsonb(t) FROM (SELECT * FROM storage_nodes WHERE node_id = $1) t",
    )
    .bind(&id)
    .fetch_optional(&mut *snap.tx)
    .await?;
    let mut data = row
        .ok_or_else(|| ApiError::not_found(format!("node {id} not indexed")))?
        .0;
    let lists: [(&str, &str); 4] = [
        (
            "stake_history",
            "SELECT epoch, stake FROM node_stake_history WHERE node_id = $1 ORDER BY epoch DESC LIMIT 1000",
        ),
        (
            "votes",
            "SELECT proposal_id, weight, in_favor, pos FROM governance_votes WHERE node_id = $1 ORDER BY pos DESC LIMIT 1000",
        ),
        (
            "rewards",
            "SELECT epoch, weight, reward, commission, stakers FROM node_rewards WHERE node_id = $1 ORDER BY epoch DESC LIMIT 1000",
        ),
        (
            "committees",
            "SELECT epoch, weight, shards FROM committee_members WHERE node_id = $1 ORDER BY epoch DESC LIMIT 1000",
        ),
    ];
    for (name, sql) in lists {
        let rows: Vec<(Value,)> = sqlx::query_as(&format!("SELECT to_jsonb(t) FROM ({sql}) t"))
            .bind(&id)
            .fetch_all(&mut *snap.tx)
            .await?;
        data[name] = Value::Array(rows.into_iter().map(|r| r.0).collect());
    }
    Ok(snap.answer(data, None))
}

#[utoipa::path(get, path = "/v1/stats", responses((status = 200, description = "Counts, stored bytes, capacity, prices, stake")))]
pub async fn stats(State(s): State<ApiState>) -> Answer {
    let mut snap = Snapshot::begin(&s.pool).await?;
    let epoch = snap.epoch().await?;
    // Running counters (migration 0002), split into live and expired by
    // the current epoch; end_epoch -1 means unknown.
    let (blobs,): (Value,) = sqlx::query_as(
        "SELECT jsonb_build_object(
            'total', coalesce(sum(blobs), 0)::int8,
            'registered', coalesce(sum(blobs) FILTER (WHERE status = 'registered' AND end_epoch > $1), 0)::int8,
            'certified', coalesce(sum(blobs) FILTER (WHERE status = 'certified' AND end_epoch > $1), 0)::int8,
            'expired', coalesce(sum(blobs) FILTER (WHERE status IN ('registered', 'certified')
                AND end_epoch >= 0 AND end_epoch <= $1), 0)::int8,
            'deleted', coalesce(sum(blobs) FILTER (WHERE status = 'deleted'), 0)::int8,
            'invalid', coalesce(sum(blobs) FILTER (WHERE status = 'invalid'), 0)::int8,
            'stored_bytes', coalesce(sum(bytes) FILTER (WHERE status = 'certified' AND end_epoch > $1), 0)::int8,
            'stored_encoded_bytes', coalesce(sum(encoded_bytes) FILTER (WHERE status = 'certified' AND end_epoch > $1), 0)::int8)
         FROM blob_stats",
    )
    .bind(epoch)
    .fetch_one(&mut *snap.tx)
    .await?;
    let system: Option<(Value,)> = sqlx::query_as(
        "SELECT to_jsonb(t) - 'id' FROM (SELECT * FROM system_state WHERE id = 1) t",
    )
    .fetch_optional(&mut *snap.tx)
    .await?;
    let (stake,): (Option<i64>,) = sqlx::query_as("SELECT sum(stake)::int8 FROM storage_nodes")
        .fetch_one(&mut *snap.tx)
        .await?;
    let data = json!({
        "blobs": blobs,
        "system": system.map(|s| s.0),
        "total_stake": stake.unwrap_or(0),
    });
    Ok(snap.answer(data, None))
}

/// Prometheus text format.
pub async fn metrics(State(s): State<ApiState>) -> impl IntoResponse {
    let mut out = String::new();
    let encoder = prometheus::TextEncoder::new();
    if let Err(e) = encoder.encode_utf8(&s.registry.gather(), &mut out) {
        out = format!("# encoding failed: {e}\n");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
