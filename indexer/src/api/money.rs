//! Staking and rewards (migration 0004): a node's history over epochs and
//! its commission collections, an account's stakes and their rewards over
//! epochs, what each epoch paid, and shared blobs with their renewals.
//!
//! Amounts are FROST integers and node ids `0x` + 64 hex digits, as the
//! chain prints them, so the numbers compare directly with a reconciler's.
//! Exchange rates are decimal strings (u128 on chain).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use serde_json::Value;
use sqlx::QueryBuilder;

use super::params::{ApiError, Params, object_id};
use super::routes::{PAGE_SELECT, page, rows};
use super::{ApiState, Snapshot};

type PageAnswer = Result<axum::response::Response, ApiError>;
type Answer = Result<axum::Json<Value>, ApiError>;
type Q = Query<HashMap<String, String>>;

/// Most epochs of an account's rewards in one answer.
pub const MAX_REWARD_EPOCHS: i64 = 100;
/// Most stakes of one account the per-epoch rewards add up (the largest
/// first); `stakes_counted` in the answer says how many were.
pub const MAX_REWARD_STAKES: i64 = 200;

fn epoch_param(raw: &str) -> Result<i32, ApiError> {
    raw.parse()
        .ok()
        .filter(|e| *e >= 0)
        .ok_or_else(|| ApiError::bad(format!("epoch must be a non-negative integer, got {raw:?}")))
}

async fn node_exists(snap: &mut Snapshot, id: &str) -> Result<(), ApiError> {
    let found: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM storage_nodes WHERE node_id = $1")
        .bind(id)
        .fetch_optional(&mut *snap.tx)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found(format!("node {id} not indexed")))
}

