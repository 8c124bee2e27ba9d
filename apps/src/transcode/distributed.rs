//! The transcode job as a distributed work queue on Redis: `transcode enqueue` on one host
//! puts the sources of a shared directory in a queue; `transcode work` on every host takes
//! them, transcodes, uploads, and marks them done; `transcode status` says where things are.
//!
//! The single-machine job (file-system state, no server) stays the default; this mode leaves
//! the sources where they are. Per worker slot `i` of a host, a
//! [`kamaelia_redis::QueueWorker`] named `HOST-i` hands [`Lease`]s to a threaded
//! runner:
//!
//! ```text
//! QueueWorker(HOST-i) --Lease--> JobRunner --Outcome--> QueueWorker(HOST-i)
//! ```
//!
//! A job is: skip if its done marker exists (a redelivery of finished work); ffmpeg into the
//! worker's own temporary directory; upload (the destination gets a `.part` name, then the
//! real one); write the done marker (temporary name, then rename) in the shared directory
//! (`DIR/.kamaelia-queue/done/PATH.done`); remove the temporary output; acknowledge. A
//! redelivered job is therefore never uploaded twice once marked, and a worker killed
//! mid-job leaves only its own temporary directory, cleared when it starts again.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Scheduler, Signal};
use kamaelia_redis::{Job as QueueJob, Lease, Outcome, Queue, QueueStatus, QueueWorker};
use regex::Regex;

use super::{DEFAULT_ARGS, DEFAULT_PATTERN, Destination, INSTALL_HINT, STATE_DIRS, split_args, upload};

/// The directory, inside the shared source directory, that holds the done markers and each
/// worker's temporary outputs.
pub const QUEUE_DIR: &str = ".kamaelia-queue";

/// Why a distributed command could not run (exit status 2).
#[derive(Debug)]
pub struct DistError(String);

impl fmt::Display for DistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DistError {}

impl From<kamaelia_redis::Error> for DistError {
    fn from(e: kamaelia_redis::Error) -> Self {
        DistError(e.to_string())
    }
}

/// `transcode enqueue`: every source under `source` whose relative path matches `pattern`
/// (default [`DEFAULT_PATTERN`]) and not `exclude` becomes a job of the queue at `queue`
/// (`redis://HOST:PORT[/DB]/NAME`). Returns (new, already queued).
pub fn enqueue(
    source: &Path,
    pattern: Option<&str>,
    exclude: Option<&str>,
    queue: &str,
) -> Result<(usize, usize), DistError> {
    let pattern = Regex::new(pattern.unwrap_or(DEFAULT_PATTERN)).map_err(|e| DistError(format!("--pattern: {e}")))?;
    let exclude = exclude.map(Regex::new).transpose().map_err(|e| DistError(format!("--exclude: {e}")))?;
    let mut q = Queue::connect(queue)?;
    let mut files = Vec::new();
    walk(source, Path::new(""), &mut files).map_err(|e| DistError(format!("cannot read {}: {e}", source.display())))?;
    files.sort();
    let (mut new, mut old) = (0, 0);
    for rel in files {
        let text = rel.to_string_lossy();
        if !pattern.is_match(&text) || exclude.as_ref().is_some_and(|x| x.is_match(&text)) {
            continue;
        }
        let job = QueueJob::for_file(source, &rel).map_err(|e| DistError(format!("{}: {e}", rel.display())))?;
        if q.enqueue(&job)? {
            new += 1;
        } else {
            old += 1;
        }
    }
    Ok((new, old))
}

/// Regular files under `root/rel`, relative to `root`, leaving out the state directories.
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        if rel.as_os_str().is_empty() && (name == QUEUE_DIR || STATE_DIRS.iter().any(|d| name == *d)) {
            continue;
        }
        let path = rel.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// `transcode status`.
pub fn status(queue: &str) -> Result<(QueueStatus, Vec<(String, String)>), DistError> {
    let mut q = Queue::connect(queue)?;
    let status = q.status()?;
    let dead = q.dead_letters()?;
    Ok((status, dead))
}

