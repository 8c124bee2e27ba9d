//! UnixProcess with real subprocesses: data through stdin and stdout, stderr apart, exit statuses, ProducerFinished closing stdin, SIGTERM then SIGKILL on shutdown, backpressure both ways, commands that cannot start.

use std::any::type_name;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{
    Background, Component, ComponentBuilder, ControlWatch, Direction, InboxRef, Next, Scheduler, Signal, SignalPolicy,
    link,
};
use kamaelia_file::{ProcessExit, UnixProcess};

/// A generous bound for anything that should take milliseconds.
const LIMIT: Duration = Duration::from_secs(20);

/// A test component that hands what arrives in its inbox (of the given capacity) to the
/// test through a channel. A gated one takes nothing until the gate opens (a stalled
/// consumer). Any control signal ends it, after it has handed over what its inbox holds.
struct Sink<T> {
    component: Component,
    rx: mpsc::Receiver<T>,
    gate: Option<mpsc::Sender<()>>,
}

fn sink<T: Send + 'static>(name: &'static str, capacity: Option<usize>, gated: bool) -> Sink<T> {
    let mut b = ComponentBuilder::named(name);
    let inbox = match capacity {
        Some(c) => b.inbox_with_capacity::<T>("inbox", c),
        None => b.inbox::<T>("inbox"),
    };
    let control = b.control();
    let signal = b.signal();
    let (tx, rx) = mpsc::channel();
    let (gate, gate_rx) = mpsc::channel::<()>();
    let component = b.run_threaded(move |tctx| {
        if gated {
            // Opened by a message or by dropping the sender.
            let _ = gate_rx.recv();
        }
        // Ignore: a sink that stops only on a terminal signal, handing over what it holds.
        let mut watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Ignore);
        loop {
            match watch.next_blocking(&tctx, &inbox) {
                Next::Data(m) => {
                    if tx.send(m).is_err() {
                        return;
                    }
                }
                Next::Other(_) => {}
                Next::End(_) => break,
            }
        }
        for m in inbox.drain() {
            if tx.send(m).is_err() {
                return;
            }
        }
    });
    Sink { component, rx, gate: gated.then_some(gate) }
}

impl<T: Send + 'static> Sink<T> {
    fn open(&mut self) {
        self.gate = None;
    }

    /// Ends the sink and returns everything it received that the test has not taken yet.
    fn finish(&mut self) -> Vec<T> {
        self.open();
        if let Ok(c) = self.component.inbox_ref::<Signal>("control") {
            c.send_blocking(Signal::ShutdownMicroprocess);
        }
        let deadline = Instant::now() + LIMIT;
        let mut got = Vec::new();
        loop {
            match self.rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(m) => got.push(m),
                Err(mpsc::RecvTimeoutError::Disconnected) => return got,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("{} did not finish", self.component.name()),
            }
        }
    }

    fn queued(&self) -> usize {
        self.component.box_info("inbox").unwrap().len
    }
}

/// A UnixProcess running on a background scheduler, with every outbox linked to a sink.
struct Rig {
    process: Component,
    input: InboxRef<Vec<u8>>,
    control: InboxRef<Signal>,
    out: Sink<Vec<u8>>,
    err: Sink<Vec<u8>>,
    exit: Sink<ProcessExit>,
    signal: Sink<Signal>,
    bg: Background,
}

impl Rig {
    fn new(process: UnixProcess) -> Rig {
        Rig::with(process.build(), sink("stdout", None, false))
    }

    /// `out` receives its stdout.
    fn with(process: Component, out: Sink<Vec<u8>>) -> Rig {
        let err = sink("stderr", None, false);
        let exit = sink("exit", None, false);
        let signal = sink("signal", None, false);
        link((&process, "outbox"), (&out.component, "inbox")).unwrap();
        link((&process, "stderr"), (&err.component, "inbox")).unwrap();
        link((&process, "exit"), (&exit.component, "inbox")).unwrap();
        link((&process, "signal"), (&signal.component, "inbox")).unwrap();
        let bg = Scheduler::new().background();
        for c in [&out.component, &err.component, &exit.component, &signal.component, &process] {
            bg.activate(c).unwrap();
        }
        let input = process.inbox_ref("inbox").unwrap();
        let control = process.inbox_ref("control").unwrap();
        Rig { process, input, control, out, err, exit, signal, bg }
    }

    fn put(&self, bytes: &[u8]) {
        self.input.send_blocking(bytes.to_vec());
    }

    fn finish_input(&self) {
        self.control.send_blocking(Signal::producer_finished());
    }

