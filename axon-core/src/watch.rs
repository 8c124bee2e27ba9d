//! [`ControlWatch`]: a component's `control` inbox, watched while it receives and while it
//! sends, with its `signal` outbox: the shutdown contract in one place.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use crate::boxes::{SendAttempt, owner_waker};
use crate::postoffice::Node;
use crate::{Inbox, InboxRef, Outbox, Signal, ThreadCtx, pause};

/// What a component does with the signals that neither end it nor ask it to finish
/// (`Status`, `Notify`, `ErrorInformation` from upstream ...). Declared once, on the
/// [`ControlWatch`]; every component built on the watch or the [`Driver`](crate::Driver)
/// behaves the same way.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignalPolicy {
    /// Pass them on out of `signal`, in the order they came, before the terminal signal
    /// (the default: a `Status` survives a pipeline).
    #[default]
    Forward,
    /// Drop them.
    Ignore,
    /// Hand them to the component as [`Next::Other`], to act on (a chassis, a server).
    /// Those not yet handed out when the component finishes are passed on by
    /// [`finish`](ControlWatch::finish).
    Deliver,
}

/// A component's `control` inbox and `signal` outbox, watched everywhere the component
/// waits: the shutdown contract of reference §2.0, stated once.
///
/// - **Receiving** ([`next`](Self::next)): signals come before data, so a busy data stream
///   never starves a shutdown. `ShutdownMicroprocess` (or `Shutdown`) ends the component at
///   once: [`Next::End`]. `ProducerFinished` means "drain, then stop": what is already in the
///   inbox is handed out first, then [`Next::End`] with the `ProducerFinished`. Other signals
///   follow the [`SignalPolicy`] (forwarded by default).
/// - **Sending** ([`send`](Self::send)): waits for room (backpressure), but a shutdown
///   arriving meanwhile abandons the send and hands the message back in [`Interrupted`], so
///   a component stuck behind a stalled consumer still stops promptly. A `ProducerFinished`
///   arriving meanwhile is noted (the component is now finishing); other signals are kept,
///   in order, for the policy.
/// - **Finishing** ([`finish`](Self::finish)) consumes the watch: signals still kept are
///   passed on first, then the terminal signal, so nothing set aside can be forgotten. (A
///   watch dropped without `finish` still passes kept signals on, if `signal` has room.)
///
/// Every call has a blocking twin for threaded components ([`next_blocking`](Self::next_blocking),
/// [`send_blocking`](Self::send_blocking), [`finish_blocking`](Self::finish_blocking)).
/// A blocked send is recorded for deadlock detection (`ComponentInfo::waiting_for`).
///
/// Most components need none of this by hand: the [`Driver`](crate::Driver) runs the whole
/// loop around a closure. The watch is for components that do more than map messages
/// (sources, timers, servers, chassis).
///
/// ```
/// use axon_core::{ComponentBuilder, ControlWatch, LinkOptions, Next, Scheduler, Signal, link_with};
///
/// // A doubler written against the watch (the driver would make it one line).
/// let mut b = ComponentBuilder::new("Doubler");
/// let io = b.standard::<u32, u32>();
/// let doubler = b.run(|_ctx| async move {
///     let mut watch = ControlWatch::new(io.control, io.signal);
///     let end = loop {
///         match watch.next(&io.inbox).await {
///             Next::Data(n) => {
///                 // Told to stop while waiting for room: the message is handed back; drop it.
///                 if let Err(stop) = watch.send(&io.outbox, 2 * n).await {
///                     break stop.signal;
///                 }
///             }
///             Next::Other(_) => unreachable!("the default policy forwards other signals"),
///             Next::End(s) => break s,
///         }
///     };
///     watch.finish(end).await;
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
pub struct ControlWatch {
    control: Inbox<Signal>,
    signal: Outbox<Signal>,
    policy: SignalPolicy,
    /// What is set aside, made on the first signal set aside: most components meet no signal
    /// but their last, so an idle watch stays three words (a million idle components each
    /// carry one).
    held: Option<Box<Held>>,
}

