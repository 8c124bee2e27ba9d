//! Pipeline: children wired in a line, passthroughs at both ends, shutdown carried by the
//! children, box sizes that bound the whole pipeline, circular feedback, build errors.

mod common;

use axon_core::{ComponentBuilder, ComponentState, ControlWatch, LinkErrorKind, LinkKind, Next, Scheduler, Signal};
use common::*;
use kamaelia_chassis::{Backplane, ChassisError, Pipeline, TPipe};

/// Data flows from the first child through every child and out of the pipeline's outbox,
/// in order; the source's ProducerFinished travels down the chain and emerges from the
/// pipeline's signal; then every child and the pipeline end.
#[test]
fn data_and_the_producers_signal_flow_through_every_child_in_order() {
    let src = source(vec![1u32, 2, 3]);
    let (a, b) = (times(2), times(10));
    let p = Pipeline::new([src.clone(), a.clone(), b.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = run_within_limit({
        let s = Scheduler::new();
        s.activate(&p).unwrap();
        s
    });
    assert_eq!(probe.items(), [20, 40, 60]);
    let signals = probe.signals();
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(matches!(signals[0], Signal::ProducerFinished { caller: Some(id), .. } if id == src.id()));
    assert!(p.is_finished() && a.is_finished() && b.is_finished());
    assert_eq!(sched.live(), 0);
}

/// The pipeline's inbox and control pass through to the first child: data put into the
/// pipeline reaches it, and a ProducerFinished on the pipeline's control makes each child
/// drain what it holds, pass the signal on and stop.
#[test]
fn producer_finished_on_the_pipelines_control_drains_every_child_then_emerges() {
    let p = Pipeline::new([times(2), times(3), times(5)]).unwrap();
    let probe = Probe::<u32>::on(&p);
    for n in [1u32, 2, 3] {
        put(&p, "inbox", n);
    }
    put(&p, "control", Signal::producer_finished());
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [30, 60, 90]);
    assert_eq!(names(&probe.signals()), ["producerFinished"]);
    assert!(p.is_finished());
}

/// A ShutdownMicroprocess on the pipeline's control stops every child promptly (leaving
/// undelivered data where it is) and emerges from the pipeline's signal.
#[test]
fn shutdown_microprocess_stops_every_child_promptly_and_emerges() {
    let controls = Log::new();
    let (a, b) = (times_logged(2, &controls), times_logged(3, &controls));
    let p = Pipeline::new([a.clone(), b.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    put(&p, "control", Signal::ShutdownMicroprocess);
    put(&p, "inbox", 7u32);
    sched.run_until_idle();
    assert_eq!(controls.get(), ["shutdownMicroprocess", "shutdownMicroprocess"]);
    assert_eq!(names(&probe.signals()), ["shutdownMicroprocess"]);
    assert!(probe.items().is_empty(), "the first child stopped before reading its inbox");
    assert!(a.is_finished() && b.is_finished() && p.is_finished());
}

/// Building a pipeline adopts its children but does not start them; activating the
/// pipeline does not either: they are activated when the pipeline first runs.
#[test]
fn children_are_activated_only_when_the_pipeline_first_runs() {
    let (a, b) = (times(1), times(1));
    let p = Pipeline::new([a.clone(), b.clone()]).unwrap();
    assert_eq!(a.parent().unwrap(), p);
    assert_eq!(p.children(), [a.clone(), b.clone()]);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    assert_eq!((a.state(), b.state()), (ComponentState::Created, ComponentState::Created));
    sched.step();
    assert_eq!((a.state(), b.state()), (ComponentState::Runnable, ComponentState::Runnable));
    sched.run_until_idle();
    assert_eq!((a.state(), b.state()), (ComponentState::Paused, ComponentState::Paused));
    assert_eq!(p.state(), ComponentState::Paused, "it waits for its children");
}

/// A snapshot shows the pipeline with its children (their parent is the pipeline), the
/// links between neighbours, the passthroughs at both ends, and the pipeline's boxes with
/// the message types of the children's.
#[test]
fn a_snapshot_shows_the_pipeline_its_children_and_its_passthroughs() {
    let src = source(vec!["a".to_string()]);
    let mut b = ComponentBuilder::new("Len");
    let io = b.standard::<String, usize>();
    let len = b.run(|_| io.transform(|s| Some(s.len())));
    let p = Pipeline::new([src.clone(), len.clone()]).unwrap();
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.step();
    let snap = sched.snapshot();
    assert_eq!(info(&snap, &src).parent, Some(p.id()));
    assert_eq!(info(&snap, &len).parent, Some(p.id()));
    assert_eq!(info(&snap, &p).parent, None);
    assert!(has_link(&snap, (&p, "inbox"), (&src, "inbox"), LinkKind::InboxPassthrough));
    assert!(has_link(&snap, (&p, "control"), (&src, "control"), LinkKind::InboxPassthrough));
    assert!(has_link(&snap, (&src, "outbox"), (&len, "inbox"), LinkKind::Normal));
    assert!(has_link(&snap, (&src, "signal"), (&len, "control"), LinkKind::Normal));
    assert!(has_link(&snap, (&len, "outbox"), (&p, "outbox"), LinkKind::OutboxPassthrough));
    assert!(has_link(&snap, (&len, "signal"), (&p, "signal"), LinkKind::OutboxPassthrough));
    assert_eq!(box_type(&snap, &p, "inbox"), "()");
    assert_eq!(box_type(&snap, &p, "outbox"), "usize");
    assert!(box_type(&snap, &p, "signal").ends_with("Signal"));
    let names: Vec<_> = info(&snap, &p).boxes.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["inbox", "control", "outbox", "signal"]);
}

/// A pipeline can be a child of a pipeline: its boxes carry its children's types, so the
/// outer pipeline links it like any component.
#[test]
fn a_pipeline_nests_inside_a_pipeline() {
    let inner = Pipeline::new([times(2), times(3)]).unwrap();
    let outer = Pipeline::new([source(vec![1u32, 2]), inner, times(10)]).unwrap();
    let probe = Probe::<u32>::on(&outer);
    let sched = Scheduler::new();
    sched.activate(&outer).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [60, 120]);
    assert_eq!(names(&probe.signals()), ["producerFinished"]);
    assert!(outer.is_finished());
}

/// A circular pipeline feeds the last child's outbox and signal back to the first child;
/// the loop runs until a child decides to finish, the shutdown travels round once, and the
/// pipeline ends. Nothing leaves the pipeline's own outbox.
#[test]
fn a_circular_pipeline_loops_until_a_child_finishes_and_then_ends() {
    let seen = Log::new();
    let mut b = ComponentBuilder::new("Counter");
    let io = b.standard::<u32, u32>();
    let log = seen.clone();
    let counter = b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(n) if n >= 5 => {
                    log.push(n);
                    break Signal::producer_finished_by(ctx.id());
                }
                Next::Data(n) => {
                    log.push(n);
                    if let Err(stop) = watch.send(&io.outbox, n + 1).await {
                        break stop.signal;
                    }
                }
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
    });
    let p = Pipeline::builder().child(counter).child(times(1)).child(times(1)).circular(true).build().unwrap();
    let probe = Probe::<u32>::on(&p);
    put(&p, "inbox", 0u32);
    let sched = run_within_limit({
        let s = Scheduler::new();
        s.activate(&p).unwrap();
        s
    });
    assert_eq!(seen.get(), [0, 1, 2, 3, 4, 5]);
    assert!(probe.items().is_empty());
    assert!(probe.signals().is_empty());
    assert!(p.is_finished());
    assert_eq!(sched.live(), 0);
}

