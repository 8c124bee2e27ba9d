//! A component's run state: the scheduler-facing half of a component (Axon's microprocess).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;
use std::task::Wake;

use crate::ComponentId;
use crate::component::ComponentCore;
use crate::park::Parker;
use crate::scheduler::Shared;

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A component's async body, with the waker its polls use. The waker is made on the first
/// poll and kept, so a poll costs no reference-count traffic; it points back at the task
/// cell, and that cycle is broken when the body is taken out (at the end, or at teardown).
pub(crate) struct Body {
    pub(crate) future: BoxFuture,
    pub(crate) waker: Option<std::task::Waker>,
}

// Task states. Exactly one of the first five holds; NOTIFIED is only ever combined with RUNNING.
/// Built, not activated: wakes are ignored (Axon: waking an unactivated microprocess does nothing).
pub(crate) const CREATED: u8 = 0;
/// Activated and paused: not in any run queue; the next wake queues it.
pub(crate) const IDLE: u8 = 1;
/// In exactly one run queue. Only the thread that pops it may move it on (to RUNNING).
pub(crate) const SCHEDULED: u8 = 2;
/// Being polled by exactly one thread, which owns `future` for the duration.
pub(crate) const RUNNING: u8 = 3;
/// Finished (or panicked); never queued again.
pub(crate) const DONE: u8 = 4;
/// With RUNNING: woken while being polled, so it is queued again after the poll
/// (Axon's rule: a pause and a wake in the same cycle leave it awake; no lost wake-ups).
pub(crate) const NOTIFIED: u8 = 8;

pub(crate) struct TaskCell {
    pub(crate) id: ComponentId,
    state: AtomicU8,
    /// The body. Taken out and dropped when the component ends, which also breaks the
    /// reference cycle body -> boxes -> owner (this cell) -> body.
    pub(crate) future: Mutex<Option<Body>>,
    /// Set once, at activation.
    pub(crate) sched: OnceLock<Arc<Shared>>,
    /// Set for threaded components and handles: a wake unparks their OS thread instead of
    /// queueing a task.
    pub(crate) parker: OnceLock<Arc<Parker>>,
    pub(crate) core: Weak<ComponentCore>,
}

impl TaskCell {
    pub(crate) fn new(id: ComponentId, core: Weak<ComponentCore>) -> Self {
        TaskCell {
            id,
            state: AtomicU8::new(CREATED),
            future: Mutex::new(None),
            sched: OnceLock::new(),
            parker: OnceLock::new(),
            core,
        }
    }

    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    pub(crate) fn set_state(&self, s: u8) {
        self.state.store(s, Ordering::Release);
    }

    /// Moves CREATED to SCHEDULED; true if this call did it.
    pub(crate) fn begin(&self, to: u8) -> bool {
        self.state.compare_exchange(CREATED, to, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Wakes the component: queue it if paused, mark it if running, else nothing.
    /// Idempotent: any number of wakes before it next runs queue it once.
    pub(crate) fn wake(self: &Arc<Self>) {
        if let Some(p) = self.parker.get() {
            p.unpark();
            return;
        }
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let next = match s {
                IDLE => SCHEDULED,
                RUNNING => RUNNING | NOTIFIED,
                _ => return,
            };
            match self.state.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        if s == IDLE {
            if let Some(sched) = self.sched.get() {
                sched.schedule(self.clone());
            }
        }
    }

    /// After a poll returned Pending: park (IDLE) unless woken meanwhile; true if it must be
    /// queued again.
    pub(crate) fn after_pending(&self) -> bool {
        match self.state.compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => false,
            Err(_) => {
                // Only RUNNING|NOTIFIED can be here: nobody else moves a RUNNING task.
                self.state.store(SCHEDULED, Ordering::Release);
                true
            }
        }
    }

    pub(crate) fn take_future(&self) -> Option<Body> {
        self.future.lock().take()
    }
}

thread_local! {
    /// The component whose body this thread is polling now (0: none). Read only on the
    /// waiting path of a receive, to catch a box awaited by a component that does not own it.
    static POLLING: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The component whose body this thread is polling, if any.
pub(crate) fn polling() -> Option<ComponentId> {
    let id = POLLING.with(std::cell::Cell::get);
    (id != 0).then_some(ComponentId(id))
}

/// Marks this thread as polling `id`'s body until dropped.
pub(crate) struct PollingGuard(u64);

impl PollingGuard {
    pub(crate) fn enter(id: ComponentId) -> Self {
        PollingGuard(POLLING.with(|c| c.replace(id.0)))
    }
}

impl Drop for PollingGuard {
    fn drop(&mut self) {
        POLLING.with(|c| c.set(self.0));
    }
}

impl Wake for TaskCell {
    fn wake(self: Arc<Self>) {
        TaskCell::wake(&self);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        TaskCell::wake(self);
    }
}
