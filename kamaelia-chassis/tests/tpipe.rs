//! TPipe: a tee that passes data on and feeds a child (split or route, with a condition),
//! optionally injecting the child's output, and its shutdown rules.

mod common;

use axon_core::{ComponentBuilder, ComponentState, LinkErrorKind, LinkKind, Scheduler, Signal};
use common::*;
use kamaelia_chassis::{ChassisError, Pipeline, TPipe, TPipeMode};

/// In split mode every item passes on, and the items passing the condition are also copied
/// to the child.
#[test]
fn split_mode_passes_everything_on_and_copies_matching_items_to_the_child() {
    let (items, signals) = (Log::new(), Log::new());
    let child = collector(&items, &signals);
    let t = TPipe::<u32>::new(child).condition(|n| n % 2 == 0).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    for n in 1..=4u32 {
        put(&t, "inbox", n);
    }
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [1, 2, 3, 4]);
    assert_eq!(items.get(), [2, 4]);
}

/// In route mode the items passing the condition go to the child and the rest pass on.
#[test]
fn route_mode_sends_matching_items_to_the_child_and_the_rest_on() {
    let (items, signals) = (Log::new(), Log::new());
    let t =
        TPipe::<u32>::new(collector(&items, &signals)).condition(|n| *n > 2).mode(TPipeMode::Route).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    for n in 1..=4u32 {
        put(&t, "inbox", n);
    }
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [1, 2]);
    assert_eq!(items.get(), [3, 4]);
}

/// Without sink the child gets no data; with source the child's output is injected into
/// TPipe's outbox.
#[test]
fn sink_and_source_decide_what_goes_to_and_comes_from_the_child() {
    let (items, signals) = (Log::new(), Log::new());
    let t = TPipe::<u32>::new(collector(&items, &signals)).sink(false).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    put(&t, "inbox", 1u32);
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [1]);
    assert!(items.get().is_empty());

    let t = TPipe::<u32>::new(times(100)).mode(TPipeMode::Route).source(true).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    put(&t, "inbox", 1u32);
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [100], "routed to the child, whose output was injected");
}

/// A ProducerFinished makes TPipe handle what is in its inbox, pass the signal to the
/// child, and, once the child has drained and ended (its output injected), send it on.
#[test]
fn producer_finished_drains_tpipe_and_its_child_then_is_sent_on() {
    let child = times(10);
    let t = TPipe::<u32>::new(child.clone()).source(true).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    put(&t, "inbox", 1u32);
    put(&t, "inbox", 2u32);
    put(&t, "control", Signal::producer_finished());
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    let mut got = probe.items();
    got.sort_unstable();
    assert_eq!(got, [1, 2, 10, 20]);
    let signals = probe.signals();
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(matches!(signals[0], Signal::ProducerFinished { caller: None, .. }), "the one put on control");
    assert!(child.is_finished() && t.is_finished());
}

/// A ShutdownMicroprocess is passed to the child and sent on, and TPipe stops at once.
#[test]
fn shutdown_microprocess_reaches_the_child_and_stops_tpipe_at_once() {
    let controls = Log::new();
    let child = times_logged(1, &controls);
    let t = TPipe::<u32>::new(child.clone()).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    put(&t, "control", Signal::ShutdownMicroprocess);
    put(&t, "inbox", 1u32);
    sched.run_until_idle();
    assert!(t.is_finished() && child.is_finished());
    assert_eq!(controls.get(), ["shutdownMicroprocess"]);
    assert_eq!(names(&probe.signals()), ["shutdownMicroprocess"]);
    assert!(probe.items().is_empty());
}

/// Other control messages go both to the child and out of TPipe's signal.
#[test]
fn other_control_messages_go_to_the_child_and_out_of_signal() {
    let controls = Log::new();
    let t = TPipe::<u32>::new(times_logged(1, &controls)).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    put(&t, "control", Signal::Status("hello".into()));
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    assert_eq!(controls.get(), ["status"]);
    assert_eq!(names(&probe.signals()), ["status"]);
    assert!(!t.is_finished());
}

