//! ReadFile: lines, blocks and bit-rate modes; UTF-8 and over-long lines; open and read errors; backpressure; both shutdown signals; snapshot.

use std::fs;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{
    Component, ComponentBuilder, ControlWatch, Direction, LinkOptions, Next, Scheduler, Signal, SignalPolicy, link,
    link_with,
};
use kamaelia_file::ReadFile;
use kamaelia_util::{FramingError, OverlongPolicy, Utf8Policy};

mod common;
use common::*;

/// Far longer than any of these systems needs; only reached if something hangs.
const LIMIT: Duration = Duration::from_secs(30);

/// What a collector has received, with when each message came.
struct Collector<T> {
    component: Component,
    data: Arc<Mutex<Vec<(Instant, T)>>>,
    signals: Arc<Mutex<Vec<Signal>>>,
}

impl<T: Clone> Collector<T> {
    fn data(&self) -> Vec<T> {
        self.data.lock().unwrap().iter().map(|(_, m)| m.clone()).collect()
    }

    fn times(&self) -> Vec<Instant> {
        self.data.lock().unwrap().iter().map(|(t, _)| *t).collect()
    }

    fn signals(&self) -> Vec<Signal> {
        self.signals.lock().unwrap().clone()
    }

    fn signal_names(&self) -> Vec<&'static str> {
        self.signals.lock().unwrap().iter().map(Signal::axon_name).collect()
    }
}

/// A component recording every message and signal; ends (after draining) on a terminal
/// signal.
fn collector<T: Send + 'static>() -> Collector<T> {
    let data: Arc<Mutex<Vec<(Instant, T)>>> = Arc::default();
    let signals: Arc<Mutex<Vec<Signal>>> = Arc::default();
    let mut b = ComponentBuilder::new("Collector");
    let std = b.standard::<T, ()>();
    let (d, s) = (data.clone(), signals.clone());
    let component = b.run(move |_ctx| async move {
        // Deliver: the collector records every signal.
        let mut watch = ControlWatch::new(std.control, std.signal).with_policy(SignalPolicy::Deliver);
        loop {
            match watch.next(&std.inbox).await {
                Next::Data(m) => d.lock().unwrap().push((Instant::now(), m)),
                Next::Other(sig) => s.lock().unwrap().push(sig),
                Next::End(sig) => {
                    s.lock().unwrap().push(sig);
                    break;
                }
            }
        }
        d.lock().unwrap().extend(std.inbox.drain().map(|m| (Instant::now(), m)));
    });
    Collector { component, data, signals }
}

/// A collector linked to `upstream`'s outbox and signal.
fn attach<T: Send + 'static>(upstream: &Component) -> Collector<T> {
    let c = collector::<T>();
    link((upstream, "outbox"), (&c.component, "inbox")).unwrap();
    link((upstream, "signal"), (&c.component, "control")).unwrap();
    c
}

/// A collector of `upstream`'s `error` outbox (ends when the scheduler is dropped).
fn attach_errors(upstream: &Component) -> Collector<FramingError> {
    let c = collector::<FramingError>();
    link((upstream, "error"), (&c.component, "inbox")).unwrap();
    c
}

/// Step mode: activates `components` and runs until nothing is runnable (no timers).
fn step_all(components: &[&Component]) -> Scheduler {
    let sched = Scheduler::new();
    for c in components {
        sched.activate(c).unwrap();
    }
    sched.run_until_idle();
    sched
}

/// Runs `components` to the end on a scheduler on another thread (timers included).
fn run_all(components: &[&Component]) {
    let sched = Scheduler::new();
    for c in components {
        sched.activate(c).unwrap();
    }
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        sched.run();
        let _ = tx.send(());
    });
    rx.recv_timeout(LIMIT).expect("Scheduler::run did not return in time");
}

fn finished_by(s: &Signal, c: &Component) -> bool {
    matches!(s, Signal::ProducerFinished { caller: Some(id), .. } if *id == c.id())
}

fn file_with(contents: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("input");
    fs::write(&p, contents).unwrap();
    (t, p)
}

