//! DataSource, TriggeredSource, OneShot, TriggeredOneShot, Clock and NullSink: what they send, both shutdown signals, forwarding down a chain, snapshots.

mod common;

use std::time::{Duration, Instant};

use axon_core::{ComponentId, Scheduler, Signal, link};
use kamaelia_util::{
    Clock, DataSource, NullSink, OneShot, PassThrough, TURN_BUDGET, TriggeredOneShot, TriggeredSource,
};

use common::{LIMIT, assert_boxes, attach, put, put_control, queued, standard_boxes, step_all, wait_finished};

fn finished_by(s: &Signal, id: ComponentId) -> bool {
    matches!(s, Signal::ProducerFinished { caller: Some(c), .. } if *c == id)
}

/// DataSource sends every item in order, then ProducerFinished naming itself, and ends.
#[test]
fn data_source_sends_every_item_then_producer_finished_naming_itself() {
    let source = DataSource::new(["a", "b", "c"]);
    let out = attach::<&str>(&source);
    step_all(&[&source, &out.component]);
    assert_eq!(out.data(), ["a", "b", "c"]);
    let signals = out.signals();
    assert!(signals.len() == 1 && finished_by(&signals[0], source.id()), "{signals:?}");
    assert!(source.is_finished());
}

/// DataSource sends at most one batch ([`TURN_BUDGET`] items) per scheduler cycle, so a
/// ShutdownMicroprocess arriving part-way through an endless source stops it promptly; the
/// signal is forwarded and no ProducerFinished follows.
#[test]
fn data_source_stops_part_way_on_shutdown_microprocess() {
    let source = DataSource::new(0u64..);
    let out = attach::<u64>(&source);
    let sched = Scheduler::new();
    sched.activate(&source).unwrap();
    sched.activate(&out.component).unwrap();
    for _ in 0..5 {
        sched.step();
    }
    put_control(&source, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(source.is_finished());
    let got = out.data();
    assert!(!got.is_empty() && got.len() <= 6 * TURN_BUDGET, "{} items", got.len());
    assert_eq!(got, (0..got.len() as u64).collect::<Vec<_>>());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// A ProducerFinished on DataSource's control does not cut it short: it sends everything,
/// and its own ProducerFinished is the only one sent; other signals are passed on.
#[test]
fn data_source_finishes_its_items_despite_a_producer_finished_on_control() {
    let source = DataSource::new(vec![1u8, 2, 3]);
    let out = common::collector_until::<u8>(|s| s.is_producer_finished());
    link((&source, "outbox"), (&out.component, "inbox")).unwrap();
    link((&source, "signal"), (&out.component, "control")).unwrap();
    put_control(&source, Signal::Status("fyi".into()));
    put_control(&source, Signal::producer_finished());
    step_all(&[&source, &out.component]);
    assert_eq!(out.data(), [1, 2, 3]);
    let signals = out.signals();
    assert_eq!(out.signal_names(), ["status", "producerFinished"]);
    assert!(finished_by(&signals[1], source.id()));
}

/// TriggeredSource answers every trigger with a clone of its message; on ProducerFinished it
/// answers those queued, then forwards the signal and stops.
#[test]
fn triggered_source_answers_each_trigger_then_forwards_producer_finished() {
    let t = TriggeredSource::<String>::new(vec![9u8]);
    let out = attach::<Vec<u8>>(&t);
    put(&t, ["x", "y", "z"].map(String::from));
    put_control(&t, Signal::producer_finished());
    step_all(&[&t, &out.component]);
    assert_eq!(out.data(), [vec![9u8], vec![9], vec![9]]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(t.is_finished());
}

/// TriggeredSource stops at once on ShutdownMicroprocess, answering no queued trigger.
#[test]
fn triggered_source_stops_at_once_on_shutdown_microprocess() {
    let t = TriggeredSource::<()>::new('!');
    let out = attach::<char>(&t);
    put(&t, [(), ()]);
    put_control(&t, Signal::ShutdownMicroprocess);
    step_all(&[&t, &out.component]);
    assert!(t.is_finished());
    assert_eq!(out.data(), Vec::<char>::new());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// OneShot sends its message, then ProducerFinished naming itself, and ends.
#[test]
fn one_shot_sends_its_message_then_producer_finished() {
    let once = OneShot::new(String::from("hello"));
    let out = attach::<String>(&once);
    step_all(&[&once, &out.component]);
    assert_eq!(out.data(), ["hello"]);
    let signals = out.signals();
    assert!(signals.len() == 1 && finished_by(&signals[0], once.id()), "{signals:?}");
    assert!(once.is_finished());
}

/// A ShutdownMicroprocess waiting when OneShot starts is forwarded and nothing is sent.
#[test]
fn one_shot_sends_nothing_after_an_early_shutdown() {
    let once = OneShot::new(1u8);
    let out = attach::<u8>(&once);
    put_control(&once, Signal::ShutdownMicroprocess);
    step_all(&[&once, &out.component]);
    assert_eq!(out.data(), Vec::<u8>::new());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// TriggeredOneShot waits, passing on signals that are not terminal; the first trigger
/// makes it send its message and ProducerFinished naming itself, and end.
#[test]
fn triggered_one_shot_waits_for_a_trigger_then_acts_as_one_shot() {
    let shot = TriggeredOneShot::<u32>::new("go");
    let out = attach::<&str>(&shot);
    put_control(&shot, Signal::Status("waiting".into()));
    let sched = step_all(&[&shot, &out.component]);
    assert!(!shot.is_finished());
    assert_eq!(out.data(), Vec::<&str>::new());
    assert_eq!(out.signal_names(), ["status"]);

    put(&shot, [5u32, 6]);
    sched.run_until_idle();
    assert_eq!(out.data(), ["go"]);
    let signals = out.signals();
    assert!(signals.len() == 2 && finished_by(&signals[1], shot.id()), "{signals:?}");
    assert!(shot.is_finished());
    assert_eq!(queued(&shot, "inbox"), 1, "only the first trigger is consumed");
}

/// A ShutdownMicroprocess while TriggeredOneShot waits is forwarded and it ends without
/// sending.
#[test]
fn triggered_one_shot_stops_while_waiting_on_shutdown_microprocess() {
    let shot = TriggeredOneShot::<u32>::new("go");
    let out = attach::<&str>(&shot);
    put_control(&shot, Signal::ShutdownMicroprocess);
    step_all(&[&shot, &out.component]);
    assert!(shot.is_finished());
    assert_eq!(out.data(), Vec::<&str>::new());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// A ProducerFinished while TriggeredOneShot waits ends it: it sends its message only if a
/// trigger had already arrived, and forwards the signal it received in place of its own.
#[test]
fn triggered_one_shot_on_producer_finished_fires_only_for_a_trigger_already_queued() {
    let idle = TriggeredOneShot::<u32>::new("idle");
    let out_idle = attach::<&str>(&idle);
    put_control(&idle, Signal::ProducerFinished { caller: Some(ComponentId(3)), message: None });

    let primed = TriggeredOneShot::<u32>::new("primed");
    let out_primed = attach::<&str>(&primed);
    put(&primed, [1u32]);
    put_control(&primed, Signal::ProducerFinished { caller: Some(ComponentId(3)), message: None });

    step_all(&[&idle, &primed, &out_idle.component, &out_primed.component]);
    assert_eq!(out_idle.data(), Vec::<&str>::new());
    assert_eq!(out_primed.data(), ["primed"]);
    for out in [&out_idle, &out_primed] {
        let signals = out.signals();
        assert!(signals.len() == 1 && finished_by(&signals[0], ComponentId(3)), "{signals:?}");
    }
}

/// Clock sends ticks numbered from 1, no faster than its interval, until a
/// ShutdownMicroprocess, which it forwards.
#[test]
fn clock_ticks_at_its_interval_until_shutdown() {
    let interval = Duration::from_millis(20);
    let clock = Clock::new(interval);
    let bg = Scheduler::new().background();
    let start = Instant::now();
    let h = bg.handle::<(), u64>(&clock).unwrap();
    let ticks: Vec<u64> = (0..5).map(|_| h.get_timeout(LIMIT).expect("a tick")).collect();
    let elapsed = start.elapsed();
    assert_eq!(ticks, [1, 2, 3, 4, 5]);
    assert!(elapsed >= 5 * interval, "5 ticks in {elapsed:?}");

    h.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(h.get_signal_timeout(LIMIT), Some(Signal::ShutdownMicroprocess)));
    assert!(wait_finished(&clock));
    drop(h);
    bg.join();
}

/// Clock stops on ProducerFinished too (it holds nothing), forwarding it, and passes other
/// signals on; it ticks nothing before its first interval.
#[test]
fn clock_forwards_signals_and_stops_on_any_terminal_one() {
    let clock = Clock::new(Duration::from_secs(3600));
    let out = attach::<u64>(&clock);
    put_control(&clock, Signal::Status("x".into()));
    put_control(&clock, Signal::producer_finished());
    step_all(&[&clock, &out.component]);
    assert!(clock.is_finished());
    assert_eq!(out.data(), Vec::<u64>::new());
    assert_eq!(out.signal_names(), ["status", "producerFinished"]);
}

/// NullSink discards what it receives; on ProducerFinished it discards what is queued,
/// forwards the signal and stops.
#[test]
fn null_sink_discards_messages_and_forwards_producer_finished() {
    let sink = NullSink::<String>::new();
    let out = attach::<()>(&sink);
    put(&sink, ["a", "b"].map(String::from));
    put_control(&sink, Signal::Status("ok".into()));
    put_control(&sink, Signal::producer_finished());
    step_all(&[&sink, &out.component]);
    assert!(sink.is_finished());
    assert_eq!(queued(&sink, "inbox"), 0);
    assert_eq!(out.data(), Vec::<()>::new());
    assert_eq!(out.signal_names(), ["status", "producerFinished"]);
}

/// NullSink forwards ShutdownMicroprocess and stops.
#[test]
fn null_sink_forwards_shutdown_microprocess_and_stops() {
    let sink = NullSink::<u8>::new();
    let out = attach::<()>(&sink);
    put_control(&sink, Signal::ShutdownMicroprocess);
    step_all(&[&sink, &out.component]);
    assert!(sink.is_finished());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// A DataSource's ProducerFinished travels through a PassThrough into a NullSink and out of
/// its signal, after all the data; every component ends.
#[test]
fn producer_finished_travels_from_a_source_through_to_a_null_sink() {
    let source = DataSource::new(1..=100u32);
    let pass = PassThrough::<u32>::new();
    let sink = NullSink::<u32>::new();
    for (a, b) in [(&source, &pass), (&pass, &sink)] {
        link((a, "outbox"), (b, "inbox")).unwrap();
        link((a, "signal"), (b, "control")).unwrap();
    }
    let out = attach::<()>(&sink);
    step_all(&[&source, &pass, &sink, &out.component]);
    let signals = out.signals();
    assert!(signals.len() == 1 && finished_by(&signals[0], source.id()), "{signals:?}");
    assert_eq!(sink.box_info("inbox").unwrap().through, 100);
    for c in [&source, &pass, &sink] {
        assert!(c.is_finished(), "{} still running", c.name());
    }
}

/// Each source and sink shows its four standard boxes with their message types.
#[test]
fn sources_and_sinks_show_their_boxes_and_types_in_a_snapshot() {
    let data = DataSource::new(vec![1.5f32]);
    let triggered = TriggeredSource::<bool>::new(0u16);
    let once = OneShot::new('x');
    let triggered_once = TriggeredOneShot::<String>::new(7i8);
    let clock = Clock::new(Duration::from_secs(3600));
    let sink = NullSink::<Vec<u8>>::new();
    let sched = Scheduler::new();
    for c in [&data, &triggered, &once, &triggered_once, &clock, &sink] {
        sched.activate(c).unwrap();
    }
    // Taken before any runs, so those that end at once are still there.
    assert_boxes(&sched, &data, &standard_boxes::<(), f32>());
    assert_boxes(&sched, &triggered, &standard_boxes::<bool, u16>());
    assert_boxes(&sched, &once, &standard_boxes::<(), char>());
    assert_boxes(&sched, &triggered_once, &standard_boxes::<String, i8>());
    assert_boxes(&sched, &clock, &standard_boxes::<(), u64>());
    assert_boxes(&sched, &sink, &standard_boxes::<Vec<u8>, ()>());
}
