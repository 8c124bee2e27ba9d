//! UDP as components: [`UdpPeer`] (datagrams to and from any address) and IPv4 multicast
//! ([`MulticastSender`], [`MulticastReceiver`], [`MulticastTransceiver`]; Kamaelia's
//! `Multicast_sender`, `Multicast_receiver`, `Multicast_transceiver`).

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use axon_core::{Component, ComponentBuilder, ControlWatch, Signal, yield_now};
use mio::net::UdpSocket;
use socket2::{Domain, Protocol, Socket, Type};

use crate::selector::{READABLE, Selector, WRITABLE};

/// The largest datagram received whole (larger ones are truncated by the OS): 64 KiB, above
/// the largest UDP payload (65 507 bytes over IPv4).
pub const MAX_DATAGRAM: usize = 64 * 1024;
/// Capacity of the `inbox` of every datagram component, in messages.
const INBOX_CAPACITY: usize = 64;
/// Datagrams sent, or received, before letting other components run.
const PER_TURN: usize = 16;

/// A UDP socket as a component (Kamaelia has no general one; this is the building block of
/// its multicast components).
///
/// Boxes:
/// - `inbox: (SocketAddr, Vec<u8>)`: datagrams to send, each to its address (bounded, 64
///   messages; when the socket's send buffer is full, senders wait).
/// - `control: Signal`: shutdown signalling (below); other signals are passed on.
/// - `outbox: (SocketAddr, Vec<u8>)`: datagrams received, with their sender's address, at
///   most [`MAX_DATAGRAM`] bytes each. While its destination is full the socket is not read,
///   and datagrams beyond the OS's receive buffer are dropped by the OS, as UDP does.
/// - `signal: Signal`: `ErrorInformation` when a datagram cannot be sent (it is then
///   dropped; the message names its destination and size) or a receive fails; the terminal
///   signal from `control`.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), read for a
/// socket: `ProducerFinished` sends every datagram still in `inbox`, then closes the socket
/// and passes the signal on; `ShutdownMicroprocess` (or `Shutdown`) closes it at once and
/// passes it on. The multicast components share this body.
#[derive(Debug)]
pub struct UdpPeer;

impl UdpPeer {
    /// Binds `addr` (port 0: any free port) and returns the component and the address it
    /// is bound to.
    pub fn bind(addr: SocketAddr) -> io::Result<(Component, SocketAddr)> {
        Self::from_socket(std::net::UdpSocket::bind(addr)?)
    }

    /// The component for a socket already bound and configured (made non-blocking here).
    pub fn from_socket(socket: std::net::UdpSocket) -> io::Result<(Component, SocketAddr)> {
        let local = socket.local_addr()?;
        socket.set_nonblocking(true)?;
        let c = datagram_component("UdpPeer", UdpSocket::from_std(socket), Some(|d: (SocketAddr, Vec<u8>)| d), true);
        Ok((c, local))
    }
}

/// Builds a multicast sender: every message on its `inbox` becomes one datagram to the
/// group's address and port (Kamaelia's `Multicast_sender`).
///
/// Boxes: `inbox: Vec<u8>` (datagrams for the group; bounded, 64 messages), `control`,
/// `signal` as [`UdpPeer`]'s; `outbox: (SocketAddr, Vec<u8>)` is unused (a sender does not
/// read its socket; the type is the transceiver's, so one can stand in for the other).
///
/// Differs from Kamaelia: it obeys `control` and ends, and waits for readiness instead of
/// busy-polling. IPv4 only.
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug, Clone)]
pub struct MulticastSender {
    local: SocketAddr,
    group: SocketAddrV4,
    options: SendOptions,
}

impl MulticastSender {
    /// A sender bound to `local` (port 0: any), sending to `group:port`. Defaults: TTL 10
    /// (Kamaelia's), the OS's choice of interface, loopback on.
    pub fn new(local: SocketAddr, group: Ipv4Addr, port: u16) -> Self {
        MulticastSender { local, group: SocketAddrV4::new(group, port), options: SendOptions::new(10) }
    }