/// What `transcode work` is asked to do.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkOptions {
    /// The shared source directory (the same on every host).
    pub source: PathBuf,
    /// The queue, `redis://HOST:PORT[/DB]/NAME`.
    pub queue: String,
    /// Where outputs go (`ftp://...` or a directory).
    pub upload: String,
    /// Jobs at once on this host.
    pub workers: usize,
    /// A job's lease.
    pub lease: Duration,
    /// Deliveries before a job goes to the dead letters.
    pub max_deliveries: u64,
    /// Stop taking jobs at this time.
    pub until: Option<Instant>,
    /// End once nothing is waiting or in progress.
    pub until_empty: bool,
    /// This host's name in the queue (worker `i` is `NAME-i`).
    pub host: String,
    /// ffmpeg's output options ([`DEFAULT_ARGS`]).
    pub ffmpeg_args: Option<String>,
    /// The outputs' extension.
    pub output_ext: String,
    /// The ffmpeg program.
    pub ffmpeg: PathBuf,
}

impl WorkOptions {
    /// The defaults: 2 workers, a 60 s lease, 5 deliveries, this host's name.
    pub fn new(source: impl Into<PathBuf>, queue: impl Into<String>, upload: impl Into<String>) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        WorkOptions {
            source: source.into(),
            queue: queue.into(),
            upload: upload.into(),
            workers: 2,
            lease: Duration::from_secs(60),
            max_deliveries: 5,
            until: None,
            until_empty: false,
            host,
            ffmpeg_args: None,
            output_ext: "avi".into(),
            ffmpeg: PathBuf::from("ffmpeg"),
        }
    }
}

/// What one `transcode work` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkSummary {
    /// Jobs transcoded and uploaded here.
    pub done: u64,
    /// Jobs found already done (their marker existed): acknowledged, not redone.
    pub already_done: u64,
    /// Attempts that failed (each retried by some worker, or dead-lettered).
    pub failed: u64,
    /// The failures, in words.
    pub failures: Vec<String>,
}

impl fmt::Display for WorkSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} transcoded and uploaded, {} already done, {} failed attempts",
            self.done, self.already_done, self.failed
        )?;
        for why in &self.failures {
            writeln!(f, "  failed: {why}")?;
        }
        Ok(())
    }
}

