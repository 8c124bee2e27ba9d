//! A running chassis and its children: starting them, the control loop every chassis here
//! shares ([`Children`]), and the graceful way out when a child cannot be started.

use axon_core::{
    ActivateError, Component, ControlWatch, Ctx, Inbox, InboxRef, Next, Outbox, Signal, SignalPolicy, pause,
};

/// What a chassis does with a signal arriving on its `control` (its answer, for
/// [`Children::run`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    /// Tell it to every child still running.
    Tell,
    /// Tell it to every child still running, and remember it: it is the chassis's own end
    /// signal, sent once the children are done.
    TellAndRemember,
    /// Tell it to every child still running, then stop at once, without waiting for them.
    TellAndStop,
    /// Do nothing with it.
    Ignore,
}

/// How [`Children::run`] ended.
#[derive(Debug)]
pub(crate) enum Ended {
    /// Every child has ended.
    ChildrenDone,
    /// A signal the chassis answered with [`Act::TellAndStop`]: pass it to
    /// [`Children::stop`].
    Stop(Signal),
}

/// A child and its `control`, as a chassis tells it things.
pub(crate) type Target = (Component, InboxRef<Signal>);

/// How a signal reaches a child's `control`: delivered into it, or sent out of one of the
/// chassis's own outboxes linked to it (Carousel's and TPipe's `_signal`).
#[derive(Clone, Copy)]
enum Route<'a> {
    Inbox(&'a InboxRef<Signal>),
    Outbox(&'a Outbox<Signal>),
}

/// A chassis's side of its running children: its own `control` watched (a [`ControlWatch`]
/// with [`SignalPolicy::Deliver`], since a chassis acts on every signal: it tells its
/// children), signals told to the children, what the children signal passed on, and the
/// chassis's end signalled once.
///
/// - Signals from the chassis's `control` are handed to the chassis
///   ([`next_signal`](Self::next_signal), or the whole loop, [`run`](Self::run)), which
///   tells them to its children.
/// - A child's non-terminal signals (Status, Notify, ErrorInformation ...) arriving in the
///   chassis's private inbox go out of the chassis's `signal`, so nothing is lost silently.
///   Its terminal signals are absorbed: the chassis sees the child end, and signals its own
///   end once.
/// - Telling a child waits for room in its `control`. A shutdown arriving on the chassis's
///   `control` meanwhile abandons telling the other children a lesser signal, and is
///   handed out next; a shutdown being told is told to every child regardless (the chassis
///   is ending anyway: a second shutdown adds nothing).
/// - The end: [`finish`](Self::finish) sends the [remembered](Self::remember) signal, or a
///   `ProducerFinished` naming the chassis; [`stop`](Self::stop) disowns the children still
///   running and sends the signal that stopped it.
pub(crate) struct Children {
    ctx: Ctx,
    watch: ControlWatch,
    /// The private inbox the children's `signal`s feed, if they feed the chassis.
    child_signals: Option<Inbox<Signal>>,
    /// A shutdown that arrived while telling the children something else: handed out next.
    /// Only ever a shutdown.
    pending: Option<Signal>,
    /// The chassis's end signal, once one is chosen (see [`remember`](Self::remember)).
    remembered: Option<Signal>,
}

impl Children {
    /// The running side of the chassis `ctx`, watching its `control`, speaking on its
    /// `signal`, and passing on what arrives in `child_signals`.
    pub(crate) fn new(
        ctx: Ctx,
        control: Inbox<Signal>,
        signal: Outbox<Signal>,
        child_signals: Option<Inbox<Signal>>,
    ) -> Self {
        let watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver);
        Children { ctx, watch, child_signals, pending: None, remembered: None }
    }

    /// The watch, for what the chassis says itself (an error report, TPipe's echo of a
    /// signal).
    pub(crate) fn watch(&mut self) -> &mut ControlWatch {
        &mut self.watch
    }

    /// The next thing to act on, without waiting, the children's signals passed on first: a
    /// message from `inbox` (if given: a chassis that carries data), or a signal from
    /// `control` ([`Next::End`] for a shutdown, or a `ProducerFinished` once `inbox` is
    /// drained; [`Next::Other`] for the rest).
    pub(crate) async fn next<T: Send + 'static>(&mut self, inbox: Option<&Inbox<T>>) -> Option<Next<T>> {
        self.pass_child_signals().await;
        if let Some(s) = self.pending.take() {
            return Some(Next::End(s));
        }
        match inbox {
            Some(inbox) => self.watch.try_next(inbox),
            None => self.watch.try_signal().map(|s| if s.is_terminal() { Next::End(s) } else { Next::Other(s) }),
        }
    }

    /// The next signal from `control` to act on, without waiting (see [`next`](Self::next)).
    pub(crate) async fn next_signal(&mut self) -> Option<Signal> {
        match self.next::<()>(None).await? {
            Next::Other(s) | Next::End(s) => Some(s),
            Next::Data(()) => None,
        }
    }

    /// Passes on what the children signalled so far: non-terminal signals out of `signal`,
    /// terminal ones absorbed.
    pub(crate) async fn pass_child_signals(&mut self) {
        let Some(from) = &self.child_signals else { return };
        while let Some(s) = from.try_recv() {
            if !s.is_terminal() {
                self.watch.emit(s).await;
            }
        }
    }

    /// Tells `s` to `child`, unless it has ended, by sending it out of `out` (an outbox of
    /// the chassis linked to the child's `control`).
    pub(crate) async fn tell_through(&mut self, child: &Component, out: &Outbox<Signal>, s: &Signal) {
        self.tell_by(child, Route::Outbox(out), s, s.is_shutdown()).await;
    }

    /// Tells `s` to every child of `targets` still running. With `persist`, a shutdown
    /// arriving meanwhile does not interrupt it. False if interrupted.
    async fn tell_all(&mut self, targets: &[Target], s: &Signal, persist: bool) -> bool {
        for (child, control) in targets {
            if !self.tell_by(child, Route::Inbox(control), s, persist).await {
                return false;
            }
        }
        true
    }

    /// Tells `s` to `child`, waiting for room in its `control`. A shutdown arriving meanwhile
    /// is kept for [`next`](Self::next) and the telling abandoned (false), unless `persist`.
    async fn tell_by(&mut self, child: &Component, route: Route<'_>, s: &Signal, persist: bool) -> bool {
        if child.is_finished() {
            return true;
        }
        let mut msg = s.clone();
        loop {
            let told = match route {
                Route::Inbox(r) => self.watch.deliver(r, msg).await,
                Route::Outbox(o) => self.watch.send(o, msg).await,
            };
            match told {
                Ok(()) => return true,
                // Ending already: the second shutdown adds nothing.
                Err(i) if persist => msg = i.message,
                Err(i) => {
                    self.pending.get_or_insert(i.signal);
                    return false;
                }
            }
        }
    }

    /// Sends `msg` out of `out` (a chassis's own data or requests), waiting for room. False if
    /// a shutdown arrived meanwhile: the message is dropped and the shutdown handed out next.
    pub(crate) async fn send<T: Send + 'static>(&mut self, out: &Outbox<T>, msg: T) -> bool {
        match self.watch.send(out, msg).await {
            Ok(()) => true,
            Err(i) => {
                self.pending.get_or_insert(i.signal);
                false
            }
        }
    }

    /// Remembers `s` as the chassis's end signal. A shutdown replaces a `ProducerFinished`
    /// remembered before it; otherwise the first one remembered stays.
    pub(crate) fn remember(&mut self, s: Signal) {
        if !self.remembered.as_ref().is_some_and(|r| r.is_shutdown() || !s.is_shutdown()) {
            self.remembered = Some(s);
        }
    }

    /// The end signal remembered so far.
    pub(crate) fn remembered(&self) -> Option<&Signal> {
        self.remembered.as_ref()
    }

    /// The loop of a chassis that only looks after its children: each signal on `control`
    /// is answered by `act` and told to the children of `targets` as it says; the children's
    /// signals are passed on. Returns when every child has ended, or when `act` says stop.
    pub(crate) async fn run(&mut self, targets: &[Target], mut act: impl FnMut(&Signal) -> Act) -> Ended {
        loop {
            while let Some(s) = self.next_signal().await {
                match act(&s) {
                    Act::Ignore => {}
                    Act::Tell => {
                        self.tell_all(targets, &s, s.is_shutdown()).await;
                    }
                    Act::TellAndRemember => {
                        self.tell_all(targets, &s, s.is_shutdown()).await;
                        self.remember(s);
                    }
                    Act::TellAndStop => {
                        self.tell_all(targets, &s, true).await;
                        return Ended::Stop(s);
                    }
                }
            }
            if self.ctx.children_done() {
                return Ended::ChildrenDone;
            }
            // Woken by a signal on `control`, a child's signal, or a child's end.
            pause().await;
        }
    }

    /// The end once the children are done: their last signals passed on, then the
    /// remembered signal, or a `ProducerFinished` naming the chassis.
    pub(crate) async fn finish(mut self) {
        self.pass_child_signals().await;
        let end = self.remembered.take().unwrap_or_else(|| Signal::producer_finished_by(self.ctx.id()));
        self.watch.finish(end).await;
    }

    /// The end of a chassis whose `signal` speaks for a child (a Graphline whose user linked
    /// a child to it): nothing of its own is sent.
    pub(crate) async fn close(mut self) {
        self.pass_child_signals().await;
        self.watch.close().await;
    }

    /// Stops at once: the children's signals so far passed on, the children still running
    /// disowned (and the chassis's links to them removed), then `s` sent on.
    pub(crate) async fn stop(mut self, s: Signal) {
        self.pass_child_signals().await;
        for child in self.ctx.children() {
            self.ctx.remove_child(&child);
        }
        self.watch.finish(s).await;
    }

    /// The graceful way out when a child could not be started (see [`give_up`]).
    pub(crate) async fn give_up(self, failure: StartFailure) {
        give_up(&self.ctx, failure, self.watch.signal(), self.child_signals.as_ref()).await;
    }
}

