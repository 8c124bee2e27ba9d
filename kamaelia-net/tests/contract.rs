//! The component contract for kamaelia-net's components, over real loopback sockets
//! (127.0.0.1, port 0).
//!
//! What axon-core's `Contract` can drive, it does: the adapter, both servers and the UDP
//! components (declared `never_blocks`: a socket component holds a chunk it could not hand
//! on and waits for readiness, rather than waiting in a send; its stalled-consumer shutdown is
//! tested below). SingleServer and TcpClient go through it without messages: data put into a
//! SingleServer with no client waits for the next client, and a TcpClient still connecting
//! is aborted by ProducerFinished (Kamaelia's rule), so neither drains an inbox then.
//!
//! The rest, per component, with connections open: ServerCore's ProducerFinished and
//! shutdown reaching every connection, a Status through a connected TcpClient, and a
//! shutdown reaching an adapter whose consumer has stalled. Elsewhere: ProducerFinished and
//! shutdown of a connected TcpClient (tests/tcp_client.rs:
//! `data_goes_both_ways_and_producer_finished_closes_the_connection`,
//! `shutdown_closes_the_connection_and_is_passed_on`, and while connecting
//! `shutdown_while_connecting_aborts_the_connect`,
//! `producer_finished_before_the_connection_is_made_aborts_it`); SingleServer with a client
//! (tests/single_server.rs: `producer_finished_flushes_the_client_then_ends_the_server`,
//! `shutdown_closes_the_client_and_is_passed_on`); UdpPeer with datagrams queued
//! (tests/udp.rs: `producer_finished_sends_what_is_queued_then_ends`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axon_core::conformance::Contract;
use axon_core::{Component, ComponentBuilder, Direction, Handle, Inbox, LinkOptions, Signal, link, link_with};
use kamaelia_net::{
    ConnInfo, ConnectedSocketAdapter, MulticastReceiver, MulticastSender, MulticastTransceiver, ServerCore,
    SingleServer, TcpClient, UdpPeer,
};

const LIMIT: Duration = Duration::from_secs(20);

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A connected pair on loopback: the adapter's side (non-blocking, for mio) and the peer's.
fn connected_pair() -> (mio::net::TcpStream, TcpStream) {
    let listener = TcpListener::bind(localhost()).unwrap();
    let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, _) = listener.accept().unwrap();
    ours.set_nonblocking(true).unwrap();
    (mio::net::TcpStream::from_std(ours), peer)
}

#[test]
fn connected_socket_adapter() {
    // The peers stay open for the whole check, so no adapter sees its peer close.
    let peers = Arc::new(Mutex::new(Vec::new()));
    let kept = peers.clone();
    Contract::new("ConnectedSocketAdapter", move || {
        let (stream, peer) = connected_pair();
        kept.lock().unwrap().push(peer);
        ConnectedSocketAdapter::new(stream).build()
    })
    .sample(|i| format!("message {i}\n").into_bytes())
    .never_blocks()
    .check()
    .unwrap();
    drop(peers);
}

/// Answers each chunk with "hello " + the chunk, on the driver.
fn greeter(_: ConnInfo) -> Component {
    let mut b = ComponentBuilder::new("Greeter");
    let io = b.standard::<Vec<u8>, Vec<u8>>();
    b.run(|_| io.transform(|bytes| Some([b"hello ".as_slice(), &bytes].concat())))
}

#[test]
fn server_core() {
    Contract::<()>::new("ServerCore", || ServerCore::new(greeter).port(0).listen().unwrap().component)
        .never_blocks()
        .check()
        .unwrap();
    server_core_producer_finished_lets_each_connection_finish_then_ends();
    server_core_shutdown_closes_each_connection_then_ends();
}

/// A running ServerCore with `n` clients connected and answered once each.
struct Served {
    server: Component,
    clients: Vec<BufReader<TcpStream>>,
    signals: Handle<(), ()>,
    _bg: axon_core::Background,
}

fn serve(n: usize) -> Served {
    let listening = ServerCore::new(greeter).port(0).listen().unwrap();
    let bg = kamaelia_net::scheduler().unwrap().background();
    let signals = bg.handle::<(), ()>(&listening.component).unwrap();
    let mut clients = Vec::new();
    for i in 0..n {
        let mut c = TcpStream::connect(listening.local_addr).unwrap();
        c.set_read_timeout(Some(LIMIT)).unwrap();
        c.write_all(format!("{i}\n").as_bytes()).unwrap();
        let mut r = BufReader::new(c);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert_eq!(line, format!("hello {i}\n"));
        clients.push(r);
    }
    Served { server: listening.component, clients, signals, _bg: bg }
}

