//! The AxonVisualiser (`axon-visualiser`): a TCP server receiving the topology protocol
//! (reference §1.15) from any number of introspecting systems, and showing what they send in
//! a window, or writing it as JSON lines or Graphviz DOT without one.
//!
//! ```text
//!                     per connection (system n)
//! client bytes ─► TopologyReader(n) ─► PublishTo("NODEEVENTS") ─┐
//!                                                              ▼
//!                                                Backplane("NODEEVENTS")
//!                                                              │
//!                           SubscribeTo("NODEEVENTS") ◄────────┘
//!                                       │
//!             ┌─────────────────────────┴───────────────────────────┐
//!  window:    TopologyViewer ─► Watcher (errors to stderr)   headless: TopologyWriter
//!                                                                  (--json lines, --dot FILE)
//! ```
//!
//! Each connection is one system: its node ids are its own (two systems may both have a
//! component `"5"`), its `DEL ALL` clears only its own nodes, and when it disconnects its nodes
//! are removed. Lines that cannot be read and commands that cannot be applied are reported on
//! stderr (`axon-visualiser: system 1: ...`) and skipped; at most [`REPORT_BURST`] such lines
//! per system every [`REPORT_INTERVAL`], the rest counted (`system 1: 12345 more reports not
//! shown in the last 5 s`), so no peer can flood the log.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axon_core::{
    ActivateError, Component, ComponentBuilder, ControlWatch, InboxRef, Next, Scheduler, Signal, SignalPolicy, pause,
    pause_until,
};
use kamaelia_chassis::{Backplane, ChassisError, Graphline, Pipeline, PublishTo, SubscribeTo};
use kamaelia_net::{ConnInfo, ServerCore};
use kamaelia_ui::{Display, SourceId, Topology, TopologyEvent, TopologyMessage, TopologyViewer};
use kamaelia_util::{Introspector, LineFramer, OverlongPolicy, Utf8Policy, decode_line, split_tokens};

/// The default port (the original AxonVisualiser's, 1500).
pub const DEFAULT_PORT: u16 = 1500;

/// The backplane the connections publish to (the original TopologyViewerServer's name).
pub const BACKPLANE: &str = "NODEEVENTS";

/// The longest line a system may send, in bytes; a longer one is reported and skipped.
pub const MAX_TOPOLOGY_LINE: usize = kamaelia_util::DEFAULT_MAX_LINE;

/// The system number `--navelgaze` gives the visualiser's own topology.
pub const SELF_SOURCE: SourceId = 0;

/// How long the [`TopologyWriter`] waits for a burst of commands to end before it writes
/// (so one change, sent as many lines, is written once).
pub const WRITE_QUIET: Duration = Duration::from_millis(20);
/// The longest it holds a write back while commands keep coming.
pub const WRITE_MAX_DELAY: Duration = Duration::from_millis(250);

/// The most report lines shown per system (connection) in each [`REPORT_INTERVAL`]; the
/// others are counted and the count shown at the interval's end.
pub const REPORT_BURST: u32 = 5;

/// How often the count of report lines not shown is given, per system.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// The events of one line: its command's tokens (nothing for a blank line), or why it could
/// not be read.
fn line_event(frame: Result<Vec<u8>, kamaelia_util::FramingError>) -> Option<TopologyEvent> {
    let text = match frame.and_then(|line| decode_line(line, Utf8Policy::Report)) {
        Ok(text) => text,
        Err(e) => return Some(TopologyEvent::Error(e.to_string())),
    };
    match split_tokens(&text) {
        Ok(tokens) if tokens.is_empty() => None,
        Ok(tokens) => Some(TopologyEvent::Command(tokens)),
        Err(e) => Some(TopologyEvent::Error(e.to_string())),
    }
}