/// A child that could not be started when its chassis first ran, and the children started
/// before it.
pub(crate) struct StartFailure {
    /// For the `ErrorInformation`: the chassis, the child and the reason.
    message: String,
    /// Started, so to be stopped.
    started: Vec<Component>,
}

impl StartFailure {
    /// The failure to start `child` (no other child was started: a Seq's stage, a TPipe's
    /// action), with a message naming the chassis, the child and the reason.
    pub(crate) fn new(ctx: &Ctx, child: &Component, reason: &str) -> Self {
        StartFailure {
            message: format!("{}: cannot start child {}: {reason}", ctx.name(), child.name()),
            started: Vec::new(),
        }
    }

    /// The same, noting that `child` was started after all (so it is to be stopped).
    pub(crate) fn with_started(mut self, child: Component) -> Self {
        self.started.push(child);
        self
    }
}

/// Why `child` did not start, in words for an `ErrorInformation`.
pub(crate) fn refusal(ctx: &Ctx, e: &ActivateError) -> String {
    match e {
        ActivateError::Refused { reason, .. } => format!("it refused to start: {reason}"),
        ActivateError::AlreadyActivated { .. } => {
            format!(
                "it was activated by someone else after {} was built (a chassis starts its children itself)",
                ctx.name()
            )
        }
        other => other.to_string(),
    }
}

