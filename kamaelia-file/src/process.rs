//! UnixProcess: a subprocess with stdin, stdout and stderr as boxes.
//!
//! The component is threaded. Its own thread owns the boxes and makes every decision; helper
//! threads do the blocking pipe I/O and the `wait` for the child, each handing over at most
//! one chunk at a time, so nothing between the child and the boxes can grow without bound:
//! - a stdin writer takes one inbox message at a time and reports when it is written;
//! - a stdout reader and a stderr reader each pass one chunk through a one-slot channel and
//!   block until the component has taken it, which it does only once the previous chunk
//!   has gone into its outbox;
//! - a waiter owns the `Child`, waits for it, and reports its status.
//!
//! Helpers wake the component (`Component::wake`) after each hand-over.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ComponentId, ControlWatch, Inbox, Outbox, Signal, ThreadCtx};

/// How a [`UnixProcess`] ended, as sent on its `exit` outbox (one message, just before the
/// final signal).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessExit {
    /// It exited with this status code (0 is success).
    Exited(i32),
    /// It was ended by this signal (15 is SIGTERM, 9 is SIGKILL).
    Signalled(i32),
    /// It could not be started (command not found, not executable, no such directory): the
    /// error.
    NotStarted(String),
    /// Its end could not be observed (waiting for it failed, or it outlived SIGKILL): why.
    Unknown(String),
}

impl ProcessExit {
    /// True only for exit status 0.
    pub fn success(&self) -> bool {
        *self == ProcessExit::Exited(0)
    }

    /// The exit status code, if it exited.
    pub fn code(&self) -> Option<i32> {
        match self {
            ProcessExit::Exited(c) => Some(*c),
            _ => None,
        }
    }

    /// The signal that ended it, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self {
            ProcessExit::Signalled(s) => Some(*s),
            _ => None,
        }
    }

    fn from_status(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(c), _) => ProcessExit::Exited(c),
            (None, Some(s)) => ProcessExit::Signalled(s),
            (None, None) => ProcessExit::Unknown(format!("unrecognised wait status {status}")),
        }
    }
}

impl fmt::Display for ProcessExit {
    /// `exit status 3`, `killed by signal 15 (SIGTERM)`, `not started: ...`, `exit unknown: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessExit::Exited(c) => write!(f, "exit status {c}"),
            ProcessExit::Signalled(s) => match signal_name(*s) {
                Some(name) => write!(f, "killed by signal {s} ({name})"),
                None => write!(f, "killed by signal {s}"),
            },
            ProcessExit::NotStarted(e) => write!(f, "not started: {e}"),
            ProcessExit::Unknown(e) => write!(f, "exit unknown: {e}"),
        }
    }
}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => return None,
    })
}

/// What to run.
#[derive(Clone, Debug)]
enum Program {
    /// `/bin/sh -c <command>`.
    Shell(String),
    /// A program found on `PATH` (or a path), run directly.
    Exec(OsString),
}

/// One change to the child's environment, applied in order.
#[derive(Clone, Debug)]
enum EnvChange {
    Set(OsString, OsString),
    Remove(OsString),
    Clear,
}

