//! Small components and helpers shared by the chassis tests: sources, transformers and
//! sinks that follow the shutdown contract, probes to read a chassis's outputs, and
//! snapshot look-ups.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use axon_core::{
    Component, ComponentBuilder, ComponentInfo, ControlWatch, Inbox, LinkKind, Next, Scheduler, Signal, SignalPolicy,
    Snapshot, link,
};

/// Far longer than any of these systems needs; only reached if `run` hangs.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// Runs `sched` on another thread until `run` returns, failing the test after [`LIMIT`].
pub(crate) fn run_within_limit(sched: Scheduler) -> Scheduler {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        sched.run();
        let _ = tx.send(sched);
    });
    rx.recv_timeout(LIMIT).expect("Scheduler::run did not return")
}

/// A shared, append-only record of what components saw.
#[derive(Debug)]
pub(crate) struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Log<T> {
    fn clone(&self) -> Self {
        Log(self.0.clone())
    }
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log(Arc::default())
    }
}

impl<T: Clone> Log<T> {
    pub(crate) fn new() -> Self {
        Log(Arc::default())
    }
    pub(crate) fn push(&self, v: T) {
        self.0.lock().unwrap().push(v);
    }
    pub(crate) fn get(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }
}

/// Axon's names of some signals, for comparing.
pub(crate) fn names(signals: &[Signal]) -> Vec<&'static str> {
    signals.iter().map(Signal::axon_name).collect()
}

/// A producer: sends `items` on `outbox`, then `ProducerFinished` naming itself. On a
/// terminal signal it stops early and passes the signal on.
pub(crate) fn source<T: Clone + Send + 'static>(items: Vec<T>) -> Component {
    let mut b = ComponentBuilder::new("Source");
    let io = b.standard::<(), T>();
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        for item in items {
            if let Some(s) = watch.check().or_else(|| watch.take_finished()) {
                return watch.finish(s).await;
            }
            if let Err(stop) = watch.send(&io.outbox, item).await {
                return watch.finish(stop.signal).await;
            }
        }
        watch.finish(Signal::producer_finished_by(ctx.id())).await;
    })
}

/// A producer that records when it starts and ends in `log` (as `"start <tag>"`,
/// `"end <tag>"`), sending `items` between.
pub(crate) fn logged_source(tag: &'static str, items: Vec<u32>, log: &Log<String>) -> Component {
    let log = log.clone();
    let mut b = ComponentBuilder::new("LoggedSource");
    let io = b.standard::<(), u32>();
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        log.push(format!("start {tag}"));
        for item in items {
            if let Err(stop) = watch.send(&io.outbox, item).await {
                return watch.finish(stop.signal).await;
            }
        }
        log.push(format!("end {tag}"));
        watch.finish(Signal::producer_finished_by(ctx.id())).await;
    })
}

/// A transformer multiplying by `k`, following the contract (drain on `ProducerFinished`,
/// stop at once on a shutdown, pass other signals on), that records every control message
/// it receives in `controls` (by Axon name).
pub(crate) fn times_logged(k: u32, controls: &Log<String>) -> Component {
    let controls = controls.clone();
    let mut b = ComponentBuilder::new("Times");
    let io = b.standard::<u32, u32>();
    b.run(move |_| async move {
        // Delivered, to be recorded; then passed on as the default policy would.
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(n) => {
                    if let Err(stop) = watch.send(&io.outbox, n * k).await {
                        break stop.signal;
                    }
                }
                Next::Other(s) => {
                    controls.push(s.axon_name().to_string());
                    watch.emit(s).await;
                }
                Next::End(s) => break s,
            }
        };
        controls.push(end.axon_name().to_string());
        watch.finish(end).await;
    })
}

/// A transformer multiplying by `k`, on the driver.
pub(crate) fn times(k: u32) -> Component {
    let mut b = ComponentBuilder::new("Times");
    let io = b.standard::<u32, u32>();
    b.run(move |_| io.transform(move |n| Some(n * k)))
}

/// Passes on its first `n` items, then sends `ProducerFinished` naming itself and ends (or
/// ends earlier, as the contract says).
pub(crate) fn take(n: usize) -> Component {
    let mut b = ComponentBuilder::new("Take");
    let io = b.standard::<u32, u32>();
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut left = n;
        let end = loop {
            if left == 0 {
                break Signal::producer_finished_by(ctx.id());
            }
            match watch.next(&io.inbox).await {
                Next::Data(x) => {
                    left -= 1;
                    if let Err(stop) = watch.send(&io.outbox, x).await {
                        break stop.signal;
                    }
                }
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
    })
}

/// A sink recording what it receives in `items` and the signals in `signals`; it stops on a
/// terminal signal (draining first on `ProducerFinished`) and passes it on, as it does the
/// others.
pub(crate) fn collector(items: &Log<u32>, signals: &Log<String>) -> Component {
    let (items, signals) = (items.clone(), signals.clone());
    let mut b = ComponentBuilder::new("Collector");
    let io = b.standard::<u32, u32>();
    b.run(move |_| async move {
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(n) => items.push(n),
                Next::Other(s) => {
                    signals.push(s.axon_name().to_string());
                    watch.emit(s).await;
                }
                Next::End(s) => break s,
            }
        };
        signals.push(end.axon_name().to_string());
        watch.finish(end).await;
    })
}

