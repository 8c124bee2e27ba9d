//! TcpClient: connects to a TCP server and then behaves as the connection: bytes in on
//! `inbox` go to the server, bytes from the server come out of `outbox` (Kamaelia's
//! `TCPClient`), and it reports on `signal` how the connection ended.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ComponentId, ControlWatch, Ctx, Inbox, Signal, pause};
use mio::net::TcpStream;

use crate::csa::{ConnectedSocketAdapter, SlowClientPolicy};
use crate::selector::{READABLE, Registration, Selector, WRITABLE};

/// What `signal` carries in `ProducerFinished::message` when the server closed the connection.
pub const PEER_CLOSED: &str = "peer closed";
/// ... when the server refused the connection.
pub const CONNECTION_REFUSED: &str = "connection refused";
/// ... when the connection was not made within the connect timeout (Kamaelia's `"timeout"`).
pub const CONNECT_TIMEOUT: &str = "connect timeout";

/// Builds a TcpClient: `TcpClient::new("127.0.0.1", 1601).build()`.
///
/// It resolves `host`, connects without blocking the scheduler (trying each address the
/// name resolves to, all within one [`connect_timeout`](Self::connect_timeout)), then runs
/// a [`ConnectedSocketAdapter`] child for the connection, with its own `inbox` and `control`
/// passing straight through to the adapter's and the adapter's `outbox` passing straight
/// through to its own.
///
/// Boxes:
/// - `inbox: Vec<u8>`: bytes to send to the server (bounded, 64 messages: while connecting,
///   and when the server reads slowly under [`SlowClientPolicy::Wait`], senders wait).
///   What arrives while connecting is sent once connected.
/// - `control: Signal`: shutdown signalling (below); other signals are passed on.
/// - `outbox: Vec<u8>`: bytes from the server, as they arrive.
/// - `signal: Signal`: how it ended, as Kamaelia's `producerFinished(self, howDied)`:
///   - connect failed: `ErrorInformation` with the details (address, OS error), then
///     `ProducerFinished { message: Some(how) }` where `how` is [`CONNECTION_REFUSED`],
///     [`CONNECT_TIMEOUT`], or the OS error's text;
///   - the server closed the connection: everything pending is written, the connection
///     closed, then `ProducerFinished` with the message [`PEER_CLOSED`];
///   - a socket error once connected: that `ErrorInformation`, then `ProducerFinished`
///     with the error text;
///   - ended from `control`: the terminal signal that ended it.
/// - `_socketFeedback: Signal` (private): the adapter's `signal`.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), read for a
/// client. While connecting, `ProducerFinished` or `ShutdownMicroprocess` (or `Shutdown`)
/// aborts the connect: it is passed on out of `signal` and the client ends. Once connected,
/// `control` goes straight to the adapter: `ProducerFinished` sends what is pending, closes
/// the connection and ends the client; `ShutdownMicroprocess` closes at once. Either is then
/// passed on out of `signal`.
///
/// Differs from Kamaelia: no `delay` or `wait_for_serverclose` option and no `makessl`;
/// the client closes its side when the server closes (Kamaelia's CSA treats a half-close
/// as a close too).
#[must_use = "a builder does nothing until `build` is called"]
pub struct TcpClient {
    host: String,
    port: u16,
    connect_timeout: Duration,
    policy: SlowClientPolicy,
    selector: Option<Selector>,
}

