//! Typed boxes: [`Inbox`], [`Outbox`] and [`InboxRef`], with their async and blocking calls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::component::ComponentCore;
use crate::lock;
use crate::park::{Parker, thread_parker};
use crate::postoffice::{AnyNode, Node, Refused};

/// A send refused because the destination is full; the message is handed back
/// (Axon's `noSpaceInBox`, crossbeam's `TrySendError::Full`).
#[derive(PartialEq, Eq)]
pub struct Full<T>(pub T);

impl<T> Full<T> {
    /// The message that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no space in the destination box")
    }
}

impl<T> std::error::Error for Full<T> {}

/// A box messages arrive in. Owned by the component that declared it.
///
/// Any delivery into any of a component's inboxes wakes that component (Axon's rule), so
/// a body can check several inboxes and then [`pause`](crate::pause) without missing anything.
pub struct Inbox<T> {
    node: Arc<Node<T>>,
}

impl<T> fmt::Debug for Inbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox").field("name", &&*self.node.name).finish()
    }
}

impl<T: Send + 'static> Inbox<T> {
    pub(crate) fn new(node: Arc<Node<T>>) -> Self {
        Inbox { node }
    }

    pub(crate) fn node(&self) -> &Arc<Node<T>> {
        &self.node
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// Takes the oldest message, if any (Axon's `recv`, with `None` for its IndexError).
    pub fn try_recv(&self) -> Option<T> {
        self.node.pop()
    }

    /// Waits for a message. To watch `control` at the same time (the usual case), use a
    /// [`ControlWatch`](crate::ControlWatch) or the [`Driver`](crate::Driver).
    ///
    /// # Panics
    /// If awaited (with the inbox empty) by a component other than the one that declared the
    /// box: deliveries wake only the box's owner, so the wait could never end.
    pub fn recv(&self) -> Recv<'_, T> {
        Recv { inbox: self }
    }

    /// How many messages are waiting here (Axon's `dataReady`). An inbox that forwards to a
    /// child (a passthrough) holds none: its messages go straight to the child.
    pub fn len(&self) -> usize {
        self.node.len()
    }

    /// True if no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes every waiting message, oldest first (Axon's `for msg in self.Inbox(box)`).
    pub fn drain(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.try_recv())
    }

    /// Its capacity (`None`: unbounded).
    pub fn capacity(&self) -> Option<usize> {
        self.node.stats().capacity
    }

    /// Sets its capacity (`None`: unbounded). Senders waiting for space retry.
    pub fn set_capacity(&self, capacity: Option<usize>) {
        self.node.set_capacity(capacity);
    }

    fn owner_parker(&self) -> &Arc<Parker> {
        self.node.owner.parker.get().unwrap_or_else(|| {
            panic!(
                "blocking receive on inbox {:?} of an async component: use `recv().await` \
                 (blocking calls are for threaded components and handles)",
                &*self.node.name
            )
        })
    }

    /// Blocks until a message arrives. For threaded components and handles.
    ///
    /// # Panics
    /// If the inbox belongs to an async component (blocking would stall its scheduler).
    pub fn recv_blocking(&self) -> T {
        loop {
            if let Some(m) = self.recv_timeout(Duration::from_secs(3600)) {
                return m;
            }
        }
    }

    /// Blocks until a message arrives or `timeout` passes. For threaded components and handles.
    ///
    /// # Panics
    /// If the inbox belongs to an async component.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<T> {
        let parker = self.owner_parker();
        let deadline = Instant::now() + timeout;
        loop {
            let seen = parker.generation();
            if let Some(m) = self.try_recv() {
                return Some(m);
            }
            if !parker.wait_past(seen, Some(deadline)) {
                return self.try_recv();
            }
        }
    }
}

/// The future returned by [`Inbox::recv`].
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    inbox: &'a Inbox<T>,
}

impl<T: Send + 'static> Future for Recv<'_, T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        // No waker to register: a delivery into any inbox wakes the owning component.
        match self.inbox.try_recv() {
            Some(m) => Poll::Ready(m),
            None => {
                self.inbox.node.check_owner_waits();
                Poll::Pending
            }
        }
    }
}

