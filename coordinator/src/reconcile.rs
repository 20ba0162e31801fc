//! Reconciliation of one epoch's payments: what the contract should have
//! paid when epoch `e` ended, recomputed independently, against what the
//! chain shows it paid.
//!
//! Pure computation: the inputs ([`EpochInputs`]) and the observations
//! ([`Observed`]) are read from the epoch-change transaction by
//! [`crate::follow`]; here only integers are compared, so a test can feed
//! any error it likes (one FROST off, a missing pool).
//!
//! The arithmetic is the contract's, step by step (Walrus's
//! `storage_accounting.move`, `system_state_inner::advance_epoch` and
//! `staking_pool::advance_epoch`; floe's twins in `contracts/src/floe/`):
//!
//! 1. `burn = bucket * 3 / 100` (u128, floored) leaves `pool = bucket - burn`;
//! 2. every member of the ended epoch's committee stores
//!    `stored_i = used_capacity - min(deny_list_size_i, used_capacity)` and
//!    weighs `w_i = shards_i * stored_i` (u128);
//! 3. `reward_i = w_i * pool / sum(w)` (256-bit product, floored; 0 for
//!    everyone when `sum(w) = 0`);
//! 4. `commission_i = reward_i * rate_i / 10_000` (u128, floored) with the
//!    rate the pool had *before* the change (a pending rate applies after);
//!    the stakers get `reward_i - commission_i`;
//! 5. `carry_over = pool - sum(reward_i)` joins the next epoch's bucket.
//!
//! The observations are the epoch-change transaction's own effects, so
//! anything else that pays pools or buckets must run in another
//! transaction (e.g. subsidies): in the same one it would show as a
//! mismatch.

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

/// Share of an ended epoch's bucket that is burnt, in percent.
pub const BURN_PERCENTAGE: u64 = 3;
/// Commission rates are in basis points.
pub const N_BASIS_POINTS: u64 = 10_000;

/// Why the inputs cannot be reconciled at all (not a mismatch: the chain
/// data is inconsistent with itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconcileError {
    #[error("node {node_id}: commission rate {rate} is above 10000 basis points")]
    Rate { node_id: String, rate: u16 },
    #[error("node {0} is twice in the committee")]
    Duplicate(String),
}

/// One member of the ended epoch's committee, as the contract saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The node (pool) id, `0x` + hex.
    pub node_id: String,
    /// The node's name (from its pool), for people.
    #[serde(default)]
    pub name: String,
    /// Shards held in the ended epoch (its weight).
    pub shards: u16,
    /// Its deny-list size (bytes it does not have to store).
    pub deny_list_size: u64,
    /// The pool's commission rate before the change (basis points).
    pub commission_rate: u16,
}

/// What the contract paid from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochInputs {
    /// The epoch that ended.
    pub epoch: u32,
    /// Its accounting bucket before the burn (FROST).
    pub bucket: u64,
    /// The encoded bytes sold for that epoch.
    pub used_capacity: u64,
    /// The ended epoch's committee, in committee order.
    pub members: Vec<Member>,
}

/// What one pool received in the epoch-change transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedPool {
    /// Growth of the pool's `rewards_pool` (the stakers' part).
    pub staker_reward: u64,
    /// Growth of the pool's `commission`.
    pub commission: u64,
}

/// What the chain shows was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// Fall of the WAL total supply.
    pub burn: u64,
    /// Growth of the next epoch's bucket.
    pub carry_over: u64,
    /// Per node id; a member missing here received nothing visible.
    pub pools: Vec<(String, ObservedPool)>,
}

/// One node's line of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLine {
    pub node_id: String,
    pub name: String,
    pub shards: u16,
    /// Bytes it was paid for storing (`used_capacity` minus its deny list).
    pub stored: u64,
    pub commission_rate: u16,
    /// Its reward (stakers' part + commission), expected.
    pub reward: u64,
    pub commission: u64,
    /// The stakers' part, expected.
    pub staker_reward: u64,
    /// What the pool received (`None`: the pool was not touched).
    pub observed: Option<ObservedPool>,
    /// Expected and observed agree to the FROST.
    pub ok: bool,
}

