//! The transcode-and-upload batch job (the `transcode` binary): the seed's
//! `TranscodeAndUploadToBlipTV`, stoppable, resumable, with progress.
//!
//! ```text
//! Graphline(
//!   FILES   = Seq( Pipeline(Find(to_upload/), -> Job::Upload),            pending uploads first
//!                  Pipeline(Find(SOURCE), relative path, Grep(state dirs, invert),
//!                           Grep(pattern), Grep(exclude, invert), Sort, -> Job::Transcode) ),
//!   GATE    = StopGate,                 stops handing out work when asked
//!   SPLIT   = Balancer(N, least loaded),
//!   WORKERi = Pipeline(Transcoder(i), Uploader(i))      for i in 0..N
//!   REPORT  = Reporter,                 events -> Summary, progress bars or lines
//!   STOPPER = Stopper(--until),         stop requests -> GATE and every WORKERi
//!   linkages: FILES -> GATE -> SPLIT -> SPLIT.outbox{i}/signal{i} -> WORKERi -> REPORT (its
//!             outbox to REPORT.inbox, its signal to REPORT.ends),
//!             GATE.events, STOPPER.events -> REPORT, GATE.done -> REPORT.ends,
//!             self.stop -> STOPPER,
//!             STOPPER.gate -> GATE.control, STOPPER.worker{i} -> WORKERi.control,
//!             REPORT.signal -> STOPPER.control )
//! ```
//!
//! The Transcoders run ffmpeg as [`UnixProcess`](kamaelia_file::UnixProcess) children
//! (CPU-bound) while the Uploaders send the previous outputs (I/O-bound), so every core stays
//! busy. State lives in the file system ([`Layout`]): a source moves to `done/` after a
//! successful transcode, its output waits in `to_upload/` until uploaded and then moves to
//! `encoded/`; ffmpeg writes into `transcoding/`, and only an output ffmpeg finished (exit 0)
//! is renamed into `to_upload/`. A restart removes what `transcoding/` holds (half-written),
//! uploads what waits in `to_upload/`, then transcodes the sources still in place.
//!
//! Stopping is a message: [`StopHandle::stop`] (what Ctrl-C and `--until` do) lets running
//! transcodes finish and their outputs upload, and starts nothing new; [`StopHandle::abort`]
//! (a second Ctrl-C) also ends running transcodes (removing their half-written outputs) and
//! abandons running uploads. Either way the run ends with a [`Summary`].
//!
//! ```no_run
//! use apps::transcode::{Options, Transcode};
//!
//! let mut opts = Options::new("/srv/talks");
//! opts.upload = Some("ftp://me:secret@ftp.example.org/talks".into());
//! let job = Transcode::new(opts).expect("usable options and ffmpeg installed");
//! let stop = job.stop_handle(); // stop.stop() from another thread, or a Ctrl-C handler
//! let summary = job.run();
//! print!("{summary}");
//! std::process::exit(summary.exit_code());
//! ```

pub mod distributed;
mod events;
mod ffmpeg;
mod report;
mod state;
mod stop;
mod transcoder;
mod upload;

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axon_core::{Component, InboxRef, Scheduler, link};
use kamaelia_chassis::{ChassisError, Graphline, Pipeline, Seq, SeqItem};
use kamaelia_file::{Find, FindKind, Grep, GrepError};
use kamaelia_util::{BalanceStrategy, Balancer, PureTransformer, Sort};

pub use events::{Event, FailedStage, Failure, Job, JobControl, ToUploader};
pub use ffmpeg::{DEFAULT_ARGS, INSTALL_HINT, split_args};
pub use report::{Display, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Reporter, Summary};
pub use state::{Layout, STATE_DIRS};
pub use stop::{StopGate, Stopper, next_local_time, parse_until};
pub use transcoder::Transcoder;
pub use upload::{Destination, FtpTarget, UploadError, Uploader, upload};

/// The sources looked for by default: common video file extensions, any case.
pub const DEFAULT_PATTERN: &str = r"(?i)\.(3gp|avi|dv|flv|m2ts|m4v|mkv|mov|mp4|mpe?g|mts|ogv|ts|vob|webm|wmv)$";