/// With a box size, every child's inbox is bounded, so a fast source feeding a slow sink is
/// held back: the pipeline never holds more messages than the sum of its children's inbox
/// capacities, and everything still arrives, in order.
#[test]
fn box_sizes_bound_the_whole_pipeline_between_a_fast_source_and_a_slow_sink() {
    const SIZE: usize = 2;
    let received = Log::new();
    let src = source((0..50u32).collect());
    let mut b = ComponentBuilder::new("SlowSink");
    let io = b.standard::<u32, ()>();
    let log = received.clone();
    let sink = b.run(move |_| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(n) => {
                    log.push(n);
                    for _ in 0..3 {
                        axon_core::yield_now().await;
                    }
                }
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
    });
    let middle = times(1);
    let p = Pipeline::builder()
        .child(src.clone())
        .child(middle.clone())
        .child(sink.clone())
        .box_size(SIZE)
        .build()
        .unwrap();
    for c in [&src, &middle, &sink] {
        assert_eq!(c.box_info("inbox").unwrap().capacity, Some(SIZE));
    }
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    let (mut most, mut source_waited) = (0, false);
    while sched.step() > 0 {
        let snap = sched.snapshot();
        let held: usize = snap.components.iter().flat_map(|c| &c.boxes).map(|b| b.len).sum();
        most = most.max(held);
        source_waited |= snap.components.iter().any(|c| c.id == src.id() && c.waiting_for.is_some());
    }
    assert!(most <= 3 * SIZE, "the pipeline held {most} messages");
    assert!(source_waited, "the source was never held back");
    assert_eq!(received.get(), (0..50).collect::<Vec<u32>>());
    assert!(p.is_finished());
}