/// A component that reads its inbox for ever and never looks at `control`: deliberately
/// outside the contract, to show a chassis does not depend on its children keeping it.
pub(crate) fn stubborn() -> Component {
    let mut b = ComponentBuilder::new("Stubborn");
    let io = b.standard::<u32, u32>();
    b.run(move |_| async move {
        loop {
            let n = io.inbox.recv().await;
            io.outbox.send(n).await;
        }
    })
}

/// A component with only an `inbox` (no control, outbox or signal).
pub(crate) fn inbox_only() -> Component {
    let mut b = ComponentBuilder::new("InboxOnly");
    let _inbox = b.inbox::<u32>("inbox");
    b.run(|_| async {})
}

/// A component with the standard boxes whose activation hook refuses to start it, giving
/// `reason` (as a Backplane whose name is taken does).
pub(crate) fn refuser<I: Send + 'static, O: Send + 'static>(reason: &'static str) -> Component {
    let mut b = ComponentBuilder::new("Refuser");
    let _io = b.standard::<I, O>();
    b.on_activate(move |_| Err(reason.to_string()));
    b.run(|_| async {})
}

/// A component that sends `Status("hello")` on `signal` as soon as it runs, then waits for a
/// terminal control message, passes it on and stops (ignoring any data).
pub(crate) fn greeter() -> Component {
    let mut b = ComponentBuilder::new("Greeter");
    let io = b.standard::<u32, u32>();
    b.run(move |_| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        watch.emit(Signal::Status("hello".into())).await;
        let end = loop {
            if let Next::End(s) = watch.next(&io.inbox).await {
                break s;
            }
        };
        watch.finish(end).await;
    })
}

/// Asserts that `signals` is a chassis's report of a child it could not start: an
/// `ErrorInformation` from `chassis` whose message names the chassis, the child and each of
/// `words` (the reason), then `ShutdownMicroprocess`, and nothing else.
pub(crate) fn assert_start_failure_reported(
    signals: &[Signal],
    chassis: &Component,
    child: &Component,
    words: &[&str],
) {
    let [Signal::ErrorInformation { caller, message }, Signal::ShutdownMicroprocess] = signals else {
        panic!("expected errorInformation then shutdownMicroprocess, got {signals:?}")
    };
    assert_eq!(*caller, Some(chassis.id()), "{message}");
    for word in [chassis.name(), child.name()].iter().chain(words) {
        assert!(message.contains(word), "{message:?} does not mention {word:?}");
    }
}

/// Boxes to read a chassis's `outbox` and `signal` from, on a component that is never run.
pub(crate) struct Probe<T> {
    pub(crate) component: Component,
    pub(crate) data: Inbox<T>,
    pub(crate) signals: Inbox<Signal>,
}

impl<T: Send + 'static> Probe<T> {
    /// A probe linked to `c`'s `outbox` and `signal`.
    pub(crate) fn on(c: &Component) -> Self {
        let mut b = ComponentBuilder::new("Probe");
        let data = b.inbox::<T>("inbox");
        let signals = b.inbox::<Signal>("control");
        let component = b.run(|_| async {});
        link((c, "outbox"), (&component, "inbox")).unwrap();
        link((c, "signal"), (&component, "control")).unwrap();
        Probe { component, data, signals }
    }

    /// Everything received on the data side so far.
    pub(crate) fn items(&self) -> Vec<T> {
        self.data.drain().collect()
    }

    /// Every signal received so far.
    pub(crate) fn signals(&self) -> Vec<Signal> {
        self.signals.drain().collect()
    }
}

/// Delivers `v` into `c`'s box `name` directly.
pub(crate) fn put<T: Send + 'static>(c: &Component, name: &str, v: T) {
    c.inbox_ref::<T>(name).unwrap().try_send(v).unwrap();
}

/// A writer whose bytes can be read back (for Seq's progress strings).
#[derive(Clone, Default)]
pub(crate) struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl SharedWriter {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The snapshot entry of `c`.
pub(crate) fn info<'a>(snap: &'a Snapshot, c: &Component) -> &'a ComponentInfo {
    snap.components.iter().find(|i| i.id == c.id()).unwrap_or_else(|| panic!("{} is not in the snapshot", c.name()))
}

/// True if the snapshot has a link of `kind` from `from` to `to`.
pub(crate) fn has_link(snap: &Snapshot, from: (&Component, &str), to: (&Component, &str), kind: LinkKind) -> bool {
    snap.links.iter().any(|l| {
        l.source.component == from.0.id()
            && l.source.name == from.1
            && l.sink.component == to.0.id()
            && l.sink.name == to.1
            && l.kind == kind
    })
}

/// The message type a snapshot shows for `c`'s box `name`.
pub(crate) fn box_type(snap: &Snapshot, c: &Component, name: &str) -> String {
    info(snap, c).boxes.iter().find(|b| b.name == name).unwrap_or_else(|| panic!("no box {name}")).msg_type.clone()
}