/// When the child ends on its own TPipe ends too, sending a ProducerFinished naming itself.
#[test]
fn when_the_child_ends_on_its_own_tpipe_ends_and_says_so() {
    let t = TPipe::<u32>::new(take(1)).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    put(&t, "inbox", 5u32);
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [5]);
    let signals = probe.signals();
    assert!(matches!(signals[..], [Signal::ProducerFinished { caller: Some(id), .. }] if id == t.id()), "{signals:?}");
    assert!(t.is_finished());
}

/// A TPipe is a pipeline stage: upstream's ProducerFinished flows through it to downstream
/// after all the data.
#[test]
fn a_tpipe_is_a_pipeline_stage() {
    let (tapped, tap_signals) = (Log::new(), Log::new());
    let (items, signals) = (Log::new(), Log::new());
    let tee = TPipe::<u32>::new(collector(&tapped, &tap_signals)).condition(|n| *n == 2).build().unwrap();
    let p = Pipeline::new([source(vec![1u32, 2, 3]), tee, collector(&items, &signals)]).unwrap();
    run_within_limit({
        let s = Scheduler::new();
        s.activate(&p).unwrap();
        s
    });
    assert_eq!(items.get(), [1, 2, 3]);
    assert_eq!(signals.get(), ["producerFinished"]);
    assert_eq!(tapped.get(), [2]);
    assert_eq!(tap_signals.get(), ["producerFinished"]);
}

/// The child is activated when TPipe first runs; a snapshot shows it as TPipe's child with
/// TPipe's private boxes linked to its boxes.
#[test]
fn the_child_starts_when_tpipe_first_runs_and_a_snapshot_shows_the_wiring() {
    let child = times(1);
    let t = TPipe::<u32>::new(child.clone()).source(true).build().unwrap();
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    assert_eq!(child.state(), ComponentState::Created);
    sched.step();
    assert_eq!(child.state(), ComponentState::Runnable);
    let snap = sched.snapshot();
    assert_eq!(info(&snap, &child).parent, Some(t.id()));
    assert!(has_link(&snap, (&t, "_outbox"), (&child, "inbox"), LinkKind::Normal));
    assert!(has_link(&snap, (&t, "_signal"), (&child, "control"), LinkKind::Normal));
    assert!(has_link(&snap, (&child, "outbox"), (&t, "_inbox"), LinkKind::Normal));
    assert!(has_link(&snap, (&child, "signal"), (&t, "_control"), LinkKind::Normal));
    assert_eq!(box_type(&snap, &t, "inbox"), "u32");
    assert_eq!(box_type(&snap, &t, "outbox"), "u32");
}

/// A child whose inbox carries another type, or that lacks a box TPipe links, is an error
/// naming it; the child is left unadopted.
#[test]
fn a_child_that_does_not_fit_is_an_error_naming_it() {
    let mut b = ComponentBuilder::new("Strings");
    let _io = b.standard::<String, String>();
    let strings = b.run(|_| async {});
    let err = TPipe::<u32>::new(strings.clone()).build().unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::TypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains(strings.name()), "{err}");
    assert!(strings.parent().is_none());

    let lame = inbox_only();
    let err = TPipe::<u32>::new(lame.clone()).build().unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::NoSuchBox { name, .. } if name == "control"), "{err}");
    assert!(err.to_string().contains(lame.name()) && err.to_string().contains("control"), "{err}");
}

/// A child that refuses to start when TPipe first runs is reported out of TPipe's signal
/// (ErrorInformation naming TPipe, the child and the reason, then ShutdownMicroprocess); what
/// waits in TPipe's inbox stays there and TPipe ends. Nothing panics.
#[test]
fn a_child_that_refuses_to_start_is_reported_and_tpipe_ends() {
    let bad = refuser::<u32, u32>("busy");
    let t = TPipe::<u32>::new(bad.clone()).build().unwrap();
    let probe = Probe::<u32>::on(&t);
    put(&t, "inbox", 1u32);
    let sched = Scheduler::new();
    sched.activate(&t).unwrap();
    sched.run_until_idle();
    assert_start_failure_reported(&probe.signals(), &t, &bad, &["refused", "busy"]);
    assert!(probe.items().is_empty());
    assert_eq!(t.box_info("inbox").unwrap().len, 1);
    assert!(t.is_finished() && bad.parent().is_none());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}
