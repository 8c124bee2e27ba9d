//! The original Axon peer: a venv under `target/bench-venv` with `kamaelia-axon` and
//! `kamaelia` from PyPI, and the workload scripts in `xtask/bench/python/`, each run in a
//! fresh interpreter that drives `scheduler.run.main(canblock=False)` by hand.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::plan::{Size, Workload};
use super::workspace_root;

/// The release that `shared/benchmarks.md` names.
const VERSION: &str = "1.14.32";

fn venv_dir() -> PathBuf {
    workspace_root().join("target").join("bench-venv")
}

fn scripts_dir() -> PathBuf {
    workspace_root().join("xtask").join("bench").join("python")
}

/// True if `python` can import Axon and Kamaelia.
fn usable(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import Axon, Kamaelia.Chassis.Pipeline"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_step(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: could not run: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).rev().take(3).collect();
    Err(format!("{what} failed ({}): {}", out.status, tail.into_iter().rev().collect::<Vec<_>>().join(" | ")))
}

/// The venv's interpreter, creating the venv if need be; or why the Axon peer is skipped.
/// The quick mode never creates it (CI needs no network for the quick mode).
pub(crate) fn prepare(quick: bool) -> Result<PathBuf, String> {
    let dir = venv_dir();
    let python = dir.join("bin").join("python");
    if python.exists() && usable(&python) {
        return Ok(python);
    }
    if quick {
        return Err(format!("no venv at {} (the quick mode does not create it)", dir.display()));
    }
    eprintln!("xtask bench: creating {} with kamaelia-axon and kamaelia {VERSION}", dir.display());
    run_step(Command::new("python3").arg("-m").arg("venv").arg(&dir), "python3 -m venv")?;
    run_step(
        Command::new(dir.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("kamaelia-axon=={VERSION}"),
            &format!("kamaelia=={VERSION}"),
        ]),
        "pip install kamaelia-axon kamaelia",
    )?;
    if usable(&python) { Ok(python) } else { Err("Axon was installed but does not import".into()) }
}

/// The command that runs `workload` at `size` on Axon.
pub(crate) fn command(python: &Path, workload: Workload, size: Size) -> Command {
    let script = match workload {
        Workload::Hackysack | Workload::HackysackKick => "hackysack.py",
        Workload::Ring => "ring.py",
        Workload::Pipeline => "pipeline.py",
        Workload::Spawn => "spawn.py",
        // Not run on Axon (`Workload::systems`): a command that says so.
        Workload::Chat
        | Workload::Echo
        | Workload::Idle
        | Workload::LogFollow
        | Workload::RedisBackplane
        | Workload::Bulletin => {
            let mut cmd = Command::new(python);
            cmd.arg("-c").arg(format!("raise SystemExit('no Axon script for {}')", workload.name()));
            return cmd;
        }
    };
    let mut cmd = Command::new(python);
    // A debug.conf in the working directory would change Axon's behaviour (reference §5):
    // run from the scripts' own directory.
    cmd.arg(scripts_dir().join(script)).args(size.args()).current_dir(scripts_dir());
    // No __pycache__ beside the scripts in the source tree.
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

/// `Python 3.11.7, kamaelia-axon 1.14.32`, for the report.
pub(crate) fn describe(python: &Path) -> String {
    let out = Command::new(python)
        .args([
            "-c",
            "import sys, importlib.metadata as m; \
             print('CPython %d.%d.%d, kamaelia-axon %s, kamaelia %s' % (sys.version_info[:3] + \
             (m.version('kamaelia-axon'), m.version('kamaelia'))))",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => "unknown version".into(),
    }
}
