//! Twin of `floe::committee`: node id to shard indices, sorted by node id.
//! The first committee hands out shards sequentially; `transition` keeps
//! each node's shards where it can, so as few shards as possible move.

use std::collections::VecDeque;

use floe_core::move_types::{Committee, MoveType, MoveTypeInfo, ObjectId, VecMap, VecMapEntry};
use floe_runtime::NativeError;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::ensure;

abort_codes! {
    module: "committee",
    EInvalidShardAssignment = 0,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "contains",
        Vis::Public,
        &[],
        &[("self", "&Committee"), ("node_id", "&ID")],
        &["bool"],
    ),
    FnSig::new(
        "shards",
        Vis::Public,
        &[],
        &[("self", "&Committee"), ("node_id", "&ID")],
        &["&vector<u16>"],
    ),
    FnSig::new(
        "size",
        Vis::Public,
        &[],
        &[("self", "&Committee")],
        &["u64"],
    ),
    FnSig::new(
        "inner",
        Vis::Public,
        &[],
        &[("self", "&Committee")],
        &["&VecMap<ID, vector<u16>>"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[Committee::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "committee",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// A committee only exists inside `Staking`, so nothing is callable.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `empty`.
pub fn empty() -> Committee {
    Committee {
        pos0: VecMap::default(),
    }
}

fn sorted(assignments: &[(ObjectId, u16)]) -> Vec<(ObjectId, u16)> {
    let mut out = assignments.to_vec();
    out.sort_by_key(|(id, _)| *id);
    out
}

/// `initialize`: sorted by node id, shard indices handed out in that order;
/// zero counts are left out.
pub fn initialize(assignments: &[(ObjectId, u16)]) -> Committee {
    let mut next: u16 = 0;
    let mut contents = Vec::new();
    for (node_id, count) in sorted(assignments) {
        let shards: Vec<u16> = (0..count).map(|j| next.wrapping_add(j)).collect();
        next = next.wrapping_add(count);
        if count > 0 {
            contents.push(VecMapEntry {
                key: node_id,
                value: shards,
            });
        }
    }
    Committee {
        pos0: VecMap { contents },
    }
}

/// `transition`: nodes keep their first `min(old, new)` shards; shards of
/// shrinking and leaving nodes (in committee order, each node's tail in
/// its order) go to growing and new nodes in node-id order.
pub fn transition(
    committee: &Committee,
    new_assignments: &[(ObjectId, u16)],
) -> Result<Committee, NativeError> {
    if committee.pos0.contents.is_empty() {
        return Ok(initialize(new_assignments));
    }
    let count_of = |id: &ObjectId| {
        new_assignments
            .iter()
            .find(|(n, _)| n == id)
            .map_or(0, |(_, c)| usize::from(*c))
    };
    let mut released: VecDeque<u16> = VecDeque::new();
    for entry in &committee.pos0.contents {
        let keep = count_of(&entry.key).min(entry.value.len());
        released.extend(&entry.value[keep..]);
    }
    let mut contents = Vec::new();
    for (node_id, count) in sorted(new_assignments) {
        let count = usize::from(count);
        let mut shards = committee.pos0.get(&node_id).cloned().unwrap_or_default();
        shards.truncate(count);
        while shards.len() < count {
            let shard = released.pop_front();
            ensure(shard.is_some(), EInvalidShardAssignment)?;
            shards.extend(shard);
        }
        if count > 0 {
            contents.push(VecMapEntry {
                key: node_id,
                value: shards,
            });
        }
    }
    ensure(released.is_empty(), EInvalidShardAssignment)?;
    Ok(Committee {
        pos0: VecMap { contents },
    })
}

/// `contains`.
pub fn contains(committee: &Committee, node_id: &ObjectId) -> bool {
    committee.pos0.get(node_id).is_some()
}

/// `shards` (empty when the node holds none; Move aborts in `vec_map`).
pub fn shards<'a>(committee: &'a Committee, node_id: &ObjectId) -> &'a [u16] {
    committee.pos0.get(node_id).map_or(&[], Vec::as_slice)
}

/// `to_weights`: node id to shard count, in committee order.
pub fn to_weights(committee: &Committee) -> Vec<(ObjectId, u16)> {
    committee
        .pos0
        .contents
        .iter()
        .map(|e| (e.key, e.value.len() as u16))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId([n; 32])
    }

    #[test]
    fn first_committee_is_sequential_in_node_id_order() {
        let c = initialize(&[(id(3), 2), (id(1), 1), (id(2), 0), (id(4), 3)]);
        let got: Vec<_> = c
            .pos0
            .contents
            .iter()
            .map(|e| (e.key, e.value.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (id(1), vec![0]),
                (id(3), vec![1, 2]),
                (id(4), vec![3, 4, 5])
            ]
        );
    }

    #[test]
    fn transition_moves_only_what_changes() {
        let old = initialize(&[(id(1), 2), (id(2), 2), (id(3), 2)]);
        // 1 shrinks to 1, 2 leaves, 3 stays, 4 joins with 3.
        let new = transition(&old, &[(id(4), 3), (id(3), 2), (id(1), 1)]).unwrap();
        assert_eq!(shards(&new, &id(1)), &[0]);
        assert_eq!(shards(&new, &id(3)), &[4, 5]);
        assert_eq!(shards(&new, &id(4)), &[1, 2, 3]);
        assert!(!contains(&new, &id(2)));
        assert_eq!(
            transition(&old, &[(id(1), 7)]),
            Err(EInvalidShardAssignment.err())
        );
        assert_eq!(
            transition(&old, &[(id(1), 1)]),
            Err(EInvalidShardAssignment.err())
        );
    }

    proptest::proptest! {
        /// From any committee to any assignment of the same shards: every
        /// node keeps the first `min(old, new)` of its shards, every shard
        /// is held exactly once, and the counts are the assignment's.
        #[test]
        fn transition_keeps_what_it_can(
            old_counts in proptest::collection::vec(0u16..8, 1..12),
            seed in proptest::collection::vec(0u16..8, 1..12),
        ) {
            let n_shards: u16 = old_counts.iter().sum();
            proptest::prop_assume!(n_shards > 0);
            let old = initialize(
                &old_counts.iter().enumerate().map(|(i, c)| (id(i as u8), *c)).collect::<Vec<_>>(),
            );
            // New counts over partly other nodes, scaled to the same total.
            let total_seed: u32 = seed.iter().map(|s| u32::from(*s) + 1).sum();
            let mut new: Vec<(ObjectId, u16)> = seed
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let share = (u32::from(*s) + 1) * u32::from(n_shards) / total_seed;
                    (id(i as u8 + 4), share as u16)
                })
                .collect();
            let assigned: u16 = new.iter().map(|(_, c)| c).sum();
            new[0].1 += n_shards - assigned;
            let next = transition(&old, &new).unwrap();
            let mut all: Vec<u16> = Vec::new();
            for (node, count) in &new {
                let got = shards(&next, node);
                proptest::prop_assert_eq!(got.len(), usize::from(*count));
                let before = shards(&old, node);
                let keep = before.len().min(got.len());
                proptest::prop_assert_eq!(&got[..keep], &before[..keep]);
                all.extend_from_slice(got);
            }
            all.sort_unstable();
            proptest::prop_assert_eq!(all, (0..n_shards).collect::<Vec<_>>());
        }
    }
}
