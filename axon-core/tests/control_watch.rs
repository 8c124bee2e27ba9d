//! ControlWatch: signals before data, deferral in order, ProducerFinished drains, a shutdown abandons a blocked send (async and threaded).

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{
    BoxAddr, Component, ComponentBuilder, ComponentState, ControlWatch, Inbox, LinkOptions, Next, Scheduler,
    SchedulerHandle, Signal, SignalPolicy, StandardBoxes, link, link_with,
};

/// Far longer than any of these systems needs; only reached if something hangs.
const LIMIT: Duration = Duration::from_secs(30);

/// What a component under test did, in order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn note(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// How a relay's loop notes what [`ControlWatch::next`] handed it.
fn note_data(log: &Log, watch: &ControlWatch, n: u32) {
    log.note(if watch.is_finishing() { format!("data {n} (finishing)") } else { format!("data {n}") });
}

/// An async relay following the usual contract through a ControlWatch: each message out of
/// `outbox`; other signals noted; at the end the deferred signals, then the terminal one,
/// out of `signal`.
fn relay(log: &Log) -> Component {
    let mut b = ComponentBuilder::new("Relay");
    let std: StandardBoxes<u32, u32> = b.standard();
    let log = log.clone();
    b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(std.control, std.signal).with_policy(SignalPolicy::Deliver);
        let end = loop {
            match watch.next(&std.inbox).await {
                Next::Data(n) => {
                    note_data(&log, &watch, n);
                    if let Err(i) = watch.send(&std.outbox, n).await {
                        log.note(format!("interrupted: {} handed back", i.message));
                        break i.signal;
                    }
                }
                Next::Other(s) => log.note(format!("other {s}")),
                Next::End(s) => break s,
            }
        };
        log.note(format!("end {end}"));
        watch.finish(end).await;
    })
}

/// [`relay`] as a threaded component, with the blocking calls.
fn threaded_relay(log: &Log) -> Component {
    let mut b = ComponentBuilder::new("ThreadedRelay");
    let std: StandardBoxes<u32, u32> = b.standard();
    let log = log.clone();
    b.run_threaded(move |tctx| {
        let mut watch = ControlWatch::new(std.control, std.signal).with_policy(SignalPolicy::Deliver);
        let end = loop {
            match watch.next_blocking(&tctx, &std.inbox) {
                Next::Data(n) => {
                    note_data(&log, &watch, n);
                    if let Err(i) = watch.send_blocking(&tctx, &std.outbox, n) {
                        log.note(format!("interrupted: {} handed back", i.message));
                        break i.signal;
                    }
                }
                Next::Other(s) => log.note(format!("other {s}")),
                Next::End(s) => break s,
            }
        };
        log.note(format!("end {end}"));
        watch.finish_blocking(end);
    })
}

/// The inbox of a component that never runs, linked from `from`: the test reads it itself.
/// With a capacity, it stands for a stalled consumer.
fn held<T: Send + 'static>(from: (&Component, &str), capacity: Option<usize>) -> (Component, Inbox<T>) {
    let mut b = ComponentBuilder::new("Held");
    let inbox = b.inbox::<T>("inbox");
    let c = b.run(|_ctx| async {});
    match capacity {
        Some(n) => link_with(from, (&c, "inbox"), LinkOptions::capacity(n)).unwrap(),
        None => link(from, (&c, "inbox")).unwrap(),
    };
    (c, inbox)
}

/// A relay under test, activated on a step-mode scheduler, with its outbox (of `capacity`)
/// and its signal held by the test.
struct System {
    log: Log,
    relay: Component,
    out: Inbox<u32>,
    out_component: Component,
    signals: Inbox<Signal>,
    _signal_component: Component,
    sched: Scheduler,
}

