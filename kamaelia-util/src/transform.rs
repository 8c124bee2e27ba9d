//! PureTransformer, StatefulTransformer and PassThrough.
// Kamaelia's constructors are `PureTransformer(f)`, `PassThrough()`: `Type::new` keeps the
// names a reader of the original expects, and the product is a `Component`, not `Self`.
#![allow(clippy::new_ret_no_self)]

use std::marker::PhantomData;

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Signal, SignalPolicy};

/// Kamaelia's `PureTransformer`: applies a function to every message; `None` results are
/// dropped (a filter and a map in one).
///
/// Boxes:
/// - `inbox: I`: messages to transform.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: O`: each `Some` result, in order.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)): on `ProducerFinished` it
/// transforms what is already queued, then passes on the very signal it received; a shutdown
/// stops it at once, leaving queued messages untouched.
///
/// Differs from Kamaelia: the original ignores `shutdownMicroprocess` (reference §1.16
/// quirk 7); this one stops on it. The original sends its own `producerFinished(self)`; this
/// one forwards the `ProducerFinished` it received, so the end of a chain learns who really
/// finished and why (the §2.0 convention: "forward the same object").
///
/// ```
/// use axon_core::{link, Scheduler};
/// use kamaelia_util::{DataSource, PureTransformer};
///
/// let source = DataSource::new(1..=4u32);
/// let evens_doubled = PureTransformer::new(|n: u32| (n % 2 == 0).then_some(n * 2));
/// link((&source, "outbox"), (&evens_doubled, "inbox")).unwrap();
/// link((&source, "signal"), (&evens_doubled, "control")).unwrap();
/// let sched = Scheduler::new();
/// sched.activate(&source).unwrap();
/// sched.activate(&evens_doubled).unwrap();
/// sched.run();
/// assert!(evens_doubled.is_finished());
/// ```
///
/// It is the driver's `transform` under a Kamaelia name; a component of one's own with the
/// same contract is as short:
///
/// ```
/// use axon_core::ComponentBuilder;
///
/// let mut b = ComponentBuilder::new("Evens");
/// let io = b.standard::<u32, u32>();
/// let evens = b.run(|_ctx| io.transform(|n| (n % 2 == 0).then_some(n)));
/// # drop(evens);
/// ```
#[derive(Debug)]
pub struct PureTransformer;

impl PureTransformer {
    /// A transformer applying `f` to each message.
    pub fn new<I, O>(f: impl FnMut(I) -> Option<O> + Send + 'static) -> Component
    where
        I: Send + 'static,
        O: Send + 'static,
    {
        transformer("PureTransformer", f)
    }
}

/// A component of kind `kind` that behaves as [`PureTransformer`] with `f`.
pub(crate) fn transformer<I, O>(kind: &'static str, f: impl FnMut(I) -> Option<O> + Send + 'static) -> Component
where
    I: Send + 'static,
    O: Send + 'static,
{
    let mut b = ComponentBuilder::new(kind);
    let io = b.standard::<I, O>();
    b.run(|_ctx| io.transform(f))
}

type StepFn<S, I, O> = Box<dyn FnMut(&mut S, I) -> Option<O> + Send>;
type FinishFn<S, O> = Box<dyn FnOnce(S) -> Vec<O> + Send>;

/// A transformer with owned state: `f(&mut state, message)` per message, `None` results
/// dropped, and an optional `on_finish` hook that turns the final state into last messages.
///
/// Kamaelia lists a StatefulTransformer as "identified but not written"; this is that
/// component: a closure with owned state, so a running count, a window or a parser needs no
/// hand-written component.
///
/// Boxes:
/// - `inbox: I`: messages to transform.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: O`: each `Some` result, then whatever `on_finish` returns.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)), with an end hook: on
/// `ProducerFinished`, once what is queued is transformed, `on_finish` (if set) runs and its
/// messages are sent before the signal is passed on. A shutdown stops it at once without
/// running `on_finish` (also while its messages wait for room: the rest are dropped).
///
/// ```
/// use axon_core::{link, Scheduler};
/// use kamaelia_util::{DataSource, StatefulTransformer};
///
/// // Counts messages and reports the count when the stream ends.
/// let source = DataSource::new(["a", "b", "c"]);
/// let counter = StatefulTransformer::new(0usize, |n: &mut usize, _msg: &str| {
///     *n += 1;
///     None
/// })
/// .on_finish(|n| vec![n])
/// .build();
/// link((&source, "outbox"), (&counter, "inbox")).unwrap();
/// link((&source, "signal"), (&counter, "control")).unwrap();
/// let sched = Scheduler::new();
/// sched.activate(&source).unwrap();
/// sched.activate(&counter).unwrap();
/// sched.run();
/// // The count (3) waits in the counter's unlinked outbox, then the signal in `signal`.
/// assert_eq!(counter.box_info("outbox").unwrap().len, 1);
/// assert_eq!(counter.box_info("signal").unwrap().len, 1);
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct StatefulTransformer<S, I, O> {
    state: S,
    f: StepFn<S, I, O>,
    on_finish: Option<FinishFn<S, O>>,
}

impl<S, I, O> std::fmt::Debug for StatefulTransformer<S, I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatefulTransformer").field("on_finish", &self.on_finish.is_some()).finish_non_exhaustive()
    }
}