impl TcpClient {
    /// A client for `host` (a name or an address) and `port`. Defaults: connect timeout
    /// 60 s (Kamaelia's), [`SlowClientPolicy::Wait`].
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        TcpClient {
            host: host.into(),
            port,
            connect_timeout: Duration::from_secs(60),
            policy: SlowClientPolicy::Wait,
            selector: None,
        }
    }

    /// How long the connect may take, name resolution excluded. A connection is made only
    /// if it is confirmed before this runs out, so `Duration::ZERO` always times out.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// What the connection does when the server reads more slowly than the client writes
    /// (default [`SlowClientPolicy::Wait`]: backpressure on `inbox`).
    pub fn policy(mut self, policy: SlowClientPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The selector to use (default: the scheduler's, see [`Selector::of`]).
    pub fn selector(mut self, selector: Selector) -> Self {
        self.selector = Some(selector);
        self
    }

    /// The component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("TcpClient");
        let _inbox = b.inbox_with_capacity::<Vec<u8>>("inbox", INBOX_CAPACITY);
        let control = b.control();
        let _outbox = b.outbox::<Vec<u8>>("outbox");
        let signal = b.signal();
        let feedback = b.inbox::<Signal>("_socketFeedback");
        let TcpClient { host, port, connect_timeout, policy, selector } = self;
        b.run(move |ctx| async move {
            let me = ctx.id();
            let mut ctl = ControlWatch::new(control, signal);
            let failed = |how: String| Signal::ProducerFinished { caller: Some(me), message: Some(how) };
            let selector = match selector.map_or_else(|| Selector::of(&ctx), Ok) {
                Ok(s) => s,
                Err(e) => {
                    ctl.emit(error(me, format!("no selector: {e}"))).await;
                    return ctl.finish(failed(format!("no selector: {e}"))).await;
                }
            };
            let target = Target { host: &host, port, timeout: connect_timeout };
            let stream = match connect(&target, &selector, &mut ctl).await {
                Ok(s) => s,
                Err(Failure::Aborted(sig)) => return ctl.finish(sig).await,
                Err(Failure::Failed { how, detail }) => {
                    ctl.emit(error(me, detail)).await;
                    return ctl.finish(failed(how)).await;
                }
            };
            let _ = stream.set_nodelay(true);
            let csa = ConnectedSocketAdapter::new(stream)
                .policy(policy)
                .inbox_capacity(INBOX_CAPACITY)
                .selector(selector)
                .build();
            let csa_control = match wire(&ctx, &csa) {
                Ok(c) => c,
                Err(e) => {
                    // Cannot happen: the boxes are declared above with the adapter's types.
                    ctx.unlink_component(&csa);
                    ctl.emit(error(me, format!("cannot wire the connection: {e}"))).await;
                    return ctl.finish(failed(format!("cannot wire the connection: {e}"))).await;
                }
            };
            if let Err(e) = ctx.spawn(&csa) {
                ctx.remove_child(&csa);
                ctl.emit(error(me, format!("cannot start the connection: {e}"))).await;
                return ctl.finish(failed(format!("cannot start the connection: {e}"))).await;
            }
            let end = follow_connection(&ctx, &csa, &csa_control, &feedback, &mut ctl).await;
            ctx.remove_child(&csa);
            ctl.finish(end).await;
        })
    }
}

const INBOX_CAPACITY: usize = 64;

fn error(me: ComponentId, message: String) -> Signal {
    Signal::ErrorInformation { caller: Some(me), message }
}

struct Target<'a> {
    host: &'a str,
    port: u16,
    timeout: Duration,
}

enum Failure {
    /// A terminal signal on control while connecting.
    Aborted(Signal),
    /// No connection: `how` for ProducerFinished, `detail` for ErrorInformation.
    Failed { how: String, detail: String },
}

/// Connects to the first of `target`'s addresses that accepts, within the timeout, while
/// watching `control` (non-terminal signals are passed on).
async fn connect(target: &Target<'_>, selector: &Selector, ctl: &mut ControlWatch) -> Result<TcpStream, Failure> {
    let Target { host, port, timeout } = *target;
    let what = format!("{host}:{port}");
    // Blocking name resolution, as Kamaelia's; addresses need none.
    let addrs: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            return Err(Failure::Failed {
                how: format!("cannot resolve {host}: {e}"),
                detail: format!("cannot connect to {what}: cannot resolve {host}: {e}"),
            });
        }
    };
    // None: so far in the future that it cannot be represented.
    let deadline = Instant::now().checked_add(timeout);
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} resolves to no address"));
    for addr in addrs {
        match connect_one(addr, deadline, selector, ctl).await {
            Ok(s) => return Ok(s),
            Err(Attempt::Aborted(sig)) => return Err(Failure::Aborted(sig)),
            Err(Attempt::TimedOut) => {
                return Err(Failure::Failed {
                    how: CONNECT_TIMEOUT.into(),
                    detail: format!("cannot connect to {what} ({addr}): connect timeout after {timeout:?}"),
                });
            }
            Err(Attempt::Failed(e)) => last = annotate(e, addr),
        }
    }
    let how = match last.kind() {
        io::ErrorKind::ConnectionRefused => CONNECTION_REFUSED.to_string(),
        _ => last.to_string(),
    };
    Err(Failure::Failed { how, detail: format!("cannot connect to {what}: {last}") })
}

fn annotate(e: io::Error, addr: SocketAddr) -> io::Error {
    io::Error::new(e.kind(), format!("{addr}: {e}"))
}

enum Attempt {
    Aborted(Signal),
    TimedOut,
    Failed(io::Error),
}

