//! `cargo xtask transcode ARGS...`: a launcher. The job is the `transcode` binary of `apps`
//! (`apps/src/bin/transcode.rs`, also installed by `cargo install --path apps`); this builds
//! it in release (transcoding is CPU-bound; progress and signals are the binary's) and then
//! becomes it, so Ctrl-C, the exit status, stdout and stderr are the binary's own.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

/// Exit status when the binary cannot be built or started (an environment error).
const EXIT_ENVIRONMENT: u8 = 2;

/// Builds `apps`' `transcode` binary in release; returns its path (from cargo's own report,
/// so any target directory works).
fn build() -> Result<PathBuf, String> {
    let out = Command::new(crate::cargo())
        .args(["build", "--release", "--quiet", "--package", "apps", "--bin", "transcode"])
        // Diagnostics rendered on stderr as usual; the artifacts' JSON on stdout.
        .arg("--message-format=json-render-diagnostics")
        .current_dir(crate::bench::workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("building the transcode binary failed ({})", out.status));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "transcode")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built the transcode binary but did not say where".to_string())
}

pub(crate) fn main(args: &[String]) -> ExitCode {
    // The distributed mode's subcommands (enqueue, work, status) run here, on the queue.
    if let Some(code) = crate::transcode_distributed::dispatch(args) {
        return code;
    }
    let exe = match build() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("xtask transcode: {e}");
            return ExitCode::from(EXIT_ENVIRONMENT);
        }
    };
    // Returns only if the binary could not be started.
    let e = Command::new(&exe).args(args).exec();
    eprintln!("xtask transcode: cannot run {}: {e}", exe.display());
    ExitCode::from(EXIT_ENVIRONMENT)
}
