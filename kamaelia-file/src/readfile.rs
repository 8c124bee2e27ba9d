//! ReadFile: reads a file in lines, blocks or at a bit rate (Kamaelia's ReadFileAdaptor).

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ComponentId, ControlWatch, Outbox, Signal, pause_until, yield_now};
use kamaelia_util::{DEFAULT_MAX_LINE, FramingError, LineFramer, OverlongPolicy, Utf8Policy, decode_line};

/// How much line mode reads at a time.
const LINE_READ_SIZE: usize = 64 * 1024;

/// The size of block `n` (from 0) in block or bit-rate mode.
fn block_size(mode: Mode, n: u64) -> usize {
    match mode {
        Mode::Blocks(size) => size,
        Mode::Bitrate { bits_per_second, chunkrate } => {
            let bytes_per_chunk = bits_per_second / 8.0 / chunkrate;
            // Block n ends at floor((n + 1) * bytes_per_chunk): rounding never accumulates.
            let end_of = |k: u64| (k as f64 * bytes_per_chunk).floor() as u64;
            usize::try_from(end_of(n + 1).saturating_sub(end_of(n))).unwrap_or(usize::MAX)
        }
        // Lines mode reads no blocks.
        Mode::Lines => LINE_READ_SIZE,
    }
}

/// How [`ReadFile`] cuts the file into messages.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Mode {
    Lines,
    Blocks(usize),
    Bitrate { bits_per_second: f64, chunkrate: f64 },
}

/// Kamaelia's `ReadFileAdaptor`: reads a file and sends it on, in one of three modes, then
/// `ProducerFinished`.
///
/// - [`lines`](Self::lines) (the default, as the original's): one line per message, as a
///   `String` without its terminator (LF or CRLF), decoded under a [`Utf8Policy`] (invalid
///   UTF-8 replaced by default). A last line with no newline is sent too. Lines longer than
///   [`max_line_length`](Self::max_line_length) (64 KiB by default) are refused or split, as
///   [`overlong`](Self::overlong) says; a refused line and (under [`Utf8Policy::Report`]) an
///   invalid one go to `error` as a [`FramingError`], and reading carries on.
/// - [`blocks`](Self::blocks): `Vec<u8>` blocks of the given size (the last one shorter).
/// - [`bitrate`](Self::bitrate): blocks of `bits_per_second / 8 / chunkrate` bytes, one
///   every `1 / chunkrate` seconds, timed with the scheduler's timers (no thread, no busy
///   waiting). When that size is not a whole number the sizes vary by one byte so that the
///   total is exact: block `n` ends at byte `floor(n · bits_per_second / 8 / chunkrate)`.
///   The first block goes at once.
///
/// In lines and blocks mode messages go as fast as the destination takes them, unless
/// [`step_time`](Self::step_time) sets a pause between them (the original's `steptime`).
/// When pacing falls behind (a slow consumer), the lost time is not made up in a burst: the
/// schedule restarts from the late message.
///
/// Reads happen in the component's turns on the scheduler's thread, a block (or 64 KiB in
/// lines mode) per turn, letting others run in between; that suits files on local disks.
/// (For a pipe or a device that may block, read it through a
/// [`UnixProcess`](crate::UnixProcess) such as `cat`.) Sends wait while the destination is
/// full (backpressure), watching `control`.
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: String` in lines mode, `Vec<u8>` in block and bitrate modes.
/// - `error: FramingError`: lines mode only: lines refused as over-long or (under
///   [`Utf8Policy::Report`]) not UTF-8.
/// - `signal: Signal`: `ProducerFinished` naming this component at the end of the file;
///   `ErrorInformation` if the file cannot be opened or read; signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`]), checked before every message, during
/// pauses and while a send waits. At the end of the file it sends `ProducerFinished` and
/// ends. If the file cannot be opened, or a read fails, it sends `ErrorInformation` (naming
/// the file, the error and how many bytes had been read) and then `ProducerFinished`, and
/// ends; what was sent before the error stands. A `ProducerFinished` on `control` does not
/// cut it short (a source has no upstream to finish): its own `ProducerFinished` stands for
/// both.
///
/// Differs from Kamaelia: the original busy-loops (never pauses), ignores `control`, stops
/// silently on a read error, and sends lines with their newline; it can also read a
/// command's output or stdin (here: `UnixProcess`).
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ReadFile {
    path: PathBuf,
    mode: Mode,
    step: Option<Duration>,
    utf8: Utf8Policy,
    max_line: usize,
    overlong: OverlongPolicy,
}

