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
use axon_core::{Component, ComponentBuilder, ControlWatch, Inbox, Next, Outbox, Scheduler, Signal};
use kamaelia_chassis::{Graphline, Seq};

/// The board's messages: (to, from, subject, body).
const MESSAGES: &[(&str, &str, &str, &str)] = &[
    ("alice", "bob", "lunch?", "Noodles at one?"),
    ("alice", "carol", "release", "The release is on Friday."),
    ("bob", "alice", "re: lunch?", "Yes please."),
];

/// A stage's boxes: its input, its output, and its control watched, so a shutdown stops it
/// even while it waits to read or to write.
struct Stage {
    inbox: Inbox<String>,
    outbox: Outbox<String>,
    watch: ControlWatch,
}

impl Stage {
    fn new(b: &mut ComponentBuilder) -> Self {
        let io = b.standard::<String, String>();
        Stage { inbox: io.inbox, outbox: io.outbox, watch: ControlWatch::new(io.control, io.signal) }
    }

    /// Reads one line (without its ending), or returns the terminal signal that ended the input.
    async fn read_line(&mut self) -> Result<String, Signal> {
        loop {
            match self.watch.next(&self.inbox).await {
                Next::Data(line) => return Ok(line.trim_end().to_string()),
                // Other signals are passed on by the watch.
                Next::Other(_) => {}
                Next::End(s) => return Err(s),
            }
        }
    }

    /// Writes `text`, or returns the shutdown that interrupted the wait for room.
    async fn write(&mut self, text: impl Into<String>) -> Result<(), Signal> {
        Ok(self.watch.send(&self.outbox, text.into()).await?)
    }

    /// Ends the stage, passing `end` on.
    async fn end(self, end: Signal) {
        self.watch.finish(end).await;
    }
}

/// Asks for a user name and stores it as `"user"` in the session.
fn login(session: Store<String>) -> Component {
    let mut b = ComponentBuilder::new("Login");
    let mut stage = Stage::new(&mut b);
    b.run(move |ctx| async move {
        let run = async {
            stage.write("login: ").await?;
            let user = stage.read_line().await?;
            let mut var = session.usevar("user").expect("only one stage runs at a time");
            var.set(user);
            var.commit().expect("only one stage runs at a time");
            Ok(Signal::producer_finished_by(ctx.id()))
        };
        let end = run.await.unwrap_or_else(|stop: Signal| stop);
        stage.end(end).await;
    })
}

/// Greets the stored user, lists their messages, shows the one asked for, says goodbye.
fn message_reader(session: Store<String>) -> Component {
    let mut b = ComponentBuilder::new("MessageReader");
    let mut stage = Stage::new(&mut b);
    b.run(move |ctx| async move {
        let run = async {
            let var = session.usevar("user").expect("only one stage runs at a time");
            let user = var.get().cloned().unwrap_or_default();
            let mine: Vec<_> = MESSAGES.iter().filter(|m| m.0 == user).collect();
            stage.write(format!("Welcome, {user}. You have {} message(s).\n", mine.len())).await?;
            for (i, (_, from, subject, _)) in mine.iter().enumerate() {
                stage.write(format!("  {}. {subject} (from {from})\n", i + 1)).await?;
            }
            if !mine.is_empty() {
                stage.write("read which? ").await?;
                let choice = stage.read_line().await?;
                let reply = match choice.parse::<usize>().ok().and_then(|n| mine.get(n.wrapping_sub(1))) {
                    Some((_, from, _, body)) => format!("From {from}: {body}\n"),
                    None => format!("There is no message {choice}.\n"),
                };
                stage.write(reply).await?;
            }
            stage.write(format!("Goodbye, {user}.\n")).await?;
            Ok(Signal::producer_finished_by(ctx.id()))
        };
        let end = run.await.unwrap_or_else(|stop: Signal| stop);
        stage.end(end).await;
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
        let mut watch = ControlWatch::new(io.control, io.signal);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(text) => {
                    show(&text);
                    if text.ends_with(": ") || text.ends_with("? ") {
                        if let Some(line) = script.pop() {
                            show(&line);
                            if let Err(stop) = watch.send(&io.outbox, line).await {
                                break stop.signal;
                            }
                        }
                    }
                }
                Next::Other(_) => {}
                // A ProducerFinished comes after the text already sent has been shown.
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
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
