//! A component's run state: the scheduler-facing half of a component (Axon's microprocess),
//! and the one seam between it and a scheduler ([`Schedule`]).
//!
//! The cell decides *when* a task must be queued (its run state, below); the scheduler
//! decides *where* (its run queues). Neither imports the other: the scheduler implements
//! [`Schedule`], and the cell is generic over it, so the model tests drive a cell with a
//! scheduler of their own.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll, Wake, Waker};

use crate::ComponentId;
use crate::loom::parking_lot::Mutex;
use crate::loom::sync::atomic::{AtomicU8, Ordering};
use crate::park::Parker;

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What a task cell needs from the scheduler that runs it (tokio's `Schedule`).
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// What a cell belongs to (its component), reached weakly from the cell: a task never
    /// keeps its component alive.
    type Owner: Send + Sync + 'static;

    /// Queues `task`, which has just become SCHEDULED. Called exactly once per transition
    /// to SCHEDULED, by the thread that made it; never for a task in any other state.
    fn schedule(&self, task: Arc<TaskCell<Self>>);
}

// The run state. The low three bits are the lifecycle: exactly one of CREATED, IDLE,
// SCHEDULED, RUNNING, DONE holds. NOTIFIED and BLOCKED are flags on top of RUNNING.

/// Mask of the lifecycle bits.
const LIFECYCLE: u8 = 0b111;

/// Built, not activated: wakes are ignored (Axon: waking an unactivated microprocess does
/// nothing). Left only by activation (to SCHEDULED, or to RUNNING for a threaded task) or
/// by a refused activation (to DONE); never re-entered.
const CREATED: u8 = 0;

/// Activated and paused: in no run queue, not being polled; the next wake moves it to
/// SCHEDULED and queues it. Cannot hold for a threaded task (its thread is RUNNING until
/// it ends) and carries no flag.
const IDLE: u8 = 1;

/// In exactly one run queue. A wake leaves it alone (it will run anyway). Only the thread
/// that pops it may move it on, to RUNNING. Carries no flag.
const SCHEDULED: u8 = 2;

/// Being polled by exactly one thread, which owns the body for the duration; for a
/// threaded task, its thread is running the body. Only that thread moves it on (to IDLE,
/// SCHEDULED or DONE); others may only add NOTIFIED.
const RUNNING: u8 = 3;

/// Finished or panicked. Terminal: wakes are ignored and it is never queued again.
/// Entered only from CREATED (a refused activation) or RUNNING; carries no flag.
const DONE: u8 = 4;

/// Woken while RUNNING, so it is queued again after the poll instead of going IDLE (Axon's
/// rule: a pause and a wake in the same cycle leave it awake; no wake-up is lost).
/// Cannot be set unless the lifecycle is RUNNING, nor on a threaded task (its wakes unpark
/// its thread and never touch the state), nor with BLOCKED. Cleared by leaving RUNNING.
const NOTIFIED: u8 = 1 << 3;

/// A threaded task's thread is blocked in [`ThreadCtx::pause`](crate::ThreadCtx::pause):
/// introspection reports the component paused. Cannot be set unless the lifecycle is
/// RUNNING, nor on an async task, nor with NOTIFIED; only the task's own thread sets and
/// clears it.
const BLOCKED: u8 = 1 << 4;

/// One reading of a task's run state.
#[derive(Copy, Clone, PartialEq, Eq)]
struct Snapshot(u8);

impl Snapshot {
    fn lifecycle(self) -> u8 {
        self.0 & LIFECYCLE
    }

    fn is(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// The invariants above, for `debug_assert!`s.
    fn is_valid(self) -> bool {
        let flags = self.0 & !LIFECYCLE;
        match self.lifecycle() {
            RUNNING => flags & !(NOTIFIED | BLOCKED) == 0 && flags != NOTIFIED | BLOCKED,
            CREATED | IDLE | SCHEDULED | DONE => flags == 0,
            _ => false,
        }
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = ["CREATED", "IDLE", "SCHEDULED", "RUNNING", "DONE"].get(self.lifecycle() as usize);
        write!(f, "{}", name.unwrap_or(&"INVALID"))?;
        for (flag, name) in [(NOTIFIED, "NOTIFIED"), (BLOCKED, "BLOCKED")] {
            if self.is(flag) {
                write!(f, "|{name}")?;
            }
        }
        Ok(())
    }
}

/// The atomic behind a task's run state. Private to this file: every change is one of the
/// named transitions below, each built on [`cas`](Self::cas) (or, where one thread alone
/// may change the state, on [`store_owned`](Self::store_owned)).
struct State(AtomicU8);

impl State {
    fn new() -> Self {
        State(AtomicU8::new(CREATED))
    }

    fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// The one compare-and-swap every contended transition is built on.
    #[inline]
    fn cas(&self, current: Snapshot, next: Snapshot) -> Result<(), Snapshot> {
        debug_assert!(next.is_valid(), "invalid task state {next:?}");
        self.0.compare_exchange(current.0, next.0, Ordering::AcqRel, Ordering::Acquire).map(drop).map_err(Snapshot)
    }

    /// Applies `f` to the state until [`cas`](Self::cas) lands, starting from the guess
    /// `current`. `f` gives the next state and the result, or `Err` to leave it alone.
    #[inline]
    fn update<R>(&self, mut current: Snapshot, mut f: impl FnMut(Snapshot) -> Result<(Snapshot, R), R>) -> R {
        loop {
            let (next, result) = match f(current) {
                Ok(step) => step,
                Err(result) => return result,
            };
            match self.cas(current, next) {
                Ok(()) => return result,
                Err(actual) => current = actual,
            }
        }
    }

    /// A transition made by the thread that owns the task in its present state, which no
    /// other thread can change meanwhile except by adding NOTIFIED to RUNNING (only the
    /// move to DONE overwrites that, and DONE ignores wakes). A plain store: the poll path
    /// costs one read-modify-write per poll, in [`transition_to_idle`](Self::transition_to_idle).
    #[inline]
    fn store_owned(&self, next: Snapshot) {
        debug_assert!(next.is_valid(), "invalid task state {next:?}");
        self.0.store(next.0, Ordering::Release);
    }

    /// Where the task is now.
    fn run_state(&self) -> RunState {
        let s = self.load();
        match s.lifecycle() {
            CREATED => RunState::Created,
            IDLE => RunState::Idle,
            SCHEDULED => RunState::Scheduled,
            RUNNING if s.is(BLOCKED) => RunState::Blocked,
            RUNNING => RunState::Running,
            _ => RunState::Done,
        }
    }

    /// Activation of an async task: CREATED -> SCHEDULED. True if this call did it; the
    /// caller then queues it.
    fn transition_to_scheduled(&self) -> bool {
        self.cas(Snapshot(CREATED), Snapshot(SCHEDULED)).is_ok()
    }

    /// Activation of a threaded task: CREATED -> RUNNING, for as long as its thread runs.
    /// True if this call did it.
    fn transition_to_thread_running(&self) -> bool {
        self.cas(Snapshot(CREATED), Snapshot(RUNNING)).is_ok()
    }

    /// The popping thread takes the task: SCHEDULED -> RUNNING. The poller then calls
    /// [`store_load_fence`] before it looks at any box (see there).
    fn transition_to_running(&self) {
        // While SCHEDULED nobody else writes the state (a wake leaves it alone).
        debug_assert_eq!(self.load(), Snapshot(SCHEDULED), "only a queued task is run");
        self.store_owned(Snapshot(RUNNING));
    }

    /// After a poll returned Pending: RUNNING -> IDLE, unless it was woken meanwhile
    /// (RUNNING|NOTIFIED -> SCHEDULED, and the caller must queue it again).
    fn transition_to_idle(&self) -> AfterPending {
        match self.cas(Snapshot(RUNNING), Snapshot(IDLE)) {
            Ok(()) => AfterPending::Idle,
            Err(actual) => {
                // Only a wake can have changed RUNNING, and only by adding NOTIFIED; nobody
                // changes RUNNING|NOTIFIED but this thread.
                debug_assert_eq!(actual, Snapshot(RUNNING | NOTIFIED), "a polled task changed under its poller");
                self.store_owned(Snapshot(SCHEDULED));
                AfterPending::Requeue
            }
        }
    }

    /// The body ended, panicked, or never ran (a refused activation, a thread that could
    /// not start): -> DONE, for good.
    fn transition_to_done(&self) {
        debug_assert!(
            matches!(self.load().lifecycle(), CREATED | RUNNING),
            "only its owner ends a task, from CREATED or RUNNING (was {:?})",
            self.load()
        );
        self.store_owned(Snapshot(DONE));
    }

