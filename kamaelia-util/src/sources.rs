//! Sources and sinks: DataSource, TriggeredSource, OneShot, TriggeredOneShot, Clock, NullSink.
// Kamaelia's constructors are `DataSource(msgs)`, `OneShot(msg)`: `Type::new` keeps the names
// a reader of the original expects, and the product is a `Component`, not `Self`.
#![allow(clippy::new_ret_no_self)]

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Signal, pause, yield_now};

use crate::timing::sleep_until_or_woken;
use crate::transform::transformer;

/// Ends a producer that has sent everything: passes on a shutdown that arrived meanwhile,
/// or else `end` (a `ProducerFinished` received meanwhile is stood for by `end`).
async fn finish_producing(mut watch: ControlWatch, end: Signal) {
    let end = watch.check().unwrap_or_else(|| {
        let _received = watch.take_finished();
        end
    });
    watch.finish(end).await;
}

/// Kamaelia's `DataSource`: sends each item of a collection (or any iterator, even an
/// endless one), then `ProducerFinished`.
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the items, in order.
/// - `signal: Signal`: `ProducerFinished` naming this component once every item is sent;
///   signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), checked
/// before each item: a shutdown stops it without sending the rest or its own
/// `ProducerFinished`, also while a send waits for room. A `ProducerFinished` on `control`
/// does not stop it (it has no upstream to finish): it still sends its items, and its own
/// `ProducerFinished` stands for both.
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
        let io = b.standard::<(), T>();
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            for (n, item) in items.enumerate() {
                if let Some(stop) = watch.check() {
                    return watch.finish(stop).await;
                }
                if let Err(stop) = watch.send(&io.outbox, item).await {
                    return watch.finish(stop.signal).await;
                }
                // A long (or endless) source shares the scheduler with the components
                // consuming it, as the original (one item per turn) does; but a turn carries
                // up to TURN_BUDGET items, so downstream stages work in batches rather than
                // being woken and polled once per message.
                if (n + 1) % TURN_BUDGET == 0 {
                    yield_now().await;
                }
            }
            finish_producing(watch, Signal::producer_finished_by(ctx.id())).await;
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
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)): on `ProducerFinished` it
/// answers the triggers already queued first.
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
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): a shutdown
/// already waiting when it starts means nothing is sent. Otherwise it sends `msg`, lets the
/// scheduler run others once (as the original's `yield`), then sends its own
/// `ProducerFinished` (standing for any received) and ends.
#[derive(Debug)]
pub struct OneShot;

impl OneShot {
    /// A component that sends `msg` once.
    pub fn new<T: Send + 'static>(msg: T) -> Component {
        let mut b = ComponentBuilder::new("OneShot");
        let io = b.standard::<(), T>();
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            if let Some(stop) = watch.check() {
                return watch.finish(stop).await;
            }
            if let Err(stop) = watch.send(&io.outbox, msg).await {
                return watch.finish(stop.signal).await;
            }
            yield_now().await;
            finish_producing(watch, Signal::producer_finished_by(ctx.id())).await;
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
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)). A
/// `ProducerFinished` ends it too (no trigger will come), but if a trigger had already
/// arrived it first sends `msg`; the `ProducerFinished` passed on is then the one it
/// received, in place of its own, and the triggers still queued are discarded (it answers
/// once).
#[derive(Debug)]
pub struct TriggeredOneShot<I>(PhantomData<fn(I)>);

impl<I: Send + 'static> TriggeredOneShot<I> {
    /// A component that sends `msg` once, when triggered.
    pub fn new<T: Send + 'static>(msg: T) -> Component {
        let mut b = ComponentBuilder::new("TriggeredOneShot");
        let io = b.standard::<I, T>();
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            // A ProducerFinished already noted came with (after) the trigger.
            let received = loop {
                match watch.next(&io.inbox).await {
                    Next::Data(_trigger) => break watch.take_finished(),
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) => return watch.finish(s).await,
                }
            };
            if let Err(stop) = watch.send(&io.outbox, msg).await {
                return watch.finish(stop.signal).await;
            }
            yield_now().await;
            match received {
                Some(end) => {
                    io.inbox.drain().for_each(drop);
                    finish_producing(watch, end).await;
                }
                None => finish_producing(watch, Signal::producer_finished_by(ctx.id())).await,
            }
        })
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
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)); it holds
/// nothing to drain, so a `ProducerFinished` stops it at once too.
///
/// Differs from Kamaelia: the original is a threaded component sending `True`, with no
/// shutdown at all.
#[derive(Debug)]
pub struct Clock;

impl Clock {
    /// A clock ticking every `interval`.
    pub fn new(interval: Duration) -> Component {
        let mut b = ComponentBuilder::new("Clock");
        let io = b.standard::<(), u64>();
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            // `None`: an interval too long to represent, so no tick ever comes.
            let mut next = Instant::now().checked_add(interval);
            let mut tick = 0u64;
            let end = loop {
                if let Some(stop) = watch.check().or_else(|| watch.take_finished()) {
                    break stop;
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
                if let Err(stop) = watch.send(&io.outbox, tick).await {
                    break stop.signal;
                }
                let now = Instant::now();
                next =
                    due.checked_add(interval).and_then(|n| if n < now { now.checked_add(interval) } else { Some(n) });
                // However short the interval, others get a turn between ticks.
                yield_now().await;
            };
            watch.finish(end).await;
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
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)): on `ProducerFinished` it
/// discards what is queued first.
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
        let io = b.standard::<T, ()>();
        b.run(|_ctx| io.transform(|_discarded| None))
    }
}
