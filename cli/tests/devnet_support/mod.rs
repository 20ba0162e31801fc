//! Starting `floe devnet` from a test, shared by the devnet and client
//! end-to-end suites: spawn it with `--json --auto-ports`, wait for its
//! `ready` line, and make sure a failing test never leaves a network
//! running (the handle stops it on drop).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a devnet may take to become ready on a loaded 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
/// How long a SIGTERM'd devnet may take to stop its components.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

pub fn floe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_floe"))
}

/// The `floe devnet` process. Dropped while running, it gets SIGTERM (so it
/// stops its children), then SIGKILL if it has not exited in time.
pub struct Running(pub Child);

impl Running {
    /// Sends SIGTERM (the clean-stop signal a user's Ctrl-C also maps to).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {}", self.0.id());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !matches!(self.0.try_wait(), Ok(None)) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `floe devnet --json --auto-ports --data-dir DIR EXTRA...` and waits
/// for its ready line, which it returns. Panics with the components' logs
/// if the devnet does not become ready.
pub fn start(dir: &Path, extra: &[&str]) -> (Running, Value) {
    let mut child = floe()
        .args(["devnet", "--json", "--auto-ports", "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start floe devnet");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str::<Value>(&line)
                && value["event"] == "ready"
            {
                let _ = tx.send(value);
            }
        }
    });
    let running = Running(child);
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(ready) => (running, ready),
        Err(_) => {
            drop(running);
            panic!("devnet did not become ready; logs:\n{}", logs(dir));
        }
    }
}

/// Every component log of the devnet in `dir`, for failure messages.
pub fn logs(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
        // The end of a log says why it stopped; keep failure output short.
        let tail: String = body
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        text += &format!("--- {}\n{tail}\n", entry.path().display());
    }
    text
}

/// The devnet's manifest (`DIR/devnet.json`).
pub fn manifest(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("devnet.json")).expect("read devnet.json");
    serde_json::from_str(&text).expect("devnet.json is JSON")
}

/// The pid of the component called `name` in a manifest.
pub fn pid_of(manifest: &Value, name: &str) -> i32 {
    let entry = manifest["pids"]
        .as_array()
        .expect("pids")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no component {name} in {manifest}"));
    entry["pid"].as_i64().expect("pid") as i32
}
