//! The component contract, for every kamaelia-file component: the scheduler-run ones through
//! axon-core's `Contract`; the threaded ones through the same three checks in real time (drain
//! on ProducerFinished; ShutdownMicroprocess while blocked on a full outbox stops it and is
//! passed on; a Status is passed on and it carries on), with a generous deadline.
//!
//! ReadFile, a scheduler-run source that ends by itself at the end of its file, cannot be
//! put through `Contract` (which needs a component that keeps running after a Status); its
//! three behaviours are in tests/readfile.rs.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axon_core::conformance::Contract;
use axon_core::{Background, Component, ComponentBuilder, Direction, LinkOptions, Scheduler, Signal, link, link_with};
use kamaelia_file::{DirectoryWatcher, FileSlurper, Find, Follow, Grep, Mover, Printer, UnixProcess, WriteFile};

mod common;
use common::*;

#[test]
fn grep() {
    Contract::new("Grep", || Grep::new("line").unwrap().build()).sample(|i| format!("line {i}")).check().unwrap();
}

#[test]
fn grep_bytes() {
    Contract::new("Grep (bytes)", || Grep::bytes("(?-u)\\xff").unwrap().build())
        .sample(|i| vec![0xff, i as u8])
        .check()
        .unwrap();
}

#[test]
fn directory_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    // A source with nothing to drain: ProducerFinished ends it as a shutdown does.
    Contract::<()>::new("DirectoryWatcher", move || DirectoryWatcher::new(&path).build())
        .never_blocks()
        .check()
        .unwrap();
}

#[test]
fn printer() {
    Threaded::new("Printer", || Printer::new().writer(std::io::sink()).build()).sample(|i| format!("{i}")).check();
}

#[test]
fn write_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    Threaded::new("WriteFile", move || WriteFile::new(&target).build()).sample(|i| vec![i as u8]).check();
}

#[test]
fn find() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        fs::write(dir.path().join(format!("f{i:02}")), "").unwrap();
    }
    let root = dir.path().to_path_buf();
    // A source: its own ProducerFinished ends the drain check; it blocks by itself.
    Threaded::<()>::new("Find", move || Find::new(&root).build()).blocks().check();
}

#[test]
fn file_slurper() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a");
    fs::write(&file, "contents").unwrap();
    Threaded::new("FileSlurper", FileSlurper::new).sample(move |_| file.clone()).blocks().check();
}

#[test]
fn mover() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let (src, dest) = (from.path().to_path_buf(), to.path().to_path_buf());
    // Each sample is a new file to move.
    let n = Arc::new(AtomicUsize::new(0));
    let sample = move |_| {
        let p = src.join(format!("f{}", n.fetch_add(1, Ordering::Relaxed)));
        fs::write(&p, "x").unwrap();
        p
    };
    Threaded::new("Mover", move || Mover::new(&dest).build()).sample(sample).blocks().check();
}

#[test]
fn follow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    fs::write(&path, "x\n".repeat(10_000)).unwrap();
    // Deliver: it passes a Status on once it has caught up with the file, so the Status
    // check runs with nothing holding it up.
    Threaded::<()>::new("Follow", move || Follow::new(&path).from_start(true).build())
        .blocks()
        .status_when_idle()
        .check();
}

#[test]
fn unix_process() {
    // `cat`: ProducerFinished closes its stdin, it exits, and its own ProducerFinished
    // (exit status 0) is the last signal.
    Threaded::new("UnixProcess", || UnixProcess::new("cat").build()).sample(|i| vec![b'a' + i as u8]).check();
    unix_process_shutdown_while_its_output_is_stalled();
}

/// UnixProcess holds a chunk of output while its outbox is full rather than waiting in a
/// send, so its "blocked" is a stalled consumer: the shutdown still ends it (SIGTERM) and is
/// passed on.
fn unix_process_shutdown_while_its_output_is_stalled() {
    let c = UnixProcess::new("yes").build();
    let run = Run::start(&c, true);
    let sink = run.stalled.as_ref().unwrap();
    wait_until("yes fills its stalled consumer", || sink.box_info("inbox").unwrap().len == 1);
    put_control(&c, Signal::ShutdownMicroprocess);
    assert!(wait_finished(&c), "UnixProcess: still running after a shutdown while its output was stalled");
    assert!(
        run.until_terminal().last().is_some_and(Signal::is_shutdown),
        "UnixProcess: the shutdown was not passed on"
    );
}

/// The three checks of [`Contract`] for a threaded component, in real time.
struct Threaded<I> {
    name: &'static str,
    make: Box<dyn Fn() -> Component>,
    sample: Option<Box<dyn Fn(usize) -> I>>,
    blocks: bool,
    status_when_idle: bool,
}

