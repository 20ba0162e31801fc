//! The committer: one Postgres transaction writes a batch's rows and moves
//! the watermark, so a batch is either entirely in the index or not at all
//! (also after kill -9: an uncommitted transaction leaves no trace).
//!
//! Every table is written with one set-based statement over `UNNEST`ed
//! arrays (a handful of round trips per batch, whatever its size), and
//! every write is idempotent: events are keyed by position and ignored when
//! present; state rows are updated only by facts with a later position
//! than the one they remember. So replaying checkpoints changes nothing.

use sqlx::{PgPool, Postgres, Transaction};

use crate::processor::Batch;

/// Errors writing to Postgres.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error(
        "the index in this database follows chain {indexed}, not {connected}; use another database"
    )]
    WrongChain { indexed: String, connected: String },
    #[error("batch starts at checkpoint {first} but the watermark is {watermark:?}: a gap")]
    Gap { first: u64, watermark: Option<u64> },
}

impl CommitError {
    /// Errors a retry can fix (the database restarting, a dropped
    /// connection), as opposed to a wrong chain or a bug.
    pub fn is_transient(&self) -> bool {
        match self {
            CommitError::Db(sqlx::Error::Database(d)) => {
                // SQLSTATE classes: 08 connection, 57 operator intervention
                // (shutdown, restart), 53 insufficient resources, 40
                // serialisation/deadlock. Anything else (constraint,
                // syntax) is a bug or a foreign schema.
                d.code()
                    .is_some_and(|c| ["08", "57", "53", "40"].iter().any(|p| c.starts_with(p)))
            }
            CommitError::Db(_) => true,
            CommitError::WrongChain { .. } | CommitError::Gap { .. } => false,
        }
    }
}

/// The watermark of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    pub chain_id: String,
    pub checkpoint: u64,
}

/// Reads the watermark of `pipeline`, if it has committed anything.
pub async fn watermark(pool: &PgPool, pipeline: &str) -> Result<Option<Watermark>, CommitError> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT chain_id, checkpoint FROM watermarks WHERE pipeline = $1")
            .bind(pipeline)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(chain_id, checkpoint)| Watermark {
        chain_id,
        checkpoint: checkpoint.max(0) as u64,
    }))
}

/// Outcome of [`commit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Rows and watermark written.
    Written,
    /// The watermark was already at or past the batch (a concurrent or
    /// earlier writer did it); nothing written.
    AlreadyIndexed,
}

