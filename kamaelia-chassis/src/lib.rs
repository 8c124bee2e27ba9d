//! Kamaelia's chassis: the coordination layer that wires components together.
//!
//! A chassis is itself a component. It adopts children, links their boxes (and its own boxes
//! to theirs, as passthroughs), activates them when it first runs, and ends when they have
//! all ended. Each is built by its type and returned as an ordinary
//! [`Component`](axon_core::Component):
//!
//! - [`Pipeline`]: children in a line, each one's `outbox` and `signal` feeding the next
//!   one's `inbox` and `control` ([`PipelineBuilder`] for box sizes and feedback loops).
//! - [`Graphline`]: named children linked as the user says, the graphline's own boxes reached
//!   through `"self"` ([`GraphlineBuilder`]).
//! - [`Par`]: children side by side, their outputs merged, control messages handled by a
//!   [`ParAction`] policy ([`ParBuilder`]).
//! - [`Seq`]: children one after another, with progress strings between ([`SeqBuilder`],
//!   [`SeqItem`]).
//! - [`Carousel`]: one child at a time, each made by a factory on demand.
//! - [`TPipe`]: a tee in a pipeline, feeding a child a copy (or a share, [`TPipeMode`]).
//! - [`Backplane`], [`PublishTo`] and [`SubscribeTo`]: named publish/subscribe on a
//!   [`PlugSplitter`], with a [`SubscriberPolicy`] for slow subscribers.
//!
//! Linking mistakes are [`ChassisError`]s returned when a chassis is built, naming the
//! culprit.
//!
//! # Signals: the chassis contract
//!
//! Every chassis keeps the shutdown contract of the components it holds
//! ([`Driver`](axon_core::Driver)), as a chassis. A [`Pipeline`]'s `control` and `signal`
//! simply are its first and last child's. The others watch their `control` with a
//! [`ControlWatch`](axon_core::ControlWatch) and act on every signal rather than forwarding
//! it (policy [`Deliver`](axon_core::SignalPolicy::Deliver)):
//!
//! - A signal on the chassis's `control` is told to its children still running (which
//!   children, and what else the signal does, each chassis says on its type). Telling a
//!   child waits for room in its `control`; a shutdown arriving meanwhile is acted on next.
//! - What a child signals into the chassis is passed on out of the chassis's `signal`,
//!   except the child's terminal signals: the chassis sees the child end.
//! - The chassis signals its own end once, when it really has ended: a `ProducerFinished`
//!   naming itself, or the terminal signal it was given and remembered.
//!
//! ```
//! use axon_core::{ComponentBuilder, Component, ControlWatch, Scheduler, Signal};
//! use kamaelia_chassis::{Par, Pipeline};
//!
//! // A source: sends `items`, then ProducerFinished; a shutdown stops it early.
//! fn source(items: Vec<u32>) -> Component {
//!     let mut b = ComponentBuilder::new("Source");
//!     let io = b.standard::<(), u32>();
//!     b.run(|ctx| async move {
//!         let mut watch = ControlWatch::new(io.control, io.signal);
//!         for n in items {
//!             if let Err(stop) = watch.send(&io.outbox, n).await {
//!                 return watch.finish(stop.signal).await;
//!             }
//!         }
//!         watch.finish(Signal::producer_finished_by(ctx.id())).await;
//!     })
//! }
//!
//! // A filter: the driver runs its loop.
//! let mut b = ComponentBuilder::new("Evens");
//! let io = b.standard::<u32, u32>();
//! let evens = b.run(|_| io.transform(|n| (n % 2 == 0).then_some(n)));
//!
//! // Two sources side by side, merged, then filtered.
//! let par = Par::new([source(vec![1, 2, 3]), source(vec![10, 11, 12])]).unwrap();
//! let system = Pipeline::new([par, evens]).unwrap();
//!
//! let mut b = ComponentBuilder::new("Sink");
//! let (got, signals) = (b.inbox::<u32>("inbox"), b.inbox("control"));
//! let sink = b.run(|_| async {});
//! axon_core::link((&system, "outbox"), (&sink, "inbox")).unwrap();
//! axon_core::link((&system, "signal"), (&sink, "control")).unwrap();
//! let sched = Scheduler::new();
//! sched.activate(&system).unwrap();
//! sched.run();
//! let mut evens: Vec<u32> = got.drain().collect();
//! evens.sort_unstable();
//! assert_eq!(evens, [2, 10, 12]);
//! // One ProducerFinished, once both sources had ended.
//! assert!(matches!(signals.drain().collect::<Vec<Signal>>()[..], [Signal::ProducerFinished { .. }]));
//! ```

mod backplane;
mod carousel;
mod children;
mod error;
mod graphline;
mod par;
mod pipeline;
mod seq;
mod tpipe;
mod wiring;

pub use backplane::{
    Backplane, DropCounter, PlugSplitter, PublishTo, SplitterConfig, SubscribeTo, SubscriberPolicy,
    backplane_config_service, backplane_inbox_service,
};
pub use carousel::Carousel;
pub use error::ChassisError;
pub use graphline::{Graphline, GraphlineBuilder};
pub use par::{Par, ParAction, ParBuilder};
pub use pipeline::{Pipeline, PipelineBuilder};
pub use seq::{Seq, SeqBuilder, SeqItem};
pub use tpipe::{TPipe, TPipeMode};
