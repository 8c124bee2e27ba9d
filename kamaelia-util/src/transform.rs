//! PureTransformer, StatefulTransformer and PassThrough.
// Kamaelia's constructors are `PureTransformer(f)`, `PassThrough()`: `Type::new` keeps the
// names a reader of the original expects, and the product is a `Component`, not `Self`.
#![allow(clippy::new_ret_no_self)]

use std::marker::PhantomData;

use axon_core::{Component, ComponentBuilder, Received, Signal, StandardBoxes};

/// Applies `f` to every message until a terminal signal arrives on `control`, sending each
/// `Some` result on `outbox`; non-terminal signals are passed on out of `signal`.
///
/// Returns the terminal signal, not yet forwarded. On `ProducerFinished` the inbox has been
/// drained through `f` first (data sent before the signal may still be waiting, as
/// `recv_with_control` looks at `control` first); on a shutdown nothing more is processed.
pub(crate) async fn transform_until_terminal<I, O>(
    std: &StandardBoxes<I, O>,
    f: &mut (impl FnMut(I) -> Option<O> + Send),
) -> Signal
where
    I: Send + 'static,
    O: Send + 'static,
{
    loop {
        match std.inbox.recv_with_control(&std.control).await {
            Received::Data(item) => {
                if let Some(out) = f(item) {
                    std.outbox.send(out).await;
                }
            }
            Received::Control(s) if s.is_producer_finished() => {
                while let Some(item) = std.inbox.try_recv() {
                    if let Some(out) = f(item) {
                        std.outbox.send(out).await;
                    }
                }
                return s;
            }
            Received::Control(s) if s.is_shutdown() => return s,
            Received::Control(s) => std.signal.send(s).await,
        }
    }
}

/// Kamaelia's `PureTransformer`: applies a function to every message; `None` results are
/// dropped (a filter and a map in one).
///
/// Boxes:
/// - `inbox: I`: messages to transform.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: O`: each `Some` result, in order.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: on `ProducerFinished` it transforms what is already in its inbox, passes the
/// signal it received on out of `signal` and stops; on `ShutdownMicroprocess` (or `Shutdown`)
/// it stops at once, leaving any queued messages untouched, and passes the signal on. Other
/// control messages are passed on out of `signal` and it carries on.
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
pub(crate) fn transformer<I, O>(kind: &'static str, mut f: impl FnMut(I) -> Option<O> + Send + 'static) -> Component
where
    I: Send + 'static,
    O: Send + 'static,
{
    let mut b = ComponentBuilder::new(kind);
    let std = b.standard::<I, O>();
    b.run(move |_ctx| async move {
        let end = transform_until_terminal(&std, &mut f).await;
        std.signal.send(end).await;
    })
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
/// Shutdown: on `ProducerFinished` it transforms what is already in its inbox, then runs
/// `on_finish` (if set) and sends its results, then passes the signal on and stops. On
/// `ShutdownMicroprocess` (or `Shutdown`) it stops at once, without running `on_finish`,
/// and passes the signal on. Other control messages are passed on and it carries on.
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
        let std = b.standard::<I, O>();
        b.run(move |_ctx| async move {
            let end = transform_until_terminal(&std, &mut |item| f(&mut state, item)).await;
            if end.is_producer_finished() {
                if let Some(hook) = on_finish {
                    for out in hook(state) {
                        std.outbox.send(out).await;
                    }
                }
            }
            std.signal.send(end).await;
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
/// Shutdown: it stops after forwarding a signal its `shutdown_on` predicate accepts (by
/// default any terminal signal: `ProducerFinished`, `ShutdownMicroprocess`, `Shutdown`,
/// as Kamaelia's default `shutdownOn`). Before forwarding a `ProducerFinished` it forwards
/// the messages already in its inbox; on a shutdown it stops at once.
#[derive(Debug)]
pub struct PassThrough<T>(PhantomData<fn() -> T>);

impl<T: Send + 'static> PassThrough<T> {
    /// A pass-through that stops on any terminal signal.
    pub fn new() -> Component {
        Self::shutdown_on(Signal::is_terminal)
    }

    /// A pass-through that stops after forwarding a signal for which `stop` returns true
    /// (Kamaelia's `shutdownOn`; a predicate that never accepts makes it run forever).
    pub fn shutdown_on(stop: impl Fn(&Signal) -> bool + Send + 'static) -> Component {
        let mut b = ComponentBuilder::new("PassThrough");
        let std = b.standard::<T, T>();
        b.run(move |_ctx| async move {
            loop {
                match std.inbox.recv_with_control(&std.control).await {
                    Received::Data(item) => std.outbox.send(item).await,
                    Received::Control(s) => {
                        let last = stop(&s);
                        if last && s.is_producer_finished() {
                            while let Some(item) = std.inbox.try_recv() {
                                std.outbox.send(item).await;
                            }
                        }
                        std.signal.send(s).await;
                        if last {
                            return;
                        }
                    }
                }
            }
        })
    }
}
