//! The Backplane across processes on a real redis-server: messages cross between origins
//! once each and in order, own messages are skipped, slow subscribers follow their policy
//! (Lossless waits at the bound, DropOldest reports the exact gap, Disconnect removes only
//! the slow one), and a `kill -9` of the server loses nothing.

mod common;

use std::time::Duration;

use axon_core::{Scheduler, Signal};
use common::{attach, group_names, names, raw, wait_for};
use kamaelia_redis::testing::RedisServer;
use kamaelia_redis::{Error, ErrorKind, Origin, PublishBridge, RemotePolicy, SubscribeBridge, backplane_stream};

/// Activates a subscriber and waits until its group exists (it starts at the stream's end).
fn subscribe(
    bg: &axon_core::Background,
    url: &str,
    name: &str,
    sub: SubscribeBridge<u64>,
    origin: &Origin,
) -> axon_core::Component {
    let c = sub.origin(origin.clone()).build();
    bg.activate(&c).unwrap();
    let key = backplane_stream(name);
    wait_for("the subscriber's group", || group_names(url, &key).iter().any(|g| g == origin.as_str()));
    c
}

#[test]
fn messages_cross_between_origins_once_each_in_order_and_own_ones_are_skipped() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let (a, b) = (Origin::fresh(), Origin::fresh());
    let sub_b = SubscribeBridge::<u64>::new(&url, "T").count(7);
    let b_stats = sub_b.stats();
    let sub_b = subscribe(&bg, &url, "T", sub_b, &b);
    let got_b = attach::<u64>(&sub_b, "outbox", None, false);
    bg.activate(&got_b.component).unwrap();
    // A subscriber of the publisher's own origin: sees nothing.
    let sub_a = SubscribeBridge::<u64>::new(&url, "T");
    let a_stats = sub_a.stats();
    let sub_a = subscribe(&bg, &url, "T", sub_a, &a);
    let got_a = attach::<u64>(&sub_a, "outbox", None, false);
    bg.activate(&got_a.component).unwrap();

    let publisher = PublishBridge::<u64>::new(&url, "T").origin(a.clone()).batch(16).build();
    let h = bg.handle::<u64, u64>(&publisher).unwrap();
    for n in 1..=500 {
        h.put(n);
    }
    assert_eq!(got_b.take(500), (1..=500).collect::<Vec<_>>());
    wait_for("the own-origin subscriber to skip all 500", || a_stats.own() == 500);
    assert!(got_a.drain().is_empty());
    wait_for("the subscriber to count its last delivery", || b_stats.delivered() == 500);
    assert_eq!((b_stats.duplicates(), b_stats.missed()), (0, 0));

    // ProducerFinished: the bridge drains and passes it on.
    h.put_control(Signal::producer_finished());
    assert!(h.get_signal_timeout(common::LIMIT).is_some_and(|s| s.is_producer_finished()));
    // A clean end of an unnamed subscriber removes its group.
    sub_b.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    wait_for("the subscriber to end", || sub_b.is_finished());
    assert!(!group_names(&url, &backplane_stream("T")).iter().any(|g| g == b.as_str()));
}

#[test]
fn lossless_stalled_subscriber_holds_publishing_at_its_bound_then_every_sequence_is_contiguous() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let (a, b) = (Origin::fresh(), Origin::fresh());
    let sub = SubscribeBridge::<u64>::new(&url, "L").policy(RemotePolicy::Lossless { bound: 50 }).count(10);
    let stats = sub.stats();
    let sub = subscribe(&bg, &url, "L", sub, &b);
    let got = attach::<u64>(&sub, "outbox", Some(1), true);
    bg.activate(&got.component).unwrap();

    let publisher = PublishBridge::<u64>::new(&url, "L").origin(a).batch(8);
    let pstats = publisher.stats();
    let h = bg.handle::<u64, u64>(&publisher.build()).unwrap();
    let feeder = std::thread::spawn(move || {
        for n in 1..=1000 {
            h.put(n);
        }
        h
    });
    wait_for("publishing to wait for the stalled subscriber", || pstats.is_blocked());
    let published = pstats.published();
    // Unread by the group: at most the bound (one publisher). Read by it: one batch, of
    // which one message sits in the stalled probe's inbox.
    let mut con = raw(&url);
    let len: u64 = redis::cmd("XLEN").arg(backplane_stream("L")).query(&mut con).unwrap();
    // Unread at most 50; read: one message into the probe's inbox (capacity 1) and one
    // batch of 10 held by the blocked bridge.
    assert!(published <= 50 + 10 + 1, "published {published} past the bound");
    assert!(published >= 50, "published only {published}: waited before the bound");
    assert!(len <= published, "stream {len} > published {published}");
    assert!(pstats.waits() >= 1);

    got.open();
    let all = got.take(1000);
    assert_eq!(all, (1..=1000).collect::<Vec<_>>(), "lossless: every sequence contiguous");
    assert_eq!(stats.missed(), 0);
    let _h = feeder.join().unwrap();
    assert_eq!(pstats.published(), 1000);
}

