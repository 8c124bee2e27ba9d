//! The scheduler: running to completion, step mode, FIFO order, activation, idle blocking and keep-alive.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use axon_core::{
    ActivateError, Component, ComponentBuilder, ComponentState, CondvarPark, Park, Scheduler, SchedulerHandle, Signal,
    link, pause, yield_now,
};

use common::{LIMIT, run_within_limit};

type Log = Arc<Mutex<Vec<String>>>;

/// A component that logs `<name><i>` and yields, `rounds` times, then finishes.
fn looper(name: &'static str, rounds: usize, log: &Log) -> Component {
    let log = log.clone();
    let mut b = ComponentBuilder::named(name);
    b.inbox::<u32>("inbox");
    b.run(move |_ctx| async move {
        for i in 0..rounds {
            log.lock().unwrap().push(format!("{name}{i}"));
            yield_now().await;
        }
    })
}

/// A component that pauses until woken, logging its name each time it is woken.
fn wake_logger(name: &'static str, log: &Log) -> Component {
    let log = log.clone();
    let mut b = ComponentBuilder::named(name);
    b.inbox::<u32>("inbox");
    b.run(move |_ctx| async move {
        loop {
            pause().await;
            log.lock().unwrap().push(name.to_string());
        }
    })
}

/// A component that pauses forever.
fn idler(kind: &'static str) -> Component {
    let mut b = ComponentBuilder::new(kind);
    b.inbox::<u32>("inbox");
    b.run(|_ctx| async {
        loop {
            pause().await;
        }
    })
}

fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn run_returns_when_every_component_has_finished() {
    let mut b = ComponentBuilder::new("Source");
    let out = b.outbox::<u32>("outbox");
    let sig = b.signal();
    let source = b.run(move |ctx| async move {
        for n in 0..100 {
            out.send(n).await;
        }
        sig.send(Signal::producer_finished_by(ctx.id())).await;
    });
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink_got = got.clone();
    let mut b = ComponentBuilder::new("Sink");
    let std = b.standard::<u32, u32>();
    let sink = b.run(move |_ctx| async move {
        let mut driver = std.driver();
        driver.run(|n, _out| sink_got.lock().unwrap().push(n)).await;
        sink_got.lock().unwrap().extend(driver.inbox().drain());
    });
    link((&source, "outbox"), (&sink, "inbox")).unwrap();
    link((&source, "signal"), (&sink, "control")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&source).unwrap();
    sched.activate(&sink).unwrap();
    let sched = run_within_limit(sched);

    assert_eq!(*got.lock().unwrap(), (0..100).collect::<Vec<_>>());
    assert_eq!(sched.live(), 0);
    assert!(sched.components().is_empty());
    assert_eq!(source.state(), ComponentState::Finished);
    assert_eq!(sink.state(), ComponentState::Finished);
}

#[test]
fn run_on_an_empty_scheduler_returns_at_once() {
    let sched = run_within_limit(Scheduler::new());
    assert_eq!(sched.live(), 0);
}

#[test]
fn step_does_not_run_a_paused_component_while_others_keep_running() {
    let log = Log::default();
    let paused = wake_logger("Paused", &log);
    let busy = looper("Busy", 4, &log);
    let sched = Scheduler::new();
    sched.activate(&paused).unwrap();
    sched.activate(&busy).unwrap();

    assert_eq!(sched.step(), 2);
    for _ in 0..3 {
        assert_eq!(sched.step(), 1, "only the busy component runs");
        assert!(sched.is_paused(&paused));
    }
    assert_eq!(sched.step(), 1, "the busy component finishes");
    assert!(busy.is_finished());
    assert_eq!(sched.step(), 0);
    assert_eq!(taken(&log), ["Busy0", "Busy1", "Busy2", "Busy3"]);
    assert_eq!(paused.state(), ComponentState::Paused);
}

