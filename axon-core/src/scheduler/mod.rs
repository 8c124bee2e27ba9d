//! The scheduler: runs components' bodies, single-threaded (default, deterministic FIFO) or
//! on N work-stealing worker threads, with timers and an idle wait that uses no CPU.
//!
//! [`Shared`] is the state every scheduler thread and every waker reaches; it implements
//! the task cell's [`Schedule`] seam. The single-thread cycle is in `single`, the
//! work-stealing pool in `multi`, timers in `timers`, and the public handles
//! ([`Scheduler`], [`SchedulerHandle`], [`Background`], [`SchedulerBuilder`]) in `handle`.

mod handle;
mod multi;
mod single;
mod timers;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

pub use handle::{Background, KeepAlive, Scheduler, SchedulerBuilder, SchedulerHandle};

use crate::component::{Component, ComponentCore};
use crate::park::Park;
use crate::services::Services;
use crate::task::{Ran, Schedule, TaskCell};
use crate::{ComponentId, lock};
use multi::Multi;
use timers::Timers;

/// A task of this crate's scheduler: the cell behind every component.
pub(crate) type Task = TaskCell<Shared>;

thread_local! {
    /// The scheduler whose loop is running on this thread, if any (for timers and to tell
    /// local wakes, which need no unpark, from remote ones).
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// The scheduler whose loop runs on this thread, if any.
pub(crate) fn current() -> Option<Arc<Shared>> {
    CURRENT.with(|c| c.borrow().clone())
}

fn on_this_thread(shared: &Shared) -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|s| std::ptr::eq(Arc::as_ptr(s), shared)))
}

/// Makes `shared` this thread's current scheduler until dropped.
struct CurrentGuard(Option<Arc<Shared>>);

impl CurrentGuard {
    fn enter(shared: &Arc<Shared>) -> Self {
        CurrentGuard(CURRENT.with(|c| c.borrow_mut().replace(shared.clone())))
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// A component that panicked: reported on stderr and kept here for inspection.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PanicReport {
    /// Which component.
    pub id: ComponentId,
    /// Its name, e.g. `Doubler_7`.
    pub name: String,
    /// The panic message.
    pub message: String,
}

/// The live components of a scheduler: a slab (each component knows its slot), so adding
/// and removing one is O(1) and costs a word per component.
#[derive(Default)]
struct Registry {
    slots: Vec<Option<Component>>,
    free: Vec<usize>,
}

impl Registry {
    fn insert(&mut self, c: Component) {
        let i = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        c.core().slot.store(i, Ordering::Relaxed);
        self.slots[i] = Some(c);
    }

    fn remove(&mut self, core: &ComponentCore) -> Option<Component> {
        let i = core.slot.swap(usize::MAX, Ordering::Relaxed);
        let c = self.slots.get_mut(i)?.take();
        self.free.push(i);
        c
    }

    fn list(&self) -> Vec<Component> {
        self.slots.iter().flatten().cloned().collect()
    }

    fn drain(&mut self) -> Vec<Component> {
        self.free.clear();
        self.slots.drain(..).flatten().collect()
    }
}

enum Queues {
    Single(parking_lot::Mutex<VecDeque<Arc<Task>>>),
    Multi(Box<Multi>),
}

pub(crate) struct Shared {
    queues: Queues,
    park: Arc<dyn Park>,
    /// True while the single-thread scheduler is parked or about to park: a remote wake
    /// unparks only then (an unpark may be a syscall). Set before the queue is checked one
    /// last time, and read after a push, so either the scheduler sees the pushed task or the
    /// waker sees the flag (both sides use SeqCst, with the queue's lock between).
    parked: AtomicBool,
    /// Activated components not yet finished (async and threaded). `run` returns when this
    /// and `keepalive` are both zero.
    live: AtomicUsize,
    /// Holders that keep `run` going with no components (handles, background owners).
    keepalive: AtomicUsize,
    timers: Mutex<Timers>,
    /// How many timers are set: lets a cycle skip the clock and the timer lock when none are.
    timer_count: AtomicUsize,
    /// Every activated, unfinished component, for introspection and teardown.
    components: Mutex<Registry>,
    pub(crate) services: Services,
    panics: Mutex<Vec<PanicReport>>,
    /// Whether panics are printed to stderr as well as recorded.
    report_panics: bool,
}

impl Schedule for Shared {
    type Owner = ComponentCore;

