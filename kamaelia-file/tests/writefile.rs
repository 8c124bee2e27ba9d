//! WriteFile: writes each message, flushes and closes on ProducerFinished, appends, atomic mode (old or new, never half), errors as ErrorInformation, both shutdown signals, a chain from ReadFile, snapshot.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use axon_core::{Direction, Scheduler, Signal, link};
use kamaelia_file::{ReadFile, WriteFile};

mod common;
use common::*;

fn error_message(s: &Signal) -> &str {
    match s {
        Signal::ErrorInformation { message, .. } => message,
        other => panic!("expected ErrorInformation, got {other:?}"),
    }
}

/// Names in `dir` other than `except`.
fn others_in(dir: &Path, except: &str) -> Vec<PathBuf> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| !p.ends_with(except)).collect()
}

/// WriteFile writes each message in order; on ProducerFinished it closes the file and
/// passes the signal on.
#[test]
fn write_file_writes_each_message_then_forwards_producer_finished() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("out");
    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, ()>(&WriteFile::new(&target).build()).unwrap();
    h.put(b"hello ".to_vec());
    h.put(b"world\n".to_vec());
    h.put_control(Signal::producer_finished());
    assert_eq!(names(&signals_until_terminal(&h)), ["producerFinished"]);
    assert!(wait_finished(h.component()));
    assert_eq!(fs::read(&target).unwrap(), b"hello world\n");
}

/// Messages can be Strings (any AsRef<[u8]>), and append mode keeps what was there.
#[test]
fn write_file_appends_strings_when_asked() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("log");
    fs::write(&target, "old\n").unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<String, ()>(&WriteFile::new(&target).append(true).build_for::<String>()).unwrap();
    h.put("new\n".to_string());
    h.put_control(Signal::producer_finished());
    signals_until_terminal(&h);
    assert_eq!(fs::read_to_string(&target).unwrap(), "old\nnew\n");
}

/// Without append, an existing file is truncated when the writer starts.
#[test]
fn write_file_truncates_by_default() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("out");
    fs::write(&target, "a much longer old content").unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<String, ()>(&WriteFile::new(&target).build_for::<String>()).unwrap();
    h.put("new".to_string());
    h.put_control(Signal::producer_finished());
    signals_until_terminal(&h);
    assert_eq!(fs::read_to_string(&target).unwrap(), "new");
}

/// Messages that arrived before ProducerFinished are all written, even when the signal is
/// already waiting when the writer starts.
#[test]
fn write_file_drains_its_inbox_before_acting_on_producer_finished() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("out");
    let w = WriteFile::new(&target).build();
    let inbox = w.inbox_ref::<Vec<u8>>("inbox").unwrap();
    for i in 0..100u8 {
        inbox.try_send(vec![i]).unwrap();
    }
    w.inbox_ref::<Signal>("control").unwrap().try_send(Signal::producer_finished()).unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, ()>(&w).unwrap();
    assert_eq!(names(&signals_until_terminal(&h)), ["producerFinished"]);
    assert_eq!(fs::read(&target).unwrap(), (0..100u8).collect::<Vec<_>>());
}

/// What was written is flushed as soon as the inbox is empty (a reader sees it before the
/// end); ShutdownMicroprocess then stops the writer, keeping what was written, and is
/// passed on.
#[test]
fn write_file_flushes_when_idle_and_stops_on_shutdown_microprocess() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("out");
    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, ()>(&WriteFile::new(&target).build()).unwrap();
    h.put(b"first".to_vec());
    wait_until("the first message is in the file", || fs::read(&target).is_ok_and(|c| c == b"first"));
    h.put_control(Signal::ShutdownMicroprocess);
    assert_eq!(names(&signals_until_terminal(&h)), ["shutdownMicroprocess"]);
    assert!(wait_finished(h.component()));
    assert_eq!(fs::read(&target).unwrap(), b"first");
}

/// A ShutdownMicroprocess waiting when the writer starts stops it before any message is
/// written; the messages stay in its inbox.
#[test]
fn write_file_leaves_queued_messages_unwritten_on_shutdown() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("out");
    let w = WriteFile::new(&target).build();
    w.inbox_ref::<Vec<u8>>("inbox").unwrap().try_send(b"never".to_vec()).unwrap();
    w.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, ()>(&w).unwrap();
    assert_eq!(names(&signals_until_terminal(&h)), ["shutdownMicroprocess"]);
    assert!(wait_finished(&w));
    assert_eq!(fs::read(&target).unwrap(), b"");
    assert_eq!(w.box_info("inbox").unwrap().len, 1);
}

