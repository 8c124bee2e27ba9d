//! Kamaelia's networking, on mio: a [`Selector`] that is the scheduler's idle wait, the
//! [`ConnectedSocketAdapter`] (one TCP connection as a component), [`ServerCore`] (a TCP
//! server whose connections are each served by a protocol component from a factory),
//! [`SingleServer`] (a TCP server for one client at a time), [`TcpClient`], and UDP:
//! [`UdpPeer`], [`MulticastSender`], [`MulticastReceiver`] and [`MulticastTransceiver`].
//!
//! ```
//! use axon_core::{ComponentBuilder, Received};
//! use kamaelia_net::ServerCore;
//!
//! // A protocol: answers each chunk it receives with "hello " + the chunk.
//! fn greeter(_conn: kamaelia_net::ConnInfo) -> axon_core::Component {
//!     let mut b = ComponentBuilder::new("Greeter");
//!     let io = b.standard::<Vec<u8>, Vec<u8>>();
//!     b.run(move |_| async move {
//!         loop {
//!             match io.inbox.recv_with_control(&io.control).await {
//!                 Received::Data(bytes) => io.outbox.send([b"hello ".as_slice(), &bytes].concat()).await,
//!                 Received::Control(s) => {
//!                     io.signal.send(s).await;
//!                     return;
//!                 }
//!             }
//!         }
//!     })
//! }
//!
//! let server = ServerCore::new(greeter).port(0).listen().unwrap();
//! let sched = kamaelia_net::scheduler().unwrap();
//! sched.activate(&server.component).unwrap();
//! # drop(sched);
//! ```

mod client;
mod csa;
mod selector;
mod server;
mod single;
mod udp;

pub use client::{CONNECT_TIMEOUT, CONNECTION_REFUSED, PEER_CLOSED, TcpClient};
pub use csa::{ConnectedSocketAdapter, READ_CHUNK, SlowClientPolicy};
pub use selector::{SELECTOR_SERVICE, Selector, scheduler, scheduler_with};
pub use server::{ConnInfo, Listening, ServerCore};
pub use single::SingleServer;
pub use udp::{MAX_DATAGRAM, MulticastReceiver, MulticastSender, MulticastTransceiver, UdpPeer};
