//! FileSlurper and Mover: whole-file reads and moves, one per message.
// Kamaelia style constructors: `FileSlurper::new()` is the component, as `TriggeredFileReader()`.
#![allow(clippy::new_ret_no_self)]

use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use axon_core::{Component, ComponentBuilder, ControlWatch, Inbox, Next, Signal, ThreadCtx};

use crate::find::FileError;

/// Reads whole files: for each path that arrives on `inbox`, sends the path and the file's
/// contents (Kamaelia's `TriggeredFileReader`, which sends the contents alone).
///
/// A file that cannot be read (it vanished, it is a directory, permission is denied) is
/// reported on `error` and the component carries on with the next path. Each file is read
/// whole into memory.
///
/// A threaded component: reads happen on its own thread, so a large file never holds up
/// the scheduler. Sends wait while the destination is full (watching `control`).
///
/// Boxes:
/// - `inbox: PathBuf`: files to read.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: (PathBuf, Vec<u8>)`: each path with its contents, in the order they came.
/// - `error: FileError`: paths that could not be read (action `"read"`).
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking calls): a shutdown leaves
/// waiting paths unread, and one that arrives while a file is being read stops it before it
/// sends anything about that file.
#[derive(Debug)]
pub struct FileSlurper;

impl FileSlurper {
    /// A file slurper.
    pub fn new() -> Component {
        let mut b = ComponentBuilder::new("FileSlurper");
        let inbox = b.inbox::<PathBuf>("inbox");
        let control = b.control();
        let outbox = b.outbox::<(PathBuf, Vec<u8>)>("outbox");
        let error = b.outbox::<FileError>("error");
        let signal = b.signal();
        b.run_threaded(move |tctx| {
            each_path(&tctx, ControlWatch::new(control, signal), &inbox, |watch, path| {
                let read = fs::read(&path);
                stop_if_told(watch)?;
                match read {
                    Ok(contents) => watch.send_blocking(&tctx, &outbox, (path, contents))?,
                    Err(e) => watch.send_blocking(&tctx, &error, FileError::new("read", path, e))?,
                }
                Ok(())
            });
        })
    }
}

/// Moves files into a directory: for each path that arrives on `inbox`, moves the file to
/// `dest_dir/<its file name>` and sends the new path (the movers of Kamaelia's
/// BatchFileProcessor).
///
/// A rename when source and destination are on the same filesystem; otherwise a copy to a
/// temporary file in the destination directory, renamed into place (so the destination is
/// never seen half-written), then the source removed. An existing destination file is not
/// replaced unless [`overwrite`](Self::overwrite) is set: the move is refused and reported.
/// (Without overwrite, a same-filesystem move is made with a hard link and an unlink, so a
/// file that appears at the destination meanwhile is never replaced; where hard links are
/// not supported it checks, then renames.)
///
/// Errors are reported on `error` and the component carries on: a source that vanished, a
/// missing destination directory, an existing destination. If a copy succeeded but the
/// source could not be removed, the new path is still sent and the failure reported.
///
/// A threaded component: moves (and copies) happen on its own thread.
///
/// Boxes:
/// - `inbox: PathBuf`: files to move.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: PathBuf`: the new path of each file moved.
/// - `error: FileError`: moves that failed (action `"move"`, with the destination).
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking calls), as [`FileSlurper`]'s:
/// a move already made when a shutdown arrives is not reported.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Mover {
    dest_dir: PathBuf,
    overwrite: bool,
}

impl Mover {
    /// A mover into `dest_dir` (which must exist), refusing to replace files.
    pub fn new(dest_dir: impl Into<PathBuf>) -> Self {
        Mover { dest_dir: dest_dir.into(), overwrite: false }
    }

    /// Replaces a file of the same name in the destination directory (as `mv` does).
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Mover");
        let inbox = b.inbox::<PathBuf>("inbox");
        let control = b.control();
        let outbox = b.outbox::<PathBuf>("outbox");
        let error = b.outbox::<FileError>("error");
        let signal = b.signal();
        b.run_threaded(move |tctx| {
            each_path(&tctx, ControlWatch::new(control, signal), &inbox, |watch, path| {
                let Some(name) = path.file_name() else {
                    let e = io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name");
                    watch.send_blocking(&tctx, &error, FileError::new("move", path, e))?;
                    return Ok(());
                };
                let dest = self.dest_dir.join(name);
                let moved = move_file(&path, &dest, self.overwrite);
                stop_if_told(watch)?;
                match moved {
                    Ok(None) => watch.send_blocking(&tctx, &outbox, dest)?,
                    Ok(Some(left)) => {
                        let e = FileError::new("remove the moved file", &path, left).with_destination(&dest);
                        watch.send_blocking(&tctx, &outbox, dest)?;
                        watch.send_blocking(&tctx, &error, e)?;
                    }
                    Err(e) => {
                        watch.send_blocking(&tctx, &error, FileError::new("move", path, e).with_destination(dest))?;
                    }
                }
                Ok(())
            });
        })
    }
}