impl<I: Send + 'static> Threaded<I> {
    fn new(name: &'static str, make: impl Fn() -> Component + 'static) -> Self {
        Threaded { name, make: Box::new(make), sample: None, blocks: false, status_when_idle: false }
    }

    fn sample(mut self, f: impl Fn(usize) -> I + 'static) -> Self {
        self.sample = Some(Box::new(f));
        self
    }

    /// It sends on `outbox` (per input, or by itself), so it can be caught waiting for room.
    fn blocks(mut self) -> Self {
        self.blocks = true;
        self
    }

    /// The Status check runs with an unbounded outbox (the default links it to a full one,
    /// so the Status arrives while it waits to send).
    fn status_when_idle(mut self) -> Self {
        self.status_when_idle = true;
        self
    }

    fn feed(&self, c: &Component, n: usize) {
        let Some(sample) = &self.sample else { return };
        let inbox = c.inbox_ref::<I>("inbox").unwrap();
        for i in 0..n {
            inbox.try_send(sample(i)).unwrap_or_else(|_| panic!("{}: its inbox refused a message", self.name));
        }
    }

    fn check(self) {
        self.drain();
        if self.blocks {
            self.blocked_shutdown();
        }
        self.other_signal();
    }

    /// Messages waiting, then ProducerFinished: all consumed, it ends, ProducerFinished last.
    fn drain(&self) {
        let c = (self.make)();
        self.feed(&c, 3);
        put_control(&c, Signal::producer_finished());
        let run = Run::start(&c, false);
        assert!(wait_finished(&c), "{}: still running after ProducerFinished", self.name);
        assert_eq!(c.box_info("inbox").unwrap().len, 0, "{}: messages left unconsumed", self.name);
        let signals = run.until_terminal();
        assert!(
            signals.last().is_some_and(Signal::is_producer_finished),
            "{}: ProducerFinished was not the last signal out: {signals:?}",
            self.name
        );
    }

    /// Waiting to send into a full box, a shutdown stops it and is passed on.
    fn blocked_shutdown(&self) {
        let c = (self.make)();
        let run = Run::start(&c, true);
        self.feed(&c, 3);
        wait_until(&format!("{} waits to send", self.name), || run.waiting(&c));
        let asked = Instant::now();
        put_control(&c, Signal::ShutdownMicroprocess);
        assert!(wait_finished(&c), "{}: still running after a shutdown while waiting to send", self.name);
        let signals = run.until_terminal();
        assert!(
            signals.last().is_some_and(Signal::is_shutdown),
            "{}: the shutdown was not passed on: {signals:?}",
            self.name
        );
        assert!(!run.waiting(&c), "{}: still recorded as waiting to send after it stopped", self.name);
        assert!(asked.elapsed() < LIMIT);
    }

    /// A Status is passed on, and it carries on.
    fn other_signal(&self) {
        let c = (self.make)();
        let run = Run::start(&c, self.blocks && !self.status_when_idle);
        if self.blocks && !self.status_when_idle {
            self.feed(&c, 3);
            wait_until(&format!("{} waits to send", self.name), || run.waiting(&c));
        }
        put_control(&c, Signal::Status("conformance".into()));
        loop {
            let s = run
                .signals
                .rx
                .recv_timeout(LIMIT)
                .unwrap_or_else(|_| panic!("{}: the Status was not passed on", self.name));
            assert!(!s.is_terminal(), "{}: ended ({s:?}) instead of passing the Status on", self.name);
            if matches!(&s, Signal::Status(t) if t == "conformance") {
                break;
            }
        }
        assert!(!c.is_finished(), "{}: a Status ended it", self.name);
        put_control(&c, Signal::ShutdownMicroprocess);
        assert!(wait_finished(&c), "{}: did not end on a shutdown", self.name);
    }
}

/// A component running on a background scheduler, its `signal` into a probe and, if asked,
/// its `outbox` into a box of capacity 1 that nobody reads.
struct Run {
    signals: Probe<Signal>,
    stalled: Option<Component>,
    bg: Background,
}

impl Run {
    fn start(c: &Component, stalled: bool) -> Run {
        let signals = probe::<Signal>();
        link((c, "signal"), (&signals.component, "inbox")).unwrap();
        let stalled = stalled.then(|| {
            let mut b = ComponentBuilder::new("Stalled");
            b.declare_like("inbox", Direction::Inbox, (c, "outbox")).unwrap();
            // Never activated: its inbox fills and stays full.
            let sink = b.run(|_ctx| async {});
            link_with((c, "outbox"), (&sink, "inbox"), LinkOptions::capacity(1)).unwrap();
            sink
        });
        let bg = Scheduler::new().background();
        bg.activate(&signals.component).unwrap();
        bg.activate(c).unwrap();
        Run { signals, stalled, bg }
    }

    /// True while `c` is recorded as waiting to send into a full box.
    fn waiting(&self, c: &Component) -> bool {
        self.bg.snapshot().components.iter().any(|i| i.id == c.id() && i.waiting_for.is_some())
    }

    /// The signals out of it up to (and including) the first terminal one.
    fn until_terminal(&self) -> Vec<Signal> {
        let mut got = Vec::new();
        loop {
            let s = self.signals.rx.recv_timeout(LIMIT).expect("no terminal signal came");
            let end = s.is_terminal();
            got.push(s);
            if end {
                return got;
            }
        }
    }
}

fn put_control(c: &Component, s: Signal) {
    c.inbox_ref::<Signal>("control").unwrap().send_blocking(s);
}
