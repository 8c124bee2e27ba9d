//! SingleServer: a TCP server for one client at a time, which the component itself stands
//! for: its `inbox` goes to the client, the client's bytes come out of its `outbox`
//! (Kamaelia's `SingleServer`/`FastRestartSingleServer`).

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axon_core::{Component, ComponentBuilder, Ctx, Signal};
use mio::net::{TcpListener, TcpStream};

use crate::client::PEER_CLOSED;
use crate::csa::{ConnectedSocketAdapter, SlowClientPolicy};
use crate::selector::{READABLE, Selector};
use crate::server::Listening;
use crate::stop::ServerControl;

const INBOX_CAPACITY: usize = 64;

/// Builds a SingleServer: `SingleServer::new().port(1601).listen()?`.
///
/// The first client to connect is served by a [`ConnectedSocketAdapter`] child wired to the
/// server's own boxes. A client that connects while one is served is sent the
/// [`refusal`](Self::refusal) (nothing by default) and closed. When the served client
/// disconnects, whatever is pending for it is written, the connection is closed, the server
/// emits `ProducerFinished` on `signal` and serves the next client to connect.
///
/// Boxes:
/// - `inbox: Vec<u8>`: bytes for the client (bounded, 64 messages). While no client is
///   connected they wait here, and go to the next client. Bytes already handed to a
///   client's connection when that client leaves are discarded with the connection.
/// - `control: Signal`: shutdown signalling (below); other signals are passed on.
/// - `outbox: Vec<u8>`: bytes from the client, as they arrive.
/// - `signal: Signal`: `ProducerFinished { message: Some("peer closed") }` each time a
///   client disconnects (so a consumer wired `signal -> control` stops with the first
///   client, as in Kamaelia); on a socket error `ErrorInformation`, then `ProducerFinished`
///   with the error text; `ErrorInformation` when a connection cannot be set up; the
///   terminal signal from `control` when that ends it.
/// - `_csa_control: Signal` (private): to the current connection's `control`.
/// - `_csa_signal: Signal` (private): from the current connection's `signal`.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), read for a
/// server whose connection stands for it. `ProducerFinished` stops accepting, lets the
/// current client's connection write what it holds and close, then passes the signal on and
/// ends. `ShutdownMicroprocess` (or `Shutdown`) closes the connection at once, passes it on
/// and ends. A later terminal signal adds nothing.
///
/// Differs from Kamaelia: the port is bound when the server is built (a taken port is an
/// error here and now); SO_REUSEADDR is always set (FastRestartSingleServer); `control` is
/// obeyed (Kamaelia's does not listen to it).
#[must_use = "a builder does nothing until `listen` is called"]
#[derive(Debug, Clone)]
pub struct SingleServer {
    bind: IpAddr,
    port: u16,
    policy: SlowClientPolicy,
    refusal: Vec<u8>,
}

impl Default for SingleServer {
    fn default() -> Self {
        Self::new()
    }
}

