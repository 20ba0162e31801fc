//! Twin of `floe::apportionment`: D'Hondt apportionment of shards over
//! stake with a per-node cap and the Hagenbach-Bischoff lower bound (see
//! the Move module for the rules).

use floe_runtime::{Call, NativeError, Value};
use sui_sdk_types::TypeTag;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis};
use crate::util::arg;

/// With at least this many nodes the cap is `n_shards / 10`.
pub const MIN_NODES_FOR_SHARDS_LIMIT: u64 = 20;
/// See [`MIN_NODES_FOR_SHARDS_LIMIT`].
pub const SHARDS_LIMIT_DENOMINATOR: u64 = 10;

/// No abort codes.
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "apportion",
        Vis::Public,
        &[],
        &[("stakes", "vector<u64>"), ("n_shards", "u16")],
        &["vector<u16>"],
    ),
    FnSig::new(
        "max_shards_per_node",
        Vis::Public,
        &[],
        &[("n", "u64"), ("n_shards", "u64")],
        &["u64"],
    ),
];

/// No structs.
const STRUCTS: &[floe_core::move_types::MoveTypeInfo] = &[];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "apportionment",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "apportion" => native_apportion,
        "max_shards_per_node" => |c| {
            let (n, n_shards): (u64, u64) = (arg(c, 0)?, arg(c, 1)?);
            Ok(vec![Value::u64(max_shards_per_node(n, n_shards)?)])
        },
        _ => return None,
    };
    Some(f)
}

fn native_apportion(c: &mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> {
    let stakes: Vec<u64> = arg(c, 0)?;
    let n_shards: u16 = arg(c, 1)?;
    let seats = apportion(&stakes, n_shards)?;
    Ok(vec![Value::new(
        TypeTag::Vector(Box::new(TypeTag::U16)),
        &seats,
    )])
}

/// `max_shards_per_node`: `n_shards / 10` with at least 20 nodes, else
/// `ceil(2 n_shards / n)`; at least `ceil(n_shards / n)`. (Move's
/// arithmetic errors on overflow.)
pub fn max_shards_per_node(n: u64, n_shards: u64) -> Result<u64, NativeError> {
    if n == 0 {
        return Ok(0);
    }
    let overflow = crate::util::arithmetic;
    let cap = if n >= MIN_NODES_FOR_SHARDS_LIMIT {
        n_shards / SHARDS_LIMIT_DENOMINATOR
    } else {
        let den = n.checked_mul(10).ok_or_else(overflow)?;
        n_shards
            .checked_mul(20)
            .and_then(|x| x.checked_add(den - 1))
            .ok_or_else(overflow)?
            / den
    };
    let fair = n_shards.checked_add(n - 1).ok_or_else(overflow)? / n;
    Ok(cap.max(fair))
}

/// `apportion`: shards per node (same order as `stakes`), summing to
/// `n_shards` unless `stakes` is empty.
pub fn apportion(stakes: &[u64], n_shards: u16) -> Result<Vec<u16>, NativeError> {
    let n = stakes.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let seats_total = u64::from(n_shards);
    let cap = max_shards_per_node(n as u64, seats_total)?;
    let total: u128 = stakes.iter().map(|s| u128::from(*s)).sum();
    let quota = total / (u128::from(seats_total) + 1) + 1;
    let mut seats: Vec<u64> = stakes
        .iter()
        .map(|s| ((u128::from(*s) / quota) as u64).min(cap))
        .collect();
    let mut assigned: u64 = seats.iter().sum();
    while assigned < seats_total {
        let mut best: Option<usize> = None;
        for i in 0..n {
            if seats[i] >= cap {
                continue;
            }
            let better = match best {
                None => true,
                Some(b) => higher_quotient(stakes[i], seats[i], stakes[b], seats[b]),
            };
            if better {
                best = Some(i);
            }
        }
        let Some(best) = best else { break };
        seats[best] += 1;
        assigned += 1;
    }
    Ok(seats.into_iter().map(|s| s as u16).collect())
}

/// Whether `a / (a_seats + 1)` is strictly above `b / (b_seats + 1)`.
fn higher_quotient(a: u64, a_seats: u64, b: u64, b_seats: u64) -> bool {
    u128::from(a) * (u128::from(b_seats) + 1) > u128::from(b) * (u128::from(a_seats) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dhondt_examples() {
        // Plain D'Hondt: 100/60/40 for 10 seats -> 5, 3, 2.
        assert_eq!(apportion(&[100, 60, 40], 10).unwrap(), vec![5, 3, 2]);
        // The cap (ceil(2 * 10 / 2) = 10) does not bind; ties go to the
        // earlier node.
        assert_eq!(apportion(&[1, 1], 3).unwrap(), vec![2, 1]);
        // One whale among 4 nodes: capped at ceil(20 / 4) = 5.
        assert_eq!(apportion(&[1000, 1, 1, 1], 10).unwrap(), vec![5, 2, 2, 1]);
        assert!(apportion(&[], 10).unwrap().is_empty());
        // The cases of `apportionment_tests.move`.
        assert_eq!(apportion(&[60, 30, 10], 10).unwrap(), vec![6, 3, 1]);
        assert_eq!(apportion(&[10, 2], 10).unwrap(), vec![9, 1]);
        assert_eq!(apportion(&[5, 5, 5], 4).unwrap(), vec![2, 1, 1]);
        assert_eq!(apportion(&[1, 0], 4).unwrap(), vec![4, 0]);
        let seats = apportion(&[7, 0, 3, 11, 1], 1000).unwrap();
        assert_eq!(seats.iter().map(|s| u32::from(*s)).sum::<u32>(), 1000);
        assert_eq!(max_shards_per_node(25, 1000).unwrap(), 100);
        assert_eq!(max_shards_per_node(25, 5).unwrap(), 1);
    }

    proptest! {
        #[test]
        fn total_cap_and_monotonicity(
            stakes in proptest::collection::vec(0u64..1_000_000_000_000, 1..40),
            n_shards in 1u16..1200,
            who in any::<prop::sample::Index>(),
            extra in 0u64..1_000_000_000_000,
        ) {
            let seats = apportion(&stakes, n_shards).unwrap();
            let total: u64 = seats.iter().map(|s| u64::from(*s)).sum();
            prop_assert_eq!(total, u64::from(n_shards));
            let cap = max_shards_per_node(stakes.len() as u64, u64::from(n_shards)).unwrap();
            prop_assert!(seats.iter().all(|s| u64::from(*s) <= cap));
            let i = who.index(stakes.len());
            let mut more = stakes.clone();
            more[i] += extra;
            let after = apportion(&more, n_shards).unwrap();
            prop_assert!(after[i] >= seats[i], "{:?} -> {:?} at {}", seats, after, i);
        }
    }
}
