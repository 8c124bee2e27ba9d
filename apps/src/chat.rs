//! The chat server: a Backplane `"CHAT"` and a ServerCore whose per-connection protocol
//! publishes every line its client sends and passes on everything published.
//!
//! Per connection (a [`Graphline`], see [`protocol`]):
//!
//! ```text
//! client bytes ─► ChunksToLines ─► PureTransformer(prefix) ─► PublishTo("CHAT")
//!                      │ error                                      (signal)
//!                      ▼                                               │
//!                 PureTransformer(error line) ─────┐                   ▼
//! SubscribeTo("CHAT") ────────────────────────────►┴─► PureTransformer(format) ─► client
//! ```
//!
//! Each complete line `L` (LF or CRLF) a client sends reaches every connected client, the
//! sender included, as `Chat:<peer-ip>:<peer-port> says <L>\r\n`, in the order the backplane
//! received them.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axon_core::{ActivateError, Component, Scheduler};
use kamaelia_chassis::{Backplane, ChassisError, Graphline, PublishTo, SubscribeTo, SubscriberPolicy};
use kamaelia_net::{ConnInfo, ServerCore, SlowClientPolicy};
use kamaelia_util::{ChunksToLines, FramingError, OverlongPolicy, PureTransformer};

use crate::{MAX_LINE, error_line};

/// The name of the chat server's backplane.
pub const BACKPLANE: &str = "CHAT";

/// The default port (the seeds' chat server listens on 1501).
pub const DEFAULT_PORT: u16 = 1501;

/// What a client beyond `--max-connections` is sent before it is closed.
pub const REFUSAL: &str = "Chat server full: try again later\r\n";

/// A message on the chat backplane: one line as everyone sees it, `Chat:<peer> says <L>`,
/// without its terminator (each subscriber's formatter adds `\r\n`). Shared, so the
/// backplane's fan-out copies a pointer per subscriber, not the line.
pub type ChatLine = Arc<[u8]>;

/// How many messages a connection's formatter inbox holds: the backplane delivers into it.
pub const SUBSCRIBER_INBOX: usize = 256;

/// How many messages the backplane holds for a subscriber whose formatter inbox is full
/// before it disconnects that subscriber ([`SubscriberPolicy::Disconnect`]).
pub const SUBSCRIBER_BUFFER: usize = 1024;

/// Capacity of a connection's framer inbox, in socket reads: bounding the input side lets a
/// full backplane slow the senders down through TCP flow control.
const FRAMER_INBOX: usize = 16;
/// Capacity of a connection's prefixer (and error-line) inbox, in lines.
const LINES_INBOX: usize = 64;

/// The protocol for one connection, publishing to and subscribing to the backplane
/// [`BACKPLANE`]. See [`protocol_on`].
pub fn protocol(conn: ConnInfo) -> Component {
    protocol_on(BACKPLANE, conn)
}

/// The protocol for one connection, on the backplane `backplane`: a [`Graphline`] of
///
/// - `lines`: [`ChunksToLines`] (at most [`MAX_LINE`] bytes, [`OverlongPolicy::Refuse`]),
///   fed by the graphline's `inbox` (the client's bytes);
/// - `prefix`: a [`PureTransformer`] making each line `Chat:<peer-ip>:<peer-port> says <L>`
///   (a [`ChatLine`]), into
/// - `publish`: [`PublishTo`] the backplane;
/// - `refuse`: a [`PureTransformer`] turning what `lines` reports on its `error` outbox (a line
///   too long) into the line `error: line longer than 65536 bytes`, for this client only;
/// - `subscribe`: [`SubscribeTo`] the backplane, with [`SubscriberPolicy::Disconnect`]: the
///   backplane never waits for this connection; if [`SUBSCRIBER_INBOX`] +
///   [`SUBSCRIBER_BUFFER`] messages pile up for it, it is unsubscribed and the connection closed;
/// - `format`: a [`PureTransformer`] appending `\r\n` to what `subscribe` and `refuse` give it,
///   out of the graphline's `outbox` (to the client).
///
/// The error line reaches `format` by a path of its own, so it is not ordered with respect to
/// the broadcast lines around it.
///
/// Bytes are passed through as they are: a line that is not UTF-8 is published byte for byte
/// (the server never decodes; a telnet user sees whatever their terminal makes of it).
///
/// Signals run down one chain: graphline `control` -> `lines` -> `prefix` -> `refuse` ->
/// `publish` -> `subscribe` -> `format` -> graphline `signal` (-> the connection's socket
/// adapter). So when the client closes its side (ServerCore sends `ProducerFinished`) the
/// framer sends the lines it holds, *including a last line with no terminator* (a client that
/// disconnects mid-line has that partial line published, as if it ended there), then the
/// subscription ends and the connection closes once what was queued for it is written. A
/// `ShutdownMicroprocess` stops every stage at once. When the backplane disconnects a stalled
/// subscriber (or shuts down), `subscribe` receives `ShutdownMicroprocess`, which closes the
/// connection.
pub fn protocol_on(backplane: &str, conn: ConnInfo) -> Component {
    // The wiring is fixed: a failure is a bug in this function, caught by every chat test.
    build_protocol(backplane, conn).expect("the chat protocol's graphline is wired correctly")
}

