//! The shutdown contract of the threaded bridges: ProducerFinished drains, a shutdown stops
//! them promptly even while blocked (on a lagging lossless group, on a full outbox, in a
//! blocking read), and other signals are passed on.

mod common;

use std::time::{Duration, Instant};

use axon_core::{Scheduler, Signal};
use common::{LIMIT, attach, group_names, names, raw, wait_for};
use kamaelia_redis::testing::RedisServer;
use kamaelia_redis::{Origin, PublishBridge, SubscribeBridge, backplane_stream};

/// A group made by hand that never reads, registered as lossless with `bound`.
fn idle_group(url: &str, name: &str, bound: u64) {
    let mut con = raw(url);
    let key = backplane_stream(name);
    redis::cmd("XGROUP").arg("CREATE").arg(&key).arg("idle").arg("$").arg("MKSTREAM").query::<()>(&mut con).unwrap();
    redis::cmd("HSET")
        .arg(format!("kamaelia:backplane:{name}:groups"))
        .arg("idle")
        .arg(format!(r#"{{"policy":"lossless","bound":{bound}}}"#))
        .query::<()>(&mut con)
        .unwrap();
}

#[test]
fn publish_bridge_drains_on_producer_finished() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    idle_group(&url, "P", 1000);
    let bg = Scheduler::new().background();
    let h = bg.handle::<u64, u64>(&PublishBridge::<u64>::new(&url, "P").batch(7).build()).unwrap();
    for n in 0..50 {
        h.put(n);
    }
    h.put_control(Signal::producer_finished());
    let s = h.get_signal_timeout(LIMIT).expect("ProducerFinished passed on");
    assert!(s.is_producer_finished(), "{s:?}");
    let len: u64 = redis::cmd("XLEN").arg(backplane_stream("P")).query(&mut raw(&url)).unwrap();
    assert_eq!(len, 50, "everything taken was written before it stopped");
}

#[test]
fn publish_bridge_stops_promptly_while_waiting_for_a_lagging_lossless_group_and_forwards_status() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    idle_group(&url, "W", 5);
    let bg = Scheduler::new().background();
    let publisher = PublishBridge::<u64>::new(&url, "W");
    let stats = publisher.stats();
    let h = bg.handle::<u64, u64>(&publisher.build()).unwrap();
    h.put_control(Signal::Status("still here".into()));
    assert!(matches!(h.get_signal_timeout(LIMIT), Some(Signal::Status(s)) if s == "still here"));
    for n in 0..20 {
        h.put(n);
    }
    wait_for("publishing to wait", || stats.is_blocked());
    let t = Instant::now();
    h.put_control(Signal::ShutdownMicroprocess);
    let s = h.get_signal_timeout(LIMIT).expect("the shutdown passed on");
    assert_eq!(names(&[s]), ["shutdownMicroprocess"]);
    assert!(t.elapsed() < Duration::from_secs(1), "took {:?}", t.elapsed());
    wait_for("the bridge to end", || h.component().is_finished());
    assert_eq!(stats.published(), 5, "nothing past the bound");
}

#[test]
fn subscribe_bridge_stops_promptly_when_blocked_on_a_full_outbox_or_in_a_read() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let key = backplane_stream("S");
    for full in [true, false] {
        let origin = Origin::fresh();
        let sub = SubscribeBridge::<u64>::new(&url, "S").origin(origin.clone()).build();
        let got = attach::<u64>(&sub, "outbox", Some(1), true);
        let signals = attach::<Signal>(&sub, "signal", None, false);
        bg.activate(&got.component).unwrap();
        bg.activate(&signals.component).unwrap();
        bg.activate(&sub).unwrap();
        wait_for("the group", || group_names(&url, &key).iter().any(|g| g == origin.as_str()));
        let control = sub.inbox_ref::<Signal>("control").unwrap();
        control.try_send(Signal::Status("hello".into())).unwrap();
        assert!(matches!(signals.next(), Some(Signal::Status(s)) if s == "hello"));
        if full {
            let h =
                bg.handle::<u64, u64>(&PublishBridge::<u64>::new(&url, "S").origin(Origin::fresh()).build()).unwrap();
            for n in 0..5 {
                h.put(n);
            }
            wait_for("the outbox to fill", || got.component.box_info("inbox").unwrap().len == 1);
        }
        let t = Instant::now();
        control.try_send(Signal::ShutdownMicroprocess).unwrap();
        assert_eq!(names(&[signals.next().unwrap()]), ["shutdownMicroprocess"]);
        assert!(t.elapsed() < Duration::from_secs(1), "full={full}: took {:?}", t.elapsed());
        wait_for("the bridge to end", || sub.is_finished());
    }
}

#[test]
fn subscribe_bridge_passes_producer_finished_on_and_stops() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let sub = SubscribeBridge::<u64>::new(&url, "F").build();
    let signals = attach::<Signal>(&sub, "signal", None, false);
    bg.activate(&signals.component).unwrap();
    bg.activate(&sub).unwrap();
    sub.inbox_ref::<Signal>("control").unwrap().try_send(Signal::producer_finished()).unwrap();
    assert!(signals.next().is_some_and(|s| s.is_producer_finished()));
    wait_for("the bridge to end", || sub.is_finished());
}
