//! Graphline: named children linked as the user says, the graphline's own boxes reached
//! through "self", control fanned out to children whose control nobody links, its end
//! signalled once all children end, and build errors naming the culprit.

mod common;

use axon_core::{ComponentBuilder, ComponentState, LinkErrorKind, LinkKind, Scheduler, Signal};
use common::*;
use kamaelia_chassis::{ChassisError, Graphline, Pipeline};

/// Data enters through a self inbox, flows along the user's linkages and leaves through a
/// self outbox; a ProducerFinished on the graphline's control is copied to every child (none
/// has its control linked), each drains and ends, and the graphline then sends a fresh
/// ProducerFinished naming itself.
#[test]
fn data_flows_along_the_linkages_and_a_producer_finished_ends_the_graphline() {
    let (a, b) = (times(2), times(10));
    let g = Graphline::builder()
        .component("A", a.clone())
        .component("B", b.clone())
        .link(("self", "inbox"), ("A", "inbox"))
        .link(("A", "outbox"), ("B", "inbox"))
        .link(("B", "outbox"), ("", "outbox"))
        .build()
        .unwrap();
    let probe = Probe::<u32>::on(&g);
    let sched = Scheduler::new();
    sched.activate(&g).unwrap();
    put(&g, "inbox", 1u32);
    put(&g, "inbox", 2u32);
    sched.run_until_idle();
    assert_eq!(probe.items(), [20, 40]);
    put(&g, "control", Signal::producer_finished());
    sched.run_until_idle();
    assert!(a.is_finished() && b.is_finished() && g.is_finished());
    let signals = probe.signals();
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(matches!(signals[0], Signal::ProducerFinished { caller: Some(id), .. } if id == g.id()));
}