/// Kamaelia's `UnixProcess` (in its non-lossy form, `UnixProcess2`): runs a command and
/// connects it to boxes. What arrives on `inbox` is written to its stdin, its stdout comes
/// out of `outbox` and its stderr out of `stderr`, in chunks as the pipes deliver them (up
/// to [`read_size`](Self::read_size) bytes; no framing: follow with a line framer if lines
/// are wanted). How it ended goes out on `exit` and `signal`.
///
/// ```no_run
/// use kamaelia_file::UnixProcess;
/// let upper = UnixProcess::new("tr a-z A-Z").build();
/// let listing = UnixProcess::program("ls").args(["-l", "/tmp"]).build();
/// ```
///
/// Boxes:
/// - `inbox: Vec<u8>`: bytes for its stdin, written in order, one message at a time.
/// - `control: Signal`: shutdown signalling (below).
/// - `outbox: Vec<u8>`: what it writes to stdout.
/// - `signal: Signal`: the report of its end (below); other signals received are passed on.
/// - `stderr: Vec<u8>`: what it writes to stderr (stays empty with
///   [`inherit_stderr`](Self::inherit_stderr)).
/// - `exit: ProcessExit`: one message, how it ended, sent just before the final signal: the
///   typed report for callers that need success or failure per run.
///
/// Configuration: the command ([`new`](Self::new)/[`shell`](Self::shell) for `/bin/sh -c`,
/// [`program`](Self::program) with [`arg`](Self::arg)/[`args`](Self::args) to run a program
/// directly), [`current_dir`](Self::current_dir), [`env`](Self::env),
/// [`env_remove`](Self::env_remove), [`env_clear`](Self::env_clear),
/// [`grace`](Self::grace) (default 5 s), [`read_size`](Self::read_size) (default 64 KiB),
/// [`inherit_stderr`](Self::inherit_stderr), [`inbox_capacity`](Self::inbox_capacity)
/// (default unbounded), [`die_with_parent`](Self::die_with_parent) (default false: see
/// below), [`pid_file`](Self::pid_file).
///
/// Shutdown: the [`ControlWatch`] contract (blocking calls; other signals passed on), with
/// what a process adds to it. The end, reported on `exit` then `signal`:
/// - When the process has exited *and* its stdout and stderr have reached end of file (so
///   everything it wrote has been sent), the component ends, whether or not it was asked
///   to. Exit status 0 gives `ProducerFinished { caller: this component, message:
///   "exit status 0" }`. Any other end gives `ErrorInformation` (`process `cmd`: exit status
///   3`, or `killed by signal 9 (SIGKILL)`) then `ProducerFinished` with that message.
///   Messages still in `inbox` then stay there.
/// - `ProducerFinished` on `control`: everything waiting in `inbox` is still written, then
///   stdin is closed (so `cat` sees end of input), then it waits for the end as above.
/// - `ShutdownMicroprocess` (or `Shutdown`) on `control`: the process is sent SIGTERM; if it
///   has not exited after the grace period it is sent SIGKILL. Once it has exited, `exit`
///   gets its status (typically `Signalled(15)`) and the shutdown signal is passed on out of
///   `signal`. It does not wait for the output pipes' end: output not yet sent is dropped,
///   and input still in `inbox` stays there.
/// - A command that cannot be started: `exit` gets `NotStarted`, `signal` gets
///   `ErrorInformation` (`cannot start process `cmd`: No such file or directory (os error
///   2)`) then `ProducerFinished { message: "not started" }`. No panic. (With `shell`, a
///   missing command is the shell's error: exit status 127 and a message on `stderr`.)
///
/// Backpressure both ways, with no buffer that can drop or grow: a consumer that stops
/// taking `outbox` (or `stderr`) stops the reader, the pipe fills and the process blocks on
/// its write; a process that stops reading stdin blocks the writer, which takes no further
/// message, so `inbox` fills (given a capacity) and its senders wait. At most one chunk per
/// pipe is held between the process and each outbox, and one message between `inbox` and
/// stdin. An *unlinked* outbox keeps what is sent
/// to it (axon-core's rule), so link `stderr` (or use `inherit_stderr`) when a process may
/// write a lot there.
///
/// Errors on the pipes are reported on `signal` as `ErrorInformation` as they happen: a
/// process that stops reading its stdin (broken pipe) is reported with how much of the
/// message was written; the messages after it are not taken from `inbox`.
///
/// The process runs in a process group of its own, and signals go to the whole group, so
/// the commands a shell started go too. The process never outlives the component: if the
/// component's thread ends any other way (a panic), the group is sent SIGKILL. With
/// [`die_with_parent`](Self::die_with_parent) it does not outlive the program either, even
/// one killed with `kill -9`. (After a normal end, processes the command left running in
/// the background with their own output are left alone.)
///
/// Differs from Kamaelia: the original `UnixProcess` keeps at most 10000 queued writes and
/// drops half its backlog when stdin would block, discards stderr, closes stdin on any
/// control message and never stops the process; `UnixProcess2` is non-lossy but also never
/// stops the process on shutdown, and reports no exit status. Named FIFOs (`UnixProcess2`'s
/// `inpipes`/`outpipes`) are not provided.
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Clone, Debug)]
pub struct UnixProcess {
    program: Program,
    args: Vec<OsString>,
    current_dir: Option<PathBuf>,
    env: Vec<EnvChange>,
    grace: Duration,
    read_size: usize,
    inherit_stderr: bool,
    inbox_capacity: Option<usize>,
    die_with_parent: bool,
    pid_file: Option<PathBuf>,
}

/// How long to wait for a process to be reaped after SIGKILL before giving up on it.
const AFTER_KILL: Duration = Duration::from_secs(5);

impl UnixProcess {
    /// Runs `command` with `/bin/sh -c`, as Kamaelia's `UnixProcess(command)` does. The same
    /// as [`shell`](Self::shell).
    pub fn new(command: impl Into<String>) -> Self {
        Self::shell(command)
    }

    /// Runs `command` with `/bin/sh -c`. Arguments added with [`arg`](Self::arg) become the
    /// script's `$1`, `$2`... (so values need no quoting).
    pub fn shell(command: impl Into<String>) -> Self {
        Self::with(Program::Shell(command.into()))
    }

