//! Axon for Rust: components that talk only through named, typed inboxes and outboxes,
//! linked by a third party, run by a cooperative scheduler.
//!
//! This is the core of the Kamaelia reimplementation. A component declares its boxes, then
//! gives an `async` body (Axon's generator `main()`); a chassis or any code *links* its
//! outboxes to other components' inboxes by name; a [`Scheduler`] runs them all.
//!
//! ```
//! use axon_core::{link, ComponentBuilder, Scheduler, Signal};
//!
//! // A filter, from scratch: declare the four standard boxes, give the driver a closure.
//! // The driver owns the loop and the whole shutdown contract.
//! let mut b = ComponentBuilder::new("Evens");
//! let io = b.standard::<u32, u32>();
//! let evens = b.run(|_ctx| io.transform(|n| (n % 2 == 0).then_some(n)));
//!
//! // A source: sends 1..=6, then ProducerFinished.
//! let mut b = ComponentBuilder::new("Source");
//! let (out, sig) = (b.outbox::<u32>("outbox"), b.signal());
//! let source = b.run(|ctx| async move {
//!     for n in 1..=6 {
//!         out.send(n).await;
//!     }
//!     sig.send(Signal::producer_finished_by(ctx.id())).await;
//! });
//!
//! link((&source, "outbox"), (&evens, "inbox")).unwrap();
//! link((&source, "signal"), (&evens, "control")).unwrap();
//! let sched = Scheduler::new();
//! sched.activate(&source).unwrap();
//! sched.activate(&evens).unwrap();
//! sched.run();
//! // 2, 4 and 6 wait in the filter's unlinked outbox, its ProducerFinished in `signal`.
//! assert_eq!(evens.box_info("outbox").unwrap().len, 3);
//! assert_eq!(evens.box_info("signal").unwrap().len, 1);
//! ```
//!
//! The main types: [`ComponentBuilder`] (declare boxes, give a body), [`Component`] (a
//! handle), [`Inbox`]/[`Outbox`] (typed boxes), [`link`] and [`Linkage`], [`Signal`] (Axon's
//! IPC), [`Scheduler`] (single-thread deterministic, or multi-thread work stealing),
//! [`Handle`] (drive a system from ordinary code), [`Driver`] (a component's loop with the
//! whole shutdown contract: `io.transform(f)`, `io.serve(f)`), [`ControlWatch`] (the same
//! contract for components that write their own loop: receive signals first, send with
//! backpressure yet stop on a shutdown, pass signals on per one [`SignalPolicy`]), [`Services`],
//! [`stm`], and [`Snapshot`] (introspection). Differences from the original Axon are listed in
//! `ARCHITECTURE.md` at the repository root.

mod boxes;
mod component;
pub mod conformance;
mod driver;
mod handle;
mod introspect;
mod linkage;
mod loom;
mod park;
mod postoffice;
mod scheduler;
mod services;
mod signal;
pub mod stm;
mod task;
mod time;
mod watch;

pub use boxes::{Full, Inbox, InboxRef, Outbox, Recv, Sending};
pub use component::{Component, ComponentBuilder, ComponentId, ComponentState, Ctx, StandardBoxes, ThreadCtx};
pub use driver::Driver;
pub use handle::{Handle, HandleError};
pub use introspect::{BoxAddr, BoxInfo, ComponentInfo, Deadlock, LinkInfo, Snapshot};
pub use linkage::{LinkError, LinkErrorKind, LinkKind, LinkOptions, Linkage, link, link_with, unlink};
pub use park::{CondvarPark, Park};
pub use postoffice::Direction;
pub use scheduler::{ActivateError, Background, KeepAlive, PanicReport, Scheduler, SchedulerBuilder, SchedulerHandle};
pub use services::{ServiceError, Services};
pub use signal::{Payload, Signal};
pub use time::{Pause, PauseUntil, Sleep, YieldNow, pause, pause_for, pause_until, sleep, sleep_until, yield_now};
pub use watch::{ControlWatch, Interrupted, Next, SignalPolicy};

/// Locks a mutex, ignoring poisoning: a component's panic is caught and reported by the
/// scheduler, and no user code runs while one of our locks is held, so the data behind a
/// poisoned lock is still consistent.
pub(crate) fn lock<T: ?Sized>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
