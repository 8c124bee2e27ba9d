//! Wake-ups: who is woken by a delivery, a collection, an unlink or an explicit wake, and how often (Axon's wake rule).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use axon_core::{Component, ComponentBuilder, ComponentState, Inbox, Outbox, Scheduler, Signal, link, pause, unlink};

use common::run_counted;

fn polls(p: &Arc<AtomicUsize>) -> usize {
    p.load(Ordering::SeqCst)
}

/// A component that only ever pauses. The test keeps its `inbox` and `outbox` to deliver,
/// collect and send by hand.
struct Pauser {
    component: Component,
    inbox: Inbox<u32>,
    outbox: Outbox<u32>,
    polls: Arc<AtomicUsize>,
}

fn pauser(kind: &'static str, capacity: Option<usize>) -> Pauser {
    let mut b = ComponentBuilder::new(kind);
    let inbox = match capacity {
        Some(n) => b.inbox_with_capacity::<u32>("inbox", n),
        None => b.inbox::<u32>("inbox"),
    };
    let outbox = b.outbox::<u32>("outbox");
    let (component, polls) = run_counted(b, |_ctx| async {
        loop {
            pause().await;
        }
    });
    Pauser { component, inbox, outbox, polls }
}

#[test]
fn a_paused_consumer_is_woken_by_a_delivery_into_any_of_its_inboxes() {
    let mut b = ComponentBuilder::new("Consumer");
    let std = b.standard::<u32, u32>();
    let extra = b.inbox::<String>("extra");
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let (consumer, consumer_polls) = run_counted(b, move |_ctx| async move {
        loop {
            for n in std.inbox.drain() {
                log.lock().unwrap().push(format!("inbox {n}"));
            }
            for s in std.control.drain() {
                log.lock().unwrap().push(format!("control {}", s.axon_name()));
            }
            for e in extra.drain() {
                log.lock().unwrap().push(format!("extra {e}"));
            }
            pause().await;
        }
    });
    let sched = Scheduler::new();
    sched.activate(&consumer).unwrap();
    assert_eq!(sched.step(), 1);
    assert_eq!(sched.step(), 0, "a paused consumer is not run");
    assert_eq!(consumer.state(), ComponentState::Paused);
    assert_eq!(polls(&consumer_polls), 1);

    consumer.inbox_ref::<u32>("inbox").unwrap().try_send(7).unwrap();
    assert_eq!(consumer.state(), ComponentState::Runnable);
    assert_eq!(sched.step(), 1);
    assert_eq!(polls(&consumer_polls), 2);
    assert_eq!(sched.step(), 0);

    consumer.inbox_ref::<Signal>("control").unwrap().try_send(Signal::Shutdown).unwrap();
    assert_eq!(consumer.state(), ComponentState::Runnable);
    assert_eq!(sched.step(), 1);
    assert_eq!(polls(&consumer_polls), 3);
    assert_eq!(sched.step(), 0);

    consumer.inbox_ref::<String>("extra").unwrap().try_send("x".to_string()).unwrap();
    assert_eq!(consumer.state(), ComponentState::Runnable);
    assert_eq!(sched.step(), 1);
    assert_eq!(polls(&consumer_polls), 4);
    assert_eq!(sched.step(), 0);

    assert_eq!(*seen.lock().unwrap(), ["inbox 7", "control shutdown", "extra x"].map(String::from));
}

#[test]
fn a_producer_is_not_woken_by_its_own_send() {
    let consumer = pauser("Consumer", None);
    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u32>("outbox");
    let spare = b.outbox::<u32>("spare");
    let (producer, producer_polls) = run_counted(b, move |_ctx| async move {
        loop {
            // One send along a link, one into an unlinked outbox (kept there).
            out.send(1).await;
            spare.send(2).await;
            pause().await;
        }
    });
    link((&producer, "outbox"), (&consumer.component, "inbox")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&consumer.component).unwrap();
    sched.activate(&producer).unwrap();

    assert_eq!(sched.step(), 2);
    assert_eq!(polls(&producer_polls), 1);
    assert_eq!(consumer.component.state(), ComponentState::Runnable, "the destination of the send is woken");
    assert_eq!(producer.state(), ComponentState::Paused);
    assert_eq!(sched.step(), 1, "only the consumer runs");
    assert_eq!(sched.step(), 0);
    assert_eq!(polls(&producer_polls), 1);
    assert_eq!(polls(&consumer.polls), 2);
    assert_eq!(consumer.inbox.len(), 1);
}

