//! The last stage, [`StateSaverLogout`]: saves what the session leaves behind (the end of
//! the visit, which the next greeting reports) and says goodbye.

use axon_core::{Component, ComponentBuilder, Signal};

use super::authenticator::unexpected;
use super::db::{DbAnswer, DbOp, unix_now};
use super::session::{BoardServices, Session};
use super::stage::{StageBoxes, StageIo};

/// The StateSaverLogout stage (the tutorial's `StateSaverLogout(State=ConnectionInfo)`).
///
/// With nobody logged in it ends at once, saying nothing (the Authenticator has said why).
/// Otherwise it records the end of the visit in the database (`You were last here on ...`
/// next time) and says `Goodbye, NAME: P posted, R read, D deleted.`; then the Seq ends and
/// the connection closes. Posts, reads and deletions were committed as they happened: this
/// stage is not what keeps them. (A connection that is closed without `quit` never reaches
/// this stage, as a Seq skips the rest once its input has ended; only the visit's end is
/// then not recorded.) Lines arriving after `quit` are not read.
///
/// Boxes: as the [`Authenticator`](super::Authenticator)'s, without `hashreply`.
#[must_use = "a builder does nothing until `build` is called"]
pub struct StateSaverLogout {
    session: Session,
    services: BoardServices,
}

impl std::fmt::Debug for StateSaverLogout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSaverLogout").finish_non_exhaustive()
    }
}

impl StateSaverLogout {
    /// The stage for the session `session`, using the board's `services`.
    pub fn new(session: Session, services: BoardServices) -> Self {
        StateSaverLogout { session, services }
    }

    /// The component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("StateSaverLogout");
        let boxes = StageBoxes::declare(&mut b);
        let StateSaverLogout { session, services } = self;
        b.run(move |ctx| async move {
            let mut io = StageIo::start(ctx, boxes, session, services);
            let how = save(&mut io).await;
            io.finish(how).await;
        })
    }
}

async fn save(io: &mut StageIo) -> Result<(), Signal> {
    let conn = io.conn();
    let Some(user) = conn.user else { return Ok(()) };
    match io.db(DbOp::Logout { user: user.id, at: unix_now() }).await? {
        Ok(DbAnswer::LoggedOut) => {}
        Ok(other) => io.say(unexpected(&other)).await?,
        Err(e) => io.say(format!("error: the end of your visit was not saved: {e}")).await?,
    }
    io.say(format!("Goodbye, {}: {} posted, {} read, {} deleted.", user.name, conn.posted, conn.read, conn.deleted))
        .await
}
