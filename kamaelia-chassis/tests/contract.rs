//! Every chassis against the shutdown contract: `axon_core::conformance::Contract` where it
//! can drive the component, and a test of the same behaviours where it cannot.
//!
//! Contract's "shutdown while blocked" check waits for the component under test itself to
//! wait on its full outbox. A chassis never does (its `outbox` is a passthrough: the child
//! waits), so each chassis declares `never_blocks` and gets that behaviour checked with a
//! child waiting to send instead ([`stops_while_a_child_waits_to_send`]). PublishTo and
//! SubscribeTo need a Backplane on their scheduler, so Contract drives each inside a
//! Graphline holding a Backplane, and their own waits are checked on a scheduler with one.
//! PlugSplitter and Backplane have no `outbox` for Contract to link: their test checks the
//! three behaviours through a sink.

use axon_core::conformance::Contract;
use axon_core::{Component, ComponentBuilder, Inbox, LinkOptions, Scheduler, Signal, link, link_with};
use kamaelia_chassis::{
    Backplane, Carousel, Graphline, Par, Pipeline, PlugSplitter, PublishTo, Seq, SplitterConfig, SubscribeTo, TPipe,
};

/// A pass-through on the driver: the child every chassis here is checked with.
fn pass_through() -> Component {
    let mut b = ComponentBuilder::new("PassThrough");
    let io = b.standard::<u32, u32>();
    b.run(|_| io.transform(Some))
}