/// One child's inbox can be sized on its own, overriding the pipeline-wide size.
#[test]
fn one_childs_inbox_size_overrides_the_pipeline_wide_size() {
    let (a, b) = (times(1), times(1));
    let _p = Pipeline::builder().child(a.clone()).child_with_inbox_size(7, b.clone()).box_size(3).build().unwrap();
    assert_eq!(a.box_info("inbox").unwrap().capacity, Some(3));
    assert_eq!(b.box_info("inbox").unwrap().capacity, Some(7));
}

/// A pipeline with no children is an error.
#[test]
fn a_pipeline_without_children_is_an_error() {
    let err = Pipeline::new([]).unwrap_err();
    assert_eq!(err, ChassisError::NoChildren { chassis: "Pipeline".into() });
}

/// Neighbours whose boxes carry different types are an error naming both children, both
/// boxes and both types; the children are left unadopted and unlinked, usable elsewhere.
#[test]
fn a_type_mismatch_between_neighbours_names_both_and_leaves_the_children_as_given() {
    let mut b = ComponentBuilder::new("Strings");
    let _io = b.standard::<String, String>();
    let strings = b.run(|_| async {});
    let numbers = times(2);
    let other = times(3);
    let err = Pipeline::new([other.clone(), strings.clone(), numbers.clone()]).unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::TypeMismatch { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(other.name()) && text.contains(strings.name()), "{text}");
    assert!(text.contains("alloc::string::String") && text.contains("u32"), "{text}");
    assert!(other.parent().is_none() && strings.parent().is_none() && numbers.parent().is_none());
    let again = Pipeline::new([other.clone(), numbers.clone()]).unwrap();
    assert_eq!(other.parent().unwrap(), again);
}