fn wait_finished(c: &Component) {
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        assert!(Instant::now() < deadline, "{} did not end", c.name());
        std::thread::yield_now();
    }
}

/// ProducerFinished: every protocol is told to finish, answers what it still has, and
/// closes its connection; the server ends after them, passing the signal on last.
fn server_core_producer_finished_lets_each_connection_finish_then_ends() {
    let mut s = serve(2);
    // Sent before the stop: each protocol answers it before closing.
    for (i, c) in s.clients.iter_mut().enumerate() {
        c.get_mut().write_all(format!("last {i}\n").as_bytes()).unwrap();
    }
    s.signals.put_control(Signal::Status("before".into()));
    assert!(matches!(s.signals.get_signal_timeout(LIMIT), Some(Signal::Status(t)) if t == "before"));
    for (i, c) in s.clients.iter_mut().enumerate() {
        let mut line = String::new();
        c.read_line(&mut line).unwrap();
        assert_eq!(line, format!("hello last {i}\n"));
    }
    s.signals.put_control(Signal::producer_finished());
    for c in &mut s.clients {
        let mut rest = Vec::new();
        assert_eq!(c.read_to_end(&mut rest).unwrap(), 0, "the connection is closed");
    }
    let end = s.signals.get_signal_timeout(LIMIT).expect("the server passes its signal on");
    assert!(end.is_producer_finished(), "{end:?}");
    wait_finished(&s.server);
}

/// ShutdownMicroprocess closes every connection at once and is passed on.
fn server_core_shutdown_closes_each_connection_then_ends() {
    let mut s = serve(2);
    s.signals.put_control(Signal::ShutdownMicroprocess);
    for c in &mut s.clients {
        let mut rest = Vec::new();
        assert_eq!(c.read_to_end(&mut rest).unwrap(), 0, "the connection is closed");
    }
    let end = s.signals.get_signal_timeout(LIMIT).expect("the server passes its signal on");
    assert!(matches!(end, Signal::ShutdownMicroprocess), "{end:?}");
    wait_finished(&s.server);
}

#[test]
fn single_server() {
    Contract::<Vec<u8>>::new("SingleServer", || SingleServer::new().port(0).listen().unwrap().component)
        .never_blocks()
        .check()
        .unwrap();
}

#[test]
fn tcp_client() {
    // A listener that never accepts: the kernel completes the connection anyway, and the
    // client is connecting or connected for as long as the check needs.
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    Contract::<Vec<u8>>::new("TcpClient", move || TcpClient::new("127.0.0.1", addr.port()).build())
        .never_blocks()
        .check()
        .unwrap();
    drop(listener);
    tcp_client_passes_a_status_on_once_connected();
}

/// Once connected, `control` goes to the adapter; a Status still comes back out of the
/// client's `signal`, and the connection carries on.
fn tcp_client_passes_a_status_on_once_connected() {
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let bg = kamaelia_net::scheduler().unwrap().background();
    let c = TcpClient::new("127.0.0.1", addr.port()).build();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    let (mut server_side, _) = listener.accept().unwrap();
    server_side.set_read_timeout(Some(LIMIT)).unwrap();
    h.put(b"ping".to_vec());
    let mut got = [0; 4];
    server_side.read_exact(&mut got).unwrap();
    h.put_control(Signal::Status("connected".into()));
    assert!(matches!(h.get_signal_timeout(LIMIT), Some(Signal::Status(t)) if t == "connected"));
    server_side.write_all(b"pong").unwrap();
    assert_eq!(h.get_timeout(LIMIT).as_deref(), Some(b"pong".as_slice()), "it carries on");
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(h.get_signal_timeout(LIMIT), Some(Signal::ShutdownMicroprocess)));
    wait_finished(&c);
}

#[test]
fn udp_peer() {
    let target = std::net::UdpSocket::bind(localhost()).unwrap();
    let to = target.local_addr().unwrap();
    Contract::new("UdpPeer", || UdpPeer::bind(localhost()).unwrap().0)
        .sample(move |i| (to, vec![i as u8]))
        .never_blocks()
        .check()
        .unwrap();
    udp_peer_shutdown_while_its_consumer_has_stalled();
}

