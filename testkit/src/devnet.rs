//! `floe devnet` from a test: spawn it with `--json --auto-ports`, wait for
//! its `ready` line, and never leave a network running (the handle stops it
//! on drop: SIGTERM so it stops its components, SIGKILL if it hangs).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bin::floe_bin;
use crate::process::Proc;

pub use crate::bin::floe;

/// How long a devnet may take to become ready on a loaded 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
/// How long a SIGTERM'd devnet may take to stop its components.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// A process that is stopped with SIGTERM first on drop: a devnet, or a
/// component a test starts by hand.
pub type Running = Proc;

/// Wraps a child so that dropping it stops it like a devnet.
pub fn running(child: std::process::Child) -> Running {
    Proc::new(child).graceful(STOP_TIMEOUT)
}

/// Starts `floe devnet --json --auto-ports --data-dir DIR EXTRA...` and waits
/// for its ready line, which it returns. Panics with the components' logs
/// if the devnet does not become ready.
pub fn start(dir: &Path, extra: &[&str]) -> (Running, Value) {
    let mut cmd = Command::new(floe_bin());
    cmd.args(["devnet", "--json", "--auto-ports", "--data-dir"])
        .arg(dir)
        .args(extra);
    // The devnet's own output goes beside, not into, DIR (`--fresh` refuses
    // a directory holding anything else); its components log under DIR/logs.
    let running = Proc::spawn_in_temp(&mut cmd, "devnet").graceful(STOP_TIMEOUT);
    let ready = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        running.wait_json("the devnet's ready line", READY_TIMEOUT, |v| {
            v["event"] == "ready"
        })
    }));
    match ready {
        Ok(ready) => (running, ready),
        Err(_) => {
            let own = running.log_tail(4000);
            drop(running);
            panic!(
                "devnet did not become ready; its output:\n{own}\ncomponent logs:\n{}",
                logs(dir)
            );
        }
    }
}

/// Every component log of the devnet in `dir` (the last 40 lines of
/// each), for failure messages.
pub fn logs(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
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

/// Blob contents regenerated from a seed (xorshift), so a check needs no
/// copy kept on the side; different seeds give different bytes.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Sends `sig` (`-STOP`, `-KILL`, ...) to a component's `pid`.
pub fn signal(pid: i32, sig: &str) {
    crate::process::signal(pid.into(), sig);
}

/// Waits (at most 30 s) until `pid` has exited; a zombie not yet reaped by
/// the devnet counts as gone.
pub fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Path::new(&format!("/proc/{pid}")).exists() {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.contains(") Z ") {
            return;
        }
        assert!(Instant::now() < deadline, "process {pid} did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `GET url` with curl and a 5 s budget: the status and the body.
pub fn get(url: &str) -> Option<(u16, String)> {
    let out = Command::new("curl")
        .args(["-s", "-m", "5", "-w", "\n%{http_code}", url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n')?;
    Some((code.trim().parse().ok()?, body.to_owned()))
}

/// `GET http://host:port/path`: the JSON answer when it is 200.
pub fn get_json(url: &str) -> Option<Value> {
    use std::net::ToSocketAddrs;
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_at(rest.find('/')?);
    let addr = host.to_socket_addrs().ok()?.next()?;
    match crate::http::try_request(addr, "GET", path, b"").ok()? {
        (200, body) => serde_json::from_slice(&body).ok(),
        _ => None,
    }
}

/// The value of an unlabelled Prometheus metric.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A node's recovery queue (blobs it still has to fetch slivers of).
pub fn recovery_queue(url: &str) -> Option<f64> {
    get(&format!("{url}/metrics"))
        .filter(|(code, _)| *code == 200)
        .and_then(|(_, text)| metric(&text, "floe_node_recovery_queue"))
}

/// Health 200, follower lag under 5 s, nothing queued for recovery.
pub fn caught_up(url: &str) -> bool {
    matches!(get(&format!("{url}/v1/health")), Some((200, _)))
        && get(&format!("{url}/metrics")).is_some_and(|(code, text)| {
            code == 200
                && metric(&text, "floe_node_follower_lag_ms").is_some_and(|v| v < 5_000.0)
                && metric(&text, "floe_node_recovery_queue").is_some_and(|v| v == 0.0)
        })
}
