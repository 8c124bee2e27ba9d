//! Seq: components run one after another, wired in turn to the Seq's own boxes, progress
//! strings printed between them, and its end and shutdown rules.

mod common;

use axon_core::{ComponentBuilder, ComponentState, LinkErrorKind, LinkKind, Scheduler, Signal};
use common::*;
use kamaelia_chassis::{ChassisError, Pipeline, Seq, SeqItem};

/// Each component runs only after the previous one has ended; their outputs come out of
/// Seq's outbox in turn; progress strings are printed when reached; the stages'
/// ProducerFinished signals stay inside, and Seq sends one ProducerFinished naming itself
/// after the last item.
#[test]
fn components_run_in_turn_with_progress_strings_between_and_one_end_signal() {
    let log = Log::new();
    let out = SharedWriter::default();
    let s = Seq::builder()
        .progress("starting")
        .component(logged_source("one", vec![1, 2], &log))
        .progress("half way")
        .component(logged_source("two", vec![3], &log))
        .output(out.clone())
        .build()
        .unwrap();
    let probe = Probe::<u32>::on(&s);
    let sched = run_within_limit({
        let sched = Scheduler::new();
        sched.activate(&s).unwrap();
        sched
    });
    assert_eq!(log.get(), ["start one", "end one", "start two", "end two"]);
    assert_eq!(probe.items(), [1, 2, 3]);
    assert_eq!(out.text(), "starting\nhalf way\n");
    let signals = probe.signals();
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(matches!(signals[0], Signal::ProducerFinished { caller: Some(id), .. } if id == s.id()));
    assert_eq!(sched.live(), 0);
}

/// A later stage is neither adopted nor activated while an earlier one runs.
#[test]
fn a_later_stage_is_not_started_while_an_earlier_one_runs() {
    let (first, second) = (times(1), times(1));
    let s = Seq::new([SeqItem::from(first.clone()), second.clone().into()]).unwrap();
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    assert_eq!(first.state(), ComponentState::Paused);
    assert_eq!(first.parent().unwrap(), s);
    assert_eq!(second.state(), ComponentState::Created);
    assert!(second.parent().is_none());
}

/// Seq's inbox feeds whichever stage is running.
#[test]
fn the_inbox_feeds_whichever_stage_is_running() {
    let (first, second) = (take(2), take(1));
    let s = Seq::new([first.clone().into(), second.clone().into()]).unwrap();
    let probe = Probe::<u32>::on(&s);
    put(&s, "inbox", 1u32);
    put(&s, "inbox", 2u32);
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    assert!(first.is_finished());
    assert_eq!(second.parent().unwrap(), s);
    put(&s, "inbox", 3u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [1, 2, 3]);
    assert_eq!(names(&probe.signals()), ["producerFinished"]);
    assert!(s.is_finished());
}

/// A ShutdownMicroprocess on Seq's control reaches the running stage and stops Seq at once,
/// sending it on; later stages never start.
#[test]
fn shutdown_microprocess_stops_the_running_stage_and_seq_promptly() {
    let controls = Log::new();
    let first = times_logged(1, &controls);
    let later = times(9);
    let s = Seq::new([first.clone().into(), later.clone().into()]).unwrap();
    let probe = Probe::<u32>::on(&s);
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    put(&s, "control", Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(controls.get(), ["shutdownMicroprocess"]);
    assert!(first.is_finished() && s.is_finished());
    assert_eq!(later.state(), ComponentState::Created);
    assert!(probe.items().is_empty());
    assert_eq!(names(&probe.signals()), ["shutdownMicroprocess"]);
}

/// A stage that ignores control does not keep Seq from stopping on ShutdownMicroprocess.
#[test]
fn shutdown_microprocess_stops_seq_even_if_the_stage_ignores_it() {
    let deaf = stubborn();
    let s = Seq::new([deaf.clone().into()]).unwrap();
    let probe = Probe::<u32>::on(&s);
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    put(&s, "control", Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(s.is_finished());
    assert!(!deaf.is_finished());
    assert_eq!(names(&probe.signals()), ["shutdownMicroprocess"]);
}

/// A ProducerFinished on Seq's control is passed to the running stage, which drains and
/// ends; Seq then skips the remaining items and sends that ProducerFinished on.
#[test]
fn producer_finished_drains_the_running_stage_then_skips_the_rest() {
    let out = SharedWriter::default();
    let later = times(100);
    let s = Seq::builder()
        .component(times(2))
        .progress("never printed")
        .component(later.clone())
        .output(out.clone())
        .build()
        .unwrap();
    let probe = Probe::<u32>::on(&s);
    put(&s, "inbox", 1u32);
    put(&s, "inbox", 2u32);
    put(&s, "control", Signal::producer_finished());
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [2, 4]);
    let signals = probe.signals();
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(matches!(signals[0], Signal::ProducerFinished { caller: None, .. }), "the one put on control");
    assert_eq!(later.state(), ComponentState::Created);
    assert_eq!(out.text(), "");
    assert!(s.is_finished());
}

/// A stage's ProducerFinished does not shut down what Seq feeds: a pipeline stage after
/// Seq receives every stage's output and a single ProducerFinished at the end.
#[test]
fn what_seq_feeds_hears_producer_finished_once_after_the_last_stage() {
    let (items, signals) = (Log::new(), Log::new());
    let s = Seq::builder()
        .component(source(vec![1u32]))
        .component(source(vec![2u32]))
        .output(SharedWriter::default())
        .build()
        .unwrap();
    let p = Pipeline::new([s, collector(&items, &signals)]).unwrap();
    run_within_limit({
        let sched = Scheduler::new();
        sched.activate(&p).unwrap();
        sched
    });
    assert_eq!(items.get(), [1, 2]);
    assert_eq!(signals.get(), ["producerFinished"]);
}

/// A snapshot shows the running stage as Seq's child with Seq's inbox passing through to
/// it, its outbox passing through to Seq's, and its signal feeding Seq's private inbox.
#[test]
fn a_snapshot_shows_the_running_stage_and_its_passthroughs() {
    let stage = times(1);
    let s = Seq::new([stage.clone().into()]).unwrap();
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    let snap = sched.snapshot();
    assert_eq!(info(&snap, &stage).parent, Some(s.id()));
    assert!(has_link(&snap, (&s, "inbox"), (&stage, "inbox"), LinkKind::InboxPassthrough));
    assert!(has_link(&snap, (&stage, "outbox"), (&s, "outbox"), LinkKind::OutboxPassthrough));
    assert!(has_link(&snap, (&stage, "signal"), (&s, "_childsignal"), LinkKind::Normal));
    assert_eq!(box_type(&snap, &s, "inbox"), "u32");
    assert_eq!(box_type(&snap, &s, "outbox"), "u32");
}

/// A Seq with no component (strings only), stages whose boxes carry different types, or a
/// stage missing a box, are errors naming the culprit.
#[test]
fn build_mistakes_are_errors_naming_the_culprit() {
    let err = Seq::new([SeqItem::from("just words")]).unwrap_err();
    assert_eq!(err, ChassisError::NoChildren { chassis: "Seq".into() });

    let mut b = ComponentBuilder::new("Strings");
    let _io = b.standard::<String, String>();
    let strings = b.run(|_| async {});
    let err = Seq::new([times(1).into(), strings.clone().into()]).unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::TypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains(strings.name()), "{err}");

    let lame = inbox_only();
    let err = Seq::new([times(1).into(), lame.clone().into()]).unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::NoSuchBox { name, .. } if name == "control"), "{err}");
    assert!(err.to_string().contains(lame.name()), "{err}");
}

