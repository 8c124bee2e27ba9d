//! Find: walks a directory tree and emits the paths it finds. Also home of [`FileError`] (a
//! failure with one path, reported on an `error` outbox).

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, FileType};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use axon_core::{Component, ComponentBuilder, ControlWatch, Outbox, Signal, ThreadCtx};

/// A failure with one path that a component reported on its `error` outbox before carrying
/// on (an unreadable directory met by [`Find`], a file that vanished before
/// [`FileSlurper`](crate::FileSlurper) could read it, a move [`Mover`](crate::Mover) could
/// not make).
///
/// Displays as `cannot <action> <path>: <error>` (with ` to <destination>` for a move).
#[derive(Debug)]
pub struct FileError {
    action: &'static str,
    path: PathBuf,
    to: Option<PathBuf>,
    error: io::Error,
}

impl FileError {
    pub(crate) fn new(action: &'static str, path: impl Into<PathBuf>, error: io::Error) -> Self {
        FileError { action, path: path.into(), to: None, error }
    }

    pub(crate) fn with_destination(mut self, to: impl Into<PathBuf>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// What was being done: `"read directory"`, `"examine"`, `"read"`, `"move"` ...
    pub fn action(&self) -> &str {
        self.action
    }

    /// The path it was done to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// For a move, where the file was going.
    pub fn destination(&self) -> Option<&Path> {
        self.to.as_deref()
    }

    /// The kind of the underlying I/O error.
    pub fn kind(&self) -> io::ErrorKind {
        self.error.kind()
    }

    /// The underlying I/O error.
    pub fn io_error(&self) -> &io::Error {
        &self.error
    }

    /// The underlying I/O error, owned.
    pub fn into_io_error(self) -> io::Error {
        self.error
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {} {}", self.action, self.path.display())?;
        if let Some(to) = &self.to {
            write!(f, " to {}", to.display())?;
        }
        write!(f, ": {}", self.error)
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Which entries [`Find`] emits.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum FindKind {
    /// Regular files only (`find -type f`).
    Files,
    /// Directories only (`find -type d`).
    Dirs,
    /// Everything: files, directories, symbolic links, sockets, devices (`find`).
    #[default]
    All,
}

/// Kamaelia's `Find` (from the Europython09 apps), done as `find` does it: walks the tree
/// under a root and emits the path of every entry of the chosen [kind](FindKind), then
/// `ProducerFinished`.
///
/// The walk is depth-first, each directory emitted before its contents (as `find`); entries
/// are sorted by file name within each directory, so the order is the same on every run.
/// Paths are `root.join(name)...`; the root itself is emitted if it is of the chosen kind.
///
/// Symbolic links are not followed by default (`find -P`): a link is emitted as itself
/// (under [`FindKind::All`]) and a linked directory is not entered, so a link loop cannot
/// make the walk go round. With [`follow_symlinks`](Self::follow_symlinks) links are
/// classified by their target and linked directories entered (`find -L`); a directory that
/// is already being walked higher up is reported as a filesystem loop and not entered again.
/// A dangling link is then emitted as itself under [`FindKind::All`].
///
/// An entry that cannot be read (a directory without read permission, one that vanished
/// during the walk, a path too long for the system) is reported on `error` and the walk
/// carries on with the rest, as `find` does; the unreadable directory itself is still
/// emitted. A root that does not exist is reported the same way, and the walk ends at once.
///
/// A threaded component: the walk runs on its own thread, so a large tree (or a slow disk)
/// never holds up the scheduler. It sends with backpressure: while the destination is full
/// it waits (watching `control`).
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: PathBuf`: the paths found.
/// - `error: FileError`: entries that could not be read; the walk went on without them.
/// - `signal: Signal`: `ProducerFinished` naming this component at the end of the walk;
///   signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking calls), checked before every
/// entry and while a send waits. A shutdown ends the walk at once, without its own
/// `ProducerFinished`. A `ProducerFinished` on `control` does not cut the walk short (a
/// source has no upstream to finish): its own `ProducerFinished` stands for both.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Find {
    root: PathBuf,
    kind: FindKind,
    follow_symlinks: bool,
}

impl Find {
    /// A walk of the tree under `root`, emitting everything.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Find { root: root.into(), kind: FindKind::All, follow_symlinks: false }
    }

    /// Emits only entries of this kind (the walk still goes through every directory).
    pub fn kind(mut self, kind: FindKind) -> Self {
        self.kind = kind;
        self
    }

    /// Follows symbolic links (`find -L`); off by default.
    pub fn follow_symlinks(mut self, yes: bool) -> Self {
        self.follow_symlinks = yes;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Find");
        b.inbox::<()>("inbox");
        let control = b.control();
        let outbox = b.outbox::<PathBuf>("outbox");
        let error = b.outbox::<FileError>("error");
        let signal = b.signal();
        b.run_threaded(move |tctx| {
            let watch = ControlWatch::new(control, signal);
            let mut walk = Walk { find: self, tctx: &tctx, watch, outbox, error };
            let end = match walk.run() {
                Ok(()) => Signal::producer_finished_by(tctx.id()),
                Err(stop) => stop,
            };
            walk.watch.finish_blocking(end);
        })
    }
}

/// What an entry is, for emitting and descending.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Class {
    File,
    Dir,
    Other,
}

/// A directory being walked: its path, the entries not yet visited (sorted), and its
/// identity (device, inode), kept to detect loops when following links.
struct Level {
    dir: PathBuf,
    entries: std::vec::IntoIter<(OsString, io::Result<FileType>)>,
    id: Option<(u64, u64)>,
}

/// One walk in progress.
struct Walk<'a> {
    find: Find,
    tctx: &'a ThreadCtx,
    watch: ControlWatch,
    outbox: Outbox<PathBuf>,
    error: Outbox<FileError>,
}

impl Walk<'_> {
    /// Walks the whole tree; `Err` carries a shutdown that cut it short.
    fn run(&mut self) -> Result<(), Signal> {
        let root = self.find.root.clone();
        let meta = if self.find.follow_symlinks { fs::metadata(&root) } else { fs::symlink_metadata(&root) };
        let meta = match meta {
            Ok(m) => m,
            Err(e) => return self.report(FileError::new("examine", root, e)),
        };
        let class = class_of(meta.file_type());
        self.emit(&root, class)?;
        let mut stack = Vec::new();
        if class == Class::Dir {
            self.descend(&mut stack, root, Some((meta.dev(), meta.ino())))?;
        }
        while let Some(top) = stack.last_mut() {
            let Some((name, file_type)) = top.entries.next() else {
                stack.pop();
                continue;
            };
            let path = top.dir.join(&name);
            self.check()?;
            let (class, id) = match self.classify(&path, file_type) {
                Ok(c) => c,
                Err(e) => {
                    self.report(e)?;
                    continue;
                }
            };
            self.emit(&path, class)?;
            if class != Class::Dir {
                continue;
            }
            if id.is_some() && stack.iter().any(|l| l.id == id) {
                let loop_error = io::Error::other("filesystem loop: the directory is already being walked");
                self.report(FileError::new("descend into", path, loop_error))?;
                continue;
            }
            self.descend(&mut stack, path, id)?;
        }
        Ok(())
    }

    /// What an entry is, and (when links are followed) the identity of a directory.
    fn classify(&self, path: &Path, file_type: io::Result<FileType>) -> Result<(Class, Option<(u64, u64)>), FileError> {
        let file_type = match file_type {
            Ok(t) => t,
            // The directory listing could not say: ask the entry itself.
            Err(_) => fs::symlink_metadata(path).map_err(|e| FileError::new("examine", path, e))?.file_type(),
        };
        if !self.find.follow_symlinks {
            return Ok((class_of(file_type), None));
        }
        if file_type.is_symlink() || file_type.is_dir() {
            return match fs::metadata(path) {
                Ok(m) => Ok((class_of(m.file_type()), Some((m.dev(), m.ino())))),
                // A dangling link: emitted as itself, as `find -L` does.
                Err(e) if e.kind() == io::ErrorKind::NotFound && file_type.is_symlink() => Ok((Class::Other, None)),
                Err(e) => Err(FileError::new("examine", path, e)),
            };
        }
        Ok((class_of(file_type), None))
    }

    /// Lists a directory (sorted) onto the stack; a directory that cannot be read is reported.
    fn descend(&mut self, stack: &mut Vec<Level>, dir: PathBuf, id: Option<(u64, u64)>) -> Result<(), Signal> {
        let listing = match fs::read_dir(&dir) {
            Ok(l) => l,
            Err(e) => return self.report(FileError::new("read directory", dir, e)),
        };
        let mut entries = Vec::new();
        for entry in listing {
            match entry {
                Ok(e) => entries.push((e.file_name(), e.file_type())),
                Err(e) => self.report(FileError::new("read directory", &dir, e))?,
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        stack.push(Level { dir, entries: entries.into_iter(), id });
        Ok(())
    }

    /// Looks at `control`: `Err` for a shutdown; a `ProducerFinished` is noted (and ignored:
    /// the walk's own stands for it); other signals are passed on at once (`Forward`).
    fn check(&mut self) -> Result<(), Signal> {
        self.watch.check().map_or(Ok(()), Err)
    }

    fn emit(&mut self, path: &Path, class: Class) -> Result<(), Signal> {
        let wanted = match self.find.kind {
            FindKind::All => true,
            FindKind::Files => class == Class::File,
            FindKind::Dirs => class == Class::Dir,
        };
        if wanted {
            self.check()?;
            self.watch.send_blocking(self.tctx, &self.outbox, path.to_path_buf())?;
        }
        Ok(())
    }

    fn report(&mut self, e: FileError) -> Result<(), Signal> {
        self.check()?;
        self.watch.send_blocking(self.tctx, &self.error, e).map_err(Signal::from)
    }
}

fn class_of(t: FileType) -> Class {
    if t.is_dir() {
        Class::Dir
    } else if t.is_file() {
        Class::File
    } else {
        Class::Other
    }
}
