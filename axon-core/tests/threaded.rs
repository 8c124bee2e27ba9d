//! Threaded components (`run_threaded`, Axon's threadedcomponent): own OS thread, blocking box calls, backpressure both ways.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use axon_core::{BoxAddr, ComponentBuilder, ComponentState, Scheduler, Signal, link, pause, yield_now};

use common::collector;

/// Long enough that a correct implementation never hits it; short enough that a broken one fails.
const GENEROUS: Duration = Duration::from_secs(10);

/// A threaded component's body runs on an OS thread other than the scheduler's, while an
/// async component's body runs on the scheduler's own thread.
#[test]
fn threaded_body_runs_on_its_own_os_thread() {
    let ids: Arc<Mutex<Vec<(&str, ThreadId)>>> = Arc::default();

    let b = ComponentBuilder::new("Blocking");
    let seen = ids.clone();
    let threaded = b.run_threaded(move |_tctx| {
        seen.lock().unwrap().push(("threaded", thread::current().id()));
    });

    let b = ComponentBuilder::new("Async");
    let seen = ids.clone();
    let plain = b.run(move |_ctx| async move {
        seen.lock().unwrap().push(("async", thread::current().id()));
    });

    assert!(threaded.is_threaded());
    assert!(!plain.is_threaded());

    let sched = Scheduler::new();
    sched.activate(&threaded).unwrap();
    sched.activate(&plain).unwrap();
    sched.run();

    let scheduler_thread = thread::current().id();
    let ids = ids.lock().unwrap();
    let of = |who: &str| {
        ids.iter().find(|(w, _)| *w == who).map(|(_, id)| *id).unwrap_or_else(|| panic!("the {who} body never ran"))
    };
    assert_eq!(of("async"), scheduler_thread);
    assert_ne!(of("threaded"), scheduler_thread);
    assert_eq!(threaded.state(), ComponentState::Finished);
}

