//! The scheduler's public face: [`SchedulerBuilder`], the owned [`Scheduler`], the shareable
//! [`SchedulerHandle`], [`KeepAlive`] and [`Background`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;

use super::multi::Multi;
use super::{ActivateError, CurrentGuard, PanicReport, Queues, Shared};
use crate::component::{Component, ComponentState};
use crate::lock;
use crate::park::{CondvarPark, Park};
use crate::services::Services;

/// Configures a [`Scheduler`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct SchedulerBuilder {
    threads: usize,
    park: Option<Arc<dyn Park>>,
    report_panics: bool,
}

impl SchedulerBuilder {
    /// Worker threads: 1 (the default) is the deterministic single-thread scheduler; more
    /// gives a work-stealing scheduler with the same component API.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// The single-thread scheduler's idle wait (see [`Park`]). The multi-thread scheduler
    /// parks its workers on condition variables and ignores this.
    pub fn park(mut self, park: Arc<dyn Park>) -> Self {
        self.park = Some(park);
        self
    }

    /// Whether a component's panic is printed on stderr (default true). It is always
    /// recorded in [`SchedulerHandle::panics`].
    pub fn report_panics(mut self, yes: bool) -> Self {
        self.report_panics = yes;
        self
    }

    /// Builds the scheduler.
    pub fn build(self) -> Scheduler {
        let queues = if self.threads == 1 {
            Queues::Single(parking_lot::Mutex::new(VecDeque::new()))
        } else {
            Queues::Multi(Box::new(Multi::new(self.threads)))
        };
        let park = self.park.unwrap_or_else(|| Arc::new(CondvarPark::new()));
        Scheduler { handle: SchedulerHandle { shared: Arc::new(Shared::new(queues, park, self.report_panics)) } }
    }
}

/// A shareable reference to a scheduler: activate components on it, look at it.
///
/// Every component activated on a scheduler can reach it through
/// [`Ctx::scheduler`](crate::Ctx::scheduler).
#[derive(Clone)]
pub struct SchedulerHandle {
    pub(crate) shared: Arc<Shared>,
}

impl SchedulerHandle {
    /// Activates a component: it will run on this scheduler. A threaded component's
    /// thread starts now.
    pub fn activate(&self, component: &Component) -> Result<(), ActivateError> {
        self.shared.activate(component.core())
    }

    /// The scheduler's services registry (Axon's coordinating assistant tracker).
    pub fn services(&self) -> &Services {
        &self.shared.services
    }

    /// Activated components that have not finished yet.
    pub fn live(&self) -> usize {
        self.shared.live.load(Ordering::SeqCst)
    }

    /// Every component that panicked so far.
    pub fn panics(&self) -> Vec<PanicReport> {
        lock(&self.shared.panics).clone()
    }

    /// Whether a component is paused (Axon's `isThreadPaused`: true for a component this
    /// scheduler does not run).
    pub fn is_paused(&self, component: &Component) -> bool {
        let on_this = component.core().task.scheduler().is_some_and(|s| Arc::ptr_eq(s, &self.shared));
        !on_this || matches!(component.state(), ComponentState::Paused)
    }

    /// The components this scheduler runs now (Axon's `listAllThreads`).
    pub fn components(&self) -> Vec<Component> {
        let mut v: Vec<Component> = lock(&self.shared.components).list();
        v.sort_by_key(Component::id);
        v
    }

    /// Keeps [`Scheduler::run`] going, even with no components, until the guard is dropped
    /// (Axon's `waitForOne`).
    pub fn keep_alive(&self) -> KeepAlive {
        self.shared.keepalive.fetch_add(1, Ordering::SeqCst);
        KeepAlive { shared: self.shared.clone() }
    }
}

/// Keeps a scheduler running while held. See [`SchedulerHandle::keep_alive`].
#[must_use = "the scheduler may stop as soon as this guard is dropped"]
pub struct KeepAlive {
    shared: Arc<Shared>,
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        if self.shared.keepalive.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.wake_idle();
        }
    }
}

