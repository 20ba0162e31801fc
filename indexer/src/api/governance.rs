//! Governance (migration 0005): proposals of every kind with their tally,
//! the quorum, the deadline and the outcome; one proposal with every vote;
//! the subsidy pool's payments.
//!
//! The quorum is the least shard weight `w` with `3w >= 2n + 1` (`n` the
//! system's shards), as the contracts count it. The deadline is the end of
//! the proposal's epoch: the start of the next epoch once it happened,
//! else the current epoch's expected end (votes count only in their
//! epoch; a passed parameter change applies at that moment).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use serde_json::Value;
use sqlx::QueryBuilder;

use super::params::{ApiError, Params};
use super::routes::{PAGE_SELECT, page, rows};
use super::{ApiState, Snapshot};

type PageAnswer = Result<axum::response::Response, ApiError>;
type Answer = Result<axum::Json<Value>, ApiError>;
type Q = Query<HashMap<String, String>>;

/// Proposal kinds and the statuses each can have (the events spec).
pub const KINDS: &[(&str, &[&str])] = &[
    ("parameter", &["open", "passed", "applied", "expired"]),
    (
        "upgrade",
        &["open", "quorum", "authorized", "upgraded", "expired"],
    ),
    ("slashing", &["open", "quorum", "executed", "expired"]),
];

/// Subsidy row kinds.
pub const SUBSIDY_KINDS: &[&str] = &["funded", "node", "paid"];

/// The columns of a proposal answer (`p` the proposal).
const PROPOSAL_COLUMNS: &str = "p.proposal_id, p.kind, p.epoch, p.status, p.payload, p.proposer,
     pn.name AS proposer_name, p.votes_for, p.votes_against, ss.n_shards,
     CASE WHEN ss.n_shards > 0 THEN (2 * ss.n_shards) / 3 + 1 END AS quorum,
     coalesce(ne.start_ms, CASE WHEN p.epoch = ss.epoch THEN
         CASE WHEN ss.epoch = 0 THEN ss.first_epoch_start_ms
              ELSE ss.epoch_start_ms + ss.epoch_duration_ms END END) AS deadline_ms,
     coalesce(ne.start_checkpoint IS NOT NULL OR p.epoch < ss.epoch, false) AS epoch_ended,
     p.outcome, p.outcome_ms, p.created_pos, p.created_pos >> 32 AS created_checkpoint,
     p.created_ms,
     (SELECT count(*) FROM governance_votes v WHERE v.proposal_id = p.proposal_id) AS vote_count
     FROM governance_proposals p
     LEFT JOIN system_state ss ON ss.id = 1
     LEFT JOIN epochs ne ON ne.epoch = p.epoch + 1
     LEFT JOIN storage_nodes pn ON pn.node_id = p.proposer";

/// Checks `kind` and `status` filters (each known, and the status one the
/// kind can have).
pub fn check_filters(kind: Option<&str>, status: Option<&str>) -> Result<(), ApiError> {
    let statuses: Vec<&str> = match kind {
        Some(k) => {
            let Some((_, s)) = KINDS.iter().find(|(name, _)| *name == k) else {
                return Err(ApiError::bad(format!(
                    "kind must be parameter, upgrade or slashing, got {k:?}"
                )));
            };
            s.to_vec()
        }
        None => {
            let mut all: Vec<&str> = KINDS.iter().flat_map(|(_, s)| s.iter().copied()).collect();
            all.sort_unstable();
            all.dedup();
            all
        }
    };
    if let Some(st) = status
        && !statuses.contains(&st)
    {
        return Err(ApiError::bad(match kind {
            Some(k) => format!(
                "status of a {k} proposal must be one of {}, got {st:?}",
                statuses.join(", ")
            ),
            None => format!("status must be one of {}, got {st:?}", statuses.join(", ")),
        }));
    }
    Ok(())
}

/// Checks the shape of a proposal id (`parameter-N`, `upgrade-E-HEX`,
/// `slashing-E-0xHEX`), so a typo answers 400 and a well-formed unknown
/// id 404.
pub fn check_id(id: &str) -> Result<(), ApiError> {
    let bad = || {
        ApiError::bad(format!(
            "proposal id must be parameter-<n>, upgrade-<epoch>-<digest hex> or \
             slashing-<epoch>-<0x node id>, got {id:?}"
        ))
    };
    if id.len() > 200 {
        return Err(bad());
    }
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let ok = if let Some(n) = id.strip_prefix("parameter-") {
        digits(n)
    } else if let Some(rest) = id.strip_prefix("upgrade-") {
        rest.split_once('-')
            .is_some_and(|(e, d)| digits(e) && hex(d))
    } else if let Some(rest) = id.strip_prefix("slashing-") {
        rest.split_once('-').is_some_and(|(e, c)| {
            digits(e)
                && c.strip_prefix("0x")
                    .is_some_and(|h| h.len() == 64 && hex(h))
        })
    } else {
        false
    };
    if ok { Ok(()) } else { Err(bad()) }
}

