//! `cargo run -p kamaelia-chassis --example bulletin_board`
//!
//! The bulletin board's protocol, without the network: a Seq of stages, each run in turn
//! on the same input and output, sharing the session through an STM store. The login stage
//! asks for a name and stores it; the message-reader stage, run after it, greets that user,
//! lists their messages and shows the one asked for. A scripted user answers each prompt;
//! when the board's Seq has run its last stage, its ProducerFinished ends the user too. The
//! `[board]` lines are the Seq's progress strings.
//!
//! ```text
//! USER --outbox--> BOARD = Seq(Login, MessageReader) --outbox/signal--> USER
//! ```

use std::io::Write;

use axon_core::stm::Store;
use axon_core::{Component, ComponentBuilder, Received, Scheduler, Signal, StandardBoxes};
use kamaelia_chassis::{Graphline, Seq};

/// The board's messages: (to, from, subject, body).
const MESSAGES: &[(&str, &str, &str, &str)] = &[
    ("alice", "bob", "lunch?", "Noodles at one?"),
    ("alice", "carol", "release", "The release is on Friday."),
    ("bob", "alice", "re: lunch?", "Yes please."),
];

/// Reads one line (without its ending), or returns the terminal signal that ended the input.
async fn read_line(io: &StandardBoxes<String, String>) -> Result<String, Signal> {
    loop {
        match io.inbox.recv_with_control(&io.control).await {
            Received::Data(line) => return Ok(line.trim_end().to_string()),
            Received::Control(s) if s.is_terminal() => return Err(s),
            Received::Control(_) => {}
        }
    }
}

/// Asks for a user name and stores it as `"user"` in the session.
fn login(session: Store<String>) -> Component {
    let mut b = ComponentBuilder::new("Login");
    let io = b.standard::<String, String>();
    b.run(move |ctx| async move {
        io.outbox.send("login: ".into()).await;
        match read_line(&io).await {
            Ok(user) => {
                let mut var = session.usevar("user").expect("only one stage runs at a time");
                var.set(user);
                var.commit().expect("only one stage runs at a time");
                io.signal.send(Signal::producer_finished_by(ctx.id())).await;
            }
            Err(s) => io.signal.send(s).await,
        }
    })
}

/// Greets the stored user, lists their messages, shows the one asked for, says goodbye.
fn message_reader(session: Store<String>) -> Component {
    let mut b = ComponentBuilder::new("MessageReader");
    let io = b.standard::<String, String>();
    b.run(move |ctx| async move {
        let var = session.usevar("user").expect("only one stage runs at a time");
        let user = var.get().cloned().unwrap_or_default();
        let mine: Vec<_> = MESSAGES.iter().filter(|m| m.0 == user).collect();
        io.outbox.send(format!("Welcome, {user}. You have {} message(s).\n", mine.len())).await;
        for (i, (_, from, subject, _)) in mine.iter().enumerate() {
            io.outbox.send(format!("  {}. {subject} (from {from})\n", i + 1)).await;
        }
        if !mine.is_empty() {
            io.outbox.send("read which? ".into()).await;
            let choice = match read_line(&io).await {
                Ok(choice) => choice,
                Err(s) => return io.signal.send(s).await,
            };
            let reply = match choice.parse::<usize>().ok().and_then(|n| mine.get(n.wrapping_sub(1))) {
                Some((_, from, _, body)) => format!("From {from}: {body}\n"),
                None => format!("There is no message {choice}.\n"),
            };
            io.outbox.send(reply).await;
        }
        io.outbox.send(format!("Goodbye, {user}.\n")).await;
        io.signal.send(Signal::producer_finished_by(ctx.id())).await;
    })
}

/// A user at a terminal: prints what the board sends and, at each prompt, types (and prints)
/// the next line of the script. Stops when the board's output ends.
fn scripted_user(script: &[&str]) -> Component {
    let mut script: Vec<String> = script.iter().rev().map(|s| format!("{s}\n")).collect();
    let mut b = ComponentBuilder::new("User");
    let io = b.standard::<String, String>();
    b.run(move |_| async move {
        let show = |text: &str| {
            print!("{text}");
            // Only the terminal's look suffers if stdout cannot be flushed.
            let _ = std::io::stdout().flush();
        };
        loop {
            match io.inbox.recv_with_control(&io.control).await {
                Received::Data(text) => {
                    show(&text);
                    if text.ends_with(": ") || text.ends_with("? ") {
                        if let Some(line) = script.pop() {
                            show(&line);
                            io.outbox.send(line).await;
                        }
                    }
                }
                Received::Control(s) if s.is_terminal() => {
                    io.inbox.drain().for_each(|text| show(&text));
                    io.signal.send(s).await;
                    return;
                }
                Received::Control(_) => {}
            }
        }
    })
}

fn main() {
    let session = Store::new();
    let board = Seq::new([
        "[board] login stage".into(),
        login(session.clone()).into(),
        "[board] message reader stage".into(),
        message_reader(session.clone()).into(),
    ])
    .expect("the stages fit together");
    let system = Graphline::builder()
        .component("BOARD", board)
        .component("USER", scripted_user(&["alice", "2"]))
        .link(("BOARD", "outbox"), ("USER", "inbox"))
        .link(("BOARD", "signal"), ("USER", "control"))
        .link(("USER", "outbox"), ("BOARD", "inbox"))
        .build()
        .expect("the board and the user are wired correctly");

    let sched = Scheduler::new();
    sched.activate(&system).expect("the system starts");
    sched.run();
    let user = session.usevar("user").ok().and_then(|v| v.get().cloned());
    println!("[board] session over; the session store holds user {user:?}");
}
