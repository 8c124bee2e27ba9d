//! Upload errors told apart (issue #17, item 4), against a real FTP server (pyftpdlib on
//! loopback, `tests/ftp_users.py`): a permanent refusal (530 wrong password, 550 a
//! read-only user) fails the file at once with the server's words; a server that dies
//! mid-upload is reported as a lost connection, in plain words, and retried with backoff
//! like any transient failure.
//!
//! The job runs in-process on outputs already waiting in `to_upload/` (so nothing needs
//! transcoding; ffmpeg must still be installed, as the job checks for it).

mod tools;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use apps::transcode::{Display, Event, FailedStage, Options, Summary, Transcode};
use tempfile::TempDir;
use tools::{python_with, require};

/// How long anything may take before a test fails (generous: debug builds, busy CI).
const LIMIT: Duration = Duration::from_secs(30);

const PASSWORD: &str = "s3cret";

/// A pyftpdlib server (`ftp_users.py`) on 127.0.0.1; killed when dropped.
struct FtpServer {
    child: Child,
    port: u16,
    root: TempDir,
    /// What it prints after its port: `storing NAME` as each upload begins.
    said: Receiver<String>,
}

impl FtpServer {
    /// Starts one, its uploads throttled to `upload_rate` bytes a second if given.
    fn start(upload_rate: Option<u64>) -> FtpServer {
        let python = python_with("pyftpdlib");
        let root = TempDir::new().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ftp_users.py");
        let mut cmd = Command::new(python);
        cmd.arg(script).arg(root.path()).arg(PASSWORD);
        if let Some(rate) = upload_rate {
            cmd.arg(rate.to_string());
        }
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("start the FTP server");
        let stdout = child.stdout.take().unwrap();
        let (tx, said) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let _ = tx.send(line);
            }
        });
        let line = said.recv_timeout(LIMIT).expect("the FTP server printed no port");
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the FTP server printed {line:?}, not a port"));
        FtpServer { child, port, root, said }
    }

    fn url(&self, user: &str, password: &str, path: &str) -> String {
        format!("ftp://{user}:{password}@127.0.0.1:{}/{path}", self.port)
    }

    /// Kills it (SIGKILL): every connection it had is dropped.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A source directory with `to_upload/a.avi` (of `size` bytes) waiting to be uploaded.
fn pending_upload(size: usize) -> TempDir {
    require("ffmpeg");
    let src = TempDir::new().unwrap();
    fs::create_dir_all(src.path().join("to_upload")).unwrap();
    fs::write(src.path().join("to_upload/a.avi"), vec![b'v'; size]).unwrap();
    src
}

/// Runs a job to its end on another thread, with an observer.
struct Running {
    events: Receiver<Event>,
    seen: Vec<Event>,
    done: Receiver<Summary>,
}

impl Running {
    /// Uploads what waits under `source` to `url`: 5 attempts, 1 s backoff (so retrying a
    /// refusal would take 1 + 2 + 4 + 8 = 15 s).
    fn start(source: &Path, url: String) -> Running {
        let mut o = Options::new(source);
        o.display = Display::Quiet;
        o.upload = Some(url);
        o.upload_attempts = 5;
        o.upload_backoff = Duration::from_secs(1);
        let (tx, events) = channel();
        o.observer = Some(tx);
        let job = Transcode::new(o).unwrap_or_else(|e| panic!("setup failed: {e}"));
        let (done_tx, done) = channel();
        thread::spawn(move || {
            let _ = done_tx.send(job.run());
        });
        Running { events, seen: Vec::new(), done }
    }

    fn wait_for(&mut self, what: &str, want: impl Fn(&Event) -> bool) -> Event {
        let deadline = Instant::now() + LIMIT;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(e) => {
                    self.seen.push(e.clone());
                    if want(&e) {
                        return e;
                    }
                }
                Err(_) => panic!("no {what} within {LIMIT:?}; events so far: {:#?}", self.seen),
            }
        }
    }

    fn finish(mut self) -> (Summary, Vec<Event>) {
        let summary =
            self.done.recv_timeout(LIMIT * 2).unwrap_or_else(|_| panic!("the job did not end: {:#?}", self.seen));
        self.seen.extend(self.events.try_iter());
        (summary, self.seen)
    }
}

fn count(events: &[Event], want: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| want(e)).count()
}

