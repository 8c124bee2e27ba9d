//! Chooser and ForwardIteratingChooser: step through items on command.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Signal, StandardBoxes};

/// A command to a [`Chooser`] or [`ForwardIteratingChooser`]: which item to send next.
///
/// Kamaelia sends these as the strings `"SAME"`, `"NEXT"`, `"PREV"`, `"FIRST"` and `"LAST"`
/// (for example from Buttons); [`FromStr`] parses exactly those, and [`Chooser::build_text`]
/// builds a chooser whose inbox takes the strings.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChooserCommand {
    /// Send the current item again.
    Same,
    /// Move forward one item and send it.
    Next,
    /// Move back one item and send it.
    Prev,
    /// Move to the first item and send it.
    First,
    /// Move to the last item and send it.
    Last,
}

impl ChooserCommand {
    /// The command as Kamaelia spells it (`"SAME"`, `"NEXT"` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ChooserCommand::Same => "SAME",
            ChooserCommand::Next => "NEXT",
            ChooserCommand::Prev => "PREV",
            ChooserCommand::First => "FIRST",
            ChooserCommand::Last => "LAST",
        }
    }
}

impl fmt::Display for ChooserCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the five chooser commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownChooserCommand(pub String);

impl fmt::Display for UnknownChooserCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown chooser command {:?} (expected SAME, NEXT, PREV, FIRST or LAST)", self.0)
    }
}

impl std::error::Error for UnknownChooserCommand {}

impl FromStr for ChooserCommand {
    type Err = UnknownChooserCommand;

    /// Parses Kamaelia's command strings, which are matched exactly (upper case, no spaces).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "SAME" => Ok(ChooserCommand::Same),
            "NEXT" => Ok(ChooserCommand::Next),
            "PREV" => Ok(ChooserCommand::Prev),
            "FIRST" => Ok(ChooserCommand::First),
            "LAST" => Ok(ChooserCommand::Last),
            other => Err(UnknownChooserCommand(other.to_string())),
        }
    }
}

/// Chooser: steps forwards and backwards through a list of items, sending the item chosen
/// (Kamaelia's `Kamaelia.Util.Chooser.Chooser(items, loop)`; the slideshow's heart:
/// Buttons -> Chooser -> image display).
///
/// On start it sends the first item. Then each command moves a cursor and sends the item
/// under it: `Same` resends it, `Next`/`Prev` step one way, `First`/`Last` jump to an end.
/// Stepping past an end sends nothing and leaves the cursor where it was, unless
/// [`looping`](Chooser::looping), when it wraps round. With no items nothing is ever sent.
///
/// Boxes:
/// - `inbox: ChooserCommand` (or `String` with [`build_text`](Chooser::build_text)): commands.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the chosen items (clones).
/// - `signal: Signal`: signals passed on.
///
/// Configuration: the items; `looping` (default false).
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)): on `ProducerFinished`
/// (no more commands will come) it carries out the commands already received first.
///
/// Differs from Kamaelia: the original ignores `producerFinished` and runs on with no one to
/// command it; here the end of the command stream ends it. The original's `PREV` at the
/// first item sends the first item again, and with `loop` it moves to a position past the
/// end (so nothing is sent, and the next `NEXT` sends the first item); here `PREV` at the
/// first item sends nothing, or wraps to the last item when looping, as its documentation
/// says. An unknown command string is ignored (the original resends the current item).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Chooser<T> {
    items: Vec<T>,
    looping: bool,
}

impl<T: Clone + Send + 'static> Chooser<T> {
    /// A Chooser over `items`, not looping.
    pub fn new(items: Vec<T>) -> Self {
        Chooser { items, looping: false }
    }

    /// Whether stepping past either end wraps round to the other (Kamaelia's `loop`).
    pub fn looping(mut self, looping: bool) -> Self {
        self.looping = looping;
        self
    }

    /// Builds a Chooser taking [`ChooserCommand`]s.
    pub fn build(self) -> Component {
        self.build_with(Some)
    }

    /// Builds a Chooser taking Kamaelia's command strings (`"NEXT"` ...), for wiring to
    /// components that send strings. Strings that are not commands are ignored.
    pub fn build_text(self) -> Component {
        self.build_with(|s: String| s.parse().ok())
    }

    fn build_with<C: Send + 'static>(self, parse: fn(C) -> Option<ChooserCommand>) -> Component {
        let Chooser { items, looping } = self;
        let mut b = ComponentBuilder::new("Chooser");
        let io: StandardBoxes<C, T> = b.standard();
        b.run(move |_ctx| async move {
            let mut driver = io.driver();
            let mut cursor = Cursor { index: 0, len: items.len(), looping };
            // The first item goes out at once, before any command.
            if let Some(item) = items.first() {
                if let Err(stop) = driver.emit(item.clone()).await {
                    return driver.finish(stop.signal).await;
                }
            }
            let end =
                driver.run_map(move |cmd| parse(cmd).and_then(|c| cursor.apply(c)).map(|i| items[i].clone())).await;
            driver.finish(end).await;
        })
    }
}