/// Data flows async -> threaded -> async: 1000 messages doubled by a threaded component
/// arrive complete and in order, and the producer's ProducerFinished follows them through.
#[test]
fn threaded_component_passes_data_between_async_components_in_order() {
    const N: u32 = 1000;

    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u32>("outbox");
    let sig = b.signal();
    let producer = b.run(move |ctx| async move {
        for n in 0..N {
            out.send(n).await;
        }
        sig.send(Signal::producer_finished_by(ctx.id())).await;
    });

    let mut b = ComponentBuilder::new("ThreadedDoubler");
    let std = b.standard::<u32, u32>();
    let doubler = b.run_threaded(move |tctx| {
        loop {
            // Data first: everything sent before the signal was delivered before it.
            if let Some(n) = std.inbox.try_recv() {
                std.outbox.send_blocking(2 * n);
                continue;
            }
            if let Some(s) = std.control.try_recv() {
                std.signal.send_blocking(s);
                return;
            }
            tctx.pause(None);
        }
    });

    let got = Arc::new(Mutex::new(Vec::new()));
    let consumer = collector("Collector", &got);

    link((&producer, "outbox"), (&doubler, "inbox")).unwrap();
    link((&producer, "signal"), (&doubler, "control")).unwrap();
    link((&doubler, "outbox"), (&consumer, "inbox")).unwrap();
    link((&doubler, "signal"), (&consumer, "control")).unwrap();

    let sched = Scheduler::new();
    for c in [&producer, &doubler, &consumer] {
        sched.activate(c).unwrap();
    }
    sched.run();

    let expected: Vec<u32> = (0..N).map(|n| 2 * n).collect();
    assert_eq!(*got.lock().unwrap(), expected);
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

/// An async producer sending into a threaded component's full inbox (capacity 2) waits,
/// paused, until the threaded component collects; nothing is lost and order is kept.
#[test]
fn async_producer_waits_on_a_threaded_components_full_inbox() {
    const N: u32 = 50;

    let sent = Arc::new(AtomicUsize::new(0));
    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u32>("outbox");
    let counter = sent.clone();
    let producer = b.run(move |_ctx| async move {
        for n in 0..N {
            out.send(n).await;
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });

    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let got = Arc::new(Mutex::new(Vec::new()));
    let most_waiting = Arc::new(AtomicUsize::new(0));
    let mut b = ComponentBuilder::new("SlowThreaded");
    let inbox = b.inbox_with_capacity::<u32>("inbox", 2);
    let (record, most) = (got.clone(), most_waiting.clone());
    let consumer = b.run_threaded(move |_tctx| {
        // Read nothing until the test has seen the producer blocked.
        gate_rx.recv().unwrap();
        for _ in 0..N {
            most.fetch_max(inbox.len(), Ordering::SeqCst);
            match inbox.recv_timeout(GENEROUS) {
                Some(n) => record.lock().unwrap().push(n),
                None => return,
            }
        }
    });

    link((&producer, "outbox"), (&consumer, "inbox")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&producer).unwrap();
    sched.activate(&consumer).unwrap();

    // Step mode: the producer fills the inbox, is refused the third message, and pauses.
    sched.run_until_idle();
    assert_eq!(sent.load(Ordering::SeqCst), 2);
    assert_eq!(consumer.inbox_ref::<u32>("inbox").unwrap().len(), 2);
    assert_eq!(producer.state(), ComponentState::Paused);
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|c| c.id == producer.id()).expect("the producer is in the snapshot");
    assert_eq!(info.waiting_for, Some(BoxAddr { component: consumer.id(), name: "inbox".into() }));

    // Each collection on the consumer's thread wakes the producer on the scheduler's.
    gate_tx.send(()).unwrap();
    sched.run();

    assert_eq!(*got.lock().unwrap(), (0..N).collect::<Vec<_>>());
    assert_eq!(sent.load(Ordering::SeqCst), N as usize);
    assert!(most_waiting.load(Ordering::SeqCst) <= 2);
}

/// A threaded component's `send_blocking` into an async consumer's full inbox (capacity 2)
/// blocks its thread until the slow consumer collects; nothing is lost and order is kept.
#[test]
fn threaded_send_blocking_waits_on_an_async_consumers_full_inbox() {
    const N: u32 = 200;

    let (progress_tx, progress_rx) = mpsc::channel::<u32>();
    let mut b = ComponentBuilder::new("ThreadedProducer");
    let out = b.outbox::<u32>("outbox");
    let producer = b.run_threaded(move |_tctx| {
        for n in 0..N {
            // "About to send n": so the test knows 0..n are already delivered.
            progress_tx.send(n).unwrap();
            out.send_blocking(n);
        }
    });

    let got = Arc::new(Mutex::new(Vec::new()));
    let most_waiting = Arc::new(AtomicUsize::new(0));
    let mut b = ComponentBuilder::new("SlowConsumer");
    let inbox = b.inbox_with_capacity::<u32>("inbox", 2);
    let (record, most) = (got.clone(), most_waiting.clone());
    let consumer = b.run(move |_ctx| async move {
        for _ in 0..N {
            most.fetch_max(inbox.len(), Ordering::SeqCst);
            let n = inbox.recv().await;
            record.lock().unwrap().push(n);
            // Slow: let the scheduler go round a few times between reads.
            for _ in 0..3 {
                yield_now().await;
            }
        }
    });

    link((&producer, "outbox"), (&consumer, "inbox")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&consumer).unwrap();
    sched.activate(&producer).unwrap();

    // The scheduler is not running, so nobody collects: 0 and 1 fill the inbox, and the
    // producer's thread stays blocked sending 2.
    for expected in 0..3 {
        assert_eq!(progress_rx.recv_timeout(GENEROUS), Ok(expected));
    }
    assert_eq!(
        progress_rx.recv_timeout(Duration::from_millis(200)),
        Err(mpsc::RecvTimeoutError::Timeout),
        "send_blocking into a full inbox returned"
    );
    assert_eq!(consumer.inbox_ref::<u32>("inbox").unwrap().len(), 2);

    sched.run();

    assert_eq!(*got.lock().unwrap(), (0..N).collect::<Vec<_>>());
    assert!(most_waiting.load(Ordering::SeqCst) <= 2);
    assert_eq!(producer.state(), ComponentState::Finished);
}

/// Everything a threaded component sent is in its destination inbox, in order, by the time
/// it counts as Finished and the scheduler's `run` returns.
#[test]
fn threaded_sends_are_delivered_before_it_counts_as_finished() {
    const N: u32 = 500;

    let mut b = ComponentBuilder::new("ThreadedProducer");
    let out = b.outbox::<u32>("outbox");
    let producer = b.run_threaded(move |_tctx| {
        for n in 0..N {
            out.send_blocking(n);
        }
    });

    // A passive sink: linked, never activated, so nothing reads its inbox.
    let mut b = ComponentBuilder::new("Sink");
    let sink_inbox = b.inbox::<u32>("inbox");
    let sink = b.run(|_ctx| async {});

    link((&producer, "outbox"), (&sink, "inbox")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&producer).unwrap();
    sched.run();

    assert_eq!(producer.state(), ComponentState::Finished);
    assert_eq!(sched.live(), 0);
    assert_eq!(sink_inbox.len(), N as usize);
    assert_eq!(sink_inbox.drain().collect::<Vec<_>>(), (0..N).collect::<Vec<_>>());
}

/// A threaded component's last data and its final ProducerFinished reach an async consumer
/// with the data first: when the signal is seen, every message is already in the inbox.
#[test]
fn threaded_components_final_signal_follows_all_its_data() {
    const N: u32 = 300;

    let mut b = ComponentBuilder::new("ThreadedProducer");
    let out = b.outbox::<u32>("outbox");
    let sig = b.signal();
    let producer = b.run_threaded(move |tctx| {
        for n in 0..N {
            out.send_blocking(n);
        }
        sig.send_blocking(Signal::producer_finished_by(tctx.id()));
    });

    let waiting_at_signal = Arc::new(Mutex::new(None));
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut b = ComponentBuilder::new("Consumer");
    let std = b.standard::<u32, u32>();
    let (at_signal, record) = (waiting_at_signal.clone(), got.clone());
    let consumer = b.run(move |_ctx| async move {
        // Reads nothing until the signal arrives.
        loop {
            if let Some(s) = std.control.try_recv() {
                assert!(s.is_producer_finished(), "unexpected signal {s}");
                break;
            }
            pause().await;
        }
        *at_signal.lock().unwrap() = Some(std.inbox.len());
        record.lock().unwrap().extend(std.inbox.drain());
    });

    link((&producer, "outbox"), (&consumer, "inbox")).unwrap();
    link((&producer, "signal"), (&consumer, "control")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&consumer).unwrap();
    sched.activate(&producer).unwrap();
    sched.run();

    assert_eq!(*waiting_at_signal.lock().unwrap(), Some(N as usize));
    assert_eq!(*got.lock().unwrap(), (0..N).collect::<Vec<_>>());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

/// `ThreadCtx::pause(Some(t))` returns false when `t` passes with no wake, and true when a
/// delivery into any of the component's inboxes (data or control) wakes it.
#[test]
fn thread_pause_returns_false_on_timeout_and_true_when_a_delivery_wakes_it() {
    #[derive(Debug)]
    struct Report {
        timed_out: bool,
        waited: Duration,
        woke_by_data: bool,
        data: Option<u32>,
        woke_by_control: bool,
        control: Option<Signal>,
    }

    let (ready_tx, ready_rx) = mpsc::channel::<&str>();
    let (report_tx, report_rx) = mpsc::channel::<Report>();
    let mut b = ComponentBuilder::new("Pauser");
    let std = b.standard::<u32, u32>();
    let pauser = b.run_threaded(move |tctx| {
        let t0 = Instant::now();
        let timed_out = !tctx.pause(Some(Duration::from_millis(50)));
        let waited = t0.elapsed();

        ready_tx.send("data").unwrap();
        let woke_by_data = tctx.pause(Some(GENEROUS));
        let data = std.inbox.try_recv();

        ready_tx.send("control").unwrap();
        let woke_by_control = tctx.pause(Some(GENEROUS));
        let control = std.control.try_recv();

        report_tx.send(Report { timed_out, waited, woke_by_data, data, woke_by_control, control }).unwrap();
    });

    let sched = Scheduler::new();
    sched.activate(&pauser).unwrap();

    assert_eq!(ready_rx.recv_timeout(GENEROUS), Ok("data"));
    pauser.inbox_ref::<u32>("inbox").unwrap().try_send(7).unwrap();
    assert_eq!(ready_rx.recv_timeout(GENEROUS), Ok("control"));
    pauser.inbox_ref::<Signal>("control").unwrap().try_send(Signal::Status("wake".into())).unwrap();

    let r = report_rx.recv_timeout(GENEROUS * 3).unwrap();
    sched.run();

    assert!(r.timed_out, "{r:?}");
    assert!(r.waited >= Duration::from_millis(50), "{r:?}");
    assert!(r.woke_by_data, "{r:?}");
    assert_eq!(r.data, Some(7));
    assert!(r.woke_by_control, "{r:?}");
    assert!(matches!(r.control, Some(Signal::Status(ref s)) if s == "wake"), "{r:?}");
}

/// `Inbox::recv_timeout` returns None once the timeout passes with nothing delivered, and the
/// message once one is delivered.
#[test]
fn recv_timeout_returns_none_on_timeout() {
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (report_tx, report_rx) = mpsc::channel::<(Option<u32>, Duration, Option<u32>)>();
    let mut b = ComponentBuilder::new("Receiver");
    let inbox = b.inbox::<u32>("inbox");
    let receiver = b.run_threaded(move |_tctx| {
        let t0 = Instant::now();
        let nothing = inbox.recv_timeout(Duration::from_millis(50));
        let waited = t0.elapsed();
        ready_tx.send(()).unwrap();
        let something = inbox.recv_timeout(GENEROUS);
        report_tx.send((nothing, waited, something)).unwrap();
    });

    let sched = Scheduler::new();
    sched.activate(&receiver).unwrap();
    ready_rx.recv_timeout(GENEROUS).unwrap();
    receiver.inbox_ref::<u32>("inbox").unwrap().try_send(9).unwrap();
    let (nothing, waited, something) = report_rx.recv_timeout(GENEROUS * 2).unwrap();
    sched.run();

    assert_eq!(nothing, None);
    assert!(waited >= Duration::from_millis(50), "returned after {waited:?}");
    assert_eq!(something, Some(9));
}
