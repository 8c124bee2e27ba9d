//! Carousel: a child per `next` message, replaced on demand, "NEXT" requested when a child
//! ends, and its shutdown rules.

mod common;

use axon_core::{Component, ComponentBuilder, ComponentState, Inbox, LinkKind, Scheduler, Signal, link};
use common::*;
use kamaelia_chassis::Carousel;

/// A box to read a Carousel's `requestNext` from.
fn requests(c: &Component) -> (Component, Inbox<String>) {
    let mut b = ComponentBuilder::new("Requests");
    let inbox = b.inbox::<String>("inbox");
    let r = b.run(|_| async {});
    link((c, "requestNext"), (&r, "inbox")).unwrap();
    (r, inbox)
}

/// A factory that multiplies by its argument and remembers every child it made.
fn multipliers(made: &Log<Component>, controls: &Log<String>) -> impl FnMut(u32) -> Component + Send + 'static {
    let (made, controls) = (made.clone(), controls.clone());
    move |k| {
        let c = times_logged(k, &controls);
        made.push(c.clone());
        c
    }
}

/// Each `next` message makes a child with the factory; data on Carousel's inbox goes to the
/// current child and its output leaves Carousel's outbox. A second `next` shuts the first
/// child down and replaces it; data arriving while there is no child waits for the next one.
#[test]
fn each_next_makes_a_child_that_replaces_the_last_and_gets_the_data() {
    let (made, controls) = (Log::new(), Log::new());
    let c = Carousel::<u32, u32, u32>::new(multipliers(&made, &controls)).build();
    let probe = Probe::<u32>::on(&c);
    let (_r, asked) = requests(&c);
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    put(&c, "inbox", 1u32);
    sched.run_until_idle();
    assert!(made.get().is_empty(), "no child before a next message");
    put(&c, "next", 10u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [10], "the waiting item went to the first child");
    put(&c, "next", 100u32);
    sched.run_until_idle();
    let children = made.get();
    assert_eq!(children.len(), 2);
    assert!(children[0].is_finished());
    assert_eq!(controls.get(), ["shutdownMicroprocess"]);
    put(&c, "inbox", 2u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [200]);
    assert!(asked.drain().next().is_none(), "a request was waiting, so none was asked for");
    assert!(probe.signals().is_empty(), "a replaced child's signal stays inside");
}

/// With make_first_request, Carousel asks for a child as it starts; whenever a child ends
/// with no request waiting it asks again; the child's own ProducerFinished stays inside.
#[test]
fn next_is_requested_at_start_and_whenever_a_child_ends() {
    let c = Carousel::<u32, (), u32>::new(|n| source(vec![n, n + 1])).make_first_request(true).build();
    let probe = Probe::<u32>::on(&c);
    let (_r, asked) = requests(&c);
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    assert_eq!(asked.drain().collect::<Vec<_>>(), ["NEXT"]);
    put(&c, "next", 5u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [5, 6]);
    assert_eq!(asked.drain().collect::<Vec<_>>(), ["NEXT"]);
    put(&c, "next", 7u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [7, 8]);
    assert_eq!(asked.drain().collect::<Vec<_>>(), ["NEXT"]);
    assert!(probe.signals().is_empty());
    assert!(!c.is_finished());
}

