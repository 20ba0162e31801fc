//! `floe ledger run` as a child process: the one way a test starts a
//! ledger that is not its own crate under test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::bin::floe_bin;
use crate::process::Proc;

/// How long the ledger may take to print its listening line (it replays
/// its write-ahead log first).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How to run the ledger.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// `--listen`; `127.0.0.1:0` picks a free port.
    pub listen: String,
    /// `--checkpoint-interval-ms`, if not the ledger's default.
    pub checkpoint_interval_ms: Option<u64>,
    /// Extra environment (e.g. `RUST_LOG`).
    pub env: Vec<(String, String)>,
    /// Extra arguments to `floe ledger run`.
    pub args: Vec<String>,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:0".to_owned(),
            checkpoint_interval_ms: None,
            env: Vec::new(),
            args: Vec::new(),
        }
    }
}

impl LedgerOptions {
    pub fn checkpoint_interval_ms(mut self, ms: u64) -> Self {
        self.checkpoint_interval_ms = Some(ms);
        self
    }

    pub fn args<S: AsRef<str>>(mut self, args: &[S]) -> Self {
        self.args.extend(args.iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A running ledger: data in `DIR/ledger`, log in `DIR/ledger.log`.
pub struct Ledger {
    proc: Option<Proc>,
    dir: PathBuf,
    genesis: Option<PathBuf>,
    options: LedgerOptions,
    /// `host:port` it listens on (gRPC, and HTTP for the faucet).
    pub address: String,
    /// Its last listening line (`address`, `validator_key`, ...).
    pub ready: serde_json::Value,
}

impl Ledger {
    /// Starts `floe --json ledger run` on `genesis` and waits for its
    /// listening line.
    pub fn start(dir: &Path, genesis: &Path, options: LedgerOptions) -> Self {
        Self::launch(dir, Some(genesis), options)
    }

    /// Starts on the existing data in `DIR/ledger`, without a genesis file
    /// (the ledger must not need one once it has state).
    pub fn resume(dir: &Path, options: LedgerOptions) -> Self {
        Self::launch(dir, None, options)
    }

    fn launch(dir: &Path, genesis: Option<&Path>, options: LedgerOptions) -> Self {
        let mut ledger = Self {
            proc: None,
            dir: dir.to_path_buf(),
            genesis: genesis.map(Path::to_path_buf),
            address: options.listen.clone(),
            ready: serde_json::Value::Null,
            options,
        };
        ledger.spawn(&ledger.options.listen.clone());
        ledger
    }

    fn spawn(&mut self, listen: &str) {
        let mut cmd = Command::new(floe_bin());
        cmd.args(["--json", "ledger", "run", "--listen", listen])
            .arg("--data-dir")
            .arg(self.dir.join("ledger"));
        if let Some(genesis) = &self.genesis {
            cmd.arg("--genesis").arg(genesis);
        }
        if let Some(ms) = self.options.checkpoint_interval_ms {
            cmd.args(["--checkpoint-interval-ms", &ms.to_string()]);
        }
        cmd.args(&self.options.args)
            .envs(self.options.env.iter().map(|(k, v)| (k, v)));
        let proc = Proc::spawn(&mut cmd, &self.dir.join("ledger.log"));
        let v = proc.first_json(START_TIMEOUT);
        self.address = v["address"]
            .as_str()
            .unwrap_or_else(|| panic!("ledger said {v}"))
            .to_owned();
        self.ready = v;
        self.proc = Some(proc);
    }

    /// `http://host:port`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// SIGKILL (the data directory stays).
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9();
        }
    }

    /// SIGKILL, then start again on the same data and address.
    pub fn restart(&mut self) {
        self.kill9();
        let address = self.address.clone();
        self.spawn(&address);
    }

    /// The whole log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ledger.log")).unwrap_or_default()
    }

    /// The end of the log, for failure messages.
    pub fn log_tail(&self, max: usize) -> String {
        crate::process::tail(&self.dir.join("ledger.log"), max)
    }
}
