//! Carousel: one child at a time, each made by a factory from a message on `next`.

use std::fmt;
use std::marker::PhantomData;

use axon_core::{Component, ComponentBuilder, Ctx, Signal};

use crate::ChassisError;
use crate::children::{Children, refusal};
use crate::wiring::{Wiring, check_fresh, require_standard};

/// Kamaelia's `Carousel`: a slot for one child at a time, refilled on demand.
///
/// Each message on `next` is given to the factory, and the component it returns becomes the
/// child: Carousel's `inbox` passes through to the child's `inbox`, the child's `outbox`
/// surfaces as Carousel's `outbox`, Carousel's private `_signal` feeds the child's `control`
/// and the child's `signal` feeds Carousel's private `_control`. A `next` while a child is
/// running sends that child `ShutdownMicroprocess`; the request is honoured once it has
/// ended. When a child ends and no request is waiting, Carousel asks for another by sending
/// `"NEXT"` on `requestNext`.
///
/// Boxes:
/// - `inbox`: `I`; data for the current child. Between children it waits here and goes to
///   the next child. (What a replaced child had not read stays in that child's inbox.)
/// - `next`: `M`; factory arguments.
/// - `control`: [`Signal`]; see shutdown.
/// - `outbox`: `O`; what the current child sends.
/// - `signal`: [`Signal`]; Carousel's end; an `ErrorInformation` when the factory makes a
///   child that cannot be wired or started; any non-terminal signal a child sends.
/// - `requestNext`: `String`; `"NEXT"` when Carousel wants a new child.
/// - `_signal` (private outbox): to the current child's `control`.
/// - `_control` (private inbox): from the current child's `signal`.
///
/// Configuration: [`make_first_request`](Self::make_first_request) sends `"NEXT"` as soon as
/// Carousel starts; [`box_size`](Self::box_size) bounds every child's `inbox` (Kamaelia's
/// experimental `boxsize`).
///
/// Shutdown: the chassis contract (see the [crate docs](crate)): signals on `control` go to
/// the current child (dropped if there is none), and Carousel signals its end once. Besides:
/// - `ProducerFinished`: requests already waiting on `next` are honoured first; then the
///   message is passed to the current child; once that child has ended, Carousel sends it on
///   `signal` and stops. With no child and no request, it stops at once.
/// - `ShutdownMicroprocess` (or `Shutdown`): passed to the current child at once; Carousel
///   stops and sends it on `signal` once the child has gone (making no child for a waiting
///   request), or at once with no child.
///
/// Differs from Kamaelia: a child the factory makes that lacks a standard box, carries the
/// wrong types or refuses to start (its activation hook failed) is reported as
/// `ErrorInformation` on `signal` (naming it and the reason), and Carousel asks for the next
/// one, rather than failing deep inside; a child's terminal signals are absorbed
/// (Carousel watches the child end instead) and its other signals are passed on.
#[must_use = "a Carousel does nothing until `build` is called"]
pub struct Carousel<M, I, O> {
    factory: Box<dyn FnMut(M) -> Component + Send + 'static>,
    make_first_request: bool,
    box_size: Option<usize>,
    _types: PhantomData<fn(M, I) -> O>,
}

impl<M, I, O> fmt::Debug for Carousel<M, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Carousel")
            .field("make_first_request", &self.make_first_request)
            .field("box_size", &self.box_size)
            .finish_non_exhaustive()
    }
}

