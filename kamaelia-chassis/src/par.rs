//! Par (Kamaelia's PAR): children run side by side, their outputs merged, control messages
//! handled by a policy.

use std::fmt;

use axon_core::{Component, ComponentBuilder, Direction, Signal};

use crate::ChassisError;
use crate::children::{Act, Children, Ended, activate_children};
use crate::wiring::{Wiring, check_fresh, require_standard};

/// What a [`Par`] does with a message arriving on its `control` (its policy's answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParAction {
    /// Copy it to the `control` of every child still running.
    Broadcast,
    /// Copy it to every child still running, then send it on Par's `signal` and stop at
    /// once, without waiting for the children (which are disowned and unlinked).
    BroadcastAndStop,
    /// Do nothing with it.
    Ignore,
}

impl ParAction {
    /// Kamaelia's default policy: `ShutdownMicroprocess` (and Axon's older `Shutdown`) is
    /// [`BroadcastAndStop`](Self::BroadcastAndStop); anything else (a `ProducerFinished`,
    /// say) is [`Broadcast`](Self::Broadcast).
    pub fn default_policy(signal: &Signal) -> ParAction {
        if signal.is_shutdown() { ParAction::BroadcastAndStop } else { ParAction::Broadcast }
    }
}

impl From<ParAction> for Act {
    fn from(a: ParAction) -> Act {
        match a {
            ParAction::Broadcast => Act::Tell,
            ParAction::BroadcastAndStop => Act::TellAndStop,
            ParAction::Ignore => Act::Ignore,
        }
    }
}

/// Kamaelia's `PAR`: runs its children side by side and merges what they send.
///
/// The type names the chassis: [`Par::new`] and [`Par::builder`] build one and return it as
/// an ordinary [`Component`].
///
/// Boxes:
/// - `inbox`: the first child's `inbox` type. Par reads nothing from it and forwards nothing:
///   what arrives stays there (visible in a snapshot, bounded if given a size). PAR's job is
///   to run parallel producers; give a child its own feed instead.
/// - `control`: [`Signal`]; each message is handled by the policy (see [`ParAction`]).
/// - `outbox`: the children's `outbox` type (they must all carry the same): every child's
///   `outbox` passes through to it (fan-in), in whatever order the children send.
/// - `signal`: [`Signal`]; Par's own end (below), plus any non-terminal signal a child sends
///   (Status, Notify ...).
/// - `_childsignal` (private inbox): every child's `signal` feeds it.
///
/// Configuration: [`policy`](ParBuilder::policy), a closure from a control message to a
/// [`ParAction`]; the default is [`ParAction::default_policy`].
///
/// Shutdown: the chassis contract (see the [crate docs](crate)): every signal on `control`
/// goes to the policy (by default a `Status` is broadcast, and comes out of Par's `signal` as
/// the children pass it on), and Par signals its end once. A
/// [`BroadcastAndStop`](ParAction::BroadcastAndStop) (by default, a `ShutdownMicroprocess`)
/// makes Par stop at once, without waiting for the children (which are disowned and
/// unlinked), and send that message on `signal`. If all children end on their own (a
/// `ProducerFinished` is broadcast to them by default, so they drain and finish), Par sends
/// one `ProducerFinished` naming itself when the last has ended.
///
/// Differs from Kamaelia: a child's own `signal` does not pass through to Par's `signal`.
/// In the original the first child to finish sends its `ProducerFinished` straight out, so
/// whatever Par feeds shuts down while the other children are still producing. Here the
/// children's terminal signals are absorbed and Par signals its end once, when it really
/// has ended; their other signals still come out. And Par's `inbox` is left alone rather
/// than read and discarded, so nothing is lost silently.
///
/// A child that cannot be started when Par first runs (its activation hook refused, or someone
/// activated it after Par was built) is reported as for [`Pipeline`](crate::Pipeline):
/// [`Signal::ErrorInformation`] naming Par, the child and the reason out of `signal`; that
/// child and the later ones are disowned (unstarted ones left as given); the children already
/// started get `ShutdownMicroprocess` and Par waits for them to end (passing on their
/// non-terminal signals); then it sends `ShutdownMicroprocess` out of `signal` and ends.
///
/// Errors, from `build`, naming the culprit: no children; a child missing a standard box;
/// children whose `outbox`es carry different types; a child already activated or adopted.
#[derive(Debug)]
#[non_exhaustive]
pub struct Par;

