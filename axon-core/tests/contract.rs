//! The component contract as the core owns it: the Driver's loop, ControlWatch's signal policy and consuming finish, and the conformance checker (which must catch a component that breaks the contract).

use std::sync::{Arc, Mutex};

use axon_core::conformance::Contract;
use axon_core::{
    Component, ComponentBuilder, ControlWatch, Inbox, LinkOptions, Next, Scheduler, Signal, SignalPolicy, link,
    link_with,
};

fn status(s: &str) -> Signal {
    Signal::Status(s.to_string())
}

fn names(signals: &[Signal]) -> Vec<String> {
    signals.iter().map(ToString::to_string).collect()
}

/// The inbox of a never-run component linked from `from` (capacity `cap`): the test reads it.
fn held<T: Send + 'static>(from: (&Component, &str), cap: Option<usize>) -> (Component, Inbox<T>) {
    let mut b = ComponentBuilder::new("Held");
    let inbox = b.inbox::<T>("inbox");
    let c = b.run(|_ctx| async {});
    match cap {
        Some(n) => link_with(from, (&c, "inbox"), LinkOptions::capacity(n)).unwrap(),
        None => link(from, (&c, "inbox")).unwrap(),
    };
    (c, inbox)
}

fn doubler() -> Component {
    let mut b = ComponentBuilder::new("Doubler");
    let io = b.standard::<u32, u32>();
    b.run(|_ctx| io.transform(|n| Some(2 * n)))
}

/// Each message out twice: `serve`'s many-out form.
fn twice() -> Component {
    let mut b = ComponentBuilder::new("Twice");
    let io = b.standard::<u32, u32>();
    b.run(|_ctx| {
        io.serve(|n, out| {
            out.push(n);
            out.push(n);
        })
    })
}

/// A component written the old way: a plain `send().await` that a shutdown cannot interrupt.
fn stubborn() -> Component {
    let mut b = ComponentBuilder::new("Stubborn");
    let io = b.standard::<u32, u32>();
    b.run(move |_ctx| async move {
        loop {
            while let Some(s) = io.control.try_recv() {
                if s.is_terminal() {
                    io.signal.send(s).await;
                    return;
                }
            }
            if let Some(n) = io.inbox.try_recv() {
                io.outbox.send(n).await;
            } else {
                axon_core::pause().await;
            }
        }
    })
}

#[test]
fn driver_components_meet_the_contract() {
    Contract::new("Doubler", doubler).sample(|i| i as u32).check().unwrap();
    Contract::new("Twice", twice).sample(|i| i as u32).check().unwrap();
}

#[test]
fn the_checker_catches_a_component_whose_blocked_send_ignores_a_shutdown() {
    let breach = Contract::new("Stubborn", stubborn).sample(|i| i as u32).check().unwrap_err();
    let text = breach.to_string();
    assert!(text.contains("one turn after ShutdownMicroprocess"), "{text}");
    assert!(text.contains("a Status was not passed on"), "{text}");
}

#[test]
fn the_checker_catches_a_component_that_does_not_drain() {
    let quitter = || {
        let mut b = ComponentBuilder::new("Quitter");
        let io = b.standard::<u32, u32>();
        b.run(move |_ctx| async move {
            let watch = ControlWatch::new(io.control, io.signal);
            // Stops at the first signal without draining what is waiting.
            loop {
                if let Some(s) = watch.control().try_recv() {
                    watch.finish(s).await;
                    return;
                }
                axon_core::pause().await;
            }
        })
    };
    let breach = Contract::new("Quitter", quitter).sample(|i| i as u32).never_blocks().check().unwrap_err();
    assert!(breach.to_string().contains("left unconsumed"), "{breach}");
}

