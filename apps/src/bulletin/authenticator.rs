//! The first stage, [`Authenticator`]: the banner, `login: `, and a password: checked for a
//! known name (three wrong ones end the session), or asked twice to create the account.

use axon_core::{Component, ComponentBuilder, Inbox, Signal};

use super::db::{DbAnswer, DbOp, User};
use super::hasher::{HashAnswer, HashOp, HashReply, HashRequest};
use super::session::{BoardServices, Session};
use super::stage::{StageBoxes, StageIo};

/// The first line a client receives.
pub const BANNER: &str = "Welcome to the Kamaelia bulletin board.";

/// Wrong passwords allowed for a known name before the session ends.
pub const PASSWORD_TRIES: u32 = 3;

/// The longest user name, in characters.
pub const MAX_NAME: usize = 32;

/// The longest password, in bytes.
pub const MAX_PASSWORD: usize = 256;

/// Whether `name` can be a user's name: 1 to [`MAX_NAME`] ASCII letters, digits, `-` or `_`,
/// and not `all` (which `post` takes to mean everyone).
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !name.eq_ignore_ascii_case("all")
}

/// The Authenticator stage (the tutorial's `Authenticator(State=ConnectionInfo)`).
///
/// It sends [`BANNER`], then asks `login: `. An empty line asks again; `quit` ends the
/// session; a name that cannot be a user's gets an error line and the question again.
/// For a known name (any ASCII case) it asks `password: ` and has the hasher check it;
/// after [`PASSWORD_TRIES`] wrong ones it says so and ends with nobody logged in (the later
/// stages then end at once, and the connection closes). For a new name it asks
/// `new password: ` and `again: ` until the two agree (an empty password is refused), has it
/// hashed (argon2id, salted) and creates the account; if someone took the name meanwhile it
/// says so and asks `login: ` again. On success the user goes into the session.
///
/// Boxes:
/// - `inbox: Input`: the client's lines (bounded, [`STAGE_INBOX`](super::STAGE_INBOX)).
/// - `control: Signal`: `ProducerFinished` ends it once the lines received are read (a
///   request already sent is still seen through); `ShutdownMicroprocess` ends it at once,
///   even while it waits for room to send or for a reply; either is passed on. Other
///   signals are passed on.
/// - `outbox: Vec<u8>`: text for the client.
/// - `signal: Signal`: its own `ProducerFinished` when it is done, or the signal that
///   stopped it; and the others passed on.
/// - `dbreply: DbReply`, `hashreply: HashReply`: replies from the database and the hasher.
///
/// Lines it has not read when it is done are handed on through the session (see
/// [`ConnectionInfo::pending`](super::ConnectionInfo::pending)).
#[must_use = "a builder does nothing until `build` is called"]
pub struct Authenticator {
    session: Session,
    services: BoardServices,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// The stage for the session `session`, using the board's `services`.
    pub fn new(session: Session, services: BoardServices) -> Self {
        Authenticator { session, services }
    }

    /// The component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Authenticator");
        let boxes = StageBoxes::declare(&mut b);
        let hash_reply = b.inbox::<HashReply>("hashreply");
        let Authenticator { session, services } = self;
        b.run(move |ctx| async move {
            let hash_reply_ref =
                ctx.component().inbox_ref::<HashReply>("hashreply").expect("the Authenticator declares hashreply");
            let mut io = StageIo::start(ctx, boxes, session, services);
            let mut auth = Auth { hash_reply, hash_reply_ref };
            let how = auth.run(&mut io).await;
            io.finish(how).await;
        })
    }
}

struct Auth {
    hash_reply: Inbox<HashReply>,
    hash_reply_ref: axon_core::InboxRef<HashReply>,
}

/// What a line turned out to be when text was wanted.
enum Text {
    Line(String),
    /// Refused (too long, not UTF-8): an error line has been sent.
    Refused,
}

async fn text(io: &mut StageIo) -> Result<Text, Signal> {
    match io.line().await? {
        Ok(l) => Ok(Text::Line(l)),
        Err(e) => {
            io.say(crate::error_line(&e)).await?;
            Ok(Text::Refused)
        }
    }
}

impl Auth {
    async fn hash(&mut self, io: &mut StageIo, op: HashOp) -> Result<HashReply, Signal> {
        let hasher = io.services.hasher.clone();
        io.ask(&hasher, HashRequest { op, reply: self.hash_reply_ref.clone() }, &self.hash_reply).await
    }

