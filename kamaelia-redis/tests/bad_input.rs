//! Bad input and faults get clear errors and lose nothing: a malformed URL, an unreachable
//! server, refused credentials, entries that are not ours or do not decode (reported and
//! dead-lettered, never a crash), and messages over the size limit.

mod common;

use std::collections::HashMap;

use axon_core::{Scheduler, Signal};
use common::{attach, group_names, names, raw, wait_for};
use kamaelia_redis::testing::RedisServer;
use kamaelia_redis::{
    Error, ErrorKind, Origin, PublishBridge, SubscribeBridge, backplane_dead_letters, backplane_stream, check,
};

#[test]
fn a_malformed_url_stops_a_bridge_with_the_reason() {
    let bg = Scheduler::new().background();
    for url in ["localhost:6379", "redis://localhost:port/0", "http://localhost:6379"] {
        let publisher = PublishBridge::<u64>::new(url, "M").build();
        let errors = attach::<Error>(&publisher, "error", None, false);
        bg.activate(&errors.component).unwrap();
        let h = bg.handle::<u64, u64>(&publisher).unwrap();
        let s = h.get_signal_timeout(common::LIMIT).unwrap();
        let Signal::ErrorInformation { message, .. } = &s else { panic!("{s:?}") };
        assert!(message.contains("is not a Redis URL") && message.contains(url), "{message}");
        assert_eq!(names(&[h.get_signal_timeout(common::LIMIT).unwrap()]), ["shutdownMicroprocess"]);
        assert_eq!(errors.next().unwrap().kind(), &ErrorKind::MalformedUrl);
    }
}

#[test]
fn an_unreachable_server_is_reported_once_and_retried_until_shutdown() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{port}");
    let e = check(&url).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unreachable);
    assert!(e.to_string().contains(&url) && e.to_string().contains("apt-get install redis-server"), "{e}");

    let bg = Scheduler::new().background();
    let sub = SubscribeBridge::<u64>::new(&url, "U").build();
    let errors = attach::<Error>(&sub, "error", None, false);
    let signals = attach::<Signal>(&sub, "signal", None, false);
    bg.activate(&errors.component).unwrap();
    bg.activate(&signals.component).unwrap();
    bg.activate(&sub).unwrap();
    let first = errors.next().unwrap();
    assert_eq!(first.kind(), &ErrorKind::Unreachable, "{first}");
    assert!(!sub.is_finished(), "an unreachable server is retried, not fatal");
    sub.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    assert_eq!(names(&[signals.next().unwrap()]), ["shutdownMicroprocess"]);
    assert!(errors.drain().is_empty(), "reported once, not per attempt");
}

#[test]
fn refused_credentials_are_fatal_and_say_how_to_give_a_password() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"]).unwrap();
    let port = server.port();
    for url in [format!("redis://127.0.0.1:{port}"), format!("redis://:wrong@127.0.0.1:{port}")] {
        let e = check(&url).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::AuthRefused, "{url}: {e}");
        assert!(!e.to_string().contains("wrong"), "the password is hidden: {e}");
        let bg = Scheduler::new().background();
        let h = bg.handle::<u64, u64>(&PublishBridge::<u64>::new(&url, "A").build()).unwrap();
        h.put(1);
        let s = h.get_signal_timeout(common::LIMIT).unwrap();
        let Signal::ErrorInformation { message, .. } = &s else { panic!("{s:?}") };
        assert!(message.contains("refused authentication"), "{message}");
    }
    assert!(check(&format!("redis://:s3cret@127.0.0.1:{port}")).is_ok());
}

