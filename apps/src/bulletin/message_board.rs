//! The third stage, [`MessageBoardUI`]: the board itself. It takes commands (`list`,
//! `read N`, `post TO SUBJECT`, `delete N`, `who`, `help`, `quit`) until `quit`, and shows
//! the notices for its user that arrive meanwhile.

use axon_core::{Component, ComponentBuilder, Inbox, Outbox, Signal};

use super::authenticator::unexpected;
use super::db::{DbAnswer, DbOp, DeleteOutcome, MessageId, PostOutcome, Summary, User};
use super::session::{BoardServices, Input, NoticeRef, ONLINE_KEY, Online, Presence, Session, read};
use super::stage::{Event, StageBoxes, StageIo};
use super::{Notice, format_time};

/// The longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;

/// The largest message body, in bytes (its lines and their line ends).
pub const MAX_BODY: usize = 64 * 1024;

/// How many notices wait for the stage before the backplane drops the oldest (see
/// [`protocol`](super::protocol)).
pub const NOTICE_INBOX: usize = 64;

/// What `help` says.
pub const HELP: &[&str] = &[
    "Commands:",
    "  list                 the messages to you or to all: number, status, date, sender -> recipient, subject",
    "  read N               show message N (and mark it read)",
    "  post TO SUBJECT      write a message to the user TO (or to all); type the body next,",
    "                       ending it with a line holding only \".\" (a body line starting with",
    "                       \".\" is sent with one more, \"..\", in front)",
    "  delete N             delete message N: one you sent, or one addressed to you",
    "  who                  who is on the board now",
    "  help                 this list",
    "  quit                 leave the board",
];

/// A command, as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `list`.
    List,
    /// `read N`.
    Read(MessageId),
    /// `post TO SUBJECT`.
    Post {
        /// A user's name, or `all`.
        to: String,
        /// The subject (the rest of the line, trimmed).
        subject: String,
    },
    /// `delete N`.
    Delete(MessageId),
    /// `who`.
    Who,
    /// `help`.
    Help,
    /// `quit`.
    Quit,
}

/// Parses a command line: `Ok(None)` for a blank line; `Err` with what to tell the user.
/// The command word is not case-sensitive.
pub fn parse_command(line: &str) -> Result<Option<Command>, String> {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    if word.is_empty() {
        return Ok(None);
    }
    let number = |what: &str| -> Result<MessageId, String> {
        match rest.parse::<MessageId>() {
            Ok(n) if n > 0 => Ok(n),
            _ if rest.is_empty() => Err(format!("{what} needs a message number, as in: {what} 3")),
            _ => Err(format!("{what} needs a message number, as in: {what} 3 (not {rest:?})")),
        }
    };
    let bare = |c: Command| if rest.is_empty() { Ok(c) } else { Err(format!("{word} takes nothing after it")) };
    let cmd = match word.to_ascii_lowercase().as_str() {
        "list" => bare(Command::List)?,
        "read" => Command::Read(number("read")?),
        "delete" => Command::Delete(number("delete")?),
        "who" => bare(Command::Who)?,
        "help" | "?" => Command::Help,
        "quit" => bare(Command::Quit)?,
        "post" => {
            let usage = "post needs a recipient and a subject, as in: post bob Lunch on Friday?";
            let (to, subject) = rest.split_once(char::is_whitespace).ok_or(usage)?;
            let subject = subject.trim();
            if subject.chars().count() > MAX_SUBJECT {
                return Err(format!("the subject is longer than {MAX_SUBJECT} characters"));
            }
            Command::Post { to: to.to_string(), subject: subject.to_string() }
        }
        _ => return Err(format!("unknown command {word:?}; type help for the commands")),
    };
    Ok(Some(cmd))
}

/// One line of `list` (without its terminator).
pub fn list_line(m: &Summary) -> String {
    let status = if m.read { "read" } else { "unread" };
    let to = m.to.as_deref().unwrap_or("all");
    format!("{:>5}  {status:<6}  {}  {} -> {to}  {}", m.id, format_time(m.posted), m.from, m.subject)
}

