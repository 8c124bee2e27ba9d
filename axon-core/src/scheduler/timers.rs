//! The scheduler's timers: deadlines set by [`sleep`](crate::sleep) and friends, fired by
//! whichever scheduler thread gets to them first.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::Shared;
use crate::lock;

/// Pending timers, keyed by deadline and a sequence number (so equal deadlines fire in the
/// order they were set, and a dropped timer can remove exactly its own entry).
#[derive(Default)]
pub(super) struct Timers {
    map: BTreeMap<(Instant, u64), Waker>,
    seq: u64,
}

impl Shared {
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
    pub(super) fn fire_timers(&self) -> usize {
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

    /// How long until the next timer is due, if any is set.
    pub(super) fn next_timeout(&self) -> Option<Duration> {
        lock(&self.timers).map.first_key_value().map(|(k, _)| k.0.saturating_duration_since(Instant::now()))
    }

    /// Drops every timer (at teardown), outside the lock: a waker's drop may take others.
    pub(super) fn clear_timers(&self) {
        let timers = std::mem::take(&mut lock(&self.timers).map);
        self.timer_count.store(0, Ordering::Release);
        drop(timers);
    }
}