    /// Runs `program` directly (looked up on `PATH` unless it contains a `/`), with no shell.
    pub fn program(program: impl AsRef<OsStr>) -> Self {
        Self::with(Program::Exec(program.as_ref().to_owned()))
    }

    fn with(program: Program) -> Self {
        UnixProcess {
            program,
            args: Vec::new(),
            current_dir: None,
            env: Vec::new(),
            grace: Duration::from_secs(5),
            read_size: 64 * 1024,
            inherit_stderr: false,
            inbox_capacity: None,
            die_with_parent: false,
            pid_file: None,
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<A: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Runs it in `dir`.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Sets an environment variable for it.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env.push(EnvChange::Set(key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Removes an environment variable for it.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.push(EnvChange::Remove(key.as_ref().to_owned()));
        self
    }

    /// Starts it with an empty environment (plus what later [`env`](Self::env) calls set).
    pub fn env_clear(mut self) -> Self {
        self.env.push(EnvChange::Clear);
        self
    }

    /// How long a shutdown waits after SIGTERM before sending SIGKILL (default 5 s).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The largest chunk read from stdout or stderr at once (default 64 KiB; at least 1).
    pub fn read_size(mut self, bytes: usize) -> Self {
        self.read_size = bytes.max(1);
        self
    }

    /// Lets the process write its stderr where this program's stderr goes, instead of to
    /// the `stderr` outbox.
    pub fn inherit_stderr(mut self) -> Self {
        self.inherit_stderr = true;
        self
    }

    /// Gives `inbox` a capacity (default: unbounded, as every box), so that its senders
    /// wait while the process is not reading.
    pub fn inbox_capacity(mut self, messages: usize) -> Self {
        self.inbox_capacity = Some(messages);
        self
    }

    /// Ends the process (its whole process group) when this program dies, however it dies,
    /// `kill -9` included (default false: then only a component that ends or panics ends
    /// it, and a program killed outright leaves it running).
    ///
    /// How: a watchdog, `/bin/sh` waiting on a pipe from this program, started in a process
    /// group of its own right after the process. When the pipe closes without a word (the
    /// kernel closes it as this program dies) it sends SIGKILL to the process's group; when
    /// the process has ended and been dealt with, the component tells it to exit quietly.
    /// (`PR_SET_PDEATHSIG` would need code in the child between `fork` and `exec`, which
    /// safe Rust cannot run; the watchdog also covers the whole group, not just the child.)
    /// Limits: a program killed in the moment between starting the process and starting its
    /// watchdog leaves the process running (a [`pid_file`](Self::pid_file) lets the next run
    /// find it); if the watchdog cannot be started, that is reported on `signal` as
    /// `ErrorInformation` and the process runs unguarded.
    pub fn die_with_parent(mut self, yes: bool) -> Self {
        self.die_with_parent = yes;
        self
    }

    /// While the process runs, keeps `path` a file naming it (its pid, start time and the
    /// boot it belongs to), removed once the process has ended. A program killed outright
    /// leaves the file behind; [`kill_leftover`] reads it, and ends the process if it is
    /// still that one. The directory must exist; a file that cannot be written is reported
    /// on `signal` as `ErrorInformation` and the process runs on.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }

    /// Builds the component. The process starts when the component is activated.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("UnixProcess");
        let inbox = match self.inbox_capacity {
            Some(n) => b.inbox_with_capacity::<Vec<u8>>("inbox", n),
            None => b.inbox::<Vec<u8>>("inbox"),
        };
        let control = b.control();
        let outbox = b.outbox::<Vec<u8>>("outbox");
        let signal = b.signal();
        let stderr = b.outbox::<Vec<u8>>("stderr");
        let exit = b.outbox::<ProcessExit>("exit");
        let watch = ControlWatch::new(control, signal);
        let boxes = Boxes { inbox, watch, outbox, stderr, exit };
        b.run_threaded(move |tctx| run(self, boxes, &tctx))
    }

    /// The command as shown in messages.
    fn describe(&self) -> String {
        let mut s = match &self.program {
            Program::Shell(c) => c.clone(),
            Program::Exec(p) => p.to_string_lossy().into_owned(),
        };
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        format!("process `{s}`")
    }

    fn command(&self) -> Command {
        let mut c = match &self.program {
            Program::Shell(script) => {
                let mut c = Command::new("/bin/sh");
                c.arg("-c").arg(script);
                if !self.args.is_empty() {
                    // `$0`, so that the arguments are `$1`...
                    c.arg("sh");
                }
                c
            }
            Program::Exec(p) => Command::new(p),
        };
        c.args(&self.args);
        if let Some(d) = &self.current_dir {
            c.current_dir(d);
        }
        for change in &self.env {
            match change {
                EnvChange::Set(k, v) => c.env(k, v),
                EnvChange::Remove(k) => c.env_remove(k),
                EnvChange::Clear => c.env_clear(),
            };
        }
        c.stdin(Stdio::piped()).stdout(Stdio::piped());
        c.stderr(if self.inherit_stderr { Stdio::inherit() } else { Stdio::piped() });
        // A group of its own, so that a shutdown reaches everything the command started.
        c.process_group(0);
        c
    }
}

/// The component's boxes; `control` and `signal` are the watch's.
struct Boxes {
    inbox: Inbox<Vec<u8>>,
    watch: ControlWatch,
    outbox: Outbox<Vec<u8>>,
    stderr: Outbox<Vec<u8>>,
    exit: Outbox<ProcessExit>,
}

impl Boxes {
    fn error(&mut self, id: ComponentId, message: String) {
        self.watch.emit_blocking(Signal::ErrorInformation { caller: Some(id), message });
    }

    /// Ends the component: how the process ended goes out on `exit`, then `ErrorInformation`
    /// with `error` (if any) and `end` on `signal`. A shutdown that arrives while `exit`
    /// waits for room drops that report and is passed on in place of a `ProducerFinished`.
    fn end(mut self, tctx: &ThreadCtx, exit: ProcessExit, error: Option<String>, end: Signal) {
        if let Err(stop) = self.watch.send_blocking(tctx, &self.exit, exit) {
            let end = if end.is_shutdown() { end } else { stop.signal };
            return self.watch.finish_blocking(end);
        }
        if let Some(message) = error {
            self.error(tctx.id(), message);
        }
        self.watch.finish_blocking(end);
    }
}

/// The process group of a started process. Signals go to the whole group; dropping it
/// while armed sends SIGKILL, so the process cannot outlive the component. With a watchdog
/// it cannot outlive the program either; with a pid file, that file is removed with it.
struct Group {
    pgid: Option<libc::pid_t>,
    armed: bool,
    watchdog: Option<Watchdog>,
    pid_file: Option<PathBuf>,
}

impl Group {
    fn of(child: &Child) -> Self {
        // `process_group(0)` made the child the leader of a group with its own pid.
        let pgid = libc::pid_t::try_from(child.id()).ok().filter(|&p| p > 1);
        Group { pgid, armed: true, watchdog: None, pid_file: None }
    }

    /// The process has ended and been dealt with: the group is left alone from now on, the
    /// watchdog told to exit quietly, the pid file removed.
    fn disarm(&mut self) {
        self.armed = false;
        if let Some(w) = self.watchdog.take() {
            w.dismiss();
        }
        if let Some(path) = self.pid_file.take() {
            let _ = fs::remove_file(path);
        }
    }

    fn signal(&self, signal: libc::c_int) {
        if let Some(pgid) = self.pgid {
            // ESRCH (the group is already gone) is the only expected failure, and harmless.
            let _ = kill_group(pgid, signal);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.armed {
            self.signal(libc::SIGKILL);
            // A watchdog dropped unsaid kills the group too (already done) and is reaped.
            self.watchdog = None;
            if let Some(path) = self.pid_file.take() {
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// The watchdog's script: `$1` is the process group to guard. A line `done` dismisses it;
/// the end of its input without that line (this program died) kills the group.
const WATCHDOG: &str = r#"read -r word; [ "$word" = done ] || kill -s KILL -- "-$1" 2>/dev/null"#;

/// A watchdog process (see [`UnixProcess::die_with_parent`]): its stdin is a pipe only this
/// program holds (std makes pipes close-on-exec, so no other child inherits it).
struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    fn start(pgid: libc::pid_t) -> io::Result<Watchdog> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("kamaelia-watchdog")
            .arg(pgid.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own group: a Ctrl-C at the terminal (to this program's group) leaves it be.
            .process_group(0)
            .spawn()?;
        let stdin = child.stdin.take();
        Ok(Watchdog { child, stdin })
    }

    /// Tells it to exit without doing anything, and reaps it.
    fn dismiss(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"done\n");
        }
        let _ = self.child.wait();
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Closing its input unsaid: it kills the group, then exits; reaped here.
        if self.stdin.take().is_some() {
            let _ = self.child.wait();
        }
    }
}

/// What a pid file holds: `PID STARTTIME BOOT_ID`, the start time in clock ticks since boot
/// (`/proc/PID/stat`, field 22): together they name one process, whatever pids are reused.
fn write_pid_file(path: &Path, pid: u32) -> io::Result<()> {
    let start = start_time(pid)?;
    fs::write(path, format!("{pid} {start} {}\n", boot_id()?))
}

/// A process's start time, from `/proc/PID/stat`.
fn start_time(pid: u32) -> io::Result<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    after
        .split_whitespace()
        .nth(19)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("unexpected /proc/{pid}/stat")))
}

/// This boot's id.
fn boot_id() -> io::Result<String> {
    Ok(fs::read_to_string("/proc/sys/kernel/random/boot_id")?.trim().to_string())
}

/// True while `pid` is a process that has not ended (a zombie has ended).
fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// What [`kill_leftover`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Leftover {
    /// There is no pid file: nothing was left.
    NoFile,
    /// The process it names has ended (or its pid is another process's now); the file was
    /// removed.
    Gone,
    /// The process was still running: its group was sent SIGKILL (and it has ended); the
    /// file was removed.
    Killed(u32),
}

/// How long [`kill_leftover`] waits for a killed process to end.
const LEFTOVER_WAIT: Duration = Duration::from_secs(5);

/// Ends the process a [`UnixProcess::pid_file`] left behind (its program was killed
/// outright), if it is still running and still that process (same pid, start time and
/// boot): SIGKILL to its process group, then a wait of up to 5 s for it to end. The file is
/// removed.
///
/// # Errors
/// The file cannot be read or removed. A file that does not say what a pid file says is
/// removed and reported as [`Leftover::Gone`]: no process can be identified by it.
pub fn kill_leftover(path: &Path) -> io::Result<Leftover> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Leftover::NoFile),
        Err(e) => return Err(e),
    };
    let mut fields = text.split_whitespace();
    let recorded = match (fields.next().and_then(|p| p.parse::<u32>().ok()), fields.next(), fields.next()) {
        (Some(pid), Some(start), Some(boot)) => Some((pid, start.to_string(), boot.to_string())),
        _ => None,
    };
    let same = recorded.as_ref().is_some_and(|(pid, start, boot)| {
        *pid > 1
            && boot_id().is_ok_and(|b| b == *boot)
            && start_time(*pid).is_ok_and(|t| t.to_string() == *start)
            && alive(*pid)
    });
    let found = match recorded {
        Some((pid, ..)) if same => {
            if let Ok(pgid) = libc::pid_t::try_from(pid) {
                // ESRCH (it ended meanwhile) is the only expected failure.
                let _ = kill_group(pgid, libc::SIGKILL);
            }
            let deadline = Instant::now() + LEFTOVER_WAIT;
            // It is not our child: there is nothing to wait on but its /proc entry.
            while alive(pid) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            Leftover::Killed(pid)
        }
        _ => Leftover::Gone,
    };
    fs::remove_file(path)?;
    Ok(found)
}

