//! No ffmpeg outlives the transcode job (issue #17, item 3): a `kill -9` of the job
//! mid-transcode leaves no ffmpeg running a second later; and an ffmpeg left running all the
//! same (its watchdog killed too) is ended by the next run as it starts.
//!
//! The job is this test binary itself, run again in a "job" role (an environment variable
//! names its source directory): it runs the job in-process, says when ffmpeg is
//! transcoding, and waits to be killed.

mod tools;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::thread;
use std::time::{Duration, Instant};

use apps::transcode::{Display, Event, Options, Transcode};
use tools::require;

/// How long anything may take before a test fails (generous: debug builds, busy CI).
const LIMIT: Duration = Duration::from_secs(30);

/// Set (to the source directory) when this binary runs as the job.
const ROLE: &str = "APPS_TRANSCODE_ORPHANS_SOURCE";

/// A transcode that takes as long as the video lasts (the `realtime` filter).
const SLOW_ARGS: &str = "-vf scale=640:360,realtime -c:v mpeg4 -q:v 5 -c:a copy";

/// Makes a `seconds`-long tiny test video at `path`.
fn make_video(path: &Path, seconds: u32) {
    require("ffmpeg");
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=duration={seconds}:size=64x36:rate=10"))
        .args(["-c:v", "mpeg4"])
        .arg(path)
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "making {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
}

fn options(source: &Path) -> Options {
    let mut o = Options::new(source);
    o.display = Display::Quiet;
    o.workers = 1;
    o.ffmpeg_args = Some(SLOW_ARGS.into());
    o
}

/// The job role: never returns (it is killed).
fn job(source: &Path) -> ! {
    let (tx, events) = channel();
    let mut o = options(source);
    o.observer = Some(tx);
    let job = Transcode::new(o).unwrap_or_else(|e| panic!("setup failed: {e}"));
    thread::spawn(move || job.run());
    // Progress comes from ffmpeg itself: it is running.
    for e in events {
        if matches!(e, Event::Progress { .. }) {
            println!("transcoding");
            break;
        }
    }
    loop {
        thread::park();
    }
}

/// The job's process, killed (`kill -9`) and reaped when dropped.
struct Job(Child);

impl Job {
    fn kill_9(&mut self) {
        self.0.kill().expect("kill -9 the job");
        self.0.wait().expect("reap it");
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Kills these processes when dropped (a test that failed with them running).
struct Cleanup(Vec<u32>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        kill(&self.0.iter().copied().filter(|&p| alive(p)).collect::<Vec<_>>());
    }
}

/// Runs this binary as the job on `source` (test `name`); returns once ffmpeg transcodes.
fn start_job(name: &str, source: &Path) -> Job {
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(ROLE, source)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the job");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // libtest's `test NAME ... ` may come first, on the same line.
            if line.ends_with("transcoding") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(LIMIT).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the job did not start transcoding within {LIMIT:?}");
    }
    Job(child)
}

/// The processes (not ended: zombies have) whose command line mentions `needle`.
fn processes_with(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").expect("/proc") {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        if String::from_utf8_lossy(&cmdline).contains(needle) && alive(pid) {
            found.push(pid);
        }
    }
    found
}

fn alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
}

/// The ffmpeg processes working on files under `source`.
fn ffmpegs(source: &Path) -> Vec<u32> {
    let dir = source.display().to_string();
    processes_with(&dir)
        .into_iter()
        .filter(|p| fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "ffmpeg"))
        .collect()
}

/// Waits up to `within` until no ffmpeg works on `source`; what is left.
fn ffmpegs_after(source: &Path, within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left = ffmpegs(source);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        // Polling other processes' ends (not our children: nothing to wait on), with a deadline.
        thread::sleep(Duration::from_millis(5));
    }
}

fn kill(pids: &[u32]) {
    for p in pids {
        let _ = Command::new("kill").args(["-KILL", &p.to_string()]).status();
    }
}

#[test]
fn a_kill_9_of_the_job_mid_transcode_leaves_no_ffmpeg_a_second_later() {
    if let Some(src) = std::env::var_os(ROLE) {
        job(Path::new(&src));
    }
    let src = tempfile::tempdir().unwrap();
    make_video(&src.path().join("long.mp4"), 60);
    let mut running = start_job("a_kill_9_of_the_job_mid_transcode_leaves_no_ffmpeg_a_second_later", src.path());
    let before = ffmpegs(src.path());
    let _cleanup = Cleanup(before.clone());
    assert!(!before.is_empty(), "no ffmpeg found transcoding");
    running.kill_9();
    let left = ffmpegs_after(src.path(), Duration::from_secs(1));
    kill(&left);
    assert!(left.is_empty(), "ffmpeg {left:?} outlived the job by a second");
}

#[test]
fn an_ffmpeg_left_running_by_a_killed_job_is_ended_when_the_next_run_starts() {
    if let Some(src) = std::env::var_os(ROLE) {
        job(Path::new(&src));
    }
    let src = tempfile::tempdir().unwrap();
    make_video(&src.path().join("long.mp4"), 60);
    let mut running = start_job("an_ffmpeg_left_running_by_a_killed_job_is_ended_when_the_next_run_starts", src.path());
    let orphans = ffmpegs(src.path());
    let _cleanup = Cleanup(orphans.clone());
    assert_eq!(orphans.len(), 1, "one ffmpeg transcoding: {orphans:?}");
    // Its watchdog first (as a `kill -9` of the job's whole process tree would), then the job.
    let watchdogs = processes_with(&format!("kamaelia-watchdog\0{}", orphans[0]));
    assert_eq!(watchdogs.len(), 1, "ffmpeg has a watchdog");
    kill(&watchdogs);
    running.kill_9();
    // Nothing ends it now: it is left running.
    assert_eq!(ffmpegs_after(src.path(), Duration::from_millis(500)), orphans, "it was left running");

    let job = Transcode::new(options(src.path())).unwrap_or_else(|e| panic!("setup failed: {e}"));
    let left = ffmpegs(src.path());
    kill(&left);
    assert!(left.is_empty(), "the next run left {left:?} running");
    // Ends at once: nothing is started.
    job.stop_handle().stop();
    let summary = job.run();
    let note = format!("ended ffmpeg (pid {}), left running by an earlier run", orphans[0]);
    assert!(summary.notes.contains(&note), "{:?}", summary.notes);
    assert!(!src.path().join("transcoding/.ffmpeg-worker0.pid").exists());
}