    /// The multicast TTL: how many routers a datagram may cross (0: this host only; 1: this
    /// network).
    pub fn ttl(mut self, ttl: u32) -> Self {
        self.options.ttl = ttl;
        self
    }

    /// The address of the interface datagrams leave by (`127.0.0.1` keeps them on this host).
    pub fn interface(mut self, interface: Ipv4Addr) -> Self {
        self.options.interface = Some(interface);
        self
    }

    /// Whether this host's own members of the group get the datagrams too (default true).
    pub fn loopback(mut self, on: bool) -> Self {
        self.options.loopback = on;
        self
    }

    /// The socket [`build`](Self::build) uses: bound, with its options set.
    pub fn socket(&self) -> io::Result<std::net::UdpSocket> {
        let s = new_socket(self.local, false)?;
        self.options.apply(&s)?;
        Ok(s.into())
    }

    /// The component and its local address.
    pub fn build(self) -> io::Result<(Component, SocketAddr)> {
        let socket = self.socket()?;
        let group = SocketAddr::V4(self.group);
        wrap(socket, "MulticastSender", Some(move |data: Vec<u8>| (group, data)), false)
    }
}

/// Builds a multicast receiver: joins a group and emits the datagrams sent to the group's
/// address and port (Kamaelia's `Multicast_receiver`).
///
/// Boxes: `outbox: (SocketAddr, Vec<u8>)` (each datagram with its sender's address, at most
/// [`MAX_DATAGRAM`] bytes), `control`, `signal` as [`UdpPeer`]'s (`ProducerFinished` and
/// `ShutdownMicroprocess` both end it at once: it has nothing to send); `inbox: ()` is
/// unused.
///
/// The socket has SO_REUSEADDR, so several receivers (and transceivers) on one host can
/// share a group's port. On Unix it is bound to the group's address, so it gets only that
/// group's datagrams.
///
/// Differs from Kamaelia: it obeys `control` and ends, waits for readiness instead of
/// busy-polling, and receives whole datagrams (Kamaelia's read at most 1024 bytes). IPv4 only.
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug, Clone)]
pub struct MulticastReceiver {
    group: SocketAddrV4,
    interface: Ipv4Addr,
}

impl MulticastReceiver {
    /// A receiver for `group:port` (port 0: any free port, see the address `build` returns).
    /// Default interface: the OS's choice.
    pub fn new(group: Ipv4Addr, port: u16) -> Self {
        MulticastReceiver { group: SocketAddrV4::new(group, port), interface: Ipv4Addr::UNSPECIFIED }
    }

    /// The address of the interface on which to join the group (`127.0.0.1`: this host's
    /// loopback interface).
    pub fn interface(mut self, interface: Ipv4Addr) -> Self {
        self.interface = interface;
        self
    }

    /// The socket [`build`](Self::build) uses: bound, and a member of the group.
    pub fn socket(&self) -> io::Result<std::net::UdpSocket> {
        let bind_ip = if cfg!(unix) { *self.group.ip() } else { Ipv4Addr::UNSPECIFIED };
        let s = new_socket(SocketAddr::V4(SocketAddrV4::new(bind_ip, self.group.port())), true)?;
        s.join_multicast_v4(self.group.ip(), &self.interface)?;
        Ok(s.into())
    }

    /// The component and its local address (the group's port, useful when it was 0).
    pub fn build(self) -> io::Result<(Component, SocketAddr)> {
        let socket = self.socket()?;
        wrap(socket, "MulticastReceiver", None::<fn(()) -> (SocketAddr, Vec<u8>)>, true)
    }
}

