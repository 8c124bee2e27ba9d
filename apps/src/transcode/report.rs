//! The Reporter: gathers every stage's events into the run's [`Summary`] and shows them, as
//! progress bars on a terminal or as plain lines.

use std::collections::HashMap;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axon_core::{Component, ComponentBuilder, ControlWatch, Signal};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kamaelia_file::FileError;

use super::events::{Event, FailedStage, Failure, Job, JobControl};

/// How the run is shown on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Display {
    /// Progress bars if stdout is a terminal, else plain lines.
    #[default]
    Auto,
    /// A progress bar per worker and an overall one (indicatif).
    Bars,
    /// One line per step.
    Plain,
    /// Nothing (the summary is still returned).
    Quiet,
}

/// What a run did. [`exit_code`](Self::exit_code) is 0 unless some file failed.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Summary {
    /// Sources transcoded (relative to the source directory; now in `done/`).
    pub transcoded: Vec<PathBuf>,
    /// Outputs uploaded (relative to `encoded/`, where they now are).
    pub uploaded: Vec<PathBuf>,
    /// Files that failed, and why.
    pub failed: Vec<Failure>,
    /// Work not started because of a stop; it is done by the next run.
    pub left: Vec<Job>,
    /// Work cut short by an abort; it is done again by the next run.
    pub aborted: Vec<Job>,
    /// Outputs waiting in `to_upload/` when the run ended.
    pub waiting: Vec<PathBuf>,
    /// How the run was stopped, if it was, and why.
    pub stopped: Option<(JobControl, &'static str)>,
    /// Restart recovery and other remarks.
    pub notes: Vec<String>,
    /// With `--dry-run`: what would have been done.
    pub would: Vec<String>,
}

/// Exit status: everything asked for was done (or left for the next run by a stop).
pub const EXIT_OK: i32 = 0;

/// Exit status: some files failed (they are listed).
pub const EXIT_FAILED: i32 = 1;

/// Exit status: a usage or environment error; nothing was done.
pub const EXIT_USAGE: i32 = 2;

impl Summary {
    /// [`EXIT_FAILED`] if any file failed, else [`EXIT_OK`].
    pub fn exit_code(&self) -> i32 {
        if self.failed.is_empty() { EXIT_OK } else { EXIT_FAILED }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.would.is_empty() {
            writeln!(f, "dry run: nothing was changed; the run would:")?;
            for w in &self.would {
                writeln!(f, "  {w}")?;
            }
        }
        match self.stopped {
            Some((JobControl::Stop, why)) => writeln!(f, "stopped ({why}): running work was finished")?,
            Some((JobControl::Abort, why)) => writeln!(f, "aborted ({why}): running work was cut short")?,
            None => {}
        }
        writeln!(
            f,
            "summary: {} transcoded, {} uploaded, {} failed, {} left for the next run, {} waiting in to_upload/",
            self.transcoded.len(),
            self.uploaded.len(),
            self.failed.len(),
            self.left.len() + self.aborted.len(),
            self.waiting.len()
        )?;
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        if !self.failed.is_empty() {
            writeln!(f, "failed:")?;
            for fl in &self.failed {
                writeln!(f, "  {fl}")?;
            }
        }
        Ok(())
    }
}

/// The Reporter: the sink of every event in the job. Keeps the [`Summary`], shows progress,
/// copies each event to an observer if one is given, and ends the job's Stopper once every
/// worker has ended.
///
/// Boxes:
/// - `inbox: Event`: events from the gate, the Stopper and the workers.
/// - `control: Signal`: shutdown signalling.
/// - `ends: Signal`: each worker pipeline's `signal` and the StopGate's `done`; after a
///   terminal signal from each (`workers + 1`) it ends.
/// - `errors: FileError`: directories the file walk could not read (shown as notes).
/// - `outbox: ()`: unused.
/// - `signal: Signal`: `ShutdownMicroprocess` once it ends (to the Stopper, which would
///   otherwise wait for a stop forever).
///
/// A threaded component: terminal output may block.
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking variants): on
/// `ProducerFinished` it takes the events already in `inbox` first. It also ends by itself
/// once every worker and the gate have ended (sending its own `ShutdownMicroprocess`).
#[must_use = "a builder does nothing until `build` is called"]
pub struct Reporter {
    workers: usize,
    display: Display,
    observer: Option<Sender<Event>>,
    summary: Arc<Mutex<Summary>>,
    interrupt_hints: bool,
}

