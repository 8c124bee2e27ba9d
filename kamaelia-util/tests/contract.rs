//! Every component of kamaelia-util against the shutdown contract: drain on
//! `ProducerFinished`, stop within one turn on `ShutdownMicroprocess` while blocked on a full
//! outbox, and pass other signals on ([`Contract`] where it can drive the component; the same
//! three behaviours by hand for sources, for components with no `outbox`, and for the
//! threaded ConsoleReader).

#[path = "common/split.rs"]
mod common_split;

use std::io::Cursor;
use std::time::{Duration, Instant};

use axon_core::conformance::Contract;
use axon_core::{Component, Scheduler, Signal};
use common_split::*;
use kamaelia_util::{
    BalanceStrategy, Balancer, ByteRateRequestControl, Chooser, ChooserCommand, ChunksToLines, Clock,
    ConditionalSplitter, ConsoleEchoer, ConsoleReader, DataSource, Entuple, Fanout, ForwardIteratingChooser,
    Introspector, LinesToTokenlists, MessageRateLimit, NullSink, OnDemandLimit, OneShot, PassThrough, PureTransformer,
    Router, SimpleDetupler, Sort, StatefulTransformer, TimedShutdown, TriggeredOneShot, TriggeredSource,
    TwoWaySplitter, VariableByteRateRequestControl,
};

/// Runs the contract's checks, failing with every broken promise.
fn holds<I: Send + 'static>(contract: Contract<I>) {
    if let Err(breach) = contract.check() {
        panic!("{breach}");
    }
}

/// An hour: a timer that never fires during a test.
const NEVER: Duration = Duration::from_secs(3600);

/// True while the scheduler records `c` as waiting for room in a full box.
fn waiting(sched: &Scheduler, c: &Component) -> bool {
    sched.snapshot().components.iter().any(|ci| ci.id == c.id() && ci.waiting_for.is_some())
}

/// Waits, with a deadline, for something another thread brings about.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::yield_now();
    }
}

/// Shutdown while blocked, for a component whose data leaves by `out`: with `out` linked to a
/// box of capacity 1, `feed` goes in (`feed` may be empty for a source) until it waits to
/// send; a `ShutdownMicroprocess` then stops it within one turn and is passed on.
fn stops_while_blocked<O: Send + 'static>(c: &Component, out: &str, prefill: Option<O>, feed: impl Fn(usize)) {
    let p = attach_bounded::<O>(c, out, Some("signal"), 1);
    if let Some(m) = prefill {
        p.component.inbox_ref::<O>("inbox").unwrap().try_send(m).unwrap_or_else(|_| panic!("room for the filler"));
    }
    let sched = scheduler_with(&[c]);
    let deadline = Instant::now() + LIMIT;
    let mut i = 0;
    while !waiting(&sched, c) {
        assert!(!c.is_finished() && Instant::now() < deadline, "{} never waited on its full {out}", c.name());
        feed(i);
        i += 1;
        // Stepping runs due timers too, so a timed source gets to send.
        sched.step();
    }
    put_control(c, Signal::ShutdownMicroprocess);
    sched.step();
    assert!(c.is_finished(), "{} still running one turn after the shutdown", c.name());
    assert!(!waiting(&sched, c), "{} still recorded as waiting", c.name());
    assert_eq!(p.signal_names().last(), Some(&"shutdownMicroprocess"));
}

/// The three checks for a component with no `outbox`, its data leaving by `out`.
fn holds_via<I: Send + 'static, O: Send + 'static>(
    make: impl Fn() -> Component,
    out: &str,
    sample: impl Fn(usize) -> I,
) {
    // Drain.
    let c = make();
    let p = attach::<O>(&c, out, Some("signal"));
    put(&c, (0..3).map(&sample));
    put_control(&c, Signal::producer_finished());
    scheduler_with(&[&c]).run_until_idle();
    assert!(c.is_finished(), "{} still running after ProducerFinished", c.name());
    assert_eq!(c.box_info("inbox").unwrap().len, 0, "{} left messages unconsumed", c.name());
    assert_eq!(p.signal_names().last(), Some(&"producerFinished"));
    // Shutdown while blocked.
    let c = make();
    let inbox = c.inbox_ref::<I>("inbox").unwrap();
    stops_while_blocked::<O>(&c, out, None, |i| {
        let _ = inbox.try_send(sample(i));
    });
    // Other signals.
    let c = make();
    let p = attach::<O>(&c, out, Some("signal"));
    let sched = scheduler_with(&[&c]);
    sched.run_until_idle();
    put_control(&c, Signal::Status("conformance".into()));
    sched.run_until_idle();
    assert_eq!(p.signal_names(), ["status"]);
    assert!(!c.is_finished(), "a Status ended {}", c.name());
}

// ---------------------------------------------------------------------------------------
// Transformers

#[test]
fn pure_transformer() {
    holds(Contract::new("PureTransformer", || PureTransformer::new(|n: u32| Some(n + 1))).sample(|i| i as u32));
}