/// A Chooser's position in its items.
struct Cursor {
    index: usize,
    len: usize,
    looping: bool,
}

impl Cursor {
    /// Carries out a command; returns the index to send, if any.
    fn apply(&mut self, cmd: ChooserCommand) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let last = self.len - 1;
        self.index = match cmd {
            ChooserCommand::Same => self.index,
            ChooserCommand::First => 0,
            ChooserCommand::Last => last,
            ChooserCommand::Next if self.index < last => self.index + 1,
            ChooserCommand::Next if self.looping => 0,
            ChooserCommand::Prev if self.index > 0 => self.index - 1,
            ChooserCommand::Prev if self.looping => last,
            ChooserCommand::Next | ChooserCommand::Prev => return None,
        };
        Some(self.index)
    }
}

/// ForwardIteratingChooser: steps forwards through any iterator, one item per `Next`
/// (Kamaelia's `Kamaelia.Util.Chooser.ForwardIteratingChooser(items)`), so it can walk an
/// endless or lazily made sequence.
///
/// On start it takes the first item and sends it. `Next` takes and sends the next one;
/// `Same` resends the current one; `Prev`, `First` and `Last` are ignored. When `Next` finds
/// the iterator exhausted, it sends its own `ProducerFinished` on `signal` and ends. An empty
/// iterator sends nothing at start, and ends at the first `Next`.
///
/// The iterator runs inside the component's body: it should not block.
///
/// Boxes:
/// - `inbox: ChooserCommand` (or `String` with
///   [`with_text_commands`](ForwardIteratingChooser::with_text_commands)): commands.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the items.
/// - `signal: Signal`: its own `ProducerFinished` at exhaustion; signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it carries out the commands already received first.
///
/// Differs from Kamaelia: the original calls the Python 2 `.next()`, so on Python 3 its first
/// step fails (reference §1.16 quirk 10); it also ignores `producerFinished`.
pub struct ForwardIteratingChooser<T>(PhantomData<fn() -> T>);

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl<T: Clone + Send + 'static> ForwardIteratingChooser<T> {
    /// A ForwardIteratingChooser over `items`, taking [`ChooserCommand`]s.
    pub fn new<I>(items: I) -> Component
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        Self::build_with(items.into_iter(), Some)
    }

    /// A ForwardIteratingChooser over `items`, taking Kamaelia's command strings. Strings
    /// that are not commands are ignored.
    pub fn with_text_commands<I>(items: I) -> Component
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        Self::build_with(items.into_iter(), |s: String| s.parse().ok())
    }

    fn build_with<C, It>(mut items: It, parse: fn(C) -> Option<ChooserCommand>) -> Component
    where
        C: Send + 'static,
        It: Iterator<Item = T> + Send + 'static,
    {
        let mut b = ComponentBuilder::new("ForwardIteratingChooser");
        let io: StandardBoxes<C, T> = b.standard();
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let mut current = items.next();
            let mut pending = current.clone();
            let end = loop {
                if let Some(item) = pending.take() {
                    if let Err(stop) = watch.send(&io.outbox, item).await {
                        break stop.signal;
                    }
                }
                match watch.next(&io.inbox).await {
                    Next::Data(cmd) => match parse(cmd) {
                        Some(ChooserCommand::Same) => pending = current.clone(),
                        Some(ChooserCommand::Next) => match items.next() {
                            Some(item) => {
                                pending = Some(item.clone());
                                current = Some(item);
                            }
                            None => break Signal::producer_finished_by(ctx.id()),
                        },
                        _ => {}
                    },
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) => break s,
                }
            };
            watch.finish(end).await;
        })
    }
}