/// Sends `signal` to every process in group `pgid` (std can only send SIGKILL, to one process).
fn kill_group(pgid: libc::pid_t, signal: libc::c_int) -> io::Result<()> {
    debug_assert!(pgid > 1, "never signal our own group (0) or init (1)");
    // A group's id cannot be reused while any member (the unreaped leader, or what it
    // started) is alive; a signal sent just after the leader is reaped (a shutdown racing its
    // own exit) follows within moments, far inside the kernel's pid reuse cycle.
    let sig = nix::sys::signal::Signal::try_from(signal).map_err(io::Error::from)?;
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), sig).map_err(io::Error::from)
}

/// What the stdin writer and the waiter tell the component.
enum Event {
    /// The message handed to the writer is written.
    Written,
    /// Writing the message failed after `written` of its `of` bytes; the writer has ended.
    WriteFailed { written: usize, of: usize, error: io::Error },
    /// The process has exited (and is reaped).
    Exited(io::Result<ExitStatus>),
}

/// What a reader hands over.
enum Chunk {
    Data(Vec<u8>),
    Failed(io::Error),
}

/// One output pipe as the component sees it: the reader's channel (None once it has
/// reached end of file) and a chunk taken from it but not yet accepted by the outbox.
struct Output {
    name: &'static str,
    rx: Option<Receiver<Chunk>>,
    pending: Option<Vec<u8>>,
}

