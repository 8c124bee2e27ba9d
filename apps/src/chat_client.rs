//! The chat client (`chat-client`): the seeds' `Pipeline(Textbox, TcpClient, TextDisplayer)`,
//! in a window or on the terminal.
//!
//! Both forms are one [`Graphline`]:
//!
//! ```text
//! input ─► encode ─► tcp ─► report ─► lines ─► output
//!   ▲                                             │ signal
//!   └─────────────────────────────────────────────┘
//! ```
//!
//! - `input`: a [`Textbox`] (the window's input pane) or a [`ConsoleReader`] (each stdin line);
//! - `encode`: each line entered, as bytes, with `"\r\n"` appended;
//! - `tcp`: a [`TcpClient`] connected to the server;
//! - `report`: passes the server's bytes on untouched and tells the user, on stderr, how the
//!   connection went ([`Report`]);
//! - `lines`: [`ChunksToLines`] (lines longer than [`MAX_LINE`](crate::MAX_LINE) are split);
//! - `output`: a [`TextDisplayer`] (the conversation pane, above the input pane) or a
//!   [`ConsoleEchoer`] printing each line.
//!
//! Signals run down the same chain, and the output's signal goes back to the input, so the
//! whole system ends when the connection does (the server closed it), when the input ends
//! (end of stdin, Esc, or the window closed), or on Ctrl-C.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Signal, SignalPolicy};
use kamaelia_chassis::{ChassisError, Graphline, Pipeline};
use kamaelia_net::{CONNECTION_REFUSED, PEER_CLOSED, TcpClient};
use kamaelia_ui::{Display, Rgb, TextDisplayer, Textbox};
use kamaelia_util::{ChunksToLines, ConsoleEchoer, ConsoleReader, OverlongPolicy, PureTransformer, Utf8Policy};

/// Width of the chat window, in pixels.
pub const WINDOW_WIDTH: usize = 800;
/// Height of the conversation pane.
pub const CONVERSATION_HEIGHT: usize = 372;
/// Height of the input pane, below it.
pub const INPUT_HEIGHT: usize = 48;
/// Text height in both panes.
pub const TEXT_HEIGHT: usize = 18;

/// Where to connect.
#[derive(Clone, Debug)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Target {
    /// The window title: `Kamaelia chat: <host>:<port>`.
    pub fn title(&self) -> String {
        format!("Kamaelia chat: {}:{}", self.host, self.port)
    }
}

/// How the connection went, as [`Report`] saw it.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    failed: Arc<AtomicBool>,
}

impl Outcome {
    /// True if the connection failed (it could not be made, or broke with an error).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Records a failure.
    pub fn fail(&self) {
        self.failed.store(true, Ordering::SeqCst);
    }
}

/// Passes the server's bytes (`inbox: Vec<u8>` to `outbox: Vec<u8>`) through untouched and
/// reports on stderr what the [`TcpClient`]'s `signal` (linked to its `control`) says:
/// `ErrorInformation` (a failed connect, a socket error) is printed and recorded in the
/// [`Outcome`]; the end of the connection is printed (`the server closed the connection`,
/// or the reason).
///
/// Shutdown: the standard contract ([`ControlWatch`]): on `ProducerFinished` the bytes
/// already received go out first. Policy [`SignalPolicy::Deliver`]: it reads the other
/// signals (for `ErrorInformation`), then passes each on.
pub struct Report;

impl Report {
    /// The component.
    #[allow(clippy::new_ret_no_self, reason = "components are ordinary Components")]
    pub fn new(outcome: Outcome) -> Component {
        let mut b = ComponentBuilder::new("Report");
        let io = b.standard::<Vec<u8>, Vec<u8>>();
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
            let end = loop {
                match watch.next(&io.inbox).await {
                    Next::Data(bytes) => {
                        if let Err(stop) = watch.send(&io.outbox, bytes).await {
                            break stop.signal;
                        }
                    }
                    Next::Other(s) => {
                        if let Signal::ErrorInformation { message, .. } = &s {
                            outcome.fail();
                            eprintln!("chat-client: {message}");
                        }
                        watch.emit(s).await;
                    }
                    Next::End(s) => break s,
                }
            };
            match &end {
                Signal::ProducerFinished { message: Some(m), .. } if m == PEER_CLOSED => {
                    eprintln!("chat-client: the server closed the connection");
                }
                Signal::ProducerFinished { message: Some(m), .. } => {
                    if m == CONNECTION_REFUSED {
                        outcome.fail();
                    }
                    eprintln!("chat-client: connection ended: {m}");
                }
                _ => {}
            }
            watch.finish(end).await;
        })
    }
}

