//! `chat-server --redis redis://HOST:PORT[/DB]`: the chat's Backplane `"CHAT"` carried across
//! server processes (on any hosts) by a Redis stream, so several chat servers share one chat.
//!
//! The local Backplane is replaced by a [`RedisBackplane`] of the same name: every
//! connection's `PublishTo`/`SubscribeTo` work unchanged. A line reaches the clients of its own
//! server at once (never through Redis, so they keep chatting while Redis is down) and every
//! other server through the stream, where each server skips its own lines: each line arrives
//! once at every client of every server, each sender's lines in order. Lines are kept as the
//! bytes they are ([`Codec::bytes`]).
//!
//! Slow servers: [`RemotePolicy::DropOldest`] with a bound of [`REMOTE_BOUND`] lines, so a
//! stalled or dead server never holds the others back (as a slow client is disconnected
//! rather than allowed to stall a server); what a lagging server missed is reported, exactly,
//! on stderr.

use axon_core::{Component, ComponentBuilder, ControlWatch, Next};
use kamaelia_redis::{Codec, Error, RedisBackplane, RemotePolicy};

use crate::chat::{BACKPLANE, Chat, ChatLine};

/// How many lines a server may fall behind the others before it skips ahead.
pub const REMOTE_BOUND: u64 = 10_000;

/// A chat whose backplane is bridged through Redis, and the component that prints the
/// bridge's reports on stderr (activate it too; it ends with the backplane).
#[derive(Debug)]
pub struct Bridged {
    /// The chat, with the bridged backplane.
    pub chat: Chat,
    /// Prints each [`Error`] the bridges report (a lost connection, its return, a gap).
    pub reports: Component,
}

/// Bridges `chat` (built with the default backplane name) through the server at `url`,
/// after checking that Redis answers there: an unreachable server, refused credentials or a
/// malformed URL is an error naming the URL (and how to install Redis), for the app to exit 2.
pub fn bridge(chat: Chat, url: &str) -> Result<Bridged, Error> {
    kamaelia_redis::check(url)?;
    let backplane = RedisBackplane::<ChatLine>::with_codec(url, BACKPLANE, Codec::bytes())
        .policy(RemotePolicy::DropOldest { bound: REMOTE_BOUND })
        .build();
    let reports = reporter();
    // Infallible: both boxes exist with these types and are unlinked.
    axon_core::link((&backplane, "error"), (&reports, "inbox")).expect("the bridge's error outbox links");
    axon_core::link((&backplane, "signal"), (&reports, "control")).expect("the bridge's signal links");
    Ok(Bridged { chat: Chat { backplane, ..chat }, reports })
}

/// Prints each report on stderr; ends when the backplane does.
fn reporter() -> Component {
    let mut b = ComponentBuilder::new("RedisReports");
    let inbox = b.inbox::<Error>("inbox");
    let control = b.control();
    let signal = b.signal();
    b.run_threaded(move |tctx| {
        let mut watch = ControlWatch::new(control, signal);
        let end = loop {
            match watch.next_blocking(&tctx, &inbox) {
                Next::Data(e) => eprintln!("chat-server: {e}"),
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish_blocking(end);
    })
}
