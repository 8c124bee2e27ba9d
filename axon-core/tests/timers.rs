//! Timers: `sleep` waits at least its duration, sleepers wake in deadline order, and waiting or dropping a sleep costs nothing.

mod common;

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ComponentState, Scheduler, link, sleep, sleep_until, yield_now};

use common::{run_counted, run_within_limit};

/// A component that sleeps for `d`, then records how long it actually waited.
fn sleeper(d: Duration, waited: &Arc<Mutex<Vec<(Duration, Duration)>>>) -> Component {
    let waited = waited.clone();
    let mut b = ComponentBuilder::new("Sleeper");
    b.inbox::<u32>("inbox");
    b.run(move |_ctx| async move {
        let start = Instant::now();
        sleep(d).await;
        waited.lock().unwrap().push((d, start.elapsed()));
    })
}

#[test]
fn sleep_wakes_after_at_least_its_duration() {
    let waited = Arc::default();
    let d = Duration::from_millis(50);
    let sched = Scheduler::new();
    sched.activate(&sleeper(d, &waited)).unwrap();
    let started = Instant::now();
    run_within_limit(sched);
    assert!(started.elapsed() >= d, "run returned before the sleeper woke");
    let waited = waited.lock().unwrap();
    assert_eq!(waited.len(), 1);
    assert!(waited[0].1 >= d, "slept {:?}, asked for {d:?}", waited[0].1);
}

#[test]
fn sleep_until_wakes_at_or_after_its_deadline() {
    let woke = Arc::new(Mutex::new(None));
    let deadline = Instant::now() + Duration::from_millis(40);
    let record = woke.clone();
    let mut b = ComponentBuilder::new("Alarm");
    b.inbox::<u32>("inbox");
    let alarm = b.run(move |_ctx| async move {
        sleep_until(deadline).await;
        *record.lock().unwrap() = Some(Instant::now());
    });
    let sched = Scheduler::new();
    sched.activate(&alarm).unwrap();
    run_within_limit(sched);
    let woke = woke.lock().unwrap().expect("the alarm never woke");
    assert!(woke >= deadline);
}

#[test]
fn several_sleepers_wake_in_deadline_order() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sched = Scheduler::new();
    let millis = [80u64, 20, 60, 10, 40];
    for ms in millis {
        let log = log.clone();
        let mut b = ComponentBuilder::new("Sleeper");
        b.inbox::<u32>("inbox");
        let c = b.run(move |_ctx| async move {
            sleep(Duration::from_millis(ms)).await;
            log.lock().unwrap().push(ms);
        });
        sched.activate(&c).unwrap();
    }
    run_within_limit(sched);
    let mut sorted = millis;
    sorted.sort_unstable();
    assert_eq!(*log.lock().unwrap(), sorted);
}

#[test]
fn sleepers_with_the_same_deadline_wake_in_the_order_they_slept() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_millis(30);
    let sched = Scheduler::new();
    for name in ["A", "B", "C", "D"] {
        let log = log.clone();
        let mut b = ComponentBuilder::named(name);
        b.inbox::<u32>("inbox");
        let c = b.run(move |_ctx| async move {
            sleep_until(deadline).await;
            log.lock().unwrap().push(name);
        });
        sched.activate(&c).unwrap();
    }
    run_within_limit(sched);
    assert_eq!(*log.lock().unwrap(), ["A", "B", "C", "D"]);
}

#[test]
fn a_sleeping_component_is_not_polled_until_its_deadline() {
    let d = Duration::from_secs(1);
    let mut b = ComponentBuilder::new("Sleeper");
    b.inbox::<u32>("inbox");
    let (c, polls) = run_counted(b, move |_ctx| async move {
        sleep(d).await;
    });
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    let started = Instant::now();
    assert_eq!(sched.step(), 1);
    for _ in 0..10 {
        assert_eq!(sched.step(), 0, "nothing runs before the deadline");
    }
    assert_eq!(polls.load(Ordering::SeqCst), 1);
    assert_eq!(c.state(), ComponentState::Paused);

    let sched = run_within_limit(sched);
    assert!(started.elapsed() >= d);
    assert!(c.is_finished());
    assert_eq!(polls.load(Ordering::SeqCst), 2, "one poll to start sleeping, one when the deadline passed");
    assert_eq!(sched.live(), 0);
}

#[test]
fn a_dropped_sleep_does_not_wake_its_component() {
    let mut b = ComponentBuilder::new("Sleeper");
    b.inbox::<u32>("inbox");
    let (c, polls) = run_counted(b, move |_ctx| async move {
        {
            // Register a short sleep with the scheduler, then abandon it.
            let mut short = pin!(sleep(Duration::from_millis(20)));
            poll_fn(|cx| {
                assert!(short.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
        }
        sleep(Duration::from_millis(300)).await;
    });
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    run_within_limit(sched);
    assert!(c.is_finished());
    assert_eq!(polls.load(Ordering::SeqCst), 2, "the abandoned sleep's deadline must not poll the component");
}

/// What the racing consumer saw first.
#[derive(Debug, PartialEq)]
enum First {
    Message(u32),
    Timeout,
}

#[test]
fn a_sleep_dropped_after_a_message_arrives_does_not_hold_up_the_scheduler() {
    let long = Duration::from_secs(60);
    let outcome = Arc::new(Mutex::new(None));
    let record = outcome.clone();
    let mut b = ComponentBuilder::new("Racer");
    let inbox = b.inbox::<u32>("inbox");
    let racer = b.run(move |_ctx| async move {
        let mut timeout = pin!(sleep(long));
        // Whichever comes first: a message, or the timeout.
        let first = poll_fn(|cx| {
            if let Some(m) = inbox.try_recv() {
                return Poll::Ready(First::Message(m));
            }
            if timeout.as_mut().poll(cx).is_ready() {
                return Poll::Ready(First::Timeout);
            }
            Poll::Pending
        })
        .await;
        *record.lock().unwrap() = Some(first);
    });
    let mut b = ComponentBuilder::new("Late");
    let out = b.outbox::<u32>("outbox");
    let late = b.run(move |_ctx| async move {
        for _ in 0..3 {
            yield_now().await;
        }
        out.send(9).await;
    });
    link((&late, "outbox"), (&racer, "inbox")).unwrap();

    let sched = Scheduler::new();
    sched.activate(&racer).unwrap();
    sched.activate(&late).unwrap();
    let started = Instant::now();
    run_within_limit(sched);
    assert!(started.elapsed() < long / 3, "run waited for an abandoned sleep: {:?}", started.elapsed());
    assert_eq!(*outcome.lock().unwrap(), Some(First::Message(9)));
}
