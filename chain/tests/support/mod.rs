//! Runs a real `floe ledger run` process for integration tests.
//!
//! The binary is `$FLOE_BIN` if set, else `floe` in the cargo target
//! directory (`$CARGO_TARGET_DIR`, else `<workspace>/target`) under
//! `debug/`; build it with `cargo build -p floe`.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use floe_chain::sui_sdk_types::Address;
use floe_chain::{ChainClient, ClientConfig, KeyPair, RetryPolicy};

pub fn floe_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("FLOE_BIN") {
        return bin.into();
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug").join("floe")
}

/// A funded account in the genesis file.
pub struct Funded {
    pub key: KeyPair,
    pub balance: u64,
    pub coins: u64,
}

pub struct LedgerProcess {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub listen: String,
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
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut process = Self {
            child: None,
            dir,
            listen: format!("127.0.0.1:{port}"),
        };
        process.spawn();
        process
    }

    fn spawn(&mut self) {
        let bin = floe_bin();
        assert!(
            bin.exists(),
            "{} not found: build it with `cargo build -p floe` (or set FLOE_BIN)",
            bin.display()
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("ledger.log"))
            .expect("log file");
        let child = Command::new(bin)
            .args(["ledger", "run", "--data-dir"])
            .arg(self.dir.path().join("data"))
            .arg("--genesis")
            .arg(self.dir.path().join("genesis.toml"))
            .args(["--listen", &self.listen])
            // Frequent checkpoints keep the tests short.
            .args(["--checkpoint-interval-ms", "200"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn floe ledger run");
        self.child = Some(child);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listen)
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
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// kill -9 and start again on the same data directory and port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ledger.log")).unwrap_or_default()
    }
}

impl Drop for LedgerProcess {
    fn drop(&mut self) {
        self.kill();
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
