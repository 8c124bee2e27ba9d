//! [`Handle`]: drive a component system from ordinary code (a `main`, a test, another runtime).

use std::time::Duration;

use crate::Signal;
use crate::boxes::{Full, Inbox, InboxRef};
use crate::component::{Component, ComponentBuilder};
use crate::linkage::{self, LinkError, Linkage};
use crate::scheduler::{ActivateError, KeepAlive, SchedulerHandle};

/// Why a [`Handle`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandleError {
    /// The component's standard boxes are missing or carry other types.
    Link(LinkError),
    /// The component was already activated.
    Activate(ActivateError),
}

impl std::fmt::Display for HandleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandleError::Link(e) => write!(f, "cannot wrap the component in a handle: {e}"),
            HandleError::Activate(e) => write!(f, "cannot wrap the component in a handle: {e}"),
        }
    }
}

impl std::error::Error for HandleError {}

impl From<LinkError> for HandleError {
    fn from(e: LinkError) -> Self {
        HandleError::Link(e)
    }
}

impl From<ActivateError> for HandleError {
    fn from(e: ActivateError) -> Self {
        HandleError::Activate(e)
    }
}

/// Puts messages into a component's `inbox`/`control` and gets them from its
/// `outbox`/`signal`, from any ordinary thread, blocking or not (Axon's `Handle`, with
/// LikeFile's blocking `get`). It keeps its scheduler running while it lives.
///
/// ```
/// use std::time::Duration;
/// use axon_core::{ComponentBuilder, Scheduler};
///
/// let mut b = ComponentBuilder::new("Upper");
/// let std = b.standard::<String, String>();
/// let upper = b.run(move |_| async move {
///     loop {
///         let line = std.inbox.recv().await;
///         std.outbox.send(line.to_uppercase()).await;
///     }
/// });
/// let bg = Scheduler::new().background();
/// let h = bg.handle::<String, String>(&upper).unwrap();
/// h.put("hello".to_string());
/// assert_eq!(h.get_timeout(Duration::from_secs(5)).as_deref(), Some("HELLO"));
/// ```
pub struct Handle<I, O> {
    component: Component,
    inbox: InboxRef<I>,
    control: InboxRef<Signal>,
    outbox: Inbox<O>,
    signal: Inbox<Signal>,
    links: [Linkage; 2],
    _keep: KeepAlive,
}

impl SchedulerHandle {
    /// Wraps `component` in a [`Handle`] and activates it on this scheduler. The component
    /// must have the four standard boxes, carrying `I` in and `O` out.
    pub fn handle<I: Send + 'static, O: Send + 'static>(
        &self,
        component: &Component,
    ) -> Result<Handle<I, O>, HandleError> {
        let mut b = ComponentBuilder::new("Handle");
        let outbox = b.inbox::<O>("outbox");
        let signal = b.inbox::<Signal>("signal");
        let me = b.external();
        let inbox = component.inbox_ref::<I>("inbox")?;
        let control = component.inbox_ref::<Signal>("control")?;
        let l1 = linkage::link((component, "outbox"), (&me, "outbox"))?;
        let l2 = match linkage::link((component, "signal"), (&me, "signal")) {
            Ok(l) => l,
            Err(e) => {
                linkage::unlink(&l1);
                return Err(e.into());
            }
        };
        let keep = self.keep_alive();
        if let Err(e) = self.activate(component) {
            linkage::unlink(&l1);
            linkage::unlink(&l2);
            return Err(e.into());
        }
        Ok(Handle { component: component.clone(), inbox, control, outbox, signal, links: [l1, l2], _keep: keep })
    }
}

impl<I: Send + 'static, O: Send + 'static> Handle<I, O> {
    /// The wrapped component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// Puts a message into its `inbox`, blocking while that inbox is full.
    pub fn put(&self, msg: I) {
        self.inbox.send_blocking(msg);
    }

    /// Puts a message into its `inbox` if there is room.
    pub fn try_put(&self, msg: I) -> Result<(), Full<I>> {
        self.inbox.try_send(msg)
    }

    /// Puts a signal into its `control`, blocking while that inbox is full.
    pub fn put_control(&self, signal: Signal) {
        self.control.send_blocking(signal);
    }

    /// Gets the next message from its `outbox`, blocking until there is one.
    pub fn get(&self) -> O {
        self.outbox.recv_blocking()
    }

    /// Gets the next message from its `outbox`, waiting at most `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> Option<O> {
        self.outbox.recv_timeout(timeout)
    }

    /// Gets the next message from its `outbox` if one is waiting.
    pub fn try_get(&self) -> Option<O> {
        self.outbox.try_recv()
    }

    /// Gets the next signal from its `signal`, waiting at most `timeout`.
    pub fn get_signal_timeout(&self, timeout: Duration) -> Option<Signal> {
        self.signal.recv_timeout(timeout)
    }

    /// Gets the next signal from its `signal` if one is waiting.
    pub fn try_get_signal(&self) -> Option<Signal> {
        self.signal.try_recv()
    }
}

impl<I, O> Drop for Handle<I, O> {
    fn drop(&mut self) {
        // What the component sends from now on waits in its own outboxes, not in boxes
        // nobody will read.
        for l in &self.links {
            linkage::unlink(l);
        }
    }
}
