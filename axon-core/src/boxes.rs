//! Typed boxes: [`Inbox`], [`Outbox`] and [`InboxRef`], with their async and blocking calls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::park::{Parker, thread_parker};
use crate::postoffice::{AnyNode, Node, Refused};
use crate::{Signal, lock};

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

/// What [`Inbox::recv_with_control`] received.
#[derive(Debug)]
pub enum Received<T> {
    /// A signal from `control` (checked first).
    Control(Signal),
    /// A message from the data inbox.
    Data(T),
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

    /// Waits for a message.
    pub fn recv(&self) -> Recv<'_, T> {
        Recv { inbox: self }
    }

    /// Waits for a signal on `control` or a message here, whichever comes first; `control`
    /// is checked first, so a shutdown is never starved by a busy data stream.
    pub async fn recv_with_control(&self, control: &Inbox<Signal>) -> Received<T> {
        loop {
            if let Some(s) = control.try_recv() {
                return Received::Control(s);
            }
            if let Some(m) = self.try_recv() {
                return Received::Data(m);
            }
            crate::pause().await;
        }
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
            None => Poll::Pending,
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
        Sending { node: &self.node, msg: Some(msg), waited: false, sender_is_owner: true }
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
        let waker = match self.node.owner.parker.get() {
            Some(p) => Waker::from(p.clone()),
            None => Waker::from(self.node.owner.clone()),
        };
        self.node.push(msg, Some(&waker)).map_err(|r| Full(r.msg))
    }

    /// Sends, blocking the thread while the destination is full. For threaded components
    /// (and any ordinary thread).
    pub fn send_blocking(&self, msg: T) {
        let parker = self.node.owner.parker.get().cloned().unwrap_or_else(thread_parker);
        send_blocking(&self.node, msg, &parker);
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

fn send_blocking<T: Send + 'static>(node: &Node<T>, mut msg: T, parker: &Arc<Parker>) {
    let waker = Waker::from(parker.clone());
    loop {
        let seen = parker.generation();
        match node.push(msg, Some(&waker)) {
            Ok(()) => return,
            Err(r) => {
                msg = r.msg;
                parker.wait_past(seen, None);
            }
        }
    }
}

/// The future returned by [`Outbox::send`] and [`InboxRef::send`].
#[must_use = "a send does nothing unless awaited"]
pub struct Sending<'a, T> {
    node: &'a Arc<Node<T>>,
    msg: Option<T>,
    waited: bool,
    /// True when sending from one's own outbox, so the sender is known (for deadlock reports).
    sender_is_owner: bool,
}

impl<T> Unpin for Sending<'_, T> {}

impl<T: Send + 'static> Future for Sending<'_, T> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(msg) = self.msg.take() else {
            return Poll::Ready(());
        };
        match self.node.push(msg, Some(cx.waker())) {
            Ok(()) => {
                if self.waited {
                    self.set_waiting(None);
                }
                Poll::Ready(())
            }
            Err(Refused { msg, at }) => {
                self.msg = Some(msg);
                self.waited = true;
                self.set_waiting(Some(at));
                Poll::Pending
            }
        }
    }
}

impl<T> Sending<'_, T> {
    /// Records what the sending component waits on, for deadlock detection.
    fn set_waiting(&self, at: Option<(crate::ComponentId, crate::postoffice::Name)>) {
        if !self.sender_is_owner {
            return;
        }
        if let Some(core) = self.node.owner.core.upgrade() {
            *lock(&core.waiting_for) = at.map(Box::new);
        }
    }
}

impl<T> Drop for Sending<'_, T> {
    fn drop(&mut self) {
        if self.waited && self.msg.is_some() {
            self.set_waiting(None);
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

    /// The inbox's name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// Delivers, waiting while the inbox (or, if it forwards, its final destination) is full.
    pub fn send(&self, msg: T) -> Sending<'_, T> {
        Sending { node: &self.node, msg: Some(msg), waited: false, sender_is_owner: false }
    }

    /// Delivers if there is room; otherwise hands the message back.
    pub fn try_send(&self, msg: T) -> Result<(), Full<T>> {
        self.node.push(msg, None).map_err(|r| Full(r.msg))
    }

    /// Delivers, blocking the calling thread while the destination is full.
    pub fn send_blocking(&self, msg: T) {
        send_blocking(&self.node, msg, &thread_parker());
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
