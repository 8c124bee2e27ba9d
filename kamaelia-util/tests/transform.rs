//! PureTransformer, StatefulTransformer and PassThrough: data flow, both shutdown signals, signal forwarding down a chain, snapshots.

mod common;

use axon_core::{ComponentId, Signal, link};
use kamaelia_util::{DataSource, PassThrough, PureTransformer, StatefulTransformer};

use common::{assert_boxes, attach, put, put_control, queued, standard_boxes, step_all};

/// A `ProducerFinished` from a made-up component, with a note, to check that what is
/// forwarded is the signal received.
fn finished_by_42() -> Signal {
    Signal::ProducerFinished { caller: Some(ComponentId(42)), message: Some("all done".into()) }
}

fn is_finished_by_42(s: &Signal) -> bool {
    matches!(s, Signal::ProducerFinished { caller: Some(ComponentId(42)), message: Some(m) } if m == "all done")
}

/// PureTransformer sends `f(message)` for each message, in order, and drops `None` results.
#[test]
fn pure_transformer_sends_each_some_result_in_order_and_drops_none() {
    let t = PureTransformer::new(|n: u32| (n % 2 == 0).then(|| format!("<{n}>")));
    let out = attach::<String>(&t);
    put(&t, 1..=6u32);
    put_control(&t, Signal::producer_finished());
    step_all(&[&t, &out.component]);
    assert_eq!(out.data(), ["<2>", "<4>", "<6>"]);
}

/// On ProducerFinished, PureTransformer transforms the messages already queued, then
/// forwards the very signal it received (caller and note intact) and stops.
#[test]
fn pure_transformer_drains_on_producer_finished_then_forwards_the_signal_it_received() {
    let t = PureTransformer::new(|n: u32| Some(n * 10));
    let out = attach::<u32>(&t);
    // The signal is queued with the data: control is looked at first, so the data is
    // still waiting when the signal is seen.
    put(&t, [1u32, 2, 3]);
    put_control(&t, finished_by_42());
    step_all(&[&t, &out.component]);
    assert_eq!(out.data(), [10, 20, 30]);
    let signals = out.signals();
    assert_eq!(signals.len(), 1);
    assert!(is_finished_by_42(&signals[0]), "{signals:?}");
    assert!(t.is_finished());
}

/// On ShutdownMicroprocess, PureTransformer stops at once without touching queued
/// messages, and forwards the signal (Kamaelia's ignores it: quirk 7, fixed).
#[test]
fn pure_transformer_stops_at_once_on_shutdown_microprocess_and_forwards_it() {
    let t = PureTransformer::new(|n: u32| Some(n));
    let out = attach::<u32>(&t);
    put(&t, [1u32, 2, 3]);
    put_control(&t, Signal::ShutdownMicroprocess);
    step_all(&[&t, &out.component]);
    assert!(t.is_finished());
    assert_eq!(out.data(), Vec::<u32>::new());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(queued(&t, "inbox"), 3, "queued messages are left untouched");
}

/// Axon's older `Shutdown` stops PureTransformer too, and is forwarded.
#[test]
fn pure_transformer_stops_on_the_older_shutdown_signal() {
    let t = PureTransformer::new(|n: u32| Some(n));
    let out = attach::<u32>(&t);
    put_control(&t, Signal::Shutdown);
    step_all(&[&t, &out.component]);
    assert!(t.is_finished());
    assert_eq!(out.signal_names(), ["shutdown"]);
}

/// Signals other than the terminal ones are passed on, and PureTransformer carries on.
#[test]
fn pure_transformer_passes_other_signals_on_and_carries_on() {
    let t = PureTransformer::new(|n: u32| Some(n + 1));
    let out = attach::<u32>(&t);
    put_control(&t, Signal::Status("half way".into()));
    let sched = step_all(&[&t, &out.component]);
    assert!(!t.is_finished());
    assert_eq!(out.signal_names(), ["status"]);

    put(&t, [1u32]);
    sched.run_until_idle();
    assert_eq!(out.data(), [2]);
    assert!(!t.is_finished());
}

/// A ProducerFinished from a DataSource travels down a chain of transformers
/// (signal -> control at each hop) after all the data, and every component ends.
#[test]
fn producer_finished_travels_down_a_chain_of_transformers_after_the_data() {
    let source = DataSource::new(1..=5u32);
    let plus_one = PureTransformer::new(|n: u32| Some(n + 1));
    let running_total = StatefulTransformer::new(0u32, |total: &mut u32, n: u32| {
        *total += n;
        Some(*total)
    })
    .build();
    let pass = PassThrough::<u32>::new();
    for (a, b) in [(&source, &plus_one), (&plus_one, &running_total), (&running_total, &pass)] {
        link((a, "outbox"), (b, "inbox")).unwrap();
        link((a, "signal"), (b, "control")).unwrap();
    }
    let out = attach::<u32>(&pass);
    step_all(&[&source, &plus_one, &running_total, &pass, &out.component]);

    assert_eq!(out.data(), [2, 5, 9, 14, 20]);
    let signals = out.signals();
    assert_eq!(signals.len(), 1);
    assert!(
        matches!(signals[0], Signal::ProducerFinished { caller: Some(c), .. } if c == source.id()),
        "the source's own signal arrives: {signals:?}"
    );
    for c in [&source, &plus_one, &running_total, &pass, &out.component] {
        assert!(c.is_finished(), "{} still running", c.name());
    }
}