impl Reporter {
    /// A reporter for `workers` worker pipelines, keeping its tally in `summary`.
    pub fn new(workers: usize, display: Display, summary: Arc<Mutex<Summary>>) -> Self {
        Reporter { workers, display, observer: None, summary, interrupt_hints: false }
    }

    /// Tells, with each stop request shown, what a further interrupt does (for a command
    /// line that maps a first Ctrl-C onto a stop and a second onto an abort). The job says
    /// it itself, so that nothing else writes on a terminal under its progress bars.
    pub fn interrupt_hints(mut self, yes: bool) -> Self {
        self.interrupt_hints = yes;
        self
    }

    /// Also sends every event to `observer` (dropped silently if it has gone).
    pub fn observer(mut self, observer: Option<Sender<Event>>) -> Self {
        self.observer = observer;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Reporter");
        let inbox = b.inbox::<Event>("inbox");
        let control = b.control();
        let ends = b.inbox::<Signal>("ends");
        let errors = b.inbox::<FileError>("errors");
        b.outbox::<()>("outbox");
        let signal = b.signal();
        b.run_threaded(move |tctx| {
            let mut watch = ControlWatch::new(control, signal);
            let mut screen = Screen::new(self.display, self.workers, self.interrupt_hints);
            let mut ended = 0;
            let end = loop {
                if let Some(s) = watch.check() {
                    break s;
                }
                // Only the terminal signals count: the others (stop requests the workers pass
                // on) have reached every stage already, and this is their last reader.
                ended += ends.drain().filter(Signal::is_terminal).count();
                // A worker's events are all in before its end: it sent them first.
                while let Some(e) = errors.try_recv() {
                    self.take(&mut screen, Event::Note(e.to_string()));
                }
                while let Some(e) = inbox.try_recv() {
                    self.take(&mut screen, e);
                }
                // Every worker, and the gate.
                if ended > self.workers {
                    break Signal::ShutdownMicroprocess;
                }
                if let Some(f) = watch.take_finished() {
                    break f;
                }
                tctx.pause(None);
            };
            screen.finish();
            watch.finish_blocking(end);
        })
    }

    fn take(&self, screen: &mut Screen, e: Event) {
        if let Some(o) = &self.observer {
            let _ = o.send(e.clone());
        }
        let mut sum = self.summary.lock().unwrap_or_else(PoisonError::into_inner);
        screen.show(&e);
        match e {
            // An abort is not taken back by a later stop.
            Event::StopRequested { how, why } if sum.stopped.is_none_or(|(h, _)| h != JobControl::Abort) => {
                sum.stopped = Some((how, why));
            }
            Event::Left(job) => sum.left.push(job),
            Event::Transcoded { source, .. } => sum.transcoded.push(source),
            Event::AlreadyTranscoded { source, .. } => sum.notes.push(format!(
                "{} was transcoded by an earlier run (its output was waiting in to_upload/): moved to done/",
                source.display()
            )),
            Event::Aborted { job, .. } => sum.aborted.push(job),
            Event::Uploaded { output, .. } => sum.uploaded.push(output),
            Event::Failed { failure, .. } => sum.failed.push(failure),
            Event::WouldDo { what, .. } => sum.would.push(what),
            Event::Note(n) => sum.notes.push(n),
            _ => {}
        }
    }
}

/// Where events are shown.
enum Screen {
    Bars(Bars),
    Plain(Plain),
    Quiet,
}

impl Screen {
    fn new(display: Display, workers: usize, hints: bool) -> Self {
        let bars = || Screen::Bars(Bars::new(workers, ProgressDrawTarget::stdout(), hints));
        match display {
            Display::Auto if std::io::stdout().is_terminal() => bars(),
            Display::Auto | Display::Plain => Screen::Plain(Plain { hints, ..Plain::default() }),
            Display::Bars => bars(),
            Display::Quiet => Screen::Quiet,
        }
    }

    fn show(&mut self, e: &Event) {
        match self {
            Screen::Bars(b) => b.show(e),
            Screen::Plain(p) => p.show(e),
            Screen::Quiet => {}
        }
    }