#[test]
fn a_producer_blocked_on_a_full_box_is_woken_when_its_message_is_collected() {
    let consumer = pauser("Consumer", Some(1));
    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u32>("outbox");
    let (producer, producer_polls) = run_counted(b, move |_ctx| async move {
        for n in 1..=3 {
            out.send(n).await;
        }
    });
    link((&producer, "outbox"), (&consumer.component, "inbox")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&consumer.component).unwrap();
    sched.activate(&producer).unwrap();

    sched.run_until_idle();
    assert_eq!(polls(&producer_polls), 1, "1 sent, 2 waits for space");
    assert_eq!(producer.state(), ComponentState::Paused);
    assert!(sched.is_paused(&producer));
    assert_eq!(sched.step(), 0, "nothing wakes a blocked producer but a collection");
    assert_eq!(polls(&producer_polls), 1);

    assert_eq!(consumer.inbox.try_recv(), Some(1));
    assert_eq!(producer.state(), ComponentState::Runnable);
    sched.run_until_idle();
    assert_eq!(polls(&producer_polls), 2, "2 sent, 3 waits for space");
    assert_eq!(consumer.inbox.len(), 1);
    assert!(!producer.is_finished());

    assert_eq!(consumer.inbox.try_recv(), Some(2));
    sched.run_until_idle();
    assert_eq!(polls(&producer_polls), 3);
    assert!(producer.is_finished());
    assert_eq!(consumer.inbox.try_recv(), Some(3));
}

#[test]
fn only_the_final_destination_of_a_chain_is_woken() {
    // Producer.outbox -> Outer.outbox -> Middle.inbox -> Last.inbox
    let outer = pauser("Outer", None);
    let middle = pauser("Middle", None);
    let last = pauser("Last", None);
    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u32>("outbox");
    let producer = b.run(move |_ctx| async move {
        out.send(5).await;
    });
    link((&producer, "outbox"), (&outer.component, "outbox")).unwrap();
    link((&outer.component, "outbox"), (&middle.component, "inbox")).unwrap();
    link((&middle.component, "inbox"), (&last.component, "inbox")).unwrap();

    let sched = Scheduler::new();
    for c in [&outer, &middle, &last] {
        sched.activate(&c.component).unwrap();
    }
    assert_eq!(sched.step(), 3);
    assert_eq!(sched.step(), 0);

    sched.activate(&producer).unwrap();
    assert_eq!(sched.step(), 1);
    assert!(producer.is_finished());
    assert_eq!(outer.component.state(), ComponentState::Paused);
    assert_eq!(middle.component.state(), ComponentState::Paused);
    assert_eq!(last.component.state(), ComponentState::Runnable);
    assert_eq!(sched.step(), 1, "only the last component runs");
    assert_eq!(sched.step(), 0);

    assert_eq!(polls(&outer.polls), 1);
    assert_eq!(polls(&middle.polls), 1);
    assert_eq!(polls(&last.polls), 2);
    assert_eq!(middle.inbox.len(), 0, "a forwarding inbox holds nothing");
    assert_eq!(last.inbox.try_recv(), Some(5));
}

