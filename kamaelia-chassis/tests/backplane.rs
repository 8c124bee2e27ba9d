//! Backplane, PublishTo and SubscribeTo: every subscriber gets every message; subscribers
//! come and go; shutdown cascades; names are per scheduler; slow subscribers follow their policy.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use axon_core::{
    ActivateError, Component, ComponentBuilder, ComponentState, ControlWatch, LinkKind, Next, Scheduler, Signal,
    SignalPolicy, link, pause,
};
use kamaelia_chassis::{Backplane, PlugSplitter, PublishTo, SplitterConfig, SubscribeTo, SubscriberPolicy};

type Log<T> = Arc<Mutex<Vec<T>>>;

/// A test consumer: records what reaches its inbox and its control.
struct Collector<T> {
    component: Component,
    data: Log<T>,
    signals: Log<Signal>,
}

impl<T: Clone> Collector<T> {
    fn data(&self) -> Vec<T> {
        self.data.lock().unwrap().clone()
    }

    fn signal_names(&self) -> Vec<&'static str> {
        self.signals.lock().unwrap().iter().map(Signal::axon_name).collect()
    }
}

/// A consumer whose inbox holds at most `capacity` messages. If `gated`, it reads nothing
/// from its inbox until something arrives on its `gate` inbox (a subscriber that stalls).
/// It records every signal; on a terminal one it records what its inbox still holds, passes
/// the signal on and stops.
fn collector<T: Send + 'static>(capacity: Option<usize>, gated: bool) -> Collector<T> {
    let mut b = ComponentBuilder::new("Collector");
    let inbox = match capacity {
        Some(n) => b.inbox_with_capacity::<T>("inbox", n),
        None => b.inbox::<T>("inbox"),
    };
    let (control, signal) = (b.control(), b.signal());
    let gate = b.inbox::<()>("gate");
    let data: Log<T> = Arc::default();
    let signals: Log<Signal> = Arc::default();
    let (d, s) = (data.clone(), signals.clone());
    let component = b.run(move |_| async move {
        // Delivered, to be recorded (nothing downstream listens to its signal).
        let mut watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver);
        let mut open = !gated;
        loop {
            while let Some(sig) = watch.try_signal() {
                let end = sig.is_terminal();
                s.lock().unwrap().push(sig.clone());
                if end {
                    d.lock().unwrap().extend(inbox.drain());
                    return watch.finish(sig).await;
                }
            }
            if gate.try_recv().is_some() {
                open = true;
            }
            if open {
                d.lock().unwrap().extend(inbox.drain());
            }
            pause().await;
        }
    });
    Collector { component, data, signals }
}

/// A collector of everything, with an unbounded inbox.
fn fast<T: Send + 'static>() -> Collector<T> {
    collector(None, false)
}

/// Sends `items` one by one (counting the sends that completed), then ProducerFinished.
fn source<T: Send + 'static>(items: Vec<T>, sent: Arc<AtomicUsize>) -> Component {
    let mut b = ComponentBuilder::new("Source");
    let (control, outbox, signal) = (b.control(), b.outbox::<T>("outbox"), b.signal());
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(control, signal);
        for x in items {
            if let Err(stop) = watch.send(&outbox, x).await {
                return watch.finish(stop.signal).await;
            }
            sent.fetch_add(1, Ordering::SeqCst);
        }
        watch.finish(Signal::producer_finished_by(ctx.id())).await;
    })
}

/// Links a subscriber's outbox and signal to a collector's inbox and control.
fn feed<T: Send + 'static>(from: &Component, to: &Collector<T>) {
    link((from, "outbox"), (&to.component, "inbox")).unwrap();
    link((from, "signal"), (&to.component, "control")).unwrap();
}

/// Delivers numbers straight into a component's inbox.
fn put(c: &Component, items: impl IntoIterator<Item = u32>) {
    let r = c.inbox_ref::<u32>("inbox").unwrap();
    for x in items {
        r.try_send(x).unwrap();
    }
}

fn control(c: &Component, sig: Signal) {
    c.inbox_ref::<Signal>("control").unwrap().try_send(sig).unwrap();
}

fn activate_all(sched: &Scheduler, cs: &[&Component]) {
    for c in cs {
        sched.activate(c).unwrap();
    }
}

