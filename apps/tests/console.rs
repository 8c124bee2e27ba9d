//! The debug console, driven over real TCP connections against a running `chat-server
//! --port 0 --console 0`: `ls`, `show`, `links`, `dot`, `send` (a signal that shuts a
//! connection down), `shutdown`, `spawn` (a DataSource wired into a client's connection, a
//! Clock), `stats`, `link`/`unlink`, clear errors, the token, loopback only; and the flags on
//! every app.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// How long anything may take before a test fails (generous: debug builds, busy CI).
const LIMIT: Duration = Duration::from_secs(30);

const CHAT: &str = env!("CARGO_BIN_EXE_chat-server");
const BANNER: &str = "Chat server running on port ";
const CONSOLE_LINE: &str = "warning: the debug console can inspect and change the running system: bound to ";

/// A chat server with a console, as a child process.
struct App {
    pid: u32,
    exited: Receiver<ExitStatus>,
    ended: bool,
    chat: SocketAddr,
    console: SocketAddr,
    /// Its stderr, line by line, after the console's warning.
    stderr: Receiver<String>,
}

/// Reads lines from `r` into a channel, on a thread (so the child never blocks on a pipe).
fn lines_of(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        // Reads to the end even if nobody listens any more, so the child never blocks.
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { return };
            let _ = tx.send(line);
        }
    });
    rx
}

fn next_line(rx: &Receiver<String>, what: &str) -> String {
    rx.recv_timeout(LIMIT).unwrap_or_else(|e| panic!("no {what} within {LIMIT:?}: {e}"))
}

impl App {
    /// Starts `chat-server --port 0 --console 0 <args>` and reads both ports.
    fn start(args: &[&str]) -> App {
        let mut child = Command::new(CHAT)
            .args(["--port", "0", "--console", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chat-server");
        let stdout = lines_of(child.stdout.take().expect("piped"));
        let stderr = lines_of(child.stderr.take().expect("piped"));
        let banner = next_line(&stdout, "banner on stdout");
        let port: u16 =
            banner.strip_prefix(BANNER).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("banner {banner:?}"));
        let warning = next_line(&stderr, "console warning on stderr");
        let addr = warning
            .strip_prefix(CONSOLE_LINE)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("expected {CONSOLE_LINE:?}<addr> ..., got {warning:?}"));
        assert!(addr.ip().is_loopback(), "the console listens on loopback only: {addr}");
        // The pipes are read to the end by their threads, so the app never blocks on them;
        // stdout's lines are not needed. Its exit is waited for on a thread.
        drop(stdout);
        let pid = child.id();
        let (tx, exited) = channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        App { pid, exited, ended: false, chat: SocketAddr::from(([127, 0, 0, 1], port)), console: addr, stderr }
    }

    fn console(&self) -> Console {
        let mut c = Console::connect(self.console);
        let greeting = c.answer();
        assert!(greeting[0].starts_with("axon debug console"), "greeting: {greeting:?}");
        c
    }

    /// Sends SIGINT (what Ctrl-C does) and waits for the exit.
    fn interrupt(&mut self) -> ExitStatus {
        let ok = Command::new("kill").args(["-INT", &self.pid.to_string()]).status().expect("kill").success();
        assert!(ok, "kill -INT failed");
        let status =
            self.exited.recv_timeout(LIMIT).unwrap_or_else(|e| panic!("the app did not exit within {LIMIT:?}: {e}"));
        self.ended = true;
        status
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if !self.ended && self.exited.try_recv().is_err() {
            let _ = Command::new("kill").args(["-KILL", &self.pid.to_string()]).status();
            let _ = self.exited.recv_timeout(LIMIT);
        }
    }
}

/// A console connection: commands out, answers (lines up to an empty one) in.
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

    /// A command whose answer must be one `error: ` line; returns it.
    fn error(&mut self, command: &str) -> String {
        let a = self.cmd(command);
        assert!(a.len() == 1 && a[0].starts_with("error: "), "{command:?} should fail, got {a:?}");
        a[0].clone()
    }

    /// True once the console has closed the connection.
    fn closed(&mut self) -> bool {
        let mut rest = String::new();
        self.reader.read_to_string(&mut rest).is_ok()
    }
}

/// One line of `ls`: depth, id, name, state.
#[derive(Debug, Clone)]
struct Entry {
    depth: usize,
    id: u64,
    name: String,
    state: String,
}

