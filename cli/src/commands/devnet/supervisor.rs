//! Starts the devnet's processes, waits until each answers, watches them
//! and stops them in order.
//!
//! Every component runs as its own `floe` process (the same binary), as on
//! separate machines: a node can be killed with `kill -9` and the rest keep
//! going. Children are spawned from the thread that stays alive for the
//! whole devnet and get `PR_SET_PDEATHSIG`, so a devnet killed with
//! `kill -9` does not leave orphans bound to its ports.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long a component may take to answer after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a component may take to stop after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A started component.
pub struct Process {
    pub name: String,
    child: Child,
    /// Whether the devnet cannot run without it (the ledger).
    pub essential: bool,
    /// Set once its exit was reported.
    pub exited: Option<ExitStatus>,
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if it has exited since the last check.
    pub fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.exited.is_some() {
            return None;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.exited = Some(status);
                Some(status)
            }
            _ => None,
        }
    }
}

/// Spawns `floe ARGS...` with stdout and stderr appended to
/// `logs/NAME.log`.
pub fn spawn(name: &str, args: &[String], logs: &Path, essential: bool) -> Result<Process> {
    let exe = std::env::current_exe().context("finding the floe executable")?;
    let log_path = logs.join(format!("{name}.log"));
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let mut command = Command::new(exe);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Components log plainly into their files; the devnet's own
        // terminal stays readable.
        .env("NO_COLOR", "1");
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the child between fork and exec and
        // only calls prctl, which is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                    .map_err(std::io::Error::from)
            });
        }
    }
    let child = command
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    Ok(Process {
        name: name.to_owned(),
        child,
        essential,
        exited: None,
    })
}

/// The log file of a component, for error messages.
pub fn log_path(logs: &Path, name: &str) -> PathBuf {
    logs.join(format!("{name}.log"))
}

/// Polls `probe` until it succeeds, the process exits, or the timeout.
pub async fn wait_ready<F, Fut>(process: &mut Process, logs: &Path, mut probe: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if probe().await {
            return Ok(());
        }
        if let Some(status) = process.poll_exit() {
            bail!(
                "{} exited during start-up ({status}); see {}",
                process.name,
                log_path(logs, &process.name).display()
            );
        }
        if started.elapsed() > READY_TIMEOUT {
            bail!(
                "{} did not answer within {} s; see {}",
                process.name,
                READY_TIMEOUT.as_secs(),
                log_path(logs, &process.name).display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether `GET url` answers 2xx within two seconds.
pub async fn http_ok(http: &reqwest::Client, url: &str) -> bool {
    matches!(
        http.get(url).timeout(Duration::from_secs(2)).send().await,
        Ok(response) if response.status().is_success()
    )
}

/// Stops `processes` in reverse start order: SIGTERM, then SIGKILL after
/// [`STOP_TIMEOUT`].
pub fn stop_all(processes: &mut [Process]) {
    for process in processes.iter_mut().rev() {
        if process.exited.is_some() {
            continue;
        }
        let pid = nix::unistd::Pid::from_raw(process.pid() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match process.child.try_wait() {
                Ok(Some(status)) => {
                    process.exited = Some(status);
                    break;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    tracing::warn!(name = %process.name, "did not stop in time; killing it");
                    let _ = process.child.kill();
                    process.exited = process.child.wait().ok();
                    break;
                }
            }
        }
    }
}