    /// A threaded task's thread is about to block in `pause`: RUNNING -> RUNNING|BLOCKED.
    /// Does nothing once the task is DONE (a `ThreadCtx` outliving its body).
    fn transition_to_blocked(&self) {
        self.update(self.load(), |s| {
            debug_assert!(!s.is(NOTIFIED), "a threaded task is never NOTIFIED");
            if s.lifecycle() == RUNNING && !s.is(BLOCKED) { Ok((Snapshot(RUNNING | BLOCKED), ())) } else { Err(()) }
        });
    }

    /// The thread returned from `pause`: RUNNING|BLOCKED -> RUNNING.
    fn transition_to_unblocked(&self) {
        let _ = self.cas(Snapshot(RUNNING | BLOCKED), Snapshot(RUNNING));
    }

    /// A wake: IDLE -> SCHEDULED (queue it), RUNNING -> RUNNING|NOTIFIED, else nothing.
    fn transition_to_notified(&self) -> Notify {
        self.update(self.load(), |s| match s.lifecycle() {
            IDLE => Ok((Snapshot(SCHEDULED), Notify::Submit)),
            RUNNING if !s.is(NOTIFIED) => {
                debug_assert!(!s.is(BLOCKED), "a threaded task's wakes unpark its thread");
                Ok((Snapshot(RUNNING | NOTIFIED), Notify::Marked))
            }
            _ => Err(Notify::Nothing),
        })
    }
}

/// What a wake did.
#[derive(Debug, PartialEq, Eq)]
enum Notify {
    /// IDLE -> SCHEDULED: the waker must queue it.
    Submit,
    /// RUNNING -> RUNNING|NOTIFIED: its poller will queue it again.
    Marked,
    /// Nothing to do: not activated, already queued or marked, or done.
    Nothing,
}

/// What the end of a poll that returned Pending did.
#[derive(Debug, PartialEq, Eq)]
enum AfterPending {
    /// RUNNING -> IDLE: the next wake queues it.
    Idle,
    /// RUNNING|NOTIFIED -> SCHEDULED: woken while polled, so the poller must queue it.
    Requeue,
}

/// Where a task is, as introspection sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum RunState {
    Created,
    Idle,
    Scheduled,
    Running,
    /// A threaded task blocked in `ThreadCtx::pause`.
    Blocked,
    Done,
}

/// What [`TaskCell::run`] did.
pub(crate) enum Ran {
    /// Pending, and IDLE: the next wake queues it.
    Idle,
    /// Pending, but woken while it ran: SCHEDULED again, and the caller must queue it.
    Requeue,
    /// The body returned (`Ok`) or panicked (`Err`, with the payload): DONE. The body is
    /// still in the cell, for the caller to drop ([`TaskCell::take_body`]).
    Ended(Result<(), Box<dyn Any + Send>>),
    /// There was no body (it was taken at teardown): DONE.
    Gone,
}

/// A component's async body, with the waker its polls use. The waker is made on the first
/// poll and kept, so a poll costs no reference-count traffic; it points back at the task
/// cell, and that cycle is broken when the body is taken out (at the end, or at teardown).
pub(crate) struct Body {
    future: BoxFuture,
    waker: Option<Waker>,
}

pub(crate) struct TaskCell<S: Schedule> {
    pub(crate) id: ComponentId,
    state: State,
    /// The body. Taken out and dropped when the component ends, which also breaks the
    /// reference cycle body -> boxes -> owner (this cell) -> body.
    body: Mutex<Option<Body>>,
    /// Set once, at activation.
    sched: OnceLock<Arc<S>>,
    /// Set for threaded components and handles: a wake unparks their OS thread instead of
    /// queueing a task.
    pub(crate) parker: OnceLock<Arc<Parker>>,
    pub(crate) core: Weak<S::Owner>,
}

impl<S: Schedule> TaskCell<S> {
    pub(crate) fn new(id: ComponentId, core: Weak<S::Owner>) -> Self {
        TaskCell {
            id,
            state: State::new(),
            body: Mutex::new(None),
            sched: OnceLock::new(),
            parker: OnceLock::new(),
            core,
        }
    }

    /// Gives the task its async body.
    pub(crate) fn set_body(&self, future: BoxFuture) {
        *self.body.lock() = Some(Body { future, waker: None });
    }

    pub(crate) fn take_body(&self) -> Option<Body> {
        self.body.lock().take()
    }