/// A peer whose outbox's destination is full holds a datagram and waits; a shutdown still
/// ends it and is passed on. (The adapter shares the pattern, checked in the same way.)
fn udp_peer_shutdown_while_its_consumer_has_stalled() {
    let (peer, addr) = UdpPeer::bind(localhost()).unwrap();
    let (stalled, signals) = stall(&peer);
    let bg = kamaelia_net::scheduler().unwrap().background();
    bg.activate(&peer).unwrap();
    let sender = std::net::UdpSocket::bind(localhost()).unwrap();
    let deadline = Instant::now() + LIMIT;
    while stalled.box_info("inbox").unwrap().len < 1 {
        assert!(Instant::now() < deadline, "nothing reached the stalled consumer");
        sender.send_to(b"x", addr).unwrap();
        std::thread::yield_now();
    }
    for _ in 0..3 {
        sender.send_to(b"held", addr).unwrap();
    }
    peer.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
    wait_finished(&peer);
    let signals = signals_of(&signals);
    assert!(signals.last().is_some_and(Signal::is_shutdown), "{signals:?}");
    adapter_shutdown_while_its_consumer_has_stalled();
}

fn adapter_shutdown_while_its_consumer_has_stalled() {
    let (stream, mut peer) = connected_pair();
    let csa = ConnectedSocketAdapter::new(stream).build();
    let (stalled, signals) = stall(&csa);
    let bg = kamaelia_net::scheduler().unwrap().background();
    bg.activate(&csa).unwrap();
    peer.write_all(b"first").unwrap();
    let deadline = Instant::now() + LIMIT;
    while stalled.box_info("inbox").unwrap().len < 1 {
        assert!(Instant::now() < deadline, "nothing reached the stalled consumer");
        std::thread::yield_now();
    }
    peer.write_all(b"held").unwrap();
    csa.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
    wait_finished(&csa);
    let signals = signals_of(&signals);
    assert!(signals.last().is_some_and(Signal::is_shutdown), "{signals:?}");
    let mut rest = Vec::new();
    peer.set_read_timeout(Some(LIMIT)).unwrap();
    assert_eq!(peer.read_to_end(&mut rest).unwrap(), 0, "the connection is closed");
}

/// Links `c`'s outbox to a box of capacity 1 that nobody reads, and its signal to a box the
/// test reads; returns the stalled component and that box.
fn stall(c: &Component) -> (Component, Inbox<Signal>) {
    let mut b = ComponentBuilder::new("Stalled");
    b.declare_like("inbox", Direction::Inbox, (c, "outbox")).unwrap();
    let signal_in = b.inbox::<Signal>("signal_in");
    // Never activated: its inbox fills and stays full.
    let stalled = b.run(|_ctx| async {});
    link_with((c, "outbox"), (&stalled, "inbox"), LinkOptions::capacity(1)).unwrap();
    link((c, "signal"), (&stalled, "signal_in")).unwrap();
    (stalled, signal_in)
}

/// Everything `c` passed on before it ended.
fn signals_of(signal_in: &Inbox<Signal>) -> Vec<Signal> {
    signal_in.drain().collect()
}

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

#[test]
fn multicast_sender() {
    let group = Ipv4Addr::new(239, 255, 78, 1);
    Contract::new("MulticastSender", move || {
        MulticastSender::new(localhost(), group, 40_001).interface(LO).ttl(1).build().unwrap().0
    })
    .sample(|i| vec![i as u8])
    .never_blocks()
    .check()
    .unwrap();
}

#[test]
fn multicast_receiver() {
    let group = Ipv4Addr::new(239, 255, 78, 2);
    Contract::<()>::new("MulticastReceiver", move || MulticastReceiver::new(group, 0).interface(LO).build().unwrap().0)
        .never_blocks()
        .check()
        .unwrap();
}

#[test]
fn multicast_transceiver() {
    let group = Ipv4Addr::new(239, 255, 78, 3);
    Contract::new("MulticastTransceiver", move || {
        MulticastTransceiver::new(localhost(), group, 40_003).interface(LO).ttl(1).build().unwrap().0
    })
    .sample(|i| vec![i as u8])
    .never_blocks()
    .check()
    .unwrap();
}
