//! [`ControlWatch`]: a component's `control` inbox, watched while it receives and while it sends.

use std::collections::VecDeque;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::task::Waker;

use crate::component::ComponentCore;
use crate::postoffice::{Node, Refused};
use crate::{Inbox, Outbox, Signal, ThreadCtx, lock, pause};

/// A component's `control` inbox, watched everywhere the component waits: the shutdown
/// contract of reference §2.0 in one place.
///
/// - **Receiving** ([`next`](Self::next)): signals come before data, so a busy data stream
///   never starves a shutdown. `ShutdownMicroprocess` (or `Shutdown`) ends the component at
///   once. `ProducerFinished` means "drain, then stop": what is already in the inbox is handed
///   out first, then the `ProducerFinished`. Other signals are handed out as they come.
/// - **Sending** ([`send`](Self::send)): waits for room (backpressure), but a shutdown
///   arriving meanwhile abandons the send and hands the message back in [`Interrupted`], so
///   a component stuck behind a stalled consumer still stops promptly, and the caller
///   decides what becomes of the message. A `ProducerFinished` arriving meanwhile is noted
///   (the component is now finishing); any other signal is *deferred*: kept, in order, and
///   handed out by the next [`next`](Self::next) (or passed on with
///   [`pass_on`](Self::pass_on)).
///
/// Every call has a blocking twin for threaded components ([`next_blocking`](Self::next_blocking),
/// [`send_blocking`](Self::send_blocking), [`pass_on_blocking`](Self::pass_on_blocking)).
/// A blocked send is recorded for deadlock detection (`ComponentInfo::waiting_for`) as
/// [`Outbox::send`] is.
///
/// What the component does with each signal stays its own business: it passes the terminal
/// signal on out of `signal` (or, a producer speaking for itself, sends its own
/// `ProducerFinished`), and passes other signals on or ignores them.
///
/// ```
/// use axon_core::{ComponentBuilder, ControlWatch, Interrupted, LinkOptions, Next, Scheduler, Signal, link_with};
///
/// // A doubler following the usual contract.
/// let mut b = ComponentBuilder::new("Doubler");
/// let std = b.standard::<u32, u32>();
/// let doubler = b.run(|_ctx| async move {
///     let mut watch = ControlWatch::new(std.control);
///     let end = loop {
///         match watch.next(&std.inbox).await {
///             Next::Data(n) => {
///                 // Told to stop while waiting for room: the message is handed back; drop it.
///                 if let Err(Interrupted { signal, .. }) = watch.send(&std.outbox, 2 * n).await {
///                     break signal;
///                 }
///             }
///             Next::Other(s) => std.signal.send(s).await,
///             Next::End(s) => break s,
///         }
///     };
///     // Signals set aside while a send waited came before the end: pass them on first.
///     watch.pass_on(&std.signal).await;
///     std.signal.send(end).await;
/// });
///
/// // A consumer with room for one message that never reads it.
/// let mut b = ComponentBuilder::new("Stalled");
/// b.inbox::<u32>("inbox");
/// let stalled = b.run(|_ctx| async {});
/// link_with((&doubler, "outbox"), (&stalled, "inbox"), LinkOptions::capacity(1)).unwrap();
///
/// let sched = Scheduler::new();
/// sched.activate(&doubler).unwrap();
/// let inbox = doubler.inbox_ref::<u32>("inbox").unwrap();
/// inbox.try_send(1).unwrap();
/// inbox.try_send(2).unwrap();
/// sched.run_until_idle();
/// // 2 went out; 4 waits for room.
/// assert_eq!(stalled.box_info("inbox").unwrap().len, 1);
/// assert!(!doubler.is_finished());
///
/// // A shutdown abandons the waiting send: the doubler stops and passes it on.
/// doubler.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
/// sched.run_until_idle();
/// assert!(doubler.is_finished());
/// assert_eq!(doubler.box_info("signal").unwrap().len, 1);
/// ```
#[derive(Debug)]
pub struct ControlWatch {
    control: Inbox<Signal>,
    /// Non-terminal signals met while waiting to send, oldest first. Never holds a terminal
    /// signal: a shutdown is returned where it is met, a `ProducerFinished` goes to `finished`.
    deferred: VecDeque<Signal>,
    /// The first `ProducerFinished` received, until the inbox is drained and it is handed out.
    finished: Option<Signal>,
}

