//! Helpers shared by kamaelia-redis's tests: probes that hand what reaches them to the test
//! (optionally stalled behind a gate), waiting on a condition with a deadline, and a few raw
//! Redis commands to look at the server.
#![allow(dead_code)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, LinkOptions, Next, Signal, link, link_with, pause};

/// Far longer than anything here needs; only reached if something hangs.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// A component that hands every message of its `inbox` to the test. A gated probe reads
/// nothing until its gate is opened (a subscriber that stalls).
pub(crate) struct Probe<T> {
    pub(crate) component: Component,
    pub(crate) rx: mpsc::Receiver<T>,
}

impl<T> Probe<T> {
    /// Opens the gate: the probe starts reading.
    pub(crate) fn open(&self) {
        self.component.inbox_ref::<()>("gate").unwrap().try_send(()).unwrap();
    }

    /// Waits for the next message.
    pub(crate) fn next(&self) -> Option<T> {
        self.rx.recv_timeout(LIMIT).ok()
    }

    /// Waits for `n` messages.
    pub(crate) fn take(&self, n: usize) -> Vec<T> {
        (0..n).map(|i| self.next().unwrap_or_else(|| panic!("only {i} of {n} messages arrived"))).collect()
    }

    /// What has arrived by now.
    pub(crate) fn drain(&self) -> Vec<T> {
        self.rx.try_iter().collect()
    }
}

pub(crate) fn probe<T: Send + 'static>(gated: bool) -> Probe<T> {
    let (tx, rx) = mpsc::channel();
    let mut b = ComponentBuilder::new("Probe");
    let io = b.standard::<T, ()>();
    let gate = b.inbox::<()>("gate");
    let component = b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut open = !gated;
        let end = loop {
            if !open {
                if gate.try_recv().is_some() {
                    open = true;
                    continue;
                }
                if let Some(s) = watch.check() {
                    break s;
                }
                pause().await;
                continue;
            }
            match watch.next(&io.inbox).await {
                Next::Data(m) => {
                    let _ = tx.send(m);
                }
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
    });
    Probe { component, rx }
}

/// Links `from`'s `outbox` into a new probe (its inbox bounded by `capacity` if given).
pub(crate) fn attach<T: Send + 'static>(
    from: &Component,
    outbox: &str,
    capacity: Option<usize>,
    gated: bool,
) -> Probe<T> {
    let p = probe::<T>(gated);
    match capacity {
        Some(n) => link_with((from, outbox), (&p.component, "inbox"), LinkOptions::capacity(n)).unwrap(),
        None => link((from, outbox), (&p.component, "inbox")).unwrap(),
    };
    p
}

/// Waits until `cond` holds, checking every few milliseconds, failing after [`LIMIT`].
pub(crate) fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::park_timeout(Duration::from_millis(5));
    }
}

/// A plain connection to the test server.
pub(crate) fn raw(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

/// The consumer groups of a stream.
pub(crate) fn group_names(url: &str, key: &str) -> Vec<String> {
    let v: redis::Value = match redis::cmd("XINFO").arg("GROUPS").arg(key).query(&mut raw(url)) {
        Ok(v) => v,
        Err(_) => return Vec::new(),
    };
    let redis::Value::Array(groups) = v else { return Vec::new() };
    groups
        .into_iter()
        .filter_map(|g| {
            let redis::Value::Array(f) = g else { return None };
            let i = f.iter().position(|x| matches!(x, redis::Value::BulkString(b) if b == b"name"))?;
            match &f[i + 1] {
                redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            }
        })
        .collect()
}

/// Signals that came out of a probe linked to a component's `signal`, by Axon name.
pub(crate) fn names(signals: &[Signal]) -> Vec<&'static str> {
    signals.iter().map(Signal::axon_name).collect()
}