impl<M: Send + 'static, I: Send + 'static, O: Send + 'static> Carousel<M, I, O> {
    /// A Carousel whose children are made by `factory` from each `next` message.
    pub fn new(factory: impl FnMut(M) -> Component + Send + 'static) -> Self {
        Carousel { factory: Box::new(factory), make_first_request: false, box_size: None, _types: PhantomData }
    }

    /// If true, sends `"NEXT"` on `requestNext` as soon as it starts.
    pub fn make_first_request(mut self, yes: bool) -> Self {
        self.make_first_request = yes;
        self
    }

    /// Bounds every child's `inbox` to `size` messages.
    pub fn box_size(mut self, size: usize) -> Self {
        self.box_size = Some(size);
        self
    }

    /// The Carousel, ready to link and activate.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Carousel");
        let _inbox = b.inbox::<I>("inbox");
        let next = b.inbox::<M>("next");
        let control = b.control();
        let _outbox = b.outbox::<O>("outbox");
        let signal = b.signal();
        let request_next = b.outbox::<String>("requestNext");
        let to_child = b.outbox::<Signal>("_signal");
        let from_child = b.inbox::<Signal>("_control");
        let Carousel { mut factory, make_first_request, box_size, .. } = self;
        b.run(move |ctx| async move {
            let mut family = Children::new(ctx.clone(), control, signal, Some(from_child));
            if make_first_request {
                family.send(&request_next, "NEXT".to_string()).await;
            }
            let mut child: Option<Component> = None;
            // The current child was told to stop, to make way for a waiting `next`.
            let mut replacing = false;
            // The current child has been given the ProducerFinished remembered.
            let mut finish_passed = false;
            loop {
                while let Some(s) = family.next_signal().await {
                    let alive = child.as_ref().filter(|c| !c.is_finished());
                    if !s.is_producer_finished() {
                        if let Some(c) = alive {
                            family.tell_through(c, &to_child, &s).await;
                        }
                    }
                    if s.is_terminal() {
                        // A ProducerFinished waits for the requests already made; a shutdown
                        // stops Carousel once the child has gone.
                        family.remember(s);
                    }
                }
                let mut ended = false;
                if let Some(c) = child.take_if(|c| c.is_finished()) {
                    ctx.remove_child(&c);
                    family.pass_child_signals().await;
                    (ended, replacing, finish_passed) = (true, false, false);
                }
                let stopping = family.remembered().is_some_and(Signal::is_shutdown);
                let finishing = family.remembered().filter(|s| s.is_producer_finished()).cloned();
                if stopping {
                    if child.is_none() {
                        return family.finish().await;
                    }
                } else if let Some(c) = &child {
                    if !next.is_empty() {
                        if !replacing {
                            family.tell_through(c, &to_child, &Signal::ShutdownMicroprocess).await;
                            replacing = true;
                        }
                    } else if let Some(f) = finishing.filter(|_| !finish_passed && !replacing) {
                        family.tell_through(c, &to_child, &f).await;
                        finish_passed = true;
                    }
                } else if let Some(m) = next.try_recv() {
                    match start_child(&ctx, factory(m), box_size) {
                        Ok(c) => child = Some(c),
                        Err(e) => {
                            let message = e.to_string();
                            family.watch().emit(Signal::ErrorInformation { caller: Some(ctx.id()), message }).await;
                            if next.is_empty() && finishing.is_none() {
                                family.send(&request_next, "NEXT".to_string()).await;
                            }
                        }
                    }
                    // Look again at once: the new child may already be due for replacing.
                    continue;
                } else if finishing.is_some() {
                    return family.finish().await;
                } else if ended {
                    family.send(&request_next, "NEXT".to_string()).await;
                }
                // Woken by a signal, a `next` request, a child's signal or a child's end.
                axon_core::pause().await;
            }
        })
    }
}

/// Adopts, wires and activates a child the factory made, or says why it cannot be.
fn start_child(ctx: &Ctx, c: Component, box_size: Option<usize>) -> Result<Component, ChassisError> {
    let chassis = ctx.name();
    check_fresh(&chassis, &c, &mut Vec::new())?;
    require_standard(&chassis, &c)?;
    let me = ctx.component();
    let mut wiring = Wiring::new(ctx.clone());
    wiring.adopt(&c);
    let wired = (|| -> Result<(), ChassisError> {
        if let Some(n) = box_size {
            // Before linking, so what waits in Carousel's inbox moves into a bounded box.
            c.set_box_capacity("inbox", Some(n)).map_err(|e| ChassisError::link(&chassis, e))?;
        }
        wiring.link((&me, "inbox"), (&c, "inbox"))?;
        wiring.link((&me, "_signal"), (&c, "control"))?;
        wiring.link((&c, "outbox"), (&me, "outbox"))?;
        wiring.link((&c, "signal"), (&me, "_control"))?;
        ctx.activate(&c).map_err(|e| ChassisError::Invalid {
            chassis: chassis.clone(),
            reason: format!("cannot start child {}: {}", c.name(), refusal(ctx, &e)),
        })
    })();
    match wired {
        Ok(()) => Ok(c),
        Err(e) => {
            wiring.undo();
            Err(e)
        }
    }
}