/// What the job is asked to do. [`Options::new`] gives the defaults; set fields to change
/// them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The directory to look for sources under; the state directories are made in it.
    pub source: PathBuf,
    /// Sources are files whose path (relative to `source`) this regex matches
    /// ([`DEFAULT_PATTERN`]).
    pub pattern: String,
    /// Files whose relative path this regex matches are left alone.
    pub exclude: Option<String>,
    /// Worker pipelines (Transcoder, Uploader) run side by side (default 2, as the seed).
    pub workers: usize,
    /// Where outputs go: `ftp://user:pass@host:port/path` or a local directory. Without
    /// it, outputs wait in `to_upload/`.
    pub upload: Option<String>,
    /// Stop taking new work at this time (what `--until HH:MM` becomes).
    pub until: Option<Instant>,
    /// ffmpeg's output options, split as a shell would ([`DEFAULT_ARGS`]).
    pub ffmpeg_args: Option<String>,
    /// Only say what would be done.
    pub dry_run: bool,
    /// The outputs' extension, which also picks ffmpeg's container (default `avi`).
    pub output_ext: String,
    /// The ffmpeg program (default `ffmpeg`, looked up on `PATH`).
    pub ffmpeg: PathBuf,
    /// How progress is shown.
    pub display: Display,
    /// Attempts per upload, the first included (default 5).
    pub upload_attempts: u32,
    /// The wait after a failed upload attempt; it doubles each time (default 2 s).
    pub upload_backoff: Duration,
    /// Receives a copy of every [`Event`] (for tests and other front ends).
    pub observer: Option<Sender<Event>>,
    /// Say, with each stop request shown, what a further interrupt does (for a command line
    /// that maps Ctrl-C onto [`StopHandle::stop`], then [`StopHandle::abort`]). Default off.
    pub interrupt_hints: bool,
}

impl Options {
    /// The defaults, for sources under `source`.
    pub fn new(source: impl Into<PathBuf>) -> Self {
        Options {
            source: source.into(),
            pattern: DEFAULT_PATTERN.to_string(),
            exclude: None,
            workers: 2,
            upload: None,
            until: None,
            ffmpeg_args: None,
            dry_run: false,
            output_ext: "avi".to_string(),
            ffmpeg: PathBuf::from("ffmpeg"),
            display: Display::Auto,
            upload_attempts: 5,
            upload_backoff: Duration::from_secs(2),
            observer: None,
            interrupt_hints: false,
        }
    }
}

/// Why the job could not start. Every one is exit status [`EXIT_USAGE`] (2); nothing was
/// changed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// The source directory is missing or not a directory.
    Source {
        /// The directory given.
        path: PathBuf,
        /// Why it cannot be used.
        error: io::Error,
    },
    /// `--workers 0`.
    NoWorkers,
    /// `--pattern` does not compile.
    Pattern(GrepError),
    /// `--exclude` does not compile.
    Exclude(GrepError),
    /// `--ffmpeg-args` cannot be split into arguments.
    FfmpegArgs(String),
    /// The output extension is empty or holds a `/`.
    OutputExt(String),
    /// `--upload` is not a usable destination.
    Upload(String),
    /// ffmpeg cannot be run.
    FfmpegMissing {
        /// The program tried.
        program: PathBuf,
        /// Why it could not be run.
        error: String,
    },
    /// A state directory cannot be created.
    StateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// Half-written outputs of an earlier run cannot be cleared away.
    Recovery(io::Error),
    /// The components could not be wired (a bug).
    Wiring(ChassisError),
}