#[test]
fn stateful_transformer() {
    holds(
        Contract::new("StatefulTransformer", || {
            StatefulTransformer::new(0u32, |sum: &mut u32, n: u32| {
                *sum += n;
                Some(*sum)
            })
            .on_finish(|sum| vec![sum])
            .build()
        })
        .sample(|i| i as u32),
    );
}

#[test]
fn pass_through() {
    holds(Contract::new("PassThrough", PassThrough::<u32>::new).sample(|i| i as u32));
    holds(
        Contract::new("PassThrough::shutdown_on", || PassThrough::<u32>::shutdown_on(Signal::is_terminal))
            .sample(|i| i as u32),
    );
}

// ---------------------------------------------------------------------------------------
// Sources and sinks

/// A source ends by itself, which the contract's "carries on after a Status" cannot wait
/// for: by hand.
#[test]
fn data_source() {
    // A ProducerFinished on control does not cut it short; a Status is passed on; its own
    // ProducerFinished is the last signal.
    let c = DataSource::new(0u32..3);
    let p = attach::<u32>(&c, "outbox", Some("signal"));
    put_control(&c, Signal::Status("conformance".into()));
    put_control(&c, Signal::producer_finished());
    scheduler_with(&[&c]).run_until_idle();
    assert!(c.is_finished());
    assert_eq!(p.take(), [0, 1, 2]);
    let signals = p.signals();
    assert!(
        matches!(&signals[..], [Signal::Status(_), Signal::ProducerFinished { caller: Some(id), .. }] if *id == c.id()),
        "{signals:?}"
    );
    stops_while_blocked(&DataSource::new(0u32..), "outbox", Some(0u32), |_| {});
}

#[test]
fn triggered_source() {
    holds(Contract::new("TriggeredSource", || TriggeredSource::<u32>::new('!')).sample(|i| i as u32));
}

/// By hand, as [`data_source`].
#[test]
fn one_shot() {
    let c = OneShot::new(7u8);
    let p = attach::<u8>(&c, "outbox", Some("signal"));
    put_control(&c, Signal::Status("conformance".into()));
    put_control(&c, Signal::producer_finished());
    scheduler_with(&[&c]).run_until_idle();
    assert!(c.is_finished());
    assert_eq!(p.take(), [7]);
    let signals = p.signals();
    assert!(
        matches!(&signals[..], [Signal::Status(_), Signal::ProducerFinished { caller: Some(id), .. }] if *id == c.id()),
        "{signals:?}"
    );
    stops_while_blocked(&OneShot::new(7u8), "outbox", Some(0u8), |_| {});
}

#[test]
fn triggered_one_shot() {
    // It sends once, whatever the input: it never blocks per message.
    holds(Contract::new("TriggeredOneShot", || TriggeredOneShot::<u32>::new("go")).sample(|i| i as u32).never_blocks());
    // Blocked with its one message.
    let c = TriggeredOneShot::<u32>::new("go");
    let inbox = c.inbox_ref::<u32>("inbox").unwrap();
    stops_while_blocked(&c, "outbox", Some("filler"), |i| {
        let _ = inbox.try_send(i as u32);
    });
}

#[test]
fn clock() {
    holds(Contract::<()>::new("Clock", || Clock::new(NEVER)));
    stops_while_blocked(&Clock::new(Duration::from_millis(1)), "outbox", Some(0u64), |_| {});
}

#[test]
fn null_sink() {
    holds(Contract::new("NullSink", NullSink::<u32>::new).sample(|i| i as u32).never_blocks());
}

// ---------------------------------------------------------------------------------------
// Timing

#[test]
fn timed_shutdown() {
    // It sends no data, so nothing to block on.
    holds(Contract::<()>::new("TimedShutdown", || TimedShutdown::new(NEVER)));
}

#[test]
fn message_rate_limit() {
    // A trillion a second: no measurable wait between messages, so step mode drives it.
    holds(Contract::new("MessageRateLimit", || MessageRateLimit::<u32>::new(1e12, 0).unwrap()).sample(|i| i as u32));
}

#[test]
fn byte_rate_request_control() {
    // One request at once, the next a second later: idle between.
    holds(Contract::<()>::new("ByteRateRequestControl", || {
        ByteRateRequestControl::new(1.0, Some(1), None, false).unwrap()
    }));
    let fast = ByteRateRequestControl::new(1e12, Some(1), None, false).unwrap();
    stops_while_blocked(&fast, "outbox", Some(0usize), |_| {});
}

#[test]
fn variable_byte_rate_request_control() {
    // Starts slow; each rate fed in is fast enough to fill the outbox.
    holds(
        Contract::new("VariableByteRateRequestControl", || {
            VariableByteRateRequestControl::new(1.0, Some(1), None, false).unwrap()
        })
        .sample(|_| 1e12),
    );
}