/// Several publishers and several subscribers: every subscriber receives every message,
/// and each publisher's messages arrive in the order it sent them.
#[test]
fn every_subscriber_receives_every_message_in_publisher_order() {
    let sched = Scheduler::new();
    let bp = Backplane::<(u8, u32)>::new("NEWS");
    let sent = Arc::new(AtomicUsize::new(0));
    let mut parts = vec![bp.clone()];
    for p in 0..3u8 {
        let src = source((0..200u32).map(|n| (p, n)).collect(), sent.clone());
        let publ = PublishTo::<(u8, u32)>::new("NEWS").build();
        link((&src, "outbox"), (&publ, "inbox")).unwrap();
        link((&src, "signal"), (&publ, "control")).unwrap();
        parts.extend([src, publ]);
    }
    let mut cols = Vec::new();
    for _ in 0..4 {
        let sub = SubscribeTo::<(u8, u32)>::new("NEWS").build();
        let col = fast::<(u8, u32)>();
        feed(&sub, &col);
        parts.extend([sub, col.component.clone()]);
        cols.push(col);
    }
    activate_all(&sched, &parts.iter().collect::<Vec<_>>());
    sched.run_until_idle();
    control(&bp, Signal::producer_finished());
    sched.run_until_idle();

    assert_eq!(sent.load(Ordering::SeqCst), 600);
    for col in &cols {
        let got = col.data();
        assert_eq!(got.len(), 600, "every subscriber gets every message");
        for p in 0..3u8 {
            let mine: Vec<u32> = got.iter().filter(|(q, _)| *q == p).map(|(_, n)| *n).collect();
            assert_eq!(mine, (0..200).collect::<Vec<_>>(), "publisher {p}'s messages in its order");
        }
        assert_eq!(col.signal_names(), ["producerFinished"]);
    }
    assert_eq!(sched.live(), 0, "everything ended");
}

