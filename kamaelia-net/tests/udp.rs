//! UdpPeer on loopback: datagrams between two components with their addresses, whole
//! datagrams up to the UDP maximum, unsendable datagrams reported, and shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axon_core::{Background, Component, Direction, Handle, Signal};
use kamaelia_net::UdpPeer;

const LIMIT: Duration = Duration::from_secs(20);

type Datagram = (SocketAddr, Vec<u8>);

fn background() -> Background {
    kamaelia_net::scheduler().expect("scheduler").background()
}

fn peer(bg: &Background) -> (Component, SocketAddr, Handle<Datagram, Datagram>) {
    let (c, addr) = UdpPeer::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let h = bg.handle::<Datagram, Datagram>(&c).unwrap();
    (c, addr, h)
}

fn next(h: &Handle<Datagram, Datagram>) -> Datagram {
    h.get_timeout(LIMIT).expect("a datagram within the time limit")
}

fn next_signal(h: &Handle<Datagram, Datagram>) -> Signal {
    h.get_signal_timeout(LIMIT).expect("a signal within the time limit")
}

fn wait_finished(c: &Component) {
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        assert!(Instant::now() < deadline, "{} did not end", c.name());
        std::thread::yield_now();
    }
}

/// A datagram put into one peer's inbox comes out of the other's outbox with the first
/// one's address, and the answer goes back the same way.
#[test]
fn datagrams_go_between_two_peers_with_their_sender_s_address() {
    let bg = background();
    let (_a, a_addr, a) = peer(&bg);
    let (_b, b_addr, b) = peer(&bg);
    a.put((b_addr, b"hello b".to_vec()));
    assert_eq!(next(&b), (a_addr, b"hello b".to_vec()));
    b.put((a_addr, b"hello a".to_vec()));
    assert_eq!(next(&a), (b_addr, b"hello a".to_vec()));
}

/// Each datagram comes out whole, in order, up to the largest UDP payload (65 507 bytes).
#[test]
fn datagrams_come_out_whole_up_to_the_largest_udp_payload() {
    let bg = background();
    let (_a, _, a) = peer(&bg);
    let (_b, b_addr, b) = peer(&bg);
    let big: Vec<u8> = (0..65_507u32).map(|i| (i % 251) as u8).collect();
    a.put((b_addr, big.clone()));
    a.put((b_addr, b"small".to_vec()));
    assert_eq!(next(&b).1, big);
    assert_eq!(next(&b).1, b"small");
}

/// A datagram the OS will not send (too large) is reported on signal, naming its size and
/// destination; the peer carries on.
#[test]
fn an_unsendable_datagram_is_reported_and_the_peer_carries_on() {
    let bg = background();
    let (_a, _, a) = peer(&bg);
    let (_b, b_addr, b) = peer(&bg);
    a.put((b_addr, vec![0u8; 70_000]));
    match next_signal(&a) {
        Signal::ErrorInformation { message, .. } => {
            assert!(message.contains("70000 bytes") && message.contains(&b_addr.to_string()), "{message}");
        }
        other => panic!("expected ErrorInformation, got {other:?}"),
    }
    a.put((b_addr, b"after".to_vec()));
    assert_eq!(next(&b).1, b"after");
}

/// ProducerFinished sends every datagram still in the inbox, then is passed on and the
/// peer ends.
#[test]
fn producer_finished_sends_what_is_queued_then_ends() {
    let bg = background();
    let (b_c, b_addr, b) = peer(&bg);
    let (a_c, _) = UdpPeer::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    // Queued before it runs, so the ProducerFinished is seen with all three waiting.
    let inbox = a_c.inbox_ref::<Datagram>("inbox").unwrap();
    for m in [b"one".as_slice(), b"two", b"three"] {
        inbox.try_send((b_addr, m.to_vec())).unwrap();
    }
    a_c.inbox_ref::<Signal>("control").unwrap().try_send(Signal::producer_finished()).unwrap();
    let a = bg.handle::<Datagram, Datagram>(&a_c).unwrap();
    for m in [b"one".as_slice(), b"two", b"three"] {
        assert_eq!(next(&b).1, m);
    }
    assert!(matches!(next_signal(&a), Signal::ProducerFinished { caller: None, message: None }));
    wait_finished(&a_c);
    assert!(!b_c.is_finished());
}

/// ShutdownMicroprocess ends the peer at once and is passed on; other signals are passed on
/// before it.
#[test]
fn shutdown_ends_the_peer_and_is_passed_on() {
    let bg = background();
    let (c, _, h) = peer(&bg);
    h.put_control(Signal::Status("hello".into()));
    assert!(matches!(next_signal(&h), Signal::Status(s) if s == "hello"));
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(next_signal(&h), Signal::ShutdownMicroprocess));
    wait_finished(&c);
}

/// A snapshot shows the peer's boxes carrying (address, bytes) both ways.
#[test]
fn the_peer_shows_its_boxes_in_a_snapshot() {
    let bg = background();
    let (c, _, _h) = peer(&bg);
    let snap = bg.snapshot();
    let me = snap.components.iter().find(|i| i.id == c.id()).expect("the peer is in the snapshot");
    let boxes: Vec<_> = me.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
    let datagram = std::any::type_name::<Datagram>();
    let signal = std::any::type_name::<Signal>();
    assert_eq!(
        boxes,
        [
            ("inbox", Direction::Inbox, datagram),
            ("control", Direction::Inbox, signal),
            ("outbox", Direction::Outbox, datagram),
            ("signal", Direction::Outbox, signal),
        ]
    );
    assert!(me.name.starts_with("UdpPeer"));
}
