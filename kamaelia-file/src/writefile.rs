//! WriteFile: writes each message to a file (Kamaelia's SimpleFileWriter), optionally atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use axon_core::{Component, ComponentBuilder, ComponentId, ControlWatch, Next, Signal};

/// Kamaelia's `SimpleFileWriter`: writes each message that arrives on `inbox` to a file.
///
/// The file is opened when the component starts: created if missing, truncated unless
/// [`append`](Self::append) is set. Messages are `Vec<u8>` ([`build`](Self::build)), or
/// any `AsRef<[u8]>` type such as `String` ([`build_for`](Self::build_for)). Writes are
/// buffered, and the buffer is flushed whenever the inbox is empty, so a reader of the file
/// sees each message soon after it arrives while a burst is written in large writes.
///
/// Atomic mode ([`atomic`](Self::atomic)): the messages go to a new temporary file in the
/// same directory (`.<name>.<pid>.<n>.tmp`), which on `ProducerFinished` is flushed, synced
/// to disk and renamed over the target, so a reader of the target sees the old file or the
/// whole new one, never a part. It takes the target's permissions if the target exists.
/// With [`append`](Self::append) as well, the temporary file starts as a copy of the target.
/// On a shutdown or an error the temporary file is removed and the target is untouched.
///
/// A threaded component: writes (and the sync in atomic mode) happen on its own thread, so
/// a slow disk never holds up the scheduler.
///
/// Boxes:
/// - `inbox: T`: the bytes to write (`Vec<u8>` unless built with `build_for`).
/// - `control: Signal`: shutdown signalling.
/// - `outbox: ()`: unused.
/// - `signal: Signal`: the terminal signal passed on once the file is closed;
///   `ErrorInformation` when the file cannot be opened, written or (atomic mode) renamed
///   into place; other signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking calls), with an end hook:
/// on `ProducerFinished` every message that came before it is written, then the file is
/// flushed and closed (in atomic mode: synced and renamed into place) before the signal is
/// passed on. A shutdown leaves the messages still in `inbox` unwritten; what was written is
/// flushed and the file closed (in atomic mode the temporary file is removed instead, and the
/// target left as it was).
///
/// Errors end it without a panic: when the file cannot be opened, a write fails (a full
/// disk) or the rename fails, it sends `ErrorInformation` naming the file and the error,
/// then a `ProducerFinished` naming itself (its message says why), and ends; messages not
/// yet written stay in its inbox. (A shutdown that arrives is still passed on in place of
/// that `ProducerFinished`.)
///
/// Differs from Kamaelia: the original writes unbuffered and never closes the file itself
/// (the garbage collector does); it has no atomic mode, and an error is an exception.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct WriteFile {
    path: PathBuf,
    append: bool,
    atomic: bool,
}

impl WriteFile {
    /// A writer of `path` (truncating, not atomic).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        WriteFile { path: path.into(), append: false, atomic: false }
    }

    /// Appends to the file instead of truncating it (Python's mode `"ab"`).
    pub fn append(mut self, yes: bool) -> Self {
        self.append = yes;
        self
    }

    /// Writes a temporary file and renames it into place on `ProducerFinished`.
    pub fn atomic(mut self, yes: bool) -> Self {
        self.atomic = yes;
        self
    }

    /// Builds a writer of `Vec<u8>` messages.
    pub fn build(self) -> Component {
        self.build_for::<Vec<u8>>()
    }

    /// Builds a writer of messages of type `T` (`String`, `&'static str`, `Vec<u8>` ...).
    pub fn build_for<T: AsRef<[u8]> + Send + 'static>(self) -> Component {
        let mut b = ComponentBuilder::new("WriteFile");
        let std = b.standard::<T, ()>();
        b.run_threaded(move |tctx| {
            let me = tctx.id();
            let mut watch = ControlWatch::new(std.control, std.signal);
            let mut out = match Output::open(&self) {
                Ok(o) => o,
                Err(e) => return fail(watch, me, &e),
            };
            let end = loop {
                match watch.try_next(&std.inbox) {
                    Some(Next::Data(msg)) => {
                        if let Err(e) = out.write(msg.as_ref()) {
                            return fail(watch, me, &e);
                        }
                    }
                    // Never under `Forward`: the watch passes them on itself.
                    Some(Next::Other(s)) => watch.emit_blocking(s),
                    Some(Next::End(s)) => break s,
                    None => {
                        // Nothing waiting: let a reader of the file see what came so far.
                        if let Err(e) = out.flush() {
                            return fail(watch, me, &e);
                        }
                        tctx.pause(None);
                    }
                }
            };
            if end.is_producer_finished() {
                // Everything that came before it is written: close and pass it on.
                match out.commit() {
                    Ok(()) => watch.finish_blocking(end),
                    Err(e) => fail(watch, me, &e),
                }
            } else {
                if let Err(e) = out.abandon() {
                    watch.emit_blocking(error_information(me, &e));
                }
                watch.finish_blocking(end);
            }
        })
    }
}

