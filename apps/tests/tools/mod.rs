//! What the tests need from outside the workspace (ffmpeg, the test venv's Python), found
//! and checked; never installed. `cargo xtask test` (xtask/src/provision.rs) sets them up; a
//! test that lacks one fails with that hint.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The variable `cargo xtask test` sets to the test venv's Python.
pub const PYTHON_VAR: &str = "KAMAELIA_TEST_PYTHON";

/// What to do about a missing tool.
pub const HINT: &str = "run `cargo xtask test` once: it installs what the tests need (apt when root, else it prints \
                        the command) and makes a Python venv under target/";

fn runs(program: &Path, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Fails the test, with [`HINT`], unless `program` (`ffmpeg`, `ffprobe` ...) runs with `-version`.
pub fn require(program: &str) {
    assert!(runs(Path::new(program), &["-version"]), "{program} is needed for this test and is not on PATH: {HINT}");
}

/// The test venv's Python, which imports `module`: `$KAMAELIA_TEST_PYTHON` (set by `cargo
/// xtask test`), else `target/test-venv` if an earlier `cargo xtask test` made it. Fails the
/// test with [`HINT`] otherwise.
pub fn python_with(module: &str) -> PathBuf {
    let python = match std::env::var_os(PYTHON_VAR) {
        Some(p) => PathBuf::from(p),
        None => {
            // CARGO_TARGET_TMPDIR is <target>/tmp.
            let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target directory");
            target.join("test-venv").join("bin").join("python")
        }
    };
    assert!(
        runs(&python, &["-c", &format!("import {module}")]),
        "this test needs a Python that imports {module} (tried {}): {HINT}",
        python.display()
    );
    python
}
