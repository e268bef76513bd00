//! The one helper module of the integration tests (`mod common;` in each test file), by concern:
//! `env` (a temp data dir with a config, running the real binary, files under a folder),
//! `daemon` (`entrywatch run` children, waiting for READY, the test file handler), `http` (the
//! dashboard client and server), `smtp` (aiosmtpd and reading the mail it received), `net`
//! (loopback ports); here: prerequisites that may be missing, and the crash-points feature.
#![allow(dead_code, unused_imports)]

pub mod daemon;
pub mod env;
pub mod http;
pub mod net;
pub mod smtp;

pub use daemon::{config_text, run_config_text, wait_until, RunningDaemon};
pub use env::{abi_insert, archived, files_under, life_names, names_in, ok, samples, Env, NOW};

use std::path::{Path, PathBuf};

/// True under CI (`CI=true`): there a missing prerequisite fails the test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether a test's prerequisite is here. `why` says what is missing and how to get it. Missing
/// under CI (`CI=true`) panics (CI installs everything: scripts/test); elsewhere it prints
/// `NOT RUN: <test>: <why>` and the test returns at once, so it never passes silently.
/// Use as `if !common::require(present, "why") { return; }`.
pub fn require(present: bool, why: &str) -> bool {
    if present {
        return true;
    }
    let test = std::thread::current().name().unwrap_or("?").to_string();
    assert!(!in_ci(), "{test}: CI is set, so this test must run, but {why}");
    eprintln!("NOT RUN: {test}: {why}");
    false
}

/// An executable on PATH (or an absolute path), if there is one.
pub fn which(name: &str) -> Option<PathBuf> {
    if name.starts_with('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// A program the test runs: `require`d, its path when present.
pub fn require_program(names: &[&str], package: &str) -> Option<PathBuf> {
    let found = names.iter().find_map(|n| which(n));
    let why =
        format!("{} is not installed (scripts/test installs it: apt-get install -y {package})", names.join(" or "));
    if require(found.is_some(), &why) {
        found
    } else {
        None
    }
}

/// Python's aiosmtpd, the SMTP server of the mail tests (tests/common/smtp_server.py).
pub fn require_aiosmtpd() -> bool {
    let have = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    require(have, "python3 with aiosmtpd is not installed (scripts/test installs it: python3 -m pip install aiosmtpd)")
}

/// The shared X12 corpus (never copied into the repository): `ENTRYWATCH_X12_CORPUS` when set,
/// else `shared/corpus/x12` beside the checkout or one of its parents (a worktree), else the
/// workplace's `/work/shared/corpus/x12` (a clone made elsewhere on the same machine); `None`
/// (after [`require`]: a failure under CI) when absent.
pub fn require_corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = match std::env::var_os("ENTRYWATCH_X12_CORPUS") {
        Some(d) => Some(PathBuf::from(d)).filter(|d| d.is_dir()),
        None => root
            .ancestors()
            .skip(1)
            .map(|a| a.join("shared/corpus/x12"))
            .chain([PathBuf::from("/work/shared/corpus/x12")])
            .find(|d| d.is_dir()),
    };
    let why = "the shared X12 corpus is absent (shared/corpus/x12 beside the checkout, or ENTRYWATCH_X12_CORPUS)";
    if require(found.is_some(), why) {
        found
    } else {
        None
    }
}

/// Tests that inject crashes (`ENTRYWATCH_CRASH_AT`) need a build with the `crash-points`
/// feature: without it the binary ignores the variable, so such a test fails here, saying so,
/// rather than passing on a run that never crashed.
pub fn require_crash_points() {
    #[cfg(not(feature = "crash-points"))]
    panic!(
        "this test injects crashes with ENTRYWATCH_CRASH_AT, which only a build with the crash-points \
         feature honours: run `cargo test --features crash-points` (scripts/test does)"
    );
}
