//! Which committee member holds which shard.
//!
//! The BLS committee (`System`) says who signs and how much each signature
//! weighs; the staking committee (`Staking.committee`, a
//! `VecMap<ID, vector<u16>>`) says which shard ids each member holds. A
//! [`ShardAssignment`] joins the two and checks that they agree: the same
//! members, each holding exactly as many shards as it weighs, every shard
//! held exactly once. Nodes and clients build it from the same chain reads,
//! so they cannot disagree on where a sliver lives.

use crate::committee::Committee;
use crate::move_types::ObjectId;

/// Why a staking committee does not fit a BLS committee.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardAssignmentError {
    /// A node holds shards but is not a member of the BLS committee.
    #[error("node {0} holds shards but is not in the signing committee")]
    NotAMember(ObjectId),
    /// A member of the BLS committee holds no shards in the staking map.
    #[error("committee member {0} has no shard assignment")]
    Missing(ObjectId),
    /// A shard id is not below `n_shards`.
    #[error("shard {shard} is out of range for {n_shards} shards")]
    OutOfRange {
        /// The shard.
        shard: u16,
        /// Committee size.
        n_shards: u16,
    },
    /// A shard is assigned twice.
    #[error("shard {0} is assigned to two nodes")]
    Duplicate(u16),
    /// A member's shard count differs from its signing weight.
    #[error("node {node} holds {held} shards but weighs {weight}")]
    WeightMismatch {
        /// The node.
        node: ObjectId,
        /// Shards listed for it.
        held: usize,
        /// Its weight in the BLS committee.
        weight: u16,
    },
}

/// The shards of every member of one committee, by member index (the BLS
/// committee's node-id order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardAssignment {
    by_member: Vec<Vec<u16>>,
    owner: Vec<u16>,
}

impl ShardAssignment {
    /// Checks `staking` (node id -> shard ids, any order) against
    /// `committee`.
    pub fn new(
        committee: &Committee,
        staking: &[(ObjectId, Vec<u16>)],
    ) -> Result<Self, ShardAssignmentError> {
        let n_shards = committee.n_shards();
        let n_members = committee.n_members();
        let mut by_member: Vec<Option<Vec<u16>>> = vec![None; n_members];
        let mut owner: Vec<Option<u16>> = vec![None; usize::from(n_shards)];
        for (node, shards) in staking {
            let index = committee
                .member_index(node)
                .ok_or(ShardAssignmentError::NotAMember(*node))?;
            let weight = committee.members()[index].weight;
            if shards.len() != usize::from(weight) || by_member[index].is_some() {
                return Err(ShardAssignmentError::WeightMismatch {
                    node: *node,
                    held: shards.len(),
                    weight,
                });
            }
            let mut sorted = shards.clone();
            sorted.sort_unstable();
            for &shard in &sorted {
                let slot = owner
                    .get_mut(usize::from(shard))
                    .ok_or(ShardAssignmentError::OutOfRange { shard, n_shards })?;
                if slot.is_some() {
                    return Err(ShardAssignmentError::Duplicate(shard));
                }
                // Member indices fit u16: `Committee` bounds its size.
                *slot = Some(index as u16);
            }
            by_member[index] = Some(sorted);
        }
        let by_member = by_member
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                s.ok_or(ShardAssignmentError::Missing(
                    committee.members()[i].node_id,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Every member holds exactly its weight and weights sum to
        // `n_shards`, with no duplicates: every shard has an owner.
        let owner = owner.into_iter().map(|o| o.unwrap_or(0)).collect();
        Ok(Self { by_member, owner })
    }

    /// The assignment floe used before staking carried shard ids, which is
    /// also what genesis writes: contiguous ranges in member order
    /// ([`Committee::interim_shards_of`]).
    pub fn contiguous(committee: &Committee) -> Self {
        let by_member: Vec<Vec<u16>> = (0..committee.n_members())
            .map(|i| {
                committee
                    .interim_shards_of(i)
                    .map(|r| r.collect())
                    .unwrap_or_default()
            })
            .collect();
        let mut owner = vec![0u16; usize::from(committee.n_shards())];
        for (member, shards) in by_member.iter().enumerate() {
            for &s in shards {
                owner[usize::from(s)] = member as u16;
            }
        }
        Self { by_member, owner }
    }

    /// Shard ids of member `index`, ascending (empty past the end).
    pub fn shards_of(&self, index: usize) -> &[u16] {
        self.by_member.get(index).map_or(&[], Vec::as_slice)
    }

    /// The member index holding `shard`.
    pub fn owner_of(&self, shard: u16) -> Option<usize> {
        self.owner.get(usize::from(shard)).map(|&m| usize::from(m))
    }

    /// Number of shards.
    pub fn n_shards(&self) -> usize {
        self.owner.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bls::BlsSecretKey;
    use crate::committee::CommitteeMember;

    fn committee(weights: &[u16]) -> Committee {
        let members = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| CommitteeMember {
                node_id: ObjectId([i as u8 + 1; 32]),
                public_key: BlsSecretKey::from_seed(&[i as u8; 32]).public_key(),
                weight: w,
            })
            .collect();
        Committee::new(3, members).expect("committee")
    }

    fn id(i: u8) -> ObjectId {
        ObjectId([i; 32])
    }

    #[test]
    fn explicit_shards_are_checked_against_weights() {
        let c = committee(&[2, 1, 1]);
        let a = ShardAssignment::new(
            &c,
            &[(id(2), vec![0]), (id(1), vec![3, 1]), (id(3), vec![2])],
        )
        .expect("valid");
        assert_eq!(a.shards_of(0), &[1, 3]);
        assert_eq!(a.owner_of(2), Some(2));
        assert_eq!(a.owner_of(0), Some(1));
        assert_eq!(a.owner_of(4), None);
        let dup = [(id(1), vec![0, 1]), (id(2), vec![1]), (id(3), vec![2])];
        assert_eq!(
            ShardAssignment::new(&c, &dup),
            Err(ShardAssignmentError::Duplicate(1))
        );
        let out = [(id(1), vec![0, 9]), (id(2), vec![1]), (id(3), vec![2])];
        assert!(matches!(
            ShardAssignment::new(&c, &out),
            Err(ShardAssignmentError::OutOfRange { shard: 9, .. })
        ));
        let weight = [(id(1), vec![0]), (id(2), vec![1]), (id(3), vec![2])];
        assert!(matches!(
            ShardAssignment::new(&c, &weight),
            Err(ShardAssignmentError::WeightMismatch { .. })
        ));
        let stranger = [(id(9), vec![0])];
        assert_eq!(
            ShardAssignment::new(&c, &stranger),
            Err(ShardAssignmentError::NotAMember(id(9)))
        );
        let missing = [(id(1), vec![0, 1]), (id(2), vec![2])];
        assert_eq!(
            ShardAssignment::new(&c, &missing),
            Err(ShardAssignmentError::Missing(id(3)))
        );
    }

    #[test]
    fn contiguous_equals_the_interim_rule() {
        let c = committee(&[3, 2, 5]);
        let a = ShardAssignment::contiguous(&c);
        assert_eq!(a.shards_of(1), &[3, 4]);
        for shard in 0..10 {
            assert_eq!(a.owner_of(shard), c.interim_owner_of_shard(shard));
        }
        let explicit: Vec<(ObjectId, Vec<u16>)> = c
            .members()
            .iter()
            .enumerate()
            .map(|(i, m)| (m.node_id, a.shards_of(i).to_vec()))
            .collect();
        assert_eq!(ShardAssignment::new(&c, &explicit), Ok(a));
    }
}
