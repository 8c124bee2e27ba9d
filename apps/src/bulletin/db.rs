//! The board's store: users, messages and read marks in one SQLite file (WAL mode), served
//! by [`Database`], a threaded component that runs every request it has waiting in one
//! transaction and answers only once that transaction is committed (group commit).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axon_core::{Component, ComponentBuilder, ControlWatch, InboxRef, Next};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

/// A user's number in the database.
pub type UserId = i64;

/// A message's number: what `list` shows and `read N` / `delete N` take. Numbers are never
/// reused, even after a message is deleted.
pub type MessageId = i64;

/// How long opening waits for a database another process holds locked before giving up.
pub const OPEN_BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a transaction waits for another process's write lock while the board runs.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The most requests run in one transaction.
pub const MAX_BATCH: usize = 256;

/// How many requests may wait in the database's inbox; a stage asking beyond that waits.
pub const DB_INBOX: usize = 1024;

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password  TEXT NOT NULL,
    created   INTEGER NOT NULL,
    last_seen INTEGER
);
CREATE TABLE IF NOT EXISTS messages (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    sender    INTEGER NOT NULL REFERENCES users(id),
    recipient INTEGER REFERENCES users(id),
    posted    INTEGER NOT NULL,
    subject   TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_recipient ON messages(recipient, id);
CREATE TABLE IF NOT EXISTS reads (
    user    INTEGER NOT NULL REFERENCES users(id),
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (user, message)
) WITHOUT ROWID;
";

/// A user: number and name (as it was first spelled; names are unique ignoring ASCII case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Its number.
    pub id: UserId,
    /// Its name.
    pub name: String,
}

/// A user with their password hash (an argon2 PHC string), for logging in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The user.
    pub user: User,
    /// The salted hash of their password.
    pub password_hash: String,
}

/// What the board knows of a user when they log in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// When their last session ended by `quit` (Unix seconds), if one has.
    pub last_seen: Option<i64>,
    /// Messages addressed to them or to all.
    pub messages: u64,
    /// Of those, the ones they have not read.
    pub unread: u64,
}

/// One line of `list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The message's number.
    pub id: MessageId,
    /// Who sent it.
    pub from: String,
    /// Who it is to (`None`: all).
    pub to: Option<String>,
    /// When it was posted (Unix seconds).
    pub posted: i64,
    /// Its subject.
    pub subject: String,
    /// Whether the listing user has read it.
    pub read: bool,
}

/// A whole message, for `read N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its number.
    pub id: MessageId,
    /// Who sent it.
    pub from: String,
    /// Who it is to (`None`: all).
    pub to: Option<String>,
    /// When it was posted (Unix seconds).
    pub posted: i64,
    /// Its subject.
    pub subject: String,
    /// Its body: lines joined by `\n`.
    pub body: String,
}

/// What a stage asks the database to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DbOp {
    /// The account of this name (any ASCII case): [`DbAnswer::Account`].
    FindAccount {
        /// The name.
        name: String,
    },
    /// Create an account: [`DbAnswer::Created`] (`None` if the name is taken).
    CreateAccount {
        /// The name.
        name: String,
        /// The salted hash of the password.
        password_hash: String,
    },
    /// What the user sees on logging in: [`DbAnswer::Profile`].
    Profile {
        /// The user.
        user: UserId,
    },
    /// Every message to the user or to all, oldest first: [`DbAnswer::List`].
    List {
        /// The user.
        user: UserId,
    },
    /// A message the user may read (to them, to all, or from them), marked read for them:
    /// [`DbAnswer::Message`] (`None` if there is no such message).
    Read {
        /// The reader.
        user: UserId,
        /// The message.
        message: MessageId,
    },
    /// Post a message: [`DbAnswer::Posted`].
    Post {
        /// The sender.
        from: UserId,
        /// The recipient's name, or `all`.
        to: String,
        /// The subject.
        subject: String,
        /// The body.
        body: String,
    },
    /// Delete a message the user sent or that is addressed to them by name:
    /// [`DbAnswer::Deleted`].
    Delete {
        /// Who asks.
        user: UserId,
        /// The message.
        message: MessageId,
    },
    /// Record the end of a session: [`DbAnswer::LoggedOut`].
    Logout {
        /// The user.
        user: UserId,
        /// When (Unix seconds).
        at: i64,
    },
}

