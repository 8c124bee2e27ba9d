//! What the stages share: the session ([`ConnectionInfo`] in an STM [`Store`], as the
//! tutorial's stages share `ConnectionInfo`), the board-wide list of users on the board
//! ([`Online`]), and the addresses of the board's services ([`BoardServices`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use axon_core::InboxRef;
use axon_core::stm::Store;
use kamaelia_util::FramingError;

use super::db::{DbRequest, MessageId, Profile, User};
use super::hasher::HashRequest;

/// One line from the client, as the stages get it: the text (terminator removed), or why
/// the line could not be taken (too long, not UTF-8), in its place in the stream.
pub type Input = Result<String, FramingError>;

/// The session of one connection: what one stage leaves for the next.
#[derive(Clone, Debug, Default)]
pub struct ConnectionInfo {
    /// The client's address.
    pub peer: Option<SocketAddr>,
    /// Who logged in (set by the Authenticator; `None`: nobody did, and the later stages
    /// end at once).
    pub user: Option<User>,
    /// What the UserRetriever found.
    pub profile: Option<Profile>,
    /// Lines that reached a stage after it had read all it needed, for the next stage.
    pub pending: Vec<Input>,
    /// Messages posted this session.
    pub posted: u32,
    /// Messages read this session.
    pub read: u32,
    /// Messages deleted this session.
    pub deleted: u32,
}

/// The key under which a session's [`ConnectionInfo`] is stored.
pub const SESSION_KEY: &str = "connection";

/// One connection's session store.
pub type Session = Store<ConnectionInfo>;

/// A new session store for a connection from `peer`.
pub fn new_session(peer: Option<SocketAddr>) -> Session {
    let session = Store::new();
    update(&session, SESSION_KEY, |c: &mut ConnectionInfo| c.peer = peer);
    session
}

/// Who is on the board now: each name with how many connections they have there.
pub type Online = BTreeMap<String, usize>;

/// The key under which [`Online`] is stored.
pub const ONLINE_KEY: &str = "online";

/// A notice published on the board's backplane when a message is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The new message's number.
    pub message: MessageId,
    /// Its sender.
    pub from: String,
    /// Its recipient (`None`: all).
    pub to: Option<String>,
    /// Its subject.
    pub subject: String,
}

impl Notice {
    /// Whether `user` should be told: it is to them, or to all and not from them.
    pub fn is_for(&self, user: &str) -> bool {
        match &self.to {
            Some(to) => to.eq_ignore_ascii_case(user),
            None => !self.from.eq_ignore_ascii_case(user),
        }
    }

    /// The line shown to a recipient (without its terminator).
    pub fn line(&self) -> String {
        let to = if self.to.is_none() { " to all" } else { "" };
        format!("notice: new message {} from {}{to}: {}", self.message, self.from, self.subject)
    }
}

/// What the backplane carries: shared, so its fan-out copies a pointer per subscriber.
pub type NoticeRef = Arc<Notice>;

/// Where the stages find the board's services: the database's and the hasher's inboxes (a
/// request carries the inbox its reply goes to) and the board-wide [`Online`] store.
#[derive(Clone)]
pub struct BoardServices {
    /// The [`Database`](super::Database)'s inbox.
    pub db: InboxRef<DbRequest>,
    /// The [`PasswordHasher`](super::PasswordHasher)'s inbox.
    pub hasher: InboxRef<HashRequest>,
    /// Who is on the board.
    pub online: Store<Online>,
}

impl fmt::Debug for BoardServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoardServices").field("db", &self.db).field("hasher", &self.hasher).finish_non_exhaustive()
    }
}

/// Reads `key` from `store` (the default if it was never set).
pub(crate) fn read<V: Clone + Default>(store: &Store<V>, key: &str) -> V {
    loop {
        match store.usevar(key) {
            Ok(var) => return var.get().cloned().unwrap_or_default(),
            // The store's lock is only ever tried (BusyRetry); it is held for a moment at most.
            Err(_) => std::thread::yield_now(),
        }
    }
}

/// Changes `key` in `store` with `f` and commits, redoing the change from the newer value
/// when someone else committed in between (STM's ConcurrentUpdate).
pub(crate) fn update<V: Clone + Default, R>(store: &Store<V>, key: &str, mut f: impl FnMut(&mut V) -> R) -> R {
    loop {
        let Ok(mut var) = store.usevar(key) else {
            std::thread::yield_now();
            continue;
        };
        let mut value = var.get().cloned().unwrap_or_default();
        let r = f(&mut value);
        var.set(value);
        match var.commit() {
            Ok(()) => return r,
            Err(_) => std::thread::yield_now(),
        }
    }
}

/// A user's place in [`Online`], taken back when dropped (however the stage holding it
/// ends: quit, a closed connection, a shutdown, a panic).
#[must_use = "the user is on the board only while this is held"]
pub struct Presence {
    online: Store<Online>,
    name: String,
}

impl Presence {
    /// Puts `name` on the board (one more connection of theirs).
    pub fn enter(online: &Store<Online>, name: &str) -> Presence {
        update(online, ONLINE_KEY, |o: &mut Online| *o.entry(name.to_string()).or_insert(0) += 1);
        Presence { online: online.clone(), name: name.to_string() }
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        update(&self.online, ONLINE_KEY, |o: &mut Online| {
            if let Some(n) = o.get_mut(&self.name) {
                *n -= 1;
                if *n == 0 {
                    o.remove(&self.name);
                }
            }
        });
    }
}

impl fmt::Debug for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence").field("name", &self.name).finish_non_exhaustive()
    }
}