/// A ShutdownMicroprocess on the graphline's control reaches every child at once; the
/// graphline remembers it and, once all children have ended, sends it on.
#[test]
fn shutdown_microprocess_reaches_every_child_and_is_sent_on_when_they_have_ended() {
    let controls = Log::new();
    let g = Graphline::builder()
        .component("A", times_logged(1, &controls))
        .component("B", times_logged(1, &controls))
        .component("C", times_logged(1, &controls))
        .build()
        .unwrap();
    let probe = Probe::<()>::on(&g);
    let sched = Scheduler::new();
    sched.activate(&g).unwrap();
    sched.run_until_idle();
    put(&g, "control", Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(controls.get(), ["shutdownMicroprocess"; 3]);
    assert_eq!(names(&probe.signals()), ["shutdownMicroprocess"]);
    assert!(g.is_finished());
}

/// Control messages are copied only to children whose control is not the sink of a user
/// linkage: a child fed by a neighbour's signal hears of a Status or a shutdown from that
/// neighbour alone (which passes both on), once.
#[test]
fn control_is_fanned_out_only_to_children_whose_control_nobody_links() {
    let (first_log, second_log) = (Log::new(), Log::new());
    let first = times_logged(1, &first_log);
    let second = times_logged(1, &second_log);
    let g = Graphline::builder()
        .component("FIRST", first.clone())
        .component("SECOND", second.clone())
        .link(("FIRST", "outbox"), ("SECOND", "inbox"))
        .link(("FIRST", "signal"), ("SECOND", "control"))
        .build()
        .unwrap();
    let sched = Scheduler::new();
    sched.activate(&g).unwrap();
    sched.run_until_idle();
    put(&g, "control", Signal::Status("ping".into()));
    sched.run_until_idle();
    assert_eq!(first_log.get(), ["status"]);
    assert_eq!(second_log.get(), ["status"], "once, from FIRST: SECOND's control is linked by the user");
    put(&g, "control", Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(first_log.get(), ["status", "shutdownMicroprocess"]);
    assert_eq!(second_log.get(), ["status", "shutdownMicroprocess"], "once, from FIRST");
    assert!(g.is_finished());
}

/// When the user links the graphline's control to a child, the graphline copies nothing
/// itself; when the user links a child to the graphline's signal, the graphline sends
/// nothing itself: the child's own signal is what emerges.
#[test]
fn a_user_linked_control_or_signal_is_left_to_the_user() {
    let (a_log, b_log) = (Log::new(), Log::new());
    let g = Graphline::builder()
        .component("A", times_logged(2, &a_log))
        .component("B", times_logged(3, &b_log))
        .link(("self", "inbox"), ("A", "inbox"))
        .link(("self", "control"), ("A", "control"))
        .link(("A", "outbox"), ("B", "inbox"))
        .link(("A", "signal"), ("B", "control"))
        .link(("B", "outbox"), ("self", "outbox"))
        .link(("B", "signal"), ("self", "signal"))
        .build()
        .unwrap();
    let probe = Probe::<u32>::on(&g);
    put(&g, "inbox", 1u32);
    put(&g, "control", Signal::producer_finished());
    let sched = Scheduler::new();
    sched.activate(&g).unwrap();
    sched.run_until_idle();
    assert_eq!(probe.items(), [6]);
    assert_eq!(
        (a_log.get(), b_log.get()),
        (vec!["producerFinished".to_string()], vec!["producerFinished".to_string()])
    );
    let signals = probe.signals();
    assert_eq!(names(&signals), ["producerFinished"], "B's signal only");
    assert!(
        matches!(signals[0], Signal::ProducerFinished { caller: None, .. }),
        "the one put on control, passed along"
    );
    assert!(g.is_finished());
}

/// Building adopts the children; they are activated only when the graphline first runs.
#[test]
fn children_are_activated_only_when_the_graphline_first_runs() {
    let (a, b) = (times(1), times(1));
    let g = Graphline::builder().component("A", a.clone()).component("B", b.clone()).build().unwrap();
    assert_eq!(g.children(), [a.clone(), b.clone()]);
    let sched = Scheduler::new();
    sched.activate(&g).unwrap();
    assert_eq!((a.state(), b.state()), (ComponentState::Created, ComponentState::Created));
    sched.step();
    assert_eq!((a.state(), b.state()), (ComponentState::Runnable, ComponentState::Runnable));
}

/// A snapshot shows the graphline with its children, the user's links, the passthroughs to
/// and from self boxes, and self boxes typed like the child boxes at the other end (extra
/// self boxes included); unlinked standard data boxes carry `()`.
#[test]
fn a_snapshot_shows_the_graphline_its_children_links_and_self_boxes() {
    let mut b = ComponentBuilder::new("Words");
    let _io = b.standard::<String, usize>();
    let _extra = b.inbox::<bool>("flags");
    let words = b.run(|_| async {});
    let counter = times(1);
    let g = Graphline::builder()
        .component("WORDS", words.clone())
        .component("COUNT", counter.clone())
        .link(("self", "inbox"), ("WORDS", "inbox"))
        .link(("self", "switches"), ("WORDS", "flags"))
        .link(("WORDS", "outbox"), ("self", "outbox"))
        .build()
        .unwrap();
    let sched = Scheduler::new();
    sched.activate(&g).unwrap();
    sched.step();
    let snap = sched.snapshot();
    assert_eq!(info(&snap, &words).parent, Some(g.id()));
    assert_eq!(info(&snap, &counter).parent, Some(g.id()));
    assert!(has_link(&snap, (&g, "inbox"), (&words, "inbox"), LinkKind::InboxPassthrough));
    assert!(has_link(&snap, (&g, "switches"), (&words, "flags"), LinkKind::InboxPassthrough));
    assert!(has_link(&snap, (&words, "outbox"), (&g, "outbox"), LinkKind::OutboxPassthrough));
    let names: Vec<_> = info(&snap, &g).boxes.iter().map(|b| b.name.clone()).collect();
    assert_eq!(names, ["inbox", "control", "outbox", "signal", "switches"]);
    assert_eq!(box_type(&snap, &g, "inbox"), "alloc::string::String");
    assert_eq!(box_type(&snap, &g, "switches"), "bool");
    assert_eq!(box_type(&snap, &g, "outbox"), "usize");
    assert!(box_type(&snap, &g, "control").ends_with("Signal"));

    let lone = Graphline::builder().component("ONLY", times(1)).build().unwrap();
    assert_eq!(lone.box_info("inbox").unwrap().msg_type, "()");
    assert_eq!(lone.box_info("outbox").unwrap().msg_type, "()");
}

/// A graphline's self boxes carry its children's types, so it can be a stage of a pipeline.
#[test]
fn a_graphline_is_a_pipeline_stage() {
    let g = Graphline::builder()
        .component("A", times(2))
        .component("B", times(3))
        .link(("self", "inbox"), ("A", "inbox"))
        .link(("A", "outbox"), ("B", "inbox"))
        .link(("A", "signal"), ("B", "control"))
        .link(("B", "outbox"), ("self", "outbox"))
        .link(("B", "signal"), ("self", "signal"))
        .build()
        .unwrap();
    let p = Pipeline::new([source(vec![1u32, 2, 3]), g.clone(), times(10)]).unwrap();
    let probe = Probe::<u32>::on(&p);
    let sched = run_within_limit({
        let s = Scheduler::new();
        s.activate(&p).unwrap();
        s
    });
    assert_eq!(probe.items(), [60, 120, 180]);
    assert_eq!(names(&probe.signals()), ["producerFinished"]);
    assert!(g.is_finished());
    assert_eq!(sched.live(), 0);
}

/// Box sizes can be set per linkage (on its sink) and per named box.
#[test]
fn box_sizes_are_set_per_linkage_and_per_box() {
    let (a, b) = (times(1), times(1));
    let _g = Graphline::builder()
        .component("A", a.clone())
        .component("B", b.clone())
        .link_with_size(("A", "outbox"), ("B", "inbox"), 4)
        .box_size(("A", "inbox"), 2)
        .build()
        .unwrap();
    assert_eq!(a.box_info("inbox").unwrap().capacity, Some(2));
    assert_eq!(b.box_info("inbox").unwrap().capacity, Some(4));
}

/// A graphline with no components is an error (the original's missing-linkages TypeError).
#[test]
fn an_empty_graphline_is_an_error() {
    let err = Graphline::builder().link(("self", "inbox"), ("A", "inbox")).build().unwrap_err();
    assert_eq!(err, ChassisError::NoChildren { chassis: "Graphline".into() });
}

/// A linkage naming a component the graphline does not have is an error naming it, and
/// the children are left unadopted.
#[test]
fn an_unknown_component_name_is_an_error_naming_it() {
    let a = times(1);
    let err = Graphline::builder().component("A", a.clone()).link(("A", "outbox"), ("B", "inbox")).build().unwrap_err();
    assert!(matches!(&err, ChassisError::UnknownComponent { name, .. } if name == "B"), "{err:?}");
    assert!(a.parent().is_none());
}

/// Two components with one name, or a component named "self" or "", are errors.
#[test]
fn duplicate_and_reserved_names_are_errors() {
    let err = Graphline::builder().component("A", times(1)).component("A", times(1)).build().unwrap_err();
    assert!(matches!(&err, ChassisError::DuplicateName { name, .. } if name == "A"), "{err:?}");
    let err = Graphline::builder().component("self", times(1)).build().unwrap_err();
    assert!(matches!(&err, ChassisError::Invalid { reason, .. } if reason.contains("reserved")), "{err:?}");
}

/// An unknown box, a type mismatch and a box linked twice are link errors naming the
/// components and boxes; a failed build leaves every child unadopted and unlinked.
#[test]
fn link_mistakes_are_errors_naming_the_culprits_and_leave_the_children_as_given() {
    let (a, b) = (times(1), times(1));
    let err = Graphline::builder()
        .component("A", a.clone())
        .component("B", b.clone())
        .link(("A", "outbox"), ("B", "inbox"))
        .link(("A", "nope"), ("B", "control"))
        .build()
        .unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::NoSuchBox { name, .. } if name == "nope"), "{err}");
    assert!(err.to_string().contains(a.name()));
    assert!(a.parent().is_none() && b.parent().is_none());
    assert!(Pipeline::new([a.clone(), b.clone()]).is_ok(), "A's outbox was unlinked again");

    let mut bld = ComponentBuilder::new("Strings");
    let _io = bld.standard::<String, String>();
    let strings = bld.run(|_| async {});
    let err = Graphline::builder()
        .component("S", strings.clone())
        .component("N", times(1))
        .link(("S", "outbox"), ("N", "inbox"))
        .build()
        .unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::TypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains(strings.name()), "{err}");

    let err = Graphline::builder()
        .component("A", times(1))
        .component("B", times(1))
        .component("C", times(1))
        .link(("A", "outbox"), ("B", "inbox"))
        .link(("A", "outbox"), ("C", "inbox"))
        .build()
        .unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::AlreadyLinked { .. }), "{err}");
}

