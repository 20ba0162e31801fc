//! Twin of `floe::active_set`: the candidates for the next committee with
//! their projected stake; positions are kept (earlier = wins ties).

use floe_core::move_types::{ActiveSet, ActiveSetEntry, MoveType, MoveTypeInfo, ObjectId};
use floe_runtime::NativeError;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{add_u64, arithmetic, ensure};

abort_codes! {
    module: "active_set",
    EZeroMaxSize = 0,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "max_size",
        Vis::Public,
        &[],
        &[("self", "&ActiveSet")],
        &["u16"],
    ),
    FnSig::new(
        "total_stake",
        Vis::Public,
        &[],
        &[("self", "&ActiveSet")],
        &["u64"],
    ),
    FnSig::new(
        "active_ids",
        Vis::Public,
        &[],
        &[("self", "&ActiveSet")],
        &["vector<ID>"],
    ),
    FnSig::new(
        "active_stakes",
        Vis::Public,
        &[],
        &[("self", "&ActiveSet")],
        &["vector<u64>"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[ActiveSetEntry::INFO, ActiveSet::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "active_set",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// The set lives inside `Staking`; nothing is callable.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `new`.
pub fn new(max_size: u16, threshold_stake: u64) -> Result<ActiveSet, NativeError> {
    ensure(max_size > 0, EZeroMaxSize)?;
    Ok(ActiveSet {
        max_size,
        threshold_stake,
        nodes: Vec::new(),
        total_stake: 0,
    })
}

/// `insert_or_update`: sets the node's stake (removing it at zero or below
/// the threshold); a full set lets a newcomer replace its smallest member
/// (the earliest of equals) only with strictly more. Returns whether the
/// node is in the set.
pub fn insert_or_update(
    set: &mut ActiveSet,
    node_id: ObjectId,
    staked_amount: u64,
) -> Result<bool, NativeError> {
    let eligible = staked_amount > 0 && staked_amount >= set.threshold_stake;
    if let Some(i) = set.nodes.iter().position(|e| e.node_id == node_id) {
        set.total_stake = set
            .total_stake
            .checked_sub(set.nodes[i].staked_amount)
            .ok_or_else(arithmetic)?;
        if !eligible {
            set.nodes.remove(i);
            return Ok(false);
        }
        set.nodes[i].staked_amount = staked_amount;
        set.total_stake = add_u64(set.total_stake, staked_amount)?;
        return Ok(true);
    }
    if !eligible {
        return Ok(false);
    }
    let entry = ActiveSetEntry {
        node_id,
        staked_amount,
    };
    if set.nodes.len() < usize::from(set.max_size) {
        set.nodes.push(entry);
        set.total_stake = add_u64(set.total_stake, staked_amount)?;
        return Ok(true);
    }
    let mut min = 0;
    for (i, e) in set.nodes.iter().enumerate().skip(1) {
        if e.staked_amount < set.nodes[min].staked_amount {
            min = i;
        }
    }
    if set.nodes[min].staked_amount >= staked_amount {
        return Ok(false);
    }
    set.total_stake = add_u64(
        set.total_stake - set.nodes[min].staked_amount,
        staked_amount,
    )?;
    set.nodes[min] = entry;
    Ok(true)
}

/// `set_max_size` (governance): a shrinking set drops its least-staked
/// nodes, the latest of equals first.
pub fn set_max_size(set: &mut ActiveSet, max_size: u16) -> Result<(), NativeError> {
    ensure(max_size > 0, EZeroMaxSize)?;
    set.max_size = max_size;
    while set.nodes.len() > usize::from(max_size) {
        let mut min = 0;
        for (i, e) in set.nodes.iter().enumerate().skip(1) {
            if e.staked_amount <= set.nodes[min].staked_amount {
                min = i;
            }
        }
        let removed = set.nodes.remove(min);
        set.total_stake = set
            .total_stake
            .checked_sub(removed.staked_amount)
            .ok_or_else(arithmetic)?;
    }
    Ok(())
}

/// `active_ids`.
pub fn active_ids(set: &ActiveSet) -> Vec<ObjectId> {
    set.nodes.iter().map(|e| e.node_id).collect()
}

/// `active_stakes`.
pub fn active_stakes(set: &ActiveSet) -> Vec<u64> {
    set.nodes.iter().map(|e| e.staked_amount).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId([n; 32])
    }

    #[test]
    fn keeps_positions_and_replaces_the_smallest() {
        assert_eq!(new(0, 0), Err(EZeroMaxSize.err()));
        let mut set = new(2, 0).unwrap();
        assert!(insert_or_update(&mut set, id(1), 5).unwrap());
        assert!(insert_or_update(&mut set, id(2), 3).unwrap());
        assert!(
            !insert_or_update(&mut set, id(3), 3).unwrap(),
            "not strictly more"
        );
        assert!(insert_or_update(&mut set, id(3), 4).unwrap());
        assert_eq!(active_ids(&set), vec![id(1), id(3)]);
        assert_eq!(set.total_stake, 9);
        assert!(insert_or_update(&mut set, id(1), 7).unwrap());
        assert!(!insert_or_update(&mut set, id(1), 0).unwrap());
        assert_eq!(active_ids(&set), vec![id(3)]);
        assert_eq!(set.total_stake, 4);
    }
}
