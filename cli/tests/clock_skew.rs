//! Fault test (slow: one devnet, about a minute): clock skew between the
//! coordinator and the ledger.
//!
//! The devnet's coordinator is replaced by one whose wall clock is two
//! hours ahead, then by one two hours behind (libfaketime's `faketime`;
//! monotonic time is left alone, as NTP steps leave it). The coordinator
//! must take every decision on the chain's clock: with its clock ahead it
//! must not end epochs early (the chain would refuse, and a coordinator
//! that retried forever would stall nothing but itself), and with its clock
//! behind it must not wait two hours. The guarantee checked: epochs keep
//! changing on the chain's schedule (each lasts at least its duration by
//! the chain's clock), and stores and reads work throughout.
//!
//! Needs the `faketime` program (Debian's `faketime`; `.ci/run` installs
//! it); without it the test says so and passes without running.

use floe_testkit::devnet as devnet_support;

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use devnet_support::{floe, pid_of};
use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> Output {
    floe()
        .arg("--json")
        .args(args)
        .arg("--config")
        .arg(dir.join("client.yaml"))
        .stdin(Stdio::null())
        .output()
        .expect("run floe")
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "floe {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// One reading of the chain's epoch: number, state, when it started and
/// when its change may come (chain-clock ms).
struct Reading {
    epoch: u64,
    state: String,
    start_ms: Option<u64>,
    next_change_ms: Option<u64>,
}

fn reading(dir: &Path) -> Reading {
    let info = json(dir, &["info"]);
    let system = &info["system"];
    Reading {
        epoch: system["epoch"].as_u64().expect("epoch"),
        state: system["epochState"].as_str().unwrap_or("").to_owned(),
        start_ms: system["epochStartMs"].as_u64(),
        next_change_ms: system["nextEpochChangeMs"].as_u64(),
    }
}

/// Epoch starts and scheduled ends seen, by epoch.
#[derive(Default, Debug)]
struct Schedule {
    start_ms: BTreeMap<u64, u64>,
    next_change_ms: BTreeMap<u64, u64>,
}

/// Waits for epoch `target` with its change done, recording on the way.
fn wait_for_epoch(dir: &Path, target: u64, seen: &mut Schedule) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = reading(dir);
        if let Some(ms) = r.start_ms {
            seen.start_ms.entry(r.epoch).or_insert(ms);
        }
        if let Some(ms) = r.next_change_ms {
            seen.next_change_ms.entry(r.epoch).or_insert(ms);
        }
        if r.epoch >= target && r.state != "EpochChangeSync" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "epoch {target} did not come within 120 s (at {}, {})\n{}",
            r.epoch,
            r.state,
            devnet_support::logs(dir)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn has_faketime() -> bool {
    Command::new("faketime")
        .args(["-f", "+0", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// The seconds since 1970 that a process under `faketime -f SKEW` sees.
fn skewed_now(skew: &str) -> i64 {
    let out = Command::new("faketime")
        .args(["-f", skew, "date", "+%s"])
        .output()
        .expect("run faketime");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("date prints seconds")
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

fn store_and_read(dir: &Path, tag: &str) {
    let data: Vec<u8> = (0..40_000u32)
        .map(|i| (i * 31 + tag.len() as u32) as u8)
        .collect();
    let file = dir.join(format!("blob-{tag}"));
    std::fs::write(&file, &data).unwrap();
    let stored = json(
        dir,
        &["store", file.to_str().unwrap(), "--yes", "--epochs", "5"],
    );
    let id = stored[0]["newlyCreated"]["blobObject"]["blobId"]
        .as_str()
        .unwrap_or_else(|| panic!("stored: {stored}"))
        .to_owned();
    let out_file = dir.join(format!("read-{tag}"));
    json(dir, &["read", &id, "--out", out_file.to_str().unwrap()]);
    assert!(
        std::fs::read(out_file).unwrap() == data,
        "{tag}: reads back"
    );
}

/// A process started in a process group of its own, stopped as a group.
/// `faketime` forks the program it runs and waits for it, so stopping the
/// wrapper alone leaves the skewed coordinator running after the test (it
/// was found still running after the whole suite).
struct Group(Child);

impl Group {
    fn spawn(command: &mut Command) -> Self {
        Self(
            command
                .process_group(0)
                .spawn()
                .expect("start a process group"),
        )
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
    }

    /// Whether any process of the group is alive.
    fn alive(&self) -> bool {
        Command::new("kill")
            .args(["-0", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Group {
    /// SIGTERM to every process of the group (a clean stop), SIGKILL to
    /// what is left after 20 s, then reaps the wrapper.
    fn drop(&mut self) {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.alive() && Instant::now() < deadline {
            let _ = self.0.try_wait();
            std::thread::sleep(Duration::from_millis(100));
        }
        self.signal("-KILL");
        let _ = self.0.wait();
    }
}

#[test]
fn epochs_change_on_the_chain_clock_whatever_the_coordinators_clock() {
    if !has_faketime() {
        eprintln!(
            "skipped: needs the faketime program (apt-get install faketime; .ci/run installs it)"
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let (_devnet, _ready) = devnet_support::start(
        dir,
        &[
            "--no-indexer",
            "--nodes",
            "4",
            "--shards",
            "12",
            "--epoch-duration",
            "6s",
        ],
    );
    let manifest = devnet_support::manifest(dir);
    let config = dir.join("coordinator").join("coordinator.toml");
    let status = Command::new("kill")
        .args(["-9", &pid_of(&manifest, "coordinator").to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    let mut seen = Schedule::default();
    for skew in ["+2h", "-2h"] {
        // The skew is real for the process: its wall clock is two hours off.
        let shift = skewed_now(skew) - now_secs();
        assert!(
            (shift.abs() - 7200).abs() < 60 && (shift > 0) == skew.starts_with('+'),
            "faketime {skew} shifts the clock by {shift} s"
        );
        let coordinator = Group::spawn(
            Command::new("faketime")
                .args(["-f", skew])
                .arg(floe_testkit::floe_bin())
                .args(["coordinator", "run", "--config"])
                .arg(&config)
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .stdout(Stdio::null())
                .stderr(
                    std::fs::File::create(dir.join("logs").join(format!("coordinator{skew}.log")))
                        .unwrap(),
                ),
        );
        let now = reading(dir).epoch;
        wait_for_epoch(dir, now + 2, &mut seen);
        store_and_read(dir, skew);
        let wrapper = coordinator.0.id();
        drop(coordinator);
        // The coordinator under the wrapper is gone too, not only faketime.
        let left = Command::new("pgrep")
            .args(["-g", &wrapper.to_string()])
            .output()
            .expect("run pgrep");
        assert!(
            left.stdout.is_empty(),
            "processes of the skewed coordinator outlived it: {}",
            String::from_utf8_lossy(&left.stdout)
        );
    }

    // No epoch began before its predecessor's scheduled end, by the
    // chain's clock.
    let mut checked = 0;
    for (epoch, end_ms) in &seen.next_change_ms {
        if let Some(next_start) = seen.start_ms.get(&(epoch + 1)) {
            assert!(
                next_start >= end_ms,
                "epoch {} started at {next_start}, before epoch {epoch}'s end {end_ms}: {seen:?}",
                epoch + 1
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "epoch changes observed: {seen:?}");
}
