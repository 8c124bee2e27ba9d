//! Sources and sinks: DataSource, TriggeredSource, OneShot, TriggeredOneShot, Clock, NullSink.
// Kamaelia's constructors are `DataSource(msgs)`, `OneShot(msg)`: `Type::new` keeps the names
// a reader of the original expects, and the product is a `Component`, not `Self`.
#![allow(clippy::new_ret_no_self)]

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, Inbox, Outbox, Received, Signal, pause, yield_now};

use crate::timing::sleep_until_or_woken;
use crate::transform::transformer;

/// What a source does with the signals waiting on its `control`.
enum Control {
    /// Carry on.
    Continue,
    /// A shutdown arrived and was passed on: stop now.
    Stop,
}

/// Passes every waiting signal on out of `signal`; reports a shutdown (`ShutdownMicroprocess`
/// or `Shutdown`). A `ProducerFinished` is passed on only if `forward_finished` (a producer
/// that sends its own at the end keeps it to itself, so only one reaches the next component).
async fn watch_control(control: &Inbox<Signal>, signal: &Outbox<Signal>, forward_finished: bool) -> Control {
    while let Some(s) = control.try_recv() {
        if s.is_shutdown() {
            signal.send(s).await;
            return Control::Stop;
        }
        if forward_finished || !s.is_producer_finished() {
            signal.send(s).await;
        }
    }
    Control::Continue
}

/// Kamaelia's `DataSource`: sends each item of a collection (or any iterator, even an
/// endless one), one per scheduler turn, then `ProducerFinished`.
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the items, in order.
/// - `signal: Signal`: `ProducerFinished` naming this component once every item is sent;
///   signals passed on.
///
/// Shutdown: `control` is checked before each item. On `ShutdownMicroprocess` (or
/// `Shutdown`) it passes the signal on and stops without sending the rest or its own
/// `ProducerFinished`. A `ProducerFinished` on `control` does not stop it (it has no
/// upstream to finish): it still sends its items, and its own `ProducerFinished` stands
/// for both. Other signals are passed on.
///
/// Differs from Kamaelia: the original never looks at `control`, and sends one item per
/// scheduler turn; this one sends up to [`TURN_BUDGET`] per turn (still yielding between
/// batches), which lets a pipeline work in batches.
#[derive(Debug)]
pub struct DataSource;

/// Items a [`DataSource`] sends before letting other components run.
pub const TURN_BUDGET: usize = 64;

impl DataSource {
    /// A source of `items`.
    pub fn new<T, It>(items: It) -> Component
    where
        T: Send + 'static,
        It: IntoIterator<Item = T>,
        It::IntoIter: Send + 'static,
    {
        let items = items.into_iter();
        let mut b = ComponentBuilder::new("DataSource");
        let std = b.standard::<(), T>();
        b.run(move |ctx| async move {
            for (n, item) in items.enumerate() {
                if let Control::Stop = watch_control(&std.control, &std.signal, false).await {
                    return;
                }
                std.outbox.send(item).await;
                // A long (or endless) source shares the scheduler with the components
                // consuming it, as the original (one item per turn) does; but a turn carries
                // up to TURN_BUDGET items, so downstream stages work in batches rather than
                // being woken and polled once per message.
                if (n + 1) % TURN_BUDGET == 0 {
                    yield_now().await;
                }
            }
            if let Control::Stop = watch_control(&std.control, &std.signal, false).await {
                return;
            }
            std.signal.send(Signal::producer_finished_by(ctx.id())).await;
        })
    }
}

