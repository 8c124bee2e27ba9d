//! TcpClient on loopback: data both ways through the connection, and how each way a
//! connection can end is reported (refused, timed out, closed by the server, ended from
//! control, aborted while connecting).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use axon_core::{Background, Component, Direction, Handle, Signal};
use kamaelia_net::{CONNECT_TIMEOUT, CONNECTION_REFUSED, PEER_CLOSED, TcpClient};

const LIMIT: Duration = Duration::from_secs(20);

fn background() -> Background {
    kamaelia_net::scheduler().expect("scheduler").background()
}

fn client(addr: SocketAddr) -> TcpClient {
    TcpClient::new(addr.ip().to_string(), addr.port()).connect_timeout(LIMIT)
}

/// A server for one connection that echoes what it reads until the client closes, then
/// closes; returns its address and the thread, which returns what it echoed.
fn echo_server() -> (SocketAddr, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    s.write_all(&buf[..n]).unwrap();
                }
            }
        }
        all
    });
    (addr, t)
}

/// Reads `n` bytes from the handle's outbox, whatever the chunking.
fn read_bytes(h: &Handle<Vec<u8>, Vec<u8>>, n: usize) -> Vec<u8> {
    let deadline = Instant::now() + LIMIT;
    let mut got = Vec::new();
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = h.get_timeout(left).unwrap_or_else(|| panic!("only {} of {n} bytes arrived", got.len()));
        got.extend(chunk);
    }
    got
}

fn next_signal(h: &Handle<Vec<u8>, Vec<u8>>) -> Signal {
    h.get_signal_timeout(LIMIT).expect("a signal within the time limit")
}

fn finished_message(sig: &Signal) -> Option<&str> {
    match sig {
        Signal::ProducerFinished { message, .. } => message.as_deref(),
        other => panic!("expected ProducerFinished, got {other:?}"),
    }
}

fn error_message(sig: &Signal) -> &str {
    match sig {
        Signal::ErrorInformation { message, .. } => message,
        other => panic!("expected ErrorInformation, got {other:?}"),
    }
}

fn wait_finished(c: &Component) {
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        assert!(Instant::now() < deadline, "{} did not end", c.name());
        std::thread::yield_now();
    }
}

/// A listener that accepts nothing and whose accept queue is full, so that a further
/// connect hangs in SYN retransmission (Linux drops SYNs to a listener whose accept queue is
/// full). Returns it and the connection that fills its queue.
#[cfg(target_os = "linux")]
fn full_listener() -> (socket2::Socket, TcpStream, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let l = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    l.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into()).unwrap();
    l.listen(0).unwrap();
    let addr = l.local_addr().unwrap().as_socket().unwrap();
    let queued = TcpStream::connect(addr).expect("the first connection is queued");
    // Connect until one hangs: proof that the queue is full.
    let mut hung = false;
    for _ in 0..4 {
        if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "unexpected connect error: {e}");
            hung = true;
            break;
        }
    }
    assert!(hung, "a listener with a full accept queue still completed connections");
    (l, queued, addr)
}

/// Bytes put into the inbox reach the server, and the server's bytes come out of the
/// outbox; ProducerFinished on control closes the connection (the server sees the end) and
/// is passed on.
#[test]
fn data_goes_both_ways_and_producer_finished_closes_the_connection() {
    let (addr, server) = echo_server();
    let bg = background();
    let c = client(addr).build();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    h.put(b"hello ".to_vec());
    h.put(b"world\n".to_vec());
    assert_eq!(read_bytes(&h, 12), b"hello world\n");
    h.put(b"last".to_vec());
    h.put_control(Signal::producer_finished());
    assert_eq!(finished_message(&next_signal(&h)), None, "the control signal itself is passed on");
    assert_eq!(server.join().unwrap(), b"hello world\nlast", "everything put was written before the close");
    wait_finished(&c);
}

/// What is put into the inbox while the connection is being made is sent once it is made.
#[test]
fn data_put_before_the_connection_is_made_is_sent_once_it_is() {
    let (addr, server) = echo_server();
    let bg = background();
    let c = client(addr).build();
    c.inbox_ref::<Vec<u8>>("inbox").unwrap().try_send(b"early".to_vec()).unwrap();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    assert_eq!(read_bytes(&h, 5), b"early");
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(next_signal(&h), Signal::ShutdownMicroprocess));
    server.join().unwrap();
}

/// A refused connection is reported as ErrorInformation naming the address, then
/// ProducerFinished("connection refused"), and the client ends.
#[test]
fn a_refused_connection_is_reported_and_the_client_ends() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let bg = background();
    let c = TcpClient::new("127.0.0.1", port).build();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    let err = next_signal(&h);
    assert!(error_message(&err).contains(&format!("127.0.0.1:{port}")), "{err:?}");
    assert_eq!(finished_message(&next_signal(&h)), Some(CONNECTION_REFUSED));
    wait_finished(&c);
}

