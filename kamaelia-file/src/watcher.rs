//! DirectoryWatcher: emits files that appear in a directory once they are fully written.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use axon_core::{Component, ComponentBuilder, ComponentId, ControlWatch, Signal, pause, pause_until};
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecursiveMode, Watcher};

use crate::find::FileError;

/// What notify reports, delivered into the watcher's private `_events` inbox.
type FsEvent = notify::Result<Event>;

/// The default quiet period before a file with no close event counts as finished.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(1);

/// Watches a directory and emits the path of each file that appears in it, once the file
/// has finished being written, each file once. (Kamaelia's BatchFileProcessor app has a
/// `DirectoryWatcher` that polls the directory's mtime every second and sends the directory
/// name when it changes; this one says which file, and when it is complete.)
///
/// A file counts as finished being written when:
/// - its writer closes it (`EventKind::Access(AccessKind::Close(AccessMode::Write))`,
///   inotify's close-after-write, where the platform reports it); or
/// - it is moved (renamed) into the directory: a rename brings a whole file; or
/// - nobody is known to have it open and its size and modification time have not changed
///   for the [settle](Self::settle) time (default [`DEFAULT_SETTLE`]). This covers files
///   that existed when watching began, hard links, and platforms without open and close
///   events. A file that some process opened is left to its close event.
///
/// Files that already exist when watching begins are emitted too (after the settle time),
/// unless [`existing(false)`](Self::existing). Only regular files are emitted, not
/// directories (nor links or other special files), and only the directory's own entries
/// (it is not watched recursively). Each file is emitted once: later writes to it are
/// ignored. A file that is removed or moved away is forgotten, so a new file of the same
/// name is emitted in its turn, as is a file renamed over an existing one.
///
/// Limits: a file that was already open for writing when watching began, and whose writer
/// pauses for longer than the settle time, may be emitted before it is complete. A writer
/// that closes a file and then renames it (`x.part` to `x`) makes both names appear: filter
/// the names downstream.
///
/// The watch is set up when the component first runs; notify's thread delivers events into
/// the private `_events` inbox, which wakes the component, and settle times run on the
/// scheduler's timers: nothing polls.
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: PathBuf`: the files, as `dir.join(name)`, in the order they were finished.
/// - `error: FileError`: a file that could not be examined (it is then ignored), or an error
///   notify reported; watching carries on.
/// - `signal: Signal`: signals passed on; `ErrorInformation` then `ProducerFinished` naming
///   this component if the directory cannot be watched or is removed.
/// - `_events: notify::Result<notify::Event>`: private: notify's events.
///
/// Shutdown: the standard contract ([`ControlWatch`]), except that `ProducerFinished` ends it
/// at once too, as a shutdown does: a watcher holds nothing to drain (files not yet finished
/// are not emitted). If the directory cannot be watched (it does not exist, it is not a
/// directory, permission is denied) or is removed or moved away while watched, it sends
/// `ErrorInformation` saying so, then `ProducerFinished`, and ends.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct DirectoryWatcher {
    dir: PathBuf,
    existing: bool,
    settle: Duration,
}

impl DirectoryWatcher {
    /// A watcher of `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirectoryWatcher { dir: dir.into(), existing: true, settle: DEFAULT_SETTLE }
    }

    /// Whether files already in the directory when watching begins are emitted (default
    /// true).
    pub fn existing(mut self, yes: bool) -> Self {
        self.existing = yes;
        self
    }

    /// How long a file nobody has open must stay unchanged to count as finished.
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("DirectoryWatcher");
        b.inbox::<()>("inbox");
        let control = b.control();
        let outbox = b.outbox::<PathBuf>("outbox");
        let error = b.outbox::<FileError>("error");
        let signal = b.signal();
        let events = b.inbox::<FsEvent>("_events");
        b.run(move |ctx| async move {
            let me = ctx.id();
            let mut watch = ControlWatch::new(control, signal);
            // Declared above with this type, so this cannot fail.
            let events_ref = ctx.component().inbox_ref::<FsEvent>("_events").expect("the _events inbox is declared");
            let handler = move |event: FsEvent| {
                // Unbounded: the delivery cannot be refused.
                let _ = events_ref.try_send(event);
            };
            let mut state = Files::new(&self);
            let watcher = notify::recommended_watcher(handler).and_then(|mut w| {
                w.watch(&self.dir, RecursiveMode::NonRecursive)?;
                Ok(w)
            });
            let _watcher = match watcher {
                Ok(w) => w,
                Err(e) => {
                    let why = format!("DirectoryWatcher: cannot watch {}: {e}", self.dir.display());
                    return fatal(watch, me, why).await;
                }
            };
            // Listed after the watch began, so no file can slip between the two.
            if let Err(e) = state.scan(self.existing) {
                let why = format!("DirectoryWatcher: cannot read directory {}: {e}", self.dir.display());
                return fatal(watch, me, why).await;
            }
            loop {
                // A ProducerFinished ends it too: a watcher has nothing to drain.
                if let Some(stop) = watch.check().or_else(|| watch.take_finished()) {
                    return watch.finish(stop).await;
                }
                while let Some(event) = events.try_recv() {
                    state.handle(event);
                }
                state.settle_due(Instant::now());
                while let Some(e) = state.errors.pop_front() {
                    if let Err(stop) = watch.send(&error, e).await {
                        return watch.finish(stop.signal).await;
                    }
                }
                while let Some(path) = state.ready.pop_front() {
                    if let Err(stop) = watch.send(&outbox, path).await {
                        return watch.finish(stop.signal).await;
                    }
                }
                if let Some(why) = state.gone.take() {
                    return fatal(watch, me, why).await;
                }
                match state.next_due() {
                    Some(due) => {
                        pause_until(due).await;
                    }
                    None => pause().await,
                }
            }
        })
    }
}

