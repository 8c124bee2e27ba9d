//! A full-box wait cycle between threaded components (blocking sends) is visible to deadlock detection, as an async one is.

use std::time::{Duration, Instant};

use axon_core::{BoxAddr, Component, ComponentBuilder, Deadlock, LinkOptions, Scheduler, Signal, link_with};

/// A threaded component that sends forever out of `outbox` with `send_blocking`, never
/// reading its `inbox` (capacity 1): two of them linked in a ring must deadlock.
fn flooder(name: &'static str) -> Component {
    let mut b = ComponentBuilder::named(name);
    let _inbox = b.inbox_with_capacity::<u32>("inbox", 1);
    let control = b.control();
    let outbox = b.outbox::<u32>("outbox");
    b.run_threaded(move |_tctx| {
        let mut n = 0;
        loop {
            if control.try_recv().is_some_and(|s: Signal| s.is_shutdown()) {
                return;
            }
            outbox.send_blocking(n);
            n += 1;
        }
    })
}

#[test]
fn threaded_components_blocked_on_each_others_full_boxes_are_named_as_a_deadlock() {
    let a = flooder("FlooderA");
    let b = flooder("FlooderB");
    link_with((&a, "outbox"), (&b, "inbox"), LinkOptions::capacity(1)).unwrap();
    link_with((&b, "outbox"), (&a, "inbox"), LinkOptions::capacity(1)).unwrap();
    let bg = Scheduler::builder().report_panics(false).build().background();
    bg.activate(&a).unwrap();
    bg.activate(&b).unwrap();

    let addr = |c: &Component| BoxAddr { component: c.id(), name: "inbox".into() };
    let expected = vec![Deadlock { cycle: vec![("FlooderA".into(), addr(&b)), ("FlooderB".into(), addr(&a))] }];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut found = Vec::new();
    while Instant::now() < deadline {
        found = bg.detect_deadlocks();
        if !found.is_empty() {
            break;
        }
        std::thread::yield_now();
    }
    assert_eq!(found, expected);
    let text = found[0].to_string();
    assert!(text.contains("FlooderA waits to send into FlooderB.inbox"), "{text}");
}
