//! Follow: appended lines within a second, rotation by rename and by truncation, partial lines, long lines, invalid UTF-8, bursts, missing files, both shutdown signals, a chain, a snapshot.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axon_core::{Background, Component, ComponentBuilder, Direction, Handle, Inbox, Scheduler, Signal, link};
use kamaelia_file::{Follow, FollowError, Grep};
use kamaelia_util::{FramingError, OverlongPolicy, Utf8Policy};

/// Far longer than any of these needs; only reached if something is wrong.
const LIMIT: Duration = Duration::from_secs(20);

/// A running Follow: its outbox and signal through a handle, its `error` outbox into a probe.
struct Followed<O> {
    h: Handle<(), O>,
    errors: Inbox<FollowError>,
    _probe: Component,
    _bg: Background,
}

/// An inbox readable from the test thread (a threaded component that is never run).
fn probe<T: Send + 'static>() -> (Component, Inbox<T>) {
    let mut b = ComponentBuilder::new("Probe");
    let inbox = b.inbox::<T>("inbox");
    (b.run_threaded(|_| {}), inbox)
}

fn run<O: Send + 'static>(follow: Component) -> Followed<O> {
    let (probe, errors) = probe::<FollowError>();
    link((&follow, "error"), (&probe, "inbox")).unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<(), O>(&follow).unwrap();
    Followed { h, errors, _probe: probe, _bg: bg }
}

fn start(follow: Follow) -> Followed<String> {
    run(follow.build())
}

impl<O: Send + std::fmt::Debug + 'static> Followed<O> {
    fn line(&self) -> O {
        self.h.get_timeout(LIMIT).expect("no line came")
    }

    fn lines(&self, n: usize) -> Vec<O> {
        (0..n).map(|_| self.line()).collect()
    }

    /// The next signal, which must come.
    fn signal(&self) -> Signal {
        self.h.get_signal_timeout(LIMIT).expect("no signal came")
    }

    /// Waits for a `Status` note containing `needle`, skipping other notes.
    fn status(&self, needle: &str) -> String {
        loop {
            match self.signal() {
                Signal::Status(s) if s.contains(needle) => return s,
                Signal::Status(_) => {}
                other => panic!("expected a status note with {needle:?}, got {other}"),
            }
        }
    }

    fn error(&self) -> FollowError {
        self.errors.recv_timeout(LIMIT).expect("no error came")
    }

    /// Waits until the follower has looked at everything it was woken for: a signal sent
    /// to its control comes back out of its signal once it is through its current work.
    fn sync(&self, tag: &str) {
        self.h.component().inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::Status(tag.into()));
        self.status(tag);
    }
}

fn append(path: &Path, bytes: impl AsRef<[u8]>) {
    let mut f = OpenOptions::new().append(true).create(true).open(path).unwrap();
    f.write_all(bytes.as_ref()).unwrap();
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    (dir, path)
}

/// Follow from the end: lines already there are not emitted; each line appended is, within a second.
#[test]
fn follow_starts_at_the_end_and_emits_each_appended_line_within_a_second() {
    let (_dir, path) = temp();
    append(&path, "old 1\nold 2\n");
    let f = start(Follow::new(&path));
    assert!(f.status("following").ends_with("from byte 12"));
    for n in 0..5 {
        let line = format!("new {n}");
        let t = Instant::now();
        append(&path, format!("{line}\n"));
        let got = f.h.get_timeout(Duration::from_secs(1)).expect("an appended line did not appear within a second");
        assert_eq!(got, line);
        assert!(t.elapsed() < Duration::from_secs(1));
    }
    assert!(f.h.try_get().is_none());
}

/// An unfinished last line there at the start is emitted whole once its newline is appended.
#[test]
fn an_unfinished_last_line_present_at_the_start_is_emitted_whole_once_completed() {
    let (_dir, path) = temp();
    append(&path, "done\nhalf a li");
    let f = start(Follow::new(&path));
    assert!(f.status("following").ends_with("from byte 5"));
    append(&path, "ne\nnext\n");
    assert_eq!(f.lines(2), ["half a line", "next"]);
}

/// from_start(true) emits the lines already there, then follows.
#[test]
fn from_start_reads_the_existing_lines_first_then_follows() {
    let (_dir, path) = temp();
    append(&path, "one\ntwo\r\nthree\n");
    let f = start(Follow::new(&path).from_start(true));
    assert_eq!(f.lines(3), ["one", "two", "three"]);
    append(&path, "four\n");
    assert_eq!(f.line(), "four");
}

