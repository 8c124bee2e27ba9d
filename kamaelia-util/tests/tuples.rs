//! SimpleDetupler takes one part of each message and passes every signal on; Entuple wraps
//! each message between a prefix and a postfix, in a list.

#[path = "common/split.rs"]
mod common_split;

use axon_core::Signal;
use common_split::*;
use kamaelia_util::{Entuple, SimpleDetupler};

// ---------------------------------------------------------------------------------------
// SimpleDetupler

#[test]
fn simple_detupler_first_and_second_take_index_0_and_1_of_each_pair() {
    let first = SimpleDetupler::first::<u32, String>();
    let second = SimpleDetupler::second::<u32, String>();
    let out1 = attach::<u32>(&first, "outbox", None);
    let out2 = attach::<String>(&second, "outbox", None);
    let sched = scheduler_with(&[&first, &second]);
    let pairs = || vec![(1u32, "one".to_string()), (2, "two".to_string())];
    put(&first, pairs());
    put(&second, pairs());
    sched.run_until_idle();
    assert_eq!(out1.take(), [1, 2]);
    assert_eq!(out2.take(), ["one", "two"]);
}

#[test]
fn simple_detupler_new_takes_any_part_of_any_tuple() {
    let third = SimpleDetupler::new(|(_, _, c): (u8, u8, char)| c);
    let out = attach::<char>(&third, "outbox", None);
    let sched = scheduler_with(&[&third]);
    put(&third, [(1u8, 2u8, 'x'), (3, 4, 'y')]);
    sched.run_until_idle();
    assert_eq!(out.take(), ['x', 'y']);
}

#[test]
fn simple_detupler_passes_every_signal_on_and_runs_on_after_a_non_terminal_one() {
    let det = SimpleDetupler::first::<u32, u32>();
    let out = attach::<u32>(&det, "outbox", Some("signal"));
    let sched = scheduler_with(&[&det]);
    put_control(&det, Signal::Status("halfway".into()));
    sched.run_until_idle();
    assert_eq!(out.signal_names(), ["status"]);
    put(&det, [(5u32, 6u32)]);
    sched.run_until_idle();
    assert_eq!(out.take(), [5]);
    assert!(!det.is_finished());
}

#[test]
fn simple_detupler_on_producer_finished_sends_what_it_holds_then_passes_the_signal_on() {
    let det = SimpleDetupler::second::<u32, u32>();
    let out = attach::<u32>(&det, "outbox", Some("signal"));
    let sched = scheduler_with(&[&det]);
    put(&det, [(1u32, 10u32), (2, 20)]);
    put_control(&det, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.take(), [10, 20]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(det.is_finished());
}

#[test]
fn simple_detupler_on_shutdown_stops_at_once_and_passes_it_on() {
    let det = SimpleDetupler::second::<u32, u32>();
    let out = attach::<u32>(&det, "outbox", Some("signal"));
    let sched = scheduler_with(&[&det]);
    put(&det, [(1u32, 10u32), (2, 20)]);
    put_control(&det, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(out.take().is_empty());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(det.is_finished());
}

#[test]
fn simple_detupler_shows_its_tuple_inbox_and_part_outbox_in_a_snapshot() {
    let det = SimpleDetupler::first::<u32, String>();
    let sched = scheduler_with(&[&det]);
    assert_eq!(snapshot_boxes(&sched, &det), standard_boxes::<(u32, String), u32>());
}

// ---------------------------------------------------------------------------------------
// Entuple

#[test]
fn entuple_sends_prefix_then_item_then_postfix_as_a_list() {
    let ent = Entuple::new(vec!["ADD".to_string(), "NODE".to_string()], vec!["end".to_string()]);
    let out = attach::<Vec<String>>(&ent, "outbox", None);
    let sched = scheduler_with(&[&ent]);
    put(&ent, ["x".to_string()]);
    sched.run_until_idle();
    assert_eq!(out.take(), [vec!["ADD", "NODE", "x", "end"]]);
}

#[test]
fn entuple_on_producer_finished_sends_what_it_holds_then_its_own_producer_finished() {
    let ent = Entuple::new(vec![0u32], vec![]);
    let out = attach::<Vec<u32>>(&ent, "outbox", Some("signal"));
    let sched = scheduler_with(&[&ent]);
    put(&ent, [1u32, 2]);
    put_control(&ent, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.take(), [vec![0, 1], vec![0, 2]]);
    let signals = out.signals();
    assert_eq!(signals.len(), 1);
    assert!(
        matches!(signals[0], Signal::ProducerFinished { caller: Some(id), .. } if id == ent.id()),
        "{:?}",
        signals[0]
    );
    assert!(ent.is_finished());
}

#[test]
fn entuple_on_shutdown_stops_at_once_and_passes_the_shutdown_on() {
    let ent = Entuple::new(vec![0u32], vec![]);
    let out = attach::<Vec<u32>>(&ent, "outbox", Some("signal"));
    let sched = scheduler_with(&[&ent]);
    put(&ent, [1u32]);
    put_control(&ent, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(out.take().is_empty());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(ent.is_finished());
}

#[test]
fn entuple_shows_its_list_outbox_in_a_snapshot() {
    let ent = Entuple::new(vec![1i64], vec![2]);
    let sched = scheduler_with(&[&ent]);
    assert_eq!(snapshot_boxes(&sched, &ent), standard_boxes::<i64, Vec<i64>>());
}

// ---------------------------------------------------------------------------------------
// Together

#[test]
fn entuple_then_simple_detupler_gives_the_items_back_and_pass_the_end_of_the_stream_on() {
    let src = source(vec!["a".to_string(), "b".to_string()], Signal::producer_finished());
    let ent = Entuple::new(vec!["pre".to_string()], vec!["post".to_string()]);
    let det = SimpleDetupler::new(|list: Vec<String>| list[1].clone());
    let (sink, seen) = sink::<String>();
    chain(&src, &ent);
    chain(&ent, &det);
    chain(&det, &sink);
    let sched = run_within_limit(scheduler_with(&[&src, &ent, &det, &sink]));
    assert_eq!(seen.data(), ["a", "b"]);
    assert_eq!(seen.signal_names(), ["producerFinished"]);
    assert_eq!(sched.live(), 0);
}
