//! The bulletin board (`bulletin-board`): the Europython tutorial's culmination as a real
//! app. A multi-user board over telnet whose every connection is a [`Seq`] of four stages
//! sharing the session through STM, with its users and messages in SQLite.
//!
//! ```text
//! ServerCore(protocol) ─ one per connection ─────────────────────────────────────────────┐
//!   client bytes ─► LineReader ─► Seq(Authenticator, UserRetriever,                     │
//!                                     MessageBoardUI, StateSaverLogout) ─► client bytes │
//!                                       │ notice ▲ notices      │ db / hasher requests   │
//!                                PublishTo  SubscribeTo          │                       │
//! ───────────────────────────────────┼────────▲─────────────────┼───────────────────────┘
//!                              Backplane("BULLETIN")       Database (threaded, SQLite, WAL)
//!                                                           PasswordHasher (threaded, argon2)
//! ```
//!
//! - The stages ([`Authenticator`], [`UserRetriever`], [`MessageBoardUI`],
//!   [`StateSaverLogout`]) are reusable components with the standard boxes (lines in, text
//!   out); each reads the [`ConnectionInfo`] the one before left in the session
//!   ([`Session`], an `axon_core::stm` store), does its part and ends, and the Seq moves on,
//!   "like wsgi": login, load the user, the board, save and say goodbye. What a stage did not
//!   read is handed to the next through the session, so input typed ahead is never lost.
//! - Every database call goes to [`Database`], a threaded component owning the SQLite
//!   connection; passwords to [`PasswordHasher`], another. Neither ever runs on the scheduler's
//!   thread. A stage sends a request carrying its own reply inbox and waits for the answer,
//!   still obeying `control`.
//! - A message is reported as posted only once its transaction is committed (the database
//!   runs what is waiting in one transaction and answers after the commit: group commit), and
//!   the file is in WAL mode with `synchronous=FULL`, so a `kill -9` loses nothing
//!   acknowledged and leaves the database consistent.
//! - A committed post is announced as a [`Notice`] on the backplane [`BACKPLANE`]; every
//!   connection's `MessageBoardUI` shows the ones for its user.
//!
//! ```
//! use apps::bulletin::BulletinBoard;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let sched = kamaelia_net::scheduler().unwrap();
//! let board = BulletinBoard::new(dir.path().join("board.sqlite")).port(0).listen().unwrap();
//! board.activate(&sched).unwrap();
//! println!("Bulletin board running on port {}", board.local_addr.port());
//! // sched.run() serves until the board's components are shut down.
//! # drop(sched);
//! ```

mod authenticator;
mod db;
mod hasher;
mod lines;
mod message_board;
mod session;
mod stage;
mod state_saver;
mod user_retriever;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axon_core::stm::Store;
use axon_core::{ActivateError, Component, Scheduler, link};
use kamaelia_chassis::{Backplane, ChassisError, Graphline, PublishTo, Seq, SubscribeTo, SubscriberPolicy};
use kamaelia_net::{ConnInfo, ServerCore, SlowClientPolicy};

pub use authenticator::{Authenticator, BANNER, MAX_NAME, MAX_PASSWORD, PASSWORD_TRIES, valid_name};
pub use db::{
    Account, BUSY_TIMEOUT, DB_INBOX, Database, DbAnswer, DbError, DbOp, DbReply, DbRequest, DbStats, DbStatsSnapshot,
    DeleteOutcome, MAX_BATCH, Message, MessageId, OPEN_BUSY_TIMEOUT, OpenError, PostOutcome, Profile, Summary, User,
    UserId, unix_now,
};
pub use hasher::{HASHER_INBOX, HashAnswer, HashError, HashOp, HashReply, HashRequest, PasswordHasher, hash_op};
pub use lines::LineReader;
pub use message_board::{Command, HELP, MAX_BODY, MAX_SUBJECT, MessageBoardUI, NOTICE_INBOX, list_line, parse_command};
pub use session::{
    BoardServices, ConnectionInfo, Input, Notice, NoticeRef, ONLINE_KEY, Online, Presence, SESSION_KEY, Session,
    new_session,
};
pub use stage::STAGE_INBOX;
pub use state_saver::StateSaverLogout;
pub use user_retriever::{READY, UserRetriever};

