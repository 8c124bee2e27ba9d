//! The transcode-and-upload job, driven in-process on real files: short test videos made with
//! ffmpeg's `testsrc`, transcoded by the real ffmpeg, uploaded to a local directory and to a
//! real FTP server (pyftpdlib on loopback), checked with ffprobe.
//!
//! Needs `ffmpeg` (with `ffprobe`) and the test venv's Python with `pyftpdlib`, which `cargo
//! xtask test` sets up; a test fails with that hint when one is missing.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use apps::transcode::{
    Display, Event, FailedStage, Job, JobControl, Options, STATE_DIRS, SetupError, Summary, Transcode,
};
use tempfile::TempDir;

mod tools;
use tools::require;

/// How long anything may take before a test fails (generous: debug builds, busy CI).
const LIMIT: Duration = Duration::from_secs(30);

/// ffmpeg output options that make a transcode take as long as the video lasts (the
/// `realtime` filter), so a test can act while one runs.
const SLOW_ARGS: &str = "-vf scale=640:360,realtime -c:v mpeg4 -q:v 5 -c:a copy";

/// Makes a `seconds`-long test video (tiny testsrc picture and a sine tone) at `path`.
fn make_video(path: &Path, seconds: u32) {
    require("ffmpeg");
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).unwrap();
    }
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=duration={seconds}:size=64x36:rate=10"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=duration={seconds}"))
        .args(["-c:v", "mpeg4", "-c:a", "aac", "-shortest"])
        .arg(path)
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "making {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
}

/// `codec,width,height` of a video's first video stream, by ffprobe.
fn probe(path: &Path) -> String {
    require("ffprobe");
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height"])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(out.status.success(), "ffprobe {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn assert_transcoded(path: &Path) {
    assert_eq!(probe(path), "mpeg4,640,360", "{} is not MPEG-4 at 640x360", path.display());
}

/// Every regular file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    found.sort();
    found
}

/// Options for tests: quiet, fast retries.
fn options(source: &Path) -> Options {
    let mut o = Options::new(source);
    o.display = Display::Quiet;
    o.upload_attempts = 3;
    o.upload_backoff = Duration::from_millis(10);
    o
}

/// Runs a job to its end on another thread, with an observer; returns its summary and events.
struct Running {
    events: Receiver<Event>,
    seen: Vec<Event>,
    done: Receiver<Summary>,
    stop: apps::transcode::StopHandle,
}

impl Running {
    fn start(mut opts: Options) -> Running {
        let (tx, events) = channel();
        opts.observer = Some(tx);
        let job = Transcode::new(opts).unwrap_or_else(|e| panic!("setup failed: {e}"));
        let stop = job.stop_handle();
        let (done_tx, done) = channel();
        thread::spawn(move || {
            let _ = done_tx.send(job.run());
        });
        Running { events, seen: Vec::new(), done, stop }
    }

    /// Waits for an event that `want` accepts.
    fn wait_for(&mut self, what: &str, want: impl Fn(&Event) -> bool) -> Event {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    self.seen.push(e.clone());
                    if want(&e) {
                        return e;
                    }
                }
                Err(_) => panic!("no {what} within {LIMIT:?}; events so far: {:#?}", self.seen),
            }
        }
    }

    fn finish(mut self) -> (Summary, Vec<Event>) {
        let summary =
            self.done.recv_timeout(LIMIT * 2).unwrap_or_else(|_| panic!("the job did not end: {:#?}", self.seen));
        self.seen.extend(self.events.try_iter());
        (summary, self.seen)
    }
}

fn run(opts: Options) -> (Summary, Vec<Event>) {
    Running::start(opts).finish()
}

/// A pyftpdlib server on 127.0.0.1 serving a temporary directory; stopped when dropped.
struct FtpServer {
    child: Child,
    port: u16,
    root: TempDir,
}

const FTP_USER: &str = "kamaelia";
const FTP_PASSWORD: &str = "s3cret";