/// A zero connect timeout always times out: reported as ErrorInformation ("connect timeout
/// after ..."), then ProducerFinished("connect timeout"); the server never sees data.
#[test]
fn a_zero_connect_timeout_is_reported_as_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let bg = background();
    let c = TcpClient::new("127.0.0.1", addr.port()).connect_timeout(Duration::ZERO).build();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    let err = next_signal(&h);
    assert!(error_message(&err).contains("connect timeout after"), "{err:?}");
    assert_eq!(finished_message(&next_signal(&h)), Some(CONNECT_TIMEOUT));
    wait_finished(&c);
}

/// A connect that hangs (the server's accept queue is full) times out after the connect
/// timeout, not before, and is reported as a timeout. (Linux: it relies on Linux dropping
/// SYNs to a full accept queue, which `full_listener` checks first.)
#[cfg(target_os = "linux")]
#[test]
fn a_hanging_connect_times_out_after_the_connect_timeout() {
    let (_listener, _queued, addr) = full_listener();
    let timeout = Duration::from_millis(400);
    let bg = background();
    let c = TcpClient::new("127.0.0.1", addr.port()).connect_timeout(timeout).build();
    let start = Instant::now();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    let err = next_signal(&h);
    assert!(start.elapsed() >= timeout, "reported after {:?}, before the timeout", start.elapsed());
    assert!(error_message(&err).contains("connect timeout after"), "{err:?}");
    assert_eq!(finished_message(&next_signal(&h)), Some(CONNECT_TIMEOUT));
    wait_finished(&c);
}

/// ShutdownMicroprocess while a connect is in progress aborts it at once: it is passed on
/// and the client ends. (Linux, as above, for a connect that stays in progress.)
#[cfg(target_os = "linux")]
#[test]
fn shutdown_while_connecting_aborts_the_connect() {
    let (_listener, _queued, addr) = full_listener();
    let bg = background();
    let c = client(addr).build();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    h.put_control(Signal::Status("still there?".into()));
    assert!(matches!(next_signal(&h), Signal::Status(s) if s == "still there?"), "non-terminal signals pass on");
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(next_signal(&h), Signal::ShutdownMicroprocess));
    wait_finished(&c);
    assert!(h.try_get_signal().is_none(), "an aborted connect reports nothing more");
}

/// A terminal signal already waiting when the client starts aborts the connect before it
/// is confirmed; signals before it are passed on first.
#[test]
fn producer_finished_before_the_connection_is_made_aborts_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let bg = background();
    let c = client(listener.local_addr().unwrap()).build();
    let control = c.inbox_ref::<Signal>("control").unwrap();
    control.try_send(Signal::Status("first".into())).unwrap();
    control.try_send(Signal::producer_finished()).unwrap();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    assert!(matches!(next_signal(&h), Signal::Status(s) if s == "first"));
    assert!(matches!(next_signal(&h), Signal::ProducerFinished { caller: None, message: None }));
    wait_finished(&c);
}

/// When the server closes the connection the client writes what it still has, closes its
/// side too (the server reads the end), and reports ProducerFinished("peer closed").
#[test]
fn the_server_closing_ends_the_client_with_peer_closed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        s.write_all(b"bye\n").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).expect("the client closes its side");
        rest
    });
    let bg = background();
    let c = client(addr).build();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    assert_eq!(read_bytes(&h, 4), b"bye\n");
    let end = next_signal(&h);
    assert_eq!(finished_message(&end), Some(PEER_CLOSED));
    assert!(matches!(end, Signal::ProducerFinished { caller: Some(id), .. } if id == c.id()));
    assert_eq!(server.join().unwrap(), b"");
    wait_finished(&c);
}

/// ShutdownMicroprocess on control closes the connection at once and is passed on.
#[test]
fn shutdown_closes_the_connection_and_is_passed_on() {
    let (addr, server) = echo_server();
    let bg = background();
    let c = client(addr).build();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    h.put(b"ping".to_vec());
    assert_eq!(read_bytes(&h, 4), b"ping");
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(next_signal(&h), Signal::ShutdownMicroprocess));
    assert_eq!(server.join().unwrap(), b"ping", "the server saw the connection end");
    wait_finished(&c);
}

/// A snapshot shows the client's boxes with their message types, and its connection's
/// adapter as its child.
#[test]
fn the_client_and_its_connection_show_in_a_snapshot() {
    let (addr, server) = echo_server();
    let bg = background();
    let c = client(addr).build();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&c).unwrap();
    h.put(b"x".to_vec());
    assert_eq!(read_bytes(&h, 1), b"x");
    let snap = bg.snapshot();
    let me = snap.components.iter().find(|i| i.id == c.id()).expect("the client is in the snapshot");
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
            ("_socketFeedback", Direction::Inbox, signal),
        ]
    );
    assert!(
        snap.components.iter().any(|i| i.parent == Some(c.id()) && i.name.starts_with("ConnectedSocketAdapter")),
        "the connection's adapter is the client's child"
    );
    h.put_control(Signal::ShutdownMicroprocess);
    next_signal(&h);
    server.join().unwrap();
}
