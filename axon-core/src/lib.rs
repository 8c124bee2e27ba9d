//! Axon for Rust: components that talk only through named, typed inboxes and outboxes,
//! linked by a third party, run by a cooperative scheduler.
//!
//! This is the core of the Kamaelia reimplementation. A component declares its boxes, then
//! gives an `async` body (Axon's generator `main()`); a chassis or any code *links* its
//! outboxes to other components' inboxes by name; a [`Scheduler`] runs them all.
//!
//! ```
//! use axon_core::{link, ComponentBuilder, Received, Scheduler, Signal};
//! use std::sync::{Arc, Mutex};
//!
//! // A source: sends three numbers, then ProducerFinished.
//! let mut b = ComponentBuilder::new("Source");
//! let out = b.outbox::<u32>("outbox");
//! let sig = b.signal();
//! let source = b.run(move |ctx| async move {
//!     for n in 1..=3 {
//!         out.send(n).await;
//!     }
//!     sig.send(Signal::producer_finished_by(ctx.id())).await;
//! });
//!
//! // A sink: collects until ProducerFinished.
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let mut b = ComponentBuilder::new("Sink");
//! let std = b.standard::<u32, u32>();
//! let got = seen.clone();
//! let sink = b.run(move |_ctx| async move {
//!     loop {
//!         match std.inbox.recv_with_control(&std.control).await {
//!             Received::Data(n) => got.lock().unwrap().push(n),
//!             Received::Control(s) if s.is_terminal() => break,
//!             Received::Control(_) => {}
//!         }
//!     }
//!     // Anything that arrived before the signal is still waiting: drain it.
//!     got.lock().unwrap().extend(std.inbox.drain());
//! });
//!
//! link((&source, "outbox"), (&sink, "inbox")).unwrap();
//! link((&source, "signal"), (&sink, "control")).unwrap();
//! let sched = Scheduler::new();
//! sched.activate(&source).unwrap();
//! sched.activate(&sink).unwrap();
//! sched.run();
//! assert_eq!(*seen.lock().unwrap(), [1, 2, 3]);
//! ```
//!
//! The main types: [`ComponentBuilder`] (declare boxes, give a body), [`Component`] (a
//! handle), [`Inbox`]/[`Outbox`] (typed boxes), [`link`] and [`Linkage`], [`Signal`] (Axon's
//! IPC), [`Scheduler`] (single-thread deterministic, or multi-thread work stealing),
//! [`Handle`] (drive a system from ordinary code), [`ControlWatch`] (the shutdown contract:
//! receive signals first, send with backpressure yet stop on a shutdown), [`Services`],
//! [`stm`], and [`Snapshot`] (introspection). Differences from the original Axon are listed in
//! `ARCHITECTURE.md` at the repository root.

mod boxes;
mod component;
mod handle;
mod introspect;
mod linkage;
mod park;
mod postoffice;
mod scheduler;
mod services;
mod signal;
pub mod stm;
mod task;
mod time;
mod watch;

pub use boxes::{Full, Inbox, InboxRef, Outbox, Received, Recv, Sending};
pub use component::{Component, ComponentBuilder, ComponentId, ComponentState, Ctx, StandardBoxes, ThreadCtx};
pub use handle::{Handle, HandleError};
pub use introspect::{BoxAddr, BoxInfo, ComponentInfo, Deadlock, LinkInfo, Snapshot};
pub use linkage::{LinkError, LinkErrorKind, LinkKind, LinkOptions, Linkage, link, link_with, unlink};
pub use park::{CondvarPark, Park};
pub use postoffice::Direction;
pub use scheduler::{ActivateError, Background, KeepAlive, PanicReport, Scheduler, SchedulerBuilder, SchedulerHandle};
pub use services::{ServiceError, Services};
pub use signal::{Payload, Signal};
pub use time::{Pause, PauseUntil, Sleep, YieldNow, pause, pause_for, pause_until, sleep, sleep_until, yield_now};
pub use watch::{ControlWatch, Interrupted, Next};

/// Locks a mutex, ignoring poisoning: a component's panic is caught and reported by the
/// scheduler, and no user code runs while one of our locks is held, so the data behind a
/// poisoned lock is still consistent.
pub(crate) fn lock<T: ?Sized>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