/// The name of the board's backplane, on which committed posts are announced.
pub const BACKPLANE: &str = "BULLETIN";

/// The default port.
pub const DEFAULT_PORT: u16 = 1700;

/// The default database file.
pub const DEFAULT_DB: &str = "board.sqlite";

/// What a client beyond `--max-connections` is sent before it is closed.
pub const REFUSAL: &str = "Bulletin board full: try again later\r\n";

/// How many notices the backplane holds for a connection whose `notices` inbox is full
/// before it drops the oldest ([`SubscriberPolicy::DropOldest`]): notices are a courtesy
/// (the messages themselves are in the database), so a connection that is not reading them
/// (one still at `login: `, or whose client is slow) must never hold the backplane up.
pub const NOTICE_BUFFER: usize = 64;

/// Capacity of a connection's line reader inbox, in socket reads: bounding the input side
/// lets a busy stage slow its client down through TCP flow control.
const READER_INBOX: usize = 16;

/// A time (Unix seconds) as the board shows it: `2026-12-04 18:20 UTC`.
pub fn format_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map_or_else(|| format!("@{t}"), |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// The protocol for one connection: a [`Graphline`] of
///
/// - `lines`: a [`LineReader`] on the graphline's `inbox` (the client's bytes);
/// - `stages`: `Seq(Authenticator, UserRetriever, MessageBoardUI, StateSaverLogout)` on one
///   new [`Session`], fed by `lines`, its `outbox` the graphline's (to the client);
/// - `subscribe`: [`SubscribeTo`] the backplane `backplane`, linked to the
///   `MessageBoardUI`'s `notices` ([`SubscriberPolicy::DropOldest`], [`NOTICE_BUFFER`]);
/// - `publish`: [`PublishTo`] the backplane, fed by the `MessageBoardUI`'s `notice`.
///
/// Signals run down one chain: graphline `control` -> `lines` -> `stages` -> `subscribe`
/// -> `publish` -> graphline `signal` (-> the socket adapter). So `quit` (the Seq ends)
/// closes the connection once what was written to it has gone; the client closing its side
/// (`ProducerFinished`) lets the current stage read what had arrived (a post whose request
/// is under way is still committed and reported), and the Seq then ends; a
/// `ShutdownMicroprocess` stops every stage at once.
pub fn protocol(conn: ConnInfo, services: &BoardServices, backplane: &str) -> Component {
    // The wiring is fixed: a failure is a bug in this function, caught by every board test.
    build_protocol(conn, services, backplane).expect("the board's protocol is wired correctly")
}

fn build_protocol(conn: ConnInfo, services: &BoardServices, backplane: &str) -> Result<Component, ChassisError> {
    let session = new_session(Some(conn.peer));
    let ui = MessageBoardUI::new(session.clone(), services.clone()).build();
    let subscribe =
        SubscribeTo::<NoticeRef>::new(backplane).policy(SubscriberPolicy::DropOldest { buffer: NOTICE_BUFFER }).build();
    let publish = PublishTo::<NoticeRef>::new(backplane).build();
    let err = |e| ChassisError::link("bulletin board protocol", e);
    link((&subscribe, "outbox"), (&ui, "notices")).map_err(err)?;
    link((&ui, "notice"), (&publish, "inbox")).map_err(err)?;
    let stages = Seq::new([
        Authenticator::new(session.clone(), services.clone()).build().into(),
        UserRetriever::new(session.clone(), services.clone()).build().into(),
        ui.into(),
        StateSaverLogout::new(session, services.clone()).build().into(),
    ])?;
    Graphline::builder()
        .component("lines", LineReader::new().build())
        .component("stages", stages)
        .component("subscribe", subscribe)
        .component("publish", publish)
        .link(("self", "inbox"), ("lines", "inbox"))
        .link(("lines", "outbox"), ("stages", "inbox"))
        .link(("stages", "outbox"), ("self", "outbox"))
        .link(("self", "control"), ("lines", "control"))
        .link(("lines", "signal"), ("stages", "control"))
        .link(("stages", "signal"), ("subscribe", "control"))
        .link(("subscribe", "signal"), ("publish", "control"))
        .link(("publish", "signal"), ("self", "signal"))
        .box_size(("lines", "inbox"), READER_INBOX)
        .build()
}

/// Why the board could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The database could not be opened.
    Database(OpenError),
    /// The port could not be listened on.
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        error: io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Database(e) => write!(f, "{e}"),
            StartError::Listen { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Database(e) => Some(e),
            StartError::Listen { error, .. } => Some(error),
        }
    }
}

