//! Writes the staking rows of a batch ([`MoneyBatch`], migration 0004)
//! inside the committer's transaction, with the same guards as the rest:
//! facts (an epoch's rewards, a pool's row for an epoch, a collection, a
//! renewal) are keyed by what they are about and inserted once; state rows
//! (nodes, stakes, shared blobs) move only to a later position. A replayed
//! batch therefore changes nothing.

use sqlx::{Postgres, Transaction};

use crate::committer::CommitError;
use crate::processor::MoneyBatch;

pub(crate) async fn write_money_rows(
    tx: &mut Transaction<'_, Postgres>,
    m: &MoneyBatch,
) -> Result<(), CommitError> {
    if !m.nodes.is_empty() {
        let v: Vec<_> = m.nodes.values().collect();
        sqlx::query(
            "INSERT INTO storage_nodes (node_id, name, public_key, network_address, stake,
                 commission_rate, votes, pending_stake, num_shares, rewards_pool,
                 commission_balance, latest_epoch, activation_epoch, pool_state, updated_pos)
             SELECT n, nm, pk, na, st, cr, v::jsonb, ps, ns, rp, cb, le, ae, pst, pos
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int4[],
                         $7::text[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int4[],
                         $13::int4[], $14::text[], $15::int8[])
                  AS u(n, nm, pk, na, st, cr, v, ps, ns, rp, cb, le, ae, pst, pos)
             ON CONFLICT (node_id) DO UPDATE SET name = EXCLUDED.name,
                 public_key = EXCLUDED.public_key, network_address = EXCLUDED.network_address,
                 stake = EXCLUDED.stake, commission_rate = EXCLUDED.commission_rate,
                 votes = EXCLUDED.votes, pending_stake = EXCLUDED.pending_stake,
                 num_shares = EXCLUDED.num_shares, rewards_pool = EXCLUDED.rewards_pool,
                 commission_balance = EXCLUDED.commission_balance,
                 latest_epoch = EXCLUDED.latest_epoch, activation_epoch = EXCLUDED.activation_epoch,
                 pool_state = EXCLUDED.pool_state, updated_pos = EXCLUDED.updated_pos
             WHERE storage_nodes.updated_pos < EXCLUDED.updated_pos",
        )
        .bind(m.nodes.keys().map(String::as_str).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.public_key.as_str()).collect::<Vec<_>>())
        .bind(
            v.iter()
                .map(|p| p.network_address.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(v.iter().map(|p| p.stake).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.commission_rate).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.votes.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pending_stake).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.num_shares).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.rewards_pool).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.commission_balance).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.latest_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.activation_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pool_state.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !m.pool_epochs.is_empty() {
        let v: Vec<_> = m.pool_epochs.values().collect();
        // Shards as "1,2,3" text ('' = none, NULL = unknown): UNNEST of a
        // two-dimensional array would need equal lengths.
        let shards: Vec<Option<String>> = v
            .iter()
            .map(|p| {
                p.shards.as_ref().map(|s| {
                    s.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                })
            })
            .collect();
        sqlx::query(
            "INSERT INTO pool_epochs (node_id, epoch, stake, num_shares, rate_wal, rate_shares,
                                     commission_rate, shards, pos)
             SELECT n, e, st, ns, rw::numeric, rs::numeric, cr,
                    CASE WHEN sh IS NULL THEN NULL WHEN sh = '' THEN '{}'::int[]
                         ELSE string_to_array(sh, ',')::int[] END,
                    pos
             FROM UNNEST($1::text[], $2::int4[], $3::int8[], $4::int8[], $5::text[], $6::text[],
                         $7::int4[], $8::text[], $9::int8[])
                  AS u(n, e, st, ns, rw, rs, cr, sh, pos)
             ON CONFLICT (node_id, epoch) DO NOTHING",
        )
        .bind(v.iter().map(|p| p.node_id.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.stake).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.num_shares).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.rate_wal.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.rate_shares.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.commission_rate).collect::<Vec<_>>())
        .bind(&shards)
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
        // The older per-node stake history (migration 0001) from the same
        // facts.
        sqlx::query(
            "INSERT INTO node_stake_history (node_id, epoch, stake)
             SELECT * FROM UNNEST($1::text[], $2::int4[], $3::int8[])
             ON CONFLICT (node_id, epoch) DO NOTHING",
        )
        .bind(v.iter().map(|p| p.node_id.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.stake).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !m.epoch_rewards.is_empty() {
        let v: Vec<_> = m.epoch_rewards.values().collect();
        sqlx::query(
            "INSERT INTO epoch_rewards (epoch, bucket, burnt, distributed, carried_over,
                                       used_capacity, nodes, pos, tx_digest, timestamp_ms)
             SELECT * FROM UNNEST($1::int4[], $2::int8[], $3::int8[], $4::int8[], $5::int8[],
                                  $6::int8[], $7::int4[], $8::int8[], $9::text[], $10::int8[])
             ON CONFLICT (epoch) DO NOTHING",
        )
        .bind(v.iter().map(|p| p.epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.bucket).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.burnt).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.distributed).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.carried_over).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.used_capacity).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.nodes).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.tx_digest.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.timestamp_ms).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !m.node_rewards.is_empty() {
        let v: Vec<_> = m.node_rewards.values().collect();
        sqlx::query(
            "INSERT INTO node_rewards (epoch, node_id, weight, reward, commission, stakers, pos)
             SELECT * FROM UNNEST($1::int4[], $2::text[], $3::int4[], $4::int8[], $5::int8[],
                                  $6::int8[], $7::int8[])
             ON CONFLICT (epoch, node_id) DO NOTHING",
        )
        .bind(v.iter().map(|p| p.epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.node_id.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.weight).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.reward).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.commission).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.stakers).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !m.stakes.is_empty() {
        let v: Vec<_> = m.stakes.values().collect();
        sqlx::query(
            "INSERT INTO staked_wal (object_id, owner, node_id, amount, activation_epoch,
                 withdraw_epoch, state, created_pos, withdraw_requested_pos, withdrawn_pos,
                 withdrawn_amount, rewards, updated_pos)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int4[],
                                  $6::int4[], $7::text[], $8::int8[], $9::int8[], $10::int8[],
                                  $11::int8[], $12::int8[], $13::int8[])
             ON CONFLICT (object_id) DO UPDATE SET owner = EXCLUDED.owner,
                 node_id = EXCLUDED.node_id, amount = EXCLUDED.amount,
                 activation_epoch = EXCLUDED.activation_epoch,
                 withdraw_epoch = EXCLUDED.withdraw_epoch, state = EXCLUDED.state,
                 created_pos = coalesce(staked_wal.created_pos, EXCLUDED.created_pos),
                 withdraw_requested_pos = coalesce(staked_wal.withdraw_requested_pos,
                                                   EXCLUDED.withdraw_requested_pos),
                 withdrawn_pos = EXCLUDED.withdrawn_pos,
                 withdrawn_amount = EXCLUDED.withdrawn_amount, rewards = EXCLUDED.rewards,
                 updated_pos = EXCLUDED.updated_pos
             WHERE staked_wal.updated_pos < EXCLUDED.updated_pos",
        )
        .bind(m.stakes.keys().map(String::as_str).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.owner.as_deref()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.node_id.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.amount).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.activation_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.withdraw_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.state).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.created_pos).collect::<Vec<_>>())
        .bind(
            v.iter()
                .map(|p| p.withdraw_requested_pos)
                .collect::<Vec<_>>(),
        )
        .bind(v.iter().map(|p| p.withdrawn_pos).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.withdrawn_amount).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.rewards).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !m.collections.is_empty() {
        let c = &m.collections;
        sqlx::query(
            "INSERT INTO commission_collections (pos, node_id, amount, collector, tx_digest)
             SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[])
             ON CONFLICT (pos, node_id) DO NOTHING",
        )
        .bind(c.iter().map(|r| r.pos).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.node_id.as_str()).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.amount).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.collector.as_str()).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.tx_digest.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !m.shared_blobs.is_empty() {
        let v: Vec<_> = m.shared_blobs.values().collect();
        sqlx::query(
            "INSERT INTO shared_blobs (object_id, blob_object_id, blob_id, storage_size, end_epoch,
                                      funds, created_pos, updated_pos)
             SELECT o, bo, b, sz, e, f, coalesce(cp, pos), pos
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int4[], $6::int8[],
                         $7::int8[], $8::int8[]) AS u(o, bo, b, sz, e, f, cp, pos)
             ON CONFLICT (object_id) DO UPDATE SET blob_object_id = EXCLUDED.blob_object_id,
                 blob_id = EXCLUDED.blob_id, storage_size = EXCLUDED.storage_size,
                 end_epoch = EXCLUDED.end_epoch, funds = EXCLUDED.funds,
                 created_pos = least(shared_blobs.created_pos, EXCLUDED.created_pos),
                 updated_pos = EXCLUDED.updated_pos
             WHERE shared_blobs.updated_pos < EXCLUDED.updated_pos",
        )
        .bind(
            m.shared_blobs
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        )
        .bind(
            v.iter()
                .map(|p| p.blob_object_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(v.iter().map(|p| p.blob_id.as_str()).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.storage_size).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.end_epoch).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.funds).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.created_pos).collect::<Vec<_>>())
        .bind(v.iter().map(|p| p.pos).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !m.renewals.is_empty() {
        let r = &m.renewals;
        sqlx::query(
            "INSERT INTO shared_blob_renewals (pos, shared_blob_id, blob_id, from_end_epoch,
                 to_end_epoch, cost, funds_after, payer, tx_digest)
             SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::int4[], $5::int4[],
                                  $6::int8[], $7::int8[], $8::text[], $9::text[])
             ON CONFLICT (pos, shared_blob_id) DO NOTHING",
        )
        .bind(r.iter().map(|x| x.pos).collect::<Vec<_>>())
        .bind(
            r.iter()
                .map(|x| x.shared_blob_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(r.iter().map(|x| x.blob_id.as_str()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.from_end_epoch).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.to_end_epoch).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.cost).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.funds_after).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.payer.as_str()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.tx_digest.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