/// A partial line is held until its newline arrives, then emitted whole, once.
#[test]
fn a_partial_line_is_held_until_its_newline_arrives() {
    let (_dir, path) = temp();
    File::create(&path).unwrap();
    let f = start(Follow::new(&path));
    f.status("following");
    // One write: once "first" is out, the follower has read "par" too.
    append(&path, "first\npar");
    assert_eq!(f.line(), "first");
    f.sync("read the partial line");
    assert!(f.h.try_get().is_none(), "a partial line was emitted before its newline");
    append(&path, "tial\n");
    append(&path, "next\n");
    assert_eq!(f.lines(2), ["partial", "next"]);
}

/// Rotation by rename and recreate: the old file is read to its end (even what was appended
/// after the rename), then the new one from its start.
#[test]
fn rotation_by_rename_and_recreate_finishes_the_old_file_then_follows_the_new_one() {
    let (dir, path) = temp();
    append(&path, "before\n");
    let f = start(Follow::new(&path));
    f.status("following");
    append(&path, "1\n");
    assert_eq!(f.line(), "1");

    let rotated = dir.path().join("app.log.1");
    fs::rename(&path, &rotated).unwrap();
    // The writer still has the old file open and appends to it, with a partial last line.
    append(&rotated, "2\nunfinished");
    fs::write(&path, "3\n").unwrap();
    assert_eq!(f.lines(3), ["2", "unfinished", "3"]);
    assert!(f.status("following").ends_with("from byte 0"));
    append(&path, "4\n");
    assert_eq!(f.line(), "4");
    f.sync("after rotation");
    assert!(f.h.try_get().is_none());
}

/// A file deleted is reported missing; created again (tail -F), it is followed from its start.
#[test]
fn a_file_deleted_is_reported_missing_and_created_again_is_followed_from_its_start() {
    let (_dir, path) = temp();
    append(&path, "old\n");
    let f = start(Follow::new(&path));
    f.status("following");
    fs::remove_file(&path).unwrap();
    assert!(matches!(f.error(), FollowError::NotFound { .. }));
    fs::write(&path, "new 1\nnew 2\n").unwrap();
    assert_eq!(f.lines(2), ["new 1", "new 2"]);
}

/// Copy and truncate (logrotate's copytruncate): the shrunk file is read again from its start.
#[test]
fn rotation_by_copy_and_truncate_restarts_from_the_start_of_the_file() {
    let (dir, path) = temp();
    // The writer keeps one append-mode handle throughout, as a logging daemon does.
    let mut writer = OpenOptions::new().append(true).create(true).open(&path).unwrap();
    writer.write_all(b"existing line\n").unwrap();
    let f = start(Follow::new(&path));
    f.status("following");
    writer.write_all(b"one\ntwo\n").unwrap();
    assert_eq!(f.lines(2), ["one", "two"]);

    fs::copy(&path, dir.path().join("app.log.1")).unwrap();
    OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
    f.status("truncated");
    writer.write_all(b"three\n").unwrap();
    assert_eq!(f.line(), "three");

    // Truncated and written again (shorter) before the follower looks: still seen.
    OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
    writer.write_all(b"4\n").unwrap();
    assert_eq!(f.line(), "4");
    f.sync("after truncation");
    assert!(f.h.try_get().is_none());
}

/// A file that does not exist yet is reported once on `error`, then read from its start when it appears.
#[test]
fn a_file_that_does_not_exist_yet_is_reported_once_and_followed_when_it_appears() {
    let (_dir, path) = temp();
    let f = start(Follow::new(&path));
    let e = f.error();
    assert!(matches!(&e, FollowError::NotFound { path: p } if *p == path), "{e:?}");
    assert!(e.to_string().contains("no such file (waiting for it to appear)"), "{e}");
    f.sync("looked again");
    assert!(f.errors.try_recv().is_none(), "reported twice");
    fs::write(&path, "hello\nworld\n").unwrap();
    assert_eq!(f.lines(2), ["hello", "world"]);
    assert!(f.status("following").ends_with("from byte 0"));
}

const TEN_MB: usize = 10 * 1024 * 1024;
const ONE_MB: usize = 1024 * 1024;