/// The signals a [`ControlWatch`] has set aside.
#[derive(Debug, Default)]
struct Held {
    /// Non-terminal signals kept, oldest first: to pass on (`Forward`, when `signal` had no
    /// room or a send was waiting) or to hand out (`Deliver`). Never holds a terminal signal:
    /// a shutdown is returned where it is met, a `ProducerFinished` goes to `finished`.
    /// Always empty under `Ignore`.
    kept: VecDeque<Signal>,
    /// The first `ProducerFinished` received, until the inbox is drained and it is handed out.
    finished: Option<Signal>,
}

impl fmt::Debug for ControlWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self.held.as_deref();
        f.debug_struct("ControlWatch")
            .field("policy", &self.policy)
            .field("kept", &held.map_or(0, |h| h.kept.len()))
            .field("finished", &held.and_then(|h| h.finished.as_ref()))
            .finish_non_exhaustive()
    }
}

/// What [`ControlWatch::next`] found.
#[derive(Debug)]
pub enum Next<T> {
    /// A message from the data inbox.
    Data(T),
    /// A signal that does not end the component, under [`SignalPolicy::Deliver`] only.
    Other(Signal),
    /// The component should stop, passing this signal on ([`ControlWatch::finish`]): a
    /// shutdown (at once), or a `ProducerFinished` once the inbox is drained.
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
    /// Watches `control` and speaks on `signal` (the component's own pair), forwarding other
    /// signals ([`SignalPolicy::Forward`]).
    pub fn new(control: Inbox<Signal>, signal: Outbox<Signal>) -> Self {
        ControlWatch { control, signal, policy: SignalPolicy::Forward, held: None }
    }

    /// Sets the policy for non-terminal signals.
    #[must_use]
    pub fn with_policy(mut self, policy: SignalPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy for non-terminal signals.
    pub fn policy(&self) -> SignalPolicy {
        self.policy
    }

    /// The watched inbox.
    pub fn control(&self) -> &Inbox<Signal> {
        &self.control
    }

    /// The `signal` outbox. Send on it through [`emit`](Self::emit), so kept signals go first.
    pub fn signal(&self) -> &Outbox<Signal> {
        &self.signal
    }

    /// Takes every signal waiting on `control` without waiting: returns a shutdown at once
    /// (signals behind it stay in `control`); notes a `ProducerFinished`; keeps or drops the
    /// rest per the policy. For loops that emit many messages without receiving (a source, a
    /// batch going out).
    pub fn check(&mut self) -> Option<Signal> {
        while let Some(s) = self.control.try_recv() {
            if s.is_shutdown() {
                return Some(s);
            }
            self.keep(s);
        }
        self.flush_now();
        None
    }

    fn keep(&mut self, s: Signal) {
        if s.is_producer_finished() {
            // The first one counts; a repeat adds nothing.
            self.held.get_or_insert_default().finished.get_or_insert(s);
        } else if self.policy != SignalPolicy::Ignore {
            self.held.get_or_insert_default().kept.push_back(s);
        }
    }

    /// True if a non-terminal signal is kept.
    fn has_kept(&self) -> bool {
        self.held.as_ref().is_some_and(|h| !h.kept.is_empty())
    }

    /// The oldest non-terminal signal kept.
    fn pop_kept(&mut self) -> Option<Signal> {
        self.held.as_mut().and_then(|h| h.kept.pop_front())
    }

    /// Under `Forward`, passes kept signals on while `signal` has room (order kept).
    fn flush_now(&mut self) {
        if self.policy != SignalPolicy::Forward {
            return;
        }
        let Some(held) = self.held.as_mut() else { return };
        while let Some(s) = held.kept.pop_front() {
            // Registers for room, so a full `signal` wakes us when it drains.
            if let Err(full) = self.signal.try_send_notify(s) {
                held.kept.push_front(full.into_inner());
                return;
            }
        }
    }

    /// True once a `ProducerFinished` has arrived and not yet been handed out.
    pub fn is_finishing(&self) -> bool {
        self.held.as_ref().is_some_and(|h| h.finished.is_some())
    }

    /// Takes the `ProducerFinished` noted, if any (for a component that drains by itself, or
    /// a producer whose own `ProducerFinished` stands for both).
    pub fn take_finished(&mut self) -> Option<Signal> {
        self.held.as_mut().and_then(|h| h.finished.take())
    }

    /// The next thing to act on, without waiting: a kept signal (under `Deliver`), then what
    /// is on `control`, then a message from `inbox`, then (once the inbox is empty) the
    /// `ProducerFinished` noted. `None` when there is nothing yet.
    pub fn try_next<T: Send + 'static>(&mut self, inbox: &Inbox<T>) -> Option<Next<T>> {
        self.try_next_in(Some(inbox))
    }