    fn shutdown(&self) {
        self.control.send_blocking(Signal::ShutdownMicroprocess);
    }

    /// Reads its stdout until `expected` bytes have come.
    fn read_stdout(&self, expected: usize) -> Vec<u8> {
        let deadline = Instant::now() + LIMIT;
        let mut got = Vec::new();
        while got.len() < expected {
            match self.out.rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(chunk) => got.extend(chunk),
                Err(e) => panic!("stdout: {e} after {:?}", String::from_utf8_lossy(&got)),
            }
        }
        got
    }

    /// Waits for the exit report.
    fn exit(&self) -> ProcessExit {
        self.exit.rx.recv_timeout(LIMIT).expect("no exit report")
    }

    /// Waits for the component's end; then returns its whole stdout, stderr and signals.
    fn end(mut self) -> Ended {
        assert!(wait_until(|| self.process.is_finished()), "UnixProcess did not finish");
        let stdout = self.out.finish().concat();
        let stderr = self.err.finish().concat();
        let signals = self.signal.finish();
        let panics = self.bg.panics();
        assert!(panics.is_empty(), "{panics:?}");
        Ended { stdout, stderr, signals }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        // A failed test must not leave a process behind.
        if !self.process.is_finished() {
            let _ = self.control.try_send(Signal::ShutdownMicroprocess);
        }
        for gate in [&mut self.out.gate, &mut self.err.gate] {
            *gate = None;
        }
    }
}

struct Ended {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    signals: Vec<Signal>,
}

impl Ended {
    fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).unwrap()
    }
    fn stderr(&self) -> String {
        String::from_utf8(self.stderr.clone()).unwrap()
    }
}

/// Polls `cond` until it holds or LIMIT passes.
fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        if Instant::now() > deadline {
            return false;
        }
        // Polling a condition with a deadline, not sleeping in place of synchronising.
        thread::sleep(Duration::from_millis(1));
    }
    true
}

fn is_producer_finished_by(s: &Signal, process: &Component, expected: &str) -> bool {
    matches!(s, Signal::ProducerFinished { caller: Some(c), message: Some(m) } if *c == process.id() && m == expected)
}

/// Bytes sent through `cat` come back unchanged and in order; ProducerFinished sent right
/// after them is handled only once all of them are written, then closes stdin, so `cat`
/// exits; the end is `exit: Exited(0)` and `ProducerFinished { message: "exit status 0" }`.
#[test]
fn data_through_cat_comes_back_unchanged_and_producer_finished_closes_stdin_so_cat_exits() {
    let rig = Rig::new(UnixProcess::program("cat"));
    let mut expected = Vec::new();
    for i in 0..200 {
        let line = format!("line {i}\n");
        rig.put(line.as_bytes());
        expected.extend_from_slice(line.as_bytes());
    }
    rig.finish_input();
    assert_eq!(rig.exit(), ProcessExit::Exited(0));
    let process = rig.process.clone();
    let ended = rig.end();
    assert_eq!(ended.stdout, expected);
    assert!(ended.stderr.is_empty());
    assert!(
        matches!(&ended.signals[..], [s] if is_producer_finished_by(s, &process, "exit status 0")),
        "{:?}",
        ended.signals
    );
}

/// A shell command transforms its input (`tr`, which writes only at the end of its input
/// when its output is a pipe), and ends without being asked once it has exited and its
/// output is all sent.
#[test]
fn a_shell_command_transforms_its_input() {
    let rig = Rig::new(UnixProcess::new("tr a-z A-Z"));
    rig.put(b"hello, ");
    rig.put(b"world\n");
    rig.finish_input();
    assert!(rig.exit().success());
    assert_eq!(rig.end().stdout(), "HELLO, WORLD\n");

    let rig = Rig::new(UnixProcess::shell("echo one; echo two"));
    assert_eq!(rig.exit(), ProcessExit::Exited(0));
    assert_eq!(rig.end().stdout(), "one\ntwo\n");
}

/// What the process writes to stderr comes out of `stderr`, not `outbox`.
#[test]
fn stderr_is_captured_on_its_own_outbox() {
    let rig = Rig::new(UnixProcess::shell("echo out; echo err >&2; echo more >&2; echo done"));
    assert!(rig.exit().success());
    let ended = rig.end();
    assert_eq!(ended.stdout(), "out\ndone\n");
    assert_eq!(ended.stderr(), "err\nmore\n");
}

