//! Kamaelia's everyday components: transformers, console reader and echoer, sources and
//! sinks, rate limits and clocks, tuple helpers, choosers, splitters, routers, balancers,
//! sorting, the line and token framers text protocols use, and the Introspector (a system's
//! topology in the AxonVisualiser's protocol).
//!
//! Each is a function or builder returning an [`axon_core::Component`] with documented
//! boxes and shutdown rules: on `ProducerFinished` a component finishes what it holds, passes
//! the signal on and stops; on `ShutdownMicroprocess` it stops promptly and passes it on.

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

pub use chooser::*;
pub use console::*;
pub use framing::*;
pub use introspector::*;
pub use sort::*;
pub use sources::*;
pub use split::*;
pub use timing::*;
pub use transform::*;
pub use tuples::*;