impl<S, I, O> StatefulTransformer<S, I, O>
where
    S: Send + 'static,
    I: Send + 'static,
    O: Send + 'static,
{
    /// A transformer starting from `state`, applying `f` to each message.
    pub fn new(state: S, f: impl FnMut(&mut S, I) -> Option<O> + Send + 'static) -> Self {
        StatefulTransformer { state, f: Box::new(f), on_finish: None }
    }

    /// Runs `hook` on the final state when `ProducerFinished` arrives (after the inbox is
    /// drained) and sends each message it returns before passing the signal on.
    pub fn on_finish(mut self, hook: impl FnOnce(S) -> Vec<O> + Send + 'static) -> Self {
        self.on_finish = Some(Box::new(hook));
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let StatefulTransformer { mut state, mut f, on_finish } = self;
        let mut b = ComponentBuilder::new("StatefulTransformer");
        let io = b.standard::<I, O>();
        b.run(move |_ctx| async move {
            let mut driver = io.driver();
            let mut end = driver.run_map(|item| f(&mut state, item)).await;
            if let Some(hook) = on_finish.filter(|_| end.is_producer_finished()) {
                for out in hook(state) {
                    if let Err(stop) = driver.emit(out).await {
                        end = stop.signal;
                        break;
                    }
                }
            }
            driver.finish(end).await;
        })
    }
}

/// Kamaelia's `PassThrough`: forwards `inbox` to `outbox` and `control` to `signal`.
///
/// Boxes:
/// - `inbox: T`: messages, passed on unchanged.
/// - `control: Signal`: every signal is passed on.
/// - `outbox: T`: the messages.
/// - `signal: Signal`: the signals.
///
/// Shutdown: [`new`](Self::new) follows the standard contract ([`Driver`](axon_core::Driver)):
/// it stops after passing on a terminal signal, having forwarded the messages already
/// queued before a `ProducerFinished`. [`shutdown_on`](Self::shutdown_on) stops after
/// passing on the signals its predicate accepts, and only those (Kamaelia's `shutdownOn`).
#[derive(Debug)]
pub struct PassThrough<T>(PhantomData<fn() -> T>);

impl<T: Send + 'static> PassThrough<T> {
    /// A pass-through that stops on any terminal signal.
    pub fn new() -> Component {
        let mut b = ComponentBuilder::new("PassThrough");
        let io = b.standard::<T, T>();
        b.run(|_ctx| io.transform(Some))
    }

    /// A pass-through that stops after forwarding a signal for which `stop` returns true
    /// (Kamaelia's `shutdownOn`; a predicate that never accepts makes it run forever).
    ///
    /// Every signal is still passed on, in order, and the messages queued before a
    /// `ProducerFinished` go out before it. A shutdown the predicate does not accept is
    /// passed on without stopping; one that interrupts a send waiting for room drops that
    /// message.
    pub fn shutdown_on(stop: impl Fn(&Signal) -> bool + Send + 'static) -> Component {
        let mut b = ComponentBuilder::new("PassThrough");
        let io = b.standard::<T, T>();
        b.run(move |_ctx| async move {
            // Deliver: the predicate may stop on any signal, so each one is looked at here
            // (and passed on, as under Forward).
            let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
            loop {
                let s = match watch.next(&io.inbox).await {
                    Next::Data(item) => match watch.send(&io.outbox, item).await {
                        Ok(()) => continue,
                        Err(stop) => stop.signal,
                    },
                    Next::Other(s) | Next::End(s) => s,
                };
                if stop(&s) {
                    return watch.finish(s).await;
                }
                watch.emit(s).await;
            }
        })
    }
}