/// A subscriber that joins late receives only what is published after it joined.
#[test]
fn a_late_subscriber_receives_only_later_messages() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("B");
    let publ = PublishTo::<u32>::new("B").build();
    let early = SubscribeTo::<u32>::new("B").build();
    let early_col = fast::<u32>();
    feed(&early, &early_col);
    activate_all(&sched, &[&bp, &publ, &early, &early_col.component]);
    put(&publ, 1..=3);
    sched.run_until_idle();

    let late = SubscribeTo::<u32>::new("B").build();
    let late_col = fast::<u32>();
    feed(&late, &late_col);
    activate_all(&sched, &[&late, &late_col.component]);
    sched.run_until_idle();
    put(&publ, 4..=6);
    sched.run_until_idle();

    assert_eq!(early_col.data(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(late_col.data(), [4, 5, 6]);
}

/// A subscriber that is shut down passes the signal on, stops receiving, and is removed
/// from the splitter; the other subscribers carry on.
#[test]
fn a_subscriber_that_leaves_stops_receiving_and_the_others_carry_on() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("B");
    let publ = PublishTo::<u32>::new("B").build();
    let (stay, leave) = (SubscribeTo::<u32>::new("B").build(), SubscribeTo::<u32>::new("B").build());
    let (stay_col, leave_col) = (fast::<u32>(), fast::<u32>());
    feed(&stay, &stay_col);
    feed(&leave, &leave_col);
    activate_all(&sched, &[&bp, &publ, &stay, &leave, &stay_col.component, &leave_col.component]);
    put(&publ, 1..=3);
    sched.run_until_idle();

    control(&leave, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(leave.is_finished());
    put(&publ, 4..=6);
    sched.run_until_idle();

    assert_eq!(stay_col.data(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(leave_col.data(), [1, 2, 3]);
    assert_eq!(leave_col.signal_names(), ["shutdownMicroprocess"]);
    let splitter = &bp.children()[0];
    let sink_boxes: Vec<String> = splitter.outbox_names().into_iter().filter(|n| n.contains("SubscribeTo")).collect();
    assert_eq!(sink_boxes.len(), 2, "only the remaining subscriber's two outboxes: {sink_boxes:?}");
    assert!(sink_boxes.iter().all(|n| n.ends_with(stay.name())), "{sink_boxes:?}");
}

/// A subscriber asked to finish by its own control (ProducerFinished) passes on what its
/// own inbox holds, then the signal, and unsubscribes.
#[test]
fn a_subscriber_finishing_on_its_own_control_drains_passes_the_signal_on_and_unsubscribes() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("B");
    let sub = SubscribeTo::<u32>::new("B").build();
    let col = fast::<u32>();
    feed(&sub, &col);
    activate_all(&sched, &[&bp, &sub, &col.component]);
    sched.run_until_idle();
    put(&sub, [7, 8]);
    control(&sub, Signal::producer_finished());
    sched.run_until_idle();

    assert!(sub.is_finished());
    assert_eq!(col.data(), [7, 8], "its own inbox passes through to its outbox");
    assert_eq!(col.signal_names(), ["producerFinished"]);
    let splitter = &bp.children()[0];
    assert!(!splitter.outbox_names().iter().any(|n| n.contains("SubscribeTo")), "it was unsubscribed");
    assert!(!bp.is_finished(), "a subscriber never ends the backplane");
}

/// ProducerFinished on the Backplane's control: what was published before it is delivered
/// first, then every subscriber gets the signal and stops, the backplane ends and its
/// names are deregistered.
#[test]
fn producer_finished_on_the_backplane_drains_then_cascades_to_every_subscriber() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("B");
    let bp_col = fast::<u32>();
    link((&bp, "signal"), (&bp_col.component, "control")).unwrap();
    let publ = PublishTo::<u32>::new("B").build();
    let subs: Vec<Component> = (0..3).map(|_| SubscribeTo::<u32>::new("B").build()).collect();
    let cols: Vec<Collector<u32>> = (0..3).map(|_| fast()).collect();
    for (s, c) in subs.iter().zip(&cols) {
        feed(s, c);
    }
    activate_all(&sched, &[&bp, &publ, &bp_col.component]);
    activate_all(&sched, &subs.iter().chain(cols.iter().map(|c| &c.component)).collect::<Vec<_>>());
    sched.run_until_idle();
    assert_eq!(sched.services().services_registered(), ["Backplane_I_B", "Backplane_O_B"]);

    put(&publ, 1..=5);
    control(&bp, Signal::producer_finished());
    sched.run_until_idle();

    for (s, c) in subs.iter().zip(&cols) {
        assert_eq!(c.data(), [1, 2, 3, 4, 5], "published before the signal: delivered before it");
        assert_eq!(c.signal_names(), ["producerFinished"]);
        assert!(s.is_finished());
    }
    assert_eq!(bp_col.signal_names(), ["producerFinished"], "the signal leaves the backplane's signal");
    assert!(bp.is_finished());
    assert!(sched.services().services_registered().is_empty(), "its names are deregistered");
    assert!(!publ.is_finished(), "publishers are not told");
}

/// ShutdownMicroprocess on the Backplane's control stops every subscriber promptly, even
/// while a lossless subscriber has stalled the splitter.
#[test]
fn shutdown_on_the_backplane_stops_every_subscriber_even_a_stalled_one() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("B");
    let publ = PublishTo::<u32>::new("B").build();
    let (quick, stuck) = (SubscribeTo::<u32>::new("B").build(), SubscribeTo::<u32>::new("B").build());
    let quick_col = fast::<u32>();
    let stuck_col = collector::<u32>(Some(1), true);
    feed(&quick, &quick_col);
    feed(&stuck, &stuck_col);
    activate_all(&sched, &[&bp, &publ, &quick, &stuck, &quick_col.component, &stuck_col.component]);
    sched.run_until_idle();
    put(&publ, 1..=10);
    sched.run_until_idle();
    assert_eq!(quick_col.data(), [1, 2], "the splitter waits on the stalled subscriber");

    control(&bp, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(quick_col.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(stuck_col.signal_names(), ["shutdownMicroprocess"]);
    assert!(quick.is_finished() && stuck.is_finished() && bp.is_finished());
}

/// A second Backplane with a name already registered on the scheduler fails to activate,
/// naming itself and the name; the first one keeps working.
#[test]
fn a_duplicate_backplane_name_is_a_clear_activation_error() {
    let sched = Scheduler::new();
    let first = Backplane::<u32>::new("PLAYERS");
    let second = Backplane::<u32>::new("PLAYERS");
    sched.activate(&first).unwrap();
    let err = sched.activate(&second).unwrap_err();
    let ActivateError::Refused { name, reason } = &err else { panic!("expected Refused, got {err:?}") };
    assert_eq!(name, second.name());
    assert!(reason.contains("\"PLAYERS\"") && reason.contains("already in use"), "{reason}");
    assert!(err.to_string().contains(second.name()), "{err}");

    let publ = PublishTo::<u32>::new("PLAYERS").build();
    let sub = SubscribeTo::<u32>::new("PLAYERS").build();
    let col = fast::<u32>();
    feed(&sub, &col);
    activate_all(&sched, &[&publ, &sub, &col.component]);
    sched.run_until_idle();
    put(&publ, [42]);
    sched.run_until_idle();
    assert_eq!(col.data(), [42], "the first backplane still carries messages");
    assert_eq!(sched.services().retrieve("Backplane_I_PLAYERS").unwrap().0, first.children()[0]);
}

/// A PublishTo naming no backplane reports it out of its signal (ErrorInformation naming
/// the backplane, then ShutdownMicroprocess) and stops.
#[test]
fn publish_to_a_missing_backplane_reports_it_and_stops() {
    let sched = Scheduler::new();
    let publ = PublishTo::<u32>::new("NOWHERE").build();
    let col = fast::<u32>();
    feed(&publ, &col);
    activate_all(&sched, &[&publ, &col.component]);
    sched.run_until_idle();

    assert!(publ.is_finished());
    assert_eq!(col.signal_names(), ["errorInformation", "shutdownMicroprocess"]);
    let Signal::ErrorInformation { message, caller } = &col.signals.lock().unwrap()[0] else { unreachable!() };
    assert_eq!(*caller, Some(publ.id()));
    assert!(message.contains("no backplane named \"NOWHERE\""), "{message}");
}

/// A SubscribeTo naming no backplane, or one carrying another message type, reports it
/// and stops.
#[test]
fn subscribe_to_a_missing_or_mistyped_backplane_reports_it_and_stops() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("NUMBERS");
    let missing = SubscribeTo::<u32>::new("WORDS").build();
    let mistyped = SubscribeTo::<String>::new("NUMBERS").build();
    let (c1, c2) = (fast::<u32>(), fast::<String>());
    feed(&missing, &c1);
    feed(&mistyped, &c2);
    activate_all(&sched, &[&bp, &missing, &mistyped, &c1.component, &c2.component]);
    sched.run_until_idle();

    assert!(missing.is_finished() && mistyped.is_finished());
    let text = |c: &Log<Signal>| match &c.lock().unwrap()[0] {
        Signal::ErrorInformation { message, .. } => message.clone(),
        other => panic!("expected ErrorInformation, got {other:?}"),
    };
    let m1 = text(&c1.signals);
    assert!(m1.contains("no backplane named \"WORDS\""), "{m1}");
    let m2 = text(&c2.signals);
    assert!(m2.contains("NUMBERS") && m2.contains("u32") && m2.contains("String"), "{m2}");
    assert_eq!(c2.signal_names(), ["errorInformation", "shutdownMicroprocess"]);
}

/// A forwarding PublishTo copies each message to the backplane and to its own outbox; on
/// ProducerFinished it publishes what it holds, echoes the signal and stops, leaving the
/// backplane running.
#[test]
fn a_forwarding_publisher_copies_to_its_outbox_too_and_never_ends_the_backplane() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("B");
    let publ = PublishTo::<u32>::new("B").forwarder(true).build();
    let forwarded = fast::<u32>();
    feed(&publ, &forwarded);
    let sub = SubscribeTo::<u32>::new("B").build();
    let col = fast::<u32>();
    feed(&sub, &col);
    activate_all(&sched, &[&bp, &publ, &sub, &forwarded.component, &col.component]);
    sched.run_until_idle();
    put(&publ, 1..=3);
    control(&publ, Signal::Status("hello".into()));
    sched.run_until_idle();
    put(&publ, 4..=5);
    control(&publ, Signal::producer_finished());
    sched.run_until_idle();

    assert_eq!(forwarded.data(), [1, 2, 3, 4, 5]);
    assert_eq!(col.data(), [1, 2, 3, 4, 5]);
    assert_eq!(forwarded.signal_names(), ["status", "producerFinished"], "control is echoed to signal");
    assert!(publ.is_finished());
    assert!(!bp.is_finished() && !sub.is_finished(), "a publisher never shuts the backplane down");
    assert!(col.signal_names().is_empty());
}