/// What [`ControlWatch::next`] found.
#[derive(Debug)]
pub enum Next<T> {
    /// A message from the data inbox.
    Data(T),
    /// A signal that does not end the component (`Status`, `Notify` ...): pass it on or
    /// ignore it.
    Other(Signal),
    /// The component should stop, passing this signal on: a shutdown (at once), or a
    /// `ProducerFinished` once the inbox is drained.
    End(Signal),
}

/// A send abandoned because a shutdown arrived while it waited for room: the message, handed
/// back, and the shutdown (not yet passed on).
///
/// Converts into its [`Signal`], so `?` works in a function returning `Result<_, Signal>`
/// (dropping the message: the component is stopping).
pub struct Interrupted<T> {
    /// The message that was not sent.
    pub message: T,
    /// The shutdown (`ShutdownMicroprocess` or `Shutdown`) that interrupted the send.
    pub signal: Signal,
}

impl<T> From<Interrupted<T>> for Signal {
    fn from(i: Interrupted<T>) -> Signal {
        i.signal
    }
}

impl<T> fmt::Debug for Interrupted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interrupted").field("signal", &self.signal).finish_non_exhaustive()
    }
}

impl<T> fmt::Display for Interrupted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "send abandoned: {} arrived while the destination was full", self.signal)
    }
}

impl<T> std::error::Error for Interrupted<T> {}

impl ControlWatch {
    /// Watches `control` (the component's own control inbox).
    pub fn new(control: Inbox<Signal>) -> Self {
        ControlWatch { control, deferred: VecDeque::new(), finished: None }
    }

    /// The watched inbox.
    pub fn control(&self) -> &Inbox<Signal> {
        &self.control
    }

    /// Takes every signal waiting on `control` without waiting: returns a shutdown at once
    /// (signals behind it stay in `control`); notes a `ProducerFinished`; defers the rest. For
    /// loops that emit many messages without receiving (a source, a batch going out).
    pub fn check(&mut self) -> Option<Signal> {
        while let Some(s) = self.control.try_recv() {
            if s.is_shutdown() {
                return Some(s);
            }
            self.keep(s);
        }
        None
    }

    fn keep(&mut self, s: Signal) {
        if s.is_producer_finished() {
            // The first one counts; a repeat adds nothing.
            self.finished.get_or_insert(s);
        } else {
            self.deferred.push_back(s);
        }
    }

    /// True once a `ProducerFinished` has arrived and not yet been handed out.
    pub fn is_finishing(&self) -> bool {
        self.finished.is_some()
    }

    /// Takes the `ProducerFinished` noted, if any (for a component that drains by itself).
    pub fn take_finished(&mut self) -> Option<Signal> {
        self.finished.take()
    }