/// In atomic mode the target is never seen half-written: while the new contents are being
/// written (to a temporary file in the same directory) a reader sees the old file; after
/// ProducerFinished it sees the whole new one; no temporary file is left.
#[test]
fn write_file_atomic_mode_shows_readers_the_old_file_or_the_new_one_only() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("data");
    let old = b"OLD CONTENTS".to_vec();
    fs::write(&target, &old).unwrap();
    let chunk = vec![b'n'; 256 * 1024];
    let new: Vec<u8> = chunk.repeat(4);

    // A reader checking the target all the while.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (stop, reads, target, old, new) = (stop.clone(), reads.clone(), target.clone(), old.clone(), new.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let seen = fs::read(&target).expect("the target always exists");
                assert!(seen == old || seen == new, "a reader saw {} bytes, neither old nor new", seen.len());
                reads.fetch_add(1, Ordering::SeqCst);
            }
        })
    };

    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, ()>(&WriteFile::new(&target).atomic(true).build()).unwrap();
    for i in 1..=4 {
        h.put(chunk.clone());
        // The chunk reached the temporary file; the target is still the old one.
        wait_until("the chunk is in the temporary file", || {
            let temps = others_in(t.path(), "data");
            temps.len() == 1 && fs::metadata(&temps[0]).is_ok_and(|m| m.len() == (i * chunk.len()) as u64)
        });
        assert_eq!(fs::read(&target).unwrap(), old);
    }
    let temp = others_in(t.path(), "data").remove(0);
    assert_eq!(temp.parent(), Some(t.path()), "the temporary file is beside the target");
    h.put_control(Signal::producer_finished());
    assert_eq!(names(&signals_until_terminal(&h)), ["producerFinished"]);
    assert_eq!(fs::read(&target).unwrap(), new);
    assert!(others_in(t.path(), "data").is_empty(), "no temporary file is left");

    let before = reads.load(Ordering::SeqCst);
    wait_until("the reader has read the new file too", || reads.load(Ordering::SeqCst) > before + 1);
    stop.store(true, Ordering::SeqCst);
    reader.join().expect("the reader saw only the old or the new file");
}

/// In atomic mode a ShutdownMicroprocess removes the temporary file and leaves the target
/// untouched, passing the signal on.
#[test]
fn write_file_atomic_mode_discards_everything_on_shutdown() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("data");
    fs::write(&target, "old").unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, ()>(&WriteFile::new(&target).atomic(true).build()).unwrap();
    h.put(b"partial".to_vec());
    wait_until("the chunk is in the temporary file", || {
        others_in(t.path(), "data").first().is_some_and(|p| fs::read(p).is_ok_and(|c| c == b"partial"))
    });
    h.put_control(Signal::ShutdownMicroprocess);
    assert_eq!(names(&signals_until_terminal(&h)), ["shutdownMicroprocess"]);
    assert!(wait_finished(h.component()));
    assert_eq!(fs::read_to_string(&target).unwrap(), "old");
    assert!(others_in(t.path(), "data").is_empty(), "the temporary file is removed");
}

/// Atomic and append: the new file is the old contents followed by the new messages.
#[test]
fn write_file_atomic_append_starts_from_the_old_contents() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("data");
    fs::write(&target, "old,").unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<String, ()>(&WriteFile::new(&target).atomic(true).append(true).build_for::<String>()).unwrap();
    h.put("new".to_string());
    h.put_control(Signal::producer_finished());
    signals_until_terminal(&h);
    assert_eq!(fs::read_to_string(&target).unwrap(), "old,new");
}

