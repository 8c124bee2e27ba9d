//! Printer: each line plus a newline to a writer, flushed as it arrives, byte lines, a broken pipe (real and simulated) and other write errors ending it cleanly, both shutdown signals, a snapshot.

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axon_core::{Background, Component, ComponentBuilder, Direction, Inbox, InboxRef, Scheduler, Signal, link};
use kamaelia_file::{OUTPUT_CLOSED, Printer};

const LIMIT: Duration = Duration::from_secs(20);

/// A writer that shows what it was given only when flushed: each flush sends everything
/// written so far.
struct FlushReporter {
    written: Vec<u8>,
    flushes: mpsc::Sender<Vec<u8>>,
}

impl Write for FlushReporter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        let _ = self.flushes.send(self.written.clone());
        Ok(())
    }
}

/// A writer that always fails with `kind`.
struct Failing(io::ErrorKind);

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(self.0, "simulated"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::new(self.0, "simulated"))
    }
}

/// A running printer: its inbox and control to put into, its signal to read.
struct Running {
    printer: Component,
    inbox: InboxRef<String>,
    control: InboxRef<Signal>,
    signals: Inbox<Signal>,
    _probe: Component,
    _bg: Background,
}

impl Running {
    fn put(&self, line: &str) {
        self.inbox.send_blocking(line.to_string());
    }

    fn signal(&self) -> Signal {
        self.signals.recv_timeout(LIMIT).expect("no signal came")
    }
}

fn run(printer: Component) -> Running {
    let mut b = ComponentBuilder::new("SignalProbe");
    let signals = b.inbox::<Signal>("control");
    let probe = b.run_threaded(|_| {});
    link((&printer, "signal"), (&probe, "control")).unwrap();
    let bg = Scheduler::new().background();
    bg.activate(&printer).unwrap();
    Running {
        inbox: printer.inbox_ref("inbox").unwrap(),
        control: printer.inbox_ref("control").unwrap(),
        printer,
        signals,
        _probe: probe,
        _bg: bg,
    }
}