/// A box messages leave from. Owned by the component that declared it; where its messages
/// go is decided by whoever links it.
///
/// Unlike Axon, an unlinked outbox keeps what is sent to it (up to its capacity, unbounded
/// by default) and hands it on, in order, when it is linked.
pub struct Outbox<T> {
    node: Arc<Node<T>>,
}

impl<T> fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox").field("name", &&*self.node.name).finish()
    }
}

impl<T: Send + 'static> Outbox<T> {
    pub(crate) fn new(node: Arc<Node<T>>) -> Self {
        Outbox { node }
    }

    pub(crate) fn node(&self) -> &Arc<Node<T>> {
        &self.node
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// Sends, waiting while the destination is full (backpressure). Never loses the message.
    pub fn send(&self, msg: T) -> Sending<'_, T> {
        Sending { attempt: SendAttempt::new(&self.node, true), msg: Some(msg) }
    }

    /// Sends if there is room; otherwise hands the message back.
    pub fn try_send(&self, msg: T) -> Result<(), Full<T>> {
        self.node.push(msg, None).map_err(|r| Full(r.msg))
    }

    /// Sends if there is room; otherwise hands the message back *and* arranges for this
    /// component to be woken when space appears (Axon's idiom: catch `noSpaceInBox`, keep the
    /// message, pause, retry). For a component that must go on serving its other inboxes
    /// while one destination is full; a plain wait is simply `send(..).await`.
    pub fn try_send_notify(&self, msg: T) -> Result<(), Full<T>> {
        self.node.push(msg, Some(&owner_waker(&self.node))).map_err(|r| Full(r.msg))
    }

    /// Sends, blocking the thread while the destination is full. For threaded components
    /// (and any ordinary thread). While it waits, the component is recorded as waiting for
    /// the full box, so [`Snapshot::deadlocks`](crate::Snapshot::deadlocks) sees a threaded
    /// producer in a full-box cycle.
    pub fn send_blocking(&self, msg: T) {
        let parker = self.node.owner.parker.get().cloned().unwrap_or_else(thread_parker);
        send_blocking(&mut SendAttempt::new(&self.node, true), msg, &parker);
    }

    /// True if linked to somewhere.
    pub fn is_linked(&self) -> bool {
        self.node.is_linked()
    }

    /// Messages kept here because the outbox is not linked yet.
    pub fn buffered(&self) -> usize {
        self.node.len()
    }

    /// Messages waiting where this outbox's sends land: the final destination's queue when
    /// linked, else this outbox's own buffer. A balancer's "least loaded" measure.
    pub fn queued(&self) -> usize {
        self.node.final_len()
    }
}

/// The waker that wakes `node`'s owner: its parker if it is threaded (or a handle), else its task.
pub(crate) fn owner_waker<T>(node: &Node<T>) -> Waker {
    match node.owner.parker.get() {
        Some(p) => Waker::from(p.clone()),
        None => Waker::from(node.owner.clone()),
    }
}

/// One send in progress: the single send path behind [`Outbox::send`], [`InboxRef::send`],
/// the blocking sends and [`ControlWatch`](crate::ControlWatch)'s sends.
///
/// A push with room costs what `try_send` costs. Once refused, the push registers a waker
/// for space (the one given, or the owner's, made on first refusal) and, when the sender is
/// the box's owner, records the wait in `ComponentInfo::waiting_for` for deadlock reports;
/// the record is cleared when the send goes through or the attempt is dropped.
pub(crate) struct SendAttempt<'a, T> {
    node: &'a Arc<Node<T>>,
    /// True when sending from one's own outbox, so the sender is known.
    record: bool,
    /// The owner's waker, made on the first refusal when no waker is given.
    waker: Option<Waker>,
    /// The sending component, while it is recorded as waiting.
    waiting: Option<Arc<ComponentCore>>,
}