/// A child missing a standard box is a link error (no such box) naming the child and the
/// box; one whose standard box faces the wrong way is an error naming it too.
#[test]
fn a_child_missing_a_standard_box_is_an_error_naming_it() {
    let lame = inbox_only();
    let err = Pipeline::new([times(1), lame.clone()]).unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert_eq!(
        error.kind(),
        &LinkErrorKind::NoSuchBox { component: lame.name().to_string(), name: "control".to_string() }
    );
    let text = err.to_string();
    assert!(text.contains(lame.name()) && text.contains("\"control\""), "{text}");
    assert!(lame.parent().is_none());

    let mut b = ComponentBuilder::new("Backwards");
    let _inbox = b.inbox::<u32>("inbox");
    let _control = b.outbox::<Signal>("control");
    let _outbox = b.outbox::<u32>("outbox");
    let _signal = b.signal();
    let backwards = b.run(|_| async {});
    let err = Pipeline::new([times(1), backwards.clone()]).unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::NotAnInbox { name, .. } if name == "control"), "{err}");
    assert!(err.to_string().contains(backwards.name()), "{err}");

    let mut b = ComponentBuilder::new("Backwards");
    let _inbox = b.inbox::<u32>("inbox");
    let _control = b.control();
    let _outbox = b.inbox::<u32>("outbox");
    let _signal = b.signal();
    let backwards = b.run(|_| async {});
    let err = Pipeline::new([times(1), backwards.clone()]).unwrap_err();
    assert!(matches!(&err, ChassisError::Invalid { reason, .. } if reason.contains("\"outbox\"")), "{err:?}");
    assert!(err.to_string().contains(backwards.name()), "{err}");
}

/// A last child whose signal does not carry Signal is an error: the pipeline's own signal
/// carries Signal.
#[test]
fn a_last_child_whose_signal_is_not_a_signal_is_an_error_naming_it() {
    let mut b = ComponentBuilder::new("OddSignal");
    let _inbox = b.inbox::<u32>("inbox");
    let _control = b.control();
    let _outbox = b.outbox::<u32>("outbox");
    let _signal = b.outbox::<String>("signal");
    let odd = b.run(|_| async {});
    let err = Pipeline::new([times(1), odd.clone()]).unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::TypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains(odd.name()), "{err}");
    assert!(odd.parent().is_none());
}