#[test]
fn foreign_and_undecodable_entries_are_reported_and_dead_lettered_and_the_rest_delivered() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let origin = Origin::fresh();
    let sub = SubscribeBridge::<u64>::new(&url, "B").origin(origin.clone()).max_message_bytes(64);
    let stats = sub.stats();
    let sub = sub.build();
    let got = attach::<u64>(&sub, "outbox", None, false);
    let errors = attach::<Error>(&sub, "error", None, false);
    bg.activate(&got.component).unwrap();
    bg.activate(&errors.component).unwrap();
    bg.activate(&sub).unwrap();
    let key = backplane_stream("B");
    wait_for("the group", || group_names(&url, &key).iter().any(|g| g == origin.as_str()));
    let mut con = raw(&url);
    let xadd = |con: &mut redis::Connection, fields: &[(&str, &str)]| {
        let mut c = redis::cmd("XADD");
        c.arg(&key).arg("*");
        for (k, v) in fields {
            c.arg(*k).arg(*v);
        }
        c.query::<String>(con).unwrap();
    };
    xadd(&mut con, &[("temperature", "21")]);
    xadd(&mut con, &[("k", "kamaelia/1"), ("o", "h:1:x"), ("s", "1"), ("d", "{not json")]);
    xadd(&mut con, &[("k", "kamaelia/1"), ("o", "h:1:x"), ("s", "2"), ("d", "\"a string, not a u64\"")]);
    let big = format!("\"{}\"", "x".repeat(100));
    xadd(&mut con, &[("k", "kamaelia/1"), ("o", "h:1:x"), ("s", "3"), ("d", &big)]);
    xadd(&mut con, &[("k", "kamaelia/1"), ("o", "h:1:x"), ("s", "4"), ("d", "42")]);
    assert_eq!(got.next(), Some(42), "the good entry after the bad ones is delivered");
    let errs: Vec<Error> = (0..4).map(|_| errors.next().unwrap()).collect();
    let kinds: Vec<&ErrorKind> = errs.iter().map(Error::kind).collect();
    assert_eq!(
        kinds,
        [&ErrorKind::Undecodable, &ErrorKind::Undecodable, &ErrorKind::Undecodable, &ErrorKind::TooLarge]
    );
    assert!(errs[0].detail().contains("not a kamaelia entry"), "{}", errs[0]);
    assert!(errs[2].detail().contains("does not decode as u64"), "{}", errs[2]);
    assert!(errs[3].detail().contains("over the limit of 64"), "{}", errs[3]);
    assert_eq!(stats.dead_lettered(), 4);
    let dead: Vec<(String, HashMap<String, String>)> =
        redis::cmd("XRANGE").arg(backplane_dead_letters("B")).arg("-").arg("+").query(&mut con).unwrap();
    assert_eq!(dead.len(), 4);
    assert_eq!(dead[0].1["temperature"], "21", "the original fields are kept");
    assert!(dead[0].1["dead.reason"].contains("not a kamaelia entry"));
    assert_eq!(dead[1].1["dead.group"], origin.as_str());
    // All acknowledged (just after the delivery): nothing left pending.
    wait_for("every entry acknowledged", || {
        let pending: (u64, redis::Value, redis::Value, redis::Value) =
            redis::cmd("XPENDING").arg(&key).arg(origin.as_str()).query(&mut raw(&url)).unwrap();
        pending.0 == 0
    });
    assert!(!sub.is_finished());
}

#[test]
fn a_message_over_the_size_limit_is_refused_and_reported_and_the_sequence_stays_contiguous() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let bg = Scheduler::new().background();
    let origin = Origin::fresh();
    let sub = SubscribeBridge::<String>::new(&url, "Z").origin(origin.clone());
    let stats = sub.stats();
    let sub = sub.build();
    let got = attach::<String>(&sub, "outbox", None, false);
    bg.activate(&got.component).unwrap();
    bg.activate(&sub).unwrap();
    wait_for("the group", || group_names(&url, &backplane_stream("Z")).iter().any(|g| g == origin.as_str()));
    let publisher = PublishBridge::<String>::new(&url, "Z").origin(Origin::fresh()).max_message_bytes(64);
    let pstats = publisher.stats();
    let publisher = publisher.build();
    let errors = attach::<Error>(&publisher, "error", None, false);
    bg.activate(&errors.component).unwrap();
    let h = bg.handle::<String, String>(&publisher).unwrap();
    h.put("small".into());
    h.put("y".repeat(200));
    h.put("after".into());
    assert_eq!(got.take(2), ["small", "after"]);
    let e = errors.next().unwrap();
    assert_eq!(e.kind(), &ErrorKind::TooLarge);
    assert!(e.detail().contains("202 bytes, over the limit of 64"), "{e}");
    assert_eq!((pstats.refused(), pstats.published()), (1, 2));
    assert_eq!(stats.missed(), 0, "a refused message takes no sequence number");
}
