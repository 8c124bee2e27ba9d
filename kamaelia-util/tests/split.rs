//! Splitters and balancers: Fanout copies to every named outbox, Router follows its rules,
//! ConditionalSplitter picks `true` or `false`, TwoWaySplitter copies with backpressure, and
//! Balancer hands each job to one of N workers, round robin or least loaded.

#[path = "common/split.rs"]
mod common_split;

use std::panic::catch_unwind;

use axon_core::{Direction, Signal};
use common_split::*;
use kamaelia_util::{BalanceStrategy, Balancer, ConditionalSplitter, Fanout, Router, TwoWaySplitter};

// ---------------------------------------------------------------------------------------
// Fanout

#[test]
fn fanout_copies_every_message_to_outbox_and_to_each_named_outbox_and_never_to_signal() {
    let fan = Fanout::<String>::new(&["a", "b"]);
    let out = attach::<String>(&fan, "outbox", None);
    let a = attach::<String>(&fan, "a", None);
    let b = attach::<String>(&fan, "b", None);
    let sig = attach::<Signal>(&fan, "signal", None);
    let sched = scheduler_with(&[&fan]);
    put(&fan, ["x".to_string(), "y".to_string()]);
    sched.run_until_idle();
    for p in [&out, &a, &b] {
        assert_eq!(p.take(), ["x", "y"]);
    }
    assert!(sig.take().is_empty(), "data never goes to signal");
    assert!(!fan.is_finished());
}

#[test]
fn fanout_gives_a_name_listed_twice_or_named_outbox_one_copy() {
    let fan = Fanout::<u32>::new(&["a", "outbox", "a"]);
    assert_eq!(fan.outbox_names(), ["outbox", "signal", "a"]);
    let out = attach::<u32>(&fan, "outbox", None);
    let a = attach::<u32>(&fan, "a", None);
    let sched = scheduler_with(&[&fan]);
    put(&fan, [7u32]);
    sched.run_until_idle();
    assert_eq!(out.take(), [7]);
    assert_eq!(a.take(), [7]);
}

#[test]
fn fanout_refuses_an_outbox_named_like_one_of_its_standard_boxes() {
    for name in ["signal", "inbox", "control"] {
        assert!(catch_unwind(|| Fanout::<u32>::new(&[name])).is_err(), "{name} accepted");
    }
}

