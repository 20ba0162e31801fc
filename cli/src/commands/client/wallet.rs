//! `floe wallet new|address|balance|faucet`: the key in the client
//! config's keystore (the Sui CLI format, so `sui` can use it too).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use floe_chain::Keystore;

use super::{ConfigArg, print_json, wal};

/// Arguments of `floe wallet`.
#[derive(Debug, Args)]
pub struct WalletArgs {
    #[command(subcommand)]
    command: WalletCommand,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, Subcommand)]
enum WalletCommand {
    /// Add a new key to the keystore (created if missing).
    New {
        /// An alias for the key.
        #[arg(long)]
        alias: Option<String>,
    },
    /// The active address.
    Address,
    /// SUI and WAL balances.
    Balance,
    /// Ask the configured faucet for SUI and WAL.
    Faucet,
}

/// Runs `floe wallet`.
pub async fn run(args: WalletArgs, json: bool) -> Result<()> {
    match args.command {
        WalletCommand::New { alias } => {
            let config = args.config.load()?;
            let path = &config.wallet.keystore;
            let mut keystore =
                Keystore::open(path).with_context(|| format!("opening {}", path.display()))?;
            let address = keystore.generate(alias.as_deref())?;
            keystore.save()?;
            if json {
                return print_json(&serde_json::json!({ "address": address, "keystore": path }));
            }
            println!("{address}");
            eprintln!(
                "  added to {}; it is active only if it is the keystore's first key or `wallet.address` in the client config names it",
                path.display()
            );
        }
        WalletCommand::Address => {
            let client = args.config.connect().await?;
            let address = client.address()?;
            if json {
                return print_json(&serde_json::json!({ "address": address }));
            }
            println!("{address}");
        }
        WalletCommand::Balance => {
            let client = args.config.connect().await?;
            let balance = client.balance().await?;
            if json {
                return print_json(&balance);
            }
            println!("{}", balance.address);
            println!(
                "  {} SUI (MIST {})",
                floe_core::price::format_wal(balance.sui),
                balance.sui
            );
            println!("  {}", wal(balance.wal));
        }
        WalletCommand::Faucet => {
            let client = args.config.connect().await?;
            let answers = client.faucet().await?;
            if json {
                return print_json(&answers);
            }
            let balance = client.balance().await?;
            println!(
                "funded {}: now {} SUI and {}",
                balance.address,
                floe_core::price::format_wal(balance.sui),
                wal(balance.wal)
            );
        }
    }
    Ok(())
}