/// Lines mode (the default) sends one String per line, without its LF or CRLF, including a
/// last line with no newline, then ProducerFinished naming itself.
#[test]
fn read_file_sends_one_line_per_message_then_producer_finished() {
    let (_t, p) = file_with(b"one\ntwo\r\n\nthree");
    let r = ReadFile::new(&p).build();
    let out = attach::<String>(&r);
    step_all(&[&r, &out.component]);
    assert_eq!(out.data(), ["one", "two", "", "three"]);
    let signals = out.signals();
    assert!(signals.len() == 1 && finished_by(&signals[0], &r), "{signals:?}");
    assert!(r.is_finished());
}

/// Invalid UTF-8 is replaced with U+FFFD by default; under Utf8Policy::Report the line goes
/// to `error` with its bytes, and reading carries on.
#[test]
fn read_file_replaces_or_reports_invalid_utf8() {
    let (_t, p) = file_with(b"ok\nbad \xff here\nfine\n");
    let r = ReadFile::new(&p).build();
    let out = attach::<String>(&r);
    step_all(&[&r, &out.component]);
    assert_eq!(out.data(), ["ok", "bad \u{fffd} here", "fine"]);

    let r = ReadFile::new(&p).utf8(Utf8Policy::Report).build();
    let out = attach::<String>(&r);
    let errors = attach_errors(&r);
    step_all(&[&r, &out.component, &errors.component]);
    assert_eq!(out.data(), ["ok", "fine"]);
    assert_eq!(errors.data(), [FramingError::InvalidUtf8 { line: b"bad \xff here".to_vec(), valid_up_to: 4 }]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
}

/// A line over the maximum is refused (reported on `error`, the next line read normally)
/// or split into pieces of the maximum, as configured.
#[test]
fn read_file_refuses_or_splits_an_overlong_line() {
    let (_t, p) = file_with(b"short\n0123456789\nend\n");
    let r = ReadFile::new(&p).max_line_length(4).build();
    let out = attach::<String>(&r);
    let errors = attach_errors(&r);
    step_all(&[&r, &out.component, &errors.component]);
    assert_eq!(out.data(), ["end"]);
    assert_eq!(
        errors.data(),
        [FramingError::Overlong { limit: 4, discarded: 5 }, FramingError::Overlong { limit: 4, discarded: 10 }]
    );

    let r = ReadFile::new(&p).max_line_length(4).overlong(OverlongPolicy::Split).build();
    let out = attach::<String>(&r);
    step_all(&[&r, &out.component]);
    assert_eq!(out.data(), ["shor", "t", "0123", "4567", "89", "end"]);
}

/// Lines longer than one read (64 KiB) are put together whole.
#[test]
fn read_file_reassembles_lines_longer_than_one_read() {
    let long = "x".repeat(200_000);
    let (_t, p) = file_with(format!("{long}\nafter\n").as_bytes());
    let r = ReadFile::new(&p).max_line_length(1 << 20).build();
    let out = attach::<String>(&r);
    step_all(&[&r, &out.component]);
    assert_eq!(out.data(), [long, "after".to_string()]);
}

/// Block mode sends Vec<u8> blocks of the given size, the last one shorter, then
/// ProducerFinished.
#[test]
fn read_file_sends_blocks_of_the_given_size() {
    let (_t, p) = file_with(b"abcdefghij");
    let r = ReadFile::new(&p).blocks(4).build();
    let out = attach::<Vec<u8>>(&r);
    step_all(&[&r, &out.component]);
    assert_eq!(out.data(), [b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()]);
    let signals = out.signals();
    assert!(signals.len() == 1 && finished_by(&signals[0], &r), "{signals:?}");
}

/// An empty file gives no block, just ProducerFinished.
#[test]
fn read_file_sends_only_producer_finished_for_an_empty_file() {
    let (_t, p) = file_with(b"");
    let r = ReadFile::new(&p).blocks(4).build();
    let out = attach::<Vec<u8>>(&r);
    step_all(&[&r, &out.component]);
    assert!(out.data().is_empty());
    assert_eq!(out.signal_names(), ["producerFinished"]);
}

/// Bit-rate mode sends bits_per_second/8/chunkrate bytes every 1/chunkrate seconds:
/// 80 000 bit/s at 20 chunks/s is 500 bytes every 50 ms, the first at once.
#[test]
fn read_file_paces_blocks_at_the_bit_rate() {
    let (_t, p) = file_with(&vec![7u8; 2000]);
    let r = ReadFile::new(&p).bitrate(80_000.0, 20.0).build();
    let out = attach::<Vec<u8>>(&r);
    run_all(&[&r, &out.component]);
    let sizes: Vec<usize> = out.data().iter().map(Vec::len).collect();
    assert_eq!(sizes, [500, 500, 500, 500]);
    let times = out.times();
    let spread = times[3] - times[0];
    assert!(spread >= Duration::from_millis(140), "4 blocks 50 ms apart came within {spread:?}");
    assert!(spread < Duration::from_secs(10), "{spread:?}");
    assert_eq!(out.signal_names(), ["producerFinished"]);
}

/// When bits_per_second/8/chunkrate is not whole, block sizes differ by one byte so the
/// total is exact: 65536 bit/s at 24 chunks/s is 341⅓ bytes per chunk.
#[test]
fn read_file_carries_the_bit_rate_rounding_over() {
    let (_t, p) = file_with(&vec![1u8; 1024]);
    let r = ReadFile::new(&p).bitrate(65536.0, 24.0).build();
    let out = attach::<Vec<u8>>(&r);
    run_all(&[&r, &out.component]);
    let sizes: Vec<usize> = out.data().iter().map(Vec::len).collect();
    assert_eq!(sizes, [341, 341, 342]);
}

/// step_time paces lines mode: one line per step.
#[test]
fn read_file_waits_the_step_time_between_lines() {
    let (_t, p) = file_with(b"a\nb\nc\n");
    let r = ReadFile::new(&p).step_time(Duration::from_millis(60)).build();
    let out = attach::<String>(&r);
    run_all(&[&r, &out.component]);
    assert_eq!(out.data(), ["a", "b", "c"]);
    let times = out.times();
    assert!(times[2] - times[0] >= Duration::from_millis(110), "{:?}", times[2] - times[0]);
}

/// A file that cannot be opened gives ErrorInformation naming it, then ProducerFinished.
#[test]
fn read_file_reports_a_missing_file_then_producer_finished() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("missing");
    let r = ReadFile::new(&missing).build();
    let out = attach::<String>(&r);
    step_all(&[&r, &out.component]);
    assert!(out.data().is_empty());
    let signals = out.signals();
    assert_eq!(out.signal_names(), ["errorInformation", "producerFinished"]);
    let Signal::ErrorInformation { caller, message } = &signals[0] else { unreachable!() };
    assert_eq!(*caller, Some(r.id()));
    assert!(message.contains("cannot open") && message.contains(&*missing.to_string_lossy()), "{message}");
    assert!(finished_by(&signals[1], &r));
}