fn wait_finished(c: &Component) -> bool {
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        if Instant::now() > deadline {
            return false;
        }
        // Polling a condition with a deadline, not sleeping in place of synchronising.
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Each line is written with a newline and flushed as it arrives, so a reader sees it at once.
#[test]
fn each_line_is_written_with_a_newline_and_flushed_as_it_arrives() {
    let (tx, flushed) = mpsc::channel();
    let p = run(Printer::new().writer(FlushReporter { written: Vec::new(), flushes: tx }).build());
    let mut seen = Vec::new();
    let mut wait_for = |want: &[u8]| {
        while seen != want {
            seen = flushed.recv_timeout(LIMIT).expect("a line was not flushed");
        }
    };
    p.put("first");
    wait_for(b"first\n");
    p.put("second");
    wait_for(b"first\nsecond\n");
    p.put("");
    wait_for(b"first\nsecond\n\n");
}

/// Byte lines are written untouched, even when they are not UTF-8.
#[test]
fn byte_lines_are_written_untouched() {
    let (tx, flushed) = mpsc::channel();
    let printer = Printer::new().writer(FlushReporter { written: Vec::new(), flushes: tx }).build_bytes();
    let inbox = printer.inbox_ref::<Vec<u8>>("inbox").unwrap();
    let control = printer.inbox_ref::<Signal>("control").unwrap();
    let bg = Scheduler::new().background();
    bg.activate(&printer).unwrap();
    inbox.send_blocking(b"\xff\xfeok".to_vec());
    control.send_blocking(Signal::producer_finished());
    assert!(wait_finished(&printer));
    let last = flushed.try_iter().last().expect("nothing was flushed");
    assert_eq!(last, b"\xff\xfeok\n");
}

/// A real broken pipe (the reader exited) ends it with ProducerFinished naming it, not a panic.
#[test]
fn a_real_broken_pipe_ends_it_cleanly_with_producer_finished() {
    let mut head = Command::new("head")
        .args(["-n", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot run head");
    let stdin = head.stdin.take().unwrap();
    let mut stdout = head.stdout.take().unwrap();
    let p = run(Printer::new().writer(stdin).build());
    p.put("only this one");
    let mut got = String::new();
    stdout.read_to_string(&mut got).unwrap();
    assert_eq!(got, "only this one\n");
    assert!(head.wait().unwrap().success());
    // The reader has gone: the next write fails with EPIPE (Rust ignores SIGPIPE).
    p.put("nobody reads this");
    match p.signal() {
        Signal::ProducerFinished { caller, message } => {
            assert_eq!(caller, Some(p.printer.id()));
            assert_eq!(message.as_deref(), Some(OUTPUT_CLOSED));
        }
        other => panic!("expected ProducerFinished, got {other}"),
    }
    assert!(wait_finished(&p.printer));
    assert!(p._bg.panics().is_empty());
}

/// A simulated BrokenPipe ends it the same way.
#[test]
fn a_broken_pipe_error_ends_it_with_producer_finished() {
    let p = run(Printer::new().writer(Failing(io::ErrorKind::BrokenPipe)).build());
    p.put("x");
    assert!(matches!(p.signal(), Signal::ProducerFinished { message: Some(m), .. } if m == OUTPUT_CLOSED));
    assert!(wait_finished(&p.printer));
}

/// Any other write error is reported as ErrorInformation, then ProducerFinished naming it.
#[test]
fn another_write_error_is_reported_then_it_ends() {
    let p = run(Printer::new().writer(Failing(io::ErrorKind::StorageFull)).build());
    p.put("x");
    match p.signal() {
        Signal::ErrorInformation { caller, message } => {
            assert_eq!(caller, Some(p.printer.id()));
            assert!(message.contains("writing to the output failed") && message.contains("simulated"), "{message}");
        }
        other => panic!("expected ErrorInformation, got {other}"),
    }
    assert!(matches!(p.signal(), Signal::ProducerFinished { caller: Some(c), message: None } if c == p.printer.id()));
    assert!(wait_finished(&p.printer));
}

/// ProducerFinished: the lines already queued are written and flushed, then the signal is passed on.
#[test]
fn producer_finished_writes_what_is_queued_then_is_passed_on() {
    let (tx, flushed) = mpsc::channel();
    let printer = Printer::new().writer(FlushReporter { written: Vec::new(), flushes: tx }).build();
    // Everything is queued before it runs; control is looked at first.
    let inbox = printer.inbox_ref::<String>("inbox").unwrap();
    for line in ["a", "b", "c"] {
        inbox.send_blocking(line.to_string());
    }
    printer.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::producer_finished());
    let p = run(printer);
    assert!(matches!(p.signal(), Signal::ProducerFinished { caller: None, .. }));
    assert!(wait_finished(&p.printer));
    assert_eq!(flushed.try_iter().last().unwrap(), b"a\nb\nc\n");
}

/// ShutdownMicroprocess stops it and is passed on; other signals are passed on and it carries on.
#[test]
fn shutdown_stops_it_and_other_signals_are_passed_on() {
    let (tx, flushed) = mpsc::channel();
    let p = run(Printer::new().writer(FlushReporter { written: Vec::new(), flushes: tx }).build());
    p.control.send_blocking(Signal::Status("note".into()));
    assert!(matches!(p.signal(), Signal::Status(s) if s == "note"));
    p.put("still printing");
    let mut seen = Vec::new();
    while seen != b"still printing\n" {
        seen = flushed.recv_timeout(LIMIT).unwrap();
    }
    p.control.send_blocking(Signal::ShutdownMicroprocess);
    assert!(matches!(p.signal(), Signal::ShutdownMicroprocess));
    assert!(wait_finished(&p.printer));
}

/// In a snapshot Printer shows as threaded with String (or Vec<u8>) in and () out.
#[test]
fn it_shows_in_a_snapshot_as_threaded_with_its_boxes() {
    let text = Printer::new().writer(io::sink()).build();
    let bytes = Printer::new().stderr().build_bytes();
    let sched = Scheduler::new();
    sched.activate(&text).unwrap();
    sched.activate(&bytes).unwrap();
    let snap = sched.snapshot();
    let signal = std::any::type_name::<Signal>();
    for (c, line) in [(&text, std::any::type_name::<String>()), (&bytes, std::any::type_name::<Vec<u8>>())] {
        let info = snap.components.iter().find(|i| i.id == c.id()).unwrap();
        assert!(info.threaded);
        assert!(info.name.starts_with("Printer_"));
        let boxes: Vec<(&str, Direction, &str)> =
            info.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
        assert_eq!(
            boxes,
            [
                ("inbox", Direction::Inbox, line),
                ("control", Direction::Inbox, signal),
                ("outbox", Direction::Outbox, std::any::type_name::<()>()),
                ("signal", Direction::Outbox, signal),
            ]
        );
        c.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        sched.run();
        let _ = tx.send(());
    });
    rx.recv_timeout(LIMIT).expect("the printers did not stop");
}
