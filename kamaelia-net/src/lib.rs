//! Kamaelia's networking, on mio.
//!
//! - [`Selector`]: the readiness service every socket component registers with; it is the
//!   scheduler's idle wait ([`scheduler`], [`scheduler_with`]).
//! - TCP: [`ConnectedSocketAdapter`] (one connection as a component, with its
//!   [`SlowClientPolicy`]), [`ServerCore`] (a server whose every connection is served by a
//!   protocol component from a factory, told its [`ConnInfo`]; [`Listening`] once bound),
//!   [`SingleServer`] (one client at a time, which the server's own boxes stand for) and
//!   [`TcpClient`].
//! - UDP: [`UdpPeer`] and IPv4 multicast: [`MulticastSender`], [`MulticastReceiver`],
//!   [`MulticastTransceiver`].
//!
//! Every component keeps the shutdown contract of axon-core's
//! [`ControlWatch`](axon_core::ControlWatch), read for sockets: `ProducerFinished` on
//! `control` writes what is pending, closes and is passed on; `ShutdownMicroprocess` closes
//! at once and is passed on; other signals are passed on. A server passes a stop on to each
//! of its connections. A protocol is an ordinary component: on the
//! [`Driver`](axon_core::Driver) it is one line.
//!
//! ```
//! use std::io::{Read, Write};
//!
//! use axon_core::{Component, ComponentBuilder, Signal};
//! use kamaelia_net::{ConnInfo, ServerCore};
//!
//! // A protocol on the driver: answers each chunk with "hello " + the chunk. The driver
//! // keeps the contract: the client closing (ProducerFinished) or the server stopping ends it.
//! fn greeter(_conn: ConnInfo) -> Component {
//!     let mut b = ComponentBuilder::new("Greeter");
//!     let io = b.standard::<Vec<u8>, Vec<u8>>();
//!     b.run(|_ctx| io.transform(|bytes| Some([b"hello ".as_slice(), &bytes].concat())))
//! }
//!
//! let server = ServerCore::new(greeter).port(0).listen().unwrap();
//! let control = server.component.inbox_ref::<Signal>("control").unwrap();
//! let sched = kamaelia_net::scheduler().unwrap();
//! sched.activate(&server.component).unwrap();
//! let running = std::thread::spawn(move || sched.run());
//!
//! let mut client = std::net::TcpStream::connect(server.local_addr).unwrap();
//! client.write_all(b"world").unwrap();
//! let mut answer = [0; 11];
//! client.read_exact(&mut answer).unwrap();
//! assert_eq!(&answer, b"hello world");
//!
//! // A shutdown closes every connection, then ends the server (and so the scheduler).
//! control.send_blocking(Signal::ShutdownMicroprocess);
//! running.join().unwrap();
//! ```

mod client;
mod csa;
mod selector;
mod server;
mod single;
mod stop;
mod udp;

pub use client::{CONNECT_TIMEOUT, CONNECTION_REFUSED, PEER_CLOSED, TcpClient};
pub use csa::{ConnectedSocketAdapter, READ_CHUNK, SlowClientPolicy};
pub use selector::{SELECTOR_SERVICE, Selector, scheduler, scheduler_with};
pub use server::{ConnInfo, Listening, ServerCore};
pub use single::SingleServer;
pub use udp::{MAX_DATAGRAM, MulticastReceiver, MulticastSender, MulticastTransceiver, UdpPeer};