/// The MessageBoardUI stage (the tutorial's `MessageBoardUI(State=ConnectionInfo)`).
///
/// With nobody logged in it ends at once. Otherwise the user is on the board (listed by
/// `who`) until it ends, and it takes commands until `quit`, each answered before the next
/// is read. Every bad input gets a line starting `error: ` and the board carries on: an
/// unknown command, a missing or wrong message number, a recipient who does not exist, a
/// line too long or not UTF-8, a body over [`MAX_BODY`] (the body is read to its `.` and
/// nothing is posted). A post is reported (`posted message N to TO`) only once the database
/// has committed it; then a [`Notice`] goes out of `notice`, for the backplane.
///
/// Notices arriving on `notices` are shown, one line each, to the user they are for (the
/// recipient, or everyone but the sender for a message to all); those that arrived before
/// the stage started are dropped (the greeting counted the messages).
///
/// Boxes: as the [`Authenticator`](super::Authenticator)'s (without `hashreply`), and
/// - `notices: NoticeRef` (inbox, bounded [`NOTICE_INBOX`]): every notice published on the
///   board;
/// - `notice: NoticeRef` (outbox): a notice for each message this user posts.
#[must_use = "a builder does nothing until `build` is called"]
pub struct MessageBoardUI {
    session: Session,
    services: BoardServices,
}

impl std::fmt::Debug for MessageBoardUI {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageBoardUI").finish_non_exhaustive()
    }
}

impl MessageBoardUI {
    /// The stage for the session `session`, using the board's `services`.
    pub fn new(session: Session, services: BoardServices) -> Self {
        MessageBoardUI { session, services }
    }

    /// The component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("MessageBoardUI");
        let boxes = StageBoxes::declare(&mut b);
        let notices = b.inbox_with_capacity::<NoticeRef>("notices", NOTICE_INBOX);
        let notice = b.outbox::<NoticeRef>("notice");
        let MessageBoardUI { session, services } = self;
        b.run(move |ctx| async move {
            let mut io = StageIo::start(ctx, boxes, session, services);
            let how = Board { notices, notice }.run(&mut io).await;
            io.finish(how).await;
        })
    }
}

struct Board {
    notices: Inbox<NoticeRef>,
    notice: Outbox<NoticeRef>,
}

impl Board {
    async fn run(&mut self, io: &mut StageIo) -> Result<(), Signal> {
        let Some(user) = io.conn().user else { return Ok(()) };
        let _presence = Presence::enter(&io.services.online, &user.name);
        // What was published before the user reached the board is in the greeting's counts.
        self.notices.drain().for_each(drop);
        loop {
            let line = match io.event(&self.notices).await? {
                Event::Notice(n) => {
                    show(io, &user, &n).await?;
                    continue;
                }
                Event::Line(Err(e)) => {
                    io.say(crate::error_line(&e)).await?;
                    continue;
                }
                Event::Line(Ok(line)) => line,
            };
            let cmd = match parse_command(&line) {
                Ok(Some(cmd)) => cmd,
                Ok(None) => continue,
                Err(why) => {
                    io.say(format!("error: {why}")).await?;
                    continue;
                }
            };
            match cmd {
                Command::Quit => return Ok(()),
                Command::Help => io.say_all(HELP.iter().map(|s| s.to_string())).await?,
                Command::Who => {
                    let online: Online = read(&io.services.online, ONLINE_KEY);
                    let names: Vec<String> = online
                        .iter()
                        .map(|(n, c)| if *c > 1 { format!("{n} ({c} connections)") } else { n.clone() })
                        .collect();
                    io.say(format!("On the board now ({}): {}", online.len(), names.join(", "))).await?;
                }
                Command::List => list(io, &user).await?,
                Command::Read(n) => read_message(io, &user, n).await?,
                Command::Delete(n) => delete(io, &user, n).await?,
                Command::Post { to, subject } => self.post(io, &user, to, subject).await?,
            }
        }
    }

    async fn post(&mut self, io: &mut StageIo, user: &User, to: String, subject: String) -> Result<(), Signal> {
        if !to.eq_ignore_ascii_case("all") {
            match io.db(DbOp::FindAccount { name: to.clone() }).await? {
                Ok(DbAnswer::Account(Some(_))) => {}
                Ok(DbAnswer::Account(None)) => return io.say(format!("error: there is no user named {to}")).await,
                Ok(other) => return io.say(unexpected(&other)).await,
                Err(e) => return io.say(format!("error: {e}; not posted")).await,
            }
        }
        io.say("Type the message; end it with a line holding only \".\".").await?;
        let Some(body) = self.body(io, user).await? else { return Ok(()) };
        let op = DbOp::Post { from: user.id, to: to.clone(), subject: subject.clone(), body };
        match io.db(op).await? {
            Ok(DbAnswer::Posted(PostOutcome::Posted { id, to })) => {
                io.update_conn(|c| c.posted += 1);
                io.say(format!("posted message {id} to {}", to.as_deref().unwrap_or("all"))).await?;
                let notice = Notice { message: id, from: user.name.clone(), to, subject };
                io.send_on(&self.notice, NoticeRef::new(notice)).await
            }
            Ok(DbAnswer::Posted(PostOutcome::NoSuchRecipient)) => {
                io.say(format!("error: there is no user named {to}; not posted")).await
            }
            Ok(other) => io.say(unexpected(&other)).await,
            Err(e) => io.say(format!("error: {e}; not posted")).await,
        }
    }