#[test]
fn components_run_in_fifo_order_once_per_cycle() {
    let log = Log::default();
    let a = looper("A", 3, &log);
    let b = looper("B", 2, &log);
    let c = looper("C", 3, &log);
    let sched = Scheduler::new();
    for x in [&a, &b, &c] {
        sched.activate(x).unwrap();
    }
    assert_eq!(sched.step(), 3);
    assert_eq!(taken(&log), ["A0", "B0", "C0"]);
    assert_eq!(sched.step(), 3);
    assert_eq!(taken(&log), ["A1", "B1", "C1"]);
    assert_eq!(sched.step(), 3, "B finishes in this cycle");
    assert_eq!(taken(&log), ["A2", "C2"]);
    assert!(b.is_finished());
    assert_eq!(sched.step(), 2);
    assert!(taken(&log).is_empty());
    assert_eq!(sched.step(), 0);
    assert!(a.is_finished() && c.is_finished());
}

#[test]
fn the_same_system_logs_the_same_order_every_run() {
    let order = || {
        let log = Log::default();
        let sched = Scheduler::new();
        for (name, rounds) in [("A", 3), ("B", 1), ("C", 4), ("D", 2)] {
            sched.activate(&looper(name, rounds, &log)).unwrap();
        }
        run_within_limit(sched);
        taken(&log)
    };
    let first = order();
    assert_eq!(first, ["A0", "B0", "C0", "D0", "A1", "C1", "D1", "A2", "C2", "C3"]);
    for _ in 0..5 {
        assert_eq!(order(), first);
    }
}

#[test]
fn components_woken_in_a_cycle_run_next_cycle_in_the_order_they_were_woken() {
    let log = Log::default();
    let a = wake_logger("A", &log);
    let b = wake_logger("B", &log);
    let c = wake_logger("C", &log);
    let refs = [&c, &a, &b].map(|x| x.inbox_ref::<u32>("inbox").unwrap());
    let mut builder = ComponentBuilder::new("Kicker");
    builder.inbox::<u32>("inbox");
    let kicker = builder.run(move |_ctx| async move {
        for r in &refs {
            r.try_send(0).unwrap();
        }
    });
    let sched = Scheduler::new();
    for x in [&a, &b, &c, &kicker] {
        sched.activate(x).unwrap();
    }
    assert_eq!(sched.step(), 4);
    assert!(taken(&log).is_empty());
    assert_eq!(sched.step(), 3);
    assert_eq!(taken(&log), ["C", "A", "B"]);
    assert_eq!(sched.step(), 0);
}

#[test]
fn activating_a_component_twice_is_an_error() {
    let c = idler("Twice");
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    assert_eq!(sched.activate(&c), Err(ActivateError::AlreadyActivated { name: c.name().to_string() }));
    let other = Scheduler::new();
    assert_eq!(
        other.activate(&c),
        Err(ActivateError::AlreadyActivated { name: c.name().to_string() }),
        "a component runs on one scheduler only"
    );
    assert_eq!(sched.live(), 1);
    assert_eq!(other.live(), 0);
    assert_eq!(sched.step(), 1, "it was queued once");
}

#[test]
fn is_paused_is_true_for_a_component_this_scheduler_does_not_run() {
    let sched = Scheduler::new();
    let other = Scheduler::new();
    let never_activated = idler("Created");
    let elsewhere = idler("Elsewhere");
    let here = idler("Here");
    other.activate(&elsewhere).unwrap();
    sched.activate(&here).unwrap();

    assert!(sched.is_paused(&never_activated));
    assert_eq!(elsewhere.state(), ComponentState::Runnable);
    assert!(sched.is_paused(&elsewhere));
    assert!(!other.is_paused(&elsewhere));
    assert!(!sched.is_paused(&here), "runnable here");

    assert_eq!(sched.step(), 1);
    assert!(sched.is_paused(&here));
}

