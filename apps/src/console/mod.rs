//! The debug console: a command language over a live system, served on 127.0.0.1 (the
//! seeds' "interpreter embedded in a running system"; Rust has no REPL to embed).
//!
//! `DebugConsole::new(port).token(..).listen()?` gives a component to activate next to an
//! app's own. Connect with `nc 127.0.0.1 PORT` (or telnet). The protocol is line-based:
//!
//! - On connecting, the console greets: one line, then an empty line. If a token is set, the
//!   first line you send must be the token: the answer is `ok` (then an empty line), or
//!   `error: wrong token` and the connection is closed.
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
use std::time::Instant;

use axon_core::{Component, ComponentBuilder, Received, SchedulerHandle, Signal, StandardBoxes, pause, pause_until};
use kamaelia_net::{ConnInfo, ServerCore, SlowClientPolicy};
use kamaelia_util::{LineFramer, OverlongPolicy};

pub use commands::{STATS_DEFAULT, STATS_RANGE_MS};
pub use registry::Registry;

use commands::{Shared, Step};

/// The longest command line, in bytes (a longer one is refused with an error answer).
pub const MAX_COMMAND: usize = 1 << 20;

/// How many console connections may be open at once.
pub const MAX_SESSIONS: usize = 8;

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
}

impl DebugConsole {
    /// A console on 127.0.0.1:`port`, with no token and the standard spawn registry.
    pub fn new(port: u16) -> Self {
        DebugConsole { port, token: None, registry: Registry::standard() }
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
        let listening = ServerCore::new(move |conn: ConnInfo| session(factory_shared.clone(), conn))
            .bind(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .port(self.port)
            .max_connections(
                MAX_SESSIONS,
                format!("error: the debug console has {MAX_SESSIONS} connections already\n\n"),
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
    /// Boxes: `control: Signal` (a terminal signal shuts down the server, every open
    /// session and every component spawned from the console; once they have all ended the
    /// signal is passed on out of `signal` and the console ends); `signal: Signal`;
    /// `inbox`/`outbox: ()` unused. It also ends (passing on `ShutdownMicroprocess`) if
    /// its server ends by itself.
    pub component: Component,
    /// Where it listens (always 127.0.0.1).
    pub local_addr: SocketAddr,
}

fn root(b: ComponentBuilder, io: StandardBoxes<(), ()>, server: Component) -> Component {
    b.run(move |ctx| async move {
        if let Err(e) = ctx.spawn(&server) {
            io.signal.send(Signal::ErrorInformation { caller: Some(ctx.id()), message: e.to_string() }).await;
            io.signal.send(Signal::ShutdownMicroprocess).await;
            return;
        }
        let mut stopping: Option<Signal> = None;
        // Children already told to stop (a session may spawn one while the console stops).
        let mut told = std::collections::HashSet::new();
        loop {
            while let Some(sig) = io.control.try_recv() {
                if sig.is_terminal() {
                    stopping.get_or_insert(sig);
                } else {
                    io.signal.send(sig).await;
                }
            }
            if stopping.is_none() && server.is_finished() {
                stopping = Some(Signal::ShutdownMicroprocess);
            }
            if stopping.is_some() {
                for child in ctx.children().into_iter().filter(|c| told.insert(c.id())) {
                    if let Ok(control) = child.inbox_ref::<Signal>("control") {
                        // Control inboxes are unbounded; a full one has been told already.
                        let _ = control.try_send(Signal::ShutdownMicroprocess);
                    }
                }
            }
            let done = ctx.children_done();
            if let (Some(sig), true) = (&stopping, done) {
                io.signal.send(sig.clone()).await;
                return;
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

/// What to do after a line.
enum Flow {
    Go,
    /// Close the connection (quit, wrong token).
    Close,
    /// A signal arrived on control while a command waited: pass it on and end.
    Stop(Signal),
}

struct Session {
    shared: Arc<Shared>,
    sched: SchedulerHandle,
    io: StandardBoxes<Vec<u8>, Vec<u8>>,
    authorised: bool,
}

impl Session {
    async fn answer(&self, answer: Result<String, String>) {
        self.io.outbox.send(wire(&answer)).await;
    }

    async fn line(&mut self, frame: Result<Vec<u8>, kamaelia_util::FramingError>) -> Flow {
        let line = match frame {
            Ok(l) => String::from_utf8_lossy(&l).into_owned(),
            Err(e) => {
                self.answer(Err(e.to_string())).await;
                return if self.authorised { Flow::Go } else { Flow::Close };
            }
        };
        if !self.authorised {
            let ok = self.shared.token.as_deref().is_some_and(|t| same(line.trim(), t));
            if ok {
                self.authorised = true;
                self.answer(Ok("ok: type help for the commands".into())).await;
                return Flow::Go;
            }
            self.answer(Err("wrong token".into())).await;
            return Flow::Close;
        }
        match commands::execute(&self.shared, &self.sched, &line) {
            Step::Nothing => Flow::Go,
            Step::Answer(a) => {
                self.answer(a).await;
                Flow::Go
            }
            Step::Quit => {
                self.answer(Ok("bye".into())).await;
                Flow::Close
            }
            Step::Stats(interval) => {
                let before = self.sched.snapshot();
                let start = Instant::now();
                let deadline = start + interval;
                while Instant::now() < deadline {
                    pause_until(deadline).await;
                    if let Some(sig) = self.io.control.try_recv() {
                        if sig.is_terminal() {
                            return Flow::Stop(sig);
                        }
                        self.io.signal.send(sig).await;
                    }
                }
                let after = self.sched.snapshot();
                self.answer(Ok(commands::stats(&before, &after, start.elapsed()))).await;
                Flow::Go
            }
        }
    }
}

/// One connection's protocol: bytes in, answers out; see the module docs.
fn session(shared: Arc<Shared>, _conn: ConnInfo) -> Component {
    let mut b = ComponentBuilder::new("ConsoleSession");
    let io = b.standard::<Vec<u8>, Vec<u8>>();
    b.run(move |ctx| async move {
        let authorised = shared.token.is_none();
        let mut s = Session { shared, sched: ctx.scheduler(), io, authorised };
        let greeting = if s.authorised {
            "axon debug console: type help for the commands (each answer ends with an empty line)"
        } else {
            "axon debug console: send the token first"
        };
        s.answer(Ok(greeting.into())).await;
        let mut framer = LineFramer::with_limit(MAX_COMMAND, OverlongPolicy::Refuse);
        loop {
            let ending = match s.io.inbox.recv_with_control(&s.io.control).await {
                Received::Data(bytes) => {
                    framer.push(&bytes);
                    None
                }
                Received::Control(sig) if sig.is_producer_finished() => {
                    // The client closed its side: answer what it sent before that.
                    while let Some(bytes) = s.io.inbox.try_recv() {
                        framer.push(&bytes);
                    }
                    framer.finish();
                    Some(sig)
                }
                Received::Control(sig) if sig.is_terminal() => {
                    s.io.signal.send(sig).await;
                    return;
                }
                Received::Control(sig) => {
                    s.io.signal.send(sig).await;
                    continue;
                }
            };
            while let Some(frame) = framer.next_frame() {
                match s.line(frame).await {
                    Flow::Go => {}
                    Flow::Close => {
                        s.io.signal.send(Signal::producer_finished_by(ctx.id())).await;
                        return;
                    }
                    Flow::Stop(sig) => {
                        s.io.signal.send(sig).await;
                        return;
                    }
                }
            }
            if let Some(sig) = ending {
                s.io.signal.send(sig).await;
                return;
            }
        }
    })
}
