//! Uploading: where outputs go (an FTP server or a local directory), one upload (with its
//! errors told apart: permanent refusals, lost connections, transient failures), and the
//! Uploader component that retries the transient ones with backoff.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Component as PathPart, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Inbox, Next, Outbox, Signal, SignalPolicy, ThreadCtx};
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use suppaftp::types::{FileType, Mode};
use suppaftp::{FtpError, FtpStream};

use super::events::{Event, FailedStage, Failure, Job, JobControl, ToUploader, job_control};
use super::state::{Layout, move_no_clobber};

/// How long connecting to an FTP server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// How long one read or write on an FTP connection may stall.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest wait between two attempts at one upload.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Where outputs are uploaded.
#[derive(Clone, PartialEq, Eq)]
pub enum Destination {
    /// An FTP server (`ftp://user:pass@host:port/path`), used in passive mode.
    Ftp(FtpTarget),
    /// A local directory (created if missing).
    Dir(PathBuf),
}

/// An FTP destination. The path is relative to the login directory, one segment per
/// directory (RFC 1738), created if missing.
#[derive(Clone, PartialEq, Eq)]
pub struct FtpTarget {
    /// The user name (`anonymous` if the URL has none).
    pub user: String,
    password: String,
    /// The host name or address.
    pub host: String,
    /// The port (21 if the URL has none).
    pub port: u16,
    /// The directories to enter, in order.
    pub path: Vec<String>,
}

impl Destination {
    /// `ftp://[user[:password]@]host[:port][/path]` (user and password may be
    /// percent-encoded), or a local directory.
    ///
    /// # Errors
    /// A URL that cannot be understood, or another scheme than `ftp`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let Some(rest) = s.strip_prefix("ftp://") else {
            if let Some((scheme, _)) = s.split_once("://") {
                return Err(format!(
                    "cannot upload to {scheme}:// URLs: give ftp://user:pass@host:port/path or a local directory"
                ));
            }
            if s.is_empty() {
                return Err("the upload destination is empty".into());
            }
            return Ok(Destination::Dir(PathBuf::from(s)));
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => {
                let (user, pass) = u.split_once(':').unwrap_or((u, ""));
                (percent_decode(user)?, percent_decode(pass)?)
            }
            None => ("anonymous".to_string(), String::new()),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| format!("unclosed [ in {s:?}"))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(format!("no host in {s:?}"));
        }
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| format!("bad port {p:?} in the upload URL"))?,
            None => 21,
        };
        let path = path.split('/').filter(|p| !p.is_empty()).map(percent_decode).collect::<Result<_, _>>()?;
        Ok(Destination::Ftp(FtpTarget { user, password, host: host.to_string(), port, path }))
    }
}

impl fmt::Display for Destination {
    /// The destination with any password left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Ftp(t) => {
                let host = if t.host.contains(':') { format!("[{}]", t.host) } else { t.host.clone() };
                write!(f, "ftp://{}@{host}:{}/{}", t.user, t.port, t.path.join("/"))
            }
            Destination::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Destination({self})")
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or_else(|| format!("bad %-escape in {s:?}"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad %-escape in {s:?}"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} does not decode to UTF-8"))
}

/// Why an upload failed, and whether trying again could help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadError {
    message: String,
    permanent: bool,
}

impl UploadError {
    /// A failure that may pass (a network error, a lost connection, a 4xx reply).
    pub fn transient(message: impl Into<String>) -> Self {
        UploadError { message: message.into(), permanent: false }
    }

    /// A refusal that will not change by trying again (a 5xx reply: 530 login refused, 550
    /// permission denied ...).
    pub fn permanent(message: impl Into<String>) -> Self {
        UploadError { message: message.into(), permanent: true }
    }

