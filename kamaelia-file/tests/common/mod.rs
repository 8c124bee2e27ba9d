//! Helpers shared by kamaelia-file's tests: a probe component, waiting with a deadline,
//! and collecting signals from a Handle.
#![allow(dead_code)]

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Handle, Next, Signal};

/// Far longer than any of these walks needs; only reached if something hangs.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// A component that hands every message of its `inbox` to the test through a channel,
/// draining its inbox and ending on a terminal signal.
pub(crate) struct Probe<T> {
    pub(crate) component: Component,
    pub(crate) rx: mpsc::Receiver<T>,
}

pub(crate) fn probe<T: Send + 'static>() -> Probe<T> {
    let (tx, rx) = mpsc::channel();
    let mut b = ComponentBuilder::new("Probe");
    let std = b.standard::<T, ()>();
    let component = b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(std.control, std.signal);
        loop {
            match watch.next(&std.inbox).await {
                Next::Data(m) => {
                    let _ = tx.send(m);
                }
                Next::Other(_) => {}
                Next::End(_) => break,
            }
        }
        for m in std.inbox.drain() {
            let _ = tx.send(m);
        }
    });
    Probe { component, rx }
}

impl<T: Send + 'static> Probe<T> {
    /// Stops the probe and returns everything it received.
    pub(crate) fn finish(self) -> Vec<T> {
        let _ = self.component.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess);
        let mut got = Vec::new();
        let deadline = Instant::now() + LIMIT;
        loop {
            match self.rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(m) => got.push(m),
                Err(mpsc::RecvTimeoutError::Disconnected) => return got,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the probe did not finish"),
            }
        }
    }
}

pub(crate) fn signals_until_terminal<I: Send + 'static, O: Send + 'static>(h: &Handle<I, O>) -> Vec<Signal> {
    let mut signals = Vec::new();
    loop {
        let s = h.get_signal_timeout(LIMIT).expect("no terminal signal in time");
        let end = s.is_terminal();
        signals.push(s);
        if end {
            return signals;
        }
    }
}

pub(crate) fn names(signals: &[Signal]) -> Vec<&'static str> {
    signals.iter().map(Signal::axon_name).collect()
}

pub(crate) fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        // Polling a condition with a deadline, not sleeping in place of synchronising.
        thread::sleep(Duration::from_millis(1));
    }
}

pub(crate) fn wait_finished(c: &Component) -> bool {
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        if Instant::now() > deadline {
            return false;
        }
        // Polling a condition with a deadline, not sleeping in place of synchronising.
        thread::sleep(Duration::from_millis(1));
    }
    true
}
