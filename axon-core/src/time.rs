//! Awaitable points in a component's body: pause, yield, and the scheduler's timers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::scheduler::{Shared, current};

/// Pauses until something wakes this component: a delivery into any of its inboxes, the
/// collection of a message it waits to send, a timer, a child's end, or an explicit wake
/// (Axon's `self.pause(); yield`). A paused component is not polled and costs no CPU.
/// A wake that arrived while the component was running is not lost: the pause returns at
/// the component's next turn.
pub fn pause() -> Pause {
    Pause { polled: false }
}

/// The future returned by [`pause`].
#[must_use = "futures do nothing unless awaited"]
pub struct Pause {
    polled: bool,
}

impl Future for Pause {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            Poll::Ready(())
        } else {
            self.polled = true;
            Poll::Pending
        }
    }
}

/// Pauses until something wakes this component (as [`pause`]) or until `deadline`,
/// whichever comes first; resolves to `true` if woken before the deadline. For components
/// that wait for input but also have something to do at a time (flush a batch, emit a tick).
pub fn pause_until(deadline: Instant) -> PauseUntil {
    PauseUntil { timer: sleep_until(deadline), polled: false }
}

/// [`pause_until`] `now + duration`.
pub fn pause_for(duration: Duration) -> PauseUntil {
    pause_until(Instant::now() + duration)
}

/// The future returned by [`pause_until`] and [`pause_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct PauseUntil {
    timer: Sleep,
    polled: bool,
}

impl Future for PauseUntil {
    type Output = bool;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let first = !self.polled;
        self.polled = true;
        match Pin::new(&mut self.timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(false),
            // Any later poll means the component was woken by something else.
            Poll::Pending if first => Poll::Pending,
            Poll::Pending => Poll::Ready(true),
        }
    }
}

/// Lets every other runnable component have a turn, then carries on (Axon's bare `yield`).
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Waits for `duration` on the scheduler's own timers (no thread per sleeper).
///
/// # Panics
/// When polled outside a component running on an axon scheduler (a threaded component
/// waits with [`ThreadCtx::pause`](crate::ThreadCtx::pause) instead).
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// Waits until `deadline` (see [`sleep`]).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, registered: None }
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    registered: Option<(Arc<Shared>, (Instant, u64))>,
}

impl Sleep {
    /// When it ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            if let Some((shared, key)) = self.registered.take() {
                shared.remove_timer(key);
            }
            return Poll::Ready(());
        }
        if self.registered.is_none() {
            let shared = current().expect("sleep() must be awaited inside a component on an axon scheduler");
            let key = shared.add_timer(self.deadline, cx.waker().clone());
            self.registered = Some((shared, key));
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((shared, key)) = self.registered.take() {
            shared.remove_timer(key);
        }
    }
}