/// A child that refuses to start when the pipeline first runs is reported out of the
/// pipeline's signal (ErrorInformation naming the pipeline, the child and the reason, then
/// ShutdownMicroprocess); the children started before it are stopped, the ones after it are
/// never started and are left as given, and the pipeline ends. Nothing panics.
#[test]
fn a_child_that_refuses_to_start_is_reported_and_the_pipeline_stops_the_others_and_ends() {
    let (a_log, b_log) = (Log::new(), Log::new());
    let (a, b) = (times_logged(2, &a_log), times_logged(3, &b_log));
    let bad = refuser::<u32, u32>("no room at the inn");
    let after = times(5);
    let p = Pipeline::new([a.clone(), b.clone(), bad.clone(), after.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    assert_start_failure_reported(&probe.signals(), &p, &bad, &["refused", "no room at the inn"]);
    assert!(probe.items().is_empty());
    assert_eq!(a_log.get(), ["shutdownMicroprocess"]);
    assert_eq!(b_log.get(), ["shutdownMicroprocess"]);
    assert!(a.is_finished() && b.is_finished() && bad.is_finished() && p.is_finished());
    assert_eq!(after.state(), ComponentState::Created);
    assert!(after.parent().is_none() && bad.parent().is_none());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
    assert_eq!(sched.live(), 0);
    let again = Pipeline::new([after.clone()]).unwrap();
    assert_eq!(after.parent().unwrap(), again, "the unstarted child is free to use elsewhere");
}

/// When the first child refuses, nothing was started: the pipeline reports it and ends at
/// once.
#[test]
fn a_first_child_that_refuses_is_reported_and_the_pipeline_ends_at_once() {
    let bad = refuser::<u32, u32>("nope");
    let rest = times(1);
    let p = Pipeline::new([bad.clone(), rest.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = run_within_limit({
        let s = Scheduler::new();
        s.activate(&p).unwrap();
        s
    });
    assert_start_failure_reported(&probe.signals(), &p, &bad, &["nope"]);
    assert!(p.is_finished());
    assert_eq!(rest.state(), ComponentState::Created);
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

/// A child someone activated after the pipeline was built is reported (it was activated by
/// someone else), disowned and unlinked but left running; the children started before it are
/// stopped and the pipeline ends. Nothing panics.
#[test]
fn a_child_activated_by_someone_else_is_reported_disowned_and_left_running() {
    let a_log = Log::new();
    let a = times_logged(2, &a_log);
    let (taken, after) = (times(3), times(5));
    let p = Pipeline::new([a.clone(), taken.clone(), after.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = Scheduler::new();
    sched.activate(&taken).unwrap();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    assert_start_failure_reported(&probe.signals(), &p, &taken, &["activated by someone else"]);
    assert_eq!(a_log.get(), ["shutdownMicroprocess"]);
    assert!(a.is_finished() && p.is_finished());
    assert!(!taken.is_finished(), "not the pipeline's to stop");
    assert!(taken.parent().is_none() && after.parent().is_none());
    assert_eq!(after.state(), ComponentState::Created);
    let snap = sched.snapshot();
    assert!(snap.links.iter().all(|l| l.source.component != taken.id() && l.sink.component != taken.id()));
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

/// A real Backplane whose name is already taken on the scheduler, tapped from a pipeline
/// through a TPipe (a Backplane has no `outbox`, so it is not itself a pipeline stage):
/// its refusal comes out of the pipeline's signal as ErrorInformation naming the backplane
/// and the name, then ShutdownMicroprocess; the data sent to the tap stays in its inbox; the
/// pipeline ends; nothing panics; the first backplane keeps its name.
#[test]
fn a_backplane_whose_name_is_taken_inside_a_pipeline_is_reported_and_nothing_panics() {
    let sched = Scheduler::new();
    let first = Backplane::<u32>::new("PLAYERS");
    sched.activate(&first).unwrap();
    let second = Backplane::<u32>::new("PLAYERS");
    let tap = TPipe::<u32>::new(second.clone()).build().unwrap();
    let p = Pipeline::new([source(vec![1u32, 2, 3]), tap.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    assert_start_failure_reported(&probe.signals(), &tap, &second, &["\"PLAYERS\"", "already in use"]);
    assert!(probe.items().is_empty());
    assert_eq!(tap.box_info("inbox").unwrap().len, 3, "what was sent to the tap is still there");
    assert!(p.is_finished() && tap.is_finished() && second.is_finished());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
    assert_eq!(sched.services().retrieve("Backplane_I_PLAYERS").unwrap().0, first.children()[0]);
}

/// A child that is already running, or already belongs to another chassis, or is given
/// twice, is an error naming it.
#[test]
fn a_child_already_started_adopted_or_repeated_is_an_error_naming_it() {
    let running = times(1);
    let sched = Scheduler::new();
    sched.activate(&running).unwrap();
    let err = Pipeline::new([running.clone()]).unwrap_err();
    assert!(err.to_string().contains(running.name()) && err.to_string().contains("activated"), "{err}");

    let adopted = times(1);
    let first = Pipeline::new([adopted.clone()]).unwrap();
    let err = Pipeline::new([adopted.clone()]).unwrap_err();
    assert!(err.to_string().contains(first.name()), "{err}");

    let twice = times(1);
    let err = Pipeline::new([twice.clone(), twice.clone()]).unwrap_err();
    assert!(err.to_string().contains(twice.name()) && err.to_string().contains("twice"), "{err}");
}

/// On the multi-thread scheduler a bounded pipeline delivers the same data, in order, and
/// ends.
#[test]
fn a_bounded_pipeline_runs_the_same_on_the_multi_thread_scheduler() {
    for _ in 0..20 {
        let (items, signals) = (Log::new(), Log::new());
        let p = Pipeline::builder()
            .child(source((0..200u32).collect()))
            .child(times(2))
            .child(collector(&items, &signals))
            .box_size(4)
            .build()
            .unwrap();
        let sched = Scheduler::builder().threads(4).build();
        sched.activate(&p).unwrap();
        let sched = run_within_limit(sched);
        assert_eq!(items.get(), (0..200).map(|n| 2 * n).collect::<Vec<u32>>());
        assert_eq!(signals.get(), ["producerFinished"]);
        assert_eq!(sched.live(), 0);
    }
}
