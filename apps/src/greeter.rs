//! The greeter: a ServerCore whose protocol answers each line `L` with `hello L\r\n`.
//!
//! Per connection (a [`Graphline`], see [`protocol`]):
//!
//! ```text
//! client bytes ─► ChunksToLines ─► PureTransformer(hello) ─► PassThrough ─► client
//!                      │ error                                   ▲
//!                      └──────► PureTransformer(error line) ─────┘
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axon_core::{ActivateError, Component, Scheduler};
use kamaelia_chassis::{ChassisError, Graphline};
use kamaelia_net::{ConnInfo, ServerCore};
use kamaelia_util::{ChunksToLines, FramingError, OverlongPolicy, PassThrough, PureTransformer};

use crate::{MAX_LINE, error_line};

/// The default port (ServerCore's, as in Kamaelia).
pub const DEFAULT_PORT: u16 = 1601;

/// Capacity of a connection's framer inbox, in socket reads (so a client that sends faster
/// than it is answered is slowed by TCP flow control).
const FRAMER_INBOX: usize = 16;

/// The protocol for one connection: a [`Graphline`] of
///
/// - `lines`: [`ChunksToLines`] (LF or CRLF; at most [`MAX_LINE`] bytes,
///   [`OverlongPolicy::Refuse`]) fed by the graphline's `inbox`;
/// - `hello`: a [`PureTransformer`] answering each line `L` with `hello L\r\n` (bytes passed
///   through as they are, UTF-8 or not);
/// - `refuse`: a [`PureTransformer`] answering a line too long with
///   `error: line longer than 65536 bytes\r\n` (the connection stays usable);
/// - `out`: a [`PassThrough`] merging both into the graphline's `outbox`.
///
/// Answers come out in the order the lines came in, except that an error line travels a path
/// of its own (ChunksToLines reports refused lines on a separate `error` outbox), so it may
/// overtake, or be overtaken by, the answer to a line sent right after the refused one.
///
/// Signals run down one chain, `control` -> `lines` -> `hello` -> `refuse` -> `out` ->
/// `signal`: when the client closes its side, the lines it sent (a last one without a
/// terminator included) are answered, then the connection closes; `ShutdownMicroprocess`
/// stops it at once.
pub fn protocol(_conn: ConnInfo) -> Component {
    // The wiring is fixed: a failure is a bug in this function, caught by every greeter test.
    build_protocol().expect("the greeter protocol's graphline is wired correctly")
}

fn build_protocol() -> Result<Component, ChassisError> {
    Graphline::builder()
        .component("lines", ChunksToLines::new().max_line_length(MAX_LINE).overlong(OverlongPolicy::Refuse).build())
        .component(
            "hello",
            PureTransformer::new(|line: Vec<u8>| -> Option<Vec<u8>> { Some([b"hello ", &line[..], b"\r\n"].concat()) }),
        )
        .component(
            "refuse",
            PureTransformer::new(|e: FramingError| -> Option<Vec<u8>> {
                Some(format!("{}\r\n", error_line(&e)).into_bytes())
            }),
        )
        .component("out", PassThrough::<Vec<u8>>::new())
        .link(("self", "inbox"), ("lines", "inbox"))
        .link(("lines", "outbox"), ("hello", "inbox"))
        .link(("lines", "error"), ("refuse", "inbox"))
        .link(("hello", "outbox"), ("out", "inbox"))
        .link(("refuse", "outbox"), ("out", "inbox"))
        .link(("out", "outbox"), ("self", "outbox"))
        .link(("self", "control"), ("lines", "control"))
        .link(("lines", "signal"), ("hello", "control"))
        .link(("hello", "signal"), ("refuse", "control"))
        .link(("refuse", "signal"), ("out", "control"))
        .link(("out", "signal"), ("self", "signal"))
        .box_size(("lines", "inbox"), FRAMER_INBOX)
        .build()
}

/// Builds a greeter server: `Greeter::new().port(0).listen()?`. Defaults: 127.0.0.1, port
/// [`DEFAULT_PORT`].
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `listen` is called"]
pub struct Greeter {
    bind: IpAddr,
    port: u16,
}

impl Default for Greeter {
    fn default() -> Self {
        Self::new()
    }
}

impl Greeter {
    /// A greeter with the defaults.
    pub fn new() -> Self {
        Greeter { bind: IpAddr::V4(Ipv4Addr::LOCALHOST), port: DEFAULT_PORT }
    }

    /// The address to listen on.
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }

    /// The port (0: any free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds the port and returns the server, ready to activate.
    pub fn listen(self) -> io::Result<GreeterServer> {
        let listening = ServerCore::new(protocol).bind(self.bind).port(self.port).listen()?;
        Ok(GreeterServer { server: listening.component, local_addr: listening.local_addr })
    }
}

/// A greeter's top-level component.
#[derive(Debug)]
pub struct GreeterServer {
    /// The ServerCore.
    pub server: Component,
    /// Where it listens.
    pub local_addr: SocketAddr,
}

impl GreeterServer {
    /// Activates the server.
    pub fn activate(&self, sched: &Scheduler) -> Result<(), ActivateError> {
        sched.activate(&self.server)
    }

    /// The top-level components, in the order to shut them down.
    pub fn components(&self) -> Vec<Component> {
        vec![self.server.clone()]
    }
}