impl SetupError {
    /// The exit status: [`EXIT_USAGE`].
    pub fn exit_code(&self) -> i32 {
        EXIT_USAGE
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Source { path, error } => {
                write!(f, "cannot use {} as the source directory: {error}", path.display())
            }
            SetupError::NoWorkers => write!(f, "--workers must be at least 1"),
            SetupError::Pattern(e) => write!(f, "--pattern: {e}"),
            SetupError::Exclude(e) => write!(f, "--exclude: {e}"),
            SetupError::FfmpegArgs(e) => write!(f, "--ffmpeg-args: {e}"),
            SetupError::OutputExt(e) => write!(f, "bad output extension {e:?}"),
            SetupError::Upload(e) => write!(f, "--upload: {e}"),
            SetupError::FfmpegMissing { program, error } => {
                write!(f, "cannot run ffmpeg (`{}`): {error}\nhint: {INSTALL_HINT}", program.display())
            }
            SetupError::StateDir { path, error } => write!(f, "cannot create {}: {error}", path.display()),
            SetupError::Recovery(e) => write!(f, "cannot clear away the half-written outputs of an earlier run: {e}"),
            SetupError::Wiring(e) => write!(f, "cannot wire the job: {e}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// FILES: `Seq(pending uploads, sources)`, or just the sources when nothing waits.
/// `filters` are the state-directory and pattern Greps; `exclude` the user's (inverted here).
/// The Finds' `error` outboxes are not part of any pipeline: they feed the reporter directly.
fn files_stage(
    layout: &Layout,
    filters: [Grep<regex::bytes::Regex>; 2],
    exclude: Option<Grep<regex::bytes::Regex>>,
    reporter: &Component,
) -> Result<Component, SetupError> {
    let wiring = |e| SetupError::Wiring(ChassisError::link("transcode", e));
    let root = layout.source().to_path_buf();
    let find_sources = Find::new(&root).kind(FindKind::Files).build();
    link((&find_sources, "error"), (reporter, "errors")).map_err(wiring)?;
    let mut sources = Pipeline::builder().child(find_sources).child(PureTransformer::new(move |p: PathBuf| {
        p.strip_prefix(&root).ok().map(|rel| rel.as_os_str().as_bytes().to_vec())
    }));
    for grep in filters {
        sources = sources.child(grep.build());
    }
    if let Some(exclude) = exclude {
        sources = sources.child(exclude.invert(true).build());
    }
    let sources = sources
        .child(Sort::<Vec<u8>>::new())
        .child(PureTransformer::new(|rel: Vec<u8>| Some(Job::Transcode(PathBuf::from(OsString::from_vec(rel))))))
        .build()
        .map_err(SetupError::Wiring)?;
    if !layout.to_upload().is_dir() {
        return Ok(sources);
    }
    let to_upload = layout.to_upload();
    let find_pending = Find::new(&to_upload).kind(FindKind::Files).build();
    link((&find_pending, "error"), (reporter, "errors")).map_err(wiring)?;
    let pending = Pipeline::builder()
        .child(find_pending)
        .child(PureTransformer::new(move |p: PathBuf| {
            p.strip_prefix(&to_upload).ok().map(|rel| Job::Upload(rel.to_path_buf()))
        }))
        .child(Sort::<Job>::new())
        .build()
        .map_err(SetupError::Wiring)?;
    Seq::new([SeqItem::Component(pending), SeqItem::Component(sources)]).map_err(SetupError::Wiring)
}

/// Where `dir` is (or would be, once created) relative to `source`, if inside it: `Some("")`
/// for `source` itself. `None` outside it, or for a path that is not UTF-8.
fn inside(source: &Path, dir: &Path) -> Option<String> {
    let source = source.canonicalize().ok()?;
    let mut existing = std::env::current_dir().ok()?.join(dir);
    // The nearest ancestor that exists, made canonical, then the rest of the path again.
    let mut rest = Vec::new();
    let base = loop {
        match existing.canonicalize() {
            Ok(c) => break c,
            Err(_) => {
                rest.push(existing.file_name()?.to_os_string());
                existing.pop();
            }
        }
    };
    let full = rest.iter().rev().fold(base, |p, r| p.join(r));
    Some(full.strip_prefix(&source).ok()?.to_str()?.to_string())
}

/// Removes the empty directories under `transcoding/` and `to_upload/` (what moving
/// `sub/x.avi` on leaves behind), keeping those two. Returns a note for each that cannot be
/// removed for another reason than holding something.
fn prune_work_dirs(layout: &Layout) -> Vec<String> {
    let mut notes = Vec::new();
    for root in [layout.transcoding(), layout.to_upload()] {
        prune_empty_below(&root, &mut notes);
    }
    notes
}

/// Removes the empty directories below `dir` (deepest first), not `dir` itself. Returns
/// whether `dir` is empty afterwards.
fn prune_empty_below(dir: &Path, notes: &mut Vec<String>) -> bool {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return true,
        Err(e) => {
            notes.push(format!("cannot list {}: {e}", dir.display()));
            return false;
        }
    };
    let mut empty = true;
    for entry in entries {
        let Ok(entry) = entry else {
            empty = false;
            continue;
        };
        let path = entry.path();
        // Not followed: a symbolic link is something, whatever it points at.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && prune_empty_below(&path, notes) {
            match std::fs::remove_dir(&path) {
                Ok(()) => continue,
                // Something appeared in it meanwhile, or it went: either way not an error.
                Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::DirectoryNotEmpty) => {}
                Err(e) => notes.push(format!("cannot remove the empty directory {}: {e}", path.display())),
            }
        }
        empty = false;
    }
    empty
}

