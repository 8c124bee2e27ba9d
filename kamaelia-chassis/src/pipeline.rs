//! Pipeline: children in a line, each one's `outbox` and `signal` feeding the next one's
//! `inbox` and `control`; also the plumbing every chassis here shares.

use axon_core::{
    ActivateError, Component, ComponentBuilder, ComponentId, ComponentState, Ctx, Direction, Inbox, LinkErrorKind,
    LinkOptions, Linkage, Outbox, Signal,
};

use crate::ChassisError;

/// Kamaelia's `Pipeline`: runs its children side by side, wired in a line.
///
/// `Pipeline` is never a value: it names the constructors [`Pipeline::new`] and
/// [`Pipeline::builder`], which return the pipeline as an ordinary [`Component`].
///
/// Wiring (made when it is built, so mistakes are reported then): child *i*'s `outbox` feeds
/// child *i+1*'s `inbox` and its `signal` feeds child *i+1*'s `control`. The pipeline's own
/// `inbox` and `control` pass straight through to the first child (inbox passthroughs), and
/// the last child's `outbox` and `signal` surface as the pipeline's own (outbox
/// passthroughs). With [`circular`](PipelineBuilder::circular) the last child's `outbox` and
/// `signal` feed the first child's `inbox` and `control` instead (which then has two feeds:
/// fan-in is allowed); the pipeline's own `outbox` and `signal` then stay unlinked and carry
/// nothing.
///
/// Boxes (the data boxes carry the message type of the child box they pass through to or
/// from):
/// - `inbox`: the first child's `inbox` type; data for the first child.
/// - `control`: the first child's `control` type (normally [`Signal`]); signals for the first
///   child.
/// - `outbox`: the last child's `outbox` type; what the last child sends.
/// - `signal`: [`Signal`]; what the last child signals (so the last child's `signal` must
///   carry `Signal`), plus the pipeline's own report if a child cannot be started (below).
///
/// Configuration: [`box_size`](PipelineBuilder::box_size) bounds every child's `inbox`, and
/// [`child_with_inbox_size`](PipelineBuilder::child_with_inbox_size) one child's (Kamaelia's
/// experimental `Pipeline(5, A(), ...)`), so a whole pipeline can run with bounded boxes: a
/// fast producer then waits for a slow consumer and the pipeline never holds more than the
/// sum of its children's inbox capacities. (A size set on a child that is itself a chassis is
/// inert: its `inbox` only forwards, and its own children's sizes apply.)
///
/// Life: the children are adopted when the pipeline is built and activated, in order, only
/// when the pipeline first runs. The pipeline never looks at the traffic and, while its
/// children run, sends nothing itself (shutdown is whatever the children pass along: the last
/// child's signal is what emerges); it ends when all of its children have ended.
///
/// Errors, from [`build`](PipelineBuilder::build), naming the culprit: no children; a child
/// missing one of the four standard boxes (or with one facing the wrong way); two neighbours
/// whose boxes carry different message types; a last child whose `signal` does not carry
/// [`Signal`]; a child that was already activated or adopted by another chassis.
///
/// A child that cannot be started when the pipeline first runs (its activation hook refused,
/// say a Backplane whose name is taken, or someone activated it after the pipeline was built)
/// cannot be known when it is built. Then the pipeline sends
/// [`Signal::ErrorInformation`] naming itself, the child and the reason out of `signal`,
/// disowns that child and the ones after it (unstarted, unlinked, as given), sends
/// `ShutdownMicroprocess` to the `control` of each child it already started, waits for them to
/// end, sends `ShutdownMicroprocess` out of `signal`, and ends. Nothing panics.
///
/// ```
/// use axon_core::{ComponentBuilder, Received, Scheduler, Signal};
/// use kamaelia_chassis::Pipeline;
///
/// let mut b = ComponentBuilder::new("Source");
/// let io = b.standard::<(), u32>();
/// let source = b.run(move |ctx| async move {
///     for n in 1..=3 {
///         io.outbox.send(n).await;
///     }
///     io.signal.send(Signal::producer_finished_by(ctx.id())).await;
/// });
/// let mut b = ComponentBuilder::new("Double");
/// let io = b.standard::<u32, u32>();
/// let double = b.run(move |_| async move {
///     loop {
///         match io.inbox.recv_with_control(&io.control).await {
///             Received::Data(n) => io.outbox.send(2 * n).await,
///             Received::Control(s) => {
///                 for n in io.inbox.drain().collect::<Vec<_>>() {
///                     io.outbox.send(2 * n).await;
///                 }
///                 io.signal.send(s).await;
///                 break;
///             }
///         }
///     }
/// });
/// let pipeline = Pipeline::new([source, double]).unwrap();
/// let sched = Scheduler::new();
/// let mut b = ComponentBuilder::new("Sink");
/// let got = b.inbox::<u32>("inbox");
/// let sink = b.run(|_| async {});
/// axon_core::link((&pipeline, "outbox"), (&sink, "inbox")).unwrap();
/// sched.activate(&pipeline).unwrap();
/// sched.run();
/// assert_eq!(got.drain().collect::<Vec<_>>(), [2, 4, 6]);
/// ```
#[derive(Debug)]
pub enum Pipeline {}

