//! ServerCore: a TCP server whose every connection is handled by a protocol component made
//! for it by a factory (Kamaelia's `ServerCore`/`FastRestartServer`, with its TCPServer inside).

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axon_core::{Component, ComponentBuilder, ComponentId, Ctx, InboxRef, Signal};
use mio::net::{TcpListener, TcpStream};
use socket2::{Domain, Socket, Type};

use crate::csa::{ConnectedSocketAdapter, SlowClientPolicy};
use crate::selector::{READABLE, Selector};
use crate::stop::ServerControl;

/// What a protocol factory is told about the connection it serves.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ConnInfo {
    /// The client's address and port.
    pub peer: SocketAddr,
    /// The server's address and port for this connection.
    pub local: SocketAddr,
}

/// A server that is listening: its component (activate it to start serving) and the address
/// it is bound to (useful with port 0).
#[derive(Debug)]
pub struct Listening {
    /// The ServerCore component.
    pub component: Component,
    /// Where it listens.
    pub local_addr: SocketAddr,
}

/// Builds a ServerCore: `ServerCore::new(factory).port(1501).listen()?`.
///
/// For each connection it makes a [`ConnectedSocketAdapter`] and a protocol component from
/// the factory, and links them: adapter `outbox` -> protocol `inbox` (`Vec<u8>`), protocol
/// `outbox` -> adapter `inbox` (`Vec<u8>`), protocol `signal` -> adapter `control` (so a
/// protocol closes its connection by emitting ProducerFinished or ShutdownMicroprocess).
/// When the client closes its side, the protocol gets ProducerFinished (Kamaelia's
/// `socketShutdown`) on its control; on a socket error (a reset, say) too, with the error in
/// its message, so the protocol still finishes what it had already received.
///
/// Boxes of the server component: `control: Signal`; `signal: Signal` (signals passed on,
/// `ErrorInformation` about connections that could not be set up, and the terminal signal
/// last); `inbox`/`outbox` carry `()` and are unused (Kamaelia's are unused too).
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), read for a
/// server. `ProducerFinished` stops accepting, tells each protocol `ProducerFinished` ("server
/// stopping") so it finishes and closes its connection, and ends once every connection has.
/// `ShutdownMicroprocess` (or `Shutdown`) tells each protocol and each adapter
/// `ShutdownMicroprocess`, closing every connection now, and ends once they have. The
/// signal is passed on last; a later terminal signal adds nothing.
///
/// Differs from Kamaelia: the port is bound when the server is built, so a taken port is an
/// error here and now, not a signal later; SO_REUSEADDR is always set (FastRestartServer).
#[must_use = "a builder does nothing until `listen` is called"]
pub struct ServerCore<F> {
    factory: F,
    bind: IpAddr,
    port: u16,
    max_connections: Option<(usize, Vec<u8>)>,
    policy: SlowClientPolicy,
}