    /// The next thing to act on, without waiting: a deferred signal, then what is on
    /// `control`, then a message from `inbox`, then (once the inbox is empty) the
    /// `ProducerFinished` noted. `None` when there is nothing yet.
    pub fn try_next<T: Send + 'static>(&mut self, inbox: &Inbox<T>) -> Option<Next<T>> {
        if let Some(s) = self.deferred.pop_front() {
            return Some(Next::Other(s));
        }
        while let Some(s) = self.control.try_recv() {
            if s.is_shutdown() {
                return Some(Next::End(s));
            }
            if !s.is_producer_finished() {
                return Some(Next::Other(s));
            }
            self.keep(s);
        }
        if let Some(m) = inbox.try_recv() {
            return Some(Next::Data(m));
        }
        self.finished.take().map(Next::End)
    }

    /// Waits for the next thing to act on (see [`try_next`](Self::try_next)).
    pub async fn next<T: Send + 'static>(&mut self, inbox: &Inbox<T>) -> Next<T> {
        loop {
            if let Some(next) = self.try_next(inbox) {
                return next;
            }
            // A delivery into `control` or `inbox` (both ours) wakes us.
            pause().await;
        }
    }

    /// [`next`](Self::next) for a threaded component: blocks its thread while there is
    /// nothing to act on.
    pub fn next_blocking<T: Send + 'static>(&mut self, tctx: &ThreadCtx, inbox: &Inbox<T>) -> Next<T> {
        loop {
            if let Some(next) = self.try_next(inbox) {
                return next;
            }
            tctx.pause(None);
        }
    }

    /// Sends `msg` out of `out`, waiting while the destination is full (backpressure).
    ///
    /// A send with room goes at once, even with a shutdown waiting on `control` (look with
    /// [`check`](Self::check) first to stop before sending). While it waits, `control` is
    /// watched: a shutdown abandons the send and comes back in [`Interrupted`] with the
    /// message; a `ProducerFinished` is noted and other signals deferred.
    pub async fn send<T: Send + 'static>(&mut self, out: &Outbox<T>, msg: T) -> Result<(), Interrupted<T>> {
        let mut attempt = Attempt::new(out);
        let mut msg = msg;
        loop {
            msg = match attempt.turn(self, msg) {
                ControlFlow::Break(done) => return done,
                ControlFlow::Continue(back) => back,
            };
            // Woken by the collection that makes room, or by a delivery into `control`.
            pause().await;
        }
    }

    /// [`send`](Self::send) for a threaded component: blocks its thread while the
    /// destination is full.
    pub fn send_blocking<T: Send + 'static>(
        &mut self,
        tctx: &ThreadCtx,
        out: &Outbox<T>,
        msg: T,
    ) -> Result<(), Interrupted<T>> {
        let mut attempt = Attempt::new(out);
        let mut msg = msg;
        loop {
            msg = match attempt.turn(self, msg) {
                ControlFlow::Break(done) => return done,
                ControlFlow::Continue(back) => back,
            };
            tctx.pause(None);
        }
    }

    /// Passes every deferred signal on out of `signal`, oldest first (for a component that
    /// passes on what it does not act on; before its last word, so the order holds).
    pub async fn pass_on(&mut self, signal: &Outbox<Signal>) {
        while let Some(s) = self.deferred.pop_front() {
            signal.send(s).await;
        }
    }

    /// [`pass_on`](Self::pass_on) for a threaded component.
    pub fn pass_on_blocking(&mut self, signal: &Outbox<Signal>) {
        while let Some(s) = self.deferred.pop_front() {
            signal.send_blocking(s);
        }
    }
}

/// One send in progress. Pushes without a waker while there is room (the common case costs
/// nothing more than `try_send`); once refused, registers the owner's waker for space and
/// records the wait for deadlock reports, as [`Outbox::send`]'s future does, until dropped.
struct Attempt<'a, T> {
    node: &'a Arc<Node<T>>,
    waker: Option<Waker>,
    /// The sending component, while it is recorded as waiting.
    waiting: Option<Arc<ComponentCore>>,
}

impl<'a, T: Send + 'static> Attempt<'a, T> {
    fn new(out: &'a Outbox<T>) -> Self {
        Attempt { node: out.node(), waker: None, waiting: None }
    }

    /// Tries once: `Break` when the send is over (sent, or abandoned for a shutdown waiting
    /// on `watch`'s control), `Continue` with the message to wait for room and try again.
    fn turn(&mut self, watch: &mut ControlWatch, msg: T) -> ControlFlow<Result<(), Interrupted<T>>, T> {
        match self.push(msg) {
            Ok(()) => ControlFlow::Break(Ok(())),
            Err(message) => match watch.check() {
                Some(signal) => ControlFlow::Break(Err(Interrupted { message, signal })),
                None => ControlFlow::Continue(message),
            },
        }
    }

    fn push(&mut self, msg: T) -> Result<(), T> {
        match self.node.push(msg, self.waker.as_ref()) {
            Ok(()) => Ok(()),
            Err(Refused { msg, .. }) if self.waker.is_none() => {
                // As `Outbox::try_send_notify`: a threaded component is woken through its
                // parker, an async one through its task. Then try again, registered, so a
                // collection between the two attempts is not missed.
                let owner = &self.node.owner;
                self.waker = Some(match owner.parker.get() {
                    Some(p) => Waker::from(p.clone()),
                    None => Waker::from(owner.clone()),
                });
                self.push(msg)
            }
            Err(Refused { msg, at }) => {
                if let Some(core) = self.node.owner.core.upgrade() {
                    *lock(&core.waiting_for) = Some(Box::new(at));
                    self.waiting = Some(core);
                }
                Err(msg)
            }
        }
    }
}

impl<T> Drop for Attempt<'_, T> {
    fn drop(&mut self) {
        if let Some(core) = self.waiting.take() {
            *lock(&core.waiting_for) = None;
        }
    }
}
