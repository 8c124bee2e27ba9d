//! The messages of the job: work items, stop requests, and the events every stage reports.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use axon_core::{Payload, Signal};

/// One piece of work, as it travels from the file walk through the balancer to a worker.
///
/// Ordered so that pending uploads come before transcodes (a restart uploads what it has
/// before making more).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Job {
    /// An output an earlier run left in `to_upload/` (path relative to it).
    Upload(PathBuf),
    /// A source to transcode (path relative to the source directory).
    Transcode(PathBuf),
}

impl Job {
    /// The path it is about (relative to `to_upload/` or to the source directory).
    pub fn path(&self) -> &PathBuf {
        match self {
            Job::Upload(p) | Job::Transcode(p) => p,
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Job::Upload(p) => write!(f, "upload of to_upload/{}", p.display()),
            Job::Transcode(p) => write!(f, "transcode of {}", p.display()),
        }
    }
}

/// A request to stop the job, sent to its `stop` inbox (see [`StopHandle`](super::StopHandle)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobControl {
    /// Take no new work: running transcodes finish (and their outputs are uploaded), work
    /// not started is left for the next run.
    Stop,
    /// As `Stop`, and also end running transcodes (their half-written outputs are removed,
    /// their sources stay) and abandon running uploads (their files stay in `to_upload/`).
    Abort,
}

/// How a [`JobControl`] travels on `control` inboxes inside the job: as a `Notify` signal,
/// so it passes along a worker's pipeline like any other non-terminal signal.
pub(super) fn control_signal(c: JobControl) -> Signal {
    Signal::Notify { caller: None, payload: Payload::new(c) }
}

/// The [`JobControl`] a signal carries, if it is one.
pub(super) fn job_control(s: &Signal) -> Option<JobControl> {
    match s {
        Signal::Notify { payload, .. } => payload.downcast_ref::<JobControl>().copied(),
        _ => None,
    }
}

/// What a stage was doing when a file failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailedStage {
    /// Transcoding a source (ffmpeg failed, or a move around it).
    Transcode,
    /// Uploading an output (every attempt failed, or the move to `encoded/`).
    Upload,
}

/// A file that failed, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The source (relative to the source directory) or output (relative to `to_upload/`).
    pub path: PathBuf,
    /// Where it failed.
    pub stage: FailedStage,
    /// Why, in words.
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stage {
            FailedStage::Transcode => write!(f, "{} (transcode): {}", self.path.display(), self.reason),
            FailedStage::Upload => write!(f, "to_upload/{} (upload): {}", self.path.display(), self.reason),
        }
    }
}

/// What happened, as the stages report it to the job's reporter (and to an observer, see
/// [`Options::observer`](super::Options::observer)). `worker` numbers the worker pipelines
/// from 0.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The walk found this work; it waits for a worker.
    Found(Job),
    /// A stop was asked for (`--until` reached, Ctrl-C, or a [`StopHandle`](super::StopHandle)).
    StopRequested {
        /// Stop or abort.
        how: JobControl,
        /// Who asked: `"--until reached"` or `"requested"`.
        why: &'static str,
    },
    /// This work was not started because of a stop; it is left for the next run.
    Left(Job),
    /// A transcode began.
    TranscodeStarted {
        /// The worker.
        worker: usize,
        /// The source.
        source: PathBuf,
        /// The ffmpeg command line.
        command: String,
    },
    /// How far a transcode has got.
    Progress {
        /// The worker.
        worker: usize,
        /// The source.
        source: PathBuf,
        /// Media time written so far.
        done: Duration,
        /// The input's duration, if ffmpeg said.
        total: Option<Duration>,
    },
    /// A transcode succeeded: the output is in `to_upload/`, the source in `done/`.
    Transcoded {
        /// The worker.
        worker: usize,
        /// The source.
        source: PathBuf,
        /// The output, relative to `to_upload/`.
        output: PathBuf,
        /// How long it took.
        took: Duration,
    },
    /// An earlier run transcoded this source but stopped before moving it to `done/`
    /// (its output was already in `to_upload/`): it was moved now, and not transcoded again.
    AlreadyTranscoded {
        /// The worker.
        worker: usize,
        /// The source.
        source: PathBuf,
    },
    /// A running transcode or upload was cut short by an abort (a half-written output
    /// removed; the source or upload left for the next run).
    Aborted {
        /// The worker.
        worker: usize,
        /// What was cut short.
        job: Job,
    },
    /// An upload attempt began.
    UploadStarted {
        /// The worker.
        worker: usize,
        /// The output, relative to `to_upload/`.
        output: PathBuf,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// An upload attempt failed; another follows after `delay`.
    UploadRetry {
        /// The worker.
        worker: usize,
        /// The output.
        output: PathBuf,
        /// The attempt that failed.
        attempt: u32,
        /// Why it failed.
        error: String,
        /// The wait before the next attempt.
        delay: Duration,
    },
    /// An output was uploaded and moved to `encoded/`.
    Uploaded {
        /// The worker.
        worker: usize,
        /// The output, relative to `encoded/` now.
        output: PathBuf,
        /// Where it went (passwords hidden).
        destination: String,
    },
    /// No upload destination was given: the output waits in `to_upload/`.
    AwaitingUpload {
        /// The worker.
        worker: usize,
        /// The output.
        output: PathBuf,
    },
    /// A file failed; the run goes on with the others.
    Failed {
        /// The worker, if a worker reported it.
        worker: Option<usize>,
        /// What failed, and why.
        failure: Failure,
    },
    /// With `--dry-run`: what would be done.
    WouldDo {
        /// The worker.
        worker: usize,
        /// What, in words.
        what: String,
    },
    /// Something worth telling that is not about one job (a directory the walk could not read).
    Note(String),
}

/// What a worker's Transcoder hands its Uploader: an output to upload, or an event to pass
/// on to the reporter (so one pipeline carries both, and the Uploader forwards events even
/// while an upload runs).
#[derive(Clone, Debug)]
pub enum ToUploader {
    /// An output in `to_upload/` (relative path).
    Upload(PathBuf),
    /// An event for the reporter.
    Event(Event),
}
