//! Signals reach the servers even once their stdout and stderr are gone (issue #17, item 1):
//! `chat-server`, `greeter` and `logwatch` started with both as pipes whose reading ends are
//! then closed (as when the terminal or the parent goes away) still end cleanly, exit 0, on
//! SIGTERM and on SIGHUP (documented in `apps::shutdown` as the same request as SIGTERM).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// How long anything may take before a test fails (generous: debug builds, busy CI).
const LIMIT: Duration = Duration::from_secs(30);

/// A child process whose stdout and stderr were pipes, both closed at our end now.
struct Orphaned {
    pid: u32,
    exited: Receiver<ExitStatus>,
    done: bool,
}

impl Orphaned {
    /// Starts `exe args` with stdout and stderr piped, reads its first line of stdout,
    /// then closes the reading ends of both pipes. Returns it and that line.
    fn start(exe: &str, args: &[&str]) -> (Orphaned, String) {
        Self::start_reading(exe, args, false)
    }

    /// As [`start`](Self::start), reading the first line from stderr if `stderr`.
    fn start_reading(exe: &str, args: &[&str], stderr: bool) -> (Orphaned, String) {
        let mut child: Child = Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {exe}: {e}"));
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("piped"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("piped"));
        let (first, other) = if stderr { (err, out) } else { (out, err) };
        let (line_tx, line_rx) = channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(first).read_line(&mut line);
            let _ = line_tx.send(line);
            // The reader (and with it the pipe's reading end) is dropped here.
        });
        let line = line_rx.recv_timeout(LIMIT).unwrap_or_else(|_| panic!("{exe} printed nothing within {LIMIT:?}"));
        drop(other);
        let pid = child.id();
        let (tx, exited) = channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        (Orphaned { pid, exited, done: false }, line)
    }

    fn kill(&self, signal: &str) {
        let ok = Command::new("kill").args([&format!("-{signal}"), &self.pid.to_string()]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -{signal} {} failed", self.pid);
    }

    /// Sends `signal` and waits for the exit.
    fn signal_and_wait(&mut self, signal: &str) -> ExitStatus {
        self.kill(signal);
        let status = self
            .exited
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("still running {LIMIT:?} after SIG{signal} with its stdout and stderr closed"));
        self.done = true;
        status
    }
}

impl Drop for Orphaned {
    fn drop(&mut self) {
        if !self.done && self.exited.try_recv().is_err() {
            self.kill("KILL");
            let _ = self.exited.recv_timeout(LIMIT);
        }
    }
}

fn port_of(line: &str, banner: &str) -> u16 {
    line.trim_end().strip_prefix(banner).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("banner {line:?}"))
}

/// A connected client, to check that the shutdown closes connections: it says a line and
/// reads the answer (both servers answer every line), so the server has taken it.
fn client(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(b"hi\n").expect("write");
    let mut answer = String::new();
    BufReader::new(&s).read_line(&mut answer).expect("an answer");
    assert!(answer.ends_with('\n'), "{answer:?}");
    s
}

fn assert_closed(mut s: TcpStream) {
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("the server closes the connection as it shuts down");
}

fn server_ends_cleanly(exe: &str, banner: &str, signal: &str) {
    let (mut server, line) = Orphaned::start(exe, &["--port", "0"]);
    let c = client(port_of(&line, banner));
    let status = server.signal_and_wait(signal);
    assert_eq!(status.code(), Some(0), "after SIG{signal} (stdout and stderr closed) it exits 0, got {status}");
    assert_closed(c);
}

#[test]
fn chat_server_ends_cleanly_on_sigterm_once_its_stdout_and_stderr_are_closed() {
    server_ends_cleanly(env!("CARGO_BIN_EXE_chat-server"), "Chat server running on port ", "TERM");
}

#[test]
fn greeter_ends_cleanly_on_sigterm_once_its_stdout_and_stderr_are_closed() {
    server_ends_cleanly(env!("CARGO_BIN_EXE_greeter"), "Greeter running on port ", "TERM");
}

/// SIGHUP (the terminal went away) is documented as the same request as SIGTERM: a clean
/// shutdown, exit 0.
#[test]
fn sighup_shuts_chat_server_and_greeter_down_cleanly_as_sigterm_does() {
    server_ends_cleanly(env!("CARGO_BIN_EXE_chat-server"), "Chat server running on port ", "HUP");
    server_ends_cleanly(env!("CARGO_BIN_EXE_greeter"), "Greeter running on port ", "HUP");
}

/// A SIGTERM that finds the server still shutting down is not lost either: repeated
/// SIGTERMs (as `kill` in a loop sends) end it, with 0 or with 130 if the second one came
/// before the first had finished.
#[test]
fn repeated_sigterms_end_chat_server_with_its_pipes_closed() {
    let (mut server, _line) = Orphaned::start(env!("CARGO_BIN_EXE_chat-server"), &["--port", "0"]);
    for _ in 0..3 {
        // Once it has exited, `kill` fails: that is fine here.
        let _ = Command::new("kill").args(["-TERM", &server.pid.to_string()]).status();
    }
    let status = server.exited.recv_timeout(LIMIT).unwrap_or_else(|_| panic!("still running after 3 SIGTERMs"));
    server.done = true;
    assert!(matches!(status.code(), Some(0 | 130)), "{status}");
}

/// logwatch (its own stop: drain, then exit) also ends on SIGTERM once its pipes are closed.
#[test]
fn logwatch_ends_cleanly_on_sigterm_once_its_stdout_and_stderr_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log");
    std::fs::write(&file, "").unwrap();
    let path = file.display().to_string();
    // With `--serve 0` its first line (on stderr) comes once its handler is installed.
    let (mut watch, line) =
        Orphaned::start_reading(env!("CARGO_BIN_EXE_logwatch"), &[&path, "x", "--serve", "0"], true);
    assert!(line.contains("Logwatch running on port"), "{line:?}");
    let status = watch.signal_and_wait("TERM");
    assert_eq!(status.code(), Some(0), "{status}");
}