/// A plain PublishTo echoes its control to its signal and stops on ShutdownMicroprocess;
/// messages sent to it before it started are published once it links.
#[test]
fn a_publisher_echoes_control_and_stops_on_shutdown() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("B");
    let publ = PublishTo::<u32>::new("B").build();
    let echoed = fast::<u32>();
    feed(&publ, &echoed);
    let sub = SubscribeTo::<u32>::new("B").build();
    let col = fast::<u32>();
    feed(&sub, &col);
    activate_all(&sched, &[&bp, &sub, &col.component]);
    sched.run_until_idle();
    put(&publ, [9, 10]);
    activate_all(&sched, &[&publ, &echoed.component]);
    sched.run_until_idle();
    control(&publ, Signal::Status("ping".into()));
    control(&publ, Signal::ShutdownMicroprocess);
    sched.run_until_idle();

    assert_eq!(col.data(), [9, 10]);
    assert_eq!(echoed.signal_names(), ["status", "shutdownMicroprocess"]);
    assert!(publ.is_finished() && !bp.is_finished());
}

/// Lossless (the default): a subscriber that never reads holds the splitter, whose inbox
/// fills, so the publisher's send waits; the others get everything published up to the
/// stall, control signals still get through, and removing the stalled subscriber lets
/// everything flow again with nothing lost.
#[test]
fn lossless_a_stalled_subscriber_backpressures_publishers_without_blocking_control() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::with_capacity("B", Some(4));
    let sent = Arc::new(AtomicUsize::new(0));
    let src = source((0..20u32).collect(), sent.clone());
    let publ = PublishTo::<u32>::new("B").build();
    link((&src, "outbox"), (&publ, "inbox")).unwrap();
    let quick = SubscribeTo::<u32>::new("B").build();
    let stuck = SubscribeTo::<u32>::new("B");
    let stuck_dropped = stuck.dropped();
    let stuck = stuck.build();
    let quick_col = fast::<u32>();
    let stuck_col = collector::<u32>(Some(2), true);
    feed(&quick, &quick_col);
    feed(&stuck, &stuck_col);
    activate_all(&sched, &[&bp, &publ, &quick, &stuck, &quick_col.component, &stuck_col.component]);
    sched.run_until_idle();
    sched.activate(&src).unwrap();
    sched.run_until_idle();

    // 2 in the stalled inbox, 1 held by the splitter, 4 in the splitter's inbox.
    assert_eq!(sent.load(Ordering::SeqCst), 7, "the publisher's 8th send waits");
    assert_eq!(quick_col.data(), [0, 1, 2], "the others got everything up to the stall");
    let snap = sched.snapshot();
    let src_info = snap.components.iter().find(|c| c.id == src.id()).unwrap();
    let splitter = &bp.children()[0];
    assert_eq!(src_info.state, ComponentState::Paused);
    assert_eq!(src_info.waiting_for.as_ref().map(|w| (w.component, w.name.as_str())), Some((splitter.id(), "inbox")));

    control(&bp, Signal::Status("still here".into()));
    sched.run_until_idle();
    assert_eq!(quick_col.signal_names(), ["status"], "control is served while the data waits");

    control(&stuck, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(sent.load(Ordering::SeqCst), 20);
    assert_eq!(quick_col.data(), (0..20).collect::<Vec<_>>(), "nothing lost for the others");
    assert_eq!(stuck_col.data(), [0, 1]);
    assert_eq!(stuck_dropped.get(), 0);
}