fn sample(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The far side of a component: its `outbox` into a box of capacity `cap` (never read), its
/// `signal` into an unbounded one.
struct Probe {
    _component: Component,
    data: Inbox<u32>,
    signals: Inbox<Signal>,
}

impl Probe {
    fn on(c: &Component, cap: usize) -> Probe {
        let mut b = ComponentBuilder::new("Probe");
        let data = b.inbox::<u32>("inbox");
        let signals = b.inbox::<Signal>("control");
        let component = b.run(|_| async {});
        link_with((c, "outbox"), (&component, "inbox"), LinkOptions::capacity(cap)).unwrap();
        link((c, "signal"), (&component, "control")).unwrap();
        Probe { _component: component, data, signals }
    }

    fn signals(&self) -> Vec<Signal> {
        self.signals.drain().collect()
    }
}

/// True if `c` is recorded as waiting to send.
fn waiting(sched: &Scheduler, c: &Component) -> bool {
    sched.snapshot().components.iter().any(|i| i.id == c.id() && i.waiting_for.is_some())
}

/// Messages into `c`'s inbox, one per turn, until `c` waits to send.
fn feed_until_waiting(sched: &Scheduler, c: &Component) {
    let inbox = c.inbox_ref::<u32>("inbox").unwrap();
    for n in 0..100 {
        sched.run_until_idle();
        if waiting(sched, c) {
            return;
        }
        inbox.try_send(n).unwrap();
    }
    panic!("{} never waited to send", c.name());
}

/// The "shutdown while blocked" behaviour for a chassis: `make` builds it around `child`, whose
/// output leaves the chassis's `outbox`; with that outbox leading to a full box of capacity 1,
/// the child is fed until it waits to send. A ShutdownMicroprocess on the chassis's `control`
/// then stops the child (abandoning its send) and the chassis, and comes out of the chassis's
/// `signal`.
fn stops_while_a_child_waits_to_send(make: impl FnOnce(Component) -> Component) {
    let child = pass_through();
    let chassis = make(child.clone());
    let probe = Probe::on(&chassis, 1);
    let sched = Scheduler::new();
    sched.activate(&chassis).unwrap();
    feed_until_waiting(&sched, &child);
    assert_eq!(probe.data.len(), 1, "the far box is full");
    chassis.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.run_until_idle();
    assert!(child.is_finished(), "{}: the child waiting to send did not stop", chassis.name());
    assert!(chassis.is_finished(), "{} did not stop", chassis.name());
    assert!(!waiting(&sched, &child), "the child is still recorded as waiting");
    let signals = probe.signals();
    assert!(signals.iter().any(Signal::is_shutdown), "{}: no shutdown passed on: {signals:?}", chassis.name());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

/// The "shutdown while blocked" behaviour for a component that sends from its own outbox:
/// fed until it waits on a full box of capacity 1, it stops within one turn of a
/// ShutdownMicroprocess and passes it on.
fn stops_within_a_turn_while_waiting_to_send(sched: &Scheduler, c: &Component) {
    let probe = Probe::on(c, 1);
    sched.activate(c).unwrap();
    feed_until_waiting(sched, c);
    c.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.step();
    assert!(c.is_finished(), "{} did not stop within one turn", c.name());
    assert!(!waiting(sched, c), "{} is still recorded as waiting", c.name());
    let signals = probe.signals();
    assert!(signals.iter().any(Signal::is_shutdown), "{}: no shutdown passed on: {signals:?}", c.name());
}

#[test]
fn pipeline() {
    Contract::new("Pipeline", || Pipeline::new([pass_through(), pass_through()]).unwrap())
        .sample(sample)
        .never_blocks()
        .check()
        .unwrap();
    stops_while_a_child_waits_to_send(|child| Pipeline::new([pass_through(), child]).unwrap());
}

/// A graphline whose child's boxes surface as its own (its control fanned out to the child,
/// whose signal speaks for the graphline); and one that signals its own end.
#[test]
fn graphline() {
    let around = |child: Component, speaks: bool| {
        let g = Graphline::builder()
            .component("A", child)
            .link(("self", "inbox"), ("A", "inbox"))
            .link(("A", "outbox"), ("self", "outbox"));
        if speaks { g.link(("A", "signal"), ("self", "signal")) } else { g }.build().unwrap()
    };
    Contract::new("Graphline", move || around(pass_through(), true)).sample(sample).never_blocks().check().unwrap();
    stops_while_a_child_waits_to_send(|child| around(child, true));
    stops_while_a_child_waits_to_send(|child| around(child, false));
}

/// Par reads nothing from its inbox (its children have their own feeds), so it is checked
/// without input.
#[test]
fn par() {
    Contract::<u32>::new("Par", || Par::new([pass_through(), pass_through()]).unwrap()).check().unwrap();
    stops_while_a_child_waits_to_send(|child| Par::new([child, pass_through()]).unwrap());
}

#[test]
fn seq() {
    Contract::new("Seq", || Seq::new([pass_through().into()]).unwrap()).sample(sample).never_blocks().check().unwrap();
    stops_while_a_child_waits_to_send(|child| Seq::new([child.into(), pass_through().into()]).unwrap());
}

/// A Carousel with a request waiting, so it has a child to pass its data and signals to.
#[test]
fn carousel() {
    let around = |child: Component| {
        let c = Carousel::<u32, u32, u32>::new(move |_| child.clone()).build();
        c.inbox_ref::<u32>("next").unwrap().try_send(0).unwrap();
        c
    };
    Contract::new("Carousel", move || around(pass_through())).sample(sample).never_blocks().check().unwrap();
    stops_while_a_child_waits_to_send(around);
}

/// TPipe sends from its own outbox, so Contract's own blocking check applies.
#[test]
fn tpipe() {
    Contract::new("TPipe", || TPipe::<u32>::new(pass_through()).build().unwrap()).sample(sample).check().unwrap();
    Contract::new("TPipe (source)", || TPipe::<u32>::new(pass_through()).source(true).build().unwrap())
        .sample(sample)
        .check()
        .unwrap();
}

/// `component` inside a Graphline holding the backplane it needs, its standard boxes
/// surfacing as the graphline's.
fn with_backplane(name: &str, component: Component) -> Component {
    Graphline::builder()
        .component("BACKPLANE", Backplane::<u32>::new(name))
        .component("C", component)
        .link(("self", "inbox"), ("C", "inbox"))
        .link(("C", "outbox"), ("self", "outbox"))
        .link(("C", "signal"), ("self", "signal"))
        .build()
        .unwrap()
}

#[test]
fn publish_to() {
    for forwarder in [false, true] {
        Contract::new("PublishTo", move || {
            with_backplane("B", PublishTo::<u32>::new("B").forwarder(forwarder).build())
        })
        .sample(sample)
        .never_blocks()
        .check()
        .unwrap();
    }
    let sched = Scheduler::new();
    sched.activate(&Backplane::<u32>::with_capacity("B", None)).unwrap();
    stops_within_a_turn_while_waiting_to_send(&sched, &PublishTo::<u32>::new("B").forwarder(true).build());
}

#[test]
fn subscribe_to() {
    Contract::new("SubscribeTo", || with_backplane("B", SubscribeTo::<u32>::new("B").build()))
        .sample(sample)
        .never_blocks()
        .check()
        .unwrap();
    let sched = Scheduler::new();
    sched.activate(&Backplane::<u32>::new("B")).unwrap();
    stops_within_a_turn_while_waiting_to_send(&sched, &SubscribeTo::<u32>::new("B").build());
}

/// A sink for a splitter: an inbox of capacity `cap` (never read) and a control.
fn splitter_sink(cap: usize) -> (Component, Inbox<u32>, Inbox<Signal>) {
    let mut b = ComponentBuilder::new("Sink");
    let data = b.inbox_with_capacity::<u32>("inbox", cap);
    let control = b.inbox::<Signal>("control");
    (b.run(|_| async {}), data, control)
}

/// The three behaviours for a splitter, told through `front` (the splitter itself, or a
/// Backplane passing through to it): drain on ProducerFinished, a shutdown while a lossless
/// sink has stalled it, a Status passed on.
fn splitter_keeps_the_contract(make: impl Fn() -> (Component, Component)) {
    let signals_of = |front: &Component| {
        let mut b = ComponentBuilder::new("Probe");
        let signals = b.inbox::<Signal>("control");
        let probe = b.run(|_| async {});
        link((front, "signal"), (&probe, "control")).unwrap();
        (probe, signals)
    };
    let attach = |splitter: &Component, sink: &Component| {
        let config = splitter.inbox_ref::<SplitterConfig>("configuration").unwrap();
        config.try_send(SplitterConfig::add_sink(sink, "inbox", Some("control"))).unwrap();
    };
    let put = |front: &Component, n: u32| front.inbox_ref::<u32>("inbox").unwrap().try_send(n).unwrap();
    let control = |front: &Component, s: Signal| front.inbox_ref::<Signal>("control").unwrap().try_send(s).unwrap();

    // Drain: what is in the inbox reaches the sink before the ProducerFinished does; it is
    // the last signal out.
    let (front, splitter) = make();
    let (_probe, out) = signals_of(&front);
    let (sink, data, sink_control) = splitter_sink(10);
    attach(&splitter, &sink);
    let sched = Scheduler::new();
    sched.activate(&front).unwrap();
    sched.run_until_idle();
    for n in 0..3 {
        put(&front, n);
    }
    control(&front, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(data.drain().collect::<Vec<_>>(), [0, 1, 2]);
    assert!(matches!(sink_control.drain().collect::<Vec<_>>()[..], [Signal::ProducerFinished { .. }]));
    assert!(out.drain().last().is_some_and(|s| s.is_producer_finished()));
    assert!(front.is_finished() && splitter.is_finished());

    // A shutdown while a lossless sink has stalled the splitter: it stops and passes it on.
    let (front, splitter) = make();
    let (_probe, out) = signals_of(&front);
    let (sink, data, sink_control) = splitter_sink(1);
    attach(&splitter, &sink);
    let sched = Scheduler::new();
    sched.activate(&front).unwrap();
    sched.run_until_idle();
    for n in 0..5 {
        put(&front, n);
    }
    sched.run_until_idle();
    assert_eq!(data.len(), 1, "the sink is full");
    assert!(!splitter.is_finished());
    control(&front, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(front.is_finished() && splitter.is_finished());
    assert!(out.drain().any(|s| s.is_shutdown()));
    assert!(sink_control.drain().any(|s| s.is_shutdown()));

    // A Status is passed on (out of signal, and to the sinks) and the splitter carries on.
    let (front, splitter) = make();
    let (_probe, out) = signals_of(&front);
    let (sink, _data, sink_control) = splitter_sink(1);
    attach(&splitter, &sink);
    let sched = Scheduler::new();
    sched.activate(&front).unwrap();
    sched.run_until_idle();
    control(&front, Signal::Status("conformance".into()));
    sched.run_until_idle();
    let is_status = |s: &Signal| matches!(s, Signal::Status(t) if t == "conformance");
    assert!(out.drain().any(|s| is_status(&s)));
    assert!(sink_control.drain().any(|s| is_status(&s)));
    assert!(!front.is_finished());
}

#[test]
fn plug_splitter() {
    splitter_keeps_the_contract(|| {
        let s = PlugSplitter::<u32>::new().build();
        (s.clone(), s)
    });
}

#[test]
fn backplane() {
    splitter_keeps_the_contract(|| {
        let bp = Backplane::<u32>::new("B");
        let splitter = bp.children()[0].clone();
        (bp, splitter)
    });
}