/// How a [`DbOp::Post`] went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostOutcome {
    /// Committed.
    Posted {
        /// Its number.
        id: MessageId,
        /// The recipient as their name is spelled (`None`: all).
        to: Option<String>,
    },
    /// No user has that name.
    NoSuchRecipient,
}

/// How a [`DbOp::Delete`] went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// Deleted (committed).
    Deleted,
    /// No message of that number that this user can see.
    NotFound,
    /// A message to all from someone else: only its sender may delete it.
    NotYours {
        /// Its sender.
        sender: String,
    },
}

/// The database's answer to a [`DbOp`], one variant per operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DbAnswer {
    /// To [`DbOp::FindAccount`].
    Account(Option<Account>),
    /// To [`DbOp::CreateAccount`]: the new user, or `None` if the name was taken.
    Created(Option<User>),
    /// To [`DbOp::Profile`].
    Profile(Profile),
    /// To [`DbOp::List`].
    List(Vec<Summary>),
    /// To [`DbOp::Read`].
    Message(Option<Message>),
    /// To [`DbOp::Post`].
    Posted(PostOutcome),
    /// To [`DbOp::Delete`].
    Deleted(DeleteOutcome),
    /// To [`DbOp::Logout`].
    LoggedOut,
}

/// A request failed in the database: nothing it asked for was done.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DbError {
    /// The request's own statements failed (its changes were undone; the rest of the batch
    /// was committed).
    Statement(String),
    /// The transaction could not be begun or committed (a full disk, an I/O error, a lock
    /// held too long by another process): nothing in the batch was committed.
    Transaction(String),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Statement(e) => write!(f, "the database refused the request: {e}"),
            DbError::Transaction(e) => write!(f, "the database could not commit: {e}"),
        }
    }
}

impl std::error::Error for DbError {}

/// The database's reply to a request.
pub type DbReply = Result<DbAnswer, DbError>;

/// A request: what to do and where to send the [`DbReply`] (the asking stage's own inbox,
/// as Kamaelia's services are told where to answer).
#[derive(Debug)]
pub struct DbRequest {
    /// What to do.
    pub op: DbOp,
    /// Where the reply goes.
    pub reply: InboxRef<DbReply>,
}

/// Why the database could not be opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// Another process holds it locked (for longer than [`OPEN_BUSY_TIMEOUT`]).
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but is not an SQLite database (or is corrupt).
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        detail: String,
    },
    /// It was written by a newer version of the board.
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        version: i64,
    },
    /// It cannot be opened or set up (a missing directory, no permission, a read-only file).
    Other {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        detail: String,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Locked { path } => write!(
                f,
                "cannot open the database {}: it is locked by another process (waited {} s)",
                path.display(),
                OPEN_BUSY_TIMEOUT.as_secs()
            ),
            OpenError::NotADatabase { path, detail } => {
                write!(f, "cannot open the database {}: not an SQLite database ({detail})", path.display())
            }
            OpenError::NewerSchema { path, version } => write!(
                f,
                "cannot open the database {}: its schema version {version} is newer than this \
                 board's ({SCHEMA_VERSION})",
                path.display()
            ),
            OpenError::Other { path, detail } => write!(f, "cannot open the database {}: {detail}", path.display()),
        }
    }
}

impl std::error::Error for OpenError {}

impl OpenError {
    fn from_sqlite(path: &Path, e: &rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => OpenError::Locked { path },
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                OpenError::NotADatabase { path, detail: e.to_string() }
            }
            _ => OpenError::Other { path, detail: e.to_string() },
        }
    }
}

/// Where the database's time goes, shared with whoever holds a clone (the benchmark reads
/// it). Counters only grow.
#[derive(Debug, Default)]
pub struct DbStats {
    requests: AtomicU64,
    batches: AtomicU64,
    statement_ns: AtomicU64,
    commit_ns: AtomicU64,
}

