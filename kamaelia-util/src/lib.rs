//! Kamaelia's everyday components: transformers, sources and sinks, console reader and
//! echoer, clocks and rate limits, choosers, splitters, routers, balancers, sorting, tuple
//! helpers, the line and token framers text protocols use, and the Introspector.
//!
//! Each is a function or builder returning an [`axon_core::Component`] with the four
//! standard boxes (or those named in its doc), linked by a chassis or by hand. All follow
//! one shutdown contract, the core's ([`Driver`](axon_core::Driver),
//! [`ControlWatch`](axon_core::ControlWatch)): on `ProducerFinished` a component finishes
//! what it holds, passes the signal on and stops; on `ShutdownMicroprocess` it stops at once,
//! even while waiting for room to send, and passes it on; other signals (`Status` ...) are
//! passed on out of `signal`. Each component's doc says only what is special about it.
//!
//! - Transformers: [`PureTransformer`] (a map and filter), [`StatefulTransformer`] (with
//!   state and an end hook), [`PassThrough`].
//! - Sources and sinks: [`DataSource`], [`TriggeredSource`], [`OneShot`],
//!   [`TriggeredOneShot`], [`Clock`], [`NullSink`].
//! - Console: [`ConsoleReader`] (threaded), [`ConsoleEchoer`].
//! - Time and rate: [`TimedShutdown`], [`MessageRateLimit`], [`ByteRateRequestControl`],
//!   [`VariableByteRateRequestControl`], [`OnDemandLimit`].
//! - Choosing: [`Chooser`], [`ForwardIteratingChooser`] (commands: [`ChooserCommand`]).
//! - Splitting: [`Fanout`], [`Router`], [`ConditionalSplitter`], [`TwoWaySplitter`],
//!   [`Balancer`].
//! - Ordering and tuples: [`Sort`], [`SimpleDetupler`], [`Entuple`].
//! - Framing: [`ChunksToLines`] (over the plain [`LineFramer`]), [`LinesToTokenlists`] (over
//!   [`split_tokens`]).
//! - Introspection: [`Introspector`] (a system's topology in the AxonVisualiser's protocol).
//!
//! A component of one's own sits among them as an equal: the core's driver runs its loop and
//! the whole contract, so a filter is one line.
//!
//! ```
//! use axon_core::{ComponentBuilder, Scheduler, Signal, link};
//! use kamaelia_util::{DataSource, PureTransformer, Sort};
//!
//! // Keeps words longer than three letters: a component of one's own, on the driver.
//! let mut b = ComponentBuilder::new("LongWords");
//! let io = b.standard::<String, String>();
//! let long_words = b.run(|_ctx| io.transform(|w: String| (w.len() > 3).then_some(w)));
//!
//! let source = DataSource::new(["pear", "fig", "apple", "kiwi"].map(String::from));
//! let upper = PureTransformer::new(|w: String| Some(w.to_uppercase()));
//! let sort = Sort::<String>::new();
//!
//! // Where the result lands: boxes read once the system has stopped.
//! let mut b = ComponentBuilder::new("Result");
//! let (words, signals) = (b.inbox::<String>("inbox"), b.control());
//! let result = b.run(|_ctx| async {});
//!
//! // What a Pipeline (kamaelia-chassis) does: outbox -> inbox and signal -> control.
//! let chain = [&source, &long_words, &upper, &sort, &result];
//! for pair in chain.windows(2) {
//!     link((pair[0], "outbox"), (pair[1], "inbox")).unwrap();
//!     link((pair[0], "signal"), (pair[1], "control")).unwrap();
//! }
//! let sched = Scheduler::new();
//! for c in &chain[..4] {
//!     sched.activate(c).unwrap();
//! }
//! sched.run();
//! assert_eq!(words.drain().collect::<Vec<_>>(), ["APPLE", "KIWI", "PEAR"]);
//! // The source's ProducerFinished travelled down the chain, stopping each stage in turn.
//! let got: Vec<Signal> = signals.drain().collect();
//! assert!(matches!(&got[..], [s] if s.is_producer_finished()), "{got:?}");
//! ```

mod chooser;
mod console;
mod framing;
mod introspector;
mod sort;
mod sources;
mod split;
mod timing;
mod transform;
mod tuples;

pub use chooser::{Chooser, ChooserCommand, ForwardIteratingChooser, UnknownChooserCommand};
pub use console::{ConsoleEchoer, ConsoleReader};
pub use framing::{
    ChunksToLines, DEFAULT_MAX_LINE, FramingError, LineFramer, LinesToTokenlists, OverlongPolicy, TokenError,
    TokenErrorKind, Utf8Policy, decode_line, split_tokens,
};
pub use introspector::{DEFAULT_INTROSPECT_INTERVAL, Introspector};
pub use sort::Sort;
pub use sources::{Clock, DataSource, NullSink, OneShot, TURN_BUDGET, TriggeredOneShot, TriggeredSource};
pub use split::{
    BalanceStrategy, Balancer, ConditionalSplitter, Fanout, Router, RouterBuilder, RouterRule, TwoWaySplitter,
};
pub use timing::{
    ByteRateRequestControl, MessageRateLimit, OnDemandLimit, RateConfigError, TimedShutdown,
    VariableByteRateRequestControl,
};
pub use transform::{PassThrough, PureTransformer, StatefulTransformer};
pub use tuples::{Entuple, SimpleDetupler};