/// The reconciliation of one ended epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochReport {
    /// The epoch that ended (its bucket was paid out).
    pub epoch: u32,
    /// The epoch-change transaction and its checkpoint.
    pub tx_digest: String,
    pub checkpoint: u64,
    pub timestamp_ms: Option<u64>,
    pub bucket: u64,
    pub used_capacity: u64,
    pub burn: u64,
    pub burn_observed: u64,
    pub carry_over: u64,
    pub carry_over_observed: u64,
    pub nodes: Vec<NodeLine>,
    /// burn + rewards + carry-over, all as observed, equal the bucket.
    pub conserved: bool,
    /// Every difference, in words; empty when everything matches.
    pub mismatches: Vec<String>,
    pub ok: bool,
}

/// The contract's distribution of one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub burn: u64,
    /// `(stored, reward, commission)` per member, in committee order.
    pub shares: Vec<(u64, u64, u64)>,
    pub carry_over: u64,
}

/// Recomputes the contract's distribution of `inputs.bucket`.
pub fn expected(inputs: &EpochInputs) -> Result<Expected, ReconcileError> {
    let mut seen = std::collections::BTreeSet::new();
    for m in &inputs.members {
        if u64::from(m.commission_rate) > N_BASIS_POINTS {
            return Err(ReconcileError::Rate {
                node_id: m.node_id.clone(),
                rate: m.commission_rate,
            });
        }
        if !seen.insert(&m.node_id) {
            return Err(ReconcileError::Duplicate(m.node_id.clone()));
        }
    }
    // u128 * 3 / 100 of a u64 is below the u64: the cast keeps the value.
    let burn = (u128::from(inputs.bucket) * u128::from(BURN_PERCENTAGE) / 100) as u64;
    let pool = inputs.bucket - burn;
    let stored: Vec<u64> = inputs
        .members
        .iter()
        .map(|m| inputs.used_capacity - m.deny_list_size.min(inputs.used_capacity))
        .collect();
    let weighted: Vec<u128> = inputs
        .members
        .iter()
        .zip(&stored)
        .map(|(m, s)| u128::from(m.shards) * u128::from(*s))
        .collect();
    // At most 65535 members of at most 2^80 each: no overflow.
    let total: u128 = weighted.iter().sum();
    let mut left = pool;
    let mut shares = Vec::with_capacity(weighted.len());
    for ((m, w), s) in inputs.members.iter().zip(&weighted).zip(&stored) {
        let reward = if total == 0 {
            0
        } else {
            // w <= total, so the quotient is at most `pool`: it fits.
            let q = U256::from(*w) * U256::from(pool) / U256::from(total);
            u64::try_from(q).unwrap_or(u64::MAX)
        };
        let commission = (u128::from(reward) * u128::from(m.commission_rate)
            / u128::from(N_BASIS_POINTS)) as u64;
        left = left.saturating_sub(reward);
        shares.push((*s, reward, commission));
    }
    Ok(Expected {
        burn,
        shares,
        carry_over: left,
    })
}

/// Where the transaction was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub tx_digest: String,
    pub checkpoint: u64,
    pub timestamp_ms: Option<u64>,
}