/// A 10 MB line under Split (the default policy) comes out as pieces of the maximum length.
#[test]
fn a_10_mb_line_is_split_into_pieces_of_the_maximum_under_split() {
    let (_dir, path) = temp();
    File::create(&path).unwrap();
    let f = run::<Vec<u8>>(Follow::new(&path).max_line_length(ONE_MB).build_bytes());
    f.status("following");
    let mut big = vec![b'x'; TEN_MB];
    big.extend_from_slice(b"\nafter\n");
    append(&path, &big);
    for _ in 0..10 {
        let piece = f.line();
        assert_eq!(piece.len(), ONE_MB);
        assert!(piece.iter().all(|&b| b == b'x'));
    }
    assert_eq!(f.line(), b"after");
    assert!(f.errors.try_recv().is_none());
}

/// A 10 MB line under Refuse is skipped up to its newline and reported on `error`; the next line follows.
#[test]
fn a_10_mb_line_is_refused_on_error_and_the_next_line_follows_under_refuse() {
    let (_dir, path) = temp();
    File::create(&path).unwrap();
    let f = start(Follow::new(&path).max_line_length(ONE_MB).overlong(OverlongPolicy::Refuse));
    f.status("following");
    append(&path, "before\n");
    let mut big = vec![b'x'; TEN_MB];
    big.extend_from_slice(b"\nafter\n");
    append(&path, &big);
    assert_eq!(f.lines(2), ["before", "after"]);
    let e = f.error();
    match &e {
        FollowError::Line { error: FramingError::Overlong { limit, discarded }, .. } => {
            assert_eq!((*limit, *discarded), (ONE_MB, TEN_MB));
        }
        other => panic!("expected an overlong line report, got {other:?}"),
    }
    assert!(e.to_string().contains("skipped a line of 10485760 bytes"), "{e}");
}

/// Invalid UTF-8 is replaced in String lines, kept as is in byte lines, or reported under Report.
#[test]
fn invalid_utf8_is_replaced_in_string_lines_kept_in_byte_lines_or_reported() {
    let (_dir, path) = temp();
    fs::write(&path, b"ok \xff\xfe ok\nfine\n").unwrap();

    let text = start(Follow::new(&path).from_start(true));
    assert_eq!(text.lines(2), ["ok \u{fffd}\u{fffd} ok", "fine"]);

    let bytes = run::<Vec<u8>>(Follow::new(&path).from_start(true).build_bytes());
    assert_eq!(bytes.lines(2), [b"ok \xff\xfe ok".to_vec(), b"fine".to_vec()]);

    let report = start(Follow::new(&path).from_start(true).utf8(Utf8Policy::Report));
    assert_eq!(report.line(), "fine");
    match report.error() {
        FollowError::Line { error: FramingError::InvalidUtf8 { line, valid_up_to }, .. } => {
            assert_eq!((line.as_slice(), valid_up_to), (b"ok \xff\xfe ok".as_slice(), 3));
        }
        other => panic!("expected an invalid UTF-8 report, got {other:?}"),
    }
}

/// A burst of 10 000 lines appended one write at a time arrives complete, in order, once each.
#[test]
fn a_burst_of_10000_appended_lines_arrives_complete_in_order_without_duplicates() {
    let (_dir, path) = temp();
    File::create(&path).unwrap();
    let f = start(Follow::new(&path));
    f.status("following");
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let mut w = OpenOptions::new().append(true).open(&writer_path).unwrap();
        for n in 0..10_000 {
            w.write_all(format!("line {n}\n").as_bytes()).unwrap();
        }
        w.write_all(b"end\n").unwrap();
    });
    let got = f.lines(10_001);
    writer.join().unwrap();
    let expected: Vec<String> = (0..10_000).map(|n| format!("line {n}")).chain(["end".to_string()]).collect();
    assert!(got == expected, "lines missing, repeated or out of order");
    f.sync("after the burst");
    assert!(f.h.try_get().is_none());
}

/// stop_at_eof reads a whole file (its unfinished last line too), then sends ProducerFinished naming itself.
#[test]
fn stop_at_eof_reads_a_whole_file_then_sends_producer_finished() {
    let (_dir, path) = temp();
    let content: String = (0..50_000).map(|n| format!("row {n}\n")).chain(["last".to_string()]).collect();
    fs::write(&path, content).unwrap();
    let f = start(Follow::new(&path).from_start(true).stop_at_eof(true));
    let got = f.lines(50_001);
    assert_eq!(got[0], "row 0");
    assert_eq!(got[49_999], "row 49999");
    assert_eq!(got[50_000], "last");
    f.status("following");
    let id = f.h.component().id();
    assert!(matches!(f.signal(), Signal::ProducerFinished { caller: Some(c), .. } if c == id));
}

