//! FileSlurper and Mover: contents and moves per path, errors reported without stopping, moves across filesystems, no silent overwrite, both shutdown signals, a chain, snapshots.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use axon_core::{Component, Direction, Scheduler, Signal, link};
use kamaelia_file::{FileError, FileSlurper, Mover};

mod common;
use common::*;

/// Puts `paths` into `c`'s inbox, then `signal` into its control, before it runs.
fn preload(c: &Component, paths: &[PathBuf], signal: Signal) {
    let inbox = c.inbox_ref::<PathBuf>("inbox").unwrap();
    for p in paths {
        inbox.try_send(p.clone()).unwrap();
    }
    c.inbox_ref::<Signal>("control").unwrap().try_send(signal).unwrap();
}

/// Runs `c` (preloaded) with its `error` outbox probed, to its terminal signal; returns
/// what it sent, its signals and its errors.
fn run_to_end<O: Send + 'static>(c: &Component) -> (Vec<O>, Vec<Signal>, Vec<FileError>) {
    let bg = Scheduler::new().background();
    let errors = probe::<FileError>();
    link((c, "error"), (&errors.component, "inbox")).unwrap();
    bg.activate(&errors.component).unwrap();
    let h = bg.handle::<PathBuf, O>(c).unwrap();
    let signals = signals_until_terminal(&h);
    let out: Vec<O> = std::iter::from_fn(|| h.try_get()).collect();
    assert!(wait_finished(c));
    (out, signals, errors.finish())
}

/// FileSlurper sends each path with the file's contents, in order; on ProducerFinished it
/// reads every path that came before it, then passes the signal on.
#[test]
fn file_slurper_sends_each_path_with_its_contents_then_forwards_producer_finished() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    let b = t.path().join("b");
    fs::write(&a, "alpha").unwrap();
    fs::write(&b, [0u8, 255, 1]).unwrap();
    let s = FileSlurper::new();
    preload(&s, &[a.clone(), b.clone(), a.clone()], Signal::producer_finished());
    let (out, signals, errors) = run_to_end::<(PathBuf, Vec<u8>)>(&s);
    assert_eq!(out, [(a.clone(), b"alpha".to_vec()), (b, vec![0, 255, 1]), (a, b"alpha".to_vec())]);
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(errors.is_empty());
}

/// A file that vanished (or a directory) is reported on `error` with the path and the
/// cause, and the slurper carries on with the next path.
#[test]
fn file_slurper_reports_a_vanished_file_and_carries_on() {
    let t = tempfile::tempdir().unwrap();
    let gone = t.path().join("gone");
    let ok = t.path().join("ok");
    fs::write(&ok, "fine").unwrap();
    let s = FileSlurper::new();
    preload(&s, &[gone.clone(), t.path().to_path_buf(), ok.clone()], Signal::producer_finished());
    let (out, signals, errors) = run_to_end::<(PathBuf, Vec<u8>)>(&s);
    assert_eq!(out, [(ok, b"fine".to_vec())]);
    assert_eq!(names(&signals), ["producerFinished"]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0].path(), errors[0].kind(), errors[0].action()), (gone.as_path(), ErrorKind::NotFound, "read"));
    assert!(errors[0].to_string().starts_with(&format!("cannot read {}: ", gone.display())), "{}", errors[0]);
    assert_eq!(errors[1].path(), t.path());
}

/// ShutdownMicroprocess stops FileSlurper at once: paths still waiting are not read; the
/// signal is passed on.
#[test]
fn file_slurper_stops_at_once_on_shutdown_microprocess() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    fs::write(&a, "x").unwrap();
    let s = FileSlurper::new();
    preload(&s, &[a.clone(), a], Signal::ShutdownMicroprocess);
    let (out, signals, _) = run_to_end::<(PathBuf, Vec<u8>)>(&s);
    assert!(out.is_empty());
    assert_eq!(names(&signals), ["shutdownMicroprocess"]);
    assert_eq!(s.box_info("inbox").unwrap().len, 2);
}