    /// True if trying again cannot help.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// What went wrong, in words (the server's own for a refusal).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UploadError {}

impl From<String> for UploadError {
    /// A local problem, or one with no reply to judge by: worth another try.
    fn from(message: String) -> Self {
        UploadError::transient(message)
    }
}

/// An FTP failure while doing `what` on `server`, told apart and put in plain words:
/// - a 5xx reply (RFC 959's "permanent negative completion": 530 not logged in, 550 no such
///   file or no permission, 553 name not allowed ...) is permanent, with the server's words;
/// - a 4xx reply (421 closing, 425/426 data connection trouble, 450/451/452 ...) is
///   transient, with the server's words;
/// - a connection that ends without a reply (or is reset, or a pipe breaks) is transient:
///   "the connection was lost";
/// - a stall past the I/O timeout, and any other network error, are transient.
fn ftp_error(server: &str, what: &str, err: FtpError) -> UploadError {
    let lost = || {
        UploadError::transient(format!("{server}: {what}: the connection was lost (the server closed it or went away)"))
    };
    match err {
        FtpError::UnexpectedResponse(r) => {
            let code = r.status.code();
            let words = String::from_utf8_lossy(&r.body).trim().to_string();
            let words = if words.starts_with(&code.to_string()) { words } else { format!("{code} {words}") };
            let message = format!("{server}: {what}: the server said \"{words}\"");
            if (500..600).contains(&code) { UploadError::permanent(message) } else { UploadError::transient(message) }
        }
        // What suppaftp reports when a reply was expected and the connection ended instead.
        FtpError::BadResponse => lost(),
        FtpError::ConnectionError(e) => match e.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => lost(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => UploadError::transient(format!(
                "{server}: {what}: the server did not answer within {} s",
                IO_TIMEOUT.as_secs()
            )),
            _ => UploadError::transient(format!("{server}: {what}: {e}")),
        },
        other => UploadError::transient(format!("{server}: {what}: {other}")),
    }
}

/// A reader that fails once `cancel` is set: how an upload is abandoned mid-transfer.
struct Cancellable<'a, R> {
    inner: R,
    cancel: &'a AtomicBool,
}

impl<R: Read> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("upload abandoned"));
        }
        self.inner.read(buf)
    }
}

/// Uploads the file `local` to `dest` as `rel` (its path relative to `to_upload/`): written
/// under a `.part` name, then renamed, so a reader at the destination never sees half a file.
///
/// # Errors
/// What went wrong, in words, and whether it is [permanent](UploadError::is_permanent).
pub fn upload(dest: &Destination, local: &Path, rel: &Path, cancel: &AtomicBool) -> Result<(), UploadError> {
    let name = rel.file_name().ok_or_else(|| format!("{} has no file name", rel.display()))?;
    let mut part_name = name.to_os_string();
    part_name.push(".part");
    let file = File::open(local).map_err(|e| format!("cannot read {}: {e}", local.display()))?;
    let mut reader = Cancellable { inner: file, cancel };
    match dest {
        Destination::Dir(dir) => {
            let target = dir.join(rel);
            let parent = target.parent().unwrap_or(dir);
            fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            let part = target.with_file_name(&part_name);
            let copied = File::create(&part)
                .and_then(|mut to| io::copy(&mut reader, &mut to).and_then(|_| to.sync_all()))
                .and_then(|()| fs::rename(&part, &target));
            copied.map_err(|e| {
                let _ = fs::remove_file(&part);
                UploadError::transient(format!("cannot write {}: {e}", target.display()))
            })
        }
        Destination::Ftp(t) => {
            let utf8 = |s: &std::ffi::OsStr| {
                s.to_str().map(str::to_string).ok_or_else(|| format!("{} is not a UTF-8 name", s.to_string_lossy()))
            };
            let mut dirs = t.path.clone();
            if let Some(parent) = rel.parent() {
                for part in parent.components() {
                    if let PathPart::Normal(p) = part {
                        dirs.push(utf8(p)?);
                    }
                }
            }
            ftp_put(t, &dirs, &utf8(name)?, &utf8(&part_name)?, &mut reader)
        }
    }
}

fn ftp_put(t: &FtpTarget, dirs: &[String], name: &str, part: &str, reader: &mut impl Read) -> Result<(), UploadError> {
    let server = format!("{}:{}", t.host, t.port);
    let addrs = (t.host.as_str(), t.port).to_socket_addrs().map_err(|e| format!("cannot resolve {server}: {e}"))?;
    let mut last = format!("{server} has no address");
    let mut ftp = None;
    for addr in addrs {
        match FtpStream::connect_timeout(addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                ftp = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {server}: {e}"),
        }
    }
    let ftp = ftp.ok_or(last)?;
    let _ = ftp.get_ref().set_read_timeout(Some(IO_TIMEOUT));
    let _ = ftp.get_ref().set_write_timeout(Some(IO_TIMEOUT));
    let mut ftp = ftp.passive_stream_builder(|addr| {
        let s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(FtpError::ConnectionError)?;
        let _ = s.set_read_timeout(Some(IO_TIMEOUT));
        let _ = s.set_write_timeout(Some(IO_TIMEOUT));
        Ok(s)
    });
    ftp.set_mode(Mode::Passive);
    let e = |what: &str| {
        let (server, what) = (server.clone(), what.to_string());
        move |err: FtpError| ftp_error(&server, &what, err)
    };
    ftp.login(t.user.as_str(), t.password.as_str()).map_err(e(&format!("login as {} refused", t.user)))?;
    ftp.transfer_type(FileType::Binary).map_err(e("cannot set binary mode"))?;
    for dir in dirs {
        if let Err(err) = ftp.cwd(dir) {
            // A missing directory is made; a lost connection is not a missing directory.
            if !matches!(&err, FtpError::UnexpectedResponse(_)) {
                return Err(e(&format!("cannot enter directory {dir}"))(err));
            }
            ftp.mkdir(dir).map_err(e(&format!("cannot create directory {dir}")))?;
            ftp.cwd(dir).map_err(e(&format!("cannot enter directory {dir}")))?;
        }
    }
    ftp.put_file(part, reader).map_err(e(&format!("cannot store {part}")))?;
    if let Err(err) = ftp.rename(part, name) {
        if !matches!(&err, FtpError::UnexpectedResponse(_)) {
            return Err(e(&format!("cannot rename {part} to {name}"))(err));
        }
        // Some servers will not rename over an existing file.
        let _ = ftp.rm(name);
        ftp.rename(part, name).map_err(e(&format!("cannot rename {part} to {name}")))?;
    }
    let _ = ftp.quit();
    Ok(())
}