/// A ProducerFinished on control first honours the requests already waiting on `next`,
/// then is passed to the current child, and once that child has drained and ended it is
/// sent on and Carousel stops.
#[test]
fn producer_finished_honours_waiting_requests_then_finishes_the_child_then_stops() {
    let (made, controls) = (Log::new(), Log::new());
    let c = Carousel::<u32, u32, u32>::new(multipliers(&made, &controls)).build();
    let probe = Probe::<u32>::on(&c);
    let (_r, asked) = requests(&c);
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    put(&c, "next", 2u32);
    put(&c, "inbox", 1u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [2]);
    put(&c, "next", 3u32);
    put(&c, "control", Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(made.get().len(), 2, "the waiting request was honoured");
    assert_eq!(controls.get(), ["shutdownMicroprocess", "producerFinished"]);
    assert!(made.get().iter().all(Component::is_finished));
    assert_eq!(names(&probe.signals()), ["producerFinished"]);
    assert!(c.is_finished());
    assert!(asked.drain().next().is_none());
}

/// A ProducerFinished with no child and no request stops Carousel at once.
#[test]
fn producer_finished_with_no_child_stops_at_once() {
    let c = Carousel::<u32, u32, u32>::new(times).build();
    let probe = Probe::<u32>::on(&c);
    put(&c, "control", Signal::producer_finished());
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    assert!(c.is_finished());
    assert_eq!(names(&probe.signals()), ["producerFinished"]);
}

/// A ShutdownMicroprocess is passed to the child at once; Carousel stops and sends it on
/// once the child has gone, without making a child for a waiting request.
#[test]
fn shutdown_microprocess_reaches_the_child_and_carousel_stops_once_it_has_gone() {
    let (made, controls) = (Log::new(), Log::new());
    let c = Carousel::<u32, u32, u32>::new(multipliers(&made, &controls)).build();
    let probe = Probe::<u32>::on(&c);
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    put(&c, "next", 2u32);
    sched.run_until_idle();
    put(&c, "control", Signal::ShutdownMicroprocess);
    put(&c, "next", 3u32);
    sched.run_until_idle();
    assert_eq!(controls.get(), ["shutdownMicroprocess"]);
    assert_eq!(made.get().len(), 1);
    assert!(made.get()[0].is_finished() && c.is_finished());
    assert_eq!(names(&probe.signals()), ["shutdownMicroprocess"]);
}

/// A ShutdownMicroprocess with no child stops Carousel at once.
#[test]
fn shutdown_microprocess_with_no_child_stops_at_once() {
    let c = Carousel::<u32, u32, u32>::new(times).build();
    let probe = Probe::<u32>::on(&c);
    put(&c, "control", Signal::ShutdownMicroprocess);
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    assert!(c.is_finished());
    assert_eq!(names(&probe.signals()), ["shutdownMicroprocess"]);
}

/// A child the factory makes that cannot be wired (a missing box, a wrong type) is reported
/// on signal as ErrorInformation naming it, and Carousel asks for another.
#[test]
fn a_child_that_cannot_be_wired_is_reported_and_another_is_requested() {
    let made = Log::new();
    let log = made.clone();
    let c = Carousel::<u32, u32, u32>::new(move |k| {
        let child = match k {
            0 => inbox_only(),
            1 => source(vec!["wrong".to_string()]),
            _ => times(k),
        };
        log.push(child.clone());
        child
    })
    .build();
    let probe = Probe::<u32>::on(&c);
    let (_r, asked) = requests(&c);
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    for k in [0u32, 1] {
        put(&c, "next", k);
        sched.run_until_idle();
        let signals = probe.signals();
        let bad = &made.get()[k as usize];
        assert!(
            matches!(&signals[..], [Signal::ErrorInformation { message, .. }] if message.contains(bad.name())),
            "{signals:?}"
        );
        assert_eq!(asked.drain().collect::<Vec<_>>(), ["NEXT"]);
        assert!(bad.parent().is_none());
    }
    put(&c, "next", 4u32);
    put(&c, "inbox", 1u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [4], "Carousel carries on");
}

/// The box size bounds every child's inbox.
#[test]
fn the_box_size_bounds_every_childs_inbox() {
    let made = Log::new();
    let c = Carousel::<u32, u32, u32>::new(multipliers(&made, &Log::new())).box_size(3).build();
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    put(&c, "next", 1u32);
    sched.run_until_idle();
    assert_eq!(made.get()[0].box_info("inbox").unwrap().capacity, Some(3));
}

/// A snapshot shows the current child with Carousel as parent, Carousel's inbox passing
/// through to it, its outbox passing through to Carousel's, and the private control links.
#[test]
fn a_snapshot_shows_the_current_child_and_its_wiring() {
    let made = Log::new();
    let c = Carousel::<u32, u32, u32>::new(multipliers(&made, &Log::new())).build();
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    put(&c, "next", 1u32);
    sched.run_until_idle();
    let child = made.get()[0].clone();
    assert_eq!(child.state(), ComponentState::Paused);
    let snap = sched.snapshot();
    assert_eq!(info(&snap, &child).parent, Some(c.id()));
    assert!(has_link(&snap, (&c, "inbox"), (&child, "inbox"), LinkKind::InboxPassthrough));
    assert!(has_link(&snap, (&child, "outbox"), (&c, "outbox"), LinkKind::OutboxPassthrough));
    assert!(has_link(&snap, (&c, "_signal"), (&child, "control"), LinkKind::Normal));
    assert!(has_link(&snap, (&child, "signal"), (&c, "_control"), LinkKind::Normal));
    assert_eq!(box_type(&snap, &c, "next"), "u32");
    assert_eq!(box_type(&snap, &c, "requestNext"), "alloc::string::String");
}

/// A child the factory makes that refuses to start is reported on signal as ErrorInformation
/// naming it and the reason, and Carousel asks for another. Nothing panics.
#[test]
fn a_child_that_refuses_to_start_is_reported_and_another_is_requested() {
    let made = Log::new();
    let log = made.clone();
    let c = Carousel::<u32, u32, u32>::new(move |k| {
        let child = if k == 0 { refuser::<u32, u32>("not in the mood") } else { times(k) };
        log.push(child.clone());
        child
    })
    .build();
    let probe = Probe::<u32>::on(&c);
    let (_r, asked) = requests(&c);
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    put(&c, "next", 0u32);
    sched.run_until_idle();
    let signals = probe.signals();
    let bad = &made.get()[0];
    let [Signal::ErrorInformation { caller, message }] = &signals[..] else { panic!("{signals:?}") };
    assert_eq!(*caller, Some(c.id()));
    assert!(message.contains(bad.name()) && message.contains("not in the mood"), "{message}");
    assert_eq!(asked.drain().collect::<Vec<_>>(), ["NEXT"]);
    assert!(bad.parent().is_none());
    put(&c, "next", 3u32);
    put(&c, "inbox", 1u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [3], "Carousel carries on");
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}