/// `transcode work`: runs until `stop` is set or `until` comes (jobs running then finish; no
/// new ones start), or, with `until_empty`, until the queue is empty.
pub fn work(opts: WorkOptions, stop: &AtomicBool) -> Result<WorkSummary, DistError> {
    if opts.workers == 0 {
        return Err(DistError("--workers must be at least 1".into()));
    }
    let args = split_args(opts.ffmpeg_args.as_deref().unwrap_or(DEFAULT_ARGS))
        .map_err(|e| DistError(format!("--ffmpeg-args: {e}")))?;
    let dest = Arc::new(Destination::parse(&opts.upload).map_err(|e| DistError(format!("--upload: {e}")))?);
    if std::process::Command::new(&opts.ffmpeg).arg("-version").output().is_err() {
        return Err(DistError(format!("cannot run {}: {INSTALL_HINT}", opts.ffmpeg.display())));
    }
    // Fails early, naming the URL, if Redis is not there.
    Queue::connect(&opts.queue)?;
    let summary = Arc::new(Mutex::new(WorkSummary::default()));
    let sched = Scheduler::new().background();
    let mut workers = Vec::new();
    let mut all = Vec::new();
    for i in 0..opts.workers {
        let consumer = format!("{}-{i}", opts.host);
        let tmp = opts.source.join(QUEUE_DIR).join("transcoding").join(&consumer);
        // A worker killed mid-job left its half-written output here.
        let _ = std::fs::remove_dir_all(&tmp);
        let worker = QueueWorker::new(opts.queue.clone(), consumer)
            .lease(opts.lease)
            .max_deliveries(opts.max_deliveries)
            .until_empty(opts.until_empty)
            .build();
        let runner = runner(Runner {
            source: opts.source.clone(),
            tmp,
            dest: dest.clone(),
            ffmpeg: opts.ffmpeg.clone(),
            args: args.clone(),
            ext: opts.output_ext.clone(),
            summary: summary.clone(),
        });
        for (from, to) in [
            ((&worker, "outbox"), (&runner, "inbox")),
            ((&runner, "outbox"), (&worker, "inbox")),
            ((&worker, "signal"), (&runner, "control")),
        ] {
            axon_core::link(from, to).map_err(|e| DistError(format!("wiring: {e}")))?;
        }
        sched.activate(&runner).map_err(|e| DistError(e.to_string()))?;
        sched.activate(&worker).map_err(|e| DistError(e.to_string()))?;
        workers.push(worker.clone());
        all.extend([worker, runner]);
    }
    let mut stopping = false;
    while !all.iter().all(Component::is_finished) {
        if !stopping && (stop.load(Ordering::SeqCst) || opts.until.is_some_and(|u| Instant::now() >= u)) {
            stopping = true;
            for w in &workers {
                if let Ok(c) = w.inbox_ref::<Signal>("control") {
                    let _ = c.try_send(Signal::producer_finished());
                }
            }
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
    drop(sched);
    let s = summary.lock().unwrap_or_else(PoisonError::into_inner).clone();
    Ok(s)
}

/// What a runner needs to do a job.
struct Runner {
    source: PathBuf,
    tmp: PathBuf,
    dest: Arc<Destination>,
    ffmpeg: PathBuf,
    args: Vec<String>,
    ext: String,
    summary: Arc<Mutex<WorkSummary>>,
}

impl Runner {
    /// Does one job; Ok(true) if done here, Ok(false) if it was already done.
    fn run(&self, job: &QueueJob) -> Result<bool, String> {
        let rel = Path::new(&job.path);
        let marker = self.source.join(QUEUE_DIR).join("done").join(format!("{}.done", job.path));
        if marker.exists() {
            return Ok(false);
        }
        let input = self.source.join(rel);
        if !input.is_file() {
            return Err(format!("{}: the source is gone", job.path));
        }
        let out_rel = rel.with_extension(&self.ext);
        let out = self.tmp.join(&out_rel);
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let result = std::process::Command::new(&self.ffmpeg)
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i"])
            .arg(&input)
            .args(&self.args)
            .arg(&out)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.ffmpeg.display()))?;
        if !result.status.success() {
            let _ = std::fs::remove_file(&out);
            let err = String::from_utf8_lossy(&result.stderr);
            return Err(format!("{}: ffmpeg {}: {}", job.path, result.status, err.trim().lines().last().unwrap_or("")));
        }
        let uploaded = upload(&self.dest, &out, &out_rel, &AtomicBool::new(false));
        let _ = std::fs::remove_file(&out);
        uploaded.map_err(|e| format!("{}: upload: {e}", job.path))?;
        if let Some(dir) = marker.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let part = marker.with_extension("done.part");
        std::fs::write(&part, format!("{}\n", job.id)).map_err(|e| format!("cannot write {}: {e}", part.display()))?;
        std::fs::rename(&part, &marker).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
        Ok(true)
    }
}

/// A threaded component doing each job it is leased, answering with its outcome.
fn runner(r: Runner) -> Component {
    let mut b = ComponentBuilder::new("JobRunner");
    let io = b.standard::<Lease, Outcome>();
    b.run_threaded(move |tctx| {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let end = loop {
            match watch.next_blocking(&tctx, &io.inbox) {
                Next::Data(lease) => {
                    let result = r.run(&lease.job);
                    let outcome = {
                        let mut s = r.summary.lock().unwrap_or_else(PoisonError::into_inner);
                        match result {
                            Ok(true) => {
                                s.done += 1;
                                Outcome::Done(lease.ticket)
                            }
                            Ok(false) => {
                                s.already_done += 1;
                                Outcome::Done(lease.ticket)
                            }
                            Err(why) => {
                                s.failed += 1;
                                s.failures.push(why.clone());
                                Outcome::Failed(lease.ticket, why)
                            }
                        }
                    };
                    if let Err(i) = watch.send_blocking(&tctx, &io.outbox, outcome) {
                        break i.signal;
                    }
                }
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish_blocking(end);
    })
}