/// Kamaelia's `TriggeredSource`: sends a clone of `msg` for every message that arrives on
/// `inbox`, whatever it is (Kamaelia builds it as `PureTransformer(lambda _: msg)`).
///
/// `I` is the trigger's message type: `TriggeredSource::<String>::new(42)` emits `42` for
/// each `String` it receives.
///
/// Boxes:
/// - `inbox: I`: triggers.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: a clone of `msg` per trigger.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: as [`PureTransformer`](crate::PureTransformer): on `ProducerFinished` it
/// answers the triggers already queued, passes the signal on and stops; on
/// `ShutdownMicroprocess` (or `Shutdown`) it passes it on and stops at once.
///
/// Differs from Kamaelia: stops on `shutdownMicroprocess` and forwards the
/// `ProducerFinished` it received (see [`PureTransformer`](crate::PureTransformer)).
#[derive(Debug)]
pub struct TriggeredSource<I>(PhantomData<fn(I)>);

impl<I: Send + 'static> TriggeredSource<I> {
    /// A source that answers each trigger with a clone of `msg`.
    pub fn new<T: Clone + Send + 'static>(msg: T) -> Component {
        transformer("TriggeredSource", move |_trigger: I| Some(msg.clone()))
    }
}

/// Kamaelia's `OneShot`: sends one message, then `ProducerFinished`, and ends.
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the message.
/// - `signal: Signal`: `ProducerFinished` naming this component; signals passed on.
///
/// Shutdown: a `ShutdownMicroprocess` (or `Shutdown`) already waiting when it starts is
/// passed on and nothing is sent; otherwise it sends `msg`, lets the scheduler run others
/// once (as the original's `yield`), passes on any signals that arrived, then sends its own
/// `ProducerFinished` and ends.
#[derive(Debug)]
pub struct OneShot;

impl OneShot {
    /// A component that sends `msg` once.
    pub fn new<T: Send + 'static>(msg: T) -> Component {
        let mut b = ComponentBuilder::new("OneShot");
        let std = b.standard::<(), T>();
        b.run(move |ctx| async move {
            if let Control::Stop = watch_control(&std.control, &std.signal, false).await {
                return;
            }
            std.outbox.send(msg).await;
            yield_now().await;
            if let Control::Stop = watch_control(&std.control, &std.signal, false).await {
                return;
            }
            std.signal.send(Signal::producer_finished_by(ctx.id())).await;
        })
    }
}

/// Kamaelia's `TriggeredOneShot`: waits for anything on `inbox`, then behaves as
/// [`OneShot`]: sends `msg`, then `ProducerFinished`, and ends.
///
/// `I` is the trigger's message type, as for [`TriggeredSource`].
///
/// Boxes:
/// - `inbox: I`: the trigger (the first message; it is consumed, later ones are left).
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the message.
/// - `signal: Signal`: `ProducerFinished` naming this component; signals passed on.
///
/// Shutdown: while waiting, every signal on `control` is passed on out of `signal`. A
/// `ShutdownMicroprocess` (or `Shutdown`) then stops it without sending. A
/// `ProducerFinished` stops it too (no trigger will come), but if a trigger had already
/// arrived it first sends `msg`; the `ProducerFinished` passed on is the one it received,
/// in place of its own.
#[derive(Debug)]
pub struct TriggeredOneShot<I>(PhantomData<fn(I)>);

impl<I: Send + 'static> TriggeredOneShot<I> {
    /// A component that sends `msg` once, when triggered.
    pub fn new<T: Send + 'static>(msg: T) -> Component {
        let mut b = ComponentBuilder::new("TriggeredOneShot");
        let std = b.standard::<I, T>();
        b.run(move |ctx| async move {
            if let Some(end) = wait_for_trigger(&std.inbox, &std.control, &std.signal).await {
                // A trigger that arrived before ProducerFinished still counts.
                if end.is_producer_finished() && std.inbox.try_recv().is_some() {
                    std.outbox.send(msg).await;
                }
                std.signal.send(end).await;
                return;
            }
            std.outbox.send(msg).await;
            yield_now().await;
            if let Control::Stop = watch_control(&std.control, &std.signal, false).await {
                return;
            }
            std.signal.send(Signal::producer_finished_by(ctx.id())).await;
        })
    }
}

