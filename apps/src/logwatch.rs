//! The log watcher (`logwatch`): `tail -F FILE | grep PATTERN` as components, optionally
//! serving the matching lines to TCP clients.
//!
//! ```text
//! Pipeline( Follow(FILE) ─► Grep(PATTERN) ─► [PublishTo("LOGWATCH"), forwarder] ─► Printer )
//!             │ error                              │ (with --serve)                 │ signal
//!             ▼                                    ▼                                ▼
//!         ErrorReporter (stderr)         Backplane("LOGWATCH") ◄── SubscribeTo   Supervisor
//!                                                  per client: SubscribeTo ─► + "\r\n" ─► client
//! ```
//!
//! The [`Supervisor`](Logwatch) reads what comes out of the pipeline's `signal`: it prints
//! Follow's notes (`following FILE from byte N`, truncations) and errors from the others on
//! stderr, and when the pipeline ends (after Ctrl-C has drained it, or because stdout was
//! closed, or because the file cannot be followed) it ends the error reporter, the backplane
//! and the server, and records the exit status.

use std::fmt;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use axon_core::{
    ActivateError, Component, ComponentBuilder, ComponentId, ControlWatch, InboxRef, Next, SchedulerHandle, Signal,
    SignalPolicy, link,
};
use kamaelia_chassis::{Backplane, ChassisError, Graphline, Pipeline, PublishTo, SubscribeTo, SubscriberPolicy};
use kamaelia_file::{Follow, FollowError, Grep, GrepError, OUTPUT_CLOSED, Printer};
use kamaelia_net::{ConnInfo, Listening, ServerCore};
use kamaelia_util::PureTransformer;

/// The name of the backplane matching lines are published on with `--serve`.
pub const BACKPLANE: &str = "LOGWATCH";

/// The exit status for a bad pattern, a file that cannot be followed, or a `--serve` address
/// that cannot be listened on.
pub const EXIT_UNUSABLE: i32 = 2;

/// The exit status when output fails for another reason than a closed reader.
pub const EXIT_FAILED: i32 = 1;

/// How many lines each stage of the pipeline holds at most: a fast file read waits for a
/// slow stdout instead of filling memory.
pub const PIPELINE_BOX: usize = 1024;

/// How many lines wait for one TCP client (its formatter's inbox) before the backplane
/// holds more for it; past [`CLIENT_BUFFER`] more, that client is disconnected, so a client
/// that stops reading never holds up the log or the other clients.
pub const CLIENT_INBOX: usize = 256;

/// See [`CLIENT_INBOX`].
pub const CLIENT_BUFFER: usize = 4096;

/// What `logwatch` is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// The file to follow.
    pub file: PathBuf,
    /// The regular expression to search each line for.
    pub pattern: String,
    /// Print the lines that do not match instead.
    pub invert: bool,
    /// Read the file from its start instead of its end.
    pub from_start: bool,
    /// Also serve the matching lines to TCP clients at this port (0: any free port).
    pub serve: Option<u16>,
    /// The address `serve` listens on ([`DEFAULT_BIND`] unless set otherwise).
    pub bind: IpAddr,
}

/// Where `--serve` listens by default: loopback only, as every server here.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

impl Options {
    /// Follow `file` for lines matching `pattern`, from its end, serving nothing.
    pub fn new(file: impl Into<PathBuf>, pattern: impl Into<String>) -> Self {
        Options {
            file: file.into(),
            pattern: pattern.into(),
            invert: false,
            from_start: false,
            serve: None,
            bind: DEFAULT_BIND,
        }
    }
}

/// Why `logwatch` could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// The pattern does not compile.
    Pattern(GrepError),
    /// The file cannot be followed.
    File(FollowError),
    /// The `--serve` port cannot be listened on.
    Listen {
        /// The address and port asked for.
        addr: SocketAddr,
        /// Why.
        error: io::Error,
    },
    /// The components could not be wired (a bug).
    Wiring(ChassisError),
}

impl SetupError {
    /// The exit status for this error: [`EXIT_UNUSABLE`] for a bad pattern, file or address,
    /// [`EXIT_FAILED`] otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            SetupError::Pattern(_) | SetupError::File(_) | SetupError::Listen { .. } => EXIT_UNUSABLE,
            _ => EXIT_FAILED,
        }
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Pattern(e) => write!(f, "{e}"),
            SetupError::File(e) => write!(f, "{e}"),
            SetupError::Listen { addr, error } => write!(f, "cannot serve on {addr}: {error}"),
            SetupError::Wiring(e) => write!(f, "cannot wire the pipeline: {e}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// A log watcher, built and ready to activate.
pub struct Logwatch {
    /// `Pipeline(Follow, Grep, [PublishTo], Printer)`. Send `ProducerFinished` to its
    /// `control` to drain it and stop (see [`stopper`](Self::stopper)).
    pub pipeline: Component,
    supervisor: Component,
    reporter: Component,
    server: Option<Listening>,
    backplane: Option<Component>,
    exit: Arc<AtomicI32>,
}

impl fmt::Debug for Logwatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logwatch").field("pipeline", &self.pipeline).field("serving", &self.serving()).finish()
    }
}