/// Makes a relay with `make`, puts `data` in its inbox and `signals` on its control, and
/// activates it (a threaded relay starts at once; an async one at the next step).
fn start(make: fn(&Log) -> Component, capacity: Option<usize>, data: &[u32], signals: Vec<Signal>) -> System {
    let log = Log::default();
    let relay = make(&log);
    let (out_component, out) = held::<u32>((&relay, "outbox"), capacity);
    let (signal_component, held_signals) = held::<Signal>((&relay, "signal"), None);
    put(&relay, data);
    put_control(&relay, signals);
    let sched = Scheduler::new();
    sched.activate(&relay).unwrap();
    System { log, relay, out, out_component, signals: held_signals, _signal_component: signal_component, sched }
}

impl System {
    fn lines(&self) -> Vec<String> {
        self.log.lines()
    }

    fn sent(&self) -> Vec<u32> {
        self.out.drain().collect()
    }

    fn held_in(&self, name: &str) -> usize {
        self.relay.box_info(name).unwrap().len
    }

    /// For a threaded relay given data and an outbox of capacity 1: waits until the first
    /// message is out and the relay paused, which is then blocked sending the second (data
    /// was waiting, so it never paused before).
    fn wait_blocked_sending(&self) {
        wait_until("the relay is blocked sending", || {
            self.out.len() == 1 && self.relay.state() == ComponentState::Paused
        });
    }
}

fn put(c: &Component, data: &[u32]) {
    let inbox = c.inbox_ref::<u32>("inbox").unwrap();
    for &n in data {
        inbox.try_send(n).unwrap();
    }
}

fn put_control(c: &Component, signals: impl IntoIterator<Item = Signal>) {
    let control = c.inbox_ref::<Signal>("control").unwrap();
    for s in signals {
        control.try_send(s).unwrap();
    }
}

fn status(s: &str) -> Signal {
    Signal::Status(s.into())
}

fn names(inbox: &Inbox<Signal>) -> Vec<String> {
    inbox.drain().map(|s| s.to_string()).collect()
}

fn waiting_for(sched: &SchedulerHandle, c: &Component) -> Option<BoxAddr> {
    let snap = sched.snapshot();
    snap.components.into_iter().find(|i| i.id == c.id()).expect("the component is in the snapshot").waiting_for
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        // Polling a condition with a deadline, not sleeping in place of synchronising.
        thread::sleep(Duration::from_millis(1));
    }
}

// ---------------------------------------------------------------------------------------
// Receiving

#[test]
fn signals_are_handed_out_before_data_that_is_already_waiting() {
    let s = start(relay, None, &[1, 2], vec![status("a")]);
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["other status: a", "data 1", "data 2"]);
    assert_eq!(s.sent(), [1, 2]);
    assert!(!s.relay.is_finished());
}

#[test]
fn producer_finished_hands_out_what_the_inbox_holds_then_ends_with_it() {
    let s = start(relay, None, &[1, 2, 3], vec![Signal::producer_finished()]);
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["data 1 (finishing)", "data 2 (finishing)", "data 3 (finishing)", "end producerFinished"]);
    assert_eq!(s.sent(), [1, 2, 3]);
    assert_eq!(names(&s.signals), ["producerFinished"]);
    assert!(s.relay.is_finished());
}

#[test]
fn a_shutdown_ends_at_once_leaving_waiting_data_unread() {
    let s = start(relay, None, &[1, 2], vec![Signal::ShutdownMicroprocess, status("after")]);
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["end shutdownMicroprocess"]);
    assert!(s.sent().is_empty());
    assert_eq!(s.held_in("inbox"), 2);
    assert_eq!(names(&s.signals), ["shutdownMicroprocess"]);
}

/// Calls `check` once, then hands out everything with `try_next`.
fn checker(log: &Log) -> Component {
    let mut b = ComponentBuilder::new("Checker");
    let std: StandardBoxes<u32, u32> = b.standard();
    let log = log.clone();
    b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(std.control, std.signal).with_policy(SignalPolicy::Deliver);
        log.note(format!("check: {:?}", watch.check().map(|s| s.to_string())));
        log.note(format!("finishing: {}, left on control: {}", watch.is_finishing(), watch.control().len()));
        while let Some(next) = watch.try_next(&std.inbox) {
            log.note(match next {
                Next::Data(n) => format!("data {n}"),
                Next::Other(s) => format!("other {s}"),
                Next::End(s) => format!("end {s}"),
            });
        }
    })
}

