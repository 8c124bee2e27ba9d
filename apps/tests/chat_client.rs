//! The `chat-client` binary on loopback with `--tty` (two clients through `chat-server`: a line
//! typed into one arrives at the other; end of input; a refused connection; no display), and
//! the window form in-process on a null display (typing into the input pane reaches the
//! server, and what the server sends appears in the conversation pane).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use apps::chat_client::{CONVERSATION_HEIGHT, Outcome, TEXT_HEIGHT, Target, window_system};
use axon_core::Signal;
use common::{Client, LIMIT, Server};
use kamaelia_ui::{Key, NullDisplay, Rect, Rgb, WindowInput};

const CLIENT: &str = env!("CARGO_BIN_EXE_chat-client");
const SERVER: &str = env!("CARGO_BIN_EXE_chat-server");
const BANNER: &str = "Chat server running on port ";

/// A `chat-client --tty` process: its stdin, and its stdout and stderr read line by line.
struct Tty {
    pid: u32,
    exited: Receiver<ExitStatus>,
    done: bool,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

fn lines_of(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Tty {
    fn start(args: &[&str]) -> Tty {
        let mut child = Command::new(CLIENT)
            .arg("--tty")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chat-client");
        let stdout = lines_of(child.stdout.take().expect("piped"));
        let stderr = lines_of(child.stderr.take().expect("piped"));
        let stdin = child.stdin.take();
        let pid = child.id();
        let (tx, exited) = channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        Tty { pid, exited, done: false, stdin, stdout, stderr }
    }

    fn connect(port: u16) -> Tty {
        Tty::start(&["--port", &port.to_string()])
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to the client");
        stdin.flush().expect("flush");
    }

    /// Reads stdout until a line ending with `suffix`; fails the test after `LIMIT`.
    fn wait_for(&self, suffix: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) if line.ends_with(suffix) => return line,
                Ok(_) => {}
                Err(e) => panic!("no line ending {suffix:?} within {LIMIT:?}: {e}"),
            }
        }
    }

    /// Says hello and waits to hear it back: from then on it receives every line.
    fn join(&mut self, name: &str) {
        let hello = format!("hello from {name}");
        self.say(&hello);
        self.wait_for(&format!(" says {hello}"));
    }

    fn close_stdin(&mut self) {
        self.stdin = None;
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let status = self.exited.recv_timeout(LIMIT).expect("chat-client exits in time");
        self.done = true;
        status
    }

    fn stderr_text(&self) -> String {
        let mut text = String::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(500)) {
            text.push_str(&l);
            text.push('\n');
        }
        text
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        if !self.done && self.exited.try_recv().is_err() {
            let _ = Command::new("kill").args(["-KILL", &self.pid.to_string()]).stderr(Stdio::null()).status();
        }
    }
}

/// A raw loopback client of `server`, subscribed: it has heard its own hello back.
fn watch(server: &Server) -> Client {
    let mut c = Client::connect(server.addr());
    c.send("watching\n");
    c.skip_until(format!("Chat:127.0.0.1:{} says watching\r\n", c.port()).as_bytes());
    c
}

#[test]
fn a_line_typed_into_one_tty_client_arrives_at_the_other() {
    let server = Server::start(SERVER, &[], BANNER);
    let mut b = Tty::connect(server.port);
    b.join("b");
    let mut a = Tty::connect(server.port);
    a.join("a");
    a.say("the quick brown fox");
    let got = b.wait_for(" says the quick brown fox");
    assert!(got.starts_with("Chat:127.0.0.1:"), "{got}");
    // And back the other way.
    b.say("jumps over the lazy dog");
    a.wait_for(" says jumps over the lazy dog");
}

#[test]
fn a_tty_client_ends_cleanly_at_the_end_of_its_input() {
    let server = Server::start(SERVER, &[], BANNER);
    let mut a = Tty::connect(server.port);
    a.join("a");
    let mut watcher = watch(&server);
    a.say("last words");
    a.close_stdin();
    let status = a.wait_exit();
    assert!(status.success(), "exit status {status}");
    // What it sent before its input ended reached the server.
    let line = watcher.text_line();
    assert!(line.ends_with(" says last words\r\n"), "{line:?}");
}

#[test]
fn a_tty_client_ends_when_the_server_closes_the_connection() {
    let mut server = Server::start(SERVER, &[], BANNER);
    let mut a = Tty::connect(server.port);
    a.join("a");
    server.interrupt();
    server.wait_exit(LIMIT);
    let status = a.wait_exit();
    assert!(status.success(), "exit status {status}");
    let err = a.stderr_text();
    assert!(err.contains("the server closed the connection"), "stderr: {err}");
}

#[test]
fn a_tty_client_whose_server_is_not_there_says_so_and_fails() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut a = Tty::connect(port);
    let status = a.wait_exit();
    assert_eq!(status.code(), Some(1), "exit status {status}");
    let err = a.stderr_text();
    assert!(err.contains("chat-client:") && err.contains("refused"), "stderr: {err}");
}

#[test]
fn without_a_display_or_tty_the_client_says_what_to_do() {
    let out = Command::new(CLIENT)
        .args(["--port", "1"])
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .output()
        .expect("run chat-client");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("$DISPLAY is not set") && err.contains("--tty"), "stderr: {err}");
}

/// The window form, on a null display: typing into the input pane and pressing Enter sends
/// the line to the server; the server's broadcast appears in the conversation pane.
#[test]
fn the_window_client_sends_what_is_typed_and_shows_what_arrives() {
    let server = Server::start(SERVER, &[], BANNER);
    let mut watcher = watch(&server);
    let target = Target { host: "127.0.0.1".into(), port: server.port };
    let null = NullDisplay::new();
    let outcome = Outcome::default();
    let chat = window_system(&target, outcome.clone(), None).unwrap();
    let sched = kamaelia_net::scheduler().unwrap().background();
    sched.activate(null.component()).unwrap();
    let h = sched.handle::<(), ()>(&chat.system).unwrap();
    let (input, conversation) = (&chat.input, &chat.conversation);
    assert!(null.wait_info(input, LIMIT, |i| i.open && i.position == (0, CONVERSATION_HEIGHT as i32)));
    assert!(null.wait_info(conversation, LIMIT, |i| i.open && i.position == (0, 0)));
    let title = target.title();
    // The connection may still be being made: the line waits for it, nothing is lost.
    for c in "hello server".chars() {
        null.input(Some(&title), WindowInput::Char(c));
    }
    null.input(Some(&title), WindowInput::Key { key: Key::Enter, down: true });
    let line = watcher.text_line();
    assert!(line.ends_with(" says hello server\r\n"), "{line:?}");
    // The broadcast comes back to the window client too and is drawn in the conversation pane.
    let bottom = CONVERSATION_HEIGHT as i32 - 2 - 4 - TEXT_HEIGHT as i32;
    let shown = null.wait_for(conversation, LIMIT, |s| {
        s.count(Rect::new(0, bottom - TEXT_HEIGHT as i32, s.width, TEXT_HEIGHT * 2), Rgb::BLACK) > 0
    });
    assert!(shown.is_some(), "the line appears at the bottom of the conversation");
    // Esc in the input pane ends the whole client.
    null.input(Some(&title), WindowInput::Key { key: Key::Escape, down: true });
    let s = h.get_signal_timeout(LIMIT).expect("the client ends");
    assert!(matches!(s, Signal::ShutdownMicroprocess | Signal::ProducerFinished { .. }), "{s}");
    assert!(null.wait_ended(LIMIT), "both panes gave their surfaces back");
    assert!(!outcome.failed());
}