/// Lossless: once the stalled subscriber reads again, it gets every message too.
#[test]
fn lossless_a_subscriber_that_catches_up_misses_nothing() {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::with_capacity("B", Some(3));
    let sent = Arc::new(AtomicUsize::new(0));
    let src = source((0..50u32).collect(), sent.clone());
    let publ = PublishTo::<u32>::new("B").build();
    link((&src, "outbox"), (&publ, "inbox")).unwrap();
    let sub = SubscribeTo::<u32>::new("B").build();
    let slow = collector::<u32>(Some(1), true);
    feed(&sub, &slow);
    activate_all(&sched, &[&bp, &publ, &sub, &slow.component]);
    sched.run_until_idle();
    sched.activate(&src).unwrap();
    sched.run_until_idle();
    assert!(sent.load(Ordering::SeqCst) < 50);

    slow.component.inbox_ref::<()>("gate").unwrap().try_send(()).unwrap();
    sched.run_until_idle();
    assert_eq!(sent.load(Ordering::SeqCst), 50);
    assert_eq!(slow.data(), (0..50).collect::<Vec<_>>());
}

/// Sets up one backplane, one publisher, a subscriber with `policy` whose consumer's inbox
/// holds 2 and never reads, and a fast subscriber; publishes 0..10.
fn slow_subscriber(policy: SubscriberPolicy) -> (Scheduler, Component, Collector<u32>, Collector<u32>, u64) {
    let sched = Scheduler::new();
    let bp = Backplane::<u32>::new("B");
    let publ = PublishTo::<u32>::new("B").build();
    let slow_sub = SubscribeTo::<u32>::new("B").policy(policy);
    let dropped = slow_sub.dropped();
    let slow_sub = slow_sub.build();
    let quick = SubscribeTo::<u32>::new("B").build();
    let slow = collector::<u32>(Some(2), true);
    let quick_col = fast::<u32>();
    feed(&slow_sub, &slow);
    feed(&quick, &quick_col);
    activate_all(&sched, &[&bp, &publ, &slow_sub, &quick, &slow.component, &quick_col.component]);
    sched.run_until_idle();
    put(&publ, 0..10);
    sched.run_until_idle();
    let n = dropped.get();
    (sched, slow_sub, slow, quick_col, n)
}

