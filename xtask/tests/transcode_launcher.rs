//! `cargo xtask transcode ...` is a launcher: it builds `apps`' `transcode` binary in
//! release and becomes it, so the arguments, the output and the exit status are the
//! binary's. (The job itself is tested in `apps/tests/transcode*.rs`.)

use std::path::Path;
use std::process::Command;

fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

#[test]
fn cargo_xtask_transcode_runs_the_release_build_of_the_transcode_binary() {
    let out = xtask().args(["transcode", "--help"]).output().expect("run xtask");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Usage: transcode [OPTIONS] --source <DIR>"), "the binary's own help: {stdout}");
    assert!(stdout.contains("--until <HH:MM>"), "{stdout}");

    let out = xtask().args(["transcode", "--version"]).output().expect("run xtask");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), concat!("transcode ", env!("CARGO_PKG_VERSION")));

    // Its exit status and its messages come through unchanged.
    let out = xtask().args(["transcode", "--source", "/nonexistent/videos"]).output().expect("run xtask");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("transcode: cannot use /nonexistent/videos as the source directory"), "{stderr}");

    // The optimised build is what ran: cargo put it in the release directory.
    let deps = std::env::current_exe().expect("this test's path");
    let target = deps.parent().and_then(Path::parent).and_then(Path::parent).expect("<target>/debug/deps/this-test");
    assert!(target.join("release").join("transcode").is_file(), "no release build in {}", target.display());
}