/// Reads one system's topology stream: Kamaelia's `chunks_to_lines` and
/// `lines_to_tokenlists` in one component ([`LineFramer`] and [`split_tokens`], the same
/// framing and tokenising), tagging each line with the system's number.
///
/// Boxes:
/// - `inbox: Vec<u8>`: the bytes the system sends.
/// - `control: Signal`: shutdown signalling (ServerCore sends `ProducerFinished` when the
///   system closes the connection).
/// - `outbox: Vec<u8>`: unused (the visualiser never answers).
/// - `signal: Signal`: signals passed on; the signal that ended it.
/// - `topology: TopologyMessage`: each line's command (as tokens) or why it could not be read
///   (not UTF-8, longer than [`MAX_TOPOLOGY_LINE`], an unterminated quote ...); and, when the
///   connection closes, [`TopologyEvent::Closed`].
///
/// Shutdown: the standard contract ([`ControlWatch`]), with an end hook: on
/// `ProducerFinished` it reads what it holds (a last line without a newline included), then
/// sends `Closed`.
#[derive(Debug)]
pub struct TopologyReader;

impl TopologyReader {
    /// A reader for system `source`.
    #[allow(clippy::new_ret_no_self, reason = "components are ordinary Components")]
    pub fn new(source: SourceId) -> Component {
        let mut b = ComponentBuilder::new("TopologyReader");
        let io = b.standard::<Vec<u8>, Vec<u8>>();
        let topology = b.outbox::<TopologyMessage>("topology");
        b.run(move |_ctx| async move {
            let mut framer = LineFramer::with_limit(MAX_TOPOLOGY_LINE, OverlongPolicy::Refuse);
            let mut watch = ControlWatch::new(io.control, io.signal);
            let end = 'run: loop {
                let finished = match watch.next(&io.inbox).await {
                    Next::Data(bytes) => {
                        framer.push(&bytes);
                        None
                    }
                    // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                    Next::Other(_) => None,
                    Next::End(s) if s.is_producer_finished() => {
                        framer.finish();
                        Some(s)
                    }
                    Next::End(s) => break s,
                };
                while let Some(frame) = framer.next_frame() {
                    if let Some(event) = line_event(frame) {
                        if let Err(i) = watch.send(&topology, TopologyMessage { source, event }).await {
                            break 'run i.signal;
                        }
                    }
                }
                if let Some(s) = finished {
                    let closed = TopologyMessage { source, event: TopologyEvent::Closed };
                    if let Err(i) = watch.send(&topology, closed).await {
                        break i.signal;
                    }
                    break s;
                }
            };
            watch.finish(end).await;
        })
    }
}

/// The protocol for one connection: a [`Graphline`] of a [`TopologyReader`] for system
/// `source` and a [`PublishTo`] the backplane `backplane`. Signals run graphline `control` ->
/// reader -> publisher -> graphline `signal` (so the connection closes when the reader ends).
pub fn connection(backplane: &str, source: SourceId) -> Component {
    // The wiring is fixed: a failure is a bug here, caught by every visualiser test.
    build_connection(backplane, source).expect("the visualiser's connection graphline is wired correctly")
}

fn build_connection(backplane: &str, source: SourceId) -> Result<Component, ChassisError> {
    Graphline::builder()
        .component("read", TopologyReader::new(source))
        .component("publish", PublishTo::<TopologyMessage>::new(backplane).build())
        .link(("self", "inbox"), ("read", "inbox"))
        .link(("read", "outbox"), ("self", "outbox"))
        .link(("read", "topology"), ("publish", "inbox"))
        .link(("self", "control"), ("read", "control"))
        .link(("read", "signal"), ("publish", "control"))
        .link(("publish", "signal"), ("self", "signal"))
        .build()
}

/// Where a [`TopologyWriter`] writes.
pub type SharedWriter = Arc<Mutex<dyn Write + Send>>;

/// Writes the topology that arrives without a display: as one JSON line per change
/// ([`Topology::to_json`]) to a writer (stdout in the app), and/or as a Graphviz DOT file
/// ([`Topology::to_dot`]) rewritten on each change (written to `FILE.tmp`, then renamed over
/// `FILE`, so a reader never sees half a graph).
///
/// A change is written once the commands stop coming for [`WRITE_QUIET`] (or after
/// [`WRITE_MAX_DELAY`] at most), so a burst of commands (one system's new component, its
/// boxes and links) is written once.
///
/// Boxes:
/// - `inbox: TopologyMessage`: what the systems send.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: String`: one line (no newline) for each line that could not be read, command
///   that could not be applied or file that could not be written, naming the system:
///   `system 1: bad command ...`.
/// - `signal: Signal`: signals passed on; the signal that ended it.
///
/// Shutdown: the standard contract ([`ControlWatch`]), with an end hook: on
/// `ProducerFinished` it applies what is queued and writes. If the JSON writer fails (stdout
/// closed) it sends `ErrorInformation` and `ShutdownMicroprocess` and stops.
#[derive(Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TopologyWriter {
    json: Option<SharedWriter>,
    dot: Option<PathBuf>,
}

