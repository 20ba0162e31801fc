//! State that no event carries: the committee of the current epoch (its
//! signing keys and weights from `System`, its shard ids from `Staking`),
//! the storage nodes in it, capacity and prices.
//!
//! Read after a batch that touched epochs (and at start-up) and upserted.
//! A committee is fixed for its epoch, so re-reading it writes the same
//! rows.

use floe_chain::floe::{Floe, FloeError};
use floe_core::committee::Committee;
use floe_core::move_types::staking::EpochState;
use sqlx::PgPool;

/// Errors reading or writing the snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Chain(#[from] FloeError),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("the on-chain committee is invalid: {0}")]
    Committee(String),
}

fn hex_id(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Reads the system state and writes committee, nodes and epoch
/// parameters.
pub async fn refresh(pool: &PgPool, floe: &Floe) -> Result<(), SnapshotError> {
    // `System` and `Staking` change together at an epoch change; read
    // both again if an epoch change fell between the two reads.
    let mut attempt = 0;
    let (state, committee, assignment, staking) = loop {
        let state = floe.system_state().await?;
        let committee = Committee::from_move(&state.committee)
            .map_err(|e| SnapshotError::Committee(e.to_string()))?;
        let staking = floe.staking_state().await?;
        if staking.epoch == committee.epoch() {
            let assignment = floe_chain::floe::staking::assignment(
                &committee,
                &staking.committee.pos0.contents,
            )?;
            break (state, committee, assignment, staking);
        }
        attempt += 1;
        if attempt == 3 {
            return Err(SnapshotError::Committee(format!(
                "System is at epoch {} but Staking at {}",
                committee.epoch(),
                staking.epoch
            )));
        }
    };
    let epoch = i32::try_from(committee.epoch()).unwrap_or(i32::MAX);
    let mut node_ids = Vec::new();
    let mut keys = Vec::new();
    let mut weights = Vec::new();
    let mut shards = Vec::new();
    for (i, member) in committee.members().iter().enumerate() {
        node_ids.push(hex_id(&member.node_id.0));
        keys.push(hex::encode(member.public_key.to_bytes()));
        weights.push(i32::from(member.weight));
        let held = assignment.shards_of(i);
        shards.push(
            held.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO committee_members (epoch, node_id, public_key, weight, shards)
         SELECT $1, n, k, w, CASE WHEN s = '' THEN '{}'::int[] ELSE string_to_array(s, ',')::int[] END
         FROM UNNEST($2::text[], $3::text[], $4::int4[], $5::text[]) AS u(n, k, w, s)
         ON CONFLICT (epoch, node_id) DO NOTHING",
    )
    .bind(epoch)
    .bind(&node_ids)
    .bind(&keys)
    .bind(&weights)
    .bind(&shards)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO storage_nodes (node_id, public_key, updated_pos)
         SELECT n, k, 0 FROM UNNEST($1::text[], $2::text[]) AS u(n, k)
         ON CONFLICT (node_id) DO UPDATE SET public_key = EXCLUDED.public_key",
    )
    .bind(&node_ids)
    .bind(&keys)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO epochs (epoch, storage_price, write_price, total_capacity, n_shards, updated_pos)
         VALUES ($1, $2, $3, $4, $5, 0)
         ON CONFLICT (epoch) DO UPDATE SET
             storage_price = coalesce(epochs.storage_price, EXCLUDED.storage_price),
             write_price = coalesce(epochs.write_price, EXCLUDED.write_price),
             total_capacity = EXCLUDED.total_capacity,
             n_shards = EXCLUDED.n_shards",
    )
    .bind(epoch)
    .bind(i64::try_from(state.storage_price_per_unit_size).unwrap_or(i64::MAX))
    .bind(i64::try_from(state.write_price_per_unit_size).unwrap_or(i64::MAX))
    .bind(i64::try_from(state.total_capacity_size).unwrap_or(i64::MAX))
    .bind(i32::from(committee.n_shards()))
    .execute(&mut *tx)
    .await?;
    // The epoch's timing (migration 0003), for a reader's phase and time
    // left.
    let (epoch_state, epoch_start_ms) = match staking.epoch_state {
        EpochState::EpochChangeSync(_) => ("change_sync", None),
        EpochState::EpochChangeDone(start) => ("change_done", Some(start)),
        EpochState::NextParamsSelected(start) => ("params_selected", Some(start)),
    };
    let ms = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO system_state (id, epoch, total_capacity, used_capacity, storage_price, write_price, n_shards,
                                   epoch_state, epoch_start_ms, epoch_duration_ms, first_epoch_start_ms)
         VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET epoch = EXCLUDED.epoch,
             total_capacity = EXCLUDED.total_capacity, used_capacity = EXCLUDED.used_capacity,
             storage_price = EXCLUDED.storage_price, write_price = EXCLUDED.write_price,
             n_shards = EXCLUDED.n_shards, epoch_state = EXCLUDED.epoch_state,
             epoch_start_ms = EXCLUDED.epoch_start_ms, epoch_duration_ms = EXCLUDED.epoch_duration_ms,
             first_epoch_start_ms = EXCLUDED.first_epoch_start_ms",
    )
    .bind(epoch)
    .bind(i64::try_from(state.total_capacity_size).unwrap_or(i64::MAX))
    .bind(i64::try_from(state.used_capacity_size).unwrap_or(i64::MAX))
    .bind(i64::try_from(state.storage_price_per_unit_size).unwrap_or(i64::MAX))
    .bind(i64::try_from(state.write_price_per_unit_size).unwrap_or(i64::MAX))
    .bind(i32::from(committee.n_shards()))
    .bind(epoch_state)
    .bind(epoch_start_ms.map(ms))
    .bind(ms(staking.epoch_duration))
    .bind(ms(staking.first_epoch_start))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