/// The scheduler, owned: runs components until none remain.
///
/// Single-thread by default: one run queue, FIFO, so a system's order of events is
/// deterministic. Dropping a scheduler drops the bodies of components that never finished.
///
/// ```
/// use axon_core::{ComponentBuilder, Scheduler, Signal};
///
/// let mut b = ComponentBuilder::new("Hello");
/// let outbox = b.outbox::<String>("outbox");
/// let hello = b.run(move |_ctx| async move {
///     outbox.send("hello".to_string()).await;
/// });
/// let sched = Scheduler::new();
/// sched.activate(&hello).unwrap();
/// sched.run();
/// assert_eq!(sched.live(), 0);
/// ```
pub struct Scheduler {
    handle: SchedulerHandle,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl std::ops::Deref for Scheduler {
    type Target = SchedulerHandle;
    fn deref(&self) -> &SchedulerHandle {
        &self.handle
    }
}

impl Scheduler {
    /// The deterministic single-thread scheduler.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder: thread count, idle wait, panic reporting.
    pub fn builder() -> SchedulerBuilder {
        SchedulerBuilder { threads: 1, park: None, report_panics: true }
    }

    /// A shareable handle.
    pub fn handle(&self) -> SchedulerHandle {
        self.handle.clone()
    }

    /// Runs on this thread (plus the worker threads, if multi-threaded) until no components
    /// remain and no [`KeepAlive`] is held. While nothing is runnable it blocks, using no CPU,
    /// until a wake, a timer or an unpark.
    pub fn run(&self) {
        let shared = &self.handle.shared;
        let _g = CurrentGuard::enter(shared);
        match shared.queues {
            Queues::Single(_) => shared.run_single(),
            Queues::Multi(_) => shared.run_multi(),
        }
    }

    /// Step mode: runs one cycle (everything runnable at its start, once, in order; then due
    /// timers) and returns how many components ran. Single-thread schedulers only.
    ///
    /// # Panics
    /// On a multi-thread scheduler.
    pub fn step(&self) -> usize {
        let shared = &self.handle.shared;
        assert!(matches!(shared.queues, Queues::Single(_)), "step mode needs the single-thread scheduler");
        let _g = CurrentGuard::enter(shared);
        shared.cycle(&mut VecDeque::new())
    }

    /// Step mode: runs cycles until nothing is runnable (it does not wait for timers or
    /// threads). Returns the number of cycles run.
    pub fn run_until_idle(&self) -> usize {
        let mut cycles = 0;
        while self.step() > 0 || !self.handle.shared.queue_empty() {
            cycles += 1;
        }
        cycles
    }

    /// Runs the scheduler on a background thread (Axon's `background`), returning a handle
    /// that keeps it alive until [`Background::join`] or drop.
    pub fn background(self) -> Background {
        let keep = self.handle.keep_alive();
        let handle = self.handle.clone();
        let thread = thread::Builder::new()
            .name("axon-scheduler".into())
            .spawn(move || self.run())
            .expect("could not start the background scheduler thread");
        Background { handle, keep: Some(keep), thread: Some(thread) }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.handle.shared.teardown();
    }
}

/// A scheduler running on its own thread. See [`Scheduler::background`].
///
/// While this value lives the scheduler keeps running even with no components (so that
/// [`Handle`](crate::Handle)s and later activations find it). Drop it to let the scheduler
/// end once its components have; [`join`](Self::join) also waits for that.
pub struct Background {
    handle: SchedulerHandle,
    keep: Option<KeepAlive>,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::ops::Deref for Background {
    type Target = SchedulerHandle;
    fn deref(&self) -> &SchedulerHandle {
        &self.handle
    }
}

impl Background {
    /// Lets the scheduler end once no components remain, and waits for it.
    pub fn join(mut self) {
        self.keep = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
