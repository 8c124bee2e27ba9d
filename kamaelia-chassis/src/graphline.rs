//! Graphline: named children wired by arbitrary linkages, with the graphline's own boxes
//! reachable through the names `"self"` and `""`.

use axon_core::{Component, ComponentBuilder, Direction, Inbox, LinkOptions, Linkage, Outbox, Signal};

use crate::ChassisError;
use crate::children::{Act, Children, Ended, Target, activate_children, give_up};
use crate::wiring::{Wiring, check_fresh, dir_word};

/// Kamaelia's `Graphline`: named children, linked as the user says.
///
/// The type names the chassis: [`Graphline::builder`] returns a [`GraphlineBuilder`], whose
/// [`build`](GraphlineBuilder::build) returns the graphline as an ordinary [`Component`].
///
/// Linkages name boxes as `(component name, box name)`. The names `"self"` and `""` mean the
/// graphline itself: a linkage *from* `("self", "x")` makes `x` an inbox of the graphline that
/// passes straight through to the child box (an inbox passthrough); a linkage *to*
/// `("self", "y")` makes `y` an outbox of the graphline that the child box surfaces through
/// (an outbox passthrough). Each such box carries the message type of the child box at the
/// other end. Anything else is an ordinary outbox -> inbox link between two children.
///
/// Boxes:
/// - `inbox`: if linked from self, the type of the child box it feeds; otherwise `()`, never
///   read (so a graphline that takes no input still has the four standard boxes and fits in a
///   [`Pipeline`](crate::Pipeline) after a component whose `outbox` carries `()`; after
///   anything else the Pipeline reports the type mismatch, naming the graphline).
/// - `control`: [`Signal`]. Unless the user linked `("self", "control")` somewhere, the
///   graphline reads it and copies every message to the `control` of each child whose
///   `control` is not the sink of any user linkage (and that has a `Signal` control inbox).
///   If the user linked it, it is a passthrough like any other self inbox.
/// - `outbox`: if linked to self, the type of the child box feeding it; otherwise `()`,
///   never sent on.
/// - `signal`: [`Signal`] (so a child box linked to `("self", "signal")` must carry
///   `Signal`): the graphline's end (below), or, if the user linked a child to it, that
///   child's signals.
/// - any other box named on self in a linkage.
///
/// Configuration: [`link_with_size`](GraphlineBuilder::link_with_size) bounds the sink box of
/// one linkage and [`box_size`](GraphlineBuilder::box_size) any named box (Kamaelia's
/// experimental `boxsizes`). A size on a graphline box that passes through to a child is inert
/// (only a chain's final box counts, as in Axon): size the child's box instead.
///
/// Life: the children are adopted when the graphline is built and activated, in the order
/// they were given, only when it first runs; it ends when all of them have ended.
///
/// Shutdown: the chassis contract (see the [crate docs](crate)): every message on `control`
/// goes to the children named above (a `Status` too: it comes out wherever those children
/// pass it on), and the graphline signals its end once, when all of its children have ended:
/// the `ShutdownMicroprocess` (or `Shutdown`) it received on `control`, if any (remembered,
/// as in Kamaelia), else a fresh `ProducerFinished` naming the graphline. Unless the user
/// linked a child to `("self", "signal")`: then that child's signal is what emerges, and the
/// graphline sends nothing of its own.
///
/// A child that cannot be started then (its activation hook refused, say a Backplane whose
/// name is taken, or someone activated it after the graphline was built) is reported as for
/// [`Pipeline`](crate::Pipeline): [`Signal::ErrorInformation`] naming the graphline, the child
/// and the reason out of `signal`; that child and the later ones are disowned (unstarted ones
/// left as given); each child already started gets `ShutdownMicroprocess` on its `control`
/// (one with no `Signal` control is disowned instead) and the graphline waits for them to end;
/// then it sends `ShutdownMicroprocess` out of `signal` and ends. A child the user linked to
/// `("self", "signal")` is unlinked from it first, so only the graphline's own report and
/// shutdown emerge. Nothing panics.
///
/// Differs from Kamaelia: boxes named on self are the graphline's own, not added to a
/// class-level box list shared by every later graphline (quirk §1.16-5 cannot arise here).
/// A graphline with no components is [`ChassisError::NoChildren`] rather than the original's
/// TypeError for missing linkages (quirk §1.16-11); a graphline with components and no
/// linkages is allowed. A name that is neither a component nor `"self"`/`""` is an error
/// ([`ChassisError::UnknownComponent`]), where the original quietly took it to mean self; a
/// self -> self linkage (a warning in the original) is an error.
///
/// Errors, from [`build`](GraphlineBuilder::build), naming the culprit: no components; a
/// name given twice or reserved; an unknown component name; an unknown box; a type mismatch
/// (a child box linked to the graphline's `signal` that does not carry [`Signal`] included);
/// a self box used both as an inbox and an outbox, or a standard one facing the wrong way; a
/// box linked twice; a child already activated or adopted elsewhere.
#[derive(Debug)]
#[non_exhaustive]
pub struct Graphline;