impl Pipeline {
    /// A pipeline of `children`, in order, with unbounded boxes and no feedback loop.
    #[allow(
        clippy::new_ret_no_self,
        reason = "a chassis is an ordinary Component, as every Kamaelia constructor returns"
    )]
    pub fn new(children: impl IntoIterator<Item = Component>) -> Result<Component, ChassisError> {
        children.into_iter().fold(Self::builder(), PipelineBuilder::child).build()
    }

    /// A builder, for box sizes and the circular option.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }
}

/// Builds a [`Pipeline`]: its children in order, their box sizes, and whether it is circular.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PipelineBuilder {
    children: Vec<(Component, Option<usize>)>,
    box_size: Option<usize>,
    circular: bool,
}

impl PipelineBuilder {
    /// Appends a child.
    pub fn child(mut self, child: Component) -> Self {
        self.children.push((child, None));
        self
    }

    /// Appends a child whose `inbox` holds at most `size` messages (overrides
    /// [`box_size`](Self::box_size) for this child).
    pub fn child_with_inbox_size(mut self, size: usize, child: Component) -> Self {
        self.children.push((child, Some(size)));
        self
    }

    /// Bounds every child's `inbox` to `size` messages (unless set per child).
    pub fn box_size(mut self, size: usize) -> Self {
        self.box_size = Some(size);
        self
    }

    /// If true, the last child's `outbox` and `signal` feed the first child's `inbox` and
    /// `control` (a feedback loop) instead of the pipeline's own `outbox` and `signal`.
    pub fn circular(mut self, circular: bool) -> Self {
        self.circular = circular;
        self
    }

    /// Adopts and links the children and returns the pipeline, or the first mistake found.
    pub fn build(self) -> Result<Component, ChassisError> {
        let (Some((first, _)), Some((last, _))) = (self.children.first(), self.children.last()) else {
            return Err(ChassisError::NoChildren { chassis: "Pipeline".into() });
        };
        let (first, last) = (first.clone(), last.clone());
        let mut b = ComponentBuilder::new("Pipeline");
        let chassis = b.name().to_string();
        let mut seen = Vec::new();
        for (child, _) in &self.children {
            check_fresh(&chassis, child, &mut seen)?;
            require_standard(&chassis, child)?;
        }
        for (name, dir, like) in [
            ("inbox", Direction::Inbox, &first),
            ("control", Direction::Inbox, &first),
            ("outbox", Direction::Outbox, &last),
        ] {
            b.declare_like(name, dir, (like, name)).map_err(|e| ChassisError::link(&chassis, e))?;
        }
        // Typed, so the pipeline can report a child that cannot start; the last child's
        // signal still passes straight through to it.
        let signal = b.signal();
        let mut wiring = Wiring::new(b.ctx());
        let me = wiring.ctx.component();
        let wired = (|| {
            for (child, _) in &self.children {
                wiring.adopt(child);
            }
            for pair in self.children.windows(2) {
                wiring.link((&pair[0].0, "outbox"), (&pair[1].0, "inbox"))?;
                wiring.link((&pair[0].0, "signal"), (&pair[1].0, "control"))?;
            }
            wiring.link((&me, "inbox"), (&first, "inbox"))?;
            wiring.link((&me, "control"), (&first, "control"))?;
            if self.circular {
                wiring.link((&last, "outbox"), (&first, "inbox"))?;
                wiring.link((&last, "signal"), (&first, "control"))?;
            } else {
                wiring.link((&last, "outbox"), (&me, "outbox"))?;
                wiring.link((&last, "signal"), (&me, "signal"))?;
            }
            Ok(())
        })();
        if let Err(e) = wired {
            wiring.undo();
            return Err(e);
        }
        for (child, size) in &self.children {
            if let Some(n) = size.or(self.box_size) {
                // `require_standard` found every child's inbox, so this cannot fail.
                let _ = child.set_box_capacity("inbox", Some(n));
            }
        }
        let children: Vec<Component> = self.children.into_iter().map(|(c, _)| c).collect();
        Ok(b.run(move |ctx| async move {
            let started = activate_children(&ctx, &children);
            drop(children);
            match started {
                Ok(()) => ctx.wait_for_children().await,
                Err(failure) => give_up(&ctx, failure, &signal, None).await,
            }
        }))
    }
}

