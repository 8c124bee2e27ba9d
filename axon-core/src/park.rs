//! Blocking and waking: the scheduler's idle wait ([`Park`]) and the parkers behind blocking box calls.

use std::sync::{Arc, PoisonError};
use std::task::Wake;
use std::time::{Duration, Instant};

use crate::loom::sync::{Condvar, Mutex, MutexGuard};
use crate::loom::wait_timeout;

/// Locks, ignoring poisoning (as [`crate::lock`], for the modelled mutex type).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a scheduler thread waits when nothing is runnable.
///
/// Contract: an [`unpark`](Park::unpark) that happens before or during a
/// [`park`](Park::park) makes that `park` return promptly (a wake is never lost), and `park`
/// returns by itself once `timeout` has passed. Spurious returns are allowed.
///
/// The default is a condition variable. A crate that owns an event source (kamaelia-net's mio
/// `Poll`, say) supplies its own so the scheduler's idle wait *is* the I/O wait: readiness then
/// wakes socket components on the scheduler thread with no thread hop, and an idle system uses no CPU.
pub trait Park: Send + Sync + 'static {
    /// Blocks until unparked or until `timeout` (forever if `None`).
    fn park(&self, timeout: Option<Duration>);
    /// Wakes the parked thread, or makes its next `park` return at once.
    fn unpark(&self);
}

/// The default [`Park`]: a token guarded by a mutex and a condition variable.
#[derive(Default)]
pub struct CondvarPark {
    token: Mutex<bool>,
    cv: Condvar,
}

impl CondvarPark {
    /// A new parker with no token.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CondvarPark {
    /// [`Park::park`], saying how it ended: true if it took the token, false on timeout
    /// (an unpark racing the deadline then leaves the token for the next park).
    fn take_token(&self, timeout: Option<Duration>) -> bool {
        let mut token = lock(&self.token);
        let deadline = timeout.map(|t| Instant::now() + t);
        while !*token {
            match deadline {
                None => token = self.cv.wait(token).unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    let timed_out;
                    (token, timed_out) = wait_timeout(&self.cv, &self.token, token, d - now);
                    if timed_out && !*token {
                        return false;
                    }
                }
            }
        }
        *token = false;
        true
    }
}

impl Park for CondvarPark {
    fn park(&self, timeout: Option<Duration>) {
        self.take_token(timeout);
    }

    fn unpark(&self) {
        *lock(&self.token) = true;
        self.cv.notify_one();
    }
}

/// A generation-counting parker for blocking box operations.
///
/// Unlike a token, any number of threads may wait on it: a waiter reads the generation,
/// checks its condition, then waits until the generation moves on. A wake between the check
/// and the wait is therefore never lost, whichever thread consumes it.
#[derive(Default)]
pub(crate) struct Parker {
    generation: Mutex<u64>,
    cv: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The current generation; pass it to [`wait_past`](Self::wait_past).
    pub(crate) fn generation(&self) -> u64 {
        *lock(&self.generation)
    }

    /// Waits until the generation differs from `seen`, or until `deadline`.
    /// Returns false if the deadline passed first.
    pub(crate) fn wait_past(&self, seen: u64, deadline: Option<Instant>) -> bool {
        let mut g = lock(&self.generation);
        while *g == seen {
            match deadline {
                None => g = self.cv.wait(g).unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    let timed_out;
                    (g, timed_out) = wait_timeout(&self.cv, &self.generation, g, d - now);
                    if timed_out && *g == seen {
                        return false;
                    }
                }
            }
        }
        true
    }

    pub(crate) fn unpark(&self) {
        *lock(&self.generation) += 1;
        self.cv.notify_all();
    }
}

impl Wake for Parker {
    fn wake(self: Arc<Self>) {
        self.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.unpark();
    }
}

crate::loom::thread_local! {
    static THREAD_PARKER: Arc<Parker> = Parker::new();
}

/// The calling thread's own parker, for blocking calls made from ordinary threads.
pub(crate) fn thread_parker() -> Arc<Parker> {
    THREAD_PARKER.with(Arc::clone)
}