impl std::fmt::Debug for TopologyWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopologyWriter").field("json", &self.json.is_some()).field("dot", &self.dot).finish()
    }
}

impl TopologyWriter {
    /// A writer that writes nothing until told where.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes JSON lines to `out`.
    pub fn json(mut self, out: SharedWriter) -> Self {
        self.json = Some(out);
        self
    }

    /// Rewrites `path` as DOT on each change.
    pub fn dot(mut self, path: impl Into<PathBuf>) -> Self {
        self.dot = Some(path.into());
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let TopologyWriter { json, dot } = self;
        let mut b = ComponentBuilder::new("TopologyWriter");
        let io = b.standard::<TopologyMessage, String>();
        b.run(move |ctx| async move {
            let mut topo = Topology::new();
            let mut watch = ControlWatch::new(io.control, io.signal);
            let mut written = topo.generation();
            let mut burst_start: Option<Instant> = None;
            let end = 'run: loop {
                let mut reports = Vec::new();
                let mut finished = None;
                while let Some(next) = watch.try_next(&io.inbox) {
                    match next {
                        Next::Data(m) => {
                            burst_start.get_or_insert_with(Instant::now);
                            if let Some(r) = apply(&mut topo, m) {
                                reports.push(r);
                            }
                        }
                        // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                        Next::Other(_) => {}
                        Next::End(s) if s.is_producer_finished() => {
                            finished = Some(s);
                            break;
                        }
                        Next::End(s) => break 'run s,
                    }
                }
                for r in reports {
                    if let Err(i) = watch.send(&io.outbox, r).await {
                        break 'run i.signal;
                    }
                }
                let due = burst_start.map(|t| t + WRITE_MAX_DELAY);
                let quiet = Instant::now() + WRITE_QUIET;
                let write_now = finished.is_some() || due.is_some_and(|d| Instant::now() >= d);
                if burst_start.is_some() && !write_now {
                    // Wait for the burst to end: woken early by more commands.
                    let woken = pause_until(due.map_or(quiet, |d| d.min(quiet))).await;
                    if woken {
                        continue;
                    }
                }
                burst_start = None;
                if topo.generation() != written {
                    written = topo.generation();
                    // The DOT file first: once the JSON line is out, the file is in place.
                    if let Some(path) = &dot {
                        if let Err(e) = write_atomically(path, topo.to_dot().as_bytes()) {
                            let report = format!("cannot write {}: {e}", path.display());
                            if let Err(i) = watch.send(&io.outbox, report).await {
                                break 'run i.signal;
                            }
                        }
                    }
                    if let Some(out) = &json {
                        let written = {
                            let mut w = out.lock().unwrap_or_else(PoisonError::into_inner);
                            writeln!(w, "{}", topo.to_json()).and_then(|()| w.flush())
                        };
                        if let Err(e) = written {
                            let message = format!("cannot write the topology as JSON: {e}");
                            watch.emit(Signal::ErrorInformation { caller: Some(ctx.id()), message }).await;
                            break 'run Signal::ShutdownMicroprocess;
                        }
                    }
                }
                if let Some(s) = finished {
                    break s;
                }
                // A delivery since the drain above has already woken us: no wait then.
                pause().await;
            };
            watch.finish(end).await;
        })
    }
}

/// Applies one message to `topo`; a report line if something was wrong.
fn apply(topo: &mut Topology, m: TopologyMessage) -> Option<String> {
    let TopologyMessage { source, event } = m;
    match event {
        TopologyEvent::Command(tokens) => {
            topo.apply_tokens(source, &tokens).err().map(|e| format!("system {source}: {e}"))
        }
        TopologyEvent::Error(e) => Some(format!("system {source}: {e}")),
        TopologyEvent::Closed => {
            topo.remove_source(source);
            None
        }
    }
}