impl Output {
    fn new(name: &'static str, rx: Option<Receiver<Chunk>>) -> Self {
        Output { name, rx, pending: None }
    }

    /// True until end of file has been reached and everything read has been sent.
    fn open(&self) -> bool {
        self.rx.is_some() || self.pending.is_some()
    }

    /// Moves chunks from the reader into `out` while `out` has room. If it fills, this
    /// component is woken when room appears. Returns whether anything moved.
    fn pump(&mut self, out: &Outbox<Vec<u8>>, errors: &mut Vec<String>) -> bool {
        let mut progress = false;
        loop {
            if let Some(chunk) = self.pending.take() {
                if let Err(full) = out.try_send_notify(chunk) {
                    self.pending = Some(full.into_inner());
                    return progress;
                }
                progress = true;
            }
            let Some(rx) = &self.rx else {
                return progress;
            };
            match rx.try_recv() {
                Ok(Chunk::Data(d)) => self.pending = Some(d),
                Ok(Chunk::Failed(e)) => {
                    errors.push(format!("reading its {} failed: {e}", self.name));
                    self.rx = None;
                }
                Err(TryRecvError::Empty) => return progress,
                Err(TryRecvError::Disconnected) => self.rx = None,
            }
            progress = true;
        }
    }
}

/// Where the component is in its life.
enum Phase {
    /// Feeding stdin from `inbox`, forwarding output.
    Running,
    /// ProducerFinished received: write what is in `inbox`, close stdin, wait for the end.
    Finishing,
    /// Shutdown received: SIGTERM sent; SIGKILL once `deadline` passes (`killed`); then
    /// give up at the next deadline.
    Terminating { signal: Signal, deadline: Instant, killed: bool },
}