    fn finish(&mut self) {
        if let Screen::Bars(b) = self {
            b.finish();
        }
    }
}

/// The line an event is told with, if it gets one (progress does not); `hints`: with what
/// a further interrupt does (see [`Reporter::interrupt_hints`]).
fn line(e: &Event, hints: bool) -> Option<String> {
    let w = |worker: &usize| format!("[w{worker}]");
    Some(match e {
        Event::StopRequested { how: JobControl::Stop, why } => {
            let hint = if hints { " (interrupt again to abort them)" } else { "" };
            format!("stopping ({why}): no new transcodes; running ones finish{hint}")
        }
        Event::StopRequested { how: JobControl::Abort, why } => {
            let hint = if hints { " (interrupt again to exit at once)" } else { "" };
            format!("aborting ({why}): running transcodes and uploads are cut short{hint}")
        }
        Event::TranscodeStarted { worker, source, .. } => format!("{} transcoding {}", w(worker), source.display()),
        Event::Transcoded { worker, source, output, took } => format!(
            "{} transcoded {} -> to_upload/{} in {:.1} s",
            w(worker),
            source.display(),
            output.display(),
            took.as_secs_f64()
        ),
        Event::AlreadyTranscoded { worker, source } => {
            format!("{} {} was already transcoded: moved to done/", w(worker), source.display())
        }
        Event::Aborted { worker, job } => format!("{} aborted the {job}; left for the next run", w(worker)),
        Event::UploadStarted { worker, output, attempt: 1 } => format!("{} uploading {}", w(worker), output.display()),
        Event::UploadStarted { worker, output, attempt } => {
            format!("{} uploading {} (attempt {attempt})", w(worker), output.display())
        }
        Event::UploadRetry { worker, output, attempt, error, delay } => format!(
            "{} upload of {} failed (attempt {attempt}): {error}; retrying in {:.1} s",
            w(worker),
            output.display(),
            delay.as_secs_f64()
        ),
        Event::Uploaded { worker, output, destination } => {
            format!("{} uploaded {} to {destination}", w(worker), output.display())
        }
        Event::AwaitingUpload { worker, output } => {
            format!("{} {} waits in to_upload/ (no upload destination)", w(worker), output.display())
        }
        Event::Failed { failure, .. } => format!("FAILED {failure}"),
        Event::Note(n) => format!("note: {n}"),
        _ => return None,
    })
}

/// Plain lines on stdout, with progress every quarter.
#[derive(Default)]
struct Plain {
    /// The last quarter shown for each worker's transcode.
    quarter: HashMap<usize, u64>,
    /// See [`Reporter::interrupt_hints`].
    hints: bool,
}

impl Plain {
    fn show(&mut self, e: &Event) {
        let text = match e {
            Event::Progress { worker, source, done, total: Some(total), .. } if !total.is_zero() => {
                let pct = (done.as_secs_f64() / total.as_secs_f64() * 100.0).clamp(0.0, 100.0) as u64;
                let q = pct / 25;
                if q == 0 || q >= 4 || self.quarter.get(worker) == Some(&q) {
                    return;
                }
                self.quarter.insert(*worker, q);
                format!("[w{worker}] {} {}%", source.display(), q * 25)
            }
            Event::TranscodeStarted { worker, .. } => {
                self.quarter.remove(worker);
                match line(e, self.hints) {
                    Some(l) => l,
                    None => return,
                }
            }
            _ => match line(e, self.hints) {
                Some(l) => l,
                None => return,
            },
        };
        // A closed stdout must not stop the job.
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
}

/// Units per file on the overall bar (so running transcodes count in part).
const PER_FILE: u64 = 1000;

/// indicatif bars (on stdout): one per worker, one overall.
///
/// The overall bar counts a source once it is done with (transcoded, found transcoded
/// already, or failed); a source a stop or an abort leaves for the next run is not done, so
/// after a stop the bar stays short of 100% and says how many are left.
struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    workers: Vec<ProgressBar>,
    /// Transcodes found; done (transcoded, or found transcoded already); failed; left for
    /// the next run (by a stop or an abort).
    found: u64,
    done: u64,
    failed: u64,
    left: u64,
    uploaded: u64,
    /// How far each worker's running transcode is, in `PER_FILE` units.
    running: HashMap<usize, u64>,
    /// See [`Reporter::interrupt_hints`].
    hints: bool,
}