/// A write failure, naming the file.
struct WriteError {
    what: &'static str,
    path: PathBuf,
    error: io::Error,
}

impl WriteError {
    fn new(what: &'static str, path: &Path, error: io::Error) -> Self {
        WriteError { what, path: path.to_path_buf(), error }
    }
}

fn error_information(me: ComponentId, e: &WriteError) -> Signal {
    Signal::ErrorInformation {
        caller: Some(me),
        message: format!("WriteFile: cannot {} {}: {}", e.what, e.path.display(), e.error),
    }
}

/// Reports an error and ends: `ErrorInformation`, then `ProducerFinished` (or a shutdown
/// that arrived meanwhile).
fn fail(mut watch: ControlWatch, me: ComponentId, e: &WriteError) {
    watch.emit_blocking(error_information(me, e));
    let end = watch.check().unwrap_or(Signal::ProducerFinished {
        caller: Some(me),
        message: Some(format!("WriteFile stopped: cannot {} {}", e.what, e.path.display())),
    });
    watch.finish_blocking(end);
}

/// Distinguishes the temporary files of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The open file, and in atomic mode where it goes.
struct Output {
    file: Option<BufWriter<File>>,
    target: PathBuf,
    /// Atomic mode: the temporary file, until renamed into place or removed.
    temp: Option<PathBuf>,
}

impl Output {
    fn open(config: &WriteFile) -> Result<Self, WriteError> {
        let target = config.path.clone();
        if !config.atomic {
            let file = OpenOptions::new()
                .write(true)
                .create(true)
                .append(config.append)
                .truncate(!config.append)
                .open(&target)
                .map_err(|e| WriteError::new("open", &target, e))?;
            return Ok(Output { file: Some(BufWriter::new(file)), target, temp: None });
        }
        let (temp, file) = create_temp(&target)?;
        // From here on, dropping `out` removes the temporary file.
        let mut out = Output { file: None, target, temp: Some(temp.clone()) };
        if let Ok(meta) = fs::metadata(&out.target) {
            fs::set_permissions(&temp, meta.permissions())
                .map_err(|e| WriteError::new("set permissions of", &temp, e))?;
        }
        let mut file = BufWriter::new(file);
        if config.append {
            match File::open(&out.target) {
                Ok(mut old) => {
                    io::copy(&mut old, &mut file).map_err(|e| WriteError::new("copy", &out.target, e))?;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(WriteError::new("open", &out.target, e)),
            }
        }
        out.file = Some(file);
        Ok(out)
    }

    fn written_to(&self) -> &Path {
        self.temp.as_deref().unwrap_or(&self.target)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        file.write_all(bytes).map_err(|e| WriteError::new("write", self.written_to(), e))
    }

    fn flush(&mut self) -> Result<(), WriteError> {
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        file.flush().map_err(|e| WriteError::new("write", self.written_to(), e))
    }

    /// Flushes and closes; in atomic mode syncs and renames into place.
    fn commit(mut self) -> Result<(), WriteError> {
        self.flush()?;
        let Some(file) = self.file.take() else { return Ok(()) };
        let file = file.into_inner().map_err(|e| WriteError::new("write", self.written_to(), e.into_error()))?;
        let Some(temp) = self.temp.clone() else { return Ok(()) };
        // The data must be on disk before the rename makes it the target.
        file.sync_all().map_err(|e| WriteError::new("sync", &temp, e))?;
        drop(file);
        fs::rename(&temp, &self.target)
            .map_err(|e| WriteError::new("rename the temporary file into place as", &self.target, e))?;
        self.temp = None;
        Ok(())
    }

    /// Stops writing: flushes what was written (or, in atomic mode, removes the temporary
    /// file) and closes.
    fn abandon(mut self) -> Result<(), WriteError> {
        if self.temp.is_some() {
            self.file = None;
            // Drop removes the temporary file.
            return Ok(());
        }
        self.flush()
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Atomic mode, not renamed into place (a shutdown or an error): the target stays as
        // it was. A failure to remove is not reportable from here; the name says what it is.
        self.file = None;
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

/// Creates a new temporary file next to `target`.
fn create_temp(target: &Path) -> Result<(PathBuf, File), WriteError> {
    let no_name = || WriteError::new("write", target, io::Error::new(io::ErrorKind::InvalidInput, "no file name"));
    let name = target.file_name().ok_or_else(no_name)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.{n}.tmp", std::process::id()));
        let temp = dir.join(temp_name);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(f) => return Ok((temp, f)),
            // Left by an earlier run: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(WriteError::new("create a temporary file for", target, e)),
        }
    }
}