impl FtpServer {
    fn start() -> FtpServer {
        let python = tools::python_with("pyftpdlib");
        let root = TempDir::new().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ftp_server.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(root.path())
            .args([FTP_USER, FTP_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the FTP server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(LIMIT).expect("the FTP server printed no port");
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the FTP server printed {line:?}, not a port"));
        FtpServer { child, port, root }
    }

    fn url(&self, password: &str, path: &str) -> String {
        format!("ftp://{FTP_USER}:{password}@127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        // Closing its stdin ends it; kill in case it is stuck.
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn count(events: &[Event], want: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| want(e)).count()
}

#[test]
fn videos_are_transcoded_to_mpeg4_640x360_and_uploaded_to_a_local_directory() {
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    make_video(&src.path().join("a.mp4"), 1);
    make_video(&src.path().join("b.mp4"), 1);
    make_video(&src.path().join("day2/c.mp4"), 1);
    make_video(&src.path().join("raw/excluded.mp4"), 1);
    fs::write(src.path().join("notes.txt"), "not a video").unwrap();

    let mut o = options(src.path());
    o.exclude = Some("^raw/".into());
    o.upload = Some(dest.path().display().to_string());
    // A deadline not reached: the job still ends when its work is done.
    o.until = Some(Instant::now() + Duration::from_secs(3600));
    let (summary, events) = run(o);
    assert!(summary.stopped.is_none(), "{summary}");

    assert_eq!(summary.exit_code(), 0, "{summary}");
    assert!(summary.failed.is_empty(), "{summary}");
    let mut transcoded = summary.transcoded.clone();
    transcoded.sort();
    assert_eq!(transcoded, [PathBuf::from("a.mp4"), "b.mp4".into(), "day2/c.mp4".into()]);
    assert_eq!(summary.uploaded.len(), 3, "{summary}");
    assert_eq!(files(dest.path()), ["a.avi", "b.avi", "day2/c.avi"]);
    for f in files(dest.path()) {
        assert_transcoded(&dest.path().join(f));
    }
    // The state: sources in done/, outputs in encoded/, nothing half-done.
    assert_eq!(files(&src.path().join("done")), ["a.mp4", "b.mp4", "day2/c.mp4"]);
    assert_eq!(files(&src.path().join("encoded")), ["a.avi", "b.avi", "day2/c.avi"]);
    assert!(files(&src.path().join("to_upload")).is_empty());
    assert!(files(&src.path().join("transcoding")).is_empty());
    assert!(src.path().join("notes.txt").exists() && src.path().join("raw/excluded.mp4").exists());
    // Progress came from ffmpeg's -progress output, with the input's duration.
    let progress = count(&events, |e| {
        matches!(e, Event::Progress { done, total: Some(t), .. }
            if *t >= Duration::from_millis(900) && *done > Duration::ZERO)
    });
    assert!(progress >= 3, "expected progress for every transcode: {events:#?}");
}

/// Every directory under `dir`, relative, sorted.
fn dirs(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                found.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
                stack.push(p);
            }
        }
    }
    found.sort();
    found
}

/// Sources in subdirectories leave no empty `transcoding/sub` or `to_upload/sub` behind (nor
/// do empty ones an earlier run left), while `done/sub` and `encoded/sub` keep their files.
#[test]
fn no_empty_work_subdirectories_are_left_behind() {
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    make_video(&src.path().join("day1/a.mp4"), 1);
    make_video(&src.path().join("day2/deeper/b.mp4"), 1);
    // What an older run left: empty directories, and one holding an output still to upload.
    fs::create_dir_all(src.path().join("to_upload/old/empty")).unwrap();
    fs::create_dir_all(src.path().join("transcoding/old")).unwrap();
    let mut o = options(src.path());
    o.upload = Some(dest.path().display().to_string());
    let (summary, _) = run(o.clone());
    assert_eq!(summary.exit_code(), 0, "{summary}");
    assert_eq!(summary.uploaded.len(), 2, "{summary}");
    assert_eq!(dirs(&src.path().join("transcoding")), Vec::<String>::new());
    assert_eq!(dirs(&src.path().join("to_upload")), Vec::<String>::new());
    assert_eq!(files(&src.path().join("encoded")), ["day1/a.avi", "day2/deeper/b.avi"]);
    assert_eq!(files(dest.path()), ["day1/a.avi", "day2/deeper/b.avi"]);

    // Without a destination the outputs wait in to_upload/sub: those directories stay.
    make_video(&src.path().join("day3/c.mp4"), 1);
    o.upload = None;
    let (summary, _) = run(o);
    assert_eq!(summary.waiting, [PathBuf::from("day3/c.avi")], "{summary}");
    assert_eq!(dirs(&src.path().join("to_upload")), ["day3"]);
    assert_eq!(dirs(&src.path().join("transcoding")), Vec::<String>::new());
}

#[test]
fn a_local_upload_directory_inside_the_source_directory_is_not_walked() {
    let src = TempDir::new().unwrap();
    make_video(&src.path().join("a.mp4"), 1);
    let mut o = options(src.path());
    o.upload = Some(src.path().join("uploaded").display().to_string());
    let (first, _) = run(o.clone());
    assert_eq!(first.uploaded, [PathBuf::from("a.avi")], "{first}");
    // The upload is not a source the next time.
    let (second, events) = run(o);
    assert!(second.transcoded.is_empty() && second.failed.is_empty(), "{second}");
    assert_eq!(count(&events, |e| matches!(e, Event::Found(_))), 0, "{events:?}");
    assert_eq!(files(&src.path().join("uploaded")), ["a.avi"]);
    let mut o = options(src.path());
    o.upload = Some(src.path().display().to_string());
    let e = Transcode::new(o).expect_err("uploading into the source directory");
    assert!(e.to_string().contains("cannot be the source directory"), "{e}");
}

#[test]
fn outputs_are_uploaded_to_an_ftp_server_in_passive_mode() {
    let ftp = FtpServer::start();
    let src = TempDir::new().unwrap();
    make_video(&src.path().join("talk1.mp4"), 1);
    make_video(&src.path().join("talk2.mp4"), 1);

    let mut o = options(src.path());
    o.upload = Some(ftp.url(FTP_PASSWORD, "europython/2009"));
    let (summary, _) = run(o);

    assert_eq!(summary.exit_code(), 0, "{summary}");
    let remote = ftp.root.path().join("europython/2009");
    assert_eq!(files(&remote), ["talk1.avi", "talk2.avi"], "{summary}");
    for f in files(&remote) {
        assert_transcoded(&remote.join(f));
    }
    assert_eq!(files(&src.path().join("encoded")), ["talk1.avi", "talk2.avi"]);
}

#[test]
fn a_run_stopped_midway_resumes_with_nothing_lost_or_duplicated() {
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    let names = ["a.mp4", "b.mp4", "c.mp4", "d.mp4", "e.mp4"];
    for n in names {
        make_video(&src.path().join(n), 1);
    }
    let opts = |workers| {
        let mut o = options(src.path());
        o.workers = workers;
        o.ffmpeg_args = Some(SLOW_ARGS.into());
        o.upload = Some(dest.path().display().to_string());
        o
    };

    let mut job = Running::start(opts(1));
    job.wait_for("a finished transcode", |e| matches!(e, Event::Transcoded { .. }));
    job.stop.stop();
    let (first, events) = job.finish();
    assert_eq!(first.exit_code(), 0, "{first}");
    assert_eq!(first.stopped, Some((JobControl::Stop, "requested")));
    assert!(!first.transcoded.is_empty() && !first.left.is_empty(), "stopped midway: {first}");
    assert!(first.aborted.is_empty(), "a stop lets running transcodes finish: {first}");
    assert_eq!(first.transcoded.len() + first.left.len(), names.len(), "{first}");
    // What was transcoded was also uploaded (uploads finish after a stop).
    assert_eq!(first.uploaded.len(), first.transcoded.len(), "{first}");
    assert_eq!(count(&events, |e| matches!(e, Event::TranscodeStarted { .. })), first.transcoded.len());
    assert!(files(&src.path().join("transcoding")).is_empty());

    let (second, _) = run(opts(2));
    assert_eq!(second.exit_code(), 0, "{second}");
    assert!(second.stopped.is_none());
    let mut all: Vec<PathBuf> = first.transcoded.iter().chain(&second.transcoded).cloned().collect();
    all.sort();
    assert_eq!(all, names.map(PathBuf::from), "every source transcoded exactly once");
    assert_eq!(first.uploaded.len() + second.uploaded.len(), names.len(), "every output uploaded exactly once");
    let outputs = ["a.avi", "b.avi", "c.avi", "d.avi", "e.avi"];
    assert_eq!(files(dest.path()), outputs);
    assert_eq!(files(&src.path().join("done")), names);
    assert_eq!(files(&src.path().join("encoded")), outputs);
}

#[test]
fn a_restart_uploads_pending_outputs_first_then_redoes_half_written_ones() {
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    make_video(&src.path().join("a.mp4"), 1);
    make_video(&src.path().join("b.mp4"), 1);

    // A first run without a destination: the outputs wait in to_upload/.
    let (first, _) = run(options(src.path()));
    assert_eq!(first.waiting, [PathBuf::from("a.avi"), "b.avi".into()], "{first}");

    // As if a run had been killed: a half-written output in transcoding/ for a source still
    // in place, and a source whose finished output reached to_upload/ before the source
    // could be moved to done/.
    make_video(&src.path().join("c.mp4"), 1);
    fs::write(src.path().join("transcoding/c.avi"), b"half an AVI").unwrap();
    make_video(&src.path().join("d.mp4"), 1);
    fs::copy(src.path().join("to_upload/a.avi"), src.path().join("to_upload/d.avi")).unwrap();

    let mut o = options(src.path());
    o.workers = 1;
    o.upload = Some(dest.path().display().to_string());
    let (second, events) = run(o);
    assert_eq!(second.exit_code(), 0, "{second}");
    assert!(second.notes.iter().any(|n| n.contains("transcoding/c.avi")), "{second}");
    // Pending uploads are handed out before any transcode.
    let order: Vec<&Job> = events.iter().filter_map(|e| if let Event::Found(j) = e { Some(j) } else { None }).collect();
    assert_eq!(
        order,
        [
            &Job::Upload("a.avi".into()),
            &Job::Upload("b.avi".into()),
            &Job::Upload("d.avi".into()),
            &Job::Transcode("c.mp4".into()),
            &Job::Transcode("d.mp4".into()),
        ]
    );
    // c redone, d not transcoded again.
    assert_eq!(second.transcoded, [PathBuf::from("c.mp4")], "{second}");
    assert!(
        events.iter().any(|e| matches!(e, Event::AlreadyTranscoded { source, .. } if source == Path::new("d.mp4")))
    );
    assert_eq!(files(dest.path()), ["a.avi", "b.avi", "c.avi", "d.avi"]);
    assert_transcoded(&dest.path().join("c.avi"));
    assert_eq!(files(&src.path().join("done")), ["a.mp4", "b.mp4", "c.mp4", "d.mp4"]);
    assert!(files(&src.path().join("transcoding")).is_empty());
    assert!(files(&src.path().join("to_upload")).is_empty());
}

#[test]
fn a_corrupt_input_is_reported_and_skipped() {
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    make_video(&src.path().join("good.mp4"), 1);
    fs::write(src.path().join("bad.mp4"), [0x5a_u8; 3000]).unwrap();

    let mut o = options(src.path());
    o.upload = Some(dest.path().display().to_string());
    let (summary, _) = run(o);

    assert_eq!(summary.exit_code(), 1, "{summary}");
    assert_eq!(summary.failed.len(), 1, "{summary}");
    let failure = &summary.failed[0];
    assert_eq!((failure.path.as_path(), failure.stage), (Path::new("bad.mp4"), FailedStage::Transcode));
    assert!(failure.reason.contains("ffmpeg exit status"), "{}", failure.reason);
    assert!(summary.to_string().contains("bad.mp4 (transcode)"), "the summary lists it: {summary}");
    // The rest went on; the bad source stays where it was, with nothing half-written left.
    assert_eq!(summary.transcoded, [PathBuf::from("good.mp4")]);
    assert_eq!(files(dest.path()), ["good.avi"]);
    assert!(src.path().join("bad.mp4").exists());
    assert!(files(&src.path().join("transcoding")).is_empty());
    assert!(files(&src.path().join("to_upload")).is_empty());
}

fn assert_refused_then_reported(summary: &Summary, events: &[Event], why: &str) {
    assert_eq!(summary.exit_code(), 1, "{summary}");
    assert_eq!(summary.transcoded, [PathBuf::from("a.mp4")], "{summary}");
    assert!(summary.uploaded.is_empty(), "{summary}");
    assert_eq!(summary.failed.len(), 1, "{summary}");
    let failure = &summary.failed[0];
    assert_eq!((failure.path.as_path(), failure.stage), (Path::new("a.avi"), FailedStage::Upload));
    assert!(failure.reason.contains(why) && failure.reason.contains("3 attempts"), "{}", failure.reason);
    assert_eq!(count(events, |e| matches!(e, Event::UploadStarted { .. })), 3);
    assert_eq!(count(events, |e| matches!(e, Event::UploadRetry { .. })), 2);
    // Kept for the next run.
    assert_eq!(summary.waiting, [PathBuf::from("a.avi")]);
}

/// A login refused (530) is permanent: reported at once, not retried (issue #17; more in
/// `upload_errors.rs`).
#[test]
fn an_upload_refused_by_the_ftp_server_is_reported_at_once() {
    let ftp = FtpServer::start();
    let src = TempDir::new().unwrap();
    make_video(&src.path().join("a.mp4"), 1);
    let mut o = options(src.path());
    o.upload = Some(ftp.url("wrong-password", ""));
    let (summary, events) = run(o);
    assert_eq!(summary.failed.len(), 1, "{summary}");
    let reason = &summary.failed[0].reason;
    assert!(reason.contains("login as kamaelia refused") && reason.contains("530"), "{reason}");
    assert_eq!(count(&events, |e| matches!(e, Event::UploadStarted { .. })), 1);
    assert_eq!(count(&events, |e| matches!(e, Event::UploadRetry { .. })), 0);
    assert_eq!(summary.waiting, [PathBuf::from("a.avi")]);
    assert!(files(ftp.root.path()).is_empty());
}

#[test]
fn an_upload_to_a_local_destination_that_is_a_file_is_retried_then_reported() {
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    let not_a_dir = dest.path().join("plain-file");
    fs::write(&not_a_dir, "").unwrap();
    make_video(&src.path().join("a.mp4"), 1);
    let mut o = options(src.path());
    o.upload = Some(not_a_dir.display().to_string());
    let (summary, events) = run(o);
    assert_refused_then_reported(&summary, &events, "cannot create");
}

#[test]
fn an_abort_ends_running_transcodes_and_removes_their_partial_files() {
    let src = TempDir::new().unwrap();
    make_video(&src.path().join("long.mp4"), 4);
    let mut o = options(src.path());
    o.workers = 1;
    o.ffmpeg_args = Some(SLOW_ARGS.into());
    let mut job = Running::start(o);
    job.wait_for("progress", |e| matches!(e, Event::Progress { done, .. } if *done > Duration::ZERO));
    assert!(!files(&src.path().join("transcoding")).is_empty(), "ffmpeg is writing its output");
    job.stop.stop();
    job.stop.abort();
    let (summary, _) = job.finish();
    assert_eq!(summary.exit_code(), 0, "{summary}");
    assert_eq!(summary.stopped, Some((JobControl::Abort, "requested")));
    assert_eq!(summary.aborted, [Job::Transcode("long.mp4".into())], "{summary}");
    assert!(summary.transcoded.is_empty());
    assert!(src.path().join("long.mp4").exists(), "the source stays for the next run");
    assert!(files(&src.path().join("transcoding")).is_empty(), "the partial output is removed");
    assert!(files(&src.path().join("to_upload")).is_empty());
}

#[test]
fn reaching_until_stops_taking_new_work() {
    let src = TempDir::new().unwrap();
    for n in ["a.mp4", "b.mp4", "c.mp4"] {
        make_video(&src.path().join(n), 1);
    }
    let mut o = options(src.path());
    o.until = Some(Instant::now());
    let (summary, _) = run(o);
    assert_eq!(summary.exit_code(), 0, "{summary}");
    assert_eq!(summary.stopped, Some((JobControl::Stop, "--until reached")));
    // Whatever had been handed out before the deadline was seen ran to the end; the rest
    // is left, and nothing is lost.
    assert_eq!(summary.transcoded.len() + summary.left.len(), 3, "{summary}");
    assert_eq!(
        files(src.path()).iter().filter(|f| f.ends_with(".mp4")).count(),
        3,
        "each source is in place or in done/: {:?}",
        files(src.path())
    );
}

#[test]
fn a_dry_run_says_what_it_would_do_and_changes_nothing() {
    let src = TempDir::new().unwrap();
    make_video(&src.path().join("a.mp4"), 1);
    let before = files(src.path());
    let mut o = options(src.path());
    o.dry_run = true;
    o.upload = Some("ftp://user:Pa55-w0rd@127.0.0.1:1/talks".into());
    let (summary, _) = run(o);
    assert_eq!(summary.exit_code(), 0, "{summary}");
    assert_eq!(files(src.path()), before);
    assert!(STATE_DIRS.iter().all(|d| !src.path().join(d).exists()));
    let text = summary.to_string();
    assert!(text.contains("transcode a.mp4 -> to_upload/a.avi") && text.contains("scale=640:360"), "{text}");
    assert!(text.contains("upload to_upload/a.avi to ftp://user@127.0.0.1:1/talks"), "{text}");
    assert!(!text.contains("Pa55-w0rd"), "no password shown: {text}");
}

#[test]
fn usage_and_environment_errors_are_exit_status_2() {
    let src = TempDir::new().unwrap();
    let setup = |f: &dyn Fn(&mut Options)| {
        let mut o = options(src.path());
        f(&mut o);
        Transcode::new(o).expect_err("a setup error")
    };
    let e = setup(&|o| o.ffmpeg = "/nonexistent/ffmpeg".into());
    assert!(matches!(e, SetupError::FfmpegMissing { .. }), "{e:?}");
    assert!(e.to_string().contains("apt-get install ffmpeg"), "{e}");
    assert_eq!(e.exit_code(), 2);
    for (e, says) in [
        (setup(&|o| o.source = "/nonexistent/videos".into()), "/nonexistent/videos"),
        (setup(&|o| o.pattern = "(unclosed".into()), "--pattern"),
        (setup(&|o| o.exclude = Some("[".into())), "--exclude"),
        (setup(&|o| o.upload = Some("sftp://host/x".into())), "sftp://"),
        (setup(&|o| o.ffmpeg_args = Some("-vf 'scale".into())), "--ffmpeg-args"),
        (setup(&|o| o.workers = 0), "--workers"),
    ] {
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains(says), "{e}");
    }
    // Nothing was created.
    assert!(files(src.path()).is_empty());
}