/// DropNewest: the consumer's inbox takes 2, the buffer 3 more; the 5 newest are dropped
/// and counted, and the consumer later reads the 5 oldest. The others get everything.
#[test]
fn drop_newest_keeps_the_oldest_and_counts_exactly_what_it_dropped() {
    let (sched, _sub, slow, quick, dropped) = slow_subscriber(SubscriberPolicy::DropNewest { buffer: 3 });
    assert_eq!(dropped, 5);
    assert_eq!(quick.data(), (0..10).collect::<Vec<_>>());
    slow.component.inbox_ref::<()>("gate").unwrap().try_send(()).unwrap();
    sched.run_until_idle();
    assert_eq!(slow.data(), [0, 1, 2, 3, 4]);
}

/// DropOldest: the buffer keeps the 3 newest, evicting (and counting) older ones; the
/// consumer later reads what its inbox held and then the 3 newest.
#[test]
fn drop_oldest_keeps_the_newest_and_counts_exactly_what_it_dropped() {
    let (sched, _sub, slow, quick, dropped) = slow_subscriber(SubscriberPolicy::DropOldest { buffer: 3 });
    assert_eq!(dropped, 5);
    assert_eq!(quick.data(), (0..10).collect::<Vec<_>>());
    slow.component.inbox_ref::<()>("gate").unwrap().try_send(()).unwrap();
    sched.run_until_idle();
    assert_eq!(slow.data(), [0, 1, 7, 8, 9]);
}

/// A drop policy with no buffer drops whatever does not fit in the consumer's inbox.
#[test]
fn a_drop_policy_with_no_buffer_drops_whatever_does_not_fit() {
    for policy in [SubscriberPolicy::DropNewest { buffer: 0 }, SubscriberPolicy::DropOldest { buffer: 0 }] {
        let (sched, _sub, slow, _quick, dropped) = slow_subscriber(policy);
        assert_eq!(dropped, 8, "{policy:?}");
        slow.component.inbox_ref::<()>("gate").unwrap().try_send(()).unwrap();
        sched.run_until_idle();
        assert_eq!(slow.data(), [0, 1], "{policy:?}");
    }
}

/// Disconnect: when the buffer is full too, the subscriber is removed and told why
/// (ErrorInformation, then ShutdownMicroprocess, which it passes on before stopping); what
/// was held plus the message that did not fit are counted; the others carry on.
#[test]
fn disconnect_removes_a_subscriber_whose_buffer_is_full_and_the_others_carry_on() {
    let (sched, sub, slow, quick, dropped) = slow_subscriber(SubscriberPolicy::Disconnect { buffer: 3 });
    assert_eq!(dropped, 4, "3 held and the one that did not fit");
    assert!(sub.is_finished(), "the subscriber stopped");
    assert_eq!(slow.signal_names(), ["errorInformation", "shutdownMicroprocess"]);
    let Signal::ErrorInformation { message, .. } = &slow.signals.lock().unwrap()[0] else { unreachable!() };
    assert!(message.contains("disconnected") && message.contains(sub.name()), "{message}");
    assert_eq!(slow.data(), [0, 1], "it got what its inbox held");
    assert_eq!(quick.data(), (0..10).collect::<Vec<_>>());
    let splitter = sched.components().into_iter().find(|c| c.name().starts_with("PlugSplitter")).unwrap();
    assert!(!splitter.outbox_names().iter().any(|n| n.ends_with(sub.name())), "removed from the splitter");
}

