//! Staking: reads of the shared `Staking` object (epoch state machine,
//! committees with shard ids, pools), of `StakedWal` and `StorageNodeCap`
//! objects and of the chain clock; and one call per staking entry point
//! (stake, withdraw, the epoch-change steps).
//!
//! Pools live in `StakingInnerV1.pools`, an `ObjectTable<ID, StakingPool>`
//! as on Walrus: each pool is an object whose id is the node id, so
//! [`Floe::pool`] is one object read of the node id (on the devnet ledger
//! and on Sui alike) and [`Floe::pools`] lists the table's dynamic object
//! fields and reads each child.

use floe_core::committee::Committee;
use floe_core::move_types::{
    DynamicField, EpochState, ObjectId, StakedWal, Staking, StakingInnerV1, StakingPool,
    StorageNodeCap,
};
use floe_core::shard_assignment::ShardAssignment;
use serde::Deserialize;
use sui_sdk_types::{Address, TypeTag};
use sui_transaction_builder::TransactionBuilder;

use super::{Floe, FloeError, to_address};
use crate::error::ChainError;
use crate::keystore::KeyPair;
use crate::types::ExecutedTx;

/// The shared `0x2::clock::Clock`.
pub const CLOCK: Address = Address::from_static("0x6");

/// Bound on pools listed at once (Walrus caps the active set at 150 nodes;
/// candidates beyond that are bounded by this).
pub const MAX_POOLS: usize = 2_000;

#[derive(Deserialize)]
struct Clock {
    _id: ObjectId,
    timestamp_ms: u64,
}

/// Where the epoch stands, with the chain's clock, as the coordinator and
/// the CLI need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochStatus {
    /// The current epoch.
    pub epoch: u32,
    /// The epoch state machine.
    pub state: EpochState,
    /// Nominal epoch length (ms).
    pub epoch_duration_ms: u64,
    /// When epoch 0 ends (ms since the Unix epoch).
    pub first_epoch_start_ms: u64,
    /// The chain clock (ms since the Unix epoch).
    pub clock_ms: u64,
}

/// The next epoch-change step that is allowed, and from when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochStep {
    /// `voting_end` (select the next committee), allowed from `at_ms`.
    VotingEnd { at_ms: u64 },
    /// `initiate_epoch_change`, allowed from `at_ms`.
    InitiateEpochChange { at_ms: u64 },
    /// Waiting for storage nodes' `epoch_sync_done` (no permissionless
    /// step exists); `weight` shards have reported.
    AwaitSync { weight: u16 },
}

impl EpochStatus {
    /// What may be called next, with the contract's timing rules (Walrus's
    /// `staking_inner.move`, twinned in `contracts/src/floe/staking_inner.rs`):
    /// voting ends half-way through an epoch, the change starts at its end;
    /// epoch 0 ends at `first_epoch_start`.
    pub fn next_step(&self) -> EpochStep {
        let half = self.epoch_duration_ms / 2;
        match self.state {
            EpochState::EpochChangeSync(weight) => EpochStep::AwaitSync { weight },
            EpochState::EpochChangeDone(start) => EpochStep::VotingEnd {
                at_ms: if self.epoch == 0 {
                    self.first_epoch_start_ms
                } else {
                    start.saturating_add(half)
                },
            },
            EpochState::NextParamsSelected(start) => EpochStep::InitiateEpochChange {
                at_ms: if self.epoch == 0 {
                    self.first_epoch_start_ms
                } else {
                    start.saturating_add(self.epoch_duration_ms)
                },
            },
        }
    }

    /// When the current epoch is expected to end (ms), if it has started.
    pub fn expected_end_ms(&self) -> Option<u64> {
        if self.epoch == 0 {
            return Some(self.first_epoch_start_ms);
        }
        self.state
            .epoch_start_ms()
            .map(|s| s.saturating_add(self.epoch_duration_ms))
    }
}

fn bcs_key<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, FloeError> {
    bcs::to_bytes(value).map_err(|e| FloeError::Committee(e.to_string()))
}

