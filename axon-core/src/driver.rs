//! The [`Driver`]: the loop of an ordinary component, owned by the core, so a component body
//! holds only its own logic.

use crate::component::StandardBoxes;
use crate::{ControlWatch, Inbox, Interrupted, Next, Outbox, Signal, SignalPolicy};

/// Runs a standard component's loop around a closure: the whole shutdown contract, stated
/// once for every component built on it.
///
/// - Messages from `inbox` go to the closure, one at a time, in order; what it pushes onto
///   the `Vec` it is given goes out of `outbox`, in order, waiting for room (backpressure).
/// - `ProducerFinished` on `control`: the messages already in `inbox` are handled first,
///   then the signal is passed on out of `signal` and the loop ends (drain, then stop).
/// - `ShutdownMicroprocess` (or `Shutdown`): the loop ends at once, even while a send is
///   waiting for room (that message and the rest of its batch are dropped), and the signal
///   is passed on.
/// - Other signals follow the watch's [`SignalPolicy`]: passed on out of `signal` by default
///   (under `Deliver`, which a driver has no closure for, they are passed on too).
///
/// ```
/// use axon_core::{ComponentBuilder, Component};
///
/// // A filter with the full contract.
/// fn evens() -> Component {
///     let mut b = ComponentBuilder::new("Evens");
///     let io = b.standard::<u32, u32>();
///     b.run(|_ctx| io.transform(|n| (n % 2 == 0).then_some(n)))
/// }
/// # drop(evens());
/// ```
///
/// For a component that also has something to say at the end, run the loop, then speak,
/// then finish:
///
/// ```
/// use axon_core::ComponentBuilder;
///
/// // Counts lines; sends the count when its producer finishes.
/// let mut b = ComponentBuilder::new("Count");
/// let io = b.standard::<String, usize>();
/// let counter = b.run(|_ctx| async move {
///     let mut n = 0;
///     let mut driver = io.driver();
///     let end = driver.run(|_line, _out| n += 1).await;
///     let end = if end.is_producer_finished() { driver.emit(n).await.err().map_or(end, |i| i.signal) } else { end };
///     driver.finish(end).await;
/// });
/// # drop(counter);
/// ```
pub struct Driver<I, O> {
    inbox: Inbox<I>,
    outbox: Outbox<O>,
    watch: ControlWatch,
    /// The closure's output, reused from message to message.
    out: Vec<O>,
}

impl<I, O> std::fmt::Debug for Driver<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("inbox", &self.inbox).field("watch", &self.watch).finish_non_exhaustive()
    }
}

impl<I: Send + 'static, O: Send + 'static> StandardBoxes<I, O> {
    /// A [`Driver`] over these boxes, forwarding other signals.
    pub fn driver(self) -> Driver<I, O> {
        let StandardBoxes { inbox, control, outbox, signal } = self;
        Driver { inbox, outbox, watch: ControlWatch::new(control, signal), out: Vec::new() }
    }

    /// The whole loop of a component that turns each message into any number of messages:
    /// `f(message, out)` pushes onto `out` what goes out of `outbox`. See [`Driver`].
    pub async fn serve(self, f: impl FnMut(I, &mut Vec<O>) + Send) {
        self.driver().serve(f).await;
    }

    /// The whole loop of a component that maps each message to at most one (`None` drops
    /// it): a map and a filter in one. See [`Driver`].
    pub async fn transform(self, f: impl FnMut(I) -> Option<O> + Send) {
        let mut driver = self.driver();
        let end = driver.run_map(f).await;
        driver.finish(end).await;
    }
}

impl<I: Send + 'static, O: Send + 'static> Driver<I, O> {
    /// Sets the policy for non-terminal signals (default [`SignalPolicy::Forward`]).
    #[must_use]
    pub fn policy(mut self, policy: SignalPolicy) -> Self {
        self.watch = self.watch.with_policy(policy);
        self
    }

    /// The watch, for a component that needs more than the loop (a check before a batch).
    pub fn watch(&mut self) -> &mut ControlWatch {
        &mut self.watch
    }

    /// The data inbox.
    pub fn inbox(&self) -> &Inbox<I> {
        &self.inbox
    }

    /// The data outbox.
    pub fn outbox(&self) -> &Outbox<O> {
        &self.outbox
    }

    /// Runs the loop until the component should stop; returns the terminal signal, not yet
    /// passed on (pass it to [`finish`](Self::finish)). On `ProducerFinished` the inbox has
    /// been drained through `f` first.
    pub async fn run(&mut self, mut f: impl FnMut(I, &mut Vec<O>) + Send) -> Signal {
        loop {
            match self.watch.next(&self.inbox).await {
                Next::Data(m) => {
                    f(m, &mut self.out);
                    if let Err(stop) = self.flush().await {
                        return stop;
                    }
                }
                Next::Other(s) => self.watch.emit(s).await,
                Next::End(s) => return s,
            }
        }
    }

    /// [`run`](Self::run) for a closure giving at most one message per message.
    pub async fn run_map(&mut self, mut f: impl FnMut(I) -> Option<O> + Send) -> Signal {
        loop {
            match self.watch.next(&self.inbox).await {
                Next::Data(m) => {
                    if let Some(o) = f(m) {
                        if let Err(stop) = self.watch.send(&self.outbox, o).await {
                            return stop.signal;
                        }
                    }
                }
                Next::Other(s) => self.watch.emit(s).await,
                Next::End(s) => return s,
            }
        }
    }

    /// Sends what the closure pushed, in order; a shutdown met while waiting drops the rest.
    async fn flush(&mut self) -> Result<(), Signal> {
        if self.out.is_empty() {
            return Ok(());
        }
        let mut batch = std::mem::take(&mut self.out);
        let mut result = Ok(());
        for o in batch.drain(..) {
            if let Err(stop) = self.watch.send(&self.outbox, o).await {
                result = Err(stop.signal);
                break;
            }
        }
        batch.clear();
        self.out = batch;
        result
    }

    /// Sends one more message out of `outbox` (after the loop: a summary, the last of a
    /// buffer), waiting for room; a shutdown meanwhile hands it back.
    pub async fn emit(&mut self, msg: O) -> Result<(), Interrupted<O>> {
        self.watch.send(&self.outbox, msg).await
    }

    /// Passes on the signals still kept, then `end`, and ends the component's signalling.
    pub async fn finish(self, end: Signal) {
        self.watch.finish(end).await;
    }

    /// [`run`](Self::run), then [`finish`](Self::finish).
    pub async fn serve(mut self, f: impl FnMut(I, &mut Vec<O>) + Send) {
        let end = self.run(f).await;
        self.finish(end).await;
    }
}
