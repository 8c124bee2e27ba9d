//! The debug console: a command language over a live system, served on 127.0.0.1 (the
//! seeds' "interpreter embedded in a running system"; Rust has no REPL to embed).
//!
//! `DebugConsole::new(port).token(..).listen()?` gives a component to activate next to an
//! app's own. Connect with `nc 127.0.0.1 PORT` (or telnet). The protocol is line-based:
//!
//! - On connecting, the console greets: one line, then an empty line. If a token is set, the
//!   first line you send must be the token, within [`AUTH_TIMEOUT`] (5 s) of connecting: the
//!   answer is `ok` (then an empty line), or `error: wrong token` (or `error: no token within
//!   5 s`) and the connection is closed.
//! - At most [`MAX_SESSIONS`] sessions at once: a connection counts as one once it has sent
//!   the token (at once when there is no token). One more is answered `error: the debug
//!   console has 8 sessions already` and closed. Connections that have not sent the token yet
//!   do not count, so idle connections cannot lock the operator out: each is closed after
//!   [`AUTH_TIMEOUT`], and at most [`MAX_UNAUTHENTICATED`] wait at once (one more is told so
//!   and closed).
//! - Each command is one line (LF or CRLF; at most [`MAX_COMMAND`] bytes; the text is read as
//!   UTF-8, invalid bytes replaced). Every answer is one or more non-empty lines followed
//!   by one empty line, so a client reads until the empty line. An error answer is one line
//!   starting `error: `. An empty command line gets no answer. `quit` answers `bye` and
//!   closes the connection.
//!
//! Commands (`help` lists them with the message types `send` can make and the components
//! `spawn` knows): `ls`, `show ID`, `links`, `send ID BOX JSON`, `link ID.BOX ID.BOX`,
//! `unlink ID.BOX`, `wake ID`, `pause ID`, `shutdown ID`, `spawn NAME [{JSON}] [BOX=ID.BOX
//! ...]`, `stats [MS]`, `dot`, `help`, `quit`. `ID` is a component's number (as `ls` shows
//! it), its exact name, or a prefix of its name that only one component has.
//!
//! What it can and cannot do, and why:
//! - `send` never waits: into a full inbox it is an error. It makes messages for inboxes of
//!   the types listed in [`send::SENDABLE`]; for any other type it names the inbox's type.
//! - `unlink` removes links made from the console (by `link` or `spawn`) only: axon-core
//!   removes a link through the [`Linkage`](axon_core::Linkage) its maker holds, and the
//!   console does not hold the chassis's.
//! - `pause` is not supported: an Axon component pauses itself (its body waits for its
//!   inboxes); the console can `wake` one, or `shutdown` one (`shutdownMicroprocess` into
//!   its `control`).
//! - Spawned components become children of the console's own component, so `ls` shows
//!   them under it, and shutting the console down shuts them down too.
//! - `stats` counts messages stored into each box's own queue: a linked outbox forwards
//!   straight to its final destination, so traffic shows on inboxes (and unlinked outboxes).

mod commands;
pub mod registry;
pub mod send;

use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axon_core::{
    Component, ComponentBuilder, ComponentId, ControlWatch, Inbox, Next, Outbox, SchedulerHandle, Signal,
    StandardBoxes, pause, pause_until,
};
use kamaelia_net::{ConnInfo, ServerCore, SlowClientPolicy};
use kamaelia_util::{LineFramer, OverlongPolicy};

pub use commands::{STATS_DEFAULT, STATS_RANGE_MS};
pub use registry::Registry;

use commands::{Shared, Step};

/// The longest command line, in bytes (a longer one is refused with an error answer).
pub const MAX_COMMAND: usize = 1 << 20;

/// How many console sessions (connections that have sent the token, or any connection
/// when there is no token) may be open at once.
pub const MAX_SESSIONS: usize = 8;

/// How many connections may wait to send the token at once, besides the sessions.
pub const MAX_UNAUTHENTICATED: usize = 64;

/// How long a connection has to send the token (when one is set) before it is closed.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(5);

/// The warning printed on stderr when a console starts listening on `addr`.
pub fn warning(addr: SocketAddr, token: bool) -> String {
    format!(
        "warning: the debug console can inspect and change the running system: bound to {addr} ({})",
        if token {
            "a token is required"
        } else {
            "no token: anyone who can connect to this port on this machine can use it"
        }
    )
}

