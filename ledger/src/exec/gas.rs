//! The fee schedule: deterministic, documented, never zero.
//!
//! ```text
//! computation_cost = gas_price × (1_000 + 100 × commands)
//! storage_cost     = 100 MIST × Σ over written objects (BCS contents bytes + 100)
//! storage_rebate   = 0, non_refundable_storage_fee = 0
//! charged          = computation_cost + storage_cost  (at most the budget)
//! ```
//!
//! The budget is reserved from the gas coin before the commands run (the
//! commands see `balance - budget`), and `budget - charged` is returned
//! afterwards, as on Sui. If `charged` exceeds the budget the transaction
//! fails with `InsufficientGas`, its effects are reverted and the whole
//! budget is charged.

/// Reference gas price, reported by GetEpoch; the minimum accepted price.
pub const REFERENCE_GAS_PRICE: u64 = 1_000;
/// Smallest accepted budget: the base computation at the reference price.
pub const MIN_BUDGET: u64 = BASE_UNITS * REFERENCE_GAS_PRICE;
/// Largest accepted budget (Sui's limit: 50 SUI).
pub const MAX_BUDGET: u64 = 50_000_000_000;
const BASE_UNITS: u64 = 1_000;
const UNITS_PER_COMMAND: u64 = 100;
/// MIST per byte of written object.
pub const STORAGE_PRICE_PER_BYTE: u64 = 100;
/// Bytes charged per written object on top of its contents.
pub const OBJECT_OVERHEAD_BYTES: u64 = 100;

/// Computation cost of a transaction with `commands` commands.
pub fn computation_cost(gas_price: u64, commands: usize) -> u64 {
    gas_price.saturating_mul(
        BASE_UNITS.saturating_add(UNITS_PER_COMMAND.saturating_mul(commands as u64)),
    )
}

/// Storage cost of writing objects whose contents have these lengths.
pub fn storage_cost(content_lengths: impl Iterator<Item = usize>) -> u64 {
    content_lengths
        .map(|len| (len as u64).saturating_add(OBJECT_OVERHEAD_BYTES))
        .fold(0u64, u64::saturating_add)
        .saturating_mul(STORAGE_PRICE_PER_BYTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_never_zero() {
        assert_eq!(computation_cost(1_000, 1), 1_100_000);
        assert!(computation_cost(REFERENCE_GAS_PRICE, 0) >= MIN_BUDGET);
        assert_eq!(storage_cost([40usize, 40].into_iter()), 28_000);
    }
}
