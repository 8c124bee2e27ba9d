//! DirectoryWatcher: emits each file once it is finished (closed after writing, moved in, or settled), once; existing files as configured; errors; both shutdown signals; a chain into FileSlurper; snapshot.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axon_core::{Background, Component, ComponentState, Direction, Handle, Scheduler, Signal, link};
use kamaelia_file::{DirectoryWatcher, FileError, FileSlurper};

mod common;
use common::*;

/// Far longer than any of these systems needs; only reached if something hangs.
const LIMIT: Duration = Duration::from_secs(30);

/// How long a test waits to be sure nothing is emitted: several times the settle time
/// these tests configure, so a premature emission would be caught.
const QUIET: Duration = Duration::from_millis(500);

/// The settle time these tests configure.
const SETTLE: Duration = Duration::from_millis(100);

/// Starts `watcher` behind a handle and waits until it is watching (its first turn is
/// over: it pauses only once the watch is set up and the directory listed).
fn start(watcher: Component) -> (Background, Handle<(), PathBuf>) {
    let bg = Scheduler::new().background();
    let h = bg.handle::<(), PathBuf>(&watcher).unwrap();
    wait_until("the watcher is watching", || watcher.state() == ComponentState::Paused || watcher.is_finished());
    (bg, h)
}

fn expect_path(h: &Handle<(), PathBuf>, p: &Path) {
    assert_eq!(h.get_timeout(LIMIT).as_deref(), Some(p));
}

fn expect_nothing(h: &Handle<(), PathBuf>) {
    let got = h.get_timeout(QUIET);
    assert!(got.is_none(), "emitted {got:?} too early");
}

/// A file written in several chunks with pauses between them, by a writer that keeps it
/// open, is emitted only once the writer closes it, whole; writing to it again later does
/// not emit it again. (Needs close-after-write events: inotify.)
#[cfg(target_os = "linux")]
#[test]
fn directory_watcher_emits_a_file_only_after_its_writer_closes_it_and_only_once() {
    let t = tempfile::tempdir().unwrap();
    let w = DirectoryWatcher::new(t.path()).existing(false).settle(SETTLE).build();
    let (_bg, h) = start(w);
    let a = t.path().join("upload.bin");
    let mut file = File::create(&a).unwrap();
    for chunk in 0..3u8 {
        file.write_all(&[chunk; 1000]).unwrap();
        file.flush().unwrap();
        // The pause between chunks, several settle times long: nothing may come out.
        expect_nothing(&h);
    }
    drop(file);
    expect_path(&h, &a);
    assert_eq!(fs::metadata(&a).unwrap().len(), 3000, "emitted whole");

    let mut again = OpenOptions::new().append(true).open(&a).unwrap();
    again.write_all(b"more").unwrap();
    drop(again);
    let b = t.path().join("second");
    fs::write(&b, "b").unwrap();
    expect_path(&h, &b);
    expect_nothing(&h);
}

/// A file moved (renamed) into the directory is emitted at once, without waiting for a
/// settle time (here a minute).
#[test]
fn directory_watcher_emits_a_file_moved_into_the_directory() {
    let parent = tempfile::tempdir().unwrap();
    let watched = parent.path().join("watched");
    let outside = parent.path().join("outside");
    fs::create_dir(&watched).unwrap();
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("f"), "whole").unwrap();
    let w = DirectoryWatcher::new(&watched).existing(false).settle(Duration::from_secs(60)).build();
    let (_bg, h) = start(w);
    let arrived = Instant::now();
    fs::rename(outside.join("f"), watched.join("f")).unwrap();
    expect_path(&h, &watched.join("f"));
    assert!(arrived.elapsed() < Duration::from_secs(30));
}

/// Files there before watching began are emitted once settled with existing(true) (the
/// default), and never with existing(false), while new files still are.
#[test]
fn directory_watcher_emits_existing_files_as_configured() {
    let t = tempfile::tempdir().unwrap();
    let old = t.path().join("old");
    fs::write(&old, "already here").unwrap();

    let (_bg, h) = start(DirectoryWatcher::new(t.path()).settle(SETTLE).build());
    expect_path(&h, &old);
    expect_nothing(&h);

    let (_bg2, h2) = start(DirectoryWatcher::new(t.path()).existing(false).settle(SETTLE).build());
    let new = t.path().join("new");
    fs::write(&new, "fresh").unwrap();
    expect_path(&h2, &new);
    expect_nothing(&h2);
}