    async fn run(&mut self, io: &mut StageIo) -> Result<(), Signal> {
        io.say(BANNER).await?;
        loop {
            io.prompt("login: ").await?;
            let name = match text(io).await? {
                Text::Line(l) => l.trim().to_string(),
                Text::Refused => continue,
            };
            if name.is_empty() {
                continue;
            }
            if name.eq_ignore_ascii_case("quit") {
                io.say("Goodbye.").await?;
                return Ok(());
            }
            if !valid_name(&name) {
                let why = if name.eq_ignore_ascii_case("all") {
                    "\"all\" means everyone and cannot be a user's name".to_string()
                } else {
                    format!("a name is 1 to {MAX_NAME} letters, digits, '-' or '_'")
                };
                io.say(format!("error: {why}")).await?;
                continue;
            }
            let account = match io.db(DbOp::FindAccount { name: name.clone() }).await? {
                Ok(DbAnswer::Account(a)) => a,
                Ok(other) => {
                    io.say(unexpected(&other)).await?;
                    continue;
                }
                Err(e) => {
                    io.say(format!("error: {e}; try again")).await?;
                    continue;
                }
            };
            let user = match account {
                Some(account) => match self.check_password(io, &account.password_hash).await? {
                    Check::Right => Some(account.user),
                    Check::Failed => continue,
                    Check::TooMany => {
                        io.say("Too many wrong passwords. Goodbye.").await?;
                        return Ok(());
                    }
                },
                None => self.create(io, &name).await?,
            };
            if let Some(user) = user {
                io.say(format!("Logged in as {}.", user.name)).await?;
                io.update_conn(|c| c.user = Some(user.clone()));
                return Ok(());
            }
        }
    }

    async fn check_password(&mut self, io: &mut StageIo, hash: &str) -> Result<Check, Signal> {
        for _ in 0..PASSWORD_TRIES {
            io.prompt("password: ").await?;
            let Text::Line(password) = text(io).await? else { continue };
            match self.hash(io, HashOp::Verify { password, hash: hash.to_string() }).await? {
                Ok(HashAnswer::Verified(true)) => return Ok(Check::Right),
                Ok(_) => io.say("error: wrong password").await?,
                Err(e) => {
                    io.say(format!("error: {e}")).await?;
                    return Ok(Check::Failed);
                }
            }
        }
        Ok(Check::TooMany)
    }

    /// Creates the account `name`: `None` if it could not be (the name was taken meanwhile).
    async fn create(&mut self, io: &mut StageIo, name: &str) -> Result<Option<User>, Signal> {
        io.say(format!("{name} is a new name: choose a password to create the account.")).await?;
        let password = loop {
            io.prompt("new password: ").await?;
            let Text::Line(first) = text(io).await? else { continue };
            if first.is_empty() {
                io.say("error: the password cannot be empty").await?;
                continue;
            }
            if first.len() > MAX_PASSWORD {
                io.say(format!("error: the password is longer than {MAX_PASSWORD} bytes")).await?;
                continue;
            }
            io.prompt("again: ").await?;
            let Text::Line(second) = text(io).await? else { continue };
            if first == second {
                break first;
            }
            io.say("error: the two passwords differ").await?;
        };
        let password_hash = match self.hash(io, HashOp::Hash { password }).await? {
            Ok(HashAnswer::Hashed(h)) => h,
            Ok(_) => return Ok(None),
            Err(e) => {
                io.say(format!("error: {e}")).await?;
                return Ok(None);
            }
        };
        match io.db(DbOp::CreateAccount { name: name.to_string(), password_hash }).await? {
            Ok(DbAnswer::Created(Some(user))) => {
                io.say(format!("Account {} created.", user.name)).await?;
                Ok(Some(user))
            }
            Ok(DbAnswer::Created(None)) => {
                io.say(format!("error: someone has just taken the name {name}; choose another")).await?;
                Ok(None)
            }
            Ok(other) => {
                io.say(unexpected(&other)).await?;
                Ok(None)
            }
            Err(e) => {
                io.say(format!("error: {e}; the account was not created")).await?;
                Ok(None)
            }
        }
    }
}

enum Check {
    Right,
    /// The check could not be made (an error line was sent): ask for the name again.
    Failed,
    TooMany,
}

/// The error line for a reply of the wrong kind (a bug in the board, never expected).
pub(crate) fn unexpected(answer: &DbAnswer) -> String {
    format!("error: the board got an unexpected reply from its database ({answer:?}); please report it")
}
