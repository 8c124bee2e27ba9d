//! TimedShutdown, MessageRateLimit, the byte-rate request controls and OnDemandLimit: timing lower bounds, exact totals, both shutdown signals, forwarding down a chain, snapshots.

mod common;

use std::time::{Duration, Instant};

use axon_core::{ComponentId, Direction, Scheduler, Signal, link};
use kamaelia_util::{
    ByteRateRequestControl, DataSource, MessageRateLimit, OnDemandLimit, PassThrough, RateConfigError, TimedShutdown,
    VariableByteRateRequestControl,
};

use common::{
    LIMIT, assert_boxes, attach, put, put_control, put_into, queued, run_all, standard_boxes, step_all, ty,
    wait_finished,
};

/// TimedShutdown sends ShutdownMicroprocess once its time to live has passed, and ends.
#[test]
fn timed_shutdown_sends_shutdown_microprocess_after_its_ttl() {
    let ttl = Duration::from_millis(50);
    let timer = TimedShutdown::new(ttl);
    let bg = Scheduler::new().background();
    let start = Instant::now();
    let h = bg.handle::<(), ()>(&timer).unwrap();
    let got = h.get_signal_timeout(LIMIT);
    let elapsed = start.elapsed();
    assert!(matches!(got, Some(Signal::ShutdownMicroprocess)), "{got:?}");
    assert!(elapsed >= ttl, "fired after {elapsed:?}");
    assert!(wait_finished(&timer));
    drop(h);
    bg.join();
}

/// A terminal signal arriving before the time is up is forwarded in place of
/// TimedShutdown's own, and it ends; other signals are passed on.
#[test]
fn timed_shutdown_forwards_an_earlier_terminal_signal_instead_of_its_own() {
    let timer = TimedShutdown::new(Duration::from_secs(3600));
    let out = attach::<()>(&timer);
    put_control(&timer, Signal::Status("early".into()));
    let sched = step_all(&[&timer, &out.component]);
    assert!(!timer.is_finished());
    assert_eq!(out.signal_names(), ["status"]);

    put_control(&timer, Signal::ProducerFinished { caller: Some(ComponentId(5)), message: None });
    sched.run_until_idle();
    assert!(timer.is_finished());
    let signals = out.signals();
    assert!(matches!(signals[1], Signal::ProducerFinished { caller: Some(ComponentId(5)), .. }), "{signals:?}");
    assert_eq!(signals.len(), 2);
}

/// TimedShutdown's ShutdownMicroprocess travels down a chain (through a PassThrough) and
/// ends it.
#[test]
fn timed_shutdown_stops_a_chain_it_is_wired_to() {
    let timer = TimedShutdown::new(Duration::from_millis(10));
    let pass = PassThrough::<()>::new();
    link((&timer, "signal"), (&pass, "control")).unwrap();
    let out = attach::<()>(&pass);
    run_all(&[&timer, &pass, &out.component]);
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(pass.is_finished());
}

/// MessageRateLimit sends nothing until `buffer` messages are queued; then it sends the
/// first at once (the rest wait for the interval).
#[test]
fn message_rate_limit_waits_for_its_buffer_to_fill() {
    let limit = MessageRateLimit::<u32>::new(1.0, 3).unwrap();
    let out = attach::<u32>(&limit);
    put(&limit, [1u32, 2]);
    let sched = step_all(&[&limit, &out.component]);
    assert_eq!(out.data(), Vec::<u32>::new());

    put(&limit, [3u32]);
    sched.run_until_idle();
    assert_eq!(out.data(), [1]);
}