/// Each line entered as bytes with `"\r\n"` appended (what the chat server, a line protocol,
/// expects). A line arriving from a console reader may already end in `"\n"`: it is replaced.
pub fn encode() -> Component {
    PureTransformer::new(|line: String| {
        let line = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line);
        Some(format!("{line}\r\n").into_bytes())
    })
}

/// The chat system with `input` and `output` (see the module docs).
///
/// # Errors
/// If `input` does not send `String`s or `output` does not take them.
pub fn system(
    target: &Target,
    outcome: Outcome,
    input: Component,
    output: Component,
) -> Result<Component, ChassisError> {
    let lines = ChunksToLines::new().overlong(OverlongPolicy::Split).build_text(Utf8Policy::Replace);
    let mut g = Graphline::builder()
        .component("input", input)
        .component("encode", encode())
        .component("tcp", TcpClient::new(target.host.clone(), target.port).build())
        .component("report", Report::new(outcome))
        .component("lines", lines)
        .component("output", output);
    let chain = ["input", "encode", "tcp", "report", "lines", "output"];
    for pair in chain.windows(2) {
        g = g.link((pair[0], "outbox"), (pair[1], "inbox")).link((pair[0], "signal"), (pair[1], "control"));
    }
    // The end of the connection ends the input too; Ctrl-C (the graphline's control) starts
    // at the input and runs down the chain.
    g.link(("output", "signal"), ("input", "control")).link(("self", "control"), ("input", "control")).build()
}

/// The window form of the chat system, and its two panes.
#[derive(Clone, Debug)]
pub struct ChatWindow {
    /// The whole system (activate this).
    pub system: Component,
    /// The input pane, a [`Textbox`].
    pub input: Component,
    /// The conversation pane, a [`TextDisplayer`].
    pub conversation: Component,
}

/// The window form: a [`Textbox`] input pane below a [`TextDisplayer`] conversation pane, in
/// one window titled [`Target::title`], on `display` (default: the scheduler's).
///
/// # Errors
/// As [`system`] (not expected: the types match).
pub fn window_system(target: &Target, outcome: Outcome, display: Option<Display>) -> Result<ChatWindow, ChassisError> {
    let title = target.title();
    let mut conversation = TextDisplayer::builder()
        .size(WINDOW_WIDTH, CONVERSATION_HEIGHT)
        .position(0, 0)
        .text_height(TEXT_HEIGHT)
        .padding(4)
        .border(2, Rgb(128, 128, 128))
        .title(title.clone());
    let mut input = Textbox::builder()
        .size(WINDOW_WIDTH, INPUT_HEIGHT)
        .position(0, CONVERSATION_HEIGHT as i32)
        .text_height(TEXT_HEIGHT)
        .padding(4)
        .bgcolour(Rgb::WHITE)
        .border(2, Rgb(64, 64, 160))
        .title(title);
    if let Some(d) = display {
        conversation = conversation.display(d.clone());
        input = input.display(d);
    }
    let (input, conversation) = (input.build(), conversation.build());
    let system = system(target, outcome, input.clone(), conversation.clone())?;
    Ok(ChatWindow { system, input, conversation })
}

/// The terminal form: each stdin line is sent; each line received is printed on stdout.
///
/// # Errors
/// As [`system`] (not expected: the types match).
pub fn tty_system(target: &Target, outcome: Outcome) -> Result<Component, ChassisError> {
    let reader = ConsoleReader::new().no_prompt().build();
    let printer = Pipeline::new([
        PureTransformer::new(|line: String| Some(format!("{line}\n"))),
        ConsoleEchoer::<String>::new().build(),
    ])?;
    system(target, outcome, reader, printer)
}

/// Watches the display service's `signal` (link it to this component's `control`): an
/// `ErrorInformation` (no window could be made) is printed on stderr, recorded in the
/// [`Outcome`], and ends the chat system by sending `ShutdownMicroprocess` to `system_control`.
///
/// Shutdown: the standard contract ([`ControlWatch`]): it ends when the display does (a
/// terminal signal). Policy [`SignalPolicy::Deliver`]: it acts on `ErrorInformation`, then
/// passes each signal on.
pub fn display_watcher(outcome: Outcome, system_control: axon_core::InboxRef<Signal>) -> Component {
    let mut b = ComponentBuilder::new("DisplayWatcher");
    let io = b.standard::<(), ()>();
    b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Other(s) => {
                    if let Signal::ErrorInformation { message, .. } = &s {
                        eprintln!("chat-client: {message}");
                        outcome.fail();
                        // Control inboxes are unbounded: this is never refused for room.
                        let _ = system_control.try_send(Signal::ShutdownMicroprocess);
                    }
                    watch.emit(s).await;
                }
                // `inbox` is unused.
                Next::Data(()) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
    })
}