impl Bars {
    fn new(workers: usize, target: ProgressDrawTarget, hints: bool) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let style = |t: &str| ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar());
        let overall = multi.add(
            ProgressBar::new(0)
                .with_style(style("{prefix:>7} [{bar:40.green/white}] {percent:>3}% {msg} ({elapsed})"))
                .with_prefix("overall"),
        );
        let workers = (0..workers)
            .map(|i| {
                multi.add(
                    ProgressBar::new(PER_FILE)
                        .with_style(style("{prefix:>7} [{bar:40.cyan/blue}] {percent:>3}% {msg}"))
                        .with_prefix(format!("w{i}"))
                        .with_message("idle"),
                )
            })
            .collect();
        overall.enable_steady_tick(Duration::from_millis(500));
        Bars {
            multi,
            overall,
            workers,
            found: 0,
            done: 0,
            failed: 0,
            left: 0,
            uploaded: 0,
            running: HashMap::new(),
            hints,
        }
    }

    fn bar(&self, worker: usize) -> Option<&ProgressBar> {
        self.workers.get(worker)
    }

    fn show(&mut self, e: &Event) {
        if let Some(l) = line(e, self.hints) {
            if !matches!(e, Event::TranscodeStarted { .. } | Event::UploadStarted { .. }) {
                let _ = self.multi.println(l);
            }
        }
        match e {
            Event::Found(Job::Transcode(_)) => self.found += 1,
            Event::Left(Job::Transcode(_)) | Event::Aborted { job: Job::Transcode(_), .. } => self.left += 1,
            Event::Failed { failure, .. } if failure.stage == FailedStage::Transcode => self.failed += 1,
            Event::AlreadyTranscoded { .. } | Event::Transcoded { .. } => self.done += 1,
            Event::Uploaded { .. } => self.uploaded += 1,
            _ => {}
        }
        match e {
            Event::TranscodeStarted { worker, source, .. } => {
                self.running.insert(*worker, 0);
                if let Some(b) = self.bar(*worker) {
                    b.set_position(0);
                    b.set_message(source.display().to_string());
                }
            }
            Event::Progress { worker, done, total: Some(total), .. } if !total.is_zero() => {
                let part = ((done.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 1.0) * PER_FILE as f64) as u64;
                self.running.insert(*worker, part);
                if let Some(b) = self.bar(*worker) {
                    b.set_position(part);
                }
            }
            Event::Transcoded { worker, .. }
            | Event::Aborted { worker, job: Job::Transcode(_) }
            | Event::Failed { worker: Some(worker), failure: Failure { stage: FailedStage::Transcode, .. } } => {
                self.running.remove(worker);
                if let Some(b) = self.bar(*worker) {
                    b.set_position(0);
                    b.set_message("idle");
                }
            }
            Event::UploadStarted { worker, output, .. } => {
                if let Some(b) = self.bar(*worker) {
                    if !self.running.contains_key(worker) {
                        b.set_message(format!("uploading {}", output.display()));
                    }
                }
            }
            Event::Uploaded { worker, .. } | Event::Aborted { worker, job: Job::Upload(_) } => {
                if let Some(b) = self.bar(*worker) {
                    if !self.running.contains_key(worker) {
                        b.set_message("idle");
                    }
                }
            }
            _ => {}
        }
        let running: u64 = self.running.values().sum();
        self.overall.set_length(self.found * PER_FILE);
        self.overall.set_position(((self.done + self.failed) * PER_FILE + running).min(self.found * PER_FILE));
        self.overall.set_message(self.message());
    }

    /// The overall bar's message: `3/8 sources done, 5 left for the next run, 3 uploaded`.
    fn message(&self) -> String {
        let mut m = format!("{}/{} sources done", self.done, self.found);
        if self.failed > 0 {
            m.push_str(&format!(", {} failed", self.failed));
        }
        if self.left > 0 {
            m.push_str(&format!(", {} left for the next run", self.left));
        }
        m.push_str(&format!(", {} uploaded", self.uploaded));
        m
    }

    fn finish(&mut self) {
        for b in &self.workers {
            b.finish_and_clear();
        }
        // As it stands: `finish` would fill the bar to 100% whatever a stop left undone.
        self.overall.abandon();
    }
}
