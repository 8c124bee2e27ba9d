//! The shutdown contract for the components apps exports: the scheduler-run ones through
//! [`Contract`]; the threaded transcode stages (which `Contract`'s step-mode scheduler cannot
//! run) through [`threaded`], the same three checks on a background scheduler.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apps::chat_client::{Outcome, Report};
use apps::transcode::{
    Destination, Display, Event, Job, JobControl, Layout, Reporter, StopGate, Stopper, Transcoder, Uploader,
};
use apps::visualiser::{TopologyReader, TopologyWriter};
use axon_core::conformance::Contract;
use axon_core::{Component, ComponentBuilder, Direction, Inbox, LinkOptions, Scheduler, Signal, link, link_with};
use kamaelia_ui::{TopologyEvent, TopologyMessage};

/// How long a threaded component may take to do what is checked.
const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn report() {
    Contract::new("Report", || Report::new(Outcome::default())).sample(|i| vec![i as u8]).check().unwrap();
}

#[test]
fn display_watcher() {
    Contract::new("DisplayWatcher", || {
        // Where it would send its shutdown: a box nobody reads.
        let mut b = ComponentBuilder::new("SystemControl");
        b.inbox::<Signal>("control");
        let system = b.run(|_| async {});
        apps::chat_client::display_watcher(Outcome::default(), system.inbox_ref("control").expect("declared above"))
    })
    // `inbox` is unused; it sends nothing out of `outbox`.
    .sample(|_| ())
    .never_blocks()
    .check()
    .unwrap();
}

#[test]
fn topology_reader() {
    Contract::new("TopologyReader", || TopologyReader::new(1))
        .sample(|i| format!("ADD NODE {i} n{i} randompos component\n").into_bytes())
        // What it reads goes out of `topology`, not `outbox` (unused).
        .never_blocks()
        .check()
        .unwrap();
}

#[test]
fn topology_writer() {
    Contract::new("TopologyWriter", || TopologyWriter::new().build())
        // Each message is a read error, so each is reported out of `outbox`.
        .sample(|i| TopologyMessage { source: 1, event: TopologyEvent::Error(format!("bad line {i}")) })
        .check()
        .unwrap();
}

#[test]
fn stop_gate() {
    Contract::new("StopGate", StopGate::new)
        .sample(|i| Job::Transcode(PathBuf::from(format!("v{i}.mp4"))))
        // It never waits on `outbox`: work waits in the gate until the balancer has room.
        .never_blocks()
        .check()
        .unwrap();
}

#[test]
fn stopper() {
    Contract::new("Stopper", || Stopper::new(2).build())
        .sample(|_| JobControl::Stop)
        // `outbox` is unused; requests go out of its other outboxes.
        .never_blocks()
        .check()
        .unwrap();
}

/// A directory the dry-run stages are pointed at (they read and write nothing there).
fn layout() -> Layout {
    Layout::new(std::env::temp_dir().join("apps-contract-never-touched"))
}

#[test]
fn transcoder() {
    threaded(
        "Transcoder",
        || Transcoder::new(0, layout(), "ffmpeg", Vec::new(), "mp4").dry_run(true).build(),
        |i| Job::Transcode(PathBuf::from(format!("v{i}.mov"))),
        true,
    );
}

#[test]
fn uploader() {
    threaded(
        "Uploader",
        || {
            let to = Arc::new(Destination::Dir(std::env::temp_dir().join("apps-contract-never-written")));
            Uploader::new(0, layout(), Some(to)).dry_run(true).build()
        },
        |i| apps::transcode::ToUploader::Upload(PathBuf::from(format!("v{i}.mp4"))),
        true,
    );
}

#[test]
fn reporter() {
    threaded(
        "Reporter",
        || Reporter::new(1, Display::Quiet, Arc::default()).build(),
        |i| Event::Note(format!("note {i}")),
        // It sends nothing out of `outbox`.
        false,
    );
}

/// The far side of a component under test: its `outbox` (with the given capacity) and its
/// `signal`. A threaded component without a body, never activated: the test thread can wait
/// on its inboxes.
struct Probe {
    _component: Component,
    signal: Inbox<Signal>,
}