/// The component's body.
fn run(cfg: UnixProcess, mut bx: Boxes, tctx: &ThreadCtx) {
    let me = tctx.component();
    let id = me.id();
    let what = cfg.describe();
    let finished = |how: String| Signal::ProducerFinished { caller: Some(id), message: Some(how) };
    let mut child = match cfg.command().spawn() {
        Ok(c) => c,
        Err(e) => {
            let place = cfg.current_dir.as_ref().map(|d| format!(" in {}", d.display())).unwrap_or_default();
            let why = format!("cannot start {what}{place}: {e}");
            return bx.end(tctx, ProcessExit::NotStarted(e.to_string()), Some(why), finished("not started".into()));
        }
    };
    let mut group = Group::of(&child);
    if cfg.die_with_parent {
        match group.pgid.map(Watchdog::start).transpose() {
            Ok(w) => group.watchdog = w,
            Err(e) => bx.error(id, format!("{what}: cannot start its watchdog (it may outlive this program): {e}")),
        }
    }
    if let Some(path) = &cfg.pid_file {
        match write_pid_file(path, child.id()) {
            Ok(()) => group.pid_file = Some(path.clone()),
            Err(e) => bx.error(id, format!("{what}: cannot write its pid file {}: {e}", path.display())),
        }
    }
    let (events_tx, events) = mpsc::channel::<Event>();
    let helpers = start_helpers(&mut child, &cfg, &me, &events_tx);
    let (stdin_tx, stdout_rx, stderr_rx) = match helpers {
        Ok(h) => h,
        Err(e) => {
            // We still own the child: end it and report.
            group.signal(libc::SIGKILL);
            let exit = child.wait().map_or_else(|w| ProcessExit::Unknown(w.to_string()), ProcessExit::from_status);
            group.disarm();
            let why = format!("{what}: could not start a thread to serve it: {e}; it was killed");
            let end = finished(exit.to_string());
            return bx.end(tctx, exit, Some(why), end);
        }
    };
    // The waiter takes the child over; it is handed on only once its thread runs, so a
    // failure to start that thread leaves it with us.
    let (child_tx, child_rx) = mpsc::channel::<Child>();
    let waiter_events = events_tx.clone();
    let waiter_me = me.clone();
    let waiter = thread::Builder::new().name(format!("{}-wait", me.name())).spawn(move || {
        if let Ok(mut child) = child_rx.recv() {
            let status = child.wait();
            let _ = waiter_events.send(Event::Exited(status));
            waiter_me.wake();
        }
    });
    if let Err(e) = waiter {
        group.signal(libc::SIGKILL);
        let exit = child.wait().map_or_else(|w| ProcessExit::Unknown(w.to_string()), ProcessExit::from_status);
        group.disarm();
        let why = format!("{what}: could not start a thread to wait for it: {e}; it was killed");
        let end = finished(exit.to_string());
        return bx.end(tctx, exit, Some(why), end);
    }
    // The waiter's thread runs and blocks in `recv` until this arrives.
    let _ = child_tx.send(child);
    drop(events_tx);

    let serve = Serve {
        bx: &mut bx,
        tctx,
        id,
        what: &what,
        grace: cfg.grace,
        group: &group,
        events,
        stdin: stdin_tx,
        in_flight: None,
        stdout: Output::new("stdout", Some(stdout_rx)),
        stderr: Output::new("stderr", stderr_rx),
        exit: None,
    };
    let (exit, shutdown) = serve.run();

    match shutdown {
        Some(signal) => {
            // Anything of the group still alive goes now, before the shutdown is passed on.
            group.signal(libc::SIGKILL);
            group.disarm();
            bx.end(tctx, exit, None, signal);
        }
        None => {
            group.disarm();
            let error = (!exit.success()).then(|| format!("{what}: {exit}"));
            let end = finished(exit.to_string());
            bx.end(tctx, exit, error, end);
        }
    }
}

