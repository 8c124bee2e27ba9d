//! `chat-client`: talk to `chat-server` in a window (type in the pane at the bottom, Enter
//! sends, Esc or closing the window quits), or on the terminal with `--tty`.

use anyhow::{Context, bail};
use apps::chat_client::{Outcome, Target, display_watcher, tty_system, window_system};
use axon_core::{Signal, link};
use clap::Parser;
use kamaelia_ui::{Display, WindowDisplay};

/// A chat client: each line you enter is sent to the server; each line the server sends is
/// shown.
#[derive(Parser, Debug)]
#[command(name = "chat-client", version)]
struct Args {
    /// The server's host name or address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = apps::chat::DEFAULT_PORT)]
    port: u16,
    /// Chat on the terminal (stdin and stdout) instead of in a window.
    #[arg(long)]
    tty: bool,
    #[command(flatten)]
    debug: apps::appflags::DebugFlags,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let target = Target { host: args.host, port: args.port };
    let outcome = Outcome::default();
    let sched = kamaelia_net::scheduler().context("cannot start the scheduler")?;
    let system = if args.tty {
        tty_system(&target, outcome.clone())?
    } else {
        if std::env::var_os("DISPLAY").is_none() {
            bail!("no display: $DISPLAY is not set (use --tty to chat on the terminal)");
        }
        // The window display is registered first, so both panes find it, and watched, so a
        // window that cannot be made ends the client with the reason.
        let window = WindowDisplay::new().build();
        let display = Display::register(sched.services(), &window)?;
        let system = window_system(&target, outcome.clone(), Some(display))?.system;
        let watcher = display_watcher(outcome.clone(), system.inbox_ref::<Signal>("control")?);
        link((&window, "signal"), (&watcher, "control"))?;
        sched.activate(&window)?;
        sched.activate(&watcher)?;
        system
    };
    sched.activate(&system)?;
    let extras = args.debug.start("chat-client", &sched, std::slice::from_ref(&system))?;
    let top = [vec![system], extras.components()].concat();
    apps::shutdown::run_until_interrupted(&sched, &top)?;
    if outcome.failed() {
        std::process::exit(1);
    }
    Ok(())
}
