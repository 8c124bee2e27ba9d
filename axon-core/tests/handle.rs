//! `Handle`: driving a component on a background scheduler from ordinary threads (put/get, signals, backpressure, shutdown).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, HandleError, LinkErrorKind, Scheduler, SchedulerHandle, Signal, pause};

/// Long enough that a correct implementation never hits it; short enough that a broken one fails.
const GENEROUS: Duration = Duration::from_secs(10);

/// A component that doubles what arrives on `inbox`; on any control signal it forwards the
/// signal out of `signal` and stops.
fn doubler() -> Component {
    let mut b = ComponentBuilder::new("Doubler");
    let std = b.standard::<u32, u32>();
    b.run(|_ctx| std.transform(|n| Some(2 * n)))
}

/// Waits, without hanging the test, for a background scheduler to end.
fn join_in_background(bg: axon_core::Background) -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        bg.join();
        let _ = tx.send(());
    });
    rx
}

/// Messages put through a handle come back, transformed, in the order they were put, both
/// one at a time and in a burst.
#[test]
fn put_and_get_round_trip_in_order() {
    let bg = Scheduler::new().background();
    let h = bg.handle::<u32, u32>(&doubler()).unwrap();

    for n in 0..10 {
        h.put(n);
        assert_eq!(h.get_timeout(GENEROUS), Some(2 * n));
    }
    for n in 0..500 {
        h.put(n);
    }
    let got: Vec<u32> = (0..500).map(|_| h.get()).collect();
    assert_eq!(got, (0..500).map(|n| 2 * n).collect::<Vec<_>>());
}

/// `get_timeout` returns None once the timeout passes with nothing sent.
#[test]
fn get_timeout_returns_none_when_nothing_comes() {
    let bg = Scheduler::new().background();
    let h = bg.handle::<u32, u32>(&doubler()).unwrap();

    let t0 = Instant::now();
    assert_eq!(h.get_timeout(Duration::from_millis(50)), None);
    assert!(t0.elapsed() >= Duration::from_millis(50));
    assert!(h.get_signal_timeout(Duration::from_millis(10)).is_none());
}

/// `try_get` returns None at once when nothing is waiting, and the message when one is.
#[test]
fn try_get_does_not_block() {
    let mut b = ComponentBuilder::new("Acker");
    let std = b.standard::<u32, u32>();
    // Sends the answer on `outbox`, then a Status on `signal`: once the status is seen, the
    // answer is already waiting in the handle.
    let acker = b.run(move |_ctx| async move {
        loop {
            let n = std.inbox.recv().await;
            std.outbox.send(n + 1).await;
            std.signal.send(Signal::Status(format!("done {n}"))).await;
        }
    });
    let bg = Scheduler::new().background();
    let h = bg.handle::<u32, u32>(&acker).unwrap();

    let t0 = Instant::now();
    assert_eq!(h.try_get(), None);
    assert!(h.try_get_signal().is_none());
    assert!(t0.elapsed() < Duration::from_secs(1));

    h.put(41);
    let ack = h.get_signal_timeout(GENEROUS);
    assert!(matches!(ack, Some(Signal::Status(ref s)) if s == "done 41"), "{ack:?}");
    assert_eq!(h.try_get(), Some(42));
    assert_eq!(h.try_get(), None);
}

/// A signal put on `control` reaches the component, and the signal it forwards out of
/// `signal` comes back through `get_signal_timeout`; the component then finishes.
#[test]
fn put_control_reaches_the_component_and_its_signal_comes_back() {
    let bg = Scheduler::new().background();
    let d = doubler();
    let h = bg.handle::<u32, u32>(&d).unwrap();

    h.put(1);
    assert_eq!(h.get_timeout(GENEROUS), Some(2));
    h.put_control(Signal::ShutdownMicroprocess);
    let back = h.get_signal_timeout(GENEROUS);
    assert!(matches!(back, Some(Signal::ShutdownMicroprocess)), "{back:?}");
    assert_eq!(h.try_get(), None);

    drop(h);
    let ended = join_in_background(bg);
    assert_eq!(ended.recv_timeout(GENEROUS), Ok(()));
    assert!(d.is_finished());
}