/// Directories that appear are not emitted; a file removed and created again under the
/// same name is a new file and is emitted again.
#[test]
fn directory_watcher_ignores_directories_and_emits_a_recreated_file_again() {
    let t = tempfile::tempdir().unwrap();
    let (_bg, h) = start(DirectoryWatcher::new(t.path()).existing(false).settle(SETTLE).build());
    fs::create_dir(t.path().join("subdir")).unwrap();
    let f = t.path().join("f");
    fs::write(&f, "one").unwrap();
    expect_path(&h, &f);
    fs::remove_file(&f).unwrap();
    fs::write(&f, "two").unwrap();
    expect_path(&h, &f);
    expect_nothing(&h);
}

/// ShutdownMicroprocess and ProducerFinished each stop the watcher, which passes the
/// signal on.
#[test]
fn directory_watcher_stops_on_both_shutdown_signals() {
    for signal in [Signal::ShutdownMicroprocess, Signal::producer_finished()] {
        let t = tempfile::tempdir().unwrap();
        let w = DirectoryWatcher::new(t.path()).build();
        let (_bg, h) = start(w.clone());
        let expected = signal.axon_name();
        h.put_control(Signal::Status("fyi".into()));
        h.put_control(signal);
        assert_eq!(names(&signals_until_terminal(&h)), ["status", expected]);
        wait_until("the watcher finished", || w.is_finished());
    }
}

/// A directory that cannot be watched (it does not exist) gives ErrorInformation naming it,
/// then ProducerFinished naming the watcher.
#[test]
fn directory_watcher_reports_a_directory_it_cannot_watch() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("missing");
    let w = DirectoryWatcher::new(&missing).build();
    let (_bg, h) = start(w.clone());
    let signals = signals_until_terminal(&h);
    assert_eq!(names(&signals), ["errorInformation", "producerFinished"]);
    let Signal::ErrorInformation { message, .. } = &signals[0] else { unreachable!() };
    assert!(message.contains("cannot watch") && message.contains(&*missing.to_string_lossy()), "{message}");
    assert!(matches!(&signals[1], Signal::ProducerFinished { caller: Some(c), .. } if *c == w.id()));
}

/// When the watched directory is removed, the watcher says so (ErrorInformation), then
/// sends ProducerFinished and ends.
#[test]
fn directory_watcher_reports_its_directory_being_removed() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("watched");
    fs::create_dir(&dir).unwrap();
    let w = DirectoryWatcher::new(&dir).build();
    let (_bg, h) = start(w.clone());
    fs::remove_dir(&dir).unwrap();
    let signals = signals_until_terminal(&h);
    assert_eq!(names(&signals), ["errorInformation", "producerFinished"]);
    let Signal::ErrorInformation { message, .. } = &signals[0] else { unreachable!() };
    assert!(message.contains("was removed"), "{message}");
    wait_until("the watcher finished", || w.is_finished());
}

/// DirectoryWatcher's outbox and signal linked to FileSlurper's inbox and control (the
/// BatchFileProcessor pattern): each finished file is read whole; a ProducerFinished sent
/// to the watcher flows through the slurper.
#[test]
fn directory_watcher_into_file_slurper_reads_each_finished_file() {
    let t = tempfile::tempdir().unwrap();
    let w = DirectoryWatcher::new(t.path()).existing(false).settle(SETTLE).build();
    let s = FileSlurper::new();
    link((&w, "outbox"), (&s, "inbox")).unwrap();
    link((&w, "signal"), (&s, "control")).unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<PathBuf, (PathBuf, Vec<u8>)>(&s).unwrap();
    bg.activate(&w).unwrap();
    wait_until("the watcher is watching", || w.state() == ComponentState::Paused);
    let f = t.path().join("doc.txt");
    fs::write(&f, "contents").unwrap();
    assert_eq!(h.get_timeout(LIMIT), Some((f, b"contents".to_vec())));
    w.inbox_ref::<Signal>("control").unwrap().try_send(Signal::producer_finished()).unwrap();
    assert_eq!(names(&signals_until_terminal(&h)), ["producerFinished"]);
}

/// A snapshot shows DirectoryWatcher's boxes, including its private `_events` inbox.
#[test]
fn directory_watcher_shows_its_boxes_in_a_snapshot() {
    let t = tempfile::tempdir().unwrap();
    let w = DirectoryWatcher::new(t.path()).build();
    let sched = Scheduler::new();
    sched.activate(&w).unwrap();
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|i| i.id == w.id()).expect("in the snapshot");
    let boxes: Vec<(&str, Direction, &str)> =
        info.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
    let sig = std::any::type_name::<Signal>();
    assert_eq!(
        boxes,
        [
            ("inbox", Direction::Inbox, "()"),
            ("control", Direction::Inbox, sig),
            ("outbox", Direction::Outbox, std::any::type_name::<PathBuf>()),
            ("error", Direction::Outbox, std::any::type_name::<FileError>()),
            ("signal", Direction::Outbox, sig),
            ("_events", Direction::Inbox, std::any::type_name::<notify::Result<notify::Event>>()),
        ]
    );
}