impl Graphline {
    /// A builder: add named components, then linkages.
    pub fn builder() -> GraphlineBuilder {
        GraphlineBuilder::default()
    }
}

/// One linkage as given: `((component, box), (component, box), sink size)`.
type Spec = ((String, String), (String, String), Option<usize>);

/// Builds a [`Graphline`].
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct GraphlineBuilder {
    components: Vec<(String, Component)>,
    links: Vec<Spec>,
    sizes: Vec<((String, String), usize)>,
}

fn owned(b: (&str, &str)) -> (String, String) {
    (b.0.to_string(), b.1.to_string())
}

fn is_self(name: &str) -> bool {
    name == "self" || name.is_empty()
}

impl GraphlineBuilder {
    /// Adds a child under `name`.
    pub fn component(mut self, name: impl Into<String>, child: Component) -> Self {
        self.components.push((name.into(), child));
        self
    }

    /// Links `from` (an outbox, or a self inbox) to `to` (an inbox, or a self outbox).
    pub fn link(mut self, from: (&str, &str), to: (&str, &str)) -> Self {
        self.links.push((owned(from), owned(to), None));
        self
    }

    /// [`link`](Self::link), bounding the sink box to `size` messages.
    pub fn link_with_size(mut self, from: (&str, &str), to: (&str, &str), size: usize) -> Self {
        self.links.push((owned(from), owned(to), Some(size)));
        self
    }

    /// Bounds a box (of a child, or of the graphline through `"self"`) to `size` messages.
    pub fn box_size(mut self, boxname: (&str, &str), size: usize) -> Self {
        self.sizes.push((owned(boxname), size));
        self
    }

