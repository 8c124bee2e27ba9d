//! RedisBackplane as a drop-in Backplane: PublishTo and SubscribeTo unchanged, each message
//! once to every subscriber of every process, and local delivery carries on while Redis is
//! down (remote messages resume when it is back).

mod common;

use axon_core::{Background, Handle, Scheduler, Signal};
use common::{LIMIT, group_names, wait_for};
use kamaelia_chassis::{PublishTo, SubscribeTo};
use kamaelia_redis::testing::RedisServer;
use kamaelia_redis::testing::redis;
use kamaelia_redis::{Origin, RedisBackplane, backplane_stream};

/// One "process": a scheduler with a bridged backplane, a publisher and a subscriber.
struct Node {
    _bg: Background,
    publish: Handle<String, String>,
    subscribe: Handle<String, String>,
}

fn node(url: &str) -> Node {
    let bg = Scheduler::new().background();
    let origin = Origin::fresh();
    bg.activate(&RedisBackplane::<String>::new(url, "CHAT").origin(origin.clone()).build()).unwrap();
    let publish = bg.handle(&PublishTo::<String>::new("CHAT").build()).unwrap();
    let subscribe = bg.handle(&SubscribeTo::<String>::new("CHAT").build()).unwrap();
    wait_for("the group", || group_names(url, &backplane_stream("CHAT")).iter().any(|g| g == origin.as_str()));
    Node { _bg: bg, publish, subscribe }
}

fn lines(h: &Handle<String, String>, n: usize) -> Vec<String> {
    (0..n).map(|_| h.get_timeout(LIMIT).expect("a line")).collect()
}

#[test]
fn every_subscriber_of_every_process_gets_each_line_once_and_local_delivery_survives_an_outage() {
    let mut server = RedisServer::start().unwrap();
    let url = server.url();
    let (one, two) = (node(&url), node(&url));
    one.publish.put("from one".into());
    two.publish.put("from two".into());
    for n in [&one, &two] {
        let mut got = lines(&n.subscribe, 2);
        got.sort();
        assert_eq!(got, ["from one", "from two"]);
    }

    server.kill9().unwrap();
    one.publish.put("one, during the outage".into());
    assert_eq!(lines(&one.subscribe, 1), ["one, during the outage"], "local delivery does not wait for Redis");
    server.restart().unwrap();
    assert_eq!(lines(&two.subscribe, 1), ["one, during the outage"], "remote delivery resumes");
    two.publish.put("two, after".into());
    assert_eq!(lines(&one.subscribe, 1), ["two, after"]);
    assert_eq!(lines(&two.subscribe, 1), ["two, after"]);
    for n in [&one, &two] {
        assert!(n.subscribe.get_timeout(std::time::Duration::from_millis(300)).is_none(), "no line twice");
    }
}

#[test]
fn the_backplane_passes_status_on_drains_on_producer_finished_and_stops_promptly_on_shutdown() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    for end in [Signal::producer_finished(), Signal::ShutdownMicroprocess] {
        let bp = RedisBackplane::<String>::new(&url, "LIFE").origin(Origin::fresh()).build();
        let signals = common::attach::<Signal>(&bp, "signal", None, false);
        bg.activate(&signals.component).unwrap();
        bg.activate(&bp).unwrap();
        let control = bp.inbox_ref::<Signal>("control").unwrap();
        control.try_send(Signal::Status("ok".into())).unwrap();
        assert!(matches!(signals.next(), Some(Signal::Status(s)) if s == "ok"));
        let local = bg.handle::<String, String>(&SubscribeTo::<String>::new("LIFE").build()).unwrap();
        let publish = bg.handle::<String, String>(&PublishTo::<String>::new("LIFE").build()).unwrap();
        publish.put("last words".into());
        // Through the publish bridge (delivered locally), not necessarily written yet.
        assert_eq!(local.get_timeout(LIMIT).as_deref(), Some("last words"));
        let written = |url: &str| -> u64 {
            redis::cmd("XLEN").arg(backplane_stream("LIFE")).query(&mut common::raw(url)).unwrap()
        };
        let t = std::time::Instant::now();
        control.try_send(end.clone()).unwrap();
        let last = signals.next().expect("the terminal signal passed on");
        assert_eq!(last.axon_name(), end.axon_name());
        wait_for("the backplane to end", || bp.is_finished());
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "took {:?}", t.elapsed());
        if end.is_producer_finished() {
            assert!(written(&url) >= 1, "ProducerFinished wrote what was published");
        }
        // Its names are free again.
        assert!(bg.services().retrieve("Backplane_I_LIFE").is_err());
    }
}