/// stop_at_eof on a missing file reports it and ends with ErrorInformation and ProducerFinished.
#[test]
fn stop_at_eof_on_a_missing_file_reports_it_and_ends() {
    let (_dir, path) = temp();
    let follow = Follow::new(&path).stop_at_eof(true);
    assert!(matches!(follow.check(), Err(FollowError::NotFound { .. })));
    let f = start(follow);
    assert!(matches!(f.error(), FollowError::NotFound { .. }));
    match f.signal() {
        Signal::ErrorInformation { message, .. } => assert!(message.contains("no such file"), "{message}"),
        other => panic!("expected ErrorInformation, got {other}"),
    }
    assert!(f.signal().is_producer_finished());
}

/// ProducerFinished on control: the file is read to its end, an unfinished line emitted, the signal passed on.
#[test]
fn producer_finished_reads_to_the_end_emits_the_partial_line_and_is_passed_on() {
    let (_dir, path) = temp();
    File::create(&path).unwrap();
    let f = start(Follow::new(&path));
    f.status("following");
    append(&path, "a\nb\nunfinished");
    f.h.put_control(Signal::producer_finished());
    assert_eq!(f.lines(3), ["a", "b", "unfinished"]);
    assert!(matches!(f.signal(), Signal::ProducerFinished { caller: None, .. }));
    assert!(wait_finished(f.h.component()));
}

/// ShutdownMicroprocess stops it promptly, even while it waits for room downstream in the
/// middle of a big file, and is passed on.
#[test]
fn shutdown_microprocess_stops_it_promptly_and_is_passed_on() {
    let (_dir, path) = temp();
    fs::write(&path, "x\n".repeat(ONE_MB)).unwrap();
    let follow = Follow::new(&path).from_start(true).build();
    let mut b = ComponentBuilder::new("SmallSink");
    let lines = b.inbox_with_capacity::<String>("inbox", 10);
    let signals = b.inbox::<Signal>("control");
    let sink = b.run_threaded(|_| {});
    link((&follow, "outbox"), (&sink, "inbox")).unwrap();
    link((&follow, "signal"), (&sink, "control")).unwrap();
    let bg = Scheduler::new().background();
    bg.activate(&follow).unwrap();
    assert_eq!(lines.recv_timeout(LIMIT).as_deref(), Some("x"));
    follow.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
    let end = loop {
        match signals.recv_timeout(LIMIT).expect("no signal") {
            Signal::Status(_) => {}
            other => break other,
        }
    };
    assert!(matches!(end, Signal::ShutdownMicroprocess));
    assert!(wait_finished(&follow));
    assert!(lines.len() <= 10);
}

/// Other signals on control are passed on and it carries on.
#[test]
fn other_signals_are_passed_on_and_it_carries_on() {
    let (_dir, path) = temp();
    File::create(&path).unwrap();
    let f = start(Follow::new(&path));
    f.status("following");
    f.sync("a note");
    append(&path, "still here\n");
    assert_eq!(f.line(), "still here");
}

/// check() finds what would stop Follow at once, and accepts a file that is still to come.
#[test]
fn check_rejects_a_directory_a_missing_directory_and_an_unreadable_file_and_accepts_a_missing_file() {
    let (dir, path) = temp();
    assert!(Follow::new(&path).check().is_ok());
    let e = Follow::new(dir.path()).check().unwrap_err();
    assert!(matches!(e, FollowError::NotAFile { what: "a directory", .. }), "{e:?}");
    assert!(e.to_string().contains("it is a directory"), "{e}");
    let e = Follow::new(dir.path().join("no/such/dir/app.log")).check().unwrap_err();
    assert!(matches!(e, FollowError::Directory { .. }), "{e:?}");
    assert!(e.to_string().contains("cannot watch its directory"), "{e}");
    append(&path, "x\n");
    assert!(Follow::new(&path).check().is_ok());
}

/// A directory that does not exist when it starts ends it: reported on `error`, then
/// ErrorInformation and ProducerFinished on `signal`.
#[test]
fn a_missing_directory_at_the_start_ends_it_with_error_information() {
    let dir = tempfile::tempdir().unwrap();
    let f = start(Follow::new(dir.path().join("gone/app.log")));
    assert!(matches!(f.error(), FollowError::Directory { .. }));
    match f.signal() {
        Signal::ErrorInformation { message, .. } => {
            assert!(message.contains("cannot watch its directory"), "{message}")
        }
        other => panic!("expected ErrorInformation, got {other}"),
    }
    assert!(f.signal().is_producer_finished());
    assert!(wait_finished(f.h.component()));
}