    /// Binds the task to the scheduler that will run it; false if it was bound before.
    pub(crate) fn bind(&self, sched: Arc<S>) -> bool {
        self.sched.set(sched).is_ok()
    }

    /// The scheduler it was activated on.
    pub(crate) fn scheduler(&self) -> Option<&Arc<S>> {
        self.sched.get()
    }

    /// Where it is now (for introspection).
    pub(crate) fn run_state(&self) -> RunState {
        self.state.run_state()
    }

    /// Activation of an async task (CREATED -> SCHEDULED); true if this call did it, and
    /// the caller then queues it.
    pub(crate) fn transition_to_scheduled(&self) -> bool {
        self.state.transition_to_scheduled()
    }

    /// Activation of a threaded task (CREATED -> RUNNING); true if this call did it.
    pub(crate) fn transition_to_thread_running(&self) -> bool {
        self.state.transition_to_thread_running()
    }

    /// Its body ended, or will never run (-> DONE).
    pub(crate) fn transition_to_done(&self) {
        self.state.transition_to_done();
    }

    /// Its thread is about to block in `ThreadCtx::pause`.
    pub(crate) fn transition_to_blocked(&self) {
        self.state.transition_to_blocked();
    }

    /// Its thread returned from `ThreadCtx::pause`.
    pub(crate) fn transition_to_unblocked(&self) {
        self.state.transition_to_unblocked();
    }

    /// Polls the body once. The caller popped the task from a run queue, so it is
    /// SCHEDULED and this thread now owns it.
    #[inline]
    pub(crate) fn run(self: &Arc<Self>) -> Ran {
        self.state.transition_to_running();
        store_load_fence();
        let polled = {
            let mut slot = self.body.lock();
            let Some(body) = slot.as_mut() else {
                drop(slot);
                self.state.transition_to_done();
                return Ran::Gone;
            };
            let waker = body.waker.get_or_insert_with(|| Waker::from(self.clone()));
            let mut cx = Context::from_waker(waker);
            let future = &mut body.future;
            let _polling = PollingGuard::enter(self.id);
            catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)))
        };
        match polled {
            Ok(Poll::Pending) => match self.state.transition_to_idle() {
                AfterPending::Idle => Ran::Idle,
                AfterPending::Requeue => Ran::Requeue,
            },
            Ok(Poll::Ready(())) => {
                self.state.transition_to_done();
                Ran::Ended(Ok(()))
            }
            Err(payload) => {
                self.state.transition_to_done();
                Ran::Ended(Err(payload))
            }
        }
    }

    /// Wakes the component: queue it if paused, mark it if running, else nothing.
    /// Idempotent: any number of wakes before it next runs queue it once.
    ///
    /// Not inlined: a send (generic over its message type, so compiled in the sender's
    /// crate) stays small enough to be inlined into the sending body, as it was before the
    /// cell became generic.
    #[inline(never)]
    pub(crate) fn wake(self: &Arc<Self>) {
        if let Some(p) = self.parker.get() {
            p.unpark();
            return;
        }
        store_load_fence();
        if self.state.transition_to_notified() == Notify::Submit {
            if let Some(sched) = self.sched.get() {
                sched.schedule(self.clone());
            }
        }
    }
}