/// Service registries are per scheduler: two schedulers each have a backplane of the
/// same name, and messages stay on their own.
#[test]
fn two_schedulers_can_each_have_a_backplane_of_the_same_name() {
    let run = |tag: u32| {
        let sched = Scheduler::new();
        let bp = Backplane::<u32>::new("SAME");
        let publ = PublishTo::<u32>::new("SAME").build();
        let sub = SubscribeTo::<u32>::new("SAME").build();
        let col = fast::<u32>();
        feed(&sub, &col);
        activate_all(&sched, &[&bp, &publ, &sub, &col.component]);
        (sched, publ, col, tag)
    };
    let (a, b) = (run(1), run(2));
    for (sched, publ, _, tag) in [&a, &b] {
        put(publ, [*tag; 3]);
        sched.run_until_idle();
    }
    assert_eq!(a.2.data(), [1, 1, 1]);
    assert_eq!(b.2.data(), [2, 2, 2]);
}

/// The snapshot shows the backplane, its splitter (as its child), the typed boxes and the
/// links: passthroughs between backplane and splitter, the publisher's inbox into the
/// splitter, and one outbox and one signal outbox per subscriber.
#[test]
fn the_snapshot_shows_the_backplane_its_splitter_and_the_links() {
    let sched = Scheduler::new();
    let bp = Backplane::<String>::new("SNAP");
    let publ = PublishTo::<String>::new("SNAP").build();
    let sub = SubscribeTo::<String>::new("SNAP").build();
    activate_all(&sched, &[&bp, &publ, &sub]);
    sched.run_until_idle();
    let snap = sched.snapshot();
    let splitter = bp.children()[0].clone();
    let info = |c: &Component| snap.components.iter().find(|i| i.id == c.id()).unwrap().clone();
    let msg_type = |c: &Component, b: &str| {
        info(c).boxes.iter().find(|x| x.name == b).map(|x| x.msg_type.clone()).unwrap_or_default()
    };

    assert!(info(&bp).name.starts_with("Backplane_"));
    assert!(info(&splitter).name.starts_with("PlugSplitter_"));
    assert_eq!(info(&splitter).parent, Some(bp.id()));
    let string = std::any::type_name::<String>();
    let signal = std::any::type_name::<Signal>();
    assert_eq!(msg_type(&bp, "inbox"), string);
    assert_eq!(msg_type(&bp, "control"), signal);
    assert_eq!(msg_type(&splitter, "inbox"), string);
    assert!(msg_type(&splitter, "configuration").ends_with("SplitterConfig"));
    let data_out = format!("outbox_{}", sub.name());
    let control_out = format!("signal_{}", sub.name());
    assert_eq!(msg_type(&splitter, &data_out), string);
    assert_eq!(msg_type(&splitter, &control_out), signal);

    let has = |from: &Component, fb: &str, to: &Component, tb: &str, kind: LinkKind| {
        snap.links.iter().any(|l| {
            l.source.component == from.id()
                && l.source.name == fb
                && l.sink.component == to.id()
                && l.sink.name == tb
                && l.kind == kind
        })
    };
    assert!(has(&bp, "inbox", &splitter, "inbox", LinkKind::InboxPassthrough));
    assert!(has(&bp, "control", &splitter, "control", LinkKind::InboxPassthrough));
    assert!(has(&splitter, "signal", &bp, "signal", LinkKind::OutboxPassthrough));
    assert!(has(&publ, "inbox", &splitter, "inbox", LinkKind::InboxPassthrough));
    assert!(has(&splitter, &data_out, &sub, "outbox", LinkKind::OutboxPassthrough));
    assert!(has(&splitter, &control_out, &sub, "control", LinkKind::Normal));
}

/// A PlugSplitter used on its own: sinks added and removed on `configuration`, into any
/// component's inbox; a sink whose boxes do not fit is refused with an explanation.
#[test]
fn a_plug_splitter_adds_and_removes_sinks_and_explains_a_refused_one() {
    let sched = Scheduler::new();
    let splitter = PlugSplitter::<u32>::new().build();
    let (a, b) = (fast::<u32>(), fast::<u32>());
    let wrong = fast::<String>();
    let config = splitter.inbox_ref::<SplitterConfig>("configuration").unwrap();
    config.try_send(SplitterConfig::add_sink(&a.component, "inbox", Some("control"))).unwrap();
    config.try_send(SplitterConfig::add_sink(&b.component, "inbox", None)).unwrap();
    config.try_send(SplitterConfig::add_sink(&wrong.component, "inbox", Some("control"))).unwrap();
    activate_all(&sched, &[&splitter, &a.component, &b.component, &wrong.component]);
    put(&splitter, [1, 2]);
    sched.run_until_idle();
    config.try_send(SplitterConfig::remove_sink(&b.component, "inbox")).unwrap();
    put(&splitter, [3]);
    sched.run_until_idle();
    control(&splitter, Signal::producer_finished());
    sched.run_until_idle();

    assert_eq!(a.data(), [1, 2, 3]);
    assert_eq!(b.data(), [1, 2]);
    assert_eq!(a.signal_names(), ["producerFinished"]);
    assert!(b.signal_names().is_empty(), "a sink without a control box gets no signals");
    let Signal::ErrorInformation { message, .. } = &wrong.signals.lock().unwrap()[0] else {
        panic!("the refused sink is told why")
    };
    assert!(message.contains("u32") && message.contains("String"), "{message}");
    assert!(wrong.data().is_empty());
    assert!(splitter.is_finished());
}

