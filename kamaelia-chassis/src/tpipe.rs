//! TPipe: a tee for a pipeline, passing its data on and giving a child a copy (or a share).

use std::fmt;

use axon_core::{Component, ComponentBuilder, Direction, Next, Outbox, Signal};

use crate::ChassisError;
use crate::children::{Children, activate_children};
use crate::wiring::{Wiring, check_fresh, require_box};

/// Where a [`TPipe`] sends an item that passes its condition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TPipeMode {
    /// Every item goes out of `outbox`; those passing the condition also go to the child.
    #[default]
    Split,
    /// Items passing the condition go to the child, the others out of `outbox`.
    Route,
}

/// Kamaelia's `TPipe` (from `Kamaelia.Apps.MPS`): a tee that sits in a pipeline and feeds a
/// child (the *action*) from the data flowing through.
///
/// Boxes:
/// - `inbox`: `T`; the data flowing through.
/// - `control`: [`Signal`]; see shutdown.
/// - `outbox`: `T`; the data passed on (see [`TPipeMode`]), plus, with `source`, what the
///   child sends.
/// - `signal`: [`Signal`]; TPipe's end; any other control message (as the original); with
///   `source`, the child's non-terminal signals.
/// - `_outbox` (private, linked with `sink`): `T`, to the child's `inbox`.
/// - `_signal` (private): to the child's `control`.
/// - `_inbox` (private, linked with `source`): `T`, from the child's `outbox`.
/// - `_control` (private, linked with `source`): from the child's `signal`.
///
/// Configuration: [`condition`](Self::condition) (default: always true); [`mode`](Self::mode)
/// (default [`TPipeMode::Split`]); [`sink`](Self::sink) (default true: items passing the
/// condition go to the child; if false the child gets no data); [`source`](Self::source)
/// (default false: if true the child's `outbox` is injected into TPipe's `outbox`). Without
/// `source` the child's `outbox` and `signal` are left unlinked, so what it sends waits in
/// its own boxes (Axon would discard it).
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)) for the data
/// flowing through, and the chassis contract (see the [crate docs](crate)) for its child:
/// each signal is also given to the child, and TPipe signals its end once:
/// - `ProducerFinished`: the items already in `inbox` are handled, the message is passed to
///   the child, and once the child has ended (its last output injected, with `source`)
///   TPipe sends it on `signal` and stops.
/// - `ShutdownMicroprocess` (or `Shutdown`): passed to the child; TPipe sends it on `signal`
///   and stops at once, even while waiting for room to send an item (which is dropped).
/// - anything else: to the child's `control` and out of `signal`, as in the original.
///
/// If the child ends on its own, TPipe ends too (as the original), sending `ProducerFinished`
/// naming itself, so whatever it feeds is not left waiting.
///
/// Differs from Kamaelia: the original forwards a `ProducerFinished` on `signal` at once
/// while it is still passing data on, and ends without a signal when its child ends.
///
/// If the child cannot be started when TPipe first runs (its activation hook refused, say a
/// Backplane whose name is taken, or someone activated it after TPipe was built), TPipe sends
/// [`Signal::ErrorInformation`] naming itself, the child and the reason, then
/// `ShutdownMicroprocess`, out of `signal`, disowns the child and ends; what waits in TPipe's
/// `inbox` stays there. Nothing panics.
///
/// Errors, from `build`, naming the culprit: the child lacks a box TPipe links (`control` and
/// `signal`; `inbox` with `sink`; `outbox` with `source`) or carries a type other than `T`;
/// the child was already activated or adopted.
#[must_use = "a TPipe does nothing until `build` is called"]
pub struct TPipe<T> {
    action: Component,
    condition: Box<dyn Fn(&T) -> bool + Send + 'static>,
    mode: TPipeMode,
    sink: bool,
    source: bool,
}