/// Compares the recomputed distribution with the observed one; every
/// difference of even one FROST is named in `mismatches`.
pub fn reconcile(
    inputs: &EpochInputs,
    observed: &Observed,
    origin: Origin,
) -> Result<EpochReport, ReconcileError> {
    let exp = expected(inputs)?;
    let mut mismatches = Vec::new();
    let epoch = inputs.epoch;
    if exp.burn != observed.burn {
        mismatches.push(format!(
            "epoch {epoch}: burn {} FROST, expected {}",
            observed.burn, exp.burn
        ));
    }
    if exp.carry_over != observed.carry_over {
        mismatches.push(format!(
            "epoch {epoch}: carry-over {} FROST, expected {}",
            observed.carry_over, exp.carry_over
        ));
    }
    let mut nodes = Vec::with_capacity(inputs.members.len());
    let mut observed_total: u128 = 0;
    for (m, (stored, reward, commission)) in inputs.members.iter().zip(&exp.shares) {
        let seen = observed
            .pools
            .iter()
            .find(|(id, _)| *id == m.node_id)
            .map(|(_, p)| *p);
        let staker_reward = reward - commission;
        let ok = match seen {
            Some(p) => p.staker_reward == staker_reward && p.commission == *commission,
            // An untouched pool is fine only if it was owed nothing.
            None => *reward == 0,
        };
        if let Some(p) = seen {
            observed_total += u128::from(p.staker_reward) + u128::from(p.commission);
        }
        if !ok {
            let got = seen.map_or_else(
                || "its pool was not updated".to_owned(),
                |p| {
                    format!(
                        "got stakers {} + commission {} FROST",
                        p.staker_reward, p.commission
                    )
                },
            );
            mismatches.push(format!(
                "epoch {epoch}: node {} ({}): {got}, expected stakers {staker_reward} + commission {commission}",
                m.node_id, m.name
            ));
        }
        nodes.push(NodeLine {
            node_id: m.node_id.clone(),
            name: m.name.clone(),
            shards: m.shards,
            stored: *stored,
            commission_rate: m.commission_rate,
            reward: *reward,
            commission: *commission,
            staker_reward,
            observed: seen,
            ok,
        });
    }
    // Pools outside the ended committee must receive nothing.
    for (id, p) in &observed.pools {
        if !inputs.members.iter().any(|m| m.node_id == *id)
            && (p.staker_reward != 0 || p.commission != 0)
        {
            observed_total += u128::from(p.staker_reward) + u128::from(p.commission);
            mismatches.push(format!(
                "epoch {epoch}: node {id} was not in the committee but received stakers {} + commission {} FROST",
                p.staker_reward, p.commission
            ));
        }
    }
    let conserved = u128::from(observed.burn) + observed_total + u128::from(observed.carry_over)
        == u128::from(inputs.bucket);
    if !conserved {
        mismatches.push(format!(
            "epoch {epoch}: burn {} + rewards {observed_total} + carry-over {} != bucket {}",
            observed.burn, observed.carry_over, inputs.bucket
        ));
    }
    Ok(EpochReport {
        epoch,
        tx_digest: origin.tx_digest,
        checkpoint: origin.checkpoint,
        timestamp_ms: origin.timestamp_ms,
        bucket: inputs.bucket,
        used_capacity: inputs.used_capacity,
        burn: exp.burn,
        burn_observed: observed.burn,
        carry_over: exp.carry_over,
        carry_over_observed: observed.carry_over,
        nodes,
        conserved,
        ok: mismatches.is_empty(),
        mismatches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(i: u8, shards: u16, rate: u16) -> Member {
        Member {
            node_id: format!("0x{i:02x}"),
            name: format!("node-{i}"),
            shards,
            deny_list_size: 0,
            commission_rate: rate,
        }
    }

    fn inputs() -> EpochInputs {
        EpochInputs {
            epoch: 4,
            bucket: 1_000_000_007,
            used_capacity: 123_456_789,
            members: vec![member(1, 3, 0), member(2, 4, 500), member(3, 5, 10_000)],
        }
    }

    /// What an honest contract would show for `inputs`.
    fn honest(inputs: &EpochInputs) -> Observed {
        let e = expected(inputs).expect("valid");
        Observed {
            burn: e.burn,
            carry_over: e.carry_over,
            pools: inputs
                .members
                .iter()
                .zip(&e.shares)
                .map(|(m, (_, r, c))| {
                    (
                        m.node_id.clone(),
                        ObservedPool {
                            staker_reward: r - c,
                            commission: *c,
                        },
                    )
                })
                .collect(),
        }
    }

    fn origin() -> Origin {
        Origin {
            tx_digest: "D".into(),
            checkpoint: 9,
            timestamp_ms: None,
        }
    }

    #[test]
    fn the_contracts_arithmetic_by_hand() {
        let e = expected(&inputs()).unwrap();
        // 3% of 1_000_000_007 floored.
        assert_eq!(e.burn, 30_000_000);
        let pool = 1_000_000_007 - 30_000_000;
        // Same stored bytes for all: the split is by shards 3:4:5 of 12.
        let r1 = pool * 3 / 12;
        let r2 = pool * 4 / 12;
        let r3 = pool * 5 / 12;
        assert_eq!(
            e.shares,
            vec![
                (123_456_789, r1, 0),
                (123_456_789, r2, r2 * 500 / 10_000),
                (123_456_789, r3, r3),
            ]
        );
        assert_eq!(e.carry_over, pool - r1 - r2 - r3);
        assert!(e.carry_over > 0, "the floors leave something to carry");
    }

    #[test]
    fn an_honest_payment_reconciles() {
        let i = inputs();
        let r = reconcile(&i, &honest(&i), origin()).unwrap();
        assert!(r.ok, "{:?}", r.mismatches);
        assert!(r.conserved);
        assert_eq!(r.nodes.len(), 3);
        assert!(r.nodes.iter().all(|n| n.ok));
    }

    #[test]
    fn one_frost_anywhere_is_caught() {
        let i = inputs();
        // One FROST moved from the carry-over to a node's stakers: the
        // totals still add up, the split does not.
        let mut moved = honest(&i);
        moved.carry_over -= 1;
        moved.pools[0].1.staker_reward += 1;
        let r = reconcile(&i, &moved, origin()).unwrap();
        assert!(!r.ok);
        assert!(r.conserved, "the total is still the bucket");
        assert_eq!(r.mismatches.len(), 2, "{:?}", r.mismatches);
        assert!(!r.nodes[0].ok && r.nodes[1].ok && r.nodes[2].ok);

        // One FROST of commission too many: the total breaks too.
        let mut extra = honest(&i);
        extra.pools[1].1.commission += 1;
        let r = reconcile(&i, &extra, origin()).unwrap();
        assert!(!r.ok && !r.conserved, "{:?}", r.mismatches);

        // One FROST too little burnt.
        let mut burn = honest(&i);
        burn.burn -= 1;
        let r = reconcile(&i, &burn, origin()).unwrap();
        assert!(!r.ok);
        assert!(r.mismatches[0].contains("burn"), "{:?}", r.mismatches);

        // A member's pool not updated although it was owed a reward.
        let mut missing = honest(&i);
        missing.pools.remove(2);
        let r = reconcile(&i, &missing, origin()).unwrap();
        assert!(!r.ok);
        assert!(r.nodes[2].observed.is_none());

        // A pool outside the committee paid.
        let mut outsider = honest(&i);
        outsider.pools.push((
            "0xff".into(),
            ObservedPool {
                staker_reward: 1,
                commission: 0,
            },
        ));
        let r = reconcile(&i, &outsider, origin()).unwrap();
        assert!(!r.ok && !r.conserved);
    }

    #[test]
    fn deny_lists_and_empty_epochs() {
        let mut i = inputs();
        i.members[0].deny_list_size = u64::MAX; // stores nothing
        let e = expected(&i).unwrap();
        assert_eq!(e.shares[0], (0, 0, 0));
        // Nothing sold: everything after the burn is carried over.
        i.used_capacity = 0;
        let e = expected(&i).unwrap();
        assert!(e.shares.iter().all(|s| s.1 == 0));
        assert_eq!(e.carry_over, i.bucket - e.burn);
        let r = reconcile(&i, &honest(&i), origin()).unwrap();
        assert!(r.ok, "{:?}", r.mismatches);
        // An empty bucket pays nothing and burns nothing.
        i.bucket = 0;
        assert_eq!(
            expected(&i).unwrap(),
            Expected {
                burn: 0,
                shares: vec![(0, 0, 0); 3],
                carry_over: 0
            }
        );
    }

    #[test]
    fn impossible_inputs_are_errors() {
        let mut i = inputs();
        i.members[1].commission_rate = 10_001;
        assert!(matches!(expected(&i), Err(ReconcileError::Rate { .. })));
        let mut i = inputs();
        i.members[1].node_id = i.members[0].node_id.clone();
        assert!(matches!(expected(&i), Err(ReconcileError::Duplicate(_))));
    }

    proptest::proptest! {
        /// Whatever the numbers, the distribution conserves the bucket and
        /// never pays a node more than its pro-rata share.
        #[test]
        fn conserves_and_stays_pro_rata(
            bucket: u64,
            used in 0u64..1 << 50,
            shards in proptest::collection::vec(1u16..300, 1..20),
            rates in proptest::collection::vec(0u16..=10_000, 20),
        ) {
            let members = shards.iter().zip(&rates).enumerate()
                .map(|(i, (s, r))| Member {
                    node_id: format!("0x{i:x}"),
                    name: String::new(),
                    shards: *s,
                    deny_list_size: 0,
                    commission_rate: *r,
                })
                .collect();
            let i = EpochInputs { epoch: 1, bucket, used_capacity: used, members };
            let e = expected(&i).unwrap();
            let paid: u128 = e.shares.iter().map(|s| u128::from(s.1)).sum();
            proptest::prop_assert_eq!(
                u128::from(e.burn) + paid + u128::from(e.carry_over),
                u128::from(bucket)
            );
            for s in &e.shares {
                proptest::prop_assert!(s.2 <= s.1);
            }
            let r = reconcile(&i, &honest(&i), origin()).unwrap();
            proptest::prop_assert!(r.ok && r.conserved);
        }
    }
}