/// Builds a multicast transceiver: joins a group, emits what is sent to it, and sends every
/// message on its `inbox` to it (Kamaelia's `Multicast_transceiver`). It hears its own
/// datagrams too while [`loopback`](Self::loopback) is on.
///
/// Boxes: `inbox: Vec<u8>` (datagrams for the group; bounded, 64 messages), `outbox:
/// (SocketAddr, Vec<u8>)` (datagrams received, with their sender's address), `control`,
/// `signal` as [`UdpPeer`]'s.
///
/// To hear the group, `local` must be the group's address or the unspecified address, with
/// the group's port (an address bound to one interface hears only datagrams sent to it).
/// SO_REUSEADDR is set.
///
/// Differs from Kamaelia: it obeys `control` and ends, waits for readiness instead of
/// busy-polling, and receives whole datagrams (Kamaelia's read at most 16384 bytes). IPv4 only.
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug, Clone)]
pub struct MulticastTransceiver {
    local: SocketAddr,
    group: SocketAddrV4,
    interface: Ipv4Addr,
    options: SendOptions,
}

impl MulticastTransceiver {
    /// A transceiver bound to `local`, a member of `group`, sending to `group:port`.
    /// Defaults: TTL 255 (Kamaelia's), the OS's choice of interface, loopback on.
    pub fn new(local: SocketAddr, group: Ipv4Addr, port: u16) -> Self {
        MulticastTransceiver {
            local,
            group: SocketAddrV4::new(group, port),
            interface: Ipv4Addr::UNSPECIFIED,
            options: SendOptions::new(255),
        }
    }

    /// The multicast TTL of what it sends.
    pub fn ttl(mut self, ttl: u32) -> Self {
        self.options.ttl = ttl;
        self
    }

    /// The interface on which it joins the group and by which its datagrams leave.
    pub fn interface(mut self, interface: Ipv4Addr) -> Self {
        self.interface = interface;
        self.options.interface = Some(interface);
        self
    }

    /// Whether this host's members of the group, itself included, get what it sends
    /// (default true).
    pub fn loopback(mut self, on: bool) -> Self {
        self.options.loopback = on;
        self
    }

    /// The socket [`build`](Self::build) uses: bound, a member of the group, options set.
    pub fn socket(&self) -> io::Result<std::net::UdpSocket> {
        let s = new_socket(self.local, true)?;
        s.join_multicast_v4(self.group.ip(), &self.interface)?;
        self.options.apply(&s)?;
        Ok(s.into())
    }

    /// The component and its local address.
    pub fn build(self) -> io::Result<(Component, SocketAddr)> {
        let socket = self.socket()?;
        let group = SocketAddr::V4(self.group);
        wrap(socket, "MulticastTransceiver", Some(move |data: Vec<u8>| (group, data)), true)
    }
}

/// Options of a socket that sends to a group.
#[derive(Debug, Clone, Copy)]
struct SendOptions {
    ttl: u32,
    interface: Option<Ipv4Addr>,
    loopback: bool,
}

impl SendOptions {
    fn new(ttl: u32) -> Self {
        SendOptions { ttl, interface: None, loopback: true }
    }

    fn apply(&self, s: &Socket) -> io::Result<()> {
        s.set_multicast_ttl_v4(self.ttl)?;
        s.set_multicast_loop_v4(self.loopback)?;
        if let Some(i) = self.interface {
            s.set_multicast_if_v4(&i)?;
        }
        Ok(())
    }
}

fn new_socket(addr: SocketAddr, reuse: bool) -> io::Result<Socket> {
    if !addr.is_ipv4() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("multicast is IPv4 only here, not {addr}")));
    }
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    if reuse {
        s.set_reuse_address(true)?;
    }
    s.bind(&addr.into())?;
    Ok(s)
}

fn wrap<I, F>(
    socket: std::net::UdpSocket,
    kind: &'static str,
    send: Option<F>,
    reads: bool,
) -> io::Result<(Component, SocketAddr)>
where
    I: Send + 'static,
    F: Fn(I) -> (SocketAddr, Vec<u8>) + Send + Sync + 'static,
{
    let local = socket.local_addr()?;
    socket.set_nonblocking(true)?;
    Ok((datagram_component(kind, UdpSocket::from_std(socket), send, reads), local))
}