/// A self box used the wrong way (a linkage into the graphline's inbox, out of its outbox,
/// one name both ways, or self to self) is an error.
#[test]
fn self_boxes_used_the_wrong_way_are_errors() {
    let wrong = |g: kamaelia_chassis::GraphlineBuilder| {
        let err = g.build().unwrap_err();
        assert!(matches!(err, ChassisError::Invalid { .. }), "{err:?}");
    };
    wrong(Graphline::builder().component("A", times(1)).link(("A", "outbox"), ("self", "inbox")));
    wrong(Graphline::builder().component("A", times(1)).link(("self", "signal"), ("A", "control")));
    wrong(
        Graphline::builder()
            .component("A", times(1))
            .link(("self", "x"), ("A", "inbox"))
            .link(("A", "outbox"), ("self", "x")),
    );
    wrong(Graphline::builder().component("A", times(1)).link(("self", "inbox"), ("self", "outbox")));
}

/// A child that refuses to start when the graphline first runs is reported out of the
/// graphline's signal (ErrorInformation naming the graphline, the child and the reason, then
/// ShutdownMicroprocess, once: a stopped child linked to the graphline's signal does not add
/// its own); children started before it are stopped (one with no control to tell is disowned
/// instead), later ones are left as given, and the graphline ends. Nothing panics.
#[test]
fn a_child_that_refuses_to_start_is_reported_and_the_graphline_stops_the_others_and_ends() {
    let a_log = Log::new();
    let a = times_logged(1, &a_log);
    let mut b = ComponentBuilder::new("NoControl");
    let inbox = b.inbox::<u32>("inbox");
    let deaf = b.run(move |_| async move {
        loop {
            let _ = inbox.recv().await;
        }
    });
    let bad = refuser::<u32, u32>("the moon is wrong");
    let later = times(1);
    let g = Graphline::builder()
        .component("A", a.clone())
        .component("DEAF", deaf.clone())
        .component("BAD", bad.clone())
        .component("LATER", later.clone())
        .link(("self", "inbox"), ("A", "inbox"))
        .link(("A", "outbox"), ("BAD", "inbox"))
        .link(("BAD", "outbox"), ("LATER", "inbox"))
        .link(("A", "signal"), ("self", "signal"))
        .build()
        .unwrap();
    let probe = Probe::<()>::on(&g);
    let sched = Scheduler::new();
    sched.activate(&g).unwrap();
    sched.run_until_idle();
    assert_start_failure_reported(&probe.signals(), &g, &bad, &["refused", "the moon is wrong"]);
    assert_eq!(a_log.get(), ["shutdownMicroprocess"]);
    assert!(a.is_finished() && g.is_finished());
    assert!(!deaf.is_finished() && deaf.parent().is_none(), "no control to tell it by: disowned");
    assert_eq!(later.state(), ComponentState::Created);
    assert!(later.parent().is_none() && bad.parent().is_none());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

/// A child box linked to the graphline's signal must carry Signal (the graphline's signal
/// always does).
#[test]
fn a_child_box_linked_to_the_graphlines_signal_must_carry_signal() {
    let a = times(1);
    let err =
        Graphline::builder().component("A", a.clone()).link(("A", "outbox"), ("self", "signal")).build().unwrap_err();
    let ChassisError::Link { error, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(error.kind(), LinkErrorKind::TypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains(a.name()), "{err}");
    assert!(a.parent().is_none());
}