/// FileSlurper passes signals that are not terminal on as they come.
#[test]
fn file_slurper_passes_other_signals_on() {
    let bg = Scheduler::new().background();
    let h = bg.handle::<PathBuf, (PathBuf, Vec<u8>)>(&FileSlurper::new()).unwrap();
    h.put_control(Signal::Status("fyi".into()));
    h.put_control(Signal::producer_finished());
    assert_eq!(names(&signals_until_terminal(&h)), ["status", "producerFinished"]);
}

/// Mover moves each file into the destination directory and sends its new path; the
/// contents are unchanged and the source is gone.
#[test]
fn mover_moves_each_file_and_sends_its_new_path() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let a = from.path().join("a.jpg");
    fs::write(&a, "image").unwrap();
    let m = Mover::new(to.path()).build();
    preload(&m, std::slice::from_ref(&a), Signal::producer_finished());
    let (out, signals, errors) = run_to_end::<PathBuf>(&m);
    assert_eq!(out, [to.path().join("a.jpg")]);
    assert_eq!(names(&signals), ["producerFinished"]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(fs::read_to_string(to.path().join("a.jpg")).unwrap(), "image");
    assert!(!a.exists());
}

/// Mover never replaces a file silently: an existing destination is reported (with both
/// paths) and both files are left as they were; with overwrite(true) it is replaced.
#[test]
fn mover_refuses_to_replace_a_file_unless_told_to() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let a = from.path().join("a");
    fs::write(&a, "new").unwrap();
    fs::write(to.path().join("a"), "old").unwrap();
    let m = Mover::new(to.path()).build();
    preload(&m, std::slice::from_ref(&a), Signal::producer_finished());
    let (out, _, errors) = run_to_end::<PathBuf>(&m);
    assert!(out.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), ErrorKind::AlreadyExists);
    assert_eq!(errors[0].destination(), Some(to.path().join("a").as_path()));
    assert!(errors[0].to_string().contains(" to "), "{}", errors[0]);
    assert_eq!(fs::read_to_string(&a).unwrap(), "new");
    assert_eq!(fs::read_to_string(to.path().join("a")).unwrap(), "old");

    let m = Mover::new(to.path()).overwrite(true).build();
    preload(&m, std::slice::from_ref(&a), Signal::producer_finished());
    let (out, _, errors) = run_to_end::<PathBuf>(&m);
    assert_eq!(out, [to.path().join("a")]);
    assert!(errors.is_empty());
    assert_eq!(fs::read_to_string(to.path().join("a")).unwrap(), "new");
    assert!(!a.exists());
}

/// A source that vanished, or a destination directory that does not exist, is reported and
/// the mover carries on with the next file.
#[test]
fn mover_reports_failed_moves_and_carries_on() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let ok = from.path().join("ok");
    fs::write(&ok, "fine").unwrap();
    let gone = from.path().join("gone");
    let m = Mover::new(to.path()).build();
    preload(&m, &[gone.clone(), ok], Signal::producer_finished());
    let (out, _, errors) = run_to_end::<PathBuf>(&m);
    assert_eq!(out, [to.path().join("ok")]);
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].path(), errors[0].kind(), errors[0].action()), (gone.as_path(), ErrorKind::NotFound, "move"));

    let a = from.path().join("a");
    fs::write(&a, "x").unwrap();
    let m = Mover::new(to.path().join("missing")).build();
    preload(&m, std::slice::from_ref(&a), Signal::producer_finished());
    let (out, _, errors) = run_to_end::<PathBuf>(&m);
    assert!(out.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), ErrorKind::NotFound);
    assert!(a.exists(), "the file stays where it was");
}

/// A directory on another filesystem than the temporary directory, if there is one.
fn other_filesystem(than: &Path) -> Option<tempfile::TempDir> {
    let dev = fs::metadata(than).ok()?.dev();
    ["/dev/shm", "/run", "/var/tmp"]
        .into_iter()
        .filter_map(|d| tempfile::tempdir_in(d).ok())
        .find(|t| fs::metadata(t.path()).is_ok_and(|m| m.dev() != dev))
}