/// A path that is a directory at run time is reported once; Follow waits on.
#[test]
fn a_path_that_is_a_directory_is_reported_and_waited_on() {
    let (_dir, path) = temp();
    fs::create_dir(&path).unwrap();
    let f = start(Follow::new(&path));
    assert!(matches!(f.error(), FollowError::NotAFile { what: "a directory", .. }));
    fs::remove_dir(&path).unwrap();
    fs::write(&path, "now a file\n").unwrap();
    assert_eq!(f.line(), "now a file");
}

/// Its directory removed and created again: reported, looked for again, and the new file followed.
#[test]
fn a_directory_removed_and_created_again_is_watched_again() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("logs");
    fs::create_dir(&dir).unwrap();
    let path = dir.join("app.log");
    append(&path, "old\n");
    let f = start(Follow::new(&path));
    f.status("following");
    fs::remove_dir_all(&dir).unwrap();
    // The file went first: it is reported missing, then the directory gone.
    let e = loop {
        match f.error() {
            FollowError::NotFound { .. } => {}
            other => break other,
        }
    };
    assert!(matches!(&e, FollowError::Watch { .. }), "{e:?}");
    assert!(e.to_string().contains("was removed or renamed"), "{e}");
    fs::create_dir(&dir).unwrap();
    f.status("again");
    append(&path, "back\n");
    assert_eq!(f.line(), "back");
}

/// Its signal feeds the next component's control: ProducerFinished cascades down Follow -> Grep.
#[test]
fn its_signal_feeds_the_next_components_control_down_a_chain() {
    let (_dir, path) = temp();
    fs::write(&path, "pants 1\nshirt\npants 2\n").unwrap();
    let follow = Follow::new(&path).from_start(true).stop_at_eof(true).build();
    let grep = Grep::new("pants").unwrap().build();
    link((&follow, "outbox"), (&grep, "inbox")).unwrap();
    link((&follow, "signal"), (&grep, "control")).unwrap();
    let bg = Scheduler::new().background();
    bg.activate(&follow).unwrap();
    let h = bg.handle::<String, String>(&grep).unwrap();
    assert_eq!(h.get_timeout(LIMIT).unwrap(), "pants 1");
    assert_eq!(h.get_timeout(LIMIT).unwrap(), "pants 2");
    let end = loop {
        match h.get_signal_timeout(LIMIT).expect("no signal") {
            Signal::Status(_) => {}
            other => break other,
        }
    };
    assert!(matches!(end, Signal::ProducerFinished { caller: Some(c), .. } if c == follow.id()));
}

/// In a snapshot Follow shows as threaded, with `()` in, `String` (or `Vec<u8>`) out and a `FollowError` outbox.
#[test]
fn it_shows_in_a_snapshot_as_threaded_with_its_boxes() {
    let (_dir, path) = temp();
    File::create(&path).unwrap();
    let text = Follow::new(&path).build();
    let bytes = Follow::new(&path).build_bytes();
    let sched = Scheduler::new();
    sched.activate(&text).unwrap();
    sched.activate(&bytes).unwrap();
    let snap = sched.snapshot();
    for (c, out) in [(&text, std::any::type_name::<String>()), (&bytes, std::any::type_name::<Vec<u8>>())] {
        let info = snap.components.iter().find(|i| i.id == c.id()).unwrap();
        assert!(info.threaded);
        assert!(info.name.starts_with("Follow_"));
        let boxes: Vec<(&str, Direction, &str)> =
            info.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
        assert_eq!(
            boxes,
            [
                ("inbox", Direction::Inbox, std::any::type_name::<()>()),
                ("control", Direction::Inbox, std::any::type_name::<Signal>()),
                ("outbox", Direction::Outbox, out),
                ("signal", Direction::Outbox, std::any::type_name::<Signal>()),
                ("error", Direction::Outbox, std::any::type_name::<FollowError>()),
            ]
        );
    }
    for c in [&text, &bytes] {
        c.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        sched.run();
        let _ = tx.send(());
    });
    rx.recv_timeout(LIMIT).expect("the followers did not stop");
}

/// Waits (up to LIMIT) until `c` has finished.
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
