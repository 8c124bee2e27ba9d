//! `chat-server`: the seeds' chat server. Every line a client sends reaches every connected
//! client as `Chat:<peer-ip>:<peer-port> says <line>`. Try it with `telnet 127.0.0.1 1501`
//! (or `nc`) in two terminals.

use std::io::Write;
use std::net::IpAddr;

use anyhow::Context;
use apps::chat::{ChatServer, DEFAULT_PORT};
use clap::Parser;

/// A chat server: each line a client sends is broadcast to every client, the sender included.
#[derive(Parser, Debug)]
#[command(name = "chat-server", version)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The port to listen on (0: any free port; the one chosen is printed).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// At most this many clients at once; one more is told the server is full and closed.
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Share the chat with every chat server bridged to this Redis (redis://HOST:PORT[/DB]).
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    #[command(flatten)]
    debug: apps::appflags::DebugFlags,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sched = kamaelia_net::scheduler().context("cannot start the scheduler")?;
    let chat = ChatServer::new()
        .bind(args.bind)
        .port(args.port)
        .max_connections(args.max_connections)
        .listen()
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    let (chat, reports) = match args.redis.as_deref() {
        Some(url) => match apps::chat_redis::bridge(chat, url) {
            Ok(b) => (b.chat, Some(b.reports)),
            Err(e) => {
                eprintln!("chat-server: {e}");
                std::process::exit(2);
            }
        },
        None => (chat, None),
    };
    chat.activate(&sched)?;
    if let Some(r) = &reports {
        sched.activate(r)?;
    }
    let extras = args.debug.start("chat-server", &sched, &chat.components())?;
    let top = [chat.components(), extras.components()].concat();
    // The handler first: whoever reads the banner may signal at once.
    apps::shutdown::shut_down_on_signals(&top)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Chat server running on port {}", chat.local_addr.port())?;
    out.flush()?;
    drop(out);
    sched.run();
    Ok(())
}
