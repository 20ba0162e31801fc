//! Writes the governance rows of a batch ([`GovernanceBatch`], migration
//! 0005) inside the committer's transaction, guarded like the rest:
//! proposals move only to a later position, votes and subsidy payments are
//! facts inserted once. The two outcomes that are not about a proposal id
//! named in the event (an upgrade committed, by version; upgrade and
//! slashing votes expiring at a later epoch's start) are set-based updates
//! guarded by the position of the fact behind them, so a replay matches no
//! row.

use sqlx::{Postgres, Transaction};

use crate::committer::CommitError;
use crate::governance::GovernanceBatch;

/// The arrays of the proposal statements, in `$1..$13` order.
const PROPOSAL_ROWS: &str = "UNNEST($1::text[], $2::text[], $3::int4[], $4::text[], $5::text[],
         $6::text[], $7::int4[], $8::int4[], $9::text[], $10::int8[], $11::int8[], $12::int8[],
         $13::int8[]) AS u(i, k, e, p, pr, s, vf, va, o, om, cp, cm, pos)";

fn bind_proposals<'q>(
    q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    g: &'q GovernanceBatch,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let v: Vec<_> = g.proposals.values().collect();
    q.bind(g.proposals.keys().map(String::as_str).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.kind).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.payload.as_deref()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.proposer.as_deref()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.status).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.votes_for).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.votes_against).collect::<Vec<_>>())
        .bind(
            v.iter()
                .map(|p| p.outcome.as_ref().map(|o| o.to_string()))
                .collect::<Vec<_>>(),
        )
        .bind(v.iter().map(|p| p.outcome_ms).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.created_pos).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.created_ms).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
}

pub(crate) async fn write_governance_rows(
    tx: &mut Transaction<'_, Postgres>,
    g: &GovernanceBatch,
) -> Result<(), CommitError> {
    if !g.proposals.is_empty() {
        // Rows that exist take the patch's fields that are set, if the
        // patch is later; then rows that do not exist are inserted. (One
        // upsert could not tell a field left alone from a default.)
        let update = format!(
            "UPDATE governance_proposals g SET
                 epoch = coalesce(u.e, g.epoch),
                 payload = coalesce(u.p::jsonb, g.payload),
                 proposer = coalesce(g.proposer, u.pr),
                 status = coalesce(u.s, g.status),
                 votes_for = coalesce(u.vf, g.votes_for),
                 votes_against = coalesce(u.va, g.votes_against),
                 outcome = CASE WHEN u.o IS NULL THEN g.outcome
                                ELSE coalesce(g.outcome, '{{}}'::jsonb) || u.o::jsonb END,
                 outcome_ms = coalesce(u.om, g.outcome_ms),
                 updated_pos = u.pos
             FROM {PROPOSAL_ROWS}
             WHERE g.proposal_id = u.i AND g.updated_pos < u.pos"
        );
        bind_proposals(sqlx::query(&update), g)
            .execute(&mut **tx)
            .await?;
        let insert = format!(
            "INSERT INTO governance_proposals (proposal_id, kind, epoch, payload, proposer, status,
                 votes_for, votes_against, outcome, outcome_ms, created_pos, created_ms,
                 updated_pos)
             SELECT i, k, coalesce(e, 0), coalesce(p, '{{}}')::jsonb, pr, coalesce(s, 'open'),
                    coalesce(vf, 0), coalesce(va, 0), o::jsonb, om, cp, cm, pos
             FROM {PROPOSAL_ROWS}
             ON CONFLICT (proposal_id) DO NOTHING"
        );
        bind_proposals(sqlx::query(&insert), g)
            .execute(&mut **tx)
            .await?;
    }
    if !g.votes.is_empty() {
        let v: Vec<_> = g.votes.values().collect();
        sqlx::query(
            "INSERT INTO governance_votes (proposal_id, node_id, weight, in_favor, pos, tx_digest,
                                          timestamp_ms)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int4[], $4::bool[], $5::int8[],
                                  $6::text[], $7::int8[])
             ON CONFLICT (proposal_id, node_id) DO NOTHING",
        )
        .bind(g.votes.keys().map(|k| k.0.as_str()).collect::<Vec<_>>())
        .bind(g.votes.keys().map(|k| k.1.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|r| r.weight).collect::<Vec<_>>())
        .bind(v.iter().map(|r| r.in_favor).collect::<Vec<_>>())
        .bind(v.iter().map(|r| r.pos).collect::<Vec<_>>())
        .bind(v.iter().map(|r| r.tx_digest.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|r| r.timestamp_ms).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    for u in &g.upgraded {
        // The authorized proposal of that version (the ticket names the
        // version the cap moves to).
        sqlx::query(
            "UPDATE governance_proposals SET status = 'upgraded',
                 outcome = coalesce(outcome, '{}'::jsonb)
                           || jsonb_build_object('package_id', $1::text, 'upgraded_epoch', $2::int4),
                 outcome_ms = $3, updated_pos = $4
             WHERE kind = 'upgrade' AND status = 'authorized'
               AND outcome->>'version' = $5::int8::text AND updated_pos < $4",
        )
        .bind(&u.package_id)
        .bind(u.epoch)
        .bind(u.timestamp_ms)
        .bind(u.pos)
        .bind(u.version)
        .execute(&mut **tx)
        .await?;
    }
    for (epoch, pos) in &g.epoch_starts {
        // Upgrade and slashing votes count only in their epoch.
        sqlx::query(
            "UPDATE governance_proposals SET status = 'expired', updated_pos = $2
             WHERE kind IN ('upgrade', 'slashing') AND status IN ('open', 'quorum')
               AND epoch < $1 AND updated_pos < $2",
        )
        .bind(*epoch)
        .bind(*pos)
        .execute(&mut **tx)
        .await?;
    }
    if !g.subsidies.is_empty() {
        let s = &g.subsidies;
        sqlx::query(
            "INSERT INTO subsidy_payments (pos, kind, epoch, node_id, amount, future_subsidies,
                                          pool_balance, tx_digest, timestamp_ms)
             SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int4[], $4::text[], $5::int8[],
                                  $6::int8[], $7::int8[], $8::text[], $9::int8[])
             ON CONFLICT (pos) DO NOTHING",
        )
        .bind(s.iter().map(|r| r.pos).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.kind).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.epoch).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.node_id.as_deref()).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.amount).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.future_subsidies).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.pool_balance).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.tx_digest.as_str()).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.timestamp_ms).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