/// A handle whose message types differ from the component's boxes is refused with
/// `HandleError::Link`, naming both types, and leaves the component unlinked and unactivated.
#[test]
fn handle_with_other_types_fails_naming_the_types() {
    let bg = Scheduler::new().background();
    let d = doubler();

    // Wrong inbox type.
    let err = match bg.handle::<String, u32>(&d) {
        Err(e) => e,
        Ok(_) => panic!("a String handle wrapped a u32 inbox"),
    };
    let HandleError::Link(link_err) = &err else {
        panic!("expected HandleError::Link, got {err:?}");
    };
    match link_err.kind() {
        LinkErrorKind::TypeMismatch { source_type, sink, sink_type, .. } => {
            assert!(source_type.contains("String"), "{source_type}");
            assert_eq!(sink_type, "u32");
            assert_eq!(*sink, format!("{}.inbox", d.name()));
        }
        other => panic!("expected a type mismatch, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("String") && text.contains("u32"), "{text}");

    // Wrong outbox type.
    let err = match bg.handle::<u32, String>(&d) {
        Err(e) => e,
        Ok(_) => panic!("a String handle wrapped a u32 outbox"),
    };
    let HandleError::Link(link_err) = &err else {
        panic!("expected HandleError::Link, got {err:?}");
    };
    match link_err.kind() {
        LinkErrorKind::TypeMismatch { source, source_type, sink_type, .. } => {
            assert_eq!(*source, format!("{}.outbox", d.name()));
            assert_eq!(source_type, "u32");
            assert!(sink_type.contains("String"), "{sink_type}");
        }
        other => panic!("expected a type mismatch, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("String") && text.contains("u32"), "{text}");

    // Neither attempt activated or linked it: a correct handle still works.
    assert_eq!(d.state(), axon_core::ComponentState::Created);
    let h = bg.handle::<u32, u32>(&d).unwrap();
    h.put(5);
    assert_eq!(h.get_timeout(GENEROUS), Some(10));
}

/// A component without the standard boxes cannot be wrapped: `HandleError::Link` names the
/// missing box.
#[test]
fn handle_for_a_component_without_standard_boxes_fails() {
    let mut b = ComponentBuilder::new("NoStandard");
    let _inbox = b.inbox::<u32>("inbox");
    let c = b.run(|_ctx| async {});
    let bg = Scheduler::new().background();
    let err = match bg.handle::<u32, u32>(&c) {
        Err(e) => e,
        Ok(_) => panic!("wrapped a component without control/outbox/signal"),
    };
    let HandleError::Link(link_err) = &err else {
        panic!("expected HandleError::Link, got {err:?}");
    };
    assert!(matches!(link_err.kind(), LinkErrorKind::NoSuchBox { name, .. } if name == "control"), "{err}");
}

/// `put` blocks while the component's inbox (capacity 1) is full, and returns once the
/// component collects from it.
#[test]
fn put_blocks_while_the_inbox_is_full_and_completes_once_it_drains() {
    #[derive(Debug, PartialEq)]
    enum Event {
        PutterStarted,
        Released,
        SecondPutReturned,
    }

    // Reads nothing until it gets a control signal; then echoes.
    let mut b = ComponentBuilder::new("Gated");
    let inbox = b.inbox_with_capacity::<u32>("inbox", 1);
    let control = b.control();
    let outbox = b.outbox::<u32>("outbox");
    let _signal = b.signal();
    let gated = b.run(move |_ctx| async move {
        while control.try_recv().is_none() {
            pause().await;
        }
        loop {
            let n = inbox.recv().await;
            outbox.send(n).await;
        }
    });

    let bg = Scheduler::new().background();
    let h = bg.handle::<u32, u32>(&gated).unwrap();
    let inbox_ref = gated.inbox_ref::<u32>("inbox").unwrap();

    h.put(1);
    assert_eq!(inbox_ref.len(), 1);
    assert!(h.try_put(99).is_err(), "try_put into a full inbox succeeded");

    let (tx, rx) = mpsc::channel::<Event>();
    thread::scope(|s| {
        let putter_tx = tx.clone();
        let h = &h;
        s.spawn(move || {
            putter_tx.send(Event::PutterStarted).unwrap();
            h.put(2);
            putter_tx.send(Event::SecondPutReturned).unwrap();
        });

        assert_eq!(rx.recv_timeout(GENEROUS), Ok(Event::PutterStarted));
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(200)),
            Err(RecvTimeoutError::Timeout),
            "put returned while the inbox was full"
        );
        assert_eq!(inbox_ref.len(), 1, "put overfilled the inbox");

        tx.send(Event::Released).unwrap();
        h.put_control(Signal::Status("go".into()));
        assert_eq!(rx.recv_timeout(GENEROUS), Ok(Event::Released));
        assert_eq!(rx.recv_timeout(GENEROUS), Ok(Event::SecondPutReturned));
    });

    assert_eq!(h.get_timeout(GENEROUS), Some(1));
    assert_eq!(h.get_timeout(GENEROUS), Some(2));
}

/// A background scheduler keeps running while a handle lives, even after its component
/// finished; once the handle is dropped and the Background joined, it ends.
#[test]
fn background_scheduler_ends_once_the_handle_is_dropped_and_the_component_finished() {
    let bg = Scheduler::new().background();
    let sched: SchedulerHandle = (*bg).clone();
    let d = doubler();
    let h = bg.handle::<u32, u32>(&d).unwrap();

    h.put_control(Signal::ShutdownMicroprocess);
    assert!(h.get_signal_timeout(GENEROUS).is_some());

    let ended = join_in_background(bg);
    assert_eq!(
        ended.recv_timeout(Duration::from_millis(200)),
        Err(RecvTimeoutError::Timeout),
        "the scheduler ended while a handle was alive"
    );
    assert!(d.is_finished());
    assert_eq!(sched.live(), 0);

    drop(h);
    assert_eq!(ended.recv_timeout(GENEROUS), Ok(()));
}

/// A background scheduler whose handle is dropped and which is being joined still runs its
/// component, and ends only once that component finishes.
#[test]
fn background_scheduler_waits_for_a_running_component_after_the_handle_is_dropped() {
    let bg = Scheduler::new().background();
    let d = doubler();
    let h = bg.handle::<u32, u32>(&d).unwrap();
    let control = d.inbox_ref::<Signal>("control").unwrap();
    h.put(3);
    assert_eq!(h.get_timeout(GENEROUS), Some(6));
    drop(h);

    let ended = join_in_background(bg);
    assert_eq!(
        ended.recv_timeout(Duration::from_millis(200)),
        Err(RecvTimeoutError::Timeout),
        "the scheduler ended while its component was still running"
    );
    assert!(!d.is_finished());

    control.send_blocking(Signal::ShutdownMicroprocess);
    assert_eq!(ended.recv_timeout(GENEROUS), Ok(()));
    assert!(d.is_finished());
}