/// A reading of [`DbStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DbStatsSnapshot {
    /// Requests answered.
    pub requests: u64,
    /// Transactions run (each answering up to [`MAX_BATCH`] requests).
    pub batches: u64,
    /// Time spent beginning transactions and running the requests' statements.
    pub statements: Duration,
    /// Time spent committing (in WAL mode with `synchronous=FULL`: writing and syncing the log).
    pub commits: Duration,
}

impl DbStats {
    /// The counters now.
    pub fn snapshot(&self) -> DbStatsSnapshot {
        DbStatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            statements: Duration::from_nanos(self.statement_ns.load(Ordering::Relaxed)),
            commits: Duration::from_nanos(self.commit_ns.load(Ordering::Relaxed)),
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The board's database, opened and ready to serve: `Database::open(path)?.build()`.
///
/// Opening sets WAL mode (so a reader never blocks the writer, and a `kill -9` at any moment
/// leaves a consistent file: a transaction is either in the log, whole, or not at all),
/// `synchronous=FULL` (a commit is on disk before it is acknowledged), foreign keys on, and
/// creates the schema inside an immediate transaction, so a database another process keeps
/// locked is an error now, at startup, rather than at the first post.
///
/// The component ([`build`](Self::build)) is threaded: every SQLite call runs on its own OS
/// thread, never on the scheduler's. Boxes:
/// - `inbox: DbRequest` (bounded, [`DB_INBOX`]): requests, each with the inbox its
///   [`DbReply`] goes to.
/// - `control: Signal`: `ProducerFinished` answers every request already waiting, then is
///   passed on; `ShutdownMicroprocess` stops after the transaction in progress (requests
///   still waiting are not run, so none of them is acknowledged); other signals are passed on.
/// - `outbox: ()`: unused (the replies go where each request says).
/// - `signal: Signal`: the terminal signal, and the others passed on.
///
/// Each turn it takes every request waiting (up to [`MAX_BATCH`]), runs each in a savepoint
/// of one `BEGIN IMMEDIATE` transaction (a request that fails is undone alone and answered
/// with [`DbError::Statement`]), commits, and only then sends the replies: a post is never
/// reported before it is on disk, and a hundred users posting at once cost one disk sync, not
/// a hundred. If the commit fails, every request of the batch is answered with
/// [`DbError::Transaction`] and nothing of it is kept.
pub struct Database {
    conn: Connection,
    path: PathBuf,
    stats: Arc<DbStats>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Database {
    /// Opens (creating if need be) the database at `path` and sets it up (see [`Database`]).
    ///
    /// # Errors
    /// The file cannot be opened or created, is not a database, was written by a newer
    /// board, or another process keeps it locked.
    pub fn open(path: impl AsRef<Path>) -> Result<Database, OpenError> {
        let path = path.as_ref();
        let err = |e: rusqlite::Error| OpenError::from_sqlite(path, &e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(err)?;
        conn.busy_timeout(OPEN_BUSY_TIMEOUT).map_err(err)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::Other {
                path: path.to_path_buf(),
                detail: format!("it cannot be put in WAL mode (journal mode is {mode})"),
            });
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(err)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(OpenError::NewerSchema { path: path.to_path_buf(), version });
        }
        tx.execute_batch(SCHEMA).map_err(err)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(err)?;
        tx.commit().map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        Ok(Database { conn, path: path.to_path_buf(), stats: Arc::new(DbStats::default()) })
    }

    /// Where the database is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its counters (shared with the running component).
    pub fn stats(&self) -> Arc<DbStats> {
        self.stats.clone()
    }

    /// Runs `ops` as one batch, on the calling thread: what the component does each turn,
    /// for tests and tools that have no scheduler.
    pub fn run_batch(&mut self, ops: Vec<DbOp>) -> Vec<DbReply> {
        self.serve(ops)
    }

    /// The threaded component serving this database (see [`Database`]).
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Database");
        let inbox = b.inbox_with_capacity::<DbRequest>("inbox", DB_INBOX);
        let control = b.control();
        let _outbox = b.outbox::<()>("outbox");
        let signal = b.signal();
        let mut db = self;
        b.run_threaded(move |tctx| {
            let mut watch = ControlWatch::new(control, signal);
            let mut batch: Vec<DbRequest> = Vec::new();
            let end = loop {
                match watch.next_blocking(&tctx, &inbox) {
                    Next::Data(r) => batch.push(r),
                    // Forwarded by the watch under the default policy: never handed out.
                    Next::Other(_) => continue,
                    Next::End(s) => break s,
                }
                while batch.len() < MAX_BATCH {
                    match inbox.try_recv() {
                        Some(r) => batch.push(r),
                        None => break,
                    }
                }
                let (ops, replies): (Vec<DbOp>, Vec<InboxRef<DbReply>>) =
                    batch.drain(..).map(|r| (r.op, r.reply)).unzip();
                for (answer, to) in db.serve(ops).into_iter().zip(replies) {
                    // Reply inboxes are unbounded; one whose stage has gone just drops it.
                    let _ = to.try_send(answer);
                }
            };
            watch.finish_blocking(end);
        })
    }

    /// Runs a batch in one transaction; the replies, in order, once it is committed.
    fn serve(&mut self, ops: Vec<DbOp>) -> Vec<DbReply> {
        let n = ops.len() as u64;
        let started = Instant::now();
        let result = (|| -> rusqlite::Result<(Vec<DbReply>, Instant)> {
            let mut tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut replies = Vec::with_capacity(ops.len());
            for op in &ops {
                let sp = tx.savepoint()?;
                let reply = match run(&sp, op) {
                    Ok(answer) => {
                        sp.commit()?;
                        Ok(answer)
                    }
                    // Dropping the savepoint rolls it back: this request is undone alone.
                    Err(e) => Err(DbError::Statement(e.to_string())),
                };
                replies.push(reply);
            }
            let committing = Instant::now();
            tx.commit()?;
            Ok((replies, committing))
        })();
        let done = Instant::now();
        self.stats.requests.fetch_add(n, Ordering::Relaxed);
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok((replies, committing)) => {
                self.stats.statement_ns.fetch_add(nanos(committing - started), Ordering::Relaxed);
                self.stats.commit_ns.fetch_add(nanos(done - committing), Ordering::Relaxed);
                replies
            }
            Err(e) => {
                self.stats.statement_ns.fetch_add(nanos(done - started), Ordering::Relaxed);
                let e = DbError::Transaction(e.to_string());
                ops.iter().map(|_| Err(e.clone())).collect()
            }
        }
    }
}