/// The same system on a multi-thread scheduler: every subscriber gets every message in
/// publisher order, and the whole system ends when the backplane is finished.
#[test]
fn on_a_multi_thread_scheduler_every_subscriber_gets_every_message_in_order() {
    let sched = Scheduler::builder().threads(4).build();
    let bp = Backplane::<(u8, u32)>::with_capacity("MT", Some(8));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut parts = vec![bp.clone()];
    let publishers_done = Arc::new(AtomicUsize::new(0));
    let all_published = Arc::new(AtomicBool::new(false));
    // A referee: counts the publishers' ProducerFinished (its data: their signals fan in to
    // its inbox), then finishes the backplane.
    let mut b = ComponentBuilder::new("Referee");
    let io = b.standard::<Signal, ()>();
    let (done, flag) = (publishers_done.clone(), all_published.clone());
    let referee = b.run(move |_| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        while done.load(Ordering::SeqCst) < 3 {
            match watch.next(&io.inbox).await {
                Next::Data(s) if s.is_producer_finished() => {
                    done.fetch_add(1, Ordering::SeqCst);
                }
                Next::End(s) => return watch.finish(s).await,
                Next::Data(_) | Next::Other(_) => {}
            }
        }
        flag.store(true, Ordering::SeqCst);
        watch.finish(Signal::producer_finished()).await;
    });
    link((&referee, "signal"), (&bp, "control")).unwrap();
    let mut referee_feeds = Vec::new();
    for p in 0..3u8 {
        let src = source((0..500u32).map(|n| (p, n)).collect(), sent.clone());
        let publ = PublishTo::<(u8, u32)>::new("MT").build();
        link((&src, "outbox"), (&publ, "inbox")).unwrap();
        link((&src, "signal"), (&publ, "control")).unwrap();
        referee_feeds.push(publ.clone());
        parts.extend([src, publ]);
    }
    // Fan-in: every publisher's echoed signal reaches the referee's inbox.
    for publ in &referee_feeds {
        link((publ, "signal"), (&referee, "inbox")).unwrap();
    }
    let mut cols = Vec::new();
    for i in 0..4 {
        let sub = SubscribeTo::<(u8, u32)>::new("MT").build();
        // Bounded consumers, so the lossless backpressure is exercised across threads.
        let col = collector::<(u8, u32)>(if i % 2 == 0 { Some(3) } else { None }, false);
        feed(&sub, &col);
        parts.extend([sub, col.component.clone()]);
        cols.push(col);
    }
    let (sources, rest): (Vec<Component>, Vec<Component>) =
        parts.into_iter().partition(|c| c.name().starts_with("Source"));
    let bg = sched.background();
    for c in rest.iter().chain([&referee]) {
        bg.activate(c).unwrap();
    }
    // Start the sources once every subscriber is registered (has its outboxes on the splitter).
    let splitter = bp.children()[0].clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while splitter.outbox_names().iter().filter(|n| n.starts_with("signal_SubscribeTo")).count() < 4 {
        assert!(std::time::Instant::now() < deadline, "the subscribers register");
        std::thread::yield_now();
    }
    for s in &sources {
        bg.activate(s).unwrap();
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        bg.join();
        tx.send(()).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("the system ends by itself");
    assert!(all_published.load(Ordering::SeqCst));
    assert_eq!(sent.load(Ordering::SeqCst), 1500);
    for col in &cols {
        let got = col.data();
        assert_eq!(got.len(), 1500);
        for p in 0..3u8 {
            let mine: Vec<u32> = got.iter().filter(|(q, _)| *q == p).map(|(_, n)| *n).collect();
            assert_eq!(mine, (0..500).collect::<Vec<_>>());
        }
        assert_eq!(col.signal_names(), ["producerFinished"]);
    }
}