/// MessageRateLimit never sends faster than its rate: 11 messages at 50 a second take at
/// least 10 intervals (200 ms), arrive complete and in order, and the ProducerFinished
/// follows them.
#[test]
fn message_rate_limit_holds_messages_to_its_rate() {
    let limit = MessageRateLimit::<u32>::new(50.0, 0).unwrap();
    let out = attach::<u32>(&limit);
    put(&limit, 0..11u32);
    put_control(&limit, Signal::producer_finished());
    let start = Instant::now();
    run_all(&[&limit, &out.component]);
    let elapsed = start.elapsed();
    assert_eq!(out.data(), (0..11).collect::<Vec<_>>());
    assert!(elapsed >= Duration::from_millis(200), "11 messages in {elapsed:?}");
    assert_eq!(out.signal_names(), ["producerFinished"]);
}

/// A ProducerFinished before the buffer fills starts MessageRateLimit sending: what it
/// holds is sent, then the signal is forwarded (Kamaelia's dropped it all).
#[test]
fn message_rate_limit_sends_what_it_holds_when_the_producer_finishes_early() {
    let source = DataSource::new(["x", "y", "z"]);
    let limit = MessageRateLimit::<&str>::new(1000.0, 60).unwrap();
    link((&source, "outbox"), (&limit, "inbox")).unwrap();
    link((&source, "signal"), (&limit, "control")).unwrap();
    let out = attach::<&str>(&limit);
    run_all(&[&source, &limit, &out.component]);
    assert_eq!(out.data(), ["x", "y", "z"]);
    let signals = out.signals();
    assert!(
        matches!(signals[..], [Signal::ProducerFinished { caller: Some(c), .. }] if c == source.id()),
        "{signals:?}"
    );
}

