//! Seq: children run one after another, each in turn wired to the Seq's own boxes, with
//! progress strings printed between them.

use std::fmt;
use std::io::Write;

use axon_core::{Component, ComponentBuilder, Direction, InboxRef, Signal, link, unlink};

use crate::ChassisError;
use crate::children::{Act, Children, Ended, StartFailure, activate_children};
use crate::wiring::{check_fresh, require_standard};

/// One step of a [`Seq`]: a component to run, or a progress string to print.
#[derive(Debug)]
pub enum SeqItem {
    /// Run this component until it ends.
    Component(Component),
    /// Print this line (to stdout, or the writer given to [`SeqBuilder::output`]).
    Progress(String),
}

impl From<Component> for SeqItem {
    fn from(c: Component) -> Self {
        SeqItem::Component(c)
    }
}

impl From<&str> for SeqItem {
    fn from(s: &str) -> Self {
        SeqItem::Progress(s.to_string())
    }
}

impl From<String> for SeqItem {
    fn from(s: String) -> Self {
        SeqItem::Progress(s)
    }
}

/// Kamaelia's `Seq`: runs its components one at a time, in order.
///
/// The type names the chassis: [`Seq::new`] and [`Seq::builder`] build one and return it as
/// an ordinary [`Component`].
///
/// Each component in turn is adopted, wired and activated: Seq's `inbox` passes through to
/// its `inbox` and its `outbox` surfaces as Seq's `outbox`. Its `signal` feeds a private inbox,
/// so a stage's `ProducerFinished` does not shut down whatever Seq feeds between stages. When
/// it ends it is unwired and the next item is taken. A progress string is printed, on a line
/// of its own, when it is reached. Data arriving on `inbox` between stages waits there and goes
/// to the next stage; what a stage leaves unread in its own inbox stays there (Seq's `inbox`
/// forwards at once, not on demand, as in Axon).
///
/// Boxes:
/// - `inbox`: the first component's `inbox` type (every component's must match); data for
///   the current stage.
/// - `control`: [`Signal`]; see shutdown.
/// - `outbox`: the first component's `outbox` type (every component's must match); what the
///   current stage sends.
/// - `signal`: [`Signal`]; Seq's end, plus any non-terminal signal a stage sends (Status,
///   Notify ...): a stage's terminal signals are absorbed.
/// - `_childsignal` (private inbox): the current stage's `signal`.
///
/// Configuration: [`output`](SeqBuilder::output), where progress strings go (stdout by
/// default; a failed write is ignored, as progress is only informational).
///
/// Shutdown: the chassis contract (see the [crate docs](crate)): signals on `control` go to
/// the current stage, and Seq signals its end once, after the last item, with a
/// `ProducerFinished` naming itself. Besides:
/// - `ShutdownMicroprocess` (or `Shutdown`): Seq stops at once (without waiting for the
///   stage, whose wiring to Seq is removed) and sends it on `signal`; later items never run.
/// - `ProducerFinished` (no more input): once the current stage has ended, Seq skips the
///   remaining items (they would wait for input that will never come) and sends that
///   `ProducerFinished` on `signal`.
///
/// Differs from Kamaelia: the original ignores `control`, so a Seq could not be stopped
/// between or during stages; and it leaves a stage's `signal` unlinked, where Axon discards
/// it (here it would pile up, so Seq drains it instead).
///
/// A stage that cannot be started when its turn comes (its activation hook refused, say a
/// Backplane whose name is taken; someone activated it, or linked one of the boxes Seq wires,
/// after Seq was built) is reported, not a panic: Seq sends [`Signal::ErrorInformation`]
/// naming itself, the stage and the reason, then `ShutdownMicroprocess`, out of `signal`,
/// disowns the stage (unwired) and ends; later items never run, and data waiting in Seq's
/// `inbox` stays there.
///
/// Errors, from `build`, naming the culprit: no component at all; a component missing a
/// standard box; a component whose `inbox` or `outbox` type differs from the first's; a
/// component already activated or adopted.
#[derive(Debug)]
#[non_exhaustive]
pub struct Seq;

impl Seq {
    /// A Seq of `items`, printing progress strings to stdout.
    #[allow(
        clippy::new_ret_no_self,
        reason = "a chassis is an ordinary Component, as every Kamaelia constructor returns"
    )]
    pub fn new(items: impl IntoIterator<Item = SeqItem>) -> Result<Component, ChassisError> {
        items.into_iter().fold(Self::builder(), SeqBuilder::item).build()
    }

    /// A builder, for mixing components and progress strings and choosing where the strings
    /// go.
    pub fn builder() -> SeqBuilder {
        SeqBuilder { items: Vec::new(), output: Box::new(std::io::stdout()) }
    }
}

/// Builds a [`Seq`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct SeqBuilder {
    items: Vec<SeqItem>,
    output: Box<dyn Write + Send>,
}

impl fmt::Debug for SeqBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeqBuilder").field("items", &self.items).finish_non_exhaustive()
    }
}

/// A stage ready to run: the component and its control inbox.
enum Step {
    Run(Component, InboxRef<Signal>),
    Say(String),
}

impl SeqBuilder {
    /// Appends an item.
    pub fn item(mut self, item: impl Into<SeqItem>) -> Self {
        self.items.push(item.into());
        self
    }

    /// Appends a component to run.
    pub fn component(self, c: Component) -> Self {
        self.item(c)
    }