    fn schedule(&self, task: Arc<Task>) {
        match &self.queues {
            Queues::Single(q) => {
                q.lock().push_back(task);
                if !on_this_thread(self) && self.parked.load(Ordering::SeqCst) {
                    self.park.unpark();
                }
            }
            Queues::Multi(m) => m.push(task, on_this_thread(self)),
        }
    }
}

impl Shared {
    fn new(queues: Queues, park: Arc<dyn Park>, report_panics: bool) -> Self {
        Shared {
            queues,
            park,
            parked: AtomicBool::new(false),
            live: AtomicUsize::new(0),
            keepalive: AtomicUsize::new(0),
            timers: Mutex::new(Timers::default()),
            timer_count: AtomicUsize::new(0),
            components: Mutex::new(Registry::default()),
            services: Services::new(),
            panics: Mutex::new(Vec::new()),
            report_panics,
        }
    }

    fn done(&self) -> bool {
        self.live.load(Ordering::SeqCst) == 0 && self.keepalive.load(Ordering::SeqCst) == 0
    }

    /// Wakes every idle scheduler thread so it re-checks whether to exit.
    fn wake_idle(&self) {
        match &self.queues {
            Queues::Single(_) => self.park.unpark(),
            Queues::Multi(m) => m.unpark_all(),
        }
    }

    pub(crate) fn activate(self: &Arc<Self>, core: &Arc<ComponentCore>) -> Result<(), ActivateError> {
        let task = &core.task;
        if !task.bind(self.clone()) {
            return Err(ActivateError::AlreadyActivated { name: core.name().to_string() });
        }
        core.run_activate_hook().map_err(|reason| ActivateError::Refused { name: core.name().to_string(), reason })?;
        self.live.fetch_add(1, Ordering::SeqCst);
        lock(&self.components).insert(Component::from_core(core.clone()));
        if let Some(body) = core.take_thread_body() {
            task.transition_to_thread_running();
            let shared = self.clone();
            let ctx = crate::ThreadCtx::new(core);
            let t = task.clone();
            let spawned = thread::Builder::new().name(core.name().to_string()).spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(move || body(ctx)));
                t.transition_to_done();
                shared.finished(&t, result.err().map(panic_message));
            });
            if let Err(e) = spawned {
                task.transition_to_done();
                self.finished(task, Some(format!("could not start its thread: {e}")));
            }
        } else if task.transition_to_scheduled() {
            self.schedule(task.clone());
        }
        Ok(())
    }

    /// Polls one task once. The caller popped it from a run queue, so it is SCHEDULED and
    /// this thread now owns it.
    fn run_task(self: &Arc<Self>, task: Arc<Task>) {
        match task.run() {
            Ran::Idle | Ran::Gone => {}
            Ran::Requeue => self.schedule(task),
            Ran::Ended(result) => {
                let panic = result.err().map(panic_message);
                // Drop the body outside the slot lock: its drop may touch boxes and wake others.
                // A destructor that panics is reported like a panicking body, not allowed to
                // take the scheduler thread down.
                let body = task.take_body();
                let dropped = catch_unwind(AssertUnwindSafe(move || drop(body)));
                let panic =
                    panic.or_else(|| dropped.err().map(|p| format!("while dropping its body: {}", panic_message(p))));
                self.finished(&task, panic);
            }
        }
    }

    /// Bookkeeping when a component's body has ended, normally or by panic.
    pub(crate) fn finished(self: &Arc<Self>, task: &Arc<Task>, panic: Option<String>) {
        if let Some(core) = task.core.upgrade() {
            if let Some(message) = &panic {
                let report = PanicReport { id: core.id, name: core.name().to_string(), message: message.clone() };
                if self.report_panics {
                    eprintln!("axon: component {} panicked: {}", report.name, report.message);
                }
                lock(&self.panics).push(report);
            }
            core.on_finish(panic.is_some());
        }
        if let Some(core) = task.core.upgrade() {
            let removed = lock(&self.components).remove(&core);
            drop(removed);
        }
        if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.wake_idle();
        }
    }

    fn queue_empty(&self) -> bool {
        match &self.queues {
            Queues::Single(q) => q.lock().is_empty(),
            Queues::Multi(m) => m.is_empty(),
        }
    }

    /// Drops the bodies of components that never finished, breaking their reference cycles.
    fn teardown(&self) {
        let comps: Vec<Component> = lock(&self.components).drain();
        for c in &comps {
            let body = c.core().task.take_body();
            drop(body);
        }
        self.clear_timers();
        drop(comps);
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

/// Why a component could not be activated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActivateError {
    /// It was activated before (on this or another scheduler).
    AlreadyActivated {
        /// The component's name.
        name: String,
    },
    /// Its activation hook refused to start it (a Backplane whose name is taken, say).
    Refused {
        /// The component's name.
        name: String,
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for ActivateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActivateError::Refused { name, reason } => write!(f, "component {name} refused to start: {reason}"),
            ActivateError::AlreadyActivated { name } => {
                write!(f, "component {name} is already activated")
            }
        }
    }
}

impl std::error::Error for ActivateError {}