impl Logwatch {
    /// Checks the pattern and the file, binds the `--serve` port, and builds the system.
    ///
    /// # Errors
    /// A bad pattern, a file that cannot be followed (its directory is missing, it is a
    /// directory, it cannot be read), a port that cannot be listened on.
    pub fn new(opts: &Options) -> Result<Self, SetupError> {
        let grep = Grep::new(&opts.pattern).map_err(SetupError::Pattern)?.invert(opts.invert);
        let follow = Follow::new(&opts.file).from_start(opts.from_start);
        follow.check().map_err(SetupError::File)?;
        let server = match opts.serve {
            Some(port) => Some(
                ServerCore::new(client_protocol)
                    .bind(opts.bind)
                    .port(port)
                    .listen()
                    .map_err(|error| SetupError::Listen { addr: SocketAddr::new(opts.bind, port), error })?,
            ),
            None => None,
        };

        let follow = follow.build();
        let printer = Printer::new().build();
        let (follow_id, printer_id) = (follow.id(), printer.id());
        let mut pipeline = Pipeline::builder().box_size(PIPELINE_BOX).child(follow.clone()).child(grep.build());
        let backplane = server.as_ref().map(|_| Backplane::<String>::new(BACKPLANE));
        if backplane.is_some() {
            pipeline = pipeline.child(PublishTo::<String>::new(BACKPLANE).forwarder(true).build());
        }
        let pipeline = pipeline.child(printer).build().map_err(SetupError::Wiring)?;

        let reporter = error_reporter();
        // Both boxes exist and carry FollowError: cannot fail.
        link((&follow, "error"), (&reporter, "inbox")).expect("Follow's error outbox feeds the reporter");
        let exit = Arc::new(AtomicI32::new(0));
        let mut ends = vec![reporter.clone()];
        ends.extend(backplane.iter().cloned());
        ends.extend(server.iter().map(|s| s.component.clone()));
        let supervisor = supervisor(Watched { pipeline: pipeline.clone(), follow_id, printer_id, ends }, exit.clone());
        link((&pipeline, "signal"), (&supervisor, "control")).expect("the pipeline's signal feeds the supervisor");
        Ok(Logwatch { pipeline, supervisor, reporter, server, backplane, exit })
    }

    /// Where matching lines are served, with `--serve`.
    pub fn serving(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(|s| s.local_addr)
    }

    /// Activates everything on `sched` (the backplane first, so its publisher and
    /// subscribers find it). The scheduler's `run` returns once the watcher has stopped.
    ///
    /// # Errors
    /// If a component cannot be activated.
    pub fn activate(&self, sched: &SchedulerHandle) -> Result<(), ActivateError> {
        if let Some(b) = &self.backplane {
            sched.activate(b)?;
        }
        if let Some(s) = &self.server {
            sched.activate(&s.component)?;
        }
        sched.activate(&self.reporter)?;
        sched.activate(&self.supervisor)?;
        sched.activate(&self.pipeline)
    }

    /// Where to send `ProducerFinished` (drain and stop: what Ctrl-C does) or
    /// `ShutdownMicroprocess` (stop at once).
    pub fn stopper(&self) -> InboxRef<Signal> {
        // The pipeline's control is declared like Follow's: a Signal inbox.
        self.pipeline.inbox_ref("control").expect("a pipeline has a Signal control inbox")
    }

    /// The exit status, once the watcher has stopped: 0 after a clean stop (Ctrl-C, or
    /// stdout closed), [`EXIT_UNUSABLE`] if the file could not be followed, [`EXIT_FAILED`]
    /// if output failed.
    pub fn exit_code(&self) -> i32 {
        self.exit.load(Ordering::SeqCst)
    }
}

/// Writes a line on stderr, ignoring failure: a diagnostic that cannot be shown is lost,
/// but it must not stop the watcher (`eprintln!` would panic).
fn note(text: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "logwatch: {text}");
}