#[test]
fn the_driver_drains_then_passes_producer_finished_on_with_other_signals_first_in_order() {
    let c = twice();
    let (_o, outbox) = held::<u32>((&c, "outbox"), None);
    let (_s, signal) = held::<Signal>((&c, "signal"), None);
    let inbox = c.inbox_ref::<u32>("inbox").unwrap();
    let control = c.inbox_ref::<Signal>("control").unwrap();
    for n in [1, 2] {
        inbox.try_send(n).unwrap();
    }
    control.try_send(status("a")).unwrap();
    control.try_send(Signal::producer_finished()).unwrap();
    control.try_send(status("b")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    assert!(c.is_finished());
    assert_eq!(outbox.drain().collect::<Vec<_>>(), [1, 1, 2, 2]);
    assert_eq!(names(&signal.drain().collect::<Vec<_>>()), ["status: a", "status: b", "producerFinished"]);
}

#[test]
fn a_driver_with_the_ignore_policy_drops_other_signals() {
    let mut b = ComponentBuilder::new("Quiet");
    let io = b.standard::<u32, u32>();
    let c = b.run(|_ctx| io.driver().policy(SignalPolicy::Ignore).serve(|n, out| out.push(n)));
    let (_s, signal) = held::<Signal>((&c, "signal"), None);
    let control = c.inbox_ref::<Signal>("control").unwrap();
    control.try_send(status("a")).unwrap();
    control.try_send(Signal::ShutdownMicroprocess).unwrap();
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    assert_eq!(names(&signal.drain().collect::<Vec<_>>()), ["shutdownMicroprocess"]);
    Contract::new("Quiet", move || {
        let mut b = ComponentBuilder::new("Quiet");
        let io = b.standard::<u32, u32>();
        b.run(|_ctx| io.driver().policy(SignalPolicy::Ignore).serve(|n, out| out.push(n)))
    })
    .policy(SignalPolicy::Ignore)
    .sample(|i| i as u32)
    .check()
    .unwrap();
}

#[test]
fn signals_met_while_a_send_waits_are_forwarded_before_the_end_with_no_code_in_the_component() {
    let c = doubler();
    let (_o, outbox) = held::<u32>((&c, "outbox"), Some(1));
    let (_s, signal) = held::<Signal>((&c, "signal"), None);
    let inbox = c.inbox_ref::<u32>("inbox").unwrap();
    let control = c.inbox_ref::<Signal>("control").unwrap();
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    inbox.try_send(1).unwrap();
    inbox.try_send(2).unwrap();
    sched.run_until_idle(); // 2 is out; 4 waits for room.
    control.try_send(status("mid-send")).unwrap();
    sched.run_until_idle();
    assert_eq!(
        names(&signal.drain().collect::<Vec<_>>()),
        ["status: mid-send"],
        "forwarded at once, though the send still waits"
    );
    control.try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.step();
    assert!(c.is_finished(), "a shutdown ends a blocked send within one turn");
    assert_eq!(outbox.drain().collect::<Vec<_>>(), [2]);
    assert_eq!(names(&signal.drain().collect::<Vec<_>>()), ["shutdownMicroprocess"]);
}

#[test]
fn finish_passes_on_signals_a_deliver_policy_component_never_took() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let mut b = ComponentBuilder::new("Deliverer");
    let io = b.standard::<u32, u32>();
    let c = b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        // Sends into a full box; signals arrive meanwhile; then a shutdown.
        let end = match watch.send(&io.outbox, 7).await {
            Ok(()) => Signal::producer_finished(),
            Err(stop) => stop.signal,
        };
        seen.lock().unwrap().push(format!("end {end}"));
        watch.finish(end).await;
    });
    let (_o, _outbox) = held::<u32>((&c, "outbox"), Some(0));
    let (_s, signal) = held::<Signal>((&c, "signal"), None);
    let control = c.inbox_ref::<Signal>("control").unwrap();
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    control.try_send(status("x")).unwrap();
    control.try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.run_until_idle();
    assert_eq!(*log.lock().unwrap(), ["end shutdownMicroprocess"]);
    assert_eq!(names(&signal.drain().collect::<Vec<_>>()), ["status: x", "shutdownMicroprocess"]);
}

#[test]
fn a_watch_dropped_without_finish_still_passes_kept_signals_on() {
    let mut b = ComponentBuilder::new("Dropper");
    let io = b.standard::<u32, u32>();
    let c = b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        assert!(watch.check().is_none());
        // Returns early, forgetting `finish`.
    });
    let (_s, signal) = held::<Signal>((&c, "signal"), None);
    c.inbox_ref::<Signal>("control").unwrap().try_send(status("kept")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    assert!(c.is_finished());
    assert_eq!(names(&signal.drain().collect::<Vec<_>>()), ["status: kept"]);
}

#[test]
fn next_hands_out_other_signals_only_under_deliver() {
    let mut b = ComponentBuilder::new("Taker");
    let io = b.standard::<u32, u32>();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let c = b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        loop {
            match watch.next(&io.inbox).await {
                Next::Data(n) => seen.lock().unwrap().push(format!("data {n}")),
                Next::Other(s) => seen.lock().unwrap().push(format!("other {s}")),
                Next::End(s) => {
                    seen.lock().unwrap().push(format!("end {s}"));
                    watch.finish(s).await;
                    return;
                }
            }
        }
    });
    let (_s, signal) = held::<Signal>((&c, "signal"), None);
    c.inbox_ref::<u32>("inbox").unwrap().try_send(1).unwrap();
    let control = c.inbox_ref::<Signal>("control").unwrap();
    control.try_send(status("s")).unwrap();
    control.try_send(Signal::producer_finished()).unwrap();
    let sched = Scheduler::new();
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    assert_eq!(*log.lock().unwrap(), ["other status: s", "data 1", "end producerFinished"]);
    assert_eq!(
        names(&signal.drain().collect::<Vec<_>>()),
        ["producerFinished"],
        "a delivered signal is the component's"
    );
}
