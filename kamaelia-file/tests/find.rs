//! Find: walks a tree depth-first in sorted order, by kind; reports unreadable directories and carries on; never loops on symbolic links; both shutdown signals; forwarding down a chain; snapshot.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{
    Component, ComponentBuilder, Direction, LinkOptions, Scheduler, SchedulerHandle, Signal, link, link_with,
};
use kamaelia_file::{FileError, FileSlurper, Find, FindKind};

mod common;
use common::*;

/// Runs `find` on a background scheduler with its `error` outbox probed; returns the paths,
/// the signals up to the terminal one, and the errors.
fn run_find(find: Component) -> (Vec<PathBuf>, Vec<Signal>, Vec<FileError>) {
    let bg = Scheduler::new().background();
    let errors = probe::<FileError>();
    link((&find, "error"), (&errors.component, "inbox")).unwrap();
    bg.activate(&errors.component).unwrap();
    let h = bg.handle::<(), PathBuf>(&find).unwrap();
    let signals = signals_until_terminal(&h);
    // The walk sends every path before its last signal, from one thread.
    let paths: Vec<PathBuf> = std::iter::from_fn(|| h.try_get()).collect();
    (paths, signals, errors.finish())
}

fn is_finished_by(s: &Signal, c: &Component) -> bool {
    matches!(s, Signal::ProducerFinished { caller: Some(id), .. } if *id == c.id())
}

fn rel(root: &Path, paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned()).collect()
}

/// root/{b.txt, a/{z.txt, y/}, c/}
fn small_tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    fs::create_dir_all(r.join("a/y")).unwrap();
    fs::create_dir(r.join("c")).unwrap();
    fs::write(r.join("b.txt"), "b").unwrap();
    fs::write(r.join("a/z.txt"), "z").unwrap();
    t
}

/// Find emits the root, then each directory before its contents, entries sorted by name
/// within each directory, then ProducerFinished naming itself; nothing is reported.
#[test]
fn find_emits_every_entry_depth_first_in_sorted_order_then_producer_finished() {
    let t = small_tree();
    let find = Find::new(t.path()).build();
    let (paths, signals, errors) = run_find(find.clone());
    assert_eq!(rel(t.path(), &paths), ["", "a", "a/y", "a/z.txt", "b.txt", "c"]);
    assert_eq!(paths[0], t.path());
    assert!(signals.len() == 1 && is_finished_by(&signals[0], &find), "{signals:?}");
    assert!(errors.is_empty(), "{errors:?}");
}

/// FindKind::Files emits regular files only and FindKind::Dirs directories only (the root
/// included), the walk still going through every directory.
#[test]
fn find_emits_only_files_or_only_directories_by_kind() {
    let t = small_tree();
    let (files, _, _) = run_find(Find::new(t.path()).kind(FindKind::Files).build());
    assert_eq!(rel(t.path(), &files), ["a/z.txt", "b.txt"]);
    let (dirs, _, _) = run_find(Find::new(t.path()).kind(FindKind::Dirs).build());
    assert_eq!(rel(t.path(), &dirs), ["", "a", "a/y", "c"]);
}

/// By default symbolic links are not followed: a link back up the tree is emitted as
/// itself, never entered, and the walk ends; a link to a file is not a regular file.
#[test]
fn find_does_not_follow_symbolic_links_by_default_so_a_loop_ends() {
    let t = small_tree();
    symlink(t.path(), t.path().join("a/back")).unwrap();
    symlink(t.path().join("b.txt"), t.path().join("link_to_b")).unwrap();
    let (paths, signals, errors) = run_find(Find::new(t.path()).build());
    assert_eq!(rel(t.path(), &paths), ["", "a", "a/back", "a/y", "a/z.txt", "b.txt", "c", "link_to_b"]);
    assert_eq!(signals.len(), 1);
    assert!(errors.is_empty(), "{errors:?}");
    let (files, _, _) = run_find(Find::new(t.path()).kind(FindKind::Files).build());
    assert_eq!(rel(t.path(), &files), ["a/z.txt", "b.txt"]);
}

