//! The Transcoder: the first stage of a worker pipeline. Runs ffmpeg (a [`UnixProcess`]
//! child) for each source, reads its progress, and moves the files between the state
//! directories.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Inbox, Next, Outbox, Signal, SignalPolicy, ThreadCtx};
use kamaelia_file::{Leftover, ProcessExit, UnixProcess, kill_leftover};

use super::events::{Event, FailedStage, Failure, Job, JobControl, ToUploader, job_control};
use super::ffmpeg::{self, ProgressParser};
use super::state::{Layout, move_no_clobber, output_name};

/// How much of ffmpeg's stderr is kept for error messages.
const STDERR_KEEP: usize = 64 * 1024;

/// The pid file a worker's running ffmpeg is named in: `transcoding/.ffmpeg-worker<i>.pid`.
fn pid_file(layout: &Layout, worker: usize) -> PathBuf {
    layout.transcoding().join(format!(".ffmpeg-worker{worker}.pid"))
}

/// True for a pid file's name (relative to `transcoding/`): not a half-written output.
pub(super) fn is_pid_file(rel: &Path) -> bool {
    rel.to_str().is_some_and(|n| n.starts_with(".ffmpeg-worker") && n.ends_with(".pid") && !n.contains('/'))
}

/// At the start of a run: ends the ffmpegs an earlier run left running (it was killed
/// outright, and their watchdogs with it), as their pid files in `transcoding/` name them,
/// and removes the pid files. Returns a note for each. With `dry_run`, only says what it
/// would do.
///
/// # Errors
/// `transcoding/` cannot be read, or a pid file cannot be read or removed.
pub(super) fn stop_leftovers(layout: &Layout, dry_run: bool) -> io::Result<Vec<String>> {
    let mut notes = Vec::new();
    let entries = match fs::read_dir(layout.transcoding()) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(notes),
        Err(e) => return Err(e),
    };
    let mut found: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry?;
        if is_pid_file(Path::new(&entry.file_name())) {
            found.push(entry.path());
        }
    }
    found.sort();
    for path in found {
        if dry_run {
            notes
                .push(format!("would end the ffmpeg that {} names, if an earlier run left it running", path.display()));
            continue;
        }
        if let Leftover::Killed(pid) = kill_leftover(&path)? {
            notes.push(format!("ended ffmpeg (pid {pid}), left running by an earlier run"));
        }
    }
    Ok(notes)
}

/// The Transcoder (the seed's threaded `Transcoder`, here around ffmpeg): for each source
/// that arrives, runs ffmpeg as a [`UnixProcess`] child writing `transcoding/<name>.<ext>`;
/// when ffmpeg exits 0, renames the output into `to_upload/`, moves the source to `done/`,
/// and hands the output to the next stage (the [`Uploader`](super::Uploader)). Pending
/// uploads arriving as [`Job::Upload`] are handed on as they are.
///
/// ffmpeg's `-progress pipe:1` output (on the child's `outbox`) becomes
/// [`Event::Progress`]; its stderr gives the input's duration and, on failure, the reason.
/// A failed transcode (a corrupt input, say) removes the half-written output, leaves the
/// source where it is, reports [`Event::Failed`] and goes on with the next.
///
/// ffmpeg never outlives the job: it dies with it, even on `kill -9`
/// ([`die_with_parent`](Self::die_with_parent), on by default), and while it runs its pid
/// is kept in `transcoding/.ffmpeg-worker<i>.pid`, so a run that starts after one killed
/// outright ends what was left running before it clears `transcoding/`.
///
/// Boxes:
/// - `inbox: Job`: work, holding at most one waiting job (so the balancer gives new work to
///   whichever worker is free).
/// - `control: Signal`: shutdown signalling, and stop requests (a [`JobControl`] in a
///   `Notify`).
/// - `outbox: ToUploader`: outputs to upload, and events for the reporter.
/// - `signal: Signal`: stop requests and the terminal signal, passed on.
/// - `_progress: Vec<u8>`, `_stderr: Vec<u8>`, `_exit: ProcessExit`, `_procsignal: Signal`
///   (private inboxes) and `_proccontrol: Signal` (private outbox): linked to the ffmpeg
///   child while it runs.
///
/// Stopping: after [`JobControl::Stop`] the transcode running goes on to the end, and the
/// jobs that arrive afterwards are not started ([`Event::Left`]); pending uploads are still
/// handed on. After [`JobControl::Abort`] the running ffmpeg is ended too (SIGTERM, its
/// half-written output removed, [`Event::Aborted`]) and pending uploads are left as well.
/// Both are passed on out of `signal`, so the Uploader hears them.
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking variants: it is threaded): on
/// `ProducerFinished` it does the jobs already in `inbox` first. A shutdown (also one that
/// ends a send waiting on a full `outbox`) ends a running ffmpeg as for an abort, and is
/// passed on once the child is gone. Policy [`SignalPolicy::Deliver`]: it acts on stop
/// requests; every signal that does not end it is passed on.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Transcoder {
    worker: usize,
    layout: Layout,
    ffmpeg: PathBuf,
    options: Vec<String>,
    ext: String,
    dry_run: bool,
    grace: Duration,
    pending: Arc<HashSet<PathBuf>>,
    die_with_parent: bool,
}

