//! The single-thread scheduler's loop: Axon's cycle (everything runnable at its start, once
//! each, in FIFO order, then due timers), and its idle wait on the [`Park`](crate::Park).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Queues, Shared, Task};

impl Shared {
    fn single_queue(&self) -> &parking_lot::Mutex<VecDeque<Arc<Task>>> {
        let Queues::Single(q) = &self.queues else { unreachable!("single-thread schedulers only") };
        q
    }

    /// One Axon cycle: run everything that was runnable at its start, once each, in FIFO
    /// order, then fire due timers. Returns how many components ran.
    pub(super) fn cycle(self: &Arc<Self>, local: &mut VecDeque<Arc<Task>>) -> usize {
        std::mem::swap(local, &mut *self.single_queue().lock());
        let ran = local.len();
        while let Some(t) = local.pop_front() {
            self.run_task(t);
        }
        self.fire_timers();
        ran
    }

    /// Runs cycles until no components remain and no keep-alive is held, parking while
    /// nothing is runnable.
    pub(super) fn run_single(self: &Arc<Self>) {
        let q = self.single_queue();
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
}