#[test]
fn fanout_on_producer_finished_copies_what_it_holds_then_passes_the_signal_on() {
    let fan = Fanout::<u32>::new(&["a"]);
    let out = attach::<u32>(&fan, "outbox", Some("signal"));
    let a = attach::<u32>(&fan, "a", None);
    let sched = scheduler_with(&[&fan]);
    put(&fan, [1u32, 2, 3]);
    put_control(&fan, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.take(), [1, 2, 3]);
    assert_eq!(a.take(), [1, 2, 3]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(fan.is_finished());
}

#[test]
fn fanout_on_shutdown_stops_at_once_and_passes_it_on() {
    let fan = Fanout::<u32>::new(&["a"]);
    let out = attach::<u32>(&fan, "outbox", Some("signal"));
    let sched = scheduler_with(&[&fan]);
    put(&fan, [1u32, 2, 3]);
    put_control(&fan, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(out.take().is_empty(), "queued data is not copied after a shutdown");
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(fan.is_finished());
}

#[test]
fn fanout_waiting_for_a_full_outbox_still_stops_on_shutdown() {
    let fan = Fanout::<u32>::new(&["a"]);
    let out = attach::<u32>(&fan, "outbox", Some("signal"));
    let stalled = attach_bounded::<u32>(&fan, "a", None, 1);
    let sched = scheduler_with(&[&fan]);
    put(&fan, [1u32, 2]);
    sched.run_until_idle();
    assert_eq!(stalled.len(), 1);
    assert!(!fan.is_finished(), "waiting for space in `a`");
    put_control(&fan, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(fan.is_finished());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

#[test]
fn fanout_passes_producer_finished_down_a_chain() {
    let src = source(vec![1u32, 2, 3], Signal::producer_finished());
    let fan = Fanout::<u32>::new(&["copy"]);
    let (sink, seen) = sink::<u32>();
    chain(&src, &fan);
    chain(&fan, &sink);
    let copy = attach::<u32>(&fan, "copy", None);
    let sched = run_within_limit(scheduler_with(&[&src, &fan, &sink]));
    assert_eq!(seen.data(), [1, 2, 3]);
    assert_eq!(seen.signal_names(), ["producerFinished"]);
    assert_eq!(copy.take(), [1, 2, 3]);
    assert_eq!(sched.live(), 0);
}

#[test]
fn fanout_shows_its_named_outboxes_in_a_snapshot() {
    let fan = Fanout::<String>::new(&["left", "right"]);
    let sched = scheduler_with(&[&fan]);
    let mut expected = standard_boxes::<String, String>();
    expected.push(outbox_of::<String>("left"));
    expected.push(outbox_of::<String>("right"));
    assert_eq!(snapshot_boxes(&sched, &fan), expected);
}

// ---------------------------------------------------------------------------------------
// Router

fn small_big_router() -> axon_core::Component {
    Router::new(vec![
        (Box::new(|n: &u32| *n < 10), "small"),
        (Box::new(|n: &u32| *n % 2 == 0), "even"),
        (Box::new(|n: &u32| *n == 4), "small"),
    ])
}

#[test]
fn router_sends_each_message_to_every_outbox_whose_rule_matches_once_each() {
    let router = small_big_router();
    let small = attach::<u32>(&router, "small", None);
    let even = attach::<u32>(&router, "even", None);
    let rest = attach::<u32>(&router, "outbox", None);
    let sched = scheduler_with(&[&router]);
    put(&router, [3u32, 4, 12, 15]);
    sched.run_until_idle();
    assert_eq!(small.take(), [3, 4], "4 matches two `small` rules but is sent there once");
    assert_eq!(even.take(), [4, 12]);
    assert_eq!(rest.take(), [15], "a message no rule matches goes out of `outbox`");
}

#[test]
fn router_built_rule_by_rule_routes_as_one_built_from_a_list() {
    let router = Router::builder().route("yes", |s: &String| s.starts_with('y')).build();
    let yes = attach::<String>(&router, "yes", None);
    let rest = attach::<String>(&router, "outbox", None);
    let sched = scheduler_with(&[&router]);
    put(&router, ["yak".to_string(), "no".to_string()]);
    sched.run_until_idle();
    assert_eq!(yes.take(), ["yak"]);
    assert_eq!(rest.take(), ["no"]);
}

#[test]
fn router_on_producer_finished_routes_what_it_holds_then_sends_its_own_producer_finished() {
    let router = small_big_router();
    let small = attach::<u32>(&router, "small", Some("signal"));
    let sched = scheduler_with(&[&router]);
    put(&router, [1u32, 2]);
    put_control(&router, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(small.take(), [1, 2]);
    let signals = small.signals();
    assert_eq!(signals.len(), 1);
    assert!(
        matches!(signals[0], Signal::ProducerFinished { caller: Some(id), .. } if id == router.id()),
        "{:?}",
        signals[0]
    );
    assert!(router.is_finished());
}

#[test]
fn router_on_shutdown_stops_at_once_and_passes_the_shutdown_on() {
    let router = small_big_router();
    let small = attach::<u32>(&router, "small", Some("signal"));
    let sched = scheduler_with(&[&router]);
    put(&router, [1u32, 2]);
    put_control(&router, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(small.take().is_empty());
    assert_eq!(small.signal_names(), ["shutdownMicroprocess"]);
    assert!(router.is_finished());
}

#[test]
fn router_passes_the_end_of_the_stream_down_a_chain() {
    let src = source(vec![1u32, 20, 3], Signal::producer_finished());
    let router = Router::builder().route("big", |n: &u32| *n >= 10).build();
    let (sink, seen) = sink::<u32>();
    chain(&src, &router);
    chain(&router, &sink);
    let big = attach::<u32>(&router, "big", None);
    let sched = run_within_limit(scheduler_with(&[&src, &router, &sink]));
    assert_eq!(seen.data(), [1, 3]);
    assert_eq!(seen.signal_names(), ["producerFinished"]);
    assert_eq!(big.take(), [20]);
    assert_eq!(sched.live(), 0);
}

#[test]
fn router_shows_one_outbox_per_rule_name_in_a_snapshot() {
    let router = small_big_router();
    let sched = scheduler_with(&[&router]);
    let mut expected = standard_boxes::<u32, u32>();
    expected.push(outbox_of::<u32>("small"));
    expected.push(outbox_of::<u32>("even"));
    assert_eq!(snapshot_boxes(&sched, &router), expected);
}

// ---------------------------------------------------------------------------------------
// ConditionalSplitter

#[test]
fn conditional_splitter_sends_each_message_to_true_or_false() {
    let split = ConditionalSplitter::new(|n: &i32| *n > 0);
    let yes = attach::<i32>(&split, "true", None);
    let no = attach::<i32>(&split, "false", None);
    let sched = scheduler_with(&[&split]);
    put(&split, [1i32, -1, 2, 0]);
    sched.run_until_idle();
    assert_eq!(yes.take(), [1, 2]);
    assert_eq!(no.take(), [-1, 0]);
}

#[test]
fn conditional_splitter_on_producer_finished_splits_what_it_holds_then_passes_it_on() {
    let split = ConditionalSplitter::new(|n: &i32| *n > 0);
    let yes = attach::<i32>(&split, "true", Some("signal"));
    let sched = scheduler_with(&[&split]);
    put(&split, [5i32, 6]);
    put_control(&split, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(yes.take(), [5, 6]);
    assert_eq!(yes.signal_names(), ["producerFinished"]);
    assert!(split.is_finished(), "unlike Kamaelia's, it stops");
}

#[test]
fn conditional_splitter_on_shutdown_stops_at_once_and_passes_it_on() {
    let split = ConditionalSplitter::new(|n: &i32| *n > 0);
    let yes = attach::<i32>(&split, "true", Some("signal"));
    let sched = scheduler_with(&[&split]);
    put(&split, [5i32, 6]);
    put_control(&split, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(yes.take().is_empty());
    assert_eq!(yes.signal_names(), ["shutdownMicroprocess"]);
    assert!(split.is_finished());
}

#[test]
fn conditional_splitter_passes_the_end_of_the_stream_down_a_chain() {
    let src = source(vec![1, -2, 3], Signal::producer_finished());
    let split = ConditionalSplitter::new(|n: &i32| *n > 0);
    let (sink, seen) = sink::<i32>();
    axon_core::link((&src, "outbox"), (&split, "inbox")).unwrap();
    axon_core::link((&src, "signal"), (&split, "control")).unwrap();
    axon_core::link((&split, "true"), (&sink, "inbox")).unwrap();
    axon_core::link((&split, "signal"), (&sink, "control")).unwrap();
    let no = attach::<i32>(&split, "false", None);
    let sched = run_within_limit(scheduler_with(&[&src, &split, &sink]));
    assert_eq!(seen.data(), [1, 3]);
    assert_eq!(seen.signal_names(), ["producerFinished"]);
    assert_eq!(no.take(), [-2]);
    assert_eq!(sched.live(), 0);
}

#[test]
fn conditional_splitter_shows_true_false_and_no_outbox_in_a_snapshot() {
    let split = ConditionalSplitter::new(|s: &String| s.is_empty());
    let sched = scheduler_with(&[&split]);
    assert_eq!(
        snapshot_boxes(&sched, &split),
        [
            inbox_of::<String>("inbox"),
            inbox_of::<Signal>("control"),
            outbox_of::<String>("true"),
            outbox_of::<String>("false"),
            outbox_of::<Signal>("signal"),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// TwoWaySplitter

#[test]
fn two_way_splitter_copies_every_message_to_both_outboxes() {
    let split = TwoWaySplitter::<String>::new();
    let one = attach::<String>(&split, "outbox", None);
    let two = attach::<String>(&split, "outbox2", None);
    let sched = scheduler_with(&[&split]);
    put(&split, ["a".to_string(), "b".to_string()]);
    sched.run_until_idle();
    assert_eq!(one.take(), ["a", "b"]);
    assert_eq!(two.take(), ["a", "b"]);
}

#[test]
fn two_way_splitter_goes_at_the_pace_of_its_slower_consumer() {
    let split = TwoWaySplitter::<u32>::new();
    let fast = attach::<u32>(&split, "outbox", None);
    let slow = attach_bounded::<u32>(&split, "outbox2", None, 1);
    let sched = scheduler_with(&[&split]);
    put(&split, [1u32, 2, 3]);
    sched.run_until_idle();
    assert_eq!(fast.take(), [1, 2], "the second message waits for room in outbox2");
    assert_eq!(slow.take(), [1]);
    sched.run_until_idle();
    assert_eq!(slow.take(), [2]);
    assert_eq!(fast.take(), [3]);
    sched.run_until_idle();
    assert_eq!(slow.take(), [3]);
    assert!(fast.take().is_empty());
}

#[test]
fn two_way_splitter_on_producer_finished_copies_what_it_holds_then_signals_both_ways() {
    let split = TwoWaySplitter::<u32>::new();
    let one = attach::<u32>(&split, "outbox", Some("signal"));
    let two = attach::<u32>(&split, "outbox2", Some("signal2"));
    let sched = scheduler_with(&[&split]);
    put(&split, [1u32, 2]);
    put_control(&split, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(one.take(), [1, 2]);
    assert_eq!(two.take(), [1, 2]);
    assert_eq!(one.signal_names(), ["producerFinished"]);
    assert_eq!(two.signal_names(), ["producerFinished"]);
    assert!(split.is_finished());
}

#[test]
fn two_way_splitter_on_shutdown_stops_at_once_even_while_waiting_and_signals_both_ways() {
    let split = TwoWaySplitter::<u32>::new();
    let one = attach::<u32>(&split, "outbox", Some("signal"));
    let two = attach_bounded::<u32>(&split, "outbox2", Some("signal2"), 1);
    let sched = scheduler_with(&[&split]);
    put(&split, [1u32, 2, 3]);
    sched.run_until_idle();
    assert!(!split.is_finished(), "waiting for room in outbox2");
    put_control(&split, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(split.is_finished());
    assert_eq!(one.take(), [1, 2]);
    assert_eq!(two.take(), [1]);
    assert_eq!(one.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(two.signal_names(), ["shutdownMicroprocess"]);
}

#[test]
fn two_way_splitter_passes_the_end_of_the_stream_down_both_chains() {
    let src = source(vec![1u32, 2], Signal::producer_finished());
    let split = TwoWaySplitter::<u32>::new();
    let (sink1, seen1) = sink::<u32>();
    let (sink2, seen2) = sink::<u32>();
    chain(&src, &split);
    chain(&split, &sink1);
    axon_core::link((&split, "outbox2"), (&sink2, "inbox")).unwrap();
    axon_core::link((&split, "signal2"), (&sink2, "control")).unwrap();
    let sched = run_within_limit(scheduler_with(&[&src, &split, &sink1, &sink2]));
    for seen in [&seen1, &seen2] {
        assert_eq!(seen.data(), [1, 2]);
        assert_eq!(seen.signal_names(), ["producerFinished"]);
    }
    assert_eq!(sched.live(), 0);
}

#[test]
fn two_way_splitter_shows_two_outboxes_and_two_signals_in_a_snapshot() {
    let split = TwoWaySplitter::<Vec<u8>>::new();
    let sched = scheduler_with(&[&split]);
    assert_eq!(
        snapshot_boxes(&sched, &split),
        [
            inbox_of::<Vec<u8>>("inbox"),
            inbox_of::<Signal>("control"),
            outbox_of::<Vec<u8>>("outbox"),
            outbox_of::<Vec<u8>>("outbox2"),
            outbox_of::<Signal>("signal"),
            outbox_of::<Signal>("signal2"),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Balancer

#[test]
fn balancer_round_robin_hands_jobs_to_each_way_in_turn() {
    let bal = Balancer::<u32>::new(3).build();
    let ways: Vec<Probe<u32>> = (0..3).map(|i| attach(&bal, &format!("outbox{i}"), None)).collect();
    let sched = scheduler_with(&[&bal]);
    put(&bal, 0..7u32);
    sched.run_until_idle();
    assert_eq!(ways[0].take(), [0, 3, 6]);
    assert_eq!(ways[1].take(), [1, 4]);
    assert_eq!(ways[2].take(), [2, 5]);
}

#[test]
fn balancer_round_robin_waits_for_a_full_way_rather_than_skipping_it() {
    let bal = Balancer::<u32>::new(3).build();
    let stalled = attach_bounded::<u32>(&bal, "outbox0", None, 1);
    let others: Vec<Probe<u32>> = (1..3).map(|i| attach(&bal, &format!("outbox{i}"), None)).collect();
    let sched = scheduler_with(&[&bal]);
    put(&bal, 0..6u32);
    sched.run_until_idle();
    assert_eq!(stalled.len(), 1);
    assert_eq!(others[0].take(), [1]);
    assert_eq!(others[1].take(), [2]);
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|c| c.id == bal.id()).unwrap();
    let waiting = info.waiting_for.as_ref().expect("the balancer waits to send");
    assert_eq!(waiting.component, stalled.component.id());
    assert_eq!(stalled.take(), [0]);
    sched.run_until_idle();
    assert_eq!(stalled.take(), [3]);
    assert_eq!(others[0].take(), [4]);
    assert_eq!(others[1].take(), [5]);
}

#[test]
fn balancer_least_loaded_sends_nothing_to_a_stalled_worker_while_the_others_keep_up() {
    let bal = Balancer::<u32>::new(3).strategy(BalanceStrategy::LeastLoaded).build();
    let fast1 = attach::<u32>(&bal, "outbox0", None);
    let stalled = attach::<u32>(&bal, "outbox1", None);
    let fast2 = attach::<u32>(&bal, "outbox2", None);
    // The stalled worker is busy with an earlier job it never finishes.
    stalled.component.inbox_ref::<u32>("inbox").unwrap().try_send(999).unwrap();
    let sched = scheduler_with(&[&bal]);
    let (mut got1, mut got2) = (Vec::new(), Vec::new());
    for job in 0..10u32 {
        put(&bal, [job]);
        sched.run_until_idle();
        // The fast workers finish each job at once.
        got1.extend(fast1.take());
        got2.extend(fast2.take());
    }
    assert_eq!(stalled.take(), [999], "no job went to the stalled worker");
    let mut all: Vec<u32> = got1.iter().chain(&got2).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
    assert!(!got1.is_empty() && !got2.is_empty(), "ties are shared between the fast workers: {got1:?} {got2:?}");
}

#[test]
fn balancer_least_loaded_picks_the_shortest_queue() {
    let bal = Balancer::<u32>::new(3).strategy(BalanceStrategy::LeastLoaded).build();
    let ways: Vec<Probe<u32>> = (0..3).map(|i| attach(&bal, &format!("outbox{i}"), None)).collect();
    let preload = [3, 0, 1];
    for (way, n) in ways.iter().zip(preload) {
        let r = way.component.inbox_ref::<u32>("inbox").unwrap();
        for _ in 0..n {
            r.try_send(100).unwrap();
        }
    }
    let sched = scheduler_with(&[&bal]);
    put(&bal, 0..3u32);
    sched.run_until_idle();
    // Loads 3,0,1: job 0 -> way 1 (3,1,1); job 1 -> way 2, the first tie after way 1
    // (3,1,2); job 2 -> way 1 (3,2,2).
    assert_eq!(ways[0].take(), [100, 100, 100]);
    assert_eq!(ways[1].take(), [0, 2]);
    assert_eq!(ways[2].take(), [100, 1]);
}

#[test]
fn balancer_on_producer_finished_hands_out_what_it_holds_then_signals_every_way() {
    let bal = Balancer::<u32>::new(2).build();
    let w0 = attach::<u32>(&bal, "outbox0", Some("signal0"));
    let w1 = attach::<u32>(&bal, "outbox1", Some("signal1"));
    let sig = attach::<Signal>(&bal, "signal", None);
    let sched = scheduler_with(&[&bal]);
    put(&bal, 0..4u32);
    put_control(&bal, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(w0.take(), [0, 2]);
    assert_eq!(w1.take(), [1, 3]);
    assert_eq!(w0.signal_names(), ["producerFinished"]);
    assert_eq!(w1.signal_names(), ["producerFinished"]);
    assert_eq!(sig.take().iter().map(Signal::axon_name).collect::<Vec<_>>(), ["producerFinished"]);
    assert!(bal.is_finished());
}

#[test]
fn balancer_on_shutdown_stops_at_once_and_signals_every_way() {
    let bal = Balancer::<u32>::new(2).build();
    let w0 = attach_bounded::<u32>(&bal, "outbox0", Some("signal0"), 1);
    let w1 = attach::<u32>(&bal, "outbox1", Some("signal1"));
    let sig = attach::<Signal>(&bal, "signal", None);
    let sched = scheduler_with(&[&bal]);
    put(&bal, 0..6u32);
    sched.run_until_idle();
    assert!(!bal.is_finished(), "waiting for room in way 0");
    put_control(&bal, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(bal.is_finished());
    assert_eq!(w0.take(), [0]);
    assert_eq!(w1.take(), [1]);
    assert_eq!(w0.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(w1.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(sig.take().iter().map(Signal::axon_name).collect::<Vec<_>>(), ["shutdownMicroprocess"]);
}

#[test]
fn balancer_shuts_down_each_worker_pipeline_at_the_end_of_the_stream() {
    let src = source((0..5u32).collect(), Signal::producer_finished());
    let bal = Balancer::<u32>::new(2).build();
    let (w0, seen0) = sink::<u32>();
    let (w1, seen1) = sink::<u32>();
    axon_core::link((&src, "outbox"), (&bal, "inbox")).unwrap();
    axon_core::link((&src, "signal"), (&bal, "control")).unwrap();
    for (i, w) in [&w0, &w1].into_iter().enumerate() {
        axon_core::link((&bal, &*format!("outbox{i}")), (w, "inbox")).unwrap();
        axon_core::link((&bal, &*format!("signal{i}")), (w, "control")).unwrap();
    }
    let sched = run_within_limit(scheduler_with(&[&src, &bal, &w0, &w1]));
    assert_eq!(seen0.data(), [0, 2, 4]);
    assert_eq!(seen1.data(), [1, 3]);
    assert_eq!(seen0.signal_names(), ["producerFinished"]);
    assert_eq!(seen1.signal_names(), ["producerFinished"]);
    assert_eq!(sched.live(), 0);
}

#[test]
fn balancer_shows_numbered_outboxes_and_signals_in_a_snapshot() {
    let bal = Balancer::<String>::new(2).build();
    let sched = scheduler_with(&[&bal]);
    assert_eq!(
        snapshot_boxes(&sched, &bal),
        [
            inbox_of::<String>("inbox"),
            inbox_of::<Signal>("control"),
            outbox_of::<String>("outbox0"),
            outbox_of::<String>("outbox1"),
            outbox_of::<Signal>("signal"),
            outbox_of::<Signal>("signal0"),
            outbox_of::<Signal>("signal1"),
        ]
    );
    let dirs: Vec<Direction> = snapshot_boxes(&sched, &bal).into_iter().map(|b| b.1).collect();
    assert_eq!(dirs.iter().filter(|d| **d == Direction::Outbox).count(), 5);
}

#[test]
fn balancer_refuses_zero_ways() {
    assert!(catch_unwind(|| Balancer::<u32>::new(0)).is_err());
}