#[test]
fn sending_after_an_unlink_does_not_wake_the_old_destination() {
    let source = pauser("Source", None);
    let dest = pauser("Dest", None);
    let linkage = link((&source.component, "outbox"), (&dest.component, "inbox")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&dest.component).unwrap();
    assert_eq!(sched.step(), 1);

    source.outbox.try_send(1).unwrap();
    assert_eq!(sched.step(), 1, "a delivery wakes the destination");
    assert_eq!(polls(&dest.polls), 2);

    unlink(&linkage);
    source.outbox.try_send(2).unwrap();
    assert_eq!(dest.component.state(), ComponentState::Paused);
    assert_eq!(sched.step(), 0, "no stale wake-up reaches the old destination");
    assert_eq!(polls(&dest.polls), 2);
    assert_eq!(source.outbox.buffered(), 1, "the outbox keeps the message");
    assert_eq!(dest.inbox.len(), 1);

    // Relinking moves the kept message on, and that delivery does wake it.
    link((&source.component, "outbox"), (&dest.component, "inbox")).unwrap();
    assert_eq!(dest.component.state(), ComponentState::Runnable);
    assert_eq!(sched.step(), 1);
    assert_eq!(dest.inbox.drain().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn an_explicit_wake_runs_a_paused_component_once() {
    let p = pauser("Paused", None);
    let sched = Scheduler::new();
    sched.activate(&p.component).unwrap();
    assert_eq!(sched.step(), 1);
    assert_eq!(sched.step(), 0);

    p.component.wake();
    assert_eq!(p.component.state(), ComponentState::Runnable);
    assert_eq!(sched.step(), 1);
    assert_eq!(sched.step(), 0);
    assert_eq!(polls(&p.polls), 2);
    assert_eq!(p.component.state(), ComponentState::Paused);
}

#[test]
fn many_wakes_before_a_component_runs_queue_it_once() {
    let p = pauser("Paused", None);
    let sched = Scheduler::new();
    sched.activate(&p.component).unwrap();
    assert_eq!(sched.step(), 1);

    for _ in 0..5 {
        p.component.wake();
    }
    p.component.inbox_ref::<u32>("inbox").unwrap().try_send(1).unwrap();
    assert_eq!(sched.step(), 1);
    assert_eq!(sched.step(), 0);
    assert_eq!(polls(&p.polls), 2);
}

#[test]
fn a_wake_before_activation_is_ignored() {
    let p = pauser("Unactivated", None);
    p.component.wake();
    assert_eq!(p.component.state(), ComponentState::Created);
    let sched = Scheduler::new();
    sched.activate(&p.component).unwrap();
    assert_eq!(sched.step(), 1);
    assert_eq!(sched.step(), 0);
    assert_eq!(polls(&p.polls), 1);
}

#[test]
fn a_wake_while_the_component_is_running_makes_it_run_again_next_cycle() {
    let mut b = ComponentBuilder::new("SelfWaker");
    b.inbox::<u32>("inbox");
    let (c, c_polls) = run_counted(b, |ctx| async move {
        ctx.component().wake();
        loop {
            pause().await;
        }
    });
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    assert_eq!(sched.step(), 1);
    assert_eq!(c.state(), ComponentState::Runnable, "the wake was not lost");
    assert_eq!(sched.step(), 1);
    assert_eq!(sched.step(), 0);
    assert_eq!(polls(&c_polls), 2);
}

#[test]
fn a_wake_from_another_thread_while_the_component_is_running_is_not_lost() {
    let (running_tx, running_rx) = mpsc::channel::<()>();
    let (woken_tx, woken_rx) = mpsc::channel::<()>();
    let mut b = ComponentBuilder::new("Busy");
    b.inbox::<u32>("inbox");
    let (c, c_polls) = run_counted(b, move |_ctx| async move {
        running_tx.send(()).unwrap();
        // Still inside this poll while the other thread wakes us.
        woken_rx.recv_timeout(Duration::from_secs(30)).expect("the waking thread never woke us");
        loop {
            pause().await;
        }
    });
    let waker_side = c.clone();
    let waker = thread::spawn(move || {
        running_rx.recv_timeout(Duration::from_secs(30)).expect("the component never ran");
        assert_eq!(waker_side.state(), ComponentState::Running);
        waker_side.wake();
        woken_tx.send(()).unwrap();
    });
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    assert_eq!(sched.step(), 1);
    waker.join().unwrap();
    assert_eq!(c.state(), ComponentState::Runnable);
    assert_eq!(sched.step(), 1);
    assert_eq!(sched.step(), 0);
    assert_eq!(polls(&c_polls), 2);
}