/// When the atomic rename fails (here the target is a non-empty directory) the writer sends
/// ErrorInformation, then ProducerFinished naming itself; the temporary file is removed and
/// the target untouched.
#[test]
fn write_file_atomic_mode_reports_a_failed_rename_and_cleans_up() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("dir");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("inside"), "x").unwrap();
    let bg = Scheduler::new().background();
    let w = WriteFile::new(&target).atomic(true).build();
    let h = bg.handle::<Vec<u8>, ()>(&w).unwrap();
    h.put(b"data".to_vec());
    h.put_control(Signal::producer_finished());
    let signals = signals_until_terminal(&h);
    assert_eq!(names(&signals), ["errorInformation", "producerFinished"]);
    let message = error_message(&signals[0]);
    assert!(message.contains("rename") && message.contains(&*target.to_string_lossy()), "{message}");
    assert!(matches!(&signals[1], Signal::ProducerFinished { caller: Some(c), message: Some(_) } if *c == w.id()));
    assert!(others_in(t.path(), "dir").is_empty(), "the temporary file is removed");
    assert_eq!(fs::read_to_string(target.join("inside")).unwrap(), "x");
}

/// A file that cannot be opened (its directory does not exist) gives ErrorInformation
/// naming it, then ProducerFinished; nothing panics.
#[test]
fn write_file_reports_a_file_it_cannot_open() {
    let t = tempfile::tempdir().unwrap();
    for atomic in [false, true] {
        let target = t.path().join("no/such/dir/out");
        let bg = Scheduler::new().background();
        let h = bg.handle::<Vec<u8>, ()>(&WriteFile::new(&target).atomic(atomic).build()).unwrap();
        let signals = signals_until_terminal(&h);
        assert_eq!(names(&signals), ["errorInformation", "producerFinished"], "atomic: {atomic}");
        assert!(error_message(&signals[0]).contains("no/such/dir"), "{}", error_message(&signals[0]));
        assert!(wait_finished(h.component()));
        assert!(bg.panics().is_empty());
    }
}

/// A write that fails (a full disk: /dev/full) gives ErrorInformation saying so, then
/// ProducerFinished; nothing panics.
#[cfg(target_os = "linux")]
#[test]
fn write_file_reports_a_full_disk() {
    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, ()>(&WriteFile::new("/dev/full").build()).unwrap();
    h.put(b"no room".to_vec());
    let signals = signals_until_terminal(&h);
    assert_eq!(names(&signals), ["errorInformation", "producerFinished"]);
    assert!(error_message(&signals[0]).contains("No space left"), "{}", error_message(&signals[0]));
    assert!(bg.panics().is_empty());
}

/// ReadFile's outbox and signal linked to WriteFile's inbox and control copy a file: the
/// copy is identical and ReadFile's ProducerFinished comes out of WriteFile's signal.
#[test]
fn read_file_into_write_file_copies_a_file_and_the_signal_flows_through() {
    let t = tempfile::tempdir().unwrap();
    let source = t.path().join("source");
    let copy = t.path().join("copy");
    let contents: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(&source, &contents).unwrap();
    let reader = ReadFile::new(&source).blocks(4096).build();
    let writer = WriteFile::new(&copy).build();
    link((&reader, "outbox"), (&writer, "inbox")).unwrap();
    link((&reader, "signal"), (&writer, "control")).unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, ()>(&writer).unwrap();
    bg.activate(&reader).unwrap();
    let signals = signals_until_terminal(&h);
    assert!(matches!(&signals[..], [Signal::ProducerFinished { caller: Some(c), .. }] if *c == reader.id()));
    assert_eq!(fs::read(&copy).unwrap(), contents);
}

/// A snapshot shows WriteFile as a threaded component with its boxes and their types.
#[test]
fn write_file_shows_its_boxes_in_a_snapshot() {
    let t = tempfile::tempdir().unwrap();
    let w = WriteFile::new(t.path().join("out")).build_for::<String>();
    let sched = Scheduler::new();
    sched.activate(&w).unwrap();
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|i| i.id == w.id()).expect("in the snapshot");
    assert!(info.threaded);
    let boxes: Vec<(&str, Direction, &str)> =
        info.boxes.iter().map(|b| (b.name.as_str(), b.direction, b.msg_type.as_str())).collect();
    let sig = std::any::type_name::<Signal>();
    assert_eq!(
        boxes,
        [
            ("inbox", Direction::Inbox, std::any::type_name::<String>()),
            ("control", Direction::Inbox, sig),
            ("outbox", Direction::Outbox, "()"),
            ("signal", Direction::Outbox, sig),
        ]
    );
    w.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    assert!(wait_finished(&w));
}
