//! Follow: emits each line appended to a file, like `tail -F`, driven by notify events.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axon_core::{
    Component, ComponentBuilder, ComponentId, ControlWatch, Inbox, Next, Outbox, Signal, SignalPolicy, StandardBoxes,
    ThreadCtx,
};
use kamaelia_util::{FramingError, LineFramer, OverlongPolicy, Utf8Policy, decode_line};
use notify::event::{ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher};

/// The default maximum line length of [`Follow`]: 1 MiB.
pub const FOLLOW_MAX_LINE: usize = 1 << 20;

/// How much [`Follow`] reads at a time: 1 MiB.
const READ_SIZE: usize = 1 << 20;

/// How far back [`Follow`] looks for the start of an unfinished last line, at most, per read.
const SCAN_BLOCK: usize = 64 * 1024;

/// The most files [`Follow`] holds open, captured as they were created, before it has
/// begun reading them (each holds a descriptor; past this, files created faster than it
/// reads are opened only when it gets to them, as `tail -F` does).
const MAX_CAPTURED: usize = 256;

/// How often [`Follow`] looks for its directory again after the directory was removed or
/// renamed (the only case in which it polls: there is nothing left to watch).
const LOST_DIRECTORY_RETRY: Duration = Duration::from_secs(1);

/// Something [`Follow`] reports on its `error` outbox (and, when it cannot go on, on `signal`).
#[derive(Debug)]
#[non_exhaustive]
pub enum FollowError {
    /// The file does not exist (yet). Follow waits for it to appear, like `tail -F`.
    NotFound {
        /// The path being followed.
        path: PathBuf,
    },
    /// The path names a directory, or something else that is not a regular file.
    NotAFile {
        /// The path being followed.
        path: PathBuf,
        /// What it is instead: "a directory" or "not a regular file".
        what: &'static str,
    },
    /// The file's directory does not exist, is not a directory, or cannot be watched.
    Directory {
        /// The path being followed.
        path: PathBuf,
        /// The directory.
        dir: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// The file exists but could not be opened (permissions, say).
    Open {
        /// The path being followed.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// Reading the open file failed.
    Read {
        /// The path being followed.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// The change notifications failed, or the directory went away (then it is looked for
    /// again every second until it returns).
    Watch {
        /// The path being followed.
        path: PathBuf,
        /// What happened.
        message: String,
    },
    /// A line could not be sent: longer than the maximum under [`OverlongPolicy::Refuse`], or
    /// not UTF-8 under [`Utf8Policy::Report`]. Follow carries on with the next line.
    Line {
        /// The path being followed.
        path: PathBuf,
        /// The framing error (its length, or its bytes).
        error: FramingError,
    },
}

impl FollowError {
    /// The path being followed.
    pub fn path(&self) -> &Path {
        match self {
            FollowError::NotFound { path }
            | FollowError::NotAFile { path, .. }
            | FollowError::Directory { path, .. }
            | FollowError::Open { path, .. }
            | FollowError::Read { path, .. }
            | FollowError::Watch { path, .. }
            | FollowError::Line { path, .. } => path,
        }
    }
}

impl fmt::Display for FollowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path().display();
        match self {
            FollowError::NotFound { .. } => write!(f, "{p}: no such file (waiting for it to appear)"),
            FollowError::NotAFile { what, .. } => write!(f, "{p}: cannot follow: it is {what}"),
            FollowError::Directory { dir, error, .. } => {
                write!(f, "{p}: cannot watch its directory {}: {error}", dir.display())
            }
            FollowError::Open { error, .. } => write!(f, "{p}: cannot open: {error}"),
            FollowError::Read { error, .. } => write!(f, "{p}: cannot read: {error}"),
            FollowError::Watch { message, .. } => write!(f, "{p}: {message}"),
            FollowError::Line { error: FramingError::Overlong { limit, discarded }, .. } => {
                write!(f, "{p}: skipped a line of {discarded} bytes (longer than the maximum, {limit})")
            }
            FollowError::Line { error, .. } => write!(f, "{p}: {error}"),
        }
    }
}

impl std::error::Error for FollowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FollowError::Directory { error, .. }
            | FollowError::Open { error, .. }
            | FollowError::Read { error, .. } => Some(error),
            FollowError::Line { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Follow: emits each line appended to a file, like `tail -F` (the `follow` of Kamaelia's
/// log follow pipeline `Pipeline(Follow(path), Grep(".*pants.*"), Printer())`). A threaded
/// component driven by change notifications (inotify, through the `notify` crate), not a
/// polling loop: it sleeps until the file's directory reports a change, then reads what is
/// new, in chunks of 1 MiB.
///
/// ```no_run
/// use kamaelia_file::Follow;
///
/// let follow = Follow::new("/var/log/syslog").build();
/// # drop(follow);
/// ```
///
/// What it emits:
/// - It starts at the end of the file, or more exactly at the start of its unfinished last
///   line, so that line is emitted whole once it is completed
///   ([`from_start`](Follow::from_start) reads the whole file first). A file that is not
///   there yet (or not yet a readable file) is waited for and read from its start when it
///   appears.
/// - Each complete line once, in order, without its terminator (LF or CRLF). An unfinished
///   last line is held until its newline arrives.
/// - Rotation by rename and recreate (logrotate's default): the file being read is kept open
///   while the path is missing (a writer may still append to it), and when a new file
///   appears at the path the old one is read to its end from the open handle, then the new
///   one is followed from its start. A new file is opened as soon as its creation is
///   notified (by the notify thread, not when Follow next looks), and a file renamed away
///   before that is opened where the rename put it, so however fast files are rotated past
///   it, each one is read whole, in order, through its own descriptor (`tail -F` opens the
///   new file only when it next looks, and loses the files rotated past it meanwhile). While
///   files are being rotated, Follow moves on to the next one once the path has been quiet
///   for 10 ms (100 ms at most), so that every rename is heard first. At most 256 such files
///   wait, open; a file renamed on again before its rename is heard is lost.
/// - A file deleted is read to its end and closed (reported on `error` as missing: it is
///   waited for); a file created at the path again is followed from its start.
/// - Rotation by copy and truncate: when the file is shorter than what was read, it was
///   truncated, and reading starts again from its start.
/// - On either, an unfinished last line of the old content is emitted as a line: those
///   bytes will not be completed where they are.
/// - Lines longer than [`max_line_length`](Follow::max_line_length) (default
///   [`FOLLOW_MAX_LINE`], 1 MiB) are split into pieces of the maximum
///   ([`OverlongPolicy::Split`], the default: nothing is lost) or skipped up to the next
///   newline and reported on `error` ([`OverlongPolicy::Refuse`]); either way they are never
///   held whole in memory.
/// - [`build`](Follow::build) emits `String`s, invalid UTF-8 replaced by U+FFFD
///   ([`Utf8Policy::Replace`], the default) or, with [`Utf8Policy::Report`], such lines
///   reported on `error` with their bytes; [`build_bytes`](Follow::build_bytes) emits the
///   lines' bytes untouched.
///
/// Boxes (`L` is `String` or `Vec<u8>`):
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: L`: the lines. Sends wait while the destination is full (backpressure), still
///   hearing `control`.
/// - `signal: Signal`: `Status` notes, signals passed on, how it ended (below). The notes:
///   `"following PATH from byte N"` each time it opens a file (at the start, when the file
///   appears, after a rotation), `"PATH was truncated: reading it from the start"`, and
///   `"watching DIR again"` when a directory that went away is back.
/// - `error: FollowError`: problems, each reported once until things change: the file is
///   missing ([`FollowError::NotFound`], then it waits), is a directory, cannot be opened or
///   read (it waits for a change and tries again), the directory went away, a refused line.
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking calls), with its own reading
/// of two parts. `ProducerFinished`: it reads the file to its current end, emits the lines
/// (an unfinished last line too), then passes the signal on and stops. Other signals, under
/// [`SignalPolicy::Deliver`] because it acts on them: each is passed on once Follow has
/// caught up with the file, so a signal sent to it comes back after everything written
/// before it was read (a barrier for whoever needs one). A shutdown ends it at once,
/// emitting nothing more. With [`stop_at_eof`](Follow::stop_at_eof) it does not follow: at
/// the end of the file it emits an unfinished last line and sends `ProducerFinished` naming
/// itself.
///
/// It cannot go on, and reports the problem on `error`, then `ErrorInformation` and
/// `ProducerFinished` naming itself on `signal`, if its directory does not exist or cannot
/// be watched when it starts, or (with `stop_at_eof`) if the file cannot be read.
/// [`check`](Follow::check) finds these before a system is started.
///
/// Limits: the file's directory is watched, so a change is seen only through the name
/// being followed (a symbolic link is followed to its target, but writes to a target in
/// another directory are not noticed until something happens in this one); a truncation
/// followed by writes past the old length before Follow looks is not detectable (as for
/// `tail`); writes to a rotated file after its replacement appeared are not read.
///
/// Differs from Kamaelia: the original `follow` is a generator that polls the file with a
/// sleep, from its end, and knows nothing of rotation, truncation or long lines.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Follow {
    path: PathBuf,
    from_start: bool,
    max: usize,
    overlong: OverlongPolicy,
    utf8: Utf8Policy,
    stop_at_eof: bool,
}

impl Follow {
    /// Follows the file at `path` (from its end, splitting lines over 1 MiB, replacing
    /// invalid UTF-8).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Follow {
            path: path.into(),
            from_start: false,
            max: FOLLOW_MAX_LINE,
            overlong: OverlongPolicy::Split,
            utf8: Utf8Policy::Replace,
            stop_at_eof: false,
        }
    }

    /// Reads the file from its start instead of its end (default false).
    pub fn from_start(mut self, yes: bool) -> Self {
        self.from_start = yes;
        self
    }

    /// The maximum line length in bytes, terminator not counted (default [`FOLLOW_MAX_LINE`]).
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn max_line_length(mut self, max: usize) -> Self {
        assert!(max > 0, "Follow: the maximum line length must be at least 1");
        self.max = max;
        self
    }

    /// What happens to a longer line (default [`OverlongPolicy::Split`]).
    pub fn overlong(mut self, policy: OverlongPolicy) -> Self {
        self.overlong = policy;
        self
    }

    /// How [`build`](Follow::build) treats lines that are not UTF-8 (default
    /// [`Utf8Policy::Replace`]).
    pub fn utf8(mut self, policy: Utf8Policy) -> Self {
        self.utf8 = policy;
        self
    }

    /// Reads to the end of the file and stops there instead of following (default false):
    /// `cat` rather than `tail -F`, for reading a whole file (with
    /// [`from_start`](Follow::from_start)) through the same framing. No watch is set up.
    pub fn stop_at_eof(mut self, yes: bool) -> Self {
        self.stop_at_eof = yes;
        self
    }

    /// Checks, before any component runs, what would stop Follow at once: the file's
    /// directory must exist; the path must not be a directory (or another non-file); an
    /// existing file must be readable; with [`stop_at_eof`](Follow::stop_at_eof) the file
    /// must exist. A missing file is fine otherwise (it is waited for).
    ///
    /// # Errors
    /// The problem, as Follow would report it.
    pub fn check(&self) -> Result<(), FollowError> {
        if !self.stop_at_eof {
            locate(&self.path)?;
        }
        let path = || self.path.clone();
        match fs::metadata(&self.path) {
            Ok(m) if m.is_dir() => Err(FollowError::NotAFile { path: path(), what: "a directory" }),
            Ok(m) if !m.is_file() => Err(FollowError::NotAFile { path: path(), what: "not a regular file" }),
            Ok(_) => File::open(&self.path).map(drop).map_err(|error| FollowError::Open { path: path(), error }),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !self.stop_at_eof => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(FollowError::NotFound { path: path() }),
            Err(error) => Err(FollowError::Open { path: path(), error }),
        }
    }

    /// Builds a Follow emitting `String` lines (see [`utf8`](Follow::utf8)).
    pub fn build(self) -> Component {
        let utf8 = self.utf8;
        self.build_with(move |line| decode_line(line, utf8))
    }

    /// Builds a Follow emitting each line's bytes (`Vec<u8>`), untouched.
    pub fn build_bytes(self) -> Component {
        self.build_with(Ok)
    }

    fn build_with<O: Send + 'static>(
        self,
        convert: impl Fn(Vec<u8>) -> Result<O, FramingError> + Send + 'static,
    ) -> Component {
        let mut b = ComponentBuilder::new("Follow");
        let io = b.standard::<(), O>();
        let error = b.outbox::<FollowError>("error");
        b.run_threaded(move |tctx| {
            let me = tctx.id();
            let StandardBoxes { inbox, control, outbox, signal } = io;
            // Deliver: Follow holds other signals back until it has caught up with the file.
            let watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver);
            let ports = Ports { tctx, me, watch, inbox, outbox, error, held: Vec::new(), finishing: None };
            Tail {
                framer: LineFramer::with_limit(self.max, self.overlong),
                target: self.path.clone(),
                cfg: self,
                ports,
                convert: Box::new(convert),
                skip_to_newline: false,
                file: None,
                first_look: true,
                reported: None,
                accept_all: Arc::new(AtomicBool::new(false)),
                captured: Arc::default(),
                next: None,
                settle: None,
                buf: vec![0; READ_SIZE],
            }
            .run();
        })
    }
}

/// The directory to watch (canonical) and the path to follow within it.
fn locate(path: &Path) -> Result<(PathBuf, PathBuf), FollowError> {
    let Some(name) = path.file_name() else {
        return Err(FollowError::NotAFile { path: path.to_path_buf(), what: "a directory" });
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let bad_dir = |error| FollowError::Directory { path: path.to_path_buf(), dir: dir.to_path_buf(), error };
    let canonical = fs::canonicalize(dir).map_err(bad_dir)?;
    if !canonical.is_dir() {
        return Err(bad_dir(io::Error::new(io::ErrorKind::NotADirectory, "not a directory")));
    }
    let target = canonical.join(name);
    Ok((canonical, target))
}

/// A Follow's boxes and how it uses them.
struct Ports<O> {
    tctx: ThreadCtx,
    me: ComponentId,
    /// Under [`SignalPolicy::Deliver`]: Follow passes other signals on only once it has
    /// caught up with the file, so a signal sent to it is a barrier (it comes back after
    /// everything written before it was read). A send that waits keeps what arrives
    /// meanwhile; [`poll_control`](Self::poll_control) takes it over, in order.
    watch: ControlWatch,
    /// Unused (`()`), but what the watch hands signals out with.
    inbox: Inbox<()>,
    outbox: Outbox<O>,
    error: Outbox<FollowError>,
    /// Other signals taken from the watch, oldest first, to pass on once caught up.
    held: Vec<Signal>,
    /// A `ProducerFinished` received: read to the end, then stop with it.
    finishing: Option<Signal>,
}

impl<O: Send + 'static> Ports<O> {
    /// Takes what is on `control` (after what the watch kept): a shutdown is returned as
    /// `Err` (stop now, passing it on); `ProducerFinished` is noted; other signals are held,
    /// to be passed on once caught up.
    fn poll_control(&mut self) -> Result<(), Signal> {
        loop {
            match self.watch.try_next(&self.inbox) {
                None => return Ok(()),
                // Nobody should send to the unused inbox; nothing to do with it.
                Some(Next::Data(())) => {}
                Some(Next::Other(s)) => self.held.push(s),
                Some(Next::End(s)) if s.is_shutdown() => return Err(s),
                Some(Next::End(s)) => {
                    self.finishing.get_or_insert(s);
                }
            }
        }
    }

    /// True if there is something to act on without waiting: signals held (taken after the
    /// last catch-up), or a `ProducerFinished`.
    fn pending(&self) -> bool {
        !self.held.is_empty() || self.finishing.is_some()
    }

    /// Passes on the signals held by [`poll_control`](Self::poll_control). Straight out of
    /// `signal`: what the watch keeps now came later, and waits for the next catch-up.
    fn pass_signals_on(&mut self) {
        for s in self.held.drain(..) {
            self.watch.signal().send_blocking(s);
        }
    }

    /// Sends with backpressure, hearing `control` while waiting for room.
    fn line(&mut self, line: O) -> Result<(), Signal> {
        self.watch.send_blocking(&self.tctx, &self.outbox, line).map_err(Signal::from)
    }

    fn error(&mut self, e: FollowError) -> Result<(), Signal> {
        self.watch.send_blocking(&self.tctx, &self.error, e).map_err(Signal::from)
    }

    /// A note of Follow's own on `signal`, in its place among what it reads (before the
    /// signals held until it has caught up).
    fn say(&mut self, s: Signal) {
        self.watch.signal().send_blocking(s);
    }

    fn status(&mut self, note: String) {
        self.say(Signal::Status(note));
    }

    /// Ends Follow: the signals held, then those the watch kept, then `end`.
    fn finish(mut self, end: Signal) {
        self.pass_signals_on();
        self.watch.finish_blocking(end);
    }

    /// Reports a problem Follow cannot get past and ends it.
    fn fatal(mut self, e: FollowError) {
        let message = format!("Follow: {e}");
        match self.error(e) {
            Ok(()) => {
                let me = self.me;
                self.say(Signal::ErrorInformation { caller: Some(me), message });
                self.finish(Signal::producer_finished_by(me));
            }
            Err(shutdown) => self.finish(shutdown),
        }
    }
}

/// Problems reported once until things change.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Problem {
    NotFound,
    NotAFile,
    Open(io::ErrorKind),
    Read(io::ErrorKind),
}

/// The file being read.
struct Open {
    file: File,
    /// How far it has been read.
    pos: u64,
    dev: u64,
    ino: u64,
}

/// Files opened at the path as they appeared, not yet being read: filled by the notify
/// thread (and by the follower when it looks), taken by the follower in order. Every open
/// happens under this lock.
///
/// The order is the order the files were at the path. A file opened at the path on its
/// creation event may already be a later one (the notify thread was held up, and files
/// were rotated past it meanwhile); such an entry is *unconfirmed*. The rename that moved a
/// file away from the path names where it went, and the notify thread opens it there too:
/// that file is the one the preceding creation made, and every file before it has had its
/// own rename handled by then, so if it was missed it goes just before the first
/// unconfirmed entry, which must be a later file. So that such a rename is handled before
/// the follower moves on to an unconfirmed file, the follower waits until the notify thread
/// has had no creation or rename at the path for [`SETTLE`] (but never longer than
/// [`SETTLE_MAX`] for one file). (A file renamed on again before its rename is handled, or
/// one the follower has already passed, is lost: the order is kept.)
#[derive(Default)]
struct Captured {
    queue: VecDeque<Captive>,
    /// Every file queued so far (device, inode), newest last, at most [`SEEN`]: a file is
    /// never queued twice.
    seen: VecDeque<(u64, u64)>,
    /// When the notify thread last handled a file appearing at, or leaving, the path.
    name_event_at: Option<Instant>,
    /// The last file the follower took, and whether it was unconfirmed (its place in the
    /// order not known) until its own rename was handled.
    taken: Option<((u64, u64), bool)>,
}

/// How long the path must have been quiet (no creation or rename notified) before Follow
/// moves on to a file whose place in the order is not confirmed.
const SETTLE: Duration = Duration::from_millis(10);

/// The longest Follow waits for that quiet, for one file.
const SETTLE_MAX: Duration = Duration::from_millis(100);

/// What the follower may take from [`Captured`].
enum Take {
    /// The next file.
    Ready(File),
    /// The next file, once the path has settled: look again then.
    Settling(Instant),
    /// Nothing queued.
    Empty,
}

/// How many files [`Captured`] remembers having queued.
const SEEN: usize = 4096;

struct Captive {
    file: File,
    id: (u64, u64),
    /// Known to be the file its position says (see [`Captured`]).
    confirmed: bool,
    queued_at: Instant,
}

impl Captured {
    /// The next file for the follower, unless it should wait for the path to settle.
    fn take(&mut self) -> Take {
        let Some(front) = self.queue.front() else { return Take::Empty };
        if !front.confirmed {
            let until = self.name_event_at.map(|at| (at + SETTLE).min(front.queued_at + SETTLE_MAX));
            if let Some(until) = until.filter(|u| Instant::now() < *u) {
                return Take::Settling(until);
            }
        }
        self.pop().map_or(Take::Empty, Take::Ready)
    }

    /// The next file, at once.
    fn pop(&mut self) -> Option<File> {
        let c = self.queue.pop_front()?;
        self.taken = Some((c.id, !c.confirmed));
        Some(c.file)
    }

    fn saw(&mut self, id: (u64, u64)) {
        if self.seen.len() >= SEEN {
            self.seen.pop_front();
        }
        self.seen.push_back(id);
    }

    /// A closed file that was deleted: its inode may be reused by a new file.
    fn forget(&mut self, id: (u64, u64)) {
        self.seen.retain(|s| *s != id);
    }
}

/// What [`capture`] found.
enum Capture {
    /// A file not seen before, now queued.
    New,
    /// A file seen already (or the queue is full).
    Known,
    /// Nothing that can be followed: why (missing, not a file, unreadable).
    Failed(io::Error, Option<&'static str>),
}

fn lock(c: &Mutex<Captured>) -> MutexGuard<'_, Captured> {
    // A panic while holding it leaves a queue of files: still consistent.
    c.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Opens a regular file; its id.
fn open_file(path: &Path) -> Result<(File, (u64, u64)), Capture> {
    let file = File::open(path).map_err(|e| Capture::Failed(e, None))?;
    let meta = file.metadata().map_err(|e| Capture::Failed(e, None))?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a directory" } else { "not a regular file" };
        return Err(Capture::Failed(io::Error::other(what), Some(what)));
    }
    Ok((file, (meta.dev(), meta.ino())))
}

/// Opens the file at the followed path `target` and queues it (unconfirmed) unless it was
/// queued before. `notified`: on a notification (by the notify thread).
fn capture(target: &Path, captured: &Mutex<Captured>, limit: usize, notified: bool) -> Capture {
    let mut c = lock(captured);
    if notified {
        c.name_event_at = Some(Instant::now());
    }
    if c.queue.len() >= limit {
        return Capture::Known;
    }
    let (file, id) = match open_file(target) {
        Ok(f) => f,
        Err(why) => return why,
    };
    if c.seen.contains(&id) {
        return Capture::Known;
    }
    c.saw(id);
    c.queue.push_back(Captive { file, id, confirmed: false, queued_at: Instant::now() });
    Capture::New
}

/// The file at the followed path was renamed to `moved_to`: opens it there; it is the file
/// the last creation handled made (see [`Captured`]).
fn recover(moved_to: &Path, captured: &Mutex<Captured>, limit: usize) {
    let mut c = lock(captured);
    c.name_event_at = Some(Instant::now());
    let Ok((file, id)) = open_file(moved_to) else { return };
    if let Some(entry) = c.queue.iter_mut().find(|e| e.id == id) {
        entry.confirmed = true;
        return;
    }
    if let Some((taken, unconfirmed)) = &mut c.taken {
        if *taken == id {
            // The file being read was renamed: its place is known now.
            *unconfirmed = false;
            return;
        }
    }
    if c.seen.contains(&id) || c.queue.len() >= limit {
        // Already read (or no room): nothing to do.
        return;
    }
    c.saw(id);
    if c.taken.is_some_and(|(_, unconfirmed)| unconfirmed) {
        // The follower is reading a later file already: too late to keep the order.
        return;
    }
    let at = c.queue.iter().position(|e| !e.confirmed).unwrap_or(c.queue.len());
    c.queue.insert(at, Captive { file, id, confirmed: true, queued_at: Instant::now() });
}

/// What is at the followed path now, compared with the open file.
enum AtPath {
    Same,
    Missing,
    Other,
}

/// What the notify thread tells the follower, beyond "something changed".
enum Note {
    Failed(String),
    DirectoryGone,
}

type Convert<O> = Box<dyn Fn(Vec<u8>) -> Result<O, FramingError> + Send>;

/// A running Follow.
struct Tail<O> {
    cfg: Follow,
    /// The path followed (canonical directory + name once watching).
    target: PathBuf,
    ports: Ports<O>,
    convert: Convert<O>,
    framer: LineFramer,
    /// Set when starting in the middle of a line too long to have been emitted whole.
    skip_to_newline: bool,
    file: Option<Open>,
    /// True until the first attempt to open the file: only a file there at the start is
    /// read from its end.
    first_look: bool,
    reported: Option<(Problem, String)>,
    /// Set while the open file is no longer at the path: then every change in the directory
    /// counts (the rotated file has another name).
    accept_all: Arc<AtomicBool>,
    /// Files opened as they appeared at the path, waiting to be read.
    captured: Arc<Mutex<Captured>>,
    /// The file taken to be read next.
    next: Option<File>,
    /// Look again then: the next file waits for the path to settle.
    settle: Option<Instant>,
    buf: Vec<u8>,
}

impl<O: Send + 'static> Tail<O> {
    fn run(mut self) {
        let watch = if self.cfg.stop_at_eof {
            None
        } else {
            match self.watch() {
                Ok(w) => Some(w),
                Err(e) => return self.ports.fatal(e),
            }
        };
        let (mut watcher, notes, dir) = match watch {
            Some((w, n, d)) => (Some(w), Some(n), d),
            None => (None, None, PathBuf::new()),
        };
        let mut lost = false;
        let end = 'run: loop {
            if let Err(s) = self.ports.poll_control() {
                break s;
            }
            for note in notes.iter().flat_map(|n| n.try_iter()) {
                let message = match note {
                    Note::Failed(m) => format!("watching for changes failed: {m}"),
                    Note::DirectoryGone => {
                        lost = true;
                        if let Some(w) = &mut watcher {
                            // The watch is gone with the directory; this only tidies up.
                            let _ = w.unwatch(&dir);
                        }
                        format!("its directory {} was removed or renamed; looking for it every second", dir.display())
                    }
                };
                let path = self.cfg.path.clone();
                if let Err(s) = self.ports.error(FollowError::Watch { path, message }) {
                    break 'run s;
                }
            }
            if lost {
                if let Some(w) = &mut watcher {
                    if w.watch(&dir, RecursiveMode::NonRecursive).is_ok() {
                        lost = false;
                        self.ports.status(format!("watching {} again", dir.display()));
                    }
                }
            }
            if let Err(s) = self.catch_up() {
                break s;
            }
            if let Some(s) = self.ports.finishing.take() {
                match self.flush_partial() {
                    Ok(()) => break s,
                    Err(shutdown) => break shutdown,
                }
            }
            if self.cfg.stop_at_eof {
                if self.file.is_none() {
                    // Why was reported on `error` just now; say it on `signal` too.
                    let message = match &self.reported {
                        Some((_, m)) => format!("Follow: {m}"),
                        None => format!("Follow: {}: could not be read", self.cfg.path.display()),
                    };
                    let me = self.ports.me;
                    self.ports.say(Signal::ErrorInformation { caller: Some(me), message });
                    break Signal::producer_finished_by(me);
                }
                match self.flush_partial() {
                    Ok(()) => break Signal::producer_finished_by(self.ports.me),
                    Err(shutdown) => break shutdown,
                }
            }
            // Caught up: what was held since the last look goes on now.
            self.ports.pass_signals_on();
            // What arrived while catching up waits for the next catch-up, at once.
            if let Err(s) = self.ports.poll_control() {
                break s;
            }
            if !self.ports.pending() {
                let settle = self.settle.take().map(|t| t.saturating_duration_since(Instant::now()));
                let wait = match (lost.then_some(LOST_DIRECTORY_RETRY), settle) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                self.ports.tctx.pause(wait);
            }
        };
        drop(watcher);
        self.ports.finish(end);
    }

    /// Starts watching the file's directory; the notify thread wakes this component.
    #[allow(clippy::type_complexity, reason = "a private helper's tuple of the three things it sets up")]
    fn watch(&mut self) -> Result<(notify::RecommendedWatcher, Receiver<Note>, PathBuf), FollowError> {
        let (dir, target) = locate(&self.cfg.path)?;
        self.target = target.clone();
        let (tx, rx) = mpsc::channel();
        let me = self.ports.tctx.component();
        let accept_all = self.accept_all.clone();
        let captured = self.captured.clone();
        let watched = dir.clone();
        let handler = move |event: notify::Result<notify::Event>| {
            let note = match event {
                Err(e) => Some(Note::Failed(e.to_string())),
                Ok(ev) => {
                    let on_dir = ev.paths.contains(&watched);
                    let dir_gone =
                        on_dir && matches!(ev.kind, EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)));
                    let on_target = ev.paths.contains(&target);
                    // A file appeared at the path: open it now, before it can be renamed
                    // away unread (problems are left for the follower to find and report).
                    // A file renamed away from it: open it where it went, in case its
                    // creation came too late to catch it at the path.
                    match ev.kind {
                        EventKind::Modify(ModifyKind::Name(RenameMode::Both))
                            if ev.paths.first() == Some(&target) && ev.paths.len() == 2 =>
                        {
                            recover(&ev.paths[1], &captured, MAX_CAPTURED);
                        }
                        EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(_)) if on_target => {
                            let _ = capture(&target, &captured, MAX_CAPTURED, true);
                        }
                        _ => {}
                    }
                    let ours = ev.paths.is_empty() || on_dir || on_target;
                    if !(ours || accept_all.load(Ordering::Relaxed)) {
                        return;
                    }
                    dir_gone.then_some(Note::DirectoryGone)
                }
            };
            if let Some(note) = note {
                // The follower may have ended; then nobody needs to know.
                let _ = tx.send(note);
            }
            me.wake();
        };
        let bad_dir = |error: notify::Error| FollowError::Directory {
            path: self.cfg.path.clone(),
            dir: dir.clone(),
            error: io::Error::other(error.to_string()),
        };
        let mut watcher = notify::recommended_watcher(handler).map_err(bad_dir)?;
        watcher.watch(&dir, RecursiveMode::NonRecursive).map_err(bad_dir)?;
        Ok((watcher, rx, dir))
    }

    /// Reads everything new, following the path to a new file as often as it was replaced.
    fn catch_up(&mut self) -> Result<(), Signal> {
        loop {
            if self.file.is_none() && !self.open()? {
                return Ok(());
            }
            self.read_to_end()?;
            let next = lock(&self.captured).take();
            match next {
                Take::Ready(file) => {
                    // A newer file appeared at the path, and this one was just read to its
                    // end, through its own descriptor: it is finished.
                    self.flush_partial()?;
                    self.close();
                    self.accept_all.store(false, Ordering::Relaxed);
                    self.next = Some(file);
                    continue;
                }
                Take::Settling(until) => {
                    self.settle = Some(until);
                    return Ok(());
                }
                Take::Empty => {}
            }
            match self.at_path() {
                AtPath::Same => {
                    self.accept_all.store(false, Ordering::Relaxed);
                    return Ok(());
                }
                AtPath::Missing if self.deleted() => {
                    // Deleted (no name left), and read to its end: finished. Closing it also
                    // lets its directory go, should that be removed too.
                    self.flush_partial()?;
                    self.close();
                    self.accept_all.store(false, Ordering::Relaxed);
                }
                AtPath::Missing => {
                    // Renamed: a writer may still append to it, so keep reading it until a
                    // new file appears at the path.
                    self.accept_all.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                AtPath::Other => {
                    // Replaced, and no notification has opened the new file yet: open it
                    // now (the next turn finishes this one, read to its end just now).
                    // If it is gone again or cannot be opened, wait for the next change.
                    if !matches!(capture(&self.target, &self.captured, usize::MAX, false), Capture::New) {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Closes the file being read (finished). A deleted one is forgotten: once closed, its
    /// inode may be reused by a new file at the path. (A renamed one is remembered, so the
    /// rename's notification does not queue it again.)
    fn close(&mut self) {
        let deleted = self.deleted();
        if let Some(open) = self.file.take() {
            if deleted {
                lock(&self.captured).forget((open.dev, open.ino));
            }
        }
    }

    /// Takes the next file to read: the oldest one captured as it appeared (read from its
    /// start), or else the one at the path now; true if one is open now.
    fn open(&mut self) -> Result<bool, Signal> {
        let first = std::mem::replace(&mut self.first_look, false);
        let path = || self.cfg.path.clone();
        let mut taken = match self.next.take().map_or_else(|| lock(&self.captured).take(), Take::Ready) {
            Take::Ready(file) => Some((file, false)),
            Take::Settling(until) => {
                self.settle = Some(until);
                return Ok(false);
            }
            Take::Empty => None,
        };
        if taken.is_none() {
            match capture(&self.target, &self.captured, usize::MAX, false) {
                Capture::New | Capture::Known => {}
                Capture::Failed(e, _) if e.kind() == io::ErrorKind::NotFound => {
                    self.report_once(Problem::NotFound, FollowError::NotFound { path: path() })?;
                    return Ok(false);
                }
                Capture::Failed(_, Some(what)) => {
                    self.report_once(Problem::NotAFile, FollowError::NotAFile { path: path(), what })?;
                    return Ok(false);
                }
                Capture::Failed(error, None) => {
                    self.report_once(Problem::Open(error.kind()), FollowError::Open { path: path(), error })?;
                    return Ok(false);
                }
            }
            // Only a file that was there at the very start may be read from its end.
            // Just queued by us (or already by the notify thread): taken at once.
            taken = lock(&self.captured).pop().map(|f| (f, first));
        }
        let Some((file, at_start)) = taken else {
            // The file at the path is one already read to its end (and closed): nothing new.
            return Ok(false);
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(error) => {
                self.report_once(Problem::Open(error.kind()), FollowError::Open { path: path(), error })?;
                return Ok(false);
            }
        };
        let pos = if at_start && !self.cfg.from_start { self.start_position(&file, meta.len()) } else { 0 };
        self.reported = None;
        self.file = Some(Open { file, pos, dev: meta.dev(), ino: meta.ino() });
        self.ports.status(format!("following {} from byte {pos}", self.cfg.path.display()));
        Ok(true)
    }

    /// Where to start in a file that is there at the start: after its last newline, so an
    /// unfinished last line is emitted whole once completed. An unfinished last line longer
    /// than the maximum could not be emitted whole: then start at the end and skip the rest
    /// of that line.
    fn start_position(&mut self, file: &File, len: u64) -> u64 {
        let floor = len.saturating_sub(self.cfg.max as u64 + 1);
        let mut block = vec![0; SCAN_BLOCK];
        let mut end = len;
        while end > floor {
            let start = end.saturating_sub(SCAN_BLOCK as u64).max(floor);
            // At most SCAN_BLOCK, so it fits a usize.
            let n = (end - start) as usize;
            if file.read_exact_at(&mut block[..n], start).is_err() {
                // Shrunk meanwhile, or unreadable: the end is as good a start as any.
                return len;
            }
            if let Some(i) = block[..n].iter().rposition(|&b| b == b'\n') {
                return start + i as u64 + 1;
            }
            end = start;
        }
        if floor > 0 {
            self.skip_to_newline = true;
            return len;
        }
        0
    }

    /// Reads the open file to its end, noticing a truncation first.
    fn read_to_end(&mut self) -> Result<(), Signal> {
        let Some(open) = &self.file else { return Ok(()) };
        let len = match open.file.metadata() {
            Ok(m) => m.len(),
            Err(error) => {
                let path = self.cfg.path.clone();
                return self.report_once(Problem::Read(error.kind()), FollowError::Read { path, error });
            }
        };
        if len < open.pos {
            self.flush_partial()?;
            if let Some(open) = &mut self.file {
                open.pos = 0;
            }
            self.ports.status(format!("{} was truncated: reading it from the start", self.cfg.path.display()));
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.read_into(&mut buf);
        self.buf = buf;
        result
    }

    fn read_into(&mut self, buf: &mut [u8]) -> Result<(), Signal> {
        loop {
            let Some(open) = &mut self.file else { return Ok(()) };
            let n = match open.file.read_at(buf, open.pos) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    let path = self.cfg.path.clone();
                    return self.report_once(Problem::Read(error.kind()), FollowError::Read { path, error });
                }
            };
            open.pos += n as u64;
            if matches!(self.reported, Some((Problem::Read(_), _))) {
                self.reported = None;
            }
            self.feed(&buf[..n])?;
            // Between chunks: a shutdown stops a long read promptly.
            self.ports.poll_control()?;
        }
    }

    /// Frames a chunk and sends its lines.
    fn feed(&mut self, mut data: &[u8]) -> Result<(), Signal> {
        if self.skip_to_newline {
            match data.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    data = &data[i + 1..];
                    self.skip_to_newline = false;
                }
                None => return Ok(()),
            }
        }
        self.framer.push(data);
        self.send_frames()
    }

    /// Ends the current line where it is (the file was finished, truncated or replaced, or
    /// Follow is stopping) and sends it.
    fn flush_partial(&mut self) -> Result<(), Signal> {
        self.skip_to_newline = false;
        self.framer.finish();
        self.send_frames()
    }

    fn send_frames(&mut self) -> Result<(), Signal> {
        while let Some(frame) = self.framer.next_frame() {
            match frame.and_then(&self.convert) {
                Ok(line) => self.ports.line(line)?,
                Err(error) => self.ports.error(FollowError::Line { path: self.cfg.path.clone(), error })?,
            }
        }
        Ok(())
    }

    /// What is at the followed path now, compared with the open file.
    fn at_path(&self) -> AtPath {
        let Some(open) = &self.file else { return AtPath::Missing };
        match fs::metadata(&self.target) {
            Ok(m) if m.dev() == open.dev && m.ino() == open.ino => AtPath::Same,
            Ok(_) => AtPath::Other,
            Err(e) if e.kind() == io::ErrorKind::NotFound => AtPath::Missing,
            // Cannot tell (the directory became unreadable, say): keep reading what is open.
            Err(_) => AtPath::Same,
        }
    }

    /// True if the open file has no name left (it was deleted, not renamed).
    fn deleted(&self) -> bool {
        self.file.as_ref().is_some_and(|open| open.file.metadata().is_ok_and(|m| m.nlink() == 0))
    }

    /// Reports a problem on `error`, unless it is the one last reported.
    fn report_once(&mut self, problem: Problem, e: FollowError) -> Result<(), Signal> {
        if self.reported.as_ref().is_some_and(|(p, _)| *p == problem) {
            return Ok(());
        }
        self.reported = Some((problem, e.to_string()));
        self.ports.error(e)
    }
}
