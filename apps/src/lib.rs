//! Applications composed from the workspace crates; the binaries live in `src/bin/`.
//!
//! The protocols and servers are library code, so tests can drive them in-process as well as
//! through the binaries:
//! - [`appflags`]: the debugging flags every app takes (`--console PORT`,
//!   `--console-token TOKEN`, `--introspect HOST:PORT`) and what starts them.
//! - [`bulletin`]: the bulletin board (`bulletin-board`): a ServerCore whose every connection
//!   is a Seq of four stages sharing the session through STM, its state in SQLite.
//! - [`chat`]: the chat server (`chat-server`): a [`Backplane`](kamaelia_chassis::Backplane)
//!   named `"CHAT"` and a [`ServerCore`](kamaelia_net::ServerCore) whose every connection
//!   publishes the lines its client sends and subscribes to everyone's.
//! - [`chat_client`]: the chat client (`chat-client`): a Textbox, a TcpClient and a
//!   TextDisplayer in one window, or the same system on the terminal.
//! - [`chat_redis`]: `chat-server --redis URL`: the chat's backplane shared by several chat
//!   servers through Redis ([`kamaelia_redis::RedisBackplane`]).
//! - [`console`]: the debug console: a line-based command language over the live system
//!   (`ls`, `show`, `send`, `link`, `spawn`, `stats`, `dot` ...), on 127.0.0.1 only.
//! - [`greeter`]: the greeter (`greeter`): answers each line `L` with `hello L`.
//! - [`shutdown`]: running a system until Ctrl-C, shared by the servers' binaries.
//! - [`transcode`]: the stoppable, resumable transcode-and-upload batch job (`cargo xtask
//!   transcode`): Find, Grep, Sort, a Balancer and N Pipeline(Transcoder, Uploader) in a Graphline.
//! - [`visualiser`]: the AxonVisualiser (`axon-visualiser`): a ServerCore receiving the
//!   Introspector's topology protocol from any number of systems, shown in a window or written
//!   as JSON lines or DOT.
//!
//! ```
//! use apps::chat::ChatServer;
//!
//! let sched = kamaelia_net::scheduler().unwrap();
//! let chat = ChatServer::new().port(0).listen().unwrap();
//! chat.activate(&sched).unwrap();
//! println!("Chat server running on port {}", chat.local_addr.port());
//! // sched.run() serves until both top-level components are shut down.
//! # drop(sched);
//! ```

pub mod appflags;
pub mod bulletin;
pub mod chat;
pub mod chat_client;
pub mod chat_redis;
pub mod console;
pub mod greeter;
pub mod logwatch;
pub mod shutdown;
pub mod transcode;
pub mod visualiser;

/// Line framing shared by the text protocols: lines end at LF or CRLF, and a line longer than
/// this many bytes (its terminator not counted) is refused with an error line to its sender.
pub const MAX_LINE: usize = kamaelia_util::DEFAULT_MAX_LINE;

/// The error line a text protocol sends back for a line it could not frame (a line longer
/// than [`MAX_LINE`]), without its terminator: e.g. `error: line longer than 65536 bytes`.
pub fn error_line(e: &kamaelia_util::FramingError) -> String {
    format!("error: {e}")
}