/// A read that fails (here: the path is a directory, which opens but cannot be read) gives
/// ErrorInformation, then ProducerFinished.
#[test]
fn read_file_reports_a_read_error_then_producer_finished() {
    let t = tempfile::tempdir().unwrap();
    let r = ReadFile::new(t.path()).blocks(16).build();
    let out = attach::<Vec<u8>>(&r);
    step_all(&[&r, &out.component]);
    assert_eq!(out.signal_names(), ["errorInformation", "producerFinished"]);
    let Signal::ErrorInformation { message, .. } = &out.signals()[0] else { unreachable!() };
    assert!(message.contains("cannot read"), "{message}");
}

/// ReadFile respects backpressure: with a destination holding 2 that nobody reads, it
/// sends 2 blocks and waits; a ShutdownMicroprocess then stops it at once and is passed on,
/// with no ProducerFinished.
#[test]
fn read_file_waits_on_a_full_destination_and_stops_there_on_shutdown() {
    let (_t, p) = file_with(&[0u8; 100]);
    let r = ReadFile::new(&p).blocks(10).build();
    let mut b = ComponentBuilder::new("Sink");
    b.inbox::<Vec<u8>>("inbox");
    let sink = b.run(|_ctx| async {});
    link_with((&r, "outbox"), (&sink, "inbox"), LinkOptions::capacity(2)).unwrap();
    let signals = collector::<Signal>();
    link((&r, "signal"), (&signals.component, "inbox")).unwrap();
    let sched = step_all(&[&r, &signals.component]);
    assert_eq!(sink.box_info("inbox").unwrap().len, 2);
    assert!(!r.is_finished());
    assert!(signals.data().is_empty());

    r.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.run_until_idle();
    assert!(r.is_finished());
    assert_eq!(sink.box_info("inbox").unwrap().len, 2);
    let got: Vec<&str> = signals.data().iter().map(Signal::axon_name).collect();
    assert_eq!(got, ["shutdownMicroprocess"]);
}