/// The loop of a threaded component that handles one path per message: runs `each` on
/// every path (until the watch says to stop), then passes the terminal signal on.
fn each_path(
    tctx: &ThreadCtx,
    mut watch: ControlWatch,
    inbox: &Inbox<PathBuf>,
    mut each: impl FnMut(&mut ControlWatch, PathBuf) -> Result<(), Signal>,
) {
    let end = loop {
        match watch.next_blocking(tctx, inbox) {
            Next::Data(path) => {
                if let Err(stop) = each(&mut watch, path) {
                    break stop;
                }
            }
            // Never under `Forward`: the watch passes them on itself.
            Next::Other(s) => watch.emit_blocking(s),
            Next::End(s) => break s,
        }
    };
    watch.finish_blocking(end);
}

/// A shutdown that arrived while a file was being read or moved stops the component before
/// it sends anything about that file.
fn stop_if_told(watch: &mut ControlWatch) -> Result<(), Signal> {
    watch.check().map_or(Ok(()), Err)
}

/// Moves `from` to `to`. `Ok(Some(e))`: the file was copied, but the source could not be
/// removed.
pub(crate) fn move_file(from: &Path, to: &Path, overwrite: bool) -> io::Result<Option<io::Error>> {
    let same_fs = if overwrite {
        fs::rename(from, to)
    } else {
        match fs::hard_link(from, to) {
            Ok(()) => fs::remove_file(from),
            // A directory, or a filesystem without hard links: check, then rename.
            Err(e)
                if matches!(e.kind(), io::ErrorKind::PermissionDenied | io::ErrorKind::Unsupported) || is_dir(from) =>
            {
                if fs::symlink_metadata(to).is_ok() {
                    return Err(io::Error::new(io::ErrorKind::AlreadyExists, "the destination exists"));
                }
                fs::rename(from, to)
            }
            Err(e) => Err(e),
        }
    };
    match same_fs {
        Ok(()) => Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => copy_then_remove(from, to, overwrite),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(io::Error::new(io::ErrorKind::AlreadyExists, "the destination exists"))
        }
        Err(e) => Err(e),
    }
}

fn is_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

/// Distinguishes the temporary files of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Moves across filesystems: copies to a temporary file beside `to`, puts it in place,
/// then removes `from`. `Ok(Some(e))`: in place, but `from` could not be removed.
pub(crate) fn copy_then_remove(from: &Path, to: &Path, overwrite: bool) -> io::Result<Option<io::Error>> {
    if !fs::symlink_metadata(from)?.is_file() {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "only regular files can be moved across filesystems"));
    }
    let dir = to.parent().unwrap_or(Path::new("."));
    let name = to.file_name().unwrap_or_default();
    let temp = loop {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.{}.moving", std::process::id(), TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
        let temp = dir.join(temp_name);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(_) => break temp,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    };
    let placed = fs::copy(from, &temp).and_then(|_| {
        if overwrite {
            fs::rename(&temp, to)
        } else {
            // A hard link never replaces an existing file; the temporary name then goes.
            fs::hard_link(&temp, to).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    io::Error::new(io::ErrorKind::AlreadyExists, "the destination exists")
                } else {
                    e
                }
            })
        }
    });
    if placed.is_err() || !overwrite {
        let _ = fs::remove_file(&temp);
    }
    placed?;
    Ok(fs::remove_file(from).err())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cross-filesystem path works on one filesystem too, so it is checked here where
    /// a second filesystem may not exist.
    #[test]
    fn copy_then_remove_moves_the_file_and_leaves_no_temporary_file() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        let from = src.path().join("a.txt");
        fs::write(&from, b"contents").unwrap();
        let to = dst.path().join("a.txt");
        assert!(copy_then_remove(&from, &to, false).unwrap().is_none());
        assert_eq!(fs::read(&to).unwrap(), b"contents");
        assert!(!from.exists());
        assert_eq!(fs::read_dir(dst.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn copy_then_remove_refuses_to_replace_unless_told() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        let to = dir.path().join("b");
        fs::write(&from, b"new").unwrap();
        fs::write(&to, b"old").unwrap();
        let e = copy_then_remove(&from, &to, false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&to).unwrap(), b"old");
        assert_eq!(fs::read(&from).unwrap(), b"new");
        assert!(copy_then_remove(&from, &to, true).unwrap().is_none());
        assert_eq!(fs::read(&to).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