impl Par {
    /// A Par of `children` with the default policy.
    #[allow(
        clippy::new_ret_no_self,
        reason = "a chassis is an ordinary Component, as every Kamaelia constructor returns"
    )]
    pub fn new(children: impl IntoIterator<Item = Component>) -> Result<Component, ChassisError> {
        children.into_iter().fold(Self::builder(), ParBuilder::child).build()
    }

    /// A builder, for the policy.
    pub fn builder() -> ParBuilder {
        ParBuilder { children: Vec::new(), policy: Box::new(ParAction::default_policy) }
    }
}

type Policy = Box<dyn FnMut(&Signal) -> ParAction + Send + 'static>;

/// Builds a [`Par`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ParBuilder {
    children: Vec<Component>,
    policy: Policy,
}

impl fmt::Debug for ParBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParBuilder").field("children", &self.children).finish_non_exhaustive()
    }
}

impl ParBuilder {
    /// Adds a child.
    pub fn child(mut self, child: Component) -> Self {
        self.children.push(child);
        self
    }

    /// Sets the policy: what to do with each control message.
    pub fn policy(mut self, policy: impl FnMut(&Signal) -> ParAction + Send + 'static) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// Adopts and links the children and returns the Par, or the first mistake found.
    pub fn build(self) -> Result<Component, ChassisError> {
        let Some(first) = self.children.first().cloned() else {
            return Err(ChassisError::NoChildren { chassis: "Par".into() });
        };
        let mut b = ComponentBuilder::new("Par");
        let chassis = b.name().to_string();
        let mut seen = Vec::new();
        for child in &self.children {
            check_fresh(&chassis, child, &mut seen)?;
            require_standard(&chassis, child)?;
        }
        // A control inbox of another type cannot take signals: say so now, not later.
        let targets = self
            .children
            .iter()
            .map(|c| c.inbox_ref::<Signal>("control").map(|r| (c.clone(), r)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ChassisError::link(&chassis, e))?;
        b.declare_like("inbox", Direction::Inbox, (&first, "inbox")).map_err(|e| ChassisError::link(&chassis, e))?;
        let control = b.control();
        b.declare_like("outbox", Direction::Outbox, (&first, "outbox")).map_err(|e| ChassisError::link(&chassis, e))?;
        let signal = b.signal();
        let childsignal = b.inbox::<Signal>("_childsignal");
        let mut wiring = Wiring::new(b.ctx());
        let me = wiring.ctx.component();
        let wired = (|| -> Result<(), ChassisError> {
            for child in &self.children {
                wiring.adopt(child);
                wiring.link((child, "outbox"), (&me, "outbox"))?;
                wiring.link((child, "signal"), (&me, "_childsignal"))?;
            }
            Ok(())
        })();
        if let Err(e) = wired {
            wiring.undo();
            return Err(e);
        }
        let mut policy = self.policy;
        let children = self.children;
        Ok(b.run(move |ctx| async move {
            let mut family = Children::new(ctx.clone(), control, signal, Some(childsignal));
            let started = activate_children(&ctx, &children);
            drop(children);
            if let Err(failure) = started {
                return family.give_up(failure).await;
            }
            match family.run(&targets, |s| policy(s).into()).await {
                Ended::Stop(s) => family.stop(s).await,
                Ended::ChildrenDone => family.finish().await,
            }
        }))
    }
}