impl Floe {
    /// The `Staking` shell.
    pub async fn staking(&self) -> Result<Staking, FloeError> {
        Ok(self.client.get_object_as(self.ids.staking).await?.1)
    }

    /// The staking state: the dynamic field of `Staking` keyed by its
    /// version.
    pub async fn staking_state(&self) -> Result<StakingInnerV1, FloeError> {
        let staking = self.staking().await?;
        let key = bcs_key(&staking.version)?;
        let field_id = self
            .ids
            .staking
            .derive_dynamic_child_id(&TypeTag::U64, &key);
        let field: DynamicField<u64, StakingInnerV1> = self.client.get_object_as(field_id).await?.1;
        Ok(field.value)
    }

    /// The chain clock (ms since the Unix epoch), from `0x6`.
    pub async fn clock_ms(&self) -> Result<u64, FloeError> {
        let clock: Clock = self.client.get_object_as(CLOCK).await?.1;
        Ok(clock.timestamp_ms)
    }

    /// The epoch state machine and the clock.
    pub async fn epoch_status(&self) -> Result<EpochStatus, FloeError> {
        let state = self.staking_state().await?;
        let clock_ms = self.clock_ms().await?;
        Ok(EpochStatus {
            epoch: state.epoch,
            state: state.epoch_state,
            epoch_duration_ms: state.epoch_duration,
            first_epoch_start_ms: state.first_epoch_start,
            clock_ms,
        })
    }

    /// The current signing committee and where its shards are, checked
    /// against each other.
    pub async fn committee_with_shards(&self) -> Result<(Committee, ShardAssignment), FloeError> {
        let (committee, _, shards) = self.committee_and_staking().await?;
        Ok((committee, shards))
    }

    /// The current signing committee, the staking state and where the
    /// committee's shards are, read so that they belong together.
    ///
    /// Why: the signing committee (in `System`) and the shard map (in
    /// `Staking`) are two objects, read one after the other. The epoch
    /// change rewrites both in one transaction, so when it lands between
    /// the two reads, one epoch's committee meets the next epoch's shards
    /// and the pair looks invalid (a node holding more shards than it
    /// weighs) although the chain never held it (seen in
    /// `epochs_e2e::reads_fall_back_to_previous_holders_during_an_epoch_change`).
    /// A pair whose epochs differ is read again, a few times at most; a
    /// pair of one epoch that does not fit is a real error.
    pub async fn committee_and_staking(
        &self,
    ) -> Result<(Committee, StakingInnerV1, ShardAssignment), FloeError> {
        let mut attempt = 1;
        loop {
            let committee = self.committee().await?;
            let state = self.staking_state().await?;
            if committee.epoch() == state.epoch {
                let shards = assignment(&committee, &state.committee.pos0.contents)?;
                return Ok((committee, state, shards));
            }
            if attempt == MAX_TORN_COMMITTEE_READS {
                return Err(FloeError::Committee(format!(
                    "the signing committee (epoch {}) and the staking state (epoch {}) \
                     disagreed in {attempt} reads in a row",
                    committee.epoch(),
                    state.epoch
                )));
            }
            attempt += 1;
            tokio::time::sleep(TORN_READ_PAUSE).await;
        }
    }

    /// One staking pool: the object whose id is the node id.
    pub async fn pool(&self, node_id: ObjectId) -> Result<StakingPool, FloeError> {
        let pool: StakingPool = self.client.get_object_as(to_address(node_id)).await?.1;
        if pool.node_info.node_id != node_id {
            return Err(FloeError::Committee(format!(
                "object {node_id} is the pool of node {}, not of itself",
                pool.node_info.node_id
            )));
        }
        Ok(pool)
    }