fn ls(c: &mut Console) -> Vec<Entry> {
    let a = c.cmd("ls");
    let (last, entries) = a.split_last().expect("ls answers");
    assert!(last.ends_with(" components"), "ls ends with a count: {last:?}");
    entries
        .iter()
        .map(|l| {
            let depth = (l.len() - l.trim_start().len()) / 2;
            let mut w = l.split_whitespace();
            let id = w.next().and_then(|i| i.parse().ok()).unwrap_or_else(|| panic!("ls line {l:?}"));
            let name = w.next().expect("a name").to_string();
            let state = w.next().expect("a state").to_string();
            Entry { depth, id, name, state }
        })
        .collect()
}

/// The entries below the one with `id` in an `ls` listing (its descendants).
fn below(entries: &[Entry], id: u64) -> Vec<Entry> {
    let Some(i) = entries.iter().position(|e| e.id == id) else { return Vec::new() };
    let depth = entries[i].depth;
    entries[i + 1..].iter().take_while(|e| e.depth > depth).cloned().collect()
}

fn find(entries: &[Entry], prefix: &str) -> Entry {
    entries
        .iter()
        .find(|e| e.name.starts_with(prefix))
        .cloned()
        .unwrap_or_else(|| panic!("no {prefix} in {entries:#?}"))
}

/// The chat app's part of `ls` (under the component named `chat-server`).
fn chat_part(c: &mut Console) -> Vec<Entry> {
    let entries = ls(c);
    let root = entries.iter().find(|e| e.name == "chat-server").unwrap_or_else(|| panic!("{entries:#?}")).id;
    below(&entries, root)
}

/// Connects a chat client and waits until the server serves it (it hears its own hello).
fn chat_client(addr: SocketAddr) -> (TcpStream, BufReader<TcpStream>) {
    let mut s = TcpStream::connect(addr).expect("connect to the chat server");
    s.set_read_timeout(Some(LIMIT)).expect("timeout");
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    s.write_all(b"hello\n").expect("write");
    let mut line = String::new();
    r.read_line(&mut line).expect("the hello comes back");
    assert!(line.ends_with("says hello\r\n"), "{line:?}");
    (s, r)
}

/// The chat server's only connection: (its protocol Graphline's id, its adapter's id).
fn connection(c: &mut Console) -> (u64, u64) {
    let part = chat_part(c);
    let server = find(&part, "ServerCore");
    let conns = below(&part, server.id);
    let graphlines: Vec<&Entry> = conns.iter().filter(|e| e.name.starts_with("Graphline")).collect();
    let csas: Vec<&Entry> = conns.iter().filter(|e| e.name.starts_with("ConnectedSocketAdapter")).collect();
    assert_eq!((graphlines.len(), csas.len()), (1, 1), "one connection: {conns:#?}");
    (graphlines[0].id, csas[0].id)
}

fn expect_eof(r: &mut BufReader<TcpStream>) {
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).expect("the connection closes (no timeout)");
}

