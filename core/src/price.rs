//! Storage and write prices (Walrus's `system_state_inner.move` and
//! `storage_accounting.move`; `walrus-sui/src/utils.rs::price_for_encoded_length`).
//!
//! Prices are voted per storage unit of 1 MiB of *encoded* size: the storage
//! price is paid per unit per epoch, the write price once per registration.
//! Amounts are in FROST (1 WAL = 10^9 FROST) and must fit a `u64` coin
//! balance. All products are computed in 256-bit integers (units < 2^45,
//! price < 2^64, epochs < 2^32 need up to 2^141), so no input overflows; a
//! result above `u64::MAX` is a typed error rather than a wrap or a panic.

use alloy_primitives::U256;

/// Bytes per storage unit: 1 MiB (Move `BYTES_PER_UNIT_SIZE`).
pub const BYTES_PER_UNIT_SIZE: u64 = 1024 * 1024;
/// FROST per WAL.
pub const FROST_PER_WAL: u64 = 1_000_000_000;
/// Decimal places of WAL.
pub const WAL_DECIMALS: usize = 9;

/// Why a price could not be computed or an amount parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// The exact cost does not fit a `u64` amount of FROST.
    #[error("cost of {cost} FROST exceeds the largest coin amount (u64::MAX)")]
    Overflow {
        /// The exact cost in decimal.
        cost: String,
    },
    /// Text is not a WAL amount.
    #[error("{input:?} is not a WAL amount: {reason}")]
    InvalidWalAmount {
        /// The text.
        input: String,
        /// Why.
        reason: &'static str,
    },
}

/// Storage units (1 MiB each, rounded up) for `encoded_length` bytes.
pub const fn storage_units(encoded_length: u64) -> u64 {
    encoded_length.div_ceil(BYTES_PER_UNIT_SIZE)
}

/// Exact storage cost `units x price x epochs` (no overflow possible).
pub fn storage_cost_wide(encoded_length: u64, price_per_unit_epoch: u64, epochs: u32) -> U256 {
    U256::from(storage_units(encoded_length))
        * U256::from(price_per_unit_epoch)
        * U256::from(epochs)
}

/// Storage cost in FROST for `epochs` epochs, as a coin amount.
pub fn storage_cost(
    encoded_length: u64,
    price_per_unit_epoch: u64,
    epochs: u32,
) -> Result<u64, PriceError> {
    to_amount(storage_cost_wide(
        encoded_length,
        price_per_unit_epoch,
        epochs,
    ))
}

/// Storage cost of one epoch, what Move charges into each epoch's bucket
/// (`storage_price * units`).
pub fn storage_cost_per_epoch(
    encoded_length: u64,
    price_per_unit_epoch: u64,
) -> Result<u64, PriceError> {
    storage_cost(encoded_length, price_per_unit_epoch, 1)
}

/// Exact write cost `units x write price`.
pub fn write_cost_wide(encoded_length: u64, write_price_per_unit: u64) -> U256 {
    U256::from(storage_units(encoded_length)) * U256::from(write_price_per_unit)
}

/// Write cost in FROST (paid once at registration), as a coin amount.
pub fn write_cost(encoded_length: u64, write_price_per_unit: u64) -> Result<u64, PriceError> {
    to_amount(write_cost_wide(encoded_length, write_price_per_unit))
}

/// Total to register and store: write cost plus storage for `epochs`.
pub fn total_cost(
    encoded_length: u64,
    storage_price: u64,
    write_price: u64,
    epochs: u32,
) -> Result<u64, PriceError> {
    to_amount(
        storage_cost_wide(encoded_length, storage_price, epochs)
            + write_cost_wide(encoded_length, write_price),
    )
}

fn to_amount(cost: U256) -> Result<u64, PriceError> {
    u64::try_from(cost).map_err(|_| PriceError::Overflow {
        cost: cost.to_string(),
    })
}

/// Formats FROST as WAL with up to 9 decimals, trailing zeros trimmed:
/// `1_500_000_000` -> `"1.5"`, `1` -> `"0.000000001"`, `0` -> `"0"`.
pub fn format_wal(frost: u64) -> String {
    let whole = frost / FROST_PER_WAL;
    let fraction = frost % FROST_PER_WAL;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:0width$}", width = WAL_DECIMALS);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Formats FROST with the unit, e.g. `"1.5 WAL"`.
pub fn format_wal_with_unit(frost: u64) -> String {
    format!("{} WAL", format_wal(frost))
}

/// Parses a decimal WAL amount (`"1.5"`, `"0.000000001"`, `"3"`) into FROST;
/// rejects more than 9 decimals, signs, exponents and values above
/// `u64::MAX` FROST.
pub fn parse_wal(input: &str) -> Result<u64, PriceError> {
    let err = |reason| PriceError::InvalidWalAmount {
        input: input.to_owned(),
        reason,
    };
    let text = input.trim();
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(err("empty"));
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("only digits and one '.' are allowed"));
    }
    if fraction.len() > WAL_DECIMALS {
        return Err(err(
            "more than 9 decimal places (1 FROST = 0.000000001 WAL)",
        ));
    }
    let whole_value: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| err("whole part too large"))?
    };
    let fraction_value: u128 = if fraction.is_empty() {
        0
    } else {
        let padded = format!("{fraction:0<width$}", width = WAL_DECIMALS);
        padded.parse().map_err(|_| err("bad fraction"))?
    };
    let frost = whole_value
        .checked_mul(u128::from(FROST_PER_WAL))
        .and_then(|v| v.checked_add(fraction_value))
        .ok_or_else(|| err("amount too large"))?;
    u64::try_from(frost).map_err(|_| err("amount above u64::MAX FROST"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_up() {
        assert_eq!(storage_units(0), 0);
        assert_eq!(storage_units(1), 1);
        assert_eq!(storage_units(BYTES_PER_UNIT_SIZE), 1);
        assert_eq!(storage_units(BYTES_PER_UNIT_SIZE + 1), 2);
        assert_eq!(storage_units(u64::MAX), 1 << 44);
    }

    #[test]
    fn wal_formatting_round_trips() {
        for frost in [
            0,
            1,
            10,
            999_999_999,
            1_000_000_000,
            1_500_000_000,
            u64::MAX,
        ] {
            assert_eq!(parse_wal(&format_wal(frost)), Ok(frost), "{frost}");
        }
        assert_eq!(format_wal(1_500_000_000), "1.5");
        assert_eq!(format_wal(1), "0.000000001");
        assert_eq!(format_wal_with_unit(2_000_000_000), "2 WAL");
        assert!(parse_wal("1.0000000001").is_err());
        assert!(parse_wal("-1").is_err());
        assert!(parse_wal("").is_err());
        assert!(parse_wal("18446744073.709551616").is_err());
        assert_eq!(parse_wal(".5"), Ok(500_000_000));
    }
}