/// Builds a bulletin board: `BulletinBoard::new("board.sqlite").port(0).listen()?`.
///
/// Defaults: 127.0.0.1, port [`DEFAULT_PORT`], no connection limit. Each connection writes
/// with [`SlowClientPolicy::Wait`]: its protocol talks to that client only (notices reach it
/// through a subscription that drops rather than waits), so a client that stops reading
/// holds up its own session and nothing else.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `listen` is called"]
pub struct BulletinBoard {
    db: PathBuf,
    bind: IpAddr,
    port: u16,
    max_connections: Option<usize>,
    backplane: String,
}

impl BulletinBoard {
    /// A board keeping its state in the SQLite file `db` (created if missing).
    pub fn new(db: impl Into<PathBuf>) -> Self {
        BulletinBoard {
            db: db.into(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            max_connections: None,
            backplane: BACKPLANE.to_string(),
        }
    }

    /// The address to listen on.
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }

    /// The port (0: any free one; see [`Board::local_addr`]).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// At most `n` clients at once; one beyond is sent [`REFUSAL`] and closed.
    pub fn max_connections(mut self, n: Option<usize>) -> Self {
        self.max_connections = n;
        self
    }

    /// The backplane's name (default [`BACKPLANE`]).
    pub fn backplane(mut self, name: impl Into<String>) -> Self {
        self.backplane = name.into();
        self
    }

    /// Opens the database, binds the port and returns the board's components, ready to
    /// activate.
    ///
    /// # Errors
    /// The database cannot be opened (see [`Database::open`]), or the port listened on.
    pub fn listen(self) -> Result<Board, StartError> {
        let database = Database::open(&self.db).map_err(StartError::Database)?;
        let stats = database.stats();
        let database = database.build();
        let hasher = PasswordHasher::new().build();
        let services = BoardServices {
            db: database.inbox_ref("inbox").expect("the Database declares inbox"),
            hasher: hasher.inbox_ref("inbox").expect("the PasswordHasher declares inbox"),
            online: Store::new(),
        };
        let name = self.backplane;
        let factory_services = services.clone();
        let factory_name = name.clone();
        let mut server = ServerCore::new(move |conn| protocol(conn, &factory_services, &factory_name))
            .bind(self.bind)
            .port(self.port)
            .slow_client(SlowClientPolicy::Wait);
        if let Some(n) = self.max_connections {
            server = server.max_connections(n, REFUSAL);
        }
        let addr = SocketAddr::new(self.bind, self.port);
        let listening = server.listen().map_err(|error| StartError::Listen { addr, error })?;
        Ok(Board {
            backplane: Backplane::<NoticeRef>::new(name),
            server: listening.component,
            database,
            hasher,
            local_addr: listening.local_addr,
            services,
            stats,
        })
    }
}

/// A bulletin board's top-level components.
#[derive(Debug)]
pub struct Board {
    /// The backplane on which committed posts are announced.
    pub backplane: Component,
    /// The ServerCore.
    pub server: Component,
    /// The database component.
    pub database: Component,
    /// The password hasher.
    pub hasher: Component,
    /// Where the server listens.
    pub local_addr: SocketAddr,
    /// The services every connection's stages use.
    pub services: BoardServices,
    /// The database's counters.
    pub stats: Arc<DbStats>,
}

impl Board {
    /// Activates the database, the hasher and the backplane, then the server (everything
    /// a connection uses exists before the first one arrives).
    pub fn activate(&self, sched: &Scheduler) -> Result<(), ActivateError> {
        sched.activate(&self.database)?;
        sched.activate(&self.hasher)?;
        sched.activate(&self.backplane)?;
        sched.activate(&self.server)
    }

    /// The top-level components, in the order to shut them down: the server (closing every
    /// connection), the backplane, the hasher, then the database (which finishes the
    /// transaction in hand first).
    pub fn components(&self) -> Vec<Component> {
        vec![self.server.clone(), self.backplane.clone(), self.hasher.clone(), self.database.clone()]
    }
}