/// Asks a running (or not yet running) job to stop. Cheap to clone; usable from any
/// thread, e.g. a Ctrl-C handler.
#[derive(Clone)]
pub struct StopHandle {
    inbox: InboxRef<JobControl>,
}

impl fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StopHandle")
    }
}

impl StopHandle {
    /// Take no new work; running transcodes finish and their outputs are uploaded.
    pub fn stop(&self) {
        self.send(JobControl::Stop);
    }

    /// As [`stop`](Self::stop), and end running transcodes (their half-written outputs are
    /// removed) and abandon running uploads.
    pub fn abort(&self) {
        self.send(JobControl::Abort);
    }

    /// Sends a request.
    pub fn send(&self, c: JobControl) {
        // The Stopper's inbox is unbounded: this never waits.
        self.inbox.send_blocking(c);
    }
}

/// The job, built and ready to run.
pub struct Transcode {
    graph: Component,
    stop: StopHandle,
    summary: Arc<Mutex<Summary>>,
    layout: Layout,
    dry_run: bool,
}

impl fmt::Debug for Transcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transcode").field("source", &self.layout.source()).field("dry_run", &self.dry_run).finish()
    }
}

impl Transcode {
    /// Checks the options and the environment (ffmpeg), prepares the state directories
    /// (clearing away half-written outputs of an interrupted run) and builds the job.
    /// With `dry_run` nothing is created or removed, and ffmpeg is not required.
    ///
    /// # Errors
    /// A [`SetupError`]; nothing has been changed then, except state directories created.
    pub fn new(opts: Options) -> Result<Self, SetupError> {
        if opts.workers == 0 {
            return Err(SetupError::NoWorkers);
        }
        match std::fs::metadata(&opts.source) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(SetupError::Source { path: opts.source, error: io::Error::other("not a directory") });
            }
            Err(error) => return Err(SetupError::Source { path: opts.source, error }),
        }
        let pattern = Grep::bytes(&opts.pattern).map_err(SetupError::Pattern)?;
        let exclude = opts.exclude.as_deref().map(Grep::bytes).transpose().map_err(SetupError::Exclude)?;
        let ffmpeg_args =
            split_args(opts.ffmpeg_args.as_deref().unwrap_or(DEFAULT_ARGS)).map_err(SetupError::FfmpegArgs)?;
        let ext = opts.output_ext.trim_start_matches('.').to_string();
        if ext.is_empty() || ext.contains('/') {
            return Err(SetupError::OutputExt(opts.output_ext));
        }
        let destination =
            opts.upload.as_deref().map(Destination::parse).transpose().map_err(SetupError::Upload)?.map(Arc::new);
        // The walk never enters the state directories, nor a local upload directory inside
        // the source directory (its outputs would become sources next time).
        let mut skip: Vec<String> = STATE_DIRS.iter().map(|d| regex::escape(d)).collect();
        if let Some(Destination::Dir(d)) = destination.as_deref() {
            match inside(&opts.source, d) {
                Some(rel) if rel.is_empty() => {
                    return Err(SetupError::Upload("the upload directory cannot be the source directory".into()));
                }
                Some(rel) => skip.push(regex::escape(&rel)),
                None => {}
            }
        }
        let state_dirs = Grep::bytes(&format!("^({})(/|$)", skip.join("|"))).map_err(SetupError::Pattern)?.invert(true);
        if !opts.dry_run {
            ffmpeg::check(&opts.ffmpeg)
                .map_err(|error| SetupError::FfmpegMissing { program: opts.ffmpeg.clone(), error })?;
        }

        let layout = Layout::new(&opts.source);
        if !opts.dry_run {
            layout.create().map_err(|(path, error)| SetupError::StateDir { path, error })?;
        }
        let mut notes = state::recover(&layout, opts.dry_run).map_err(SetupError::Recovery)?;
        if !opts.dry_run {
            notes.extend(prune_work_dirs(&layout));
        }
        let pending: Arc<HashSet<PathBuf>> =
            Arc::new(state::files_under(&layout.to_upload()).map_err(SetupError::Recovery)?.into_iter().collect());
        let summary = Arc::new(Mutex::new(Summary { notes, ..Summary::default() }));

        let workers = opts.workers;
        let reporter = Reporter::new(workers, opts.display, summary.clone())
            .observer(opts.observer.clone())
            .interrupt_hints(opts.interrupt_hints)
            .build();

        let files = files_stage(&layout, [state_dirs, pattern], exclude, &reporter)?;

        let mut g = Graphline::builder()
            .component("FILES", files)
            .component("GATE", StopGate::new())
            .component("SPLIT", Balancer::<Job>::new(workers).strategy(BalanceStrategy::LeastLoaded).build())
            .component("REPORT", reporter)
            .component("STOPPER", Stopper::new(workers).until(opts.until).build())
            .link(("FILES", "outbox"), ("GATE", "inbox"))
            .link(("FILES", "signal"), ("GATE", "control"))
            .link(("GATE", "outbox"), ("SPLIT", "inbox"))
            .link(("GATE", "signal"), ("SPLIT", "control"))
            .link(("GATE", "events"), ("REPORT", "inbox"))
            .link(("GATE", "done"), ("REPORT", "ends"))
            .link(("self", "stop"), ("STOPPER", "inbox"))
            .link(("STOPPER", "gate"), ("GATE", "control"))
            .link(("STOPPER", "events"), ("REPORT", "inbox"))
            .link(("REPORT", "signal"), ("STOPPER", "control"))
            // Work waits in the gate, where a stop can still leave it.
            .box_size(("SPLIT", "inbox"), 1);
        for i in 0..workers {
            let transcoder = Transcoder::new(i, layout.clone(), &opts.ffmpeg, ffmpeg_args.clone(), &ext)
                .dry_run(opts.dry_run)
                .pending(pending.clone());
            let uploader = Uploader::new(i, layout.clone(), destination.clone())
                .attempts(opts.upload_attempts)
                .backoff(opts.upload_backoff)
                .dry_run(opts.dry_run);
            let worker = Pipeline::new([transcoder.build(), uploader.build()]).map_err(SetupError::Wiring)?;
            let name = format!("WORKER{i}");
            let (out, sig, stop) = (format!("outbox{i}"), format!("signal{i}"), format!("worker{i}"));
            g = g
                .component(name.as_str(), worker)
                .link(("SPLIT", &out), (&name, "inbox"))
                .link(("SPLIT", &sig), (&name, "control"))
                .link(("STOPPER", &stop), (&name, "control"))
                .link((&name, "outbox"), ("REPORT", "inbox"))
                .link((&name, "signal"), ("REPORT", "ends"));
        }
        let graph = g.build().map_err(SetupError::Wiring)?;
        // The graphline's `stop` passes through to the Stopper's JobControl inbox.
        let inbox = graph
            .inbox_ref::<JobControl>("stop")
            .map_err(|e| SetupError::Wiring(ChassisError::link("transcode", e)))?;
        Ok(Transcode { graph, stop: StopHandle { inbox }, summary, layout, dry_run: opts.dry_run })
    }

    /// A handle to stop the job with.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The job's Graphline (for introspection).
    pub fn graph(&self) -> &Component {
        &self.graph
    }

    /// Runs the job to its end (all work done, or stopped) and returns what it did.
    pub fn run(self) -> Summary {
        let sched = Scheduler::new();
        if let Err(e) = sched.activate(&self.graph) {
            let mut s = self.summary.lock().unwrap_or_else(PoisonError::into_inner).clone();
            s.failed.push(Failure {
                path: self.layout.source().to_path_buf(),
                stage: FailedStage::Transcode,
                reason: format!("the job could not start: {e}"),
            });
            return s;
        }
        sched.run();
        let mut s = self.summary.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if !self.dry_run {
            s.notes.extend(prune_work_dirs(&self.layout));
            match state::files_under(&self.layout.to_upload()) {
                Ok(waiting) => s.waiting = waiting,
                Err(e) => s.notes.push(format!("cannot list {}: {e}", self.layout.to_upload().display())),
            }
        }
        s
    }
}