/// Reports why watching cannot go on, then ends with `ProducerFinished`.
async fn fatal(mut watch: ControlWatch, me: ComponentId, message: String) {
    watch.emit(Signal::ErrorInformation { caller: Some(me), message }).await;
    watch.finish(Signal::producer_finished_by(me)).await;
}

/// What is known of one name in the directory.
enum Track {
    /// Appeared; not yet finished being written.
    Pending(Pending),
    /// Emitted: ignored until it goes away.
    Emitted,
    /// Not to be emitted (there before watching began, with `existing(false)`; or not a
    /// regular file): ignored until it goes away.
    Ignored,
}

struct Pending {
    /// The last time it was seen to change.
    since: Instant,
    /// Its size and modification time when last examined.
    seen: Option<(u64, Option<SystemTime>)>,
    /// Opens not yet matched by a close: while above 0 the settle rule waits.
    opens: u32,
}

/// The watcher's picture of the directory.
struct Files {
    dir: PathBuf,
    settle: Duration,
    files: BTreeMap<OsString, Track>,
    /// Finished files to emit, in order.
    ready: VecDeque<PathBuf>,
    /// Problems to report on `error`.
    errors: VecDeque<FileError>,
    /// Set when the directory itself went away.
    gone: Option<String>,
}

impl Files {
    fn new(config: &DirectoryWatcher) -> Self {
        Files {
            dir: config.dir.clone(),
            settle: config.settle,
            files: BTreeMap::new(),
            ready: VecDeque::new(),
            errors: VecDeque::new(),
            gone: None,
        }
    }