/// On ShutdownMicroprocess, MessageRateLimit stops at once, mid-stream, without waiting for
/// its next interval, and forwards the signal.
#[test]
fn message_rate_limit_stops_at_once_on_shutdown_microprocess() {
    let limit = MessageRateLimit::<u32>::new(0.001, 0).unwrap();
    let out = attach::<u32>(&limit);
    put(&limit, [1u32, 2, 3]);
    let sched = step_all(&[&limit, &out.component]);
    assert_eq!(out.data(), [1]);

    put_control(&limit, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(limit.is_finished());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(queued(&limit, "inbox"), 2);
}

/// Rates that are not finite numbers above zero, and contradictory chunk settings, are
/// refused when the component is built.
#[test]
fn rate_components_refuse_bad_settings() {
    assert_eq!(
        MessageRateLimit::<u8>::new(0.0, 1).unwrap_err(),
        RateConfigError::NotPositive { what: "messages_per_second", value: 0.0 }
    );
    assert!(matches!(
        ByteRateRequestControl::new(f64::NAN, None, None, false),
        Err(RateConfigError::NotPositive { what: "rate", .. })
    ));
    assert_eq!(
        ByteRateRequestControl::new(100.0, Some(10), Some(10.0), false).unwrap_err(),
        RateConfigError::ChunkSizeAndChunkRate
    );
    assert_eq!(
        VariableByteRateRequestControl::new(5.0, None, None, false).unwrap_err(),
        RateConfigError::ChunkTooSmall(0.5)
    );
    let e = ByteRateRequestControl::new(10.0, None, Some(-1.0), false).unwrap_err();
    assert!(e.to_string().contains("chunkrate"), "{e}");
}

/// ByteRateRequestControl rounds a fractional chunk size per request with the error carried
/// over: at 1000 units a second in 30 chunks a second it asks for 33, 33, 34, ... (exactly
/// 100 per 3 requests), the first at once and the rest no faster than every 1/30 s.
#[test]
fn byte_rate_request_control_requests_exact_totals_at_its_rate() {
    let ctrl = ByteRateRequestControl::new(1000.0, None, Some(30.0), false).unwrap();
    let bg = Scheduler::new().background();
    let start = Instant::now();
    let h = bg.handle::<(), usize>(&ctrl).unwrap();
    let requests: Vec<usize> = (0..9).map(|_| h.get_timeout(LIMIT).expect("a request")).collect();
    let elapsed = start.elapsed();
    assert_eq!(requests, [33, 33, 34, 33, 33, 34, 33, 33, 34]);
    assert!(elapsed >= Duration::from_secs_f64(8.0 / 30.0), "9 requests in {elapsed:?}");

    h.put_control(Signal::ShutdownMicroprocess);
    assert!(matches!(h.get_signal_timeout(LIMIT), Some(Signal::ShutdownMicroprocess)));
    assert!(wait_finished(&ctrl));
    drop(h);
    bg.join();
}

/// After falling behind, ByteRateRequestControl catches up with one request per missed chunk,
/// or, with chunk aggregation allowed, one request for them all; either way the total is
/// exactly one chunk per step due.
#[test]
fn byte_rate_request_control_catches_up_per_chunk_or_aggregated() {
    let per_chunk = ByteRateRequestControl::new(1000.0, Some(10), None, false).unwrap();
    let aggregated = ByteRateRequestControl::new(1000.0, Some(10), None, true).unwrap();
    let out_p = attach::<usize>(&per_chunk);
    let out_a = attach::<usize>(&aggregated);
    let sched = step_all(&[&per_chunk, &aggregated, &out_p.component, &out_a.component]);
    assert_eq!(out_p.data(), [10]);
    assert_eq!(out_a.data(), [10]);

    // Step mode: nothing runs while time passes, so both fall at least 5 steps behind.
    let behind = Instant::now();
    while behind.elapsed() < Duration::from_millis(55) {
        std::thread::yield_now();
    }
    per_chunk.wake();
    aggregated.wake();
    sched.run_until_idle();

    let p = out_p.data();
    assert!(p.len() >= 6 && p.iter().all(|&n| n == 10), "{p:?}");
    let a = out_a.data();
    assert_eq!(a.len(), 2, "{a:?}");
    assert!(a[1] >= 50 && a[1] % 10 == 0, "{a:?}");
}

/// ByteRateRequestControl stops on ProducerFinished (it holds nothing), forwarding it, and
/// passes other signals on.
#[test]
fn byte_rate_request_control_forwards_signals_and_stops_on_producer_finished() {
    let ctrl = ByteRateRequestControl::new(1.0, Some(1), None, false).unwrap();
    let out = attach::<usize>(&ctrl);
    put_control(&ctrl, Signal::Status("s".into()));
    put_control(&ctrl, Signal::producer_finished());
    step_all(&[&ctrl, &out.component]);
    assert!(ctrl.is_finished());
    assert_eq!(out.signal_names(), ["status", "producerFinished"]);
}

/// VariableByteRateRequestControl adopts a new rate from its inbox at once: at a rate
/// whose next request is 1000 s away, a new rate of 1000 a second brings the requests
/// within milliseconds.
#[test]
fn variable_byte_rate_request_control_adopts_a_new_rate_at_once() {
    let ctrl = VariableByteRateRequestControl::new(0.001, Some(1), None, false).unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<f64, usize>(&ctrl).unwrap();
    assert_eq!(h.get_timeout(LIMIT), Some(1), "the first request comes at once");

    h.put(1000.0);
    let next: Vec<Option<usize>> = (0..5).map(|_| h.get_timeout(LIMIT)).collect();
    assert_eq!(next, [Some(1); 5]);

    h.put(-3.0);
    let report = h.get_signal_timeout(LIMIT);
    assert!(matches!(&report, Some(Signal::ErrorInformation { message, .. }) if message.contains("-3")), "{report:?}");

    h.put_control(Signal::ShutdownMicroprocess);
    let mut last = h.get_signal_timeout(LIMIT);
    while let Some(Signal::ErrorInformation { .. }) = last {
        last = h.get_signal_timeout(LIMIT);
    }
    assert!(matches!(last, Some(Signal::ShutdownMicroprocess)), "{last:?}");
    assert!(wait_finished(&ctrl));
    drop(h);
    bg.join();
}

/// OnDemandLimit holds messages and sends one per "NEXT" on slidecontrol, in order; a
/// "NEXT" with nothing held is kept for the next message; other strings are ignored.
#[test]
fn on_demand_limit_sends_one_message_per_next_request() {
    let limit = OnDemandLimit::<char>::new();
    let out = attach::<char>(&limit);
    put(&limit, ['a', 'b', 'c']);
    let sched = step_all(&[&limit, &out.component]);
    assert_eq!(out.data(), Vec::<char>::new());

    put_into(&limit, "slidecontrol", ["NEXT".to_string()]);
    sched.run_until_idle();
    assert_eq!(out.data(), ['a']);

    put_into(&limit, "slidecontrol", ["PREV", "NEXT", "NEXT", "NEXT"].map(String::from));
    sched.run_until_idle();
    assert_eq!(out.data(), ['a', 'b', 'c']);

    put(&limit, ['d', 'e']);
    sched.run_until_idle();
    assert_eq!(out.data(), ['a', 'b', 'c', 'd'], "the spare NEXT is used by the next message");
    assert!(!limit.is_finished());
}

/// On ProducerFinished, OnDemandLimit still sends what it holds on demand, and forwards the
/// signal once it holds nothing.
#[test]
fn on_demand_limit_serves_what_it_holds_after_producer_finished_then_forwards_it() {
    let limit = OnDemandLimit::<u8>::new();
    let out = attach::<u8>(&limit);
    put(&limit, [1u8, 2]);
    put_control(&limit, Signal::producer_finished());
    let sched = step_all(&[&limit, &out.component]);
    assert!(!limit.is_finished());
    assert_eq!(out.signal_names(), Vec::<&str>::new());

    put_into(&limit, "slidecontrol", ["NEXT".to_string()]);
    sched.run_until_idle();
    assert_eq!(out.data(), [1]);
    assert!(!limit.is_finished());

    put_into(&limit, "slidecontrol", ["NEXT".to_string()]);
    sched.run_until_idle();
    assert_eq!(out.data(), [1, 2]);
    assert!(limit.is_finished());
    assert_eq!(out.signal_names(), ["producerFinished"]);
}

/// On ShutdownMicroprocess, OnDemandLimit forwards it and stops at once, leaving what it
/// holds.
#[test]
fn on_demand_limit_stops_at_once_on_shutdown_microprocess() {
    let limit = OnDemandLimit::<u8>::new();
    let out = attach::<u8>(&limit);
    put(&limit, [1u8, 2]);
    put_into(&limit, "slidecontrol", ["NEXT".to_string()]);
    put_control(&limit, Signal::ShutdownMicroprocess);
    step_all(&[&limit, &out.component]);
    assert!(limit.is_finished());
    assert_eq!(out.data(), Vec::<u8>::new());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// Each time-based component shows its boxes with their message types (OnDemandLimit with
/// its extra `slidecontrol` inbox).
#[test]
fn timing_components_show_their_boxes_and_types_in_a_snapshot() {
    let timer = TimedShutdown::new(Duration::from_secs(3600));
    let rate = MessageRateLimit::<String>::new(10.0, 5).unwrap();
    let bytes = ByteRateRequestControl::new(1.0, Some(1), None, false).unwrap();
    let variable = VariableByteRateRequestControl::new(1.0, Some(1), None, false).unwrap();
    let on_demand = OnDemandLimit::<u32>::new();
    let sched = step_all(&[&timer, &rate, &bytes, &variable, &on_demand]);
    assert_boxes(&sched, &timer, &standard_boxes::<(), ()>());
    assert_boxes(&sched, &rate, &standard_boxes::<String, String>());
    assert_boxes(&sched, &bytes, &standard_boxes::<(), usize>());
    assert_boxes(&sched, &variable, &standard_boxes::<f64, usize>());
    let mut expected = standard_boxes::<u32, u32>();
    expected.push(("slidecontrol", Direction::Inbox, ty::<String>()));
    assert_boxes(&sched, &on_demand, &expected);
}
