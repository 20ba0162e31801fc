//! Price math: never panics for any u64 inputs, agrees with a u128
//! reference wherever the reference fits, and errors exactly when the cost
//! exceeds a u64 amount.

use floe_core::price::{
    BYTES_PER_UNIT_SIZE, PriceError, storage_cost, storage_cost_wide, storage_units, total_cost,
    write_cost, write_cost_wide,
};
use proptest::prelude::*;

// Written out rather than `div_ceil` so the reference is independent.
#[allow(clippy::manual_div_ceil)]
fn reference_units(len: u64) -> u128 {
    (u128::from(len) + u128::from(BYTES_PER_UNIT_SIZE) - 1) / u128::from(BYTES_PER_UNIT_SIZE)
}

/// `units * price * epochs` in u128, `None` when even u128 overflows.
fn reference_storage(len: u64, price: u64, epochs: u32) -> Option<u128> {
    reference_units(len)
        .checked_mul(u128::from(price))?
        .checked_mul(u128::from(epochs))
}

#[test]
fn known_values() {
    // 1 MiB + 1 byte = 2 units; 2 x 100 x 3 = 600.
    assert_eq!(storage_cost(BYTES_PER_UNIT_SIZE + 1, 100, 3), Ok(600));
    assert_eq!(write_cost(BYTES_PER_UNIT_SIZE + 1, 7), Ok(14));
    assert_eq!(total_cost(BYTES_PER_UNIT_SIZE + 1, 100, 7, 3), Ok(614));
    assert_eq!(storage_cost(0, u64::MAX, u32::MAX), Ok(0));
    assert!(matches!(
        storage_cost(u64::MAX, u64::MAX, u32::MAX),
        Err(PriceError::Overflow { .. })
    ));
    // The largest product: 2^44 x (2^64 - 1) x (2^32 - 1) > u128::MAX.
    let wide = storage_cost_wide(u64::MAX, u64::MAX, u32::MAX);
    let expected = alloy_primitives::U256::from(1u64 << 44)
        * alloy_primitives::U256::from(u64::MAX)
        * alloy_primitives::U256::from(u32::MAX);
    assert_eq!(wide, expected);
    assert!(wide > alloy_primitives::U256::from(u128::MAX));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn storage_cost_matches_reference(len in any::<u64>(), price in any::<u64>(), epochs in any::<u32>()) {
        prop_assert_eq!(u128::from(storage_units(len)), reference_units(len));
        let result = storage_cost(len, price, epochs);
        match reference_storage(len, price, epochs) {
            Some(cost) if cost <= u128::from(u64::MAX) => prop_assert_eq!(result, Ok(cost as u64)),
            Some(cost) => {
                prop_assert!(result.is_err());
                prop_assert_eq!(storage_cost_wide(len, price, epochs), alloy_primitives::U256::from(cost));
            }
            None => prop_assert!(result.is_err()),
        }
    }

    #[test]
    fn small_inputs_fit(len in 0u64..(1 << 40), price in 0u64..(1 << 12), epochs in 0u32..1000) {
        let expected = reference_storage(len, price, epochs).unwrap();
        prop_assert_eq!(storage_cost(len, price, epochs), Ok(expected as u64));
    }

    #[test]
    fn write_cost_matches_reference(len in any::<u64>(), price in any::<u64>()) {
        let cost = reference_units(len) * u128::from(price);
        prop_assert_eq!(write_cost_wide(len, price), alloy_primitives::U256::from(cost));
        match u64::try_from(cost) {
            Ok(c) => prop_assert_eq!(write_cost(len, price), Ok(c)),
            Err(_) => prop_assert!(write_cost(len, price).is_err()),
        }
    }

    #[test]
    fn total_is_sum(len in any::<u64>(), sp in any::<u64>(), wp in any::<u64>(), epochs in any::<u32>()) {
        let sum = storage_cost_wide(len, sp, epochs) + write_cost_wide(len, wp);
        match u64::try_from(sum) {
            Ok(c) => prop_assert_eq!(total_cost(len, sp, wp, epochs), Ok(c)),
            Err(_) => prop_assert!(total_cost(len, sp, wp, epochs).is_err()),
        }
    }
}