    /// Appends a progress string to print.
    pub fn progress(self, text: impl Into<String>) -> Self {
        self.item(SeqItem::Progress(text.into()))
    }

    /// Where progress strings are written (stdout by default).
    pub fn output(mut self, w: impl Write + Send + 'static) -> Self {
        self.output = Box::new(w);
        self
    }

    /// Checks the components and returns the Seq, or the first mistake found.
    pub fn build(self) -> Result<Component, ChassisError> {
        let first = self.items.iter().find_map(|i| match i {
            SeqItem::Component(c) => Some(c.clone()),
            SeqItem::Progress(_) => None,
        });
        let Some(first) = first else {
            return Err(ChassisError::NoChildren { chassis: "Seq".into() });
        };
        let mut b = ComponentBuilder::new("Seq");
        let chassis = b.name().to_string();
        let mut seen = Vec::new();
        for item in &self.items {
            if let SeqItem::Component(c) = item {
                check_fresh(&chassis, c, &mut seen)?;
                require_standard(&chassis, c)?;
            }
        }
        let lerr = |e| ChassisError::link(&chassis, e);
        b.declare_like("inbox", Direction::Inbox, (&first, "inbox")).map_err(lerr)?;
        let control = b.control();
        b.declare_like("outbox", Direction::Outbox, (&first, "outbox")).map_err(lerr)?;
        let signal = b.signal();
        let childsignal = b.inbox::<Signal>("_childsignal");
        let me = b.ctx().component();
        let mut steps = Vec::new();
        for item in self.items {
            match item {
                SeqItem::Progress(s) => steps.push(Step::Say(s)),
                SeqItem::Component(c) => {
                    // Each stage is wired only in its turn; try its wiring now, so a type
                    // mismatch is reported when Seq is built.
                    for l in wire(&me, &c).map_err(lerr)? {
                        unlink(&l);
                    }
                    let control = c.inbox_ref::<Signal>("control").map_err(lerr)?;
                    steps.push(Step::Run(c, control));
                }
            }
        }
        let mut output = self.output;
        Ok(b.run(move |ctx| async move {
            let mut family = Children::new(ctx.clone(), control, signal, Some(childsignal));
            for step in steps {
                let (child, child_control) = match step {
                    Step::Say(text) => {
                        // Progress is informational: a failed write must not stop the sequence.
                        let _ = writeln!(output, "{text}").and_then(|()| output.flush());
                        continue;
                    }
                    Step::Run(c, r) => (c, r),
                };
                ctx.add_child(&child);
                // Recorded in Seq's postoffice, so the links go when the stage is removed or
                // Seq ends. The same links were tried when Seq was built, so they fail only if
                // someone linked one of these boxes since. The stage's inbox is fed only once
                // it has started, so if it cannot start, what waits for it stays in Seq's inbox.
                let me = ctx.component();
                let [outputs @ .., (from, to)] = wiring_of(&me, &child);
                let unwired = |e| format!("its boxes cannot be wired: {e}");
                let started = match outputs.into_iter().find_map(|(from, to)| ctx.link(from, to).err()) {
                    Some(e) => {
                        ctx.remove_child(&child);
                        Err(StartFailure::new(&ctx, &child, &unwired(e)))
                    }
                    None => activate_children(&ctx, std::slice::from_ref(&child)).and_then(|()| {
                        ctx.link(from, to)
                            .map(drop)
                            .map_err(|e| StartFailure::new(&ctx, &child, &unwired(e)).with_started(child.clone()))
                    }),
                };
                drop(me);
                if let Err(failure) = started {
                    return family.give_up(failure).await;
                }
                match family.run(&[(child, child_control)], stage_act).await {
                    Ended::Stop(s) => return family.stop(s).await,
                    // A ProducerFinished was remembered: no more input for the later items.
                    Ended::ChildrenDone if family.remembered().is_some() => return family.finish().await,
                    Ended::ChildrenDone => {}
                }
            }
            family.finish().await;
        }))
    }
}

/// What Seq does with a signal on its `control`: every signal goes to the current stage; a
/// shutdown then stops Seq at once; a `ProducerFinished` is Seq's end once the stage has
/// ended.
fn stage_act(s: &Signal) -> Act {
    if s.is_shutdown() {
        Act::TellAndStop
    } else if s.is_producer_finished() {
        Act::TellAndRemember
    } else {
        Act::Tell
    }
}

/// A box named by its component and its name.
type BoxRef<'a> = (&'a Component, &'a str);

/// The three links that put a stage in place: its `outbox` to Seq's `outbox`, its `signal` to
/// Seq's `_childsignal`, and (last, made once the stage has started) Seq's `inbox` to its
/// `inbox`.
fn wiring_of<'a>(me: &'a Component, child: &'a Component) -> [(BoxRef<'a>, BoxRef<'a>); 3] {
    [((child, "outbox"), (me, "outbox")), ((child, "signal"), (me, "_childsignal")), ((me, "inbox"), (child, "inbox"))]
}

/// Makes a stage's three links (unrecorded), undoing them all if one fails.
fn wire(me: &Component, child: &Component) -> Result<Vec<axon_core::Linkage>, axon_core::LinkError> {
    let mut made = Vec::new();
    for (from, to) in wiring_of(me, child) {
        match link(from, to) {
            Ok(l) => made.push(l),
            Err(e) => {
                for l in &made {
                    unlink(l);
                }
                return Err(e);
            }
        }
    }
    Ok(made)
}