impl ReadFile {
    /// A reader of `path`, in lines mode.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ReadFile {
            path: path.into(),
            mode: Mode::Lines,
            step: None,
            utf8: Utf8Policy::Replace,
            max_line: DEFAULT_MAX_LINE,
            overlong: OverlongPolicy::Refuse,
        }
    }

    /// Lines mode (the default): one `String` line per message.
    pub fn lines(mut self) -> Self {
        self.mode = Mode::Lines;
        self
    }

    /// Block mode: `Vec<u8>` blocks of `size` bytes (the last one shorter).
    ///
    /// # Panics
    /// If `size` is 0.
    pub fn blocks(mut self, size: usize) -> Self {
        assert!(size > 0, "ReadFile: the block size must be at least 1");
        self.mode = Mode::Blocks(size);
        self
    }

    /// Bit-rate mode: blocks of `bits_per_second / 8 / chunkrate` bytes every
    /// `1 / chunkrate` seconds (the original's defaults are 65536 bits/s and 24 chunks/s).
    ///
    /// # Panics
    /// If either is not a finite number above 0.
    pub fn bitrate(mut self, bits_per_second: f64, chunkrate: f64) -> Self {
        assert!(
            bits_per_second.is_finite() && bits_per_second > 0.0,
            "ReadFile: the bit rate must be a finite number above 0"
        );
        assert!(chunkrate.is_finite() && chunkrate > 0.0, "ReadFile: the chunk rate must be a finite number above 0");
        self.mode = Mode::Bitrate { bits_per_second, chunkrate };
        self
    }

    /// In lines and blocks mode, waits `step` between messages (the original's `steptime`);
    /// ignored in bit-rate mode, which sets its own pace.
    pub fn step_time(mut self, step: Duration) -> Self {
        self.step = Some(step);
        self
    }

    /// Lines mode: how invalid UTF-8 is treated (replaced by default).
    pub fn utf8(mut self, policy: Utf8Policy) -> Self {
        self.utf8 = policy;
        self
    }

    /// Lines mode: the maximum line length in bytes, not counting the terminator.
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn max_line_length(mut self, max: usize) -> Self {
        assert!(max > 0, "ReadFile: the maximum line length must be at least 1");
        self.max_line = max;
        self
    }

    /// Lines mode: what happens to a line longer than the maximum (refused by default).
    pub fn overlong(mut self, policy: OverlongPolicy) -> Self {
        self.overlong = policy;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("ReadFile");
        b.inbox::<()>("inbox");
        let control = b.control();
        match self.mode {
            Mode::Lines => {
                let outbox = b.outbox::<String>("outbox");
                let error = b.outbox::<FramingError>("error");
                let signal = b.signal();
                b.run(move |ctx| async move {
                    let mut r = Reader::new(&self, ctx.id(), ControlWatch::new(control, signal));
                    let end = r.lines(&self, &outbox, &error).await;
                    r.end(end).await;
                })
            }
            Mode::Blocks(_) | Mode::Bitrate { .. } => {
                let outbox = b.outbox::<Vec<u8>>("outbox");
                let signal = b.signal();
                b.run(move |ctx| async move {
                    let mut r = Reader::new(&self, ctx.id(), ControlWatch::new(control, signal));
                    let end = r.blocks(&self, &outbox).await;
                    r.end(end).await;
                })
            }
        }
    }
}

/// How a read ended.
enum End {
    /// The end of the file.
    Eof,
    /// A shutdown arrived (not yet passed on).
    Stopped(Signal),
    /// The file could not be opened or read.
    Failed(String),
}

/// The state of one read.
struct Reader {
    path: PathBuf,
    me: ComponentId,
    watch: ControlWatch,
    /// Bytes read so far (for error reports).
    offset: u64,
    /// When the next message is due, if paced.
    due: Option<Instant>,
}

impl Reader {
    fn new(config: &ReadFile, me: ComponentId, watch: ControlWatch) -> Self {
        Reader { path: config.path.clone(), me, watch, offset: 0, due: None }
    }

    fn open(&self) -> Result<File, End> {
        File::open(&self.path).map_err(|e| End::Failed(format!("ReadFile: cannot open {}: {e}", self.path.display())))
    }