/// Waits for a trigger, passing non-terminal signals on. `None`: triggered (the trigger is
/// consumed). `Some(signal)`: a terminal signal arrived first (not yet passed on).
async fn wait_for_trigger<I: Send + 'static>(
    inbox: &Inbox<I>,
    control: &Inbox<Signal>,
    signal: &Outbox<Signal>,
) -> Option<Signal> {
    loop {
        match inbox.recv_with_control(control).await {
            Received::Data(_trigger) => return None,
            Received::Control(s) if s.is_terminal() => return Some(s),
            Received::Control(s) => signal.send(s).await,
        }
    }
}

/// A clock: sends a tick every `interval`, forever, on the scheduler's timers (no thread,
/// no busy waiting). Kamaelia's `CheapAndCheerfulClock`.
///
/// Ticks are numbered from 1 (`u64`). The first comes one interval after the clock starts
/// running. Ticks are scheduled on a fixed grid (start + n·interval), so they do not drift;
/// if the clock falls behind (a slow consumer holding up a send), the missed ticks are not
/// sent in a burst: the grid restarts from the late tick.
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: u64`: the ticks.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: on any terminal signal (`ProducerFinished`, `ShutdownMicroprocess`,
/// `Shutdown`) it passes it on and stops; it holds nothing to drain. Other signals are
/// passed on.
///
/// Differs from Kamaelia: the original is a threaded component sending `True`, with no
/// shutdown at all.
#[derive(Debug)]
pub struct Clock;

impl Clock {
    /// A clock ticking every `interval`.
    pub fn new(interval: Duration) -> Component {
        let mut b = ComponentBuilder::new("Clock");
        let std = b.standard::<(), u64>();
        b.run(move |_ctx| async move {
            // `None`: an interval too long to represent, so no tick ever comes.
            let mut next = Instant::now().checked_add(interval);
            let mut tick = 0u64;
            loop {
                while let Some(s) = std.control.try_recv() {
                    let stop = s.is_terminal();
                    std.signal.send(s).await;
                    if stop {
                        return;
                    }
                }
                let Some(due) = next else {
                    pause().await;
                    continue;
                };
                if Instant::now() < due {
                    sleep_until_or_woken(due).await;
                    continue;
                }
                tick += 1;
                std.outbox.send(tick).await;
                let now = Instant::now();
                next =
                    due.checked_add(interval).and_then(|n| if n < now { now.checked_add(interval) } else { Some(n) });
                // However short the interval, others get a turn between ticks.
                yield_now().await;
            }
        })
    }
}

/// Kamaelia's null sink: takes every message and discards it.
///
/// Boxes:
/// - `inbox: T`: discarded.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: ()`: unused.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: on `ProducerFinished` it discards what is queued, passes the signal on and
/// stops; on `ShutdownMicroprocess` (or `Shutdown`) it passes it on and stops. Other
/// signals are passed on.
///
/// Differs from Kamaelia: the original stops silently and never pauses (it busy-polls);
/// this one pauses until something arrives, and passes signals on so a sink can sit in the
/// middle of a shutdown chain.
#[derive(Debug)]
pub struct NullSink<T>(PhantomData<fn(T)>);

impl<T: Send + 'static> NullSink<T> {
    /// A sink discarding `T`s.
    pub fn new() -> Component {
        let mut b = ComponentBuilder::new("NullSink");
        let std = b.standard::<T, ()>();
        b.run(move |_ctx| async move {
            loop {
                match std.inbox.recv_with_control(&std.control).await {
                    Received::Data(_discarded) => {}
                    Received::Control(s) => {
                        let stop = s.is_terminal();
                        if s.is_producer_finished() {
                            std.inbox.drain().for_each(drop);
                        }
                        std.signal.send(s).await;
                        if stop {
                            return;
                        }
                    }
                }
            }
        })
    }
}