impl Probe {
    fn attach(c: &Component, capacity: Option<usize>) -> Probe {
        let mut b = ComponentBuilder::new("ThreadedProbe");
        let signal = b.inbox::<Signal>("signal");
        b.declare_like("outbox", Direction::Inbox, (c, "outbox")).expect("an outbox");
        let component = b.run_threaded(|_| {});
        link((c, "signal"), (&component, "signal")).expect("a signal outbox");
        let options = capacity.map_or_else(LinkOptions::default, LinkOptions::capacity);
        link_with((c, "outbox"), (&component, "outbox"), options).expect("its outbox links");
        Probe { _component: component, signal }
    }

    /// The signals out of it up to the first terminal one (which is last).
    fn until_terminal(&self) -> Vec<Signal> {
        let mut seen = Vec::new();
        while !seen.last().is_some_and(Signal::is_terminal) {
            match self.signal.recv_timeout(LIMIT) {
                Some(s) => seen.push(s),
                None => panic!("no terminal signal within {LIMIT:?}; got {seen:?}"),
            }
        }
        seen
    }
}

/// Waits (at most [`LIMIT`]) until `test` holds.
fn wait_until(what: &str, test: impl Fn() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !test() {
        assert!(Instant::now() < deadline, "{what}: not within {LIMIT:?}");
        std::thread::yield_now();
    }
}

/// [`Contract`]'s three checks for a threaded component: drain on `ProducerFinished`; a
/// shutdown while it waits on a full `outbox` (if it `blocks`, emitting for each input) ends
/// it promptly and is passed on; a `Status` is passed on and it carries on.
fn threaded<I: Send + 'static>(name: &str, make: impl Fn() -> Component, sample: impl Fn(usize) -> I, blocks: bool) {
    let sched = Scheduler::new().background();
    let signal_in =
        |c: &Component, s: Signal| c.inbox_ref::<Signal>("control").expect("a control inbox").send_blocking(s);

    // Drain: what is in `inbox` is consumed before the `ProducerFinished`, passed on last.
    let c = make();
    let probe = Probe::attach(&c, None);
    let inbox = c.inbox_ref::<I>("inbox").expect("an inbox of the sample's type");
    let mut n = 0;
    while n < 3 && inbox.try_send(sample(n)).is_ok() {
        n += 1;
    }
    signal_in(&c, Signal::producer_finished());
    sched.activate(&c).expect("it activates");
    let signals = probe.until_terminal();
    assert!(signals.last().is_some_and(Signal::is_producer_finished), "{name} drain: {signals:?}");
    wait_until(&format!("{name} drain: finished"), || c.is_finished());
    assert_eq!(c.box_info("inbox").map_or(0, |b| b.len), 0, "{name} drain: {n} messages, some left in its inbox");

    // A shutdown while it waits to send.
    if blocks {
        let c = make();
        let probe = Probe::attach(&c, Some(1));
        let inbox = c.inbox_ref::<I>("inbox").expect("an inbox");
        sched.activate(&c).expect("it activates");
        let waiting = || sched.snapshot().components.iter().any(|i| i.id == c.id() && i.waiting_for.is_some());
        let mut i = 0;
        while i < 16 && inbox.try_send(sample(i)).is_ok() {
            i += 1;
        }
        wait_until(&format!("{name} blocked: waiting on its full outbox"), waiting);
        signal_in(&c, Signal::ShutdownMicroprocess);
        let signals = probe.until_terminal();
        assert!(signals.last().is_some_and(Signal::is_shutdown), "{name} blocked: {signals:?}");
        wait_until(&format!("{name} blocked: finished"), || c.is_finished());
        assert!(!waiting(), "{name} blocked: still recorded as waiting after it stopped");
    }

    // Another signal: passed on, and it carries on.
    let c = make();
    let probe = Probe::attach(&c, None);
    sched.activate(&c).expect("it activates");
    signal_in(&c, Signal::Status("conformance".into()));
    let s = probe.signal.recv_timeout(LIMIT).expect("the Status is passed on");
    assert!(matches!(&s, Signal::Status(t) if t == "conformance"), "{name} other signal: {s}");
    assert!(!c.is_finished(), "{name} other signal: a Status ended it");
    signal_in(&c, Signal::ShutdownMicroprocess);
    assert!(probe.until_terminal().last().is_some_and(Signal::is_shutdown));
}
