//! The genesis file: chain name, funded accounts, native packages.
//!
//! ```toml
//! chain_name = "floe-devnet"        # reported by GetServiceInfo as `chain`
//! faucet_amount = 10_000_000_000    # MIST per faucet request (default 10 SUI)
//!
//! [[accounts]]
//! address = "0x1234…"               # gets `coins` coins summing to `balance` MIST
//! balance = 1_000_000_000_000
//! coins = 4                         # default 1
//!
//! [[packages]]
//! address = "0xf10e…"               # a native package compiled into the binary
//! init_sender = "0x1234…"           # sender of its init transaction (default 0x0)
//!
//! [[faucet_reserves]]               # after the package inits: moves `amount` of
//! coin_type = "0x3a1::wal::WAL"     # `from`'s coins of this type to the faucet
//! from = "0x1234…"                  # account, which pays the faucet's requests
//! amount = 50_000_000_000_000_000
//! ```
//!
//! The faucet mints only SUI (the ledger's gas coin, which no contract
//! accounts for). Every other coin comes out of a reserve: a coin type whose
//! contract mints its whole supply once (WAL) keeps that invariant, and an
//! empty reserve is an error ("faucet reserve exhausted"), not new money.
//!
//! The chain id is not configured: as on Sui it is the digest of the
//! genesis checkpoint, which depends on the genesis time, so two devnets
//! started from the same file are different chains.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sui_sdk_types::Address;

use crate::error::LedgerError;

/// Default SUI sent per faucet request: 10 SUI.
pub const DEFAULT_FAUCET_AMOUNT: u64 = 10_000_000_000;
/// Bounds so a genesis file cannot make the ledger build millions of coins.
const MAX_ACCOUNTS: usize = 10_000;
const MAX_COINS_PER_ACCOUNT: u64 = 1_000;

/// A funded account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub address: Address,
    /// MIST in total.
    pub balance: u64,
    /// How many coins to split the balance into.
    #[serde(default = "one")]
    pub coins: u64,
}

fn one() -> u64 {
    1
}

/// A native package to install at genesis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PackageSpec {
    pub address: Address,
    #[serde(default)]
    pub init_sender: Option<Address>,
}

/// The account that holds the faucet's reserves. No key is known for it:
/// only the ledger's own faucet transactions spend its coins.
pub const FAUCET_ADDRESS: Address = Address::from_static("0xfa0ce7");

/// A share of an existing coin moved to the faucet account at genesis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FaucetReserve {
    /// The coin type (`0x3a1::wal::WAL`), as Move writes it.
    pub coin_type: String,
    /// Holder of a coin of that type with at least `amount` once the
    /// packages' inits ran (typically a package's `init_sender`).
    pub from: Address,
    pub amount: u64,
}

/// The parsed genesis file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    #[serde(default = "default_chain")]
    pub chain_name: String,
    #[serde(default = "default_faucet")]
    pub faucet_amount: u64,
    #[serde(default)]
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub packages: Vec<PackageSpec>,
    /// Reserves the faucet pays non-SUI coins from.
    #[serde(default)]
    pub faucet_reserves: Vec<FaucetReserve>,
}

fn default_chain() -> String {
    "floe-devnet".into()
}

fn default_faucet() -> u64 {
    DEFAULT_FAUCET_AMOUNT
}

impl Default for Genesis {
    fn default() -> Self {
        Self {
            chain_name: default_chain(),
            faucet_amount: DEFAULT_FAUCET_AMOUNT,
            accounts: vec![],
            packages: vec![],
            faucet_reserves: vec![],
        }
    }
}

impl Genesis {
    /// Parses TOML (or JSON, by extension) genesis text.
    pub fn parse(text: &str, json: bool) -> Result<Self, LedgerError> {
        let genesis: Self = if json {
            serde_json::from_str(text).map_err(|e| LedgerError::Genesis(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| LedgerError::Genesis(e.to_string()))?
        };
        genesis.validate()?;
        Ok(genesis)
    }

    /// Reads a genesis file (`.json` is JSON, anything else TOML).
    pub fn load(path: &Path) -> Result<Self, LedgerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LedgerError::Genesis(format!("{}: {e}", path.display())))?;
        Self::parse(&text, path.extension().is_some_and(|e| e == "json"))
    }

    fn validate(&self) -> Result<(), LedgerError> {
        if self.accounts.len() > MAX_ACCOUNTS {
            return Err(LedgerError::Genesis(format!(
                "at most {MAX_ACCOUNTS} accounts"
            )));
        }
        for a in &self.accounts {
            if a.coins == 0 || a.coins > MAX_COINS_PER_ACCOUNT {
                return Err(LedgerError::Genesis(format!(
                    "account {}: coins must be in 1..={MAX_COINS_PER_ACCOUNT}",
                    a.address
                )));
            }
        }
        if self.faucet_reserves.len() > MAX_ACCOUNTS {
            return Err(LedgerError::Genesis(format!(
                "at most {MAX_ACCOUNTS} faucet reserves"
            )));
        }
        for r in &self.faucet_reserves {
            let parsed: Result<sui_sdk_types::TypeTag, _> = r.coin_type.parse();
            if parsed.is_err() {
                return Err(LedgerError::Genesis(format!(
                    "faucet reserve: {:?} is not a type",
                    r.coin_type
                )));
            }
            if r.amount == 0 {
                return Err(LedgerError::Genesis(format!(
                    "faucet reserve of {}: amount must be positive",
                    r.coin_type
                )));
            }
        }
        if self.faucet_amount == 0 {
            return Err(LedgerError::Genesis(
                "faucet_amount must be positive".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml() {
        let g = Genesis::parse(
            "chain_name = \"x\"\n[[accounts]]\naddress = \"0x2\"\nbalance = 5\ncoins = 2\n",
            false,
        )
        .unwrap();
        assert_eq!(g.accounts[0].coins, 2);
        assert_eq!(g.faucet_amount, DEFAULT_FAUCET_AMOUNT);
        assert!(Genesis::parse("bogus = 1", false).is_err());
    }
}