/// The kinds (`Find`, `Grep` ...) of a component and everything it has adopted.
fn kinds(root: &axon_core::Component) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(c) = stack.pop() {
        kinds.push(c.name().rsplit_once('_').map_or(c.name().to_string(), |(k, _)| k.to_string()));
        stack.extend(c.children());
    }
    kinds
}

#[test]
fn the_job_is_composed_as_in_the_seed() {
    let src = TempDir::new().unwrap();
    let mut o = options(src.path());
    o.dry_run = true;
    o.workers = 3;
    o.exclude = Some("^raw/".into());
    let job = Transcode::new(o.clone()).unwrap();
    let kinds = kinds(job.graph());
    let n = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(n("Graphline"), 1, "{kinds:?}");
    assert_eq!(n("Find"), 1, "{kinds:?}");
    assert_eq!(n("Grep"), 3, "state dirs, pattern, exclude: {kinds:?}");
    assert_eq!(n("Sort"), 1, "{kinds:?}");
    assert_eq!(n("Balancer"), 1, "{kinds:?}");
    assert_eq!((n("Transcoder"), n("Uploader")), (3, 3), "{kinds:?}");
    assert_eq!(n("Pipeline"), 1 + 3, "the file pipeline and a pipeline per worker: {kinds:?}");
    assert_eq!((n("StopGate"), n("Stopper"), n("Reporter")), (1, 1, 1), "{kinds:?}");
    let balancer_outs = job
        .graph()
        .children()
        .into_iter()
        .find(|c| c.name().starts_with("Balancer"))
        .map(|b| b.outbox_names())
        .unwrap();
    for i in 0..3 {
        assert!(balancer_outs.contains(&format!("outbox{i}")) && balancer_outs.contains(&format!("signal{i}")));
    }

    // With outputs waiting from an earlier run, a Seq walks to_upload/ first, then the sources.
    fs::create_dir(src.path().join("to_upload")).unwrap();
    let job = Transcode::new(o).unwrap();
    let kinds = self::kinds(job.graph());
    assert!(kinds.contains(&"Seq".to_string()), "{kinds:?}");
}