    /// Takes note of the files already there: pending (settle rule) or ignored.
    fn scan(&mut self, existing: bool) -> io::Result<()> {
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if existing {
                self.appeared(&name);
            } else {
                self.files.insert(name, Track::Ignored);
            }
        }
        Ok(())
    }

    /// After lost events: picks up files not known yet.
    fn rescan(&mut self) {
        let Ok(listing) = fs::read_dir(&self.dir) else { return };
        for entry in listing.flatten() {
            let name = entry.file_name();
            if !self.files.contains_key(&name) {
                self.appeared(&name);
            }
        }
    }

    /// The name of `path` if it is an entry of the watched directory.
    fn name_of<'p>(&self, path: &'p Path) -> Option<&'p OsStr> {
        if path.parent() == Some(self.dir.as_path()) { path.file_name() } else { None }
    }

    fn handle(&mut self, event: FsEvent) {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                self.errors.push_back(FileError::new("watch", &self.dir, io::Error::other(e.to_string())));
                return;
            }
        };
        if event.need_rescan() {
            self.rescan();
        }
        for path in &event.paths {
            if *path == self.dir {
                self.about_dir(&event.kind);
            }
        }
        if let EventKind::Modify(ModifyKind::Name(RenameMode::Both)) = event.kind {
            // [from, to]: `from` left (if it was ours); `to` arrived (if it is ours).
            if let Some(from) = event.paths.first().and_then(|p| self.name_of(p)) {
                self.files.remove(from);
            }
            if let Some(to) = event.paths.get(1).and_then(|p| self.name_of(p)) {
                let to = to.to_os_string();
                if !matches!(self.files.get(&to), Some(Track::Emitted)) {
                    self.finished(&to);
                }
            }
            return;
        }
        let names: Vec<OsString> =
            event.paths.iter().filter_map(|p| self.name_of(p)).map(OsStr::to_os_string).collect();
        for name in names {
            match event.kind {
                EventKind::Create(CreateKind::Folder) => {
                    self.files.insert(name, Track::Ignored);
                }
                EventKind::Create(_) => self.appeared(&name),
                EventKind::Modify(ModifyKind::Name(RenameMode::From)) | EventKind::Remove(_) => {
                    self.files.remove(&name);
                }
                // Moved in: a whole file, even over one already emitted.
                EventKind::Modify(ModifyKind::Name(RenameMode::To)) => self.finished(&name),
                // A rename of unknown direction: there, it may be new; gone, forget it.
                EventKind::Modify(ModifyKind::Name(_)) => {
                    if fs::symlink_metadata(self.dir.join(&name)).is_err() {
                        self.files.remove(&name);
                    } else if !self.files.contains_key(&name) {
                        self.appeared(&name);
                    }
                }
                EventKind::Modify(_) => match self.files.get_mut(&name) {
                    Some(Track::Pending(p)) => p.since = Instant::now(),
                    Some(Track::Emitted | Track::Ignored) => {}
                    // A file whose creation was not seen.
                    None => self.appeared(&name),
                },
                EventKind::Access(AccessKind::Open(_)) => {
                    if let Some(Track::Pending(p)) = self.files.get_mut(&name) {
                        p.opens += 1;
                    }
                }
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => match self.files.get(&name) {
                    Some(Track::Pending(_)) | None => self.finished(&name),
                    Some(Track::Emitted | Track::Ignored) => {}
                },
                EventKind::Access(AccessKind::Close(_)) => {
                    if let Some(Track::Pending(p)) = self.files.get_mut(&name) {
                        p.opens = p.opens.saturating_sub(1);
                    }
                }
                EventKind::Access(_) | EventKind::Any | EventKind::Other => {}
            }
        }
    }

    /// An event about the watched directory itself.
    fn about_dir(&mut self, kind: &EventKind) {
        let why = match kind {
            EventKind::Remove(_) => "was removed",
            EventKind::Modify(ModifyKind::Name(_)) if !self.dir.is_dir() => "was moved away",
            _ => return,
        };
        self.gone = Some(format!("DirectoryWatcher: the directory {} {why}", self.dir.display()));
    }

    /// A name appeared (created, or there at the start): pending, if a regular file.
    fn appeared(&mut self, name: &OsStr) {
        let path = self.dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => {
                let seen = Some((m.len(), m.modified().ok()));
                let opens = match self.files.get(name) {
                    Some(Track::Pending(p)) => p.opens,
                    _ => 0,
                };
                self.files.insert(name.to_os_string(), Track::Pending(Pending { since: Instant::now(), seen, opens }));
            }
            Ok(_) => {
                self.files.insert(name.to_os_string(), Track::Ignored);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.files.remove(name);
            }
            Err(e) => {
                self.errors.push_back(FileError::new("examine", path, e));
                self.files.insert(name.to_os_string(), Track::Ignored);
            }
        }
    }

    /// A name is finished being written: emitted, if it is (still) a regular file.
    fn finished(&mut self, name: &OsStr) {
        let path = self.dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => {
                self.files.insert(name.to_os_string(), Track::Emitted);
                self.ready.push_back(path);
            }
            Ok(_) => {
                self.files.insert(name.to_os_string(), Track::Ignored);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.files.remove(name);
            }
            Err(e) => {
                self.errors.push_back(FileError::new("examine", path, e));
                self.files.insert(name.to_os_string(), Track::Ignored);
            }
        }
    }

    /// When the next pending file's settle time ends.
    fn next_due(&self) -> Option<Instant> {
        self.files
            .values()
            .filter_map(|t| match t {
                Track::Pending(p) if p.opens == 0 => p.since.checked_add(self.settle),
                _ => None,
            })
            .min()
    }

    /// Examines the pending files whose settle time has ended: unchanged ones are finished.
    fn settle_due(&mut self, now: Instant) {
        let due: Vec<OsString> = self
            .files
            .iter()
            .filter(|(_, t)| {
                matches!(t, Track::Pending(p) if p.opens == 0 && p.since.checked_add(self.settle).is_some_and(|d| d <= now))
            })
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            let path = self.dir.join(&name);
            let now_seen = match fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() => (m.len(), m.modified().ok()),
                _ => {
                    // Gone, or no longer a regular file: as if it had just appeared.
                    self.appeared(&name);
                    continue;
                }
            };
            if let Some(Track::Pending(p)) = self.files.get_mut(&name) {
                if p.seen == Some(now_seen) {
                    self.files.insert(name, Track::Emitted);
                    self.ready.push_back(path);
                } else {
                    p.seen = Some(now_seen);
                    p.since = now;
                }
            }
        }
    }
}
