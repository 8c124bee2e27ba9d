//! Grep: a pattern searched anywhere in the line, invert, byte lines, a bad pattern refused when built, both shutdown signals, a chain, a snapshot.

use std::sync::{Arc, Mutex};

use axon_core::{Component, ComponentBuilder, ControlWatch, Direction, Next, Scheduler, Signal, SignalPolicy, link};
use kamaelia_file::Grep;

/// A component recording what arrives on its inbox and control, stopping on a terminal signal.
struct Collector<T> {
    component: Component,
    data: Arc<Mutex<Vec<T>>>,
    signals: Arc<Mutex<Vec<Signal>>>,
}

impl<T: Clone> Collector<T> {
    fn data(&self) -> Vec<T> {
        self.data.lock().unwrap().clone()
    }

    fn signal_names(&self) -> Vec<&'static str> {
        self.signals.lock().unwrap().iter().map(Signal::axon_name).collect()
    }
}

fn collector<T: Send + 'static>() -> Collector<T> {
    let data: Arc<Mutex<Vec<T>>> = Arc::default();
    let signals: Arc<Mutex<Vec<Signal>>> = Arc::default();
    let mut b = ComponentBuilder::new("Collector");
    let io = b.standard::<T, ()>();
    let (d, s) = (data.clone(), signals.clone());
    let component = b.run(move |_| async move {
        // Deliver: the collector records every signal.
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        loop {
            match watch.next(&io.inbox).await {
                Next::Data(x) => d.lock().unwrap().push(x),
                Next::Other(sig) => s.lock().unwrap().push(sig),
                Next::End(sig) => {
                    s.lock().unwrap().push(sig);
                    d.lock().unwrap().extend(io.inbox.drain());
                    return;
                }
            }
        }
    });
    Collector { component, data, signals }
}

/// `grep` with a collector on its outbox and signal.
fn attach<T: Send + 'static>(grep: &Component) -> Collector<T> {
    let c = collector::<T>();
    link((grep, "outbox"), (&c.component, "inbox")).unwrap();
    link((grep, "signal"), (&c.component, "control")).unwrap();
    c
}

fn put<T: Send + 'static>(c: &Component, items: impl IntoIterator<Item = T>) {
    let r = c.inbox_ref::<T>("inbox").unwrap();
    for x in items {
        r.try_send(x).unwrap();
    }
}

