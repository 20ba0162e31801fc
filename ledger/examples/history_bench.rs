//! Load generator and opener for `scripts/bench/ledger-history.sh`:
//!
//! - `history_bench load DIR H`: a fresh ledger in DIR receives H signed
//!   transactions (one MIST split off a gas coin and merged back, so the
//!   live state keeps its size), a checkpoint every 10, compacting at the
//!   default thresholds; then the process exits without a clean-stop
//!   compaction, as a kill would leave it.
//! - `history_bench open DIR`: opens the ledger (snapshot + log tail) and
//!   prints what memory holds. Measure it with `/usr/bin/time -v`.

use std::path::Path;
use std::time::Instant;

use floe_ledger::genesis::{Account, Genesis};
use floe_ledger::{Ledger, LedgerConfig, LedgerOptions};
use sui_crypto::SuiSigner;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::{
    Argument, Command, GasPayment, Input, MergeCoins, ObjectReference, ProgrammableTransaction,
    SplitCoins, StructTag, Transaction, TransactionExpiration, TransactionKind,
};

fn open(dir: &Path) -> Result<Ledger, Box<dyn std::error::Error>> {
    let key = Ed25519PrivateKey::new([9; 32]);
    let owner = key.public_key().derive_address();
    Ok(Ledger::open_with(
        LedgerConfig {
            data_dir: dir.to_owned(),
            genesis: Genesis {
                accounts: vec![Account {
                    address: owner,
                    balance: 1_000_000_000_000_000,
                    coins: 1,
                }],
                ..Genesis::default()
            },
            natives: vec![],
        },
        LedgerOptions::default(),
    )?)
}

fn load(dir: &Path, n: u64) -> Result<(), Box<dyn std::error::Error>> {
    let key = Ed25519PrivateKey::new([9; 32]);
    let owner = key.public_key().derive_address();
    let ledger = open(dir)?;
    for i in 0..n {
        let gas = {
            let state = ledger.state();
            state
                .owned_objects(&owner)
                .find(|o| {
                    o.as_struct()
                        .is_some_and(|s| *s.object_type() == StructTag::gas_coin())
                })
                .map(|o| ObjectReference::new(o.object_id(), o.version(), o.digest()))
                .ok_or("no gas coin")?
        };
        let t = Transaction {
            kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
                inputs: vec![Input::Pure(bcs::to_bytes(&1u64)?)],
                commands: vec![
                    Command::SplitCoins(SplitCoins {
                        coin: Argument::Gas,
                        amounts: vec![Argument::Input(0)],
                    }),
                    Command::MergeCoins(MergeCoins {
                        coin: Argument::Gas,
                        coins_to_merge: vec![Argument::NestedResult(0, 0)],
                    }),
                ],
            }),
            sender: owner,
            gas_payment: GasPayment {
                objects: vec![gas],
                owner,
                price: 1000,
                budget: 50_000_000,
            },
            expiration: TransactionExpiration::None,
        };
        let sig = key.sign_transaction(&t)?;
        ledger.execute(t, vec![sig])?;
        if i % 10 == 9 {
            ledger.seal_checkpoint()?;
            if ledger.needs_compaction() {
                ledger.compact()?;
            }
        }
    }
    ledger.seal_checkpoint()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1..).unwrap_or_default() {
        [cmd, dir, n] if cmd == "load" => load(Path::new(dir), n.parse()?),
        [cmd, dir] if cmd == "open" => {
            let t = Instant::now();
            let ledger = open(Path::new(dir))?;
            let (objects, transactions, checkpoints) = ledger.state().counts();
            let tip = ledger
                .state()
                .latest_checkpoint()
                .map(|c| c.summary.sequence_number)
                .unwrap_or(0);
            println!(
                "opened in {:.3} s: checkpoint {tip}, {objects} live objects, \
                 {transactions} transactions and {checkpoints} checkpoints in memory",
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        _ => Err("usage: history_bench load DIR H | open DIR".into()),
    }
}
