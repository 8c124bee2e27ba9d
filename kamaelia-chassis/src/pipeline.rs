//! Pipeline: children in a line, each one's `outbox` and `signal` feeding the next one's
//! `inbox` and `control`.

use axon_core::{Component, ComponentBuilder, Direction};

use crate::ChassisError;
use crate::children::{activate_children, give_up};
use crate::wiring::{Wiring, check_fresh, require_standard};

/// Kamaelia's `Pipeline`: runs its children side by side, wired in a line.
///
/// The type names the chassis: [`Pipeline::new`] and [`Pipeline::builder`] build one and
/// return it as an ordinary [`Component`], to link and activate like any other.
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
/// - `control`: the first child's `control` type (normally [`Signal`](axon_core::Signal));
///   signals for the first child.
/// - `outbox`: the last child's `outbox` type; what the last child sends.
/// - `signal`: [`Signal`](axon_core::Signal); what the last child signals (so the last
///   child's `signal` must carry `Signal`), plus the pipeline's own report if a child cannot
///   be started (below).
///
/// Configuration: [`box_size`](PipelineBuilder::box_size) bounds every child's `inbox`, and
/// [`child_with_inbox_size`](PipelineBuilder::child_with_inbox_size) one child's (Kamaelia's
/// experimental `Pipeline(5, A(), ...)`), so a whole pipeline can run with bounded boxes: a
/// fast producer then waits for a slow consumer and the pipeline never holds more than the
/// sum of its children's inbox capacities. (A size set on a child that is itself a chassis is
/// inert: its `inbox` only forwards, and its own children's sizes apply.)
///
/// Life: the children are adopted when the pipeline is built and activated, in order, only
/// when the pipeline first runs; it ends when all of its children have ended.
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)), carried by the children:
/// the pipeline's `control` is the first child's, each child's `signal` the next one's
/// `control`, and the last child's `signal` the pipeline's, so a `ProducerFinished` drains
/// the line child by child and a `ShutdownMicroprocess` stops it child by child, each passing
/// it on. The pipeline never looks at the traffic and, while its children run, sends nothing
/// itself.
///
/// Errors, from [`build`](PipelineBuilder::build), naming the culprit: no children; a child
/// missing one of the four standard boxes (or with one facing the wrong way); two neighbours
/// whose boxes carry different message types; a last child whose `signal` does not carry
/// [`Signal`](axon_core::Signal); a child that was already activated or adopted by another
/// chassis.
///
/// A child that cannot be started when the pipeline first runs (its activation hook refused,
/// say a Backplane whose name is taken, or someone activated it after the pipeline was built)
/// cannot be known when it is built. Then the pipeline sends
/// [`Signal::ErrorInformation`](axon_core::Signal::ErrorInformation) naming itself, the child
/// and the reason out of `signal`, disowns that child and the ones after it (unstarted,
/// unlinked, as given), sends `ShutdownMicroprocess` to the `control` of each child it
/// already started, waits for them to end, sends `ShutdownMicroprocess` out of `signal`, and
/// ends. Nothing panics.
///
/// ```
/// use axon_core::{ComponentBuilder, ControlWatch, Scheduler, Signal};
/// use kamaelia_chassis::Pipeline;
///
/// // A source: 1, 2, 3, then ProducerFinished (stopping early if told to).
/// let mut b = ComponentBuilder::new("Source");
/// let io = b.standard::<(), u32>();
/// let source = b.run(|ctx| async move {
///     let mut watch = ControlWatch::new(io.control, io.signal);
///     for n in 1..=3 {
///         if let Err(stop) = watch.send(&io.outbox, n).await {
///             return watch.finish(stop.signal).await;
///         }
///     }
///     watch.finish(Signal::producer_finished_by(ctx.id())).await;
/// });
/// // A doubler: the driver runs its loop, shutdown contract included.
/// let mut b = ComponentBuilder::new("Double");
/// let io = b.standard::<u32, u32>();
/// let double = b.run(|_| io.transform(|n| Some(2 * n)));
///
/// let pipeline = Pipeline::new([source, double]).unwrap();
/// let mut b = ComponentBuilder::new("Sink");
/// let got = b.inbox::<u32>("inbox");
/// let sink = b.run(|_| async {});
/// axon_core::link((&pipeline, "outbox"), (&sink, "inbox")).unwrap();
/// let sched = Scheduler::new();
/// sched.activate(&pipeline).unwrap();
/// sched.run();
/// assert_eq!(got.drain().collect::<Vec<_>>(), [2, 4, 6]);
/// // The source's ProducerFinished came down the line and out of the pipeline's signal.
/// assert_eq!(pipeline.box_info("signal").unwrap().len, 1);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Pipeline;

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
