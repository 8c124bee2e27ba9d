//! The scheduler: runs components' bodies, single-threaded (default, deterministic FIFO) or
//! on N work-stealing worker threads, with timers and an idle wait that uses no CPU.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Stealer, Worker};

use crate::component::{Component, ComponentCore, ComponentState};
use crate::park::{CondvarPark, Park};
use crate::services::Services;
use crate::task::{DONE, RUNNING, SCHEDULED, TaskCell};
use crate::{ComponentId, lock};

thread_local! {
    /// The scheduler whose loop is running on this thread, if any (for timers and to tell
    /// local wakes, which need no unpark, from remote ones).
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
    /// This worker thread's own run queue (multi-thread mode only).
    static LOCAL: RefCell<Option<Worker<Arc<TaskCell>>>> = const { RefCell::new(None) };
}

fn on_this_thread(shared: &Shared) -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|s| std::ptr::eq(Arc::as_ptr(s), shared)))
}

pub(crate) fn current() -> Option<Arc<Shared>> {
    CURRENT.with(|c| c.borrow().clone())
}

struct CurrentGuard(Option<Arc<Shared>>, usize);

impl CurrentGuard {
    fn enter(shared: &Arc<Shared>) -> Self {
        let prev_addr = CURRENT_ADDR.with(|c| c.replace(Arc::as_ptr(shared) as usize));
        CurrentGuard(CURRENT.with(|c| c.borrow_mut().replace(shared.clone())), prev_addr)
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
        CURRENT_ADDR.with(|c| c.set(self.1));
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

/// Pending timers, keyed by deadline and a sequence number (so equal deadlines fire in the
/// order they were set, and a dropped timer can remove exactly its own entry).
#[derive(Default)]
pub(crate) struct Timers {
    map: BTreeMap<(Instant, u64), Waker>,
    seq: u64,
}

thread_local! {
    /// Address of the scheduler whose loop runs on this thread (0: none). A plain `Cell`
    /// so telling a local wake from a remote one costs one load on the send path.
    static CURRENT_ADDR: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
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
    Single(parking_lot::Mutex<VecDeque<Arc<TaskCell>>>),
    Multi(Box<Multi>),
}

struct Multi {
    injector: Injector<Arc<TaskCell>>,
    stealers: Vec<Stealer<Arc<TaskCell>>>,
    /// Handed to the worker threads when `run` starts.
    workers: Mutex<Vec<Worker<Arc<TaskCell>>>>,
    parkers: Vec<CondvarPark>,
    /// `sleeping[i]` is true while worker i is parked or about to park; a notifier that
    /// swaps it to false owns the duty of unparking worker i.
    sleeping: Vec<AtomicBool>,
    /// How many workers are in the sleep protocol; lets wakes skip the scan when zero.
    sleepers: AtomicUsize,
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

impl Shared {
    pub(crate) fn schedule(&self, task: Arc<TaskCell>) {
        match &self.queues {
            Queues::Single(q) => {
                q.lock().push_back(task);
                if !on_this_thread(self) && self.parked.load(Ordering::SeqCst) {
                    self.park.unpark();
                }
            }
            Queues::Multi(m) => {
                let leftover = if on_this_thread(self) {
                    LOCAL.with(|l| match l.borrow().as_ref() {
                        Some(w) => {
                            w.push(task);
                            None
                        }
                        None => Some(task),
                    })
                } else {
                    Some(task)
                };
                if let Some(t) = leftover {
                    m.injector.push(t);
                }
                m.notify_one();
            }
        }
    }

    fn done(&self) -> bool {
        self.live.load(Ordering::SeqCst) == 0 && self.keepalive.load(Ordering::SeqCst) == 0
    }

    /// Wakes every idle scheduler thread so it re-checks whether to exit.
    fn wake_idle(&self) {
        match &self.queues {
            Queues::Single(_) => self.park.unpark(),
            Queues::Multi(m) => {
                for p in &m.parkers {
                    p.unpark();
                }
            }
        }
    }

    pub(crate) fn add_timer(&self, deadline: Instant, waker: Waker) -> (Instant, u64) {
        let mut t = lock(&self.timers);
        t.seq += 1;
        let key = (deadline, t.seq);
        t.map.insert(key, waker);
        self.timer_count.store(t.map.len(), Ordering::Release);
        key
    }

    pub(crate) fn remove_timer(&self, key: (Instant, u64)) {
        let mut t = lock(&self.timers);
        t.map.remove(&key);
        self.timer_count.store(t.map.len(), Ordering::Release);
    }

    /// Fires every timer that is due; returns how many.
    fn fire_timers(&self) -> usize {
        if self.timer_count.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let now = Instant::now();
        let due: Vec<Waker> = {
            let mut t = lock(&self.timers);
            if t.map.first_key_value().is_none_or(|(k, _)| k.0 > now) {
                return 0;
            }
            let later = t.map.split_off(&(now, u64::MAX));
            let due = std::mem::replace(&mut t.map, later);
            self.timer_count.store(t.map.len(), Ordering::Release);
            due.into_values().collect()
        };
        let n = due.len();
        for w in due {
            w.wake();
        }
        n
    }

    fn next_timeout(&self) -> Option<Duration> {
        lock(&self.timers).map.first_key_value().map(|(k, _)| k.0.saturating_duration_since(Instant::now()))
    }

    pub(crate) fn activate(self: &Arc<Self>, core: &Arc<ComponentCore>) -> Result<(), ActivateError> {
        let task = &core.task;
        if task.sched.set(self.clone()).is_err() {
            return Err(ActivateError::AlreadyActivated { name: core.name().to_string() });
        }
        core.run_activate_hook().map_err(|reason| ActivateError::Refused { name: core.name().to_string(), reason })?;
        self.live.fetch_add(1, Ordering::SeqCst);
        lock(&self.components).insert(Component::from_core(core.clone()));
        if let Some(body) = core.take_thread_body() {
            task.begin(RUNNING);
            let shared = self.clone();
            let ctx = crate::ThreadCtx::new(core);
            let t = task.clone();
            let spawned = thread::Builder::new().name(core.name().to_string()).spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(move || body(ctx)));
                t.set_state(DONE);
                shared.finished(&t, result.err().map(panic_message));
            });
            if let Err(e) = spawned {
                task.set_state(DONE);
                self.finished(task, Some(format!("could not start its thread: {e}")));
            }
        } else if task.begin(SCHEDULED) {
            self.schedule(task.clone());
        }
        Ok(())
    }

