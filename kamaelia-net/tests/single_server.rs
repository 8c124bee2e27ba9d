//! SingleServer on loopback: one client at a time, served through the server's own boxes;
//! others refused while it is served; the next served once it leaves; shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use axon_core::{Background, Component, Direction, Handle, Signal};
use kamaelia_net::{PEER_CLOSED, SingleServer};

const LIMIT: Duration = Duration::from_secs(20);

/// A server on its own background scheduler, with a handle on its boxes.
fn start(server: SingleServer) -> (SocketAddr, Component, Handle<Vec<u8>, Vec<u8>>, Background) {
    let listening = server.port(0).listen().expect("listen");
    let bg = kamaelia_net::scheduler().expect("scheduler").background();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&listening.component).unwrap();
    (listening.local_addr, listening.component, h, bg)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s
}

fn read_exact(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).expect("the bytes arrive");
    buf
}

/// Reads `n` bytes from the server's outbox, whatever the chunking.
fn from_outbox(h: &Handle<Vec<u8>, Vec<u8>>, n: usize) -> Vec<u8> {
    let deadline = Instant::now() + LIMIT;
    let mut got = Vec::new();
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        got.extend(h.get_timeout(left).unwrap_or_else(|| panic!("only {} of {n} bytes arrived", got.len())));
    }
    got
}

fn next_signal(h: &Handle<Vec<u8>, Vec<u8>>) -> Signal {
    h.get_signal_timeout(LIMIT).expect("a signal within the time limit")
}

fn wait_finished(c: &Component) {
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        assert!(Instant::now() < deadline, "{} did not end", c.name());
        std::thread::yield_now();
    }
}

/// The client's bytes come out of the server's outbox, and what is put into its inbox
/// goes to the client.
#[test]
fn the_server_s_boxes_are_the_client_s_connection() {
    let (addr, _c, h, _bg) = start(SingleServer::new());
    let mut client = connect(addr);
    client.write_all(b"ping").unwrap();
    assert_eq!(from_outbox(&h, 4), b"ping");
    h.put(b"pong".to_vec());
    assert_eq!(read_exact(&mut client, 4), b"pong");
}

/// A client that connects while another is served gets the refusal and is closed; the
/// served client is not disturbed.
#[test]
fn a_second_client_is_refused_while_one_is_served() {
    let (addr, _c, h, _bg) = start(SingleServer::new().refusal("busy\r\n"));
    let mut first = connect(addr);
    first.write_all(b"one").unwrap();
    assert_eq!(from_outbox(&h, 3), b"one");
    let mut second = connect(addr);
    let mut refusal = String::new();
    second.read_to_string(&mut refusal).unwrap();
    assert_eq!(refusal, "busy\r\n");
    h.put(b"still yours".to_vec());
    assert_eq!(read_exact(&mut first, 11), b"still yours");
}

/// When the served client disconnects the server emits ProducerFinished("peer closed")
/// and serves the next client.
#[test]
fn when_the_client_leaves_producer_finished_is_emitted_and_the_next_is_served() {
    let (addr, c, h, _bg) = start(SingleServer::new());
    let mut first = connect(addr);
    first.write_all(b"first").unwrap();
    assert_eq!(from_outbox(&h, 5), b"first");
    drop(first);
    match next_signal(&h) {
        Signal::ProducerFinished { caller, message } => {
            assert_eq!(caller, Some(c.id()));
            assert_eq!(message.as_deref(), Some(PEER_CLOSED));
        }
        other => panic!("expected ProducerFinished, got {other:?}"),
    }
    let mut second = connect(addr);
    second.write_all(b"second").unwrap();
    assert_eq!(from_outbox(&h, 6), b"second");
    h.put(b"hi".to_vec());
    assert_eq!(read_exact(&mut second, 2), b"hi");
    assert!(!c.is_finished(), "the server keeps serving");
}

/// What is put into the inbox while no client is connected waits and goes to the next
/// client.
#[test]
fn data_put_while_no_client_is_connected_goes_to_the_next_client() {
    let (addr, _c, h, _bg) = start(SingleServer::new());
    h.put(b"welcome".to_vec());
    let mut client = connect(addr);
    assert_eq!(read_exact(&mut client, 7), b"welcome");
}

/// ProducerFinished on control writes what the client's connection holds, closes it, is
/// passed on, and the server ends; the port is then closed.
#[test]
fn producer_finished_flushes_the_client_then_ends_the_server() {
    let (addr, c, h, _bg) = start(SingleServer::new());
    let mut client = connect(addr);
    client.write_all(b"x").unwrap();
    assert_eq!(from_outbox(&h, 1), b"x");
    h.put(b"last words".to_vec());
    h.put_control(Signal::producer_finished());
    let mut all = Vec::new();
    client.read_to_end(&mut all).unwrap();
    assert_eq!(all, b"last words");
    assert!(matches!(next_signal(&h), Signal::ProducerFinished { caller: None, message: None }));
    wait_finished(&c);
    assert!(TcpStream::connect(addr).is_err(), "the listening socket is closed");
}

/// ShutdownMicroprocess closes the client's connection at once, is passed on, and the
/// server ends.
#[test]
fn shutdown_closes_the_client_and_is_passed_on() {
    let (addr, c, h, _bg) = start(SingleServer::new());
    let mut client = connect(addr);
    client.write_all(b"x").unwrap();
    assert_eq!(from_outbox(&h, 1), b"x");
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(next_signal(&h), Signal::ShutdownMicroprocess));
    let mut rest = Vec::new();
    // The close may be seen as an end or as a reset: either way no more data.
    let n = client.read_to_end(&mut rest).unwrap_or(0);
    assert_eq!(n, 0);
    wait_finished(&c);
}

/// With no client, ShutdownMicroprocess ends the server at once and is passed on.
#[test]
fn shutdown_with_no_client_ends_the_server() {
    let (_addr, c, h, _bg) = start(SingleServer::new());
    h.put_control(Signal::Shutdown);
    assert!(matches!(next_signal(&h), Signal::Shutdown));
    wait_finished(&c);
}

/// A snapshot shows the server's boxes with their message types.
#[test]
fn the_server_shows_its_boxes_in_a_snapshot() {
    let (_addr, c, _h, bg) = start(SingleServer::new());
    let snap = bg.snapshot();
    let me = snap.components.iter().find(|i| i.id == c.id()).expect("the server is in the snapshot");
    let boxes: Vec<_> = me.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
    let bytes = std::any::type_name::<Vec<u8>>();
    let signal = std::any::type_name::<Signal>();
    assert_eq!(
        boxes,
        [
            ("inbox", Direction::Inbox, bytes),
            ("control", Direction::Inbox, signal),
            ("outbox", Direction::Outbox, bytes),
            ("signal", Direction::Outbox, signal),
            ("_csa_control", Direction::Outbox, signal),
            ("_csa_signal", Direction::Inbox, signal),
        ]
    );
}

/// Binding a port that is in use is an error when the server is built.
#[test]
fn a_taken_port_is_an_error_at_listen() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let err = SingleServer::new().port(port).listen().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}