/// Writes `bytes` to `path.tmp`, then renames it over `path`.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

/// What the visualiser's display (window or writer) reported, for `main`'s exit status.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    failed: Arc<AtomicBool>,
}

impl Outcome {
    /// True if the window could not be shown or the output could not be written.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    fn fail(&self) {
        self.failed.store(true, Ordering::SeqCst);
    }
}

/// Rate-limits report lines per system: [`REPORT_BURST`] shown per [`REPORT_INTERVAL`], the
/// rest counted. A line's system is its `system N:` prefix (what the viewer and the writer
/// put on every line about a system); other lines share one allowance of their own.
#[derive(Default)]
struct ReportLimit {
    windows: HashMap<String, Window>,
}

/// One system's current interval.
struct Window {
    start: Instant,
    shown: u32,
    held: u64,
}

impl ReportLimit {
    /// Whether to show `line` now (else it is counted).
    fn admit(&mut self, line: &str, now: Instant, out: &mut Vec<String>) -> bool {
        let key = line.strip_prefix("system ").and_then(|rest| rest.split_once(':')).map_or("", |(n, _)| n);
        let w = self.windows.entry(key.to_string()).or_insert(Window { start: now, shown: 0, held: 0 });
        if now.duration_since(w.start) >= REPORT_INTERVAL {
            out.extend(Self::count_line(key, w));
            *w = Window { start: now, shown: 0, held: 0 };
        }
        if w.shown < REPORT_BURST {
            w.shown += 1;
            true
        } else {
            w.held += 1;
            false
        }
    }

    /// The counts of the intervals that have ended (all of them with `all`), as lines; the
    /// intervals of systems gone quiet are forgotten.
    fn flush(&mut self, now: Instant, all: bool, out: &mut Vec<String>) {
        self.windows.retain(|key, w| {
            let over = now.duration_since(w.start) >= REPORT_INTERVAL;
            if over || all {
                out.extend(Self::count_line(key, w));
                w.held = 0;
            }
            !over
        });
    }

    /// When the next count is due: the earliest end of an interval with lines held.
    fn next_due(&self) -> Option<Instant> {
        self.windows.values().filter(|w| w.held > 0).map(|w| w.start + REPORT_INTERVAL).min()
    }

    fn count_line(key: &str, w: &Window) -> Option<String> {
        (w.held > 0).then(|| {
            let who = if key.is_empty() { String::new() } else { format!("system {key}: ") };
            let secs = REPORT_INTERVAL.as_secs();
            format!("{who}{} more reports not shown in the last {secs} s (at most {REPORT_BURST} shown)", w.held)
        })
    }
}

/// One line on stderr, a closed stderr ignored (a report must not end the visualiser).
fn report(line: &str) {
    crate::shutdown::say(format_args!("axon-visualiser: {line}"));
}

/// Reports what the display part says and ends the visualiser when it ends: each line on
/// `inbox` (the viewer's or writer's reports) is printed on stderr as
/// `axon-visualiser: <line>`, rate-limited per system ([`REPORT_BURST`] lines per
/// [`REPORT_INTERVAL`], then a count); an `ErrorInformation` on `control` (the display
/// part's `signal`) is printed and recorded in the [`Outcome`].
///
/// Shutdown: the standard contract ([`ControlWatch`]), with an end hook: it prints what is
/// still queued (after a shutdown too: a report is never dropped, only counted) and the
/// counts held, and sends `ShutdownMicroprocess` to each of `stop` (the server, the backplane
/// and the navel-gazing pipeline). Policy [`SignalPolicy::Deliver`]: it reads the other
/// signals (for `ErrorInformation`), then passes each on.
fn watcher(outcome: Outcome, stop: Vec<InboxRef<Signal>>) -> Component {
    let mut b = ComponentBuilder::new("VisualiserWatcher");
    let io = b.standard::<String, ()>();
    b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        let mut limit = ReportLimit::default();
        let mut lines = Vec::new();
        let end = 'run: loop {
            while let Some(next) = watch.try_next(&io.inbox) {
                match next {
                    Next::Data(line) => {
                        if limit.admit(&line, Instant::now(), &mut lines) {
                            lines.push(line);
                        }
                    }
                    Next::Other(s) => {
                        if let Signal::ErrorInformation { message, .. } = &s {
                            lines.push(message.clone());
                            outcome.fail();
                        }
                        watch.emit(s).await;
                    }
                    Next::End(s) => break 'run s,
                }
                for line in lines.drain(..) {
                    report(&line);
                }
            }
            limit.flush(Instant::now(), false, &mut lines);
            for line in lines.drain(..) {
                report(&line);
            }
            match limit.next_due() {
                Some(due) => {
                    pause_until(due).await;
                }
                None => pause().await,
            }
        };
        let now = Instant::now();
        for line in io.inbox.drain() {
            if limit.admit(&line, now, &mut lines) {
                lines.push(line);
            }
        }
        limit.flush(now, true, &mut lines);
        for line in lines.drain(..) {
            report(&line);
        }
        for control in stop {
            // Control inboxes are unbounded: this is never refused for room.
            let _ = control.try_send(Signal::ShutdownMicroprocess);
        }
        watch.finish(end).await;
    })
}

