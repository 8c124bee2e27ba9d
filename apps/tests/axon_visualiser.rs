//! The AxonVisualiser end to end: `axon-visualiser --json` prints, line by line, exactly the
//! topology a system streams to it with `Pipeline(Introspector, TcpClient)` (and follows its
//! links and unlinks); several systems are kept apart; `--dot` keeps a file; bad lines are
//! reported and skipped; the window form draws on a display; and the original Python
//! AxonVisualiser (chunks_to_lines, lines_to_tokenlists, TopologyViewer) accepts everything
//! our Introspector sends.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use apps::visualiser::{Output, Visualiser};
use axon_core::{Background, Component, ComponentBuilder, Scheduler, Signal, Snapshot, link, pause, unlink};
use kamaelia_chassis::{Graphline, Pipeline};
use kamaelia_net::TcpClient;
use kamaelia_ui::{NullDisplay, Rgb, Topology};
use kamaelia_util::{Introspector, PureTransformer, split_tokens};

mod tools;

/// How long anything may take before a test fails (generous: debug builds, busy CI).
const LIMIT: Duration = Duration::from_secs(60);

const EXE: &str = env!("CARGO_BIN_EXE_axon-visualiser");

/// A running `axon-visualiser`, its output read line by line on other threads.
struct Vis {
    pid: u32,
    exited: Receiver<ExitStatus>,
    gone: bool,
    port: u16,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Vis {
    /// Starts `axon-visualiser --port 0 <args>`; the banner comes on stderr with `--json`,
    /// else on stdout.
    fn start(args: &[&str]) -> Vis {
        let mut child = Command::new(EXE)
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start axon-visualiser");
        let stdout = lines_of(child.stdout.take().expect("piped"));
        let stderr = lines_of(child.stderr.take().expect("piped"));
        let pid = child.id();
        let (tx, exited) = channel();
        thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        let banner_on = if args.contains(&"--json") { &stderr } else { &stdout };
        let banner = banner_on.recv_timeout(LIMIT).expect("a banner");
        let port = banner
            .strip_prefix("Axon visualiser listening on port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected banner {banner:?}"));
        Vis { pid, exited, gone: false, port, stdout, stderr }
    }

    fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the visualiser")
    }

    /// Reads stdout until a line satisfies `want` (returning it), failing after LIMIT.
    fn json_until(&self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LIMIT;
        let mut last = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) if want(&line) => return line,
                Ok(line) => last = line,
                Err(_) => panic!("no JSON line {what} within {LIMIT:?}; the last was {last}"),
            }
        }
    }

    /// Reads stderr until a line contains `text`.
    fn stderr_until(&self, text: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("no line on stderr containing {text:?} within {LIMIT:?}"),
            }
        }
    }

    /// Ctrl-C, and the exit status (which must come within LIMIT).
    fn interrupt(mut self) -> ExitStatus {
        let ok = Command::new("kill").args(["-INT", &self.pid.to_string()]).status().expect("kill").success();
        assert!(ok, "kill -INT {} failed", self.pid);
        let status = self.exited.recv_timeout(LIMIT).expect("axon-visualiser exits after SIGINT");
        self.gone = true;
        status
    }
}

impl Drop for Vis {
    fn drop(&mut self) {
        if !self.gone && self.exited.try_recv().is_err() {
            let _ = Command::new("kill").args(["-KILL", &self.pid.to_string()]).status();
        }
    }
}

