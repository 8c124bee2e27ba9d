//! Multicast on the loopback interface: a sender's datagrams reach a receiver that joined
//! the group on 127.0.0.1, a transceiver both hears and sends, the sockets carry the
//! options asked for, and the components obey control.
//!
//! Every socket joins and sends by the interface 127.0.0.1 with TTL 1 and multicast
//! loopback on, so nothing leaves the host. Each test uses its own group.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use axon_core::{Background, Component, Direction, Handle, Signal};
use kamaelia_net::{MulticastReceiver, MulticastSender, MulticastTransceiver};

const LIMIT: Duration = Duration::from_secs(20);
const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

type Datagram = (SocketAddr, Vec<u8>);

fn background() -> Background {
    kamaelia_net::scheduler().expect("scheduler").background()
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A receiver of `group` on the loopback interface: its component, port and handle.
fn receiver(bg: &Background, group: Ipv4Addr) -> (Component, u16, Handle<(), Datagram>) {
    let (c, addr) = MulticastReceiver::new(group, 0).interface(LO).build().expect("join the group on 127.0.0.1");
    let h = bg.handle::<(), Datagram>(&c).unwrap();
    (c, addr.port(), h)
}

fn sender(bg: &Background, group: Ipv4Addr, port: u16) -> (Component, SocketAddr, Handle<Vec<u8>, Datagram>) {
    let (c, addr) = MulticastSender::new(local(), group, port).interface(LO).ttl(1).build().expect("sender");
    let h = bg.handle::<Vec<u8>, Datagram>(&c).unwrap();
    (c, addr, h)
}

fn next<I: Send + 'static>(h: &Handle<I, Datagram>) -> Datagram {
    h.get_timeout(LIMIT).expect("a datagram within the time limit")
}

fn next_signal<I: Send + 'static>(h: &Handle<I, Datagram>) -> Signal {
    h.get_signal_timeout(LIMIT).expect("a signal within the time limit")
}

fn wait_finished(c: &Component) {
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        assert!(Instant::now() < deadline, "{} did not end", c.name());
        std::thread::yield_now();
    }
}

fn boxes(bg: &Background, c: &Component) -> Vec<(String, Direction, String)> {
    let snap = bg.snapshot();
    let me = snap.components.iter().find(|i| i.id == c.id()).expect("in the snapshot");
    me.boxes.iter().map(|b| (b.name.clone(), b.direction, b.msg_type.clone())).collect()
}

fn standard<I, O>() -> Vec<(String, Direction, String)> {
    use std::any::type_name;
    vec![
        ("inbox".into(), Direction::Inbox, type_name::<I>().into()),
        ("control".into(), Direction::Inbox, type_name::<Signal>().into()),
        ("outbox".into(), Direction::Outbox, type_name::<O>().into()),
        ("signal".into(), Direction::Outbox, type_name::<Signal>().into()),
    ]
}

/// Each message put into a sender becomes a datagram to the group, which a receiver that
/// joined the group gets, with the sender's address, in order.
#[test]
fn a_sender_s_datagrams_reach_a_receiver_of_the_group() {
    let group = Ipv4Addr::new(239, 255, 77, 1);
    let bg = background();
    let (_r, port, r) = receiver(&bg, group);
    let (_s, s_addr, s) = sender(&bg, group, port);
    s.put(b"hello group".to_vec());
    s.put(b"again".to_vec());
    assert_eq!(next(&r), (s_addr, b"hello group".to_vec()));
    assert_eq!(next(&r), (s_addr, b"again".to_vec()));
}

/// A transceiver hears what is sent to the group (a sender's datagrams and, with loopback
/// on, its own) and sends its inbox to the group, where a receiver gets it.
#[test]
fn a_transceiver_hears_the_group_and_sends_to_it() {
    let group = Ipv4Addr::new(239, 255, 77, 2);
    let bg = background();
    let (_r, port, r) = receiver(&bg, group);
    let (t_c, _) = MulticastTransceiver::new(SocketAddr::from((group, port)), group, port)
        .interface(LO)
        .ttl(1)
        .build()
        .expect("transceiver");
    let t = bg.handle::<Vec<u8>, Datagram>(&t_c).unwrap();
    let (_s, s_addr, s) = sender(&bg, group, port);
    s.put(b"from the sender".to_vec());
    assert_eq!(next(&t), (s_addr, b"from the sender".to_vec()));
    assert_eq!(next(&r), (s_addr, b"from the sender".to_vec()));
    t.put(b"from the transceiver".to_vec());
    let (from, data) = next(&r);
    assert_eq!(data, b"from the transceiver");
    assert_eq!(from, SocketAddr::from((LO, port)), "it sends from its port, by the loopback interface");
    assert_eq!(next(&t), (from, b"from the transceiver".to_vec()), "it hears itself");
}