/// A non-zero exit status is `exit: Exited(3)`, then on `signal` an ErrorInformation naming
/// the command and the status, then ProducerFinished with the status; output comes first.
#[test]
fn a_nonzero_exit_status_is_reported_as_an_error_then_producer_finished() {
    let rig = Rig::new(UnixProcess::shell("echo bye; exit 3"));
    let exit = rig.exit();
    assert_eq!(exit, ProcessExit::Exited(3));
    assert!(!exit.success());
    assert_eq!(exit.code(), Some(3));
    let process = rig.process.clone();
    let ended = rig.end();
    assert_eq!(ended.stdout(), "bye\n");
    match &ended.signals[..] {
        [Signal::ErrorInformation { caller: Some(c), message }, last] => {
            assert_eq!(*c, process.id());
            assert!(message.contains("`echo bye; exit 3`") && message.contains("exit status 3"), "{message}");
            assert!(is_producer_finished_by(last, &process, "exit status 3"), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
}

/// A process killed by a signal it did not get from us is reported as an error too.
#[test]
fn a_process_killed_by_a_signal_is_reported_with_the_signal() {
    let rig = Rig::new(UnixProcess::shell("kill -USR1 $$"));
    assert_eq!(rig.exit(), ProcessExit::Signalled(libc::SIGUSR1));
    let ended = rig.end();
    match &ended.signals[..] {
        [Signal::ErrorInformation { message, .. }, Signal::ProducerFinished { message: Some(m), .. }] => {
            assert!(message.contains("killed by signal 10 (SIGUSR1)"), "{message}");
            assert_eq!(m, "killed by signal 10 (SIGUSR1)");
        }
        other => panic!("{other:?}"),
    }
}

/// ShutdownMicroprocess ends `sleep 1000` promptly with SIGTERM (the grace period is a
/// minute, so SIGKILL cannot be what ended it), reports `Signalled(15)` on `exit`, and is
/// passed on out of `signal`.
#[test]
fn shutdown_terminates_a_sleeping_child_promptly_with_sigterm() {
    let rig = Rig::new(UnixProcess::program("sleep").arg("1000").grace(Duration::from_secs(60)));
    let asked = Instant::now();
    rig.shutdown();
    assert_eq!(rig.exit(), ProcessExit::Signalled(libc::SIGTERM));
    assert!(asked.elapsed() < Duration::from_secs(10), "took {:?}", asked.elapsed());
    let ended = rig.end();
    assert!(matches!(&ended.signals[..], [Signal::ShutdownMicroprocess]), "{:?}", ended.signals);
}

/// A process that ignores SIGTERM is sent SIGKILL once the grace period has passed, not
/// before.
#[test]
fn shutdown_kills_a_child_that_ignores_sigterm_after_the_grace_period() {
    let grace = Duration::from_millis(300);
    let rig = Rig::new(UnixProcess::shell(r#"trap "" TERM; echo ready; exec sleep 1000"#).grace(grace));
    // The trap is set once it says so.
    assert_eq!(rig.read_stdout(6), b"ready\n");
    let asked = Instant::now();
    rig.shutdown();
    assert_eq!(rig.exit(), ProcessExit::Signalled(libc::SIGKILL));
    let took = asked.elapsed();
    assert!(took >= grace && took < Duration::from_secs(10), "took {took:?}");
    let ended = rig.end();
    assert!(matches!(&ended.signals[..], [Signal::ShutdownMicroprocess]), "{:?}", ended.signals);
}

/// The process's state letter from /proc (`Z` for a zombie), or None once it is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')'.
    stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next())
}

/// A shutdown reaches what the command started too (the process group), so a background
/// job of a shell does not outlive the component.
#[test]
fn shutdown_ends_the_commands_a_shell_started() {
    let rig = Rig::new(UnixProcess::shell("sleep 1000 & echo $!; wait").grace(Duration::from_secs(60)));
    let line = String::from_utf8(rig.read_stdout(2)).unwrap();
    let line = if line.ends_with('\n') { line } else { line + &String::from_utf8(rig.read_stdout(1)).unwrap() };
    let pid: u32 = line.trim().parse().unwrap();
    assert!(matches!(proc_state(pid), Some(s) if s != 'Z'), "the background sleep is not running");
    rig.shutdown();
    assert_eq!(rig.exit(), ProcessExit::Signalled(libc::SIGTERM));
    rig.end();
    assert!(wait_until(|| matches!(proc_state(pid), None | Some('Z'))), "the background sleep survived");
}

/// A program that does not exist is reported, not a panic: `exit: NotStarted`, then an
/// ErrorInformation naming it, then ProducerFinished "not started".
#[test]
fn a_program_that_does_not_exist_is_reported_not_panicked() {
    let rig = Rig::new(UnixProcess::program("kamaelia-no-such-program"));
    assert!(matches!(rig.exit(), ProcessExit::NotStarted(e) if e.contains("No such file")));
    let process = rig.process.clone();
    let ended = rig.end();
    match &ended.signals[..] {
        [Signal::ErrorInformation { message, .. }, last] => {
            assert!(message.contains("cannot start process `kamaelia-no-such-program`"), "{message}");
            assert!(is_producer_finished_by(last, &process, "not started"), "{last:?}");
        }
        other => panic!("{other:?}"),
    }

    // A missing directory is the same kind of failure, and says which directory.
    let rig = Rig::new(UnixProcess::program("true").current_dir("/kamaelia/no/such/dir"));
    assert!(matches!(rig.exit(), ProcessExit::NotStarted(_)));
    let ended = rig.end();
    assert!(
        matches!(&ended.signals[0], Signal::ErrorInformation { message, .. } if message.contains("/kamaelia/no/such/dir")),
        "{:?}",
        ended.signals
    );
}

/// Through the shell, a missing command is the shell's error: exit status 127 and its
/// message on `stderr`.
#[test]
fn a_shell_command_that_is_not_found_exits_127_with_the_shells_message() {
    let rig = Rig::new(UnixProcess::shell("kamaelia-no-such-command"));
    assert_eq!(rig.exit(), ProcessExit::Exited(127));
    let ended = rig.end();
    assert!(ended.stderr().contains("not found"), "{}", ended.stderr());
}

/// The working directory, environment and shell arguments (`$1`...) are passed on.
#[test]
fn directory_environment_and_arguments_reach_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().canonicalize().unwrap();
    let rig = Rig::new(
        UnixProcess::shell(r#"pwd; echo "$KAMAELIA_TEST"; printf '%s|' "$@""#)
            .current_dir(dir.path())
            .env("KAMAELIA_TEST", "hello there")
            .args(["a b", "c"]),
    );
    assert!(rig.exit().success());
    assert_eq!(rig.end().stdout(), format!("{}\nhello there\na b|c|", real.display()));

    let rig = Rig::new(UnixProcess::program("sh").args(["-c", "echo ${HOME-unset}"]).env_remove("HOME"));
    assert!(rig.exit().success());
    assert_eq!(rig.end().stdout(), "unset\n");
}

/// A process that stops reading its stdin (broken pipe) is reported with how much of the
/// message was written; the process's own end is still reported normally.
#[test]
fn a_process_that_stops_reading_stdin_is_reported_as_a_broken_pipe() {
    let rig = Rig::new(UnixProcess::program("head").args(["-c", "3"]));
    let big = vec![b'x'; 8 << 20];
    rig.put(&big);
    assert_eq!(rig.exit(), ProcessExit::Exited(0));
    let process = rig.process.clone();
    let ended = rig.end();
    assert_eq!(ended.stdout(), "xxx");
    match &ended.signals[..] {
        [Signal::ErrorInformation { message, .. }, last] => {
            assert!(message.contains("writing to its stdin failed after"), "{message}");
            assert!(message.contains(&format!("of {} bytes", big.len())), "{message}");
            assert!(message.to_lowercase().contains("broken pipe"), "{message}");
            assert!(is_producer_finished_by(last, &process, "exit status 0"), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
}

/// The byte at offset `i` of the test stream.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// Checks a received chunk against the stream; returns the offset after it.
fn check_pattern(offset: usize, chunk: &[u8]) -> usize {
    for (j, &b) in chunk.iter().enumerate() {
        assert_eq!(b, pattern(offset + j), "wrong byte at offset {}", offset + j);
    }
    offset + chunk.len()
}

/// 50 MB through `cat` to a consumer that takes nothing at first: the whole chain backs up
/// (the consumer's inbox fills, then the process's own inbox, so the sender waits) with a
/// small, bounded amount in flight; once the consumer reads, every byte arrives, in order.
#[test]
fn fifty_megabytes_through_cat_with_a_stalled_consumer_back_up_then_all_arrive() {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 800;
    let process = UnixProcess::program("cat").inbox_capacity(4).build();
    let mut rig = Rig::with(process, sink("stdout", Some(4), true));

    let sent = Arc::new(AtomicUsize::new(0));
    let feeder = {
        let (input, control, sent) = (rig.input.clone(), rig.control.clone(), sent.clone());
        thread::spawn(move || {
            for k in 0..CHUNKS {
                let chunk: Vec<u8> = (k * CHUNK..(k + 1) * CHUNK).map(pattern).collect();
                input.send_blocking(chunk);
                sent.fetch_add(CHUNK, Ordering::SeqCst);
            }
            control.send_blocking(Signal::producer_finished());
        })
    };

    let process_inbox = || rig.process.box_info("inbox").unwrap().len;
    assert!(wait_until(|| rig.out.queued() == 4 && process_inbox() == 4), "the chain did not back up");
    let in_flight = sent.load(Ordering::SeqCst);
    assert!(in_flight < 16 << 20, "{in_flight} bytes accepted while the consumer took nothing");
    assert!(!rig.process.is_finished());

    rig.out.open();
    let mut offset = 0;
    while offset < CHUNK * CHUNKS {
        let chunk = rig.out.rx.recv_timeout(LIMIT).expect("stdout stalled");
        offset = check_pattern(offset, &chunk);
    }
    feeder.join().unwrap();
    assert_eq!(rig.exit(), ProcessExit::Exited(0));
    let ended = rig.end();
    assert!(ended.stdout.is_empty(), "{} bytes too many", ended.stdout.len());
}

/// A process writing 50 MB to a consumer that takes nothing at first is held up by the
/// full pipe (it cannot finish while the consumer's small inbox is full); once the
/// consumer reads, all 50 MB arrive intact.
#[test]
fn fifty_megabytes_of_output_wait_for_a_stalled_consumer_and_all_arrive() {
    const TOTAL: usize = 50_000_000;
    const LINE: &[u8] = b"0123456789abcde\n";
    let process = UnixProcess::shell(format!("yes 0123456789abcde | head -c {TOTAL}")).build();
    let mut rig = Rig::with(process, sink("stdout", Some(2), true));

    assert!(wait_until(|| rig.out.queued() == 2), "the consumer's inbox did not fill");
    // With at most a few chunks between the process and the full inbox, it cannot have
    // written everything.
    assert!(!rig.process.is_finished());
    assert!(rig.exit.rx.try_recv().is_err(), "the process finished although nobody read its output");

    rig.out.open();
    let mut offset = 0;
    while offset < TOTAL {
        let chunk = rig.out.rx.recv_timeout(LIMIT).expect("stdout stalled");
        for (j, &b) in chunk.iter().enumerate() {
            assert_eq!(b, LINE[(offset + j) % LINE.len()], "wrong byte at offset {}", offset + j);
        }
        offset += chunk.len();
    }
    assert_eq!(rig.exit(), ProcessExit::Exited(0));
    assert!(rig.end().stdout.is_empty());
}

/// In a snapshot UnixProcess shows as threaded with its four standard boxes carrying
/// `Vec<u8>` and `Signal`, then `stderr: Vec<u8>` and `exit: ProcessExit`.
#[test]
fn unix_process_shows_its_boxes_and_types_in_a_snapshot() {
    let rig = Rig::new(UnixProcess::program("cat"));
    let snap = rig.bg.snapshot();
    let info = snap.components.iter().find(|i| i.id == rig.process.id()).unwrap();
    assert!(info.threaded);
    assert!(info.name.starts_with("UnixProcess"), "{}", info.name);
    let got: Vec<(&str, Direction, &str)> =
        info.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
    assert_eq!(
        got,
        [
            ("inbox", Direction::Inbox, type_name::<Vec<u8>>()),
            ("control", Direction::Inbox, type_name::<Signal>()),
            ("outbox", Direction::Outbox, type_name::<Vec<u8>>()),
            ("signal", Direction::Outbox, type_name::<Signal>()),
            ("stderr", Direction::Outbox, type_name::<Vec<u8>>()),
            ("exit", Direction::Outbox, type_name::<ProcessExit>()),
        ]
    );
    rig.finish_input();
    assert!(rig.exit().success());
    rig.end();
}

/// Its `signal` drives the next component's `control`: a downstream consumer linked
/// `outbox -> inbox`, `signal -> control` receives all the output and then stops.
#[test]
fn its_end_stops_the_next_component_down_a_chain() {
    let process = UnixProcess::shell("seq 1 1000").build();
    let mut next = sink::<Vec<u8>>("next", None, false);
    link((&process, "outbox"), (&next.component, "inbox")).unwrap();
    link((&process, "signal"), (&next.component, "control")).unwrap();
    let bg = Scheduler::new().background();
    bg.activate(&next.component).unwrap();
    bg.activate(&process).unwrap();
    assert!(wait_until(|| next.component.is_finished()), "the next component did not stop");
    let text: Vec<u8> = next.finish().concat();
    let expected: String = (1..=1000).map(|n| format!("{n}\n")).collect();
    assert_eq!(String::from_utf8(text).unwrap(), expected);
    assert!(process.is_finished());
    drop(bg);
}
