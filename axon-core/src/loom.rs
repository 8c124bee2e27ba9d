//! The synchronisation primitives the model-checked core is written against: std's and
//! parking_lot's normally, [loom]'s under `RUSTFLAGS="--cfg loom"` (tokio's `crate::loom`).
//!
//! The postoffice (box queues and links), the task cell (its run state and wakes) and the
//! parkers import their atomics, mutexes and condition variables from here, so `cargo xtask
//! loom` can explore every interleaving of them. In a normal build each item is a plain
//! re-export: no wrapper, no cost.
//!
//! Not everything goes through here, deliberately:
//! - `Arc`s that become a `Waker`, hand out a `Weak` or hold a `dyn` value (task cells,
//!   nodes, parkers) stay std's: loom's `Arc` has none of those. Model tests share their
//!   values with `sync::Arc` (loom's, in model tests only).
//! - The scheduler's run queues (crossbeam-deque) and its bookkeeping are not modelled; the
//!   models drive the cell through the [`Schedule`](crate::task::Schedule) seam instead.
//! - Process-wide id counters stay std atomics: only their uniqueness matters.
//!
//! [loom]: https://docs.rs/loom

/// std-shaped primitives: `std::sync` normally, `loom::sync` under loom.
pub(crate) mod sync {
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};

    #[cfg(loom)]
    pub(crate) use ::loom::sync::{Condvar, Mutex, MutexGuard};

    /// For values shared between model threads.
    #[cfg(all(test, loom))]
    pub(crate) use ::loom::sync::Arc;

    /// Atomics: `std::sync::atomic` normally, `loom::sync::atomic` under loom.
    pub(crate) mod atomic {
        /// The StoreLoad barrier where the hardware does not give it for free (see `task`).
        #[cfg(all(not(loom), not(any(target_arch = "x86", target_arch = "x86_64"))))]
        pub(crate) use std::sync::atomic::fence;
        #[cfg(not(loom))]
        pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8};

        #[cfg(loom)]
        pub(crate) use ::loom::sync::atomic::{AtomicBool, AtomicU8, fence};

        /// Counters the models use to observe what happened.
        #[cfg(all(test, loom))]
        #[allow(unused_imports)]
        pub(crate) use ::loom::sync::atomic::{AtomicU64, AtomicUsize};

        pub(crate) use std::sync::atomic::Ordering;
    }
}

/// A mutex with parking_lot's shape (`lock()` hands out the guard; no poisoning):
/// `parking_lot::Mutex` normally, a loom mutex behind the same API under loom.
pub(crate) mod parking_lot {
    #[cfg(not(loom))]
    pub(crate) use ::parking_lot::Mutex;

    #[cfg(loom)]
    pub(crate) use self::model::Mutex;

    #[cfg(loom)]
    mod model {
        use std::sync::PoisonError;

        /// loom's mutex with parking_lot's API: a panic while it is held does not poison it.
        #[derive(Debug, Default)]
        pub(crate) struct Mutex<T>(::loom::sync::Mutex<T>);

        impl<T> Mutex<T> {
            pub(crate) fn new(value: T) -> Self {
                Mutex(::loom::sync::Mutex::new(value))
            }

            pub(crate) fn lock(&self) -> ::loom::sync::MutexGuard<'_, T> {
                self.0.lock().unwrap_or_else(PoisonError::into_inner)
            }
        }
    }
}

/// Threads: `std::thread` normally, `loom::thread` (model threads) under loom.
#[cfg(all(test, loom))]
pub(crate) use ::loom::thread;

/// Thread-locals holding modelled primitives must be per model thread and per execution.
#[cfg(not(loom))]
pub(crate) use std::thread_local;

#[cfg(loom)]
pub(crate) use ::loom::thread_local;

/// Waits on `cv` (paired with `mutex`, whose guard this is) until notified or until
/// `timeout` has passed; true if it timed out. Spurious returns are possible, as with std.
///
/// Under loom, time does not pass by itself and loom's own timed wait never times out, so
/// the deadline is modelled as passing *at once*: the wait lets go of the lock, lets any
/// other thread run, and reports a timeout. Every interleaving of an unpark with that
/// deadline is then explored; a wait that is notified before its deadline is the untimed
/// wait, modelled separately.
#[cfg_attr(not(loom), inline)]
pub(crate) fn wait_timeout<'a, T>(
    cv: &sync::Condvar,
    mutex: &'a sync::Mutex<T>,
    guard: sync::MutexGuard<'a, T>,
    timeout: std::time::Duration,
) -> (sync::MutexGuard<'a, T>, bool) {
    #[cfg(not(loom))]
    {
        let _ = mutex;
        let (guard, result) = cv.wait_timeout(guard, timeout).unwrap_or_else(std::sync::PoisonError::into_inner);
        (guard, result.timed_out())
    }
    #[cfg(loom)]
    {
        let _ = (cv, timeout);
        drop(guard);
        ::loom::thread::yield_now();
        (mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner), true)
    }
}

/// Runs a model: every interleaving of the threads `f` spawns, up to `LOOM_MAX_PREEMPTIONS`
/// preemptions (3 unless set), so each model finishes in seconds.
#[cfg(all(test, loom))]
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = ::loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}