/// The sockets carry the TTL, interface and loopback setting they were given.
#[test]
fn the_sockets_carry_the_options_given() {
    let group = Ipv4Addr::new(239, 255, 77, 3);
    let s = MulticastSender::new(local(), group, 4000).ttl(7).interface(LO).loopback(false).socket().unwrap();
    assert_eq!(s.multicast_ttl_v4().unwrap(), 7);
    assert!(!s.multicast_loop_v4().unwrap());
    assert_eq!(socket2::Socket::from(s).multicast_if_v4().unwrap(), LO);
    let t = MulticastTransceiver::new(local(), group, 4000).interface(LO).socket().unwrap();
    assert_eq!(t.multicast_ttl_v4().unwrap(), 255, "Kamaelia's transceiver default");
    assert!(t.multicast_loop_v4().unwrap());
    let d = MulticastSender::new(local(), group, 4000).socket().unwrap();
    assert_eq!(d.multicast_ttl_v4().unwrap(), 10, "Kamaelia's sender default");
}

/// Joining an address that is not a multicast group is an error when the component is built.
#[test]
fn joining_a_unicast_address_is_an_error() {
    assert!(MulticastReceiver::new(LO, 0).interface(LO).build().is_err());
    assert!(MulticastReceiver::new(Ipv4Addr::new(239, 255, 77, 4), 0).interface(LO).build().is_ok());
}

/// ProducerFinished on a sender sends what is queued, then is passed on and it ends; a
/// receiver, with nothing to send, ends at once on ProducerFinished; ShutdownMicroprocess
/// ends a transceiver at once. Each passes its signal on.
#[test]
fn the_multicast_components_end_on_either_signal_and_pass_it_on() {
    let group = Ipv4Addr::new(239, 255, 77, 5);
    let bg = background();
    let (r_c, port, r) = receiver(&bg, group);
    let (s_c, _) = MulticastSender::new(local(), group, port).interface(LO).ttl(1).build().unwrap();
    s_c.inbox_ref::<Vec<u8>>("inbox").unwrap().try_send(b"queued".to_vec()).unwrap();
    s_c.inbox_ref::<Signal>("control").unwrap().try_send(Signal::producer_finished()).unwrap();
    let s = bg.handle::<Vec<u8>, Datagram>(&s_c).unwrap();
    assert_eq!(next(&r).1, b"queued");
    assert!(matches!(next_signal(&s), Signal::ProducerFinished { .. }));
    wait_finished(&s_c);

    r.put_control(Signal::producer_finished());
    assert!(matches!(next_signal(&r), Signal::ProducerFinished { .. }));
    wait_finished(&r_c);

    let (t_c, _) = MulticastTransceiver::new(local(), group, port).interface(LO).ttl(1).build().unwrap();
    let t = bg.handle::<Vec<u8>, Datagram>(&t_c).unwrap();
    t.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(next_signal(&t), Signal::ShutdownMicroprocess));
    wait_finished(&t_c);
}

/// A snapshot shows each component's boxes with their message types.
#[test]
fn the_multicast_components_show_their_boxes_in_a_snapshot() {
    let group = Ipv4Addr::new(239, 255, 77, 6);
    let bg = background();
    let (r, port, _rh) = receiver(&bg, group);
    let (s, _, _sh) = sender(&bg, group, port);
    let (t, _) = MulticastTransceiver::new(local(), group, port).interface(LO).build().unwrap();
    let _th = bg.handle::<Vec<u8>, Datagram>(&t).unwrap();
    assert_eq!(boxes(&bg, &r), standard::<(), Datagram>());
    assert_eq!(boxes(&bg, &s), standard::<Vec<u8>, Datagram>());
    assert_eq!(boxes(&bg, &t), standard::<Vec<u8>, Datagram>());
}