/// Following links, a link to a directory already being walked is reported as a loop and
/// not entered; the walk carries on; a link to a file counts as a file; a dangling link is
/// emitted as itself, without an error.
#[test]
fn find_following_links_reports_a_loop_and_carries_on() {
    let t = small_tree();
    symlink(t.path(), t.path().join("a/back")).unwrap();
    symlink(t.path().join("b.txt"), t.path().join("link_to_b")).unwrap();
    symlink(t.path().join("nowhere"), t.path().join("dangling")).unwrap();
    let find = Find::new(t.path()).follow_symlinks(true).build();
    let (paths, signals, errors) = run_find(find.clone());
    assert_eq!(rel(t.path(), &paths), ["", "a", "a/back", "a/y", "a/z.txt", "b.txt", "c", "dangling", "link_to_b"]);
    assert!(signals.len() == 1 && is_finished_by(&signals[0], &find), "{signals:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path(), t.path().join("a/back"));
    assert_eq!(errors[0].action(), "descend into");
    assert!(errors[0].to_string().contains("filesystem loop"), "{}", errors[0]);

    let (files, _, _) = run_find(Find::new(t.path()).kind(FindKind::Files).follow_symlinks(true).build());
    assert_eq!(rel(t.path(), &files), ["a/z.txt", "b.txt", "link_to_b"]);
}

/// True if a directory with no permissions cannot be listed here. As root (or with
/// CAP_DAC_READ_SEARCH) permissions do not stop reading, so that way of making an
/// unreadable directory does not work.
fn permissions_are_enforced(scratch: &Path) -> bool {
    let d = scratch.join("probe");
    fs::create_dir(&d).unwrap();
    fs::set_permissions(&d, fs::Permissions::from_mode(0o000)).unwrap();
    let enforced = fs::read_dir(&d).is_err();
    fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    fs::remove_dir(&d).unwrap();
    enforced
}

/// Makes a directory under `parent` that cannot be read, with a file `after` beside it that
/// sorts after it; returns the directory and that file.
///
/// Where permissions are enforced: a directory with mode 000. Where they are not (tests run
/// as root): a directory whose full path is longer than PATH_MAX (4096 bytes), which the
/// system refuses to open (ENAMETOOLONG) whoever asks. It is made of short names renamed to
/// long ones from the deepest up, so no single call ever uses a path that long.
fn unreadable_dir(parent: &Path) -> (PathBuf, PathBuf) {
    if permissions_are_enforced(parent) {
        let locked = parent.join("locked");
        fs::create_dir(&locked).unwrap();
        fs::write(locked.join("hidden.txt"), "x").unwrap();
        let after = parent.join("z_after.txt");
        fs::write(&after, "z").unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        return (locked, after);
    }
    const PATH_MAX: usize = 4096;
    let long = "L".repeat(250);
    let base = parent.as_os_str().len();
    // The deepest directory's parent stays just within the limit; the deepest goes past it.
    let levels = (PATH_MAX - 1 - base.min(PATH_MAX - 1)) / (long.len() + 1) + 1;
    let mut short = parent.to_path_buf();
    for _ in 0..levels {
        short.push("s");
    }
    fs::create_dir_all(&short).unwrap();
    // The sibling that sorts after the deepest directory, in its parent.
    let short_after = short.parent().unwrap().join("z_after.txt");
    fs::write(&short_after, "z").unwrap();
    fs::write(short.join("hidden.txt"), "x").unwrap();
    let mut p = short;
    while p != parent {
        fs::rename(&p, p.with_file_name(&long)).unwrap();
        p.pop();
    }
    let mut locked = parent.to_path_buf();
    for _ in 0..levels {
        locked.push(&long);
    }
    assert!(locked.as_os_str().len() >= PATH_MAX);
    let after = locked.with_file_name("z_after.txt");
    (locked, after)
}

/// A directory that cannot be read is emitted, reported on `error` (action "read
/// directory") and skipped; the walk carries on with what follows it and ends with
/// ProducerFinished. (See `unreadable_dir` for how the directory is made when the tests
/// run as root.)
#[test]
fn find_reports_an_unreadable_directory_and_carries_on() {
    let t = tempfile::tempdir().unwrap();
    let (locked, after) = unreadable_dir(t.path());
    let find = Find::new(t.path()).build();
    let (paths, signals, errors) = run_find(find.clone());
    let at = |p: &Path| paths.iter().position(|q| q == p);
    let locked_at = at(&locked).expect("the unreadable directory is emitted");
    let after_at = at(&after).expect("the walk carries on past it");
    assert!(locked_at < after_at);
    assert!(!paths.iter().any(|p| p.ends_with("hidden.txt")), "its contents cannot be listed");
    assert!(signals.len() == 1 && is_finished_by(&signals[0], &find), "{signals:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].action(), "read directory");
    assert_eq!(errors[0].path(), locked);
    assert!(errors[0].to_string().starts_with("cannot read directory "), "{}", errors[0]);
    if locked.ends_with("locked") {
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A root that does not exist is reported (action "examine", NotFound) and the walk ends
/// with ProducerFinished, emitting nothing.
#[test]
fn find_reports_a_missing_root_and_finishes() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("missing");
    let find = Find::new(&root).build();
    let (paths, signals, errors) = run_find(find.clone());
    assert!(paths.is_empty());
    assert!(signals.len() == 1 && is_finished_by(&signals[0], &find), "{signals:?}");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), std::io::ErrorKind::NotFound);
    assert_eq!(errors[0].path(), root);
}

/// A root that is a file is emitted itself (as `find file` does).
#[test]
fn find_emits_a_root_that_is_a_file() {
    let t = small_tree();
    let (paths, _, errors) = run_find(Find::new(t.path().join("b.txt")).build());
    assert_eq!(paths, [t.path().join("b.txt")]);
    assert!(errors.is_empty());
}

/// Waits until `c`'s inbox `name` holds `n` messages.
fn wait_queued(c: &Component, name: &str, n: usize) {
    let deadline = Instant::now() + LIMIT;
    while c.box_info(name).unwrap().len < n {
        assert!(Instant::now() < deadline, "{name} of {} never held {n}", c.name());
        // Polling a condition with a deadline, not sleeping in place of synchronising.
        thread::sleep(Duration::from_millis(1));
    }
}

/// A Find blocked on a full destination in the middle of a large tree stops at once on
/// ShutdownMicroprocess: it passes the signal on, sends nothing more and no
/// ProducerFinished.
#[test]
fn find_stops_promptly_on_shutdown_microprocess_while_blocked() {
    let t = tempfile::tempdir().unwrap();
    for i in 0..500 {
        fs::write(t.path().join(format!("f{i:04}")), "").unwrap();
    }
    let find = Find::new(t.path()).build();
    // A sink that never reads, holding at most 2.
    let mut b = ComponentBuilder::new("Sink");
    b.inbox::<PathBuf>("inbox");
    let sink = b.run(|_ctx| async {});
    link_with((&find, "outbox"), (&sink, "inbox"), LinkOptions::capacity(2)).unwrap();
    let signals = probe::<Signal>();
    link((&find, "signal"), (&signals.component, "inbox")).unwrap();
    let bg = Scheduler::new().background();
    bg.activate(&signals.component).unwrap();
    bg.activate(&find).unwrap();
    wait_queued(&sink, "inbox", 2);
    find.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    let first = signals.rx.recv_timeout(LIMIT).expect("the shutdown is passed on");
    assert!(matches!(first, Signal::ShutdownMicroprocess), "{first:?}");
    assert!(wait_finished(&find));
    assert_eq!(sink.box_info("inbox").unwrap().len, 2, "nothing more was sent");
    assert!(signals.finish().is_empty(), "no ProducerFinished follows");
}

/// A ProducerFinished on Find's control does not cut the walk short; other signals are
/// passed on; its own ProducerFinished is the only one sent.
#[test]
fn find_walks_everything_despite_a_producer_finished_on_control() {
    let t = small_tree();
    let find = Find::new(t.path()).build();
    let control = find.inbox_ref::<Signal>("control").unwrap();
    control.try_send(Signal::Status("fyi".into())).unwrap();
    control.try_send(Signal::producer_finished()).unwrap();
    let (paths, signals, _) = run_find(find.clone());
    assert_eq!(paths.len(), 6);
    assert_eq!(signals.iter().map(Signal::axon_name).collect::<Vec<_>>(), ["status", "producerFinished"]);
    assert!(is_finished_by(&signals[1], &find));
}

/// Find's signal linked to FileSlurper's control: the slurper reads every file found, then
/// passes Find's ProducerFinished on.
#[test]
fn find_signal_flows_down_a_chain_into_file_slurper() {
    let t = small_tree();
    let find = Find::new(t.path()).kind(FindKind::Files).build();
    let slurper = FileSlurper::new();
    link((&find, "outbox"), (&slurper, "inbox")).unwrap();
    link((&find, "signal"), (&slurper, "control")).unwrap();
    let bg = Scheduler::new().background();
    let h = bg.handle::<PathBuf, (PathBuf, Vec<u8>)>(&slurper).unwrap();
    bg.activate(&find).unwrap();
    let signals = signals_until_terminal(&h);
    let got: Vec<(PathBuf, Vec<u8>)> = std::iter::from_fn(|| h.try_get()).collect();
    assert_eq!(got, [(t.path().join("a/z.txt"), b"z".to_vec()), (t.path().join("b.txt"), b"b".to_vec())]);
    assert!(signals.len() == 1 && is_finished_by(&signals[0], &find), "{signals:?}");
}

fn boxes_of(sched: &SchedulerHandle, c: &Component) -> Vec<(String, Direction, String)> {
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|i| i.id == c.id()).expect("the component is in the snapshot");
    info.boxes.iter().map(|b| (b.name.clone(), b.direction, b.msg_type.clone())).collect()
}

fn entry(name: &str, d: Direction, ty: &str) -> (String, Direction, String) {
    (name.to_string(), d, ty.to_string())
}

/// A snapshot shows Find as a threaded component with its boxes and their message types.
#[test]
fn find_shows_its_boxes_in_a_snapshot() {
    let t = small_tree();
    let find = Find::new(t.path()).build();
    // Held after its first path (an unlinked outbox holding at most 1), so it is still alive.
    find.set_box_capacity("outbox", Some(1)).unwrap();
    let sched = Scheduler::new();
    sched.activate(&find).unwrap();
    wait_queued(&find, "outbox", 1);
    let snap = sched.snapshot();
    assert!(snap.components.iter().any(|i| i.id == find.id() && i.threaded));
    assert_eq!(
        boxes_of(&sched, &find),
        [
            entry("inbox", Direction::Inbox, "()"),
            entry("control", Direction::Inbox, std::any::type_name::<Signal>()),
            entry("outbox", Direction::Outbox, std::any::type_name::<PathBuf>()),
            entry("error", Direction::Outbox, std::any::type_name::<FileError>()),
            entry("signal", Direction::Outbox, std::any::type_name::<Signal>()),
        ]
    );
    find.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    assert!(wait_finished(&find));
}