/// Builds a debug console: `DebugConsole::new(port).token("s3cret").listen()?`.
///
/// It always listens on 127.0.0.1 (there is no option to bind elsewhere: the console can
/// change the running system). Port 0 picks a free port ([`ConsoleServer::local_addr`]).
#[must_use = "a builder does nothing until `listen` is called"]
#[derive(Debug)]
pub struct DebugConsole {
    port: u16,
    token: Option<String>,
    registry: Registry,
    auth_timeout: Duration,
}

impl DebugConsole {
    /// A console on 127.0.0.1:`port`, with no token and the standard spawn registry.
    pub fn new(port: u16) -> Self {
        DebugConsole { port, token: None, registry: Registry::standard(), auth_timeout: AUTH_TIMEOUT }
    }

    /// How long a connection has to send the token before it is closed (default
    /// [`AUTH_TIMEOUT`]).
    pub fn auth_timeout(mut self, timeout: Duration) -> Self {
        self.auth_timeout = timeout;
        self
    }

    /// Requires `token` as the first line of every connection (`None`: no token).
    pub fn token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    /// The components `spawn` can make (default [`Registry::standard`]).
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Binds 127.0.0.1:port and returns the console, ready to activate.
    ///
    /// # Errors
    /// If the port cannot be listened on, or the token is empty or holds a line break.
    pub fn listen(self) -> io::Result<ConsoleServer> {
        if let Some(t) = &self.token {
            if t.trim().is_empty() || t.contains(['\n', '\r']) || t.trim() != t {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the console token must be non-empty, on one line, without surrounding spaces",
                ));
            }
        }
        let mut b = ComponentBuilder::new("DebugConsole");
        let io = b.standard::<(), ()>();
        let shared = commands::shared(self.registry, b.ctx(), self.token);
        let has_token = shared.token.is_some();
        let factory_shared = shared.clone();
        let seats = Seats::default();
        let auth_timeout = self.auth_timeout;
        let listening = ServerCore::new(move |conn: ConnInfo| {
            session(factory_shared.clone(), seats.clone(), auth_timeout, conn)
        })
        .bind(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .port(self.port)
        // Sessions are counted by the sessions themselves (only once authorised); this only
        // bounds the connections waiting to send the token.
        .max_connections(
            MAX_SESSIONS + MAX_UNAUTHENTICATED,
            format!("error: the debug console has {MAX_UNAUTHENTICATED} connections waiting for the token already\n\n"),
        )
        .slow_client(SlowClientPolicy::Wait)
        .listen()?;
        let local_addr = listening.local_addr;
        b.on_activate(move |_| {
            let _ = writeln!(io::stderr().lock(), "{}", warning(local_addr, has_token));
            Ok(())
        });
        let component = root(b, io, listening.component);
        drop(shared);
        Ok(ConsoleServer { component, local_addr })
    }
}

/// A debug console, listening.
#[derive(Debug)]
pub struct ConsoleServer {
    /// The console's component (activate it): `DebugConsole`, the parent of its ServerCore
    /// and of everything spawned from the console.
    ///
    /// Boxes: `control: Signal`; `signal: Signal`; `inbox`/`outbox: ()` unused.
    ///
    /// Shutdown: the standard contract ([`ControlWatch`]), with an end hook: a terminal
    /// signal (`ProducerFinished` too: it has nothing to drain) shuts down the server, every
    /// open session and every component spawned from the console, and once they have all
    /// ended it is passed on. It also ends so (passing on `ShutdownMicroprocess`) if its
    /// server ends by itself.
    pub component: Component,
    /// Where it listens (always 127.0.0.1).
    pub local_addr: SocketAddr,
}