    /// Adopts and links the children and returns the graphline, or the first mistake found.
    pub fn build(self) -> Result<Component, ChassisError> {
        if self.components.is_empty() {
            return Err(ChassisError::NoChildren { chassis: "Graphline".into() });
        }
        let mut b = ComponentBuilder::new("Graphline");
        let chassis = b.name().to_string();
        let invalid = |reason: String| ChassisError::Invalid { chassis: chassis.clone(), reason };

        // Names: unique, not reserved; children fresh.
        let mut seen = Vec::new();
        for (i, (name, child)) in self.components.iter().enumerate() {
            if is_self(name) {
                return Err(invalid(format!("the name {name:?} is reserved for the graphline itself")));
            }
            if self.components[..i].iter().any(|(n, _)| n == name) {
                return Err(ChassisError::DuplicateName { chassis, name: name.clone() });
            }
            check_fresh(&chassis, child, &mut seen)?;
        }
        let find = |name: &str| -> Result<Option<&Component>, ChassisError> {
            if is_self(name) {
                return Ok(None);
            }
            match self.components.iter().find(|(n, _)| n == name) {
                Some((_, c)) => Ok(Some(c)),
                None => Err(ChassisError::UnknownComponent { chassis: chassis.clone(), name: name.to_string() }),
            }
        };

        // The graphline's own boxes: which ones the linkages name, which way they face, and
        // which child box gives each its type.
        let mut own: Vec<(String, Direction, Component, String)> = Vec::new();
        for ((fc, fb), (tc, tb), _) in &self.links {
            let (from, to) = (find(fc)?, find(tc)?);
            let (name, dir, like) = match (from, to) {
                (None, None) => {
                    return Err(invalid(format!(
                        "the linkage ({fc:?}, {fb:?}) -> ({tc:?}, {tb:?}) joins the graphline to itself"
                    )));
                }
                (None, Some(child)) => (fb, Direction::Inbox, (child, tb)),
                (Some(child), None) => (tb, Direction::Outbox, (child, fb)),
                (Some(_), Some(_)) => continue,
            };
            let standard = match name.as_str() {
                "inbox" | "control" => Some(Direction::Inbox),
                "outbox" | "signal" => Some(Direction::Outbox),
                _ => None,
            };
            if standard.is_some_and(|d| d != dir) || own.iter().any(|(n, d, ..)| n == name && *d != dir) {
                return Err(invalid(format!(
                    "the graphline's box {name:?} is used as an {}, but it is an {}",
                    dir_word(dir),
                    dir_word(if dir == Direction::Inbox { Direction::Outbox } else { Direction::Inbox })
                )));
            }
            if !own.iter().any(|(n, ..)| n == name) {
                own.push((name.clone(), dir, like.0.clone(), like.1.clone()));
            }
        }

        // Declare them: the four standard boxes first, in Axon's order, then the rest.
        let declare = |b: &mut ComponentBuilder, (name, dir, like, lbox): &(String, Direction, Component, String)| {
            b.declare_like(name.clone(), *dir, (like, lbox)).map_err(|e| ChassisError::link(&chassis, e))
        };
        let find_own = |name: &str| own.iter().find(|(n, ..)| n == name);
        let _inbox: Option<Inbox<()>> = match find_own("inbox") {
            Some(spec) => {
                declare(&mut b, spec)?;
                None
            }
            None => Some(b.inbox::<()>("inbox")),
        };
        let control: Option<Inbox<Signal>> = match find_own("control") {
            Some(spec) => {
                declare(&mut b, spec)?;
                None
            }
            None => Some(b.control()),
        };
        let _outbox: Option<Outbox<()>> = match find_own("outbox") {
            Some(spec) => {
                declare(&mut b, spec)?;
                None
            }
            None => Some(b.outbox::<()>("outbox")),
        };
        // Always typed, so the graphline can report a child that cannot start; a child box
        // the user links to it passes through as to any outbox.
        let signal = b.signal();
        let user_signal = find_own("signal").is_some();
        for spec in own.iter().filter(|(n, ..)| !matches!(n.as_str(), "inbox" | "control" | "outbox" | "signal")) {
            declare(&mut b, spec)?;
        }

        // Adopt and link.
        let mut wiring = Wiring::new(b.ctx());
        let me = wiring.ctx.component();
        // The user's links into the graphline's signal, cut if a child cannot start.
        let mut into_signal: Vec<Linkage> = Vec::new();
        let wired = (|| -> Result<(), ChassisError> {
            for (_, child) in &self.components {
                wiring.adopt(child);
            }
            for ((fc, fb), (tc, tb), size) in &self.links {
                let from = find(fc)?.unwrap_or(&me);
                let to = find(tc)?.unwrap_or(&me);
                let options = size.map(LinkOptions::capacity).unwrap_or_default();
                let l = wiring.link_with((from, fb), (to, tb), options)?;
                if is_self(tc) && tb == "signal" {
                    into_signal.push(l);
                }
            }
            for ((c, bx), size) in &self.sizes {
                let target = find(c)?.unwrap_or(&me);
                target.set_box_capacity(bx, Some(*size)).map_err(|e| ChassisError::link(wiring.chassis(), e))?;
            }
            Ok(())
        })();
        if let Err(e) = wired {
            wiring.undo();
            return Err(e);
        }

        // Who gets copies of control messages: children whose control nobody links to.
        let targets: Vec<Target> = if control.is_some() {
            self.components
                .iter()
                .filter(|(name, _)| !self.links.iter().any(|(_, (tc, tb), _)| tc == name && tb == "control"))
                .filter_map(|(_, c)| c.inbox_ref::<Signal>("control").ok().map(|r| (c.clone(), r)))
                .collect()
        } else {
            Vec::new()
        };
        let children: Vec<Component> = self.components.into_iter().map(|(_, c)| c).collect();
        Ok(b.run(move |ctx| async move {
            let started = activate_children(&ctx, &children);
            drop(children);
            if started.is_err() {
                // The children are stopped now: let none of their shutdowns slip out ahead of
                // the graphline's own.
                for l in &into_signal {
                    ctx.unlink(l);
                }
            }
            drop(into_signal);
            let Some(control) = control else {
                // The user linked the graphline's control to a child: there is nothing to watch.
                if let Err(failure) = started {
                    return give_up(&ctx, failure, &signal, None).await;
                }
                ctx.wait_for_children().await;
                if !user_signal {
                    signal.send(Signal::producer_finished_by(ctx.id())).await;
                }
                return;
            };
            let mut family = Children::new(ctx.clone(), control, signal, None);
            if let Err(failure) = started {
                return family.give_up(failure).await;
            }
            let act = |s: &Signal| if s.is_shutdown() { Act::TellAndRemember } else { Act::Tell };
            match family.run(&targets, act).await {
                Ended::ChildrenDone if user_signal => family.close().await,
                Ended::ChildrenDone => family.finish().await,
                Ended::Stop(s) => family.stop(s).await,
            }
        }))
    }
}