/// Writes `batch` and moves the watermark of `pipeline` to its last
/// checkpoint, in one transaction. The watermark row is locked first, so
/// two indexers on one database serialise instead of interleaving.
pub async fn commit(
    pool: &PgPool,
    pipeline: &str,
    chain_id: &str,
    batch: &Batch,
) -> Result<Committed, CommitError> {
    let (Some(first), Some(last)) = (batch.first, batch.last) else {
        return Ok(Committed::AlreadyIndexed);
    };
    let mut tx = pool.begin().await?;
    let current: Option<(String, i64)> = sqlx::query_as(
        "SELECT chain_id, checkpoint FROM watermarks WHERE pipeline = $1 FOR UPDATE",
    )
    .bind(pipeline)
    .fetch_optional(&mut *tx)
    .await?;
    let current_checkpoint = match &current {
        Some((indexed, _)) if indexed != chain_id => {
            return Err(CommitError::WrongChain {
                indexed: indexed.clone(),
                connected: chain_id.to_owned(),
            });
        }
        Some((_, c)) => Some(*c as u64),
        None => None,
    };
    if current_checkpoint.is_some_and(|c| c >= last) {
        return Ok(Committed::AlreadyIndexed);
    }
    // Overlap with what is indexed is harmless (idempotent writes); a gap
    // is not: checkpoints between the watermark and the batch would be lost.
    let expected_first = current_checkpoint.map_or(0, |c| c + 1);
    if first > expected_first && current.is_some() {
        return Err(CommitError::Gap {
            first,
            watermark: current_checkpoint,
        });
    }
    write_rows(&mut tx, batch).await?;
    sqlx::query(
        "INSERT INTO watermarks (pipeline, chain_id, checkpoint, timestamp_ms, updated_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (pipeline) DO UPDATE SET checkpoint = EXCLUDED.checkpoint,
             timestamp_ms = EXCLUDED.timestamp_ms, updated_at = now()",
    )
    .bind(pipeline)
    .bind(chain_id)
    .bind(last as i64)
    .bind(batch.last_timestamp_ms.and_then(|t| i64::try_from(t).ok()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Committed::Written)
}

/// Writes a batch's rows without touching the watermark. Idempotent: the
/// same batch written twice, or an older batch written after a newer one,
/// leaves every row as it was.
pub async fn write_rows(tx: &mut Transaction<'_, Postgres>, b: &Batch) -> Result<(), CommitError> {
    if !b.checkpoints.is_empty() {
        let c = &b.checkpoints;
        sqlx::query(
            "INSERT INTO checkpoints (sequence_number, digest, timestamp_ms, transactions, floe_events)
             SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::int4[], $5::int4[])
             ON CONFLICT (sequence_number) DO NOTHING",
        )
        .bind(c.iter().map(|r| r.sequence_number).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.digest.clone()).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.timestamp_ms).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.transactions).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.floe_events).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !b.events.is_empty() {
        let e = &b.events;
        sqlx::query(
            "INSERT INTO events (pos, checkpoint, tx_digest, event_index, sender, module, name,
                                 type_tag, fields, bcs, timestamp_ms, object_id)
             SELECT pos, cp, d, ei, s, m, n, t, f::jsonb, b, ts, o
             FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::int4[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::bytea[], $11::int8[], $12::text[])
                  AS u(pos, cp, d, ei, s, m, n, t, f, b, ts, o)
             ON CONFLICT (pos) DO NOTHING",
        )
        .bind(e.iter().map(|r| r.pos).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.checkpoint).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.tx_digest.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.event_index).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.sender.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.module.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.type_tag.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.fields.as_deref()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.bcs.as_slice()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.timestamp_ms).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.object_id.as_deref()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !b.invalid_ids.is_empty() {
        sqlx::query(
            "INSERT INTO invalid_blob_ids (blob_id, epoch, pos)
             SELECT * FROM UNNEST($1::text[], $2::int4[], $3::int8[])
             ON CONFLICT (blob_id) DO NOTHING",
        )
        .bind(b.invalid_ids.keys().map(String::as_str).collect::<Vec<_>>())
        .bind(b.invalid_ids.values().map(|r| r.epoch).collect::<Vec<_>>())
        .bind(b.invalid_ids.values().map(|r| r.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !b.blobs.is_empty() {
        let v: Vec<_> = b.blobs.values().collect();
        sqlx::query(
            "INSERT INTO blobs (object_id, blob_id, size, encoded_size, encoding_type, deletable,
                               registered_epoch, certified_epoch, end_epoch, status,
                               created_pos, updated_pos)
             SELECT o, bid, sz, esz, et, del, re, ce, ee, coalesce(st, 'registered'),
                    coalesce(cp, pos), pos
             FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int2[], $6::bool[],
                         $7::int4[], $8::int4[], $9::int4[], $10::text[], $11::int8[], $12::int8[])
                  AS u(o, bid, sz, esz, et, del, re, ce, ee, st, cp, pos)
             ON CONFLICT (object_id) DO UPDATE SET
                 blob_id = EXCLUDED.blob_id,
                 size = coalesce(EXCLUDED.size, blobs.size),
                 encoded_size = coalesce(EXCLUDED.encoded_size, blobs.encoded_size),
                 encoding_type = coalesce(EXCLUDED.encoding_type, blobs.encoding_type),
                 deletable = coalesce(EXCLUDED.deletable, blobs.deletable),
                 registered_epoch = coalesce(EXCLUDED.registered_epoch, blobs.registered_epoch),
                 certified_epoch = coalesce(EXCLUDED.certified_epoch, blobs.certified_epoch),
                 end_epoch = coalesce(EXCLUDED.end_epoch, blobs.end_epoch),
                 status = CASE WHEN blobs.status = 'deleted' THEN blobs.status
                               ELSE EXCLUDED.status END,
                 created_pos = least(blobs.created_pos, EXCLUDED.created_pos),
                 updated_pos = EXCLUDED.updated_pos
             WHERE blobs.updated_pos < EXCLUDED.updated_pos",
        )
        .bind(b.blobs.keys().map(String::as_str).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.blob_id.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.size).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.encoded_size).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.encoding_type).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.deletable).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.registered_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.certified_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.end_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.status).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.created_pos).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !b.blobs.is_empty() || !b.invalid_ids.is_empty() {
        // A blob whose id is (or becomes) invalid is invalid, unless it is
        // gone already. Restricted to ids this batch touched.
        let ids: Vec<&str> = b
            .blobs
            .values()
            .map(|p| p.blob_id.as_str())
            .chain(b.invalid_ids.keys().map(String::as_str))
            .collect();
        sqlx::query(
            "UPDATE blobs SET status = 'invalid'
             FROM invalid_blob_ids i
             WHERE blobs.blob_id = i.blob_id AND i.blob_id = ANY($1::text[])
               AND blobs.status NOT IN ('invalid', 'deleted')",
        )
        .bind(ids)
        .execute(&mut **tx)
        .await?;
    }
    if !b.objects.is_empty() {
        let v: Vec<_> = b.objects.values().collect();
        let ids: Vec<&str> = b.objects.keys().map(String::as_str).collect();
        // Objects the index does not track (gas coins, other packages'
        // objects) match no row; the join on the primary key makes them
        // cheap.
        sqlx::query(
            "UPDATE blobs SET owner = u.owner, owner_pos = u.pos,
                 status = CASE WHEN u.deleted THEN 'deleted' ELSE blobs.status END
             FROM UNNEST($1::text[], $2::text[], $3::bool[], $4::int8[]) AS u(o, owner, deleted, pos)
             WHERE blobs.object_id = u.o AND blobs.owner_pos < u.pos",
        )
        .bind(&ids)
        .bind(v.iter().map(|p| p.owner.as_deref()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.deleted).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
        // Runs after the storage upserts (in `write_object_rows`), so a
        // resource created and wrapped in one batch ends up wrapped.
        write_object_rows(tx, b).await?;
        sqlx::query(
            "UPDATE storage_resources SET owner = u.owner, deleted = u.deleted, updated_pos = u.pos,
                 state = CASE WHEN u.deleted THEN 'destroyed'
                              WHEN u.owner IS NULL THEN 'wrapped' ELSE 'owned' END
             FROM UNNEST($1::text[], $2::text[], $3::bool[], $4::int8[]) AS u(o, owner, deleted, pos)
             WHERE storage_resources.object_id = u.o AND storage_resources.updated_pos < u.pos",
        )
        .bind(&ids)
        .bind(v.iter().map(|p| p.owner.as_deref()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.deleted).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if b.objects.is_empty() {
        write_object_rows(tx, b).await?;
    }
    if !b.epochs.is_empty() {
        let v: Vec<_> = b.epochs.values().collect();
        sqlx::query(
            "INSERT INTO epochs (epoch, start_checkpoint, start_ms, done_checkpoint, done_ms,
                                params_selected_ms, storage_price, write_price, updated_pos)
             SELECT * FROM UNNEST($1::int4[], $2::int8[], $3::int8[], $4::int8[], $5::int8[],
                                  $6::int8[], $7::int8[], $8::int8[], $9::int8[])
             ON CONFLICT (epoch) DO UPDATE SET
                 start_checkpoint = coalesce(EXCLUDED.start_checkpoint, epochs.start_checkpoint),
                 start_ms = coalesce(EXCLUDED.start_ms, epochs.start_ms),
                 done_checkpoint = coalesce(EXCLUDED.done_checkpoint, epochs.done_checkpoint),
                 done_ms = coalesce(EXCLUDED.done_ms, epochs.done_ms),
                 params_selected_ms = coalesce(EXCLUDED.params_selected_ms, epochs.params_selected_ms),
                 storage_price = coalesce(EXCLUDED.storage_price, epochs.storage_price),
                 write_price = coalesce(EXCLUDED.write_price, epochs.write_price),
                 updated_pos = EXCLUDED.updated_pos
             WHERE epochs.updated_pos < EXCLUDED.updated_pos",
        )
        .bind(b.epochs.keys().copied().collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.start_checkpoint).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.start_ms).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.done_checkpoint).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.done_ms).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.params_selected_ms).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.storage_price).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.write_price).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    crate::governance_commit::write_governance_rows(tx, &b.governance).await?;
    crate::money_commit::write_money_rows(tx, &b.money).await?;
    Ok(())
}