impl SingleServer {
    /// A server on port 1601 of 127.0.0.1, with [`SlowClientPolicy::Wait`] (its one client
    /// stalls only its own senders) and no refusal text.
    pub fn new() -> Self {
        SingleServer {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 1601,
            policy: SlowClientPolicy::Wait,
            refusal: Vec::new(),
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

    /// What the connection does with a client that stops reading.
    pub fn slow_client(mut self, policy: SlowClientPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// What a client that connects while another is served is sent before it is closed.
    pub fn refusal(mut self, text: impl Into<Vec<u8>>) -> Self {
        self.refusal = text.into();
        self
    }

    /// Binds the port and returns the server, ready to activate.
    pub fn listen(self) -> io::Result<Listening> {
        let listener = crate::server::bind_listener(SocketAddr::new(self.bind, self.port), 128)?;
        let local_addr = listener.local_addr()?;
        Ok(Listening { component: self.component(listener), local_addr })
    }

    fn component(self, mut listener: TcpListener) -> Component {
        let mut b = ComponentBuilder::new("SingleServer");
        let _inbox = b.inbox_with_capacity::<Vec<u8>>("inbox", INBOX_CAPACITY);
        let control = b.control();
        let _outbox = b.outbox::<Vec<u8>>("outbox");
        let signal = b.signal();
        let csa_control = b.outbox::<Signal>("_csa_control");
        let feedback = b.inbox::<Signal>("_csa_signal");
        let SingleServer { policy, refusal, .. } = self;
        b.run(move |ctx| async move {
            let me = ctx.id();
            let mut ctl = ServerControl::new(control, signal, me);
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
            let mut client: Option<Client> = None;
            loop {
                if let Some(stop) = ctl.check() {
                    if client.is_some() {
                        // The connection stands for the server's protocol. `_csa_control` is
                        // linked only while a client is served, to its unbounded `control`.
                        csa_control.send(stop.to_handler()).await;
                    }
                }
                if ctl.is_stopping() {
                    if let Some(r) = reg.take() {
                        r.deregister(&mut listener);
                    }
                }
                if let Some(c) = &mut client {
                    // Read before draining: once it has ended, everything it sent is in `feedback`.
                    let finished = c.csa.is_finished();
                    while let Some(sig) = feedback.try_recv() {
                        match &sig {
                            Signal::ProducerFinished { caller: Some(id), message: Some(m) }
                                if *id == c.csa.id() && m == PEER_CLOSED && !c.peer_closed =>
                            {
                                c.peer_closed = true;
                                if !ctl.is_stopping() {
                                    csa_control
                                        .send(Signal::ProducerFinished {
                                            caller: Some(me),
                                            message: Some(PEER_CLOSED.into()),
                                        })
                                        .await;
                                }
                            }
                            Signal::ErrorInformation { caller: Some(id), message } if *id == c.csa.id() => {
                                c.failure = Some(message.clone());
                                ctl.error(message.clone()).await;
                            }
                            // The connection's own end, which this server asked for.
                            s if s.is_terminal() => {}
                            _ => ctl.emit(sig).await,
                        }
                    }
                    if finished {
                        ctx.remove_child(&c.csa);
                        let how = if c.peer_closed {
                            Some(PEER_CLOSED.to_string())
                        } else {
                            c.failure.take().or_else(|| Some("connection ended".into()))
                        };
                        client = None;
                        if !ctl.is_stopping() {
                            ctl.emit(Signal::ProducerFinished { caller: Some(me), message: how }).await;
                        }
                    }
                }
                if ctl.is_stopping() && client.is_none() {
                    return ctl.finish().await;
                }
                let Some(r) = &reg else {
                    axon_core::pause().await;
                    continue;
                };
                loop {
                    let seen = r.ready();
                    match listener.accept() {
                        Ok((stream, peer)) => {
                            if client.is_some() {
                                refuse(stream, &refusal);
                                continue;
                            }
                            match serve(&ctx, stream, policy, &selector) {
                                Ok(c) => client = Some(c),
                                Err(e) => ctl.error(format!("cannot serve {peer}: {e}")).await,
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            r.clear(seen, READABLE);
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            // Out of file descriptors, say: report, and try again at the next
                            // readiness rather than spin.
                            r.clear(seen, READABLE);
                            ctl.error(format!("accept failed: {e}")).await;
                            break;
                        }
                    }
                }
                r.wait(READABLE).await;
            }
        })
    }
}

struct Client {
    csa: Component,
    peer_closed: bool,
    failure: Option<String>,
}

/// Sends the refusal as far as the socket takes it without waiting, and closes.
fn refuse(mut stream: TcpStream, refusal: &[u8]) {
    if !refusal.is_empty() {
        let _ = stream.write(refusal);
        let _ = stream.flush();
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Makes the connection's adapter, wires it to the server's boxes and starts it.
fn serve(ctx: &Ctx, stream: TcpStream, policy: SlowClientPolicy, selector: &Selector) -> Result<Client, String> {
    let _ = stream.set_nodelay(true);
    let csa = ConnectedSocketAdapter::new(stream)
        .policy(policy)
        .inbox_capacity(INBOX_CAPACITY)
        .selector(selector.clone())
        .build();
    let me = ctx.component();
    let wire = || -> Result<(), axon_core::LinkError> {
        ctx.link((&me, "inbox"), (&csa, "inbox"))?;
        ctx.link((&csa, "outbox"), (&me, "outbox"))?;
        ctx.link((&me, "_csa_control"), (&csa, "control"))?;
        ctx.link((&csa, "signal"), (&me, "_csa_signal"))?;
        Ok(())
    };
    if let Err(e) = wire() {
        ctx.unlink_component(&csa);
        return Err(e.to_string());
    }
    if let Err(e) = ctx.spawn(&csa) {
        ctx.remove_child(&csa);
        return Err(e.to_string());
    }
    Ok(Client { csa, peer_closed: false, failure: None })
}
