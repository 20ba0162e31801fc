//! A real `floe ledger run` process (started by `floe_testkit::ledger`) with
//! a genesis that funds the test's accounts, and a chain client tuned to
//! ride out a ledger restart.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use floe_chain::sui_sdk_types::Address;
use floe_chain::{ChainClient, ClientConfig, KeyPair, RetryPolicy};
use floe_testkit::ledger::{Ledger, LedgerOptions};

/// A funded account in the genesis file.
pub struct Funded {
    pub key: KeyPair,
    pub balance: u64,
    pub coins: u64,
}

pub struct LedgerProcess {
    ledger: Ledger,
    pub dir: tempfile::TempDir,
}

impl LedgerProcess {
    /// Writes a genesis funding `accounts` and starts the ledger on a free
    /// local port.
    pub fn start(accounts: &[&Funded]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut genesis = String::from("chain_name = \"floe-chain-tests\"\n");
        for a in accounts {
            genesis.push_str(&format!(
                "\n[[accounts]]\naddress = \"{}\"\nbalance = {}\ncoins = {}\n",
                a.key.address(),
                a.balance,
                a.coins
            ));
        }
        std::fs::write(dir.path().join("genesis.toml"), genesis).expect("write genesis");
        // Frequent checkpoints keep the tests short.
        let ledger = Ledger::start(
            dir.path(),
            &dir.path().join("genesis.toml"),
            LedgerOptions::default().checkpoint_interval_ms(200),
        );
        Self { ledger, dir }
    }

    pub fn url(&self) -> String {
        self.ledger.endpoint()
    }

    /// A client with short timeouts and enough retries to ride out a
    /// restart.
    pub fn client(&self) -> ChainClient {
        ChainClient::new(
            ClientConfig::new([self.url()])
                .with_request_timeout(Duration::from_secs(20))
                .with_retry(RetryPolicy {
                    max_attempts: 40,
                    initial_backoff: Duration::from_millis(50),
                    max_backoff: Duration::from_millis(500),
                }),
        )
        .expect("client")
    }

    /// Waits until the ledger answers GetServiceInfo.
    pub async fn ready(&self) -> ChainClient {
        let client = self.client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match client.service_info().await {
                Ok(_) => return client,
                Err(e) if Instant::now() > deadline => {
                    panic!("ledger not ready at {}: {e}\n{}", self.url(), self.log())
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub fn kill(&mut self) {
        self.ledger.kill9();
    }

    /// kill -9 and start again on the same data directory and port.
    pub fn restart(&mut self) {
        self.ledger.restart();
    }

    pub fn log(&self) -> String {
        self.ledger.log()
    }
}

pub fn funded(balance: u64, coins: u64) -> Funded {
    Funded {
        key: KeyPair::generate(),
        balance,
        coins,
    }
}

pub fn address_of(f: &Funded) -> Address {
    f.key.address()
}