impl Transcoder {
    /// Worker number `worker`'s transcoder for the sources under `layout`, running `ffmpeg`
    /// with output `options` and writing `<name>.<ext>`.
    pub fn new(worker: usize, layout: Layout, ffmpeg: impl Into<PathBuf>, options: Vec<String>, ext: &str) -> Self {
        Transcoder {
            worker,
            layout,
            ffmpeg: ffmpeg.into(),
            options,
            ext: ext.to_string(),
            dry_run: false,
            grace: Duration::from_secs(5),
            pending: Arc::default(),
            die_with_parent: true,
        }
    }

    /// Whether ffmpeg dies with this program, however it dies, `kill -9` included (default
    /// true: see [`UnixProcess::die_with_parent`]). Either way, while ffmpeg runs its pid
    /// is kept in `transcoding/.ffmpeg-worker<i>.pid`, so that the next run ends an ffmpeg
    /// left running.
    pub fn die_with_parent(mut self, yes: bool) -> Self {
        self.die_with_parent = yes;
        self
    }

    /// The outputs that were waiting in `to_upload/` when the job started (relative
    /// paths). A source whose output is among them was transcoded by an earlier run that
    /// stopped before moving it to `done/`: it is moved now instead of transcoded again.
    pub fn pending(mut self, outputs: Arc<HashSet<PathBuf>>) -> Self {
        self.pending = outputs;
        self
    }

    /// Only reports what it would do ([`Event::WouldDo`]); runs nothing, moves nothing.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Transcoder");
        let bx = Declared {
            inbox: b.inbox_with_capacity::<Job>("inbox", 1),
            control: b.control(),
            outbox: b.outbox::<ToUploader>("outbox"),
            signal: b.signal(),
            progress: b.inbox::<Vec<u8>>("_progress"),
            stderr: b.inbox::<Vec<u8>>("_stderr"),
            exit: b.inbox::<ProcessExit>("_exit"),
            procsignal: b.inbox::<Signal>("_procsignal"),
            proccontrol: b.outbox::<Signal>("_proccontrol"),
        };
        b.run_threaded(move |tctx| {
            let watch = ControlWatch::new(bx.control, bx.signal).with_policy(SignalPolicy::Deliver);
            let bx = Boxes {
                inbox: bx.inbox,
                outbox: bx.outbox,
                progress: bx.progress,
                stderr: bx.stderr,
                exit: bx.exit,
                procsignal: bx.procsignal,
                proccontrol: bx.proccontrol,
            };
            let run = Run {
                cfg: self,
                tctx: &tctx,
                watch,
                bx,
                stopping: false,
                aborting: false,
                finishing: None,
                shutdown: None,
            };
            run.run();
        })
    }
}

/// The boxes the component declares.
struct Declared {
    inbox: Inbox<Job>,
    control: Inbox<Signal>,
    outbox: Outbox<ToUploader>,
    signal: Outbox<Signal>,
    progress: Inbox<Vec<u8>>,
    stderr: Inbox<Vec<u8>>,
    exit: Inbox<ProcessExit>,
    procsignal: Inbox<Signal>,
    proccontrol: Outbox<Signal>,
}

/// Its boxes but `control` and `signal` (the watch has those).
struct Boxes {
    inbox: Inbox<Job>,
    outbox: Outbox<ToUploader>,
    progress: Inbox<Vec<u8>>,
    stderr: Inbox<Vec<u8>>,
    exit: Inbox<ProcessExit>,
    procsignal: Inbox<Signal>,
    proccontrol: Outbox<Signal>,
}

/// How one ffmpeg run ended.
enum Ran {
    /// It exited by itself: how, and its stderr.
    Exited(ProcessExit, String),
    /// It was ended by an abort or a shutdown.
    Ended,
    /// It could not be started or watched: why.
    NotRun(String),
}

struct Run<'a> {
    cfg: Transcoder,
    tctx: &'a ThreadCtx,
    watch: ControlWatch,
    bx: Boxes,
    stopping: bool,
    aborting: bool,
    /// A `ProducerFinished` that came while ffmpeg ran: the jobs already queued come first.
    finishing: Option<Signal>,
    /// A shutdown, met while ffmpeg ran or while a send waited: it ends the component.
    shutdown: Option<Signal>,
}