#[test]
fn on_demand_limit() {
    // With demand outstanding (more requests than the contract sends messages), it behaves
    // as any transformer; without, its drain waits for demand (tests/timing.rs).
    holds(
        Contract::new("OnDemandLimit", || {
            let c = OnDemandLimit::<u32>::new();
            put_into(&c, "slidecontrol", (0..2000).map(|_| "NEXT".to_string()));
            c
        })
        .sample(|i| i as u32),
    );
}

/// Delivers `items` into `c`'s inbox `name`.
fn put_into<T: Send + 'static>(c: &Component, name: &str, items: impl IntoIterator<Item = T>) {
    let inbox = c.inbox_ref::<T>(name).unwrap();
    for item in items {
        inbox.try_send(item).unwrap_or_else(|_| panic!("room in {name}"));
    }
}

// ---------------------------------------------------------------------------------------
// Console

#[test]
fn console_echoer() {
    holds(
        Contract::new("ConsoleEchoer", || ConsoleEchoer::<u32>::new().forwarder(true).writer(std::io::sink()).build())
            .sample(|i| i as u32),
    );
    holds(
        Contract::new("ConsoleEchoer", || ConsoleEchoer::<u32>::new().writer(std::io::sink()).build())
            .sample(|i| i as u32)
            .never_blocks(),
    );
}

/// Threaded, so by hand. Drain and other signals are in tests/console.rs
/// (`console_reader_forwards_signals_and_stops_on_producer_finished`); here, a shutdown
/// while it waits for room for a line.
#[test]
fn console_reader() {
    let reader = ConsoleReader::new().reader(Cursor::new("a\nb\nc\n")).no_prompt().build();
    let p = attach_bounded::<String>(&reader, "outbox", Some("signal"), 1);
    let sched = scheduler_with(&[&reader]);
    wait_until("it waits to send its second line", || waiting(&sched, &reader));
    put_control(&reader, Signal::ShutdownMicroprocess);
    wait_until("it stops", || reader.is_finished());
    assert!(!waiting(&sched, &reader));
    assert_eq!(p.take(), ["a\n"]);
    assert_eq!(p.signal_names(), ["shutdownMicroprocess"]);
}

// ---------------------------------------------------------------------------------------
// Choosers

#[test]
fn chooser() {
    let items = || vec!["a".to_string(), "b".to_string()];
    holds(Contract::new("Chooser", move || Chooser::new(items()).build()).sample(|_| ChooserCommand::Same));
    holds(Contract::new("Chooser", move || Chooser::new(items()).build_text()).sample(|_| "SAME".to_string()));
}

#[test]
fn forward_iterating_chooser() {
    holds(
        Contract::new("ForwardIteratingChooser", || ForwardIteratingChooser::new(0u64..))
            .sample(|_| ChooserCommand::Next),
    );
}

// ---------------------------------------------------------------------------------------
// Splitters

#[test]
fn fanout() {
    holds(Contract::new("Fanout", || Fanout::<u32>::new(&["copy"])).sample(|i| i as u32));
}

#[test]
fn router() {
    holds(
        Contract::new("Router", || Router::<u32>::builder().route("odd", |n| n % 2 == 1).build()).sample(|i| i as u32),
    );
}

#[test]
fn conditional_splitter() {
    holds_via::<u32, u32>(|| ConditionalSplitter::<u32>::new(|_| true), "true", |i| i as u32);
}

#[test]
fn two_way_splitter() {
    holds(Contract::new("TwoWaySplitter", TwoWaySplitter::<u32>::new).sample(|i| i as u32));
}

#[test]
fn balancer() {
    holds_via::<u32, u32>(|| Balancer::<u32>::new(2).build(), "outbox0", |i| i as u32);
    holds_via::<u32, u32>(
        || Balancer::<u32>::new(2).strategy(BalanceStrategy::LeastLoaded).build(),
        "outbox0",
        |i| i as u32,
    );
}

// ---------------------------------------------------------------------------------------
// Sort, tuples, framing, introspection

#[test]
fn sort() {
    // It sends only at the end of the stream.
    holds(Contract::new("Sort", Sort::<u32>::new).sample(|i| (i % 3) as u32).never_blocks());
}

#[test]
fn simple_detupler() {
    holds(Contract::new("SimpleDetupler", SimpleDetupler::first::<u32, char>).sample(|i| (i as u32, 'x')));
}

#[test]
fn entuple() {
    holds(Contract::new("Entuple", || Entuple::new(vec![0u32], vec![9])).sample(|i| i as u32));
}

#[test]
fn chunks_to_lines() {
    holds(
        Contract::new("ChunksToLines", || ChunksToLines::new().build()).sample(|i| format!("line {i}\n").into_bytes()),
    );
}

#[test]
fn lines_to_tokenlists() {
    holds(Contract::new("LinesToTokenlists", LinesToTokenlists::new).sample(|i| format!("token {i}")));
}

#[test]
fn introspector() {
    // Anything on its inbox is a nudge to look again: consumed, as the contract expects.
    holds(Contract::new("Introspector", || Introspector::new().interval(NEVER).build()).sample(|_| ()));
}
