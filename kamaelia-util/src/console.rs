//! ConsoleReader (threaded) and ConsoleEchoer.

use std::fmt;
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{self, TryRecvError};
use std::thread;

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Outbox, Signal};

/// Where a [`ConsoleReader`] reads from.
enum Input {
    Stdin,
    Reader(Box<dyn BufRead + Send>),
}

/// Where prompts or echoed text go.
enum Output {
    Stdout,
    Writer(Box<dyn Write + Send>),
}

impl Output {
    fn into_writer(self) -> Box<dyn Write + Send> {
        match self {
            Output::Stdout => Box::new(io::stdout()),
            Output::Writer(w) => w,
        }
    }
}

/// What the reading thread hands to the component.
enum FromConsole {
    Line(String),
    Failed(io::Error),
}

/// Kamaelia's `ConsoleReader`: reads lines from the console (or any reader) and sends each
/// one, with `eol` appended, on `outbox`. A threaded component.
///
/// Before each read it writes the prompt (default `">>> "`, as Python's `input(prompt)`;
/// [`no_prompt`](Self::no_prompt) turns it off) to stdout or the writer given with
/// [`prompt_to`](Self::prompt_to), and flushes it. The line ending read (`\n` or `\r\n`) is
/// removed and `eol` (default `"\n"`) appended. A last line without an ending is sent too.
/// Bytes that are not UTF-8 are replaced with U+FFFD.
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: String`: the lines.
/// - `signal: Signal`: `ProducerFinished` naming this component at the end of input;
///   signals passed on; `ErrorInformation` if reading fails.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch), its blocking
/// calls): a shutdown stops it at once, also while a line waits for room; a
/// `ProducerFinished` on `control` ends it after sending a line already read, and is passed
/// on in place of its own. At the end of input it sends its own `ProducerFinished` and ends;
/// if reading fails it sends `ErrorInformation` with the error first.
///
/// The blocking reads happen on a helper thread of their own, so the component sees
/// `control` while a read is blocked and stops at once; the helper then ends after its
/// current read returns (at the next line or end of input), discarding that line. (A
/// blocked read of stdin cannot be interrupted in portable Rust; this keeps it from holding
/// up the rest of the system.) At most one line is read ahead of what the component has
/// sent.
///
/// Differs from Kamaelia: the original only looks at `control` after each line is read, so
/// a shutdown waits for the user to press return.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ConsoleReader {
    prompt: Option<String>,
    eol: String,
    input: Input,
    prompt_out: Output,
}

impl fmt::Debug for ConsoleReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleReader").field("prompt", &self.prompt).field("eol", &self.eol).finish_non_exhaustive()
    }
}

impl Default for ConsoleReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleReader {
    /// A reader of stdin, prompting `">>> "` on stdout, appending `"\n"` to each line.
    pub fn new() -> Self {
        ConsoleReader { prompt: Some(">>> ".into()), eol: "\n".into(), input: Input::Stdin, prompt_out: Output::Stdout }
    }

    /// The prompt written before each read.
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// Writes no prompt.
    pub fn no_prompt(mut self) -> Self {
        self.prompt = None;
        self
    }

    /// What is appended to each line sent (the line's own ending is removed first).
    pub fn eol(mut self, eol: impl Into<String>) -> Self {
        self.eol = eol.into();
        self
    }

    /// Reads from `reader` instead of stdin.
    pub fn reader(mut self, reader: impl BufRead + Send + 'static) -> Self {
        self.input = Input::Reader(Box::new(reader));
        self
    }

    /// Writes prompts to `writer` instead of stdout.
    pub fn prompt_to(mut self, writer: impl Write + Send + 'static) -> Self {
        self.prompt_out = Output::Writer(Box::new(writer));
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let ConsoleReader { prompt, eol, input, prompt_out } = self;
        let mut b = ComponentBuilder::new("ConsoleReader");
        let io = b.standard::<(), String>();
        b.run_threaded(move |tctx| {
            let me = tctx.component();
            let mut watch = ControlWatch::new(io.control, io.signal);
            // One line in hand at most: the reader blocks until the component takes it.
            let (tx, rx) = mpsc::sync_channel::<FromConsole>(1);
            let waker = me.clone();
            let spawned = thread::Builder::new().name(format!("{}-read", me.name())).spawn(move || {
                let mut prompt_out = prompt_out.into_writer();
                match input {
                    Input::Stdin => {
                        read_lines(&mut io::stdin().lock(), prompt.as_deref(), &mut prompt_out, &tx, &waker)
                    }
                    Input::Reader(mut r) => read_lines(&mut r, prompt.as_deref(), &mut prompt_out, &tx, &waker),
                }
                // Dropping `tx` tells the component the input has ended.
                drop(tx);
                waker.wake();
            });
            let finished = Signal::producer_finished_by(me.id());
            if let Err(e) = spawned {
                let message = format!("could not start the console reading thread: {e}");
                watch.emit_blocking(Signal::ErrorInformation { caller: Some(me.id()), message });
                return watch.finish_blocking(finished);
            }
            let end = loop {
                if let Some(stop) = watch.check() {
                    break stop;
                }
                if let Some(end) = watch.take_finished() {
                    if let Ok(FromConsole::Line(line)) = rx.try_recv() {
                        if let Err(stop) = watch.send_blocking(&tctx, &io.outbox, line + &eol) {
                            break stop.signal;
                        }
                    }
                    break end;
                }
                match rx.try_recv() {
                    Ok(FromConsole::Line(line)) => {
                        if let Err(stop) = watch.send_blocking(&tctx, &io.outbox, line + &eol) {
                            break stop.signal;
                        }
                    }
                    Ok(FromConsole::Failed(e)) => {
                        let message = format!("reading the console failed: {e}");
                        watch.emit_blocking(Signal::ErrorInformation { caller: Some(me.id()), message });
                        break finished;
                    }
                    Err(TryRecvError::Empty) => {
                        tctx.pause(None);
                    }
                    Err(TryRecvError::Disconnected) => break finished,
                }
            };
            watch.finish_blocking(end);
        })
    }
}

/// The reading thread: prompt, read a line, hand it over, wake the component; until the end
/// of input, an error, or the component is gone.
fn read_lines(
    input: &mut (impl BufRead + ?Sized),
    prompt: Option<&str>,
    prompt_out: &mut dyn Write,
    tx: &mpsc::SyncSender<FromConsole>,
    component: &Component,
) {
    let mut buf = Vec::new();
    loop {
        if let Some(p) = prompt {
            // The prompt is a courtesy: a console that cannot show it can still be read.
            let _ = prompt_out.write_all(p.as_bytes()).and_then(|()| prompt_out.flush());
        }
        buf.clear();
        let read = match input.read_until(b'\n', &mut buf) {
            Ok(0) => return,
            Ok(_) => {
                if buf.ends_with(b"\n") {
                    buf.pop();
                    if buf.ends_with(b"\r") {
                        buf.pop();
                    }
                }
                FromConsole::Line(String::from_utf8_lossy(&buf).into_owned())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => FromConsole::Failed(e),
        };
        let failed = matches!(read, FromConsole::Failed(_));
        if tx.send(read).is_err() {
            // The component has ended: nobody wants the rest.
            return;
        }
        component.wake();
        if failed {
            return;
        }
    }
}

/// Formats one item for the echoer.
type Format<T> = Box<dyn Fn(&T) -> String + Send>;

/// Kamaelia's `ConsoleEchoer`: writes each message to stdout (or any writer), prefixed by a
/// tag, flushing after each.
///
/// It writes `tag` then the message formatted with `Display` ([`new`](Self::new)) or
/// `Debug` ([`debug`](Self::debug), Kamaelia's `use_repr`). Like the original it adds no
/// line ending: send lines that end in `"\n"`. In `forwarder` mode each message is also
/// sent on `outbox` after it is written.
///
/// Boxes:
/// - `inbox: T`: messages to write.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the messages, in forwarder mode.
/// - `signal: Signal`: signals passed on; `ErrorInformation` if writing fails.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it writes what is already queued first. If a write fails (a closed
/// pipe, say) it sends `ErrorInformation` naming the error on `signal` and stops, with no
/// terminal signal of its own; it never panics.
///
/// Differs from Kamaelia: the original stops on any control message (reference §1.16
/// quirk 8), and a closed stdout raises an exception.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ConsoleEchoer<T> {
    tag: String,
    forwarder: bool,
    format: Format<T>,
    out: Output,
}

impl<T> fmt::Debug for ConsoleEchoer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleEchoer")
            .field("tag", &self.tag)
            .field("forwarder", &self.forwarder)
            .finish_non_exhaustive()
    }
}

impl<T: fmt::Display + Send + 'static> Default for ConsoleEchoer<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Display + Send + 'static> ConsoleEchoer<T> {
    /// An echoer writing messages with `Display` to stdout.
    pub fn new() -> Self {
        Self::formatting(|item: &T| item.to_string())
    }
}

impl<T: fmt::Debug + Send + 'static> ConsoleEchoer<T> {
    /// An echoer writing messages with `Debug` (`{:?}`) to stdout (Kamaelia's `use_repr`).
    pub fn debug() -> Self {
        Self::formatting(|item: &T| format!("{item:?}"))
    }
}

impl<T: Send + 'static> ConsoleEchoer<T> {
    fn formatting(format: impl Fn(&T) -> String + Send + 'static) -> Self {
        ConsoleEchoer { tag: String::new(), forwarder: false, format: Box::new(format), out: Output::Stdout }
    }

    /// Text written before each message.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = tag.into();
        self
    }

    /// Whether each message is also sent on `outbox` (default false).
    pub fn forwarder(mut self, yes: bool) -> Self {
        self.forwarder = yes;
        self
    }

    /// Writes to `writer` instead of stdout.
    pub fn writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.out = Output::Writer(Box::new(writer));
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let ConsoleEchoer { tag, forwarder, format, out } = self;
        let mut b = ComponentBuilder::new("ConsoleEchoer");
        let io = b.standard::<T, T>();
        b.run(move |ctx| async move {
            let mut echo = Echo { tag, forwarder, format, out: out.into_writer() };
            let mut watch = ControlWatch::new(io.control, io.signal);
            let end = loop {
                match watch.next(&io.inbox).await {
                    Next::Data(item) => match echo.deliver(item, &mut watch, &io.outbox).await {
                        Ok(()) => {}
                        Err(Stop::Interrupted(stop)) => break stop,
                        Err(Stop::Failed(e)) => {
                            let message = format!("writing to the console failed: {e}");
                            watch.emit(Signal::ErrorInformation { caller: Some(ctx.id()), message }).await;
                            return watch.close().await;
                        }
                    },
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) => break s,
                }
            };
            watch.finish(end).await;
        })
    }
}

/// A running echoer's settings and writer.
struct Echo<T> {
    tag: String,
    forwarder: bool,
    format: Format<T>,
    out: Box<dyn Write + Send>,
}

/// Why an echoer stops part-way through a message.
enum Stop {
    /// A shutdown arrived while the forwarded copy waited for room.
    Interrupted(Signal),
    /// Writing failed.
    Failed(io::Error),
}

impl<T: Send + 'static> Echo<T> {
    /// Writes one message, then in forwarder mode sends it on `outbox`.
    async fn deliver(&mut self, item: T, watch: &mut ControlWatch, outbox: &Outbox<T>) -> Result<(), Stop> {
        let text = (self.format)(&item);
        self.out
            .write_all(self.tag.as_bytes())
            .and_then(|()| self.out.write_all(text.as_bytes()))
            .and_then(|()| self.out.flush())
            .map_err(Stop::Failed)?;
        if self.forwarder {
            watch.send(outbox, item).await.map_err(|stop| Stop::Interrupted(stop.signal))?;
        }
        Ok(())
    }
}