fn build_protocol(backplane: &str, conn: ConnInfo) -> Result<Component, ChassisError> {
    let prefix = format!("Chat:{}:{} says ", conn.peer.ip(), conn.peer.port()).into_bytes();
    Graphline::builder()
        .component("lines", ChunksToLines::new().max_line_length(MAX_LINE).overlong(OverlongPolicy::Refuse).build())
        .component(
            "prefix",
            PureTransformer::new(move |line: Vec<u8>| -> Option<ChatLine> {
                let mut said = Vec::with_capacity(prefix.len() + line.len());
                said.extend_from_slice(&prefix);
                said.extend_from_slice(&line);
                Some(said.into())
            }),
        )
        .component(
            "refuse",
            PureTransformer::new(|e: FramingError| -> Option<ChatLine> { Some(error_line(&e).into_bytes().into()) }),
        )
        .component("publish", PublishTo::<ChatLine>::new(backplane).build())
        .component(
            "subscribe",
            SubscribeTo::<ChatLine>::new(backplane)
                .policy(SubscriberPolicy::Disconnect { buffer: SUBSCRIBER_BUFFER })
                .build(),
        )
        .component(
            "format",
            PureTransformer::new(|line: ChatLine| -> Option<Vec<u8>> {
                let mut out = Vec::with_capacity(line.len() + 2);
                out.extend_from_slice(&line);
                out.extend_from_slice(b"\r\n");
                Some(out)
            }),
        )
        // Data.
        .link(("self", "inbox"), ("lines", "inbox"))
        .link(("lines", "outbox"), ("prefix", "inbox"))
        .link(("prefix", "outbox"), ("publish", "inbox"))
        .link(("lines", "error"), ("refuse", "inbox"))
        .link(("refuse", "outbox"), ("format", "inbox"))
        .link(("subscribe", "outbox"), ("format", "inbox"))
        .link(("format", "outbox"), ("self", "outbox"))
        // Signals, down one chain.
        .link(("self", "control"), ("lines", "control"))
        .link(("lines", "signal"), ("prefix", "control"))
        .link(("prefix", "signal"), ("refuse", "control"))
        .link(("refuse", "signal"), ("publish", "control"))
        .link(("publish", "signal"), ("subscribe", "control"))
        .link(("subscribe", "signal"), ("format", "control"))
        .link(("format", "signal"), ("self", "signal"))
        // Bounded where a queue could otherwise grow: the input side (so a full backplane
        // slows senders through TCP) and the subscription (the backplane delivers into
        // `format`'s inbox; past this plus its buffer the subscriber is disconnected).
        .box_size(("lines", "inbox"), FRAMER_INBOX)
        .box_size(("prefix", "inbox"), LINES_INBOX)
        .box_size(("refuse", "inbox"), LINES_INBOX)
        .box_size(("format", "inbox"), SUBSCRIBER_INBOX)
        .build()
}

/// Builds a chat server: `ChatServer::new().port(0).listen()?`.
///
/// Defaults: 127.0.0.1, port [`DEFAULT_PORT`], no connection limit, and each connection's
/// [`SlowClientPolicy::default`] (disconnect a client once 1 MiB waits to be written to it: a
/// client that stops reading neither stalls the others nor grows the server's memory).
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `listen` is called"]
pub struct ChatServer {
    bind: IpAddr,
    port: u16,
    max_connections: Option<usize>,
    slow_client: SlowClientPolicy,
    backplane: String,
}

impl Default for ChatServer {
    fn default() -> Self {
        Self::new()
    }
}

impl ChatServer {
    /// A chat server with the defaults.
    pub fn new() -> Self {
        ChatServer {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            max_connections: None,
            slow_client: SlowClientPolicy::default(),
            backplane: BACKPLANE.to_string(),
        }
    }

    /// The address to listen on.
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }

    /// The port (0: any free one; see [`Chat::local_addr`]).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// At most `n` clients at once; one beyond is sent [`REFUSAL`] and closed.
    pub fn max_connections(mut self, n: Option<usize>) -> Self {
        self.max_connections = n;
        self
    }

    /// What a connection does with a client that stops reading.
    pub fn slow_client(mut self, policy: SlowClientPolicy) -> Self {
        self.slow_client = policy;
        self
    }

    /// The backplane's name (default [`BACKPLANE`]).
    pub fn backplane(mut self, name: impl Into<String>) -> Self {
        self.backplane = name.into();
        self
    }

    /// Binds the port and returns the server's components, ready to activate.
    pub fn listen(self) -> io::Result<Chat> {
        let name = self.backplane;
        let factory_name = name.clone();
        let mut server = ServerCore::new(move |conn| protocol_on(&factory_name, conn))
            .bind(self.bind)
            .port(self.port)
            .slow_client(self.slow_client);
        if let Some(n) = self.max_connections {
            server = server.max_connections(n, REFUSAL);
        }
        let listening = server.listen()?;
        // Its splitter's inbox is bounded, so publishers wait when it is behind (and, through
        // each connection's bounded framer, so do their clients); the splitter itself never
        // waits for a subscriber (each subscribes with `SubscriberPolicy::Disconnect`).
        let backplane = Backplane::<ChatLine>::new(name);
        Ok(Chat { backplane, server: listening.component, local_addr: listening.local_addr })
    }
}

/// A chat server's top-level components.
#[derive(Debug)]
pub struct Chat {
    /// The backplane every connection publishes to and subscribes to.
    pub backplane: Component,
    /// The ServerCore.
    pub server: Component,
    /// Where the server listens.
    pub local_addr: SocketAddr,
}

impl Chat {
    /// Activates the backplane, then the server (the backplane's name must be registered
    /// before the first connection's protocol looks it up).
    pub fn activate(&self, sched: &Scheduler) -> Result<(), ActivateError> {
        sched.activate(&self.backplane)?;
        sched.activate(&self.server)
    }

    /// The top-level components, in the order to shut them down: the server (closing every
    /// connection), then the backplane.
    pub fn components(&self) -> Vec<Component> {
        vec![self.server.clone(), self.backplane.clone()]
    }
}
