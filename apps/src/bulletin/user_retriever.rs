//! The second stage, [`UserRetriever`]: loads the logged-in user's profile into the session
//! and greets them with it.

use axon_core::{Component, ComponentBuilder, Signal};

use super::authenticator::unexpected;
use super::db::{DbAnswer, DbOp};
use super::session::{BoardServices, Session};
use super::stage::{StageBoxes, StageIo};

/// The line that ends the greeting: from here on the board takes commands.
pub const READY: &str = "Type help for the commands.";

/// The UserRetriever stage (the tutorial's `UserRetriever(State=ConnectionInfo)`).
///
/// With nobody logged in (the Authenticator ended without a user) it ends at once, saying
/// nothing. Otherwise it asks the database for the user's [`Profile`](super::Profile), puts
/// it in the session, and says `Hello NAME. You have M messages, U unread.`, when they were
/// last here (or that this is their first visit), and [`READY`]. It reads no lines: those
/// that arrive meanwhile are handed on to the next stage.
///
/// Boxes: as the [`Authenticator`](super::Authenticator)'s, without `hashreply`.
#[must_use = "a builder does nothing until `build` is called"]
pub struct UserRetriever {
    session: Session,
    services: BoardServices,
}

impl std::fmt::Debug for UserRetriever {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRetriever").finish_non_exhaustive()
    }
}

impl UserRetriever {
    /// The stage for the session `session`, using the board's `services`.
    pub fn new(session: Session, services: BoardServices) -> Self {
        UserRetriever { session, services }
    }

    /// The component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("UserRetriever");
        let boxes = StageBoxes::declare(&mut b);
        let UserRetriever { session, services } = self;
        b.run(move |ctx| async move {
            let mut io = StageIo::start(ctx, boxes, session, services);
            let how = retrieve(&mut io).await;
            io.finish(how).await;
        })
    }
}

async fn retrieve(io: &mut StageIo) -> Result<(), Signal> {
    let Some(user) = io.conn().user else { return Ok(()) };
    let profile = match io.db(DbOp::Profile { user: user.id }).await? {
        Ok(DbAnswer::Profile(p)) => p,
        Ok(other) => {
            io.say(unexpected(&other)).await?;
            Default::default()
        }
        Err(e) => {
            io.say(format!("error: cannot load your messages ({e}); the board may still work")).await?;
            Default::default()
        }
    };
    let s = if profile.messages == 1 { "" } else { "s" };
    let last = match profile.last_seen {
        Some(t) => format!("You were last here on {}.", super::format_time(t)),
        None => "This is your first visit.".to_string(),
    };
    let lines = [
        format!("Hello {}. You have {} message{s}, {} unread.", user.name, profile.messages, profile.unread),
        last,
        READY.to_string(),
    ];
    io.update_conn(|c| c.profile = Some(profile.clone()));
    io.say_all(lines).await
}