    fn read_failed(&self, e: &io::Error) -> End {
        End::Failed(format!("ReadFile: cannot read {} (after {} bytes): {e}", self.path.display(), self.offset))
    }

    /// Lines mode.
    async fn lines(&mut self, config: &ReadFile, outbox: &Outbox<String>, error: &Outbox<FramingError>) -> End {
        let mut file = match self.open() {
            Ok(f) => f,
            Err(end) => return end,
        };
        let mut framer = LineFramer::with_limit(config.max_line, config.overlong);
        let mut buf = vec![0u8; LINE_READ_SIZE];
        let mut eof = false;
        loop {
            while let Some(frame) = framer.next_frame() {
                let sent = match frame.and_then(|line| decode_line(line, config.utf8)) {
                    Ok(line) => match self.pace(config.step).await {
                        Ok(()) => self.watch.send(outbox, line).await.map_err(Signal::from),
                        Err(stop) => Err(stop),
                    },
                    Err(e) => match self.check() {
                        Ok(()) => self.watch.send(error, e).await.map_err(Signal::from),
                        Err(stop) => Err(stop),
                    },
                };
                if let Err(stop) = sent {
                    return End::Stopped(stop);
                }
            }
            if eof {
                return End::Eof;
            }
            match file.read(&mut buf) {
                Ok(0) => {
                    framer.finish();
                    eof = true;
                }
                Ok(n) => {
                    self.offset += n as u64;
                    framer.push(&buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.read_failed(&e),
            }
            // One read per turn: a long file shares the scheduler.
            yield_now().await;
        }
    }

    /// Block and bit-rate modes.
    async fn blocks(&mut self, config: &ReadFile, outbox: &Outbox<Vec<u8>>) -> End {
        let mut file = match self.open() {
            Ok(f) => f,
            Err(end) => return end,
        };
        let step = match config.mode {
            Mode::Bitrate { chunkrate, .. } => Some(Duration::from_secs_f64(1.0 / chunkrate)),
            _ => config.step,
        };
        let mut n = 0u64;
        loop {
            let size = block_size(config.mode, n);
            n += 1;
            if let Err(stop) = self.pace(step).await {
                return End::Stopped(stop);
            }
            if size == 0 {
                // A bit rate under one byte per chunk: this tick carries nothing.
                continue;
            }
            let mut block = Vec::with_capacity(size.min(1 << 20));
            let short = match (&mut file).take(size as u64).read_to_end(&mut block) {
                Ok(0) => return End::Eof,
                Ok(got) => {
                    self.offset += got as u64;
                    got < size
                }
                Err(e) => return self.read_failed(&e),
            };
            if let Err(stop) = self.watch.send(outbox, block).await {
                return End::Stopped(stop.signal);
            }
            if short {
                // A short block is the end of the file: no need to wait a tick to find out.
                return End::Eof;
            }
            if step.is_none() {
                // One block per turn: a long file shares the scheduler.
                yield_now().await;
            }
        }
    }

    /// Waits until the next message is due (if paced), watching `control`; then sets the
    /// time of the one after.
    async fn pace(&mut self, step: Option<Duration>) -> Result<(), Signal> {
        self.check()?;
        let Some(step) = step else { return Ok(()) };
        if let Some(due) = self.due {
            while Instant::now() < due {
                pause_until(due).await;
                self.check()?;
            }
        }
        let now = Instant::now();
        // On schedule: the next is one step after this one was due; late: one step from now.
        let base = match self.due {
            Some(due) if now.saturating_duration_since(due) < step => due,
            _ => now,
        };
        self.due = base.checked_add(step);
        Ok(())
    }

    /// Looks at `control`: `Err` for a shutdown; a `ProducerFinished` is noted (and ignored:
    /// a source's own stands for it); other signals are passed on at once (`Forward`).
    fn check(&mut self) -> Result<(), Signal> {
        self.watch.check().map_or(Ok(()), Err)
    }

    /// Sends the last word on `signal`, after the signals kept while a send waited.
    async fn end(self, end: End) {
        let Reader { mut watch, me, .. } = self;
        match end {
            End::Eof => watch.finish(Signal::producer_finished_by(me)).await,
            End::Stopped(stop) => watch.finish(stop).await,
            End::Failed(message) => {
                watch.emit(Signal::ErrorInformation { caller: Some(me), message }).await;
                watch.finish(Signal::producer_finished_by(me)).await;
            }
        }
    }
}
