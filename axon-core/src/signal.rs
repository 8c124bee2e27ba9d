//! Axon's IPC signals: the messages that travel on `control` inboxes and `signal` outboxes.
//!
//! Axon matches these by class (`isinstance`); here they are one enum, matched by variant.
//! The scheduler-level IPC classes of Axon have no message form in Rust:
//! `newComponent` is [`Ctx::activate`](crate::Ctx::activate), `WaitComplete` is simply `.await`
//! on a sub-future (which also fixes Axon's §1.16 quirks 1 and 3: a finished sub-task always
//! resumes its caller, and a pause inside it really pauses), and `reactivate` is internal.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::ComponentId;

/// A payload carried by [`Signal::Notify`]: any shareable value.
///
/// Kamaelia's network IPC (`newCSA`, `shutdownCSA`, `newReader` ...) are `notify` subclasses;
/// crates above axon-core put their own types here and downcast with [`Payload::downcast_ref`].
#[derive(Clone)]
pub struct Payload(Arc<dyn Any + Send + Sync>);

impl Payload {
    /// Wraps a value.
    pub fn new<V: Any + Send + Sync>(value: V) -> Self {
        Payload(Arc::new(value))
    }

    /// The value, if it is a `V`.
    pub fn downcast_ref<V: Any>(&self) -> Option<&V> {
        self.0.downcast_ref()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Payload(..)")
    }
}

/// One of Axon's IPC messages (reference §1.10).
///
/// Convention, as documented in Axon's `Ipc.py`: on [`ProducerFinished`](Signal::ProducerFinished)
/// a component may finish the data it holds, then stops and passes the signal on out of `signal`;
/// on [`ShutdownMicroprocess`](Signal::ShutdownMicroprocess) it stops promptly and passes it on.
/// Wiring `signal -> control` along a chain makes shutdown cascade.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Signal {
    /// "No more data will come" (a clean end of stream).
    ProducerFinished {
        /// The component that finished, if it said.
        caller: Option<ComponentId>,
        /// A free-form note, e.g. how a connection ended.
        message: Option<String>,
    },
    /// "Stop now": stop promptly and pass the signal on.
    ShutdownMicroprocess,
    /// Axon's older generic shutdown request, still used by a few components.
    Shutdown,
    /// A generic event notification carrying any payload.
    Notify {
        /// Who sent it.
        caller: Option<ComponentId>,
        /// What it is about.
        payload: Payload,
    },
    /// A generic status report.
    Status(String),
    /// "About to block": a hint; nothing acts on it.
    WouldBlock {
        /// Who is about to block.
        caller: Option<ComponentId>,
    },
    /// A non-fatal error report.
    ErrorInformation {
        /// Who had the error.
        caller: Option<ComponentId>,
        /// The error, as text.
        message: String,
    },
}

impl Signal {
    /// `ProducerFinished` with no caller and no message.
    pub fn producer_finished() -> Self {
        Signal::ProducerFinished { caller: None, message: None }
    }

    /// `ProducerFinished` naming the component that finished.
    pub fn producer_finished_by(caller: ComponentId) -> Self {
        Signal::ProducerFinished { caller: Some(caller), message: None }
    }

    /// True for `ProducerFinished`: drain what you hold, pass it on, stop.
    pub fn is_producer_finished(&self) -> bool {
        matches!(self, Signal::ProducerFinished { .. })
    }

    /// True for `ShutdownMicroprocess` and Axon's older `Shutdown`: stop promptly.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, Signal::ShutdownMicroprocess | Signal::Shutdown)
    }

    /// True for any of the three signals that end a component under the usual contract.
    pub fn is_terminal(&self) -> bool {
        self.is_producer_finished() || self.is_shutdown()
    }

    /// Axon's class name for this signal, as the original prints it.
    pub fn axon_name(&self) -> &'static str {
        match self {
            Signal::ProducerFinished { .. } => "producerFinished",
            Signal::ShutdownMicroprocess => "shutdownMicroprocess",
            Signal::Shutdown => "shutdown",
            Signal::Notify { .. } => "notify",
            Signal::Status(_) => "status",
            Signal::WouldBlock { .. } => "wouldblock",
            Signal::ErrorInformation { .. } => "errorInformation",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signal::ProducerFinished { caller, message } => {
                f.write_str("producerFinished")?;
                if let Some(c) = caller {
                    write!(f, " from {c}")?;
                }
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
            Signal::Status(s) => write!(f, "status: {s}"),
            Signal::ErrorInformation { message, .. } => write!(f, "errorInformation: {message}"),
            other => f.write_str(other.axon_name()),
        }
    }
}