    /// [`try_next`](Self::try_next) for a component with no data inbox to watch (a chassis
    /// waiting on its children): the next signal to act on, without waiting. A shutdown, a
    /// `ProducerFinished` (nothing to drain first), or, under [`SignalPolicy::Deliver`],
    /// another signal; `None` when there is nothing yet.
    pub fn try_signal(&mut self) -> Option<Signal> {
        match self.try_next_in::<()>(None)? {
            Next::Other(s) | Next::End(s) => Some(s),
            Next::Data(()) => None,
        }
    }

    fn try_next_in<T: Send + 'static>(&mut self, inbox: Option<&Inbox<T>>) -> Option<Next<T>> {
        if self.has_kept() {
            if self.policy == SignalPolicy::Deliver {
                return self.pop_kept().map(Next::Other);
            }
            self.flush_now();
        }
        while let Some(s) = self.control.try_recv() {
            if s.is_shutdown() {
                return Some(Next::End(s));
            }
            if !s.is_producer_finished() && self.policy == SignalPolicy::Deliver {
                return Some(Next::Other(s));
            }
            self.keep(s);
            self.flush_now();
        }
        if let Some(m) = inbox.and_then(Inbox::try_recv) {
            return Some(Next::Data(m));
        }
        self.take_finished().map(Next::End)
    }

    /// Waits for the next thing to act on (see [`try_next`](Self::try_next)).
    pub async fn next<T: Send + 'static>(&mut self, inbox: &Inbox<T>) -> Next<T> {
        loop {
            if let Some(next) = self.try_next(inbox) {
                return next;
            }
            self.control.node().check_owner_waits();
            inbox.node().check_owner_waits();
            // A delivery into `control` or `inbox` (both ours) wakes us, as does room
            // appearing in `signal` for a kept signal (`flush_now` registered for it).
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
    /// message; a `ProducerFinished` is noted and other signals kept for the policy.
    pub async fn send<T: Send + 'static>(&mut self, out: &Outbox<T>, msg: T) -> Result<(), Interrupted<T>> {
        self.send_on(out.node(), true, msg).await
    }

    /// [`send`](Self::send) into an inbox directly (a chassis telling a child, say).
    pub async fn deliver<T: Send + 'static>(&mut self, to: &InboxRef<T>, msg: T) -> Result<(), Interrupted<T>> {
        self.send_on(to.node(), false, msg).await
    }

    async fn send_on<T: Send + 'static>(
        &mut self,
        node: &Arc<Node<T>>,
        own: bool,
        msg: T,
    ) -> Result<(), Interrupted<T>> {
        if self.has_kept() {
            self.flush_now();
        }
        let mut attempt = SendAttempt::new(node, own);
        let mut waker = None;
        let mut msg = msg;
        loop {
            msg = match attempt.push(msg, waker.as_ref()) {
                Ok(()) => return Ok(()),
                Err(message) if !own && waker.is_none() => {
                    // Into another component's inbox: the waker to register for room is ours
                    // (the owner of `control`), not the destination's. Made on the first
                    // refusal only, then tried again so a collection in between is not missed.
                    waker = Some(owner_waker(self.control.node()));
                    msg = message;
                    continue;
                }
                Err(message) => match self.check() {
                    Some(signal) => return Err(Interrupted { message, signal }),
                    None => message,
                },
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
        if self.has_kept() {
            self.flush_now();
        }
        let mut attempt = SendAttempt::new(out.node(), true);
        let mut msg = msg;
        loop {
            msg = match attempt.push(msg, None) {
                Ok(()) => return Ok(()),
                Err(message) => match self.check() {
                    Some(signal) => return Err(Interrupted { message, signal }),
                    None => message,
                },
            };
            tctx.pause(None);
        }
    }

    /// Sends a signal of the component's own out of `signal` (an error report, a producer's
    /// own `ProducerFinished`), after the signals kept, so the order holds.
    pub async fn emit(&mut self, s: Signal) {
        while let Some(k) = self.pop_kept() {
            self.signal.send(k).await;
        }
        self.signal.send(s).await;
    }

    /// [`emit`](Self::emit) for a threaded component.
    pub fn emit_blocking(&mut self, s: Signal) {
        while let Some(k) = self.pop_kept() {
            self.signal.send_blocking(k);
        }
        self.signal.send_blocking(s);
    }

    /// Ends the component's signalling: passes on the signals still kept (they came before
    /// the end), then `end`. Takes the watch, so nothing kept can be forgotten.
    pub async fn finish(mut self, end: Signal) {
        self.emit(end).await;
    }

    /// [`finish`](Self::finish) for a threaded component.
    pub fn finish_blocking(mut self, end: Signal) {
        self.emit_blocking(end);
    }

    /// Ends without a terminal signal of its own (a component whose end is reported some
    /// other way): passes on the signals still kept.
    pub async fn close(mut self) {
        while let Some(k) = self.pop_kept() {
            self.signal.send(k).await;
        }
    }
}

impl Drop for ControlWatch {
    fn drop(&mut self) {
        // A component that ended without `finish` (an early return, a panic): what was kept
        // still goes on if `signal` has room, rather than vanishing.
        while let Some(s) = self.pop_kept() {
            if self.signal.try_send(s).is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crate::{ComponentBuilder, ControlWatch, Scheduler, Signal, SignalPolicy};

    /// `try_signal` hands out, without a data inbox: other signals (under `Deliver`), then a
    /// `ProducerFinished` at once, and a shutdown.
    #[test]
    fn try_signal_hands_out_signals_without_a_data_inbox() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut b = ComponentBuilder::new("Chassis");
        let (control, signal) = (b.control(), b.signal());
        let log = seen.clone();
        let c = b.run(move |_| async move {
            let mut watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver);
            while let Some(s) = watch.try_signal() {
                log.lock().unwrap().push(s.axon_name());
            }
        });
        let control = c.inbox_ref::<Signal>("control").unwrap();
        for s in [Signal::Status("a".into()), Signal::producer_finished(), Signal::ShutdownMicroprocess] {
            control.try_send(s).unwrap();
        }
        let sched = Scheduler::new();
        sched.activate(&c).unwrap();
        sched.run_until_idle();
        assert_eq!(*seen.lock().unwrap(), ["status", "shutdownMicroprocess", "producerFinished"]);
    }

    /// A delivery into another component's full inbox waits, and goes through once that
    /// component reads: the waiting sender is the one woken.
    #[test]
    fn deliver_into_a_full_inbox_resumes_when_it_is_read() {
        let mut b = ComponentBuilder::new("Slow");
        let inbox = b.inbox_with_capacity::<u32>("inbox", 1);
        let gate = b.inbox::<()>("gate");
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = got.clone();
        let slow = b.run(move |_| async move {
            gate.recv().await;
            for _ in 0..2 {
                let n = inbox.recv().await;
                log.lock().unwrap().push(n);
            }
        });
        let to = slow.inbox_ref::<u32>("inbox").unwrap();
        let mut b = ComponentBuilder::new("Sender");
        let (control, signal) = (b.control(), b.signal());
        let sender = b.run(move |_| async move {
            let mut watch = ControlWatch::new(control, signal);
            for n in [1, 2] {
                assert!(watch.deliver(&to, n).await.is_ok());
            }
        });
        let sched = Scheduler::new();
        sched.activate(&slow).unwrap();
        sched.activate(&sender).unwrap();
        sched.run_until_idle();
        assert!(!sender.is_finished(), "the second delivery waits for room");
        slow.inbox_ref::<()>("gate").unwrap().try_send(()).unwrap();
        sched.run_until_idle();
        assert_eq!(*got.lock().unwrap(), [1, 2]);
        assert!(sender.is_finished() && slow.is_finished());
    }
}
