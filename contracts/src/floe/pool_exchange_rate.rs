//! Twin of `floe::pool_exchange_rate`: WAL per pool share, converted with
//! u128 floor division.

use floe_core::move_types::{MoveType, MoveTypeInfo, PoolExchangeRate};
use floe_runtime::NativeError;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, abort_codes};
use crate::util::ensure;

abort_codes! {
    module: "pool_exchange_rate",
    EInvalidRate = 0,
}

/// Every `public` and `entry` function of the Move module (none).
pub const FUNCTIONS: &[FnSig] = &[];

const STRUCTS: &[MoveTypeInfo] = &[PoolExchangeRate::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "pool_exchange_rate",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `new`: the rate of `wal_amount` FROST for `share_amount` shares, flat
/// without shares; aborts with `EInvalidRate` if shares exceed WAL.
pub fn new(wal_amount: u64, share_amount: u64) -> Result<PoolExchangeRate, NativeError> {
    ensure(share_amount <= wal_amount, EInvalidRate)?;
    Ok(if share_amount == 0 {
        PoolExchangeRate::Flat
    } else {
        PoolExchangeRate::Variable {
            wal_amount: u128::from(wal_amount),
            share_amount: u128::from(share_amount),
        }
    })
}

/// `convert_to_wal_amount`: FROST worth `amount` shares.
pub fn to_wal(rate: &PoolExchangeRate, amount: u64) -> Result<u64, NativeError> {
    match *rate {
        PoolExchangeRate::Flat => Ok(amount),
        PoolExchangeRate::Variable {
            wal_amount,
            share_amount,
        } => mul_div(amount, wal_amount, share_amount),
    }
}

/// `convert_to_share_amount`: shares worth `amount` FROST.
pub fn to_shares(rate: &PoolExchangeRate, amount: u64) -> Result<u64, NativeError> {
    match *rate {
        PoolExchangeRate::Flat => Ok(amount),
        PoolExchangeRate::Variable {
            wal_amount,
            share_amount,
        } => mul_div(amount, share_amount, wal_amount),
    }
}

/// `(amount as u128) * num / den as u64`, Move's arithmetic errors
/// included (overflow of the product or of the cast, division by zero).
fn mul_div(amount: u64, num: u128, den: u128) -> Result<u64, NativeError> {
    let product = u128::from(amount)
        .checked_mul(num)
        .ok_or_else(crate::util::arithmetic)?;
    let quotient = product
        .checked_div(den)
        .ok_or_else(crate::util::arithmetic)?;
    u64::try_from(quotient).map_err(|_| crate::util::arithmetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_floor() {
        assert_eq!(new(5, 6), Err(EInvalidRate.err()));
        assert_eq!(new(7, 0).unwrap(), PoolExchangeRate::Flat);
        let flat = new(0, 0).unwrap();
        assert_eq!(to_wal(&flat, 9).unwrap(), 9);
        let rate = new(150, 100).unwrap();
        assert_eq!(to_wal(&rate, 10).unwrap(), 15);
        assert_eq!(to_shares(&rate, 10).unwrap(), 6);
        assert_eq!(to_wal(&rate, 1).unwrap(), 1);
        assert!(to_wal(&rate, u64::MAX).is_err(), "the cast back overflows");
    }
}
