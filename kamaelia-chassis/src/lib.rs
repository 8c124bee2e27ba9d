//! Kamaelia's chassis: the coordination layer that wires components together.
//!
//! A chassis is itself a component. It adopts children, links their boxes (and its own boxes
//! to theirs, as passthroughs), activates them when it first runs, and ends when they have
//! all ended: [`Pipeline`], [`Graphline`], [`Par`], [`Seq`], [`Carousel`], [`TPipe`], and
//! the publish/subscribe [`Backplane`] with [`PublishTo`] and [`SubscribeTo`]. Linking
//! mistakes are [`ChassisError`]s returned when a chassis is built, naming the culprit.

mod backplane;
mod carousel;
mod error;
mod graphline;
mod par;
mod pipeline;
mod seq;
mod tpipe;

pub use backplane::*;
pub use carousel::*;
pub use error::*;
pub use graphline::*;
pub use par::*;
pub use pipeline::*;
pub use seq::*;
pub use tpipe::*;