async fn connect_one(
    addr: SocketAddr,
    deadline: Option<Instant>,
    selector: &Selector,
    ctl: &mut ControlWatch,
) -> Result<TcpStream, Attempt> {
    let mut stream = TcpStream::connect(addr).map_err(Attempt::Failed)?;
    let reg = selector.register(&mut stream).map_err(Attempt::Failed)?;
    let outcome = loop {
        // Either terminal signal aborts the connect; other signals are passed on.
        if let Some(sig) = ctl.check().or_else(|| ctl.take_finished()) {
            break Err(Attempt::Aborted(sig));
        }
        // The deadline is checked before the connection, so a zero timeout always times out.
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Err(Attempt::TimedOut);
        }
        let seen = reg.ready();
        match connected(&stream) {
            Ok(true) => break Ok(()),
            Ok(false) => reg.clear(seen, READABLE | WRITABLE),
            Err(e) => break Err(Attempt::Failed(e)),
        }
        wait(&reg, WRITABLE, deadline).await;
    };
    // The adapter registers the stream itself.
    reg.deregister(&mut stream);
    outcome.map(|()| stream)
}

/// Whether a non-blocking connect has completed: `Ok(false)` while in progress.
fn connected(stream: &TcpStream) -> io::Result<bool> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

/// Waits for readiness `bits`, any other wake of the component, or `deadline`.
async fn wait(reg: &Registration, bits: usize, deadline: Option<Instant>) {
    let Some(deadline) = deadline else {
        reg.wait(bits).await;
        return;
    };
    let mut io = pin!(reg.wait(bits));
    let mut timer = pin!(axon_core::sleep_until(deadline));
    std::future::poll_fn(|cx| {
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        io.as_mut().poll(cx).map(|_| ())
    })
    .await;
}

/// Links the adapter in: own `inbox` and `control` through to its `inbox` and `control`, its
/// `outbox` through to own `outbox`, its `signal` to `_socketFeedback`. Returns a way to reach
/// its control directly.
fn wire(ctx: &Ctx, csa: &Component) -> Result<axon_core::InboxRef<Signal>, axon_core::LinkError> {
    let me = ctx.component();
    ctx.link((&me, "inbox"), (csa, "inbox"))?;
    ctx.link((csa, "outbox"), (&me, "outbox"))?;
    ctx.link((&me, "control"), (csa, "control"))?;
    ctx.link((csa, "signal"), (&me, "_socketFeedback"))?;
    csa.inbox_ref::<Signal>("control")
}

/// Follows the adapter until it ends; returns the signal that says how the connection ended.
/// (`control` now passes straight through to the adapter; `ctl` speaks on `signal`.)
async fn follow_connection(
    ctx: &Ctx,
    csa: &Component,
    csa_control: &axon_core::InboxRef<Signal>,
    feedback: &Inbox<Signal>,
    ctl: &mut ControlWatch,
) -> Signal {
    let me = ctx.id();
    let mut peer_closed = false;
    let mut failure: Option<String> = None;
    let mut terminal: Option<Signal> = None;
    loop {
        // Read before draining: once it has ended, everything it sent is in `feedback`.
        let finished = csa.is_finished();
        while let Some(sig) = feedback.try_recv() {
            match &sig {
                Signal::ProducerFinished { caller: Some(c), message: Some(m) }
                    if *c == csa.id() && m == PEER_CLOSED && !peer_closed =>
                {
                    // The server closed its side: finish writing and close ours.
                    peer_closed = true;
                    csa_control
                        .send(Signal::ProducerFinished { caller: Some(me), message: Some(PEER_CLOSED.into()) })
                        .await;
                }
                Signal::ErrorInformation { caller: Some(c), message } if *c == csa.id() => {
                    failure = Some(message.clone());
                    ctl.emit(error(me, message.clone())).await;
                }
                s if s.is_terminal() => terminal = Some(sig),
                _ => ctl.emit(sig).await,
            }
        }
        if finished {
            break;
        }
        pause().await;
    }
    let finished = |how: &str| Signal::ProducerFinished { caller: Some(me), message: Some(how.to_string()) };
    if peer_closed {
        finished(PEER_CLOSED)
    } else if let Some(how) = failure {
        finished(&how)
    } else if let Some(sig) = terminal {
        sig
    } else {
        let how = "the connection's adapter ended without saying why";
        ctl.emit(error(me, how.to_string())).await;
        finished(how)
    }
}
