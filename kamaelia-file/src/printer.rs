//! Printer: writes each message to stdout or any writer.

use std::fmt;
use std::io::{self, BufWriter, Write};

use axon_core::{Component, ComponentBuilder, ComponentId, ControlWatch, Next, Signal};

/// The message a [`Printer`] ends with when its reader has gone (a broken pipe).
pub const OUTPUT_CLOSED: &str = "output closed (broken pipe)";

/// Where a [`Printer`] writes.
enum Target {
    Stdout,
    Stderr,
    Writer(Box<dyn Write + Send>),
}

impl Target {
    fn describe(&self) -> &'static str {
        match self {
            Target::Stdout => "stdout",
            Target::Stderr => "stderr",
            Target::Writer(_) => "the output",
        }
    }

    fn into_writer(self) -> Box<dyn Write + Send> {
        match self {
            Target::Stdout => Box::new(io::stdout()),
            Target::Stderr => Box::new(io::stderr()),
            Target::Writer(w) => w,
        }
    }
}

/// Printer: writes each line it receives, followed by `"\n"`, to stdout (or stderr, or any
/// writer): the end of `Pipeline(Follow(path), Grep(pattern), Printer())`. A threaded
/// component, so a slow or blocked output never holds up a scheduler thread.
///
/// Output is line-buffered in effect: lines are written through a buffer that is flushed as
/// soon as no further line is waiting in `inbox` (and whenever it fills), so a line never sits
/// in the buffer while the printer waits, and a `tail | grep`-style pipeline shows each line
/// as it arrives, while a burst of lines costs few system calls. Messages are written as
/// bytes, untouched ([`build`](Printer::build) takes `String`, [`build_bytes`](Printer::build_bytes)
/// `Vec<u8>`, [`build_for`](Printer::build_for) anything that is `AsRef<[u8]>`).
///
/// Boxes:
/// - `inbox: T`: lines to write.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: ()`: unused.
/// - `signal: Signal`: signals passed on; how it ended (below).
///
/// Shutdown: the standard contract ([`ControlWatch`], blocking calls): `ProducerFinished`
/// writes what is already in `inbox` first; either way what was written is flushed before
/// the signal is passed on, and a shutdown leaves the rest of `inbox` unwritten.
///
/// Output errors end it cleanly, never with a panic (Rust ignores SIGPIPE, so a closed pipe
/// is an error from the write): if the reader has gone (`BrokenPipe`) it sends
/// `ProducerFinished` naming itself with the message [`OUTPUT_CLOSED`] and stops; on any other
/// write error it sends `ErrorInformation` naming the error, then `ProducerFinished` naming
/// itself, and stops. Lines sent to it afterwards stay in its `inbox`: whoever runs the
/// system should shut the producers down when it sees the printer end.
///
/// Differs from Kamaelia: Kamaelia's printer is `ConsoleEchoer` (no line ending added, a
/// flush per message, an exception on a closed stdout, stops on any control message).
#[must_use = "a builder does nothing until `build` is called"]
pub struct Printer {
    target: Target,
}

impl fmt::Debug for Printer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Printer").field("target", &self.target.describe()).finish()
    }
}

impl Default for Printer {
    fn default() -> Self {
        Self::new()
    }
}

impl Printer {
    /// A printer to stdout.
    pub fn new() -> Self {
        Printer { target: Target::Stdout }
    }

    /// Writes to stderr instead.
    pub fn stderr(mut self) -> Self {
        self.target = Target::Stderr;
        self
    }

    /// Writes to `writer` instead.
    pub fn writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.target = Target::Writer(Box::new(writer));
        self
    }

    /// Builds a printer of `String` lines.
    pub fn build(self) -> Component {
        self.build_for::<String>()
    }

    /// Builds a printer of `Vec<u8>` lines.
    pub fn build_bytes(self) -> Component {
        self.build_for::<Vec<u8>>()
    }

    /// Builds a printer of any line type that can be seen as bytes.
    pub fn build_for<T: AsRef<[u8]> + Send + 'static>(self) -> Component {
        let mut b = ComponentBuilder::new("Printer");
        let io = b.standard::<T, ()>();
        let target = self.target;
        b.run_threaded(move |tctx| {
            let me = tctx.id();
            let what = target.describe();
            let mut out = Out { w: BufWriter::with_capacity(64 * 1024, target.into_writer()), what };
            let mut watch = ControlWatch::new(io.control, io.signal);
            let end = loop {
                match watch.try_next(&io.inbox) {
                    Some(Next::Data(line)) => {
                        if let Err(e) = out.line(line.as_ref()) {
                            return report(e, watch, me);
                        }
                    }
                    // Never under `Forward`: the watch passes them on itself.
                    Some(Next::Other(s)) => watch.emit_blocking(s),
                    Some(Next::End(s)) => break s,
                    None => {
                        // Nothing waiting: show what has been written before waiting for more.
                        if let Err(e) = out.flush() {
                            return report(e, watch, me);
                        }
                        tctx.pause(None);
                    }
                }
            };
            // After a ProducerFinished everything before it is written; after a shutdown the
            // rest of `inbox` is left. Either way what was written is shown.
            match out.flush() {
                Ok(()) => watch.finish_blocking(end),
                Err(e) => report(e, watch, me),
            }
        })
    }
}

/// The printer's buffered output.
struct Out {
    w: BufWriter<Box<dyn Write + Send>>,
    what: &'static str,
}

/// A failed write: the error and what was being written to.
struct WriteFailed(io::Error, &'static str);

impl Out {
    fn line(&mut self, line: &[u8]) -> Result<(), WriteFailed> {
        self.w.write_all(line).and_then(|()| self.w.write_all(b"\n")).map_err(|e| WriteFailed(e, self.what))
    }

    fn flush(&mut self) -> Result<(), WriteFailed> {
        self.w.flush().map_err(|e| WriteFailed(e, self.what))
    }
}

/// Ends the printer after a write error (see [`Printer`]).
fn report(failed: WriteFailed, mut watch: ControlWatch, me: ComponentId) {
    let WriteFailed(e, what) = failed;
    if e.kind() == io::ErrorKind::BrokenPipe {
        let end = Signal::ProducerFinished { caller: Some(me), message: Some(OUTPUT_CLOSED.to_string()) };
        return watch.finish_blocking(end);
    }
    let message = format!("Printer: writing to {what} failed: {e}");
    watch.emit_blocking(Signal::ErrorInformation { caller: Some(me), message });
    watch.finish_blocking(Signal::producer_finished_by(me));
}