/// StatefulTransformer threads its state through every message.
#[test]
fn stateful_transformer_keeps_its_state_across_messages() {
    // Emits each word with its position, dropping repeats of the previous word.
    let t = StatefulTransformer::new((0usize, String::new()), |(n, last): &mut (usize, String), w: String| {
        if *last == w {
            return None;
        }
        *n += 1;
        *last = w.clone();
        Some(format!("{n}:{w}"))
    })
    .build();
    let out = attach::<String>(&t);
    put(&t, ["a", "a", "b", "c", "c"].map(String::from));
    put_control(&t, Signal::producer_finished());
    step_all(&[&t, &out.component]);
    assert_eq!(out.data(), ["1:a", "2:b", "3:c"]);
}

/// On ProducerFinished, StatefulTransformer drains its inbox, then sends what `on_finish`
/// makes of the final state, then forwards the signal it received.
#[test]
fn stateful_transformer_flushes_on_finish_after_draining_and_before_forwarding() {
    let t = StatefulTransformer::new(0u64, |count: &mut u64, _line: &str| {
        *count += 1;
        None::<u64>
    })
    .on_finish(|count| vec![count, count * 100])
    .build();
    let out = attach::<u64>(&t);
    put(&t, ["x", "y", "z"]);
    put_control(&t, finished_by_42());
    step_all(&[&t, &out.component]);
    assert_eq!(out.data(), [3, 300]);
    let signals = out.signals();
    assert!(signals.len() == 1 && is_finished_by_42(&signals[0]), "{signals:?}");
}

/// On ShutdownMicroprocess, StatefulTransformer stops at once: queued messages are left and
/// `on_finish` is not run.
#[test]
fn stateful_transformer_stops_at_once_on_shutdown_without_running_on_finish() {
    let t = StatefulTransformer::new(0u32, |sum: &mut u32, n: u32| {
        *sum += n;
        None::<u32>
    })
    .on_finish(|sum| vec![sum])
    .build();
    let out = attach::<u32>(&t);
    put(&t, [1u32, 2]);
    put_control(&t, Signal::ShutdownMicroprocess);
    step_all(&[&t, &out.component]);
    assert!(t.is_finished());
    assert_eq!(out.data(), Vec::<u32>::new());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// PassThrough forwards inbox to outbox and every signal to signal; it stops after a
/// terminal one, forwarding queued data before a ProducerFinished.
#[test]
fn pass_through_forwards_data_and_signals_and_stops_after_producer_finished() {
    let p = PassThrough::<char>::new();
    let out = attach::<char>(&p);
    put(&p, ['a', 'b']);
    put_control(&p, Signal::Status("note".into()));
    put_control(&p, finished_by_42());
    step_all(&[&p, &out.component]);
    assert_eq!(out.data(), ['a', 'b']);
    assert_eq!(out.signal_names(), ["status", "producerFinished"]);
    assert!(is_finished_by_42(&out.signals()[1]));
    assert!(p.is_finished());
}

/// On ShutdownMicroprocess, PassThrough forwards it and stops at once, leaving queued data.
#[test]
fn pass_through_stops_at_once_on_shutdown_microprocess() {
    let p = PassThrough::<char>::new();
    let out = attach::<char>(&p);
    put(&p, ['a', 'b']);
    put_control(&p, Signal::ShutdownMicroprocess);
    step_all(&[&p, &out.component]);
    assert!(p.is_finished());
    assert_eq!(out.data(), Vec::<char>::new());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// With `shutdown_on` accepting only ShutdownMicroprocess, PassThrough forwards a
/// ProducerFinished and carries on, then stops after a ShutdownMicroprocess.
#[test]
fn pass_through_stops_only_on_the_signals_shutdown_on_accepts() {
    let p = PassThrough::<u8>::shutdown_on(|s| matches!(s, Signal::ShutdownMicroprocess));
    // Records signals until a ShutdownMicroprocess (an ordinary collector would stop at
    // the ProducerFinished).
    let out = common::collector_until::<u8>(|s| matches!(s, Signal::ShutdownMicroprocess));
    link((&p, "outbox"), (&out.component, "inbox")).unwrap();
    link((&p, "signal"), (&out.component, "control")).unwrap();
    put_control(&p, Signal::producer_finished());
    let sched = step_all(&[&p, &out.component]);
    assert!(!p.is_finished(), "ProducerFinished is not in its shutdown_on");
    assert_eq!(out.signal_names(), ["producerFinished"]);

    put(&p, [7u8]);
    sched.run_until_idle();
    assert_eq!(out.data(), [7]);
    put_control(&p, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(p.is_finished());
    assert_eq!(out.signal_names(), ["producerFinished", "shutdownMicroprocess"]);
}

/// Each transformer shows its four standard boxes with their message types in a snapshot.
#[test]
fn transformers_show_their_boxes_and_types_in_a_snapshot() {
    let pure = PureTransformer::new(|n: u32| Some(n.to_string()));
    let stateful = StatefulTransformer::new(Vec::<u8>::new(), |v: &mut Vec<u8>, b: u8| {
        v.push(b);
        None::<Vec<u8>>
    })
    .build();
    let pass = PassThrough::<(u16, char)>::new();
    let sched = step_all(&[&pure, &stateful, &pass]);
    assert_boxes(&sched, &pure, &standard_boxes::<u32, String>());
    assert_boxes(&sched, &stateful, &standard_boxes::<u8, Vec<u8>>());
    assert_boxes(&sched, &pass, &standard_boxes::<(u16, char), (u16, char)>());
}