type Helpers = (Option<Sender<Vec<u8>>>, Receiver<Chunk>, Option<Receiver<Chunk>>);

/// Starts the stdin writer and the output readers.
fn start_helpers(child: &mut Child, cfg: &UnixProcess, me: &Component, events: &Sender<Event>) -> io::Result<Helpers> {
    let name = me.name().to_string();
    let (stdin, stdout) = match (child.stdin.take(), child.stdout.take()) {
        (Some(i), Some(o)) => (i, o),
        _ => return Err(io::Error::other("its pipes were not set up")),
    };
    let (stdin_tx, stdin_rx) = mpsc::channel::<Vec<u8>>();
    let (ev, who) = (events.clone(), me.clone());
    thread::Builder::new().name(format!("{name}-stdin")).spawn(move || write_stdin(stdin, &stdin_rx, &ev, &who))?;

    let stdout_rx = start_reader(format!("{name}-stdout"), stdout, cfg.read_size, me)?;
    let stderr_rx = match child.stderr.take() {
        Some(err) => Some(start_reader(format!("{name}-stderr"), err, cfg.read_size, me)?),
        None => None,
    };
    Ok((Some(stdin_tx), stdout_rx, stderr_rx))
}

fn start_reader(
    thread_name: String,
    from: impl Read + Send + 'static,
    size: usize,
    me: &Component,
) -> io::Result<Receiver<Chunk>> {
    // One slot: the reader blocks until the component has taken the previous chunk.
    let (tx, rx) = mpsc::sync_channel::<Chunk>(1);
    let who = me.clone();
    thread::Builder::new().name(thread_name).spawn(move || read_pipe(from, tx, size, &who))?;
    Ok(rx)
}

/// The stdin writer: one message at a time; reports each; ends (closing stdin) when the
/// component drops its sender, or after a failed write.
fn write_stdin(mut stdin: ChildStdin, rx: &Receiver<Vec<u8>>, events: &Sender<Event>, me: &Component) {
    for msg in rx {
        let outcome = write_counting(&mut stdin, &msg);
        let failed = outcome.is_err();
        let event = match outcome {
            Ok(()) => Event::Written,
            Err((written, error)) => Event::WriteFailed { written, of: msg.len(), error },
        };
        if events.send(event).is_err() {
            return;
        }
        me.wake();
        if failed {
            return;
        }
    }
}

/// `write_all` that says how much was written when it fails.
fn write_counting(to: &mut impl Write, mut buf: &[u8]) -> Result<(), (usize, io::Error)> {
    let total = buf.len();
    while !buf.is_empty() {
        match to.write(buf) {
            Ok(0) => return Err((total - buf.len(), io::Error::from(io::ErrorKind::WriteZero))),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((total - buf.len(), e)),
        }
    }
    Ok(())
}

/// An output reader: hands over each chunk read (blocking while the previous one is still
/// waiting), until end of file, an error, or the component stops listening.
fn read_pipe(mut from: impl Read, tx: SyncSender<Chunk>, size: usize, me: &Component) {
    let mut buf = vec![0; size];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if tx.send(Chunk::Data(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Chunk::Failed(e));
                break;
            }
        }
        me.wake();
    }
    // The channel's end is the component's end of file: close it *before* the wake, so the
    // component cannot look, find it open, and sleep through it.
    drop(tx);
    me.wake();
}

/// The component's loop while the process runs.
struct Serve<'a> {
    bx: &'a mut Boxes,
    tctx: &'a ThreadCtx,
    id: ComponentId,
    what: &'a str,
    grace: Duration,
    group: &'a Group,
    events: Receiver<Event>,
    /// To the stdin writer; None once stdin is closed (or the writer has failed).
    stdin: Option<Sender<Vec<u8>>>,
    /// The length of the message the writer is writing, if any.
    in_flight: Option<usize>,
    stdout: Output,
    stderr: Output,
    /// The process's status once reaped, and when we learnt it.
    exit: Option<(io::Result<ExitStatus>, Instant)>,
}

