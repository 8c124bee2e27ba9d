//! `cargo xtask test`: the one explicit set-up step for the tests, then `cargo test`. Tests
//! never install anything themselves; a test that lacks a tool fails with the hint "run
//! `cargo xtask test`". This module holds the one list of what the tests need from outside:
//! Debian packages ([`APT_PACKAGES`], which `.ci/run` installs too, by asking
//! `cargo xtask ci --apt-packages`) and Python packages from PyPI ([`PYPI_PACKAGES`], in a
//! venv under `target/`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Who needs a Debian package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// `cargo test --workspace` (so `cargo xtask test` and CI).
    Tests,
    /// Only CI's window check under Xvfb (`.ci/xvfb-check.sh`), run by `cargo xtask ci`.
    WindowCheck,
}

/// The Debian packages, each with who needs it and why. `.ci/run` installs exactly these
/// (`cargo xtask ci --apt-packages`), `cargo xtask test` the `Tests` ones: add a package here
/// and both follow.
pub(crate) const APT_PACKAGES: &[(&str, Need, &str)] = &[
    ("ffmpeg", Need::Tests, "the transcode job's tests make, transcode and probe videos (ffmpeg, ffprobe)"),
    ("python3", Need::Tests, "the FTP server of the upload tests and the original AxonVisualiser"),
    ("python3-venv", Need::Tests, "the tests' Python venv (target/test-venv)"),
    ("redis-server", Need::Tests, "kamaelia-redis's tests start their own real server (never as a service)"),
    ("xvfb", Need::WindowCheck, "the X server the chat client's window is checked under"),
    ("xdotool", Need::WindowCheck, "types into the window"),
    ("imagemagick", Need::WindowCheck, "takes the screenshot"),
    ("libx11-6", Need::WindowCheck, "minifb loads libX11 at run time"),
    ("libxcursor1", Need::WindowCheck, "minifb loads libXcursor at run time"),
];

/// The Python packages the tests import, installed from PyPI into the test venv.
pub(crate) const PYPI_PACKAGES: &[(&str, &str)] = &[
    ("pyftpdlib", "a real FTP server on loopback for the transcode job's upload tests"),
    ("kamaelia-axon==1.14.32", "the original Axon, under the original AxonVisualiser"),
    ("kamaelia==1.14.32", "the original AxonVisualiser's parser accepts what our Introspector sends"),
    ("pygame", "imported by the original AxonVisualiser"),
];

/// What the venv's Python must import for the tests.
const IMPORTS: &str = "import pyftpdlib, Axon, Kamaelia.Visualisation.PhysicsGraph.lines_to_tokenlists, pygame";

/// The variable the tests read for the venv's Python (`apps/tests/tools/mod.rs`).
pub(crate) const PYTHON_VAR: &str = "KAMAELIA_TEST_PYTHON";

/// `cargo xtask test`.
#[derive(clap::Args, Debug)]
pub(crate) struct TestArgs {
    /// Print the Debian packages the tests need, one per line, and exit.
    #[arg(long)]
    apt_packages: bool,
    /// Set up what the tests need, then exit without running them.
    #[arg(long)]
    provision_only: bool,
    /// Arguments for `cargo test` instead of `--workspace` (e.g. `-- -p apps --test logwatch`).
    #[arg(last = true, value_name = "CARGO_TEST_ARGS")]
    cargo_test_args: Vec<String>,
}

/// What the tests are run with once provisioned.
#[derive(Debug)]
pub(crate) struct TestEnv {
    /// The venv's interpreter.
    python: PathBuf,
}

impl TestEnv {
    /// Points `cmd` (a `cargo test`, or anything that runs the tests) at what was set up.
    pub(crate) fn apply(&self, cmd: &mut Command) {
        cmd.env(PYTHON_VAR, &self.python);
    }
}

/// The target directory: `CARGO_TARGET_DIR`, else `target/` in the workspace.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => crate::bench::workspace_root().join(d),
        None => crate::bench::workspace_root().join("target"),
    }
}

/// The test venv (`target/test-venv`).
pub(crate) fn venv_dir() -> PathBuf {
    target_dir().join("test-venv")
}

/// The Debian packages that `needs` take, in list order.
pub(crate) fn apt_packages(needs: &[Need]) -> Vec<&'static str> {
    APT_PACKAGES.iter().filter(|(_, n, _)| needs.contains(n)).map(|(p, _, _)| *p).collect()
}

fn is_root() -> bool {
    // The real uid is the first number of /proc's Uid line.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Uid:").map(|r| r.split_whitespace().next() == Some("0"))))
        .unwrap_or(false)
}