/// On the multi-thread scheduler a Seq still runs its stages in turn, delivering their
/// output in order, then one ProducerFinished.
#[test]
fn a_seq_runs_the_same_on_the_multi_thread_scheduler() {
    for _ in 0..20 {
        let (items, signals) = (Log::new(), Log::new());
        let s = Seq::builder()
            .component(source((0..30u32).collect()))
            .progress("next")
            .component(source((30..60u32).collect()))
            .output(SharedWriter::default())
            .build()
            .unwrap();
        let p = Pipeline::builder().child(s).child(collector(&items, &signals)).box_size(2).build().unwrap();
        let sched = Scheduler::builder().threads(4).build();
        sched.activate(&p).unwrap();
        run_within_limit(sched);
        assert_eq!(items.get(), (0..60).collect::<Vec<u32>>());
        assert_eq!(signals.get(), ["producerFinished"]);
    }
}

/// A stage that refuses to start when its turn comes is reported out of Seq's signal
/// (ErrorInformation naming Seq, the stage and the reason, then ShutdownMicroprocess); the
/// earlier stages' output has come out, later items never run, and Seq ends. Nothing panics.
#[test]
fn a_stage_that_refuses_to_start_is_reported_and_seq_ends() {
    let out = SharedWriter::default();
    let bad = refuser::<u32, u32>("not today");
    let later = times(1);
    let s = Seq::builder()
        .component(take(1))
        .progress("before the bad one")
        .component(bad.clone())
        .progress("never printed")
        .component(later.clone())
        .output(out.clone())
        .build()
        .unwrap();
    let probe = Probe::<u32>::on(&s);
    put(&s, "inbox", 1u32);
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [1]);
    assert_start_failure_reported(&probe.signals(), &s, &bad, &["refused", "not today"]);
    assert_eq!(out.text(), "before the bad one\n");
    assert!(s.is_finished() && bad.parent().is_none());
    assert_eq!(later.state(), ComponentState::Created);
    assert!(later.parent().is_none());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

/// A stage one of whose boxes someone linked after Seq was built cannot be wired when its
/// turn comes: that is reported the same way, naming the stage and the link, and Seq ends
/// without starting it.
#[test]
fn a_stage_whose_boxes_were_linked_elsewhere_is_reported_and_seq_ends() {
    let stage = times(1);
    let s = Seq::new([take(0).into(), stage.clone().into()]).unwrap();
    let elsewhere = times(1);
    axon_core::link((&stage, "outbox"), (&elsewhere, "inbox")).unwrap();
    let probe = Probe::<u32>::on(&s);
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    assert_start_failure_reported(&probe.signals(), &s, &stage, &["cannot be wired", elsewhere.name()]);
    assert_eq!(stage.state(), ComponentState::Created);
    assert!(stage.parent().is_none() && s.is_finished());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

/// Data waiting for a stage that refuses to start stays in Seq's inbox (the stage's inbox is
/// fed only once it has started).
#[test]
fn data_waiting_for_a_stage_that_refuses_stays_in_seqs_inbox() {
    let bad = refuser::<u32, u32>("closed");
    let s = Seq::new([bad.clone().into(), times(1).into()]).unwrap();
    let probe = Probe::<u32>::on(&s);
    put(&s, "inbox", 7u32);
    put(&s, "inbox", 8u32);
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.run_until_idle();
    assert_start_failure_reported(&probe.signals(), &s, &bad, &["closed"]);
    assert_eq!(s.box_info("inbox").unwrap().len, 2);
    assert_eq!(bad.box_info("inbox").unwrap().len, 0);
    assert!(s.is_finished());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}
