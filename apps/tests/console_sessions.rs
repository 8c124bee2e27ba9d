//! Nobody can lock the operator out of the debug console (issue #17, item 2): connections
//! count against `MAX_SESSIONS` only once they have sent the token, one that does not send
//! it within `AUTH_TIMEOUT` is closed with a reason, and the session limit still holds for
//! authorised sessions. Run against a real `chat-server --console 0`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apps::console::{AUTH_TIMEOUT, MAX_SESSIONS};

/// How long anything may take before a test fails (generous: debug builds, busy CI).
const LIMIT: Duration = Duration::from_secs(30);

const CHAT: &str = env!("CARGO_BIN_EXE_chat-server");
const CONSOLE_LINE: &str = "warning: the debug console can inspect and change the running system: bound to ";
const GREETING: &str = "axon debug console: send the token first";

/// A chat server with a console, killed when dropped.
struct App {
    child: Child,
    console: SocketAddr,
}

impl App {
    fn start(args: &[&str]) -> App {
        let mut child = Command::new(CHAT)
            .args(["--port", "0", "--console", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chat-server");
        let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
        let mut warning = String::new();
        stderr.read_line(&mut warning).expect("the console's warning on stderr");
        // Keep reading, so the app never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let console = warning
            .strip_prefix(CONSOLE_LINE)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("expected {CONSOLE_LINE:?}<addr> ..., got {warning:?}"));
        App { child, console }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A console connection.
struct Console {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Console {
    fn connect(addr: SocketAddr) -> Console {
        let stream = TcpStream::connect(addr).expect("connect to the console");
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        Console { stream, reader }
    }

    /// The next answer's lines (without the empty line that ends it).
    fn answer(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap_or_else(|e| panic!("no answer within {LIMIT:?}: {e}"));
            assert!(n > 0, "the console closed the connection mid-answer (so far: {lines:?})");
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                return lines;
            }
            lines.push(line.to_string());
        }
    }

    fn cmd(&mut self, command: &str) -> Vec<String> {
        self.stream.write_all(format!("{command}\n").as_bytes()).expect("write");
        self.answer()
    }

    /// True once the console has closed the connection (end of stream).
    fn closed(&mut self) -> bool {
        let mut rest = String::new();
        self.reader.read_to_string(&mut rest).is_ok() && rest.is_empty()
    }
}

/// Twenty connections that never send the token (more than MAX_SESSIONS) do not keep the
/// operator out: the token is accepted at once, and the console answers.
#[test]
fn idle_connections_without_the_token_do_not_lock_the_operator_out() {
    let app = App::start(&["--console-token", "s3cret"]);
    let idle: Vec<Console> = (0..20)
        .map(|_| {
            let mut c = Console::connect(app.console);
            // Greeted: each is a connection the console has taken.
            assert_eq!(c.answer(), [GREETING]);
            c
        })
        .collect();
    assert!(idle.len() > MAX_SESSIONS);
    let started = Instant::now();
    let mut operator = Console::connect(app.console);
    assert_eq!(operator.answer(), [GREETING]);
    assert_eq!(operator.cmd("s3cret"), ["ok: type help for the commands"]);
    assert!(operator.cmd("ls").iter().any(|l| l.contains("Backplane")));
    assert!(started.elapsed() < AUTH_TIMEOUT, "the operator got in only after {:?}", started.elapsed());
}

/// A connection that does not send the token within AUTH_TIMEOUT is told so and closed.
#[test]
fn a_connection_that_sends_no_token_is_closed_after_the_timeout() {
    let app = App::start(&["--console-token", "s3cret"]);
    let started = Instant::now();
    let mut c = Console::connect(app.console);
    assert_eq!(c.answer(), [GREETING]);
    assert_eq!(c.answer(), [format!("error: no token within {} s", AUTH_TIMEOUT.as_secs())]);
    assert!(c.closed());
    let took = started.elapsed();
    assert!(took >= AUTH_TIMEOUT && took < AUTH_TIMEOUT + LIMIT / 2, "closed after {took:?}");
}

/// The session limit still holds, for authorised sessions: one more than MAX_SESSIONS is
/// refused with a reason and closed; once one session quits, a new one gets in.
#[test]
fn authorised_sessions_are_limited_and_a_freed_seat_can_be_taken() {
    let app = App::start(&["--console-token", "s3cret"]);
    let mut sessions: Vec<Console> = (0..MAX_SESSIONS)
        .map(|_| {
            let mut c = Console::connect(app.console);
            assert_eq!(c.answer(), [GREETING]);
            assert_eq!(c.cmd("s3cret"), ["ok: type help for the commands"]);
            c
        })
        .collect();
    let mut extra = Console::connect(app.console);
    assert_eq!(extra.answer(), [GREETING]);
    assert_eq!(extra.cmd("s3cret"), [format!("error: the debug console has {MAX_SESSIONS} sessions already")]);
    assert!(extra.closed());

    let mut leaving = sessions.pop().expect("a session");
    assert_eq!(leaving.cmd("quit"), ["bye"]);
    assert!(leaving.closed());
    let mut next = Console::connect(app.console);
    assert_eq!(next.answer(), [GREETING]);
    assert_eq!(next.cmd("s3cret"), ["ok: type help for the commands"]);
}

/// Without a token every connection is a session from the start: the limit applies then.
#[test]
fn without_a_token_the_limit_counts_every_connection() {
    let app = App::start(&[]);
    let _sessions: Vec<Console> = (0..MAX_SESSIONS)
        .map(|_| {
            let mut c = Console::connect(app.console);
            assert!(c.answer()[0].starts_with("axon debug console: type help"));
            c
        })
        .collect();
    let mut extra = Console::connect(app.console);
    assert_eq!(extra.answer(), [format!("error: the debug console has {MAX_SESSIONS} sessions already")]);
    assert!(extra.closed());
}
