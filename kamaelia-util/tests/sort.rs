//! Sort holds everything until the stream ends, then sends it all in order; a shutdown
//! stops it without sending.

#[path = "common/split.rs"]
mod common_split;

use axon_core::Signal;
use common_split::*;
use kamaelia_util::Sort;

#[test]
fn sort_sends_nothing_before_the_end_of_the_stream() {
    let sort = Sort::<u32>::new();
    let out = attach::<u32>(&sort, "outbox", Some("signal"));
    let sched = scheduler_with(&[&sort]);
    put(&sort, [3u32, 1, 2]);
    sched.run_until_idle();
    assert!(out.take().is_empty());
    assert!(!sort.is_finished());
}

#[test]
fn sort_on_producer_finished_sends_everything_in_order_then_passes_the_signal_on() {
    let sort = Sort::<String>::new();
    let out = attach::<String>(&sort, "outbox", Some("signal"));
    let sched = scheduler_with(&[&sort]);
    put(&sort, ["pear", "apple"].map(String::from));
    sched.run_until_idle();
    // These arrive together with the end of the stream: they are sorted in too.
    put(&sort, ["fig", "banana"].map(String::from));
    put_control(&sort, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.take(), ["apple", "banana", "fig", "pear"]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(sort.is_finished());
}

#[test]
fn sort_by_key_orders_by_the_key_and_keeps_arrival_order_for_equal_keys() {
    let sort = Sort::by_key(|s: &String| s.len());
    let out = attach::<String>(&sort, "outbox", None);
    let sched = scheduler_with(&[&sort]);
    put(&sort, ["ccc", "b", "aa", "a", "bb"].map(String::from));
    put_control(&sort, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.take(), ["b", "a", "aa", "bb", "ccc"]);
}

#[test]
fn sort_on_shutdown_stops_at_once_without_sending_what_it_holds() {
    let sort = Sort::<u32>::new();
    let out = attach::<u32>(&sort, "outbox", Some("signal"));
    let sched = scheduler_with(&[&sort]);
    put(&sort, [2u32, 1]);
    sched.run_until_idle();
    put_control(&sort, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(out.take().is_empty());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(sort.is_finished());
}

#[test]
fn sort_stops_on_shutdown_while_sending_into_a_full_outbox() {
    let sort = Sort::<u32>::new();
    let out = attach_bounded::<u32>(&sort, "outbox", Some("signal"), 2);
    let sched = scheduler_with(&[&sort]);
    put(&sort, [5u32, 4, 3, 2, 1]);
    put_control(&sort, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.len(), 2, "two sent, the third waits for room");
    assert!(!sort.is_finished());
    put_control(&sort, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(sort.is_finished());
    assert_eq!(out.take(), [1, 2]);
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

#[test]
fn sort_passes_the_end_of_the_stream_down_a_chain_after_the_sorted_data() {
    let src = source(vec![9u32, 7, 8], Signal::producer_finished());
    let sort = Sort::<u32>::new();
    let (sink, seen) = sink::<u32>();
    chain(&src, &sort);
    chain(&sort, &sink);
    let sched = run_within_limit(scheduler_with(&[&src, &sort, &sink]));
    assert_eq!(seen.data(), [7, 8, 9]);
    assert_eq!(seen.signal_names(), ["producerFinished"]);
    assert_eq!(sched.live(), 0);
}

#[test]
fn sort_shows_its_standard_boxes_in_a_snapshot() {
    let sort = Sort::<String>::new();
    let sched = scheduler_with(&[&sort]);
    assert_eq!(snapshot_boxes(&sched, &sort), standard_boxes::<String, String>());
}