impl<T> fmt::Debug for TPipe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TPipe")
            .field("action", &self.action)
            .field("mode", &self.mode)
            .field("sink", &self.sink)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + 'static> TPipe<T> {
    /// A TPipe feeding `action`: split mode, every item to the child, nothing back.
    pub fn new(action: Component) -> Self {
        TPipe { action, condition: Box::new(|_| true), mode: TPipeMode::Split, sink: true, source: false }
    }

    /// Which items the child gets (default: all).
    pub fn condition(mut self, condition: impl Fn(&T) -> bool + Send + 'static) -> Self {
        self.condition = Box::new(condition);
        self
    }

    /// Split (default) or route.
    pub fn mode(mut self, mode: TPipeMode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether the child gets data at all (default true).
    pub fn sink(mut self, sink: bool) -> Self {
        self.sink = sink;
        self
    }

    /// Whether the child's `outbox` is injected into TPipe's `outbox` (default false).
    pub fn source(mut self, source: bool) -> Self {
        self.source = source;
        self
    }

    /// Adopts and links the child and returns the TPipe, or the first mistake found.
    pub fn build(self) -> Result<Component, ChassisError> {
        let TPipe { action, condition, mode, sink, source } = self;
        let mut b = ComponentBuilder::new("TPipe");
        let chassis = b.name().to_string();
        check_fresh(&chassis, &action, &mut Vec::new())?;
        require_box(&chassis, &action, "control", Direction::Inbox)?;
        require_box(&chassis, &action, "signal", Direction::Outbox)?;
        if sink {
            require_box(&chassis, &action, "inbox", Direction::Inbox)?;
        }
        if source {
            require_box(&chassis, &action, "outbox", Direction::Outbox)?;
        }
        let io = b.standard::<T, T>();
        let child_in = b.outbox::<T>("_outbox");
        let child_control = b.outbox::<Signal>("_signal");
        let child_out = b.inbox::<T>("_inbox");
        let child_signal = b.inbox::<Signal>("_control");
        let mut wiring = Wiring::new(b.ctx());
        let me = wiring.ctx.component();
        let wired = (|| -> Result<(), ChassisError> {
            wiring.adopt(&action);
            wiring.link((&me, "_signal"), (&action, "control"))?;
            if sink {
                wiring.link((&me, "_outbox"), (&action, "inbox"))?;
            }
            if source {
                wiring.link((&action, "outbox"), (&me, "_inbox"))?;
                wiring.link((&action, "signal"), (&me, "_control"))?;
            }
            Ok(())
        })();
        if let Err(e) = wired {
            wiring.undo();
            return Err(e);
        }
        Ok(b.run(move |ctx| async move {
            let mut family = Children::new(ctx.clone(), io.control, io.signal, Some(child_signal));
            if let Err(failure) = activate_children(&ctx, std::slice::from_ref(&action)) {
                return family.give_up(failure).await;
            }
            // Once a ProducerFinished has come (after the inbox was drained), nothing more is read.
            let mut finishing = false;
            loop {
                while let Some(next) = family.next((!finishing).then_some(&io.inbox)).await {
                    match next {
                        Next::Data(d) => {
                            let to_child = sink && condition(&d);
                            // If a shutdown interrupts, it is handed out next.
                            pass_on(&mut family, d, to_child, mode, &io.outbox, &child_in).await;
                        }
                        Next::End(s) if s.is_shutdown() => {
                            family.tell_through(&action, &child_control, &s).await;
                            return family.stop(s).await;
                        }
                        Next::End(s) => {
                            family.tell_through(&action, &child_control, &s).await;
                            family.remember(s);
                            finishing = true;
                        }
                        Next::Other(s) => {
                            family.tell_through(&action, &child_control, &s).await;
                            family.watch().emit(s).await;
                        }
                    }
                }
                let done = ctx.children_done();
                // The child's output, with `source` (all of it, once the child has ended).
                let mut interrupted = false;
                while let Some(d) = child_out.try_recv() {
                    if !family.send(&io.outbox, d).await {
                        interrupted = true;
                        break;
                    }
                }
                if interrupted {
                    // The shutdown is handed out next.
                    continue;
                }
                if done {
                    return family.finish().await;
                }
                axon_core::pause().await;
            }
        }))
    }
}

/// Sends one item on: out of `outbox`, to the child, or both, as the mode says. False if a
/// shutdown interrupted it.
async fn pass_on<T: Clone + Send + 'static>(
    family: &mut Children,
    d: T,
    to_child: bool,
    mode: TPipeMode,
    outbox: &Outbox<T>,
    child_in: &Outbox<T>,
) -> bool {
    match (mode, to_child) {
        (TPipeMode::Split, true) => family.send(outbox, d.clone()).await && family.send(child_in, d).await,
        (TPipeMode::Route, true) => family.send(child_in, d).await,
        (_, false) => family.send(outbox, d).await,
    }
}