#[utoipa::path(get, path = "/v1/governance", params(
    ("kind" = Option<String>, Query, description = "parameter, upgrade or slashing"),
    ("status" = Option<String>, Query, description = "parameter: open, passed, applied, expired; upgrade: open, quorum, authorized, upgraded, expired; slashing: open, quorum, executed, expired"),
    ("cursor" = Option<i64>, Query, description = "next_cursor of the previous page (a position)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses(
    (status = 200, description = "Proposals, newest first: kind, what is proposed, status, tally for and against (shards), quorum, deadline (end of the proposal's epoch, ms), outcome"),
    (status = 400, description = "Bad parameter"),
))]
pub async fn governance(State(s): State<ApiState>, Query(q): Q) -> PageAnswer {
    let p = Params::new(q, &["kind", "status", "cursor", "limit"])?;
    let kind = p.text("kind");
    let status = p.text("status");
    check_filters(kind, status)?;
    let limit = p.limit()?;
    let cursor = p.int("cursor", 0, i64::MAX)?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push("SELECT ")
        .push(PROPOSAL_COLUMNS)
        .push(" WHERE true");
    if let Some(k) = kind {
        qb.push(" AND p.kind = ").push_bind(k.to_owned());
    }
    if let Some(st) = status {
        qb.push(" AND p.status = ").push_bind(st.to_owned());
    }
    if let Some(c) = cursor {
        qb.push(" AND p.created_pos < ").push_bind(c);
    }
    qb.push(" ORDER BY p.created_pos DESC LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "created_pos");
    Ok(snap.page_answer(&data, next))
}

#[utoipa::path(get, path = "/v1/governance/{proposal_id}", params(
    ("proposal_id" = String, Path, description = "parameter-<n>, upgrade-<epoch>-<digest hex> or slashing-<epoch>-<0x node id>"),
), responses(
    (status = 200, description = "The proposal (as in the list) with every vote in chain order: node, its name, weight (shards), for or against, position, checkpoint, time, transaction"),
    (status = 400, description = "Malformed id"), (status = 404, description = "No such proposal indexed"),
))]
pub async fn proposal(State(s): State<ApiState>, Path(id): Path<String>) -> Answer {
    check_id(&id)?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let row: Option<(Value,)> = sqlx::query_as(&format!(
        "SELECT to_jsonb(t) || jsonb_build_object('votes', coalesce((
             SELECT jsonb_agg(jsonb_build_object(
                 'node_id', v.node_id, 'node_name', n.name, 'weight', v.weight,
                 'in_favor', v.in_favor, 'pos', v.pos, 'checkpoint', v.pos >> 32,
                 'timestamp_ms', v.timestamp_ms, 'tx_digest', v.tx_digest) ORDER BY v.pos)
             FROM governance_votes v LEFT JOIN storage_nodes n ON n.node_id = v.node_id
             WHERE v.proposal_id = t.proposal_id), '[]'::jsonb))
         FROM (SELECT {PROPOSAL_COLUMNS} WHERE p.proposal_id = $1) t"
    ))
    .bind(&id)
    .fetch_optional(&mut *snap.tx)
    .await?;
    let Some((data,)) = row else {
        return Err(ApiError::not_found(format!("proposal {id} not indexed")));
    };
    Ok(snap.answer(data, None))
}

#[utoipa::path(get, path = "/v1/subsidies", params(
    ("kind" = Option<String>, Query, description = "funded (the pool was funded), node (a committee node was paid), paid (one process_subsidies call: total to nodes and to future epochs)"),
    ("cursor" = Option<i64>, Query, description = "next_cursor of the previous page (a position)"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 50"),
), responses(
    (status = 200, description = "Subsidy pool events, newest first, FROST: amount, epoch, node, future epochs' part, pool balance after"),
    (status = 400, description = "Bad parameter"),
))]
pub async fn subsidies(State(s): State<ApiState>, Query(q): Q) -> PageAnswer {
    let p = Params::new(q, &["kind", "cursor", "limit"])?;
    let kind = p.text("kind");
    if let Some(k) = kind
        && !SUBSIDY_KINDS.contains(&k)
    {
        return Err(ApiError::bad(format!(
            "kind must be funded, node or paid, got {k:?}"
        )));
    }
    let limit = p.limit()?;
    let cursor = p.int("cursor", 0, i64::MAX)?;
    let mut snap = Snapshot::begin(&s.pool).await?;
    let mut qb = QueryBuilder::new(PAGE_SELECT);
    qb.push(
        "SELECT s.pos, s.pos >> 32 AS checkpoint, s.kind, s.epoch, s.node_id, n.name AS node_name,
                s.amount, s.future_subsidies, s.pool_balance, s.tx_digest, s.timestamp_ms
         FROM subsidy_payments s LEFT JOIN storage_nodes n ON n.node_id = s.node_id WHERE true",
    );
    if let Some(k) = kind {
        qb.push(" AND s.kind = ").push_bind(k.to_owned());
    }
    if let Some(c) = cursor {
        qb.push(" AND s.pos < ").push_bind(c);
    }
    qb.push(" ORDER BY s.pos DESC LIMIT ")
        .push_bind(limit + 1)
        .push(") t");
    let (data, next) = page(rows(&mut snap, qb).await?, limit, "pos");
    Ok(snap.page_answer(&data, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_ids_are_checked() {
        assert!(check_filters(None, None).is_ok());
        assert!(check_filters(Some("upgrade"), Some("authorized")).is_ok());
        assert!(check_filters(None, Some("executed")).is_ok());
        let e = check_filters(Some("parameter"), Some("quorum")).unwrap_err();
        assert!(e.reason.contains("parameter"), "{}", e.reason);
        assert!(
            check_filters(Some("vote"), None)
                .unwrap_err()
                .reason
                .contains("kind")
        );
        assert!(
            check_filters(None, Some("done"))
                .unwrap_err()
                .reason
                .contains("status")
        );
        assert!(check_id("parameter-12").is_ok());
        assert!(check_id("upgrade-3-abcdef01").is_ok());
        assert!(check_id(&format!("slashing-4-0x{}", "a".repeat(64))).is_ok());
        for bad in [
            "parameter-",
            "parameter-x",
            "upgrade-3",
            "upgrade-x-ab",
            "slashing-4-abc",
            "vote-1",
            "",
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
