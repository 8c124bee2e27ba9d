//! Par: children side by side, outputs merged, control handled by a policy, one end signal.

mod common;

use axon_core::{
    ComponentBuilder, ComponentState, ControlWatch, LinkErrorKind, LinkKind, Next, Scheduler, Signal, SignalPolicy,
};
use common::*;
use kamaelia_chassis::{ChassisError, Par, ParAction, Pipeline};

/// Every child's outbox is merged into Par's outbox; when all children have ended on their
/// own, Par sends one ProducerFinished naming itself (the children's own ProducerFinished
/// signals do not leak out, so whatever Par feeds is not shut down early).
#[test]
fn outputs_are_merged_and_one_producer_finished_follows_when_all_children_end() {
    let p = Par::new([source(vec![1u32, 2]), source(vec![10u32, 20, 30]), source(vec![100u32])]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = run_within_limit({
        let s = Scheduler::new();
        s.activate(&p).unwrap();
        s
    });
    let mut got = probe.items();
    got.sort_unstable();
    assert_eq!(got, [1, 2, 10, 20, 30, 100]);
    let signals = probe.signals();
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(matches!(signals[0], Signal::ProducerFinished { caller: Some(id), .. } if id == p.id()));
    assert_eq!(sched.live(), 0);
}

/// In a pipeline, a Par of sources feeds the next stage all of their data before that stage
/// hears ProducerFinished.
#[test]
fn a_par_of_sources_feeds_a_pipeline_stage_everything_before_it_finishes() {
    let (items, signals) = (Log::new(), Log::new());
    let par = Par::new([source(vec![1u32]), source((2..40u32).collect())]).unwrap();
    let p = Pipeline::new([par, collector(&items, &signals)]).unwrap();
    run_within_limit({
        let s = Scheduler::new();
        s.activate(&p).unwrap();
        s
    });
    let mut got = items.get();
    got.sort_unstable();
    assert_eq!(got, (1..40).collect::<Vec<u32>>());
    assert_eq!(signals.get(), ["producerFinished"]);
}

/// A ProducerFinished on Par's control is copied to every child (default policy): each
/// drains and ends, and Par then sends its own ProducerFinished.
#[test]
fn producer_finished_is_copied_to_every_child_and_par_ends_after_them() {
    let controls = Log::new();
    let (a, b) = (times_logged(2, &controls), times_logged(3, &controls));
    let p = Par::new([a.clone(), b.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    put(&a, "inbox", 1u32);
    put(&b, "inbox", 1u32);
    put(&p, "control", Signal::producer_finished());
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    assert_eq!(controls.get(), ["producerFinished", "producerFinished"]);
    let mut got = probe.items();
    got.sort_unstable();
    assert_eq!(got, [2, 3]);
    let signals = probe.signals();
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(matches!(signals[0], Signal::ProducerFinished { caller: Some(id), .. } if id == p.id()));
    assert!(a.is_finished() && b.is_finished() && p.is_finished());
}

/// A ShutdownMicroprocess is copied to every child and makes Par stop at once, without
/// waiting for children (even one that ignores control), sending it on its signal.
#[test]
fn shutdown_microprocess_stops_par_at_once_and_is_sent_on() {
    let controls = Log::new();
    let polite = times_logged(1, &controls);
    let deaf = stubborn();
    let p = Par::new([polite.clone(), deaf.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    put(&p, "control", Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(p.is_finished());
    assert_eq!(names(&probe.signals()), ["shutdownMicroprocess"]);
    assert_eq!(controls.get(), ["shutdownMicroprocess"]);
    assert!(polite.is_finished());
    assert!(!deaf.is_finished(), "Par did not wait for the child that ignores control");
    assert!(p.children().is_empty(), "its children were disowned");
}

/// The policy decides what happens to each control message: here Status messages stop
/// Par and everything else is ignored.
#[test]
fn a_policy_decides_what_each_control_message_does() {
    let controls = Log::new();
    let child = times_logged(1, &controls);
    let p = Par::builder()
        .child(child.clone())
        .policy(|s| if matches!(s, Signal::Status(_)) { ParAction::BroadcastAndStop } else { ParAction::Ignore })
        .build()
        .unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    put(&p, "control", Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(controls.get().is_empty(), "ignored");
    assert!(!p.is_finished());
    put(&p, "control", Signal::Status("enough".into()));
    sched.run_until_idle();
    assert_eq!(controls.get(), ["status"]);
    assert!(p.is_finished());
    assert!(matches!(&probe.signals()[..], [Signal::Status(s)] if s == "enough"));
    assert_eq!(ParAction::default_policy(&Signal::Shutdown), ParAction::BroadcastAndStop);
    assert_eq!(ParAction::default_policy(&Signal::producer_finished()), ParAction::Broadcast);
}

/// Par forwards nothing from its own inbox: what arrives there stays there, untouched.
#[test]
fn par_forwards_nothing_from_its_inbox() {
    let (items, signals) = (Log::new(), Log::new());
    let child = collector(&items, &signals);
    let p = Par::new([child]).unwrap();
    put(&p, "inbox", 5u32);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    assert!(items.get().is_empty());
    assert_eq!(p.box_info("inbox").unwrap().len, 1);
}

/// A child's non-terminal signals (a Status, say) come out of Par's signal.
#[test]
fn a_childs_non_terminal_signals_come_out_of_par() {
    let mut b = ComponentBuilder::new("Chatty");
    let io = b.standard::<u32, u32>();
    let chatty = b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        watch.emit(Signal::Status("halfway".into())).await;
        watch.finish(Signal::producer_finished_by(ctx.id())).await;
    });
    let p = Par::new([chatty]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    let signals = probe.signals();
    assert_eq!(names(&signals), ["status", "producerFinished"]);
    assert!(matches!(signals[1], Signal::ProducerFinished { caller: Some(id), .. } if id == p.id()));
}

/// Children are adopted when Par is built and activated when it first runs; a snapshot
/// shows them with Par as parent and their outboxes passing through to Par's (fan-in).
#[test]
fn children_start_when_par_first_runs_and_a_snapshot_shows_the_fan_in() {
    let (a, b) = (times(1), times(1));
    let p = Par::new([a.clone(), b.clone()]).unwrap();
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    assert_eq!((a.state(), b.state()), (ComponentState::Created, ComponentState::Created));
    sched.step();
    assert_eq!((a.state(), b.state()), (ComponentState::Runnable, ComponentState::Runnable));
    let snap = sched.snapshot();
    for c in [&a, &b] {
        assert_eq!(info(&snap, c).parent, Some(p.id()));
        assert!(has_link(&snap, (c, "outbox"), (&p, "outbox"), LinkKind::OutboxPassthrough));
        assert!(has_link(&snap, (c, "signal"), (&p, "_childsignal"), LinkKind::Normal));
    }
    assert_eq!(box_type(&snap, &p, "outbox"), "u32");
    assert_eq!(box_type(&snap, &p, "inbox"), "u32");
}

/// No children, children whose outboxes carry different types, or a child missing a box,
/// are errors naming the culprit.
#[test]
fn build_mistakes_are_errors_naming_the_culprit() {
    assert_eq!(Par::new([]).unwrap_err(), ChassisError::NoChildren { chassis: "Par".into() });

    let strings = source(vec!["x".to_string()]);
    let numbers = source(vec![1u32]);
    let err = Par::new([numbers.clone(), strings.clone()]).unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::TypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains(strings.name()), "{err}");
    assert!(numbers.parent().is_none() && strings.parent().is_none());

    let lame = inbox_only();
    let err = Par::new([times(1), lame.clone()]).unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::NoSuchBox { name, .. } if name == "control"), "{err}");
    assert!(err.to_string().contains(lame.name()), "{err}");
}

/// On the multi-thread scheduler a Par of sources still delivers everything before its one
/// ProducerFinished.
#[test]
fn a_par_of_sources_runs_the_same_on_the_multi_thread_scheduler() {
    for _ in 0..20 {
        let (items, signals) = (Log::new(), Log::new());
        let par = Par::new((0..3u32).map(|k| source((0..50).map(|n| 100 * k + n).collect()))).unwrap();
        let p = Pipeline::builder().child(par).child(collector(&items, &signals)).box_size(3).build().unwrap();
        let sched = Scheduler::builder().threads(4).build();
        sched.activate(&p).unwrap();
        run_within_limit(sched);
        let mut got = items.get();
        got.sort_unstable();
        assert_eq!(got, (0..3u32).flat_map(|k| (0..50).map(move |n| 100 * k + n)).collect::<Vec<_>>());
        assert_eq!(signals.get(), ["producerFinished"]);
    }
}

/// A child that refuses to start when Par first runs is reported out of Par's signal
/// (ErrorInformation naming Par, the child and the reason); the children started before it
/// are stopped (their non-terminal signals still come out), later ones are left as given,
/// and Par sends ShutdownMicroprocess and ends. Nothing panics.
#[test]
fn a_child_that_refuses_to_start_is_reported_and_par_stops_the_others_and_ends() {
    let controls = Log::new();
    let (polite, chatty) = (times_logged(1, &controls), greeter());
    let bad = refuser::<u32, u32>("out of order");
    let later = times(1);
    let p = Par::new([polite.clone(), chatty.clone(), bad.clone(), later.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    let signals = probe.signals();
    assert_eq!(names(&signals), ["errorInformation", "status", "shutdownMicroprocess"]);
    assert_start_failure_reported(&[signals[0].clone(), signals[2].clone()], &p, &bad, &["refused", "out of order"]);
    assert_eq!(controls.get(), ["shutdownMicroprocess"]);
    assert!(polite.is_finished() && chatty.is_finished() && p.is_finished());
    assert_eq!(later.state(), ComponentState::Created);
    assert!(later.parent().is_none() && bad.parent().is_none());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
    assert_eq!(sched.live(), 0);
}

/// Broadcasting waits for room in a child's full `control` (a bounded one here) and goes on
/// once the child reads: Par is woken by the room, and every signal reaches the child in
/// order.
#[test]
fn broadcasting_to_a_full_control_waits_for_room_and_goes_on_when_the_child_reads() {
    let mut b = ComponentBuilder::new("SlowListener");
    let io = b.standard::<u32, u32>();
    io.control.set_capacity(Some(1));
    let gate = b.inbox::<()>("gate");
    let heard = Log::new();
    let log = heard.clone();
    let slow = b.run(move |_| async move {
        gate.recv().await;
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Other(s) => log.push(s.axon_name().to_string()),
                Next::End(s) => break s,
                Next::Data(_) => {}
            }
        };
        log.push(end.axon_name().to_string());
        watch.finish(end).await;
    });
    let p = Par::new([slow.clone()]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = Scheduler::new();
    sched.activate(&p).unwrap();
    sched.run_until_idle();
    for s in [Signal::Status("one".into()), Signal::Status("two".into()), Signal::producer_finished()] {
        put(&p, "control", s);
    }
    sched.run_until_idle();
    assert!(heard.get().is_empty() && !p.is_finished(), "the child's control holds one; Par waits");
    put(&slow, "gate", ());
    sched.run_until_idle();
    assert_eq!(heard.get(), ["status", "status", "producerFinished"]);
    assert!(slow.is_finished() && p.is_finished());
    assert_eq!(names(&probe.signals()), ["producerFinished"]);
}
