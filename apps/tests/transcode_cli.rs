//! The `transcode` binary as a user runs it: real signals, a real terminal. (The job's
//! behaviour is tested in-process in `apps/tests/transcode.rs`; here: argument errors,
//! ffmpeg missing, `--until` parsing, Ctrl-C mapped onto stop and abort, and the progress
//! bars on a terminal around a stop.) Needs ffmpeg (`cargo xtask test` installs it).

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::Duration;

use tempfile::TempDir;

const LIMIT: Duration = Duration::from_secs(30);

/// Transcodes that take as long as the video lasts, so a signal lands while one runs.
const SLOW_ARGS: &str = "--ffmpeg-args=-vf scale=640:360,realtime -c:v mpeg4 -c:a copy";

const EXE: &str = env!("CARGO_BIN_EXE_transcode");

fn transcode() -> Command {
    Command::new(EXE)
}

mod tools;

fn make_video(path: &Path, seconds: u32) {
    tools::require("ffmpeg");
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=duration={seconds}:size=64x36:rate=10"))
        .args(["-c:v", "mpeg4"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("ffmpeg is needed for these tests ({}): {e}", tools::HINT));
    assert!(out.status.success(), "making {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
}

/// The job running as a child process, its stdout read line by line.
struct Job {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
}

impl Job {
    fn start(args: &[&str]) -> Job {
        let mut child = transcode()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start transcode");
        let out = child.stdout.take().expect("piped");
        let (tx, lines) = channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Job { child, lines, stdout: Vec::new() }
    }

    fn wait_line(&mut self, containing: &str) {
        loop {
            match self.lines.recv_timeout(LIMIT) {
                Ok(l) => {
                    let found = l.contains(containing);
                    self.stdout.push(l);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!("no line with {containing:?} within {LIMIT:?}; got {:?}", self.stdout),
            }
        }
    }

    fn interrupt(&self) {
        let ok = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().expect("kill");
        assert!(ok.success());
    }

    /// Waits for the end: status, all of stdout, stderr.
    fn finish(mut self) -> (ExitStatus, String, String) {
        let (tx, rx) = channel();
        let mut child = self.child;
        thread::spawn(move || {
            let status = child.wait();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            let _ = tx.send((status, err));
        });
        let (status, err) = rx.recv_timeout(LIMIT).expect("the job did not end");
        self.stdout.extend(self.lines.iter());
        (status.expect("wait"), self.stdout.join("\n"), err)
    }
}

#[test]
fn ctrl_c_lets_the_running_transcode_finish_and_leaves_the_rest() {
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    for n in ["a.mp4", "b.mp4", "c.mp4"] {
        make_video(&src.path().join(n), 2);
    }
    let (s, d) = (src.path().to_str().unwrap(), dest.path().to_str().unwrap());
    let mut job = Job::start(&["--source", s, "--upload", d, "--workers", "1", SLOW_ARGS]);
    job.wait_line("[w0] transcoding a.mp4");
    job.interrupt();
    let (status, out, err) = job.finish();
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    // The job says what the stop does, and what a second interrupt would.
    assert!(
        out.contains("stopping (requested): no new transcodes; running ones finish (interrupt again to abort them)"),
        "{out}"
    );
    assert!(out.contains("stopped (requested)"), "{out}");
    assert!(out.contains("1 transcoded, 1 uploaded, 0 failed, 2 left for the next run"), "{out}");
    assert!(dest.path().join("a.avi").exists() && src.path().join("done/a.mp4").exists());
    assert!(src.path().join("b.mp4").exists() && src.path().join("c.mp4").exists());
}

#[test]
fn a_second_ctrl_c_aborts_the_running_transcode_and_removes_its_partial_output() {
    let src = TempDir::new().unwrap();
    make_video(&src.path().join("long.mp4"), 5);
    let s = src.path().to_str().unwrap();
    let mut job = Job::start(&["--source", s, "--workers", "1", SLOW_ARGS]);
    job.wait_line("[w0] transcoding long.mp4");
    job.interrupt();
    job.wait_line("stopping");
    job.interrupt();
    let (status, out, err) = job.finish();
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("aborting (requested)") && out.contains("(interrupt again to exit at once)"), "{out}");
    assert!(out.contains("aborted (requested)") && out.contains("1 left for the next run"), "{out}");
    assert!(src.path().join("long.mp4").exists());
    assert_eq!(fs::read_dir(src.path().join("transcoding")).unwrap().count(), 0, "partial output removed");
}

#[test]
fn usage_and_environment_errors_exit_with_status_2() {
    let src = TempDir::new().unwrap();
    let s = src.path().to_str().unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("run transcode");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // ffmpeg not on PATH: the install hint.
    let (code, err) = run(transcode().args(["--source", s]).env("PATH", "/nonexistent"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("apt-get install ffmpeg"), "{err}");
    for (args, says) in [
        (vec![], "--source"),
        (vec!["--source", s, "--until", "25:99"], "HH:MM"),
        (vec!["--source", s, "--until", "7"], "HH:MM"),
        (vec!["--source", s, "--until", "07:30:00"], "HH:MM"),
        (vec!["--source", s, "--workers", "many"], "--workers"),
        (vec!["--source", "/nonexistent/videos"], "/nonexistent/videos"),
        (vec!["--source", s, "--upload", "http://example.invalid/"], "http://"),
    ] {
        let (code, err) = run(transcode().args(&args));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (code, _) = run(transcode().arg("--help"));
    assert_eq!(code, Some(0));
}

/// `--until HH:MM` takes any time of day on the 24-hour clock (parsed by chrono); a job whose
/// deadline is hours away runs to its end.
#[test]
fn until_takes_a_time_of_day_and_a_far_deadline_does_not_stop_the_job() {
    let src = TempDir::new().unwrap();
    make_video(&src.path().join("a.mp4"), 1);
    let s = src.path().to_str().unwrap();
    // Twelve hours from now, whatever the clock says: never reached during the test.
    let now = chrono::Local::now() + chrono::TimeDelta::hours(12);
    let until = now.format("%H:%M").to_string();
    let job = Job::start(&["--source", s, "--until", &until]);
    let (status, out, err) = job.finish();
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("1 transcoded") && !out.contains("stopped"), "{out}");
    for t in ["00:00", "23:59", "7:05"] {
        let out = transcode().args(["--source", s, "--dry-run", "--until", t]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "--until {t}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The terminal's size for the terminal test (set with `stty`).
const COLUMNS: usize = 160;

/// A minimal terminal `COLUMNS` wide: what a person would see on screen and in the
/// scrollback after `out` was written to it (text wrapping at the last column, CR, LF, and
/// the cursor-up, cursor-down and erase sequences that progress bars use; colours ignored).
/// Nothing scrolls away: every row ever written is kept.
fn screen(out: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(out);
    let mut rows: Vec<Vec<char>> = vec![Vec::new()];
    let (mut r, mut c) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\r' => c = 0,
            '\n' => r += 1,
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut params = String::new();
                let mut fin = ' ';
                for p in chars.by_ref() {
                    if p.is_ascii_alphabetic() {
                        fin = p;
                        break;
                    }
                    params.push(p);
                }
                let n = params.trim_start_matches('?').parse::<usize>().unwrap_or(1).max(1);
                while rows.len() <= r {
                    rows.push(Vec::new());
                }
                match fin {
                    'A' => r = r.saturating_sub(n),
                    'B' => r += n,
                    'C' => c += n,
                    'D' => c = c.saturating_sub(n),
                    'K' if params == "2" => rows[r].clear(),
                    'K' => rows[r].truncate(c),
                    'J' => {
                        rows.truncate(r + 1);
                        rows[r].truncate(c);
                    }
                    _ => {}
                }
            }
            ch if ch.is_control() => {}
            ch => {
                while rows.len() <= r {
                    rows.push(Vec::new());
                }
                if c >= COLUMNS {
                    // Past the last column: the character goes at the start of the next row.
                    r += 1;
                    c = 0;
                    while rows.len() <= r {
                        rows.push(Vec::new());
                    }
                }
                let row = &mut rows[r];
                while row.len() < c {
                    row.push(' ');
                }
                if c < row.len() {
                    row[c] = ch;
                } else {
                    row.push(ch);
                }
                c += 1;
            }
        }
        while rows.len() <= r {
            rows.push(Vec::new());
        }
    }
    rows.into_iter().map(|row| row.into_iter().collect::<String>().trim_end().to_string()).collect()
}

/// Ctrl-C typed on a real terminal (a pty, through `script`) while the progress bars are
/// drawn: the stop is told once, above the bars; no stale bar frame stays in the scrollback;
/// and the overall bar ends saying how many sources are left, not `100% 3/3 sources done`.
#[test]
fn on_a_terminal_a_stop_leaves_one_bar_frame_that_counts_what_is_left() {
    assert!(tools_has("script"), "`script` (util-linux, Debian's bsdutils) is needed for a terminal: {}", tools::HINT);
    let src = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    for n in ["a.mp4", "b.mp4", "c.mp4"] {
        make_video(&src.path().join(n), 2);
    }
    let line = format!(
        "stty cols {COLUMNS} rows 40; exec {EXE} --source {} --upload {} --workers 1 '{SLOW_ARGS}'",
        src.path().display(),
        dest.path().display()
    );
    let mut child = Command::new("script")
        .args(["-qfec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start script");
    let mut stdout = child.stdout.take().expect("piped");
    let (tx, chunks) = channel();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let mut out = Vec::new();
    // The bars show a.mp4 being transcoded: type Ctrl-C.
    while !String::from_utf8_lossy(&out).contains("a.mp4") {
        match chunks.recv_timeout(LIMIT) {
            Ok(c) => out.extend(c),
            Err(_) => panic!("no bar for a.mp4 within {LIMIT:?}: {:?}", String::from_utf8_lossy(&out)),
        }
    }
    let mut stdin = child.stdin.take().expect("piped");
    std::io::Write::write_all(&mut stdin, b"\x03").unwrap();
    std::io::Write::flush(&mut stdin).unwrap();
    loop {
        match chunks.recv_timeout(LIMIT * 2) {
            Ok(c) => out.extend(c),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(e) => panic!("the job did not end: {e}: {:?}", String::from_utf8_lossy(&out)),
        }
    }
    drop(stdin);
    let status = child.wait().unwrap();
    let rows = screen(&out);
    let shown = rows.join("\n");
    assert!(status.success(), "{status}\n{shown}");
    let count = |needle: &str| rows.iter().filter(|r| r.contains(needle)).count();
    assert_eq!(count("stopping (requested)"), 1, "the stop is told once:\n{shown}");
    assert_eq!(count("overall ["), 1, "one bar frame, the last:\n{shown}");
    assert_eq!(count("w0 ["), 0, "the worker's bar is cleared at the end:\n{shown}");
    let overall = rows.iter().find(|r| r.contains("overall [")).unwrap();
    assert!(overall.contains("1/3 sources done, 2 left for the next run, 1 uploaded"), "{overall}");
    assert!(!overall.contains("100%"), "{overall}");
    assert!(shown.contains("summary: 1 transcoded, 1 uploaded, 0 failed, 2 left for the next run"), "{shown}");
}

fn tools_has(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
}