/// `ls` shows the tree (the app under its name: ServerCore with a connection's Graphline and
/// adapter, the Backplane; the console with its own server and session); `show` gives a
/// component's boxes with types, lengths, capacities and counts, and its links; `links` and
/// `dot` describe the same system; Ctrl-C still ends the app, console included.
#[test]
fn ls_show_links_and_dot_describe_the_running_chat_server() {
    let mut app = App::start(&[]);
    let (_client, _reader) = chat_client(app.chat);
    let mut c = app.console();

    let entries = ls(&mut c);
    let part = chat_part(&mut c);
    let server = find(&part, "ServerCore");
    let backplane = find(&part, "Backplane");
    assert_eq!((server.depth, backplane.depth), (1, 1), "{entries:#?}");
    let conn = below(&part, server.id);
    assert!(conn.iter().any(|e| e.name.starts_with("Graphline")), "{conn:#?}");
    assert!(conn.iter().any(|e| e.name.starts_with("ChunksToLines")), "{conn:#?}");
    assert!(part.iter().all(|e| ["paused", "runnable", "running"].contains(&e.state.as_str())), "{part:#?}");
    let console = find(&entries, "DebugConsole");
    assert!(below(&entries, console.id).iter().any(|e| e.name.starts_with("ConsoleSession")), "{entries:#?}");

    let (graphline, csa) = connection(&mut c);
    let show = c.cmd(&format!("show {csa}"));
    assert!(show[0].starts_with(&format!("{csa} ConnectedSocketAdapter_{csa} ")), "{show:#?}");
    assert!(show.contains(&format!("parent: {} {}", server.id, server.name)), "{show:#?}");
    let inbox = show.iter().find(|l| l.trim_start().starts_with("inbox ")).unwrap_or_else(|| panic!("{show:#?}"));
    let words: Vec<&str> = inbox.split_whitespace().collect();
    assert_eq!(words[..3], ["inbox", "in", "Vec<u8>"], "{inbox:?}");
    assert!(words[3].ends_with("/64"), "length/capacity: {inbox:?}");
    assert_eq!(words[4], "through", "{inbox:?}");
    assert!(
        show.iter().any(|l| l.trim() == format!("outbox -> {graphline} Graphline_{graphline}.inbox (normal)")),
        "{show:#?}"
    );
    assert!(
        show.iter().any(|l| l.trim() == format!("{graphline} Graphline_{graphline}.outbox -> inbox (normal)")),
        "{show:#?}"
    );
    // By name prefix, when only one component has it.
    assert_eq!(c.cmd("show Backplane")[0], format!("{} {} {}", backplane.id, backplane.name, backplane.state));

    let links = c.cmd("links");
    assert!(links.contains(&format!(
        "{csa} ConnectedSocketAdapter_{csa}.outbox -> {graphline} Graphline_{graphline}.inbox (normal)"
    )));
    assert!(links.last().is_some_and(|l| l.ends_with(" links")), "{links:?}");

    let dot = c.cmd("dot");
    assert_eq!(dot[0], "digraph axon {");
    assert_eq!(dot.last().map(String::as_str), Some("}"));
    assert!(dot.iter().any(|l| l.contains(&format!("\"{csa}:o:outbox\" -> \"{graphline}:i:inbox\""))), "{dot:#?}");

    let help = c.cmd("help");
    for cmd in ["ls", "show", "links", "send", "link", "unlink", "wake", "pause", "shutdown", "spawn", "stats", "dot"] {
        assert!(help.iter().any(|l| l.trim_start().starts_with(cmd)), "help mentions {cmd}: {help:#?}");
    }
    // Something spawned from the console is stopped by Ctrl-C too.
    assert!(c.cmd(r#"spawn Clock {"interval_ms": 1000}"#)[0].starts_with("spawned "));
    assert_eq!(c.cmd("quit"), ["bye"]);
    assert!(c.closed());

    let status = app.interrupt();
    assert_eq!(status.code(), Some(0), "Ctrl-C ends the app, console included: {status}");
}

/// `send ID control "shutdownMicroprocess"` (a Signal, from JSON) into a connection's
/// protocol closes that client's connection; so does `shutdown ID`; the server carries on.
#[test]
fn a_signal_sent_from_the_console_shuts_a_connection_down() {
    let app = App::start(&[]);
    let mut c = app.console();

    let (first, mut first_reader) = chat_client(app.chat);
    let (graphline, _) = connection(&mut c);
    let a = c.cmd(&format!(r#"send {graphline} control "shutdownMicroprocess""#));
    assert_eq!(a, [format!("sent to {graphline} Graphline_{graphline}.control (Signal)")]);
    expect_eof(&mut first_reader);
    drop(first);

    // The connection's components are gone (polled: the server reaps them as they end).
    let deadline = Instant::now() + LIMIT;
    let (second, mut second_reader) = loop {
        let part = chat_part(&mut c);
        if !part.iter().any(|e| e.name.starts_with("Graphline")) {
            break chat_client(app.chat);
        }
        assert!(Instant::now() < deadline, "the shut-down connection is still listed: {part:#?}");
    };
    let (graphline, _) = connection(&mut c);
    assert_eq!(
        c.cmd(&format!("shutdown {graphline}")),
        [format!("sent shutdownMicroprocess to {graphline} Graphline_{graphline}.control")]
    );
    expect_eof(&mut second_reader);
    drop(second);

    // The server still serves.
    let _third = chat_client(app.chat);
}

/// `spawn DataSource {...} outbox=CSA.inbox` writes into a client's connection; a spawned
/// Clock shows in `ls` under the console, in `stats` with its rate, and stops on `shutdown`.
/// `link` and `unlink` join and part boxes, types checked.
#[test]
fn spawned_components_run_show_in_ls_and_stats_and_can_be_linked() {
    let app = App::start(&[]);
    let mut c = app.console();
    let (_client, mut reader) = chat_client(app.chat);
    let (_, csa) = connection(&mut c);

    let a = c
        .cmd(&format!(r#"spawn DataSource {{"items": ["from the console\r\n"], "type": "bytes"}} outbox={csa}.inbox"#));
    assert!(a[0].starts_with("spawned ") && a[0].contains(" DataSource_"), "{a:?}");
    assert!(a[1].ends_with(&format!("-> {csa} ConnectedSocketAdapter_{csa}.inbox (normal)")), "{a:?}");
    let mut line = String::new();
    reader.read_line(&mut line).expect("the spawned DataSource's line");
    assert_eq!(line, "from the console\r\n");

    let a = c.cmd(r#"spawn Clock {"interval_ms": 10}"#);
    let clock: u64 = a[0].split_whitespace().nth(1).and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("{a:?}"));
    let entries = ls(&mut c);
    let console = find(&entries, "DebugConsole");
    let spawned = below(&entries, console.id);
    assert!(spawned.iter().any(|e| e.id == clock && e.depth == 1), "the clock is the console's child: {entries:#?}");

    let stats = c.cmd("stats 300");
    // The interval actually measured: at least the one asked for.
    let ms: u64 = stats[0]
        .strip_prefix("messages per second over ")
        .and_then(|r| r.strip_suffix(" ms:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stats:#?}"));
    assert!(ms >= 300, "{stats:#?}");
    let row = stats
        .iter()
        .find(|l| l.trim_start().starts_with(&format!("{clock}.outbox ")))
        .unwrap_or_else(|| panic!("{stats:#?}"));
    let rate: f64 = row
        .split_whitespace()
        .nth(2)
        .and_then(|r| r.strip_suffix("/s"))
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{row:?}"));
    assert!(rate > 0.0 && rate < 1000.0, "a 10 ms clock ticks about 100 times a second: {row:?}");

    // Wire the clock (u64 ticks) into a spawned NullSink of u64, then part them.
    let a = c.cmd(r#"spawn NullSink {"type": "u64"}"#);
    let sink: u64 = a[0].split_whitespace().nth(1).and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("{a:?}"));
    assert_eq!(
        c.cmd(&format!("link {clock}.outbox {sink}.inbox")),
        [format!("linked {clock} Clock_{clock}.outbox -> {sink} NullSink_{sink}.inbox (normal)")]
    );
    let err = c.error(&format!("link {clock}.outbox {csa}.inbox"));
    assert!(err.contains("carries u64") && err.contains("Vec<u8>"), "{err}");
    assert_eq!(
        c.cmd(&format!("unlink {clock}.outbox")),
        [format!("unlinked {clock} Clock_{clock}.outbox -> {sink} NullSink_{sink}.inbox (normal)")]
    );
    let err = c.error(&format!("unlink {clock}.outbox"));
    assert!(err.contains("has no link out"), "{err}");

    assert_eq!(
        c.cmd(&format!("wake {clock}"))[0].split(" (").next(),
        Some(format!("woke {clock} Clock_{clock}").as_str())
    );
    assert_eq!(
        c.cmd(&format!("shutdown {clock}")),
        [format!("sent shutdownMicroprocess to {clock} Clock_{clock}.control")]
    );
    let deadline = Instant::now() + LIMIT;
    while ls(&mut c).iter().any(|e| e.id == clock) {
        assert!(Instant::now() < deadline, "the clock did not stop");
    }
    let err = c.error(&format!("show {clock}"));
    assert_eq!(err, format!("error: no running component has id {clock} (ls lists them)"));
}

/// Unknown commands, ids, names and boxes, malformed JSON, values of the wrong JSON shape,
/// inbox types the console cannot make, outboxes, pause, chassis links, unknown spawns and
/// bad configurations: each is one clear `error:` line, and the console carries on.
#[test]
fn mistakes_get_clear_errors() {
    let app = App::start(&[]);
    let mut c = app.console();
    let (_client, _reader) = chat_client(app.chat);
    let (graphline, csa) = connection(&mut c);
    let backplane = find(&chat_part(&mut c), "Backplane").id;
    let splitter = find(&chat_part(&mut c), "PlugSplitter").id;

    assert_eq!(c.error("frobnicate"), "error: unknown command \"frobnicate\" (try help)");
    assert_eq!(c.error("show 999999"), "error: no running component has id 999999 (ls lists them)");
    assert_eq!(
        c.error("show NoSuchThing"),
        "error: no running component has id or name \"NoSuchThing\" (ls lists them)"
    );
    assert!(c.error("show ServerCore").contains("is ambiguous"), "two ServerCores: the chat's and the console's");
    assert_eq!(c.error("show"), "error: usage: show ID");
    let err = c.error(&format!("send {csa} nosuchbox \"x\""));
    assert!(err.contains("has no box named \"nosuchbox\"") && err.contains("inboxes: inbox, control"), "{err}");
    let err = c.error(&format!("send {csa} inbox {{\"unclosed\": "));
    assert!(err.starts_with("error: malformed JSON: "), "{err}");
    let err = c.error(&format!("send {csa} inbox 42"));
    assert!(err.contains("Vec<u8>") && err.contains("expected a JSON string"), "{err}");
    let err = c.error(&format!("send {csa} inbox [1, 300]"));
    assert!(err.contains("byte 1 is 300"), "{err}");
    let err = c.error(&format!("send {csa} outbox \"x\""));
    assert!(err.contains("is an outbox"), "{err}");
    let err = c.error(&format!("send {graphline} control \"explode\""));
    assert!(err.contains("unknown signal \"explode\""), "{err}");
    let err = c.error(&format!("send {splitter} configuration {{}}"));
    assert!(
        err.contains("its message type is") && err.contains("SplitterConfig") && err.contains("can make only"),
        "{err}"
    );
    let err = c.error(&format!("pause {backplane}"));
    assert!(err.starts_with("error: not supported: Axon components pause themselves"), "{err}");
    let err = c.error(&format!("link {csa}.outbox {graphline}.nosuch"));
    assert!(err.contains("has no box named \"nosuch\""), "{err}");
    let err = c.error(&format!("link {csa}.outbox {graphline}.inbox"));
    assert!(err.contains("already linked"), "{err}");
    // Any link can be removed from the console, whoever made it (here: the server's).
    let done = c.cmd(&format!("unlink {csa}.outbox"));
    assert!(done[0].starts_with("unlinked ") && done[0].contains(".outbox ->"), "{done:?}");
    let err = c.error(&format!("unlink {csa}.outbox"));
    assert!(err.contains("has no link out"), "{err}");
    let err = c.error("link 12");
    assert_eq!(err, "error: usage: link ID.BOX ID.BOX");
    let err = c.error("spawn Teleporter {}");
    assert!(err.contains("no component named \"Teleporter\"") && err.contains("DataSource"), "{err}");
    let err = c.error(r#"spawn Clock {"interval": 5}"#);
    assert!(err.contains("bad configuration") && err.contains("interval"), "{err}");
    let err = c.error(r#"spawn DataSource {"items": [1]}"#);
    assert!(err.contains("not a string"), "{err}");
    let err = c.error(r#"spawn DataSource {"items": ["x"]} outbox=999999.inbox"#);
    assert!(err.contains("no running component has id 999999"), "{err}");
    assert_eq!(c.error("stats 0"), "error: usage: stats [MS] (MS: milliseconds, 10 to 60000)");
    // Still usable.
    assert!(!ls(&mut c).is_empty());
}

/// With `--console-token`, the first line must be the token: a wrong one is refused and the
/// connection closed; the right one opens the console.
#[test]
fn a_console_token_is_required_when_set() {
    let app = App::start(&["--console-token", "s3cret"]);
    let mut c = Console::connect(app.console);
    assert_eq!(c.answer(), ["axon debug console: send the token first"]);
    assert_eq!(c.cmd("ls"), ["error: wrong token"]);
    assert!(c.closed());

    let mut c = Console::connect(app.console);
    c.answer();
    assert_eq!(c.cmd("s3cret"), ["ok: type help for the commands"]);
    assert!(ls(&mut c).iter().any(|e| e.name.starts_with("Backplane")));
}

/// Once the app's own components have all ended (here shut down from the console), the
/// console and what it spawned stop too, and the process exits.
#[test]
fn the_console_ends_with_the_app() {
    let mut app = App::start(&[]);
    let mut c = app.console();
    assert!(c.cmd(r#"spawn Clock {"interval_ms": 1000}"#)[0].starts_with("spawned "));
    let part = chat_part(&mut c);
    for name in ["ServerCore", "Backplane"] {
        let id = find(&part, name).id;
        assert_eq!(
            c.cmd(&format!("shutdown {id}")),
            [format!("sent shutdownMicroprocess to {id} {name}_{id}.control")]
        );
    }
    assert!(c.closed(), "the console closes its connections as it stops");
    let status =
        app.exited.recv_timeout(LIMIT).unwrap_or_else(|e| panic!("the app did not exit within {LIMIT:?}: {e}"));
    app.ended = true;
    assert_eq!(status.code(), Some(0), "{status}");
}

/// `--console` takes a port, or 127.0.0.1:PORT; any other address is refused.
#[test]
fn the_console_refuses_to_listen_beyond_loopback() {
    let out = Command::new(CHAT).args(["--port", "0", "--console", "0.0.0.0:0"]).output().expect("run chat-server");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the debug console listens on 127.0.0.1 only"), "{err}");
}

/// Every app documents `--console`, `--console-token` and `--introspect`.
#[test]
fn every_app_accepts_the_debug_flags() {
    for exe in [
        env!("CARGO_BIN_EXE_chat-server"),
        env!("CARGO_BIN_EXE_greeter"),
        env!("CARGO_BIN_EXE_logwatch"),
        env!("CARGO_BIN_EXE_chat-client"),
        env!("CARGO_BIN_EXE_axon-visualiser"),
    ] {
        let out = Command::new(exe).arg("--help").output().expect("run --help");
        assert!(out.status.success(), "{exe} --help");
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in ["--console <PORT>", "--console-token <TOKEN>", "--introspect <HOST:PORT>"] {
            assert!(help.contains(flag), "{exe} --help lists {flag}:\n{help}");
        }
    }
}

/// `--introspect HOST:PORT` streams the app's topology to `axon-visualiser`: the chat
/// server's components arrive, and so does a component spawned later from the console.
#[test]
fn introspect_streams_the_topology_to_the_visualiser() {
    let mut vis = Command::new(env!("CARGO_BIN_EXE_axon-visualiser"))
        .args(["--json", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start axon-visualiser");
    let json = lines_of(vis.stdout.take().expect("piped"));
    let banner = lines_of(vis.stderr.take().expect("piped"));
    let line = next_line(&banner, "the visualiser's banner");
    let port = line.rsplit(' ').next().and_then(|p| p.parse::<u16>().ok()).unwrap_or_else(|| panic!("{line:?}"));

    let target = format!("127.0.0.1:{port}");
    let app = App::start(&["--introspect", &target]);
    let until = |needle: &str| loop {
        let line = next_line(&json, &format!("a topology with {needle}"));
        if line.contains(needle) {
            return line;
        }
    };
    let topology = until("\"name\":\"ServerCore_");
    assert!(topology.contains("\"name\":\"Backplane_"), "{topology}");
    assert!(topology.contains("\"name\":\"DebugConsole_"), "{topology}");

    let mut c = app.console();
    let a = c.cmd(r#"spawn PassThrough {}"#);
    let id = a[0].split_whitespace().nth(1).expect("an id").to_string();
    until(&format!("\"name\":\"PassThrough_{id}\""));
    drop(app);
    let _ = vis.kill();
    let _ = vis.wait();
}

/// A visualiser that is not listening yet (issue 16): the app reports it once on stderr,
/// serves on, and keeps trying with backoff until one listens; then the whole topology
/// arrives there.
#[test]
fn an_introspect_target_not_listening_yet_is_tried_again_until_it_listens() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let app = App::start(&["--introspect", &format!("127.0.0.1:{port}")]);
    loop {
        let line = next_line(&app.stderr, "the introspect report");
        if line.starts_with("introspect: ") {
            let want = format!("introspect: cannot stream the topology to 127.0.0.1:{port}: connection refused");
            assert!(line.starts_with(&want) && line.contains("trying again until it listens"), "{line}");
            break;
        }
    }
    let _client = chat_client(app.chat);
    let mut vis = Command::new(env!("CARGO_BIN_EXE_axon-visualiser"))
        .args(["--json", "--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start axon-visualiser");
    let json = lines_of(vis.stdout.take().expect("piped"));
    let _banner = lines_of(vis.stderr.take().expect("piped"));
    let topology = loop {
        let line = next_line(&json, "a topology once the visualiser listens");
        if line.contains("\"name\":\"ServerCore_") {
            break line;
        }
    };
    assert!(topology.contains("\"name\":\"Backplane_"), "{topology}");
    // Reported once, not at every attempt.
    assert!(app.stderr.try_iter().all(|l| !l.starts_with("introspect: ")), "one report only");
    drop(app);
    let _ = vis.kill();
    let _ = vis.wait();
}
