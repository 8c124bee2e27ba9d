//! `cargo run -p kamaelia-chassis --example backplane_players`
//!
//! The Backplane "players" analysis, without the network: several players publish what
//! they do to the backplane "PLAYERS"; two subscribers analyse the stream independently (a
//! logger printing every event, a counter tallying per player). When every player has
//! finished, a referee finishes the backplane, which tells every subscriber to finish, and
//! the system ends by itself.
//!
//! Like any Unix filter it ends quietly when its reader goes away (`... | head`).
//!
//! ```text
//! Player --> PublishTo("PLAYERS") --signal--> Referee.inbox, Referee --signal--> Backplane("PLAYERS").control
//!   (x3)                                                                |
//!                          SubscribeTo("PLAYERS") --> Logger   <--------+
//!                          SubscribeTo("PLAYERS") --> Counter  <--------+
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::{ErrorKind, Write};
use std::sync::{Arc, Mutex};

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Scheduler, Signal, link, yield_now};
use kamaelia_chassis::{Backplane, PublishTo, SubscribeTo};

/// Prints a line on stdout. If nobody reads it any more (`| head` has had enough) the
/// program ends at once with status 0, as a Unix filter does on SIGPIPE; `println!` would
/// panic instead (Rust ignores SIGPIPE).
fn say(line: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(std::io::stderr(), "backplane_players: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// What a player did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Pass,
    Shot,
    Goal,
    Foul,
}

/// One event on the backplane.
#[derive(Clone, Debug)]
struct Event {
    player: &'static str,
    minute: u32,
    action: Action,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>2}' {:<6} {:?}", self.minute, self.player, self.action)
    }
}

/// A player: emits `count` events (a fixed pseudo-random sequence per name), then
/// ProducerFinished.
fn player(name: &'static str, seed: u32, count: u32) -> Component {
    let mut b = ComponentBuilder::new("Player");
    let io = b.standard::<(), Event>();
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut state = seed;
        for i in 0..count {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let action = match (state >> 16) % 10 {
                0 => Action::Goal,
                1 | 2 => Action::Foul,
                3..=5 => Action::Shot,
                _ => Action::Pass,
            };
            let event = Event { player: name, minute: 1 + i * 90 / count + seed % 5, action };
            // Waits for room in the backplane, but stops if told to meanwhile.
            if let Err(stop) = watch.send(&io.outbox, event).await {
                return watch.finish(stop.signal).await;
            }
            // One event per turn, so the players' events interleave on the backplane.
            yield_now().await;
        }
        watch.finish(Signal::producer_finished_by(ctx.id())).await;
    })
}

/// Counts `players` ProducerFinished signals arriving on its inbox (the publishers' echoed
/// signals are its data), then sends ProducerFinished.
fn referee(players: usize) -> Component {
    let mut b = ComponentBuilder::new("Referee");
    let io = b.standard::<Signal, ()>();
    b.run(move |_| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut finished = 0;
        while finished < players {
            match watch.next(&io.inbox).await {
                Next::Data(s) if s.is_producer_finished() => finished += 1,
                Next::Data(_) | Next::Other(_) => {}
                Next::End(s) => return watch.finish(s).await,
            }
        }
        say(format_args!("referee: all {players} players have finished; finishing the backplane"));
        watch.finish(Signal::producer_finished()).await;
    })
}

/// Runs `on_event` for each event until the end, then `on_end` (after the events already
/// delivered, when the end is a ProducerFinished): the driver runs the loop.
fn analyser(
    kind: &'static str,
    mut on_event: impl FnMut(Event) + Send + 'static,
    on_end: impl FnOnce() + Send + 'static,
) -> Component {
    let mut b = ComponentBuilder::new(kind);
    let io = b.standard::<Event, ()>();
    b.run(move |_| async move {
        let mut driver = io.driver();
        let end = driver.run(|e, _| on_event(e)).await;
        on_end();
        driver.finish(end).await;
    })
}

#[derive(Default)]
struct Tally {
    events: usize,
    goals: usize,
    fouls: usize,
}

fn main() {
    let players = [("Alice", 7, 8), ("Bob", 11, 10), ("Carol", 23, 6)];
    let total: u32 = players.iter().map(|p| p.2).sum();

    let backplane = Backplane::<Event>::new("PLAYERS");
    let referee = referee(players.len());
    link((&referee, "signal"), (&backplane, "control")).unwrap();

    // Subscribers first, so they are registered before the first event is published.
    let logged = Arc::new(Mutex::new(0usize));
    let log_count = logged.clone();
    let logger = analyser(
        "Logger",
        move |e| {
            *log_count.lock().unwrap() += 1;
            say(format_args!("logger: {e}"));
        },
        || say(format_args!("logger: the backplane has finished")),
    );
    let tallies = Arc::new(Mutex::new(BTreeMap::<&'static str, Tally>::new()));
    let (on_event, on_end) = (tallies.clone(), tallies.clone());
    let counter = analyser(
        "Counter",
        move |e| {
            let mut t = on_event.lock().unwrap();
            let entry = t.entry(e.player).or_default();
            entry.events += 1;
            entry.goals += usize::from(e.action == Action::Goal);
            entry.fouls += usize::from(e.action == Action::Foul);
        },
        move || {
            say(format_args!("counter: {:<6} {:>6} {:>5} {:>5}", "player", "events", "goals", "fouls"));
            for (name, t) in on_end.lock().unwrap().iter() {
                say(format_args!("counter: {name:<6} {:>6} {:>5} {:>5}", t.events, t.goals, t.fouls));
            }
        },
    );
    let mut system = vec![backplane, referee.clone()];
    for analyser in [&logger, &counter] {
        let sub = SubscribeTo::<Event>::new("PLAYERS").build();
        link((&sub, "outbox"), (analyser, "inbox")).unwrap();
        link((&sub, "signal"), (analyser, "control")).unwrap();
        system.extend([sub, analyser.clone()]);
    }
    for (name, seed, count) in players {
        let p = player(name, seed, count);
        let publish = PublishTo::<Event>::new("PLAYERS").build();
        link((&p, "outbox"), (&publish, "inbox")).unwrap();
        link((&p, "signal"), (&publish, "control")).unwrap();
        // PublishTo echoes its control: the player's ProducerFinished reaches the referee.
        link((&publish, "signal"), (&referee, "inbox")).unwrap();
        system.extend([p, publish]);
    }

    let sched = Scheduler::new();
    for c in &system {
        sched.activate(c).expect("every component starts");
    }
    sched.run();

    let counted: usize = tallies.lock().unwrap().values().map(|t| t.events).sum();
    let logged = *logged.lock().unwrap();
    let ok = counted == total as usize && logged == total as usize;
    say(format_args!(
        "result: {} players published {total} events; the logger saw {logged}, the counter {counted}: {}",
        players.len(),
        if ok { "every subscriber saw every event" } else { "EVENTS WERE LOST" }
    ));
    if !ok {
        std::process::exit(1);
    }
}