fn put_control(c: &Component, s: Signal) {
    c.inbox_ref::<Signal>("control").unwrap().try_send(s).unwrap();
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn step(components: &[&Component]) -> Scheduler {
    let sched = Scheduler::new();
    for c in components {
        sched.activate(c).unwrap();
    }
    sched.run_until_idle();
    sched
}

/// The pattern is searched for anywhere in the line, as grep does; lines pass unchanged, in order.
#[test]
fn the_pattern_is_searched_anywhere_in_the_line_as_grep_does() {
    let grep = Grep::new("pants").unwrap().build();
    let out = attach::<String>(&grep);
    put(&grep, lines(&["my pants", "shirt", "pants on fire", "PANTS", "underpants!"]));
    put_control(&grep, Signal::producer_finished());
    step(&[&grep, &out.component]);
    assert_eq!(out.data(), ["my pants", "pants on fire", "underpants!"]);
    assert_eq!(out.signal_names(), ["producerFinished"]);

    // The seed pipeline's `.*pants.*` and anchors behave as in grep.
    let anchored = Grep::new("^pants").unwrap().build();
    let out = attach::<String>(&anchored);
    put(&anchored, lines(&["my pants", "pants first"]));
    put_control(&anchored, Signal::producer_finished());
    step(&[&anchored, &out.component]);
    assert_eq!(out.data(), ["pants first"]);
}

/// invert(true) passes the lines that do not match, as grep -v.
#[test]
fn invert_passes_the_lines_that_do_not_match() {
    let grep = Grep::new(r"\d").unwrap().invert(true).build();
    let out = attach::<String>(&grep);
    put(&grep, lines(&["a1", "bee", "c2", "", "dee"]));
    put_control(&grep, Signal::producer_finished());
    step(&[&grep, &out.component]);
    assert_eq!(out.data(), ["bee", "", "dee"]);
}

/// A bad pattern is an error when the grep is built, naming the pattern and the trouble.
#[test]
fn a_bad_pattern_is_an_error_when_built_with_a_clear_message() {
    let e = Grep::new("error (unclosed").unwrap_err();
    assert_eq!(e.pattern(), "error (unclosed");
    let text = e.to_string();
    assert!(text.starts_with("invalid pattern \"error (unclosed\""), "{text}");
    assert!(text.contains("unclosed group"), "{text}");
    assert!(matches!(e.regex_error(), regex::Error::Syntax(_)));
    assert!(std::error::Error::source(&e).is_some());
    assert!(Grep::bytes("[z-a]").unwrap_err().to_string().contains("invalid pattern \"[z-a]\""));
}

/// Grep::bytes searches byte lines that need not be UTF-8.
#[test]
fn grep_bytes_searches_lines_that_are_not_utf8() {
    let grep = Grep::bytes("pants").unwrap().build();
    let out = attach::<Vec<u8>>(&grep);
    put(&grep, [b"\xffpants\xfe".to_vec(), b"\xff\xfe".to_vec(), b"pants".to_vec()]);
    put_control(&grep, Signal::producer_finished());
    step(&[&grep, &out.component]);
    assert_eq!(out.data(), [b"\xffpants\xfe".to_vec(), b"pants".to_vec()]);

    let raw = Grep::bytes(r"(?-u)\xff").unwrap().invert(true).build();
    let out = attach::<Vec<u8>>(&raw);
    put(&raw, [b"a\xff".to_vec(), b"b".to_vec()]);
    put_control(&raw, Signal::producer_finished());
    step(&[&raw, &out.component]);
    assert_eq!(out.data(), [b"b".to_vec()]);
}

/// ProducerFinished: the lines already queued are tested and passed, then the signal.
#[test]
fn producer_finished_drains_the_inbox_then_is_passed_on() {
    let grep = Grep::new("x").unwrap().build();
    let out = attach::<String>(&grep);
    // Queued before it ever runs, with the signal: control is looked at first.
    put(&grep, lines(&["x1", "y", "x2"]));
    put_control(&grep, Signal::producer_finished());
    let sched = step(&[&grep, &out.component]);
    assert_eq!(out.data(), ["x1", "x2"]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(grep.is_finished());
    drop(sched);
}

/// ShutdownMicroprocess stops it at once (leaving queued lines), even while it waits for room downstream.
#[test]
fn shutdown_microprocess_stops_it_promptly_even_when_blocked_and_is_passed_on() {
    let grep = Grep::new("").unwrap().build();
    let mut b = ComponentBuilder::new("Stuck");
    let _inbox = b.inbox_with_capacity::<String>("inbox", 1);
    let signals_in = b.inbox::<Signal>("control");
    let stuck = b.run(|_| std::future::pending());
    link((&grep, "outbox"), (&stuck, "inbox")).unwrap();
    link((&grep, "signal"), (&stuck, "control")).unwrap();
    put(&grep, lines(&["1", "2", "3", "4"]));
    let sched = step(&[&grep, &stuck]);
    assert!(!grep.is_finished(), "it should be waiting for room");
    put_control(&grep, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(grep.is_finished());
    assert!(matches!(signals_in.try_recv(), Some(Signal::ShutdownMicroprocess)));
    assert_eq!(grep.box_info("inbox").unwrap().len, 2);
}

/// Other signals are passed on and it carries on.
#[test]
fn other_signals_are_passed_on_and_it_carries_on() {
    let grep = Grep::new("a").unwrap().build();
    let out = attach::<String>(&grep);
    let sched = step(&[&grep, &out.component]);
    put_control(&grep, Signal::Status("note".into()));
    put(&grep, lines(&["a"]));
    sched.run_until_idle();
    put_control(&grep, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(out.data(), ["a"]);
    assert_eq!(out.signal_names(), ["status", "shutdownMicroprocess"]);
}

/// Its signal feeds the next component's control: two greps in a chain pass ProducerFinished along.
#[test]
fn its_signal_feeds_the_next_components_control_down_a_chain() {
    let first = Grep::new("a").unwrap().build();
    let second = Grep::new("b").unwrap().invert(true).build();
    link((&first, "outbox"), (&second, "inbox")).unwrap();
    link((&first, "signal"), (&second, "control")).unwrap();
    let out = attach::<String>(&second);
    put(&first, lines(&["ab", "ac", "bc", "a"]));
    put_control(&first, Signal::producer_finished());
    step(&[&first, &second, &out.component]);
    assert_eq!(out.data(), ["ac", "a"]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(first.is_finished() && second.is_finished());
}

/// In a snapshot Grep shows its four boxes, carrying String (or Vec<u8>) lines.
#[test]
fn it_shows_in_a_snapshot_with_its_boxes_and_types() {
    let text = Grep::new("a").unwrap().build();
    let bytes = Grep::bytes("a").unwrap().build();
    let sched = step(&[&text, &bytes]);
    let snap = sched.snapshot();
    for (c, line) in [(&text, std::any::type_name::<String>()), (&bytes, std::any::type_name::<Vec<u8>>())] {
        let info = snap.components.iter().find(|i| i.id == c.id()).unwrap();
        assert!(info.name.starts_with("Grep_"));
        assert!(!info.threaded);
        let boxes: Vec<(&str, Direction, &str)> =
            info.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
        let signal = std::any::type_name::<Signal>();
        assert_eq!(
            boxes,
            [
                ("inbox", Direction::Inbox, line),
                ("control", Direction::Inbox, signal),
                ("outbox", Direction::Outbox, line),
                ("signal", Direction::Outbox, signal),
            ]
        );
    }
}
