//! Kamaelia across processes and hosts, on Redis Streams: a Backplane bridged through a
//! stream, and a distributed work queue.
//!
//! - [`PublishBridge`] writes what reaches its inbox to the stream `kamaelia:backplane:NAME`,
//!   each entry carrying its [`Origin`] (host, process id, random instance id) and that
//!   origin's sequence number; [`SubscribeBridge`] reads the stream through a consumer group
//!   of its own, skips its own origin's entries, checks every other origin's sequence, and
//!   sends the messages out of its `outbox`. Slow subscribers follow a [`RemotePolicy`]
//!   (Lossless, DropOldest, Disconnect) that means the same on every host.
//! - [`RedisBackplane`] puts both around a local splitter: a drop-in for
//!   `kamaelia_chassis::Backplane` whose `PublishTo`/`SubscribeTo` reach every process
//!   bridged to the same name, each message delivered once to every subscriber.
//!
//! Every Redis call blocks, so every component here is threaded; `redis` appears in no other
//! crate of the workspace. A component that cannot reach its server keeps what it holds,
//! reports on its `error` outbox, and reconnects with backoff.
//!
//! ```no_run
//! use axon_core::Scheduler;
//! use kamaelia_redis::RedisBackplane;
//!
//! // In each process: the backplane "CHAT", bridged through the server.
//! let chat = RedisBackplane::<String>::new("redis://127.0.0.1:6379", "CHAT").build();
//! let sched = Scheduler::new();
//! sched.activate(&chat).unwrap();
//! // ... PublishTo::<String>::new("CHAT") and SubscribeTo::<String>::new("CHAT") as usual.
//! ```

mod backplane;
mod endpoint;
mod error;
mod policy;
mod publish;
mod queue;
mod subscribe;
#[cfg(feature = "testing")]
pub mod testing;
mod wire;

pub use backplane::RedisBackplane;
pub use endpoint::check;
pub use error::{Error, ErrorKind};
pub use policy::{RemotePolicy, backplane_dead_letters, backplane_stream};
pub use publish::{PublishBridge, PublishStats};
pub use queue::{Job, Lease, Outcome, Queue, QueueStatus, QueueWorker, Ticket};
pub use subscribe::{SubscribeBridge, SubscribeStats};
pub use wire::{Codec, DEFAULT_MAX_MESSAGE_BYTES, Origin};