/// The body every datagram component shares: send what `inbox` holds (each message made a
/// datagram by `send`; `None`: a receiver, whose inbox is unused), and, if `reads`, emit what
/// the socket receives.
fn datagram_component<I, F>(kind: &'static str, mut socket: UdpSocket, send: Option<F>, reads: bool) -> Component
where
    I: Send + 'static,
    F: Fn(I) -> (SocketAddr, Vec<u8>) + Send + Sync + 'static,
{
    let mut b = ComponentBuilder::new(kind);
    let inbox = b.inbox_with_capacity::<I>("inbox", INBOX_CAPACITY);
    let control = b.control();
    let outbox = b.outbox::<(SocketAddr, Vec<u8>)>("outbox");
    let signal = b.signal();
    b.run(move |ctx| async move {
        let me = ctx.id();
        let error = |message: String| Signal::ErrorInformation { caller: Some(me), message };
        let mut watch = ControlWatch::new(control, signal);
        let selector = match Selector::of(&ctx) {
            Ok(s) => s,
            Err(e) => return watch.finish(error(format!("no selector: {e}"))).await,
        };
        let reg = match selector.register(&mut socket) {
            Ok(r) => r,
            Err(e) => return watch.finish(error(format!("cannot watch the socket: {e}"))).await,
        };
        let mut buf = vec![0u8; MAX_DATAGRAM];
        // A datagram the socket would not take yet.
        let mut pending: Option<(SocketAddr, Vec<u8>)> = None;
        // A datagram received but not yet accepted by the outbox's destination.
        let mut held: Option<(SocketAddr, Vec<u8>)> = None;
        let mut closing: Option<Signal> = None;
        let end = loop {
            if let Some(stop) = watch.check() {
                break stop;
            }
            if let Some(finished) = watch.take_finished() {
                closing.get_or_insert(finished);
            }
            let mut progressed = false;
            if let Some(send) = &send {
                for _ in 0..PER_TURN {
                    let Some((to, data)) = pending.take().or_else(|| inbox.try_recv().map(send)) else { break };
                    let seen = reg.ready();
                    match socket.send_to(&data, to) {
                        Ok(_) => progressed = true,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            reg.clear(seen, WRITABLE);
                            pending = Some((to, data));
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => pending = Some((to, data)),
                        Err(e) => {
                            progressed = true;
                            watch.emit(error(format!("cannot send {} bytes to {to}: {e}", data.len()))).await;
                        }
                    }
                }
            }
            if let Some(sig) = &closing {
                if pending.is_none() && (send.is_none() || inbox.is_empty()) {
                    break sig.clone();
                }
            }
            if reads {
                if let Some(d) = held.take() {
                    match outbox.try_send_notify(d) {
                        Ok(()) => progressed = true,
                        Err(full) => held = Some(full.into_inner()),
                    }
                }
                let mut n = 0;
                while held.is_none() && n < PER_TURN {
                    n += 1;
                    let seen = reg.ready();
                    match socket.recv_from(&mut buf) {
                        Ok((len, from)) => {
                            progressed = true;
                            if let Err(full) = outbox.try_send_notify((from, buf[..len].to_vec())) {
                                held = Some(full.into_inner());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            reg.clear(seen, READABLE);
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            // An error the OS queued (an ICMP report, say); it is taken by
                            // this call, so reading goes on.
                            progressed = true;
                            watch.emit(error(format!("receive failed: {e}"))).await;
                        }
                    }
                }
            }
            if progressed {
                yield_now().await;
                continue;
            }
            let mut want = 0;
            if reads && held.is_none() {
                want |= READABLE;
            }
            if pending.is_some() {
                want |= WRITABLE;
            }
            // Readiness, or any wake: a delivery into inbox or control, or space in the
            // outbox's destination.
            reg.wait(want).await;
        };
        reg.deregister(&mut socket);
        drop(socket);
        watch.finish(end).await;
    })
}