/// In bit-rate mode a ShutdownMicroprocess during the wait for the next tick stops it at
/// once (well before that tick), passing the signal on.
#[test]
fn read_file_stops_promptly_on_shutdown_while_pacing() {
    let (_t, p) = file_with(&[0u8; 100]);
    // One byte every 10 s.
    let r = ReadFile::new(&p).bitrate(0.8, 0.1).build();
    let out = attach::<Vec<u8>>(&r);
    let bg = Scheduler::new().background();
    bg.activate(&out.component).unwrap();
    bg.activate(&r).unwrap();
    wait_until("the first block arrived", || out.data().len() == 1);
    let asked = Instant::now();
    r.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    wait_until("the reader finished", || r.is_finished() && out.component.is_finished());
    assert!(asked.elapsed() < Duration::from_secs(5), "took {:?}", asked.elapsed());
    assert_eq!(out.data().len(), 1);
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

/// A ProducerFinished on ReadFile's control does not cut it short; other signals are passed
/// on; its own ProducerFinished is the one that ends the stream.
#[test]
fn read_file_reads_to_the_end_despite_a_producer_finished_on_control() {
    let (_t, p) = file_with(b"a\nb\n");
    let r = ReadFile::new(&p).build();
    let out = attach::<String>(&r);
    let control = r.inbox_ref::<Signal>("control").unwrap();
    control.try_send(Signal::Status("fyi".into())).unwrap();
    control.try_send(Signal::producer_finished()).unwrap();
    step_all(&[&r, &out.component]);
    assert_eq!(out.data(), ["a", "b"]);
    assert_eq!(out.signal_names(), ["status", "producerFinished"]);
    assert!(finished_by(&out.signals()[1], &r));
}

fn boxes_of(sched: &Scheduler, c: &Component) -> Vec<(String, Direction, String)> {
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|i| i.id == c.id()).expect("the component is in the snapshot");
    info.boxes.iter().map(|b| (b.name.clone(), b.direction, b.msg_type.clone())).collect()
}

fn entry(name: &str, d: Direction, ty: &str) -> (String, Direction, String) {
    (name.to_string(), d, ty.to_string())
}

/// A snapshot shows ReadFile's boxes: lines mode sends String and has an `error` outbox of
/// FramingError; block mode sends Vec<u8>.
#[test]
fn read_file_shows_its_boxes_in_a_snapshot() {
    let sig = std::any::type_name::<Signal>();
    let lines = ReadFile::new("/nonexistent").build();
    let blocks = ReadFile::new("/nonexistent").bitrate(8.0, 1.0).build();
    let sched = Scheduler::new();
    sched.activate(&lines).unwrap();
    sched.activate(&blocks).unwrap();
    assert_eq!(
        boxes_of(&sched, &lines),
        [
            entry("inbox", Direction::Inbox, "()"),
            entry("control", Direction::Inbox, sig),
            entry("outbox", Direction::Outbox, std::any::type_name::<String>()),
            entry("error", Direction::Outbox, std::any::type_name::<FramingError>()),
            entry("signal", Direction::Outbox, sig),
        ]
    );
    assert_eq!(
        boxes_of(&sched, &blocks),
        [
            entry("inbox", Direction::Inbox, "()"),
            entry("control", Direction::Inbox, sig),
            entry("outbox", Direction::Outbox, std::any::type_name::<Vec<u8>>()),
            entry("signal", Direction::Outbox, sig),
        ]
    );
}