#[test]
fn drop_oldest_jumps_the_slow_group_ahead_and_the_gap_is_reported_exactly() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let (a, b) = (Origin::fresh(), Origin::fresh());
    let sub = SubscribeBridge::<u64>::new(&url, "D").policy(RemotePolicy::DropOldest { bound: 20 }).count(5);
    let stats = sub.stats();
    let sub = subscribe(&bg, &url, "D", sub, &b);
    let got = attach::<u64>(&sub, "outbox", Some(1), true);
    let errors = attach::<Error>(&sub, "error", None, false);
    bg.activate(&got.component).unwrap();
    bg.activate(&errors.component).unwrap();

    let publisher = PublishBridge::<u64>::new(&url, "D").origin(a.clone()).batch(4);
    let pstats = publisher.stats();
    let h = bg.handle::<u64, u64>(&publisher.build()).unwrap();
    for n in 1..=400 {
        h.put(n);
    }
    wait_for("all 400 published: DropOldest never holds publishers", || pstats.published() == 400);
    assert_eq!(pstats.waits(), 0);
    got.open();
    // The newest are kept: the last one arrives.
    let mut received = Vec::new();
    while received.last() != Some(&400) {
        received.push(got.next().expect("the newest messages arrive"));
    }
    assert!(received.windows(2).all(|w| w[0] < w[1]), "in order, no duplicates: {received:?}");
    let missed = stats.missed();
    assert!(missed > 0, "a stalled DropOldest group must have lost some");
    assert_eq!(received.len() as u64 + missed, 400, "the gap is counted exactly");
    let gaps: u64 = errors
        .drain()
        .iter()
        .filter_map(|e| match e.kind() {
            ErrorKind::Gap { origin, missed } if origin == a.as_str() => Some(*missed),
            _ => None,
        })
        .sum();
    assert_eq!(gaps, missed, "every gap reported on `error`");
}

#[test]
fn disconnect_removes_only_the_stalled_group_and_tells_it_why() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let (a, slow, fine) = (Origin::fresh(), Origin::fresh(), Origin::fresh());
    let s = SubscribeBridge::<u64>::new(&url, "X").policy(RemotePolicy::Disconnect { bound: 20 }).count(5);
    let s = subscribe(&bg, &url, "X", s, &slow);
    let slow_got = attach::<u64>(&s, "outbox", Some(1), true);
    let slow_signal = attach::<Signal>(&s, "signal", None, false);
    bg.activate(&slow_got.component).unwrap();
    bg.activate(&slow_signal.component).unwrap();
    let f = SubscribeBridge::<u64>::new(&url, "X");
    let fine_stats = f.stats();
    let f = subscribe(&bg, &url, "X", f, &fine);
    let fine_got = attach::<u64>(&f, "outbox", None, false);
    bg.activate(&fine_got.component).unwrap();

    let publisher = PublishBridge::<u64>::new(&url, "X").origin(a).batch(4);
    let pstats = publisher.stats();
    let h = bg.handle::<u64, u64>(&publisher.build()).unwrap();
    for n in 1..=300 {
        h.put(n);
    }
    assert_eq!(fine_got.take(300), (1..=300).collect::<Vec<_>>());
    assert_eq!(fine_stats.missed(), 0);
    let key = backplane_stream("X");
    wait_for("the slow group removed", || !group_names(&url, &key).iter().any(|g| g == slow.as_str()));
    assert!(group_names(&url, &key).iter().any(|g| g == fine.as_str()), "only the slow one is removed");
    assert_eq!(pstats.waits(), 0);
    // Once it reads again it learns why, says so, and stops.
    slow_got.open();
    let first = slow_signal.next().expect("an ErrorInformation");
    let Signal::ErrorInformation { message, .. } = &first else { panic!("{first:?}") };
    assert!(message.contains("Disconnect bound of 20"), "{message}");
    assert_eq!(names(&[slow_signal.next().unwrap()]), ["shutdownMicroprocess"]);
    wait_for("the slow subscriber to end", || s.is_finished());
}

#[test]
fn a_kill_9_of_the_server_loses_nothing_and_both_bridges_reconnect() {
    let mut server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let (a, b) = (Origin::fresh(), Origin::fresh());
    let sub = SubscribeBridge::<u64>::new(&url, "K").group("k-durable").origin(b);
    let stats = sub.stats();
    let sub = sub.build();
    bg.activate(&sub).unwrap();
    let key = backplane_stream("K");
    wait_for("the group", || group_names(&url, &key).iter().any(|g| g == "k-durable"));
    let got = attach::<u64>(&sub, "outbox", None, false);
    let errors = attach::<Error>(&sub, "error", None, false);
    bg.activate(&got.component).unwrap();
    bg.activate(&errors.component).unwrap();
    let publisher = PublishBridge::<u64>::new(&url, "K").origin(a).batch(16);
    let pstats = publisher.stats();
    let h = bg.handle::<u64, u64>(&publisher.build()).unwrap();
    for n in 1..=200 {
        h.put(n);
    }
    assert_eq!(got.take(200), (1..=200).collect::<Vec<_>>());

    server.kill9().unwrap();
    // Published while the server is down: kept, written once it is back.
    for n in 201..=400 {
        h.put(n);
    }
    wait_for("the subscriber to notice", || errors.drain().iter().any(|e| *e.kind() == ErrorKind::ConnectionLost));
    server.restart().unwrap();
    assert_eq!(got.take(200), (201..=400).collect::<Vec<_>>());
    wait_for("both reconnected", || stats.reconnects() >= 1 && pstats.reconnects() >= 1);
    // The batch read last before the kill may not have been acknowledged: it is read again
    // from the group's pending entries and recognised (not delivered twice).
    assert_eq!(stats.missed(), 0);
    assert!(stats.duplicates() <= 256, "only one unacknowledged read batch comes back");
    assert!(got.rx.recv_timeout(Duration::from_millis(300)).is_err(), "nothing delivered twice");
}
