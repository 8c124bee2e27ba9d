//! The multi-thread scheduler: one FIFO run queue per worker thread, a shared injector for
//! wakes from elsewhere, work stealing between workers, and a sleep protocol so an idle
//! worker uses no CPU yet a wake is never lost.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use super::{CurrentGuard, Queues, Shared, Task};
use crate::lock;
use crate::park::{CondvarPark, Park};

thread_local! {
    /// This worker thread's own run queue.
    static LOCAL: RefCell<Option<Worker<Arc<Task>>>> = const { RefCell::new(None) };
}

pub(super) struct Multi {
    injector: Injector<Arc<Task>>,
    stealers: Vec<Stealer<Arc<Task>>>,
    /// Handed to the worker threads when `run` starts.
    workers: Mutex<Vec<Worker<Arc<Task>>>>,
    parkers: Vec<CondvarPark>,
    /// `sleeping[i]` is true while worker i is parked or about to park; a notifier that
    /// swaps it to false owns the duty of unparking worker i.
    sleeping: Vec<AtomicBool>,
    /// How many workers are in the sleep protocol; lets wakes skip the scan when zero.
    sleepers: AtomicUsize,
}

impl Multi {
    pub(super) fn new(threads: usize) -> Self {
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

    /// Queues a task: on this worker's own queue when woken by one of this scheduler's
    /// workers (`local`), else on the injector; then wakes a sleeping worker, if any.
    pub(super) fn push(&self, task: Arc<Task>, local: bool) {
        let leftover = if local {
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
            self.injector.push(t);
        }
        self.notify_one();
    }

    pub(super) fn is_empty(&self) -> bool {
        self.injector.is_empty() && self.stealers.iter().all(Stealer::is_empty)
    }

    pub(super) fn unpark_all(&self) {
        for p in &self.parkers {
            p.unpark();
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

    fn find_task(&self, i: usize, tick: u32) -> Option<Arc<Task>> {
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
                    Steal::Success(t) => return Some(t),
                    Steal::Empty => break,
                    Steal::Retry => {}
                }
            }
        }
        None
    }

    fn steal_injector(&self) -> Option<Arc<Task>> {
        loop {
            let stolen = LOCAL.with(|l| match l.borrow().as_ref() {
                Some(w) => self.injector.steal_batch_and_pop(w),
                None => self.injector.steal(),
            });
            match stolen {
                Steal::Success(t) => return Some(t),
                Steal::Empty => return None,
                Steal::Retry => {}
            }
        }
    }
}

impl Shared {
    fn multi(&self) -> &Multi {
        let Queues::Multi(m) = &self.queues else { unreachable!("multi-thread schedulers only") };
        m
    }

    /// Runs the worker threads until no components remain and no keep-alive is held.
    pub(super) fn run_multi(self: &Arc<Self>) {
        let workers: Vec<_> = std::mem::take(&mut *lock(&self.multi().workers));
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

    fn worker_loop(self: &Arc<Self>, i: usize, worker: Worker<Arc<Task>>) {
        let m = self.multi();
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
}