/// The Uploader (the seed's FTP `Uploader`): the second stage of a worker pipeline. Uploads
/// each output that arrives to the [`Destination`], then moves it from `to_upload/` to
/// `encoded/`; events from the Transcoder are passed on as they come.
///
/// Each upload runs on a helper thread, so events keep flowing while it runs. A transient
/// failure (a network error, a lost connection, a 4xx reply: see [`UploadError`]) is
/// retried after a backoff that doubles each time ([`backoff`](Self::backoff), default 2 s;
/// at most 5 minutes; the policy is `backon`'s exponential one), up to
/// [`attempts`](Self::attempts) attempts in all (default 5). A permanent refusal (a 5xx
/// reply: 530 login refused, 550 permission denied ...) fails the output at once, with the
/// server's words. A failed output stays in `to_upload/` for the next run. Without a
/// destination, outputs stay in `to_upload/` ([`Event::AwaitingUpload`]).
///
/// Boxes:
/// - `inbox: ToUploader`: outputs to upload, and events to pass on.
/// - `control: Signal`: shutdown signalling and stop requests.
/// - `outbox: Event`: events, for the reporter.
/// - `signal: Signal`: signals passed on, stop requests included; the signal that ended it.
///
/// Stopping: after [`JobControl::Stop`] it still uploads what it is given (the outputs of
/// the transcodes that were allowed to finish). After [`JobControl::Abort`] a running upload
/// is abandoned ([`Event::Aborted`]) and queued ones are left ([`Event::Left`]); their files
/// stay in `to_upload/`, which is the checkpoint the next run starts from.
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking variants: it is threaded): on
/// `ProducerFinished` it first finishes the uploads it has (retries included). A shutdown
/// (also one that ends a send waiting on a full `outbox`) abandons a running upload as an
/// abort does, and is passed on once the upload's thread has let go. Policy
/// [`SignalPolicy::Deliver`]: it acts on stop requests; every signal that does not end it is
/// passed on.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Uploader {
    worker: usize,
    layout: Layout,
    destination: Option<Arc<Destination>>,
    attempts: u32,
    backoff: Duration,
    dry_run: bool,
}

impl Uploader {
    /// Worker number `worker`'s uploader of outputs under `layout` to `destination`.
    pub fn new(worker: usize, layout: Layout, destination: Option<Arc<Destination>>) -> Self {
        Uploader { worker, layout, destination, attempts: 5, backoff: Duration::from_secs(2), dry_run: false }
    }

    /// Attempts per upload, the first included (at least 1).
    pub fn attempts(mut self, n: u32) -> Self {
        self.attempts = n.max(1);
        self
    }

    /// The wait after the first failed attempt; it doubles after each further one.
    pub fn backoff(mut self, first: Duration) -> Self {
        self.backoff = first;
        self
    }

    /// Only reports what it would do; uploads and moves nothing.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Uploader");
        let inbox = b.inbox::<ToUploader>("inbox");
        let control = b.control();
        let outbox = b.outbox::<Event>("outbox");
        let signal = b.signal();
        b.run_threaded(move |tctx| {
            let run = Run {
                cfg: self,
                tctx: &tctx,
                watch: ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver),
                inbox,
                outbox,
                queue: VecDeque::new(),
                current: None,
                retry: None,
                aborting: false,
                finishing: None,
                shutdown: None,
            };
            run.run();
        })
    }
}