    /// Reads a body up to its `.` line: `None` (with an error line sent) if it cannot be
    /// posted.
    async fn body(&mut self, io: &mut StageIo, user: &User) -> Result<Option<String>, Signal> {
        let mut body = String::new();
        let mut problem: Option<String> = None;
        loop {
            let line: Input = match io.event(&self.notices).await? {
                Event::Notice(n) => {
                    show(io, user, &n).await?;
                    continue;
                }
                Event::Line(l) => l,
            };
            match line {
                Ok(l) if l == "." => break,
                Ok(l) => {
                    let l = if l.starts_with("..") { &l[1..] } else { &l[..] };
                    if problem.is_none() {
                        if body.len() + l.len() + 1 > MAX_BODY {
                            problem = Some(format!("the message is longer than {MAX_BODY} bytes"));
                        } else {
                            body.push_str(l);
                            body.push('\n');
                        }
                    }
                }
                Err(e) => {
                    problem.get_or_insert_with(|| e.to_string());
                }
            }
        }
        if let Some(p) = problem {
            io.say(format!("error: {p}; not posted")).await?;
            return Ok(None);
        }
        if body.ends_with('\n') {
            body.pop();
        }
        Ok(Some(body))
    }
}

async fn show(io: &mut StageIo, user: &User, n: &Notice) -> Result<(), Signal> {
    if n.is_for(&user.name) { io.say(n.line()).await } else { Ok(()) }
}

async fn list(io: &mut StageIo, user: &User) -> Result<(), Signal> {
    match io.db(DbOp::List { user: user.id }).await? {
        Ok(DbAnswer::List(messages)) => {
            let unread = messages.iter().filter(|m| !m.read).count();
            let s = if messages.len() == 1 { "" } else { "s" };
            let mut lines: Vec<String> = messages.iter().map(list_line).collect();
            lines.push(format!("{} message{s}, {unread} unread.", messages.len()));
            io.say_all(lines).await
        }
        Ok(other) => io.say(unexpected(&other)).await,
        Err(e) => io.say(format!("error: {e}")).await,
    }
}

async fn read_message(io: &mut StageIo, user: &User, n: MessageId) -> Result<(), Signal> {
    match io.db(DbOp::Read { user: user.id, message: n }).await? {
        Ok(DbAnswer::Message(Some(m))) => {
            io.update_conn(|c| c.read += 1);
            let mut lines = vec![
                format!("Message {}", m.id),
                format!("From: {}", m.from),
                format!("To: {}", m.to.as_deref().unwrap_or("all")),
                format!("Date: {}", format_time(m.posted)),
                format!("Subject: {}", m.subject),
                String::new(),
            ];
            if !m.body.is_empty() {
                lines.extend(m.body.split('\n').map(str::to_string));
            }
            lines.push(format!("-- end of message {} --", m.id));
            io.say_all(lines).await
        }
        Ok(DbAnswer::Message(None)) => io.say(format!("error: there is no message {n}")).await,
        Ok(other) => io.say(unexpected(&other)).await,
        Err(e) => io.say(format!("error: {e}")).await,
    }
}

async fn delete(io: &mut StageIo, user: &User, n: MessageId) -> Result<(), Signal> {
    match io.db(DbOp::Delete { user: user.id, message: n }).await? {
        Ok(DbAnswer::Deleted(DeleteOutcome::Deleted)) => {
            io.update_conn(|c| c.deleted += 1);
            io.say(format!("deleted message {n}")).await
        }
        Ok(DbAnswer::Deleted(DeleteOutcome::NotFound)) => io.say(format!("error: there is no message {n}")).await,
        Ok(DbAnswer::Deleted(DeleteOutcome::NotYours { sender })) => {
            io.say(format!("error: message {n} is to all: only its sender, {sender}, can delete it")).await
        }
        Ok(other) => io.say(unexpected(&other)).await,
        Err(e) => io.say(format!("error: {e}; not deleted")).await,
    }
}
