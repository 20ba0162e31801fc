//! The `floe` binary a test runs.
//!
//! Only the cli package's own tests get `CARGO_BIN_EXE_floe` from cargo;
//! every other crate's tests used to look for `target/debug/floe`, which is
//! missing on a clean tree and stale after an edit. [`floe_bin`] instead
//! returns `$FLOE_BIN` if set, else the `floe` beside the test executable
//! (`<target>/<profile>/floe`) once it is newer than every source file it
//! is built from, building it first with the test's own cargo otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

/// The path of an up-to-date `floe` binary (see the module docs). Builds at
/// most once per test process; panics with cargo's exit status if the
/// build fails.
pub fn floe_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("FLOE_BIN") {
            return PathBuf::from(bin);
        }
        let profile_dir = profile_dir();
        let bin = profile_dir.join("floe");
        if !is_fresh(&bin) {
            build(&profile_dir);
        }
        assert!(
            bin.exists(),
            "{} missing after building it (set FLOE_BIN to use another binary)",
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

/// Whether `bin` exists and is newer than every file it is built from (the
/// workspace's manifests, lock file and the crates' sources). Cargo's own
/// freshness check also goes by modification times; this one errs towards
/// rebuilding, and a rebuild of a fresh binary is cargo's quick no-op.
fn is_fresh(bin: &Path) -> bool {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return false;
    };
    newest_source(&workspace_root()).is_some_and(|newest| newest <= built)
}

/// Directories whose files never go into the binary.
const SKIP: &[&str] = &[
    "target",
    "tests",
    "benches",
    "examples",
    "docs",
    "scripts",
    "node_modules",
    "testkit",
];

fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if !SKIP.contains(&name.as_ref()) {
                    stack.push(entry.path());
                }
            } else if !name.ends_with(".md")
                && let Ok(modified) = meta.modified()
            {
                newest = newest.max(modified);
            }
        }
    }
    Some(newest)
}

/// Variables cargo sets for the test process that describe the *test's*
/// package; a nested cargo must not see them (`CARGO_TARGET_DIR`,
/// `CARGO_HOME`, `RUSTFLAGS` and the like are the user's and stay, so the
/// nested build shares the outer one's dependencies).
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

/// `cargo build -p floe --bin floe` into the test's own target directory.
fn build(profile_dir: &Path) {
    let target_dir = profile_dir
        .parent()
        .expect("profile directory has a parent");
    // `CARGO` is the cargo that runs this test: same toolchain, same cache.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "-p", "floe", "--bin", "floe"])
        .arg("--target-dir")
        .arg(target_dir);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    for (name, _) in std::env::vars_os() {
        if is_test_package_var(&name.to_string_lossy()) {
            cmd.env_remove(&name);
        }
    }
    eprintln!(
        "floe-testkit: building the floe binary into {} ...",
        target_dir.display()
    );
    let status = cmd.status().expect("run cargo to build floe");
    assert!(
        status.success(),
        "`cargo build -p floe --bin floe` failed ({status}); fix the build or set FLOE_BIN"
    );
}