impl<'a, T: Send + 'static> SendAttempt<'a, T> {
    pub(crate) fn new(node: &'a Arc<Node<T>>, record: bool) -> Self {
        SendAttempt { node, record, waker: None, waiting: None }
    }

    /// Pushes once. `waker` (a future's context) is registered for space if the destination
    /// is full; with `None` the owner's waker is. Hands the message back on refusal.
    pub(crate) fn push(&mut self, msg: T, waker: Option<&Waker>) -> Result<(), T> {
        let given = waker.or(self.waker.as_ref());
        match self.node.push(msg, given) {
            Ok(()) => {
                self.clear();
                Ok(())
            }
            Err(Refused { msg, .. }) if given.is_none() => {
                // Register the owner's waker and try again, so a collection between the two
                // attempts is not missed. The first push stays waker-free: the common case.
                self.waker = Some(owner_waker(self.node));
                self.push(msg, None)
            }
            Err(Refused { msg, at }) => {
                if self.record && self.waiting.is_none() {
                    if let Some(core) = self.node.owner.core.upgrade() {
                        *lock(&core.waiting_for) = Some(Box::new(at));
                        self.waiting = Some(core);
                    }
                }
                Err(msg)
            }
        }
    }

    fn clear(&mut self) {
        if let Some(core) = self.waiting.take() {
            *lock(&core.waiting_for) = None;
        }
    }
}

impl<T> Drop for SendAttempt<'_, T> {
    fn drop(&mut self) {
        if let Some(core) = self.waiting.take() {
            *lock(&core.waiting_for) = None;
        }
    }
}

fn send_blocking<T: Send + 'static>(attempt: &mut SendAttempt<'_, T>, mut msg: T, parker: &Arc<Parker>) {
    let waker = Waker::from(parker.clone());
    loop {
        let seen = parker.generation();
        match attempt.push(msg, Some(&waker)) {
            Ok(()) => return,
            Err(back) => {
                msg = back;
                parker.wait_past(seen, None);
            }
        }
    }
}

/// The future returned by [`Outbox::send`] and [`InboxRef::send`].
#[must_use = "a send does nothing unless awaited"]
pub struct Sending<'a, T> {
    attempt: SendAttempt<'a, T>,
    msg: Option<T>,
}

impl<T> Unpin for Sending<'_, T> {}

impl<T: Send + 'static> Future for Sending<'_, T> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(msg) = this.msg.take() else {
            return Poll::Ready(());
        };
        match this.attempt.push(msg, Some(cx.waker())) {
            Ok(()) => Poll::Ready(()),
            Err(msg) => {
                this.msg = Some(msg);
                Poll::Pending
            }
        }
    }
}

/// A typed reference to a component's inbox, for delivering into it directly: from another
/// component without a linkage (Axon's `_deliver`; the hackysack players), or from ordinary
/// code. Cloneable. Obtain one with [`Component::inbox_ref`](crate::Component::inbox_ref).
pub struct InboxRef<T> {
    node: Arc<Node<T>>,
}

impl<T> Clone for InboxRef<T> {
    fn clone(&self) -> Self {
        InboxRef { node: self.node.clone() }
    }
}

impl<T> fmt::Debug for InboxRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxRef").field("name", &&*self.node.name).finish()
    }
}

impl<T: Send + 'static> InboxRef<T> {
    pub(crate) fn new(node: Arc<Node<T>>) -> Self {
        InboxRef { node }
    }

    pub(crate) fn node(&self) -> &Arc<Node<T>> {
        &self.node
    }

    /// The inbox's name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// Delivers, waiting while the inbox (or, if it forwards, its final destination) is full.
    pub fn send(&self, msg: T) -> Sending<'_, T> {
        Sending { attempt: SendAttempt::new(&self.node, false), msg: Some(msg) }
    }

    /// Delivers if there is room; otherwise hands the message back.
    pub fn try_send(&self, msg: T) -> Result<(), Full<T>> {
        self.node.push(msg, None).map_err(|r| Full(r.msg))
    }

    /// Delivers, blocking the calling thread while the destination is full.
    pub fn send_blocking(&self, msg: T) {
        send_blocking(&mut SendAttempt::new(&self.node, false), msg, &thread_parker());
    }

    /// Messages waiting in the inbox.
    pub fn len(&self) -> usize {
        self.node.len()
    }

    /// True if none are waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
