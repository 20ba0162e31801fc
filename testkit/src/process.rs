//! Child processes that never outlive the test that started them.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A child process, killed (SIGKILL) and reaped on drop, or first asked to
/// stop (SIGTERM) when it has children of its own to stop ([`Proc::graceful`]).
///
/// Started with [`Proc::spawn`], its stderr goes to a log file and every
/// stdout line is appended to the same file and handed to
/// [`Proc::first_json`] / [`Proc::wait_json`], so the child never blocks on
/// a full pipe and a failure message can quote the log's end.
pub struct Proc {
    pub child: Child,
    log: Option<PathBuf>,
    lines: Option<Mutex<Receiver<String>>>,
    grace: Option<Duration>,
    /// Holds the log of [`Proc::spawn_in_temp`] (removed after the child).
    _log_dir: Option<tempfile::TempDir>,
}

impl Proc {
    /// Wraps a child spawned elsewhere (no log).
    pub fn new(child: Child) -> Self {
        Self {
            child,
            log: None,
            lines: None,
            grace: None,
            _log_dir: None,
        }
    }

    /// Spawns `cmd` with stdin closed, stderr and stdout into `log`.
    pub fn spawn(cmd: &mut Command, log: &Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open log {}: {e}", log.display()));
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(file.try_clone().expect("clone log handle"))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut file = file;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(file, "{line}");
                // The receiver may be gone; the log still gets every line.
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            log: Some(log.to_path_buf()),
            lines: Some(Mutex::new(rx)),
            grace: None,
            _log_dir: None,
        }
    }

    /// Like [`Proc::spawn`], with the log in a temporary directory of its
    /// own, for a process whose working directory must hold nothing else.
    pub fn spawn_in_temp(cmd: &mut Command, name: &str) -> Self {
        let dir = tempfile::tempdir().expect("log dir");
        let mut proc = Self::spawn(cmd, &dir.path().join(format!("{name}.log")));
        proc._log_dir = Some(dir);
        proc
    }

    /// On drop, SIGTERM first and SIGKILL only after `grace`.
    pub fn graceful(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child has not exited yet.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM (what a user's Ctrl-C maps to).
    pub fn sigterm(&self) {
        signal(self.child.id().into(), "-TERM");
    }

    /// The log file, if the process was started with [`Proc::spawn`].
    pub fn log_path(&self) -> Option<&Path> {
        self.log.as_deref()
    }

    /// The last `max` bytes of the log (empty without one).
    pub fn log_tail(&self, max: usize) -> String {
        self.log
            .as_deref()
            .map(|p| tail(p, max))
            .unwrap_or_default()
    }

    /// The first stdout line, as JSON. Panics, quoting the log, if none
    /// comes within `limit` or it is not JSON.
    pub fn first_json(&self, limit: Duration) -> Value {
        let line = self.next_line(limit, "a first stdout line");
        serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!("{e}: {line:?}; log:\n{}", self.log_tail(3000));
        })
    }

    /// The first stdout line that is JSON and satisfies `accept`. Panics,
    /// quoting the log, if none comes within `limit`.
    pub fn wait_json(&self, what: &str, limit: Duration, accept: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.next_line(left, what);
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && accept(&v)
            {
                return v;
            }
        }
    }

    fn next_line(&self, limit: Duration, what: &str) -> String {
        let lines = self
            .lines
            .as_ref()
            .expect("stdout is captured only by Proc::spawn");
        let rx = lines.lock().unwrap_or_else(|e| e.into_inner());
        match rx.recv_timeout(limit) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no {what} within {limit:?}; log:\n{}", self.log_tail(6000))
            }
            Err(RecvTimeoutError::Disconnected) => panic!(
                "the process closed its stdout before {what}; log:\n{}",
                self.log_tail(6000)
            ),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(grace) = self.grace
            && self.is_running()
        {
            self.sigterm();
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if !self.is_running() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        self.kill9();
    }
}

/// Sends `sig` (`-TERM`, `-STOP`, `-KILL`, ...) to `pid`; panics if `kill`
/// fails.
pub fn signal(pid: i64, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {sig} {pid}");
}

/// The last `max` bytes of the file at `path` (cut at a char boundary).
pub fn tail(path: &Path, max: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}

/// Polls `f` every 100 ms until it returns `Some`, or panics after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
