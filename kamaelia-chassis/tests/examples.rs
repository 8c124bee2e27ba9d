//! The crate's examples as a user runs them: built by cargo, run as processes. Regression
//! (issue 16): `backplane_players | head` ended in a panic on the broken pipe.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

/// Far longer than anything here needs.
const LIMIT: Duration = Duration::from_secs(120);

/// Builds `example`; returns where cargo puts it (`<target>/<profile>/examples/`, beside
/// this test's `deps/`).
fn build_example(example: &str) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--package", "kamaelia-chassis", "--example", example])
        .status()
        .expect("run cargo");
    assert!(status.success(), "building the example {example} failed");
    let me = std::env::current_exe().expect("this test's path");
    let profile_dir = me.parent().and_then(|deps| deps.parent()).expect("<target>/<profile>/deps/this-test");
    let exe = profile_dir.join("examples").join(example);
    assert!(exe.is_file(), "no {}", exe.display());
    exe
}

/// Run whole, it says every subscriber saw every event; with its reader gone (as after
/// `| head` has had its lines) it ends at once with status 0, without a panic.
#[test]
fn backplane_players_ends_quietly_when_its_reader_goes_away() {
    let exe = build_example("backplane_players");
    let whole = Command::new(&exe).output().expect("run the example");
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
    let text = String::from_utf8_lossy(&whole.stdout);
    assert!(text.contains("every subscriber saw every event"), "{text}");
    assert!(text.lines().count() > 10, "{text}");

    let mut child = Command::new(&exe).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run the example");
    // The reader's end of the pipe, closed before the example writes anything: its first
    // line meets a broken pipe.
    drop(child.stdout.take());
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx.recv_timeout(LIMIT).expect("the example did not end").expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