impl<F> ServerCore<F>
where
    F: FnMut(ConnInfo) -> Component + Send + 'static,
{
    /// A server whose connections are served by `factory`'s components. Defaults: port
    /// 1601 on 127.0.0.1, no connection limit, [`SlowClientPolicy::default`].
    pub fn new(factory: F) -> Self {
        ServerCore {
            factory,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 1601,
            max_connections: None,
            policy: SlowClientPolicy::default(),
        }
    }

    /// The port (0: any free port; see [`Listening::local_addr`]).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The address to listen on (default 127.0.0.1).
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }

    /// At most `n` connections at once; a client beyond that is sent `refusal` and closed.
    pub fn max_connections(mut self, n: usize, refusal: impl Into<Vec<u8>>) -> Self {
        self.max_connections = Some((n, refusal.into()));
        self
    }

    /// What each connection does with a client that stops reading.
    pub fn slow_client(mut self, policy: SlowClientPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Binds the port and returns the server, ready to activate.
    pub fn listen(self) -> io::Result<Listening> {
        let listener = bind_listener(SocketAddr::new(self.bind, self.port), 1024)?;
        let local_addr = listener.local_addr()?;
        let component = self.component(listener);
        Ok(Listening { component, local_addr })
    }

    fn component(self, mut listener: TcpListener) -> Component {
        let mut b = ComponentBuilder::new("ServerCore");
        let _inbox = b.inbox::<()>("inbox");
        let control = b.control();
        let _outbox = b.outbox::<()>("outbox");
        let signal = b.signal();
        let notices = b.inbox::<Signal>("_csa");
        let ServerCore { mut factory, max_connections, policy, .. } = self;
        b.run(move |ctx| async move {
            let mut ctl = ServerControl::new(control, signal, ctx.id());
            let selector = match Selector::of(&ctx) {
                Ok(s) => s,
                Err(e) => {
                    ctl.error(format!("no selector: {e}")).await;
                    return ctl.finish().await;
                }
            };
            let mut reg = match selector.register(&mut listener) {
                Ok(r) => Some(r),
                Err(e) => {
                    ctl.error(format!("cannot watch the listening socket: {e}")).await;
                    return ctl.finish().await;
                }
            };
            let mut conns: HashMap<ComponentId, Connection> = HashMap::new();
            loop {
                if let Some(stop) = ctl.check() {
                    for c in conns.values_mut() {
                        c.tell_protocol(stop.to_handler()).await;
                        if let Some(s) = stop.to_socket() {
                            c.tell_socket(s).await;
                        }
                    }
                }
                if ctl.is_stopping() {
                    if let Some(r) = reg.take() {
                        r.deregister(&mut listener);
                    }
                }
                // What the adapters report: the client closed its side, or a socket error.
                while let Some(notice) = notices.try_recv() {
                    let (id, tell) = match &notice {
                        Signal::ProducerFinished { caller: Some(id), .. } => (*id, closed_signal(&ctx)),
                        // The socket is gone, but what was read from it still counts:
                        // ProducerFinished lets the protocol finish it (nothing lost).
                        Signal::ErrorInformation { caller: Some(id), message } => (
                            *id,
                            Signal::ProducerFinished {
                                caller: Some(ctx.id()),
                                message: Some(format!("socket error: {message}")),
                            },
                        ),
                        _ => continue,
                    };
                    if let Some(c) = conns.get_mut(&id) {
                        if !c.protocol_told {
                            c.tell_protocol(tell).await;
                        }
                    }
                }
                // Reap finished connections.
                let mut done = Vec::new();
                for (id, c) in conns.iter_mut() {
                    if c.csa.is_finished() && !c.csa_unlinked {
                        // A protocol may be waiting for room in the ended adapter's inbox
                        // (bounded, and never read again): unlinking sends its output back
                        // into its own outbox, so it is free to see the signal below and end.
                        ctx.unlink_component(&c.csa);
                        c.csa_unlinked = true;
                    }
                    if c.csa.is_finished() && !c.protocol.is_finished() && !c.protocol_told {
                        c.tell_protocol(closed_signal(&ctx)).await;
                    }
                    if c.csa.is_finished() && c.protocol.is_finished() {
                        done.push(*id);
                    }
                }
                for id in done {
                    if let Some(c) = conns.remove(&id) {
                        ctx.remove_child(&c.csa);
                        ctx.remove_child(&c.protocol);
                    }
                }
                if ctl.is_stopping() && conns.is_empty() && ctx.children_done() {
                    return ctl.finish().await;
                }
                // Accept whoever is waiting.
                if let Some(r) = &reg {
                    loop {
                        let seen = r.ready();
                        match listener.accept() {
                            Ok((stream, peer)) => {
                                if let Some((max, refusal)) = &max_connections {
                                    if conns.len() >= *max {
                                        refuse(stream, refusal);
                                        continue;
                                    }
                                }
                                match connect(&ctx, stream, peer, &mut factory, policy, &selector) {
                                    Ok(c) => {
                                        conns.insert(c.csa.id(), c);
                                    }
                                    Err(e) => ctl.error(e).await,
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                r.clear(seen, READABLE);
                                break;
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => {
                                // Out of file descriptors, say: report, and try again at the
                                // next readiness rather than spin.
                                r.clear(seen, READABLE);
                                ctl.error(format!("accept failed: {e}")).await;
                                break;
                            }
                        }
                    }
                    r.wait(READABLE).await;
                } else {
                    axon_core::pause().await;
                }
            }
        })
    }
}

/// A non-blocking listening socket on `addr` with SO_REUSEADDR (Kamaelia's FastRestartServer),
/// shared by every TCP server here.
pub(crate) fn bind_listener(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}

fn closed_signal(ctx: &Ctx) -> Signal {
    Signal::ProducerFinished { caller: Some(ctx.id()), message: Some("socket closed".into()) }
}

/// Tells a client over the limit why, as far as the socket will take it without waiting, and
/// closes the connection.
fn refuse(mut stream: TcpStream, refusal: &[u8]) {
    let _ = stream.write(refusal);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

struct Connection {
    csa: Component,
    protocol: Component,
    protocol_control: InboxRef<Signal>,
    csa_control: InboxRef<Signal>,
    protocol_told: bool,
    /// Set once the adapter has ended and been unlinked from the protocol.
    csa_unlinked: bool,
}

impl Connection {
    // Tells go into `control` inboxes, which are unbounded (the adapter's are declared so
    // here, a protocol's by convention): these sends do not wait.
    async fn tell_protocol(&mut self, sig: Signal) {
        self.protocol_told = true;
        self.protocol_control.send(sig).await;
    }

    async fn tell_socket(&self, sig: Signal) {
        self.csa_control.send(sig).await;
    }
}

fn connect<F>(
    ctx: &Ctx,
    stream: TcpStream,
    peer: SocketAddr,
    factory: &mut F,
    policy: SlowClientPolicy,
    selector: &Selector,
) -> Result<Connection, String>
where
    F: FnMut(ConnInfo) -> Component,
{
    let local = stream.local_addr().map_err(|e| format!("connection from {peer}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let protocol = factory(ConnInfo { peer, local });
    let csa = ConnectedSocketAdapter::new(stream).policy(policy).selector(selector.clone()).build();
    let me = ctx.component();
    let wire = || -> Result<(InboxRef<Signal>, InboxRef<Signal>), axon_core::LinkError> {
        ctx.link((&csa, "outbox"), (&protocol, "inbox"))?;
        ctx.link((&protocol, "outbox"), (&csa, "inbox"))?;
        ctx.link((&protocol, "signal"), (&csa, "control"))?;
        ctx.link((&csa, "signal"), (&me, "_csa"))?;
        Ok((protocol.inbox_ref::<Signal>("control")?, csa.inbox_ref::<Signal>("control")?))
    };
    let (protocol_control, csa_control) = match wire() {
        Ok(refs) => refs,
        Err(e) => {
            ctx.unlink_component(&csa);
            ctx.unlink_component(&protocol);
            return Err(format!("cannot serve {peer}: the protocol component {} does not fit: {e}", protocol.name()));
        }
    };
    ctx.add_child(&csa);
    ctx.add_child(&protocol);
    for c in [&protocol, &csa] {
        if let Err(e) = ctx.activate(c) {
            ctx.remove_child(&csa);
            ctx.remove_child(&protocol);
            let _ = csa_control.try_send(Signal::ShutdownMicroprocess);
            let _ = protocol_control.try_send(Signal::ShutdownMicroprocess);
            return Err(format!("cannot serve {peer}: {e}"));
        }
    }
    Ok(Connection { csa, protocol, protocol_control, csa_control, protocol_told: false, csa_unlinked: false })
}