// ---------------------------------------------------------------------------------------
// Plumbing shared by every chassis in this crate.

/// Checks that `child` can be adopted: never activated, not adopted by another chassis, and
/// not given twice (`seen` collects the ids so far).
pub(crate) fn check_fresh(chassis: &str, child: &Component, seen: &mut Vec<ComponentId>) -> Result<(), ChassisError> {
    let invalid = |why: &str| ChassisError::Invalid {
        chassis: chassis.to_string(),
        reason: format!("child {} {why}", child.name()),
    };
    if seen.contains(&child.id()) {
        return Err(invalid("is given twice"));
    }
    seen.push(child.id());
    if child.state() != ComponentState::Created {
        return Err(invalid("was already activated (a chassis activates its children itself)"));
    }
    if let Some(p) = child.parent() {
        return Err(invalid(&format!("already belongs to {}", p.name())));
    }
    Ok(())
}

/// Checks that `child` has a box `name` facing `dir`. A missing box, or an outbox where an
/// inbox is needed, is a [`ChassisError::Link`] in axon-core's own terms (as linking would
/// report it); an inbox where an outbox is needed has no such term and is
/// [`ChassisError::Invalid`].
pub(crate) fn require_box(chassis: &str, child: &Component, name: &str, dir: Direction) -> Result<(), ChassisError> {
    let (component, name) = (child.name().to_string(), name.to_string());
    let kind = match child.box_info(&name) {
        Some(info) if info.direction == dir => return Ok(()),
        None => LinkErrorKind::NoSuchBox { component, name },
        Some(_) if dir == Direction::Inbox => LinkErrorKind::NotAnInbox { component, name },
        Some(_) => {
            let reason = format!("child {component}'s box {name:?} is an inbox, where an outbox is needed");
            return Err(ChassisError::Invalid { chassis: chassis.to_string(), reason });
        }
    };
    Err(ChassisError::link(chassis, kind.into()))
}

/// "inbox" or "outbox", for messages.
pub(crate) fn dir_word(dir: Direction) -> &'static str {
    match dir {
        Direction::Inbox => "inbox",
        Direction::Outbox => "outbox",
    }
}

/// Checks that `child` has the four standard boxes, facing the right way.
pub(crate) fn require_standard(chassis: &str, child: &Component) -> Result<(), ChassisError> {
    require_box(chassis, child, "inbox", Direction::Inbox)?;
    require_box(chassis, child, "control", Direction::Inbox)?;
    require_box(chassis, child, "outbox", Direction::Outbox)?;
    require_box(chassis, child, "signal", Direction::Outbox)
}

/// The children adopted and links made while building a chassis, so a failed build can undo
/// them and leave the children as they were given.
pub(crate) struct Wiring {
    pub(crate) ctx: Ctx,
    chassis: String,
    adopted: Vec<Component>,
    links: Vec<Linkage>,
}

impl Wiring {
    pub(crate) fn new(ctx: Ctx) -> Self {
        let chassis = ctx.name();
        Wiring { ctx, chassis, adopted: Vec::new(), links: Vec::new() }
    }

    /// The chassis's name, for errors.
    pub(crate) fn chassis(&self) -> &str {
        &self.chassis
    }

    pub(crate) fn adopt(&mut self, child: &Component) {
        self.ctx.add_child(child);
        self.adopted.push(child.clone());
    }

    /// Links through the chassis's postoffice (so the link goes when the chassis ends).
    pub(crate) fn link(&mut self, from: (&Component, &str), to: (&Component, &str)) -> Result<Linkage, ChassisError> {
        self.link_with(from, to, LinkOptions::default())
    }

    /// [`link`](Self::link) with options (a capacity for the sink box).
    pub(crate) fn link_with(
        &mut self,
        from: (&Component, &str),
        to: (&Component, &str),
        options: LinkOptions,
    ) -> Result<Linkage, ChassisError> {
        let l = self.ctx.link_with(from, to, options).map_err(|e| ChassisError::link(&self.chassis, e))?;
        self.links.push(l.clone());
        Ok(l)
    }

