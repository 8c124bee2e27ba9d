//! `cargo xtask transcode` as a user runs it: the real binary, real signals. (The job's
//! behaviour is tested in-process in `apps/tests/transcode.rs`; here: argument errors,
//! ffmpeg missing, and Ctrl-C mapped onto stop and abort.) Needs ffmpeg.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::Duration;

use tempfile::TempDir;

const LIMIT: Duration = Duration::from_secs(30);

/// Transcodes that take as long as the video lasts, so a signal lands while one runs.
const SLOW_ARGS: &str = "--ffmpeg-args=-vf scale=640:360,realtime -c:v mpeg4 -c:a copy";

fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

#[path = "../../apps/tests/provision/mod.rs"]
mod provision;

fn make_video(path: &Path, seconds: u32) {
    provision::require("ffmpeg", "apt-get install ffmpeg");
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=duration={seconds}:size=64x36:rate=10"))
        .args(["-c:v", "mpeg4"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("ffmpeg is needed for these tests (apt-get install ffmpeg): {e}"));
    assert!(out.status.success(), "making {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
}

/// The job running as a child process, its stdout read line by line.
struct Job {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
}

impl Job {
    fn start(args: &[&str]) -> Job {
        let mut child = xtask()
            .arg("transcode")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start xtask");
        let out = child.stdout.take().expect("piped");
        let (tx, lines) = channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Job { child, lines, stdout: Vec::new() }
    }

    fn wait_line(&mut self, containing: &str) {
        loop {
            match self.lines.recv_timeout(LIMIT) {
                Ok(l) => {
                    let found = l.contains(containing);
                    self.stdout.push(l);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!("no line with {containing:?} within {LIMIT:?}; got {:?}", self.stdout),
            }
        }
    }

    fn interrupt(&self) {
        let ok = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().expect("kill");
        assert!(ok.success());
    }

    /// Waits for the end: status, all of stdout, stderr.
    fn finish(mut self) -> (ExitStatus, String, String) {
        let (tx, rx) = channel();
        let mut child = self.child;
        thread::spawn(move || {
            let status = child.wait();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            let _ = tx.send((status, err));
        });
        let (status, err) = rx.recv_timeout(LIMIT).expect("the job did not end");
        self.stdout.extend(self.lines.iter());
        (status.expect("wait"), self.stdout.join("\n"), err)
    }
}

#[test]
fn ctrl_c_lets_the_running_transcode_finish_and_leaves_the_rest() {
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    for n in ["a.mp4", "b.mp4", "c.mp4"] {
        make_video(&src.path().join(n), 2);
    }
    let (s, d) = (src.path().to_str().unwrap(), dest.path().to_str().unwrap());
    let mut job = Job::start(&["--source", s, "--upload", d, "--workers", "1", SLOW_ARGS]);
    job.wait_line("[w0] transcoding a.mp4");
    job.interrupt();
    let (status, out, err) = job.finish();
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(out.contains("stopped (requested)"), "{out}");
    assert!(out.contains("1 transcoded, 1 uploaded, 0 failed, 2 left for the next run"), "{out}");
    assert!(dest.path().join("a.avi").exists() && src.path().join("done/a.mp4").exists());
    assert!(src.path().join("b.mp4").exists() && src.path().join("c.mp4").exists());
}

#[test]
fn a_second_ctrl_c_aborts_the_running_transcode_and_removes_its_partial_output() {
    let src = TempDir::new().unwrap();
    make_video(&src.path().join("long.mp4"), 5);
    let s = src.path().to_str().unwrap();
    let mut job = Job::start(&["--source", s, "--workers", "1", SLOW_ARGS]);
    job.wait_line("[w0] transcoding long.mp4");
    job.interrupt();
    job.wait_line("stopping");
    job.interrupt();
    let (status, out, err) = job.finish();
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("aborted (requested)") && out.contains("1 left for the next run"), "{out}");
    assert!(src.path().join("long.mp4").exists());
    assert_eq!(fs::read_dir(src.path().join("transcoding")).unwrap().count(), 0, "partial output removed");
}

#[test]
fn usage_and_environment_errors_exit_with_status_2() {
    let src = TempDir::new().unwrap();
    let s = src.path().to_str().unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("run xtask");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // ffmpeg not on PATH: the install hint.
    let (code, err) = run(xtask().args(["transcode", "--source", s]).env("PATH", "/nonexistent"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("apt-get install ffmpeg"), "{err}");
    for (args, says) in [
        (vec!["transcode"], "--source"),
        (vec!["transcode", "--source", s, "--until", "25:99"], "HH:MM"),
        (vec!["transcode", "--source", s, "--workers", "many"], "--workers"),
        (vec!["transcode", "--source", "/nonexistent/videos"], "/nonexistent/videos"),
        (vec!["transcode", "--source", s, "--upload", "http://example.invalid/"], "http://"),
    ] {
        let (code, err) = run(xtask().args(&args));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (code, _) = run(xtask().args(["transcode", "--help"]));
    assert_eq!(code, Some(0));
}
