//! The `floe` binary a test runs.
//!
//! [`floe_bin`] returns, in this order:
//!
//! 1. `$FLOE_BIN` if set (CI's conformance run, or any other binary);
//! 2. `$CARGO_BIN_EXE_floe` if set: cargo sets it when it runs the cli
//!    package's own integration tests, to the binary it has just built for
//!    them;
//! 3. otherwise the binary cargo itself says is up to date: the test
//!    process runs, once, `cargo test --workspace --no-run --test
//!    blob_id_cli` with its own cargo, target directory and profile, and
//!    takes the `floe` executable from cargo's JSON messages. Building one
//!    cli integration test makes cargo build the `floe` binary as well,
//!    and with `--workspace` the features are resolved exactly as for
//!    `cargo test --workspace` (dev-dependencies included), so after that
//!    command, or after an earlier test did this, the call is cargo's
//!    no-op: nothing is recompiled. After an edit cargo rebuilds what the
//!    edit touched. (`cargo build -p floe` would resolve features for the
//!    cli alone, without the dev-dependencies, and rebuild the floe crates
//!    into a second set of artifacts.)

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The cli integration test built to make cargo build the binary: the
/// smallest one (it needs nothing but testkit).
const CLI_TEST: &str = "blob_id_cli";

/// The path of an up-to-date `floe` binary (see the module docs). Asks
/// cargo at most once per test process; panics with cargo's exit status
/// if the build fails (cargo's errors are on stderr).
pub fn floe_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = std::env::var_os("FLOE_BIN")
            .or_else(|| std::env::var_os("CARGO_BIN_EXE_floe"))
            .map(PathBuf::from)
            .unwrap_or_else(build);
        assert!(
            bin.exists(),
            "{} does not exist (set FLOE_BIN to use another binary)",
            bin.display()
        );
        bin
    })
    .clone()
}

/// A `Command` for the `floe` binary.
pub fn floe() -> Command {
    Command::new(floe_bin())
}

/// The workspace root: this crate's parent directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace")
        .to_path_buf()
}

/// `<target>/<profile>`: a test executable is `<target>/<profile>/deps/NAME`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("{} is not under <target>/<profile>/deps", exe.display()))
}

/// Variables cargo sets for the test process that describe the *test's*
/// package; a nested cargo must not see them (`CARGO_TARGET_DIR`,
/// `CARGO_HOME`, `RUSTFLAGS` and the like are the user's and stay, so the
/// nested build shares the outer one's artifacts).
fn is_test_package_var(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// Cargo's status lines that say nothing happened; every other line of its
/// stderr (what it compiles, warnings, errors) is passed on.
fn is_noise(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("Finished ") || line.starts_with("Executable ")
}

/// Runs `cargo test --workspace --no-run --test blob_id_cli` (see the
/// module docs) into the test's own target directory and returns the
/// `floe` executable cargo reports.
fn build() -> PathBuf {
    let profile_dir = profile_dir();
    let target_dir = profile_dir
        .parent()
        .expect("profile directory has a parent");
    // `CARGO` is the cargo that runs this test: same toolchain, same cache.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args([
            "test",
            "--workspace",
            "--locked",
            "--no-run",
            "--test",
            CLI_TEST,
        ])
        // Artifacts as JSON on stdout; compiler diagnostics rendered on
        // stderr as usual.
        .arg("--message-format=json-render-diagnostics")
        .arg("--target-dir")
        .arg(target_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    for (name, _) in std::env::vars_os() {
        if is_test_package_var(&name.to_string_lossy()) {
            cmd.env_remove(&name);
        }
    }
    let mut child = cmd.spawn().expect("run cargo to build floe");
    // Straight to the process's stderr, not through the test's captured
    // output: a build may take minutes and should be seen as it goes.
    let stderr = child.stderr.take().expect("piped stderr");
    let relay = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !is_noise(&line) {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut bin = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(exe) = floe_executable(&line) {
            bin = Some(exe);
        }
    }
    let status = child.wait().expect("wait for cargo");
    let _ = relay.join();
    assert!(
        status.success(),
        "`cargo test --workspace --no-run --test {CLI_TEST}` (to build floe) failed ({status}); \
         fix the build or set FLOE_BIN"
    );
    bin.unwrap_or_else(|| {
        panic!("cargo built no `floe` executable for `--test {CLI_TEST}`; set FLOE_BIN")
    })
}

/// The executable of a `compiler-artifact` message for the `floe` binary.
fn floe_executable(message: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(message).ok()?;
    let target = &message["target"];
    let is_floe_bin = message["reason"] == "compiler-artifact"
        && target["name"] == "floe"
        && target["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        && message["profile"]["test"] == false;
    if !is_floe_bin {
        return None;
    }
    message["executable"].as_str().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_floe_binary_and_nothing_else_from_cargos_messages() {
        let bin = r#"{"reason":"compiler-artifact","target":{"name":"floe","kind":["bin"]},"profile":{"test":false},"executable":"/t/debug/floe","fresh":true}"#;
        assert_eq!(floe_executable(bin), Some(PathBuf::from("/t/debug/floe")));
        for other in [
            // The bin's own unit tests.
            r#"{"reason":"compiler-artifact","target":{"name":"floe","kind":["bin"]},"profile":{"test":true},"executable":"/t/debug/deps/floe-1"}"#,
            // The integration test built to get it.
            r#"{"reason":"compiler-artifact","target":{"name":"blob_id_cli","kind":["test"]},"profile":{"test":true},"executable":"/t/debug/deps/blob_id_cli-1"}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"floe_core","kind":["lib"]},"profile":{"test":false},"executable":null}"#,
            r#"{"reason":"build-finished","success":true}"#,
            "not json",
        ] {
            assert_eq!(floe_executable(other), None, "{other}");
        }
    }

    #[test]
    fn only_cargos_nothing_happened_lines_are_dropped() {
        assert!(is_noise(
            "    Finished `test` profile [optimized + debuginfo] target(s) in 0.52s"
        ));
        assert!(is_noise(
            "  Executable tests/blob_id_cli.rs (target/debug/deps/blob_id_cli-1)"
        ));
        assert!(!is_noise("   Compiling floe-chain v0.1.0 (/w/chain)"));
        assert!(!is_noise("error[E0308]: mismatched types"));
        assert!(!is_noise("warning: unused variable: `x`"));
    }
}
