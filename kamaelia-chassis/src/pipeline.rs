//! Pipeline: children in a line, each one's `outbox` and `signal` feeding the next one's
//! `inbox` and `control`; also the plumbing every chassis here shares.

use axon_core::{
    Component, ComponentBuilder, ComponentId, ComponentState, Ctx, Direction, Inbox, LinkOptions, Linkage, Outbox,
    Signal,
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
/// Boxes (each carries the message type of the child box it passes through to or from):
/// - `inbox`: the first child's `inbox` type; data for the first child.
/// - `control`: the first child's `control` type (normally [`Signal`]); signals for the first
///   child.
/// - `outbox`: the last child's `outbox` type; what the last child sends.
/// - `signal`: the last child's `signal` type; what the last child signals.
///
/// Configuration: [`box_size`](PipelineBuilder::box_size) bounds every child's `inbox`, and
/// [`child_with_inbox_size`](PipelineBuilder::child_with_inbox_size) one child's (Kamaelia's
/// experimental `Pipeline(5, A(), ...)`), so a whole pipeline can run with bounded boxes: a
/// fast producer then waits for a slow consumer and the pipeline never holds more than the
/// sum of its children's inbox capacities. (A size set on a child that is itself a chassis is
/// inert: its `inbox` only forwards, and its own children's sizes apply.)
///
/// Life: the children are adopted when the pipeline is built and activated, in order, only
/// when the pipeline first runs. The pipeline never looks at the traffic and sends nothing
/// itself (shutdown is whatever the children pass along: the last child's signal is what
/// emerges); it ends when all of its children have ended.
///
/// Errors, from [`build`](PipelineBuilder::build), naming the culprit: no children; a child
/// missing one of the four standard boxes (or with one facing the wrong way); two neighbours
/// whose boxes carry different message types; a child that was already activated or adopted
/// by another chassis.
///
/// # Panics
/// The pipeline's body panics (the scheduler contains and reports it, naming the pipeline) if
/// a child refuses to start when the pipeline activates it (its activation hook failed, say
/// a Backplane whose name is taken): that cannot be known when the pipeline is built.
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
            ("signal", Direction::Outbox, &last),
        ] {
            b.declare_like(name, dir, (like, name)).map_err(|e| ChassisError::link(&chassis, e))?;
        }
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
            for child in &children {
                activate_child(&ctx, child);
            }
            drop(children);
            ctx.wait_for_children().await;
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

/// Checks that `child` has a box `name` facing `dir`.
pub(crate) fn require_box(chassis: &str, child: &Component, name: &str, dir: Direction) -> Result<(), ChassisError> {
    let reason = match child.box_info(name) {
        Some(info) if info.direction == dir => return Ok(()),
        Some(info) => format!(
            "child {}'s box {name:?} is an {}, where an {} is needed",
            child.name(),
            dir_word(info.direction),
            dir_word(dir)
        ),
        None => format!("child {} has no {} named {name:?}", child.name(), dir_word(dir)),
    };
    Err(ChassisError::Invalid { chassis: chassis.to_string(), reason })
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

/// Activates `child` on the chassis's scheduler.
///
/// # Panics
/// If the child refuses to start (its activation hook failed) or was activated by someone
/// else since the chassis was built. Neither can be found when the chassis is built; the
/// scheduler contains the panic and reports it with the chassis's name, so the failure is
/// visible rather than a chassis silently running without one of its children.
pub(crate) fn activate_child(ctx: &Ctx, child: &Component) {
    if let Err(e) = ctx.activate(child) {
        panic!("{}: cannot start child {}: {e}", ctx.name(), child.name());
    }
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