fn lines_of(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The model a visualiser builds from `text` (protocol lines), as system `source`.
fn model_of(text: &str, source: u64) -> Topology {
    let mut topo = Topology::new();
    for line in text.lines() {
        let tokens = split_tokens(line).unwrap_or_else(|e| panic!("{e}"));
        if !tokens.is_empty() {
            topo.apply_tokens(source, &tokens).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    topo
}

/// The JSON a visualiser prints for `snap` streamed as system 1.
fn json_of(snap: &Snapshot) -> String {
    model_of(&snap.to_introspector(), 1).to_json()
}

/// A component with an outbox `outbox` (String), waiting forever.
fn src() -> Component {
    let mut b = ComponentBuilder::new("Src");
    let _out = b.outbox::<String>("outbox");
    let _control = b.control();
    b.run(|_ctx| async {
        loop {
            pause().await;
        }
    })
}

/// A component with an inbox `inbox` (String), waiting forever.
fn sink() -> Component {
    let mut b = ComponentBuilder::new("Sink");
    let _inbox = b.inbox::<String>("inbox");
    b.run(|_ctx| async {
        loop {
            pause().await;
        }
    })
}

/// `Pipeline(Introspector, to bytes, TcpClient)` streaming to `port`.
fn streamer(port: u16) -> Component {
    Pipeline::new([
        Introspector::new().interval(Duration::from_millis(10)).build(),
        PureTransformer::new(|s: String| Some(s.into_bytes())),
        TcpClient::new("127.0.0.1", port).build(),
    ])
    .expect("the streaming pipeline")
}

#[test]
fn json_mode_prints_exactly_the_topology_a_system_streams_and_follows_its_changes() {
    let vis = Vis::start(&["--json"]);
    let (s, k) = (src(), sink());
    let linkage = link((&s, "outbox"), (&k, "inbox")).unwrap();
    let sched = kamaelia_net::scheduler().unwrap();
    sched.activate(&s).unwrap();
    sched.activate(&k).unwrap();
    let stream = streamer(vis.port);
    sched.activate(&stream).unwrap();
    let bg: Background = sched.background();

    // What the system looks like once connected, from its own snapshot, as our model says.
    let link_json = format!(r#"{{"source":1,"from":"({}, 'o', 'outbox')","to":"({}, 'i', 'inbox')"}}"#, s.id(), k.id());
    let line = vis.json_until("equal to the system's snapshot", |l| l == json_of(&bg.snapshot()));
    assert!(line.contains(&link_json), "{line}");
    assert!(line.contains(&format!(r#""id":"{}","name":"{}","type":"component""#, s.id(), s.name())), "{line}");
    assert!(line.contains(r#""name":"Introspector_"#), "the introspector shows itself, as Axon's");

    unlink(&linkage);
    let line = vis.json_until("after the unlink", |l| !l.contains(&link_json) && l == json_of(&bg.snapshot()));
    assert!(line.contains(&format!(r#""id":"{}","#, k.id())), "the sink is still there");

    link((&s, "outbox"), (&k, "inbox")).unwrap();
    vis.json_until("after linking again", |l| l.contains(&link_json) && l == json_of(&bg.snapshot()));

    // The system disconnects: its nodes go.
    stream.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
    vis.json_until("empty after the disconnect", |l| l == r#"{"nodes":[],"links":[]}"#);
    assert!(vis.interrupt().success());
    drop(bg);
}

#[test]
fn systems_are_kept_apart_bad_lines_are_reported_and_dot_keeps_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let dot = dir.path().join("topology.dot");
    let vis = Vis::start(&["--json", "--dot", dot.to_str().unwrap()]);
    let mut expected = Topology::new();
    let mut say = |conn: &mut TcpStream, source: u64, lines: &[&str]| {
        for l in lines {
            conn.write_all(format!("{l}\r\n").as_bytes()).unwrap();
            if let Ok(tokens) = split_tokens(l) {
                let _ = expected.apply_tokens(source, &tokens);
            }
        }
        expected.to_json()
    };
    let mut a = vis.connect();
    let want = say(
        &mut a,
        1,
        &[
            "DEL ALL",
            r#"ADD NODE "5" "A_5" randompos component"#,
            r#"ADD NODE "(5, 'o', 'outbox')" "outbox" randompos outbox"#,
            r#"ADD LINK "5" "(5, 'o', 'outbox')""#,
        ],
    );
    vis.json_until("with system 1", |l| l == want);

    let mut b = vis.connect();
    let want = say(&mut b, 2, &["DEL ALL", r#"ADD NODE "5" "B_5" randompos component"#]);
    vis.json_until("with both systems", |l| l == want);
    assert!(want.contains(r#"{"source":1,"id":"5","name":"A_5","type":"component"}"#));
    assert!(want.contains(r#"{"source":2,"id":"5","name":"B_5","type":"component"}"#));

    // Bad lines are reported with their system and skipped; the good one after them counts.
    let want = say(
        &mut b,
        2,
        &[
            r#"ADD LINK "5" "nowhere""#,
            r#"ADD NODE "6 "unterminated"#,
            "HELLO THERE",
            r#"ADD NODE "6" "B_6" randompos component"#,
        ],
    );
    vis.json_until("with B_6", |l| l == want);
    assert!(vis.stderr_until("system 2: bad command").contains(r#"no node "nowhere""#));
    vis.stderr_until("system 2: text straight after a closing quote");
    assert!(vis.stderr_until("system 2: bad command [\"HELLO\"").contains("unknown command HELLO THERE"));

    // System 2's DEL ALL clears only its own nodes.
    let want = say(&mut b, 2, &["DEL ALL"]);
    vis.json_until("without system 2", |l| l == want);
    assert!(want.contains("A_5") && !want.contains("B_"));
    // The DOT file is written before each JSON line.
    assert_eq!(std::fs::read_to_string(&dot).unwrap(), expected.to_dot());

    drop(a);
    vis.json_until("empty", |l| l == r#"{"nodes":[],"links":[]}"#);
    assert!(vis.interrupt().success());
}

#[test]
fn without_a_display_or_an_output_mode_it_says_what_to_do_and_exits_1() {
    let out = Command::new(EXE).args(["--port", "0"]).env_remove("DISPLAY").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("$DISPLAY is not set") && err.contains("--json"), "{err}");
}

#[test]
fn the_window_form_draws_what_a_system_sends_on_its_display() {
    let sched = kamaelia_net::scheduler().unwrap();
    let null = NullDisplay::new();
    sched.activate(null.component()).unwrap();
    let system = Visualiser::new()
        .port(0)
        .output(Output::Window { size: (400, 300), display: Some(null.display()) })
        .listen()
        .unwrap();
    system.activate(&sched).unwrap();
    let viewer = system
        .display
        .children()
        .into_iter()
        .find(|c| c.name().starts_with("TopologyViewer"))
        .expect("the viewer inside the display graphline");
    let port = system.local_addr.port();
    let top = system.components();
    let bg = sched.background();
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.write_all(b"DEL ALL\nADD NODE \"5\" \"Shown_5\" randompos component\n").unwrap();
    let frame = null.wait_for(&viewer, LIMIT, |s| s.count(s.rect(), Rgb::BLACK) > 0).expect("a frame with the label");
    assert_eq!((frame.width, frame.height), (400, 300));
    for c in &top {
        c.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
    }
    assert!(null.wait_info(&viewer, LIMIT, |i| !i.open), "the viewer gives its surface back");
    assert!(!system.outcome.failed());
    drop(bg);
}

// ---- The original AxonVisualiser accepts what we send ----

/// The test venv's Python, with the original Kamaelia and pygame (`cargo xtask test` makes it).
fn python() -> PathBuf {
    tools::python_with("Kamaelia.Visualisation.PhysicsGraph.lines_to_tokenlists, Axon, pygame")
}

/// A system with a bit of everything: a Pipeline, a Graphline with passthrough boxes, a
/// component whose name has quotes and a backslash, a box whose name has an apostrophe.
fn rich_system() -> (Component, Component, Component) {
    let pipe = Pipeline::new([
        PureTransformer::new(|s: String| Some(s.trim().to_string())),
        PureTransformer::new(|s: String| Some(s.to_uppercase())),
        PureTransformer::new(|s: String| Some(s.len())),
    ])
    .unwrap();
    let graph = Graphline::builder()
        .component("up", PureTransformer::new(|s: String| Some(s.to_uppercase())))
        .component("out", PureTransformer::new(|s: String| Some(s)))
        .link(("self", "inbox"), ("up", "inbox"))
        .link(("up", "outbox"), ("out", "inbox"))
        .link(("out", "outbox"), ("self", "outbox"))
        .build()
        .unwrap();
    let mut b = ComponentBuilder::named(r#"odd "name" \ here"#);
    let _inbox = b.inbox::<String>("it's");
    let _control = b.control();
    let odd = b.run(|_ctx| async {
        loop {
            pause().await;
        }
    });
    (pipe, graph, odd)
}

#[test]
fn the_original_python_axon_visualiser_accepts_everything_our_introspector_sends() {
    let py = python();
    let bg = Scheduler::new().background();
    let (pipe, graph, odd) = rich_system();
    for c in [&pipe, &graph, &odd] {
        bg.activate(c).unwrap();
    }
    let intro = Introspector::new().interval(Duration::from_millis(10)).build();
    let h = bg.handle::<(), String>(&intro).unwrap();
    let mut text = String::new();
    let mut next = || {
        let t = h.get_timeout(LIMIT).expect("the introspector's next message");
        text.push_str(&t);
        t
    };
    assert_eq!(next(), "DEL ALL\n");
    assert!(next().contains("ADD NODE"));
    // A link, an unlink, and a component that comes and goes: diffs with every kind of line.
    let l = link((&graph, "outbox"), (&odd, "it's")).unwrap();
    assert!(next().starts_with("ADD LINK"));
    unlink(&l);
    assert!(next().starts_with("DEL LINK"));
    let mut b = ComponentBuilder::new("Brief");
    let io = b.standard::<(), ()>();
    // Lives until told to stop.
    let brief = b.run(|_ctx| io.serve(|(), _| {}));
    bg.activate(&brief).unwrap();
    assert!(next().contains(&format!("\"{}\"", brief.name())));
    brief.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
    assert!(next().contains("DEL NODE"));
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(text.contains(r#"odd \"name\" \\ here"#), "{text}");

    // What our own visualiser makes of it: the nodes and links the original must end with.
    let model = model_of(&text, 1);
    let dir = tempfile::tempdir().unwrap();
    let (text_path, expected_path) = (dir.path().join("topology.txt"), dir.path().join("expected.tsv"));
    std::fs::write(&text_path, &text).unwrap();
    let mut expected = String::new();
    for (k, _) in model.nodes() {
        expected.push_str(&format!("N\t{}\n", k.id));
    }
    for (a, b) in model.links() {
        expected.push_str(&format!("L\t{}\t{}\n", a.id, b.id));
    }
    std::fs::write(&expected_path, expected).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("check_topology.py");
    let out = Command::new(&py).arg(&script).arg(&text_path).arg(&expected_path).output().expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the original visualiser refused our output:\n{stdout}\n{stderr}");
    let result = stdout.lines().last().unwrap_or_default();
    let commands = text.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(
        result,
        format!(
            r#"RESULT {{"commands": {commands}, "nodes": {}, "links": {}, "problems": 0}}"#,
            model.node_count(),
            model.link_count()
        )
    );
}