    /// Removes every link made and disowns every child adopted.
    pub(crate) fn undo(self) {
        for l in &self.links {
            self.ctx.unlink(l);
        }
        for c in &self.adopted {
            self.ctx.remove_child(c);
        }
    }
}

/// A child that could not be started when its chassis first ran, and the children started
/// before it.
pub(crate) struct StartFailure {
    /// For the `ErrorInformation`: the chassis, the child and the reason.
    message: String,
    /// Started, so to be stopped.
    started: Vec<Component>,
}

impl StartFailure {
    /// The failure to start `child` (no other child was started: a Seq's stage, a TPipe's
    /// action), with a message naming the chassis, the child and the reason.
    pub(crate) fn new(ctx: &Ctx, child: &Component, reason: &str) -> Self {
        StartFailure {
            message: format!("{}: cannot start child {}: {reason}", ctx.name(), child.name()),
            started: Vec::new(),
        }
    }

    /// The same, noting that `child` was started after all (so it is to be stopped).
    pub(crate) fn with_started(mut self, child: Component) -> Self {
        self.started.push(child);
        self
    }
}

/// Why `child` did not start, in words for an `ErrorInformation`.
pub(crate) fn refusal(ctx: &Ctx, e: &ActivateError) -> String {
    match e {
        ActivateError::Refused { reason, .. } => format!("it refused to start: {reason}"),
        ActivateError::AlreadyActivated { .. } => {
            format!(
                "it was activated by someone else after {} was built (a chassis starts its children itself)",
                ctx.name()
            )
        }
        other => other.to_string(),
    }
}

/// Activates `children` in order on the chassis's scheduler. If one cannot be started (its
/// activation hook refused, or someone else activated it since the chassis was built: neither
/// can be known when the chassis is built), it and the children after it are disowned (their
/// links made by the chassis removed, so the unstarted ones are left as they were given) and
/// the failure is returned, with the children already started, for [`give_up`].
pub(crate) fn activate_children(ctx: &Ctx, children: &[Component]) -> Result<(), StartFailure> {
    for (i, child) in children.iter().enumerate() {
        if let Err(e) = ctx.activate(child) {
            for c in &children[i..] {
                ctx.remove_child(c);
            }
            let failure = StartFailure::new(ctx, child, &refusal(ctx, &e));
            return Err(StartFailure { started: children[..i].to_vec(), ..failure });
        }
    }
    Ok(())
}

/// The graceful way out for a chassis that could not start a child: it sends
/// `ErrorInformation` (naming itself, the child and the reason) out of `signal`, so whatever it
/// feeds hears of it; sends `ShutdownMicroprocess` to the `control` of each child it started
/// (a child with no `Signal` control cannot be told, so it is disowned rather than waited for);
/// waits for them to end, passing on what they signal into `child_signals` (a chassis's private
/// inbox for its children's signals, if it has one); then sends `ShutdownMicroprocess` out of
/// `signal`. The chassis's body ends after this.
pub(crate) async fn give_up(
    ctx: &Ctx,
    failure: StartFailure,
    signal: &Outbox<Signal>,
    child_signals: Option<&Inbox<Signal>>,
) {
    let StartFailure { message, started } = failure;
    signal.send(Signal::ErrorInformation { caller: Some(ctx.id()), message }).await;
    for child in &started {
        if child.is_finished() {
            continue;
        }
        match child.inbox_ref::<Signal>("control") {
            Ok(control) => control.send(Signal::ShutdownMicroprocess).await,
            Err(_) => ctx.remove_child(child),
        }
    }
    drop(started);
    loop {
        if let Some(from) = child_signals {
            pass_on_child_signals(from, signal).await;
        }
        if ctx.children_done() {
            break;
        }
        axon_core::pause().await;
    }
    if let Some(from) = child_signals {
        pass_on_child_signals(from, signal).await;
    }
    signal.send(Signal::ShutdownMicroprocess).await;
}

/// Passes on what a child signalled into a chassis's private inbox: the terminal signals
/// (ProducerFinished, ShutdownMicroprocess, Shutdown) are absorbed, since the chassis sees
/// the child end and signals its own end once; anything else (Status, Notify,
/// ErrorInformation ...) goes out of the chassis's `signal`, so nothing is lost silently.
pub(crate) async fn pass_on_child_signals(from: &Inbox<Signal>, to: &Outbox<Signal>) {
    while let Some(s) = from.try_recv() {
        if !s.is_terminal() {
            to.send(s).await;
        }
    }
}