fn root(b: ComponentBuilder, io: StandardBoxes<(), ()>, server: Component) -> Component {
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        if let Err(e) = ctx.spawn(&server) {
            watch.emit(Signal::ErrorInformation { caller: Some(ctx.id()), message: e.to_string() }).await;
            return watch.finish(Signal::ShutdownMicroprocess).await;
        }
        let mut stopping: Option<Signal> = None;
        // Children already told to stop (a session may spawn one while the console stops).
        let mut told = std::collections::HashSet::new();
        loop {
            // It has nothing to drain: `ProducerFinished` stops it as a shutdown does.
            let end = watch.check().or_else(|| watch.take_finished());
            if stopping.is_none() {
                stopping = end.or_else(|| server.is_finished().then_some(Signal::ShutdownMicroprocess));
            }
            if stopping.is_some() {
                for child in ctx.children().into_iter().filter(|c| told.insert(c.id())) {
                    if let Ok(control) = child.inbox_ref::<Signal>("control") {
                        // Control inboxes are unbounded; a full one has been told already.
                        let _ = control.try_send(Signal::ShutdownMicroprocess);
                    }
                }
            }
            // Forgets finished children (spawned ones that ended) every turn.
            let done = ctx.children_done();
            if let Some(end) = stopping.take_if(|_| done) {
                return watch.finish(end).await;
            }
            pause().await;
        }
    })
}

/// Compares in time independent of where the first difference is.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An answer as it goes on the wire: its lines (an empty one written as a single space, so
/// only the terminator is empty), then an empty line.
fn wire(answer: &Result<String, String>) -> Vec<u8> {
    let mut out = String::new();
    match answer {
        Ok(text) => {
            for line in text.lines() {
                out.push_str(if line.is_empty() { " " } else { line });
                out.push('\n');
            }
        }
        Err(e) => {
            out.push_str("error: ");
            out.push_str(&e.replace(['\n', '\r'], " "));
            out.push('\n');
        }
    }
    out.push('\n');
    out.into_bytes()
}

/// The session count, shared by a console's sessions: a session takes a [`Seat`] once
/// authorised and gives it back when it ends (however it ends: `Seat` gives back on drop).
#[derive(Clone, Default)]
struct Seats(Arc<AtomicUsize>);

impl Seats {
    /// A seat, unless [`MAX_SESSIONS`] are taken.
    fn take(&self) -> Option<Seat> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX_SESSIONS).then_some(n + 1))
            .ok()
            .map(|_| Seat(self.0.clone()))
    }
}

/// One of the [`MAX_SESSIONS`] sessions, held while the session runs.
struct Seat(Arc<AtomicUsize>);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The answer to a session beyond [`MAX_SESSIONS`].
fn full() -> String {
    format!("the debug console has {MAX_SESSIONS} sessions already")
}

/// What to do after a line.
enum Flow {
    Go,
    /// Close the connection (quit, wrong token).
    Close,
}

struct Session {
    shared: Arc<Shared>,
    sched: SchedulerHandle,
    watch: ControlWatch,
    outbox: Outbox<Vec<u8>>,
    authorised: bool,
    seats: Seats,
    /// Held once authorised.
    seat: Option<Seat>,
    /// The connection must send the token by then.
    auth_deadline: Instant,
    auth_timeout: Duration,
}

impl Session {
    /// Sends an answer; `Err` is a shutdown that came while the client was not reading.
    async fn answer(&mut self, answer: Result<String, String>) -> Result<(), Signal> {
        Ok(self.watch.send(&self.outbox, wire(&answer)).await?)
    }

    /// Answers one line; `Err` is the signal that ends the session.
    async fn line(&mut self, frame: Result<Vec<u8>, kamaelia_util::FramingError>) -> Result<Flow, Signal> {
        let line = match frame {
            Ok(l) => String::from_utf8_lossy(&l).into_owned(),
            Err(e) => {
                self.answer(Err(e.to_string())).await?;
                return Ok(if self.authorised { Flow::Go } else { Flow::Close });
            }
        };
        if !self.authorised {
            let ok = self.shared.token.as_deref().is_some_and(|t| same(line.trim(), t));
            if ok {
                let Some(seat) = self.seats.take() else {
                    self.answer(Err(full())).await?;
                    return Ok(Flow::Close);
                };
                self.seat = Some(seat);
                self.authorised = true;
                self.answer(Ok("ok: type help for the commands".into())).await?;
                return Ok(Flow::Go);
            }
            self.answer(Err("wrong token".into())).await?;
            return Ok(Flow::Close);
        }
        match commands::execute(&self.shared, &self.sched, &line) {
            Step::Nothing => Ok(Flow::Go),
            Step::Answer(a) => {
                self.answer(a).await?;
                Ok(Flow::Go)
            }
            Step::Quit => {
                self.answer(Ok("bye".into())).await?;
                Ok(Flow::Close)
            }
            Step::Stats(interval) => {
                let before = self.sched.snapshot();
                let start = Instant::now();
                let deadline = start + interval;
                while Instant::now() < deadline {
                    pause_until(deadline).await;
                    // A shutdown ends the wait; a `ProducerFinished` waits its turn.
                    if let Some(stop) = self.watch.check() {
                        return Err(stop);
                    }
                }
                let after = self.sched.snapshot();
                self.answer(Ok(commands::stats(&before, &after, start.elapsed()))).await?;
                Ok(Flow::Go)
            }
        }
    }

