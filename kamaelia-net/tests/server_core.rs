//! ServerCore on loopback: connections served by protocol components, half-close, refusal
//! beyond the connection limit, and shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use axon_core::{Component, ComponentBuilder, Signal};
use kamaelia_net::{ConnInfo, ServerCore};

const LIMIT: Duration = Duration::from_secs(20);

/// Answers every chunk with "hello " + the chunk; on the driver: drains, then forwards, on
/// a terminal signal.
fn greeter(_: ConnInfo) -> Component {
    let mut b = ComponentBuilder::new("Greeter");
    let io = b.standard::<Vec<u8>, Vec<u8>>();
    b.run(|_| io.transform(|bytes| Some([b"hello ".as_slice(), &bytes].concat())))
}

fn client(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s
}

/// Starts a server on its own scheduler thread; returns the address, its control and the
/// scheduler thread.
fn start(
    server: ServerCore<fn(ConnInfo) -> Component>,
) -> (std::net::SocketAddr, axon_core::InboxRef<Signal>, std::thread::JoinHandle<()>) {
    let listening = server.port(0).listen().expect("listen");
    let control = listening.component.inbox_ref::<Signal>("control").unwrap();
    let sched = kamaelia_net::scheduler().unwrap();
    sched.activate(&listening.component).unwrap();
    let t = std::thread::spawn(move || sched.run());
    (listening.local_addr, control, t)
}

fn join_within(t: std::thread::JoinHandle<()>) {
    let start = std::time::Instant::now();
    while !t.is_finished() {
        assert!(start.elapsed() < LIMIT, "the scheduler did not end");
        std::thread::yield_now();
    }
    t.join().unwrap();
}

/// Each connection gets its own protocol component, which answers what the client sends.
#[test]
fn each_connection_is_served_by_its_own_protocol_component() {
    let (addr, control, t) = start(ServerCore::new(greeter as fn(ConnInfo) -> Component));
    let mut a = client(addr);
    let mut b = client(addr);
    a.write_all(b"alice\n").unwrap();
    b.write_all(b"bob\n").unwrap();
    let mut ra = BufReader::new(a.try_clone().unwrap());
    let mut rb = BufReader::new(b.try_clone().unwrap());
    let mut line = String::new();
    ra.read_line(&mut line).unwrap();
    assert_eq!(line, "hello alice\n");
    line.clear();
    rb.read_line(&mut line).unwrap();
    assert_eq!(line, "hello bob\n");
    control.send_blocking(Signal::ShutdownMicroprocess);
    join_within(t);
    let mut rest = Vec::new();
    assert_eq!(a.read_to_end(&mut rest).unwrap(), 0, "shutdown closes every connection");
}

/// A client that half-closes (sends, then shuts its write side) still gets its answer, then
/// the server closes the connection.
#[test]
fn a_half_closed_connection_is_answered_then_closed() {
    let (addr, control, t) = start(ServerCore::new(greeter as fn(ConnInfo) -> Component));
    let mut c = client(addr);
    c.write_all(b"half\n").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut all = String::new();
    c.read_to_string(&mut all).unwrap();
    assert_eq!(all, "hello half\n");
    control.send_blocking(Signal::ShutdownMicroprocess);
    join_within(t);
}

/// Beyond the connection limit a client gets the refusal line and is closed; the others
/// are served.
#[test]
fn a_client_beyond_the_limit_is_refused_with_a_line() {
    let (addr, control, t) =
        start(ServerCore::new(greeter as fn(ConnInfo) -> Component).max_connections(1, "busy\r\n"));
    let mut first = client(addr);
    first.write_all(b"one\n").unwrap();
    let mut r1 = BufReader::new(first.try_clone().unwrap());
    let mut line = String::new();
    r1.read_line(&mut line).unwrap();
    assert_eq!(line, "hello one\n");
    let mut second = client(addr);
    let mut refusal = String::new();
    second.read_to_string(&mut refusal).unwrap();
    assert_eq!(refusal, "busy\r\n");
    control.send_blocking(Signal::ShutdownMicroprocess);
    join_within(t);
}

/// Binding a port that is in use is an error when the server is built.
#[test]
fn a_taken_port_is_an_error_at_build() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let err = ServerCore::new(greeter as fn(ConnInfo) -> Component).port(port).listen().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}