/// The protocol for one TCP client with `--serve`: the lines published on [`BACKPLANE`], each
/// followed by `"\r\n"` (the network line ending, as the chat server and the greeter send). What the client sends is ignored; when it closes its side, or cannot
/// keep up ([`CLIENT_INBOX`] + [`CLIENT_BUFFER`] lines behind), the connection ends.
pub fn client_protocol(_conn: ConnInfo) -> Component {
    // A fixed wiring: a failure is a bug in this function, caught by the --serve test.
    Graphline::builder()
        .component("ignore", PureTransformer::new(|_: Vec<u8>| -> Option<()> { None }))
        .component(
            "subscribe",
            SubscribeTo::<String>::new(BACKPLANE)
                .policy(SubscriberPolicy::Disconnect { buffer: CLIENT_BUFFER })
                .build(),
        )
        .component(
            "format",
            PureTransformer::new(|line: String| -> Option<Vec<u8>> {
                let mut out = line.into_bytes();
                out.extend_from_slice(b"\r\n");
                Some(out)
            }),
        )
        .link(("self", "inbox"), ("ignore", "inbox"))
        .link(("subscribe", "outbox"), ("format", "inbox"))
        .link(("format", "outbox"), ("self", "outbox"))
        .link(("self", "control"), ("ignore", "control"))
        .link(("ignore", "signal"), ("subscribe", "control"))
        .link(("subscribe", "signal"), ("format", "control"))
        .link(("format", "signal"), ("self", "signal"))
        .box_size(("format", "inbox"), CLIENT_INBOX)
        .build()
        .expect("the logwatch client protocol is wired correctly")
}

/// Prints what Follow reports on its `error` outbox on stderr.
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)), with an end hook: after a
/// shutdown too it prints what is still queued (a diagnostic is never dropped).
fn error_reporter() -> Component {
    let mut b = ComponentBuilder::new("ErrorReporter");
    let io = b.standard::<FollowError, ()>();
    b.run(move |_| async move {
        let mut driver = io.driver();
        let end = driver.run(|e, _| note(format_args!("{e}"))).await;
        for e in driver.inbox().drain() {
            note(format_args!("{e}"));
        }
        driver.finish(end).await;
    })
}

/// What the supervisor watches and ends.
struct Watched {
    pipeline: Component,
    follow_id: ComponentId,
    printer_id: ComponentId,
    /// Ended when the pipeline has: the error reporter, the backplane, the server.
    ends: Vec<Component>,
}

/// Reads the pipeline's signals (see the module documentation).
///
/// Shutdown: the standard contract ([`ControlWatch`]), with an end hook: when the pipeline
/// ends it records the exit status and ends the rest (see the module documentation). Policy
/// [`SignalPolicy::Deliver`]: the pipeline's other signals are what it reads; it is their last
/// reader, so they are not passed on.
fn supervisor(w: Watched, exit: Arc<AtomicI32>) -> Component {
    let mut b = ComponentBuilder::new("LogwatchSupervisor");
    let io = b.standard::<(), ()>();
    b.run(move |_| async move {
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        let mut code = 0;
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Other(Signal::Status(s)) => note(format_args!("{s}")),
                Next::Other(Signal::ErrorInformation { caller, message }) => {
                    if caller == Some(w.follow_id) {
                        // Already printed by the error reporter.
                        code = EXIT_UNUSABLE;
                    } else {
                        note(format_args!("{message}"));
                        code = code.max(EXIT_FAILED);
                    }
                }
                Next::End(Signal::ProducerFinished { caller: Some(c), message }) if c == w.printer_id => {
                    // The printer ended by itself: nobody reads stdout any more (as
                    // `tail | head` ends), or it failed (already reported). Stop the rest now.
                    if message.as_deref() != Some(OUTPUT_CLOSED) {
                        code = code.max(EXIT_FAILED);
                    }
                    if let Ok(stop) = w.pipeline.inbox_ref::<Signal>("control") {
                        // Control inboxes are unbounded: this is never refused for room.
                        let _ = stop.try_send(Signal::ShutdownMicroprocess);
                    }
                    break Signal::ShutdownMicroprocess;
                }
                Next::End(s) if s.is_shutdown() => break Signal::ShutdownMicroprocess,
                Next::End(_) => break Signal::producer_finished(),
                Next::Other(_) | Next::Data(()) => {}
            }
        };
        exit.store(code, Ordering::SeqCst);
        for c in &w.ends {
            if let Ok(control) = c.inbox_ref::<Signal>("control") {
                // Control inboxes are unbounded: this is never refused for room.
                let _ = control.try_send(end.clone());
            }
        }
        watch.finish(end).await;
    })
}