impl Serve<'_> {
    /// Runs until the end; returns how the process ended and, if it was shut down, the
    /// signal to pass on.
    fn run(mut self) -> (ProcessExit, Option<Signal>) {
        let mut phase = Phase::Running;
        loop {
            let mut progress = self.control(&mut phase);
            progress |= self.events();
            progress |= self.feed_stdin(&phase);
            let mut errors = Vec::new();
            progress |= self.stdout.pump(&self.bx.outbox, &mut errors);
            progress |= self.stderr.pump(&self.bx.stderr, &mut errors);
            for e in errors {
                self.bx.error(self.id, format!("{}: {e}", self.what));
            }

            let now = Instant::now();
            let mut wake_at = None;
            match &mut phase {
                Phase::Terminating { signal, deadline, killed } => {
                    if self.exit.is_some() {
                        let signal = signal.clone();
                        return (self.take_exit(), Some(signal));
                    }
                    if now >= *deadline {
                        if *killed {
                            let why = format!("it was still running {AFTER_KILL:?} after SIGKILL");
                            self.bx.error(self.id, format!("{}: {why}", self.what));
                            return (ProcessExit::Unknown(why), Some(signal.clone()));
                        }
                        self.group.signal(libc::SIGKILL);
                        *killed = true;
                        *deadline = now + AFTER_KILL;
                        progress = true;
                    }
                    wake_at = Some(*deadline);
                }
                Phase::Running | Phase::Finishing => {
                    if let Some((_, at)) = &self.exit {
                        if !self.stdout.open() && !self.stderr.open() {
                            // A write in progress when the process exited normally fails at
                            // once (broken pipe); wait for its report a little.
                            let give_up = *at + self.grace;
                            if self.in_flight.is_none() {
                                return (self.take_exit(), None);
                            }
                            if now >= give_up {
                                let n = self.in_flight.take().unwrap_or(0);
                                self.bx.error(
                                    self.id,
                                    format!(
                                        "{}: a write of {n} bytes to its stdin had not completed when it ended",
                                        self.what
                                    ),
                                );
                                return (self.take_exit(), None);
                            }
                            wake_at = Some(give_up);
                        }
                    }
                }
            }
            if !progress {
                self.tctx.pause(wake_at.map(|t| t.saturating_duration_since(Instant::now())));
            }
        }
    }

    fn take_exit(&mut self) -> ProcessExit {
        match self.exit.take() {
            Some((Ok(status), _)) => ProcessExit::from_status(status),
            Some((Err(e), _)) => ProcessExit::Unknown(format!("waiting for it failed: {e}")),
            None => ProcessExit::Unknown("it was not seen to end".into()),
        }
    }

    /// Looks at `control` (other signals are passed on by the watch). Returns whether a
    /// signal to act on arrived.
    fn control(&mut self, phase: &mut Phase) -> bool {
        let mut progress = false;
        if let Some(s) = self.bx.watch.check() {
            progress = true;
            if !matches!(phase, Phase::Terminating { .. }) {
                self.group.signal(libc::SIGTERM);
                // Closing stdin too: some programs end on that sooner.
                self.stdin = None;
                *phase = Phase::Terminating { signal: s, deadline: Instant::now() + self.grace, killed: false };
            }
        }
        if self.bx.watch.take_finished().is_some() {
            progress = true;
            if matches!(phase, Phase::Running) {
                *phase = Phase::Finishing;
            }
        }
        progress
    }

    /// Handles what the writer and the waiter report. Returns whether anything arrived.
    fn events(&mut self) -> bool {
        let mut progress = false;
        while let Ok(event) = self.events.try_recv() {
            progress = true;
            match event {
                Event::Written => self.in_flight = None,
                Event::WriteFailed { written, of, error } => {
                    self.in_flight = None;
                    self.stdin = None;
                    let left = self.bx.inbox.len();
                    self.bx.error(
                        self.id,
                        format!(
                            "{}: writing to its stdin failed after {written} of {of} bytes of a message: {error}; \
                             {left} later message(s) stay in its inbox",
                            self.what
                        ),
                    );
                }
                Event::Exited(status) => self.exit = Some((status, Instant::now())),
            }
        }
        progress
    }

    /// Hands the writer the next inbox message when it is idle; closes stdin once finishing
    /// and everything is written. Returns whether anything happened.
    fn feed_stdin(&mut self, phase: &Phase) -> bool {
        if self.in_flight.is_some() || matches!(phase, Phase::Terminating { .. }) {
            return false;
        }
        let Some(tx) = &self.stdin else {
            return false;
        };
        if let Some(msg) = self.bx.inbox.try_recv() {
            let len = msg.len();
            if tx.send(msg).is_ok() {
                self.in_flight = Some(len);
            } else {
                // The writer ends only after reporting a failure (handled before this) or
                // when we drop the sender; a writer that vanished otherwise is reported.
                self.stdin = None;
                self.bx.error(self.id, format!("{}: its stdin writer has gone; {len} bytes not written", self.what));
            }
            return true;
        }
        if matches!(phase, Phase::Finishing) {
            // Everything sent before ProducerFinished is written: end of input.
            self.stdin = None;
            return true;
        }
        false
    }
}