/// Activates `children` in order on the chassis's scheduler. If one cannot be started (its
/// activation hook refused, or someone else activated it since the chassis was built: neither
/// can be known when the chassis is built), it and the children after it are disowned (their
/// links made by the chassis removed, so the unstarted ones are left as they were given) and
/// the failure is returned, with the children already started, for [`give_up`].
pub(crate) fn activate_children(ctx: &Ctx, children: &[Component]) -> Result<(), StartFailure> {
    for (i, child) in children.iter().enumerate() {
        if let Err(e) = ctx.activate(child) {
            for c in &children[i..] {
                ctx.remove_child(c);
            }
            let failure = StartFailure::new(ctx, child, &refusal(ctx, &e));
            return Err(StartFailure { started: children[..i].to_vec(), ..failure });
        }
    }
    Ok(())
}

/// The graceful way out for a chassis that could not start a child: it sends
/// `ErrorInformation` (naming itself, the child and the reason) out of `signal`, so whatever it
/// feeds hears of it; sends `ShutdownMicroprocess` to the `control` of each child it started
/// (a child with no `Signal` control cannot be told, so it is disowned rather than waited for);
/// waits for them to end, passing on what they signal into `child_signals` (a chassis's private
/// inbox for its children's signals, if it has one); then sends `ShutdownMicroprocess` out of
/// `signal`. The chassis's body ends after this; it is ending already, so its `control` is no
/// longer read.
pub(crate) async fn give_up(
    ctx: &Ctx,
    failure: StartFailure,
    signal: &Outbox<Signal>,
    child_signals: Option<&Inbox<Signal>>,
) {
    let StartFailure { message, started } = failure;
    signal.send(Signal::ErrorInformation { caller: Some(ctx.id()), message }).await;
    for child in &started {
        if child.is_finished() {
            continue;
        }
        match child.inbox_ref::<Signal>("control") {
            Ok(control) => control.send(Signal::ShutdownMicroprocess).await,
            Err(_) => ctx.remove_child(child),
        }
    }
    drop(started);
    while !ctx.children_done() {
        pass_on_child_signals(child_signals, signal).await;
        pause().await;
    }
    pass_on_child_signals(child_signals, signal).await;
    signal.send(Signal::ShutdownMicroprocess).await;
}

/// [`Children::pass_child_signals`] for [`give_up`], which sends on `signal` directly.
async fn pass_on_child_signals(from: Option<&Inbox<Signal>>, to: &Outbox<Signal>) {
    let Some(from) = from else { return };
    while let Some(s) = from.try_recv() {
        if !s.is_terminal() {
            to.send(s).await;
        }
    }
}
