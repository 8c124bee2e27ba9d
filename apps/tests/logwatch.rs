//! The `logwatch` binary end to end: matching lines printed as appended, --invert, --from-start, a file still to come, Ctrl-C drains and exits 0, exit 2 for a bad pattern or file, a closed stdout, --serve to TCP clients (CRLF lines, announced as the chat server announces itself, --bind).

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// Far longer than anything here needs; only reached if something is wrong.
const LIMIT: Duration = Duration::from_secs(20);

fn logwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_logwatch"))
}

/// Reads `from` line by line on a thread, handing each line over; the channel closes at EOF.
fn lines_of(from: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// A running logwatch.
struct Running {
    child: Child,
    out: Option<Receiver<String>>,
    err: Receiver<String>,
    /// Everything seen on stderr so far, for failure messages.
    err_seen: Vec<String>,
}

impl Running {
    fn start(args: &[&str]) -> Self {
        let mut r = Self::start_raw(args);
        let stdout = r.child.stdout.take().unwrap();
        r.out = Some(lines_of(stdout));
        r
    }

    /// Started, with its stdout left to the test.
    fn start_raw(args: &[&str]) -> Self {
        let mut child = logwatch()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start logwatch");
        let err = lines_of(child.stderr.take().unwrap());
        Running { child, out: None, err, err_seen: Vec::new() }
    }

    /// The next stdout line.
    fn line(&self) -> String {
        self.out.as_ref().unwrap().recv_timeout(LIMIT).expect("no line printed")
    }

    /// Waits for a stderr line containing `needle`.
    fn stderr(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.err.recv_timeout(left) {
                Ok(line) => {
                    self.err_seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no {needle:?} on stderr; saw {:?}", self.err_seen),
            }
        }
    }

    /// The port from `Logwatch running on port N` on stderr (the chat server's form).
    fn port(&mut self) -> u16 {
        let line = self.stderr("running on port");
        let port = line.strip_prefix("Logwatch running on port ").and_then(|p| p.parse().ok());
        port.unwrap_or_else(|| panic!("expected `Logwatch running on port N`, got {line:?}"))
    }

    /// Sends SIGINT, as Ctrl-C does.
    fn interrupt(&self) {
        let ok = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill -INT failed");
    }

    /// Waits for it to exit.
    fn exit(&mut self) -> ExitStatus {
        wait_exit(&mut self.child)
    }

    /// Everything still to come on stdout, up to EOF.
    fn rest(&self) -> Vec<String> {
        let out = self.out.as_ref().unwrap();
        let mut rest = Vec::new();
        loop {
            match out.recv_timeout(LIMIT) {
                Ok(line) => rest.push(line),
                Err(RecvTimeoutError::Disconnected) => return rest,
                Err(RecvTimeoutError::Timeout) => panic!("stdout did not end"),
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only if a test failed half way: do not leave the process behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "logwatch did not exit");
        // Polling for an exit with a deadline, not sleeping in place of synchronising.
        thread::sleep(Duration::from_millis(5));
    }
}

fn append(path: &Path, text: &str) {
    OpenOptions::new().append(true).create(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
}

fn temp_log(initial: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    fs::write(&path, initial).unwrap();
    (dir, path)
}

/// Matching lines are printed as they are appended; Ctrl-C prints what was already appended, then exits 0.
#[test]
fn prints_each_matching_line_as_it_is_appended_and_exits_0_on_ctrl_c_after_draining() {
    let (_dir, path) = temp_log("old pants\n");
    let mut lw = Running::start(&[path.to_str().unwrap(), "pants"]);
    lw.stderr("following");
    append(&path, "a pants\nno match\n");
    assert_eq!(lw.line(), "a pants");
    append(&path, "b PANTS\nc pants here\n");
    assert_eq!(lw.line(), "c pants here");
    append(&path, "last pants\n");
    lw.interrupt();
    let status = lw.exit();
    assert_eq!(status.code(), Some(0), "stderr: {:?}", lw.err_seen);
    assert_eq!(lw.rest(), ["last pants"]);
}

/// --invert prints the lines that do not match; --from-start reads the lines already there.
#[test]
fn invert_and_from_start_print_the_existing_lines_that_do_not_match() {
    let (_dir, path) = temp_log("keep 1\ndrop pants\nkeep 2\n");
    let mut lw = Running::start(&[path.to_str().unwrap(), "pants", "--invert", "--from-start"]);
    assert_eq!(lw.line(), "keep 1");
    assert_eq!(lw.line(), "keep 2");
    append(&path, "pants again\nkeep 3\n");
    assert_eq!(lw.line(), "keep 3");
    lw.interrupt();
    assert_eq!(lw.exit().code(), Some(0));
    assert!(lw.rest().is_empty());
}

/// A file that does not exist yet is waited for, then followed from its start.
#[test]
fn a_file_that_does_not_exist_yet_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.log");
    let mut lw = Running::start(&[path.to_str().unwrap(), "x"]);
    assert!(lw.stderr("no such file").contains("waiting for it to appear"));
    fs::write(&path, "x marks\nnot this\n").unwrap();
    assert_eq!(lw.line(), "x marks");
    lw.interrupt();
    assert_eq!(lw.exit().code(), Some(0));
}

/// A bad pattern exits 2 with a clear message, before anything runs.
#[test]
fn a_bad_pattern_exits_2_with_a_clear_message() {
    let (_dir, path) = temp_log("");
    let out = logwatch().args([path.to_str().unwrap(), "(unclosed"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("logwatch: invalid pattern \"(unclosed\""), "{err}");
    assert!(err.contains("unclosed group"), "{err}");
    assert!(out.stdout.is_empty());
}

/// A file that cannot be followed (a directory; a path in a missing directory) exits 2 with a clear message.
#[test]
fn an_unfollowable_file_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = logwatch().args([dir.path().to_str().unwrap(), "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot follow: it is a directory"), "{err}");

    let missing = dir.path().join("no/such/dir/app.log");
    let out = logwatch().args([missing.to_str().unwrap(), "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot watch its directory"), "{err}");
}

/// When stdout is closed (the reader went away, as with `| head -1`) it stops and exits 0, without a panic.
#[test]
fn a_closed_stdout_ends_it_cleanly() {
    let (_dir, path) = temp_log("first pants\n");
    let mut lw = Running::start_raw(&[path.to_str().unwrap(), "pants", "--from-start"]);
    let stdout: ChildStdout = lw.child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert_eq!(first, "first pants\n");
    drop(reader);
    // The next line written meets the closed pipe.
    append(&path, "second pants\n");
    assert_eq!(lw.exit().code(), Some(0), "stderr: {:?}", lw.err.try_iter().collect::<Vec<_>>());
    let err: Vec<String> = lw.err.try_iter().collect();
    assert!(!err.iter().any(|l| l.contains("panicked")), "{err:?}");
}

/// --serve: matching lines also reach every TCP client, one per line; Ctrl-C closes them after the last line.
#[test]
fn serve_sends_matching_lines_to_every_tcp_client() {
    let (_dir, path) = temp_log("");
    let mut lw = Running::start(&[path.to_str().unwrap(), "pants", "--serve", "0"]);
    let addr = format!("127.0.0.1:{}", lw.port());
    lw.stderr("following");
    let clients: Vec<BufReader<TcpStream>> = (0..2)
        .map(|_| {
            let s = TcpStream::connect(&addr).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
            BufReader::new(s)
        })
        .collect();
    let mut clients = clients;
    // A client hears lines once it has subscribed: send marker lines until each one hears one.
    let mut n = 0;
    for c in &mut clients {
        let deadline = Instant::now() + LIMIT;
        loop {
            assert!(Instant::now() < deadline, "a client never received anything");
            n += 1;
            append(&path, &format!("sync {n} pants\n"));
            let mut line = String::new();
            match c.read_line(&mut line) {
                Ok(_) if line.starts_with("sync") => break,
                Ok(_) => panic!("unexpected {line:?}"),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("{e}"),
            }
        }
    }
    append(&path, "real pants\nnot this\nmore pants\n");
    for c in &mut clients {
        c.get_ref().set_read_timeout(Some(LIMIT)).unwrap();
        let mut got = Vec::new();
        while got.last().map(String::as_str) != Some("more pants\r\n") {
            let mut line = String::new();
            c.read_line(&mut line).unwrap();
            assert!(!line.is_empty(), "connection closed early");
            if !line.starts_with("sync") {
                got.push(line);
            }
        }
        // CRLF, the network line ending, as the chat server and the greeter send.
        assert_eq!(got, ["real pants\r\n", "more pants\r\n"]);
    }
    // Stdout had them all, in order.
    let printed: Vec<String> = (0..n + 2).map(|_| lw.line()).collect();
    assert_eq!(printed[n..], ["real pants", "more pants"]);
    lw.interrupt();
    assert_eq!(lw.exit().code(), Some(0), "stderr: {:?}", lw.err_seen);
    for mut c in clients {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut c, &mut rest);
        assert!(rest.lines().all(|l| l.starts_with("sync")), "{rest:?}");
    }
}

/// --bind picks the address --serve listens on (127.0.0.1 by default); one that cannot be
/// listened on exits 2 with a clear message; --bind without --serve is a usage error.
#[test]
fn bind_chooses_where_serve_listens() {
    let (_dir, path) = temp_log("");
    let file = path.to_str().unwrap();
    let mut lw = Running::start(&[file, "pants", "--serve", "0", "--bind", "127.0.0.2"]);
    let port = lw.port();
    lw.stderr("following");
    // Listening on 127.0.0.2 only (all of 127/8 is loopback on Linux).
    TcpStream::connect(("127.0.0.2", port)).expect("connect to --bind's address");
    let other = TcpStream::connect(("127.0.0.1", port));
    assert!(other.is_err(), "not listening on 127.0.0.1 as well");
    lw.interrupt();
    assert_eq!(lw.exit().code(), Some(0), "stderr: {:?}", lw.err_seen);

    // TEST-NET-1: no interface of this machine has it.
    let out = logwatch().args([file, "x", "--serve", "0", "--bind", "192.0.2.1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("logwatch: cannot serve on 192.0.2.1:0"), "{err}");

    let out = logwatch().args([file, "x", "--bind", "127.0.0.1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--serve"), "{err}");
}