    /// Polls one task once. The caller popped it from a run queue, so it is SCHEDULED and
    /// this thread now owns it.
    fn run_task(self: &Arc<Self>, task: Arc<TaskCell>) {
        task.set_state(RUNNING);
        let outcome = {
            let mut slot = task.future.lock();
            let Some(body) = slot.as_mut() else {
                task.set_state(DONE);
                return;
            };
            let waker = body.waker.get_or_insert_with(|| Waker::from(task.clone()));
            let mut cx = Context::from_waker(waker);
            let fut = &mut body.future;
            let _polling = crate::task::PollingGuard::enter(task.id);
            match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))) {
                Ok(Poll::Pending) => None,
                Ok(Poll::Ready(())) => Some(None),
                Err(payload) => Some(Some(panic_message(payload))),
            }
        };
        match outcome {
            None => {
                if task.after_pending() {
                    self.schedule(task);
                }
            }
            Some(panic) => {
                task.set_state(DONE);
                // Drop the body outside the slot lock: its drop may touch boxes and wake others.
                // A destructor that panics is reported like a panicking body, not allowed to
                // take the scheduler thread down.
                let body = task.take_future();
                let dropped = catch_unwind(AssertUnwindSafe(move || drop(body)));
                let panic =
                    panic.or_else(|| dropped.err().map(|p| format!("while dropping its body: {}", panic_message(p))));
                self.finished(&task, panic);
            }
        }
    }

    /// Bookkeeping when a component's body has ended, normally or by panic.
    pub(crate) fn finished(self: &Arc<Self>, task: &Arc<TaskCell>, panic: Option<String>) {
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

    /// One Axon cycle: run everything that was runnable at its start, once each, in FIFO
    /// order, then fire due timers. Returns how many components ran.
    fn cycle(self: &Arc<Self>, local: &mut VecDeque<Arc<TaskCell>>) -> usize {
        let Queues::Single(q) = &self.queues else { unreachable!("cycles are single-thread only") };
        std::mem::swap(local, &mut *q.lock());
        let ran = local.len();
        while let Some(t) = local.pop_front() {
            self.run_task(t);
        }
        self.fire_timers();
        ran
    }

    fn queue_empty(&self) -> bool {
        match &self.queues {
            Queues::Single(q) => q.lock().is_empty(),
            Queues::Multi(m) => m.injector.is_empty() && m.stealers.iter().all(Stealer::is_empty),
        }
    }

    fn run_single(self: &Arc<Self>) {
        let Queues::Single(q) = &self.queues else { unreachable!() };
        let mut local = VecDeque::new();
        loop {
            std::mem::swap(&mut local, &mut *q.lock());
            if local.is_empty() {
                if self.fire_timers() > 0 {
                    continue;
                }
                if self.done() {
                    return;
                }
                let timeout = self.next_timeout();
                if timeout == Some(Duration::ZERO) {
                    continue;
                }
                self.parked.store(true, Ordering::SeqCst);
                if q.lock().is_empty() && !self.done() {
                    self.park.park(timeout);
                }
                self.parked.store(false, Ordering::SeqCst);
                continue;
            }
            while let Some(t) = local.pop_front() {
                self.run_task(t);
            }
            self.fire_timers();
        }
    }

    fn run_multi(self: &Arc<Self>) {
        let Queues::Multi(m) = &self.queues else { unreachable!() };
        let workers: Vec<_> = std::mem::take(&mut *lock(&m.workers));
        assert!(!workers.is_empty(), "a multi-thread scheduler can be run only once");
        thread::scope(|s| {
            for (i, w) in workers.into_iter().enumerate() {
                let shared = self.clone();
                thread::Builder::new()
                    .name(format!("axon-worker-{i}"))
                    .spawn_scoped(s, move || shared.worker_loop(i, w))
                    .expect("could not start a scheduler worker thread");
            }
        });
    }

    fn worker_loop(self: &Arc<Self>, i: usize, worker: Worker<Arc<TaskCell>>) {
        let Queues::Multi(m) = &self.queues else { unreachable!() };
        let _g = CurrentGuard::enter(self);
        LOCAL.with(|l| *l.borrow_mut() = Some(worker));
        let mut tick: u32 = 0;
        loop {
            tick = tick.wrapping_add(1);
            if let Some(t) = m.find_task(i, tick) {
                self.run_task(t);
                continue;
            }
            if self.fire_timers() > 0 {
                continue;
            }
            if self.done() {
                self.wake_idle();
                break;
            }
            m.sleeping[i].store(true, Ordering::SeqCst);
            m.sleepers.fetch_add(1, Ordering::SeqCst);
            if !self.queue_empty() || self.done() {
                m.sleeping[i].store(false, Ordering::SeqCst);
                m.sleepers.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            m.parkers[i].park(self.next_timeout());
            m.sleeping[i].store(false, Ordering::SeqCst);
            m.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
        LOCAL.with(|l| *l.borrow_mut() = None);
    }

    /// Drops the bodies of components that never finished, breaking their reference cycles.
    fn teardown(&self) {
        let comps: Vec<Component> = lock(&self.components).drain();
        for c in &comps {
            let body = c.core().task.take_future();
            drop(body);
        }
        let timers = std::mem::take(&mut lock(&self.timers).map);
        self.timer_count.store(0, Ordering::Release);
        drop(timers);
        drop(comps);
    }
}

impl Multi {
    fn new(threads: usize) -> Self {
        let workers: Vec<_> = (0..threads).map(|_| Worker::new_fifo()).collect();
        Multi {
            injector: Injector::new(),
            stealers: workers.iter().map(Worker::stealer).collect(),
            workers: Mutex::new(workers),
            parkers: (0..threads).map(|_| CondvarPark::new()).collect(),
            sleeping: (0..threads).map(|_| AtomicBool::new(false)).collect(),
            sleepers: AtomicUsize::new(0),
        }
    }

    fn notify_one(&self) {
        if self.sleepers.load(Ordering::SeqCst) == 0 {
            return;
        }
        for (flag, parker) in self.sleeping.iter().zip(&self.parkers) {
            if flag.swap(false, Ordering::SeqCst) {
                parker.unpark();
                return;
            }
        }
    }

    fn find_task(&self, i: usize, tick: u32) -> Option<Arc<TaskCell>> {
        // Look at the shared queue first now and then, so remote wakes are not starved by
        // a busy local queue.
        if tick % 61 == 0 {
            if let Some(t) = self.steal_injector() {
                return Some(t);
            }
        }
        if let Some(t) = LOCAL.with(|l| l.borrow().as_ref().and_then(Worker::pop)) {
            return Some(t);
        }
        if let Some(t) = self.steal_injector() {
            return Some(t);
        }
        let n = self.stealers.len();
        for k in 1..n {
            let s = &self.stealers[(i + k) % n];
            loop {
                match s.steal() {
                    crossbeam_deque::Steal::Success(t) => return Some(t),
                    crossbeam_deque::Steal::Empty => break,
                    crossbeam_deque::Steal::Retry => {}
                }
            }
        }
        None
    }

    fn steal_injector(&self) -> Option<Arc<TaskCell>> {
        loop {
            let stolen = LOCAL.with(|l| match l.borrow().as_ref() {
                Some(w) => self.injector.steal_batch_and_pop(w),
                None => self.injector.steal(),
            });
            match stolen {
                crossbeam_deque::Steal::Success(t) => return Some(t),
                crossbeam_deque::Steal::Empty => return None,
                crossbeam_deque::Steal::Retry => {}
            }
        }
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
        Scheduler {
            handle: SchedulerHandle {
                shared: Arc::new(Shared {
                    queues,
                    park: self.park.unwrap_or_else(|| Arc::new(CondvarPark::new())),
                    parked: AtomicBool::new(false),
                    live: AtomicUsize::new(0),
                    keepalive: AtomicUsize::new(0),
                    timers: Mutex::new(Timers::default()),
                    timer_count: AtomicUsize::new(0),
                    components: Mutex::new(Registry::default()),
                    services: Services::new(),
                    panics: Mutex::new(Vec::new()),
                    report_panics: self.report_panics,
                }),
            },
        }
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
        let on_this = component.core().task.sched.get().is_some_and(|s| Arc::ptr_eq(s, &self.shared));
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
