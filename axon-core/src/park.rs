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

/// Model tests (`cargo xtask loom`): unparks racing parks, with and without deadlines.
///
/// A lost unpark shows as a thread blocked for ever, which loom reports as a deadlock.
#[cfg(all(test, loom))]
mod loom_model {
    use std::sync::Weak;
    use std::time::{Duration, Instant};

    use super::{CondvarPark, Park, Parker, lock};
    use crate::ComponentId;
    use crate::boxes::Inbox;
    use crate::loom::sync::Arc;
    use crate::loom::{model, thread};
    use crate::postoffice::{Direction, Node};
    use crate::scheduler::Task;

    /// Long enough never to pass by the clock during a model: under loom a timed wait
    /// times out as soon as it waits (see `crate::loom::wait_timeout`).
    const LONG: Duration = Duration::from_secs(3600);

    /// (d) An unpark racing a park is never lost: the park returns.
    #[test]
    fn condvar_park_unpark_racing_park_is_never_lost() {
        model(|| {
            let park = Arc::new(CondvarPark::new());
            let p = park.clone();
            let t = thread::spawn(move || p.unpark());
            park.park(None);
            t.join().unwrap();
        });
    }

    /// (d) An unpark racing a wait for the next generation is never lost.
    #[test]
    fn parker_unpark_racing_wait_is_never_lost() {
        model(|| {
            let parker = Parker::new();
            let seen = parker.generation();
            let p = parker.clone();
            let t = thread::spawn(move || p.unpark());
            assert!(parker.wait_past(seen, None));
            t.join().unwrap();
        });
    }

    /// (d) One unpark wakes every thread waiting on a Parker, however they interleave.
    #[test]
    fn parker_unpark_wakes_every_waiter() {
        model(|| {
            let parker = Parker::new();
            let seen = parker.generation();
            let other = {
                let p = parker.clone();
                thread::spawn(move || assert!(p.wait_past(seen, None)))
            };
            let unparker = {
                let p = parker.clone();
                thread::spawn(move || p.unpark())
            };
            assert!(parker.wait_past(seen, None));
            other.join().unwrap();
            unparker.join().unwrap();
        });
    }

    /// (e) A deadline passing as an unpark lands: the park took the token, or the token is
    /// left for the next park, which then returns at once.
    #[test]
    fn condvar_park_deadline_racing_unpark_keeps_the_token() {
        model(|| {
            let park = Arc::new(CondvarPark::new());
            let p = park.clone();
            let t = thread::spawn(move || p.unpark());
            let took = park.take_token(Some(LONG));
            t.join().unwrap();
            assert!(took || *lock(&park.token), "an unpark racing a deadline was lost");
            if !took {
                park.park(None);
            }
        });
    }

    /// (e) A timed wait on a Parker racing an unpark: it reports the wake, or a wait for the
    /// same generation afterwards returns at once.
    #[test]
    fn parker_deadline_racing_unpark_is_never_lost() {
        model(|| {
            let parker = Parker::new();
            let seen = parker.generation();
            let p = parker.clone();
            let t = thread::spawn(move || p.unpark());
            let woke = parker.wait_past(seen, Some(Instant::now() + LONG));
            t.join().unwrap();
            if !woke {
                assert!(parker.wait_past(seen, None));
            }
        });
    }

    /// An inbox of a threaded component (a delivery unparks its Parker), and a thread
    /// delivering 7 into it.
    fn threaded_inbox_and_sender() -> (std::sync::Arc<Node<u32>>, std::sync::Arc<Parker>, thread::JoinHandle<()>) {
        let owner = std::sync::Arc::new(Task::new(ComponentId(1), Weak::new()));
        let parker = Parker::new();
        assert!(owner.parker.set(parker.clone()).is_ok());
        let node = std::sync::Arc::new(Node::new("inbox".into(), Direction::Inbox, owner, None));
        let sender = {
            let node = node.clone();
            thread::spawn(move || assert!(node.push(7u32, None).is_ok()))
        };
        (node, parker, sender)
    }

    /// (d) A threaded receive racing a delivery (check the box, then wait for the owner's
    /// Parker to move on): the delivery's wake is never lost, and once woken the receiver
    /// finds the message.
    #[test]
    fn threaded_receive_racing_a_delivery_is_woken() {
        model(|| {
            let (node, parker, sender) = threaded_inbox_and_sender();
            let seen = parker.generation();
            let got = node.pop().or_else(|| {
                assert!(parker.wait_past(seen, None));
                node.pop()
            });
            sender.join().unwrap();
            assert_eq!(got, Some(7), "woken before the delivery was visible");
        });
    }

    /// (e) `recv_timeout` with its deadline passing as a delivery lands: it returns the
    /// message, or the delivery's wake is still pending (a wait for the generation seen
    /// before the receive returns at once) and the message is there.
    #[test]
    fn recv_timeout_racing_a_delivery_loses_nothing() {
        model(|| {
            let (node, parker, sender) = threaded_inbox_and_sender();
            let seen = parker.generation();
            let got = Inbox::new(node.clone()).recv_timeout(LONG);
            sender.join().unwrap();
            if got.is_none() {
                assert!(parker.wait_past(seen, None));
            }
            assert_eq!(got.or_else(|| node.pop()), Some(7), "a delivery racing a deadline was lost");
        });
    }
}