/// How the visualiser shows what it receives.
#[derive(Clone)]
pub enum Output {
    /// In a window (a [`TopologyViewer`] of this size), on this display or the scheduler's.
    Window {
        /// Width and height.
        size: (usize, usize),
        /// The display service (default: the scheduler's, see [`Display::of`]).
        display: Option<Display>,
    },
    /// Without a display: JSON lines to a writer, and/or a DOT file.
    Headless {
        /// Where JSON lines go.
        json: Option<SharedWriter>,
        /// The DOT file rewritten on each change.
        dot: Option<PathBuf>,
    },
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Window { size, .. } => f.debug_struct("Window").field("size", size).finish_non_exhaustive(),
            Output::Headless { json, dot } => {
                f.debug_struct("Headless").field("json", &json.is_some()).field("dot", dot).finish()
            }
        }
    }
}

/// Builds a visualiser: `Visualiser::new().port(0).output(...).listen()?`.
///
/// Defaults: 127.0.0.1, port [`DEFAULT_PORT`], a window of 1024×768, no navel-gazing.
#[derive(Debug)]
#[must_use = "a builder does nothing until `listen` is called"]
pub struct Visualiser {
    bind: IpAddr,
    port: u16,
    output: Output,
    navelgaze: bool,
}

impl Default for Visualiser {
    fn default() -> Self {
        Self::new()
    }
}

impl Visualiser {
    /// A visualiser with the defaults.
    pub fn new() -> Self {
        Visualiser {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            output: Output::Window { size: (1024, 768), display: None },
            navelgaze: false,
        }
    }