/// A move to another filesystem (where rename cannot work) copies and removes: the file
/// arrives whole, the source is gone, no temporary file is left. (The copy path itself is
/// also unit-tested in `slurp.rs`, for machines with a single filesystem: there this test
/// moves within one filesystem.)
#[test]
fn mover_moves_across_filesystems_by_copy_and_remove() {
    let from = tempfile::tempdir().unwrap();
    let to = other_filesystem(from.path()).unwrap_or_else(|| tempfile::tempdir().unwrap());
    let a = from.path().join("big");
    let contents: Vec<u8> = (0..300_000u32).map(|i| (i % 256) as u8).collect();
    fs::write(&a, &contents).unwrap();
    let m = Mover::new(to.path()).build();
    preload(&m, std::slice::from_ref(&a), Signal::producer_finished());
    let (out, _, errors) = run_to_end::<PathBuf>(&m);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(out, [to.path().join("big")]);
    assert_eq!(fs::read(to.path().join("big")).unwrap(), contents);
    assert!(!a.exists());
    assert_eq!(fs::read_dir(to.path()).unwrap().count(), 1, "no temporary file is left");
}

/// ShutdownMicroprocess stops Mover at once, moving nothing that was waiting.
#[test]
fn mover_stops_at_once_on_shutdown_microprocess() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let a = from.path().join("a");
    fs::write(&a, "x").unwrap();
    let m = Mover::new(to.path()).build();
    preload(&m, std::slice::from_ref(&a), Signal::ShutdownMicroprocess);
    let (out, signals, _) = run_to_end::<PathBuf>(&m);
    assert!(out.is_empty());
    assert_eq!(names(&signals), ["shutdownMicroprocess"]);
    assert!(a.exists());
}

/// Mover's outbox and signal linked to FileSlurper's inbox and control: each moved file is
/// read at its new place, and the ProducerFinished flows through.
#[test]
fn mover_into_file_slurper_reads_files_at_their_new_place() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let a = from.path().join("a");
    fs::write(&a, "moved").unwrap();
    let m = Mover::new(to.path()).build();
    let s = FileSlurper::new();
    link((&m, "outbox"), (&s, "inbox")).unwrap();
    link((&m, "signal"), (&s, "control")).unwrap();
    preload(&m, &[a], Signal::producer_finished());
    let bg = Scheduler::new().background();
    let h = bg.handle::<PathBuf, (PathBuf, Vec<u8>)>(&s).unwrap();
    bg.activate(&m).unwrap();
    assert_eq!(names(&signals_until_terminal(&h)), ["producerFinished"]);
    assert_eq!(h.try_get(), Some((to.path().join("a"), b"moved".to_vec())));
}

fn boxes_of(sched: &Scheduler, c: &Component) -> Vec<(String, Direction, String)> {
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|i| i.id == c.id()).expect("the component is in the snapshot");
    assert!(info.threaded);
    info.boxes.iter().map(|b| (b.name.clone(), b.direction, b.msg_type.clone())).collect()
}

fn entry(name: &str, d: Direction, ty: &str) -> (String, Direction, String) {
    (name.to_string(), d, ty.to_string())
}

/// A snapshot shows FileSlurper and Mover as threaded components with their boxes.
#[test]
fn file_slurper_and_mover_show_their_boxes_in_a_snapshot() {
    let t = tempfile::tempdir().unwrap();
    let s = FileSlurper::new();
    let m = Mover::new(t.path()).build();
    let sched = Scheduler::new();
    sched.activate(&s).unwrap();
    sched.activate(&m).unwrap();
    let (path, sig, err) =
        (std::any::type_name::<PathBuf>(), std::any::type_name::<Signal>(), std::any::type_name::<FileError>());
    assert_eq!(
        boxes_of(&sched, &s),
        [
            entry("inbox", Direction::Inbox, path),
            entry("control", Direction::Inbox, sig),
            entry("outbox", Direction::Outbox, std::any::type_name::<(PathBuf, Vec<u8>)>()),
            entry("error", Direction::Outbox, err),
            entry("signal", Direction::Outbox, sig),
        ]
    );
    assert_eq!(
        boxes_of(&sched, &m),
        [
            entry("inbox", Direction::Inbox, path),
            entry("control", Direction::Inbox, sig),
            entry("outbox", Direction::Outbox, path),
            entry("error", Direction::Outbox, err),
            entry("signal", Direction::Outbox, sig),
        ]
    );
    for c in [&s, &m] {
        c.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
        assert!(wait_finished(c));
    }
}