#[test]
fn check_returns_a_shutdown_notes_producer_finished_and_defers_the_rest_in_order() {
    let signals =
        vec![status("a"), Signal::producer_finished(), status("b"), Signal::ShutdownMicroprocess, status("c")];
    let s = start(checker, None, &[], signals);
    s.sched.run_until_idle();
    assert_eq!(
        s.lines(),
        [
            "check: Some(\"shutdownMicroprocess\")",
            "finishing: true, left on control: 1",
            "other status: a",
            "other status: b",
            "other status: c",
            "end producerFinished",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Sending

/// Sends 7, then looks at `control`.
fn sender(log: &Log) -> Component {
    let mut b = ComponentBuilder::new("Sender");
    let std: StandardBoxes<u32, u32> = b.standard();
    let log = log.clone();
    b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(std.control, std.signal).with_policy(SignalPolicy::Deliver);
        log.note(format!("sent: {}", watch.send(&std.outbox, 7).await.is_ok()));
        log.note(format!("then check: {:?}", watch.check().map(|s| s.to_string())));
    })
}

#[test]
fn a_send_with_room_goes_even_with_a_shutdown_waiting() {
    let s = start(sender, None, &[], vec![Signal::ShutdownMicroprocess]);
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["sent: true", "then check: Some(\"shutdownMicroprocess\")"]);
    assert_eq!(s.sent(), [7]);
}

#[test]
fn a_send_blocked_on_a_full_box_is_abandoned_by_a_shutdown_and_the_message_handed_back() {
    let s = start(relay, Some(1), &[1, 2, 3], vec![]);
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["data 1", "data 2"]);
    assert_eq!(s.relay.state(), ComponentState::Paused);
    let at = BoxAddr { component: s.out_component.id(), name: "inbox".into() };
    assert_eq!(waiting_for(&s.sched, &s.relay), Some(at), "the blocked send is visible to deadlock detection");

    put_control(&s.relay, [Signal::ShutdownMicroprocess]);
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["data 1", "data 2", "interrupted: 2 handed back", "end shutdownMicroprocess"]);
    assert!(s.relay.is_finished());
    assert_eq!(s.sent(), [1], "nothing more was sent");
    assert_eq!(s.held_in("inbox"), 1, "3 was never taken");
    assert_eq!(names(&s.signals), ["shutdownMicroprocess"]);
}

#[test]
fn signals_arriving_while_a_send_waits_are_deferred_and_handed_out_in_order_before_more_data() {
    let s = start(relay, Some(1), &[1, 2, 3], vec![]);
    s.sched.run_until_idle();
    put_control(&s.relay, [status("a"), status("b")]);
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["data 1", "data 2"], "still waiting to send 2");
    assert_eq!(s.held_in("control"), 0, "the signals were taken and set aside");

    // Room for 2: it goes, then the set-aside signals, then 3 (which waits in its turn).
    assert_eq!(s.out.try_recv(), Some(1));
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["data 1", "data 2", "other status: a", "other status: b", "data 3"]);
    assert_eq!(waiting_for(&s.sched, &s.relay).map(|a| a.component), Some(s.out_component.id()));
}

#[test]
fn a_producer_finished_arriving_while_a_send_waits_is_noted_and_the_inbox_drained_before_it() {
    let s = start(relay, Some(1), &[1, 2, 3], vec![]);
    s.sched.run_until_idle();
    put_control(&s.relay, [status("a"), Signal::producer_finished(), status("b")]);
    s.sched.run_until_idle();
    assert!(!s.relay.is_finished());

    s.out_component.set_box_capacity("inbox", None).unwrap();
    s.sched.run_until_idle();
    assert_eq!(
        s.lines(),
        ["data 1", "data 2", "other status: a", "other status: b", "data 3 (finishing)", "end producerFinished"]
    );
    assert_eq!(s.sent(), [1, 2, 3]);
    assert_eq!(names(&s.signals), ["producerFinished"]);
}