    /// The address to listen on.
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }

    /// The port (0: any free one; see [`VisualiserSystem::local_addr`]).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How it shows what it receives.
    pub fn output(mut self, output: Output) -> Self {
        self.output = output;
        self
    }

    /// Also shows its own topology, as system [`SELF_SOURCE`] (the original's `--navelgaze`).
    pub fn navelgaze(mut self, yes: bool) -> Self {
        self.navelgaze = yes;
        self
    }

    /// Binds the port and builds the system, ready to activate.
    ///
    /// # Errors
    /// The port cannot be listened on, or (a bug) a chassis cannot be wired.
    pub fn listen(self) -> anyhow::Result<VisualiserSystem> {
        let next_source = AtomicU64::new(SELF_SOURCE + 1);
        let listening =
            ServerCore::new(move |_conn: ConnInfo| connection(BACKPLANE, next_source.fetch_add(1, Ordering::Relaxed)))
                .bind(self.bind)
                .port(self.port)
                .listen()?;
        let backplane = Backplane::<TopologyMessage>::with_capacity(BACKPLANE, None);
        let outcome = Outcome::default();
        let shown = match self.output {
            Output::Window { size, display } => {
                let mut viewer = TopologyViewer::builder().size(size.0, size.1);
                if let Some(d) = display {
                    viewer = viewer.display(d);
                }
                viewer.build()
            }
            Output::Headless { json, dot } => {
                let mut writer = TopologyWriter::new();
                if let Some(j) = json {
                    writer = writer.json(j);
                }
                if let Some(d) = dot {
                    writer = writer.dot(d);
                }
                writer.build()
            }
        };
        let subscribe = SubscribeTo::<TopologyMessage>::new(BACKPLANE).build();
        let display = Graphline::builder()
            .component("subscribe", subscribe)
            .component("show", shown)
            .link(("subscribe", "outbox"), ("show", "inbox"))
            .link(("subscribe", "signal"), ("show", "control"))
            .link(("show", "outbox"), ("self", "outbox"))
            .link(("show", "signal"), ("self", "signal"))
            .build()?;
        let navel = if self.navelgaze {
            Some(Pipeline::new([
                Introspector::new().build(),
                tagger(SELF_SOURCE),
                PublishTo::<TopologyMessage>::new(BACKPLANE).build(),
            ])?)
        } else {
            None
        };
        let mut stop =
            vec![listening.component.inbox_ref::<Signal>("control")?, backplane.inbox_ref::<Signal>("control")?];
        if let Some(n) = &navel {
            stop.push(n.inbox_ref::<Signal>("control")?);
        }
        let watch = watcher(outcome.clone(), stop);
        axon_core::link((&display, "outbox"), (&watch, "inbox"))?;
        axon_core::link((&display, "signal"), (&watch, "control"))?;
        Ok(VisualiserSystem {
            backplane,
            server: listening.component,
            display,
            watcher: watch,
            navel,
            local_addr: listening.local_addr,
            outcome,
        })
    }
}

/// Turns an Introspector's text into [`TopologyMessage`]s of system `source` (the reader's
/// framing, for a stream that is already text).
///
/// Shutdown: the standard contract ([`ControlWatch`]).
fn tagger(source: SourceId) -> Component {
    let mut b = ComponentBuilder::new("TopologyTagger");
    let io = b.standard::<String, TopologyMessage>();
    b.run(move |_ctx| async move {
        let mut framer = LineFramer::with_limit(MAX_TOPOLOGY_LINE, OverlongPolicy::Refuse);
        let mut watch = ControlWatch::new(io.control, io.signal);
        let end = 'run: loop {
            match watch.next(&io.inbox).await {
                Next::Data(text) => framer.push(text.as_bytes()),
                // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                Next::Other(_) => continue,
                Next::End(s) => break s,
            }
            while let Some(frame) = framer.next_frame() {
                if let Some(event) = line_event(frame) {
                    if let Err(i) = watch.send(&io.outbox, TopologyMessage { source, event }).await {
                        break 'run i.signal;
                    }
                }
            }
        };
        watch.finish(end).await;
    })
}

/// A visualiser's top-level components.
#[derive(Debug)]
pub struct VisualiserSystem {
    /// The Backplane `NODEEVENTS`.
    pub backplane: Component,
    /// The ServerCore.
    pub server: Component,
    /// The display part: a Graphline of a SubscribeTo and the viewer or writer.
    pub display: Component,
    /// Reports the display part's errors and ends the rest when it ends.
    pub watcher: Component,
    /// With `navelgaze`: Pipeline(Introspector, tagger, PublishTo).
    pub navel: Option<Component>,
    /// Where it listens.
    pub local_addr: SocketAddr,
    /// Whether the display part failed.
    pub outcome: Outcome,
}

impl VisualiserSystem {
    /// Activates everything, the backplane first (its publishers and subscribers look it up).
    ///
    /// # Errors
    /// A component cannot be activated (the backplane's name is taken on this scheduler, say).
    pub fn activate(&self, sched: &Scheduler) -> Result<(), ActivateError> {
        sched.activate(&self.backplane)?;
        sched.activate(&self.server)?;
        sched.activate(&self.display)?;
        sched.activate(&self.watcher)?;
        if let Some(n) = &self.navel {
            sched.activate(n)?;
        }
        Ok(())
    }

    /// The top-level components, in the order to shut them down.
    pub fn components(&self) -> Vec<Component> {
        let mut v = vec![self.server.clone()];
        v.extend(self.navel.clone());
        v.extend([self.backplane.clone(), self.display.clone()]);
        v
    }
}