#[test]
fn components_lists_the_live_components_in_id_order() {
    let log = Log::default();
    let short = looper("Short", 1, &log);
    let idle = idler("Idle");
    let long = looper("Long", 3, &log);
    let sched = Scheduler::new();
    assert!(sched.components().is_empty());
    for x in [&long, &short, &idle] {
        sched.activate(x).unwrap();
    }
    assert_eq!(sched.components(), [short.clone(), idle.clone(), long.clone()]);
    sched.step();
    sched.step();
    assert!(short.is_finished());
    assert_eq!(sched.components(), [idle.clone(), long.clone()]);
    assert_eq!(sched.live(), 2);
    sched.run_until_idle();
    assert_eq!(sched.components(), [idle]);
    assert_eq!(sched.live(), 1);
}

/// The default idle wait, reporting each time the scheduler starts to wait.
struct ReportingPark {
    inner: CondvarPark,
    parked: Mutex<mpsc::Sender<()>>,
}

impl Park for ReportingPark {
    fn park(&self, timeout: Option<Duration>) {
        let _ = self.parked.lock().unwrap().send(());
        self.inner.park(timeout);
    }
    fn unpark(&self) {
        self.inner.unpark();
    }
}

#[test]
fn run_blocks_while_every_component_is_paused_and_returns_after_a_wake_from_another_thread() {
    let (parked_tx, parked_rx) = mpsc::channel();
    let sched = Scheduler::builder()
        .park(Arc::new(ReportingPark { inner: CondvarPark::new(), parked: Mutex::new(parked_tx) }))
        .build();
    let got = Arc::new(AtomicUsize::new(0));
    let mut b = ComponentBuilder::new("Waiter");
    let inbox = b.inbox::<usize>("inbox");
    let sink_got = got.clone();
    let waiter = b.run(move |_ctx| async move {
        let n = inbox.recv().await;
        sink_got.store(n, Ordering::SeqCst);
    });
    let deliver_to = waiter.inbox_ref::<usize>("inbox").unwrap();
    let handle = sched.handle();
    let watched = waiter.clone();
    let deliverer = thread::spawn(move || {
        parked_rx.recv_timeout(LIMIT).expect("the scheduler never waited");
        let was_paused = handle.is_paused(&watched);
        deliver_to.try_send(42).unwrap();
        was_paused
    });
    sched.activate(&waiter).unwrap();
    let sched = run_within_limit(sched);

    assert!(deliverer.join().unwrap(), "the scheduler waited with the waiter paused");
    assert_eq!(got.load(Ordering::SeqCst), 42);
    assert!(waiter.is_finished());
    assert_eq!(sched.live(), 0);
}

#[test]
fn a_keep_alive_keeps_run_going_until_it_is_dropped() {
    // A component that reports on a channel when it runs, then finishes.
    let reporter = |tx: mpsc::Sender<&'static str>, what: &'static str| {
        let mut b = ComponentBuilder::new("Reporter");
        b.inbox::<u32>("inbox");
        b.run(move |_ctx| async move {
            tx.send(what).unwrap();
        })
    };
    let (tx, rx) = mpsc::channel();
    let bg = Scheduler::new().background();
    let handle = SchedulerHandle::clone(&bg);
    let keep = handle.keep_alive();

    bg.activate(&reporter(tx.clone(), "first")).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok("first"));

    let (joined_tx, joined_rx) = mpsc::channel();
    let joiner = thread::spawn(move || {
        bg.join();
        joined_tx.send(()).unwrap();
    });

    // With no components and the background's own guard gone, `keep` alone holds it up:
    // a component activated now still runs.
    let second = reporter(tx, "second");
    handle.activate(&second).unwrap();
    assert_eq!(rx.recv_timeout(LIMIT), Ok("second"));
    assert!(joined_rx.try_recv().is_err(), "run returned while a KeepAlive was held");

    drop(keep);
    joined_rx.recv_timeout(LIMIT).expect("run did not return after the KeepAlive was dropped");
    joiner.join().unwrap();
    assert_eq!(handle.live(), 0);
}