/// Storage resources, attributes and payments (rows read from object
/// contents), each guarded by position like the event-derived rows.
async fn write_object_rows(
    tx: &mut Transaction<'_, Postgres>,
    b: &Batch,
) -> Result<(), CommitError> {
    if !b.storage.is_empty() {
        let v: Vec<_> = b.storage.values().collect();
        sqlx::query(
            "INSERT INTO storage_resources (object_id, owner, start_epoch, end_epoch, storage_size,
                                           deleted, state, created_pos, updated_pos)
             SELECT o, ow, s, e, sz, false, 'owned', pos, pos
             FROM UNNEST($1::text[], $2::text[], $3::int4[], $4::int4[], $5::int8[], $6::int8[])
                  AS u(o, ow, s, e, sz, pos)
             ON CONFLICT (object_id) DO UPDATE SET owner = EXCLUDED.owner,
                 start_epoch = EXCLUDED.start_epoch, end_epoch = EXCLUDED.end_epoch,
                 storage_size = EXCLUDED.storage_size, deleted = false, state = 'owned',
                 updated_pos = EXCLUDED.updated_pos
             WHERE storage_resources.updated_pos < EXCLUDED.updated_pos",
        )
        .bind(b.storage.keys().map(String::as_str).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.owner.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.start_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.end_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.storage_size).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !b.attributes.is_empty() {
        let v: Vec<_> = b.attributes.values().collect();
        sqlx::query(
            "UPDATE blobs SET attributes = u.a::jsonb, attributes_pos = u.pos
             FROM UNNEST($1::text[], $2::text[], $3::int8[]) AS u(o, a, pos)
             WHERE blobs.object_id = u.o AND blobs.attributes_pos < u.pos",
        )
        .bind(b.attributes.keys().map(String::as_str).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.attributes.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !b.payments.is_empty() {
        let p = &b.payments;
        sqlx::query(
            "INSERT INTO payments (pos, kind, payer, epoch, amount, tx_digest)
             SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::int4[], $5::int8[],
                                  $6::text[])
             ON CONFLICT (pos, kind) DO NOTHING",
        )
        .bind(p.iter().map(|r| r.pos).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.kind).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.payer.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.epoch).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.amount).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.tx_digest.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