/// The StoreLoad barrier of the wake protocol, called by a poller between setting RUNNING
/// and looking at its boxes, and by a waker between its delivery and reading the state.
///
/// A wake that finds the task SCHEDULED does nothing and relies on the coming poll to see
/// what was delivered before it; a poll that finds a box empty relies on a later delivery's
/// wake finding RUNNING (and marking NOTIFIED). That is the store-buffering pattern: each
/// side stores, then loads what the other stored, so each needs a StoreLoad barrier in
/// between or both loads may see the old values and the message is stranded. loom finds
/// exactly that lost wake without this fence (`cargo xtask loom`, `wake_*` models).
///
/// On x86 each side already executes a locked read-modify-write at that point (the body's
/// lock just after RUNNING is stored; the box lock a delivery releases just before the wake),
/// and locked instructions are full barriers there, so only the compiler must be kept from
/// moving the accesses across: a compiler fence, free at run time. Elsewhere (ARM, whose
/// RCpc acquire loads do not order an earlier release store) and under loom it is a real
/// `fence(SeqCst)`. Measured on the ring benchmark: no change on x86.
#[inline(always)]
pub(crate) fn store_load_fence() {
    #[cfg(any(loom, not(any(target_arch = "x86", target_arch = "x86_64"))))]
    crate::loom::sync::atomic::fence(Ordering::SeqCst);
    #[cfg(all(not(loom), any(target_arch = "x86", target_arch = "x86_64")))]
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
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

impl<S: Schedule> Wake for TaskCell<S> {
    fn wake(self: Arc<Self>) {
        TaskCell::wake(&self);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        TaskCell::wake(self);
    }
}

/// Model tests (`cargo xtask loom`): every interleaving of a wake with the poll it races.
#[cfg(all(test, loom))]
mod loom_model {
    use std::future::poll_fn;
    use std::sync::{Arc, Weak};
    use std::task::Poll;

    use super::{Ran, Schedule, TaskCell};
    use crate::ComponentId;
    use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use crate::loom::{model, thread};

    /// A scheduler that only counts the tasks it is asked to queue.
    #[derive(Default)]
    struct Counting {
        queued: AtomicUsize,
    }

    impl Schedule for Counting {
        type Owner = ();
        fn schedule(&self, task: Arc<TaskCell<Self>>) {
            self.queued.fetch_add(1, SeqCst);
            drop(task);
        }
    }

    /// An activated task, as if just popped from a run queue. Its body looks at
    /// `delivered` (recording in `seen` that it saw it) and returns Pending, or Ready if
    /// `ends`.
    fn popped_task(sched: &Arc<Counting>, flags: &Flags, ends: bool) -> Arc<TaskCell<Counting>> {
        let task = Arc::new(TaskCell::<Counting>::new(ComponentId(1), Weak::new()));
        let flags = flags.clone();
        task.set_body(Box::pin(poll_fn(move |_| {
            if flags.delivered.load(SeqCst) {
                flags.seen.store(true, SeqCst);
            }
            if ends { Poll::Ready(()) } else { Poll::Pending }
        })));
        assert!(task.bind(sched.clone()));
        assert!(task.transition_to_scheduled());
        task
    }

    #[derive(Clone, Default)]
    struct Flags {
        delivered: Arc<AtomicBool>,
        seen: Arc<AtomicBool>,
    }

    /// `wakers` threads each deliver (a store) and wake the task, racing the whole poll:
    /// its start (a wake that finds it SCHEDULED relies on the poll seeing the delivery,
    /// which `store_load_fence` guarantees), the rest of it, and its end. Returns whether
    /// the body saw a delivery, how many times the task was queued, and how the poll ended.
    fn race(wakers: usize, ends: bool) -> (bool, usize, Ran) {
        let sched = Arc::new(Counting::default());
        let flags = Flags::default();
        let task = popped_task(&sched, &flags, ends);
        let threads: Vec<_> = (0..wakers)
            .map(|_| {
                let (task, flags) = (task.clone(), flags.clone());
                thread::spawn(move || {
                    flags.delivered.store(true, SeqCst);
                    task.wake();
                })
            })
            .collect();
        let ran = task.run();
        for t in threads {
            t.join().unwrap();
        }
        drop(task.take_body()); // the body's waker points back at the cell
        let queued = usize::from(matches!(ran, Ran::Requeue)) + sched.queued.load(SeqCst);
        (flags.seen.load(SeqCst), queued, ran)
    }

    /// (c) A wake racing the end of a Pending poll is never lost: the poll saw the delivery,
    /// or the task is queued again; and it is never queued twice.
    #[test]
    fn wake_racing_after_pending_is_never_lost() {
        model(|| {
            let (seen, queued, _) = race(1, false);
            assert!(seen || queued == 1, "a wake racing after_pending was lost");
            assert!(queued <= 1, "a task was queued {queued} times");
        });
    }

    /// Two wakes racing one poll still queue the task at most once, and lose nothing.
    #[test]
    fn two_wakes_racing_a_poll_queue_it_once() {
        model(|| {
            let (seen, queued, _) = race(2, false);
            assert!(seen || queued == 1, "a wake racing after_pending was lost");
            assert!(queued <= 1, "a task was queued {queued} times");
        });
    }

    /// A wake racing the poll that ends the body never queues the finished task.
    #[test]
    fn wake_racing_the_end_never_queues_a_done_task() {
        model(|| {
            let (_, queued, ran) = race(1, true);
            assert!(matches!(ran, Ran::Ended(Ok(()))));
            assert_eq!(queued, 0, "a finished task was queued");
        });
    }
}