#[test]
fn signals_deferred_before_an_interrupting_shutdown_are_passed_on_ahead_of_it() {
    let s = start(relay, Some(1), &[1, 2], vec![]);
    s.sched.run_until_idle();
    put_control(&s.relay, [status("a"), status("b"), Signal::ShutdownMicroprocess, status("late")]);
    s.sched.run_until_idle();
    assert_eq!(s.lines(), ["data 1", "data 2", "interrupted: 2 handed back", "end shutdownMicroprocess"]);
    assert_eq!(names(&s.signals), ["status: a", "status: b", "shutdownMicroprocess"]);
    assert_eq!(s.held_in("control"), 1, "what came after the shutdown was not taken");
}

// ---------------------------------------------------------------------------------------
// Threaded components

#[test]
fn threaded_next_blocking_hands_out_signals_first_and_drains_on_producer_finished() {
    let s = start(threaded_relay, None, &[1, 2, 3], vec![status("a"), Signal::producer_finished()]);
    wait_until("the relay has finished", || s.relay.is_finished());
    assert_eq!(
        s.lines(),
        ["other status: a", "data 1 (finishing)", "data 2 (finishing)", "data 3 (finishing)", "end producerFinished"]
    );
    assert_eq!(s.sent(), [1, 2, 3]);
    assert_eq!(names(&s.signals), ["producerFinished"]);
}

#[test]
fn threaded_next_blocking_pauses_until_data_arrives() {
    let s = start(threaded_relay, None, &[], vec![]);
    wait_until("the relay waits", || s.relay.state() == ComponentState::Paused);
    put(&s.relay, &[5]);
    wait_until("5 is relayed", || s.out.len() == 1);
    put_control(&s.relay, [Signal::producer_finished()]);
    wait_until("the relay has finished", || s.relay.is_finished());
    assert_eq!(s.lines(), ["data 5", "end producerFinished"]);
}

#[test]
fn threaded_send_blocking_is_abandoned_by_a_shutdown_and_the_message_handed_back() {
    let s = start(threaded_relay, Some(1), &[1, 2, 3], vec![]);
    s.wait_blocked_sending();
    let at = BoxAddr { component: s.out_component.id(), name: "inbox".into() };
    assert_eq!(waiting_for(&s.sched, &s.relay), Some(at));

    put_control(&s.relay, [status("a"), Signal::ShutdownMicroprocess]);
    wait_until("the relay has finished", || s.relay.is_finished());
    assert_eq!(s.lines(), ["data 1", "data 2", "interrupted: 2 handed back", "end shutdownMicroprocess"]);
    assert_eq!(s.sent(), [1]);
    assert_eq!(names(&s.signals), ["status: a", "shutdownMicroprocess"]);
}

#[test]
fn threaded_send_blocking_defers_signals_and_hands_them_out_once_the_send_goes() {
    let s = start(threaded_relay, Some(1), &[1, 2, 3], vec![]);
    s.wait_blocked_sending();
    put_control(&s.relay, [status("a"), status("b")]);
    assert_eq!(s.out.try_recv(), Some(1));
    wait_until("3 is being sent", || s.lines().len() == 5);
    assert_eq!(s.lines(), ["data 1", "data 2", "other status: a", "other status: b", "data 3"]);

    s.out_component.set_box_capacity("inbox", None).unwrap();
    put_control(&s.relay, [Signal::producer_finished()]);
    wait_until("the relay has finished", || s.relay.is_finished());
    assert_eq!(s.lines().last().map(String::as_str), Some("end producerFinished"));
    assert_eq!(s.sent(), [2, 3]);
}