/// The packages of `wanted` that dpkg does not list as installed.
fn missing_apt(wanted: &[&'static str]) -> Result<Vec<&'static str>, String> {
    let out = Command::new("dpkg-query")
        .args(["--show", "--showformat=${Package} ${db:Status-Status}\n"])
        .args(wanted)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "cannot run dpkg-query ({e}): not a Debian system? Install the equivalents of: {}",
                wanted.join(" ")
            )
        })?;
    let listed = String::from_utf8_lossy(&out.stdout);
    let installed: Vec<&str> =
        listed.lines().filter_map(|l| l.split_once(' ')).filter(|(_, s)| *s == "installed").map(|(p, _)| p).collect();
    // dpkg-query names packages without an architecture suffix here; ignore one if present.
    let is_installed = |p: &str| installed.iter().any(|i| i.split(':').next() == Some(p));
    Ok(wanted.iter().copied().filter(|p| !is_installed(p)).collect())
}

/// Runs `cmd`, saying what it runs; an error names it.
fn run_step(what: &str, cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: {what}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what} failed ({s})")),
        Err(e) => Err(format!("{what}: cannot run {:?}: {e}", cmd.get_program())),
    }
}

/// Installs what of `wanted` is missing, with apt when root; otherwise the error names the
/// exact command.
fn ensure_apt(wanted: &[&'static str]) -> Result<(), String> {
    let missing = missing_apt(wanted)?;
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root() {
        return Err(format!(
            "the tests need these Debian packages, which are not installed: {list}\n\
             install them with:\n  sudo apt-get install -y --no-install-recommends {list}\n\
             then run `cargo xtask test` again"
        ));
    }
    let apt = |args: &[&str]| {
        let mut c = Command::new("apt-get");
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run_step("apt-get update", &mut apt(&["update"]))?;
    run_step(&format!("apt-get install {list}"), apt(&["install", "-y", "--no-install-recommends"]).args(&missing))?;
    let still = missing_apt(wanted)?;
    if still.is_empty() { Ok(()) } else { Err(format!("apt-get did not install: {}", still.join(" "))) }
}

/// True if `python` imports everything the tests use.
fn usable(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", IMPORTS])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes (or completes) the test venv; returns its interpreter.
fn ensure_venv() -> Result<PathBuf, String> {
    let dir = venv_dir();
    let python = dir.join("bin").join("python");
    if usable(&python) {
        return Ok(python);
    }
    if !python.exists() {
        run_step(
            &format!("python3 -m venv {}", dir.display()),
            Command::new("python3").arg("-m").arg("venv").arg(&dir),
        )?;
    }
    let names: Vec<&str> = PYPI_PACKAGES.iter().map(|(p, _)| *p).collect();
    run_step(
        &format!("pip install {} (into {})", names.join(" "), dir.display()),
        Command::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(&names),
    )
    .map_err(|e| format!("{e} (is PyPI reachable?)"))?;
    if usable(&python) { Ok(python) } else { Err(format!("{} was set up but cannot `{IMPORTS}`", python.display())) }
}

/// Everything the tests need, set up: the Debian packages of `needs` (installed when root),
/// then the venv.
pub(crate) fn provision(needs: &[Need]) -> Result<TestEnv, String> {
    ensure_apt(&apt_packages(needs))?;
    let python = ensure_venv()?;
    Ok(TestEnv { python })
}

/// `cargo xtask test`.
pub(crate) fn main(args: TestArgs) -> ExitCode {
    if args.apt_packages {
        for p in apt_packages(&[Need::Tests]) {
            println!("{p}");
        }
        return ExitCode::SUCCESS;
    }
    let env = match provision(&[Need::Tests]) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("xtask test: {e}");
            return ExitCode::from(2);
        }
    };
    if args.provision_only {
        eprintln!("xtask test: set up; the tests' Python is {}", env.python.display());
        return ExitCode::SUCCESS;
    }
    let mut cmd = Command::new(crate::cargo());
    cmd.arg("test");
    if args.cargo_test_args.is_empty() {
        cmd.arg("--workspace");
    } else {
        cmd.args(&args.cargo_test_args);
    }
    env.apply(&mut cmd);
    match cmd.status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask test: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dpkg's own answer decides: an installed package is not missing, an unknown one is.
    #[test]
    fn missing_apt_asks_dpkg() {
        let missing = missing_apt(&["dpkg", "no-such-package-kamaelia-rs"]).expect("a Debian system");
        assert_eq!(missing, ["no-such-package-kamaelia-rs"]);
    }

    /// CI installs every package; `cargo xtask test` the tests' ones only.
    #[test]
    fn the_lists_follow_who_needs_each_package() {
        let tests = apt_packages(&[Need::Tests]);
        let all = apt_packages(&[Need::Tests, Need::WindowCheck]);
        assert!(tests.contains(&"ffmpeg") && !tests.contains(&"xvfb"), "{tests:?}");
        assert!(all.contains(&"xvfb") && all.len() == APT_PACKAGES.len(), "{all:?}");
    }
}
