//! Twin of `floe::pending_values`: amounts taking effect in an epoch.

use floe_core::move_types::{MoveType, MoveTypeInfo, PendingValues, VecMapEntry};
use floe_runtime::NativeError;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, abort_codes};
use crate::util::{add_u64, ensure};

abort_codes! {
    module: "pending_values",
    EMissingEpochValue = 0,
    EReduceValueTooLarge = 1,
}

/// Every `public` and `entry` function of the Move module (none: all are
/// package-internal).
pub const FUNCTIONS: &[FnSig] = &[];

const STRUCTS: &[MoveTypeInfo] = &[PendingValues::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "pending_values",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `empty`.
pub fn empty() -> PendingValues {
    PendingValues {
        pos0: Default::default(),
    }
}

/// `insert_or_add`.
pub fn insert_or_add(p: &mut PendingValues, epoch: u32, value: u64) -> Result<(), NativeError> {
    match p.pos0.contents.iter_mut().find(|e| e.key == epoch) {
        Some(e) => e.value = add_u64(e.value, value)?,
        None => p.pos0.contents.push(VecMapEntry { key: epoch, value }),
    }
    Ok(())
}

/// `insert_or_replace`: sets the amount of `epoch`.
pub fn insert_or_replace(p: &mut PendingValues, epoch: u32, value: u64) {
    match p.pos0.contents.iter_mut().find(|e| e.key == epoch) {
        Some(e) => e.value = value,
        None => p.pos0.contents.push(VecMapEntry { key: epoch, value }),
    }
}

/// `latest_value_at`: the amount of the latest epoch up to `epoch`.
pub fn latest_value_at(p: &PendingValues, epoch: u32) -> Option<u64> {
    p.pos0
        .contents
        .iter()
        .filter(|e| e.key <= epoch)
        .max_by_key(|e| e.key)
        .map(|e| e.value)
}

/// `reduce`: drops the entry at zero.
pub fn reduce(p: &mut PendingValues, epoch: u32, value: u64) -> Result<(), NativeError> {
    let Some(i) = p.pos0.contents.iter().position(|e| e.key == epoch) else {
        return Err(EMissingEpochValue.err());
    };
    let current = p.pos0.contents[i].value;
    ensure(current >= value, EReduceValueTooLarge)?;
    if current == value {
        // `vec_map::remove` keeps the order of the rest.
        p.pos0.contents.remove(i);
    } else {
        p.pos0.contents[i].value = current - value;
    }
    Ok(())
}

/// `value_at`: 0 when absent.
pub fn value_at(p: &PendingValues, epoch: u32) -> u64 {
    p.pos0.get(&epoch).copied().unwrap_or(0)
}

/// `flush`: removes and sums every amount of an epoch up to `epoch`.
pub fn flush(p: &mut PendingValues, epoch: u32) -> Result<u64, NativeError> {
    let mut total = 0u64;
    for e in p.pos0.contents.iter().filter(|e| e.key <= epoch) {
        total = add_u64(total, e.value)?;
    }
    p.pos0.contents.retain(|e| e.key > epoch);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_reduce_flush() {
        let mut p = empty();
        insert_or_add(&mut p, 3, 10).unwrap();
        insert_or_add(&mut p, 2, 5).unwrap();
        insert_or_add(&mut p, 3, 1).unwrap();
        assert_eq!(value_at(&p, 3), 11);
        assert_eq!(reduce(&mut p, 3, 12), Err(EReduceValueTooLarge.err()));
        assert_eq!(reduce(&mut p, 4, 1), Err(EMissingEpochValue.err()));
        reduce(&mut p, 2, 5).unwrap();
        assert_eq!(p.pos0.contents.len(), 1);
        insert_or_add(&mut p, 5, 7).unwrap();
        assert_eq!(flush(&mut p, 4).unwrap(), 11);
        assert_eq!(value_at(&p, 5), 7);
        assert_eq!(flush(&mut p, 9).unwrap(), 7);
        assert!(p.pos0.contents.is_empty());
    }

    #[test]
    fn replace_and_latest_value() {
        let mut p = empty();
        assert_eq!(latest_value_at(&p, 9), None);
        insert_or_replace(&mut p, 5, 100);
        insert_or_replace(&mut p, 3, 30);
        insert_or_replace(&mut p, 5, 50);
        assert_eq!(value_at(&p, 5), 50);
        assert_eq!(latest_value_at(&p, 2), None);
        assert_eq!(latest_value_at(&p, 4), Some(30));
        assert_eq!(latest_value_at(&p, 7), Some(50));
    }
}