    /// Greets, then answers each line until the connection ends; returns the signal to end
    /// with.
    async fn serve(&mut self, me: ComponentId, inbox: &Inbox<Vec<u8>>) -> Signal {
        if self.authorised {
            // No token: every connection is a session from the start.
            match self.seats.take() {
                Some(seat) => self.seat = Some(seat),
                None => {
                    return match self.answer(Err(full())).await {
                        Ok(()) => Signal::producer_finished_by(me),
                        Err(stop) => stop,
                    };
                }
            }
        }
        let greeting = if self.authorised {
            "axon debug console: type help for the commands (each answer ends with an empty line)"
        } else {
            "axon debug console: send the token first"
        };
        if let Err(stop) = self.answer(Ok(greeting.into())).await {
            return stop;
        }
        let mut framer = LineFramer::with_limit(MAX_COMMAND, OverlongPolicy::Refuse);
        loop {
            let next =
                if self.authorised { Some(self.watch.next(inbox).await) } else { self.next_in_time(inbox).await };
            let Some(next) = next else {
                let secs = self.auth_timeout.as_secs_f64();
                return match self.answer(Err(format!("no token within {secs} s"))).await {
                    Ok(()) => Signal::producer_finished_by(me),
                    Err(stop) => stop,
                };
            };
            let ending = match next {
                Next::Data(bytes) => {
                    framer.push(&bytes);
                    None
                }
                Next::End(sig) if sig.is_producer_finished() => {
                    // The client closed its side: what it sent before that is answered.
                    framer.finish();
                    Some(sig)
                }
                Next::End(sig) => return sig,
                // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                Next::Other(_) => continue,
            };
            while let Some(frame) = framer.next_frame() {
                match self.line(frame).await {
                    Ok(Flow::Go) => {}
                    Ok(Flow::Close) => return Signal::producer_finished_by(me),
                    Err(stop) => return stop,
                }
            }
            if let Some(sig) = ending {
                return sig;
            }
        }
    }

    /// The next input or signal, unless the token's deadline passes first (`None`).
    async fn next_in_time(&mut self, inbox: &Inbox<Vec<u8>>) -> Option<Next<Vec<u8>>> {
        loop {
            if let Some(next) = self.watch.try_next(inbox) {
                return Some(next);
            }
            if Instant::now() >= self.auth_deadline {
                return None;
            }
            // Woken early by input or a signal.
            pause_until(self.auth_deadline).await;
        }
    }
}

/// One connection's protocol: bytes in, answers out; see the module docs.
///
/// Shutdown: the standard contract ([`ControlWatch`]): on `ProducerFinished` (the client
/// closed its side) the lines it sent before are answered first; a shutdown also ends a
/// `stats` wait. `quit`, a wrong token, no token in time and a full console end it with its
/// own `ProducerFinished`.
fn session(shared: Arc<Shared>, seats: Seats, auth_timeout: Duration, _conn: ConnInfo) -> Component {
    let mut b = ComponentBuilder::new("ConsoleSession");
    let io = b.standard::<Vec<u8>, Vec<u8>>();
    b.run(move |ctx| async move {
        let authorised = shared.token.is_none();
        let watch = ControlWatch::new(io.control, io.signal);
        let auth_deadline = Instant::now() + auth_timeout;
        let mut s = Session {
            shared,
            sched: ctx.scheduler(),
            watch,
            outbox: io.outbox,
            authorised,
            seats,
            seat: None,
            auth_deadline,
            auth_timeout,
        };
        let end = s.serve(ctx.id(), &io.inbox).await;
        s.watch.finish(end).await;
    })
}