#[utoipa::path(get, path = "/v1/nodes/{node_id}/history", params(
    ("node_id" = String, Path, description = "Node id"),
    ("cursor" = Option<i64>, Query, description = "next_cursor of the previous page (an epoch)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses(
    (status = 200, description = "Per epoch, newest first: the pool at the epoch's start (stake, shares, exchange rate, commission rate, shards) and what the node earned in it (weight, reward, commission, stakers' part), FROST"),
    (status = 400, description = "Bad parameter"), (status = 404, description = "Node not indexed"),
))]
pub async fn node_history(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Q,
) -> PageAnswer {
    let id = object_id("node_id", &id)?;
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.int("cursor", 0, i64::from(i32::MAX))?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    node_exists(&mut snap, &id).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push(
        "SELECT e.epoch, p.stake, p.num_shares, p.rate_wal::text AS rate_wal,
                p.rate_shares::text AS rate_shares, p.commission_rate, p.shards,
                cardinality(p.shards) AS shard_count, r.weight, r.reward, r.commission, r.stakers
         FROM (SELECT epoch FROM pool_epochs WHERE node_id = ",
    );
    qb.push_bind(id.clone());
    qb.push(" UNION SELECT epoch FROM node_rewards WHERE node_id = ");
    qb.push_bind(id.clone());
    qb.push(") e LEFT JOIN pool_epochs p ON p.node_id = ");
    qb.push_bind(id.clone());
    qb.push(" AND p.epoch = e.epoch LEFT JOIN node_rewards r ON r.node_id = ");
    qb.push_bind(id);
    qb.push(" AND r.epoch = e.epoch WHERE true");
    if let Some(c) = cursor {
        qb.push(" AND e.epoch < ").push_bind(c as i32);
    }
    qb.push(" ORDER BY e.epoch DESC LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "epoch");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/nodes/{node_id}/collections", params(
    ("node_id" = String, Path, description = "Node id"),
    ("cursor" = Option<i64>, Query, description = "next_cursor of the previous page (a position)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses((status = 200, description = "Commission collected from the node's pool, newest first, with the epoch it happened in"),
    (status = 404, description = "Node not indexed")))]
pub async fn node_collections(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Q,
) -> PageAnswer {
    let id = object_id("node_id", &id)?;
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.int("cursor", 0, i64::MAX)?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    node_exists(&mut snap, &id).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push(
        "SELECT pos, pos >> 32 AS checkpoint, epoch_at(pos >> 32) AS epoch, amount, collector, tx_digest
         FROM commission_collections WHERE node_id = ",
    );
    qb.push_bind(id);
    if let Some(c) = cursor {
        qb.push(" AND pos < ").push_bind(c);
    }
    qb.push(" ORDER BY pos DESC LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "pos");
    Ok(snap.page_answer(&data, next))
}

/// The columns of a stake answer; `$cur` is replaced by the current epoch.
/// status adds the epoch to the stored state: pending / active for staked,
/// withdrawing / withdrawable for withdrawing.
const STAKE_COLUMNS: &str = "s.object_id, s.owner, s.node_id, n.name AS node_name, s.amount,
     s.activation_epoch, s.withdraw_epoch, s.state,
     CASE WHEN s.state = 'staked' AND s.activation_epoch > $cur THEN 'pending'
          WHEN s.state = 'staked' THEN 'active'
          WHEN s.state = 'withdrawing' AND s.withdraw_epoch > $cur THEN 'withdrawing'
          WHEN s.state = 'withdrawing' THEN 'withdrawable'
          ELSE s.state END AS status,
     CASE WHEN s.created_pos IS NULL THEN NULL ELSE epoch_at(s.created_pos >> 32) END AS staked_epoch,
     CASE WHEN s.withdrawn_pos IS NULL THEN NULL ELSE epoch_at(s.withdrawn_pos >> 32) END AS withdrawn_epoch,
     s.withdrawn_amount,
     CASE WHEN s.state IN ('staked', 'withdrawing')
          THEN stake_value(s.node_id, s.amount, s.activation_epoch,
                           least($cur, coalesce(s.withdraw_epoch, $cur))) END AS value,
     CASE WHEN s.state IN ('staked', 'withdrawing')
          THEN stake_value(s.node_id, s.amount, s.activation_epoch,
                           least($cur, coalesce(s.withdraw_epoch, $cur))) - s.amount
          ELSE s.rewards END AS rewards,
     s.created_pos >> 32 AS created_checkpoint";

#[utoipa::path(get, path = "/v1/accounts/{address}/stakes", params(
    ("address" = String, Path, description = "Owner address (the last owner, for withdrawn stakes)"),
    ("cursor" = Option<String>, Query, description = "next_cursor of the previous page (an object id)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses((status = 200, description = "StakedWal objects of the address through their life cycle: amount, epochs (staked, active from, withdraw, withdrawn), status, value now and rewards (estimated from the pools' exchange rates while staked; as paid once withdrawn), FROST")))]
pub async fn account_stakes(
    State(s): State<ApiState>,
    Path(a): Path<String>,
    Query(q): Q,
) -> PageAnswer {
    let address = object_id("address", &a)?;
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.object_id("cursor")?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let epoch = snap.epoch().await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push("SELECT ");
    qb.push(STAKE_COLUMNS.replace("$cur", &epoch.to_string()));
    qb.push(
        " FROM staked_wal s LEFT JOIN storage_nodes n ON n.node_id = s.node_id WHERE s.owner = ",
    );
    qb.push_bind(address);
    if let Some(c) = cursor {
        qb.push(" AND s.object_id > ").push_bind(c);
    }
    qb.push(" ORDER BY s.object_id LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "object_id");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/accounts/{address}/rewards", params(
    ("address" = String, Path, description = "Owner address"),
    ("from" = Option<i64>, Query, description = "First epoch (default: 29 before `to`)"),
    ("to" = Option<i64>, Query, description = "Last epoch (default: the current epoch)"),
), responses(
    (status = 200, description = "Per epoch: the principal of the address's stakes active in it, their value at the epoch's start and the rewards accrued so far (value - principal), FROST; withdrawn stakes count until their withdrawal epoch"),
    (status = 400, description = "Bad parameter"),
))]
pub async fn account_rewards(
    State(s): State<ApiState>,
    Path(a): Path<String>,
    Query(q): Q,
) -> Answer {
    let address = object_id("address", &a)?;
    let p = Params::new(q, &["from", "to"])?;
    let from = p.int("from", 0, i64::from(i32::MAX))?;
    let to = p.int("to", 0, i64::from(i32::MAX))?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let to = match to {
        Some(t) => t,
        None => i64::from(snap.epoch().await?).max(from.unwrap_or(0)),
    };
    let from = from.unwrap_or_else(|| (to - 29).max(0));
    if from > to {
        return Err(ApiError::bad(format!("from ({from}) is after to ({to})")));
    }
    if to - from + 1 > MAX_REWARD_EPOCHS {
        return Err(ApiError::bad(format!(
            "at most {MAX_REWARD_EPOCHS} epochs at once (from {from} to {to} is {})",
            to - from + 1
        )));
    }
    let rows: Vec<(Value,)> = sqlx::query_as(
        "WITH s AS (
             SELECT node_id, amount, activation_epoch, withdraw_epoch,
                    CASE WHEN withdrawn_pos IS NULL THEN NULL ELSE epoch_at(withdrawn_pos >> 32) END AS gone
             FROM staked_wal WHERE owner = $1 AND state IN ('staked', 'withdrawing', 'withdrawn')
             ORDER BY amount DESC, object_id LIMIT $4)
         SELECT jsonb_build_object('epoch', e,
                    'stakes', count(s.node_id),
                    'principal', coalesce(sum(s.amount), 0)::int8,
                    'value', coalesce(sum(v.value), 0)::int8,
                    'rewards', coalesce(sum(v.value - s.amount), 0)::int8)
         FROM generate_series($2::int, $3::int) e
         LEFT JOIN s ON s.activation_epoch <= e AND (s.gone IS NULL OR s.gone > e)
         LEFT JOIN LATERAL (SELECT stake_value(s.node_id, s.amount, s.activation_epoch,
                                               least(e, coalesce(s.withdraw_epoch, e))) AS value) v
                ON true
         GROUP BY e ORDER BY e",
    )
    .bind(&address)
    .bind(from as i32)
    .bind(to as i32)
    .bind(MAX_REWARD_STAKES)
    .fetch_all(&mut *snap.tx)
    .await?;
    let (counted,): (i64,) = sqlx::query_as(
        "SELECT least(count(*), $2) FROM staked_wal
         WHERE owner = $1 AND state IN ('staked', 'withdrawing', 'withdrawn')",
    )
    .bind(&address)
    .bind(MAX_REWARD_STAKES)
    .fetch_one(&mut *snap.tx)
    .await?;
    let mut answer = snap.answer(Value::Array(rows.into_iter().map(|r| r.0).collect()), None);
    answer.0["stakes_counted"] = Value::from(counted);
    Ok(answer)
}

#[utoipa::path(get, path = "/v1/epochs/{epoch}/rewards", params(
    ("epoch" = u32, Path, description = "The ended epoch"),
    ("cursor" = Option<String>, Query, description = "next_cursor of the previous page (a node id)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses(
    (status = 200, description = "What the end of the epoch paid: bucket, burnt, distributed, carried_over (FROST; balanced says bucket = burnt + distributed + carried_over), and a page of its committee's nodes with weight, reward, commission and stakers' part"),
    (status = 404, description = "The epoch has not ended in the index"),
))]
pub async fn epoch_rewards(
    State(s): State<ApiState>,
    Path(e): Path<String>,
    Query(q): Q,
) -> Answer {
    let e = epoch_param(&e)?;
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.object_id("cursor")?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let summary: Option<(Value,)> = sqlx::query_as(
        "SELECT to_jsonb(t) FROM (SELECT epoch, bucket, burnt, distributed, carried_over,
                used_capacity, nodes, bucket = burnt + distributed + carried_over AS balanced,
                pos >> 32 AS checkpoint, tx_digest, timestamp_ms
         FROM epoch_rewards WHERE epoch = $1) t",
    )
    .bind(e)
    .fetch_optional(&mut *snap.tx)
    .await?;
    let mut data = summary
        .ok_or_else(|| ApiError::not_found(format!("epoch {e} has not ended in the index")))?
        .0;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push(
        "SELECT r.node_id, n.name, r.weight, r.reward, r.commission, r.stakers
         FROM node_rewards r LEFT JOIN storage_nodes n ON n.node_id = r.node_id WHERE r.epoch = ",
    );
    qb.push_bind(e);
    if let Some(c) = cursor {
        qb.push(" AND r.node_id > ").push_bind(c);
    }
    qb.push(" ORDER BY r.node_id LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (nodes, next) = page(rows(&mut snap, qb).await?, limit, "node_id");
    let nodes: Vec<Value> = nodes
        .iter()
        .filter_map(|r| serde_json::from_str(r).ok())
        .collect();
    data["nodes"] = Value::Array(nodes);
    Ok(snap.answer(data, next))
}

#[utoipa::path(get, path = "/v1/rewards", params(
    ("cursor" = Option<i64>, Query, description = "next_cursor of the previous page (an epoch)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses((status = 200, description = "What each ended epoch paid (bucket, burnt, distributed, carried_over, balanced), newest first, FROST")))]
pub async fn rewards(State(s): State<ApiState>, Query(q): Q) -> PageAnswer {
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.int("cursor", 0, i64::from(i32::MAX))?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push(
        "SELECT epoch, bucket, burnt, distributed, carried_over, used_capacity, nodes,
                bucket = burnt + distributed + carried_over AS balanced, tx_digest, timestamp_ms
         FROM epoch_rewards WHERE true",
    );
    if let Some(c) = cursor {
        qb.push(" AND epoch < ").push_bind(c as i32);
    }
    qb.push(" ORDER BY epoch DESC LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "epoch");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/shared-blobs", params(
    ("cursor" = Option<String>, Query, description = "next_cursor of the previous page (an object id)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses((status = 200, description = "Shared blobs with their funds (FROST), end epoch and renewals so far")))]
pub async fn shared_blobs(State(s): State<ApiState>, Query(q): Q) -> PageAnswer {
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.object_id("cursor")?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push(
        "SELECT b.object_id, b.blob_object_id, b.blob_id, b.storage_size, b.end_epoch, b.funds,
                (SELECT count(*) FROM shared_blob_renewals r WHERE r.shared_blob_id = b.object_id) AS renewals
         FROM shared_blobs b WHERE true",
    );
    if let Some(c) = cursor {
        qb.push(" AND b.object_id > ").push_bind(c);
    }
    qb.push(" ORDER BY b.object_id LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "object_id");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/shared-blobs/{object_id}/renewals", params(
    ("object_id" = String, Path, description = "SharedBlob object id"),
    ("cursor" = Option<i64>, Query, description = "next_cursor of the previous page (a position)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses((status = 200, description = "Extensions paid from the shared blob's funds, oldest first: end epochs before and after, cost and funds left (FROST)")))]
pub async fn shared_blob_renewals(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Q,
) -> PageAnswer {
    let id = object_id("object_id", &id)?;
    let p = Params::new(q, &["cursor", "limit"])?;
    let limit = p.limit()?;
    let cursor = p.int("cursor", 0, i64::MAX)?.unwrap_or(-1);
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push(
        "SELECT pos, epoch_at(pos >> 32) AS epoch, blob_id, from_end_epoch, to_end_epoch, cost,
                funds_after, payer, tx_digest
         FROM shared_blob_renewals WHERE shared_blob_id = ",
    );
    qb.push_bind(id).push(" AND pos > ").push_bind(cursor);
    qb.push(" ORDER BY pos LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "pos");
    Ok(snap.page_answer(&data, next))
}