/// An upload attempt in progress.
struct InFlight {
    output: PathBuf,
    attempt: u32,
    /// The waits before its further attempts.
    backoff: ExponentialBackoff,
    result: Receiver<Result<(), UploadError>>,
    cancel: Arc<AtomicBool>,
}

/// A failed upload waiting for its next attempt.
struct Retry {
    at: Instant,
    output: PathBuf,
    attempt: u32,
    backoff: ExponentialBackoff,
}

struct Run<'a> {
    cfg: Uploader,
    tctx: &'a ThreadCtx,
    watch: ControlWatch,
    inbox: Inbox<ToUploader>,
    outbox: Outbox<Event>,
    queue: VecDeque<PathBuf>,
    current: Option<InFlight>,
    /// The next attempt at a failed upload.
    retry: Option<Retry>,
    aborting: bool,
    finishing: Option<Signal>,
    shutdown: Option<Signal>,
}

impl Run<'_> {
    fn run(mut self) {
        let end = loop {
            if self.shutdown.is_none() {
                self.take();
            }
            self.check_current();
            if self.current.is_none() {
                if let Some(s) = self.shutdown.take() {
                    break s;
                }
                self.start_next();
            }
            if self.current.is_none() && self.retry.is_none() && self.queue.is_empty() && self.inbox.is_empty() {
                if let Some(f) = self.finishing.take() {
                    break f;
                }
            }
            let wait = self.retry.as_ref().map(|r| r.at.saturating_duration_since(Instant::now()));
            if wait != Some(Duration::ZERO) {
                self.tctx.pause(wait);
            }
        };
        self.watch.finish_blocking(end);
    }

    /// Sends `e` on `outbox`, waiting for room; a shutdown meanwhile drops it and, as one on
    /// `control` does, abandons the running upload. Once stopping, it never waits: an event
    /// with no room is dropped.
    fn event(&mut self, e: Event) {
        if self.shutdown.is_some() {
            let _ = self.outbox.try_send(e);
        } else if let Err(stop) = self.watch.send_blocking(self.tctx, &self.outbox, e) {
            self.stop(stop.signal);
        }
    }

    /// Takes what has come: signals first, then what is in `inbox`, until a shutdown or the
    /// `ProducerFinished` that comes once `inbox` is empty.
    fn take(&mut self) {
        while let Some(next) = self.watch.try_next(&self.inbox) {
            match next {
                Next::Data(m) => {
                    self.message(m);
                    // A shutdown met while sending what it led to: stop taking.
                    if self.shutdown.is_some() {
                        return;
                    }
                }
                Next::Other(s) => {
                    if job_control(&s) == Some(JobControl::Abort) {
                        self.abort();
                    }
                    self.watch.emit_blocking(s);
                }
                Next::End(s) if s.is_shutdown() => return self.stop(s),
                Next::End(s) => {
                    self.finishing.get_or_insert(s);
                    return;
                }
            }
        }
    }

    /// A shutdown: abandons the running upload and ends once its thread lets go.
    fn stop(&mut self, s: Signal) {
        if self.shutdown.is_none() {
            self.shutdown = Some(s);
            self.abort();
        }
    }

    /// Abandons the running upload and leaves the queued ones.
    fn abort(&mut self) {
        self.aborting = true;
        if let Some(c) = &self.current {
            c.cancel.store(true, Ordering::Relaxed);
        }
        if let Some(r) = self.retry.take() {
            self.event(Event::Left(Job::Upload(r.output)));
        }
        while let Some(output) = self.queue.pop_front() {
            self.event(Event::Left(Job::Upload(output)));
        }
    }

    fn message(&mut self, m: ToUploader) {
        match m {
            ToUploader::Event(e) => self.event(e),
            ToUploader::Upload(output) if self.aborting => self.event(Event::Left(Job::Upload(output))),
            ToUploader::Upload(output) => match &self.cfg.destination {
                None => self.event(Event::AwaitingUpload { worker: self.cfg.worker, output }),
                Some(d) if self.cfg.dry_run => {
                    let what = format!("upload to_upload/{} to {d}, then move it to encoded/", output.display());
                    self.event(Event::WouldDo { worker: self.cfg.worker, what });
                }
                Some(_) => self.queue.push_back(output),
            },
        }
    }

    fn start_next(&mut self) {
        if self.aborting {
            return;
        }
        let next = match &self.retry {
            Some(r) if r.at > Instant::now() => return,
            Some(_) => self.retry.take().map(|r| (r.output, r.attempt, r.backoff)),
            None => self.queue.pop_front().map(|output| (output, 1, self.backoff())),
        };
        let Some((output, attempt, backoff)) = next else { return };
        let Some(dest) = self.cfg.destination.clone() else { return };
        let worker = self.cfg.worker;
        self.event(Event::UploadStarted { worker, output: output.clone(), attempt });
        let local = self.cfg.layout.to_upload().join(&output);
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, result) = mpsc::channel();
        let me = self.tctx.component();
        let (rel, flag) = (output.clone(), cancel.clone());
        let spawned = thread::Builder::new().name(format!("upload-{worker}")).spawn(move || {
            let r = upload(&dest, &local, &rel, &flag);
            let _ = tx.send(r);
            me.wake();
        });
        match spawned {
            Ok(_) => self.current = Some(InFlight { output, attempt, backoff, result, cancel }),
            Err(e) => {
                let error = UploadError::transient(format!("cannot start an upload thread: {e}"));
                self.attempt_failed(output, attempt, backoff, error);
            }
        }
    }

    /// The waits between one upload's attempts: from [`backoff`](Uploader::backoff),
    /// doubling, at most [`MAX_BACKOFF`], for at most `attempts - 1` retries.
    fn backoff(&self) -> ExponentialBackoff {
        ExponentialBuilder::new()
            .with_min_delay(self.cfg.backoff)
            .with_factor(2.0)
            .with_max_delay(MAX_BACKOFF)
            .with_max_times(self.cfg.attempts.saturating_sub(1) as usize)
            .build()
    }

    fn check_current(&mut self) {
        let Some(c) = &self.current else { return };
        let outcome = match c.result.try_recv() {
            Ok(r) => r,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err(UploadError::transient("the upload thread ended without a result")),
        };
        let Some(c) = self.current.take() else { return };
        let worker = self.cfg.worker;
        match outcome {
            _ if c.cancel.load(Ordering::Relaxed) => {
                self.event(Event::Aborted { worker, job: Job::Upload(c.output) });
            }
            Ok(()) => {
                let from = self.cfg.layout.to_upload().join(&c.output);
                match move_no_clobber(&from, &self.cfg.layout.encoded().join(&c.output)) {
                    Ok(to) => {
                        let output = to.strip_prefix(self.cfg.layout.encoded()).unwrap_or(&to).to_path_buf();
                        let destination = self.cfg.destination.as_ref().map(|d| d.to_string()).unwrap_or_default();
                        self.event(Event::Uploaded { worker, output, destination });
                    }
                    Err(e) => self.fail(c.output, format!("uploaded, but cannot be moved to encoded/: {e}")),
                }
            }
            Err(why) => self.attempt_failed(c.output, c.attempt, c.backoff, why),
        }
    }

    fn attempt_failed(&mut self, output: PathBuf, attempt: u32, mut backoff: ExponentialBackoff, error: UploadError) {
        if error.is_permanent() {
            self.fail(output, format!("{error} (a refusal that trying again would not change: not retried)"));
            return;
        }
        let delay = if self.aborting { None } else { backoff.next() };
        let Some(delay) = delay else {
            let attempts = if attempt == 1 { "1 attempt".to_string() } else { format!("{attempt} attempts") };
            self.fail(output, format!("{error} (gave up after {attempts})"));
            return;
        };
        let error = error.to_string();
        self.event(Event::UploadRetry { worker: self.cfg.worker, output: output.clone(), attempt, error, delay });
        self.retry = Some(Retry { at: Instant::now() + delay, output, attempt: attempt + 1, backoff });
    }

    fn fail(&mut self, output: PathBuf, reason: String) {
        let failure = Failure { path: output, stage: FailedStage::Upload, reason };
        self.event(Event::Failed { worker: Some(self.cfg.worker), failure });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftp_urls_are_understood() {
        let d = Destination::parse("ftp://me:p%40ss@127.0.0.1:2121/videos/2009").unwrap();
        let Destination::Ftp(t) = &d else { panic!("not ftp: {d:?}") };
        assert_eq!((t.user.as_str(), t.password.as_str(), t.host.as_str(), t.port), ("me", "p@ss", "127.0.0.1", 2121));
        assert_eq!(t.path, ["videos", "2009"]);
        assert_eq!(d.to_string(), "ftp://me@127.0.0.1:2121/videos/2009");
        let Destination::Ftp(t) = Destination::parse("ftp://[::1]/").unwrap() else { panic!() };
        assert_eq!((t.user.as_str(), t.host.as_str(), t.port), ("anonymous", "::1", 21));
        assert_eq!(Destination::parse("/srv/out").unwrap(), Destination::Dir("/srv/out".into()));
        assert!(Destination::parse("sftp://host/x").unwrap_err().contains("sftp://"));
        assert!(Destination::parse("ftp://h:99999/").is_err());
    }
}