/// Runs one operation inside the batch's transaction.
fn run(c: &Connection, op: &DbOp) -> rusqlite::Result<DbAnswer> {
    Ok(match op {
        DbOp::FindAccount { name } => DbAnswer::Account(
            c.prepare_cached("SELECT id, name, password FROM users WHERE name = ?1")?
                .query_row([name], |r| {
                    Ok(Account { user: User { id: r.get(0)?, name: r.get(1)? }, password_hash: r.get(2)? })
                })
                .optional()?,
        ),
        DbOp::CreateAccount { name, password_hash } => {
            let n = c
                .prepare_cached(
                    "INSERT INTO users (name, password, created) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                )?
                .execute(params![name, password_hash, unix_now()])?;
            DbAnswer::Created((n == 1).then(|| User { id: c.last_insert_rowid(), name: name.clone() }))
        }
        DbOp::Profile { user } => {
            let last_seen: Option<i64> =
                c.prepare_cached("SELECT last_seen FROM users WHERE id = ?1")?.query_row([user], |r| r.get(0))?;
            let (messages, unread): (i64, i64) = c
                .prepare_cached(
                    "SELECT count(*), count(*) - count(r.user) FROM messages m
                     LEFT JOIN reads r ON r.message = m.id AND r.user = ?1
                     WHERE m.recipient = ?1 OR m.recipient IS NULL",
                )?
                .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))?;
            DbAnswer::Profile(Profile {
                last_seen,
                messages: u64::try_from(messages).unwrap_or(0),
                unread: u64::try_from(unread).unwrap_or(0),
            })
        }
        DbOp::List { user } => {
            let mut st = c.prepare_cached(
                "SELECT m.id, s.name, t.name, m.posted, m.subject, r.user IS NOT NULL FROM messages m
                 JOIN users s ON s.id = m.sender
                 LEFT JOIN users t ON t.id = m.recipient
                 LEFT JOIN reads r ON r.message = m.id AND r.user = ?1
                 WHERE m.recipient = ?1 OR m.recipient IS NULL
                 ORDER BY m.id",
            )?;
            let rows = st.query_map([user], |r| {
                Ok(Summary {
                    id: r.get(0)?,
                    from: r.get(1)?,
                    to: r.get(2)?,
                    posted: r.get(3)?,
                    subject: r.get(4)?,
                    read: r.get(5)?,
                })
            })?;
            DbAnswer::List(rows.collect::<rusqlite::Result<_>>()?)
        }
        DbOp::Read { user, message } => {
            let found = c
                .prepare_cached(
                    "SELECT m.id, s.name, t.name, m.posted, m.subject, m.body FROM messages m
                     JOIN users s ON s.id = m.sender
                     LEFT JOIN users t ON t.id = m.recipient
                     WHERE m.id = ?2 AND (m.recipient = ?1 OR m.recipient IS NULL OR m.sender = ?1)",
                )?
                .query_row([user, message], |r| {
                    Ok(Message {
                        id: r.get(0)?,
                        from: r.get(1)?,
                        to: r.get(2)?,
                        posted: r.get(3)?,
                        subject: r.get(4)?,
                        body: r.get(5)?,
                    })
                })
                .optional()?;
            if found.is_some() {
                c.prepare_cached("INSERT OR IGNORE INTO reads (user, message) VALUES (?1, ?2)")?
                    .execute([user, message])?;
            }
            DbAnswer::Message(found)
        }
        DbOp::Post { from, to, subject, body } => {
            let recipient: Option<(i64, String)> = if to.eq_ignore_ascii_case("all") {
                None
            } else {
                match c
                    .prepare_cached("SELECT id, name FROM users WHERE name = ?1")?
                    .query_row([to], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?
                {
                    Some(r) => Some(r),
                    None => return Ok(DbAnswer::Posted(PostOutcome::NoSuchRecipient)),
                }
            };
            c.prepare_cached(
                "INSERT INTO messages (sender, recipient, posted, subject, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![from, recipient.as_ref().map(|r| r.0), unix_now(), subject, body])?;
            let id = c.last_insert_rowid();
            // The sender has read what they wrote.
            c.prepare_cached("INSERT OR IGNORE INTO reads (user, message) VALUES (?1, ?2)")?.execute([from, &id])?;
            DbAnswer::Posted(PostOutcome::Posted { id, to: recipient.map(|r| r.1) })
        }
        DbOp::Delete { user, message } => {
            let found: Option<(i64, Option<i64>, String)> = c
                .prepare_cached(
                    "SELECT m.sender, m.recipient, s.name FROM messages m JOIN users s ON s.id = m.sender
                     WHERE m.id = ?2 AND (m.recipient = ?1 OR m.recipient IS NULL OR m.sender = ?1)",
                )?
                .query_row([user, message], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            DbAnswer::Deleted(match found {
                None => DeleteOutcome::NotFound,
                Some((sender, recipient, _)) if sender == *user || recipient == Some(*user) => {
                    c.prepare_cached("DELETE FROM messages WHERE id = ?1")?.execute([message])?;
                    DeleteOutcome::Deleted
                }
                Some((_, _, sender)) => DeleteOutcome::NotYours { sender },
            })
        }
        DbOp::Logout { user, at } => {
            c.prepare_cached("UPDATE users SET last_seen = ?2 WHERE id = ?1")?.execute([user, at])?;
            DbAnswer::LoggedOut
        }
    })
}