impl Run<'_> {
    fn run(mut self) {
        let end = loop {
            if let Some(s) = self.shutdown.take() {
                break s;
            }
            if self.bx.inbox.is_empty() {
                if let Some(f) = self.finishing.take() {
                    break f;
                }
            }
            match self.watch.next_blocking(self.tctx, &self.bx.inbox) {
                Next::Data(job) => self.job(job),
                Next::Other(s) => self.signal(s),
                Next::End(s) => break s,
            }
        };
        self.watch.finish_blocking(end);
    }

    /// A signal that does not end it: a stop request is acted on; each is passed on, so the
    /// Uploader hears stop requests too.
    fn signal(&mut self, s: Signal) {
        if let Some(c) = job_control(&s) {
            self.stopping = true;
            self.aborting |= c == JobControl::Abort;
        }
        self.watch.emit_blocking(s);
    }

    /// Sends `m` on `outbox`, waiting for room; a shutdown meanwhile drops it and is kept.
    /// Once stopping, it never waits: a message with no room is dropped.
    fn send(&mut self, m: ToUploader) {
        if self.shutdown.is_some() {
            let _ = self.bx.outbox.try_send(m);
        } else if let Err(stop) = self.watch.send_blocking(self.tctx, &self.bx.outbox, m) {
            self.shutdown = Some(stop.signal);
        }
    }

    fn event(&mut self, e: Event) {
        self.send(ToUploader::Event(e));
    }

    fn failed(&mut self, source: &Path, reason: String) {
        let failure = Failure { path: source.to_path_buf(), stage: FailedStage::Transcode, reason };
        self.event(Event::Failed { worker: Some(self.cfg.worker), failure });
    }

    fn job(&mut self, job: Job) {
        match job {
            Job::Upload(p) if self.aborting => self.event(Event::Left(Job::Upload(p))),
            Job::Upload(p) => self.send(ToUploader::Upload(p)),
            Job::Transcode(p) if self.stopping => self.event(Event::Left(Job::Transcode(p))),
            Job::Transcode(p) => self.transcode(&p),
        }
    }

    fn transcode(&mut self, rel: &Path) {
        let worker = self.cfg.worker;
        let layout = self.cfg.layout.clone();
        let src = layout.source().join(rel);
        let out = output_name(rel, &self.cfg.ext);
        let part = layout.transcoding().join(&out);
        let fin = layout.to_upload().join(&out);
        let done = layout.done().join(rel);
        let args = ffmpeg::command_args(&src, &part, &self.cfg.options);
        let command = ffmpeg::describe(&self.cfg.ffmpeg, &args);
        if self.cfg.pending.contains(&out) {
            // An earlier run finished this transcode but stopped before moving the source;
            // the output was queued for upload with the other pending uploads.
            if self.cfg.dry_run {
                let what = format!("move {} to done/ (its output waits in to_upload/)", rel.display());
                self.event(Event::WouldDo { worker, what });
                return;
            }
            match move_no_clobber(&src, &done) {
                Ok(_) => self.event(Event::AlreadyTranscoded { worker, source: rel.to_path_buf() }),
                Err(e) => {
                    self.failed(rel, format!("its output is in to_upload/, but it cannot be moved to done/: {e}"))
                }
            }
            return;
        }
        if self.cfg.dry_run {
            let what = format!(
                "transcode {} -> to_upload/{} with `{command}`, then move the source to done/",
                rel.display(),
                out.display()
            );
            self.event(Event::WouldDo { worker, what });
            self.send(ToUploader::Upload(out));
            return;
        }
        if !src.is_file() {
            self.failed(rel, "the source is no longer there".into());
            return;
        }
        if let Some(dir) = part.parent() {
            if let Err(e) = fs::create_dir_all(dir) {
                self.failed(rel, format!("cannot create {}: {e}", dir.display()));
                return;
            }
        }
        self.event(Event::TranscodeStarted { worker, source: rel.to_path_buf(), command });
        let started = Instant::now();
        let ran = self.ffmpeg(rel, &args);
        match ran {
            Ran::Exited(exit, _) if exit.success() => match move_no_clobber(&part, &fin) {
                Err(e) => {
                    let _ = fs::remove_file(&part);
                    self.failed(rel, format!("cannot move the output to {}: {e}", fin.display()));
                }
                Ok(placed) => {
                    // Another source may have had the same output name: never replace it.
                    let out = placed.strip_prefix(layout.to_upload()).map_or(out, Path::to_path_buf);
                    if let Err(e) = move_no_clobber(&src, &done) {
                        // The output is safe in to_upload/; the next run moves the source.
                        self.event(Event::Note(format!("cannot move {} to done/: {e}", src.display())));
                    }
                    self.event(Event::Transcoded {
                        worker,
                        source: rel.to_path_buf(),
                        output: out.clone(),
                        took: started.elapsed(),
                    });
                    self.send(ToUploader::Upload(out));
                }
            },
            Ran::Exited(exit, stderr) => {
                let _ = fs::remove_file(&part);
                let why = ffmpeg::last_words(&stderr).map(|w| format!(": {w}")).unwrap_or_default();
                self.failed(rel, format!("ffmpeg {exit}{why}"));
            }
            Ran::Ended => {
                let _ = fs::remove_file(&part);
                self.event(Event::Aborted { worker, job: Job::Transcode(rel.to_path_buf()) });
            }
            Ran::NotRun(why) => {
                let _ = fs::remove_file(&part);
                self.failed(rel, why);
            }
        }
    }

    /// Runs ffmpeg as a child component and waits for it, reporting progress; ends it on
    /// an abort or a shutdown (kept in `self.shutdown`, passed on once the child is gone).
    fn ffmpeg(&mut self, rel: &Path, args: &[std::ffi::OsString]) -> Ran {
        let worker = self.cfg.worker;
        let proc = UnixProcess::program(&self.cfg.ffmpeg)
            .args(args)
            .grace(self.cfg.grace)
            .die_with_parent(self.cfg.die_with_parent)
            .pid_file(pid_file(&self.cfg.layout, worker))
            .build();
        let me = self.tctx.component();
        let linked = (|| {
            self.tctx.link((&proc, "outbox"), (&me, "_progress"))?;
            self.tctx.link((&proc, "stderr"), (&me, "_stderr"))?;
            self.tctx.link((&proc, "exit"), (&me, "_exit"))?;
            self.tctx.link((&proc, "signal"), (&me, "_procsignal"))?;
            self.tctx.link((&me, "_proccontrol"), (&proc, "control"))
        })();
        if let Err(e) = linked {
            self.tctx.remove_child(&proc);
            return Ran::NotRun(format!("cannot wire ffmpeg: {e}"));
        }
        if let Err(e) = self.tctx.spawn(&proc) {
            self.tctx.remove_child(&proc);
            return Ran::NotRun(format!("cannot start ffmpeg: {e}"));
        }
        let mut parser = ProgressParser::new();
        let mut stderr = String::new();
        let mut total = None;
        let mut exit = None;
        let mut ended_by_us = false;
        loop {
            // While ffmpeg runs, the child's signals are the data watched: our own signals
            // come first, then the child's, without touching `inbox`.
            let mut over = false;
            while let Some(next) = self.watch.try_next(&self.bx.procsignal) {
                match next {
                    Next::Data(s) => over |= s.is_terminal(),
                    Next::Other(s) => self.signal(s),
                    Next::End(s) if s.is_shutdown() => {
                        self.shutdown.get_or_insert(s);
                    }
                    // Finishing: the jobs already queued are done first (see `run`).
                    Next::End(s) => {
                        self.finishing.get_or_insert(s);
                    }
                }
            }
            if (self.aborting || self.shutdown.is_some()) && !ended_by_us {
                ended_by_us = true;
                // The child's control inbox is unbounded: this is never refused for room.
                let _ = self.bx.proccontrol.try_send(Signal::ShutdownMicroprocess);
            }
            // Everything the child sent before its end is in our inboxes by now.
            while let Some(chunk) = self.bx.stderr.try_recv() {
                stderr.push_str(&String::from_utf8_lossy(&chunk));
                if total.is_none() {
                    total = ffmpeg::input_duration(&stderr);
                }
                if stderr.len() > STDERR_KEEP {
                    let cut = stderr.len() - STDERR_KEEP / 2;
                    let cut = (cut..stderr.len()).find(|&i| stderr.is_char_boundary(i)).unwrap_or(stderr.len());
                    stderr.drain(..cut);
                }
            }
            while let Some(chunk) = self.bx.progress.try_recv() {
                for r in parser.feed(&chunk) {
                    self.event(Event::Progress { worker, source: rel.to_path_buf(), done: r.out_time, total });
                }
            }
            if let Some(e) = self.bx.exit.try_recv() {
                exit = Some(e);
            }
            if over {
                break;
            }
            self.tctx.pause(None);
        }
        self.tctx.remove_child(&proc);
        match exit {
            // It finished before the request to end it took effect: the output is whole.
            Some(e) if e.success() => Ran::Exited(e, stderr),
            _ if ended_by_us => Ran::Ended,
            Some(ProcessExit::NotStarted(e)) => Ran::NotRun(format!("cannot run {}: {e}", self.cfg.ffmpeg.display())),
            Some(e) => Ran::Exited(e, stderr),
            None => Ran::NotRun("ffmpeg ended without an exit status".into()),
        }
    }
}
