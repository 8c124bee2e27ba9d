//! Helpers shared by the kamaelia-util component tests: collecting what a component sends,
//! loading its inboxes before it runs, running with a time limit, checking its boxes in a
//! snapshot, and in-memory console readers and writers.
#![allow(dead_code)]

use std::any::type_name;
use std::io::{self, BufReader, Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Direction, Next, Scheduler, Signal, SignalPolicy, link};

/// Far longer than any of these systems needs; only reached if something hangs.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// What a collector has received.
pub(crate) struct Collector<T> {
    /// The collecting component.
    pub(crate) component: Component,
    /// Messages from its `inbox`, in order.
    pub(crate) data: Arc<Mutex<Vec<T>>>,
    /// Signals from its `control`, in order.
    pub(crate) signals: Arc<Mutex<Vec<Signal>>>,
}

impl<T: Clone> Collector<T> {
    /// The messages so far.
    pub(crate) fn data(&self) -> Vec<T> {
        self.data.lock().unwrap().clone()
    }
}

impl<T> Collector<T> {
    /// Axon's names of the signals so far (`producerFinished`, `shutdownMicroprocess` ...).
    pub(crate) fn signal_names(&self) -> Vec<&'static str> {
        self.signals.lock().unwrap().iter().map(Signal::axon_name).collect()
    }

    /// The signals so far.
    pub(crate) fn signals(&self) -> Vec<Signal> {
        self.signals.lock().unwrap().clone()
    }
}

/// A component that records every message and every signal, stopping (after taking what
/// is left in its inbox) on a terminal signal.
pub(crate) fn collector<T: Send + 'static>() -> Collector<T> {
    collector_until(Signal::is_terminal)
}

/// A collector that stops on the signals `stop` accepts.
pub(crate) fn collector_until<T: Send + 'static>(stop: fn(&Signal) -> bool) -> Collector<T> {
    let data: Arc<Mutex<Vec<T>>> = Arc::default();
    let signals: Arc<Mutex<Vec<Signal>>> = Arc::default();
    let mut b = ComponentBuilder::new("Collector");
    let std = b.standard::<T, ()>();
    let (d, s) = (data.clone(), signals.clone());
    let component = b.run(move |_ctx| async move {
        // Deliver: every signal is recorded here, none passed on.
        let mut watch = ControlWatch::new(std.control, std.signal).with_policy(SignalPolicy::Deliver);
        loop {
            match watch.next(&std.inbox).await {
                Next::Data(item) => d.lock().unwrap().push(item),
                Next::Other(sig) | Next::End(sig) => {
                    let stop = stop(&sig);
                    s.lock().unwrap().push(sig);
                    if stop {
                        d.lock().unwrap().extend(std.inbox.drain());
                        return watch.close().await;
                    }
                }
            }
        }
    });
    Collector { component, data, signals }
}

/// A collector linked to `upstream`'s `outbox` and `signal`.
pub(crate) fn attach<T: Send + 'static>(upstream: &Component) -> Collector<T> {
    let c = collector::<T>();
    link((upstream, "outbox"), (&c.component, "inbox")).unwrap();
    link((upstream, "signal"), (&c.component, "control")).unwrap();
    c
}

/// Delivers `items` into `c`'s `inbox` directly (before or while it runs).
pub(crate) fn put<T: Send + 'static>(c: &Component, items: impl IntoIterator<Item = T>) {
    put_into(c, "inbox", items);
}

/// Delivers `items` into `c`'s inbox `inbox`.
pub(crate) fn put_into<T: Send + 'static>(c: &Component, inbox: &str, items: impl IntoIterator<Item = T>) {
    let r = c.inbox_ref::<T>(inbox).unwrap();
    for item in items {
        r.try_send(item).unwrap();
    }
}

/// Delivers `signal` into `c`'s `control`.
pub(crate) fn put_control(c: &Component, signal: Signal) {
    c.inbox_ref::<Signal>("control").unwrap().try_send(signal).unwrap();
}

/// Messages waiting in `c`'s inbox `name`.
pub(crate) fn queued(c: &Component, name: &str) -> usize {
    c.box_info(name).unwrap().len
}

/// A single-thread scheduler with `components` activated, run (step mode) until nothing is
/// runnable. Timers and threads are not waited for.
pub(crate) fn step_all(components: &[&Component]) -> Scheduler {
    let sched = Scheduler::new();
    for c in components {
        sched.activate(c).unwrap();
    }
    sched.run_until_idle();
    sched
}

/// Runs `sched` on another thread and hands it back once `run` returns, failing the test
/// if that takes longer than [`LIMIT`].
pub(crate) fn run_within_limit(sched: Scheduler) -> Scheduler {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        sched.run();
        let _ = tx.send(sched);
    });
    rx.recv_timeout(LIMIT).expect("Scheduler::run did not return in time")
}

/// Activates `components` on a new scheduler and runs it to the end (see
/// [`run_within_limit`]).
pub(crate) fn run_all(components: &[&Component]) -> Scheduler {
    let sched = Scheduler::new();
    for c in components {
        sched.activate(c).unwrap();
    }
    run_within_limit(sched)
}

/// Waits (up to [`LIMIT`]) until `c` has finished; true if it did.
pub(crate) fn wait_finished(c: &Component) -> bool {
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        if Instant::now() > deadline {
            return false;
        }
        // Polling a condition with a deadline, not sleeping in place of synchronising.
        thread::yield_now();
    }
    true
}

/// The type name a snapshot shows for boxes carrying `T`.
pub(crate) fn ty<T>() -> &'static str {
    type_name::<T>()
}

/// Asserts that a snapshot of `sched` shows `c` with exactly these boxes, in order.
pub(crate) fn assert_boxes(sched: &Scheduler, c: &Component, expected: &[(&str, Direction, &str)]) {
    let snap = sched.snapshot();
    let info =
        snap.components.iter().find(|i| i.id == c.id()).unwrap_or_else(|| panic!("{} not in the snapshot", c.name()));
    let got: Vec<(&str, Direction, &str)> =
        info.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
    assert_eq!(got, expected, "boxes of {}", c.name());
}

/// The four standard boxes carrying `I` in and `O` out, as a snapshot lists them.
pub(crate) fn standard_boxes<I, O>() -> Vec<(&'static str, Direction, &'static str)> {
    vec![
        ("inbox", Direction::Inbox, ty::<I>()),
        ("control", Direction::Inbox, ty::<Signal>()),
        ("outbox", Direction::Outbox, ty::<O>()),
        ("signal", Direction::Outbox, ty::<Signal>()),
    ]
}

/// A writer into a shared, growable buffer (clone it to keep a reader).
#[derive(Clone, Default)]
pub(crate) struct SharedBuf(pub(crate) Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    /// What has been written, as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer whose reader has gone: every write fails with `BrokenPipe`.
pub(crate) struct BrokenPipe;

impl Write for BrokenPipe {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }
}

/// A reader fed through a channel: a read blocks until bytes are sent, and reports the end
/// of input once every sender is dropped (a console the test types into).
pub(crate) struct ChannelReader {
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.rx.recv() {
                Ok(bytes) => self.pending = bytes,
                Err(mpsc::RecvError) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// A console the test types into: send bytes on the sender; drop it for end of input.
pub(crate) fn typed_console() -> (mpsc::Sender<Vec<u8>>, BufReader<ChannelReader>) {
    let (tx, rx) = mpsc::channel();
    (tx, BufReader::new(ChannelReader { rx, pending: Vec::new() }))
}

/// A reader that fails on its first read.
pub(crate) struct FailingReader;

impl Read for FailingReader {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("the terminal went away"))
    }
}
