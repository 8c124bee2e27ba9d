//! Test set-up shared by the transcode tests (apps and xtask): makes sure ffmpeg and
//! pyftpdlib are there, installing them on first use where the machine allows it, so README's
//! test command needs no other set-up on a fresh machine of this project's kind.
#![allow(dead_code)]

use std::process::{Command, Stdio};

pub(crate) fn runs(program: &str, args: &[&str]) -> bool {
    let ok = Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status();
    matches!(ok, Ok(s) if s.success())
}

/// Makes sure `program` is there. On a fresh machine of this project's kind (Debian, root)
/// README's test command does its own set-up: a missing ffmpeg is installed once with
/// apt-get, as `.ci/run` does; anywhere else the test fails with the install hint.
pub(crate) fn require(program: &str, hint: &str) {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    if !runs(program, &["-version"]) {
        INSTALL.call_once(|| {
            let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
            if root && runs("apt-get", &["--version"]) {
                let _ = runs("apt-get", &["update"]);
                let _ = runs("apt-get", &["install", "-y", "--no-install-recommends", "ffmpeg"]);
            }
        });
    }
    assert!(runs(program, &["-version"]), "{program} is needed for these tests: {hint}");
}

/// Makes sure python3 can import pyftpdlib, installing it once with pip if not (as `.ci/run`
/// does), so README's test command needs no other set-up.
pub(crate) fn require_pyftpdlib() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    if !runs("python3", &["-c", "import pyftpdlib"]) {
        INSTALL.call_once(|| {
            let _ = runs("python3", &["-m", "pip", "install", "--quiet", "pyftpdlib"]);
        });
    }
    assert!(runs("python3", &["-c", "import pyftpdlib"]), "python3 with pyftpdlib is needed: pip install pyftpdlib");
}