/// The one failure of a run: the upload of `a.avi`, with its reason.
fn upload_failure(summary: &Summary) -> String {
    assert_eq!(summary.exit_code(), 1, "{summary}");
    assert_eq!(summary.failed.len(), 1, "{summary}");
    let f = &summary.failed[0];
    assert_eq!((f.path.as_path(), f.stage), (Path::new("a.avi"), FailedStage::Upload), "{summary}");
    // Kept for the next run.
    assert_eq!(summary.waiting, [PathBuf::from("a.avi")], "{summary}");
    f.reason.clone()
}

/// A refusal is one attempt and no retry.
fn assert_not_retried(events: &[Event], took: Duration) {
    assert_eq!(count(events, |e| matches!(e, Event::UploadStarted { .. })), 1, "{events:#?}");
    assert_eq!(count(events, |e| matches!(e, Event::UploadRetry { .. })), 0, "{events:#?}");
    assert!(took < Duration::from_secs(10), "a refusal should fail at once, took {took:?}");
}

/// 530: a wrong password fails the file at once, with the server's words.
#[test]
fn a_wrong_password_fails_the_upload_at_once_with_the_servers_words() {
    let ftp = FtpServer::start(None);
    let src = pending_upload(1000);
    let started = Instant::now();
    let (summary, events) = Running::start(src.path(), ftp.url("writer", "wrong", "")).finish();
    let reason = upload_failure(&summary);
    assert!(reason.contains("login as writer refused"), "{reason}");
    assert!(reason.contains("530 Authentication failed"), "the server's words: {reason}");
    assert!(reason.contains("not retried"), "{reason}");
    assert_not_retried(&events, started.elapsed());
}

/// 550: a user who may not write fails the file at once (storing it, or creating the
/// directory it goes in), with the server's words.
#[test]
fn a_read_only_destination_fails_the_upload_at_once_with_the_servers_words() {
    let ftp = FtpServer::start(None);
    for (path, what) in [("", "cannot store a.avi.part"), ("talks", "cannot create directory talks")] {
        let src = pending_upload(1000);
        let started = Instant::now();
        let (summary, events) = Running::start(src.path(), ftp.url("reader", PASSWORD, path)).finish();
        let reason = upload_failure(&summary);
        assert!(reason.contains(what), "{reason}");
        assert!(reason.contains("550 Not enough privileges"), "the server's words: {reason}");
        assert_not_retried(&events, started.elapsed());
    }
    assert!(fs::read_dir(ftp.root.path()).unwrap().next().is_none(), "nothing was written");
}

/// The server dies mid-upload: the attempt is reported as a lost connection in plain words
/// (not a parser's complaint), and retried with backoff as a transient failure; the
/// server being gone for good, the file fails after all its attempts and waits for the next
/// run.
#[test]
fn a_server_that_dies_mid_upload_is_a_lost_connection_and_is_retried() {
    // 1 MiB at 64 KiB/s: 16 s of upload, time enough to kill the server during it.
    let mut ftp = FtpServer::start(Some(64 * 1024));
    let src = pending_upload(1 << 20);
    let mut job = Running::start(src.path(), ftp.url("writer", PASSWORD, ""));
    job.wait_for("the upload's start", |e| matches!(e, Event::UploadStarted { .. }));
    let storing = ftp.said.recv_timeout(LIMIT).expect("the server says when the upload begins");
    assert_eq!(storing, "storing a.avi.part");
    ftp.kill();
    let retry = job.wait_for("a retry", |e| matches!(e, Event::UploadRetry { .. }));
    let Event::UploadRetry { error, attempt, .. } = retry else { unreachable!() };
    assert_eq!(attempt, 1);
    // Killed while the transfer runs: the connection was lost; killed between the server's
    // "storing" and the data connection: that connection is refused. Either way plain words.
    assert!(
        error.contains("the connection was lost (the server closed it or went away)")
            || error.contains("Connection refused"),
        "{error}"
    );
    assert!(!error.contains("invalid syntax"), "{error}");
    let (summary, events) = job.finish();
    let reason = upload_failure(&summary);
    assert!(reason.contains("gave up after 5 attempts"), "{reason}");
    assert_eq!(count(&events, |e| matches!(e, Event::UploadRetry { .. })), 4, "{events:#?}");
}