    /// Every staking pool, in the table's order.
    pub async fn pools(&self) -> Result<Vec<StakingPool>, FloeError> {
        let state = self.staking_state().await?;
        let table = to_address(state.pools.id);
        let mut out = Vec::new();
        let mut page = None;
        loop {
            let fields = self.client.list_dynamic_fields(table, page, 200).await?;
            for f in &fields.items {
                // Each entry is a dynamic object field: the pool is its
                // child object, whose id is the node id (the entry's name).
                let id = match f.child_id {
                    Some(id) => id,
                    None => f.name_as::<Address>()?,
                };
                out.push(self.client.get_object_as(id).await?.1);
            }
            if out.len() > MAX_POOLS {
                return Err(ChainError::TooMany {
                    what: "staking pools".into(),
                    limit: MAX_POOLS,
                }
                .into());
            }
            match fields.next {
                Some(next) => page = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// `StakedWal`s owned by `owner`.
    pub async fn owned_staked_wal(
        &self,
        owner: Address,
    ) -> Result<Vec<(Address, StakedWal)>, FloeError> {
        self.owned(owner, "staked_wal", "StakedWal").await
    }

    /// One `StakedWal` by id.
    pub async fn staked_wal(&self, id: Address) -> Result<StakedWal, FloeError> {
        Ok(self.client.get_object_as(id).await?.1)
    }

    /// `StorageNodeCap`s owned by `owner` (a node operator's).
    pub async fn owned_node_caps(
        &self,
        owner: Address,
    ) -> Result<Vec<(Address, StorageNodeCap)>, FloeError> {
        self.owned(owner, "storage_node", "StorageNodeCap").await
    }

    async fn staking_arg(
        &self,
        b: &mut TransactionBuilder,
    ) -> Result<sui_transaction_builder::Argument, FloeError> {
        let input = self.client.object_input(self.ids.staking, true).await?;
        Ok(b.object(input))
    }

    async fn clock_arg(
        &self,
        b: &mut TransactionBuilder,
    ) -> Result<sui_transaction_builder::Argument, FloeError> {
        let input = self.client.object_input(CLOCK, false).await?;
        Ok(b.object(input))
    }

    /// `staking::stake_with_pool` of `amount` FROST split off `payment`;
    /// the `StakedWal` goes to the signer.
    pub async fn stake_with_pool(
        &self,
        key: &KeyPair,
        node_id: ObjectId,
        amount: u64,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.staking_arg(&mut b).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let amount = b.pure(&amount);
        let coin = b.split_coins(payment, vec![amount]);
        let node = b.pure(&to_address(node_id));
        let mut args = vec![staking];
        args.extend(coin);
        args.push(node);
        let staked = self.floe(&mut b, "staking", "stake_with_pool", args);
        Self::keep(&mut b, key, vec![staked]);
        self.run(key, b).await
    }

    /// `staking::request_withdraw_stake`.
    pub async fn request_withdraw_stake(
        &self,
        key: &KeyPair,
        staked_wal: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.staking_arg(&mut b).await?;
        let staked = self.owned_arg(&mut b, staked_wal).await?;
        self.floe(
            &mut b,
            "staking",
            "request_withdraw_stake",
            vec![staking, staked],
        );
        self.run(key, b).await
    }

    /// `staking::withdraw_stake`; the WAL goes to the signer.
    pub async fn withdraw_stake(
        &self,
        key: &KeyPair,
        staked_wal: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.staking_arg(&mut b).await?;
        let staked = self.owned_arg(&mut b, staked_wal).await?;
        let coin = self.floe(&mut b, "staking", "withdraw_stake", vec![staking, staked]);
        Self::keep(&mut b, key, vec![coin]);
        self.run(key, b).await
    }

    /// `staking::voting_end`: selects the next committee (permissionless).
    pub async fn voting_end(&self, key: &KeyPair) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.staking_arg(&mut b).await?;
        let clock = self.clock_arg(&mut b).await?;
        self.floe(&mut b, "staking", "voting_end", vec![staking, clock]);
        self.run(key, b).await
    }

    /// `staking::voting_end` followed, in the same transaction, by
    /// `shared_blob::extend(blob, system, epochs)` for each of
    /// `extensions`. `voting_end` runs once per epoch, so of two callers
    /// only one transaction succeeds: the other aborts in command 0 and
    /// none of its extensions happen (the renewal keeper relies on this to
    /// never extend a blob twice). An extension that aborts is command
    /// `1 + its index`.
    pub async fn voting_end_and_extend(
        &self,
        key: &KeyPair,
        extensions: &[(Address, u32)],
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.staking_arg(&mut b).await?;
        let clock = self.clock_arg(&mut b).await?;
        self.floe(&mut b, "staking", "voting_end", vec![staking, clock]);
        if !extensions.is_empty() {
            let system = self.system_arg(&mut b, true).await?;
            for (shared, epochs) in extensions {
                let shared = self.owned_arg(&mut b, *shared).await?;
                let epochs = b.pure(epochs);
                self.floe(
                    &mut b,
                    "shared_blob",
                    "extend",
                    vec![shared, system, epochs],
                );
            }
        }
        self.run(key, b).await
    }

    /// `staking::initiate_epoch_change`: pays the ended epoch and rotates
    /// the committee (permissionless).
    pub async fn initiate_epoch_change(&self, key: &KeyPair) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.staking_arg(&mut b).await?;
        let system = self.system_arg(&mut b, true).await?;
        let treasury = self.client.object_input(self.ids.treasury, true).await?;
        let treasury = b.object(treasury);
        let clock = self.clock_arg(&mut b).await?;
        self.floe(
            &mut b,
            "staking",
            "initiate_epoch_change",
            vec![staking, system, treasury, clock],
        );
        self.run(key, b).await
    }

    /// `staking::epoch_sync_done` with the node's capability.
    pub async fn epoch_sync_done(
        &self,
        key: &KeyPair,
        cap: Address,
        epoch: u32,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.staking_arg(&mut b).await?;
        let cap = self.owned_arg(&mut b, cap).await?;
        let epoch = b.pure(&epoch);
        let clock = self.clock_arg(&mut b).await?;
        self.floe(
            &mut b,
            "staking",
            "epoch_sync_done",
            vec![staking, cap, epoch, clock],
        );
        self.run(key, b).await
    }
}

/// Reads of the committee and the staking state in a row that may straddle
/// epoch changes before giving up (each change needs a transaction, so
/// more than one in a row means the chain is changing epochs constantly).
const MAX_TORN_COMMITTEE_READS: u32 = 5;
/// Pause before reading a torn pair again.
const TORN_READ_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// The shard assignment of `committee` from a staking committee map.
pub fn assignment(
    committee: &Committee,
    map: &[floe_core::move_types::VecMapEntry<ObjectId, Vec<u16>>],
) -> Result<ShardAssignment, FloeError> {
    let pairs: Vec<(ObjectId, Vec<u16>)> = map.iter().map(|e| (e.key, e.value.clone())).collect();
    ShardAssignment::new(committee, &pairs).map_err(|e| FloeError::Committee(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(epoch: u32, state: EpochState) -> EpochStatus {
        EpochStatus {
            epoch,
            state,
            epoch_duration_ms: 1000,
            first_epoch_start_ms: 5000,
            clock_ms: 0,
        }
    }

    #[test]
    fn next_step_follows_the_contract_timing() {
        assert_eq!(
            status(0, EpochState::EpochChangeDone(10)).next_step(),
            EpochStep::VotingEnd { at_ms: 5000 }
        );
        assert_eq!(
            status(0, EpochState::NextParamsSelected(10)).next_step(),
            EpochStep::InitiateEpochChange { at_ms: 5000 }
        );
        assert_eq!(
            status(3, EpochState::EpochChangeDone(8000)).next_step(),
            EpochStep::VotingEnd { at_ms: 8500 }
        );
        assert_eq!(
            status(3, EpochState::NextParamsSelected(8000)).next_step(),
            EpochStep::InitiateEpochChange { at_ms: 9000 }
        );
        assert_eq!(
            status(3, EpochState::EpochChangeSync(4)).next_step(),
            EpochStep::AwaitSync { weight: 4 }
        );
        assert_eq!(
            status(3, EpochState::EpochChangeSync(4)).expected_end_ms(),
            None
        );
        assert_eq!(
            status(3, EpochState::NextParamsSelected(8000)).expected_end_ms(),
            Some(9000)
        );
    }
}
